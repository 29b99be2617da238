/* dream_internal.h — hooks for tests only. */
#ifndef DD_DREAM_INTERNAL_H
#define DD_DREAM_INTERNAL_H
#include "deepdream.h"
/* Forces gradient smoothing into strips of at most `rows` rows (0 = automatic:
   whole image when it is small). Results must not change. */
dd_status dd_dream_debug_strip_rows(dd_dream *d, int rows, dd_error *err);
#endif
