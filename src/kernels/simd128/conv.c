/* conv.c — simd128 convolution: forward, data gradient, filter gradient.
 *
 * Forward: an indirect GEMM over output pixels (igemm.c) with the filter
 * packed into 8-column panels at create time; bias and relu are fused into
 * the micro-kernel's epilogue.
 *
 * Data gradient, stride s: input pixels split into s_h*s_w parity classes
 * (ih + pad_top) mod s_h = r_h (and likewise for w). Within a class only taps
 * kh = r_h + s_h*j contribute, and din(ih) = sum_j dout(q - j) W[r_h + s_h*j]
 * with q = (ih + pad_top - r_h) / s_h: a stride-1 correlation of dout with
 * the spatially flipped, channel-transposed sub-kernel. Each class runs
 * through the same igemm machinery with its own packed sub-kernel; stride 1
 * is the single class (0,0).
 *
 * 3x3 and 5x5 stride-1 convolutions with at least 8 input and output
 * channels take Winograd instead (winograd.c): 3x3 F(4x4, 3x3) forward and
 * F(4x4) or, for large filters, F(2x2, 3x3) for the data gradient (memory,
 * see bwd_wino_m); 5x5 F(2x2, 5x5) both ways; outputs of a few pixels stay
 * direct (dd_wino_worthwhile).
 *
 * The data gradient into at most 3 channels (the image's RGB) takes
 * dgrad_thin.c instead: vectorised over pixels, not over 3 channels.
 *
 * Prepare, then run: dd_simd128_conv2d_prepare builds, for a geometry and a
 * thread count, everything the run-time calls take (the transformed
 * Winograd filters, the data-gradient sub-kernels, the Winograd scratch and
 * the column-padded input copy), keeps the filters in the weights and the
 * scratch in the caller's workspace (kernels.h; NULL: the weights' own), and
 * fails with DD_ERR_OUT_OF_MEMORY when it cannot. The run-time calls
 * allocate nothing, write only their outputs and the workspace (so several
 * may run at once on one set of weights, each on its own workspace) and
 * never change path: called unprepared, they abort with a message.
 *
 * Filter gradient: for each tap (kh,kw), dW[kh][kw] = X_tap^T dY, a GEMM whose
 * K runs over output pixels; the outer-product micro-kernel walks the pixel
 * grid with strides, reading X and dY in place. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

struct dd_conv2d_weights {
  dd_conv2d_params p;
  int nr;               /* forward panel width (dd_panel_width(out_c)) */
  int fwd_ks, fwd_kc;   /* forward taps x rows per tap (merged rows: k_h x k_w*in_c) */
  float *packed;        /* forward panels: K = kh*kw*in_c, N = out_c */
  size_t panel_stride;  /* floats per forward panel */
  float *zero;          /* max(k_w*in_c, out_c) zeros: the padding row */
  int bwd_nr;           /* data-gradient panel width (dd_panel_width(in_c)) */
  float **bwd;          /* s_h*s_w data-gradient sub-kernels; NULL until prepared */
  int wino;             /* Winograd tile size (dd_conv_winograd), 0: direct */
  dd_wino_filter *wino_fwd, *wino_bwd; /* NULL until prepared */
  float *thin_w;        /* the data gradient into <= 3 channels (dgrad_thin.c): its weights */
  /* Scratch of the run-time calls when the caller gives no workspace (one
     call uses one of them): the column-padded input of merged-row convs, the
     per-thread Winograd blocks, the thin data gradient's per-thread
     transposed rows. */
  dd_workspace own;
};

/* The workspace a call runs on: the caller's, or w's own. */
static dd_workspace *conv_ws(dd_conv2d_weights *w, dd_workspace *ws) { return ws ? ws : &w->own; }

/* Largest data-gradient filter transformed for F(4x4, 3x3) (see bwd_wino_m). */
#define DD_WINO_BWD_F4_BYTES (16u << 20)

/* Winograd output tile size for a convolution: F(4x4, 3x3) for 3x3 and
   F(2x2, 5x5) for 5x5 stride-1 convolutions with >= 8 channels on both
   sides (fewer leave the micro-kernel's 8 columns mostly empty), else 0
   (direct). Native builds read DD_WINOGRAD: 0 forces the direct path, 2
   takes F(2x2, 3x3) for 3x3. */
static int dd_conv_winograd(const dd_conv2d_params *p) {
  int m3 = 4;
#ifndef __EMSCRIPTEN__
  const char *e = getenv("DD_WINOGRAD");
  if (e && e[0] == '0') return 0;
  if (e && e[0] == '2') m3 = 2;
#endif
  if (p->win.stride_h != 1 || p->win.stride_w != 1 || p->in_c < 8 || p->out_c < 8 ||
      p->win.k_h != p->win.k_w)
    return 0;
  return p->win.k_h == 3 ? m3 : p->win.k_h == 5 ? 2 : 0;
}

