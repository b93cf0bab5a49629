#include "CBulkheadKernels.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Feature bits (see the header).
enum { BH_AVX2 = 1, BH_VNNI = 2 };

static _Atomic int detected_features = -1;

int bh_kernels_cpu_features(void) {
    int features = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) features |= BH_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
        features |= BH_VNNI;
#endif
    return features;
}

// The CPU's features, masked once by BULKHEAD_KERNELS_FEATURES (e.g. 0 to run the whole model on
// the portable C paths, 1 for AVX2 only) so the fallbacks can be tested on any machine.
static int active_features(void) {
    int f = atomic_load(&detected_features);
    if (f < 0) {
        f = bh_kernels_cpu_features();
        const char *mask = getenv("BULKHEAD_KERNELS_FEATURES");
        if (mask && *mask) f &= atoi(mask);
        atomic_store(&detected_features, f);
    }
    return f;
}

int bh_qgemm_padded_k(int k) { return (k + 3) & ~3; }

static int padded_n(int n) { return (n + 15) & ~15; }

size_t bh_qgemm_packed_bytes(int n, int k) { return (size_t)padded_n(n) * (size_t)bh_qgemm_padded_k(k); }

// Layout: blocks of 16 output rows; inside a block, groups of 4 consecutive k; inside a group, the
// 16 rows' 4 bytes side by side (64 bytes = one zmm register, exactly vpdpbusd's operand shape).
void bh_qgemm_pack(const int8_t *w, int n, int k, int8_t *packed, int32_t *row_sums) {
    int k4 = bh_qgemm_padded_k(k), n16 = padded_n(n);
    for (int j = 0; j < n16; j++) {
        int32_t sum = 0;
        for (int kk = 0; kk < k4; kk++) {
            int8_t v = (j < n && kk < k) ? w[(size_t)j * k + kk] : 0;
            sum += v;
            packed[((size_t)(j / 16) * (k4 / 4) + kk / 4) * 64 + (j % 16) * 4 + kk % 4] = v;
        }
        if (j < n) row_sums[j] = sum;
    }
}

#if defined(__x86_64__)
// AVX-512 row quantization: same rounding (to nearest even, as nearbyintf in the default mode)
// and the same clamping as the portable loop below, 16 values at a time.
__attribute__((target("avx512f,avx512bw")))
static void quantize_rows_avx512(const float *x, int m, int k, int8_t *q, float *scales) {
    int k4 = bh_qgemm_padded_k(k);
    const __m512 limit = _mm512_set1_ps(127.0f), neg_limit = _mm512_set1_ps(-127.0f);
    for (int i = 0; i < m; i++) {
        const float *row = x + (size_t)i * k;
        int8_t *out = q + (size_t)i * k4;
        __m512 vmax = _mm512_setzero_ps();
        int kk = 0;
        for (; kk + 16 <= k; kk += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(row + kk)));
        if (kk < k) {
            __mmask16 mask = (__mmask16)((1u << (k - kk)) - 1);
            vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_maskz_loadu_ps(mask, row + kk)));
        }
        float maxabs = _mm512_reduce_max_ps(vmax);
        float inv = maxabs > 0 ? 127.0f / maxabs : 0.0f;
        scales[i] = maxabs > 0 ? maxabs / 127.0f : 0.0f;
        const __m512 vinv = _mm512_set1_ps(inv);
        for (kk = 0; kk < k; kk += 16) {
            __mmask16 mask = k - kk >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - kk)) - 1);
            __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + kk), vinv);
            v = _mm512_min_ps(_mm512_max_ps(v, neg_limit), limit);
            __m512i r = _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm512_mask_cvtsepi32_storeu_epi8(out + kk, mask, r);
        }
        for (kk = k; kk < k4; kk++) out[kk] = 0;
    }
}
#endif

void bh_quantize_rows(const float *x, int m, int k, int8_t *q, float *scales) {
#if defined(__x86_64__)
    if (active_features() & BH_VNNI) {
        quantize_rows_avx512(x, m, k, q, scales);
        return;
    }
#endif
    int k4 = bh_qgemm_padded_k(k);
    for (int i = 0; i < m; i++) {
        const float *row = x + (size_t)i * k;
        int8_t *out = q + (size_t)i * k4;
        float maxabs = 0;
        for (int kk = 0; kk < k; kk++) maxabs = fmaxf(maxabs, fabsf(row[kk]));
        float inv = maxabs > 0 ? 127.0f / maxabs : 0.0f;
        scales[i] = maxabs > 0 ? maxabs / 127.0f : 0.0f;
        for (int kk = 0; kk < k; kk++) {
            float v = nearbyintf(row[kk] * inv);
            out[kk] = (int8_t)(v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v));
        }
        for (int kk = k; kk < k4; kk++) out[kk] = 0;
    }
}

