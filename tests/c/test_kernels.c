/* test_kernels.c — the reference backend against independent double-precision
 * loops (forward) and central finite differences in double (every backward).
 *
 * The double helpers below are written from the TensorFlow definitions, with
 * their own padding arithmetic, so they share no code with the backend. Each
 * backward is checked as the gradient of L = sum(forward(x) * R) for a random
 * R: the backend's backward(R) must equal dL/dx computed by central
 * differences. The same checks run on every backend compiled in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "testutil.h"

/* Every run-time conv call a test makes, prepared at once. */
#define ALL_PASSES (DD_CONV_FORWARD | DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA)

/* ---- independent geometry ------------------------------------------------- */

typedef struct geo {
  int n, ih, iw, oh, ow, pt, pl; /* pt/pl: padding before */
} geo;

/* TF: SAME out = ceil(in/s), pad_before = floor(total/2); VALID out = floor((in-k)/s)+1. */
static void geo_axis(int in, int k, int s, int same, int *out, int *pad) {
  if (same) {
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + k - in;
    *pad = total > 0 ? total / 2 : 0;
  } else {
    *out = (in - k) / s + 1;
    *pad = 0;
  }
}

static geo geo_make(int n, int ih, int iw, int kh, int kw, int sh, int sw, int same) {
  geo g;
  g.n = n;
  g.ih = ih;
  g.iw = iw;
  geo_axis(ih, kh, sh, same, &g.oh, &g.pt);
  geo_axis(iw, kw, sw, same, &g.ow, &g.pl);
  return g;
}

/* ---- double-precision forward helpers -------------------------------------- */

typedef struct conv_case {
  int n, h, w, ci, co, kh, kw, sh, sw, same;
} conv_case;

/* out[n][oy][ox][o] = b[o] + sum_{ky,kx,i} x[n][oy*sh-pt+ky][ox*sw-pl+kx][i] * f[ky][kx][i][o] */
static void conv_d(const conv_case *c, const geo *g, const double *x, const double *f,
                   const double *b, int relu, double *out) {
  for (int n = 0; n < g->n; n++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++)
        for (int o = 0; o < c->co; o++) {
          double acc = b ? b[o] : 0.0;
          for (int ky = 0; ky < c->kh; ky++)
            for (int kx = 0; kx < c->kw; kx++) {
              int y = oy * c->sh - g->pt + ky, xx = ox * c->sw - g->pl + kx;
              if (y < 0 || y >= g->ih || xx < 0 || xx >= g->iw) continue;
              for (int i = 0; i < c->ci; i++)
                acc += x[((n * g->ih + y) * g->iw + xx) * c->ci + i] *
                       f[((ky * c->kw + kx) * c->ci + i) * c->co + o];
            }
          if (relu && acc < 0) acc = 0;
          out[((n * g->oh + oy) * g->ow + ox) * c->co + o] = acc;
        }
}

typedef struct pool_case {
  int n, h, w, c, kh, kw, sh, sw, same;
} pool_case;

static void pool_d(const pool_case *p, const geo *g, const double *x, int is_max, double *out) {
  for (int n = 0; n < g->n; n++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++)
        for (int ch = 0; ch < p->c; ch++) {
          double m = -INFINITY, sum = 0;
          int cnt = 0;
          for (int ky = 0; ky < p->kh; ky++)
            for (int kx = 0; kx < p->kw; kx++) {
              int y = oy * p->sh - g->pt + ky, xx = ox * p->sw - g->pl + kx;
              if (y < 0 || y >= g->ih || xx < 0 || xx >= g->iw) continue;
              double v = x[((n * g->ih + y) * g->iw + xx) * p->c + ch];
              if (v > m) m = v;
              sum += v;
              cnt++;
            }
          out[((n * g->oh + oy) * g->ow + ox) * p->c + ch] = is_max ? m : sum / cnt;
        }
}

static void lrn_d(const dd_lrn_params *p, int pixels, int c, const double *x, double *out) {
  for (int px = 0; px < pixels; px++)
    for (int i = 0; i < c; i++) {
      double s = 0;
      for (int j = i - p->depth_radius; j <= i + p->depth_radius; j++)
        if (j >= 0 && j < c) s += x[px * c + j] * x[px * c + j];
      out[px * c + i] =
          x[px * c + i] / pow((double)p->bias + (double)p->alpha * s, (double)p->beta);
    }
}

typedef struct gemm_case {
  int ta, tb, m, n, k, lda, ldb, ldc;
} gemm_case;

static double gemm_a(const gemm_case *g, const double *a, int i, int p) {
  return g->ta ? a[p * g->lda + i] : a[i * g->lda + p];
}
static double gemm_b(const gemm_case *g, const double *b, int p, int j) {
  return g->tb ? b[j * g->ldb + p] : b[p * g->ldb + j];
}
static void gemm_d(const gemm_case *g, const double *a, const double *b, double *c) {
  for (int i = 0; i < g->m; i++)
    for (int j = 0; j < g->n; j++) {
      double acc = 0;
      for (int p = 0; p < g->k; p++) acc += gemm_a(g, a, i, p) * gemm_b(g, b, p, j);
      c[i * g->ldc + j] = acc;
    }
}

/* ---- utilities ------------------------------------------------------------- */

