/* dream.c — DeepDream as Hvass-Labs tutorial #14 does it, as a resumable
 * state machine that advances one gradient tile at a time.
 *
 * recursive_optimize, unrolled: the pyramid of base images is built first
 * (levels[n-1] = the input; levels[L-1] = resize(blur(levels[L], 0.5 spatial),
 * rescale_factor)); the dream then runs optimize_image on level 0, and on each
 * level above starts from blend*base + (1-blend)*upscale(previous result).
 * optimize_image: num_iterations times, a tiled gradient (random tile grid,
 * per-tile std normalisation), smoothed by the sum of three Gaussians at
 * sigma, 2 sigma and sigma/2 over all three axes, then a step of
 * step_size / (std + 1e-8).
 *
 * Memory is bounded by the tile, not by the image: the smoothed gradient is
 * never stored whole. Smoothing runs over horizontal strips with a halo as
 * tall as the largest blur radius, which gives bit-identical results to a
 * whole-image blur; one pass gathers the statistics (std, min, max), a second
 * recomputes the strips and applies the step. The pyramid is kept as 8-bit
 * images in the tutorial's resample mode (its resize goes through uint8).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../api/describe.h"
#include "../api/model_internal.h"
#include "dream_impl.h"
#include "dream_internal.h"
#include "lanes.h"
#include "lapnorm.h"
#include "objective.h"
#include "pixels.h"
#include "resize.h"
#include "transform.h"
#include "smooth.h"
#include "tiles.h"
#include "deepdream_options.h"

#define STRIP_ROWS 128
#define WHOLE_IMAGE_BYTES ((size_t)16 << 20) /* smoothed whole below this */

typedef dd_dream_level level;

static size_t npix(int w, int h) { return (size_t)w * (size_t)h; }

/* the pool the dream's pixel loops, blurs and resizes run on: the model's */
static dd_threadpool *pool_of(const dd_dream *d) { return dd_exec_threads(d->model->exec); }

/* ---- validation ----------------------------------------------------------- */

/* the option table's ranges (options.c) */
static dd_status check_options(const dd_dream_options *o, dd_error *err) { return dd_dream_options_validate(o, err); }

static dd_status level_sizes(int w, int h, const dd_dream_options *o, int *ws, int *hs, dd_error *err) {
  int n = o->num_repeats + 1;
  ws[n - 1] = w;
  hs[n - 1] = h;
  for (int L = n - 1; L > 0; L--) {
    dd_resize_scaled_size(hs[L], ws[L], o->rescale_factor, &hs[L - 1], &ws[L - 1]);
    if (hs[L - 1] < DD_DREAM_MIN_OCTAVE_SIZE || ws[L - 1] < DD_DREAM_MIN_OCTAVE_SIZE) {
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT,
                     "a %dx%d image cannot shrink %d times by %g: octave %d would be %dx%d, below the network's "
                     "minimum of %d pixels; use num_repeats <= %d",
                     w, h, o->num_repeats, o->rescale_factor, n - L, ws[L - 1], hs[L - 1], DD_DREAM_MIN_OCTAVE_SIZE,
                     n - 1 - L);
    }
  }
  return DD_OK;
}

/* ---- memory --------------------------------------------------------------- */

static void free_levels(dd_dream *d) {
  if (!d->levels) return;
  for (int i = 0; i < d->n_levels; i++) {
    free(d->levels[i].u8);
    dd_aligned_free(d->levels[i].f);
  }
  free(d->levels);
  d->levels = NULL;
}

void dd_dream_free(dd_dream *d) {
  if (!d) return;
  dd_lanes_free(d);
  free_levels(d);
  free(d->channels);
  free(d->layer);
  free(d->alpha);
  free(d->tiles);
  dd_aligned_free(d->image);
  dd_aligned_free(d->grad);
  free(d->grad_preview);
  dd_aligned_free(d->tile_in);
  dd_aligned_free(d->tile_grad);
  dd_aligned_free(d->strip_out);
  dd_aligned_free(d->strip_scratch);
  if (d->obj) dd_objective_free(d->obj);
  free(d->obj);
  free(d->objective_text);
  dd_aligned_free(d->tx_in);
  dd_aligned_free(d->tx_grad);
  dd_aligned_free(d->lap_scratch);
  free(d);
}

static dd_status oom(dd_error *err, size_t bytes) {
  return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory allocating %zu bytes for the dream", bytes);
}

/* Strip buffers for smoothing a level of width w: STRIP_ROWS plus halos. */
static dd_status ensure_strips(dd_dream *d, int w, int h, dd_error *err) {
  int radius = dd_gaussian_radius(2.0 * (4.0 * (d->opt.num_iterations - 1) / d->opt.num_iterations + 0.5));
  int rows = STRIP_ROWS + 2 * (radius > 2 ? radius : 2);
  /* small images: smooth the whole gradient at once and keep it (one pass) */
  if (npix(w, h) * 3 * sizeof(float) <= WHOLE_IMAGE_BYTES || rows > h) rows = h;
  if (d->forced_rows > 0) rows = d->forced_rows + 2 * radius < h ? d->forced_rows + 2 * radius : h;
  size_t need = npix(w, rows) * 3;
  if (need <= d->strip_cap) return DD_OK;
  dd_aligned_free(d->strip_out);
  dd_aligned_free(d->strip_scratch);
  d->strip_out = (float *)dd_aligned_alloc(need * sizeof(float));
  d->strip_scratch = (float *)dd_aligned_alloc(dd_gaussian_sum3_scratch_floats(rows, w, 3) * sizeof(float));
  d->strip_cap = d->strip_out && d->strip_scratch ? need : 0;
  return d->strip_cap ? DD_OK : oom(err, need * 12);
}

