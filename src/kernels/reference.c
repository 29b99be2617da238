/* reference.c — the oracle backend: plain, obviously-correct loops.
 *
 * Every function follows the definition in kernels.h literally. Loops are
 * ordered so the innermost one runs over a contiguous channel axis (which
 * keeps the oracle usable on full-size images), but nothing is blocked,
 * packed or vectorised by hand. Accumulation is in float. `pool` is ignored:
 * the reference backend is single-threaded. */
#include <math.h>
#include <stdlib.h>

#include "kernels.h"

struct dd_conv2d_weights {
  dd_conv2d_params p;
  float *filter; /* HWIO copy: [k_h][k_w][in_c][out_c] */
  float *bias;   /* [out_c], zeros when none was given */
};

/* ---- convolution ------------------------------------------------------------ */

static dd_status ref_conv2d_create(const dd_conv2d_params *p, const float *filter_hwio,
                                   const float *bias, dd_conv2d_weights **out, dd_error *err) {
  dd_status st = dd_conv2d_check(p, filter_hwio, out, err);
  if (st != DD_OK) return st;
  size_t nf = (size_t)p->win.k_h * (size_t)p->win.k_w * (size_t)p->in_c * (size_t)p->out_c;
  dd_conv2d_weights *w = (dd_conv2d_weights *)calloc(1, sizeof *w);
  if (!w) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_create: out of memory");
  w->p = *p;
  w->filter = (float *)dd_aligned_alloc(nf * sizeof(float));
  w->bias = (float *)dd_aligned_calloc((size_t)p->out_c * sizeof(float));
  if (!w->filter || !w->bias) {
    dd_aligned_free(w->filter);
    dd_aligned_free(w->bias);
    free(w);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "conv2d_create: out of memory (%zu floats)", nf);
  }
  memcpy(w->filter, filter_hwio, nf * sizeof(float));
  if (bias) memcpy(w->bias, bias, (size_t)p->out_c * sizeof(float));
  *out = w;
  return DD_OK;
}

static void ref_conv2d_destroy(dd_conv2d_weights *w) {
  if (!w) return;
  dd_aligned_free(w->filter);
  dd_aligned_free(w->bias);
  free(w);
}

/* Plain loops need nothing prepared. */
static dd_status ref_conv2d_prepare(dd_conv2d_weights *w, const dd_window_shape *s, unsigned passes,
                                    dd_workspace *ws, dd_threadpool *pool, dd_error *err) {
  (void)ws;
  if (!w || !s) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "conv2d_prepare: NULL argument");
  return DD_OK;
}

static void ref_conv2d_forward(dd_conv2d_weights *w, const dd_window_shape *s, const float *in,
                               float *out, int relu, dd_workspace *ws, dd_threadpool *pool) {
  (void)ws;
  (void)pool;
  const int kh_n = w->p.win.k_h, kw_n = w->p.win.k_w;
  const int sh = w->p.win.stride_h, sw = w->p.win.stride_w;
  const int ci_n = w->p.in_c, co_n = w->p.out_c;
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        float *o = out + (((size_t)n * s->out_h + oh) * s->out_w + ow) * co_n;
        for (int co = 0; co < co_n; co++) o[co] = w->bias[co];
        for (int kh = 0; kh < kh_n; kh++) {
          int ih = oh * sh - s->pad_top + kh;
          if (ih < 0 || ih >= s->in_h) continue;
          for (int kw = 0; kw < kw_n; kw++) {
            int iw = ow * sw - s->pad_left + kw;
            if (iw < 0 || iw >= s->in_w) continue;
            const float *x = in + (((size_t)n * s->in_h + ih) * s->in_w + iw) * ci_n;
            const float *f = w->filter + ((size_t)kh * kw_n + kw) * ci_n * co_n;
            for (int ci = 0; ci < ci_n; ci++) {
              float xv = x[ci];
              const float *fr = f + (size_t)ci * co_n;
              for (int co = 0; co < co_n; co++) o[co] += xv * fr[co];
            }
          }
        }
        if (relu)
          for (int co = 0; co < co_n; co++) o[co] = o[co] > 0.0f ? o[co] : 0.0f;
      }
}