static inline float gelu(float v) { return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); }

// Portable path, 16 output columns at a time; compiled twice (baseline and AVX2) so the
// compiler can vectorise the second copy.
static inline __attribute__((always_inline)) void generic_qgemm(
    int m, int n, int k, const int8_t *a, const float *a_scales, const int8_t *packed,
    const float *w_scales, const float *bias, float *y, int n_begin, int n_end, int apply_gelu) {
    int k4 = bh_qgemm_padded_k(k), groups = k4 / 4;
    for (int j0 = n_begin; j0 < n_end; j0 += 16) {
        const int8_t *block = packed + (size_t)(j0 / 16) * groups * 64;
        int width = n_end - j0 < 16 ? n_end - j0 : 16;
        for (int i = 0; i < m; i++) {
            const int8_t *row = a + (size_t)i * k4;
            int32_t acc[16] = {0};
            for (int g = 0; g < groups; g++) {
                const int8_t *wg = block + (size_t)g * 64;
                const int8_t *ag = row + 4 * g;
                for (int c = 0; c < 16; c++)
                    acc[c] += ag[0] * wg[4 * c] + ag[1] * wg[4 * c + 1] + ag[2] * wg[4 * c + 2] + ag[3] * wg[4 * c + 3];
            }
            for (int c = 0; c < width; c++) {
                int j = j0 + c;
                float v = (float)acc[c] * a_scales[i] * w_scales[j] + bias[j];
                y[(size_t)i * n + j] = apply_gelu ? gelu(v) : v;
            }
        }
    }
}

static void qgemm_portable(int m, int n, int k, const int8_t *a, const float *a_scales, const int8_t *packed,
                           const float *w_scales, const float *bias, float *y, int n_begin, int n_end, int g) {
    generic_qgemm(m, n, k, a, a_scales, packed, w_scales, bias, y, n_begin, n_end, g);
}

#if defined(__x86_64__)
#define AVX2_TARGET __attribute__((target("avx2,fma")))

// AVX2 tile: MR rows × 16 columns. Without VNNI, products go through int16: each 16-byte slice of
// a packed group (4 columns × 4 k) widens to 16 int16 and vpmaddwd against the row's 4 widened
// activations (broadcast) gives per column two pair sums, exact in int32; one horizontal add per
// tile folds the pairs. No unsigned shift, so no row-sum correction.
static inline __attribute__((always_inline)) AVX2_TARGET void avx2_tile(
    const int MR, int groups, const int8_t *a, int lda, const float *a_scales, const int8_t *wblock,
    const float *w_scales, const float *bias, float *y, int n, int j0, int apply_gelu) {
    __m256i acc[2][4];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm256_setzero_si256();
    for (int g = 0; g < groups; g++) {
        const int8_t *wg = wblock + (size_t)g * 64;
        __m256i wv[4];
        for (int c = 0; c < 4; c++) wv[c] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wg + 16 * c)));
        for (int r = 0; r < MR; r++) {
            int32_t quad;
            memcpy(&quad, a + (size_t)r * lda + 4 * g, 4);
            __m256i av = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(quad)));
            for (int c = 0; c < 4; c++) acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(av, wv[c]));
        }
    }
    for (int r = 0; r < MR; r++) {
        float out[16];
        for (int half = 0; half < 2; half++) {
            // acc[2h] holds columns 8h+0..3 as pairs, acc[2h+1] columns 8h+4..7.
            __m256i sums = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][2 * half], acc[r][2 * half + 1]), 0xD8);
            _mm256_storeu_ps(out + 8 * half, _mm256_cvtepi32_ps(sums));
        }
        int width = n - j0 < 16 ? n - j0 : 16;
        for (int c = 0; c < width; c++) {
            float v = out[c] * a_scales[r] * w_scales[j0 + c] + bias[j0 + c];
            y[(size_t)r * n + j0 + c] = apply_gelu ? gelu(v) : v;
        }
    }
}

