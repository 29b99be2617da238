/* resize.c — Pillow-compatible LANCZOS resampling (see resize.h).
 *
 * The arithmetic follows Pillow's Resample.c expression by expression where
 * the rounding of an intermediate matters: the window bounds use C casts
 * (truncation toward zero) of centre -/+ support + 0.5, the filter argument
 * is ((j + xmin) - centre + 0.5) * (1 / filterscale), the weights are divided
 * (not multiplied) by their sum, and the fixed-point weights are rounded half
 * away from zero. Integer sums are order-independent, so the vertical 8-bit
 * pass accumulates blocks of a row at a time (vectorisable); the float path
 * keeps Pillow's summation order per sample.
 *
 * Threads: both passes split their output rows over dd_parallel_for; every
 * output sample is computed by one thread from the same inputs in the same
 * order, so the bytes do not depend on the pool size.
 */
#include "dream/resize.h"

#include "dream/pixels.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LANCZOS_SUPPORT 3.0
#define PRECISION_BITS (32 - 8 - 2)
#define PI_D 3.14159265358979323846

void dd_resize_scaled_size(int h, int w, double factor, int *oh, int *ow) {
  double fh = (double)h * factor, fw = (double)w * factor;
  /* astype(int) truncates; keep out-of-range values defined */
  *oh = fh >= (double)INT_MAX ? INT_MAX : fh <= 0.0 || fh != fh ? 0 : (int)fh;
  *ow = fw >= (double)INT_MAX ? INT_MAX : fw <= 0.0 || fw != fw ? 0 : (int)fw;
}

double dd_resize_factor_from_float(float f) {
  char buf[64];
  for (int digits = 1; digits <= 9; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
    double d = strtod(buf, NULL);
    if ((float)d == f) return d;
  }
  return (double)f;
}

static double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * PI_D;
  return sin(x) / x;
}

static double lanczos(double x) {
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3);
  return 0.0;
}

/* Per output sample: window start and length, ksize weights. */
typedef struct coeffs {
  int out_size, ksize;
  int *bounds;  /* 2 * out_size: xmin, count */
  double *k;    /* out_size * ksize, zero beyond count */
  int32_t *k8;  /* fixed-point copy, for the 8-bit path */
} coeffs;

static void coeffs_free(coeffs *co) {
  free(co->bounds);
  free(co->k);
  free(co->k8);
  memset(co, 0, sizeof *co);
}

static dd_status coeffs_init(coeffs *co, int in_size, int out_size, int want_fixed, dd_error *err) {
  memset(co, 0, sizeof *co);
  const float in0 = 0.0f, in1 = (float)in_size; /* Pillow's box is float */
  double scale, filterscale;
  filterscale = scale = (double)(in1 - in0) / out_size;
  if (filterscale < 1.0) filterscale = 1.0;
  const double support = LANCZOS_SUPPORT * filterscale;
  const double ksize_d = ceil(support) * 2 + 1;
  if (ksize_d > (double)INT_MAX / 2)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "resize %d -> %d: filter too long", in_size, out_size);
  const int ksize = (int)ksize_d;
  size_t nk;
  if (!dd_mul_size((size_t)out_size, (size_t)ksize, &nk) || nk > SIZE_MAX / sizeof(double))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "resize %d -> %d: coefficient table too large", in_size,
                   out_size);
  co->out_size = out_size;
  co->ksize = ksize;
  co->bounds = (int *)malloc((size_t)out_size * 2 * sizeof(int));
  co->k = (double *)calloc(nk, sizeof(double));
  if (want_fixed) co->k8 = (int32_t *)calloc(nk, sizeof(int32_t));
  if (!co->bounds || !co->k || (want_fixed && !co->k8)) {
    coeffs_free(co);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "resize %d -> %d: out of memory for %zu coefficients",
                   in_size, out_size, nk);
  }
  for (int xx = 0; xx < out_size; xx++) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    double ww = 0.0;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    if (xmax > ksize) xmax = ksize; /* cannot happen: the window is 2*support+1 wide */
    double *k = co->k + (size_t)xx * ksize;
    for (int x = 0; x < xmax; x++) {
      const double wgt = lanczos((x + xmin - center + 0.5) * ss);
      k[x] = wgt;
      ww += wgt;
    }
    for (int x = 0; x < xmax; x++)
      if (ww != 0.0) k[x] /= ww;
    co->bounds[xx * 2 + 0] = xmin;
    co->bounds[xx * 2 + 1] = xmax < 0 ? 0 : xmax;
  }
  if (want_fixed)
    for (size_t i = 0; i < nk; i++) {
      const double v = co->k[i];
      co->k8[i] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                        : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
    }
  return DD_OK;
}

