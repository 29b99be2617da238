/* xnnpack.c — the XNNPACK backend (native only; Debian's libXNNPACK, the
 * 2022-02 snapshot whose create/setup API is described in toolchain.md §6).
 *
 * What runs in XNNPACK:
 *   conv2d_forward        xnn convolution (TF SAME flag, zero or ONNX's explicit
 *                         pads; relu as output_min = 0 in a second, lazily
 *                         created operator); SAME_LOWER runs on simd128
 *   conv2d_backward_data  xnn deconvolution with the channel axes swapped
 *                         (kernel [ci][kh][kw][co]), the conv's pads as output
 *                         pads and adjustment (H + pt + pb - k) mod stride;
 *                         recreated when the padding of a call changes
 *   max/avg_pool_forward  xnn max/average pooling with the shape's pads (an
 *                         operator per call: pooling has no weights object)
 *   gemm                  xnn fully-connected when op(A) = A, beta = 0 and B
 *                         is dense; otherwise the simd128 gemm
 * What falls back to simd128 (XNNPACK has no such operator): conv2d
 * backward_filter, max/avg pool backward, LRN forward/backward.
 * conv2d_prepare creates the operators a geometry needs (the relu forward,
 * the deconvolution for its pads). XNNPACK itself allocates inside setup
 * (indirection buffers), so unlike simd128 a run here may still fail: then
 * the operation runs on simd128 weights built and prepared from the kept
 * HWIO copy (and, failing that, on the reference backend). This backend is
 * native-only, a second opinion for tests and benchmarks.
 *
 * XNNPACK runs single-threaded here (no pthreadpool): dd_threadpool is not a
 * pthreadpool, and a pool per operator would multiply threads. The pool
 * argument is passed on to the simd128 fallbacks. There is no global mutable
 * state besides XNNPACK's own idempotent xnn_initialize. */
#include <math.h>
#include <stdlib.h>

#include <xnnpack.h>

#include "kernels.h"

/* Deconvolution operators kept per weights: SAME stride-2 convs have up to
   four pad sets (input height and width odd or even). */
#define DD_XNN_DECONVS 4

struct dd_conv2d_weights {
  dd_conv2d_params p;
  float *filter_hwio; /* kept to (re)build operators and the fallback */
  float *bias;        /* [out_c] */
  xnn_operator_t fwd, fwd_relu;
  xnn_operator_t bwd[DD_XNN_DECONVS]; /* deconvolutions, one per pad set, newest first */
  int bwd_pads[DD_XNN_DECONVS][4];     /* top, right, bottom, left each was created with */
  dd_conv2d_weights *simd;   /* lazily created fallback */
};

static const dd_kernels *simd(void) { return dd_kernels_simd128(); }

static int xnn_ready(void) { return xnn_initialize(NULL) == xnn_status_success; }

/* ---- convolution ------------------------------------------------------------ */

/* HWIO -> OHWI ([co][kh][kw][ci]); NULL when out of memory. */
static float *to_ohwi(const dd_conv2d_params *p, const float *hwio) {
  const size_t khw = (size_t)p->win.k_h * p->win.k_w, ci_n = (size_t)p->in_c, co_n = (size_t)p->out_c;
  float *o = (float *)malloc(khw * ci_n * co_n * sizeof(float));
  if (!o) return NULL;
  for (size_t t = 0; t < khw; t++)
    for (size_t ci = 0; ci < ci_n; ci++)
      for (size_t co = 0; co < co_n; co++) o[(co * khw + t) * ci_n + ci] = hwio[(t * ci_n + ci) * co_n + co];
  return o;
}

/* HWIO -> [ci][kh][kw][co]: the deconvolution kernel of the data gradient. */
static float *to_ihwo(const dd_conv2d_params *p, const float *hwio) {
  const size_t khw = (size_t)p->win.k_h * p->win.k_w, ci_n = (size_t)p->in_c, co_n = (size_t)p->out_c;
  float *o = (float *)malloc(khw * ci_n * co_n * sizeof(float));
  if (!o) return NULL;
  for (size_t t = 0; t < khw; t++)
    for (size_t ci = 0; ci < ci_n; ci++)
      memcpy(o + (ci * khw + t) * co_n, hwio + (t * ci_n + ci) * co_n, co_n * sizeof(float));
  return o;
}

