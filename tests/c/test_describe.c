/* test_describe.c — model descriptions (src/api/describe.c): the defaults of
 * an unrecognised graph, the checks, the fingerprint, the feed and its
 * gradient (chain rule per channel, against finite differences in double),
 * a description equal to the `mean` option giving the same bytes, and the
 * Caffe2 blob-name lookup. */
#include <math.h>
#include <stdlib.h>

#include "api/describe.h"
#include "deepdream.h"
#include "dream_fixture.h"
#include "testutil.h"

static void test_defaults_and_checks(void) {
  dd_model *m = dream_fixture_model();
  dd_model_description d;
  dd_model_get_description(m, &d);
  CHECK(d.name[0] == 0 && d.bgr == 0 && dd_description_is_identity(&d));
  CHECK(d.default_layer == 2); /* 3 dream layers: the tutorial's index 2 */
  uint64_t fp = dd_model_fingerprint(m);
  dd_error err;
  CHECK_OK(dd_model_set_description(m, &d, &err)); /* identity: same fingerprint */
  CHECK(dd_model_fingerprint(m) == fp);
  dd_model_description bad = d;
  bad.scale[1] = 0;
  CHECK(dd_model_set_description(m, &bad, &err) == DD_ERR_INVALID_ARGUMENT);
  bad = d;
  bad.mean[2] = NAN;
  CHECK(dd_model_set_description(m, &bad, &err) == DD_ERR_INVALID_ARGUMENT);
  bad = d;
  bad.default_layer = 3;
  CHECK(dd_model_set_description(m, &bad, &err) == DD_ERR_INVALID_ARGUMENT);
  bad = d;
  bad.bgr = 2;
  CHECK(dd_model_set_description(m, &bad, &err) == DD_ERR_INVALID_ARGUMENT);
  dd_model_description bgr = d;
  bgr.bgr = 1;
  CHECK_OK(dd_model_set_description(m, &bgr, &err));
  CHECK(dd_model_fingerprint(m) != fp); /* a state saved under BGR never resumes under RGB */
  dd_model_free(m);
}

/* loss(feed(rgb)) in the model; the gradient through unfeed against central differences */
static void test_feed_gradient_chain_rule(void) {
  dd_model *m = dream_fixture_model();
  dd_model_description d;
  dd_model_get_description(m, &d);
  d.bgr = 1;
  float mean[3] = {123.68f, 116.779f, 103.939f}, scale[3] = {0.5f, 2.0f, 1.25f};
  for (int c = 0; c < 3; c++) d.mean[c] = mean[c], d.scale[c] = scale[c];
  const int W = 19, H = 17;
  size_t n = (size_t)W * H * 3;
  float *rgb = test_alloc(n), *net = test_alloc(n), *g = test_alloc(n), *x = test_alloc(n);
  test_rng r;
  test_rng_seed(&r, 5);
  test_fill(&r, rgb, n, 0, 255);
  for (int y = 0; y < H; y++) dd_description_feed(&d, 7.0f, rgb + (size_t)y * W * 3, net + (size_t)y * W * 3, W);
  /* the feed itself: BGR order, mean, scale */
  CHECK(net[0] == (rgb[2] - 7.0f - mean[2]) * scale[2] && net[2] == (rgb[0] - 7.0f - mean[0]) * scale[0]);
  dd_objective o = {"conv_c", 0, NULL, 0};
  dd_error err;
  float loss;
  CHECK_OK(dd_model_gradient(m, net, H, W, &o, g, &loss, &err));
  dd_description_unfeed_gradient(&d, g, (size_t)W * H);
  /* directional derivatives along seeded directions, central differences */
  float *dir = test_alloc(n), *scratch = test_alloc(n);
  for (int k = 0; k < 4; k++) {
    const double h = 0.5;
    test_fill(&r, dir, n, -1, 1);
    float l[2];
    for (int j = 0; j < 2; j++) {
      float sgn = j ? 1.0f : -1.0f;
      for (size_t i = 0; i < n; i++) x[i] = rgb[i] + sgn * (float)h * dir[i];
      for (int y = 0; y < H; y++) dd_description_feed(&d, 7.0f, x + (size_t)y * W * 3, net + (size_t)y * W * 3, W);
      CHECK_OK(dd_model_gradient(m, net, H, W, &o, scratch, &l[j], &err));
    }
    double fd = ((double)l[1] - l[0]) / (2 * h), an = 0;
    for (size_t i = 0; i < n; i++) an += (double)g[i] * dir[i];
    CHECKF(fabs(fd - an) <= 2e-2 * fabs(an) + 1e-7, "direction %d: finite difference %g, chain rule %g", k, fd, an);
  }
  free(dir), free(scratch);
  free(rgb), free(net), free(g), free(x);
  dd_model_free(m);
}

