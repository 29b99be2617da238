/* lanes.c — a small octave's tiles side by side (see lanes.h). */
#include "lanes.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../api/model_internal.h"
#include "../kernels/kernels.h"

/* At most this many tiles per lane in one batch: bounds the kept gradients
   when a small tile_size cuts a large image into many tiles. */
#define DD_LANES_TILES_PER_LANE 4

typedef struct lane_clock {
  double input, stats; /* ms this lane spent copying tiles in and on their std */
  int failed;          /* index (in the batch) of the first tile that failed, or -1 */
  char pad[64];        /* lanes write their own clocks: not one cache line */
} lane_clock;

typedef struct dd_lanes dd_lanes;
struct dd_lanes {
  int64_t max_pixels;   /* DD_LANES_MAX_TILE_PIXELS, or a test's */
  size_t max_bytes;     /* DD_LANES_MAX_BYTES, or a test's */
  int disabled;         /* the backend cannot run convs at once: never again */
  int skip_lvl;         /* lanes did not fit (memory, budget) or failed on this level: not again on it */
  int fail_tile;        /* tests: the lanes fail on this tile of the grid (-1: never) */
  dd_exec **exec;       /* n lanes, created as needed */
  float **in;           /* per lane: a tile's input, in_cap floats */
  lane_clock *clock;
  int n, cap;
  size_t in_cap;
  /* the batch: tiles [begin, end) of level lvl's iteration `iteration` */
  int lvl, iteration, begin, end;
  float *slot;          /* their gradients, back to back */
  size_t slot_cap;
  size_t *off;          /* per tile of the batch: its gradient's offset in slot */
  float *inv;           /* per tile: 1/(std + 1e-8) */
  int *order;           /* the batch's tiles, largest first */
  int tiles_cap;
  int64_t tiles_run;    /* tiles computed here so far (tests) */
};

static dd_lanes *lanes_of(dd_dream *d) {
  if (!d->lanes) {
    d->lanes = (dd_lanes *)calloc(1, sizeof(dd_lanes));
    if (d->lanes) {
      d->lanes->max_pixels = DD_LANES_MAX_TILE_PIXELS;
      d->lanes->max_bytes = DD_LANES_MAX_BYTES;
      d->lanes->skip_lvl = -1;
      d->lanes->fail_tile = -1;
    }
  }
  return d->lanes;
}

static void free_lanes(dd_lanes *L) {
  for (int i = 0; i < L->n; i++) {
    dd_exec_free(L->exec[i]);
    dd_aligned_free(L->in[i]);
  }
  free(L->exec);
  free(L->in);
  free(L->clock);
  dd_aligned_free(L->slot);
  free(L->off);
  free(L->inv);
  free(L->order);
  const dd_lanes keep = *L; /* the settings and the counts stay */
  memset(L, 0, sizeof *L);
  L->max_pixels = keep.max_pixels;
  L->max_bytes = keep.max_bytes;
  L->disabled = keep.disabled;
  L->skip_lvl = keep.skip_lvl;
  L->fail_tile = keep.fail_tile;
  L->tiles_run = keep.tiles_run;
}

void dd_lanes_free(dd_dream *d) {
  if (!d->lanes) return;
  free_lanes(d->lanes);
  free(d->lanes);
  d->lanes = NULL;
}

/* The level's grid cell: no tile of it is larger. */
static int64_t level_cell(const dd_dream *d) {
  const dd_dream_level *l = &d->levels[d->lvl];
  return (int64_t)dd_tile_size(l->h, d->opt.tile_size) * dd_tile_size(l->w, d->opt.tile_size);
}

void dd_lanes_level(dd_dream *d) {
  if (d->lanes && level_cell(d) > d->lanes->max_pixels) free_lanes(d->lanes);
}

int64_t dd_lanes_tiles_run(const dd_dream *d) { return d->lanes ? d->lanes->tiles_run : 0; }

dd_status dd_lanes_fail_on(dd_dream *d, int tile, dd_error *err) {
  dd_lanes *L = lanes_of(d);
  if (!L) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  L->fail_tile = tile;
  return DD_OK;
}

dd_status dd_lanes_set_limits(dd_dream *d, int64_t max_pixels, size_t max_bytes, dd_error *err) {
  dd_lanes *L = lanes_of(d);
  if (!L) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  L->max_pixels = max_pixels;
  L->max_bytes = max_bytes;
  L->skip_lvl = -1;
  L->end = L->begin; /* tiles kept so far are still right; dropped for a clean test */
  return DD_OK;
}

/* n lanes with input buffers of in_floats, kept tiles of slot_floats; 0 when
   memory or the backend says no (the caller computes the tiles itself). */