static inline uint8_t clip8(int32_t v) {
  if (v >= (256 << PRECISION_BITS)) return 255;
  if (v <= 0) return 0;
  return (uint8_t)(v >> PRECISION_BITS);
}

static dd_status check_sizes(const void *in, int w, int h, int c, const void *out, int ow, int oh,
                             dd_error *err) {
  if (!in || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "resize: NULL image");
  if (w < 1 || h < 1 || ow < 1 || oh < 1 || c < 1)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "resize: invalid size %dx%dx%d -> %dx%d", w, h, c, ow, oh);
  size_t a, b;
  if (!dd_mul_size((size_t)w, (size_t)h, &a) || !dd_mul_size(a, (size_t)c, &a) || a > SIZE_MAX / 8 ||
      !dd_mul_size((size_t)ow, (size_t)oh, &b) || !dd_mul_size(b, (size_t)c, &b) || b > SIZE_MAX / 8 ||
      !dd_mul_size((size_t)ow, (size_t)h, &a) || !dd_mul_size(a, (size_t)c, &a) || a > SIZE_MAX / 8)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "resize: %dx%dx%d -> %dx%d is too large", w, h, c, ow, oh);
  return DD_OK;
}

/* The passes' arguments, for dd_parallel_for over output rows. */
typedef struct pass_args {
  const void *in;
  void *out;
  int w, c, y0; /* horizontal: input width and first input row */
  size_t row;   /* vertical: samples per row */
  const coeffs *co;
} pass_args;

/* Output rows [r0, r1) of the horizontal pass: input rows y0 + r. */
static void horizontal_u8(const uint8_t *in, int w, int c, int y0, int r0, int r1, const coeffs *co, uint8_t *out) {
  const int ow = co->out_size, ks = co->ksize;
  const size_t in_row = (size_t)w * c, out_row = (size_t)ow * c;
  for (int yy = r0; yy < r1; yy++) {
    const uint8_t *src = in + (size_t)(yy + y0) * in_row;
    uint8_t *dst = out + (size_t)yy * out_row;
    for (int xx = 0; xx < ow; xx++) {
      const int xmin = co->bounds[2 * xx], cnt = co->bounds[2 * xx + 1];
      const int32_t *k = co->k8 + (size_t)xx * ks;
      const uint8_t *s = src + (size_t)xmin * c;
      for (int ch = 0; ch < c; ch++) {
        int32_t acc = 1 << (PRECISION_BITS - 1);
        for (int x = 0; x < cnt; x++) acc += (int32_t)s[(size_t)x * c + ch] * k[x];
        dst[(size_t)xx * c + ch] = clip8(acc);
      }
    }
  }
}

#define VBLOCK 512 /* samples of a row the vertical passes accumulate at once */

/* Output rows [r0, r1) of the vertical pass, VBLOCK samples at a time. */
static void vertical_u8(const uint8_t *in, size_t row, const coeffs *co, uint8_t *out, int r0, int r1) {
  const int ks = co->ksize;
  int32_t acc[VBLOCK];
  for (int yy = r0; yy < r1; yy++) {
    const int ymin = co->bounds[2 * yy], cnt = co->bounds[2 * yy + 1];
    const int32_t *k = co->k8 + (size_t)yy * ks;
    uint8_t *dst = out + (size_t)yy * row;
    for (size_t b0 = 0; b0 < row; b0 += VBLOCK) {
      const size_t bn = row - b0 < VBLOCK ? row - b0 : VBLOCK;
      for (size_t i = 0; i < bn; i++) acc[i] = 1 << (PRECISION_BITS - 1);
      for (int y = 0; y < cnt; y++) {
        const uint8_t *src = in + (size_t)(y + ymin) * row + b0;
        const int32_t ky = k[y];
        for (size_t i = 0; i < bn; i++) acc[i] += (int32_t)src[i] * ky;
      }
      for (size_t i = 0; i < bn; i++) dst[b0 + i] = clip8(acc[i]);
    }
  }
}

