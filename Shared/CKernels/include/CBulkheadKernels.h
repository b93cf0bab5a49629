#ifndef CBULKHEAD_KERNELS_H
#define CBULKHEAD_KERNELS_H
// SIMD kernels for the local models. Each exported function picks the best instruction set the
// CPU has at run time (AVX-512 VNNI, then AVX2, then portable C). The int8 GEMM paths compute the
// same exact int32 dot products; the float kernels (GELU, layer norm, attention) agree to rounding.
#include <stddef.h>
#include <stdint.h>

/// Returns a bit set of the instruction sets the CPU offers the kernels (1 = AVX2, 2 = AVX-512
/// VNNI). The kernels use these unless the environment variable BULKHEAD_KERNELS_FEATURES (read
/// once) masks some off, e.g. `BULKHEAD_KERNELS_FEATURES=0` for the portable C paths only.
int bh_kernels_cpu_features(void);

/// Rounds `k` up to the inner-dimension multiple the packed layouts use (4).
int bh_qgemm_padded_k(int k);

/// Bytes `bh_qgemm_pack` writes for an `n × k` weight matrix.
size_t bh_qgemm_packed_bytes(int n, int k);

/// Packs row-major int8 weights `w` (`n` output rows × `k`, nn.Linear layout) into the kernel
/// layout (`packed`, `bh_qgemm_packed_bytes` bytes) and writes each output row's weight sum to
/// `row_sums` (`n` values; the unsigned-activation kernels subtract 128 × this sum).
void bh_qgemm_pack(const int8_t *w, int n, int k, int8_t *packed, int32_t *row_sums);

/// Quantizes `m` rows of `k` floats (row stride `k`) to symmetric int8, one scale per row
/// (`max|x| / 127`). `q` has row stride `bh_qgemm_padded_k(k)`; padding bytes are zeroed.
void bh_quantize_rows(const float *x, int m, int k, int8_t *q, float *scales);

/// `y[i][j] = (Σ_k a[i][k]·w[j][k]) · a_scales[i] · w_scales[j] + bias[j]` for rows `0..<m` and
/// output columns `n_begin..<n_end` (multiples of 16 except a final `n_end == n`), with `y`
/// row stride `n`. `a` comes from `bh_quantize_rows`, `packed`/`row_sums` from `bh_qgemm_pack`.
/// `gelu` != 0 applies the exact (erf) GELU to the result. Column ranges may run on different
/// threads at once.
void bh_qgemm(int m, int n, int k, const int8_t *a, const float *a_scales,
              const int8_t *packed, const int32_t *row_sums, const float *w_scales,
              const float *bias, float *y, int n_begin, int n_end, int gelu);

/// `bh_qgemm` restricted to the paths in `features` (a subset of `bh_kernels_cpu_features()`;
/// 0 = portable C), so tests can check every path against the others on one machine.
void bh_qgemm_using(int features, int m, int n, int k, const int8_t *a, const float *a_scales,
                    const int8_t *packed, const int32_t *row_sums, const float *w_scales,
                    const float *bias, float *y, int n_begin, int n_end, int gelu);

/// Exact-form GELU `0.5·v·(1 + erf(v/√2))` in place over `count` floats (vectorised erf on
/// AVX-512, within a few ulp of `erff`).
void bh_gelu(float *x, size_t count);

/// Self-attention of one sequence of `n` tokens over all heads: `qkv` is `[n, 3·heads·d]` (Q, K, V
/// side by side, each head's `d` values contiguous), `ctx` receives `[n, heads·d]` with row
/// stride `ldc`: `softmax(scale · Q·Kᵀ)·V` per head. `scratch` holds `(d + 1) · n` floats.
void bh_attention(const float *qkv, int n, int heads, int d, float scale, float *ctx, int ldc, float *scratch);

/// `x[r] = LayerNorm(x[r] + residual[r]) · gamma + beta` for `rows` rows of `n` floats (biased
/// variance, as PyTorch). `residual` may be NULL (plain layer norm).
void bh_add_layer_norm(float *x, const float *residual, const float *gamma, const float *beta,
                       int rows, int n, float eps);

// The cache index's float dot products (bh_vec_*), in their own header.
#include "bh_vector.h"

#endif