static dd_status ensure_tile(dd_dream *d, size_t floats, dd_error *err) {
  if (floats <= d->tile_cap) return DD_OK;
  dd_aligned_free(d->tile_in);
  dd_aligned_free(d->tile_grad);
  d->tile_in = (float *)dd_aligned_alloc(floats * sizeof(float) + DD_EXTRA_BYTES);
  d->tile_grad = (float *)dd_aligned_alloc(floats * sizeof(float) + DD_EXTRA_BYTES);
  d->tile_cap = d->tile_in && d->tile_grad ? floats : 0;
  return d->tile_cap ? DD_OK : oom(err, floats * 8);
}

/* ---- the pyramid ---------------------------------------------------------- */

/* Builds the levels from the top image *rgb; in 8-bit mode the top level
   takes *rgb over (set to NULL) instead of copying it. */
static dd_status build_pyramid(dd_dream *d, uint8_t **rgbp, dd_error *err) {
  const uint8_t *rgb = *rgbp;
  int n = d->n_levels;
  int ws[33], hs[33];
  dd_status s = level_sizes(d->width, d->height, &d->opt, ws, hs, err);
  if (s != DD_OK) return s;
  d->levels = (level *)calloc((size_t)n, sizeof(level));
  if (!d->levels) return oom(err, sizeof(level) * n);
  for (int L = 0; L < n; L++) {
    d->levels[L].w = ws[L];
    d->levels[L].h = hs[L];
  }
  int u8mode = d->opt.resample == DD_RESAMPLE_LANCZOS_U8;
  level *top = &d->levels[n - 1];
  size_t topn = npix(top->w, top->h) * 3;
  if (u8mode) {
    top->u8 = *rgbp;
    *rgbp = NULL;
  } else {
    top->f = (float *)dd_aligned_alloc(topn * sizeof(float));
    if (!top->f) return oom(err, topn * 4);
    for (size_t i = 0; i < topn; i++) top->f[i] = rgb[i];
  }
  int R = dd_gaussian_radius(0.5);
  for (int L = n - 1; L > 0 && s == DD_OK; L--) {
    level *src = &d->levels[L], *dst = &d->levels[L - 1];
    size_t sn = npix(src->w, src->h) * 3, dn = npix(dst->w, dst->h) * 3;
    /* Blur (sigma 0.5, 0.5, 0) strip by strip: only strips are float. */
    size_t stripn = npix(src->w, STRIP_ROWS + 2 * R) * 3;
    float *in = (float *)dd_aligned_alloc(stripn * sizeof(float));
    float *tmp = (float *)dd_aligned_alloc(stripn * sizeof(float));
    float *scr = (float *)dd_aligned_alloc(dd_gaussian_scratch_floats(STRIP_ROWS + 2 * R, src->w, 3) * sizeof(float));
    uint8_t *b8 = u8mode ? (uint8_t *)malloc(sn) : NULL;
    float *bf = u8mode ? NULL : (float *)dd_aligned_alloc(sn * sizeof(float));
    if (!in || !tmp || !scr || (!b8 && !bf)) s = oom(err, sn * 4);
    double sig[3] = {0.5, 0.5, 0.0};
    for (int r0 = 0; r0 < src->h && s == DD_OK; r0 += STRIP_ROWS) {
      int r1 = r0 + STRIP_ROWS > src->h ? src->h : r0 + STRIP_ROWS;
      int s0 = r0 - R < 0 ? 0 : r0 - R, s1 = r1 + R > src->h ? src->h : r1 + R;
      size_t off = npix(src->w, s0) * 3, cnt = npix(src->w, s1 - s0) * 3;
      dd_px_to_float(pool_of(d), in, u8mode ? src->u8 + off : NULL, u8mode ? NULL : src->f + off, cnt);
      dd_status bs = dd_gaussian_filter_ex(in, tmp, s1 - s0, src->w, 3, sig, scr, pool_of(d));
      if (bs != DD_OK) {
        s = dd_fail(err, bs, "blur failed");
        break;
      }
      const float *rows = tmp + npix(src->w, r0 - s0) * 3;
      size_t rn = npix(src->w, r1 - r0) * 3, at = npix(src->w, r0) * 3;
      if (u8mode) dd_px_to_u8(pool_of(d), rows, b8 + at, rn);
      else memcpy(bf + at, rows, rn * sizeof(float));
    }
    dd_aligned_free(in);
    dd_aligned_free(tmp);
    dd_aligned_free(scr);
    if (s == DD_OK && u8mode) {
      dst->u8 = (uint8_t *)malloc(dn);
      s = dst->u8 ? dd_resize_lanczos_u8_pool(b8, src->w, src->h, 3, dst->u8, dst->w, dst->h, pool_of(d), err)
                  : oom(err, dn);
    } else if (s == DD_OK) {
      dst->f = (float *)dd_aligned_alloc(dn * sizeof(float));
      s = dst->f ? dd_resize_lanczos_float_scratch(bf, src->w, src->h, 3, dst->f, dst->w, dst->h, NULL, 0, pool_of(d),
                                                   err)
                 : oom(err, dn * 4);
    }
    free(b8);
    dd_aligned_free(bf);
  }
  if (s != DD_OK) return s;
  return DD_OK;
}