/* Inputs with this few channels (RGB) are read as whole window rows of
   k_w*in_c floats from a horizontally padded copy, instead of one short
   in_c row per tap: 7x fewer, 7x longer micro-kernel rows for conv2d0. */
#define DD_MERGE_MAX_IN_C 4
static int dd_conv_merge_rows(const dd_conv2d_params *p) {
  return p->in_c <= DD_MERGE_MAX_IN_C && p->win.k_w > 1;
}

/* Number of taps j >= 0 with r + s*j < k. */
static int dd_sub_taps(int k, int s, int r) { return r < k ? (k - r + s - 1) / s : 0; }

dd_status dd_simd128_conv2d_create(const dd_conv2d_params *p, const float *filter_hwio,
                             const float *bias, dd_conv2d_weights **out, dd_error *err) {
  dd_status st = dd_conv2d_check(p, filter_hwio, out, err);
  if (st != DD_OK) return st;
  size_t k = (size_t)p->win.k_h * p->win.k_w * p->in_c;
  dd_conv2d_weights *w = (dd_conv2d_weights *)calloc(1, sizeof *w);
  if (!w) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_create: out of memory");
  w->p = *p;
  w->nr = dd_panel_width((size_t)p->out_c);
  w->bwd_nr = dd_panel_width((size_t)p->in_c);
  w->wino = dd_conv_winograd(p);
  w->fwd_ks = dd_conv_merge_rows(p) ? p->win.k_h : p->win.k_h * p->win.k_w;
  w->fwd_kc = (int)(k / (size_t)w->fwd_ks);
  w->panel_stride = dd_panel_stride((size_t)w->fwd_ks, (size_t)w->fwd_kc, w->nr);
  w->packed = (float *)dd_aligned_alloc(
      dd_pack_size((size_t)w->fwd_ks, (size_t)w->fwd_kc, (size_t)p->out_c, w->nr) * sizeof(float));
  size_t row = (size_t)p->in_c * p->win.k_w;
  size_t zn = (row > (size_t)p->out_c ? row : (size_t)p->out_c) + 4;
  w->zero = (float *)dd_aligned_calloc(zn * sizeof(float));
  if (!w->packed || !w->zero) {
    dd_aligned_free(w->packed);
    dd_aligned_free(w->zero);
    free(w);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_create: out of memory (%zu weights)",
                   k * (size_t)p->out_c);
  }
  dd_pack_panels((size_t)w->fwd_ks, (size_t)w->fwd_kc, (size_t)p->out_c, w->nr, filter_hwio,
                 (size_t)p->out_c, 1, bias, w->packed);
  *out = w;
  return DD_OK;
}

void dd_simd128_conv2d_destroy(dd_conv2d_weights *w) {
  if (!w) return;
  if (w->bwd) {
    for (int i = 0; i < w->p.win.stride_h * w->p.win.stride_w; i++) dd_aligned_free(w->bwd[i]);
    free(w->bwd);
  }
  dd_aligned_free(w->packed);
  dd_aligned_free(w->zero);
  dd_wino_destroy(w->wino_fwd);
  dd_wino_destroy(w->wino_bwd);
  dd_aligned_free(w->thin_w);
  dd_workspace_free(&w->own);
  free(w);
}

/* W[t][ci][co] (t = kh*k_w + kw) read back from the forward panels. */
static float conv_weight(const dd_conv2d_weights *w, size_t t, int ci, int co) {
  const size_t g = t * (size_t)w->p.in_c + (size_t)ci; /* HWIO row */
  const size_t kc = (size_t)w->fwd_kc, nr = (size_t)w->nr;
  const float *panel = w->packed + (size_t)co / nr * w->panel_stride;
  return panel[dd_panel_index(g / kc, g % kc, (size_t)co % nr, kc, w->nr)];
}

static float thin_weight(const void *ctx, size_t tap, int ci, int co) {
  return conv_weight((const dd_conv2d_weights *)ctx, tap, ci, co);
}

/* The Winograd filters (k x k): forward g[a][b][ci][co] = W[a][b][ci][co];
   data gradient g[a][b][co][ci] = W[k-1-a][k-1-b][ci][co] (flipped,
   transposed). */