static void horizontal_f32(const float *in, int w, int c, int y0, int r0, int r1, const coeffs *co, float *out) {
  const int ow = co->out_size, ks = co->ksize;
  const size_t in_row = (size_t)w * c, out_row = (size_t)ow * c;
  for (int yy = r0; yy < r1; yy++) {
    const float *src = in + (size_t)(yy + y0) * in_row;
    float *dst = out + (size_t)yy * out_row;
    for (int xx = 0; xx < ow; xx++) {
      const int xmin = co->bounds[2 * xx], cnt = co->bounds[2 * xx + 1];
      const double *k = co->k + (size_t)xx * ks;
      const float *s = src + (size_t)xmin * c;
      for (int ch = 0; ch < c; ch++) {
        double acc = 0.0;
        for (int x = 0; x < cnt; x++) acc += s[(size_t)x * c + ch] * k[x];
        dst[(size_t)xx * c + ch] = (float)acc;
      }
    }
  }
}

static void vertical_f32(const float *in, size_t row, const coeffs *co, float *out, int r0, int r1) {
  const int ks = co->ksize;
  double acc[VBLOCK];
  for (int yy = r0; yy < r1; yy++) {
    const int ymin = co->bounds[2 * yy], cnt = co->bounds[2 * yy + 1];
    const double *k = co->k + (size_t)yy * ks;
    float *dst = out + (size_t)yy * row;
    for (size_t b0 = 0; b0 < row; b0 += VBLOCK) {
      const size_t bn = row - b0 < VBLOCK ? row - b0 : VBLOCK;
      for (size_t i = 0; i < bn; i++) acc[i] = 0.0;
      for (int y = 0; y < cnt; y++) { /* per sample, y ascending: Pillow's order */
        const float *src = in + (size_t)(y + ymin) * row + b0;
        const double ky = k[y];
        for (size_t i = 0; i < bn; i++) acc[i] += src[i] * ky;
      }
      for (size_t i = 0; i < bn; i++) dst[b0 + i] = (float)acc[i];
    }
  }
}

static void h_u8_rows(void *vp, size_t r0, size_t r1) {
  const pass_args *a = (const pass_args *)vp;
  horizontal_u8((const uint8_t *)a->in, a->w, a->c, a->y0, (int)r0, (int)r1, a->co, (uint8_t *)a->out);
}
static void h_f32_rows(void *vp, size_t r0, size_t r1) {
  const pass_args *a = (const pass_args *)vp;
  horizontal_f32((const float *)a->in, a->w, a->c, a->y0, (int)r0, (int)r1, a->co, (float *)a->out);
}
static void v_u8_rows(void *vp, size_t r0, size_t r1) {
  const pass_args *a = (const pass_args *)vp;
  vertical_u8((const uint8_t *)a->in, a->row, a->co, (uint8_t *)a->out, (int)r0, (int)r1);
}
static void v_f32_rows(void *vp, size_t r0, size_t r1) {
  const pass_args *a = (const pass_args *)vp;
  vertical_f32((const float *)a->in, a->row, a->co, (float *)a->out, (int)r0, (int)r1);
}

/* One driver for both sample types: esz 1 = uint8, 4 = float. */
static dd_status resize_impl(const void *in, int w, int h, int c, void *out, int ow, int oh, int is_u8,
                             void *scratch, size_t scratch_bytes, dd_threadpool *pool, dd_error *err) {
  dd_status st = check_sizes(in, w, h, c, out, ow, oh, err);
  if (st != DD_OK) return st;
  const size_t esz = is_u8 ? 1 : sizeof(float);
  const int need_h = ow != w, need_v = oh != h;
  if (!need_h && !need_v) {
    memcpy(out, in, (size_t)w * h * c * esz);
    return DD_OK;
  }
  coeffs ch = {0}, cv = {0};
  void *tmp = NULL;
  if (need_h && (st = coeffs_init(&ch, w, ow, is_u8, err)) != DD_OK) goto done;
  if (need_v && (st = coeffs_init(&cv, h, oh, is_u8, err)) != DD_OK) goto done;

  const void *vin = in; /* input of the vertical pass */
  if (need_h) {
    /* Only the rows the vertical pass reads, as Pillow does. */
    int y0 = 0, rows = h;
    if (need_v) {
      y0 = cv.bounds[0];
      rows = cv.bounds[2 * (oh - 1)] + cv.bounds[2 * (oh - 1) + 1] - y0;
      for (int i = 0; i < oh; i++) cv.bounds[2 * i] -= y0;
    }
    void *hdst = out;
    if (need_v) {
      const size_t bytes = (size_t)ow * (size_t)(rows > 0 ? rows : 1) * c * esz;
      if (scratch && scratch_bytes >= bytes) {
        hdst = scratch;
      } else {
        tmp = malloc(bytes);
        if (!tmp) {
          st = dd_fail(err, DD_ERR_OUT_OF_MEMORY, "resize: out of memory for a %dx%d intermediate", ow, rows);
          goto done;
        }
        hdst = tmp;
      }
    }
    pass_args a = {in, hdst, w, c, y0, 0, &ch};
    dd_parallel_for(pool, (size_t)(rows > 0 ? rows : 0), is_u8 ? h_u8_rows : h_f32_rows, &a);
    vin = hdst;
  }
  if (need_v) {
    const int vw = need_h ? ow : w;
    pass_args a = {vin, out, vw, c, 0, (size_t)vw * c, &cv};
    dd_parallel_for(pool, (size_t)oh, is_u8 ? v_u8_rows : v_f32_rows, &a);
  }
  st = DD_OK;
done:
  coeffs_free(&ch);
  coeffs_free(&cv);
  free(tmp);
  return st;
}