/* ---- levels --------------------------------------------------------------- */


/* The image, gradient and preview buffers, sized once for the top (largest)
   level and reused by every level: no large allocation while dreaming and
   no heap fragmentation from octaves of growing size (wasm memory never
   shrinks: holes raise the peak, and an 8192x8192 dream needs ~2.7 GiB of
   the 4 GiB a wasm32 heap can grow to). */
static dd_status alloc_buffers(dd_dream *d, dd_error *err) {
  const level *top = &d->levels[d->n_levels - 1];
  const size_t n = npix(top->w, top->h) * 3;
  if (!d->image) d->image = (float *)dd_aligned_alloc(n * sizeof(float) + DD_EXTRA_BYTES);
  if (!d->grad) d->grad = (float *)dd_aligned_calloc(n * sizeof(float) + DD_EXTRA_BYTES);
  if (!d->grad_preview) d->grad_preview = (uint8_t *)calloc(n, 1);
  if (!d->image || !d->grad || !d->grad_preview) return oom(err, n * 9);
  if (d->opt.gradient_mode == DD_GRADIENT_LAPLACIAN && !d->lap_scratch) {
    size_t ln = dd_lapnorm_scratch_floats(top->h, top->w, d->opt.lap_levels);
    d->lap_scratch = (float *)dd_aligned_alloc(ln * sizeof(float));
    if (!d->lap_scratch) return oom(err, ln * sizeof(float));
  }
  return DD_OK;
}

/* Starts level d->lvl: image = base (level 0) or blend of base and the
   upscaled result of the level below (held in d->image). */
static dd_status start_level(dd_dream *d, dd_error *err) {
  level *l = &d->levels[d->lvl];
  size_t n = npix(l->w, l->h) * 3;
  dd_lanes_level(d); /* their memory back once the tiles outgrow them */
  dd_status s = alloc_buffers(d, err);
  if (s != DD_OK) return s;
  if (d->lvl == 0) {
    dd_px_to_float(pool_of(d), d->image, l->u8, l->u8 ? NULL : l->f, n);
  } else {
    /* the level below's base image is never read again (saved states carry
       the levels from the current one up) */
    level *below = &d->levels[d->lvl - 1];
    free(below->u8);
    dd_aligned_free(below->f);
    below->u8 = NULL;
    below->f = NULL;
    /* upscale into the gradient buffer (free until this level's first
       tile), blend there, then swap it with the image. The resize's scratch
       is the image buffer's unused tail (it holds the smaller level below). */
    const level *top = &d->levels[d->n_levels - 1];
    const size_t used = (npix(below->w, below->h) * 3 * sizeof(float) + 63) & ~(size_t)63;
    const size_t cap = npix(top->w, top->h) * 3 * sizeof(float);
    uint8_t *scratch = used < cap ? (uint8_t *)d->image + used : NULL;
    const size_t scratch_bytes = used < cap ? cap - used : 0;
    float *img = d->grad;
    if (d->opt.resample == DD_RESAMPLE_LANCZOS_U8)
      s = dd_resize_tutorial_scratch(d->image, below->w, below->h, 3, img, l->w, l->h, scratch, scratch_bytes,
                                     pool_of(d), err);
    else
      s = dd_resize_lanczos_float_scratch(d->image, below->w, below->h, 3, img, l->w, l->h, scratch, scratch_bytes,
                                          pool_of(d), err);
    if (s != DD_OK) return s;
    /* blend * image + (1.0 - blend) * img_upscaled, in float32 as numpy does */
    float b = (float)d->opt.blend, nb = (float)(1.0 - d->opt.blend);
    dd_px_blend(pool_of(d), img, l->u8, l->u8 ? NULL : l->f, n, b, nb);
    d->grad = d->image;
    d->image = img;
  }
  memset(d->grad, 0, n * sizeof(float));
  memset(d->grad_preview, 0, n);
  int cap = dd_tiles_max_count(l->h, l->w, d->opt.tile_size);
  if (cap > d->tiles_cap) {
    free(d->tiles);
    d->tiles = (dd_tile *)malloc((size_t)cap * sizeof(dd_tile));
    d->tiles_cap = d->tiles ? cap : 0;
    if (!d->tiles) return oom(err, (size_t)cap * sizeof(dd_tile));
  }
  d->iteration = 0;
  d->tile = 0;
  d->n_tiles = 0;
  d->started = 1;
  return ensure_strips(d, l->w, l->h, err);
}

/* ---- one tile ------------------------------------------------------------- */

/* The tile's gradient with the extras (objective program, transforms, TV):
   d->tile_in -> d->tile_grad. */
static dd_status extras_gradient(dd_dream *d, const dd_tile *t, dd_error *err) {
  dd_transform tx;
  dd_transform_draw(&tx, &d->rng, &d->opt, t->width, t->height);
  dd_status s;
  if (!tx.active) {
    s = dd_objective_gradient(d->obj, d->model, d->tile_in, t->height, t->width, d->tile_grad, NULL, err);
  } else {
    size_t n = npix(tx.ow, tx.oh) * 3;
    if (n > d->tx_cap) {
      dd_aligned_free(d->tx_in);
      dd_aligned_free(d->tx_grad);
      d->tx_in = (float *)dd_aligned_alloc(n * sizeof(float) + DD_EXTRA_BYTES);
      d->tx_grad = (float *)dd_aligned_alloc(n * sizeof(float) + DD_EXTRA_BYTES);
      d->tx_cap = d->tx_in && d->tx_grad ? n : 0;
      if (!d->tx_cap) return oom(err, n * 8);
    }
    dd_transform_apply(&tx, d->tile_in, (float)(127.5 - d->opt.input_mean), d->tx_in);
    s = dd_objective_gradient(d->obj, d->model, d->tx_in, tx.oh, tx.ow, d->tx_grad, NULL, err);
    if (s == DD_OK) dd_transform_adjoint(&tx, d->tx_grad, d->tile_grad);
  }
  if (s == DD_OK && d->opt.tv > 0) dd_tv_penalty(d->tile_in, t->height, t->width, d->opt.tv, d->tile_grad);
  return s;
}

