/* dream_impl.h — the dd_dream struct, shared by the state machine (dream.c)
 * and its serialisation (state.c). Nothing else includes it.
 *
 * Invariants of a dream between two calls (state.c validates a restored state
 * against every one of them):
 *   0 <= lvl < n_levels; levels[L].w/h are level_sizes() of (width, height);
 *   levels[L] holds its base image for L >= lvl (those below are freed);
 *   not done: 0 <= iteration < num_iterations, and either n_tiles == 0 == tile
 *     (the next step draws the grid) or 0 <= tile < n_tiles with tiles[0..n_tiles)
 *     the row-major grid of the current level (dd_tiles_layout);
 *   done: lvl == n_levels - 1, iteration == num_iterations, tile == n_tiles == 0;
 *   image, grad (NULL once done), grad_preview hold the top level's size; the
 *   current level uses the first w*h*3 of them;
 *   strip_out holds strip_cap floats, strip_scratch 2 * strip_cap. */
#ifndef DD_DREAM_IMPL_H
#define DD_DREAM_IMPL_H

#include "core/core.h"
#include "deepdream.h"
#include "tiles.h"

#define DD_DREAM_MAX_SIDE 16384
#define DD_DREAM_MAX_PIXELS ((int64_t)1 << 26)
#define DD_DREAM_MAX_LEVELS 33 /* num_repeats <= 32 */
/* Every dream buffer (image, gradient, preview, levels, strips, tiles) is at
   most DD_DREAM_MAX_PIXELS * 3 floats: its size in bytes fits a 32-bit size_t
   (wasm32), so the npix() products below need no overflow check. */
_Static_assert((uint64_t)DD_DREAM_MAX_PIXELS * 3 * sizeof(float) + 4096 < UINT32_MAX,
               "dream buffer sizes must fit a 32-bit size_t");

typedef struct dd_dream_level {
  int w, h;
  uint8_t *u8; /* DD_RESAMPLE_LANCZOS_U8 */
  float *f;    /* DD_RESAMPLE_LANCZOS_FLOAT */
} dd_dream_level;

struct dd_dream {
  dd_model *model;
  dd_dream_options opt;
  int *channels; /* owned copy of opt.objective.channels */
  char *layer;   /* owned copy of opt.objective.layer, or NULL */
  int target;
  int width, height, in_channels;
  uint8_t *alpha; /* width*height, when in_channels == 4 */
  int n_levels;
  dd_dream_level *levels; /* 0 = smallest */
  /* position */
  int lvl, iteration, tile, n_tiles, started, done;
  dd_tile *tiles;
  int tiles_cap;
  dd_rng rng;
  /* the current level */
  float *image, *grad;
  uint8_t *grad_preview;
  double grad_min, grad_max, step_scaled;
  dd_tile last_tile;
  int64_t tiles_done;
  double pixels_done, pixels_total;
  /* scratch */
  float *tile_in, *tile_grad;
  size_t tile_cap;
  float *strip_out, *strip_scratch;
  size_t strip_cap;
  int forced_rows; /* tests: strips of at most this many rows */
  /* beyond the tutorial (issue 15): NULL / 0 for the tutorial's dream */
  struct dd_objective_prog *obj; /* the objective program, with its guide features and chosen channels */
  char *objective_text;          /* owned copy of opt.objective_expr */
  float *tx_in, *tx_grad;        /* a transformed tile and its gradient */
  size_t tx_cap;
  float *lap_scratch;            /* gradient=laplacian, sized for the top level */
  struct dd_lanes *lanes;        /* small tiles side by side (lanes.c); NULL until needed; not saved */
  /* where the time went (dd_progress.ms_*), since this object began; not saved */
  struct { double core, gradient, tiles, stats, smooth, update, levels; } ms;
};

/* The extras: objective program (objective.c), transforms, TV, lap_normalize.
   Whether the dream runs the tutorial's exact path. */
int dd_dream_is_tutorial(const dd_dream_options *o);

/* For state.c. With d zeroed except width, height and in_channels (checked
   by the caller): validates the options, binds the model and objective,
   reserves the activations and allocates d->levels with every level's size
   (no pixels). On failure d is left for dd_dream_free. */
dd_status dd_dream_setup(dd_dream *d, dd_model *m, const dd_dream_options *opt, dd_error *err);
/* dream.c, one tile of the current level's grid (the steps run_tile takes,
   shared with lanes.c): its pixels as the model's input (in: the tile's
   w*h*3 floats); its gradient's 1/(std + 1e-8) after the model's chain rule
   (grad in place); and tile d->tile's gradient scaled into the level's
   gradient, counted as done. */
void dd_dream_tile_input(const dd_dream *d, const dd_tile *t, float *in);
float dd_dream_tile_scale(const dd_dream *d, const dd_tile *t, float *grad);
void dd_dream_tile_commit(dd_dream *d, const float *grad, float inv);
/* Allocates the image, gradient, preview and smoothing buffers for the
   current level d->lvl (after dd_dream_setup). */
dd_status dd_dream_setup_buffers(dd_dream *d, dd_error *err);

#endif /* DD_DREAM_IMPL_H */