AVX2_TARGET
static void qgemm_avx2(int m, int n, int k, const int8_t *a, const float *a_scales, const int8_t *packed,
                       const float *w_scales, const float *bias, float *y, int n_begin, int n_end, int apply_gelu) {
    int k4 = bh_qgemm_padded_k(k), groups = k4 / 4;
    for (int j0 = n_begin; j0 < n_end; j0 += 16) {
        const int8_t *wblock = packed + (size_t)(j0 / 16) * groups * 64;
        int i = 0;
        for (; i + 2 <= m; i += 2)
            avx2_tile(2, groups, a + (size_t)i * k4, k4, a_scales + i, wblock, w_scales, bias, y + (size_t)i * n, n, j0, apply_gelu);
        if (i < m)
            avx2_tile(1, groups, a + (size_t)i * k4, k4, a_scales + i, wblock, w_scales, bias, y + (size_t)i * n, n, j0, apply_gelu);
    }
}

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

// erf(x) as a rational polynomial on [-4, 4] (the approximation Eigen and TensorFlow use for
// float; error within a few ulp of erff, and |erf| rounds to 1 beyond 4), 16 lanes at a time.
static inline __attribute__((always_inline)) VNNI_TARGET __m512 erf_avx512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-4.0f)), _mm512_set1_ps(4.0f));
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_fmadd_ps(x2, _mm512_set1_ps(-2.72614225801306e-10f), _mm512_set1_ps(2.77068142495902e-08f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-2.10102402082508e-06f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-5.69250639462346e-05f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-7.34990630326855e-04f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-2.95459980854025e-03f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-1.60960333262415e-02f));
    p = _mm512_mul_ps(x, p);
    __m512 q = _mm512_fmadd_ps(x2, _mm512_set1_ps(-1.45660718464996e-05f), _mm512_set1_ps(-2.13374055278905e-04f));
    q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-1.68282697438203e-03f));
    q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-7.37332916720468e-03f));
    q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-1.42647390514189e-02f));
    return _mm512_div_ps(p, q);
}

// Exact-form GELU 0.5·v·(1 + erf(v/√2)) with the vector erf above.
static inline __attribute__((always_inline)) VNNI_TARGET __m512 gelu_avx512(__m512 v) {
    __m512 e = erf_avx512(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// One register tile: MR activation rows × NB blocks of 16 output columns, accumulating
// u8(a ^ 0x80 = a + 128) · s8(w) with vpdpbusd, then correcting by 128 · Σw and scaling.
static inline __attribute__((always_inline)) VNNI_TARGET void vnni_tile(
    const int MR, const int NB, int groups, const int8_t *a, int lda, const float *a_scales,
    const int8_t *wblock, const int32_t *row_sums, const float *w_scales, const float *bias,
    float *y, int n, int j0, int apply_gelu) {
    __m512i acc[4][4];
    for (int r = 0; r < MR; r++)
        for (int b = 0; b < NB; b++) acc[r][b] = _mm512_setzero_si512();
    const __m512i flip = _mm512_set1_epi32((int)0x80808080u);
    const size_t bstride = (size_t)groups * 64;
    for (int g = 0; g < groups; g++) {
        __m512i wv[4];
        for (int b = 0; b < NB; b++) wv[b] = _mm512_loadu_si512((const void *)(wblock + b * bstride + (size_t)g * 64));
        for (int r = 0; r < MR; r++) {
            int32_t quad;
            memcpy(&quad, a + (size_t)r * lda + 4 * g, 4);
            __m512i av = _mm512_xor_si512(_mm512_set1_epi32(quad), flip);
            for (int b = 0; b < NB; b++) acc[r][b] = _mm512_dpbusd_epi32(acc[r][b], av, wv[b]);
        }
    }
    for (int b = 0; b < NB; b++) {
        int j = j0 + 16 * b;
        if (j >= n) break;
        __mmask16 mask = n - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        __m512i corr = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(mask, row_sums + j), 7);
        __m512 ws = _mm512_maskz_loadu_ps(mask, w_scales + j);
        __m512 bs = _mm512_maskz_loadu_ps(mask, bias + j);
        for (int r = 0; r < MR; r++) {
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][b], corr));
            v = _mm512_fmadd_ps(v, _mm512_mul_ps(ws, _mm512_set1_ps(a_scales[r])), bs);
            float *out = y + (size_t)r * n + j;
            if (apply_gelu) v = gelu_avx512(v);
            _mm512_mask_storeu_ps(out, mask, v);
        }
    }
}

