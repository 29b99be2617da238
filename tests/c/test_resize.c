/* test_resize.c — dd_resize_lanczos_u8 bit-exact against Pillow 9.4's
 * Image.resize(size, LANCZOS) (golden files from tests/golden/make_golden.py),
 * the float variant against Pillow's mode "F", the tutorial's resize_image
 * path and size rule. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dream/resize.h"
#include "testutil.h"


static int count_diff_u8(const uint8_t *a, const uint8_t *b, size_t n, int *maxd) {
  int d = 0;
  *maxd = 0;
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) {
      d++;
      int e = abs((int)a[i] - (int)b[i]);
      if (e > *maxd) *maxd = e;
    }
  return d;
}

typedef struct rcase {
  const char *in, *out;
} rcase;

static long total_diff = 0, total_bytes = 0;

static void check_u8_case(const char *in_name, const uint8_t *in_override, int iw, int ih, int ic,
                          const char *out_name) {
  golden gi = {0}, go;
  const uint8_t *src = in_override;
  if (!src) {
    if (!golden_load(in_name, &gi)) return;
    CHECK(gi.dtype == 2);
    ih = gi.dims[0];
    iw = gi.dims[1];
    ic = gi.ndim == 3 ? gi.dims[2] : 1;
    src = (const uint8_t *)gi.data;
  }
  if (!golden_load(out_name, &go)) {
    free(gi.data);
    return;
  }
  CHECK(go.dtype == 2);
  int oh = go.dims[0], ow = go.dims[1], oc = go.ndim == 3 ? go.dims[2] : 1;
  CHECK(oc == ic);
  uint8_t *out = (uint8_t *)calloc(go.count + 16, 1);
  dd_error err = {0};
  CHECK_OK(dd_resize_lanczos_u8(src, iw, ih, ic, out, ow, oh, &err));
  int maxd, nd = count_diff_u8(out, (const uint8_t *)go.data, go.count, &maxd);
  printf("  %-22s %dx%dx%d -> %dx%d: %d of %zu bytes differ from Pillow (max %d)\n", out_name, ih, iw, ic, oh,
         ow, nd, go.count, maxd);
  CHECKF(nd == 0, "%s: %d bytes differ from Pillow", out_name, nd);
  /* on a pool of 3 threads: the same bytes */
  dd_threadpool *pool = dd_threadpool_create(3);
  memset(out, 0, go.count);
  CHECK_OK(dd_resize_lanczos_u8_pool(src, iw, ih, ic, out, ow, oh, pool, &err));
  CHECKF(memcmp(out, go.data, go.count) == 0, "%s: 3 threads differ from Pillow", out_name);
  dd_threadpool_destroy(pool);
  total_diff += nd;
  total_bytes += (long)go.count;
  free(out);
  free(gi.data);
  free(go.data);
}

