/* test_dream_extras.c — the dream beyond the tutorial (issue 15): every new
 * mode (objective sums, guide, strong/weak, TV, Laplacian normalisation, the
 * robustness transforms) resumes from every tile boundary to the same bytes;
 * square(layer) through the objective is the tutorial's dream bit for bit;
 * states of version 1 still load and finish as before; the new state fields
 * are checked; lap_normalize matches the numpy golden of the TF1 notebook. */
#include <math.h>
#include <stdlib.h>

#include "deepdream.h"
#include "dream/lapnorm.h"
#include "dream_fixture.h"
#include "testutil.h"

static dd_dream_options base_options(void) {
  dd_dream_options o;
  dd_dream_options_init(&o);
  o.objective.layer = "conv_b";
  o.num_iterations = 2;
  o.tile_size = 48;
  o.num_repeats = 1;
  o.seed = 42;
  return o;
}


static uint8_t *dream_once(dd_model *m, const dd_dream_options *o, const uint8_t *img, int W, int H, int C) {
  dd_dream *d = NULL;
  dd_error err = {0};
  dd_status s = dd_dream_begin(m, o, img, W, H, C, &d, &err);
  CHECKF(s == DD_OK, "begin: %s", err.message);
  if (s != DD_OK) return NULL;
  uint8_t *out = dream_fixture_run_all(d, W, H, C, 3, NULL);
  dd_dream_free(d);
  return out;
}

/* Saves after every tile count k, restores, finishes: the same bytes. */
static void check_resume_everywhere(const char *what, dd_model *m, const dd_dream_options *o) {
  const int W = 70, H = 52;
  uint8_t *img = dream_fixture_image(W, H, 3, 2);
  dd_error err = {0};
  dd_dream *ref = NULL;
  dd_status s = dd_dream_begin(m, o, img, W, H, 3, &ref, &err);
  CHECKF(s == DD_OK, "%s: begin: %s", what, err.message);
  if (s != DD_OK) {
    free(img);
    return;
  }
  int total = 0;
  dd_progress p;
  while (dd_dream_step(ref, 1, &p, &err) == DD_OK) total++;
  uint8_t *want = (uint8_t *)malloc((size_t)W * H * 3);
  CHECK_OK(dd_dream_read_image(ref, want, (size_t)W * H * 3, &err));
  dd_dream_free(ref);
  CHECKF(total > 6, "%s: %d tiles", what, total);
  for (int k = 0; k <= total; k++) {
    dd_dream *d = NULL;
    CHECK_OK(dd_dream_begin(m, o, img, W, H, 3, &d, &err));
    for (int i = 0; i < k; i++) dd_dream_step(d, 1, NULL, &err);
    void *state;
    size_t len;
    CHECK_OK(dd_dream_save_state(d, &state, &len, &err));
    dd_dream_free(d);
    dd_dream *r = NULL;
    s = dd_dream_restore(m, state, len, &r, &err);
    CHECKF(s == DD_OK, "%s: restore after %d tiles: %s", what, k, err.message);
    if (s == DD_OK) {
      uint8_t *got = dream_fixture_run_all(r, W, H, 3, 2, NULL);
      CHECKF(memcmp(got, want, (size_t)W * H * 3) == 0, "%s: resumed after %d tiles: different bytes", what, k);
      free(got);
      dd_dream_free(r);
    }
    dd_free(state);
  }
  /* the mode does something: not the tutorial's bytes */
  dd_dream_options t = base_options();
  uint8_t *tut = dream_once(m, &t, img, W, H, 3);
  CHECKF(tut && memcmp(tut, want, (size_t)W * H * 3) != 0, "%s: same bytes as the tutorial's dream", what);
  free(tut);
  free(want);
  free(img);
}

static uint8_t *guide_image(int w, int h) { return dream_fixture_image(w, h, 4, 31); }

