/* dgrad_thin.c — the data gradient of a convolution into at most 3 channels
 * (the gradient into an RGB image: conv2d0 of Inception, conv1 of GoogLeNet
 * and ResNet), vectorised over pixels instead of channels.
 *
 * din(ih, iw)[ci] = sum over taps (kh, kw) with oh = (ih + pad_top - kh)/s_h
 * and ow = (iw + pad_left - kw)/s_w whole and inside dout, and over out_c
 * channels co, of dout(oh, ow)[co] * W[kh][kw][ci][co].
 *
 * Input pixels of one row split into s_w column classes iw = rw + s_w*v; in
 * a class, consecutive v read consecutive ow for every tap. So once dout's
 * rows are transposed to [co][ow] (zero columns either side), one f32x4 load
 * feeds four pixels, and a micro-tile of 8 pixels x 3 channels keeps six
 * accumulators with no horizontal sums and no lanes wasted on a 4th channel.
 * conv2d0's data gradient at 400x400 in V8: 43 GFLOP/s, as fast as its
 * forward pass; the channel-vectorised dot kernel (igemm 2x3dot) it replaces
 * ran at 18-30.
 *
 * Work items are bands of THIN_BAND input rows; each transposes the dout
 * rows its taps reach into its thread's scratch (the rows shared with the
 * next band are transposed twice) and writes only its own din rows, every
 * value summed in one fixed order (taps row-major, then co): the same bytes
 * on any thread count. */
#include "internal.h"

#define THIN_V 8    /* pixels per micro-tile: two f32x4 */
#define THIN_BAND 8 /* input rows per work item */

/* Floor division for a possibly negative numerator (d > 0). */
static int floor_div(int a, int d) { return a >= 0 ? a / d : -((-a + d - 1) / d); }

/* A pixel's taps (one column class's) fit the per-row tables: at most
   ceil(k_h/s_h) * ceil(k_w/s_w) (AlexNet's 11x11 stride 4: 9). */
int dd_thin_dgrad_supported(const dd_conv2d_params *p, const dd_window_shape *s) {
  const int th = (p->win.k_h + p->win.stride_h - 1) / p->win.stride_h;
  const int tw = (p->win.k_w + p->win.stride_w - 1) / p->win.stride_w;
  return p->in_c <= 3 && p->out_c >= 1 && th * tw <= DD_IGEMM_MAX_TAPS && s->pad_top >= 0 && s->pad_left >= 0 &&
         s->pad_top < p->win.k_h && s->pad_left < p->win.k_w;
}

/* The transposed-row layout: xl zero columns, then ow = 0.. */
typedef struct thin_layout {
  int xl, owp, rows;
} thin_layout;

static thin_layout thin_geometry(const dd_conv2d_params *p, const dd_window_shape *s) {
  const int sh = p->win.stride_h, sw = p->win.stride_w;
  thin_layout L;
  /* column read for pixel v of class rw and tap kw: xl + (rw + pad_left - kw)/s_w + v */
  const int dx_min = floor_div(s->pad_left - (p->win.k_w - 1), sw);
  const int dx_max = (sw - 1 + s->pad_left) / sw;
  const int uw = (s->in_w + sw - 1) / sw; /* the widest class */
  const int vmax = (uw + THIN_V - 1) / THIN_V * THIN_V;
  L.xl = dx_min < 0 ? -dx_min : 0;
  L.owp = L.xl + (s->out_w > dx_max + vmax ? s->out_w : dx_max + vmax) + 4;
  L.rows = (THIN_BAND - 1 + p->win.k_h - 1) / sh + 2;
  return L;
}

/* SIZE_MAX when the product overflows (a very wide image in wasm32): the
   prepare then fails with out of memory. */
size_t dd_thin_dgrad_scratch_floats(const dd_conv2d_params *p, const dd_window_shape *s, int threads) {
  const thin_layout L = thin_geometry(p, s);
  size_t n = (size_t)threads;
  if (!dd_mul_size(n, (size_t)L.rows, &n) || !dd_mul_size(n, (size_t)p->out_c, &n) ||
      !dd_mul_size(n, (size_t)L.owp, &n))
    return SIZE_MAX;
  return n;
}