static void test_golden_u8(void) {
  static const rcase cases[] = {
      {"lanczos_a_in.bin", "lanczos_a_down.bin"}, {"lanczos_a_down.bin", "lanczos_a_up.bin"},
      {"lanczos_b_in.bin", "lanczos_b_down.bin"}, {"lanczos_b_down.bin", "lanczos_b_up.bin"},
      {"lanczos_c_in.bin", "lanczos_c_down.bin"}, {"lanczos_c_down.bin", "lanczos_c_up.bin"},
      {"lanczos_a_in.bin", "lanczos_a_w45.bin"},  {"lanczos_a_in.bin", "lanczos_a_h20.bin"},
      {"lanczos_c_in.bin", "lanczos_c_f0.3.bin"}, {"lanczos_b_in.bin", "lanczos_b_80x53.bin"},
      {"lanczos_g_in.bin", "lanczos_g_down.bin"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_u8_case(cases[i].in, NULL, 0, 0, 0, cases[i].out);
  printf("  total: %ld differing bytes of %ld\n", total_diff, total_bytes);
}

/* The golden files can tell the pass order apart: resizing the height first
   (two calls that each change one axis) is not what Pillow does. */
static void test_pass_order_matters(void) {
  golden gi, go;
  if (!golden_load("lanczos_b_in.bin", &gi) || !golden_load("lanczos_b_down.bin", &go)) return;
  int h = gi.dims[0], w = gi.dims[1], c = gi.dims[2], oh = go.dims[0], ow = go.dims[1];
  uint8_t *mid = (uint8_t *)malloc((size_t)w * oh * c), *out = (uint8_t *)malloc(go.count);
  CHECK_OK(dd_resize_lanczos_u8((const uint8_t *)gi.data, w, h, c, mid, w, oh, NULL)); /* vertical only */
  CHECK_OK(dd_resize_lanczos_u8(mid, w, oh, c, out, ow, oh, NULL));                    /* then horizontal */
  int maxd, nd = count_diff_u8(out, (const uint8_t *)go.data, go.count, &maxd);
  printf("  vertical-first: %d of %zu bytes differ from Pillow (max %d)\n", nd, go.count, maxd);
  CHECK(nd > 0);
  /* horizontal first through the same two calls is Pillow's order exactly */
  uint8_t *mid2 = (uint8_t *)malloc((size_t)ow * h * c);
  CHECK_OK(dd_resize_lanczos_u8((const uint8_t *)gi.data, w, h, c, mid2, ow, h, NULL));
  CHECK_OK(dd_resize_lanczos_u8(mid2, ow, h, c, out, ow, oh, NULL));
  CHECK(count_diff_u8(out, (const uint8_t *)go.data, go.count, &maxd) == 0);
  free(mid);
  free(mid2);
  free(out);
  free(gi.data);
  free(go.data);
}

/* The tutorial's resize_image: float in, size rule, clip + truncate, LANCZOS. */
static void test_golden_tutorial_path(void) {
  golden gi, gd, gu;
  if (!golden_load("tutorial_in.bin", &gi) || !golden_load("tutorial_down.bin", &gd) ||
      !golden_load("tutorial_up.bin", &gu))
    return;
  int h = gi.dims[0], w = gi.dims[1], c = gi.dims[2], oh, ow;
  dd_resize_scaled_size(h, w, 0.7, &oh, &ow);
  CHECK(oh == gd.dims[0] && ow == gd.dims[1]);
  float *down = test_alloc((size_t)oh * ow * c), *up = test_alloc(gi.count);
  CHECK_OK(dd_resize_tutorial((const float *)gi.data, w, h, c, down, ow, oh, NULL));
  int nd = 0;
  for (size_t i = 0; i < gd.count; i++) nd += down[i] != (float)((const uint8_t *)gd.data)[i];
  CHECKF(nd == 0, "tutorial down: %d values differ", nd);
  CHECK_OK(dd_resize_tutorial(down, ow, oh, c, up, w, h, NULL));
  int nu = 0;
  for (size_t i = 0; i < gu.count; i++) nu += up[i] != (float)((const uint8_t *)gu.data)[i];
  CHECKF(nu == 0, "tutorial up: %d values differ", nu);
  dd_threadpool *pool = dd_threadpool_create(3);
  float *down3 = test_alloc((size_t)oh * ow * c), *up3 = test_alloc(gi.count);
  CHECK_OK(dd_resize_tutorial_scratch((const float *)gi.data, w, h, c, down3, ow, oh, NULL, 0, pool, NULL));
  CHECK_OK(dd_resize_tutorial_scratch(down3, ow, oh, c, up3, w, h, NULL, 0, pool, NULL));
  CHECK(memcmp(down3, down, (size_t)oh * ow * c * 4) == 0 && memcmp(up3, up, gi.count * 4) == 0);
  dd_threadpool_destroy(pool);
  free(down3);
  free(up3);
  printf("  tutorial resize_image 50x31 -> 35x21 -> 50x31: %d + %d values differ\n", nd, nu);
  free(down);
  free(up);
  free(gi.data);
  free(gd.data);
  free(gu.data);
}

static void test_golden_float(void) {
  golden gi, gd, gu;
  if (!golden_load("tutorial_in.bin", &gi) || !golden_load("lanczosf_down.bin", &gd) ||
      !golden_load("lanczosf_up.bin", &gu))
    return;
  int h = gi.dims[0], w = gi.dims[1], c = gi.dims[2];
  int oh = gd.dims[0], ow = gd.dims[1];
  float *down = test_alloc(gd.count), *up = test_alloc(gu.count);
  CHECK_OK(dd_resize_lanczos_float((const float *)gi.data, w, h, c, down, ow, oh, NULL));
  CHECK_OK(dd_resize_lanczos_float((const float *)gd.data, ow, oh, c, up, w, h, NULL));
  double e1 = test_max_abs_diff(down, (const float *)gd.data, gd.count);
  double e2 = test_max_abs_diff(up, (const float *)gu.data, gu.count);
  int n1 = memcmp(down, gd.data, gd.count * 4) != 0, n2 = memcmp(up, gu.data, gu.count * 4) != 0;
  printf("  float vs Pillow mode F: down max |err| %.3g (%s), up max |err| %.3g (%s)\n", e1,
         n1 ? "not bit-exact" : "bit-exact", e2, n2 ? "not bit-exact" : "bit-exact");
  CHECK(e1 <= 1e-4 && e2 <= 1e-4); /* values up to ~330 */
  /* on a pool of 3 threads: the same bytes as inline */
  dd_threadpool *pool = dd_threadpool_create(3);
  float *down3 = test_alloc(gd.count), *up3 = test_alloc(gu.count);
  CHECK_OK(dd_resize_lanczos_float_scratch((const float *)gi.data, w, h, c, down3, ow, oh, NULL, 0, pool, NULL));
  CHECK_OK(dd_resize_lanczos_float_scratch((const float *)gd.data, ow, oh, c, up3, w, h, NULL, 0, pool, NULL));
  CHECK(memcmp(down3, down, gd.count * 4) == 0 && memcmp(up3, up, gu.count * 4) == 0);
  dd_threadpool_destroy(pool);
  free(down3);
  free(up3);
  free(down);
  free(up);
  free(gi.data);
  free(gd.data);
  free(gu.data);
}

static void test_size_rule(void) {
  int oh, ow;
  dd_resize_scaled_size(540, 960, 0.7, &oh, &ow);
  CHECK(oh == 378 && ow == 672);
  dd_resize_scaled_size(378, 672, 0.7, &oh, &ow); /* 264.59999 -> 264, 470.4 -> 470 */
  CHECK(oh == 264 && ow == 470);
  dd_resize_scaled_size(50, 31, 0.7, &oh, &ow);
  CHECK(oh == 35 && ow == 21);
  dd_resize_scaled_size(10, 100, 0.3, &oh, &ow); /* 10*0.3 = 3.0000000000000004, 100*0.3 = 30.000000000000004 */
  CHECK(oh == 3 && ow == 30);
  dd_resize_scaled_size(1, 1, 0.7, &oh, &ow);
  CHECK(oh == 0 && ow == 0);
  /* the float trap: 540 * (double)0.7f = 377.99999356 */
  dd_resize_scaled_size(540, 960, (double)0.7f, &oh, &ow);
  CHECK(oh == 377 && ow == 671);
  CHECK(dd_resize_factor_from_float(0.7f) == 0.7);
  CHECK(dd_resize_factor_from_float(0.5f) == 0.5);
  CHECK(dd_resize_factor_from_float(0.85f) == 0.85);
  CHECK(dd_resize_factor_from_float(1.0f / 3.0f) == 0.33333334);
  dd_resize_scaled_size(540, 960, dd_resize_factor_from_float(0.7f), &oh, &ow);
  CHECK(oh == 378 && ow == 672);
  /* the tutorial's octave sizes for hulk.jpg (960x540), factor 0.7, 4 repeats */
  static const int want[5][2] = {{540, 960}, {378, 672}, {264, 470}, {184, 329}, {128, 230}};
  int hh = 540, ww = 960;
  for (int i = 1; i < 5; i++) {
    dd_resize_scaled_size(hh, ww, 0.7, &hh, &ww);
    CHECKF(hh == want[i][0] && ww == want[i][1], "octave %d: %dx%d", i, hh, ww);
  }
}

static void test_float_to_u8(void) {
  const float in[] = {-1.0f, -0.0f, 0.0f, 0.99f, 1.0f, 127.5f, 254.999f, 255.0f, 255.5f, 1e9f, -1e9f, NAN, INFINITY,
                      -INFINITY};
  const uint8_t want[] = {0, 0, 0, 0, 1, 127, 254, 255, 255, 255, 0, 0, 255, 0};
  uint8_t out[sizeof want];
  dd_float_to_u8_tutorial(in, out, sizeof want);
  CHECK(memcmp(out, want, sizeof want) == 0);
}

static void test_properties_and_errors(void) {
  /* a constant image stays constant at every size (weights sum to 1) */
  uint8_t in[17 * 13 * 3], out[40 * 29 * 3];
  memset(in, 200, sizeof in);
  CHECK_OK(dd_resize_lanczos_u8(in, 17, 13, 3, out, 40, 29, NULL));
  int bad = 0;
  for (size_t i = 0; i < 40 * 29 * 3; i++) bad += out[i] != 200;
  CHECK(bad == 0);
  CHECK_OK(dd_resize_lanczos_u8(in, 17, 13, 3, out, 5, 2, NULL));
  for (size_t i = 0; i < 5 * 2 * 3; i++) bad += out[i] != 200;
  CHECK(bad == 0);
  /* same size: copy */
  test_rng rng;
  test_rng_seed(&rng, 5);
  for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)test_randint(&rng, 0, 255);
  CHECK_OK(dd_resize_lanczos_u8(in, 17, 13, 3, out, 17, 13, NULL));
  CHECK(memcmp(in, out, sizeof in) == 0);
  /* to 1x1 and from 1x1 */
  CHECK_OK(dd_resize_lanczos_u8(in, 17, 13, 3, out, 1, 1, NULL));
  CHECK_OK(dd_resize_lanczos_u8(in, 1, 1, 3, out, 9, 7, NULL));
  for (int i = 0; i < 9 * 7; i++) bad += memcmp(out + 3 * i, in, 3) != 0;
  CHECK(bad == 0);
  /* float: constants too, and an integer upscale of a float image is smooth but exact at no clipping */
  float fin[6 * 5 * 2], fout[11 * 9 * 2];
  for (int i = 0; i < 60; i++) fin[i] = -300.5f;
  CHECK_OK(dd_resize_lanczos_float(fin, 6, 5, 2, fout, 11, 9, NULL));
  for (int i = 0; i < 11 * 9 * 2; i++) CHECKF(fabsf(fout[i] + 300.5f) < 1e-3f, "float const %d: %g", i, fout[i]);
  dd_error err = {0};
  CHECK(dd_resize_lanczos_u8(in, 17, 13, 3, out, 0, 5, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(err.status == DD_ERR_INVALID_ARGUMENT && strlen(err.message) > 0);
  CHECK(dd_resize_lanczos_u8(NULL, 17, 13, 3, out, 5, 5, NULL) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_resize_lanczos_u8(in, 17, -1, 3, out, 5, 5, NULL) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_resize_lanczos_u8(in, 17, 13, 0, out, 5, 5, NULL) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_resize_lanczos_float(fin, 1 << 30, 1 << 30, 3, fout, 5, 5, NULL) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_resize_tutorial(fin, 6, 5, 2, fout, 0, 1, NULL) == DD_ERR_INVALID_ARGUMENT);
}

static void test_full_size_timing(void) {
  const int w = 960, h = 540, c = 3;
  uint8_t *in = (uint8_t *)malloc((size_t)w * h * c), *down = (uint8_t *)malloc(672 * 378 * 3),
          *up = (uint8_t *)malloc((size_t)w * h * c);
  test_rng rng;
  test_rng_seed(&rng, 9);
  for (size_t i = 0; i < (size_t)w * h * c; i++) in[i] = (uint8_t)test_randint(&rng, 0, 255);
  double t0 = test_now_ms();
  CHECK_OK(dd_resize_lanczos_u8(in, w, h, c, down, 672, 378, NULL));
  double t1 = test_now_ms();
  CHECK_OK(dd_resize_lanczos_u8(down, 672, 378, c, up, w, h, NULL));
  double t2 = test_now_ms();
  printf("  u8 960x540 -> 672x378: %.1f ms, back up: %.1f ms\n", t1 - t0, t2 - t1);
  dd_threadpool *pool = dd_threadpool_create(2);
  uint8_t *up2 = (uint8_t *)malloc((size_t)w * h * c);
  t0 = test_now_ms();
  CHECK_OK(dd_resize_lanczos_u8_pool(in, w, h, c, down, 672, 378, pool, NULL));
  t1 = test_now_ms();
  CHECK_OK(dd_resize_lanczos_u8_pool(down, 672, 378, c, up2, w, h, pool, NULL));
  t2 = test_now_ms();
  printf("  the same on a pool of %d: %.1f ms, %.1f ms\n", dd_threadpool_size(pool), t1 - t0, t2 - t1);
  CHECK(memcmp(up, up2, (size_t)w * h * c) == 0);
  dd_threadpool_destroy(pool);
  free(up2);
  free(in);
  free(down);
  free(up);
}

int main(void) {
  TEST_RUN(test_golden_u8);
  TEST_RUN(test_pass_order_matters);
  TEST_RUN(test_golden_tutorial_path);
  TEST_RUN(test_golden_float);
  TEST_RUN(test_size_rule);
  TEST_RUN(test_float_to_u8);
  TEST_RUN(test_properties_and_errors);
  TEST_RUN(test_full_size_timing);
  return test_summary();
}