static double wino_fwd_weight(const void *ctx, int a, int b, int s, int d) {
  const dd_conv2d_weights *w = (const dd_conv2d_weights *)ctx;
  return conv_weight(w, (size_t)(a * w->p.win.k_w + b), s, d);
}
static double wino_bwd_weight(const void *ctx, int a, int b, int s, int d) {
  const dd_conv2d_weights *w = (const dd_conv2d_weights *)ctx;
  const int k = w->p.win.k_w;
  return conv_weight(w, (size_t)((k - 1 - a) * k + (k - 1 - b)), d, s);
}

/* The Winograd tile size a pass takes for geometry s, 0 for direct. The
   data gradient takes F(4x4) like the forward pass while its transformed
   filter (4x the weights) stays within DD_WINO_BWD_F4_BYTES: every 3x3 conv
   of Inception 5h (the largest, mixed5b's 192->384, is 10.6 MB; all of them
   together 46 MB, 26 MB more than F(2x2)'s 16/9), which made a 400x400
   mixed4c gradient step 3.5% faster (mixed3b's data gradient alone 13.2 ->
   8.4 ms). Larger filters (VGG16's 512->512, 38 MB) take F(2x2). This once
   was 2 MB, when the threaded build had a fixed 1 GiB and a 4096x4096 dream
   to mixed5b had to fit it; the heap grows now. The choice depends on the
   shape only, so results do not depend on call order. */
static int fwd_wino_m(const dd_conv2d_weights *w, const dd_window_shape *s) {
  return w->wino && dd_wino_worthwhile(w->wino, w->p.win.k_h, s->out_h, s->out_w) ? w->wino : 0;
}
static int bwd_wino_m(const dd_conv2d_weights *w, const dd_window_shape *s) {
  const int m = w->wino > 2 && (size_t)w->p.in_c * w->p.out_c * 36 * sizeof(float) > DD_WINO_BWD_F4_BYTES ? 2 : w->wino;
  return m && dd_wino_worthwhile(m, w->p.win.k_h, s->in_h, s->in_w) ? m : 0;
}

/* The Winograd problems of the two passes (pointers may be NULL when only
   sizes are wanted). The data gradient is a k x k correlation:
   din(ih) = sum_a dout(ih - (k-1 - pad_top) + a) W[k-1 - a]. */
static dd_wino_problem fwd_problem(const dd_window_shape *s, const float *in, float *out, int relu) {
  dd_wino_problem wp = {s->n, in, s->in_h, s->in_w, out, s->out_h, s->out_w, s->pad_top, s->pad_left, relu, NULL};
  return wp;
}
static dd_wino_problem bwd_problem(const dd_conv2d_weights *w, const dd_window_shape *s, const float *dout,
                                   const float *din_mask, float *din) {
  const int k1 = w->p.win.k_h - 1;
  dd_wino_problem wp = {s->n, dout, s->out_h, s->out_w, din, s->in_h, s->in_w, k1 - s->pad_top, k1 - s->pad_left, 0,
                        din_mask};
  return wp;
}


/* Builds the pass's transformed filter (once) and grows the shared scratch
   to what pr needs on `threads` threads. */
static dd_status prepare_winograd(dd_conv2d_weights *w, int bwd, int m, const dd_wino_problem *pr, int threads,
                                  dd_workspace *ws, dd_error *err) {
  const int r = w->p.win.k_h;
  dd_wino_filter **slot = bwd ? &w->wino_bwd : &w->wino_fwd;
  if (!*slot) {
    float *bias = NULL;
    if (!bwd) { /* the bias sits in the forward panels' headers */
      bias = (float *)malloc((size_t)w->p.out_c * sizeof(float));
      if (bias)
        for (int co = 0; co < w->p.out_c; co++)
          bias[co] = w->packed[(size_t)(co / w->nr) * w->panel_stride + (size_t)(co % w->nr)];
    }
    if (bwd || bias)
      *slot = bwd ? dd_wino_create(m, r, w->p.out_c, w->p.in_c, wino_bwd_weight, w, NULL)
                  : dd_wino_create(m, r, w->p.in_c, w->p.out_c, wino_fwd_weight, w, bias);
    free(bias);
    if (!*slot)
      return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: out of memory for the %s Winograd F(%dx%d, %dx%d) "
                     "filter of a %dx%d conv %d->%d", bwd ? "data-gradient" : "forward", m, m, r, r, r, r,
                     w->p.in_c, w->p.out_c);
  }
  return dd_workspace_grow(ws, dd_wino_scratch_floats(*slot, pr, threads), "Winograd scratch", err);
}