void dd_dream_tile_input(const dd_dream *d, const dd_tile *t, float *in) {
  const dd_dream_level *l = &d->levels[d->lvl];
  const float mean = (float)d->opt.input_mean;
  const dd_model_description *desc = &d->model->desc;
  if (dd_description_is_identity(desc)) { /* Inception 5h: the tutorial's bytes */
    /* the tile copies stay on this thread: memory-bound, they did not pay on
       the pool (dream_bench: 0.09 s inline vs 0.45 s on 2 busy threads) */
    dd_px_window_sub(NULL, in, (size_t)t->width * 3, d->image + (npix(l->w, t->top) + (size_t)t->left) * 3,
                     (size_t)l->w * 3, (size_t)t->width * 3, (size_t)t->height, mean);
  } else {
    for (int r = 0; r < t->height; r++)
      dd_description_feed(desc, mean, d->image + (npix(l->w, t->top + r) + (size_t)t->left) * 3,
                          in + npix(t->width, r) * 3, t->width);
  }
}

float dd_dream_tile_scale(const dd_dream *d, const dd_tile *t, float *grad) {
  const dd_model_description *desc = &d->model->desc;
  const size_t tn = npix(t->width, t->height) * 3;
  if (!dd_description_is_identity(desc)) dd_description_unfeed_gradient(desc, grad, npix(t->width, t->height));
  /* g /= (np.std(g) + 1e-8) */
  double sum = 0, sq = 0;
  for (size_t i = 0; i < tn; i++) sum += grad[i];
  double mu = sum / (double)tn;
  for (size_t i = 0; i < tn; i++) {
    double e = grad[i] - mu;
    sq += e * e;
  }
  return (float)(1.0 / (sqrt(sq / (double)tn) + 1e-8));
}

void dd_dream_tile_commit(dd_dream *d, const float *grad, float inv) {
  const dd_dream_level *l = &d->levels[d->lvl];
  const dd_tile *t = &d->tiles[d->tile];
  double t0 = dd_now_ms();
  dd_px_window_mul(NULL, d->grad + (npix(l->w, t->top) + (size_t)t->left) * 3, (size_t)l->w * 3, grad,
                   (size_t)t->width * 3, (size_t)t->width * 3, (size_t)t->height, inv);
  d->ms.tiles += dd_now_ms() - t0;
  d->last_tile = *t;
  d->tiles_done++;
  d->pixels_done += (double)t->width * t->height;
  d->tile++;
}

static dd_status run_tile(dd_dream *d, dd_error *err) {
  const dd_tile *t = &d->tiles[d->tile];
  size_t tn = npix(t->width, t->height) * 3;
  const float *lane_grad;
  float lane_inv;
  dd_status s = dd_lanes_tile(d, &lane_grad, &lane_inv, err); /* small tiles: side by side (lanes.h) */
  if (s != DD_OK) return s;
  if (lane_grad) {
    dd_dream_tile_commit(d, lane_grad, lane_inv);
    return DD_OK;
  }
  s = ensure_tile(d, tn, err);
  if (s != DD_OK) return s;
  double t0 = dd_now_ms();
  dd_dream_tile_input(d, t, d->tile_in);
  double t1 = dd_now_ms();
  if (d->obj) {
    s = extras_gradient(d, t, err);
  } else {
    dd_objective obj = d->opt.objective;
    s = dd_exec_objective_gradient(d->model->exec, d->target, obj.channels, obj.n_channels, d->tile_in,
                                   dd_shape4(1, t->height, t->width, 3), d->tile_grad, NULL, err);
  }
  double t2 = dd_now_ms();
  d->ms.tiles += t1 - t0;
  d->ms.gradient += t2 - t1;
  if (s != DD_OK) return s;
  float inv = dd_dream_tile_scale(d, t, d->tile_grad);
  d->ms.stats += dd_now_ms() - t2;
  dd_dream_tile_commit(d, d->tile_grad, inv);
  return DD_OK;
}

/* Smooths rows [r0, r1) of the level's raw gradient into d->strip_out
   (offset returned), bit-identical to a whole-image dd_gaussian_sum3. */
static dd_status smooth_strip(dd_dream *d, double sigma, int r0, int r1, const float **rows, dd_error *err) {
  const level *l = &d->levels[d->lvl];
  int R = dd_gaussian_radius(2.0 * sigma);
  int s0 = r0 - R < 0 ? 0 : r0 - R, s1 = r1 + R > l->h ? l->h : r1 + R;
  double t0 = dd_now_ms();
  dd_status s = dd_gaussian_sum3_bounded(d->grad + npix(l->w, s0) * 3, d->strip_out, d->strip_cap, s1 - s0, l->w, 3,
                                         sigma, 1, d->strip_scratch, 2 * d->strip_cap,
                                         pool_of(d)); /* the model's threads: same bytes */
  d->ms.smooth += dd_now_ms() - t0;
  if (s != DD_OK)
    return dd_fail(err, DD_ERR_INTERNAL, "gradient smoothing of rows %d..%d (sigma %g) does not fit the strip buffers",
                   s0, s1, sigma);
  *rows = d->strip_out + npix(l->w, r0 - s0) * 3;
  return DD_OK;
}

