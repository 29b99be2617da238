/* test_kernels_simd128.c — the simd128 backend against the reference backend:
 * random shapes (odd sizes, strides 1/2, kernels 1/3/5/7, SAME/VALID,
 * channel counts that are not multiples of 4 or 8) and every distinct conv
 * shape of Inception 5h at 28x28 and 13x13 inputs, for every micro-kernel
 * variant, single-threaded and with a 2-thread pool (which must give
 * bit-identical results). Also used for the xnnpack backend when present
 * (see test_kernels_xnnpack.c, which includes this file). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/simd128/internal.h"
#include "testutil.h"

/* float result vs float oracle: |d| <= atol_rel*max|want| + rtol*|want| */
static int close_rel(const char *what, const float *got, const float *want, size_t n,
                     double atol_rel, double rtol) {
  double scale = 0;
  for (size_t i = 0; i < n; i++) scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
  return test_close(what, got, want, n, atol_rel * (scale > 0 ? scale : 1.0), rtol);
}

#define RTOL 1e-4
#define ATOL_REL 1e-5
/* simd128's Winograd (3x3 and 5x5 stride 1, >= 8 channels each side; see
   conv.c) rounds in its transforms too: the worst error seen on these
   shapes is ~1.5e-5 of the output's scale (printed at the end), against
   2.5e-6 for the direct sum. */
#define WINO_ATOL_REL 5e-5

/* max |got - want| / max |want| */
static double err_of_scale(const float *got, const float *want, size_t n) {
  double scale = 0, worst = 0;
  for (size_t i = 0; i < n; i++) {
    scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
    double d = fabs((double)got[i] - (double)want[i]);
    worst = d > worst ? d : worst;
  }
  return worst / (scale > 0 ? scale : 1.0);
}
static double worst_direct, worst_wino; /* over forward and data gradient */

typedef struct cshape {
  const char *name;
  int n, h, w, ci, co, k, s, same;
} cshape;

static dd_threadpool *pool2;
static const dd_kernels *ref, *dut; /* reference and the backend under test */

/* 1 when dut computes this shape by Winograd (see conv.c). */
static int conv_is_winograd(const cshape *c) {
  const char *e = getenv("DD_WINOGRAD");
  return strcmp(dut->name, "simd128") == 0 && (c->k == 3 || c->k == 5) && c->s == 1 && c->ci >= 8 &&
         c->co >= 8 && !(e && e[0] == '0');
}

static float *rnd(test_rng *r, size_t n, float lo, float hi) {
  float *x = test_alloc(n);
  test_fill(r, x, n, lo, hi);
  return x;
}

/* A relu mask with every kind of value din_mask must handle: positive,
   +0, -0, negative, NaN and the smallest positive denormal (> 0: kept). */
static float *make_mask(test_rng *r, size_t n) {
  float *m = rnd(r, n, -1, 1);
  for (size_t i = 0; i < n; i += 11) m[i] = 0.0f;
  for (size_t i = 5; i < n; i += 13) m[i] = -0.0f;
  for (size_t i = 3; i < n; i += 17) m[i] = NAN;
  for (size_t i = 7; i < n; i += 19) m[i] = 1.4e-45f;
  return m;
}

/* din_mask's contract (kernels.h): got (the masked call's output) holds,
   bit for bit, plain (the unmasked call's) with dd_kernels_mask applied. */
static int masked_as_pass(const float *got, const float *plain, const float *mask, size_t n) {
  float *want = test_alloc(n);
  memcpy(want, plain, n * sizeof(float));
  dd_kernels_mask(n, mask, want);
  int same = memcmp(got, want, n * sizeof(float)) == 0;
  free(want);
  return same;
}

/* Runs forward (relu 0/1), backward_data and backward_filter (+dbias) on dut
   and ref and compares. With `threads`, also compares dut single-threaded to
   dut on the 2-thread pool bit for bit. */
static void conv_compare(const cshape *c, test_rng *rng, int threads) {
  dd_conv2d_params p = {{c->k, c->k, c->s, c->s, c->same ? DD_PADDING_SAME : DD_PADDING_VALID},
                        c->ci, c->co};
  dd_window_shape s;
  dd_status st = dd_window_shape_init(&p.win, c->n, c->h, c->w, &s, NULL);
  CHECK_OK(st);
  if (st != DD_OK) return;
  size_t nx = (size_t)c->n * c->h * c->w * c->ci, nf = (size_t)c->k * c->k * c->ci * c->co;
  size_t ny = (size_t)c->n * s.out_h * s.out_w * c->co;
  float fs = 1.0f / sqrtf((float)(c->k * c->k * c->ci));
  float *x = rnd(rng, nx, -1, 1), *f = rnd(rng, nf, -fs, fs), *b = rnd(rng, c->co, -0.5f, 0.5f);
  float *g = rnd(rng, ny, -1, 1);
  float *y0 = test_alloc(ny), *y1 = test_alloc(ny), *dx0 = test_alloc(nx), *dx1 = test_alloc(nx);
  float *df0 = test_alloc(nf), *df1 = test_alloc(nf), *db0 = test_alloc(c->co), *db1 = test_alloc(c->co);
  char what[200];
  snprintf(what, sizeof what, "%s %s n%d %dx%d %d->%d k%d s%d %s", dut->name, c->name, c->n, c->h,
           c->w, c->ci, c->co, c->k, c->s, c->same ? "SAME" : "VALID");
  const int wino = conv_is_winograd(c);
  const double atol = wino ? WINO_ATOL_REL : ATOL_REL;
  double *worst = wino ? &worst_wino : &worst_direct, e;
  dd_conv2d_weights *wr = NULL, *wd = NULL;
  CHECK_OK(ref->conv2d_create(&p, f, b, &wr, NULL));
  CHECK_OK(dut->conv2d_create(&p, f, b, &wd, NULL));
  if (!wr || !wd) return;
  const unsigned all = DD_CONV_FORWARD | DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA;
  CHECK_OK(ref->conv2d_prepare(wr, &s, all, NULL, NULL, NULL));
  CHECK_OK(dut->conv2d_prepare(wd, &s, all, NULL, NULL, NULL));
  if (threads) CHECK_OK(dut->conv2d_prepare(wd, &s, all, NULL, pool2, NULL));
  for (int relu = 0; relu <= 1; relu++) {
    ref->conv2d_forward(wr, &s, x, y0, relu, NULL, NULL);
    for (size_t i = 0; i < ny; i++) y1[i] = NAN;
    dut->conv2d_forward(wd, &s, x, y1, relu, NULL, NULL);
    CHECKF(close_rel("forward", y1, y0, ny, atol, RTOL), "%s forward relu=%d", what, relu);
    if ((e = err_of_scale(y1, y0, ny)) > *worst) *worst = e;
    if (threads) {
      memcpy(y0, y1, ny * sizeof(float));
      dut->conv2d_forward(wd, &s, x, y1, relu, NULL, pool2);
      CHECKF(memcmp(y0, y1, ny * sizeof(float)) == 0, "%s forward threaded differs", what);
    }
  }
  ref->conv2d_backward_data(wr, &s, g, NULL, dx0, NULL, NULL);
  for (size_t i = 0; i < nx; i++) dx1[i] = NAN;
  dut->conv2d_backward_data(wd, &s, g, NULL, dx1, NULL, NULL);
  CHECKF(close_rel("backward_data", dx1, dx0, nx, atol, RTOL), "%s backward_data", what);
  if ((e = err_of_scale(dx1, dx0, nx)) > *worst) *worst = e;
  if (threads) {
    memcpy(dx0, dx1, nx * sizeof(float));
    dut->conv2d_backward_data(wd, &s, g, NULL, dx1, NULL, pool2);
    CHECKF(memcmp(dx0, dx1, nx * sizeof(float)) == 0, "%s backward_data threaded differs", what);
  }
  { /* the relu mask applied as din is written, on either backend and pool */
    float *mask = make_mask(rng, nx), *dm = test_alloc(nx);
    for (int t = 0; t <= threads; t++) {
      dut->conv2d_backward_data(wd, &s, g, NULL, dx1, NULL, NULL);
      for (size_t i = 0; i < nx; i++) dm[i] = NAN;
      dut->conv2d_backward_data(wd, &s, g, mask, dm, NULL, t ? pool2 : NULL);
      CHECKF(masked_as_pass(dm, dx1, mask, nx), "%s backward_data with a mask (threads %d)", what, t);
    }
    ref->conv2d_backward_data(wr, &s, g, NULL, dx0, NULL, NULL);
    ref->conv2d_backward_data(wr, &s, g, mask, dm, NULL, NULL);
    CHECKF(masked_as_pass(dm, dx0, mask, nx), "%s reference backward_data with a mask", what);
    free(mask), free(dm);
  }
  ref->conv2d_backward_filter(&p, &s, x, g, df0, db0, NULL);
  for (size_t i = 0; i < nf; i++) df1[i] = NAN;
  for (int i = 0; i < c->co; i++) db1[i] = NAN;
  dut->conv2d_backward_filter(&p, &s, x, g, df1, db1, NULL);
  CHECKF(close_rel("backward_filter", df1, df0, nf, ATOL_REL, RTOL), "%s backward_filter", what);
  CHECKF(close_rel("backward_bias", db1, db0, c->co, ATOL_REL, RTOL), "%s dbias", what);
  if (threads) {
    memcpy(df0, df1, nf * sizeof(float));
    dut->conv2d_backward_filter(&p, &s, x, g, df1, NULL, pool2);
    CHECKF(memcmp(df0, df1, nf * sizeof(float)) == 0, "%s backward_filter threaded differs", what);
  }
  ref->conv2d_destroy(wr);
  dut->conv2d_destroy(wd);
  free(x), free(f), free(b), free(g), free(y0), free(y1), free(dx0), free(dx1);
  free(df0), free(df1), free(db0), free(db1);
}

