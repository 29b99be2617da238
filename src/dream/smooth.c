/* smooth.c — scipy.ndimage.gaussian_filter semantics on HWC float images.
 *
 * Three separable passes, each a symmetric 1-D correlation with reflect
 * boundaries (see smooth.h for the contract):
 *   rows     (axis 0): out[y] = w0*in[y] + sum_j wj*(in[y-j] + in[y+j]) over whole
 *                      rows, vectorised along the contiguous w*c floats and cut
 *                      into 64-float column strips so the rows a strip touches
 *                      stay in cache;
 *   columns  (axis 1): the same along a row with a stride of c floats,
 *                      vectorised over the flattened (x, channel) index for
 *                      interior pixels, scalar with reflection at the borders;
 *   channels (axis 2): for c <= 16 the reflected taps fold into a c x c
 *                      matrix (3x3 for RGB), applied per pixel.
 * Taps are summed from the outermost pair inwards, onto the centre term, in
 * the order scipy's symmetric correlate1d uses (in float instead of double).
 */
#include "dream/smooth.h"

#include <math.h>
#include <string.h>

#include "kernels/simd128/simd.h"

#define STRIP_FLOATS 64   /* column strip of the row pass: 256 bytes */
#define FOLD_MAX_C 16     /* channel axes up to this length use a folded matrix */

/* scipy 'reflect' (half-sample symmetric), periodic with period 2n. */
static inline int reflect_index(int i, int n) {
  if ((unsigned)i < (unsigned)n) return i;
  int p = 2 * n;
  int m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

int dd_gaussian_radius(double sigma) {
  if (!(sigma >= 0.0) || sigma > DD_GAUSS_MAX_SIGMA) return -1; /* also NaN */
  if (!(sigma > 1e-15)) return 0;
  return (int)(4.0 * sigma + 0.5);
}

/* Half kernel in double: wd[0] centre, wd[k] for +-k. Returns the radius. */
static int kernel_double(double sigma, double *wd) {
  int r = dd_gaussian_radius(sigma);
  if (r < 0) return -1;
  if (r == 0) {
    wd[0] = 1.0;
    return 0;
  }
  double s2 = sigma * sigma, sum = 0.0;
  for (int k = 0; k <= r; k++) wd[k] = exp(-0.5 / s2 * (double)k * (double)k);
  sum = wd[0];
  for (int k = 1; k <= r; k++) sum += 2.0 * wd[k];
  for (int k = 0; k <= r; k++) wd[k] /= sum;
  return r;
}

int dd_gaussian_kernel(double sigma, float *weights, int capacity) {
  double wd[DD_GAUSS_MAX_RADIUS + 1];
  int r = kernel_double(sigma, wd);
  if (r < 0 || !weights || capacity < r + 1) return -1;
  for (int k = 0; k <= r; k++) weights[k] = (float)wd[k];
  return r;
}

static size_t image_floats(int h, int w, int c) {
  if (h < 1 || w < 1 || c < 1) return 0;
  size_t n;
  if (!dd_mul_size((size_t)h, (size_t)w, &n) || !dd_mul_size(n, (size_t)c, &n)) return 0;
  if (n > SIZE_MAX / sizeof(float) / 2) return 0;
  return n;
}

size_t dd_gaussian_scratch_floats(int h, int w, int c) { return image_floats(h, w, c); }
size_t dd_gaussian_sum3_scratch_floats(int h, int w, int c) { return 2 * image_floats(h, w, c); }

/* ---- axis 0: rows ----------------------------------------------------------- */
typedef struct pass_ctx {
  const float *src;
  float *dst;
  int h, w, c;
  size_t row; /* w*c */
  const float *wt;
  int r;
  const float *mat; /* channel pass: c x c folded matrix, or NULL */
} pass_ctx;

static void rows_strips(void *vctx, size_t begin, size_t end) {
  const pass_ctx *p = (const pass_ctx *)vctx;
  const float *up[DD_GAUSS_MAX_RADIUS + 1], *dn[DD_GAUSS_MAX_RADIUS + 1];
  const size_t L = p->row;
  const int r = p->r, h = p->h;
  const float *wt = p->wt;
  const v128_t w0 = wasm_f32x4_splat(wt[0]);
  for (size_t s = begin; s < end; s++) {
    const size_t c0 = s * STRIP_FLOATS;
    const size_t c1 = c0 + STRIP_FLOATS < L ? c0 + STRIP_FLOATS : L;
    for (int y = 0; y < h; y++) {
      for (int j = 1; j <= r; j++) {
        up[j] = p->src + (size_t)reflect_index(y - j, h) * L;
        dn[j] = p->src + (size_t)reflect_index(y + j, h) * L;
      }
      const float *mid = p->src + (size_t)y * L;
      float *d = p->dst + (size_t)y * L;
      size_t i = c0;
      for (; i + 16 <= c1; i += 16) {
        v128_t a0 = wasm_f32x4_mul(w0, wasm_v128_load(mid + i));
        v128_t a1 = wasm_f32x4_mul(w0, wasm_v128_load(mid + i + 4));
        v128_t a2 = wasm_f32x4_mul(w0, wasm_v128_load(mid + i + 8));
        v128_t a3 = wasm_f32x4_mul(w0, wasm_v128_load(mid + i + 12));
        for (int j = r; j >= 1; j--) {
          const float *u = up[j] + i, *v = dn[j] + i;
          const v128_t wj = wasm_f32x4_splat(wt[j]);
          a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u), wasm_v128_load(v)), wj));
          a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u + 4), wasm_v128_load(v + 4)), wj));
          a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u + 8), wasm_v128_load(v + 8)), wj));
          a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u + 12), wasm_v128_load(v + 12)), wj));
        }
        wasm_v128_store(d + i, a0);
        wasm_v128_store(d + i + 4, a1);
        wasm_v128_store(d + i + 8, a2);
        wasm_v128_store(d + i + 12, a3);
      }
      for (; i + 4 <= c1; i += 4) {
        v128_t a0 = wasm_f32x4_mul(w0, wasm_v128_load(mid + i));
        for (int j = r; j >= 1; j--) {
          const v128_t wj = wasm_f32x4_splat(wt[j]);
          a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(up[j] + i),
                                                                wasm_v128_load(dn[j] + i)), wj));
        }
        wasm_v128_store(d + i, a0);
      }
      for (; i < c1; i++) {
        float a = wt[0] * mid[i];
        for (int j = r; j >= 1; j--) a += (up[j][i] + dn[j][i]) * wt[j];
        d[i] = a;
      }
    }
  }
}

