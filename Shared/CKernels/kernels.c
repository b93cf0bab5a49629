#include "CBulkheadKernels.h"

int bh_kernels_cpu_features(void) {
    int features = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) features |= 1;
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) features |= 2;
#endif
    return features;
}
