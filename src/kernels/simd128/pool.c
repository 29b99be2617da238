/* pool.c — simd128 max/avg pooling, NHWC, vectorised over channels.
 *
 * Forward passes split output rows across threads; backward passes split
 * bands of input rows (see below). Semantics match TensorFlow and the
 * reference backend: padding is excluded from windows and from the average's
 * divisor; max backward routes to the first maximum in row-major scan order
 * (strict '>' while scanning). */
#include "internal.h"

typedef struct pool_job {
  const dd_window *win;
  const dd_window_shape *s;
  int c;
  const float *in, *dout;
  float *out, *din;
  const float *mask; /* max backward: din's relu mask (kernels.h), or NULL */
  uint8_t *argmax;   /* max: each output's first-maximum cell (kernels.h), or NULL */
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

/* The first maximum of 16 channels over a clipped window (row-major scan,
   strict '>'; the max by pmax, as max_pool_pixel) and where it is: lane
   index i * step_i + j * step_j of its cell (a cell number for the saved
   argmax, an element offset for the backward's rescan). q0 points at the
   window's first cell; rs is the input row stride in floats. */
static inline void first_max16(const float *q0, size_t rs, int c, int hh, int ww, int step_i, int step_j, v128_t m[4],
                               v128_t k[4]) {
  for (int l = 0; l < 4; l++) m[l] = wasm_v128_load(q0 + 4 * l), k[l] = wasm_i32x4_splat(0);
  for (int i = 0; i < hh; i++) {
    for (int j = i == 0; j < ww; j++) {
      const float *q = q0 + (size_t)i * rs + (size_t)j * c;
      const v128_t vk = wasm_i32x4_splat(i * step_i + j * step_j);
      for (int l = 0; l < 4; l++) {
        const v128_t v = wasm_v128_load(q + 4 * l);
        k[l] = wasm_v128_bitselect(vk, k[l], wasm_f32x4_gt(v, m[l]));
        m[l] = wasm_f32x4_pmax(m[l], v);
      }
    }
  }
}

/* The same for 4 channels. */
static inline void first_max4(const float *q0, size_t rs, int c, int hh, int ww, int step_i, int step_j, v128_t *m,
                              v128_t *k) {
  *m = wasm_v128_load(q0);
  *k = wasm_i32x4_splat(0);
  for (int i = 0; i < hh; i++)
    for (int j = i == 0; j < ww; j++) {
      const v128_t v = wasm_v128_load(q0 + (size_t)i * rs + (size_t)j * c);
      *k = wasm_v128_bitselect(wasm_i32x4_splat(i * step_i + j * step_j), *k, wasm_f32x4_gt(v, *m));
      *m = wasm_f32x4_pmax(*m, v);
    }
}

/* Stores lanes of k (i32, each < 256) as bytes: 16 from four vectors. */
static inline void store_cells16(uint8_t *am, v128_t k0, v128_t k1, v128_t k2, v128_t k3) {
  wasm_v128_store(am, wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(k0, k1), wasm_i16x8_narrow_i32x4(k2, k3)));
}

/* max_pool_pixel that also writes, per channel, the cell i * ww + j of the
   clipped window holding its first maximum in row-major order into am: the
   cell max_back_window finds (strict '>' while scanning; the max by pmax,
   so the same values as max_pool_pixel). */
static void max_pool_pixel_argmax(const float *base, size_t rs, int c, int hh, int ww, float *o, uint8_t *am) {
  int ch = 0;
  for (; ch + 16 <= c; ch += 16) {
    v128_t m[4], k[4];
    first_max16(base + ch, rs, c, hh, ww, ww, 1, m, k);
    for (int l = 0; l < 4; l++) wasm_v128_store(o + ch + 4 * l, m[l]);
    store_cells16(am + ch, k[0], k[1], k[2], k[3]);
  }
  for (; ch + 4 <= c; ch += 4) {
    v128_t m, k;
    first_max4(base + ch, rs, c, hh, ww, ww, 1, &m, &k);
    wasm_v128_store(o + ch, m);
    const v128_t k16 = wasm_i16x8_narrow_i32x4(k, k);
    const int32_t cells = wasm_i32x4_extract_lane(wasm_u8x16_narrow_i16x8(k16, k16), 0);
    memcpy(am + ch, &cells, 4);
  }
  for (; ch < c; ch++) {
    float m = base[ch];
    int cell = 0;
    for (int i = 0; i < hh; i++)
      for (int j = 0; j < ww; j++) {
        const float v = base[ch + (size_t)i * rs + (size_t)j * c];
        if (v > m) m = v, cell = i * ww + j;
      }
    o[ch] = m;
    am[ch] = (uint8_t)cell;
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
    uint8_t *am = job->argmax ? job->argmax + row * s->out_w * c : NULL;
    for (int ow = 0; ow < s->out_w; ow++, o += c) {
      pool_span r = pool_window(job->win, s, oh, ow);
      const float *base = job->in + (((size_t)n * s->in_h + r.h0) * s->in_w + r.w0) * c;
      int hh = r.h1 - r.h0, ww = r.w1 - r.w0;
      if (am)
        max_pool_pixel_argmax(base, rs, c, hh, ww, o, am + (size_t)ow * c);
      else if (is_max)
        max_pool_pixel(base, rs, c, hh, ww, o);
      else
        avg_pool_pixel(base, rs, c, hh, ww, 1.0f / (float)(hh * ww), o);
    }
  }
}

