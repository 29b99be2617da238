/* dream_internal.h — hooks for tests only. */
#ifndef DD_DREAM_INTERNAL_H
#define DD_DREAM_INTERNAL_H
#include "deepdream.h"
/* Forces gradient smoothing into strips of at most `rows` rows (0 = automatic:
   whole image when it is small). Results must not change. */
dd_status dd_dream_debug_strip_rows(dd_dream *d, int rows, dd_error *err);
/* Tiles whose octave's grid cell has at most max_tile_pixels run side by
   side on lanes whose arenas take at most max_bytes together (lanes.h;
   defaults DD_LANES_MAX_TILE_PIXELS, DD_LANES_MAX_BYTES; 0 pixels: never).
   Results must not change. */
dd_status dd_dream_debug_lanes(dd_dream *d, int64_t max_tile_pixels, size_t max_bytes, dd_error *err);
/* The lanes fail (as if out of memory) on tile `tile` of each iteration's
   grid (-1: never): that tile and the rest of its level then run one after
   another. Results must not change. */
dd_status dd_dream_debug_lane_fault(dd_dream *d, int tile, dd_error *err);
/* Tiles the dream has computed on lanes so far. */
int64_t dd_dream_debug_lane_tiles(const dd_dream *d);
#endif
