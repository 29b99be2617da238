/* simd.h — one spelling of 128-bit SIMD for wasm and native.
 * In wasm builds (-msimd128) this is <wasm_simd128.h>. Natively the same
 * wasm_* intrinsics come from SIMDe, so kernels are tested under gcc,
 * sanitizers and valgrind exactly as they run in the browser. */
#ifndef DD_SIMD_H
#define DD_SIMD_H
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#endif
#endif