/* ---- axis 1: columns -------------------------------------------------------- */
static void cols_rows(void *vctx, size_t begin, size_t end) {
  const pass_ctx *p = (const pass_ctx *)vctx;
  const int w = p->w, c = p->c, r = p->r;
  const float *wt = p->wt;
  const v128_t w0 = wasm_f32x4_splat(wt[0]);
  /* interior pixels [r, w-r) read no reflected sample */
  const int x_lo = r < w ? r : w;
  const int x_hi = w - r > x_lo ? w - r : x_lo;
  for (size_t y = begin; y < end; y++) {
    const float *s = p->src + y * p->row;
    float *d = p->dst + y * p->row;
    size_t i = (size_t)x_lo * c;
    const size_t i_end = (size_t)x_hi * c;
    for (; i + 16 <= i_end; i += 16) {
      v128_t a0 = wasm_f32x4_mul(w0, wasm_v128_load(s + i));
      v128_t a1 = wasm_f32x4_mul(w0, wasm_v128_load(s + i + 4));
      v128_t a2 = wasm_f32x4_mul(w0, wasm_v128_load(s + i + 8));
      v128_t a3 = wasm_f32x4_mul(w0, wasm_v128_load(s + i + 12));
      for (int j = r; j >= 1; j--) {
        const float *u = s + i - (size_t)j * c, *v = s + i + (size_t)j * c;
        const v128_t wj = wasm_f32x4_splat(wt[j]);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u), wasm_v128_load(v)), wj));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u + 4), wasm_v128_load(v + 4)), wj));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u + 8), wasm_v128_load(v + 8)), wj));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(u + 12), wasm_v128_load(v + 12)), wj));
      }
      wasm_v128_store(d + i, a0);
      wasm_v128_store(d + i + 4, a1);
      wasm_v128_store(d + i + 8, a2);
      wasm_v128_store(d + i + 12, a3);
    }
    for (; i + 4 <= i_end; i += 4) {
      v128_t a0 = wasm_f32x4_mul(w0, wasm_v128_load(s + i));
      for (int j = r; j >= 1; j--) {
        const v128_t wj = wasm_f32x4_splat(wt[j]);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(s + i - (size_t)j * c),
                                                              wasm_v128_load(s + i + (size_t)j * c)), wj));
      }
      wasm_v128_store(d + i, a0);
    }
    for (; i < i_end; i++) {
      float a = wt[0] * s[i];
      for (int j = r; j >= 1; j--) a += (s[i - (size_t)j * c] + s[i + (size_t)j * c]) * wt[j];
      d[i] = a;
    }
    /* border pixels, with reflection */
    for (int x = 0; x < w; x++) {
      if (x == x_lo) x = x_hi;
      if (x >= w) break;
      for (int ch = 0; ch < c; ch++) {
        float a = wt[0] * s[(size_t)x * c + ch];
        for (int j = r; j >= 1; j--)
          a += (s[(size_t)reflect_index(x - j, w) * c + ch] + s[(size_t)reflect_index(x + j, w) * c + ch]) * wt[j];
        d[(size_t)x * c + ch] = a;
      }
    }
  }
}