/* Called unprepared: a programming error, reported instead of computed wrong. */
static void conv_unprepared(const dd_conv2d_weights *w, const char *what) {
  fprintf(stderr, "simd128 conv2d %dx%d %d->%d: %s was not prepared (call conv2d_prepare for this geometry and "
          "thread count first)\n", w->p.win.k_h, w->p.win.k_w, w->p.in_c, w->p.out_c, what);
  abort();
}

/* Packs the data-gradient sub-kernel of parity class (rh, rw): taps (a, b)
   of W[rh + sh*(jh-1-a)][rw + sw*(jw-1-b)] (flipped), out_c rows per tap,
   in_c columns (transposed), zero bias. */
static void conv_pack_class(const dd_conv2d_weights *w, int rh, int rw, float *dst) {
  const dd_conv2d_params *p = &w->p;
  const int jh = dd_sub_taps(p->win.k_h, p->win.stride_h, rh);
  const int jw = dd_sub_taps(p->win.k_w, p->win.stride_w, rw);
  const int nr = w->bwd_nr;
  const size_t kc = (size_t)p->out_c, ks = (size_t)jh * jw;
  const size_t stride = dd_panel_stride(ks, kc, nr);
  memset(dst, 0, dd_pack_size(ks, kc, (size_t)p->in_c, nr) * sizeof(float));
  for (int a = 0; a < jh; a++)
    for (int b = 0; b < jw; b++) {
      const int kh = rh + p->win.stride_h * (jh - 1 - a), kw = rw + p->win.stride_w * (jw - 1 - b);
      const size_t t = (size_t)kh * p->win.k_w + kw, tap = (size_t)a * jw + b;
      for (int ci = 0; ci < p->in_c; ci++) {
        float *panel = dst + (size_t)(ci / nr) * stride;
        for (int co = 0; co < p->out_c; co++)
          panel[dd_panel_index(tap, (size_t)co, (size_t)(ci % nr), kc, nr)] = conv_weight(w, t, ci, co);
      }
    }
}

/* Runs a pass's prepared Winograd filter on its prepared scratch. */
static void run_winograd(const dd_conv2d_weights *w, int bwd, const dd_wino_problem *pr, const dd_workspace *ws,
                         dd_threadpool *pool) {
  const dd_wino_filter *f = bwd ? w->wino_bwd : w->wino_fwd;
  if (!f || dd_wino_scratch_floats(f, pr, dd_threadpool_size(pool)) > ws->cap)
    conv_unprepared(w, bwd ? "the data gradient (Winograd)" : "the forward pass (Winograd)");
  dd_wino_run(f, pr, ws->buf, pool);
}

/* Builds all sub-kernels (once). */
static dd_status prepare_backward(dd_conv2d_weights *w, dd_error *err) {
  if (w->bwd) return DD_OK;
  const dd_conv2d_params *p = &w->p;
  const int classes = p->win.stride_h * p->win.stride_w;
  float **bwd = (float **)calloc((size_t)classes, sizeof *bwd);
  if (!bwd) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: out of memory");
  for (int rh = 0; rh < p->win.stride_h; rh++)
    for (int rw = 0; rw < p->win.stride_w; rw++) {
      int jh = dd_sub_taps(p->win.k_h, p->win.stride_h, rh);
      int jw = dd_sub_taps(p->win.k_w, p->win.stride_w, rw);
      if (jh == 0 || jw == 0) continue; /* class receives no gradient */
      size_t bytes = dd_pack_size((size_t)jh * jw, (size_t)p->out_c, (size_t)p->in_c, w->bwd_nr) * sizeof(float);
      float *dst = (float *)dd_aligned_alloc(bytes);
      if (!dst) {
        for (int i = 0; i < classes; i++) dd_aligned_free(bwd[i]);
        free(bwd);
        return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: out of memory for the data-gradient sub-kernels "
                       "of a %dx%d conv %d->%d (%zu bytes)", p->win.k_h, p->win.k_w, p->in_c, p->out_c, bytes);
      }
      conv_pack_class(w, rh, rw, dst);
      bwd[rh * p->win.stride_w + rw] = dst;
    }
  w->bwd = bwd;
  return DD_OK;
}

/* A copy of the input with pad_left/pad_right zero columns (rows stay
   unpadded: the zero row covers them), so every window row is contiguous:
   conv_pad_floats floats, written into dst by conv_pad_columns, which returns
   the padded width. */
