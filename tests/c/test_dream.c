/* test_dream.c — the DeepDream state machine: determinism, resuming from any
 * tile boundary gives the same bytes as an uninterrupted run, the state is
 * validated, options and inputs are checked, RGBA alpha passes through. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"

#include "deepdream.h"
#include "dream/dream_internal.h"
#include "dream_fixture.h"
#include "testutil.h"

static dd_dream_options small_options(void) {
  dd_dream_options o;
  dd_dream_options_init(&o);
  o.objective.layer = "conv_b";
  o.num_iterations = 3;
  o.tile_size = 48;
  o.num_repeats = 2;
  o.seed = 42;
  return o;
}


static void test_deterministic_and_changes_image(void) {
  dd_model *m = dream_fixture_model();
  const int W = 101, H = 77;
  uint8_t *img = dream_fixture_image(W, H, 3, 1);
  dd_dream_options o = small_options();
  dd_dream *a = NULL, *b = NULL;
  dd_error err;
  CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &a, &err));
  CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &b, &err));
  int steps;
  uint8_t *ra = dream_fixture_run_all(a, W, H, 3, 1, &steps);
  uint8_t *rb = dream_fixture_run_all(b, W, H, 3, 1000, NULL);
  CHECK(memcmp(ra, rb, (size_t)W * H * 3) == 0);
  size_t changed = 0;
  for (size_t i = 0; i < (size_t)W * H * 3; i++) changed += ra[i] != img[i];
  CHECKF(changed > (size_t)W * H, "the dream changed only %zu values", changed);
  CHECK(steps > 3 * 3);
  /* another seed gives another image */
  o.seed = 43;
  dd_dream *c = NULL;
  CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &c, &err));
  uint8_t *rc = dream_fixture_run_all(c, W, H, 3, 7, NULL);
  CHECK(memcmp(ra, rc, (size_t)W * H * 3) != 0);
  free(ra); free(rb); free(rc); free(img);
  dd_dream_free(a); dd_dream_free(b); dd_dream_free(c);
  dd_model_free(m);
}

static void test_resume_from_every_tile(void) {
  dd_model *m = dream_fixture_model();
  const int W = 70, H = 52;
  uint8_t *img = dream_fixture_image(W, H, 4, 2);
  dd_dream_options o = small_options();
  o.num_iterations = 2;
  o.num_repeats = 1;
  int chans[2] = {1, 5};
  o.objective.channels = chans;
  o.objective.n_channels = 2;
  dd_error err;
  dd_dream *ref = NULL;
  CHECK_OK(dd_dream_begin(m, &o, img, W, H, 4, &ref, &err));
  int total;
  uint8_t *want = dream_fixture_run_all(ref, W, H, 4, 1, &total);
  /* alpha passes through untouched */
  int alpha_ok = 1;
  for (size_t i = 0; i < (size_t)W * H; i++) alpha_ok &= want[i * 4 + 3] == img[i * 4 + 3];
  CHECK(alpha_ok);
  for (int k = 0; k <= total; k++) {
    dd_dream *d = NULL;
    CHECK_OK(dd_dream_begin(m, &o, img, W, H, 4, &d, &err));
    for (int i = 0; i < k; i++) dd_dream_step(d, 1, NULL, &err);
    void *state;
    size_t len;
    CHECK_OK(dd_dream_save_state(d, &state, &len, &err));
    dd_dream_free(d);
    dd_dream *r = NULL;
    dd_status s = dd_dream_restore(m, state, len, &r, &err);
    CHECKF(s == DD_OK, "restore after %d tiles: %s", k, err.message);
    if (s == DD_OK) {
      uint8_t *got = dream_fixture_run_all(r, W, H, 4, 2, NULL);
      CHECKF(memcmp(got, want, (size_t)W * H * 4) == 0, "resumed after %d tiles: different bytes", k);
      free(got);
      dd_dream_free(r);
    }
    dd_free(state);
  }
  free(want);
  free(img);
  dd_dream_free(ref);
  dd_model_free(m);
}