static void ref_conv2d_backward_data(dd_conv2d_weights *w, const dd_window_shape *s,
                                     const float *dout, const float *din_mask, float *din,
                                     dd_workspace *ws, dd_threadpool *pool) {
  (void)ws;
  (void)pool;
  const int kh_n = w->p.win.k_h, kw_n = w->p.win.k_w;
  const int sh = w->p.win.stride_h, sw = w->p.win.stride_w;
  const int ci_n = w->p.in_c, co_n = w->p.out_c;
  memset(din, 0, (size_t)s->n * s->in_h * s->in_w * ci_n * sizeof(float));
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        const float *g = dout + (((size_t)n * s->out_h + oh) * s->out_w + ow) * co_n;
        for (int kh = 0; kh < kh_n; kh++) {
          int ih = oh * sh - s->pad_top + kh;
          if (ih < 0 || ih >= s->in_h) continue;
          for (int kw = 0; kw < kw_n; kw++) {
            int iw = ow * sw - s->pad_left + kw;
            if (iw < 0 || iw >= s->in_w) continue;
            float *dx = din + (((size_t)n * s->in_h + ih) * s->in_w + iw) * ci_n;
            const float *f = w->filter + ((size_t)kh * kw_n + kw) * ci_n * co_n;
            for (int ci = 0; ci < ci_n; ci++) {
              const float *fr = f + (size_t)ci * co_n;
              float acc = 0.0f;
              for (int co = 0; co < co_n; co++) acc += g[co] * fr[co];
              dx[ci] += acc;
            }
          }
        }
      }
  if (din_mask) dd_kernels_mask((size_t)s->n * s->in_h * s->in_w * ci_n, din_mask, din);
}

static void ref_conv2d_backward_filter(const dd_conv2d_params *p, const dd_window_shape *s,
                                       const float *in, const float *dout, float *dfilter_hwio,
                                       float *dbias, dd_threadpool *pool) {
  (void)pool;
  const int kh_n = p->win.k_h, kw_n = p->win.k_w;
  const int sh = p->win.stride_h, sw = p->win.stride_w;
  const int ci_n = p->in_c, co_n = p->out_c;
  memset(dfilter_hwio, 0, (size_t)kh_n * kw_n * ci_n * co_n * sizeof(float));
  if (dbias) memset(dbias, 0, (size_t)co_n * sizeof(float));
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        const float *g = dout + (((size_t)n * s->out_h + oh) * s->out_w + ow) * co_n;
        if (dbias)
          for (int co = 0; co < co_n; co++) dbias[co] += g[co];
        for (int kh = 0; kh < kh_n; kh++) {
          int ih = oh * sh - s->pad_top + kh;
          if (ih < 0 || ih >= s->in_h) continue;
          for (int kw = 0; kw < kw_n; kw++) {
            int iw = ow * sw - s->pad_left + kw;
            if (iw < 0 || iw >= s->in_w) continue;
            const float *x = in + (((size_t)n * s->in_h + ih) * s->in_w + iw) * ci_n;
            float *df = dfilter_hwio + ((size_t)kh * kw_n + kw) * ci_n * co_n;
            for (int ci = 0; ci < ci_n; ci++) {
              float xv = x[ci];
              float *dr = df + (size_t)ci * co_n;
              for (int co = 0; co < co_n; co++) dr[co] += xv * g[co];
            }
          }
        }
      }
}

/* ---- pooling ---------------------------------------------------------------- */

/* The clipped input window [h0,h1) x [w0,w1) of output pixel (oh, ow). */
typedef struct ref_span {
  int h0, h1, w0, w1;
} ref_span;

