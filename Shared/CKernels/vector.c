#include "bh_vector.h"
#include "CBulkheadKernels.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { VEC_PORTABLE = 0, VEC_AVX2 = 1, VEC_AVX512 = 4 };

static _Atomic int vec_isa = -1;

int bh_vec_active_isa(void) {
    int isa = atomic_load(&vec_isa);
    if (isa >= 0) return isa;
    int mask = -1;
    const char *env = getenv("BULKHEAD_KERNELS_FEATURES");
    if (env && *env) mask = atoi(env);
    isa = VEC_PORTABLE;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if ((bh_kernels_cpu_features() & 1) && (mask & VEC_AVX2)) isa = VEC_AVX2;
    if (__builtin_cpu_supports("avx512f") && (mask & VEC_AVX512)) isa = VEC_AVX512;
#endif
    atomic_store(&vec_isa, isa);
    return isa;
}

static float dot_portable(const float *a, const float *b, int n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

// Four accumulators of 8 lanes: 32 floats per step hide the FMA latency.
__attribute__((target("avx2,fma")))
static float dot_avx2(const float *a, const float *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx512f")))
static float dot_avx512(const float *a, const float *b, int n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
#endif

int bh_vec_available_isas(void) {
    int isas = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (bh_kernels_cpu_features() & 1) isas |= VEC_AVX2;
    if (__builtin_cpu_supports("avx512f")) isas |= VEC_AVX512;
#endif
    return isas;
}

float bh_vec_dot_using(int isa, const float *a, const float *b, int n) {
#if defined(__x86_64__)
    int available = bh_vec_available_isas();
    if (isa == VEC_AVX512 && (available & VEC_AVX512)) return dot_avx512(a, b, n);
    if (isa == VEC_AVX2 && (available & VEC_AVX2)) return dot_avx2(a, b, n);
#endif
    return dot_portable(a, b, n);
}

typedef float (*dot_fn)(const float *, const float *, int);

static dot_fn pick_dot(void) {
#if defined(__x86_64__)
    switch (bh_vec_active_isa()) {
    case VEC_AVX512: return dot_avx512;
    case VEC_AVX2: return dot_avx2;
    default: break;
    }
#endif
    return dot_portable;
}

float bh_vec_dot(const float *a, const float *b, int n) {
#if defined(__x86_64__)
    int isa = bh_vec_active_isa();
    if (isa == VEC_AVX512) return dot_avx512(a, b, n);
    if (isa == VEC_AVX2) return dot_avx2(a, b, n);
#endif
    return dot_portable(a, b, n);
}

void bh_vec_dot_rows(const float *q, const float *rows, size_t count, int n, float *out) {
    dot_fn dot = pick_dot();
    for (size_t r = 0; r < count; r++) out[r] = dot(q, rows + r * (size_t)n, n);
}

void bh_vec_dot_gather(const float *q, const float *base, const int32_t *idx, int count, int n, float *out) {
    dot_fn dot = pick_dot();
    for (int j = 0; j < count; j++) {
        if (j + 1 < count) {
            // The next row is a random access into a large array: start loading it now.
            const char *next = (const char *)(base + (size_t)idx[j + 1] * (size_t)n);
            for (int off = 0; off < n * 4; off += 64) __builtin_prefetch(next + off);
        }
        out[j] = dot(q, base + (size_t)idx[j] * (size_t)n, n);
    }
}

long bh_vec_argmax_rows(const float *q, const float *rows, size_t count, int n, float *best) {
    dot_fn dot = pick_dot();
    long arg = -1;
    float top = -INFINITY;
    for (size_t r = 0; r < count; r++) {
        float s = dot(q, rows + r * (size_t)n, n);
        if (s > top) {
            top = s;
            arg = (long)r;
        }
    }
    *best = top;
    return arg;
}