static int strip_rows(const dd_dream *d, double sigma) {
  (void)sigma;
  const level *l = &d->levels[d->lvl];
  int R = dd_gaussian_radius(2.0 * (4.0 * (d->opt.num_iterations - 1) / d->opt.num_iterations + 0.5));
  if (d->forced_rows > 0) return d->forced_rows < l->h ? d->forced_rows : l->h;
  if (d->strip_cap >= npix(l->w, l->h) * 3) return l->h; /* the whole image fits */
  int cap_rows = (int)(d->strip_cap / ((size_t)l->w * 3)) - 2 * R;
  if (cap_rows >= l->h) return l->h;
  return cap_rows < 1 ? 1 : cap_rows;
}

/* gradient=laplacian: img += lap_normalize(grad) * step_size (the TF1 notebook) */
static dd_status finish_iteration_laplacian(dd_dream *d) {
  const level *l = &d->levels[d->lvl];
  size_t n = npix(l->w, l->h) * 3;
  dd_lapnorm(d->grad, l->h, l->w, d->opt.lap_levels, d->grad, d->lap_scratch);
  double mn = INFINITY, mx = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    mn = d->grad[i] < mn ? d->grad[i] : mn;
    mx = d->grad[i] > mx ? d->grad[i] : mx;
  }
  double range = mx > mn ? mx - mn : 1.0;
  float stepf = (float)d->opt.step_size;
  for (size_t i = 0; i < n; i++) {
    d->image[i] += d->grad[i] * stepf;
    d->grad_preview[i] = (uint8_t)lrint((d->grad[i] - mn) / range * 255.0);
  }
  d->grad_min = mn;
  d->grad_max = mx;
  d->step_scaled = d->opt.step_size;
  d->iteration++;
  d->tile = 0;
  d->n_tiles = 0;
  return DD_OK;
}