void dd_thin_dgrad_pack(const dd_conv2d_params *p, float (*weight)(const void *ctx, size_t tap, int ci, int co),
                        const void *ctx, float *dst) {
  const size_t taps = (size_t)p->win.k_h * p->win.k_w;
  for (size_t t = 0; t < taps; t++)
    for (int co = 0; co < p->out_c; co++)
      for (int ci = 0; ci < 4; ci++)
        dst[(t * p->out_c + co) * 4 + ci] = ci < p->in_c ? weight(ctx, t, ci, co) : 0.0f;
}

typedef struct thin_job {
  const dd_conv2d_params *p;
  const dd_window_shape *s;
  const float *w; /* dd_thin_dgrad_pack's layout */
  const float *dout;
  float *din;
  float *scratch;
  thin_layout L;
  int bands;
} thin_job;

/* T[r][co][xl + ow] = dout(row0 + r, ow)[co] for r < nrows; the other columns 0. */
static void thin_transpose(const thin_job *j, int n, int row0, int nrows, float *T) {
  const int co_n = j->p->out_c, ow_n = j->s->out_w, owp = j->L.owp, xl = j->L.xl;
  for (int r = 0; r < nrows; r++) {
    const float *src = j->dout + ((size_t)n * j->s->out_h + row0 + r) * ow_n * co_n;
    float *dst = T + (size_t)r * co_n * owp;
    for (int co = 0; co < co_n; co++) {
      float *d = dst + (size_t)co * owp;
      memset(d, 0, (size_t)xl * sizeof(float));
      memset(d + xl + ow_n, 0, (size_t)(owp - xl - ow_n) * sizeof(float));
    }
    int co = 0;
    for (; co + 4 <= co_n; co += 4) {
      float *d0 = dst + (size_t)co * owp + xl, *d1 = d0 + owp, *d2 = d1 + owp, *d3 = d2 + owp;
      int ow = 0;
      for (; ow + 4 <= ow_n; ow += 4) {
        const float *q = src + (size_t)ow * co_n + co;
        const v128_t r0 = wasm_v128_load(q), r1 = wasm_v128_load(q + co_n);
        const v128_t r2 = wasm_v128_load(q + 2 * co_n), r3 = wasm_v128_load(q + 3 * co_n);
        const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
        const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(d0 + ow, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
        wasm_v128_store(d1 + ow, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
        wasm_v128_store(d2 + ow, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
        wasm_v128_store(d3 + ow, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
      }
      for (; ow < ow_n; ow++) {
        const float *q = src + (size_t)ow * co_n + co;
        d0[ow] = q[0], d1[ow] = q[1], d2[ow] = q[2], d3[ow] = q[3];
      }
    }
    for (; co < co_n; co++)
      for (int ow = 0; ow < ow_n; ow++) dst[(size_t)co * owp + xl + ow] = src[(size_t)ow * co_n + co];
  }
}

/* One micro-tile: 8 pixels (two f32x4 of consecutive columns from a[t] + v0)
   x 3 channels, summed over ntaps taps of co_n channels (a[t] advances by owp
   per channel, w[t] by 4). out[2*ci + q] holds pixels 4q..4q+3 of channel ci.
   (12 pixels, nine accumulators, measured half as fast in V8: it spills.) */
static void thin_tile(size_t ntaps, const float *const *a, size_t v0, const float *const *w, size_t co_n,
                      size_t owp, v128_t out[6]) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  for (size_t t = 0; t < ntaps; t++) {
    const float *ap = a[t] + v0, *wp = w[t];
    for (size_t co = co_n; co != 0; co--) {
      const v128_t a0 = wasm_v128_load(ap), a1 = wasm_v128_load(ap + 4);
      v128_t s = wasm_v128_load32_splat(wp);
      c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, s));
      c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a1, s));
      s = wasm_v128_load32_splat(wp + 1);
      c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a0, s));
      c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, s));
      s = wasm_v128_load32_splat(wp + 2);
      c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a0, s));
      c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a1, s));
      ap += owp;
      wp += 4;
    }
  }
  out[0] = c00, out[1] = c01, out[2] = c10, out[3] = c11, out[4] = c20, out[5] = c21;
}