static void test_resume_every_mode(void) {
  dd_model *m = dream_fixture_model();
  dd_dream_options o = base_options();
  o.objective_expr = "0.5*channel(conv_b,3)+neuron(conv_c,2,1,0)-0.25*square(conv_a,[0,2:4])";
  check_resume_everywhere("objective sum", m, &o);

  o = base_options();
  o.objective_expr = "strong(conv_b,3)+0.5*weak(conv_c,2)";
  check_resume_everywhere("strong/weak", m, &o);

  o = base_options();
  o.objective_expr = "direction(conv_b,[1,-0.5,0.25,0,2,-1,0.5,0.5,-2,1,0,0.75])";
  o.tv = 50;
  check_resume_everywhere("direction + tv", m, &o);

  o = base_options();
  uint8_t *g = guide_image(90, 60);
  o.guide = g, o.guide_width = 90, o.guide_height = 60, o.guide_channels = 4; /* resized to 48x32 */
  check_resume_everywhere("guide", m, &o);
  o.gradient_mode = DD_GRADIENT_LAPLACIAN;
  o.lap_levels = 3;
  check_resume_everywhere("guide + laplacian", m, &o);

  o = base_options();
  o.roll = 6, o.pad = 5, o.jitter = 4, o.scale = 0.1, o.rotate = 10;
  check_resume_everywhere("transforms", m, &o);
  o.roll = 0, o.scale = 0, o.rotate = 0;
  o.objective_expr = "guide(conv_c)+0.2*channel(conv_b,1)";
  o.guide = g, o.guide_width = 30, o.guide_height = 33, o.guide_channels = 4;
  check_resume_everywhere("guide term + pad + jitter", m, &o);
  free(g);

  o = base_options();
  o.gradient_mode = DD_GRADIENT_LAPLACIAN;
  check_resume_everywhere("laplacian", m, &o);
  dd_model_free(m);
}

/* square(layer, channels) through the objective program, with no extras, is
   the tutorial's dream to the byte; so is an objective of the default
   options' defaults (tv 0, transforms 0, smooth). */
static void test_square_objective_is_the_tutorial(void) {
  dd_model *m = dream_fixture_model();
  const int W = 70, H = 52;
  uint8_t *img = dream_fixture_image(W, H, 3, 4);
  dd_dream_options a = base_options();
  int ch[2] = {1, 5};
  a.objective.channels = ch;
  a.objective.n_channels = 2;
  dd_dream_options b = a;
  b.objective_expr = "square(conv_b,[1,5])";
  uint8_t *x = dream_once(m, &a, img, W, H, 3), *y = dream_once(m, &b, img, W, H, 3);
  CHECK(x && y && memcmp(x, y, (size_t)W * H * 3) == 0);
  free(x);
  free(y);
  free(img);
  dd_model_free(m);
}

/* offset of the extras (version 2) in a state: after the version 1 options */
static size_t extras_at(const uint8_t *s) {
  size_t o = 16;
  o += 4 + (size_t)dfx_rd_i32(s, o);
  o += 4;
  o += 4 + 4 * (size_t)dfx_rd_i32(s, o);
  return o + 4 + 8 + 4 + 4 + 8 + 8 + 8 + 8 + 4;
}

/* A state written by the previous format (version 1: no extras) restores
   and finishes as the uninterrupted dream. */
static void test_version1_state_loads(void) {
  dd_model *m = dream_fixture_model();
  const int W = 70, H = 52;
  uint8_t *img = dream_fixture_image(W, H, 3, 5);
  dd_dream_options o = base_options();
  uint8_t *want = dream_once(m, &o, img, W, H, 3);
  dd_dream *d = NULL;
  dd_error err = {0};
  CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &d, &err));
  dd_dream_step(d, 5, NULL, &err);
  void *st;
  size_t len;
  CHECK_OK(dd_dream_save_state(d, &st, &len, &err));
  dd_dream_free(d);
  uint8_t *s = (uint8_t *)st;
  size_t at = extras_at(s), ext = 4 + (size_t)dfx_rd_i32(s, at) + 8 + 4 * 5 + 8 + 8;
  CHECK(dfx_rd_i32(s, 4) == 2 && dfx_rd_i32(s, at) == 0);
  uint8_t *v1 = (uint8_t *)malloc(len - ext);
  memcpy(v1, s, at);
  memcpy(v1 + at, s + at + ext, len - at - ext);
  v1[4] = 1;
  dfx_reseal(v1, len - ext);
  dd_dream *r = NULL;
  dd_status rs = dd_dream_restore(m, v1, len - ext, &r, &err);
  CHECKF(rs == DD_OK, "version 1: %s", err.message);
  if (rs == DD_OK) {
    uint8_t *got = dream_fixture_run_all(r, W, H, 3, 4, NULL);
    CHECK(memcmp(got, want, (size_t)W * H * 3) == 0);
    free(got);
    dd_dream_free(r);
  }
  /* version 3 is refused as another format */
  s[4] = 3;
  dfx_reseal(s, len);
  CHECK(dd_dream_restore(m, s, len, &r, &err) == DD_ERR_STATE_MISMATCH);
  free(v1);
  dd_free(st);
  free(want);
  free(img);
  dd_model_free(m);
}