static size_t conv_pad_floats(const dd_window_shape *s, int c) {
  return (size_t)s->n * s->in_h * (size_t)(s->pad_left + s->in_w + s->pad_right) * c;
}
static int conv_pad_columns(const dd_window_shape *s, int c, const float *in, float *dst) {
  const int w = s->pad_left + s->in_w + s->pad_right;
  size_t rows = (size_t)s->n * s->in_h;
  for (size_t r = 0; r < rows; r++) {
    float *d = dst + r * w * c;
    memset(d, 0, (size_t)s->pad_left * c * sizeof(float));
    memcpy(d + (size_t)s->pad_left * c, in + r * s->in_w * c, (size_t)s->in_w * c * sizeof(float));
    memset(d + (size_t)(s->pad_left + s->in_w) * c, 0, (size_t)s->pad_right * c * sizeof(float));
  }
  return w;
}

dd_status dd_simd128_conv2d_prepare(dd_conv2d_weights *w, const dd_window_shape *s, unsigned passes,
                                    dd_workspace *ws, dd_threadpool *pool, dd_error *err) {
  if (!w || !s) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "conv2d_prepare: NULL argument");
  ws = conv_ws(w, ws);
  const int threads = dd_threadpool_size(pool);
  dd_status st = DD_OK;
  if (passes & (DD_CONV_FORWARD | DD_CONV_FORWARD_RELU)) {
    const int m = fwd_wino_m(w, s);
    if (m) {
      dd_wino_problem wp = fwd_problem(s, NULL, NULL, 0);
      st = prepare_winograd(w, 0, m, &wp, threads, ws, err);
    } else if (dd_conv_merge_rows(&w->p)) {
      st = dd_workspace_grow(ws, conv_pad_floats(s, w->p.in_c), "the padded input", err);
    }
  }
  if (st == DD_OK && (passes & DD_CONV_BACKWARD_DATA)) {
    const int m = bwd_wino_m(w, s);
    if (m) {
      dd_wino_problem wp = bwd_problem(w, s, NULL, NULL, NULL);
      st = prepare_winograd(w, 1, m, &wp, threads, ws, err);
    } else if (dd_thin_dgrad_supported(&w->p, s)) {
      if (!w->thin_w) {
        const size_t floats = (size_t)w->p.win.k_h * w->p.win.k_w * w->p.out_c * 4;
        w->thin_w = (float *)dd_aligned_alloc(floats * sizeof(float));
        if (!w->thin_w)
          return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_prepare: out of memory for the data-gradient weights "
                         "of a %dx%d conv %d->%d", w->p.win.k_h, w->p.win.k_w, w->p.in_c, w->p.out_c);
        dd_thin_dgrad_pack(&w->p, thin_weight, w, w->thin_w);
      }
      st = dd_workspace_grow(ws, dd_thin_dgrad_scratch_floats(&w->p, s, threads),
                             "the data gradient's transposed rows", err);
    } else {
      st = prepare_backward(w, err);
    }
  }
  return st;
}

void dd_simd128_conv2d_forward(dd_conv2d_weights *w, const dd_window_shape *s, const float *in,
                               float *out, int relu, dd_workspace *ws, dd_threadpool *pool) {
  ws = conv_ws(w, ws);
  const dd_conv2d_params *p = &w->p;
  dd_igemm_problem pr;
  pr.n = s->n;
  pr.gh = s->out_h;
  pr.gw = s->out_w;
  pr.src = in;
  pr.src_h = s->in_h;
  pr.src_w = s->in_w;
  pr.kc = p->in_c;
  pr.src_ps = (size_t)p->in_c;
  pr.ystep = p->win.stride_h;
  pr.yoff = -s->pad_top;
  pr.xstep = p->win.stride_w;
  pr.xoff = -s->pad_left;
  pr.th = p->win.k_h;
  pr.tw = p->win.k_w;
  pr.dst = out;
  pr.dst_h = s->out_h;
  pr.dst_w = s->out_w;
  pr.dst_c = p->out_c;
  pr.dst_ps = (size_t)p->out_c;
  pr.dystep = 1;
  pr.dyoff = 0;
  pr.dxstep = 1;
  pr.dxoff = 0;
  pr.nr = w->nr;
  pr.packed = w->packed;
  pr.panel_stride = w->panel_stride;
  pr.zero = w->zero;
  pr.flags = relu ? DD_UK_RELU : 0;
  const int m = fwd_wino_m(w, s);
  if (m) {
    dd_wino_problem wp = fwd_problem(s, in, out, relu);
    run_winograd(w, 0, &wp, ws, pool);
    return;
  }
  if (dd_conv_merge_rows(p)) {
    /* one tap per window row; HWIO's (kw, ci) order is already the row's order */
    if (ws->cap < conv_pad_floats(s, p->in_c)) conv_unprepared(w, "the forward pass (padded input)");
    pr.src = ws->buf;
    pr.src_w = conv_pad_columns(s, p->in_c, in, ws->buf);
    pr.kc = p->win.k_w * p->in_c;
    pr.xoff = 0;
    pr.tw = 1;
  }
  dd_igemm_run(&pr, pool);
}