VNNI_TARGET
static void qgemm_vnni(int m, int n, int k, const int8_t *a, const float *a_scales, const int8_t *packed,
                       const int32_t *row_sums, const float *w_scales, const float *bias, float *y,
                       int n_begin, int n_end, int apply_gelu) {
    int k4 = bh_qgemm_padded_k(k), groups = k4 / 4;
    // Columns outside, rows inside: a 64-column weight panel stays in L1/L2 while every row passes.
    for (int j0 = n_begin; j0 < n_end; j0 += 64) {
        int nb = (n_end - j0 + 15) / 16;
        if (nb > 4) nb = 4;
        const int8_t *wblock = packed + (size_t)(j0 / 16) * groups * 64;
        for (int i = 0; i < m; i += 4) {
            int mr = m - i < 4 ? m - i : 4;
            const int8_t *ai = a + (size_t)i * k4;
            const float *as = a_scales + i;
            float *yi = y + (size_t)i * n;
            // Constant MR/NB per call so each tile's accumulators live in registers.
#define TILE(MR, NB) vnni_tile(MR, NB, groups, ai, k4, as, wblock, row_sums, w_scales, bias, yi, n, j0, apply_gelu)
#define ROWS(NB) switch (mr) { case 1: TILE(1, NB); break; case 2: TILE(2, NB); break; case 3: TILE(3, NB); break; default: TILE(4, NB); break; }
            switch (nb) {
            case 1: ROWS(1); break;
            case 2: ROWS(2); break;
            case 3: ROWS(3); break;
            default: ROWS(4); break;
            }
#undef ROWS
#undef TILE
        }
    }
}
#endif

void bh_qgemm(int m, int n, int k, const int8_t *a, const float *a_scales,
              const int8_t *packed, const int32_t *row_sums, const float *w_scales,
              const float *bias, float *y, int n_begin, int n_end, int apply_gelu) {
    bh_qgemm_using(active_features(), m, n, k, a, a_scales, packed, row_sums, w_scales, bias, y, n_begin, n_end, apply_gelu);
}

void bh_qgemm_using(int features, int m, int n, int k, const int8_t *a, const float *a_scales,
                    const int8_t *packed, const int32_t *row_sums, const float *w_scales,
                    const float *bias, float *y, int n_begin, int n_end, int apply_gelu) {
    if (m <= 0 || n_begin >= n_end) return;
    // Never take a path the CPU lacks, whatever the caller asks for.
    features &= active_features();
#if defined(__x86_64__)
    if (features & BH_VNNI) {
        qgemm_vnni(m, n, k, a, a_scales, packed, row_sums, w_scales, bias, y, n_begin, n_end, apply_gelu);
        return;
    }
    if (features & BH_AVX2) {
        qgemm_avx2(m, n, k, a, a_scales, packed, w_scales, bias, y, n_begin, n_end, apply_gelu);
        return;
    }
#endif
    (void)row_sums;
    qgemm_portable(m, n, k, a, a_scales, packed, w_scales, bias, y, n_begin, n_end, apply_gelu);
}

#if defined(__x86_64__)
__attribute__((target("avx512f")))
static void add_layer_norm_avx512(float *x, const float *residual, const float *gamma, const float *beta,
                                  int rows, int n, float eps) {
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * n;
        const float *res = residual ? residual + (size_t)r * n : NULL;
        __m512 sum = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __m512 v = _mm512_loadu_ps(row + i);
            if (res) {
                v = _mm512_add_ps(v, _mm512_loadu_ps(res + i));
                _mm512_storeu_ps(row + i, v);
            }
            sum = _mm512_add_ps(sum, v);
        }
        __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / (float)n);
        __m512 var = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __m512 d = _mm512_sub_ps(_mm512_loadu_ps(row + i), mean);
            var = _mm512_fmadd_ps(d, d, var);
        }
        __m512 inv = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(var) / (float)n + eps));
        for (int i = 0; i < n; i += 16) {
            __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(row + i), mean), inv);
            _mm512_storeu_ps(row + i, _mm512_fmadd_ps(d, _mm512_loadu_ps(gamma + i), _mm512_loadu_ps(beta + i)));
        }
    }
}
#endif