static int lanes_grow(dd_lanes *L, dd_exec *parent, int n, size_t in_floats, int tiles, size_t slot_floats) {
  dd_error ignored;
  if (n > L->cap) {
    dd_exec **e = (dd_exec **)realloc(L->exec, (size_t)n * sizeof *e);
    if (e) L->exec = e;
    float **in = (float **)realloc(L->in, (size_t)n * sizeof *in);
    if (in) L->in = in;
    lane_clock *c = (lane_clock *)realloc(L->clock, (size_t)n * sizeof *c);
    if (c) L->clock = c;
    if (!e || !in || !c) return 0;
    L->cap = n;
  }
  if (in_floats > L->in_cap) { /* every lane's input buffer holds in_cap floats */
    for (int i = 0; i < L->n; i++) {
      dd_aligned_free(L->in[i]);
      L->in[i] = NULL;
    }
    L->in_cap = in_floats;
  }
  for (; L->n < n; L->n++) {
    L->in[L->n] = NULL;
    dd_status s = dd_exec_create_lane(parent, &L->exec[L->n], &ignored);
    if (s == DD_ERR_UNSUPPORTED) L->disabled = 1; /* xnnpack: one conv call at a time */
    if (s != DD_OK) return 0;
  }
  for (int i = 0; i < L->n; i++)
    if (!L->in[i] && !(L->in[i] = (float *)dd_aligned_alloc(L->in_cap * sizeof(float) + DD_EXTRA_BYTES))) return 0;
  if (tiles > L->tiles_cap) {
    size_t *off = (size_t *)realloc(L->off, (size_t)tiles * sizeof *off);
    if (off) L->off = off;
    float *inv = (float *)realloc(L->inv, (size_t)tiles * sizeof *inv);
    if (inv) L->inv = inv;
    int *order = (int *)realloc(L->order, (size_t)tiles * sizeof *order);
    if (order) L->order = order;
    if (!off || !inv || !order) return 0;
    L->tiles_cap = tiles;
  }
  if (slot_floats > L->slot_cap) {
    dd_aligned_free(L->slot);
    L->slot = (float *)dd_aligned_alloc(slot_floats * sizeof(float) + DD_EXTRA_BYTES);
    L->slot_cap = L->slot ? slot_floats : 0;
    if (!L->slot) return 0;
  }
  return 1;
}

typedef struct batch_job {
  dd_dream *d;
  dd_lanes *L;
  int count;
  atomic_int next; /* the next entry of L->order to take */
} batch_job;

/* Lanes [b, e): each takes the batch's tiles, largest first, until none is
   left (a lane a busy machine starts late finds the others took them). */