static ref_span ref_window(const dd_window *win, const dd_window_shape *s, int oh, int ow) {
  ref_span r;
  r.h0 = oh * win->stride_h - s->pad_top;
  r.w0 = ow * win->stride_w - s->pad_left;
  r.h1 = r.h0 + win->k_h;
  r.w1 = r.w0 + win->k_w;
  if (r.h0 < 0) r.h0 = 0;
  if (r.w0 < 0) r.w0 = 0;
  if (r.h1 > s->in_h) r.h1 = s->in_h;
  if (r.w1 > s->in_w) r.w1 = s->in_w;
  return r;
}

static void ref_max_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool) {
  (void)pool;
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        ref_span r = ref_window(win, s, oh, ow);
        float *o = out + (((size_t)n * s->out_h + oh) * s->out_w + ow) * c;
        for (int ch = 0; ch < c; ch++) {
          float m = -INFINITY;
          for (int ih = r.h0; ih < r.h1; ih++)
            for (int iw = r.w0; iw < r.w1; iw++) {
              float v = in[(((size_t)n * s->in_h + ih) * s->in_w + iw) * c + ch];
              if (v > m) m = v;
            }
          o[ch] = m;
        }
      }
}

static void ref_max_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *in, const float *dout, const float *din_mask,
                                  float *din, dd_threadpool *pool) {
  (void)pool;
  memset(din, 0, (size_t)s->n * s->in_h * s->in_w * c * sizeof(float));
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        ref_span r = ref_window(win, s, oh, ow);
        const float *g = dout + (((size_t)n * s->out_h + oh) * s->out_w + ow) * c;
        for (int ch = 0; ch < c; ch++) {
          size_t best = (((size_t)n * s->in_h + r.h0) * s->in_w + r.w0) * c + ch;
          float m = in[best];
          for (int ih = r.h0; ih < r.h1; ih++)
            for (int iw = r.w0; iw < r.w1; iw++) {
              size_t i = (((size_t)n * s->in_h + ih) * s->in_w + iw) * c + ch;
              if (in[i] > m) {
                m = in[i];
                best = i;
              }
            }
          din[best] += g[ch];
        }
      }
  if (din_mask) dd_kernels_mask((size_t)s->n * s->in_h * s->in_w * c, din_mask, din);
}

static void ref_avg_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool) {
  (void)pool;
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        ref_span r = ref_window(win, s, oh, ow);
        float inv = 1.0f / (float)((r.h1 - r.h0) * (r.w1 - r.w0));
        float *o = out + (((size_t)n * s->out_h + oh) * s->out_w + ow) * c;
        for (int ch = 0; ch < c; ch++) {
          float sum = 0.0f;
          for (int ih = r.h0; ih < r.h1; ih++)
            for (int iw = r.w0; iw < r.w1; iw++)
              sum += in[(((size_t)n * s->in_h + ih) * s->in_w + iw) * c + ch];
          o[ch] = sum * inv;
        }
      }
}

static void ref_avg_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *dout, float *din, dd_threadpool *pool) {
  (void)pool;
  memset(din, 0, (size_t)s->n * s->in_h * s->in_w * c * sizeof(float));
  for (int n = 0; n < s->n; n++)
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        ref_span r = ref_window(win, s, oh, ow);
        float inv = 1.0f / (float)((r.h1 - r.h0) * (r.w1 - r.w0));
        const float *g = dout + (((size_t)n * s->out_h + oh) * s->out_w + ow) * c;
        for (int ih = r.h0; ih < r.h1; ih++)
          for (int iw = r.w0; iw < r.w1; iw++) {
            float *dx = din + (((size_t)n * s->in_h + ih) * s->in_w + iw) * c;
            for (int ch = 0; ch < c; ch++) dx[ch] += g[ch] * inv;
          }
      }
}

/* ---- LRN -------------------------------------------------------------------- */

/* sqr_sum over the clipped channel window of channel i. */
static float ref_lrn_sqr_sum(const float *x, int c, int r, int i) {
  int j0 = i - r < 0 ? 0 : i - r;
  int j1 = i + r > c - 1 ? c - 1 : i + r;
  float s = 0.0f;
  for (int j = j0; j <= j1; j++) s += x[j] * x[j];
  return s;
}

