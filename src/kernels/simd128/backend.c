/* backend.c — the simd128 backend's dd_kernels table. */
#include "internal.h"

static const dd_kernels dd_simd128_kernels = {
    .name = "simd128",
    .conv2d_create = dd_simd128_conv2d_create,
    .conv2d_destroy = dd_simd128_conv2d_destroy,
    .conv2d_prepare = dd_simd128_conv2d_prepare,
    .conv_concurrent = 1,
    .conv2d_forward = dd_simd128_conv2d_forward,
    .conv2d_backward_data = dd_simd128_conv2d_backward_data,
    .conv2d_backward_filter = dd_simd128_conv2d_backward_filter,
    .max_pool_forward = dd_simd128_max_pool_forward,
    .max_pool_backward = dd_simd128_max_pool_backward,
    .max_pool_forward_argmax = dd_simd128_max_pool_forward_argmax,
    .max_pool_backward_argmax = dd_simd128_max_pool_backward_argmax,
    .avg_pool_forward = dd_simd128_avg_pool_forward,
    .avg_pool_backward = dd_simd128_avg_pool_backward,
    .lrn_forward = dd_simd128_lrn_forward,
    .lrn_backward = dd_simd128_lrn_backward,
    .gemm = dd_simd128_gemm,
};

const dd_kernels *dd_kernels_simd128(void) { return &dd_simd128_kernels; }