/* Each thread works from a copy of the job on its own stack (see wino_range). */
static void max_forward_fn(void *ctx, size_t b, size_t e) {
  const pool_job own = *(const pool_job *)ctx;
  pool_forward_rows(&own, b, e, 1);
}
static void avg_forward_fn(void *ctx, size_t b, size_t e) {
  const pool_job own = *(const pool_job *)ctx;
  pool_forward_rows(&own, b, e, 0);
}

void dd_simd128_max_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool) {
  pool_job job = {win, s, c, in, NULL, out, NULL, NULL, NULL};
  dd_parallel_for(pool, (size_t)s->n * s->out_h, max_forward_fn, &job);
}

void dd_simd128_max_pool_forward_argmax(const dd_window *win, const dd_window_shape *s, int c,
                                        const float *in, float *out, uint8_t *argmax, dd_threadpool *pool) {
  pool_job job = {win, s, c, in, NULL, out, NULL, NULL, argmax};
  dd_parallel_for(pool, (size_t)s->n * s->out_h, max_forward_fn, &job);
}

void dd_simd128_avg_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool) {
  pool_job job = {win, s, c, in, NULL, out, NULL, NULL, NULL};
  dd_parallel_for(pool, (size_t)s->n * s->out_h, avg_forward_fn, &job);
}

/* ---- backward ------------------------------------------------------------------ */

/* Backward passes scatter into overlapping input windows. Work is split into
   bands of input rows, all channels at once (one pass over memory): a band
   walks every window that touches its din rows, zeroing each row just before
   the first window reaches it, and adds only into its own rows. Windows straddling two bands are scanned by both
   (each keeps its part), so no two threads write the same element and every
   din element receives its contributions in the same (oh, ow) order whatever
   the split: results are bit-identical for any thread count. */

/* Adds g[l] at d[o[l] + l] for lanes l < n whose offset lies in [lo, hi).
   With a mask (laid out as d), a lane whose target is masked adds +0
   instead: such an element receives nothing else either (din_mask's contract:
   it stays the +0 the band was zeroed with). */
static void scatter_lanes(float *d, const float *mask, const int32_t *o, const float *g, int n, int checked,
                          int lo, int hi) {
  if (mask) {
    for (int l = 0; l < n; l++)
      if (!checked || (o[l] >= lo && o[l] < hi)) d[o[l] + l] += mask[o[l] + l] > 0.0f ? g[l] : 0.0f;
  } else if (!checked) {
    for (int l = 0; l < n; l++) d[o[l] + l] += g[l];
  } else {
    for (int l = 0; l < n; l++)
      if (o[l] >= lo && o[l] < hi) d[o[l] + l] += g[l];
  }
}

/* The relu mask when it is the pooled input itself (as the engine passes it):
   the lane's max is the input at its argmax, so the mask is the max's sign,
   applied to the gradient in vector form before the scatter. */
static inline v128_t mask_by_max(const float *g, v128_t m) {
  return wasm_v128_and(wasm_v128_load(g), wasm_f32x4_gt(m, wasm_f32x4_splat(0.0f)));
}

/* Routes the gradient g of one window to the first maximum of each of its c
   channels. base and dbase point at the window's first cell in the input and
   din, mbase in din's relu mask (NULL: none; == base: the input itself); rs
   is the row stride in floats. Each lane tracks its argmax as an element
   offset from the window's first cell (no division) and the max with pmax
   (best < v ? v : best: the strict '>' of a row-major scan); the offsets of
   16 (or 4) channels are then scattered. With `checked`, only offsets in
   [lo, hi) (the caller's band of rows) are written. */