static dd_status finish_iteration(dd_dream *d, dd_error *err) {
  if (d->opt.gradient_mode == DD_GRADIENT_LAPLACIAN) return finish_iteration_laplacian(d);
  const level *l = &d->levels[d->lvl];
  double sigma = (d->iteration * 4.0) / d->opt.num_iterations + 0.5;
  int rows = strip_rows(d, sigma);
  size_t rowlen = (size_t)l->w * 3;
  double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
  const float *g = NULL;
  dd_status s;
  /* pass 1: statistics of the smoothed gradient (mean and variance in double) */
  for (int r0 = 0; r0 < l->h; r0 += rows) {
    int r1 = r0 + rows > l->h ? l->h : r0 + rows;
    if ((s = smooth_strip(d, sigma, r0, r1, &g, err)) != DD_OK) return s;
    double t0 = dd_now_ms();
    size_t n = rowlen * (size_t)(r1 - r0);
    for (size_t i = 0; i < n; i++) {
      double v = g[i];
      sum += v;
      sq += v * v;
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    d->ms.stats += dd_now_ms() - t0;
  }
  size_t total = rowlen * (size_t)l->h;
  double mu = sum / (double)total, var = sq / (double)total - mu * mu;
  double std = sqrt(var > 0 ? var : 0);
  double step = d->opt.step_size / (std + 1e-8);
  float stepf = (float)step;
  double range = mx > mn ? mx - mn : 1.0;
  /* pass 2: the step, and the preview of the smoothed gradient; a whole-image
     strip from pass 1 is still in d->strip_out and is not recomputed */
  for (int r0 = 0; r0 < l->h; r0 += rows) {
    int r1 = r0 + rows > l->h ? l->h : r0 + rows;
    if (rows < l->h && (s = smooth_strip(d, sigma, r0, r1, &g, err)) != DD_OK) return s;
    double t0 = dd_now_ms();
    size_t off = rowlen * (size_t)r0, n = rowlen * (size_t)(r1 - r0);
    dd_px_step(pool_of(d), d->image + off, d->grad_preview + off, g, n, stepf, mn, range);
    d->ms.update += dd_now_ms() - t0;
  }
  d->grad_min = mn;
  d->grad_max = mx;
  d->step_scaled = step;
  d->iteration++;
  d->tile = 0;
  d->n_tiles = 0;
  return DD_OK;
}

/* ---- public API ----------------------------------------------------------- */

int dd_dream_is_tutorial(const dd_dream_options *o) {
  return !(o->objective_expr && o->objective_expr[0]) && !o->guide && o->tv == 0 && !dd_transform_enabled(o);
}

/* The objective program: the expression, or guide(layer) when only a guide
   is given, or square(layer, channels) when only transforms or TV are on. */
static dd_status init_objective(dd_dream *d, const dd_dream_options *opt, dd_error *err) {
  d->opt.objective_expr = NULL;
  if (dd_dream_is_tutorial(opt)) return DD_OK;
  d->obj = (dd_objective_prog *)calloc(1, sizeof *d->obj);
  if (!d->obj) return oom(err, sizeof *d->obj);
  dd_status s;
  const char *text = opt->objective_expr;
  char guide_only[DD_TERM_MAX_LAYER_NAME + 16];
  if ((!text || !text[0]) && opt->guide) { /* written out, so a saved state says what it is */
    if (d->layer) snprintf(guide_only, sizeof guide_only, "guide(%s)", d->layer);
    else snprintf(guide_only, sizeof guide_only, "guide(%d)", d->opt.objective.layer_index);
    text = guide_only;
  }
  if (text && text[0]) {
    size_t n = strlen(text);
    d->objective_text = (char *)malloc(n + 1);
    if (!d->objective_text) return oom(err, n + 1);
    memcpy(d->objective_text, text, n + 1);
    d->opt.objective_expr = d->objective_text;
    s = dd_objective_parse(d->objective_text, d->obj, err);
  } else {
    s = dd_objective_from_default(&d->opt.objective, d->obj, err);
  }
  if (s == DD_OK) s = dd_objective_bind(d->obj, d->model, err);
  return s;
}

/* After the pyramid: the guide's features and the strong/weak channels. */
/* a pixel value of level l's base picture (8-bit or float) */
static double level_base(const level *l, size_t i) { return l->u8 ? (double)l->u8[i] : (double)l->f[i]; }

static dd_status objective_choices(dd_dream *d, const dd_dream_options *opt, dd_error *err) {
  if (!d->obj) return DD_OK;
  dd_status s = DD_OK;
  float mean = (float)opt->input_mean;
  if (dd_objective_needs_guide(d->obj)) {
    if (!opt->guide)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "the objective has a guide(...) term but no guide image was given");
    int gw = opt->guide_width, gh = opt->guide_height, gc = opt->guide_channels, side = gw > gh ? gw : gh;
    int tw = gw, th = gh;
    if (side > opt->tile_size) { /* longer side at most the tile size, never enlarged */
      tw = (int)((int64_t)gw * opt->tile_size / side);
      th = (int)((int64_t)gh * opt->tile_size / side);
      tw = tw < 1 ? 1 : tw;
      th = th < 1 ? 1 : th;
    }
    size_t gn = npix(gw, gh), tn = npix(tw, th);
    uint8_t *rgb = (uint8_t *)malloc(gn * 3), *small = (uint8_t *)malloc(tn * 3);
    float *f = (float *)dd_aligned_alloc(tn * 3 * sizeof(float) + DD_EXTRA_BYTES);
    if (!rgb || !small || !f) s = oom(err, gn * 3 + tn * 15);
    if (s == DD_OK) {
      for (size_t i = 0; i < gn; i++) memcpy(rgb + i * 3, opt->guide + i * (size_t)gc, 3);
      if (tw == gw && th == gh) memcpy(small, rgb, gn * 3);
      else s = dd_resize_lanczos_u8(rgb, gw, gh, 3, small, tw, th, err);
    }
    if (s == DD_OK) {
      for (size_t i = 0; i < tn * 3; i++) f[i] = (float)small[i] - mean;
      s = dd_objective_set_guide(d->obj, d->model, f, th, tw, err);
    }
    free(rgb);
    free(small);
    dd_aligned_free(f);
  }
  if (s == DD_OK && dd_objective_needs_selection(d->obj)) {
    const level *l = &d->levels[0];
    size_t n = npix(l->w, l->h) * 3;
    float *f = (float *)dd_aligned_alloc(n * sizeof(float));
    if (!f) return oom(err, n * sizeof(float));
    for (size_t i = 0; i < n; i++) f[i] = (float)level_base(l, i) - mean;
    s = dd_objective_select(d->obj, d->model, f, l->h, l->w, opt->tile_size, err);
    dd_aligned_free(f);
  }
  return s;
}

static dd_status init_common(dd_dream *d, dd_model *m, const dd_dream_options *opt, dd_error *err) {
  d->model = m;
  d->opt = *opt;
  if (opt->objective.layer) {
    size_t n = strlen(opt->objective.layer);
    d->layer = (char *)malloc(n + 1);
    if (!d->layer) return oom(err, n + 1);
    memcpy(d->layer, opt->objective.layer, n + 1);
    d->opt.objective.layer = d->layer;
  }
  if (opt->objective.n_channels > 0) {
    d->channels = (int *)malloc(sizeof(int) * (size_t)opt->objective.n_channels);
    if (!d->channels) return oom(err, sizeof(int) * (size_t)opt->objective.n_channels);
    memcpy(d->channels, opt->objective.channels, sizeof(int) * (size_t)opt->objective.n_channels);
    d->opt.objective.channels = d->channels;
  } else {
    d->opt.objective.channels = NULL;
    d->opt.objective.n_channels = 0;
  }
  dd_status s = dd_model_resolve_objective(m, &d->opt.objective, &d->target, err);
  if (s != DD_OK) return s;
  d->opt.guide = NULL; /* used by dd_dream_begin only; the features live in d->obj */
  if ((s = init_objective(d, opt, err)) != DD_OK) return s;
  int c = dd_model_node_channels(m, d->target);
  for (int j = 0; j < d->opt.objective.n_channels; j++)
    if (c > 0 && (d->channels[j] < 0 || d->channels[j] >= c))
      return dd_fail(err, DD_ERR_NOT_FOUND, "channel %d does not exist in '%s', which has channels 0..%d", d->channels[j],
                     m->graph.nodes[d->target].name, c - 1);
  d->n_levels = opt->num_repeats + 1;
  d->pixels_total = 0;
  int ws[33], hs[33];
  s = level_sizes(d->width, d->height, opt, ws, hs, err);
  if (s != DD_OK) return s;
  for (int L = 0; L < d->n_levels; L++) d->pixels_total += (double)ws[L] * hs[L] * opt->num_iterations;
  /* size the activation arena for the largest tile of any octave now: grown
     tile shape by tile shape it left holes of 100+ MB in the heap */
  int th = 0, tw = 0;
  for (int L = 0; L < d->n_levels; L++) {
    int a = dd_tile_size(hs[L], opt->tile_size), b = dd_tile_size(ws[L], opt->tile_size);
    th = a > th ? a : th;
    tw = b > tw ? b : tw;
  }
  dd_error e2 = {0};
  th += 2 * opt->pad; /* transformed tiles are padded */
  tw += 2 * opt->pad;
  int nodes[DD_OBJECTIVE_MAX_TERMS] = {d->target}; /* the objective's layers, as its gradient plans them */
  const int n = d->obj ? dd_objective_layers(d->obj, nodes) : 1;
  s = n > 0 ? dd_exec_reserve_targets(m->exec, nodes, n, dd_shape4(1, th, tw, 3), &e2) : DD_OK;
  if (s == DD_ERR_OUT_OF_MEMORY) {
    if (err) *err = e2;
    return s;
  }
  return DD_OK; /* other errors come back from the first tile, with its shape */
}