static void ref_lrn_forward(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                            float *out, dd_threadpool *pool) {
  (void)pool;
  for (size_t px = 0; px < pixels; px++) {
    const float *x = in + px * c;
    float *y = out + px * c;
    for (int i = 0; i < c; i++) {
      float norm = p->bias + p->alpha * ref_lrn_sqr_sum(x, c, p->depth_radius, i);
      y[i] = x[i] * powf(norm, -p->beta);
    }
  }
}

/* y_j = x_j * N_j^-beta with N_j = bias + alpha * sum_{i in win(j)} x_i^2, so
   dx_i = dy_i * N_i^-beta - 2*alpha*beta * x_i * sum_{j in win(i)} dy_j x_j N_j^(-beta-1)
   (the window relation is symmetric). */
static void ref_lrn_backward(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                             const float *dout, const float *din_mask, float *din,
                             dd_threadpool *pool) {
  (void)pool;
  const int r = p->depth_radius;
  /* Scratch for t_j = dy_j x_j N_j^(-beta-1) of one pixel; without it (out of
     memory) t_j is recomputed inside the window loop: same result, slower. */
  float *t = (float *)malloc((size_t)c * sizeof(float));
  for (size_t px = 0; px < pixels; px++) {
    const float *x = in + px * c;
    const float *dy = dout + px * c;
    float *dx = din + px * c;
    if (t)
      for (int j = 0; j < c; j++)
        t[j] = dy[j] * x[j] *
               powf(p->bias + p->alpha * ref_lrn_sqr_sum(x, c, r, j), -p->beta - 1.0f);
    for (int i = 0; i < c; i++) {
      int j0 = i - r < 0 ? 0 : i - r;
      int j1 = i + r > c - 1 ? c - 1 : i + r;
      float acc = 0.0f;
      for (int j = j0; j <= j1; j++)
        acc += t ? t[j]
                 : dy[j] * x[j] *
                       powf(p->bias + p->alpha * ref_lrn_sqr_sum(x, c, r, j), -p->beta - 1.0f);
      float norm_i = p->bias + p->alpha * ref_lrn_sqr_sum(x, c, r, i);
      dx[i] = dy[i] * powf(norm_i, -p->beta) - 2.0f * p->alpha * p->beta * x[i] * acc;
    }
  }
  free(t);
  if (din_mask) dd_kernels_mask(pixels * (size_t)c, din_mask, din);
}

/* ---- gemm ------------------------------------------------------------------- */

static void ref_gemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc,
                     dd_threadpool *pool) {
  (void)pool;
  for (int i = 0; i < m; i++) {
    float *ci = c + (size_t)i * ldc;
    if (beta == 0.0f)
      for (int j = 0; j < n; j++) ci[j] = 0.0f;
    for (int p = 0; p < k; p++) {
      float av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
      if (trans_b)
        for (int j = 0; j < n; j++) ci[j] += av * b[(size_t)j * ldb + p];
      else
        for (int j = 0; j < n; j++) ci[j] += av * b[(size_t)p * ldb + j];
    }
  }
}

static const dd_kernels ref_kernels = {
    .name = "reference",
    .conv2d_create = ref_conv2d_create,
    .conv2d_destroy = ref_conv2d_destroy,
    .conv2d_prepare = ref_conv2d_prepare,
    .conv_concurrent = 1,
    .conv2d_forward = ref_conv2d_forward,
    .conv2d_backward_data = ref_conv2d_backward_data,
    .conv2d_backward_filter = ref_conv2d_backward_filter,
    .max_pool_forward = ref_max_pool_forward,
    .max_pool_backward = ref_max_pool_backward,
    .avg_pool_forward = ref_avg_pool_forward,
    .avg_pool_backward = ref_avg_pool_backward,
    .lrn_forward = ref_lrn_forward,
    .lrn_backward = ref_lrn_backward,
    .gemm = ref_gemm,
};

const dd_kernels *dd_kernels_reference(void) { return &ref_kernels; }