static void thin_band(const thin_job *j, size_t item, float *T) {
  const dd_conv2d_params *p = j->p;
  const dd_window_shape *s = j->s;
  const int sh = p->win.stride_h, sw = p->win.stride_w, kh_n = p->win.k_h, kw_n = p->win.k_w;
  const int ci_n = p->in_c, co_n = p->out_c;
  const size_t owp = (size_t)j->L.owp;
  const int n = (int)(item / (size_t)j->bands), ih_a = (int)(item % (size_t)j->bands) * THIN_BAND;
  const int ih_b = ih_a + THIN_BAND < s->in_h ? ih_a + THIN_BAND : s->in_h;
  /* dout rows the band's taps reach */
  int lo = -floor_div(-(ih_a + s->pad_top - (kh_n - 1)), sh); /* ceil */
  int hi = floor_div(ih_b - 1 + s->pad_top, sh);
  if (lo < 0) lo = 0;
  if (hi > s->out_h - 1) hi = s->out_h - 1;
  if (hi >= lo) thin_transpose(j, n, lo, hi - lo + 1, T);
  const float *a[DD_IGEMM_MAX_TAPS], *w[DD_IGEMM_MAX_TAPS];
  for (int ih = ih_a; ih < ih_b; ih++) {
    float *row = j->din + ((size_t)n * s->in_h + ih) * s->in_w * ci_n;
    for (int rw = 0; rw < sw && rw < s->in_w; rw++) {
      const int uw = (s->in_w - rw + sw - 1) / sw;
      size_t ntaps = 0;
      for (int kh = 0; kh < kh_n; kh++) {
        const int y = ih + s->pad_top - kh;
        if (floor_div(y, sh) * sh != y) continue;
        const int oh = y / sh;
        if (oh < lo || oh > hi) continue;
        for (int kw = 0; kw < kw_n; kw++) {
          const int x = rw + s->pad_left - kw;
          if (floor_div(x, sw) * sw != x) continue;
          a[ntaps] = T + (size_t)(oh - lo) * co_n * owp + (size_t)(j->L.xl + floor_div(x, sw));
          w[ntaps] = j->w + (size_t)(kh * kw_n + kw) * co_n * 4;
          ntaps++;
        }
      }
      for (int v0 = 0; v0 < uw; v0 += THIN_V) {
        float o[3][THIN_V];
        if (ntaps) {
          v128_t acc[6];
          thin_tile(ntaps, a, (size_t)v0, w, (size_t)co_n, owp, acc);
          for (int ci = 0; ci < 3; ci++)
            for (int q = 0; q < 2; q++) wasm_v128_store(&o[ci][4 * q], acc[2 * ci + q]);
        } else {
          memset(o, 0, sizeof o);
        }
        const int nv = uw - v0 < THIN_V ? uw - v0 : THIN_V;
        for (int v = 0; v < nv; v++) {
          float *px = row + (size_t)(rw + sw * (v0 + v)) * ci_n;
          for (int ci = 0; ci < ci_n; ci++) px[ci] = o[ci][v];
        }
      }
    }
  }
}

static void thin_range(void *ctx, size_t b0, size_t b1, int thread) {
  const thin_job own = *(const thin_job *)ctx; /* a copy on this thread's stack (see wino_range) */
  const thin_job *j = &own;
  float *T = j->scratch + (size_t)thread * j->L.rows * j->p->out_c * j->L.owp;
  for (size_t b = b0; b < b1; b++) thin_band(j, b, T);
}

void dd_thin_dgrad_run(const dd_conv2d_params *p, const dd_window_shape *s, const float *w, const float *dout,
                       float *din, float *scratch, dd_threadpool *pool) {
  thin_job j;
  j.p = p;
  j.s = s;
  j.w = w;
  j.dout = dout;
  j.din = din;
  j.scratch = scratch;
  j.L = thin_geometry(p, s);
  j.bands = (s->in_h + THIN_BAND - 1) / THIN_BAND;
  dd_parallel_for_t(pool, (size_t)s->n * j.bands, thin_range, &j);
}
