/* kernels.c — the backend registry (which backends this build has) and the
 * shared conv workspace. */
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

dd_status dd_workspace_grow(dd_workspace *ws, size_t floats, const char *what, dd_error *err) {
  if (floats <= ws->cap) return DD_OK;
  float *b = floats <= (SIZE_MAX - DD_EXTRA_BYTES) / sizeof(float)
                 ? (float *)dd_aligned_alloc(floats * sizeof(float) + DD_EXTRA_BYTES)
                 : NULL;
  if (!b) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: out of memory for %zu floats of %s", floats, what);
  dd_aligned_free(ws->buf);
  ws->buf = b;
  ws->cap = floats;
  return DD_OK;
}

void dd_workspace_free(dd_workspace *ws) {
  if (!ws) return;
  dd_aligned_free(ws->buf);
  ws->buf = NULL;
  ws->cap = 0;
}