static void refused(dd_model *m, uint8_t *s, size_t len, const char *what, const char *want) {
  dfx_reseal(s, len);
  dd_dream *r = NULL;
  dd_error err = {0};
  dd_status st = dd_dream_restore(m, s, len, &r, &err);
  CHECKF(st == DD_ERR_PARSE, "%s: status %d", what, (int)st);
  CHECKF(strstr(err.message, want) != NULL, "%s: message '%s' lacks '%s'", what, err.message, want);
  dd_dream_free(r);
}

/* The new fields of an untrusted state are checked. */
static void test_state_fields(void) {
  dd_model *m = dream_fixture_model();
  const int W = 64, H = 48;
  uint8_t *img = dream_fixture_image(W, H, 3, 6);
  uint8_t *g = guide_image(20, 20);
  dd_dream_options o = base_options();
  o.objective_expr = "strong(conv_b,2)+guide(conv_c)";
  o.guide = g, o.guide_width = 20, o.guide_height = 20, o.guide_channels = 4;
  o.tv = 1;
  dd_dream *d = NULL;
  dd_error err = {0};
  CHECK_OK(dd_dream_begin(m, &o, img, W, H, 3, &d, &err));
  dd_dream_step(d, 2, NULL, &err);
  void *st;
  size_t len;
  CHECK_OK(dd_dream_save_state(d, &st, &len, &err));
  dd_dream_free(d);
  uint8_t *s = (uint8_t *)st, *b = (uint8_t *)malloc(len);
  size_t at = extras_at(s), lo = (size_t)dfx_rd_i32(s, at);
  CHECK(lo == strlen(o.objective_expr) && !memcmp(s + at + 4, o.objective_expr, lo));
  size_t after = at + 4 + lo; /* tv */
  size_t choices = after + 8 + 4 * 5 + 8 + 8 + 12;
  double v;
#define EDIT(off, type, val) (memcpy(b, s, len), v = 0, (void)v, memcpy(b + (off), &(type){val}, sizeof(type)))
  EDIT(at + 4, char, 'X');
  refused(m, b, len, "objective text", "bad options: objective: expected square");
  EDIT(at, int32_t, 70000);
  refused(m, b, len, "objective length", "bad objective length 70000");
  EDIT(after, double, NAN);
  refused(m, b, len, "tv NaN", "tv must be a finite number");
  EDIT(after + 8, int32_t, 7);
  refused(m, b, len, "gradient mode", "unknown gradient mode 7");
  EDIT(after + 12, int32_t, 0);
  refused(m, b, len, "lap levels", "lap_levels must be in 1..8");
  EDIT(after + 16 + 8, int32_t, 100000);
  refused(m, b, len, "jitter", "jitter must be in 0..512");
  EDIT(after + 28, double, 0.9);
  refused(m, b, len, "scale", "scale must be a finite number in [0, 0.5]");
  /* choices: term 1 strong(conv_b,2): n = 2, two increasing channels; term 2 guide */
  CHECK(dfx_rd_i32(s, choices) == 2);
  EDIT(choices, int32_t, 3);
  refused(m, b, len, "chosen count", "has 3 chosen channels, expected 2");
  EDIT(choices + 4, int32_t, dfx_rd_i32(s, choices + 8));
  refused(m, b, len, "chosen order", "not increasing channels of 0..11");
  EDIT(choices + 8, int32_t, 12);
  refused(m, b, len, "chosen range", "not increasing channels of 0..11");
  EDIT(choices + 12, int32_t, 1); /* term 1's guide count must be 0 */
  refused(m, b, len, "guide on strong", "has 1 guide features, expected none");
  size_t gn_at = choices + 20;
  CHECK(dfx_rd_i32(s, gn_at) >= 1);
  EDIT(gn_at, int32_t, 0);
  refused(m, b, len, "no guide features", "has 0 guide features, expected 1..");
  EDIT(gn_at, int32_t, 1 << 30);
  refused(m, b, len, "huge guide", "guide features, expected 1..");
  EDIT(gn_at + 4 + 8, float, NAN);
  refused(m, b, len, "guide NaN", "guide feature 2 of term 2 is not finite");
#undef EDIT
  free(b);
  dd_free(st);
  free(g);
  free(img);
  dd_model_free(m);
}

