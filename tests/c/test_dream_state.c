/* test_dream_state.c — saved dream states as hostile bytes: crafted states
 * with a recomputed checksum (the checksum is no defence) break one rule of
 * src/dream/state.h each and must be refused with that rule named; legitimate
 * states of every kind restore, resume and save again to the same bytes.
 *
 * The test walks the documented layout (state.h) with its own reader, so a
 * crafted field is found by name, not by the code under test. */
#include <math.h>
#include <stdlib.h>

#include "deepdream.h"
#include "dream/dream_internal.h"
#include "dream_fixture.h"
#include "testutil.h"

static dd_dream_options options(void) {
  dd_dream_options o;
  dd_dream_options_init(&o);
  o.objective.layer = "conv_b";
  o.num_iterations = 2;
  o.tile_size = 48;
  o.num_repeats = 1;
  o.seed = 5;
  return o;
}

/* ---- the layout, read independently -------------------------------------- */
typedef struct layout {
  size_t layer_len, layer, num_iterations, objective_len, tv, width, height, channels, pos, tiles, rng, tiles_done, pixels_done, last_tile,
      end;
  int n_tiles;
} layout;

static void wr_i32(uint8_t *p, size_t off, int32_t v) { memcpy(p + off, &v, 4); }
static double rd_f64(const uint8_t *p, size_t off) {
  double v;
  memcpy(&v, p + off, 8);
  return v;
}

static layout walk(const uint8_t *s) {
  layout L;
  size_t o = 16;
  L.layer_len = o;
  L.layer = o + 4;
  o += 4 + (size_t)dfx_rd_i32(s, o);
  o += 4; /* layer_index */
  int nch = dfx_rd_i32(s, o);
  o += 4 + 4 * (size_t)nch;
  L.num_iterations = o;
  o += 4 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 4;
  L.objective_len = o; /* version 2: the extras */
  o += 4 + (size_t)dfx_rd_i32(s, o);
  L.tv = o;
  o += 8 + 4 * 5 + 8 + 8;
  L.width = o;
  L.height = o + 4;
  L.channels = o + 8;
  int w = dfx_rd_i32(s, o), h = dfx_rd_i32(s, o + 4), c = dfx_rd_i32(s, o + 8);
  o += 12 + (c == 4 ? (size_t)w * h : 0);
  L.pos = o;
  L.n_tiles = dfx_rd_i32(s, o + 12);
  o += 20;
  L.tiles = o;
  o += 16 * (size_t)L.n_tiles;
  L.rng = o;
  o += 32 + 24;
  L.tiles_done = o;
  L.pixels_done = o + 8;
  L.last_tile = o + 16;
  L.end = o + 32;
  return L;
}
enum { P_LVL = 0, P_ITER = 4, P_TILE = 8, P_NTILES = 12, P_DONE = 16 };


/* A state after `tiles` steps of one tile (RGBA when channels == 4). */
static uint8_t *state_after(dd_model *m, int w, int h, int channels, int tiles, size_t *len) {
  dd_dream_options o = options();
  uint8_t *img = dream_fixture_image(w, h, channels, 7);
  dd_dream *d = NULL;
  dd_error err;
  CHECK_OK(dd_dream_begin(m, &o, img, w, h, channels, &d, &err));
  for (int i = 0; i < tiles; i++) dd_dream_step(d, 1, NULL, &err);
  void *st = NULL;
  CHECK_OK(dd_dream_save_state(d, &st, len, &err));
  dd_dream_free(d);
  free(img);
  return (uint8_t *)st;
}

/* Restores the crafted state: it must be DD_ERR_PARSE naming `needle`. If it
   is accepted (the bug), the dream is run on so the damage shows (ASan). */