static void max_back_window(const float *base, float *dbase, const float *mbase, size_t rs, int c, int hh, int ww,
                            const float *g, int checked, int lo, int hi) {
  const int mask_is_in = mbase == base;
  int ch = 0;
  for (; ch + 16 <= c; ch += 16) {
    v128_t m[4], k[4];
    first_max16(base + ch, rs, c, hh, ww, (int)rs, c, m, k);
    int32_t o[16];
    for (int l = 0; l < 4; l++) wasm_v128_store(o + 4 * l, k[l]);
    if (mask_is_in) {
      float gm[16];
      for (int l = 0; l < 4; l++) wasm_v128_store(gm + 4 * l, mask_by_max(g + ch + 4 * l, m[l]));
      scatter_lanes(dbase + ch, NULL, o, gm, 16, checked, lo, hi);
    } else {
      scatter_lanes(dbase + ch, mbase ? mbase + ch : NULL, o, g + ch, 16, checked, lo, hi);
    }
  }
  for (; ch + 4 <= c; ch += 4) {
    v128_t m, k;
    first_max4(base + ch, rs, c, hh, ww, (int)rs, c, &m, &k);
    int32_t o[4];
    wasm_v128_store(o, k);
    if (mask_is_in) {
      float gm[4];
      wasm_v128_store(gm, mask_by_max(g + ch, m));
      scatter_lanes(dbase + ch, NULL, o, gm, 4, checked, lo, hi);
    } else {
      scatter_lanes(dbase + ch, mbase ? mbase + ch : NULL, o, g + ch, 4, checked, lo, hi);
    }
  }
  for (; ch < c; ch++) {
    float best = base[ch];
    int32_t bo = 0;
    for (int i = 0; i < hh; i++)
      for (int j = 0; j < ww; j++) {
        const int off = (int)((size_t)i * rs + (size_t)j * c);
        if (base[ch + off] > best) {
          best = base[ch + off];
          bo = off;
        }
      }
    scatter_lanes(dbase + ch, mbase ? mbase + ch : NULL, &bo, g + ch, 1, checked, lo, hi);
  }
}

/* max_back_window from the cells the forward found (am: one per channel,
   i * ww + j of the clipped window): the same offsets, so the same
   scatter and the same bytes, without the rescan. A mask that is the input
   itself is read at the argmax, where it is the max mask_by_max tests. */
static void max_back_window_cells(const uint8_t *am, float *dbase, const float *mbase, size_t rs, int c, int hh,
                                  int ww, const float *g, int checked, int lo, int hi) {
  int32_t cell_off[256], o[16];
  for (int i = 0; i < hh; i++)
    for (int j = 0; j < ww; j++) cell_off[i * ww + j] = (int32_t)((size_t)i * rs + (size_t)j * c);
  for (int ch = 0; ch < c; ch += 16) {
    const int n = c - ch < 16 ? c - ch : 16;
    for (int l = 0; l < n; l++) o[l] = cell_off[am[ch + l]];
    scatter_lanes(dbase + ch, mbase ? mbase + ch : NULL, o, g + ch, n, checked, lo, hi);
  }
}

/* Adds g*inv to every channel of the window's rows [i0, i1). */
static void avg_back_window(float *dbase, size_t rs, int c, int i0, int i1, int ww, const float *g, float inv) {
  const v128_t vinv = wasm_f32x4_splat(inv);
  for (int i = i0; i < i1; i++) {
    float *row = dbase + (size_t)i * rs;
    for (int j = 0; j < ww; j++) {
      float *q = row + (size_t)j * c;
      int ch = 0;
      for (; ch + 4 <= c; ch += 4)
        wasm_v128_store(q + ch, wasm_f32x4_add(wasm_v128_load(q + ch),
                                               wasm_f32x4_mul(wasm_v128_load(g + ch), vinv)));
      for (; ch < c; ch++) q[ch] += g[ch] * inv;
    }
  }
}