static const cshape random_shapes[] = {
    {"r", 1, 5, 5, 1, 1, 1, 1, 1},      {"r", 1, 7, 9, 3, 5, 3, 1, 1},
    {"r", 2, 7, 6, 5, 13, 3, 2, 1},     {"r", 1, 8, 8, 4, 3, 3, 2, 1},
    {"r", 2, 9, 7, 5, 6, 5, 1, 1},      {"r", 1, 11, 10, 3, 4, 5, 2, 0},
    {"r", 1, 13, 11, 3, 64, 7, 2, 1},   {"r", 2, 9, 9, 2, 3, 7, 1, 0},
    {"r", 2, 6, 5, 5, 7, 1, 1, 0},      {"r", 1, 7, 7, 6, 5, 1, 2, 1},
    {"r", 1, 10, 7, 4, 9, 3, 1, 0},     {"r", 1, 4, 4, 3, 2, 7, 1, 1},
    {"r", 2, 12, 12, 3, 17, 7, 2, 1},   {"r", 1, 9, 11, 204, 12, 3, 1, 1},
    {"r", 1, 6, 7, 13, 204, 3, 2, 1},   {"r", 2, 5, 5, 33, 37, 1, 1, 1},
    {"r", 1, 3, 2, 9, 10, 5, 1, 1},     {"r", 1, 1, 1, 5, 9, 3, 1, 1},
    {"r", 1, 2, 9, 7, 8, 3, 2, 1},      {"r", 1, 15, 6, 3, 6, 5, 2, 0},   {"r", 1, 8, 9, 4, 5, 3, 2, 0},
    /* 3x3 stride 1 with >= 8 channels each side: the Winograd path. Odd and
       even sizes (partial 2x2 tiles), VALID, batches, channel counts that
       are not multiples of 4 or 8, images smaller than a tile, more tiles
       than one block */
    {"w", 2, 7, 9, 9, 13, 3, 1, 1},     {"w", 1, 6, 5, 11, 8, 3, 1, 0},   {"w", 1, 1, 1, 8, 8, 3, 1, 1},
    {"w", 1, 2, 3, 16, 17, 3, 1, 1},    {"w", 3, 5, 4, 8, 9, 3, 1, 0},    {"w", 1, 19, 23, 12, 20, 3, 1, 1},
    {"w", 2, 33, 17, 10, 8, 3, 1, 1},   {"w", 1, 3, 3, 8, 8, 3, 1, 0},
    /* 5x5 stride 1: F(2x2, 5x5) */
    {"w5", 1, 9, 7, 8, 12, 5, 1, 1},    {"w5", 2, 6, 11, 10, 9, 5, 1, 0}, {"w5", 1, 3, 2, 8, 8, 5, 1, 1},
    {"w5", 1, 14, 13, 17, 16, 5, 1, 1}, {"w5", 1, 5, 5, 9, 8, 5, 1, 0},
};

static void run_random(void) {
  test_rng rng;
  test_rng_seed(&rng, 11);
  for (size_t i = 0; i < sizeof random_shapes / sizeof random_shapes[0]; i++)
    conv_compare(&random_shapes[i], &rng, 1);
}

/* Every Conv2D of Inception 5h as (name, k, stride, in_c, out_c, SAME). */
typedef struct iconv {
  const char *name;
  int k, s, ci, co, same;
} iconv;
static const iconv inception[] = {
    {"conv2d0", 7, 2, 3, 64, 1},           {"conv2d1", 1, 1, 64, 64, 0},
    {"conv2d2", 3, 1, 64, 192, 1},
    {"3a_1x1", 1, 1, 192, 64, 1},          {"3a_3x3_b", 1, 1, 192, 96, 1},
    {"3a_3x3", 3, 1, 96, 128, 1},          {"3a_5x5_b", 1, 1, 192, 16, 1},
    {"3a_5x5", 5, 1, 16, 32, 1},           {"3a_pool", 1, 1, 192, 32, 1},
    {"3b_1x1", 1, 1, 256, 128, 1},         {"3b_3x3_b", 1, 1, 256, 128, 1},
    {"3b_3x3", 3, 1, 128, 192, 1},         {"3b_5x5_b", 1, 1, 256, 32, 1},
    {"3b_5x5", 5, 1, 32, 96, 1},           {"3b_pool", 1, 1, 256, 64, 1},
    {"4a_1x1", 1, 1, 480, 192, 1},         {"4a_3x3_b", 1, 1, 480, 96, 1},
    {"4a_3x3", 3, 1, 96, 204, 1},          {"4a_5x5_b", 1, 1, 480, 16, 1},
    {"4a_5x5", 5, 1, 16, 48, 1},           {"4a_pool", 1, 1, 480, 64, 1},
    {"4b_1x1", 1, 1, 508, 160, 1},         {"4b_3x3_b", 1, 1, 508, 112, 1},
    {"4b_3x3", 3, 1, 112, 224, 1},         {"4b_5x5_b", 1, 1, 508, 24, 1},
    {"4b_5x5", 5, 1, 24, 64, 1},           {"4b_pool", 1, 1, 508, 64, 1},
    {"4c_1x1", 1, 1, 512, 128, 1},         {"4c_3x3_b", 1, 1, 512, 128, 1},
    {"4c_3x3", 3, 1, 128, 256, 1},         {"4c_5x5_b", 1, 1, 512, 24, 1},
    {"4c_5x5", 5, 1, 24, 64, 1},           {"4c_pool", 1, 1, 512, 64, 1},
    {"4d_1x1", 1, 1, 512, 112, 1},         {"4d_3x3_b", 1, 1, 512, 144, 1},
    {"4d_3x3", 3, 1, 144, 288, 1},         {"4d_5x5_b", 1, 1, 512, 32, 1},
    {"4d_5x5", 5, 1, 32, 64, 1},           {"4d_pool", 1, 1, 512, 64, 1},
    {"4e_1x1", 1, 1, 528, 256, 1},         {"4e_3x3_b", 1, 1, 528, 160, 1},
    {"4e_3x3", 3, 1, 160, 320, 1},         {"4e_5x5_b", 1, 1, 528, 32, 1},
    {"4e_5x5", 5, 1, 32, 128, 1},          {"4e_pool", 1, 1, 528, 128, 1},
    {"5a_1x1", 1, 1, 832, 256, 1},         {"5a_3x3_b", 1, 1, 832, 160, 1},
    {"5a_3x3", 3, 1, 160, 320, 1},         {"5a_5x5_b", 1, 1, 832, 48, 1},
    {"5a_5x5", 5, 1, 48, 128, 1},          {"5a_pool", 1, 1, 832, 128, 1},
    {"5b_1x1", 1, 1, 832, 384, 1},         {"5b_3x3_b", 1, 1, 832, 192, 1},
    {"5b_3x3", 3, 1, 192, 384, 1},         {"5b_5x5_b", 1, 1, 832, 48, 1},
    {"5b_5x5", 5, 1, 48, 128, 1},          {"5b_pool", 1, 1, 832, 128, 1},
    {"head0_b", 1, 1, 508, 128, 1},        {"head1_b", 1, 1, 528, 128, 1},
};
#define NUM_INCEPTION ((int)(sizeof inception / sizeof inception[0]))