dd_status dd_dream_begin(dd_model *m, const dd_dream_options *opt, const uint8_t *pixels, int width, int height,
                         int channels, dd_dream **out, dd_error *err) {
  if (!m || !opt || !pixels || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_dream_begin: NULL argument");
  if (channels != 3 && channels != 4)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "images must have 3 (RGB) or 4 (RGBA) channels, got %d", channels);
  if (width < 1 || height < 1 || width > DD_DREAM_MAX_SIDE || height > DD_DREAM_MAX_SIDE ||
      (int64_t)width * height > DD_DREAM_MAX_PIXELS)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "image size %dx%d is outside 1..%d per side and %lld pixels", width,
                   height, DD_DREAM_MAX_SIDE, (long long)DD_DREAM_MAX_PIXELS);
  dd_status s = check_options(opt, err);
  if (s != DD_OK) return s;
  double t0 = dd_now_ms();
  dd_dream *d = (dd_dream *)calloc(1, sizeof *d);
  if (!d) return oom(err, sizeof *d);
  d->width = width;
  d->height = height;
  d->in_channels = channels;
  s = init_common(d, m, opt, err);
  size_t n = npix(width, height);
  uint8_t *rgb = NULL;
  if (s == DD_OK) {
    rgb = (uint8_t *)malloc(n * 3);
    if (channels == 4) d->alpha = (uint8_t *)malloc(n);
    if (!rgb || (channels == 4 && !d->alpha)) s = oom(err, n * 4);
  }
  if (s == DD_OK) {
    for (size_t i = 0; i < n; i++) {
      memcpy(rgb + i * 3, pixels + i * channels, 3);
      if (d->alpha) d->alpha[i] = pixels[i * 4 + 3];
    }
    dd_rng_seed(&d->rng, opt->seed);
    s = build_pyramid(d, &rgb, err);
  }
  free(rgb);
  if (s == DD_OK) s = objective_choices(d, opt, err);
  if (s == DD_OK) s = start_level(d, err);
  if (s != DD_OK) {
    dd_dream_free(d);
    return s;
  }
  d->ms.levels += dd_now_ms() - t0; /* the pyramid and the first octave */
  d->ms.core += dd_now_ms() - t0;
  *out = d;
  return DD_OK;
}

static void fill_progress(const dd_dream *d, dd_progress *p) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->num_octaves = d->n_levels;
  p->octave = d->lvl;
  p->num_iterations = d->opt.num_iterations;
  p->iteration = d->iteration;
  p->tile = d->tile;
  p->num_tiles = d->n_tiles;
  p->tiles_done = d->tiles_done;
  int64_t est = 0;
  for (int L = 0; L < d->n_levels; L++) {
    const level *l = &d->levels[L];
    int tx = (l->h + d->opt.tile_size / 2) / d->opt.tile_size + 1, ty = (l->w + d->opt.tile_size / 2) / d->opt.tile_size + 1;
    est += (int64_t)tx * ty * d->opt.num_iterations;
  }
  p->tiles_total = est > d->tiles_done ? est : d->tiles_done;
  p->fraction = d->done ? 1.0 : d->pixels_done / d->pixels_total;
  p->tile_x = d->last_tile.left;
  p->tile_y = d->last_tile.top;
  p->tile_w = d->last_tile.width;
  p->tile_h = d->last_tile.height;
  p->image_w = d->levels[d->lvl].w;
  p->image_h = d->levels[d->lvl].h;
  p->grad_min = d->grad_min;
  p->grad_max = d->grad_max;
  p->step_scaled = d->step_scaled;
  p->ms_core = d->ms.core;
  p->ms_gradient = d->ms.gradient;
  p->ms_tiles = d->ms.tiles;
  p->ms_stats = d->ms.stats;
  p->ms_smooth = d->ms.smooth;
  p->ms_update = d->ms.update;
  p->ms_levels = d->ms.levels;
}

