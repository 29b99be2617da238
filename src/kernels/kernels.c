/* kernels.c — the backend registry: which backends this build has. */
#include "kernels.h"

#ifndef DD_HAVE_XNNPACK
const dd_kernels *dd_kernels_xnnpack(void) { return NULL; }
#endif

const dd_kernels *dd_kernels_get(dd_backend backend) {
  switch (backend) {
    case DD_BACKEND_AUTO: {
      const dd_kernels *k = dd_kernels_simd128();
      return k ? k : dd_kernels_reference();
    }
    case DD_BACKEND_REFERENCE: return dd_kernels_reference();
    case DD_BACKEND_SIMD128: return dd_kernels_simd128();
    case DD_BACKEND_XNNPACK: return dd_kernels_xnnpack();
  }
  return NULL;
}
