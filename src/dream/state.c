/* state.c — saving a dream and restoring it from untrusted bytes (layout and
 * checks: state.h). Restore reads the layout in order; after each part it
 * checks that part's table of rules against everything read before it, so no
 * field is used to allocate or index before its rules hold. */
#include "dream/state.h"

#include <math.h>
#include <stdlib.h>

#include "../api/model_internal.h"
#include "dream_impl.h"
#include "objective.h"
#include "tiles.h"

static size_t npix(int w, int h) { return (size_t)w * (size_t)h; }

static dd_status oom(dd_error *err, size_t bytes) {
  return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory allocating %zu bytes for the dream state", bytes);
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct wbuf {
  uint8_t *p;
  size_t len, cap;
  int failed;
} wbuf;

static void put(wbuf *b, const void *src, size_t n) {
  if (b->failed) return;
  if (n > SIZE_MAX - b->len) {
    b->failed = 1;
    return;
  }
  if (b->len + n > b->cap) {
    size_t need = b->len + n, cap = b->cap ? b->cap : 4096;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = (uint8_t *)realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}
static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }
static void put_i32(wbuf *b, int32_t v) { put(b, &v, 4); }
static void put_f64(wbuf *b, double v) { put(b, &v, 8); }
static void put_tile(wbuf *b, const dd_tile *t) {
  put_i32(b, t->top);
  put_i32(b, t->left);
  put_i32(b, t->height);
  put_i32(b, t->width);
}

dd_status dd_dream_save_state(const dd_dream *d, void **bytes, size_t *len, dd_error *err) {
  if (!d || !bytes || !len) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_dream_save_state: NULL argument");
  wbuf b = {0};
  put_u32(&b, DD_STATE_MAGIC);
  put_u32(&b, DD_STATE_VERSION);
  put_u64(&b, dd_model_fingerprint(d->model));
  /* options */
  uint32_t ln = d->layer ? (uint32_t)strlen(d->layer) : 0;
  put_u32(&b, ln);
  put(&b, d->layer ? d->layer : "", ln);
  put_i32(&b, d->opt.objective.layer_index);
  put_i32(&b, d->opt.objective.n_channels);
  for (int j = 0; j < d->opt.objective.n_channels; j++) put_i32(&b, d->channels[j]);
  put_i32(&b, d->opt.num_iterations);
  put_f64(&b, d->opt.step_size);
  put_i32(&b, d->opt.tile_size);
  put_i32(&b, d->opt.num_repeats);
  put_f64(&b, d->opt.rescale_factor);
  put_f64(&b, d->opt.blend);
  put_u64(&b, d->opt.seed);
  put_f64(&b, d->opt.input_mean);
  put_i32(&b, (int32_t)d->opt.resample);
  /* extras (version 2) */
  uint32_t lo = d->objective_text ? (uint32_t)strlen(d->objective_text) : 0;
  put_u32(&b, lo);
  put(&b, d->objective_text ? d->objective_text : "", lo);
  put_f64(&b, d->opt.tv);
  put_i32(&b, d->opt.gradient_mode);
  put_i32(&b, d->opt.lap_levels);
  put_i32(&b, d->opt.roll);
  put_i32(&b, d->opt.pad);
  put_i32(&b, d->opt.jitter);
  put_f64(&b, d->opt.scale);
  put_f64(&b, d->opt.rotate);
  /* image */
  put_i32(&b, d->width);
  put_i32(&b, d->height);
  put_i32(&b, d->in_channels);
  /* the objective's choices (version 2): per term, the chosen channels and the guide features */
  for (int i = 0; d->obj && i < d->obj->n_terms; i++) {
    const dd_term *t = &d->obj->terms[i];
    int sel = t->kind == DD_TERM_STRONG || t->kind == DD_TERM_WEAK;
    put_i32(&b, sel ? t->n_channels : 0);
    if (sel) put(&b, t->channels, sizeof(int32_t) * (size_t)t->n_channels);
    put_i32(&b, t->kind == DD_TERM_GUIDE ? t->guide_n : 0);
    if (t->kind == DD_TERM_GUIDE) put(&b, t->guide, sizeof(float) * (size_t)t->guide_n * (size_t)t->c_layer);
  }
  if (d->alpha) put(&b, d->alpha, npix(d->width, d->height));
  /* position */
  put_i32(&b, d->lvl);
  put_i32(&b, d->iteration);
  put_i32(&b, d->tile);
  put_i32(&b, d->n_tiles);
  put_i32(&b, d->done);
  for (int i = 0; i < d->n_tiles; i++) put_tile(&b, &d->tiles[i]);
  /* progress */
  put(&b, d->rng.s, sizeof d->rng.s);
  put_f64(&b, d->grad_min);
  put_f64(&b, d->grad_max);
  put_f64(&b, d->step_scaled);
  put_u64(&b, (uint64_t)d->tiles_done);
  put_f64(&b, d->pixels_done);
  put_tile(&b, &d->last_tile);
  /* pyramid: the levels from the current one up (those below are freed) */
  for (int L = d->lvl; L < d->n_levels; L++) {
    const dd_dream_level *l = &d->levels[L];
    size_t n = npix(l->w, l->h) * 3;
    if (l->u8) put(&b, l->u8, n);
    else put(&b, l->f, n * sizeof(float));
  }
  const dd_dream_level *cur = &d->levels[d->lvl];
  size_t cn = npix(cur->w, cur->h) * 3;
  put(&b, d->image, cn * sizeof(float));
  put(&b, d->grad_preview, cn);
  if (d->tile > 0) put(&b, d->grad, cn * sizeof(float)); /* a partly computed iteration */
  uint64_t check = dd_fnv1a64(DD_FNV1A64_INIT, b.p, b.len);
  put_u64(&b, check);
  if (b.failed) {
    free(b.p);
    return oom(err, b.len);
  }
  *bytes = b.p;
  *len = b.len;
  return DD_OK;
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct rbuf {
  const uint8_t *p;
  size_t len, pos;
  int failed;
} rbuf;

static int get(rbuf *b, void *dst, size_t n) {
  if (b->failed || n > b->len - b->pos) {
    b->failed = 1;
    if (dst && n <= 8) memset(dst, 0, n);
    return 0;
  }
  if (dst) memcpy(dst, b->p + b->pos, n);
  b->pos += n;
  return 1;
}
static uint32_t get_u32(rbuf *b) { uint32_t v; get(b, &v, 4); return v; }
static uint64_t get_u64(rbuf *b) { uint64_t v; get(b, &v, 8); return v; }
static int32_t get_i32(rbuf *b) { int32_t v; get(b, &v, 4); return v; }
static double get_f64(rbuf *b) { double v; get(b, &v, 8); return v; }
static void get_tile(rbuf *b, dd_tile *t) {
  t->top = get_i32(b);
  t->left = get_i32(b);
  t->height = get_i32(b);
  t->width = get_i32(b);
}

static dd_status truncated(dd_error *err, const char *part) {
  return dd_fail(err, DD_ERR_PARSE, "dream state is truncated (in its %s)", part);
}

/* ---- the rules -------------------------------------------------------------- */

/* What a rule may look at: the dream read so far, the current octave's size
   and tile size, and for the tile rules one tile and the one before it. */
typedef struct ctx {
  const dd_dream *d;
  int w, h;           /* current octave */
  int tile_h, tile_w; /* dd_tile_size of the octave's rows / columns */
  const dd_tile *t, *prev;
  int i;
} ctx;

typedef struct rule {
  const char *text;
  int (*holds)(const ctx *c);
} rule;

/* Rules hold in table order; one may rely on the rules before it. */
#define RULE_FN(group, id, text, expr) \
  static int group##_##id(const ctx *c) { const dd_dream *d = c->d; (void)d; return (expr); }
#define RULE_ROW(group, id, text, expr) {text, group##_##id},

static int64_t area(const dd_tile *t) { return (int64_t)t->height * t->width; }

static int tile_cap(const ctx *c) { return dd_tiles_max_count(c->h, c->w, c->d->opt.tile_size); }

/* pixels of the work before the position: earlier octaves, earlier
   iterations of this one, earlier tiles of this iteration */
static double pixels_before(const ctx *c) {
  const dd_dream *d = c->d;
  double p = 0;
  for (int L = 0; L < d->lvl; L++) p += (double)d->levels[L].w * d->levels[L].h * d->opt.num_iterations;
  p += (double)c->w * c->h * d->iteration;
  for (int i = 0; i < d->tile; i++) p += (double)area(&d->tiles[i]);
  return p;
}

static int in_top_octave(const ctx *c, const dd_tile *t) {
  const dd_dream_level *top = &c->d->levels[c->d->n_levels - 1];
  return t->top >= 0 && t->left >= 0 && t->height >= 0 && t->width >= 0 && t->top <= top->h - t->height &&
         t->left <= top->w - t->width;
}

#define IMAGE_RULES(X)                                                                                     \
  X(image, width, "1 <= width <= 16384", d->width >= 1 && d->width <= DD_DREAM_MAX_SIDE)                  \
  X(image, height, "1 <= height <= 16384", d->height >= 1 && d->height <= DD_DREAM_MAX_SIDE)              \
  X(image, pixels, "width * height <= 2^26", (int64_t)d->width * d->height <= DD_DREAM_MAX_PIXELS)        \
  X(image, channels, "channels is 3 (RGB) or 4 (RGBA)", d->in_channels == 3 || d->in_channels == 4)

#define POSITION_RULES(X)                                                                                  \
  X(pos, done, "done is 0 or 1", d->done == 0 || d->done == 1)                                            \
  X(pos, octave, "0 <= octave < octaves", d->lvl >= 0 && d->lvl < d->n_levels)                             \
  X(pos, iteration, "0 <= iteration < num_iterations (== num_iterations once done)",                      \
    d->iteration >= 0 && (d->done ? d->iteration == d->opt.num_iterations : d->iteration < d->opt.num_iterations)) \
  X(pos, done_last, "done only at the last octave", !d->done || d->lvl == d->n_levels - 1)                 \
  X(pos, n_tiles, "0 <= n_tiles <= the octave's largest tile grid",                                        \
    d->n_tiles >= 0 && d->n_tiles <= tile_cap(c))                                                          \
  X(pos, tile, "0 <= tile < n_tiles, or tile == n_tiles == 0",                                             \
    (d->tile == 0 && d->n_tiles == 0) || (d->tile >= 0 && d->tile < d->n_tiles))                           \
  X(pos, done_tiles, "no tile grid once done", !d->done || d->n_tiles == 0)

#define TILE_RULES(X)                                                                                      \
  X(tile, size, "height and width >= 1", c->t->height >= 1 && c->t->width >= 1)                           \
  X(tile, max, "no larger than the octave's tile size", c->t->height <= c->tile_h && c->t->width <= c->tile_w) \
  X(tile, inside, "inside the octave",                                                                     \
    c->t->top >= 0 && c->t->left >= 0 && c->t->top <= c->h - c->t->height && c->t->left <= c->w - c->t->width) \
  X(tile, first, "the first tile is at the origin", c->i > 0 || (c->t->top == 0 && c->t->left == 0))       \
  X(tile, next, "right of the previous tile in its row, or first of the next row",                         \
    c->i == 0 ||                                                                                           \
        (c->t->top == c->prev->top && c->t->height == c->prev->height &&                                   \
         c->t->left == c->prev->left + c->prev->width) ||                                                  \
        (c->t->left == 0 && c->prev->left + c->prev->width == c->w && c->t->top == c->prev->top + c->prev->height))

#define GRID_RULES(X)                                                                                      \
  X(grid, corner, "the last tile ends at the octave's bottom-right corner",                                \
    d->n_tiles == 0 || (c->t->top + c->t->height == c->h && c->t->left + c->t->width == c->w))

#define PROGRESS_RULES(X)                                                                                  \
  X(prog, rng, "the rng state is not all zero", (d->rng.s[0] | d->rng.s[1] | d->rng.s[2] | d->rng.s[3]) != 0) \
  X(prog, pixels, "pixels_done == the pixels of the octaves, iterations and tiles before the position",     \
    d->pixels_done == pixels_before(c))                                                                    \
  X(prog, tiles_min, "tiles_done >= one tile per finished iteration plus this iteration's tiles",          \
    d->tiles_done >= (int64_t)d->lvl * d->opt.num_iterations + d->iteration + d->tile)                    \
  X(prog, tiles_max, "tiles_done <= pixels_done", (double)d->tiles_done <= d->pixels_done)                 \
  X(prog, last_inside, "the last tile lies inside the full-size image", in_top_octave(c, &d->last_tile))  \
  X(prog, last_empty, "the last tile is empty exactly when no tile is done",                               \
    d->tiles_done == 0 ? (d->last_tile.top | d->last_tile.left | d->last_tile.height | d->last_tile.width) == 0 \
                       : d->last_tile.height >= 1 && d->last_tile.width >= 1)

IMAGE_RULES(RULE_FN)
POSITION_RULES(RULE_FN)
TILE_RULES(RULE_FN)
GRID_RULES(RULE_FN)
PROGRESS_RULES(RULE_FN)

static const rule image_rules[] = {IMAGE_RULES(RULE_ROW)};
static const rule position_rules[] = {POSITION_RULES(RULE_ROW)};
static const rule tile_rules[] = {TILE_RULES(RULE_ROW)};
static const rule grid_rules[] = {GRID_RULES(RULE_ROW)};
static const rule progress_rules[] = {PROGRESS_RULES(RULE_ROW)};

/* The first rule of the table that does not hold, or NULL. */
static const char *broken(const rule *rules, size_t n, const ctx *c) {
  for (size_t k = 0; k < n; k++)
    if (!rules[k].holds(c)) return rules[k].text;
  return NULL;
}
#define BROKEN(table, c) broken(table, sizeof table / sizeof table[0], c)

static void set_octave(ctx *c) {
  const dd_dream_level *l = &c->d->levels[c->d->lvl];
  c->w = l->w;
  c->h = l->h;
  c->tile_h = dd_tile_size(l->h, c->d->opt.tile_size);
  c->tile_w = dd_tile_size(l->w, c->d->opt.tile_size);
}

/* ---- restore ---------------------------------------------------------------- */

/* Options and objective, into *o (channels malloc'd into *ch, layer into
   layer[DD_STATE_MAX_LAYER_NAME + 1]). */
static dd_status read_options(rbuf *b, uint32_t version, dd_dream_options *o, char *layer, char *objective, int **ch,
                              dd_error *err) {
  dd_dream_options_init(o);
  uint32_t ln = get_u32(b);
  if (ln > DD_STATE_MAX_LAYER_NAME || !get(b, layer, ln))
    return dd_fail(err, DD_ERR_PARSE, "dream state: bad layer name length %u (at most %d)", ln,
                   DD_STATE_MAX_LAYER_NAME);
  layer[ln] = 0;
  if (memchr(layer, 0, ln)) return dd_fail(err, DD_ERR_PARSE, "dream state: the layer name contains a NUL byte");
  o->objective.layer = ln ? layer : NULL;
  o->objective.layer_index = get_i32(b);
  int nch = get_i32(b);
  if (b->failed || nch < 0 || nch > 65536 || (size_t)nch * 4 > b->len - b->pos)
    return dd_fail(err, DD_ERR_PARSE, "dream state: bad channel count %d", nch);
  *ch = nch ? (int *)malloc(sizeof(int) * (size_t)nch) : NULL;
  if (nch && !*ch) return oom(err, sizeof(int) * (size_t)nch);
  for (int j = 0; j < nch; j++) (*ch)[j] = get_i32(b);
  o->objective.channels = *ch;
  o->objective.n_channels = nch;
  o->num_iterations = get_i32(b);
  o->step_size = get_f64(b);
  o->tile_size = get_i32(b);
  o->num_repeats = get_i32(b);
  o->rescale_factor = get_f64(b);
  o->blend = get_f64(b);
  o->seed = get_u64(b);
  o->input_mean = get_f64(b);
  o->resample = (dd_resample)get_i32(b);
  if (b->failed) return truncated(err, "options");
  if (version < 2) return DD_OK; /* version 1: the tutorial's dream, no extras */
  uint32_t lo = get_u32(b);
  if (b->failed || lo > DD_OBJECTIVE_MAX_TEXT || !get(b, objective, lo))
    return dd_fail(err, DD_ERR_PARSE, "dream state: bad objective length %u (at most %d)", lo, DD_OBJECTIVE_MAX_TEXT);
  objective[lo] = 0;
  if (memchr(objective, 0, lo)) return dd_fail(err, DD_ERR_PARSE, "dream state: the objective contains a NUL byte");
  o->objective_expr = lo ? objective : NULL;
  o->tv = get_f64(b);
  o->gradient_mode = get_i32(b);
  o->lap_levels = get_i32(b);
  o->roll = get_i32(b);
  o->pad = get_i32(b);
  o->jitter = get_i32(b);
  o->scale = get_f64(b);
  o->rotate = get_f64(b);
  return b->failed ? truncated(err, "options") : DD_OK; /* ranges: dd_dream_setup checks them as dd_dream_begin */
}

/* The objective's choices (version 2), checked against the bound program. */
static dd_status read_objective(rbuf *b, dd_dream *d, dd_error *err) {
  for (int i = 0; d->obj && i < d->obj->n_terms; i++) {
    dd_term *t = &d->obj->terms[i];
    int sel = t->kind == DD_TERM_STRONG || t->kind == DD_TERM_WEAK, guide = t->kind == DD_TERM_GUIDE;
    int n = get_i32(b);
    if (b->failed) return truncated(err, "objective");
    if (n != (sel ? t->k : 0) || (size_t)n * 4 > b->len - b->pos)
      return dd_fail(err, DD_ERR_PARSE, "dream state: term %d of the objective has %d chosen channels, expected %d", i + 1,
                     n, sel ? t->k : 0);
    if (sel) {
      free(t->channels);
      t->channels = (int *)malloc(sizeof(int) * (size_t)n);
      if (!t->channels) return oom(err, sizeof(int) * (size_t)n);
      t->n_channels = n;
      for (int j = 0; j < n; j++) {
        t->channels[j] = get_i32(b);
        if (t->channels[j] < 0 || t->channels[j] >= t->c_layer || (j && t->channels[j] <= t->channels[j - 1]))
          return dd_fail(err, DD_ERR_PARSE, "dream state: term %d's chosen channels are not increasing channels of "
                         "0..%d", i + 1, t->c_layer - 1);
      }
    }
    int gn = get_i32(b);
    if (b->failed) return truncated(err, "objective");
    size_t max_n = DD_GUIDE_MAX_FLOATS / (size_t)t->c_layer;
    if (guide ? gn < 1 || (size_t)gn > max_n : gn != 0)
      return dd_fail(err, DD_ERR_PARSE, "dream state: term %d of the objective has %d guide features, expected %s", i + 1,
                     gn, guide ? "1.. (at most 2^24 floats)" : "none");
    if (guide) {
      size_t cnt = (size_t)gn * (size_t)t->c_layer;
      if (cnt * 4 > b->len - b->pos) return truncated(err, "guide features");
      free(t->guide);
      t->guide = (float *)malloc(cnt * sizeof(float));
      if (!t->guide) return oom(err, cnt * sizeof(float));
      get(b, t->guide, cnt * sizeof(float));
      for (size_t k = 0; k < cnt; k++)
        if (!isfinite(t->guide[k]))
          return dd_fail(err, DD_ERR_PARSE, "dream state: guide feature %zu of term %d is not finite", k, i + 1);
      t->guide_n = gn;
      t->guide_norm_max = dd_guide_norm_max(t->guide, gn, t->c_layer);
    }
  }
  return DD_OK;
}

/* Everything after the options, into d (set up by dd_dream_setup). */
static dd_status read_dream(rbuf *b, uint32_t version, dd_dream *d, dd_error *err) {
  ctx c = {d, 0, 0, 0, 0, NULL, NULL, 0};
  const char *why;
  dd_status so = version >= 2 ? read_objective(b, d, err) : DD_OK;
  if (so != DD_OK) return so;
  if (d->in_channels == 4) {
    size_t n = npix(d->width, d->height);
    if (n > b->len - b->pos) return truncated(err, "alpha channel");
    d->alpha = (uint8_t *)malloc(n);
    if (!d->alpha) return oom(err, n);
    get(b, d->alpha, n);
  }
  d->lvl = get_i32(b);
  d->iteration = get_i32(b);
  d->tile = get_i32(b);
  d->n_tiles = get_i32(b);
  d->done = get_i32(b);
  if (b->failed) return truncated(err, "position");
  if (d->lvl >= 0 && d->lvl < d->n_levels) set_octave(&c);
  if ((why = BROKEN(position_rules, &c)))
    return dd_fail(err, DD_ERR_PARSE, "dream state: octave %d of %d, iteration %d of %d, tile %d of %d, done %d: "
                   "breaks the rule '%s'", d->lvl, d->n_levels, d->iteration, d->opt.num_iterations, d->tile,
                   d->n_tiles, d->done, why);
  int cap = tile_cap(&c);
  if (cap < 1) return dd_fail(err, DD_ERR_INTERNAL, "dream state: no tile grid for a %dx%d octave", c.w, c.h);
  if ((size_t)d->n_tiles * 16 > b->len - b->pos) return truncated(err, "tile grid");
  d->tiles = (dd_tile *)malloc(sizeof(dd_tile) * (size_t)cap);
  if (!d->tiles) return oom(err, sizeof(dd_tile) * (size_t)cap);
  d->tiles_cap = cap;
  for (int i = 0; i < d->n_tiles; i++) {
    get_tile(b, &d->tiles[i]);
    c.t = &d->tiles[i];
    c.prev = i ? &d->tiles[i - 1] : NULL;
    c.i = i;
    if ((why = BROKEN(tile_rules, &c)))
      return dd_fail(err, DD_ERR_PARSE, "dream state: tile %d (rows %d+%d, columns %d+%d) of the %dx%d octave "
                     "(tiles of at most %dx%d): breaks the rule '%s'", i, c.t->top, c.t->height, c.t->left,
                     c.t->width, c.w, c.h, c.tile_w, c.tile_h, why);
  }
  if ((why = BROKEN(grid_rules, &c)))
    return dd_fail(err, DD_ERR_PARSE, "dream state: the %d tiles do not cover the %dx%d octave: breaks the rule '%s'",
                   d->n_tiles, c.w, c.h, why);
  get(b, d->rng.s, sizeof d->rng.s);
  d->grad_min = get_f64(b); /* grad_min, grad_max and step_scaled are only reported */
  d->grad_max = get_f64(b);
  d->step_scaled = get_f64(b);
  d->tiles_done = (int64_t)get_u64(b);
  d->pixels_done = get_f64(b);
  get_tile(b, &d->last_tile);
  if (b->failed) return truncated(err, "progress");
  if ((why = BROKEN(progress_rules, &c)))
    return dd_fail(err, DD_ERR_PARSE, "dream state: progress (tiles_done %lld, pixels_done %.17g of %.17g, last tile "
                   "rows %d+%d, columns %d+%d): breaks the rule '%s'", (long long)d->tiles_done, d->pixels_done,
                   d->pixels_total, d->last_tile.top, d->last_tile.height, d->last_tile.left, d->last_tile.width, why);
  /* the rest has a length known now: check it before allocating by it */
  int u8mode = d->opt.resample == DD_RESAMPLE_LANCZOS_U8;
  uint64_t need = 0, cn = (uint64_t)npix(c.w, c.h) * 3;
  for (int L = d->lvl; L < d->n_levels; L++) need += (uint64_t)npix(d->levels[L].w, d->levels[L].h) * 3 * (u8mode ? 1 : 4);
  need += cn * 4 + cn + (d->tile > 0 ? cn * 4 : 0);
  if (need != (uint64_t)(b->len - b->pos))
    return dd_fail(err, DD_ERR_PARSE, "dream state: %llu bytes of images follow the position, expected %llu",
                   (unsigned long long)(b->len - b->pos), (unsigned long long)need);
  for (int L = d->lvl; L < d->n_levels; L++) {
    dd_dream_level *l = &d->levels[L];
    size_t n = npix(l->w, l->h) * 3;
    if (u8mode) l->u8 = (uint8_t *)malloc(n);
    else l->f = (float *)dd_aligned_alloc(n * sizeof(float));
    if (!l->u8 && !l->f) return oom(err, u8mode ? n : n * 4);
    get(b, u8mode ? (void *)l->u8 : (void *)l->f, u8mode ? n : n * 4);
  }
  dd_status s = dd_dream_setup_buffers(d, err);
  if (s != DD_OK) return s;
  get(b, d->image, (size_t)cn * 4);
  get(b, d->grad_preview, (size_t)cn);
  if (d->tile > 0) get(b, d->grad, (size_t)cn * 4);
  d->started = 1;
  return b->failed || b->pos != b->len ? dd_fail(err, DD_ERR_INTERNAL, "dream state: length check missed") : DD_OK;
}

dd_status dd_dream_restore(dd_model *m, const void *bytes, size_t len, dd_dream **out, dd_error *err) {
  if (!m || !bytes || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_dream_restore: NULL argument");
  if (len < 24) return dd_fail(err, DD_ERR_PARSE, "saved dream state is truncated (%zu bytes)", len);
  rbuf b = {(const uint8_t *)bytes, len - 8, 0, 0};
  uint64_t check;
  memcpy(&check, (const uint8_t *)bytes + len - 8, 8);
  if (get_u32(&b) != DD_STATE_MAGIC) return dd_fail(err, DD_ERR_PARSE, "not a deepdream-wasm dream state (bad magic)");
  uint32_t version = get_u32(&b);
  if (version < 1 || version > DD_STATE_VERSION)
    return dd_fail(err, DD_ERR_STATE_MISMATCH, "dream state format version %u; this build reads versions 1..%u",
                   version, DD_STATE_VERSION);
  if (dd_fnv1a64(DD_FNV1A64_INIT, bytes, len - 8) != check)
    return dd_fail(err, DD_ERR_PARSE, "dream state is corrupted (checksum mismatch)");
  uint64_t fp = get_u64(&b);
  if (fp != dd_model_fingerprint(m))
    return dd_fail(err, DD_ERR_STATE_MISMATCH,
                   "this dream state was saved with another model (fingerprint %016llx, this model %016llx)",
                   (unsigned long long)fp, (unsigned long long)dd_model_fingerprint(m));
  dd_dream_options o;
  char layer[DD_STATE_MAX_LAYER_NAME + 1];
  char *objective = (char *)malloc(DD_OBJECTIVE_MAX_TEXT + 1); /* until dd_dream_setup has copied it */
  int *ch = NULL;
  dd_status s = objective ? read_options(&b, version, &o, layer, objective, &ch, err)
                          : oom(err, DD_OBJECTIVE_MAX_TEXT + 1);
  dd_dream *d = NULL;
  if (s == DD_OK) {
    d = (dd_dream *)calloc(1, sizeof *d);
    if (!d) s = oom(err, sizeof *d);
  }
  if (s == DD_OK) {
    d->width = get_i32(&b);
    d->height = get_i32(&b);
    d->in_channels = get_i32(&b);
    ctx c = {d, 0, 0, 0, 0, NULL, NULL, 0};
    const char *why = b.failed ? NULL : BROKEN(image_rules, &c);
    if (b.failed) s = truncated(err, "image size");
    else if (why)
      s = dd_fail(err, DD_ERR_PARSE, "dream state: image %dx%dx%d: breaks the rule '%s'", d->width, d->height,
                  d->in_channels, why);
  }
  /* options (as dd_dream_begin checks them), objective, octave sizes */
  if (s == DD_OK && (s = dd_dream_setup(d, m, &o, err)) == DD_ERR_INVALID_ARGUMENT && err) {
    char msg[DD_ERROR_MESSAGE_SIZE];
    memcpy(msg, err->message, sizeof msg);
    s = dd_fail(err, DD_ERR_PARSE, "dream state: bad options: %s", msg);
  } else if (s == DD_ERR_INVALID_ARGUMENT) {
    s = DD_ERR_PARSE;
  }
  free(ch);
  free(objective);
  if (s == DD_OK) s = read_dream(&b, version, d, err);
  if (s != DD_OK) {
    dd_dream_free(d);
    return s;
  }
  *out = d;
  return DD_OK;
}