/* 1 when an earlier entry has the same (k, s, ci, co, same). */
static int inception_seen(int i) {
  for (int j = 0; j < i; j++)
    if (inception[j].k == inception[i].k && inception[j].s == inception[i].s &&
        inception[j].ci == inception[i].ci && inception[j].co == inception[i].co &&
        inception[j].same == inception[i].same)
      return 1;
  return 0;
}

static void run_inception(int hw, int threads) {
  test_rng rng;
  test_rng_seed(&rng, (uint64_t)hw);
  int distinct = 0;
  for (int i = 0; i < NUM_INCEPTION; i++) {
    if (inception_seen(i)) continue;
    distinct++;
    cshape c = {inception[i].name, 1, hw, hw, inception[i].ci, inception[i].co,
                inception[i].k, inception[i].s, inception[i].same};
    conv_compare(&c, &rng, threads);
  }
  CHECK(distinct >= 50);
}

/* ---- pooling, LRN, gemm ----------------------------------------------------------- */

static dd_threadpool *g_pool8; /* test_pool's */

/* The argmax the forward saves gives the backward the bytes of the rescan
   (max_pool_backward), with no mask, the input as its mask and another
   mask; also with NaNs in the input (they never win, as in the rescan). */
static void pool_argmax_compare(const dd_window *win, const dd_window_shape *s, int c, const float *x0,
                                const float *g, dd_threadpool *tp, test_rng *rng, const char *what) {
  const size_t nx = (size_t)s->n * s->in_h * s->in_w * c, ny = (size_t)s->n * s->out_h * s->out_w * c;
  float *x = test_alloc(nx), *y0 = test_alloc(ny), *y1 = test_alloc(ny), *d0 = test_alloc(nx), *d1 = test_alloc(nx);
  uint8_t *am = (uint8_t *)malloc(ny + 16);
  float *other = make_mask(rng, nx);
  for (int nan = 0; nan <= 1; nan++) {
    memcpy(x, x0, nx * sizeof(float));
    if (nan)
      for (size_t i = 3; i < nx; i += 5) x[i] = NAN;
    memset(am, 0xEE, ny + 16);
    dut->max_pool_forward(win, s, c, x, y0, tp);
    dut->max_pool_forward_argmax(win, s, c, x, y1, am, tp);
    CHECKF(memcmp(y0, y1, ny * sizeof(float)) == 0, "%s: max forward with argmax (nan %d)", what, nan);
    size_t bad = 0;
    for (size_t i = 0; i < ny; i++) bad += am[i] >= (unsigned)(win->k_h * win->k_w);
    CHECKF(bad == 0 && am[ny] == 0xEE, "%s: %zu argmax cells outside the window, or written past the end", what, bad);
    for (int mk = 0; mk <= 2; mk++) {
      const float *mask = mk == 0 ? NULL : mk == 1 ? x : other;
      for (size_t i = 0; i < nx; i++) d0[i] = d1[i] = NAN;
      dut->max_pool_backward(win, s, c, x, g, mask, d0, tp);
      dut->max_pool_backward_argmax(win, s, c, am, g, mask, d1, tp);
      CHECKF(memcmp(d0, d1, nx * sizeof(float)) == 0, "%s: max backward from the argmax differs (mask %d, nan %d)",
             what, mk, nan);
      /* 8 threads: more bands, more windows straddling two of them */
      for (size_t i = 0; i < nx; i++) d1[i] = NAN;
      dut->max_pool_backward_argmax(win, s, c, am, g, mask, d1, g_pool8);
      CHECKF(memcmp(d0, d1, nx * sizeof(float)) == 0, "%s: max backward from the argmax on 8 threads differs", what);
    }
  }
  free(x), free(y0), free(y1), free(d0), free(d1), free(am), free(other);
}

static void pool_compare(int n, int h, int w, int c, int k, int st, int same, test_rng *rng) {
  dd_window win = {k, k, st, st, same ? DD_PADDING_SAME : DD_PADDING_VALID};
  dd_window_shape s;
  CHECK_OK(dd_window_shape_init(&win, n, h, w, &s, NULL));
  size_t nx = (size_t)n * h * w * c, ny = (size_t)n * s.out_h * s.out_w * c;
  float *x = rnd(rng, nx, -1, 1), *g = rnd(rng, ny, -1, 1);
  /* some exact ties, to exercise first-maximum routing */
  for (size_t i = 0; i < nx; i += 7) x[i] = 0.25f;
  float *y0 = test_alloc(ny), *y1 = test_alloc(ny), *d0 = test_alloc(nx), *d1 = test_alloc(nx);
  char what[160];
  snprintf(what, sizeof what, "%s pool n%d %dx%dx%d k%d s%d %s", dut->name, n, h, w, c, k, st,
           same ? "SAME" : "VALID");
  for (int t = 0; t <= 1; t++) {
    dd_threadpool *tp = t ? pool2 : NULL;
    ref->max_pool_forward(&win, &s, c, x, y0, NULL);
    dut->max_pool_forward(&win, &s, c, x, y1, tp);
    CHECKF(memcmp(y0, y1, ny * sizeof(float)) == 0, "%s max forward (threads %d)", what, t);
    ref->avg_pool_forward(&win, &s, c, x, y0, NULL);
    dut->avg_pool_forward(&win, &s, c, x, y1, tp);
    CHECKF(close_rel("avg forward", y1, y0, ny, 1e-6, 1e-6), "%s avg forward", what);
    ref->max_pool_backward(&win, &s, c, x, g, NULL, d0, NULL);
    for (size_t i = 0; i < nx; i++) d1[i] = NAN;
    dut->max_pool_backward(&win, &s, c, x, g, NULL, d1, tp);
    CHECKF(close_rel("max backward", d1, d0, nx, 1e-6, 1e-6), "%s max backward", what);
    /* the relu mask: the input itself (as the engine passes it: x is a relu's
       output) and an arbitrary one */
    for (int mk = 0; mk <= 1; mk++) {
      float *mask = mk ? make_mask(rng, nx) : x, *dm = test_alloc(nx);
      for (size_t i = 0; i < nx; i++) dm[i] = NAN;
      dut->max_pool_backward(&win, &s, c, x, g, mask, dm, tp);
      CHECKF(masked_as_pass(dm, d1, mask, nx), "%s max backward with a mask %d (threads %d)", what, mk, t);
      ref->max_pool_backward(&win, &s, c, x, g, mask, dm, NULL);
      CHECKF(masked_as_pass(dm, d0, mask, nx), "%s reference max backward with a mask %d", what, mk);
      if (mk) free(mask);
      free(dm);
    }
    if (dut->max_pool_forward_argmax) pool_argmax_compare(&win, &s, c, x, g, tp, rng, what);
    ref->avg_pool_backward(&win, &s, c, g, d0, NULL);
    for (size_t i = 0; i < nx; i++) d1[i] = NAN;
    dut->avg_pool_backward(&win, &s, c, g, d1, tp);
    CHECKF(close_rel("avg backward", d1, d0, nx, 1e-6, 1e-5), "%s avg backward", what);
  }
  free(x), free(g), free(y0), free(y1), free(d0), free(d1);
}