/* First index i >= 0 with (i + pad) mod s == r, and the count of such i < len. */
static int dd_class_start(int r, int pad, int s) { return ((r - pad) % s + s) % s; }
static int dd_class_count(int start, int len, int s) {
  return start < len ? (len - start + s - 1) / s : 0;
}

/* Zeroes the din pixels of a class that no tap reaches. */
static void conv_zero_class(const dd_window_shape *s, int c, int ih0, int sh, int iw0, int sw,
                            float *din) {
  for (int n = 0; n < s->n; n++)
    for (int ih = ih0; ih < s->in_h; ih += sh)
      for (int iw = iw0; iw < s->in_w; iw += sw)
        memset(din + (((size_t)n * s->in_h + ih) * s->in_w + iw) * c, 0, (size_t)c * sizeof(float));
}

/* The din_mask contract after a path that writes din unmasked: a parallel
   pass (Winograd, the data gradient of Inception's 3x3/5x5 convs into their
   bottlenecks, masks as it stores instead). */
typedef struct mask_job {
  const float *mask;
  float *din;
  size_t n;
} mask_job;
#define DD_MASK_BLOCK 16384

static void mask_range(void *ctx, size_t b, size_t e) {
  const mask_job j = *(const mask_job *)ctx;
  const size_t i0 = b * DD_MASK_BLOCK, i1 = e * DD_MASK_BLOCK < j.n ? e * DD_MASK_BLOCK : j.n;
  dd_kernels_mask(i1 - i0, j.mask + i0, j.din + i0);
}

static void conv_mask_din(const dd_window_shape *s, int c, const float *din_mask, float *din,
                          dd_threadpool *pool) {
  mask_job j = {din_mask, din, (size_t)s->n * s->in_h * s->in_w * c};
  dd_parallel_for(pool, (j.n + DD_MASK_BLOCK - 1) / DD_MASK_BLOCK, mask_range, &j);
}

static void conv_backward_data_gemm(dd_conv2d_weights *w, const dd_window_shape *s, const float *dout,
                                    float *din, dd_threadpool *pool);

void dd_simd128_conv2d_backward_data(dd_conv2d_weights *w, const dd_window_shape *s, const float *dout,
                                     const float *din_mask, float *din, dd_workspace *ws, dd_threadpool *pool) {
  ws = conv_ws(w, ws);
  const dd_conv2d_params *p = &w->p;
  const int m = bwd_wino_m(w, s);
  if (m) {
    dd_wino_problem wp = bwd_problem(w, s, dout, din_mask, din);
    run_winograd(w, 1, &wp, ws, pool);
    return;
  }
  if (dd_thin_dgrad_supported(p, s)) {
    if (!w->thin_w || dd_thin_dgrad_scratch_floats(p, s, dd_threadpool_size(pool)) > ws->cap)
      conv_unprepared(w, "the data gradient (into <= 3 channels)");
    dd_thin_dgrad_run(p, s, w->thin_w, dout, din, ws->buf, pool);
  } else {
    conv_backward_data_gemm(w, s, dout, din, pool);
  }
  if (din_mask) conv_mask_din(s, p->in_c, din_mask, din, pool);
}

/* The data gradient as one indirect GEMM per stride class (sub-kernel). */
static void conv_backward_data_gemm(dd_conv2d_weights *w, const dd_window_shape *s, const float *dout,
                                    float *din, dd_threadpool *pool) {
  const dd_conv2d_params *p = &w->p;
  const int sh = p->win.stride_h, sw = p->win.stride_w;
  if (!w->bwd) conv_unprepared(w, "the data gradient");
  for (int rh = 0; rh < sh; rh++)
    for (int rw = 0; rw < sw; rw++) {
      const int ih0 = dd_class_start(rh, s->pad_top, sh), iw0 = dd_class_start(rw, s->pad_left, sw);
      const int uh = dd_class_count(ih0, s->in_h, sh), uw = dd_class_count(iw0, s->in_w, sw);
      if (uh == 0 || uw == 0) continue;
      const int jh = dd_sub_taps(p->win.k_h, sh, rh), jw = dd_sub_taps(p->win.k_w, sw, rw);
      if (jh == 0 || jw == 0) {
        conv_zero_class(s, p->in_c, ih0, sh, iw0, sw, din);
        continue;
      }
      dd_igemm_problem pr;
      pr.n = s->n;
      pr.gh = uh;
      pr.gw = uw;
      pr.src = dout;
      pr.src_h = s->out_h;
      pr.src_w = s->out_w;
      pr.kc = p->out_c;
      pr.src_ps = (size_t)p->out_c;
      /* grid point u has q = (ih0 + pad - r)/s + u; taps start at q - (j-1) */
      pr.ystep = 1;
      pr.yoff = (ih0 + s->pad_top - rh) / sh - (jh - 1);
      pr.xstep = 1;
      pr.xoff = (iw0 + s->pad_left - rw) / sw - (jw - 1);
      pr.th = jh;
      pr.tw = jw;
      pr.dst = din;
      pr.dst_h = s->in_h;
      pr.dst_w = s->in_w;
      pr.dst_c = p->in_c;
      pr.dst_ps = (size_t)p->in_c;
      pr.dystep = sh;
      pr.dyoff = ih0;
      pr.dxstep = sw;
      pr.dxoff = iw0;
      pr.packed = w->bwd[rh * sw + rw];
      pr.nr = w->bwd_nr;
      pr.panel_stride = dd_panel_stride((size_t)jh * jw, (size_t)p->out_c, w->bwd_nr);
      pr.zero = w->zero;
      pr.flags = 0;
      dd_igemm_run(&pr, pool);
    }
}

