/* pool.c — simd128 max/avg pooling, NHWC, vectorised over channels.
 *
 * Forward passes split output rows across threads. Backward passes scatter
 * into overlapping input windows, so they split channel slices instead (no
 * two threads touch the same din element). Semantics match TensorFlow and the
 * reference backend: padding is excluded from windows and from the average's
 * divisor; max backward routes to the first maximum in row-major scan order
 * (strict '>' while scanning). */
#include "internal.h"

#define DD_POOL_SLICE 16 /* channels per backward work item */

typedef struct pool_job {
  const dd_window *win;
  const dd_window_shape *s;
  int c;
  const float *in, *dout;
  float *out, *din;
} pool_job;

typedef struct pool_span {
  int h0, h1, w0, w1;
} pool_span;

/* The window of output pixel (oh, ow), clipped to the input. */
static pool_span pool_window(const dd_window *win, const dd_window_shape *s, int oh, int ow) {
  pool_span r;
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

/* ---- forward ---------------------------------------------------------------- */

/* Max over a clipped window of one pixel's channels [0, c). base points at the
   window's first cell; rs is the input row stride in floats. */
static void max_pool_pixel(const float *base, size_t rs, int c, int hh, int ww, float *o) {
  int ch = 0;
  for (; ch + 16 <= c; ch += 16) {
    const float *q0 = base + ch;
    v128_t m0 = wasm_v128_load(q0), m1 = wasm_v128_load(q0 + 4);
    v128_t m2 = wasm_v128_load(q0 + 8), m3 = wasm_v128_load(q0 + 12);
    for (int i = 0; i < hh; i++) {
      const float *q = q0 + (size_t)i * rs;
      for (int j = 0; j < ww; j++, q += c) {
        m0 = wasm_f32x4_pmax(m0, wasm_v128_load(q));
        m1 = wasm_f32x4_pmax(m1, wasm_v128_load(q + 4));
        m2 = wasm_f32x4_pmax(m2, wasm_v128_load(q + 8));
        m3 = wasm_f32x4_pmax(m3, wasm_v128_load(q + 12));
      }
    }
    wasm_v128_store(o + ch, m0);
    wasm_v128_store(o + ch + 4, m1);
    wasm_v128_store(o + ch + 8, m2);
    wasm_v128_store(o + ch + 12, m3);
  }
  for (; ch + 4 <= c; ch += 4) {
    const float *q0 = base + ch;
    v128_t m = wasm_v128_load(q0);
    for (int i = 0; i < hh; i++) {
      const float *q = q0 + (size_t)i * rs;
      for (int j = 0; j < ww; j++, q += c) m = wasm_f32x4_pmax(m, wasm_v128_load(q));
    }
    wasm_v128_store(o + ch, m);
  }
  for (; ch < c; ch++) {
    float m = base[ch];
    for (int i = 0; i < hh; i++) {
      const float *q = base + ch + (size_t)i * rs;
      for (int j = 0; j < ww; j++, q += c)
        if (*q > m) m = *q;
    }
    o[ch] = m;
  }
}

/* Sum over a clipped window times inv (1 / valid cells). */
static void avg_pool_pixel(const float *base, size_t rs, int c, int hh, int ww, float inv,
                           float *o) {
  const v128_t vinv = wasm_f32x4_splat(inv);
  int ch = 0;
  for (; ch + 16 <= c; ch += 16) {
    const float *q0 = base + ch;
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < hh; i++) {
      const float *q = q0 + (size_t)i * rs;
      for (int j = 0; j < ww; j++, q += c) {
        s0 = wasm_f32x4_add(s0, wasm_v128_load(q));
        s1 = wasm_f32x4_add(s1, wasm_v128_load(q + 4));
        s2 = wasm_f32x4_add(s2, wasm_v128_load(q + 8));
        s3 = wasm_f32x4_add(s3, wasm_v128_load(q + 12));
      }
    }
    wasm_v128_store(o + ch, wasm_f32x4_mul(s0, vinv));
    wasm_v128_store(o + ch + 4, wasm_f32x4_mul(s1, vinv));
    wasm_v128_store(o + ch + 8, wasm_f32x4_mul(s2, vinv));
    wasm_v128_store(o + ch + 12, wasm_f32x4_mul(s3, vinv));
  }
  for (; ch + 4 <= c; ch += 4) {
    const float *q0 = base + ch;
    v128_t sum = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < hh; i++) {
      const float *q = q0 + (size_t)i * rs;
      for (int j = 0; j < ww; j++, q += c) sum = wasm_f32x4_add(sum, wasm_v128_load(q));
    }
    wasm_v128_store(o + ch, wasm_f32x4_mul(sum, vinv));
  }
  for (; ch < c; ch++) {
    float sum = 0.0f;
    for (int i = 0; i < hh; i++) {
      const float *q = base + ch + (size_t)i * rs;
      for (int j = 0; j < ww; j++, q += c) sum += *q;
    }
    o[ch] = sum * inv;
  }
}