/* Input rows [r0, r1) of image n. */
static void pool_backward_band(const pool_job *job, int n, int r0, int r1, int is_max) {
  const dd_window *win = job->win;
  const dd_window_shape *s = job->s;
  const int c = job->c;
  const size_t rs = (size_t)s->in_w * c;
  float *din_n = job->din + (size_t)n * s->in_h * rs;
  /* output rows whose window [oh*sh - pt, oh*sh - pt + kh) meets [r0, r1) */
  const int sh = win->stride_h, pt = s->pad_top;
  int oh0 = r0 + pt - win->k_h + 1; /* oh*sh >= r0 + pt - kh + 1 */
  oh0 = oh0 <= 0 ? 0 : (oh0 + sh - 1) / sh;
  int oh1 = (r1 + pt + sh - 1) / sh; /* oh*sh < r1 + pt */
  if (oh1 > s->out_h) oh1 = s->out_h;
  /* The band's rows are zeroed as the windows reach them (rows [r0, zeroed)
     are), not all up front: the rows a row of windows adds into were zeroed
     just before, so they are still in cache (a whole band, up to 7.7 MB for
     Inception's maxpool1 at a 400x400 tile, would go out to memory and come
     back). The same operations in the same order: the same bytes. */
  int zeroed = r0;
  for (int oh = oh0; oh < oh1; oh++) {
    int top = oh * sh - pt + win->k_h; /* the window row's last input row + 1 */
    if (top > r1) top = r1;
    if (top > zeroed) {
      memset(din_n + (size_t)zeroed * rs, 0, (size_t)(top - zeroed) * rs * sizeof(float));
      zeroed = top;
    }
    for (int ow = 0; ow < s->out_w; ow++) {
      pool_span r = pool_window(win, s, oh, ow);
      if (r.h1 <= r0 || r.h0 >= r1 || r.w1 <= r.w0) continue;
      const size_t off = ((size_t)r.h0 * s->in_w + r.w0) * c;
      const float *g = job->dout + (((size_t)n * s->out_h + oh) * s->out_w + ow) * c;
      const int hh = r.h1 - r.h0, ww = r.w1 - r.w0;
      float *dbase = din_n + off;
      if (is_max) {
        const int checked = r.h0 < r0 || r.h1 > r1;
        const int lo = (r0 - r.h0) * (int)rs, hi = (r1 - r.h0) * (int)rs;
        const size_t at = (size_t)n * s->in_h * rs + off;
        const float *mbase = job->mask ? job->mask + at : NULL;
        if (job->argmax)
          max_back_window_cells(job->argmax + (g - job->dout), dbase, mbase, rs, c, hh, ww, g, checked, lo, hi);
        else
          max_back_window(job->in + at, dbase, mbase, rs, c, hh, ww, g, checked, lo, hi);
      } else {
        const int i0 = r.h0 < r0 ? r0 - r.h0 : 0, i1 = r.h1 > r1 ? r1 - r.h0 : hh;
        avg_back_window(dbase, rs, c, i0, i1, ww, g, 1.0f / (float)(hh * ww));
      }
    }
  }
  if (zeroed < r1) /* rows below the last window (VALID, or a stride longer than the window) */
    memset(din_n + (size_t)zeroed * rs, 0, (size_t)(r1 - zeroed) * rs * sizeof(float));
}

/* Bands per image: one without threads (a single pass), else one per thread
   (each thread's static share of the pool is one contiguous band), two per
   thread on tall images so a late thread's half can be stolen. A band
   rescans the windows straddling its edges, so bands stay tall. */
static int pool_bands(const dd_window *win, const dd_window_shape *s, dd_threadpool *pool) {
  const int threads = dd_threadpool_size(pool);
  (void)win;
  if (threads <= 1 || s->in_h < 4 * threads) return 1;
  return s->in_h >= 48 * threads ? 2 * threads : threads;
}

typedef struct band_job {
  pool_job p;
  int bands;
} band_job;

/* Items are (n, band); a range is walked as one band per image it covers. */
static void pool_backward_items(const band_job *job, size_t begin, size_t end, int is_max) {
  const int in_h = job->p.s->in_h, bands = job->bands;
  for (size_t item = begin; item < end;) {
    const int n = (int)(item / (size_t)bands);
    const size_t run_end = ((size_t)n + 1) * (size_t)bands < end ? ((size_t)n + 1) * (size_t)bands : end;
    const int b0 = (int)(item - (size_t)n * (size_t)bands), b1 = (int)(run_end - (size_t)n * (size_t)bands);
    item = run_end;
    const int r0 = (int)((int64_t)in_h * b0 / bands), r1 = (int)((int64_t)in_h * b1 / bands);
    if (r0 < r1) pool_backward_band(&job->p, n, r0, r1, is_max);
  }
}

static void max_backward_fn(void *ctx, size_t b, size_t e) {
  const band_job own = *(const band_job *)ctx;
  pool_backward_items(&own, b, e, 1);
}
static void avg_backward_fn(void *ctx, size_t b, size_t e) {
  const band_job own = *(const band_job *)ctx;
  pool_backward_items(&own, b, e, 0);
}

void dd_simd128_max_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *in, const float *dout, const float *din_mask,
                                  float *din, dd_threadpool *pool) {
  band_job job = {{win, s, c, in, dout, NULL, din, din_mask, NULL}, pool_bands(win, s, pool)};
  dd_parallel_for(pool, (size_t)s->n * job.bands, max_backward_fn, &job);
}

void dd_simd128_max_pool_backward_argmax(const dd_window *win, const dd_window_shape *s, int c,
                                         const uint8_t *argmax, const float *dout, const float *din_mask,
                                         float *din, dd_threadpool *pool) {
  band_job job = {{win, s, c, NULL, dout, NULL, din, din_mask, (uint8_t *)argmax}, pool_bands(win, s, pool)};
  dd_parallel_for(pool, (size_t)s->n * job.bands, max_backward_fn, &job);
}

void dd_simd128_avg_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *dout, float *din, dd_threadpool *pool) {
  band_job job = {{win, s, c, NULL, dout, NULL, din, NULL, NULL}, pool_bands(win, s, pool)};
  dd_parallel_for(pool, (size_t)s->n * job.bands, avg_backward_fn, &job);
}
