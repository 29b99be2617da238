/* backend.c — simd128 backend registry. Not implemented yet: the registry
 * reports the backend as unavailable (NULL) and DD_BACKEND_AUTO falls back to
 * the reference backend until it lands. */
#include "../kernels.h"

const dd_kernels *dd_kernels_simd128(void) { return NULL; }