static void expect_refused(const char *what, dd_model *m, uint8_t *s, size_t len, const char *needle) {
  dfx_reseal(s, len);
  dd_dream *r = NULL;
  dd_error err = {0};
  dd_status st = dd_dream_restore(m, s, len, &r, &err);
  CHECKF(st == DD_ERR_PARSE, "%s: status %s (%s)", what, dd_status_string(st), err.message);
  if (st == DD_ERR_PARSE)
    CHECKF(strstr(err.message, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, err.message, needle);
  if (st == DD_OK) {
    dd_dream_debug_strip_rows(r, 4, &err); /* strips sized for legitimate sigmas */
    for (int i = 0; i < 200 && dd_dream_step(r, 1, NULL, &err) == DD_OK; i++) {
    }
    dd_dream_free(r);
  }
}

/* base with n bytes at `off` replaced by src: refused naming `needle` */
static void refuse_bytes(const char *what, dd_model *m, const uint8_t *base, size_t len, size_t off, const void *src,
                         size_t n, const char *needle) {
  uint8_t *s = (uint8_t *)malloc(len);
  memcpy(s, base, len);
  memcpy(s + off, src, n);
  expect_refused(what, m, s, len, needle);
  free(s);
}

/* base with the i32 at `off` set to v: refused naming `needle` */
static void refuse_i32(const char *what, dd_model *m, const uint8_t *base, size_t len, size_t off, int32_t v,
                       const char *needle) {
  refuse_bytes(what, m, base, len, off, &v, 4, needle);
}

enum { W = 70, H = 52 };

/* The position rules: issue 12's two reproductions first. */
static void test_position(void) {
  dd_model *m = dream_fixture_model();
  size_t len;
  /* 3 tiles into octave 0: a grid is drawn, tile 3 of it is next */
  uint8_t *base = state_after(m, W, H, 4, 3, &len);
  layout L = walk(base);
  CHECK(dfx_rd_i32(base, L.pos + P_LVL) == 0 && dfx_rd_i32(base, L.pos + P_NTILES) > 3);

  /* tile == n_tiles: a read past the tiles */
  refuse_i32("tile == n_tiles", m, base, len, L.pos + P_TILE, L.n_tiles, "0 <= tile < n_tiles");
  refuse_i32("tile < 0", m, base, len, L.pos + P_TILE, -1, "0 <= tile < n_tiles");
  refuse_i32("octave == octaves", m, base, len, L.pos + P_LVL, 2, "0 <= octave < octaves");
  refuse_i32("done mid-way", m, base, len, L.pos + P_DONE, 1,
             "iteration < num_iterations (== num_iterations once done)");
  refuse_i32("done == 2", m, base, len, L.pos + P_DONE, 2, "done is 0 or 1");
  free(base);

  /* iteration == num_iterations at the top octave with no grid drawn: the
     next iteration's sigma is larger than the strips were sized for (a heap
     write in the smoothing) */
  int steps = 0;
  {
    dd_dream_options o = options();
    uint8_t *img = dream_fixture_image(W, H, 3, 7);
    dd_dream *d = NULL;
    dd_error err;
    dd_progress p;
    CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &d, &err));
    do {
      CHECK(dd_dream_step(d, 1, &p, &err) == DD_OK);
      steps++;
    } while (!(p.octave == 1 && p.tile == 0 && p.num_tiles == 0 && p.iteration == 0) && steps < 500);
    dd_dream_free(d);
    free(img);
  }
  base = state_after(m, W, H, 3, steps, &len);
  L = walk(base);
  CHECK(dfx_rd_i32(base, L.pos + P_LVL) == 1 && dfx_rd_i32(base, L.pos + P_NTILES) == 0);
  refuse_i32("iteration == num_iterations", m, base, len, L.pos + P_ITER, 2, "0 <= iteration < num_iterations");
  refuse_i32("iteration huge", m, base, len, L.pos + P_ITER, 1000000, "0 <= iteration < num_iterations");
  /* done at the last octave but iteration 0 */
  refuse_i32("done at iteration 0", m, base, len, L.pos + P_DONE, 1, "== num_iterations once done");
  free(base);
  dd_model_free(m);
}

/* The tile grid and its size. */
static void test_tiles(void) {
  dd_model *m = dream_fixture_model();
  size_t len;
  uint8_t *base = state_after(m, W, H, 3, 2, &len);
  layout L = walk(base);
  CHECK(L.n_tiles >= 4);
  uint8_t *s = (uint8_t *)malloc(len);
  /* tile i: top, left, height, width at L.tiles + 16 i */
  refuse_i32("wider tile", m, base, len, L.tiles + 16 + 12, dfx_rd_i32(base, L.tiles + 16 + 12) + 1, "tile 1");
  refuse_i32("first tile off the origin", m, base, len, L.tiles + 4, 1, "the first tile is at the origin");
  refuse_i32("tile outside", m, base, len, L.tiles + 16 * (L.n_tiles - 1), 100000, "inside the octave");
  refuse_i32("empty tile", m, base, len, L.tiles + 8, 0, "height and width >= 1");
  /* the last tile shrunk: a hole at the corner */
  refuse_i32("hole", m, base, len, L.tiles + 16 * (L.n_tiles - 1) + 12,
             dfx_rd_i32(base, L.tiles + 16 * (L.n_tiles - 1) + 12) - 1, "bottom-right corner");
  memcpy(s, base, len); /* two tiles swapped: each inside, the grid broken */
  uint8_t t0[16];
  memcpy(t0, s + L.tiles, 16);
  memcpy(s + L.tiles, s + L.tiles + 16, 16);
  memcpy(s + L.tiles + 16, t0, 16);
  expect_refused("swapped tiles", m, s, len, "breaks the rule");
  free(s);

  /* n_tiles above the octave's largest grid (the bytes then follow) */
  int extra = 400;
  size_t big = len + 16 * (size_t)extra;
  s = (uint8_t *)malloc(big);
  memcpy(s, base, L.rng);
  memset(s + L.rng, 0, 16 * (size_t)extra);
  memcpy(s + L.rng + 16 * (size_t)extra, base + L.rng, len - L.rng);
  wr_i32(s, L.pos + P_NTILES, L.n_tiles + extra);
  expect_refused("n_tiles above the grid", m, s, big, "largest tile grid");
  free(s);
  free(base);
  dd_model_free(m);
}