static void test_pool(void) {
  test_rng rng;
  test_rng_seed(&rng, 12);
  g_pool8 = dd_threadpool_create(8);
  pool_compare(1, 28, 28, 64, 3, 2, 1, &rng);  /* maxpool0-like */
  pool_compare(1, 13, 13, 192, 3, 2, 1, &rng); /* odd, maxpool1-like */
  pool_compare(2, 14, 14, 508, 3, 1, 1, &rng); /* inception pool branch */
  pool_compare(1, 14, 14, 508, 5, 3, 0, &rng); /* head avgpool */
  pool_compare(1, 7, 7, 1024, 7, 1, 0, &rng);  /* avgpool0 */
  pool_compare(2, 9, 8, 3, 3, 2, 1, &rng);
  pool_compare(1, 11, 10, 5, 2, 2, 0, &rng);
  pool_compare(1, 6, 7, 204, 3, 1, 1, &rng);
  pool_compare(1, 5, 5, 21, 5, 1, 1, &rng);
  pool_compare(3, 9, 9, 48, 3, 2, 1, &rng);   /* a thread's channel slices end mid-image */
  pool_compare(1, 10, 11, 20, 2, 3, 0, &rng); /* stride > window: cells no window reaches */
  pool_compare(1, 9, 9, 36, 3, 2, 1, &rng);   /* 16 + 16 + 4 channels */
  /* backward bands of input rows on 2 threads: 4 bands (tall), windows taller
     than a band, VALID windows that skip rows */
  pool_compare(1, 101, 7, 20, 3, 2, 1, &rng);
  pool_compare(2, 11, 9, 12, 5, 1, 1, &rng);
  pool_compare(1, 9, 10, 6, 7, 2, 0, &rng);
  pool_compare(1, 12, 6, 17, 2, 3, 0, &rng);
  pool_compare(1, 21, 19, 7, 16, 4, 1, &rng); /* 256 cells: the largest argmax */
  pool_compare(1, 64, 5, 33, 3, 2, 1, &rng);   /* 8 threads: 8 bands of 8 rows */
  dd_threadpool_destroy(g_pool8);
  g_pool8 = NULL;
}

static void lrn_compare(const dd_lrn_params *p, size_t pixels, int c, float scale, test_rng *rng) {
  size_t nx = pixels * c;
  float *x = rnd(rng, nx, -scale, scale), *g = rnd(rng, nx, -1, 1);
  float *y0 = test_alloc(nx), *y1 = test_alloc(nx), *d0 = test_alloc(nx), *d1 = test_alloc(nx);
  char what[160];
  snprintf(what, sizeof what, "%s lrn px%zu c%d r%d beta %g", dut->name, pixels, c,
           p->depth_radius, p->beta);
  ref->lrn_forward(p, pixels, c, x, y0, NULL);
  dut->lrn_forward(p, pixels, c, x, y1, pool2);
  CHECKF(test_close("lrn forward", y1, y0, nx, 1e-6, 1e-5), "%s forward", what);
  ref->lrn_backward(p, pixels, c, x, g, NULL, d0, NULL);
  dut->lrn_backward(p, pixels, c, x, g, NULL, d1, pool2);
  CHECKF(close_rel("lrn backward", d1, d0, nx, 1e-6, 1e-4), "%s backward", what);
  /* the relu mask (x's own, as the engine passes it, and an arbitrary one) */
  for (int mk = 0; mk <= 1; mk++) {
    float *mask = mk ? make_mask(rng, nx) : x, *dm = test_alloc(nx);
    dut->lrn_backward(p, pixels, c, x, g, NULL, d1, pool2);
    dut->lrn_backward(p, pixels, c, x, g, mask, dm, pool2);
    CHECKF(masked_as_pass(dm, d1, mask, nx), "%s backward with a mask %d", what, mk);
    dut->lrn_backward(p, pixels, c, x, g, mask, dm, NULL);
    CHECKF(masked_as_pass(dm, d1, mask, nx), "%s backward with a mask %d, 1 thread", what, mk);
    ref->lrn_backward(p, pixels, c, x, g, mask, dm, NULL);
    CHECKF(masked_as_pass(dm, d0, mask, nx), "%s reference backward with a mask %d", what, mk);
    if (mk) free(mask);
    free(dm);
  }
  free(x), free(g), free(y0), free(y1), free(d0), free(d1);
}

static void test_lrn(void) {
  test_rng rng;
  test_rng_seed(&rng, 13);
  dd_lrn_params inc = {5, 2.0f, 1e-4f, 0.5f};
  dd_lrn_params b75 = {2, 1.0f, 0.5f, 0.75f}, b1 = {3, 1.5f, 0.2f, 1.0f};
  dd_lrn_params gen = {4, 0.5f, 0.3f, 0.6f}, wide = {40, 1.0f, 0.01f, 0.5f};
  lrn_compare(&inc, 300, 64, 50.0f, &rng);
  lrn_compare(&inc, 100, 192, 20.0f, &rng);
  lrn_compare(&inc, 17, 3, 1.0f, &rng);
  lrn_compare(&b75, 33, 5, 1.0f, &rng);
  lrn_compare(&b1, 20, 204, 1.0f, &rng);
  lrn_compare(&gen, 20, 13, 1.0f, &rng);
  lrn_compare(&wide, 5, 3000, 1.0f, &rng); /* scratch on the heap */
  dd_lrn_params r0 = {0, 1.0f, 0.5f, 0.5f}, r1 = {1, 1.0f, 0.5f, 0.5f}; /* no pair sums; one */
  lrn_compare(&r0, 9, 7, 1.0f, &rng);
  lrn_compare(&r1, 9, 6, 1.0f, &rng);
}

/* pad: extra leading-dimension elements (0 = dense, the XNNPACK FC case). */
static void gemm_compare(int ta, int tb, int m, int n, int k, float beta, int pad, test_rng *rng) {
  int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + 2 * pad, ldc = n + 3 * pad;
  size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb, nc = (size_t)m * ldc;
  float *a = rnd(rng, na, -1, 1), *b = rnd(rng, nb, -1, 1), *c0 = rnd(rng, nc, -1, 1);
  float *c1 = test_alloc(nc), *c2 = test_alloc(nc);
  memcpy(c1, c0, nc * sizeof(float));
  memcpy(c2, c0, nc * sizeof(float));
  ref->gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c0, ldc, NULL);
  dut->gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c1, ldc, NULL);
  char what[128];
  snprintf(what, sizeof what, "%s gemm ta%d tb%d %dx%dx%d beta %g pad %d", dut->name, ta, tb, m, n,
           k, beta, pad);
  CHECKF(close_rel("gemm", c1, c0, nc, ATOL_REL, RTOL), "%s", what);
  dut->gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c2, ldc, pool2);
  CHECKF(memcmp(c1, c2, nc * sizeof(float)) == 0, "%s threaded differs", what);
  free(a), free(b), free(c0), free(c1), free(c2);
}

static void test_gemm(void) {
  test_rng rng;
  test_rng_seed(&rng, 14);
  const int sz[][3] = {{1, 1008, 1024}, {2, 1024, 2048}, {37, 29, 61}, {5, 3, 2}, {64, 64, 64},
                       {13, 17, 1}, {7, 300, 5}};
  for (int i = 0; i < 7; i++)
    for (int ta = 0; ta <= 1; ta++)
      for (int tb = 0; tb <= 1; tb++)
        for (int be = 0; be <= 1; be++)
          for (int pad = 0; pad <= 1; pad++)
            gemm_compare(ta, tb, sz[i][0], sz[i][1], sz[i][2], (float)be, pad, &rng);
}