static double *to_double(const float *x, size_t n) {
  double *d = test_alloc_d(n);
  for (size_t i = 0; i < n; i++) d[i] = x[i];
  return d;
}
static float *rand_floats(test_rng *r, size_t n, float lo, float hi) {
  float *x = test_alloc(n);
  test_fill(r, x, n, lo, hi);
  return x;
}
static double dot_d(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}
static double max_abs_d(const double *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
  return m;
}
/* Compares a float result to a double oracle: |got-want| <= atol_rel*max|want| + rtol*|want|. */
static int close_d(const char *what, const float *got, const double *want, size_t n,
                   double atol_rel, double rtol) {
  float *wf = test_alloc(n);
  for (size_t i = 0; i < n; i++) wf[i] = (float)want[i];
  double scale = max_abs_d(want, n);
  int ok = test_close(what, got, wf, n, atol_rel * (scale > 0 ? scale : 1.0), rtol);
  free(wf);
  return ok;
}

/* Central differences of loss(ctx) with respect to each of param[0..n). */
typedef double (*loss_fn)(void *ctx);
static void fd_grad(double *param, size_t n, double h, loss_fn loss, void *ctx, double *grad) {
  for (size_t i = 0; i < n; i++) {
    double save = param[i];
    param[i] = save + h;
    double lp = loss(ctx);
    param[i] = save - h;
    double lm = loss(ctx);
    param[i] = save;
    grad[i] = (lp - lm) / (2 * h);
  }
}

/* Backward vs FD tolerance: relative 1e-3 per element, plus 1e-5 of the
   gradient's largest magnitude for elements near zero. */
#define FD_RTOL 1e-3
#define FD_ATOL_REL 1e-5

static const dd_kernels *backends[3];
static int num_backends;

/* ---- geometry -------------------------------------------------------------- */

static void check_shape(int in_h, int in_w, int k_h, int k_w, int s_h, int s_w, dd_padding pad,
                        int oh, int ow, int pt, int pb, int pl, int pr) {
  dd_window win = {k_h, k_w, s_h, s_w, pad};
  dd_window_shape s;
  dd_error err;
  CHECK_OK(dd_window_shape_init(&win, 1, in_h, in_w, &s, &err));
  CHECKF(s.out_h == oh && s.out_w == ow && s.pad_top == pt && s.pad_bottom == pb &&
             s.pad_left == pl && s.pad_right == pr && s.n == 1 && s.in_h == in_h && s.in_w == in_w,
         "in %dx%d k %dx%d s %dx%d %s: got out %dx%d pads t%d b%d l%d r%d", in_h, in_w, k_h, k_w,
         s_h, s_w, pad ? "SAME" : "VALID", s.out_h, s.out_w, s.pad_top, s.pad_bottom, s.pad_left,
         s.pad_right);
}