dd_status dd_resize_lanczos_u8(const uint8_t *in, int w, int h, int c, uint8_t *out, int ow, int oh,
                               dd_error *err) {
  return resize_impl(in, w, h, c, out, ow, oh, 1, NULL, 0, NULL, err);
}

dd_status dd_resize_lanczos_u8_pool(const uint8_t *in, int w, int h, int c, uint8_t *out, int ow, int oh,
                                    dd_threadpool *pool, dd_error *err) {
  return resize_impl(in, w, h, c, out, ow, oh, 1, NULL, 0, pool, err);
}

dd_status dd_resize_lanczos_float(const float *in, int w, int h, int c, float *out, int ow, int oh,
                                  dd_error *err) {
  return resize_impl(in, w, h, c, out, ow, oh, 0, NULL, 0, NULL, err);
}

dd_status dd_resize_lanczos_float_scratch(const float *in, int w, int h, int c, float *out, int ow, int oh,
                                          void *scratch, size_t scratch_bytes, dd_threadpool *pool, dd_error *err) {
  return resize_impl(in, w, h, c, out, ow, oh, 0, scratch, scratch_bytes, pool, err);
}

size_t dd_resize_scratch_bytes(int w, int h, int c, int ow, int is_u8) {
  if (w < 1 || h < 1 || c < 1 || ow < 1) return 0;
  const size_t inter = (size_t)ow * (size_t)h * (size_t)c; /* at most all rows */
  return is_u8 ? (size_t)w * h * c + inter : inter * sizeof(float);
}

void dd_float_to_u8_tutorial(const float *in, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = in[i];
    if (!(v > 0.0f)) v = 0.0f; /* also NaN */
    if (v > 255.0f) v = 255.0f;
    out[i] = (uint8_t)v;       /* truncation toward zero */
  }
}

dd_status dd_resize_tutorial(const float *in, int w, int h, int c, float *out, int ow, int oh,
                             dd_error *err) {
  return dd_resize_tutorial_scratch(in, w, h, c, out, ow, oh, NULL, 0, NULL, err);
}

dd_status dd_resize_tutorial_scratch(const float *in, int w, int h, int c, float *out, int ow, int oh,
                                     void *scratch, size_t scratch_bytes, dd_threadpool *pool, dd_error *err) {
  dd_status st = check_sizes(in, w, h, c, out, ow, oh, err);
  if (st != DD_OK) return st;
  const size_t n_in = (size_t)w * h * c, n_out = (size_t)ow * oh * c;
  uint8_t *a, *own = NULL;
  void *rest = NULL;
  size_t rest_bytes = 0;
  if (scratch && scratch_bytes >= n_in) {
    a = (uint8_t *)scratch;
    rest = a + n_in;
    rest_bytes = scratch_bytes - n_in;
  } else {
    a = own = (uint8_t *)malloc(n_in);
    if (!a) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "resize: out of memory for %zu bytes", n_in);
  }
  /* The 8-bit result sits in the last quarter of out's bytes and is widened
     in place, front to back: float i (bytes 4i..4i+3) only overwrites bytes
     3n+j with j < i, which were already read. */
  uint8_t *b = (uint8_t *)out + 3 * n_out;
  dd_px_to_u8(pool, in, a, n_in);
  st = resize_impl(a, w, h, c, b, ow, oh, 1, rest, rest_bytes, pool, err);
  /* in place, front to back (see above): one thread, not the pool */
  if (st == DD_OK)
    for (size_t i = 0; i < n_out; i++) out[i] = (float)b[i];
  free(own);
  return st;
}