/* ---- axis 2: channels ------------------------------------------------------- */
static void chan_pixels(void *vctx, size_t begin, size_t end) {
  const pass_ctx *p = (const pass_ctx *)vctx;
  const int c = p->c, r = p->r;
  const float *m = p->mat;
  if (m && c == 3) {
    const float m00 = m[0], m01 = m[1], m02 = m[2], m10 = m[3], m11 = m[4], m12 = m[5];
    const float m20 = m[6], m21 = m[7], m22 = m[8];
    for (size_t q = begin; q < end; q++) {
      const float *s = p->src + q * 3;
      float *d = p->dst + q * 3;
      const float s0 = s[0], s1 = s[1], s2 = s[2];
      d[0] = m00 * s0 + m01 * s1 + m02 * s2;
      d[1] = m10 * s0 + m11 * s1 + m12 * s2;
      d[2] = m20 * s0 + m21 * s1 + m22 * s2;
    }
  } else if (m) {
    for (size_t q = begin; q < end; q++) {
      const float *s = p->src + q * c;
      float *d = p->dst + q * c;
      for (int o = 0; o < c; o++) {
        float a = 0.0f;
        for (int i = 0; i < c; i++) a += m[o * c + i] * s[i];
        d[o] = a;
      }
    }
  } else {
    const float *wt = p->wt;
    for (size_t q = begin; q < end; q++) {
      const float *s = p->src + q * c;
      float *d = p->dst + q * c;
      for (int o = 0; o < c; o++) {
        float a = wt[0] * s[o];
        for (int j = r; j >= 1; j--) a += (s[reflect_index(o - j, c)] + s[reflect_index(o + j, c)]) * wt[j];
        d[o] = a;
      }
    }
  }
}

/* ---- driver ----------------------------------------------------------------- */
static int valid_sigma(double s) { return dd_gaussian_radius(s) >= 0; }

