/* xnnpack.c — XNNPACK backend (native only). Not implemented yet: the
 * registry reports the backend as unavailable (NULL) until it lands. */
#include "kernels.h"

const dd_kernels *dd_kernels_xnnpack(void) { return NULL; }