/* Output rows [begin, end) of n*out_h. */
static void pool_forward_rows(const pool_job *job, size_t begin, size_t end, int is_max) {
  const dd_window_shape *s = job->s;
  const int c = job->c;
  const size_t rs = (size_t)s->in_w * c;
  for (size_t row = begin; row < end; row++) {
    const int n = (int)(row / (size_t)s->out_h), oh = (int)(row % (size_t)s->out_h);
    float *o = job->out + row * s->out_w * c;
    for (int ow = 0; ow < s->out_w; ow++, o += c) {
      pool_span r = pool_window(job->win, s, oh, ow);
      const float *base = job->in + (((size_t)n * s->in_h + r.h0) * s->in_w + r.w0) * c;
      int hh = r.h1 - r.h0, ww = r.w1 - r.w0;
      if (is_max)
        max_pool_pixel(base, rs, c, hh, ww, o);
      else
        avg_pool_pixel(base, rs, c, hh, ww, 1.0f / (float)(hh * ww), o);
    }
  }
}

static void max_forward_fn(void *ctx, size_t b, size_t e) { pool_forward_rows((const pool_job *)ctx, b, e, 1); }
static void avg_forward_fn(void *ctx, size_t b, size_t e) { pool_forward_rows((const pool_job *)ctx, b, e, 0); }

void dd_simd128_max_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool) {
  pool_job job = {win, s, c, in, NULL, out, NULL};
  dd_parallel_for(pool, (size_t)s->n * s->out_h, max_forward_fn, &job);
}

void dd_simd128_avg_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool) {
  pool_job job = {win, s, c, in, NULL, out, NULL};
  dd_parallel_for(pool, (size_t)s->n * s->out_h, avg_forward_fn, &job);
}

/* ---- backward ------------------------------------------------------------------ */

/* Zeroes channels [c0, c1) of every din pixel of image n. */
static void pool_zero_slice(const pool_job *job, int n, int c0, int c1) {
  const dd_window_shape *s = job->s;
  float *d = job->din + (size_t)n * s->in_h * s->in_w * job->c + c0;
  for (size_t px = 0; px < (size_t)s->in_h * s->in_w; px++, d += job->c)
    memset(d, 0, (size_t)(c1 - c0) * sizeof(float));
}

/* Routes the gradient g of one window to the first maximum of each channel in
   [c0, c1). base and dbase point at the window's first cell (channel 0) in the
   input and din; rs is the row stride in floats. Each lane tracks its argmax
   as an element offset from the window's first cell (no division), the max
   with pmax (best < v ? v : best, which is the strict '>' of the scan); the
   16 or 4 offsets are then scattered. */
static void max_back_window(const float *base, float *dbase, size_t rs, int c, int hh, int ww,
                            int c0, int c1, const float *g) {
  int ch = c0;
  for (; ch + 16 <= c1; ch += 16) {
    const float *b = base + ch;
    v128_t m0 = wasm_v128_load(b), m1 = wasm_v128_load(b + 4);
    v128_t m2 = wasm_v128_load(b + 8), m3 = wasm_v128_load(b + 12);
    v128_t o0 = wasm_i32x4_splat(0), o1 = o0, o2 = o0, o3 = o0;
    for (int i = 0; i < hh; i++) {
      for (int j = i == 0; j < ww; j++) {
        const int off = (int)((size_t)i * rs + (size_t)j * c);
        const float *q = b + off;
        const v128_t vo = wasm_i32x4_splat(off);
        const v128_t v0 = wasm_v128_load(q), v1 = wasm_v128_load(q + 4);
        const v128_t v2 = wasm_v128_load(q + 8), v3 = wasm_v128_load(q + 12);
        o0 = wasm_v128_bitselect(vo, o0, wasm_f32x4_gt(v0, m0));
        o1 = wasm_v128_bitselect(vo, o1, wasm_f32x4_gt(v1, m1));
        o2 = wasm_v128_bitselect(vo, o2, wasm_f32x4_gt(v2, m2));
        o3 = wasm_v128_bitselect(vo, o3, wasm_f32x4_gt(v3, m3));
        m0 = wasm_f32x4_pmax(m0, v0);
        m1 = wasm_f32x4_pmax(m1, v1);
        m2 = wasm_f32x4_pmax(m2, v2);
        m3 = wasm_f32x4_pmax(m3, v3);
      }
    }
    int32_t o[16];
    wasm_v128_store(o, o0);
    wasm_v128_store(o + 4, o1);
    wasm_v128_store(o + 8, o2);
    wasm_v128_store(o + 12, o3);
    float *d = dbase + ch;
    const float *gg = g + ch;
    for (int l = 0; l < 16; l++) d[o[l] + l] += gg[l];
  }
  for (; ch + 4 <= c1; ch += 4) {
    const float *b = base + ch;
    v128_t m = wasm_v128_load(b), o = wasm_i32x4_splat(0);
    for (int i = 0; i < hh; i++)
      for (int j = i == 0; j < ww; j++) {
        const int off = (int)((size_t)i * rs + (size_t)j * c);
        const v128_t v = wasm_v128_load(b + off);
        o = wasm_v128_bitselect(wasm_i32x4_splat(off), o, wasm_f32x4_gt(v, m));
        m = wasm_f32x4_pmax(m, v);
      }
    int32_t oo[4];
    wasm_v128_store(oo, o);
    float *d = dbase + ch;
    for (int l = 0; l < 4; l++) d[oo[l] + l] += g[ch + l];
  }
  for (; ch < c1; ch++) {
    float best = base[ch];
    size_t bo = 0;
    for (int i = 0; i < hh; i++)
      for (int j = 0; j < ww; j++) {
        const size_t off = (size_t)i * rs + (size_t)j * c;
        if (base[ch + off] > best) {
          best = base[ch + off];
          bo = off;
        }
      }
    dbase[ch + bo] += g[ch];
  }
}