/* ---- micro-kernels directly, against scalar sums --------------------------------- */

typedef struct uk_case {
  const char *name;
  dd_igemm_ukernel fn;
  int mr, nr; /* rows; panel layout DD_NR, DD_NR_NARROW or DD_NR_DOT */
} uk_case;

/* Every igemm micro-kernel (including those only selected in wasm builds) on
   random rows/columns/k/taps, with and without relu/accumulate. */
static void test_ukernels(void) {
  static const uk_case cases[] = {
      {"4x8", dd_f32_igemm_4x8__simd128, 4, DD_NR},       {"6x8", dd_f32_igemm_6x8__simd128, 6, DD_NR},
      {"4x8s4", dd_f32_igemm_4x8s4__simd128, 4, DD_NR},   {"6x8s4", dd_f32_igemm_6x8s4__simd128, 6, DD_NR},
      {"8x4", dd_f32_igemm_8x4__simd128, 8, DD_NR_NARROW}, {"3x3dot", dd_f32_igemm_3x3dot__simd128, 3, DD_NR_DOT},
      {"2x3dot", dd_f32_igemm_2x3dot__simd128, 2, DD_NR_DOT},
  };
  test_rng rng;
  test_rng_seed(&rng, 15);
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const uk_case *u = &cases[ci];
    for (int trial = 0; trial < 40; trial++) {
      const size_t kc = (size_t)test_randint(&rng, 1, 19), ks = (size_t)test_randint(&rng, 1, 4);
      const size_t mr = (size_t)test_randint(&rng, 1, u->mr);
      const size_t n = (size_t)test_randint(&rng, 1, u->nr == DD_NR_DOT ? 3 : u->nr);
      const int flags = trial & 3;
      float *rows = rnd(&rng, (size_t)u->mr * ks * kc, -1, 1), *bias = rnd(&rng, n, -1, 1);
      float *wsrc = rnd(&rng, ks * kc * n, -1, 1);
      float *packed = test_alloc(dd_pack_size(ks, kc, n, u->nr));
      dd_pack_panels(ks, kc, n, u->nr, wsrc, n, 1, bias, packed);
      const float *a[DD_IGEMM_MAX_TAPS * DD_IGEMM_MR_MAX];
      float out[DD_IGEMM_MR_MAX][16], want[DD_IGEMM_MR_MAX][16];
      float *c[DD_IGEMM_MR_MAX];
      for (int i = 0; i < u->mr; i++) {
        size_t ri = (size_t)i < mr ? (size_t)i : mr - 1; /* rows past mr repeat a valid row */
        for (size_t t = 0; t < ks; t++) a[t * u->mr + i] = rows + (ri * ks + t) * kc;
        c[i] = out[i];
        for (int j = 0; j < 16; j++) out[i][j] = want[i][j] = 100.0f + (float)j; /* sentinels */
      }
      for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < n; j++) {
          double acc = bias[j];
          for (size_t t = 0; t < ks; t++)
            for (size_t k = 0; k < kc; k++) acc += (double)rows[(i * ks + t) * kc + k] * wsrc[(t * kc + k) * n + j];
          if (flags & DD_UK_ACCUMULATE) acc += want[i][j + 2];
          if ((flags & DD_UK_RELU) && acc < 0) acc = 0;
          want[i][j + 2] = (float)acc;
        }
      u->fn(mr, n, kc, ks, a, packed, c, 2, flags);
      int ok = 1;
      for (int i = 0; i < u->mr; i++) ok &= close_rel("ukernel", out[i], want[i], 16, 1e-6, 1e-5);
      CHECKF(ok, "micro-kernel %s mr %zu n %zu kc %zu ks %zu flags %d", u->name, mr, n, kc, ks, flags);
      free(rows), free(bias), free(wsrc), free(packed);
    }
  }
  /* filter-gradient kernels: C (+)= sum over a strided grid of A_p (x) B_p */
  for (int v = 0; v < 3; v++) {
    for (int trial = 0; trial < 30; trial++) {
      const size_t rows = (size_t)test_randint(&rng, 0, 4), cols = (size_t)test_randint(&rng, 0, 5);
      const size_t mr = (size_t)test_randint(&rng, 1, 4);
      const size_t nc = (size_t)test_randint(&rng, 1, v == 2 ? 4 : 8);
      const size_t a_cs = 7, a_rs = 50, b_cs = 11, b_rs = 60, ldc = 13;
      float *a = rnd(&rng, 300, -1, 1), *b = rnd(&rng, 330, -1, 1);
      float c[4 * 13 + 4], want[4 * 13 + 4];
      test_fill(&rng, c, sizeof c / sizeof c[0], -1, 1);
      memcpy(want, c, sizeof c);
      const int acc = trial & 1;
      for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nc; j++) {
          double sum = acc ? want[i * ldc + j] : 0.0;
          for (size_t r = 0; r < rows; r++)
            for (size_t q = 0; q < cols; q++) sum += (double)a[r * a_rs + q * a_cs + i] * b[r * b_rs + q * b_cs + j];
          want[i * ldc + j] = (float)sum;
        }
      if (v == 0) dd_f32_gemm_tn_4x8__simd128(mr, nc, rows, cols, a, a_rs, a_cs, b, b_rs, b_cs, c, ldc, acc);
      if (v == 1) dd_f32_gemm_tn_4x8ls__simd128(mr, nc, rows, cols, a, a_rs, a_cs, b, b_rs, b_cs, c, ldc, acc);
      if (v == 2) dd_f32_gemm_tn_4x4__simd128(mr, nc, rows, cols, a, a_rs, a_cs, b, b_rs, b_cs, c, ldc, acc);
      CHECKF(close_rel("tn", c, want, sizeof c / sizeof c[0], 1e-6, 1e-5), "tn variant %d mr %zu nc %zu %zux%zu", v,
             mr, nc, rows, cols);
      free(a), free(b);
    }
  }
}

/* ---- drivers ------------------------------------------------------------------------ */

static const char *variant __attribute__((unused));
/* The data gradient into <= 3 channels (dgrad_thin.c) on the windows the
   zoo's first convolutions have and a few they do not: ONNX's explicit and
   asymmetric pads, strides that differ per axis, AlexNet's 11x11 stride 4
   (121 taps, 9 per stride class), rows wider than one 8-pixel tile and
   taller than one 8-row band, batches. Against the reference, and threaded
   against single-threaded bit for bit. */
typedef struct thin_case {
  int n, h, w, ci, co, kh, kw, sh, sw, pt, pl, pb, pr;
} thin_case;
static const thin_case thin_cases[] = {
    {2, 37, 41, 3, 64, 7, 7, 2, 2, 3, 3, 3, 3}, /* GoogLeNet / ResNet conv1 */
    {1, 35, 45, 3, 16, 11, 11, 4, 4, 2, 2, 2, 2}, /* AlexNet conv1 */
    {1, 23, 30, 3, 64, 3, 3, 1, 1, 1, 1, 1, 1},   /* VGG conv1_1 */
    {2, 17, 19, 2, 5, 4, 4, 2, 2, 1, 2, 2, 1},    /* asymmetric */
    {1, 21, 26, 1, 9, 5, 3, 2, 3, 0, 1, 2, 0},    /* per-axis strides */
    {1, 9, 1, 3, 7, 1, 1, 1, 1, 0, 0, 0, 0},      /* one column */
    {1, 1, 19, 3, 4, 3, 3, 1, 2, 1, 1, 1, 1},     /* one row */
    {1, 12, 12, 3, 6, 6, 6, 3, 3, 0, 0, 0, 0},    /* taps = stride */
};