static xnn_operator_t create_conv_op(const dd_conv2d_weights *w, int relu) {
  const dd_conv2d_params *p = &w->p;
  float *ohwi = to_ohwi(p, w->filter_hwio);
  if (!ohwi) return NULL;
  xnn_operator_t op = NULL;
  uint32_t flags = p->win.padding == DD_PADDING_SAME ? XNN_FLAG_TENSORFLOW_SAME_PADDING : 0;
  /* ONNX's explicit pads are fixed (the output size floors as XNNPACK's);
     SAME_LOWER's depend on the input and run on the simd128 twin */
  const int ex = p->win.padding == DD_PADDING_EXPLICIT;
  enum xnn_status st = xnn_create_convolution2d_nhwc_f32(
      ex ? (uint32_t)p->win.pads[0] : 0, ex ? (uint32_t)p->win.pads[3] : 0, ex ? (uint32_t)p->win.pads[2] : 0,
      ex ? (uint32_t)p->win.pads[1] : 0, (uint32_t)p->win.k_h, (uint32_t)p->win.k_w, (uint32_t)p->win.stride_h,
      (uint32_t)p->win.stride_w, 1, 1, 1, (size_t)p->in_c, (size_t)p->out_c, (size_t)p->in_c,
      (size_t)p->out_c, ohwi, w->bias, relu ? 0.0f : -INFINITY, INFINITY, flags, &op);
  free(ohwi);
  return st == xnn_status_success ? op : NULL;
}

static void conv_destroy(dd_conv2d_weights *w) {
  if (!w) return;
  if (w->fwd) xnn_delete_operator(w->fwd);
  if (w->fwd_relu) xnn_delete_operator(w->fwd_relu);
  for (int i = 0; i < DD_XNN_DECONVS; i++)
    if (w->bwd[i]) xnn_delete_operator(w->bwd[i]);
  if (w->simd) simd()->conv2d_destroy(w->simd);
  free(w->filter_hwio);
  free(w->bias);
  free(w);
}

static dd_status conv_create(const dd_conv2d_params *p, const float *filter_hwio,
                             const float *bias, dd_conv2d_weights **out, dd_error *err) {
  dd_status st = dd_conv2d_check(p, filter_hwio, out, err);
  if (st != DD_OK) return st;
  if (!xnn_ready()) return dd_fail(err, DD_ERR_UNSUPPORTED, "conv2d_create: xnn_initialize failed");
  const size_t nf = (size_t)p->win.k_h * p->win.k_w * p->in_c * p->out_c;
  dd_conv2d_weights *w = (dd_conv2d_weights *)calloc(1, sizeof *w);
  if (!w) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_create: out of memory");
  w->p = *p;
  w->filter_hwio = (float *)malloc(nf * sizeof(float));
  w->bias = (float *)calloc((size_t)p->out_c, sizeof(float));
  if (w->filter_hwio && w->bias) {
    memcpy(w->filter_hwio, filter_hwio, nf * sizeof(float));
    if (bias) memcpy(w->bias, bias, (size_t)p->out_c * sizeof(float));
    w->fwd = create_conv_op(w, 0);
  }
  if (!w->fwd) {
    conv_destroy(w);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_create: XNNPACK convolution %dx%d %d->%d failed",
                   p->win.k_h, p->win.k_w, p->in_c, p->out_c);
  }
  *out = w;
  return DD_OK;
}

/* The simd128 twin of w, created on first need and prepared for s; NULL if
   that fails too. */
static dd_conv2d_weights *fallback(dd_conv2d_weights *w, const dd_window_shape *s, unsigned pass,
                                   dd_workspace *ws, dd_threadpool *pool) {
  if (!w->simd) simd()->conv2d_create(&w->p, w->filter_hwio, w->bias, &w->simd, NULL);
  if (w->simd && simd()->conv2d_prepare(w->simd, s, pass, ws, pool, NULL) != DD_OK) return NULL;
  return w->simd;
}