static void test_window_shape(void) {
  /* Inception 5h: conv2d0 7x7/2 SAME on 224 -> 112, total pad 5: 2 top, 3 bottom. */
  check_shape(224, 224, 7, 7, 2, 2, DD_PADDING_SAME, 112, 112, 2, 3, 2, 3);
  /* maxpool0 3x3/2 SAME on 112 -> 56, total 1: extra pixel bottom/right. */
  check_shape(112, 112, 3, 3, 2, 2, DD_PADDING_SAME, 56, 56, 0, 1, 0, 1);
  /* odd input, stride 2: 7 -> 4, total 2. */
  check_shape(7, 7, 3, 3, 2, 2, DD_PADDING_SAME, 4, 4, 1, 1, 1, 1);
  /* stride 1 SAME 3x3 / 5x5 / 1x1. */
  check_shape(13, 13, 3, 3, 1, 1, DD_PADDING_SAME, 13, 13, 1, 1, 1, 1);
  check_shape(13, 13, 5, 5, 1, 1, DD_PADDING_SAME, 13, 13, 2, 2, 2, 2);
  check_shape(13, 13, 1, 1, 1, 1, DD_PADDING_SAME, 13, 13, 0, 0, 0, 0);
  /* even kernel: total 1, extra at the bottom. */
  check_shape(6, 6, 2, 2, 1, 1, DD_PADDING_SAME, 6, 6, 0, 1, 0, 1);
  /* SAME where stride exceeds the kernel: total pad clamps at 0. */
  check_shape(9, 9, 1, 1, 3, 3, DD_PADDING_SAME, 3, 3, 0, 0, 0, 0);
  check_shape(10, 10, 1, 1, 3, 3, DD_PADDING_SAME, 4, 4, 0, 0, 0, 0);
  /* SAME with a kernel larger than the input. */
  check_shape(3, 3, 7, 7, 1, 1, DD_PADDING_SAME, 3, 3, 3, 3, 3, 3);
  /* VALID: head0 avgpool 5x5/3 on 14 -> 4; avgpool0 7x7/1 on 7 -> 1. */
  check_shape(14, 14, 5, 5, 3, 3, DD_PADDING_VALID, 4, 4, 0, 0, 0, 0);
  check_shape(7, 7, 7, 7, 1, 1, DD_PADDING_VALID, 1, 1, 0, 0, 0, 0);
  check_shape(8, 11, 3, 1, 2, 3, DD_PADDING_VALID, 3, 4, 0, 0, 0, 0);
  /* non-square, mixed strides. */
  check_shape(9, 10, 3, 5, 2, 1, DD_PADDING_SAME, 5, 10, 1, 1, 2, 2);

  dd_window win = {7, 7, 1, 1, DD_PADDING_VALID};
  dd_window_shape s;
  dd_error err;
  err.status = DD_OK;
  CHECK(dd_window_shape_init(&win, 1, 6, 9, &s, &err) == DD_ERR_SHAPE);
  CHECK(err.status == DD_ERR_SHAPE && err.message[0] != 0);
  CHECK(dd_window_shape_init(&win, 0, 9, 9, &s, &err) == DD_ERR_SHAPE);
  CHECK(dd_window_shape_init(&win, 1, 0, 9, &s, &err) == DD_ERR_SHAPE);
  dd_window bad = {3, 3, 0, 1, DD_PADDING_SAME};
  CHECK(dd_window_shape_init(&bad, 1, 9, 9, &s, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_window_shape_init(NULL, 1, 9, 9, &s, NULL) == DD_ERR_INVALID_ARGUMENT);
}

static void test_registry(void) {
  CHECK(dd_kernels_reference() != NULL);
  CHECK(dd_kernels_get(DD_BACKEND_REFERENCE) == dd_kernels_reference());
  CHECK(dd_kernels_get(DD_BACKEND_SIMD128) == dd_kernels_simd128());
  CHECK(dd_kernels_get(DD_BACKEND_XNNPACK) == dd_kernels_xnnpack());
  CHECK(dd_kernels_get(DD_BACKEND_AUTO) != NULL);
  if (dd_kernels_simd128()) CHECK(dd_kernels_get(DD_BACKEND_AUTO) == dd_kernels_simd128());
#ifndef DD_HAVE_XNNPACK
  CHECK(dd_kernels_xnnpack() == NULL);
#endif
  for (int b = 0; b < num_backends; b++) {
    const dd_kernels *k = backends[b];
    CHECK(k->name && k->conv2d_create && k->conv2d_destroy && k->conv2d_prepare && k->conv2d_forward &&
          k->conv2d_backward_data && k->conv2d_backward_filter && k->max_pool_forward &&
          k->max_pool_backward && k->avg_pool_forward && k->avg_pool_backward && k->lrn_forward &&
          k->lrn_backward && k->gemm);
  }
}

/* ---- hand-computed cases (guard against the oracle sharing a mistake) ------ */

static void test_conv_hand(void) {
  for (int b = 0; b < num_backends; b++) {
    const dd_kernels *K = backends[b];
    /* 4x4 input 1..16, 3x3 ones, stride 2 SAME: pads t0 b1 l0 r1. */
    float x[16 + 4], f[9], out[4];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    for (int i = 0; i < 9; i++) f[i] = 1.0f;
    dd_conv2d_params p = {{3, 3, 2, 2, DD_PADDING_SAME}, 1, 1};
    float bias = 0.5f;
    dd_conv2d_weights *w = NULL;
    dd_window_shape s;
    CHECK_OK(dd_window_shape_init(&p.win, 1, 4, 4, &s, NULL));
    CHECK_OK(K->conv2d_create(&p, f, &bias, &w, NULL));
    if (!w) continue;
    CHECK_OK(K->conv2d_prepare(w, &s, ALL_PASSES, NULL, NULL, NULL));
    K->conv2d_forward(w, &s, x, out, 0, NULL, NULL);
    /* (0,0): rows 0-2 cols 0-2; (0,1): rows 0-2 cols 2-3; (1,0): rows 2-3 cols 0-2; (1,1): rows 2-3 cols 2-3 */
    float want[4] = {54.5f, 45.5f, 72.5f, 54.5f};
    CHECKF(memcmp(out, want, sizeof want) == 0, "%s: conv hand case got %g %g %g %g", K->name,
           out[0], out[1], out[2], out[3]);
    /* negative bias with relu */
    K->conv2d_destroy(w);
    bias = -50.0f;
    CHECK_OK(K->conv2d_create(&p, f, &bias, &w, NULL));
    CHECK_OK(K->conv2d_prepare(w, &s, ALL_PASSES, NULL, NULL, NULL));
    K->conv2d_forward(w, &s, x, out, 1, NULL, NULL);
    float want_relu[4] = {4.0f, 0.0f, 22.0f, 4.0f};
    CHECKF(memcmp(out, want_relu, sizeof want_relu) == 0, "%s: relu hand case got %g %g %g %g",
           K->name, out[0], out[1], out[2], out[3]);
    K->conv2d_destroy(w);
  }
}

static void test_pool_hand(void) {
  for (int b = 0; b < num_backends; b++) {
    const dd_kernels *K = backends[b];
    /* 3x3 input, 2x2 stride 2 SAME: out 2x2, pads t0 b1 l0 r1. */
    float x[9 + 4] = {1, 5, 2, 5, 3, 9, 7, 8, 4};
    dd_window win = {2, 2, 2, 2, DD_PADDING_SAME};
    dd_window_shape s;
    CHECK_OK(dd_window_shape_init(&win, 1, 3, 3, &s, NULL));
    float out[4];
    K->avg_pool_forward(&win, &s, 1, x, out, NULL);
    /* divisors 4, 2, 2, 1 (padding excluded) */
    float want_avg[4] = {14.0f / 4, 11.0f / 2, 15.0f / 2, 4.0f};
    CHECK(test_close("avg hand", out, want_avg, 4, 0, 1e-6));
    K->max_pool_forward(&win, &s, 1, x, out, NULL);
    float want_max[4] = {5, 9, 8, 4};
    CHECK(memcmp(out, want_max, sizeof want_max) == 0);
    /* ties: window 0 holds 5 at (0,1) and (1,0): the first in row-major order wins */
    float g[4] = {1, 10, 100, 1000}, din[9];
    K->max_pool_backward(&win, &s, 1, x, g, NULL, din, NULL);
    float want_din[9] = {0, 1, 0, 0, 0, 10, 0, 100, 1000};
    CHECKF(memcmp(din, want_din, sizeof din) == 0, "%s: max pool tie routing", K->name);
    K->avg_pool_backward(&win, &s, 1, g, din, NULL);
    float want_davg[9] = {0.25f, 0.25f, 5, 0.25f, 0.25f, 5, 50, 50, 1000};
    CHECK(test_close("avg backward hand", din, want_davg, 9, 0, 1e-6));
    /* overlapping 3x3/1 windows, all equal: every window routes to its own first cell */
    float flat[9 + 4];
    for (int i = 0; i < 9; i++) flat[i] = 2.0f;
    dd_window w3 = {3, 3, 1, 1, DD_PADDING_SAME};
    CHECK_OK(dd_window_shape_init(&w3, 1, 3, 3, &s, NULL));
    float g9[9], d9[9];
    for (int i = 0; i < 9; i++) g9[i] = 1.0f;
    K->max_pool_backward(&w3, &s, 1, flat, g9, NULL, d9, NULL);
    /* first cell of window (oy,ox) is (max(oy-1,0), max(ox-1,0)) */
    float want9[9] = {0};
    for (int oy = 0; oy < 3; oy++)
      for (int ox = 0; ox < 3; ox++) want9[(oy ? oy - 1 : 0) * 3 + (ox ? ox - 1 : 0)] += 1;
    CHECKF(memcmp(d9, want9, sizeof d9) == 0, "%s: max pool all-equal routing", K->name);
  }
}

static void test_lrn_hand(void) {
  for (int b = 0; b < num_backends; b++) {
    const dd_kernels *K = backends[b];
    float x[3 + 4] = {1, 2, 3}, y[3];
    dd_lrn_params p = {1, 1.0f, 0.5f, 1.0f}; /* alpha NOT divided by the window size */
    K->lrn_forward(&p, 1, 3, x, y, NULL);
    float want[3] = {1.0f / (1 + 0.5f * 5), 2.0f / (1 + 0.5f * 14), 3.0f / (1 + 0.5f * 13)};
    CHECK(test_close("lrn hand", y, want, 3, 0, 1e-6));
  }
}

/* ---- convolution ----------------------------------------------------------- */

static const conv_case conv_cases[] = {
    /* n  h   w  ci co kh kw sh sw same */
    {1, 5, 5, 1, 1, 1, 1, 1, 1, 1},   {1, 7, 9, 3, 4, 3, 3, 1, 1, 1},
    {2, 7, 6, 3, 5, 3, 3, 2, 2, 1},   {1, 8, 8, 4, 3, 3, 3, 2, 2, 1},
    {2, 9, 7, 2, 6, 5, 5, 1, 1, 1},   {1, 11, 10, 3, 4, 5, 5, 2, 2, 0},
    {1, 13, 11, 3, 8, 7, 7, 2, 2, 1}, {2, 9, 9, 2, 3, 7, 7, 1, 1, 0},
    {2, 6, 5, 5, 7, 1, 1, 1, 1, 0},   {1, 7, 7, 6, 5, 1, 1, 2, 2, 1},
    {1, 9, 8, 3, 3, 3, 5, 2, 1, 1},   {1, 10, 7, 4, 9, 3, 3, 1, 1, 0},
    {1, 4, 4, 3, 2, 7, 7, 1, 1, 1},   {2, 12, 12, 3, 4, 7, 7, 2, 2, 1},
};
#define NUM_CONV_CASES ((int)(sizeof conv_cases / sizeof conv_cases[0]))

typedef struct conv_ctx {
  const conv_case *c;
  const geo *g;
  double *x, *f, *b, *r, *out;
} conv_ctx;

static double conv_loss(void *vctx) {
  conv_ctx *t = (conv_ctx *)vctx;
  conv_d(t->c, t->g, t->x, t->f, t->b, 0, t->out);
  return dot_d(t->out, t->r, (size_t)t->g->n * t->g->oh * t->g->ow * t->c->co);
}

static void run_conv_case(const dd_kernels *K, const conv_case *c, test_rng *rng) {
  geo g = geo_make(c->n, c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->same);
  dd_conv2d_params p = {{c->kh, c->kw, c->sh, c->sw, c->same ? DD_PADDING_SAME : DD_PADDING_VALID},
                        c->ci, c->co};
  dd_window_shape s;
  CHECK_OK(dd_window_shape_init(&p.win, c->n, c->h, c->w, &s, NULL));
  CHECKF(s.out_h == g.oh && s.out_w == g.ow && s.pad_top == g.pt && s.pad_left == g.pl,
         "geometry disagrees");
  size_t nx = (size_t)c->n * c->h * c->w * c->ci, nf = (size_t)c->kh * c->kw * c->ci * c->co;
  size_t ny = (size_t)c->n * g.oh * g.ow * c->co;
  float *x = rand_floats(rng, nx, -1, 1), *f = rand_floats(rng, nf, -1, 1);
  float *b = rand_floats(rng, c->co, -1, 1), *r = rand_floats(rng, ny, -1, 1);
  float *y = test_alloc(ny), *dx = test_alloc(nx), *df = test_alloc(nf), *db = test_alloc(c->co);
  double *xd = to_double(x, nx), *fd = to_double(f, nf), *bd = to_double(b, c->co);
  double *rd = to_double(r, ny), *yd = test_alloc_d(ny);
  char what[160];
  snprintf(what, sizeof what, "%s conv n%d %dx%d %d->%d k%dx%d s%dx%d %s", K->name, c->n, c->h,
           c->w, c->ci, c->co, c->kh, c->kw, c->sh, c->sw, c->same ? "SAME" : "VALID");

  dd_conv2d_weights *w = NULL;
  CHECK_OK(K->conv2d_create(&p, f, b, &w, NULL));
  if (w) CHECK_OK(K->conv2d_prepare(w, &s, ALL_PASSES, NULL, NULL, NULL));
  if (w) {
    for (int relu = 0; relu <= 1; relu++) {
      K->conv2d_forward(w, &s, x, y, relu, NULL, NULL);
      conv_d(c, &g, xd, fd, bd, relu, yd);
      char fw[200];
      snprintf(fw, sizeof fw, "%s forward relu=%d", what, relu);
      CHECKF(close_d(fw, y, yd, ny, 1e-6, 1e-5), "%s", fw);
    }
    conv_ctx t = {c, &g, xd, fd, bd, rd, yd};
    double *gx = test_alloc_d(nx), *gf = test_alloc_d(nf), *gb = test_alloc_d(c->co);
    fd_grad(xd, nx, 1e-3, conv_loss, &t, gx);
    fd_grad(fd, nf, 1e-3, conv_loss, &t, gf);
    fd_grad(bd, c->co, 1e-3, conv_loss, &t, gb);
    for (size_t i = 0; i < nx; i++) dx[i] = NAN; /* must be overwritten */
    K->conv2d_backward_data(w, &s, r, NULL, dx, NULL, NULL);
    CHECKF(close_d("backward_data", dx, gx, nx, FD_ATOL_REL, FD_RTOL), "%s backward_data", what);
    for (size_t i = 0; i < nf; i++) df[i] = NAN;
    for (int i = 0; i < c->co; i++) db[i] = NAN;
    K->conv2d_backward_filter(&p, &s, x, r, df, db, NULL);
    CHECKF(close_d("backward_filter", df, gf, nf, FD_ATOL_REL, FD_RTOL), "%s backward_filter",
           what);
    CHECKF(close_d("backward_bias", db, gb, c->co, FD_ATOL_REL, FD_RTOL), "%s dbias", what);
    K->conv2d_backward_filter(&p, &s, x, r, df, NULL, NULL); /* dbias may be NULL */
    CHECKF(close_d("backward_filter nobias", df, gf, nf, FD_ATOL_REL, FD_RTOL), "%s", what);
    free(gx);
    free(gf);
    free(gb);
    K->conv2d_destroy(w);
  }
  /* bias NULL means zero */
  w = NULL;
  CHECK_OK(K->conv2d_create(&p, f, NULL, &w, NULL));
  if (w) CHECK_OK(K->conv2d_prepare(w, &s, ALL_PASSES, NULL, NULL, NULL));
  if (w) {
    K->conv2d_forward(w, &s, x, y, 0, NULL, NULL);
    conv_d(c, &g, xd, fd, NULL, 0, yd);
    CHECKF(close_d("forward nobias", y, yd, ny, 1e-6, 1e-5), "%s forward bias=NULL", what);
    K->conv2d_destroy(w);
  }
  free(x), free(f), free(b), free(r), free(y), free(dx), free(df), free(db);
  free(xd), free(fd), free(bd), free(rd), free(yd);
}

static void test_conv(void) {
  test_rng rng;
  test_rng_seed(&rng, 1);
  for (int b = 0; b < num_backends; b++)
    for (int i = 0; i < NUM_CONV_CASES; i++) run_conv_case(backends[b], &conv_cases[i], &rng);
}

static void test_conv_create_errors(void) {
  for (int b = 0; b < num_backends; b++) {
    const dd_kernels *K = backends[b];
    float f[9] = {0};
    dd_conv2d_weights *w = (dd_conv2d_weights *)(void *)f; /* must stay untouched */
    dd_conv2d_params p = {{3, 3, 1, 1, DD_PADDING_SAME}, 0, 1};
    dd_error err;
    err.status = DD_OK;
    CHECK(K->conv2d_create(&p, f, NULL, &w, &err) == DD_ERR_INVALID_ARGUMENT);
    CHECK(err.status == DD_ERR_INVALID_ARGUMENT);
    CHECK(w == (dd_conv2d_weights *)(void *)f);
    p.in_c = 1;
    CHECK(K->conv2d_create(&p, NULL, NULL, &w, &err) == DD_ERR_INVALID_ARGUMENT);
    K->conv2d_destroy(NULL);
  }
}

/* ---- pooling --------------------------------------------------------------- */

static const pool_case pool_cases[] = {
    /* n h  w  c kh kw sh sw same */
    {1, 7, 7, 3, 3, 3, 2, 2, 1},  {2, 8, 9, 5, 3, 3, 2, 2, 1}, {1, 9, 9, 4, 3, 3, 1, 1, 1},
    {1, 7, 7, 6, 7, 7, 1, 1, 0},  {2, 14, 13, 3, 5, 5, 3, 3, 0}, {1, 6, 5, 2, 2, 2, 2, 2, 0},
    {1, 5, 8, 7, 3, 2, 1, 2, 1},  {2, 4, 4, 9, 5, 5, 1, 1, 1},
    /* 16-channel blocks (simd128's wide path) plus a 4-channel and a scalar tail */
    {1, 6, 7, 21, 3, 3, 2, 2, 1}, {1, 5, 6, 18, 3, 2, 2, 1, 0},
};
#define NUM_POOL_CASES ((int)(sizeof pool_cases / sizeof pool_cases[0]))

typedef struct pool_ctx {
  const pool_case *p;
  const geo *g;
  int is_max;
  double *x, *r, *out;
} pool_ctx;

static double pool_loss(void *vctx) {
  pool_ctx *t = (pool_ctx *)vctx;
  pool_d(t->p, t->g, t->x, t->is_max, t->out);
  return dot_d(t->out, t->r, (size_t)t->g->n * t->g->oh * t->g->ow * t->p->c);
}

static void run_pool_case(const dd_kernels *K, const pool_case *pc, test_rng *rng) {
  geo g = geo_make(pc->n, pc->h, pc->w, pc->kh, pc->kw, pc->sh, pc->sw, pc->same);
  dd_window win = {pc->kh, pc->kw, pc->sh, pc->sw, pc->same ? DD_PADDING_SAME : DD_PADDING_VALID};
  dd_window_shape s;
  CHECK_OK(dd_window_shape_init(&win, pc->n, pc->h, pc->w, &s, NULL));
  size_t nx = (size_t)pc->n * pc->h * pc->w * pc->c, ny = (size_t)pc->n * g.oh * g.ow * pc->c;
  /* distinct values (a shuffled ramp) keep the max away from ties for FD */
  float *x = test_alloc(nx);
  for (size_t i = 0; i < nx; i++) x[i] = (float)i / (float)nx - 0.5f;
  for (size_t i = nx - 1; i > 0; i--) {
    size_t j = (size_t)test_randint(rng, 0, (int)i);
    float t = x[i];
    x[i] = x[j];
    x[j] = t;
  }
  float *r = rand_floats(rng, ny, -1, 1), *y = test_alloc(ny), *dx = test_alloc(nx);
  double *xd = to_double(x, nx), *rd = to_double(r, ny), *yd = test_alloc_d(ny);
  double *gx = test_alloc_d(nx);
  char what[160];
  snprintf(what, sizeof what, "%s pool n%d %dx%dx%d k%dx%d s%dx%d %s", K->name, pc->n, pc->h,
           pc->w, pc->c, pc->kh, pc->kw, pc->sh, pc->sw, pc->same ? "SAME" : "VALID");
  for (int is_max = 0; is_max <= 1; is_max++) {
    if (is_max)
      K->max_pool_forward(&win, &s, pc->c, x, y, NULL);
    else
      K->avg_pool_forward(&win, &s, pc->c, x, y, NULL);
    pool_d(pc, &g, xd, is_max, yd);
    CHECKF(close_d(is_max ? "max forward" : "avg forward", y, yd, ny, 1e-7, 1e-6), "%s %s", what,
           is_max ? "max" : "avg");
    pool_ctx t = {pc, &g, is_max, xd, rd, yd};
    /* h well below the gap between distinct inputs (1/nx): max is piecewise linear */
    fd_grad(xd, nx, 1e-2 / (double)nx, pool_loss, &t, gx);
    for (size_t i = 0; i < nx; i++) dx[i] = NAN;
    if (is_max)
      K->max_pool_backward(&win, &s, pc->c, x, r, NULL, dx, NULL);
    else
      K->avg_pool_backward(&win, &s, pc->c, r, dx, NULL);
    CHECKF(close_d(is_max ? "max backward" : "avg backward", dx, gx, nx, FD_ATOL_REL, FD_RTOL),
           "%s %s backward", what, is_max ? "max" : "avg");
  }
  free(x), free(r), free(y), free(dx), free(xd), free(rd), free(yd), free(gx);
}

static void test_pool(void) {
  test_rng rng;
  test_rng_seed(&rng, 2);
  for (int b = 0; b < num_backends; b++)
    for (int i = 0; i < NUM_POOL_CASES; i++) run_pool_case(backends[b], &pool_cases[i], &rng);
}

/* ---- LRN ------------------------------------------------------------------- */

typedef struct lrn_ctx {
  const dd_lrn_params *p;
  int pixels, c;
  double *x, *r, *out;
} lrn_ctx;

static double lrn_loss(void *vctx) {
  lrn_ctx *t = (lrn_ctx *)vctx;
  lrn_d(t->p, t->pixels, t->c, t->x, t->out);
  return dot_d(t->out, t->r, (size_t)t->pixels * t->c);
}

static void run_lrn_case(const dd_kernels *K, const dd_lrn_params *p, int pixels, int c,
                         float scale, test_rng *rng) {
  size_t nx = (size_t)pixels * c;
  float *x = rand_floats(rng, nx, -scale, scale), *r = rand_floats(rng, nx, -1, 1);
  float *y = test_alloc(nx), *dx = test_alloc(nx);
  double *xd = to_double(x, nx), *rd = to_double(r, nx), *yd = test_alloc_d(nx);
  double *gx = test_alloc_d(nx);
  char what[160];
  snprintf(what, sizeof what, "%s lrn px%d c%d r%d bias%g alpha%g beta%g", K->name, pixels, c,
           p->depth_radius, p->bias, p->alpha, p->beta);
  K->lrn_forward(p, (size_t)pixels, c, x, y, NULL);
  lrn_d(p, pixels, c, xd, yd);
  CHECKF(close_d("lrn forward", y, yd, nx, 1e-6, 1e-5), "%s forward", what);
  lrn_ctx t = {p, pixels, c, xd, rd, yd};
  fd_grad(xd, nx, 1e-4 * scale, lrn_loss, &t, gx);
  for (size_t i = 0; i < nx; i++) dx[i] = NAN;
  K->lrn_backward(p, (size_t)pixels, c, x, r, NULL, dx, NULL);
  CHECKF(close_d("lrn backward", dx, gx, nx, FD_ATOL_REL, FD_RTOL), "%s backward", what);
  free(x), free(r), free(y), free(dx), free(xd), free(rd), free(yd), free(gx);
}

static void test_lrn(void) {
  test_rng rng;
  test_rng_seed(&rng, 3);
  dd_lrn_params inception = {5, 2.0f, 1e-4f, 0.5f};
  dd_lrn_params strong = {2, 1.0f, 0.5f, 0.75f}; /* cross-channel terms matter */
  dd_lrn_params wide = {4, 0.5f, 0.3f, 0.5f};   /* radius beyond the channel count */
  dd_lrn_params beta1 = {1, 1.5f, 0.2f, 1.0f};
  for (int b = 0; b < num_backends; b++) {
    run_lrn_case(backends[b], &inception, 5, 16, 30.0f, &rng); /* values like conv2d0 output */
    run_lrn_case(backends[b], &inception, 3, 13, 1.0f, &rng);
    run_lrn_case(backends[b], &strong, 4, 7, 1.0f, &rng);
    run_lrn_case(backends[b], &strong, 2, 1, 1.0f, &rng);
    run_lrn_case(backends[b], &wide, 3, 3, 1.0f, &rng);
    run_lrn_case(backends[b], &beta1, 3, 20, 1.0f, &rng);
  }
}

/* ---- gemm ------------------------------------------------------------------ */

typedef struct gemm_ctx {
  const gemm_case *g;
  double *a, *b, *r, *c;
} gemm_ctx;

static double gemm_loss(void *vctx) {
  gemm_ctx *t = (gemm_ctx *)vctx;
  gemm_d(t->g, t->a, t->b, t->c);
  double s = 0;
  for (int i = 0; i < t->g->m; i++)
    for (int j = 0; j < t->g->n; j++) s += t->c[i * t->g->ldc + j] * t->r[i * t->g->n + j];
  return s;
}

static void run_gemm_case(const dd_kernels *K, const gemm_case *gc, test_rng *rng) {
  const int m = gc->m, n = gc->n, k = gc->k;
  size_t na = (size_t)(gc->ta ? k : m) * gc->lda, nb = (size_t)(gc->tb ? n : k) * gc->ldb;
  size_t nc = (size_t)m * gc->ldc;
  float *a = rand_floats(rng, na, -1, 1), *b = rand_floats(rng, nb, -1, 1);
  float *c0 = rand_floats(rng, nc, -1, 1), *c = test_alloc(nc), *r = rand_floats(rng, (size_t)m * n, -1, 1);
  double *ad = to_double(a, na), *bd = to_double(b, nb), *cd = test_alloc_d(nc);
  double *rd = to_double(r, (size_t)m * n);
  char what[160];
  snprintf(what, sizeof what, "%s gemm ta%d tb%d m%d n%d k%d lda%d ldb%d ldc%d", K->name, gc->ta,
           gc->tb, m, n, k, gc->lda, gc->ldb, gc->ldc);
  gemm_d(gc, ad, bd, cd);
  /* beta 0: C is overwritten (NaN garbage must not leak); padding columns untouched */
  for (size_t i = 0; i < nc; i++) c[i] = NAN;
  for (int i = 0; i < m; i++)
    for (int j = n; j < gc->ldc; j++) c[(size_t)i * gc->ldc + j] = 7.0f;
  K->gemm(gc->ta, gc->tb, m, n, k, a, gc->lda, b, gc->ldb, 0.0f, c, gc->ldc, NULL);
  float *got = test_alloc((size_t)m * n), *pad_ok = test_alloc(1);
  double *want = test_alloc_d((size_t)m * n);
  int pads = 1;
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) {
      got[i * n + j] = c[(size_t)i * gc->ldc + j];
      want[i * n + j] = cd[(size_t)i * gc->ldc + j];
    }
    for (int j = n; j < gc->ldc; j++) pads &= c[(size_t)i * gc->ldc + j] == 7.0f;
  }
  CHECKF(close_d("gemm beta0", got, want, (size_t)m * n, 1e-6, 1e-5), "%s beta=0", what);
  CHECKF(pads, "%s wrote past n", what);
  /* beta 1 accumulates */
  memcpy(c, c0, nc * sizeof(float));
  K->gemm(gc->ta, gc->tb, m, n, k, a, gc->lda, b, gc->ldb, 1.0f, c, gc->ldc, NULL);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      got[i * n + j] = c[(size_t)i * gc->ldc + j];
      want[i * n + j] = cd[(size_t)i * gc->ldc + j] + c0[(size_t)i * gc->ldc + j];
    }
  CHECKF(close_d("gemm beta1", got, want, (size_t)m * n, 1e-6, 1e-5), "%s beta=1", what);

  /* Gradients of L = sum(C * R), computed with the backend's own gemm:
     !ta: dA[m][k] = R . op(B)^T     ta: dA[k][m] = op(B) . R^T
     !tb: dB[k][n] = op(A)^T . R     tb: dB[n][k] = R^T . op(A)           */
  int rows_a = gc->ta ? k : m, cols_a = gc->ta ? m : k;
  int rows_b = gc->tb ? n : k, cols_b = gc->tb ? k : n;
  float *da = test_alloc((size_t)rows_a * cols_a), *db = test_alloc((size_t)rows_b * cols_b);
  if (!gc->ta)
    K->gemm(0, !gc->tb, m, k, n, r, n, b, gc->ldb, 0.0f, da, cols_a, NULL);
  else
    K->gemm(gc->tb, 1, k, m, n, b, gc->ldb, r, n, 0.0f, da, cols_a, NULL);
  if (!gc->tb)
    K->gemm(!gc->ta, 0, k, n, m, a, gc->lda, r, n, 0.0f, db, cols_b, NULL);
  else
    K->gemm(1, gc->ta, n, k, m, r, n, a, gc->lda, 0.0f, db, cols_b, NULL);
  gemm_ctx t = {gc, ad, bd, rd, cd};
  double *ga = test_alloc_d(na), *gb = test_alloc_d(nb);
  fd_grad(ad, na, 1e-3, gemm_loss, &t, ga);
  fd_grad(bd, nb, 1e-3, gemm_loss, &t, gb);
  double *ga_packed = test_alloc_d((size_t)rows_a * cols_a);
  double *gb_packed = test_alloc_d((size_t)rows_b * cols_b);
  for (int i = 0; i < rows_a; i++)
    for (int j = 0; j < cols_a; j++) ga_packed[i * cols_a + j] = ga[(size_t)i * gc->lda + j];
  for (int i = 0; i < rows_b; i++)
    for (int j = 0; j < cols_b; j++) gb_packed[i * cols_b + j] = gb[(size_t)i * gc->ldb + j];
  CHECKF(close_d("gemm dA", da, ga_packed, (size_t)rows_a * cols_a, FD_ATOL_REL, FD_RTOL),
         "%s dA", what);
  CHECKF(close_d("gemm dB", db, gb_packed, (size_t)rows_b * cols_b, FD_ATOL_REL, FD_RTOL),
         "%s dB", what);
  free(a), free(b), free(c0), free(c), free(r), free(ad), free(bd), free(cd), free(rd);
  free(got), free(pad_ok), free(want), free(da), free(db), free(ga), free(gb);
  free(ga_packed), free(gb_packed);
}