/* A description of mean 117 on every channel is the `mean` option: the same bytes. */
static void test_description_mean_equals_mean_option(void) {
  dd_model *a = dream_fixture_model(), *b = dream_fixture_model();
  dd_model_description d;
  dd_model_get_description(b, &d);
  for (int c = 0; c < 3; c++) d.mean[c] = 117.0f;
  dd_error err;
  CHECK_OK(dd_model_set_description(b, &d, &err));
  const int W = 61, H = 45;
  uint8_t *img = dream_fixture_image(W, H, 3, 3);
  dd_dream_options o;
  dd_dream_options_init(&o);
  o.objective.layer = "conv_b";
  o.num_iterations = 2;
  o.tile_size = 32;
  o.num_repeats = 1;
  o.seed = 9;
  dd_dream_options oa = o;
  oa.input_mean = 117.0;
  uint8_t *out[2];
  dd_model *ms[2] = {a, b};
  const dd_dream_options *os[2] = {&oa, &o};
  for (int k = 0; k < 2; k++) {
    dd_dream *dr = NULL;
    CHECK_OK(dd_dream_begin(ms[k], os[k], img, W, H, 3, &dr, &err));
    dd_progress p;
    dd_status s;
    while ((s = dd_dream_step(dr, 1000, &p, &err)) == DD_OK) {
    }
    CHECKF(s == DD_DONE, "step: %s", err.message);
    out[k] = (uint8_t *)malloc((size_t)W * H * 3);
    CHECK_OK(dd_dream_read_image(dr, out[k], (size_t)W * H * 3, &err));
    dd_dream_free(dr);
  }
  CHECK(memcmp(out[0], out[1], (size_t)W * H * 3) == 0);
  /* and BGR changes the dream */
  d.bgr = 1;
  CHECK_OK(dd_model_set_description(b, &d, &err));
  dd_dream *dr = NULL;
  CHECK_OK(dd_dream_begin(b, &o, img, W, H, 3, &dr, &err));
  dd_progress p;
  while (dd_dream_step(dr, 1000, &p, &err) == DD_OK) {
  }
  CHECK_OK(dd_dream_read_image(dr, out[1], (size_t)W * H * 3, &err));
  CHECK(memcmp(out[0], out[1], (size_t)W * H * 3) != 0);
  dd_dream_free(dr);
  free(out[0]), free(out[1]), free(img);
  dd_model_free(a);
  dd_model_free(b);
}

/* Caffe2 SSA names: "blob" finds the last version, blob_2 */
static void test_caffe2_blob_names(void) {
  fx_graph g;
  fx_init(&g);
  test_rng r;
  test_rng_seed(&r, 1);
  fx_placeholder(&g, "data_0");
  dfx_conv_layer(&g, &r, "blob_1", "data_0", 3, 3, 4, 1);
  fx_unary(&g, "blob_2", "Relu", "blob_1");
  dd_model *m = NULL;
  dd_error err;
  CHECK_OK(dd_model_load_graphdef(g.w.data, g.w.len, NULL, &m, &err));
  fx_free(&g);
  dd_layer_info li;
  CHECK_OK(dd_model_find_node(m, "blob", &li, &err));
  CHECK(strcmp(li.name, "blob_2") == 0);
  CHECK_OK(dd_model_find_node(m, "blob_1", &li, &err));
  CHECK(strcmp(li.name, "blob_1") == 0);
  CHECK(dd_model_find_node(m, "blo", &li, &err) == DD_ERR_NOT_FOUND);
  dd_model_free(m);
}

int main(void) {
  TEST_RUN(test_defaults_and_checks);
  TEST_RUN(test_feed_gradient_chain_rule);
  TEST_RUN(test_description_mean_equals_mean_option);
  TEST_RUN(test_caffe2_blob_names);
  return test_summary();
}