/* Adds g[0..4) to 4 channels of every cell of a window. */
static void avg_back_vec4(float *dbase, size_t rs, int c, int hh, int ww, v128_t g) {
  for (int i = 0; i < hh; i++) {
    float *q = dbase + (size_t)i * rs;
    for (int j = 0; j < ww; j++, q += c) wasm_v128_store(q, wasm_f32x4_add(wasm_v128_load(q), g));
  }
}

/* Items are (n, slice of DD_POOL_SLICE channels); a range is walked as runs
   of consecutive slices of one image, each run in one pass over the image
   (all its channels per pixel). */
static void pool_backward_items(const pool_job *job, size_t begin, size_t end, int is_max) {
  const dd_window_shape *s = job->s;
  const int c = job->c, slices = (c + DD_POOL_SLICE - 1) / DD_POOL_SLICE;
  const size_t rs = (size_t)s->in_w * c;
  for (size_t item = begin; item < end;) {
    const int n = (int)(item / (size_t)slices);
    const size_t run_end = ((size_t)n + 1) * (size_t)slices < end ? ((size_t)n + 1) * (size_t)slices : end;
    const int c0 = (int)(item % (size_t)slices) * DD_POOL_SLICE;
    const int c1 = (int)(run_end - (size_t)n * (size_t)slices) * DD_POOL_SLICE < c
                       ? (int)(run_end - (size_t)n * (size_t)slices) * DD_POOL_SLICE
                       : c;
    item = run_end;
    pool_zero_slice(job, n, c0, c1);
    for (int oh = 0; oh < s->out_h; oh++)
      for (int ow = 0; ow < s->out_w; ow++) {
        pool_span r = pool_window(job->win, s, oh, ow);
        const size_t off = (((size_t)n * s->in_h + r.h0) * s->in_w + r.w0) * c;
        const float *g = job->dout + (((size_t)n * s->out_h + oh) * s->out_w + ow) * c;
        const int hh = r.h1 - r.h0, ww = r.w1 - r.w0;
        float *dbase = job->din + off;
        if (is_max) {
          max_back_window(job->in + off, dbase, rs, c, hh, ww, c0, c1, g);
        } else {
          int ch = c0;
          const float inv = 1.0f / (float)(hh * ww);
          for (; ch + 4 <= c1; ch += 4)
            avg_back_vec4(dbase + ch, rs, c, hh, ww,
                          wasm_f32x4_mul(wasm_v128_load(g + ch), wasm_f32x4_splat(inv)));
          for (; ch < c1; ch++)
            for (int i = 0; i < hh; i++)
              for (int j = 0; j < ww; j++) dbase[(size_t)i * rs + (size_t)j * c + ch] += g[ch] * inv;
        }
      }
  }
}

static void max_backward_fn(void *ctx, size_t b, size_t e) { pool_backward_items((const pool_job *)ctx, b, e, 1); }
static void avg_backward_fn(void *ctx, size_t b, size_t e) { pool_backward_items((const pool_job *)ctx, b, e, 0); }

void dd_simd128_max_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *in, const float *dout, float *din,
                                  dd_threadpool *pool) {
  pool_job job = {win, s, c, in, dout, NULL, din};
  size_t items = (size_t)s->n * ((c + DD_POOL_SLICE - 1) / DD_POOL_SLICE);
  dd_parallel_for(pool, items, max_backward_fn, &job);
}

void dd_simd128_avg_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *dout, float *din, dd_threadpool *pool) {
  pool_job job = {win, s, c, NULL, dout, NULL, din};
  size_t items = (size_t)s->n * ((c + DD_POOL_SLICE - 1) / DD_POOL_SLICE);
  dd_parallel_for(pool, items, avg_backward_fn, &job);
}