static void test_state_is_validated(void) {
  dd_model *m = dream_fixture_model();
  const int W = 64, H = 48;
  uint8_t *img = dream_fixture_image(W, H, 3, 3);
  dd_dream_options o = small_options();
  o.num_repeats = 1;
  dd_error err;
  dd_dream *d = NULL;
  CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &d, &err));
  dd_dream_step(d, 3, NULL, &err);
  void *state;
  size_t len;
  CHECK_OK(dd_dream_save_state(d, &state, &len, &err));
  dd_dream *r = NULL;
  /* truncation at many lengths, and flipped bytes: errors, never crashes */
  for (size_t cut = 0; cut < len; cut += 1 + cut / 7) {
    CHECK(dd_dream_restore(m, state, cut, &r, &err) < 0);
  }
  uint8_t *bad = (uint8_t *)malloc(len);
  for (size_t i = 0; i < len; i += 1 + i / 5) {
    memcpy(bad, state, len);
    bad[i] ^= 0x40;
    dd_status s = dd_dream_restore(m, bad, len, &r, &err);
    CHECKF(s == DD_ERR_PARSE || s == DD_ERR_STATE_MISMATCH, "flip at %zu: status %d", i, (int)s);
  }
  /* another format version */
  memcpy(bad, state, len);
  bad[4] = 9;
  CHECK(dd_dream_restore(m, bad, len, &r, &err) == DD_ERR_STATE_MISMATCH);
  free(bad);
  /* another model: a different fingerprint */
  size_t flen;
  uint8_t *fbytes = dream_fixture_seeded(&flen, 2025); /* same graph, other weights */
  dd_model *m2 = NULL;
  CHECK_OK(dd_model_load_graphdef(fbytes, flen, NULL, &m2, &err));
  CHECK(dd_dream_restore(m2, state, len, &r, &err) == DD_ERR_STATE_MISMATCH);
  CHECK(strstr(err.message, "another model") != NULL);
  free(fbytes);
  dd_model_free(m2);
  dd_free(state);
  dd_dream_free(d);
  free(img);
  dd_model_free(m);
}