dd_status dd_dream_step(dd_dream *d, int max_tiles, dd_progress *progress, dd_error *err) {
  if (!d) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_dream_step: NULL dream");
  if (max_tiles < 1) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "max_tiles must be >= 1, got %d", max_tiles);
  double t0 = dd_now_ms();
  dd_status s = DD_OK;
  int ran = 0;
  while (!d->done && ran < max_tiles) {
    const level *l = &d->levels[d->lvl];
    if (d->n_tiles == 0) {
      d->n_tiles = dd_tiles_layout(&d->rng, l->h, l->w, d->opt.tile_size, d->tiles, d->tiles_cap);
      if (d->n_tiles < 1 || d->n_tiles > d->tiles_cap) {
        s = dd_fail(err, DD_ERR_INTERNAL, "tile layout of %dx%d gave %d tiles", l->w, l->h, d->n_tiles);
        break;
      }
    }
    if ((s = run_tile(d, err)) != DD_OK) break;
    ran++;
    if (d->tile == d->n_tiles) {
      if ((s = finish_iteration(d, err)) != DD_OK) break;
      if (d->iteration == d->opt.num_iterations) {
        if (d->lvl + 1 == d->n_levels) {
          d->done = 1;
          /* the whole-image gradient is not needed once done (the preview
             stays for dd_dream_read_gradient): the caller's result buffer
             may need the room */
          dd_aligned_free(d->grad);
          d->grad = NULL;
        } else {
          d->lvl++;
          double t1 = dd_now_ms();
          s = start_level(d, err);
          d->ms.levels += dd_now_ms() - t1;
          if (s != DD_OK) break;
        }
      }
    }
  }
  d->ms.core += dd_now_ms() - t0;
  fill_progress(d, progress);
  if (s != DD_OK) return s;
  return d->done ? DD_DONE : DD_OK;
}

dd_status dd_dream_current_size(const dd_dream *d, int *w, int *h) {
  if (!d || !w || !h) return DD_ERR_INVALID_ARGUMENT;
  *w = d->levels[d->lvl].w;
  *h = d->levels[d->lvl].h;
  return DD_OK;
}

int64_t dd_dream_debug_lane_tiles(const dd_dream *d) { return d ? dd_lanes_tiles_run(d) : 0; }

dd_status dd_dream_debug_lanes(dd_dream *d, int64_t max_tile_pixels, size_t max_bytes, dd_error *err) {
  if (!d || max_tile_pixels < 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "bad arguments");
  return dd_lanes_set_limits(d, max_tile_pixels, max_bytes, err);
}

dd_status dd_dream_debug_lane_fault(dd_dream *d, int tile, dd_error *err) {
  if (!d || tile < -1) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "bad arguments");
  return dd_lanes_fail_on(d, tile, err);
}

dd_status dd_dream_debug_strip_rows(dd_dream *d, int rows, dd_error *err) {
  if (!d || rows < 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "bad arguments");
  d->forced_rows = rows;
  d->strip_cap = 0;
  return ensure_strips(d, d->levels[d->lvl].w, d->levels[d->lvl].h, err);
}

int dd_dream_channels(const dd_dream *d) { return d ? d->in_channels : 0; }

dd_status dd_dream_read_image(const dd_dream *d, uint8_t *pixels, size_t capacity, dd_error *err) {
  if (!d || !pixels) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_dream_read_image: NULL argument");
  const level *l = &d->levels[d->lvl];
  size_t n = npix(l->w, l->h), c = (size_t)d->in_channels;
  if (capacity < n * c)
    return dd_fail(err, DD_ERR_SHAPE, "the image is %dx%dx%zu = %zu bytes; the buffer holds %zu", l->w, l->h, c, n * c,
                   capacity);
  int full = d->lvl == d->n_levels - 1;
  if (c == 3) {
    dd_px_to_u8(pool_of(d), d->image, pixels, n * 3);
    return DD_OK;
  }
  for (size_t i = 0; i < n; i++) {
    dd_float_to_u8_tutorial(d->image + i * 3, pixels + i * c, 3);
    if (c == 4) pixels[i * 4 + 3] = full ? d->alpha[i] : 255;
  }
  return DD_OK;
}

dd_status dd_dream_read_gradient(const dd_dream *d, uint8_t *rgb, size_t capacity, dd_error *err) {
  if (!d || !rgb) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_dream_read_gradient: NULL argument");
  const level *l = &d->levels[d->lvl];
  size_t n = npix(l->w, l->h) * 3;
  if (capacity < n) return dd_fail(err, DD_ERR_SHAPE, "the gradient preview is %zu bytes; the buffer holds %zu", n, capacity);
  memcpy(rgb, d->grad_preview, n);
  return DD_OK;
}

/* ---- for state.c ------------------------------------------------------------ */

dd_status dd_dream_setup(dd_dream *d, dd_model *m, const dd_dream_options *opt, dd_error *err) {
  dd_status s = check_options(opt, err);
  if (s == DD_OK) s = init_common(d, m, opt, err);
  int ws[DD_DREAM_MAX_LEVELS], hs[DD_DREAM_MAX_LEVELS];
  if (s == DD_OK) s = level_sizes(d->width, d->height, &d->opt, ws, hs, err);
  if (s != DD_OK) return s;
  d->levels = (level *)calloc((size_t)d->n_levels, sizeof(level));
  if (!d->levels) return oom(err, sizeof(level) * (size_t)d->n_levels);
  for (int L = 0; L < d->n_levels; L++) {
    d->levels[L].w = ws[L];
    d->levels[L].h = hs[L];
  }
  return DD_OK;
}

dd_status dd_dream_setup_buffers(dd_dream *d, dd_error *err) {
  dd_status s = alloc_buffers(d, err);
  return s == DD_OK ? ensure_strips(d, d->levels[d->lvl].w, d->levels[d->lvl].h, err) : s;
}