static void test_conv_thin_dgrad(void) {
  test_rng rng;
  test_rng_seed(&rng, 23);
  for (size_t i = 0; i < sizeof thin_cases / sizeof thin_cases[0]; i++) {
    const thin_case *c = &thin_cases[i];
    dd_conv2d_params p = {{c->kh, c->kw, c->sh, c->sw, DD_PADDING_EXPLICIT, {c->pt, c->pl, c->pb, c->pr}, 0, 0},
                          c->ci, c->co};
    dd_window_shape s;
    CHECK_OK(dd_window_shape_init(&p.win, c->n, c->h, c->w, &s, NULL));
    const size_t nx = (size_t)c->n * c->h * c->w * c->ci, nf = (size_t)c->kh * c->kw * c->ci * c->co;
    const size_t ny = (size_t)c->n * s.out_h * s.out_w * c->co;
    float *f = rnd(&rng, nf, -0.3f, 0.3f), *g = rnd(&rng, ny + 4, -1, 1);
    float *dx0 = test_alloc(nx), *dx1 = test_alloc(nx), *dx2 = test_alloc(nx);
    dd_conv2d_weights *wr = NULL, *wd = NULL;
    CHECK_OK(ref->conv2d_create(&p, f, NULL, &wr, NULL));
    CHECK_OK(dut->conv2d_create(&p, f, NULL, &wd, NULL));
    if (wr && wd) {
      CHECK_OK(ref->conv2d_prepare(wr, &s, DD_CONV_BACKWARD_DATA, NULL, NULL, NULL));
      CHECK_OK(dut->conv2d_prepare(wd, &s, DD_CONV_BACKWARD_DATA, NULL, NULL, NULL));
      CHECK_OK(dut->conv2d_prepare(wd, &s, DD_CONV_BACKWARD_DATA, NULL, pool2, NULL));
      ref->conv2d_backward_data(wr, &s, g, NULL, dx0, NULL, NULL);
      for (size_t k = 0; k < nx; k++) dx1[k] = dx2[k] = NAN;
      dut->conv2d_backward_data(wd, &s, g, NULL, dx1, NULL, NULL);
      dut->conv2d_backward_data(wd, &s, g, NULL, dx2, NULL, pool2);
      char what[160];
      snprintf(what, sizeof what, "%s thin dgrad n%d %dx%d %d->%d k%dx%d s%dx%d pads %d,%d,%d,%d", dut->name, c->n,
               c->h, c->w, c->ci, c->co, c->kh, c->kw, c->sh, c->sw, c->pt, c->pl, c->pb, c->pr);
      CHECKF(close_rel("backward_data", dx1, dx0, nx, ATOL_REL, RTOL), "%s", what);
      CHECKF(memcmp(dx1, dx2, nx * sizeof(float)) == 0, "%s: threaded differs", what);
    }
    ref->conv2d_destroy(wr);
    dut->conv2d_destroy(wd);
    free(f), free(g), free(dx0), free(dx1), free(dx2);
  }
}

static void test_conv_random(void) { run_random(); }
static void test_conv_inception_28(void) { run_inception(28, 0); }
static void test_conv_inception_13(void) { run_inception(13, 1); }

#ifndef DD_TEST_NO_MAIN
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs one conv call in a child process after preparing `prep_passes` (0:
   none) for a prep_hw input, then `pass` on a run_hw input; returns 1 when
   the child aborted (SIGABRT), 0 when it ran to the end. */
static int conv_call_aborts(int k, int stride, int ci, int co, unsigned prep_passes, int prep_hw, unsigned pass,
                            int run_hw) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    test_rng rng;
    test_rng_seed(&rng, 3);
    dd_conv2d_params p = {{k, k, stride, stride, DD_PADDING_SAME}, ci, co};
    float *f = rnd(&rng, (size_t)k * k * ci * co, -0.1f, 0.1f);
    dd_conv2d_weights *w = NULL;
    dd_window_shape s;
    if (dut->conv2d_create(&p, f, NULL, &w, NULL) != DD_OK) _exit(3);
    if (prep_passes) {
      if (dd_window_shape_init(&p.win, 1, prep_hw, prep_hw, &s, NULL) != DD_OK) _exit(3);
      if (dut->conv2d_prepare(w, &s, prep_passes, NULL, NULL, NULL) != DD_OK) _exit(3);
    }
    if (dd_window_shape_init(&p.win, 1, run_hw, run_hw, &s, NULL) != DD_OK) _exit(3);
    float *x = test_alloc((size_t)run_hw * run_hw * ci), *y = test_alloc((size_t)s.out_h * s.out_w * co);
    if (pass == DD_CONV_BACKWARD_DATA) dut->conv2d_backward_data(w, &s, y, NULL, x, NULL, NULL);
    else dut->conv2d_forward(w, &s, x, y, pass == DD_CONV_FORWARD_RELU, NULL, NULL);
    _exit(0);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  CHECKF(!(WIFEXITED(status) && WEXITSTATUS(status) == 3), "child could not set up the conv");
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* Prepare may fail; run may not: the run-time calls never build, allocate
   or fall back on their own, so a call that was not prepared stops loudly
   instead of taking a slower path. */
static void test_conv_runs_only_prepared(void) {
  const unsigned fwd = DD_CONV_FORWARD, bwd = DD_CONV_BACKWARD_DATA;
  /* stride-2 data gradient: its sub-kernels come from prepare only */
  CHECK(conv_call_aborts(3, 2, 8, 8, 0, 0, bwd, 20) == 1);
  CHECK(conv_call_aborts(3, 2, 8, 8, fwd, 20, bwd, 20) == 1);
  CHECK(conv_call_aborts(3, 2, 8, 8, bwd, 20, bwd, 20) == 0);
  /* an RGB 7x7 conv reads a column-padded copy sized by prepare */
  CHECK(conv_call_aborts(7, 2, 3, 8, 0, 0, fwd, 30) == 1);
  CHECK(conv_call_aborts(7, 2, 3, 8, fwd, 16, fwd, 30) == 1);
  CHECK(conv_call_aborts(7, 2, 3, 8, fwd, 30, fwd, 30) == 0);
  CHECK(conv_call_aborts(7, 2, 3, 8, fwd, 40, fwd, 30) == 0); /* a larger geometry covers it */
  const char *wino = getenv("DD_WINOGRAD");
  if (!wino || wino[0] != '0') {
    /* Winograd: the transformed filter and scratch sized for the geometry */
    CHECK(conv_call_aborts(3, 1, 16, 16, 0, 0, fwd, 24) == 1);
    CHECK(conv_call_aborts(3, 1, 16, 16, fwd, 1, fwd, 48) == 1); /* 1x1 stays direct: nothing built */
    CHECK(conv_call_aborts(3, 1, 16, 16, fwd, 48, fwd, 48) == 0);
    CHECK(conv_call_aborts(3, 1, 16, 16, fwd, 48, bwd, 48) == 1);
    CHECK(conv_call_aborts(3, 1, 16, 16, fwd | bwd, 48, bwd, 48) == 0);
  }
}

/* Machines this one is not: 3, 8 and 16 threads give the single thread's bits
   on shapes with few Winograd blocks for many threads (13-25 px maps, where
   the blocks' panels are split into groups), a 5x5 and a direct conv. */