/* Last resort when neither XNNPACK nor simd128 weights can be had: the
   reference backend, created and destroyed around the call. */
static void conv_forward_last_resort(dd_conv2d_weights *w, const dd_window_shape *s,
                                     const float *in, float *out, int relu) {
  const dd_kernels *r = dd_kernels_reference();
  dd_conv2d_weights *rw = NULL;
  if (r->conv2d_create(&w->p, w->filter_hwio, w->bias, &rw, NULL) != DD_OK) return;
  r->conv2d_forward(rw, s, in, out, relu, NULL, NULL);
  r->conv2d_destroy(rw);
}

static void conv_forward(dd_conv2d_weights *w, const dd_window_shape *s, const float *in,
                         float *out, int relu, dd_workspace *ws, dd_threadpool *pool) {
  if (relu && !w->fwd_relu) w->fwd_relu = create_conv_op(w, 1);
  xnn_operator_t op = w->p.win.padding == DD_PADDING_SAME_LOWER ? NULL : relu ? w->fwd_relu : w->fwd;
  if (op &&
      xnn_setup_convolution2d_nhwc_f32(op, (size_t)s->n, (size_t)s->in_h, (size_t)s->in_w, in, out,
                                       NULL) == xnn_status_success &&
      xnn_run_operator(op, NULL) == xnn_status_success)
    return;
  dd_conv2d_weights *f = fallback(w, s, relu ? DD_CONV_FORWARD_RELU : DD_CONV_FORWARD, ws, pool);
  if (f)
    simd()->conv2d_forward(f, s, in, out, relu, ws, pool);
  else
    conv_forward_last_resort(w, s, in, out, relu);
}

/* The deconvolution operator for the pads of s: kept, or created (the
   oldest of DD_XNN_DECONVS is dropped); NULL when XNNPACK fails. */
static xnn_operator_t deconv_op(dd_conv2d_weights *w, const dd_window_shape *s) {
  const int pads[4] = {s->pad_top, s->pad_right, s->pad_bottom, s->pad_left};
  for (int i = 0; i < DD_XNN_DECONVS; i++)
    if (w->bwd[i] && memcmp(pads, w->bwd_pads[i], sizeof pads) == 0) return w->bwd[i];
  const dd_conv2d_params *p = &w->p;
  float *k = to_ihwo(p, w->filter_hwio);
  if (!k) return NULL;
  xnn_operator_t op = NULL;
  enum xnn_status st = xnn_create_deconvolution2d_nhwc_f32(
      (uint32_t)pads[0], (uint32_t)pads[1], (uint32_t)pads[2], (uint32_t)pads[3],
      (uint32_t)p->win.k_h, (uint32_t)p->win.k_w, (uint32_t)p->win.stride_h,
      (uint32_t)p->win.stride_w, 1, 1, 1, (size_t)p->out_c, (size_t)p->in_c, (size_t)p->out_c,
      (size_t)p->in_c, k, NULL, -INFINITY, INFINITY, 0, &op);
  free(k);
  if (st != xnn_status_success) return NULL;
  if (w->bwd[DD_XNN_DECONVS - 1]) xnn_delete_operator(w->bwd[DD_XNN_DECONVS - 1]);
  memmove(&w->bwd[1], &w->bwd[0], (DD_XNN_DECONVS - 1) * sizeof w->bwd[0]);
  memmove(&w->bwd_pads[1], &w->bwd_pads[0], (DD_XNN_DECONVS - 1) * sizeof w->bwd_pads[0]);
  w->bwd[0] = op;
  memcpy(w->bwd_pads[0], pads, sizeof pads);
  return op;
}

