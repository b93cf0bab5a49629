#ifndef CBULKHEAD_VECTOR_H
#define CBULKHEAD_VECTOR_H
// Float32 dot products for the cache's vector index. Each function picks AVX-512F, then
// AVX2+FMA, then portable C at run time (the same BULKHEAD_KERNELS_FEATURES mask as the model
// kernels: bit 1 = AVX2, and any value without bit 4 turns AVX-512 off for these kernels).
// Compiled at -O3 whatever the Swift build mode, so debug-built tests scan at full speed.
#include <stddef.h>
#include <stdint.h>

/// `Σ a[i]·b[i]` over `n` floats.
float bh_vec_dot(const float *a, const float *b, int n);

/// `out[r] = dot(q, rows + r·n)` for `count` contiguous rows of `n` floats.
void bh_vec_dot_rows(const float *q, const float *rows, size_t count, int n, float *out);

/// `out[j] = dot(q, base + idx[j]·n)` for `count` row indices (gathered rows; the next row is
/// prefetched while the current one is multiplied).
void bh_vec_dot_gather(const float *q, const float *base, const int32_t *idx, int count, int n, float *out);

/// Index of the best of `count` contiguous rows and its dot product with `q` in `*best`
/// (`-1` and `-INFINITY` when `count` is 0); the exact k = 1 scan without a result array.
long bh_vec_argmax_rows(const float *q, const float *rows, size_t count, int n, float *best);

/// The instruction set these kernels use: 0 portable, 1 AVX2+FMA, 4 AVX-512F.
int bh_vec_active_isa(void);

/// Instruction sets this CPU offers these kernels (bits as above; 0 = portable only).
int bh_vec_available_isas(void);

/// `bh_vec_dot` on one chosen path (0, 1 or 4; one the CPU lacks falls back to portable C), so
/// tests can check every path against the others on one machine.
float bh_vec_dot_using(int isa, const float *a, const float *b, int n);

#endif