static void test_conv_many_threads(void) {
  static const cshape shapes[] = {
      {"w13", 1, 13, 13, 64, 96, 3, 1, 1}, {"w25", 1, 25, 25, 48, 80, 3, 1, 1}, {"w7", 2, 7, 7, 32, 40, 3, 1, 1},
      {"w5x5", 1, 13, 13, 24, 40, 5, 1, 1}, {"d1x1", 1, 13, 13, 40, 72, 1, 1, 1}, {"d7s2", 1, 23, 21, 3, 24, 7, 2, 1},
      {"d1x1 5px", 1, 5, 5, 40, 72, 1, 1, 1}, {"d3x3s2 4px", 1, 8, 8, 24, 48, 3, 2, 1},
  };
  const int counts[3] = {3, 8, 16};
  dd_threadpool *pools[3];
  for (int i = 0; i < 3; i++) pools[i] = dd_threadpool_create(counts[i]);
  test_rng rng;
  test_rng_seed(&rng, 29);
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    const cshape *c = &shapes[si];
    dd_conv2d_params p = {{c->k, c->k, c->s, c->s, c->same ? DD_PADDING_SAME : DD_PADDING_VALID}, c->ci, c->co};
    dd_window_shape s;
    CHECK_OK(dd_window_shape_init(&p.win, c->n, c->h, c->w, &s, NULL));
    size_t nx = (size_t)c->n * c->h * c->w * c->ci, nf = (size_t)c->k * c->k * c->ci * c->co;
    size_t ny = (size_t)c->n * s.out_h * s.out_w * c->co;
    float *x = rnd(&rng, nx, -1, 1), *f = rnd(&rng, nf, -0.2f, 0.2f), *b = rnd(&rng, c->co, -0.5f, 0.5f);
    float *g = rnd(&rng, ny, -1, 1);
    float *y0 = test_alloc(ny), *y1 = test_alloc(ny), *dx0 = test_alloc(nx), *dx1 = test_alloc(nx);
    dd_conv2d_weights *w = NULL;
    CHECK_OK(dut->conv2d_create(&p, f, b, &w, NULL));
    const unsigned all = DD_CONV_FORWARD | DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA;
    CHECK_OK(dut->conv2d_prepare(w, &s, all, NULL, NULL, NULL));
    for (int i = 0; i < 3; i++) CHECK_OK(dut->conv2d_prepare(w, &s, all, NULL, pools[i], NULL));
    for (int relu = 0; relu <= 1; relu++) {
      dut->conv2d_forward(w, &s, x, y0, relu, NULL, NULL);
      for (int i = 0; i < 3; i++) {
        for (size_t k = 0; k < ny; k++) y1[k] = NAN;
        dut->conv2d_forward(w, &s, x, y1, relu, NULL, pools[i]);
        CHECKF(memcmp(y0, y1, ny * sizeof(float)) == 0, "%s forward relu=%d on %d threads differs from 1", c->name, relu,
               counts[i]);
      }
    }
    float *mask = make_mask(&rng, nx);
    for (int mk = 0; mk <= 1; mk++) {
      const float *m = mk ? mask : NULL;
      dut->conv2d_backward_data(w, &s, g, m, dx0, NULL, NULL);
      for (int i = 0; i < 3; i++) {
        for (size_t k = 0; k < nx; k++) dx1[k] = NAN;
        dut->conv2d_backward_data(w, &s, g, m, dx1, NULL, pools[i]);
        CHECKF(memcmp(dx0, dx1, nx * sizeof(float)) == 0, "%s data gradient (mask %d) on %d threads differs from 1",
               c->name, mk, counts[i]);
      }
    }
    free(mask);
    dut->conv2d_destroy(w);
    free(x), free(f), free(b), free(g), free(y0), free(y1), free(dx0), free(dx1);
  }
  /* GEMMs with few row blocks (a Dense layer's batch of 32 and its weight
     gradient; one row): the panel groups give 1 thread's bits */
  static const int gm[][5] = {{32, 512, 784, 0, 0}, {784, 512, 32, 1, 0}, {32, 784, 512, 0, 1}, {1, 1000, 1024, 0, 0}};
  for (size_t gi = 0; gi < sizeof gm / sizeof gm[0]; gi++) {
    const int m = gm[gi][0], n = gm[gi][1], k = gm[gi][2], ta = gm[gi][3], tb = gm[gi][4];
    float *a = rnd(&rng, (size_t)m * k, -1, 1), *b = rnd(&rng, (size_t)k * n, -1, 1);
    float *c0 = test_alloc((size_t)m * n), *c1 = test_alloc((size_t)m * n);
    dut->gemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0.0f, c0, n, NULL);
    for (int i = 0; i < 3; i++) {
      for (size_t q = 0; q < (size_t)m * n; q++) c1[q] = NAN;
      dut->gemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0.0f, c1, n, pools[i]);
      CHECKF(memcmp(c0, c1, (size_t)m * n * sizeof(float)) == 0, "gemm %dx%dx%d ta%d tb%d on %d threads differs from 1",
             m, n, k, ta, tb, counts[i]);
    }
    free(a), free(b), free(c0), free(c1);
  }
  for (int i = 0; i < 3; i++) dd_threadpool_destroy(pools[i]);
}

/* A conv of shape c with a random filter and bias from rng: its geometry
   and input/output sizes. */
static dd_conv2d_weights *cshape_conv(const cshape *c, test_rng *rng, dd_window_shape *sh, size_t *nx, size_t *ny) {
  dd_conv2d_params p = {{c->k, c->k, c->s, c->s, c->same ? DD_PADDING_SAME : DD_PADDING_VALID}, c->ci, c->co};
  CHECK_OK(dd_window_shape_init(&p.win, c->n, c->h, c->w, sh, NULL));
  *nx = (size_t)c->n * c->h * c->w * c->ci;
  *ny = (size_t)c->n * sh->out_h * sh->out_w * c->co;
  float *f = rnd(rng, (size_t)c->k * c->k * c->ci * c->co, -0.2f, 0.2f), *b = rnd(rng, c->co, -0.5f, 0.5f);
  dd_conv2d_weights *w = NULL;
  CHECK_OK(dut->conv2d_create(&p, f, b, &w, NULL));
  free(f), free(b);
  return w;
}

/* One workspace shared by convs of different geometries (the executor's
   case, kernels.h): prepared in sequence, run interleaved with the shared
   scratch poisoned (NaN) before every call, each gives the bits of the same
   conv on a workspace of its own, on 1, 2 and 8 threads; the shared
   workspace is as large as the largest private one, not their sum. Shapes:
   3x3 and 5x5 Winograd, the merged-row RGB forward and thin data gradient
   (conv2d0-like), a direct 1x1. */