static dd_status conv_prepare(dd_conv2d_weights *w, const dd_window_shape *s, unsigned passes,
                              dd_workspace *ws, dd_threadpool *pool, dd_error *err) {
  if (!w || !s) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "conv2d_prepare: NULL argument");
  if ((passes & DD_CONV_FORWARD_RELU) && !w->fwd_relu && !(w->fwd_relu = create_conv_op(w, 1)))
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: XNNPACK convolution with relu %dx%d %d->%d failed",
                   w->p.win.k_h, w->p.win.k_w, w->p.in_c, w->p.out_c);
  if (w->p.win.padding == DD_PADDING_SAME_LOWER && !fallback(w, s, passes, ws, pool))
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: the simd128 twin of a SAME_LOWER convolution failed");
  if ((passes & DD_CONV_BACKWARD_DATA) && !deconv_op(w, s))
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: XNNPACK deconvolution %dx%d %d->%d failed",
                   w->p.win.k_h, w->p.win.k_w, w->p.out_c, w->p.in_c);
  return DD_OK;
}

static void conv_backward_data_unmasked(dd_conv2d_weights *w, const dd_window_shape *s, const float *dout,
                                        float *din, dd_workspace *ws, dd_threadpool *pool) {
  const dd_conv2d_params *p = &w->p;
  xnn_operator_t op = deconv_op(w, s);
  /* output = (out-1)*stride + adj + k - pt - pb must equal the conv's input size */
  const uint32_t adj_h = (uint32_t)((s->in_h + s->pad_top + s->pad_bottom - p->win.k_h) % p->win.stride_h);
  const uint32_t adj_w = (uint32_t)((s->in_w + s->pad_left + s->pad_right - p->win.k_w) % p->win.stride_w);
  if (op &&
      xnn_setup_deconvolution2d_nhwc_f32(op, (size_t)s->n, (size_t)s->out_h, (size_t)s->out_w, adj_h,
                                         adj_w, dout, din, NULL) == xnn_status_success &&
      xnn_run_operator(op, NULL) == xnn_status_success)
    return;
  dd_conv2d_weights *f = fallback(w, s, DD_CONV_BACKWARD_DATA, ws, pool);
  if (f) {
    simd()->conv2d_backward_data(f, s, dout, NULL, din, ws, pool);
    return;
  }
  const dd_kernels *r = dd_kernels_reference();
  dd_conv2d_weights *rw = NULL;
  if (r->conv2d_create(&w->p, w->filter_hwio, w->bias, &rw, NULL) != DD_OK) return;
  r->conv2d_backward_data(rw, s, dout, NULL, din, NULL, NULL);
  r->conv2d_destroy(rw);
}

/* XNNPACK's deconvolution has no mask: a pass after it. */
static void conv_backward_data(dd_conv2d_weights *w, const dd_window_shape *s, const float *dout,
                               const float *din_mask, float *din, dd_workspace *ws, dd_threadpool *pool) {
  conv_backward_data_unmasked(w, s, dout, din, ws, pool);
  if (din_mask) dd_kernels_mask((size_t)s->n * s->in_h * s->in_w * w->p.in_c, din_mask, din);
}

/* ---- pooling ---------------------------------------------------------------- */

static int run_pool(int is_max, const dd_window *win, const dd_window_shape *s, int c,
                    const float *in, float *out) {
  if (!xnn_ready()) return 0;
  xnn_operator_t op = NULL;
  enum xnn_status st;
  if (is_max)
    st = xnn_create_max_pooling2d_nhwc_f32(
        (uint32_t)s->pad_top, (uint32_t)s->pad_right, (uint32_t)s->pad_bottom, (uint32_t)s->pad_left,
        (uint32_t)win->k_h, (uint32_t)win->k_w, (uint32_t)win->stride_h, (uint32_t)win->stride_w, 1, 1,
        (size_t)c, (size_t)c, (size_t)c, -INFINITY, INFINITY, 0, &op);
  else
    st = xnn_create_average_pooling2d_nhwc_f32(
        (uint32_t)s->pad_top, (uint32_t)s->pad_right, (uint32_t)s->pad_bottom, (uint32_t)s->pad_left,
        (uint32_t)win->k_h, (uint32_t)win->k_w, (uint32_t)win->stride_h, (uint32_t)win->stride_w,
        (size_t)c, (size_t)c, (size_t)c, -INFINITY, INFINITY, 0, &op);
  if (st != xnn_status_success) return 0;
  if (is_max)
    st = xnn_setup_max_pooling2d_nhwc_f32(op, (size_t)s->n, (size_t)s->in_h, (size_t)s->in_w, in, out, NULL);
  else
    st = xnn_setup_average_pooling2d_nhwc_f32(op, (size_t)s->n, (size_t)s->in_h, (size_t)s->in_w, in, out,
                                              NULL);
  if (st == xnn_status_success) st = xnn_run_operator(op, NULL);
  xnn_delete_operator(op);
  return st == xnn_status_success;
}