static void test_bad_extras(void) {
  dd_model *m = dream_fixture_model();
  uint8_t *img = dream_fixture_image(40, 40, 3, 1);
  dd_dream_options o = base_options();
  dd_dream *d = NULL;
  dd_error err = {0};
  o.objective_expr = "guide(conv_b)";
  CHECK(dd_dream_begin(m, &o, img, 40, 40, 3, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECKF(strstr(err.message, "no guide image was given") != NULL, "%s", err.message);
  o.objective_expr = "channel(conv_b,12)";
  CHECK(dd_dream_begin(m, &o, img, 40, 40, 3, &d, &err) == DD_ERR_NOT_FOUND);
  o.objective_expr = "channel(conv_b 1)";
  CHECK(dd_dream_begin(m, &o, img, 40, 40, 3, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECKF(strstr(err.message, "at character 16") != NULL, "%s", err.message);
  o = base_options();
  o.guide = img, o.guide_width = 0, o.guide_height = 40, o.guide_channels = 3;
  CHECK(dd_dream_begin(m, &o, img, 40, 40, 3, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  o = base_options();
  o.gradient_mode = 2;
  CHECK(dd_dream_begin(m, &o, img, 40, 40, 3, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  o = base_options();
  o.rotate = 181;
  CHECK(dd_dream_begin(m, &o, img, 40, 40, 3, &d, &err) == DD_ERR_INVALID_ARGUMENT);
  free(img);
  dd_model_free(m);
}

/* lap_normalize against the numpy implementation of the notebook's
   lap_split / lap_merge (tests/golden/make_lapnorm_golden.py). */
static void test_lapnorm_golden(void) {
  const char *cases[][2] = {{"lapnorm_a_in.bin", "lapnorm_a_out4.bin"}, {"lapnorm_b_in.bin", "lapnorm_b_out3.bin"},
                            {"lapnorm_c_in.bin", "lapnorm_c_out4.bin"}, {"lapnorm_d_in.bin", "lapnorm_d_out1.bin"}};
  const int levels[] = {4, 3, 4, 1};
  for (int i = 0; i < 4; i++) {
    golden in, want;
    if (!golden_load(cases[i][0], &in) || !golden_load(cases[i][1], &want)) continue;
    int h = in.dims[0], w = in.dims[1];
    float *out = test_alloc(in.count), *scratch = test_alloc(dd_lapnorm_scratch_floats(h, w, levels[i]));
    dd_lapnorm((const float *)in.data, h, w, levels[i], out, scratch);
    double rel = test_rel_l2(out, (const float *)want.data, in.count);
    double worst = test_max_abs_diff(out, (const float *)want.data, in.count);
    CHECKF(rel < 2e-6 && worst < 1e-4, "%s: rel L2 %.3g, max abs %.3g", cases[i][1], rel, worst);
    /* in place gives the same */
    float *io = test_alloc(in.count);
    memcpy(io, in.data, in.count * sizeof(float));
    dd_lapnorm(io, h, w, levels[i], io, scratch);
    CHECK(memcmp(io, out, in.count * sizeof(float)) == 0);
    free(io);
    free(out);
    free(scratch);
    free(in.data);
    free(want.data);
  }
}

int main(void) {
  TEST_RUN(test_lapnorm_golden);
  TEST_RUN(test_square_objective_is_the_tutorial);
  TEST_RUN(test_version1_state_loads);
  TEST_RUN(test_state_fields);
  TEST_RUN(test_bad_extras);
  TEST_RUN(test_resume_every_mode);
  return test_summary();
}