/* ---- filter gradient --------------------------------------------------------- */

/* Broadcasting A by load32_splat measured ~5-10% faster in wasm (V8 emits
   a single vbroadcastss), shuffles ~5% faster natively (SSE2 has no
   broadcast load). */
#ifdef __wasm__
#define DD_TN_4x8 dd_f32_gemm_tn_4x8ls__simd128
#else
#define DD_TN_4x8 dd_f32_gemm_tn_4x8__simd128
#endif

/* Output rows per pass over a tap's pixels: keeps the X and dY rows of one
   pass near 256 KB so every (tap, channel block) re-reads them from cache. */
#ifndef DD_WGRAD_PASS_BYTES
#define DD_WGRAD_PASS_BYTES (256 * 1024)
#endif

/* The filter gradient reads its input through a view: taps (kh, tj) with
   tj < tw, each contributing `len` consecutive floats of dW's rows. Normally
   tw = k_w and len = in_c; with merged rows (small in_c) the source is the
   column-padded copy, tw = 1 and len = k_w*in_c (one window row per tap). */
typedef struct wgrad_job {
  const dd_conv2d_params *p;
  const dd_window_shape *s;
  const float *src; /* input or its column-padded copy */
  int src_w;        /* its width */
  int xoff;         /* column of window start for ow = 0 (-pad_left, or 0 when padded) */
  int tw, len, seg_w; /* taps per window row, floats per tap, pixels per tap */
  const float *dout;
  float *dw;
  int blocks; /* ceil(len / 4) */
  int rows_per_pass;
} wgrad_job;

/* Valid output range [lo, hi) along an axis: 0 <= o*stride + off and
   o*stride + off + span <= in. */
static void wgrad_range(int out, int stride, int off, int span, int in, int *lo, int *hi) {
  int l = off < 0 ? (-off + stride - 1) / stride : 0;
  int last = in - span - off; /* o*stride <= last */
  int h = last >= 0 ? last / stride + 1 : 0;
  if (h > out) h = out;
  *lo = l;
  *hi = h > l ? h : l;
}

/* One item = (tap, block of 4 of its len rows): all out_c columns of those
   rows, accumulated over output rows [r0, r1) of image n. */