static void test_conv_shared_workspace(void) {
  static const cshape shapes[] = {
      {"w3", 1, 19, 17, 32, 48, 3, 1, 1}, {"rgb7s2", 1, 41, 37, 3, 24, 7, 2, 1},
      {"w5", 1, 13, 15, 24, 40, 5, 1, 1}, {"d1x1", 1, 13, 13, 40, 72, 1, 1, 1},
  };
  enum { NS = sizeof shapes / sizeof shapes[0] };
  dd_threadpool *pool8 = dd_threadpool_create(8);
  dd_threadpool *pools[3] = {NULL, pool2, pool8};
  const unsigned all = DD_CONV_FORWARD | DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA;
  test_rng rng;
  test_rng_seed(&rng, 31);
  dd_workspace shared = {0}, own[NS];
  memset(own, 0, sizeof own);
  dd_conv2d_weights *w[NS] = {0};
  dd_window_shape sh[NS];
  float *x[NS], *g[NS], *y0[NS], *y1[NS], *dx0[NS], *dx1[NS];
  size_t nx[NS], ny[NS];
  for (int i = 0; i < NS; i++) {
    if (!(w[i] = cshape_conv(&shapes[i], &rng, &sh[i], &nx[i], &ny[i]))) return;
    x[i] = rnd(&rng, nx[i], -1, 1), g[i] = rnd(&rng, ny[i], -1, 1);
    y0[i] = test_alloc(ny[i]), y1[i] = test_alloc(ny[i]), dx0[i] = test_alloc(nx[i]), dx1[i] = test_alloc(nx[i]);
  }
  size_t largest = 0;
  for (int i = 0; i < NS; i++)
    for (int t = 0; t < 3; t++) {
      CHECK_OK(dut->conv2d_prepare(w[i], &sh[i], all, &own[i], pools[t], NULL));
      CHECK_OK(dut->conv2d_prepare(w[i], &sh[i], all, &shared, pools[t], NULL));
    }
  for (int i = 0; i < NS; i++) largest = own[i].cap > largest ? own[i].cap : largest;
  CHECKF(shared.cap == largest, "shared workspace %zu floats, the largest private one %zu", shared.cap, largest);
  for (int t = 0; t < 3; t++)
    for (int pass = 0; pass < 3; pass++) { /* forward, forward+relu, data gradient */
      for (int i = 0; i < NS; i++) {
        if (pass < 2) dut->conv2d_forward(w[i], &sh[i], x[i], y0[i], pass, &own[i], pools[t]);
        else dut->conv2d_backward_data(w[i], &sh[i], g[i], NULL, dx0[i], &own[i], pools[t]);
      }
      for (int i = NS - 1; i >= 0; i--) { /* the other order: each call after a different geometry's */
        for (size_t k = 0; k < shared.cap; k++) shared.buf[k] = NAN;
        if (pass < 2) {
          for (size_t k = 0; k < ny[i]; k++) y1[i][k] = NAN;
          dut->conv2d_forward(w[i], &sh[i], x[i], y1[i], pass, &shared, pools[t]);
          CHECKF(memcmp(y0[i], y1[i], ny[i] * sizeof(float)) == 0, "%s forward relu=%d, %d threads, shared workspace",
                 shapes[i].name, pass, dd_threadpool_size(pools[t]));
        } else {
          for (size_t k = 0; k < nx[i]; k++) dx1[i][k] = NAN;
          dut->conv2d_backward_data(w[i], &sh[i], g[i], NULL, dx1[i], &shared, pools[t]);
          CHECKF(memcmp(dx0[i], dx1[i], nx[i] * sizeof(float)) == 0, "%s data gradient, %d threads, shared workspace",
                 shapes[i].name, dd_threadpool_size(pools[t]));
        }
      }
    }
  for (int i = 0; i < NS; i++) {
    dut->conv2d_destroy(w[i]);
    dd_workspace_free(&own[i]);
    free(x[i]), free(g[i]), free(y0[i]), free(y1[i]), free(dx0[i]), free(dx1[i]);
  }
  dd_workspace_free(&shared);
  dd_threadpool_destroy(pool8);
}

/* conv_concurrent (kernels.h): the same weights run on two threads at once,
   each on a workspace of its own (the dream's lanes), give the bits of
   one call at a time. Each thread runs the forward (relu) and data
   gradient of every shape several times on its own inputs; the weights are
   prepared for both workspaces first, then only read. */
typedef struct conc_job {
  dd_conv2d_weights *const *w;
  const dd_window_shape *sh;
  float *const *x, *const *g;
  float **y, **dx;
  dd_workspace *ws;
  int n, reps;
} conc_job;
static void *conc_run(void *arg) {
  conc_job *j = (conc_job *)arg;
  for (int r = 0; r < j->reps; r++)
    for (int i = 0; i < j->n; i++) {
      dut->conv2d_forward(j->w[i], &j->sh[i], j->x[i], j->y[i], 1, j->ws, NULL);
      dut->conv2d_backward_data(j->w[i], &j->sh[i], j->g[i], NULL, j->dx[i], j->ws, NULL);
    }
  return NULL;
}
static void test_conv_concurrent(void) {
  static const cshape shapes[] = {
      {"w3", 1, 23, 19, 32, 48, 3, 1, 1}, {"rgb7s2", 1, 41, 37, 3, 24, 7, 2, 1},
      {"w5", 1, 13, 15, 24, 40, 5, 1, 1}, {"s2", 1, 17, 21, 16, 24, 3, 2, 1},
  };
  enum { NS = sizeof shapes / sizeof shapes[0], NT = 2 };
  CHECK(dut->conv_concurrent == 1 && ref->conv_concurrent == 1);
  const unsigned all = DD_CONV_FORWARD | DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA;
  test_rng rng;
  test_rng_seed(&rng, 57);
  dd_conv2d_weights *w[NS] = {0};
  dd_window_shape sh[NS];
  float *x[NT][NS], *g[NT][NS], *y[NT][NS], *dx[NT][NS], *y1[NS], *dx1[NS];
  size_t nx[NS], ny[NS];
  dd_workspace ws[NT + 1];
  memset(ws, 0, sizeof ws);
  for (int i = 0; i < NS; i++) {
    if (!(w[i] = cshape_conv(&shapes[i], &rng, &sh[i], &nx[i], &ny[i]))) return;
    for (int t = 0; t < NT; t++) {
      x[t][i] = rnd(&rng, nx[i], -1, 1), g[t][i] = rnd(&rng, ny[i], -1, 1);
      y[t][i] = test_alloc(ny[i]), dx[t][i] = test_alloc(nx[i]);
    }
    y1[i] = test_alloc(ny[i]), dx1[i] = test_alloc(nx[i]);
    for (int t = 0; t <= NT; t++) CHECK_OK(dut->conv2d_prepare(w[i], &sh[i], all, &ws[t], NULL, NULL));
  }
  conc_job jobs[NT];
  pthread_t th[NT];
  for (int t = 0; t < NT; t++) {
    jobs[t] = (conc_job){w, sh, x[t], g[t], y[t], dx[t], &ws[t], NS, 20};
    CHECK(pthread_create(&th[t], NULL, conc_run, &jobs[t]) == 0);
  }
  for (int t = 0; t < NT; t++) pthread_join(th[t], NULL);
  for (int t = 0; t < NT; t++)
    for (int i = 0; i < NS; i++) { /* one call at a time, on the third workspace */
      dut->conv2d_forward(w[i], &sh[i], x[t][i], y1[i], 1, &ws[NT], NULL);
      dut->conv2d_backward_data(w[i], &sh[i], g[t][i], NULL, dx1[i], &ws[NT], NULL);
      CHECKF(memcmp(y[t][i], y1[i], ny[i] * sizeof(float)) == 0, "%s forward on thread %d of %d at once",
             shapes[i].name, t, NT);
      CHECKF(memcmp(dx[t][i], dx1[i], nx[i] * sizeof(float)) == 0, "%s data gradient on thread %d of %d at once",
             shapes[i].name, t, NT);
    }
  for (int i = 0; i < NS; i++) {
    dut->conv2d_destroy(w[i]);
    for (int t = 0; t < NT; t++) free(x[t][i]), free(g[t][i]), free(y[t][i]), free(dx[t][i]);
    free(y1[i]), free(dx1[i]);
  }
  for (int t = 0; t <= NT; t++) dd_workspace_free(&ws[t]);
}

int main(void) {
  ref = dd_kernels_reference();
  dut = dd_kernels_simd128();
  CHECK(dut != NULL);
  if (!dut) return test_summary();
  pool2 = dd_threadpool_create(2);
  TEST_RUN(test_conv_thin_dgrad);
  TEST_RUN(test_ukernels);
  TEST_RUN(test_pool);
  TEST_RUN(test_lrn);
  TEST_RUN(test_gemm);
  /* every micro-kernel variant on the random shapes; the default on Inception */
  static const char *variants[] = {"4x8", "6x8", "4x8s4", "6x8s4"};
  for (int v = 0; v < 4; v++) {
    variant = variants[v];
    setenv("DD_IGEMM", variant, 1);
    printf("# igemm %s\n", variant);
    TEST_RUN(test_conv_random);
  }
  unsetenv("DD_IGEMM");
  (void)variant;
  TEST_RUN(test_conv_inception_13);
  TEST_RUN(test_conv_inception_28);
  TEST_RUN(test_conv_runs_only_prepared);
  TEST_RUN(test_conv_many_threads);
  TEST_RUN(test_conv_shared_workspace);
  TEST_RUN(test_conv_concurrent);
  printf("# %s conv forward/data-gradient worst error, of the output's scale: direct %.1e, Winograd %.1e\n",
         dut->name, worst_direct, worst_wino);
  dd_threadpool_destroy(pool2);
  return test_summary();
}
#endif