static void max_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                             const float *in, float *out, dd_threadpool *pool) {
  if (!run_pool(1, win, s, c, in, out)) simd()->max_pool_forward(win, s, c, in, out, pool);
}

static void avg_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                             const float *in, float *out, dd_threadpool *pool) {
  if (!run_pool(0, win, s, c, in, out)) simd()->avg_pool_forward(win, s, c, in, out, pool);
}

/* ---- gemm --------------------------------------------------------------------- */

static void gemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc, dd_threadpool *pool) {
  /* fully connected: out[m][n] = in[m][k] . kernel; kernel [k][n] dense with
     XNN_FLAG_TRANSPOSE_WEIGHTS (B), or [n][k] dense without (B^T) */
  int fits = !trans_a && beta == 0.0f && m > 0 && n > 0 && k > 0 && (trans_b ? ldb == k : ldb == n);
  if (fits && xnn_ready()) {
    xnn_operator_t op = NULL;
    enum xnn_status st = xnn_create_fully_connected_nc_f32(
        (size_t)k, (size_t)n, (size_t)lda, (size_t)ldc, b, NULL, -INFINITY, INFINITY,
        trans_b ? 0 : XNN_FLAG_TRANSPOSE_WEIGHTS, &op);
    if (st == xnn_status_success) {
      st = xnn_setup_fully_connected_nc_f32(op, (size_t)m, a, c, NULL);
      if (st == xnn_status_success) st = xnn_run_operator(op, NULL);
      xnn_delete_operator(op);
      if (st == xnn_status_success) return;
    }
  }
  simd()->gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, pool);
}

/* ---- fallbacks that need no weights ------------------------------------------- */

static void conv_backward_filter(const dd_conv2d_params *p, const dd_window_shape *s,
                                 const float *in, const float *dout, float *dfilter_hwio,
                                 float *dbias, dd_threadpool *pool) {
  simd()->conv2d_backward_filter(p, s, in, dout, dfilter_hwio, dbias, pool);
}
static void max_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                              const float *in, const float *dout, const float *din_mask, float *din,
                              dd_threadpool *pool) {
  simd()->max_pool_backward(win, s, c, in, dout, din_mask, din, pool);
}
static void avg_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                              const float *dout, float *din, dd_threadpool *pool) {
  simd()->avg_pool_backward(win, s, c, dout, din, pool);
}
static void lrn_forward(const dd_lrn_params *p, size_t pixels, int c, const float *in, float *out,
                        dd_threadpool *pool) {
  simd()->lrn_forward(p, pixels, c, in, out, pool);
}
static void lrn_backward(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                         const float *dout, const float *din_mask, float *din, dd_threadpool *pool) {
  simd()->lrn_backward(p, pixels, c, in, dout, din_mask, din, pool);
}

static const dd_kernels xnnpack_kernels = {
    .name = "xnnpack",
    .conv2d_create = conv_create,
    .conv2d_destroy = conv_destroy,
    .conv2d_prepare = conv_prepare,
    .conv_concurrent = 0, /* the operators are set up per call */
    .conv2d_forward = conv_forward,
    .conv2d_backward_data = conv_backward_data,
    .conv2d_backward_filter = conv_backward_filter,
    .max_pool_forward = max_pool_forward,
    .max_pool_backward = max_pool_backward,
    .avg_pool_forward = avg_pool_forward,
    .avg_pool_backward = avg_pool_backward,
    .lrn_forward = lrn_forward,
    .lrn_backward = lrn_backward,
    .gemm = gemm,
};

/* NULL when XNNPACK cannot initialise on this CPU. */
const dd_kernels *dd_kernels_xnnpack(void) { return xnn_ready() ? &xnnpack_kernels : NULL; }