static void lanes_range(void *ctx, size_t b, size_t e) {
  batch_job *j = (batch_job *)ctx;
  dd_dream *d = j->d;
  dd_lanes *L = j->L;
  const dd_objective *obj = &d->opt.objective;
  for (size_t lane = b; lane < e; lane++) {
    lane_clock *c = &L->clock[lane];
    for (int k; (k = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->count;) {
      const int i = L->order[k];
      const dd_tile *t = &d->tiles[L->begin + i];
      float *grad = L->slot + L->off[i];
      double t0 = dd_now_ms();
      dd_dream_tile_input(d, t, L->in[lane]);
      double t1 = dd_now_ms();
      dd_error err;
      const dd_shape shape = dd_shape4(1, t->height, t->width, 3);
      dd_status s = L->begin + i == L->fail_tile
                        ? dd_fail(&err, DD_ERR_OUT_OF_MEMORY, "lane fault injected on tile %d", L->fail_tile)
                        : dd_exec_objective_gradient(L->exec[lane], d->target, obj->channels, obj->n_channels,
                                                     L->in[lane], shape, grad, NULL, &err);
      double t2 = dd_now_ms();
      if (s != DD_OK) { /* that tile and the ones after it are the caller's (dd_lanes_tile) */
        if (c->failed < 0 || i < c->failed) c->failed = i;
        continue;
      }
      L->inv[i] = dd_dream_tile_scale(d, t, grad);
      c->input += t1 - t0;
      c->stats += dd_now_ms() - t2;
    }
  }
}

/* Plans every shape of the batch on lane 0, largest first (the shared
   weights get what each geometry needs here, before the lanes run; its
   arena is sized once), or only the largest on lane `lane` > 0. */
static dd_status lanes_reserve(dd_dream *d, dd_lanes *L, int lane, int count, dd_error *err) {
  for (int k = 0; k < (lane == 0 ? count : 1); k++) {
    const dd_tile *t = &d->tiles[L->begin + L->order[k]];
    int seen = 0;
    for (int q = 0; q < k && !seen; q++) {
      const dd_tile *u = &d->tiles[L->begin + L->order[q]];
      seen = u->width == t->width && u->height == t->height;
    }
    if (seen) continue;
    dd_status s = dd_exec_reserve(L->exec[lane], d->target, dd_shape4(1, t->height, t->width, 3), err);
    if (s != DD_OK) return s;
  }
  return DD_OK;
}

dd_status dd_lanes_tile(dd_dream *d, const float **grad, float *inv, dd_error *err) {
  *grad = NULL;
  dd_lanes *L = d->lanes;
  if (L && L->end > L->begin && L->lvl == d->lvl && L->iteration == d->iteration && d->tile >= L->begin &&
      d->tile < L->end) {
    *grad = L->slot + L->off[d->tile - L->begin];
    *inv = L->inv[d->tile - L->begin];
    return DD_OK;
  }
  dd_threadpool *pool = dd_exec_threads(d->model->exec);
  const int threads = dd_threadpool_size(pool);
  const int remaining = d->n_tiles - d->tile;
  if (d->obj || threads < 2 || remaining < 2) return DD_OK;
  if (!(L = lanes_of(d)) || L->disabled || L->skip_lvl == d->lvl || level_cell(d) > L->max_pixels) return DD_OK;
  int count = remaining < DD_LANES_TILES_PER_LANE * threads ? remaining : DD_LANES_TILES_PER_LANE * threads;
  int nl = count < threads ? count : threads;
  double t0 = dd_now_ms();
  /* sizes; the tiles largest first (a lane that takes a small one last
     waits least for the others) */
  size_t slot = 0, in_max = 0;
  dd_error rerr;
  L->end = L->begin = d->tile;
  if (!lanes_grow(L, d->model->exec, 0, 0, count, 0)) goto fallback;
  for (int i = 0; i < count; i++) {
    const dd_tile *t = &d->tiles[d->tile + i];
    size_t f = (size_t)t->width * t->height * 3;
    L->off[i] = slot;
    slot += (f + 3) & ~(size_t)3; /* 16-byte aligned starts */
    in_max = f > in_max ? f : in_max;
    int k = i;
    for (; k > 0; k--) {
      const dd_tile *u = &d->tiles[d->tile + L->order[k - 1]];
      if ((int64_t)u->width * u->height >= (int64_t)t->width * t->height) break;
      L->order[k] = L->order[k - 1];
    }
    L->order[k] = i;
  }
  /* lane 0 first: its arena tells what a lane costs */
  if (!lanes_grow(L, d->model->exec, 1, in_max, count, slot)) goto fallback;
  if (lanes_reserve(d, L, 0, count, &rerr) != DD_OK) goto fallback;
  const size_t lane_bytes = dd_exec_arena_peak(L->exec[0]) + dd_exec_workspace_bytes(L->exec[0]);
  const size_t fit = lane_bytes ? L->max_bytes / lane_bytes : (size_t)nl;
  if (fit < (size_t)nl) nl = (int)fit;
  if (nl < 2) goto fallback;
  if (!lanes_grow(L, d->model->exec, nl, in_max, count, slot)) goto fallback;
  for (int lane = 1; lane < nl; lane++)
    if (lanes_reserve(d, L, lane, count, &rerr) != DD_OK) goto fallback;
  for (int i = 0; i < nl; i++) {
    L->clock[i].input = L->clock[i].stats = 0;
    L->clock[i].failed = -1;
  }
  batch_job job = {d, L, count, 0};
  double t1 = dd_now_ms();
  dd_parallel_for(pool, (size_t)nl, lanes_range, &job);
  double t2 = dd_now_ms();
  int failed = -1;
  double input = 0, stats = 0;
  for (int i = 0; i < nl; i++) {
    input += L->clock[i].input;
    stats += L->clock[i].stats;
    if (L->clock[i].failed >= 0 && (failed < 0 || L->clock[i].failed < failed)) failed = L->clock[i].failed;
  }
  /* the lanes' copies and std as the share of the wall time they took */
  d->ms.tiles += input / nl;
  d->ms.stats += stats / nl;
  d->ms.gradient += (t1 - t0) + (t2 - t1) - (input + stats) / nl;
  if (failed >= 0) {
    /* a lane could not compute a tile (a re-plan in the worker can run out
       of memory): the tiles before it are kept; it and the rest of the level
       run on the model's executor, one after another, which reports an
       error of its own if there is one */
    L->skip_lvl = d->lvl;
    count = failed;
    if (count == 0) return DD_OK;
  }
  L->lvl = d->lvl;
  L->iteration = d->iteration;
  L->end = d->tile + count;
  L->tiles_run += count;
  *grad = L->slot + L->off[0];
  *inv = L->inv[0];
  return DD_OK;
fallback:
  /* memory ran out, or lanes would take more than their budget (or the
     backend cannot): the caller computes the tiles on the model's executor,
     whose arena the dream reserved, for the rest of this level */
  free_lanes(L);
  L->skip_lvl = d->lvl;
  return DD_OK;
}