static void wgrad_item(const wgrad_job *job, size_t item, int n, int r0, int r1, int first) {
  const dd_conv2d_params *p = job->p;
  const dd_window_shape *s = job->s;
  const int ci_n = p->in_c, co_n = p->out_c;
  const int tap = (int)(item / (size_t)job->blocks);
  const int i0 = (int)(item % (size_t)job->blocks) * 4;
  const int kh = tap / job->tw, tj = tap % job->tw;
  const size_t mr = job->len - i0 < 4 ? (size_t)(job->len - i0) : 4;
  int oh0, oh1, ow0, ow1;
  wgrad_range(s->out_h, p->win.stride_h, kh - s->pad_top, 1, s->in_h, &oh0, &oh1);
  wgrad_range(s->out_w, p->win.stride_w, tj + job->xoff, job->seg_w, job->src_w, &ow0, &ow1);
  if (oh0 < r0) oh0 = r0;
  if (oh1 > r1) oh1 = r1;
  size_t rows = oh1 > oh0 ? (size_t)(oh1 - oh0) : 0, cols = ow1 > ow0 ? (size_t)(ow1 - ow0) : 0;
  const float *a = job->src, *b = job->dout;
  if (rows && cols) {
    const int ih = oh0 * p->win.stride_h - s->pad_top + kh;
    const int iw = ow0 * p->win.stride_w + job->xoff + tj;
    a = job->src + (((size_t)n * s->in_h + ih) * job->src_w + iw) * ci_n + i0;
    b = job->dout + (((size_t)n * s->out_h + oh0) * s->out_w + ow0) * co_n;
  } else {
    rows = cols = 0; /* nothing is read; the first pass still stores zeros */
  }
  const size_t a_rs = (size_t)p->win.stride_h * job->src_w * ci_n;
  const size_t a_cs = (size_t)p->win.stride_w * ci_n;
  const size_t b_rs = (size_t)s->out_w * co_n, b_cs = (size_t)co_n;
  float *c = job->dw + ((size_t)tap * job->len + i0) * co_n;
  for (int j0 = 0; j0 < co_n; j0 += DD_NR) {
    size_t nc = co_n - j0 < DD_NR ? (size_t)(co_n - j0) : DD_NR;
    if (nc > 4)
      DD_TN_4x8(mr, nc, rows, cols, a, a_rs, a_cs, b + j0, b_rs, b_cs, c + j0,
                                  (size_t)co_n, !first);
    else
      dd_f32_gemm_tn_4x4__simd128(mr, nc, rows, cols, a, a_rs, a_cs, b + j0, b_rs, b_cs, c + j0,
                                  (size_t)co_n, !first);
  }
}

static void wgrad_range_fn(void *ctx, size_t begin, size_t end) {
  const wgrad_job own = *(const wgrad_job *)ctx; /* a copy on this thread's stack (see wino_range) */
  const wgrad_job *job = &own;
  int first = 1;
  for (int n = 0; n < job->s->n; n++)
    for (int r0 = 0; r0 < job->s->out_h; r0 += job->rows_per_pass) {
      int r1 = r0 + job->rows_per_pass < job->s->out_h ? r0 + job->rows_per_pass : job->s->out_h;
      for (size_t item = begin; item < end; item++) wgrad_item(job, item, n, r0, r1, first);
      first = 0;
    }
}

/* dbias[co] = sum over pixels of dout[.][co]. */
static void conv_bias_grad(size_t pixels, int co_n, const float *dout, float *dbias) {
  int j = 0;
  for (; j + 4 <= co_n; j += 4) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (size_t px = 0; px < pixels; px++)
      acc = wasm_f32x4_add(acc, wasm_v128_load(dout + px * co_n + j));
    wasm_v128_store(dbias + j, acc);
  }
  for (; j < co_n; j++) {
    float acc = 0.0f;
    for (size_t px = 0; px < pixels; px++) acc += dout[px * co_n + j];
    dbias[j] = acc;
  }
}

void dd_simd128_conv2d_backward_filter(const dd_conv2d_params *p, const dd_window_shape *s,
                                       const float *in, const float *dout, float *dfilter_hwio,
                                       float *dbias, dd_threadpool *pool) {
  wgrad_job job;
  job.p = p;
  job.s = s;
  job.src = in;
  job.src_w = s->in_w;
  job.xoff = -s->pad_left;
  job.tw = p->win.k_w;
  job.len = p->in_c;
  job.seg_w = 1;
  job.dout = dout;
  job.dw = dfilter_hwio;
  /* (training only: it allocates the padded copy per call, and without it
     reads the input in place, as the unmerged layout) */
  float *padded =
      dd_conv_merge_rows(p) ? (float *)dd_aligned_alloc(conv_pad_floats(s, p->in_c) * sizeof(float) + DD_EXTRA_BYTES) : NULL;
  if (padded) {
    job.src = padded;
    job.src_w = conv_pad_columns(s, p->in_c, in, padded);
    job.xoff = 0;
    job.tw = 1;
    job.len = p->win.k_w * p->in_c;
    job.seg_w = p->win.k_w;
  }
  job.blocks = (job.len + 3) / 4;
  size_t row_bytes = (size_t)s->out_w *
                     (p->out_c + (size_t)p->in_c * p->win.stride_h * p->win.stride_w) * sizeof(float);
  job.rows_per_pass = (int)(DD_WGRAD_PASS_BYTES / (row_bytes ? row_bytes : 1));
  if (job.rows_per_pass < 1) job.rows_per_pass = 1;
  size_t items = (size_t)p->win.k_h * job.tw * job.blocks;
  dd_parallel_for(pool, items, wgrad_range_fn, &job);
  dd_aligned_free(padded);
  if (dbias) conv_bias_grad((size_t)s->n * s->out_h * s->out_w, p->out_c, dout, dbias);
}