dd_status dd_gaussian_filter_ex(const float *in, float *out, int h, int w, int c,
                                const double sigma[3], float *scratch, dd_threadpool *pool) {
  const size_t n = image_floats(h, w, c);
  if (!in || !out || !scratch || !sigma || n == 0) return DD_ERR_INVALID_ARGUMENT;
  if (!valid_sigma(sigma[0]) || !valid_sigma(sigma[1]) || !valid_sigma(sigma[2]))
    return DD_ERR_INVALID_ARGUMENT;

  int axes[3], k = 0;
  for (int a = 0; a < 3; a++)
    if (sigma[a] > 1e-15) axes[k++] = a;
  if (k == 0) {
    if (in != out) memcpy(out, in, n * sizeof(float));
    return DD_OK;
  }
  /* Every pass reads one buffer and writes another. The last pass writes
     out; when in == out and the pass count is odd, the first pass would
     overwrite its own input, so the parity flips and a copy ends the run. */
  const int flip = (in == out) && (k & 1);
  const float *src = in;
  for (int p = 0; p < k; p++) {
    float *dst = (((k - 1 - p) & 1) ^ flip) ? scratch : out;
    const int axis = axes[p];
    double wd[DD_GAUSS_MAX_RADIUS + 1];
    float wt[DD_GAUSS_MAX_RADIUS + 1];
    const int r = kernel_double(sigma[axis], wd);
    for (int j = 0; j <= r; j++) wt[j] = (float)wd[j];
    pass_ctx ctx = {src, dst, h, w, c, (size_t)w * c, wt, r, NULL};
    if (axis == 0) {
      size_t strips = (ctx.row + STRIP_FLOATS - 1) / STRIP_FLOATS;
      dd_parallel_for(pool, strips, rows_strips, &ctx);
    } else if (axis == 1) {
      dd_parallel_for(pool, (size_t)h, cols_rows, &ctx);
    } else {
      float mat[FOLD_MAX_C * FOLD_MAX_C];
      if (c <= FOLD_MAX_C) {
        double md[FOLD_MAX_C * FOLD_MAX_C];
        for (int i = 0; i < c * c; i++) md[i] = 0.0;
        for (int o = 0; o < c; o++) {
          md[o * c + o] += wd[0];
          for (int j = 1; j <= r; j++) {
            md[o * c + reflect_index(o - j, c)] += wd[j];
            md[o * c + reflect_index(o + j, c)] += wd[j];
          }
        }
        for (int i = 0; i < c * c; i++) mat[i] = (float)md[i];
        ctx.mat = mat;
      }
      dd_parallel_for(pool, (size_t)h * (size_t)w, chan_pixels, &ctx);
    }
    src = dst;
  }
  if (flip) memcpy(out, scratch, n * sizeof(float));
  return DD_OK;
}

dd_status dd_gaussian_filter(const float *in, float *out, int h, int w, int c, float sigma_h,
                             float sigma_w, float sigma_c, float *scratch) {
  const double s[3] = {sigma_h, sigma_w, sigma_c};
  return dd_gaussian_filter_ex(in, out, h, w, c, s, scratch, NULL);
}

/* out += term, in blocks of ADD_BLOCK floats (the last one partial). */
#define ADD_BLOCK 4096
typedef struct add_ctx {
  float *out;
  const float *term;
  size_t n;
} add_ctx;

static void add_blocks(void *vctx, size_t begin, size_t end) {
  const add_ctx *a = (const add_ctx *)vctx;
  const size_t i1 = end * ADD_BLOCK < a->n ? end * ADD_BLOCK : a->n;
  for (size_t i = begin * ADD_BLOCK; i < i1; i++) a->out[i] += a->term[i];
}

dd_status dd_gaussian_sum3(const float *in, float *out, int h, int w, int c, double sigma,
                           int blur_channels, float *scratch, dd_threadpool *pool) {
  return dd_gaussian_sum3_bounded(in, out, SIZE_MAX, h, w, c, sigma, blur_channels, scratch, SIZE_MAX, pool);
}

dd_status dd_gaussian_sum3_bounded(const float *in, float *out, size_t out_floats, int h, int w, int c,
                                   double sigma, int blur_channels, float *scratch, size_t scratch_floats,
                                   dd_threadpool *pool) {
  const size_t n = image_floats(h, w, c);
  if (!in || !out || !scratch || n == 0 || in == out) return DD_ERR_INVALID_ARGUMENT;
  /* the buffers must hold the whole strip: a caller that sized them for
     smaller sigmas or fewer rows gets an error, never a write past the end */
  if (n > out_floats || 2 * n > scratch_floats) return DD_ERR_INVALID_ARGUMENT;
  if (!valid_sigma(sigma) || !valid_sigma(sigma * 2.0)) return DD_ERR_INVALID_ARGUMENT;
  float *tmp = scratch, *term = scratch + n;
  const double factors[3] = {1.0, 2.0, 0.5};
  for (int t = 0; t < 3; t++) {
    const double s = sigma * factors[t];
    const double sig[3] = {s, s, blur_channels ? s : 0.0};
    dd_status st = dd_gaussian_filter_ex(in, t == 0 ? out : term, h, w, c, sig, tmp, pool);
    if (st != DD_OK) return st;
    if (t > 0) {
      add_ctx a = {out, term, n};
      dd_parallel_for(pool, (n + ADD_BLOCK - 1) / ADD_BLOCK, add_blocks, &a); /* element-wise: same bytes */
    }
  }
  return DD_OK;
}