static void test_gemm(void) {
  test_rng rng;
  test_rng_seed(&rng, 4);
  const int sizes[][3] = {{1, 1, 1}, {3, 5, 7}, {7, 9, 4}, {13, 17, 11}, {2, 33, 19}, {8, 8, 8}};
  for (int b = 0; b < num_backends; b++)
    for (int si = 0; si < 6; si++)
      for (int ta = 0; ta <= 1; ta++)
        for (int tb = 0; tb <= 1; tb++) {
          int m = sizes[si][0], n = sizes[si][1], k = sizes[si][2];
          int extra = si & 1 ? 3 : 0; /* leading dimensions larger than the row */
          gemm_case gc = {ta, tb, m, n, k, (ta ? m : k) + extra, (tb ? k : n) + extra, n + extra};
          run_gemm_case(backends[b], &gc, &rng);
        }
}

int main(void) {
  backends[num_backends++] = dd_kernels_reference();
  if (dd_kernels_simd128()) backends[num_backends++] = dd_kernels_simd128();
  if (dd_kernels_xnnpack()) backends[num_backends++] = dd_kernels_xnnpack();
  for (int b = 0; b < num_backends; b++) printf("# backend %s\n", backends[b]->name);
  TEST_RUN(test_window_shape);
  TEST_RUN(test_registry);
  TEST_RUN(test_conv_hand);
  TEST_RUN(test_pool_hand);
  TEST_RUN(test_lrn_hand);
  TEST_RUN(test_conv);
  TEST_RUN(test_conv_create_errors);
  TEST_RUN(test_pool);
  TEST_RUN(test_lrn);
  TEST_RUN(test_gemm);
  return test_summary();
}
