/* test_kernels_xnnpack.c — the xnnpack backend against the reference backend
 * and against simd128, with the same cases as test_kernels_simd128.c (random
 * shapes; every distinct Inception 5h conv at 13x13 and 28x28; forward and
 * data gradient through XNNPACK, the rest through its simd128 fallbacks).
 * Skips (passes with a note) in builds without XNNPACK. */
#define DD_TEST_NO_MAIN
#include "test_kernels_simd128.c"

/* simd128 vs xnnpack, forward and data gradient, on every distinct
   Inception conv at 13x13: both optimised paths agree with each other too. */
static void test_simd_vs_xnnpack(void) {
  const dd_kernels *x = dd_kernels_xnnpack(), *sd = dd_kernels_simd128();
  test_rng rng;
  test_rng_seed(&rng, 77);
  for (int i = 0; i < NUM_INCEPTION; i++) {
    if (inception_seen(i)) continue;
    const iconv *c = &inception[i];
    dd_conv2d_params p = {{c->k, c->k, c->s, c->s, c->same ? DD_PADDING_SAME : DD_PADDING_VALID}, c->ci, c->co};
    dd_window_shape s;
    CHECK_OK(dd_window_shape_init(&p.win, 1, 13, 13, &s, NULL));
    size_t nx = (size_t)13 * 13 * c->ci, nf = (size_t)c->k * c->k * c->ci * c->co;
    size_t ny = (size_t)s.out_h * s.out_w * c->co;
    float fs = 1.0f / sqrtf((float)(c->k * c->k * c->ci));
    float *in = rnd(&rng, nx, -1, 1), *f = rnd(&rng, nf, -fs, fs), *b = rnd(&rng, c->co, -1, 1);
    float *g = rnd(&rng, ny, -1, 1), *y0 = test_alloc(ny), *y1 = test_alloc(ny);
    float *d0 = test_alloc(nx), *d1 = test_alloc(nx);
    /* simd128 takes Winograd on 3x3 and 5x5 stride-1 shapes */
    const double atol = (c->k == 3 || c->k == 5) && c->s == 1 && c->ci >= 8 && c->co >= 8 ? WINO_ATOL_REL : ATOL_REL;
    dd_conv2d_weights *wx = NULL, *ws = NULL;
    CHECK_OK(x->conv2d_create(&p, f, b, &wx, NULL));
    CHECK_OK(sd->conv2d_create(&p, f, b, &ws, NULL));
    const unsigned all = DD_CONV_FORWARD | DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA;
    if (wx) CHECK_OK(x->conv2d_prepare(wx, &s, all, NULL, NULL, NULL));
    if (ws) CHECK_OK(sd->conv2d_prepare(ws, &s, all, NULL, NULL, NULL));
    if (wx && ws) {
      x->conv2d_forward(wx, &s, in, y0, 1, NULL, NULL);
      sd->conv2d_forward(ws, &s, in, y1, 1, NULL, NULL);
      CHECKF(close_rel("simd vs xnnpack forward", y1, y0, ny, atol, RTOL), "%s", c->name);
      x->conv2d_backward_data(wx, &s, g, NULL, d0, NULL, NULL);
      sd->conv2d_backward_data(ws, &s, g, NULL, d1, NULL, NULL);
      CHECKF(close_rel("simd vs xnnpack dgrad", d1, d0, nx, atol, RTOL), "%s", c->name);
    }
    if (wx) x->conv2d_destroy(wx);
    if (ws) sd->conv2d_destroy(ws);
    free(in), free(f), free(b), free(g), free(y0), free(y1), free(d0), free(d1);
  }
}

/* One weights object used at two input sizes whose SAME padding differs
   (even/odd input with stride 2): the cached deconvolution must follow. */
static void test_shape_change(void) {
  test_rng rng;
  test_rng_seed(&rng, 78);
  static const cshape a = {"even", 1, 12, 12, 5, 7, 3, 2, 1}, b = {"odd", 1, 13, 11, 5, 7, 3, 2, 1};
  conv_compare(&a, &rng, 0);
  conv_compare(&b, &rng, 0);
  conv_compare(&a, &rng, 0);
}

int main(void) {
  ref = dd_kernels_reference();
  dut = dd_kernels_xnnpack();
#ifdef DD_HAVE_XNNPACK
  CHECK(dut != NULL);
#endif
  if (!dut) {
    printf("# XNNPACK backend not in this build: nothing to test\n");
    return test_summary();
  }
  pool2 = dd_threadpool_create(2);
  TEST_RUN(test_pool);
  TEST_RUN(test_lrn);
  TEST_RUN(test_gemm);
  TEST_RUN(test_conv_random);
  TEST_RUN(test_shape_change);
  TEST_RUN(test_conv_inception_13);
  TEST_RUN(test_conv_inception_28);
  TEST_RUN(test_simd_vs_xnnpack);
  dd_threadpool_destroy(pool2);
  return test_summary();
}