static void test_bad_options(void) {
  dd_model *m = dream_fixture_model();
  uint8_t *img = dream_fixture_image(64, 64, 3, 4);
  dd_dream *d = NULL;
  dd_error err;
  dd_dream_options o;
#define EXPECT(field_set, status, text)                                              \
  do {                                                                               \
    o = small_options();                                                             \
    field_set;                                                                       \
    dd_status s_ = dd_dream_begin(m, &o, img, 64, 64, 3, &d, &err);                  \
    CHECKF(s_ == status, "%s: status %d (%s)", #field_set, (int)s_, s_ ? err.message : ""); \
    CHECKF(s_ == DD_OK || strstr(err.message, text), "%s: message '%s'", #field_set, err.message); \
  } while (0)
  EXPECT(o.tile_size = 0, DD_ERR_INVALID_ARGUMENT, "tile_size");
  EXPECT(o.num_iterations = -1, DD_ERR_INVALID_ARGUMENT, "num_iterations");
  EXPECT(o.rescale_factor = 1.0, DD_ERR_INVALID_ARGUMENT, "rescale_factor");
  EXPECT(o.blend = 1.5, DD_ERR_INVALID_ARGUMENT, "blend");
  EXPECT(o.num_repeats = 6, DD_ERR_INVALID_ARGUMENT, "num_repeats <= 3");
  EXPECT(o.objective.layer = "nope", DD_ERR_NOT_FOUND, "conv_a, conv_b, conv_c");
  EXPECT((o.objective.layer = NULL, o.objective.layer_index = 3), DD_ERR_NOT_FOUND, "0..2");
  int bad_ch[1] = {12};
  EXPECT((o.objective.channels = bad_ch, o.objective.n_channels = 1), DD_ERR_NOT_FOUND, "channels 0..11");
  o = small_options();
  CHECK(dd_dream_begin(m, &o, img, 0, 64, 3, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_dream_begin(m, &o, img, 64, 64, 2, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_dream_begin(m, &o, img, 100000, 64, 3, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  free(img);
  dd_model_free(m);
}

/* Smoothing in strips with halos must give exactly the whole-image result. */
static void test_strips_equal_whole_image(void) {
  dd_model *m = dream_fixture_model();
  const int W = 70, H = 61;
  uint8_t *img = dream_fixture_image(W, H, 3, 9);
  dd_dream_options o = small_options();
  o.num_iterations = 4; /* sigma up to 3.5: blur radii up to 28 rows */
  o.num_repeats = 1;
  dd_error err;
  uint8_t *res[3];
  size_t len[3];
  int rows[3] = {0, 7, 23};
  for (int k = 0; k < 3; k++) {
    dd_dream *d = NULL;
    CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &d, &err));
    CHECK_OK(dd_dream_debug_strip_rows(d, rows[k], &err));
    dd_progress p;
    dd_status s;
    while ((s = dd_dream_step(d, 1, &p, &err)) == DD_OK)
      if (p.iteration == 0 && p.tile == 1) dd_dream_debug_strip_rows(d, rows[k], &err); /* new level */
    CHECK(s == DD_DONE);
    /* the state holds the float image: any difference in smoothing shows */
    CHECK_OK(dd_dream_save_state(d, (void **)&res[k], &len[k], &err));
    dd_dream_free(d);
  }
  CHECK(len[0] == len[1] && memcmp(res[0], res[1], len[0]) == 0);
  CHECK(len[0] == len[2] && memcmp(res[0], res[2], len[0]) == 0);
  for (int k = 0; k < 3; k++) dd_free(res[k]);
  free(img);
  dd_model_free(m);
}

static dd_model *fixture_model_threads(int threads) {
  size_t len;
  uint8_t *bytes = dream_fixture(&len);
  dd_model_options mo;
  dd_model_options_init(&mo);
  mo.num_threads = threads;
  dd_model *m = NULL;
  dd_error err;
  CHECKF(dd_model_load_graphdef(bytes, len, &mo, &m, &err) == DD_OK, "load: %s", err.message);
  free(bytes);
  return m;
}

/* dream_state: the lanes' pixel and byte limits it sets (pixels -1: the
   defaults), and the tiles the last dream computed on lanes. */
static int64_t g_lanes = -1, g_lane_tiles;
static size_t g_lane_bytes;
static int g_lane_fault = -1; /* the lanes fail on this tile of each grid */

/* Runs a dream to the end on m; returns its saved state (the float image:
   any difference in smoothing, resizing, blending or stepping shows) and
   the last progress. forced_rows > 0: smoothing strips of that many rows. */
static uint8_t *dream_state(dd_model *m, const dd_dream_options *o, const uint8_t *img, int w, int h, int c,
                            int forced_rows, size_t *len, dd_progress *last) {
  dd_dream *d = NULL;
  dd_error err;
  CHECK_OK(dd_dream_begin(m, o, img, w, h, c, &d, &err));
  if (forced_rows) CHECK_OK(dd_dream_debug_strip_rows(d, forced_rows, &err));
  if (g_lanes >= 0) CHECK_OK(dd_dream_debug_lanes(d, g_lanes, g_lane_bytes, &err));
  if (g_lane_fault >= 0) CHECK_OK(dd_dream_debug_lane_fault(d, g_lane_fault, &err));
  dd_progress p;
  dd_status s;
  int lvl = 0;
  while ((s = dd_dream_step(d, 1, &p, &err)) == DD_OK)
    if (p.octave != lvl && forced_rows) { /* a new level sizes its strips again */
      lvl = p.octave;
      CHECK_OK(dd_dream_debug_strip_rows(d, forced_rows, &err));
    }
  CHECKF(s == DD_DONE, "step: %s", err.message);
  uint8_t *state = NULL;
  CHECK_OK(dd_dream_save_state(d, (void **)&state, len, &err));
  uint8_t *out = (uint8_t *)malloc((size_t)w * h * c), *grad = (uint8_t *)malloc((size_t)w * h * 3);
  CHECK_OK(dd_dream_read_image(d, out, (size_t)w * h * c, &err));
  CHECK_OK(dd_dream_read_gradient(d, grad, (size_t)w * h * 3, &err));
  /* the read-outs are part of the result: append them to the state bytes */
  uint8_t *all = (uint8_t *)malloc(*len + (size_t)w * h * (c + 3));
  memcpy(all, state, *len);
  memcpy(all + *len, out, (size_t)w * h * c);
  memcpy(all + *len + (size_t)w * h * c, grad, (size_t)w * h * 3);
  *len += (size_t)w * h * (c + 3);
  dd_free(state);
  free(out);
  free(grad);
  if (last) *last = p;
  g_lane_tiles = dd_dream_debug_lane_tiles(d);
  dd_dream_free(d);
  return all;
}

/* Every phase of a dream (smoothing, statistics, update, tile copies, the
   pyramid's blur and resizes, upscale and blend, the read-outs) gives the
   same bytes on 1, 2 and 3 threads, whole-image and in strips, RGB and RGBA,
   in both resample modes. */
static void test_threads_bit_identical(void) {
  dd_model *m1 = fixture_model_threads(1), *m2 = fixture_model_threads(2), *m3 = fixture_model_threads(3);
  const int W = 203, H = 157;
  dd_dream_options o = small_options();
  o.num_iterations = 3;
  o.tile_size = 64;
  o.num_repeats = 2;
  for (int variant = 0; variant < 4; variant++) {
    const int c = variant & 1 ? 4 : 3, rows = variant >= 2 ? 19 : 0;
    o.resample = variant == 3 ? DD_RESAMPLE_LANCZOS_FLOAT : DD_RESAMPLE_LANCZOS_U8;
    uint8_t *img = dream_fixture_image(W, H, c, 11 + variant);
    size_t l1, l2, l3;
    uint8_t *r1 = dream_state(m1, &o, img, W, H, c, rows, &l1, NULL);
    uint8_t *r2 = dream_state(m2, &o, img, W, H, c, rows, &l2, NULL);
    uint8_t *r3 = dream_state(m3, &o, img, W, H, c, rows, &l3, NULL);
    CHECKF(l1 == l2 && memcmp(r1, r2, l1) == 0, "variant %d: 2 threads differ from 1", variant);
    CHECKF(l1 == l3 && memcmp(r1, r3, l1) == 0, "variant %d: 3 threads differ from 1", variant);
    printf("  variant %d: %zu bytes, FNV-1a %016llx\n", variant, l1,
           (unsigned long long)dd_fnv1a64(DD_FNV1A64_INIT, r1, l1));
    free(r1); free(r2); free(r3); free(img);
  }
  dd_model_free(m1);
  dd_model_free(m2);
  dd_model_free(m3);
}

/* Small tiles side by side (lanes.h): on 2, 3, 8 and 16 threads the tiles
   run on lanes (checked: some did) and the dream's bytes, saved state and
   read-outs are 1 thread's; with the lanes off too. Then a dream saved
   between two tiles of one batch (the later tiles' gradients computed but
   not yet used) and restored gives the uninterrupted run's bytes. */
static void test_lanes_bit_identical(void) {
  static const int threads[] = {2, 3, 8, 16};
  dd_model *m1 = fixture_model_threads(1);
  const int W = 187, H = 141;
  dd_dream_options o = small_options();
  int chans[3] = {0, 3, 6};
  o.objective.channels = chans;
  o.objective.n_channels = 3;
  o.num_iterations = 3;
  o.tile_size = 72;
  uint8_t *img = dream_fixture_image(W, H, 3, 23);
  size_t l1, ln;
  uint8_t *r1 = dream_state(m1, &o, img, W, H, 3, 0, &l1, NULL);
  CHECK(g_lane_tiles == 0); /* one thread: never */
  for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    dd_model *m = fixture_model_threads(threads[t]);
    for (int on = 3; on >= 0; on--) {
      /* 3: defaults; 2: every octave, lanes within 64 MB; 1: every octave,
         but lanes within 1 byte: none fits, the tiles run one after
         another; 0: off */
      g_lanes = on == 3 ? -1 : on >= 1 ? INT64_MAX : 0;
      g_lane_bytes = on == 2 ? (size_t)64 << 20 : 1;
      uint8_t *r = dream_state(m, &o, img, W, H, 3, 0, &ln, NULL);
      CHECKF(on >= 2 ? g_lane_tiles > 0 : g_lane_tiles == 0, "%d threads, lanes %d: %lld tiles on lanes", threads[t], on,
             (long long)g_lane_tiles);
      CHECKF(l1 == ln && memcmp(r1, r, l1) == 0, "%d threads, lanes %d: the dream differs from 1 thread's",
             threads[t], on);
      free(r);
    }
    g_lanes = -1;
    dd_model_free(m);
  }
  /* a lane that fails on a tile (as out of memory would) hands it and the
     rest of its level to the model's executor: nothing lost, the same
     bytes; tiles before it stay computed on lanes */
  dd_model *mf = fixture_model_threads(2);
  g_lanes = INT64_MAX;
  g_lane_bytes = (size_t)64 << 20;
  uint8_t *rf = dream_state(mf, &o, img, W, H, 3, 0, &ln, NULL);
  const int64_t all_lanes = g_lane_tiles;
  for (int fault = 0; fault <= 3; fault++) {
    g_lane_fault = fault;
    free(rf);
    rf = dream_state(mf, &o, img, W, H, 3, 0, &ln, NULL);
    CHECKF(l1 == ln && memcmp(r1, rf, l1) == 0, "lanes failing on tile %d: the dream differs from 1 thread's", fault);
    CHECKF(fault == 0 ? g_lane_tiles == 0 : g_lane_tiles > 0 && g_lane_tiles < all_lanes,
           "lanes failing on tile %d: %lld of %lld tiles on lanes", fault, (long long)g_lane_tiles,
           (long long)all_lanes);
  }
  g_lane_fault = -1;
  g_lanes = -1;
  free(rf);
  dd_model_free(mf);
  /* resumed from every tile of the first octave's iterations (4-6 tiles
     each, computed in one batch at the first of them) */
  dd_model *m2 = fixture_model_threads(2);
  dd_error err;
  int mid = 0;
  for (int k = 1; k <= 12; k++) {
    dd_dream *d = NULL;
    CHECK_OK(dd_dream_begin(m2, &o, img, W, H, 3, &d, &err));
    for (int i = 0; i < k; i++) CHECK_OK(dd_dream_step(d, 1, NULL, &err));
    CHECKF(dd_dream_debug_lane_tiles(d) >= k, "after %d tiles, %lld on lanes", k,
           (long long)dd_dream_debug_lane_tiles(d));
    mid += dd_dream_debug_lane_tiles(d) > k; /* saved with later tiles computed, not used */
    void *state;
    size_t len;
    CHECK_OK(dd_dream_save_state(d, &state, &len, &err));
    dd_dream_free(d);
    dd_dream *r = NULL;
    CHECK_OK(dd_dream_restore(m2, state, len, &r, &err));
    dd_free(state);
    if (!r) continue;
    dd_progress p;
    dd_status s;
    while ((s = dd_dream_step(r, 3, &p, &err)) == DD_OK) {
    }
    CHECKF(s == DD_DONE, "resumed after %d tiles: %s", k, err.message);
    uint8_t *state2 = NULL;
    size_t len2;
    CHECK_OK(dd_dream_save_state(r, (void **)&state2, &len2, &err));
    CHECKF(len2 <= l1 && memcmp(state2, r1, len2) == 0, "resumed after %d tiles: a different final state", k);
    dd_free(state2);
    dd_dream_free(r);
  }
  CHECKF(mid >= 6, "only %d of 12 saves fell inside a batch", mid);
  dd_model_free(m2);
  free(r1);
  free(img);
  dd_model_free(m1);
}

/* dd_progress.ms_*: where the time went, filled and consistent. */
static void test_phase_clocks(void) {
  dd_model *m = dream_fixture_model();
  const int W = 120, H = 90;
  uint8_t *img = dream_fixture_image(W, H, 3, 5);
  dd_dream_options o = small_options();
  size_t len;
  dd_progress p;
  uint8_t *r = dream_state(m, &o, img, W, H, 3, 0, &len, &p);
  const double parts = p.ms_gradient + p.ms_tiles + p.ms_stats + p.ms_smooth + p.ms_update + p.ms_levels;
  CHECKF(p.ms_gradient > 0 && p.ms_smooth > 0 && p.ms_levels > 0 && p.ms_stats > 0 && p.ms_update > 0 &&
             p.ms_tiles > 0,
         "gradient %g smooth %g levels %g stats %g update %g tiles %g ms", p.ms_gradient, p.ms_smooth, p.ms_levels,
         p.ms_stats, p.ms_update, p.ms_tiles);
  CHECKF(parts <= p.ms_core * 1.0001 + 1e-3 && p.ms_core < parts * 1.5 + 5.0, "parts %g ms of core %g ms", parts,
         p.ms_core);
  free(r);
  free(img);
  dd_model_free(m);
}

int main(void) {
  TEST_RUN(test_phase_clocks);
  TEST_RUN(test_threads_bit_identical);
  TEST_RUN(test_lanes_bit_identical);
  TEST_RUN(test_strips_equal_whole_image);
  TEST_RUN(test_deterministic_and_changes_image);
  TEST_RUN(test_resume_from_every_tile);
  TEST_RUN(test_state_is_validated);
  TEST_RUN(test_bad_options);
  return test_summary();
}