void bh_add_layer_norm(float *x, const float *residual, const float *gamma, const float *beta,
                       int rows, int n, float eps) {
#if defined(__x86_64__)
    // The vector loop has no tail handling: widths that are not a multiple of 16 take the C loop.
    if ((active_features() & BH_VNNI) && n % 16 == 0) {
        add_layer_norm_avx512(x, residual, gamma, beta, rows, n, eps);
        return;
    }
#endif
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * n;
        if (residual)
            for (int i = 0; i < n; i++) row[i] += residual[(size_t)r * n + i];
        float mean = 0;
        for (int i = 0; i < n; i++) mean += row[i];
        mean /= (float)n;
        float var = 0;
        for (int i = 0; i < n; i++) { float d = row[i] - mean; var += d * d; }
        float inv = 1.0f / sqrtf(var / (float)n + eps);
        for (int i = 0; i < n; i++) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
    }
}

#if defined(__x86_64__)
VNNI_TARGET
static void gelu_avx512_inplace(float *x, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(x + i, gelu_avx512(_mm512_loadu_ps(x + i)));
    if (i < count) {
        __mmask16 mask = (__mmask16)((1u << (count - i)) - 1);
        _mm512_mask_storeu_ps(x + i, mask, gelu_avx512(_mm512_maskz_loadu_ps(mask, x + i)));
    }
}
#endif

void bh_gelu(float *x, size_t count) {
#if defined(__x86_64__)
    if (active_features() & BH_VNNI) {
        gelu_avx512_inplace(x, count);
        return;
    }
#endif
    for (size_t i = 0; i < count; i++) x[i] = gelu(x[i]);
}

// One body, compiled portable and for AVX-512: the inner loops run over contiguous keys (scores)
// and contiguous head dimensions (context), so the compiler vectorises them without reassociating
// any floating-point sum across lanes.
static inline __attribute__((always_inline)) void attention_body(
    const float *qkv, int n, int heads, int d, float scale, float *ctx, int ldc, float *scratch) {
    const int h = heads * d, stride = 3 * h;
    float *kt = scratch;           // [d][n]: this head's keys, transposed
    float *scores = scratch + (size_t)d * n;
    for (int head = 0; head < heads; head++) {
        const float *q = qkv + head * d, *k = qkv + h + head * d, *v = qkv + 2 * h + head * d;
        for (int j = 0; j < n; j++)
            for (int t = 0; t < d; t++) kt[(size_t)t * n + j] = k[(size_t)j * stride + t];
        for (int i = 0; i < n; i++) {
            const float *qi = q + (size_t)i * stride;
            for (int j = 0; j < n; j++) scores[j] = 0;
            for (int t = 0; t < d; t++) {
                const float a = qi[t] * scale;
                const float *row = kt + (size_t)t * n;
                for (int j = 0; j < n; j++) scores[j] += a * row[j];
            }
            float m = scores[0];
            for (int j = 1; j < n; j++) m = scores[j] > m ? scores[j] : m;
            float sum = 0;
            for (int j = 0; j < n; j++) { scores[j] = expf(scores[j] - m); sum += scores[j]; }
            const float inv = 1.0f / sum;
            float *out = ctx + (size_t)i * ldc + head * d;
            for (int t = 0; t < d; t++) out[t] = 0;
            for (int j = 0; j < n; j++) {
                const float p = scores[j] * inv;
                const float *vj = v + (size_t)j * stride;
                for (int t = 0; t < d; t++) out[t] += p * vj[t];
            }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw")))
static void attention_avx512(const float *qkv, int n, int heads, int d, float scale, float *ctx, int ldc, float *scratch) {
    attention_body(qkv, n, heads, d, scale, ctx, ldc, scratch);
}
#endif

void bh_attention(const float *qkv, int n, int heads, int d, float scale, float *ctx, int ldc, float *scratch) {
    if (n <= 0) return;
#if defined(__x86_64__)
    if (active_features() & BH_VNNI) {
        attention_avx512(qkv, n, heads, d, scale, ctx, ldc, scratch);
        return;
    }
#endif
    attention_body(qkv, n, heads, d, scale, ctx, ldc, scratch);
}
