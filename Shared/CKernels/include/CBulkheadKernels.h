#ifndef CBULKHEAD_KERNELS_H
#define CBULKHEAD_KERNELS_H
// SIMD kernels for the local models; filled by the int8 work. Each exported function picks the
// best instruction set the CPU has at run time and falls back to portable C.
/// Returns a bit set of the instruction sets the kernels may use (1 = AVX2, 2 = AVX-512 VNNI).
int bh_kernels_cpu_features(void);
#endif