/* Options, image size, progress, lengths. */
static void test_fields(void) {
  dd_model *m = dream_fixture_model();
  size_t len;
  uint8_t *base = state_after(m, W, H, 4, 5, &len);
  layout L = walk(base);
  refuse_i32("num_iterations 0", m, base, len, L.num_iterations, 0, "num_iterations");
  refuse_i32("width 0", m, base, len, L.width, 0, "1 <= width <= 16384");
  refuse_i32("height 70000", m, base, len, L.height, 70000, "1 <= height <= 16384");
  refuse_i32("5 channels", m, base, len, L.channels, 5, "channels is 3 (RGB) or 4 (RGBA)");
  refuse_i32("width + 1", m, base, len, L.width, W + 1, "dream state");
  const uint8_t zeros[32] = {0};
  refuse_bytes("NUL in the layer name", m, base, len, L.layer + 2, zeros, 1, "NUL");
  refuse_bytes("zero rng", m, base, len, L.rng, zeros, 32, "the rng state is not all zero");
  const double pixels_more = rd_f64(base, L.pixels_done) + 1, nan = NAN;
  refuse_bytes("pixels_done + 1", m, base, len, L.pixels_done, &pixels_more, 8, "pixels_done ==");
  refuse_bytes("pixels_done NaN", m, base, len, L.pixels_done, &nan, 8, "pixels_done ==");
  const int64_t neg = -1, many = (int64_t)1 << 40;
  refuse_bytes("tiles_done -1", m, base, len, L.tiles_done, &neg, 8, "tiles_done >=");
  refuse_bytes("tiles_done 2^40", m, base, len, L.tiles_done, &many, 8, "tiles_done <= pixels_done");
  refuse_i32("last tile outside", m, base, len, L.last_tile + 4, W, "the last tile lies inside");
  refuse_bytes("last tile empty", m, base, len, L.last_tile, zeros, 16, "the last tile is empty exactly when");
  uint8_t *s = (uint8_t *)malloc(len + 1);
  memcpy(s, base, len - 8); /* one byte more before the checksum */
  s[len - 8] = 0;
  expect_refused("a trailing byte", m, s, len + 1, "bytes of images follow the position");
  free(s);
  free(base);
  dd_model_free(m);
}

/* Every state of dreams of each kind restores, saves back to the same bytes,
   and passes every rule (the rules refuse nothing legitimate). */
static void test_legitimate_states_round_trip(void) {
  dd_model *m = dream_fixture_model();
  for (int kind = 0; kind < 4; kind++) {
    int channels = kind & 1 ? 4 : 3;
    dd_dream_options o = options();
    o.resample = kind & 2 ? DD_RESAMPLE_LANCZOS_FLOAT : DD_RESAMPLE_LANCZOS_U8;
    int chans[2] = {0, 3};
    if (kind == 3) {
      o.objective.channels = chans;
      o.objective.n_channels = 2;
    }
    uint8_t *img = dream_fixture_image(W, H, channels, 7);
    dd_dream *d = NULL;
    dd_error err;
    CHECK_OK(dd_dream_begin(m, &o, img, W, H, channels, &d, &err));
    int k = 0, finished = 0;
    for (;;) {
      void *a, *b;
      size_t la, lb;
      CHECK_OK(dd_dream_save_state(d, &a, &la, &err));
      dd_dream *r = NULL;
      dd_status s = dd_dream_restore(m, a, la, &r, &err);
      CHECKF(s == DD_OK, "kind %d, after %d tiles: %s", kind, k, err.message);
      if (s == DD_OK) {
        CHECK_OK(dd_dream_save_state(r, &b, &lb, &err));
        CHECKF(la == lb && memcmp(a, b, la) == 0, "kind %d, after %d tiles: saved again differently", kind, k);
        dd_free(b);
        dd_dream_free(r);
      }
      dd_free(a);
      if (finished) break; /* the finished dream's state was checked too */
      dd_status st = dd_dream_step(d, 1, NULL, &err);
      CHECK(st == DD_OK || st == DD_DONE);
      finished = st != DD_OK;
      k++;
    }
    CHECK(k > 10);
    dd_dream_free(d);
    free(img);
  }
  dd_model_free(m);
}

int main(void) {
  TEST_RUN(test_position);
  TEST_RUN(test_tiles);
  TEST_RUN(test_fields);
  TEST_RUN(test_legitimate_states_round_trip);
  return test_summary();
}
