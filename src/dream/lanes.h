/* lanes.h — a small octave's tiles side by side.
 *
 * The tutorial's smallest octaves are cut into tiles of 30-200 px (a 231x130
 * octave into four, at random offsets): too small for their ops to split
 * well across threads (1.5x on 2 threads, against 1.9x at 400x400). Here the
 * next tiles of an iteration's grid are computed at the same time instead,
 * each on one thread, by lanes: executors of their own on the model's
 * weights (exec.h, dd_exec_create_lane). Each tile's gradient and scale are
 * kept until the state machine reaches the tile, which then only scales it
 * into the level's gradient, so the dream's bytes, its saved states and its
 * progress events are those of one tile after another (a lane computes the
 * bytes the model's executor computes on any number of threads). Nothing
 * here is saved: a restored dream computes the tiles it had not reached
 * again.
 */
#ifndef DD_DREAM_LANES_H
#define DD_DREAM_LANES_H

#include "dream_impl.h"

/* Tiles whose octave's grid cell (dd_tile_size of both sides) has at most
   this many pixels run side by side: the tutorial's two smallest octaves of
   a 960x540 photo (cells of 230x128 and 329x184), whose gradients went
   from 1.5x to 1.8-1.9x on 2 threads. Larger tiles scale well on the ops'
   own threads already (1.9x at 400x400) and would cost a lane's arena each
   (530 B per pixel to mixed3b): in the dream_bench they gained nothing
   measurable. */
#define DD_LANES_MAX_TILE_PIXELS (256 * 256)
/* The lanes' arenas and workspaces together stay within this: fewer lanes
   (or none: the tiles then run one after another) when they would not. */
#define DD_LANES_MAX_BYTES ((size_t)256 << 20)

/* Tile d->tile's gradient (*grad, w*h*3 floats) and its 1/(std + 1e-8)
   (*inv), from the lanes: computed now, with the next tiles of the grid,
   when the model has >= 2 threads, the tiles are small, the dream runs the
   plain objective and the backend allows it; or earlier, with a tile before
   it. Otherwise *grad = NULL and the caller computes the tile. Lanes that
   cannot be set up, or fail on a tile, are not an error: the caller
   computes that tile and the rest of the level (its own error, if any, is
   the dream's). */
dd_status dd_lanes_tile(dd_dream *d, const float **grad, float *inv, dd_error *err);
/* Called as a level starts: frees the lanes' executors and buffers when the
   level's tiles are too large for them (the octaves only grow). */
void dd_lanes_level(dd_dream *d);
/* Everything (dd_dream_free). */
void dd_lanes_free(dd_dream *d);
/* Tests (dream_internal.h): the two limits above (0 pixels: never side by side). */
dd_status dd_lanes_set_limits(dd_dream *d, int64_t max_pixels, size_t max_bytes, dd_error *err);
/* Tests: the lanes fail on tile `tile` of every iteration's grid (-1: never). */
dd_status dd_lanes_fail_on(dd_dream *d, int tile, dd_error *err);
/* Tests: tiles computed on lanes so far. */
int64_t dd_lanes_tiles_run(const dd_dream *d);

#endif
