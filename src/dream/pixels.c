/* pixels.c — the dream's element-wise loops on the pool (see pixels.h).
 * Each range function is the loop dream.c ran inline, on [begin, end). */
#include "dream/pixels.h"

#include <math.h>
#include <string.h>

#include "dream/resize.h"

/* Below this many elements a loop runs inline: waking the pool costs more. */
#define PX_INLINE 16384

typedef struct px_ctx {
  float *f;
  uint8_t *u8;
  const float *cf;
  const uint8_t *cu8;
  float a, b;
  double mn, range;
  size_t dst_stride, src_stride, row;
} px_ctx;

static void run(dd_threadpool *pool, size_t n, size_t elements, dd_range_fn fn, px_ctx *c) {
  if (elements < PX_INLINE) fn(c, 0, n);
  else dd_parallel_for(pool, n, fn, c);
}

static void step_range(void *vc, size_t begin, size_t end) {
  const px_ctx *c = (const px_ctx *)vc;
  float *img = c->f;
  uint8_t *pv = c->u8;
  const float *g = c->cf;
  const float stepf = c->a;
  const double mn = c->mn, range = c->range;
  for (size_t i = begin; i < end; i++) img[i] += g[i] * stepf;
  for (size_t i = begin; i < end; i++) pv[i] = (uint8_t)lrint((g[i] - mn) / range * 255.0);
}

void dd_px_step(dd_threadpool *pool, float *img, uint8_t *preview, const float *g, size_t n, float step, double mn,
                double range) {
  px_ctx c = {.f = img, .u8 = preview, .cf = g, .a = step, .mn = mn, .range = range};
  run(pool, n, n, step_range, &c);
}

static void blend_range(void *vc, size_t begin, size_t end) {
  const px_ctx *c = (const px_ctx *)vc;
  float *out = c->f;
  const float b = c->a, nb = c->b;
  const uint8_t *base_u8 = c->cu8;
  const float *base_f = c->cf;
  if (base_u8)
    for (size_t i = begin; i < end; i++) out[i] = b * (float)(double)base_u8[i] + nb * out[i];
  else
    for (size_t i = begin; i < end; i++) out[i] = b * (float)(double)base_f[i] + nb * out[i];
}

void dd_px_blend(dd_threadpool *pool, float *out, const uint8_t *base_u8, const float *base_f, size_t n, float b,
                 float nb) {
  px_ctx c = {.f = out, .cu8 = base_u8, .cf = base_f, .a = b, .b = nb};
  run(pool, n, n, blend_range, &c);
}

static void to_float_range(void *vc, size_t begin, size_t end) {
  const px_ctx *c = (const px_ctx *)vc;
  if (c->cu8)
    for (size_t i = begin; i < end; i++) c->f[i] = (float)c->cu8[i];
  else
    memcpy(c->f + begin, c->cf + begin, (end - begin) * sizeof(float));
}

void dd_px_to_float(dd_threadpool *pool, float *out, const uint8_t *in_u8, const float *in_f, size_t n) {
  px_ctx c = {.f = out, .cu8 = in_u8, .cf = in_f};
  run(pool, n, n, to_float_range, &c);
}

static void to_u8_range(void *vc, size_t begin, size_t end) {
  const px_ctx *c = (const px_ctx *)vc;
  dd_float_to_u8_tutorial(c->cf + begin, c->u8 + begin, end - begin);
}

void dd_px_to_u8(dd_threadpool *pool, const float *in, uint8_t *out, size_t n) {
  px_ctx c = {.cf = in, .u8 = out};
  run(pool, n, n, to_u8_range, &c);
}

/* rows of a window: dst = src - a (b == 0) or src * a (b != 0) */
static void window_rows(void *vc, size_t begin, size_t end) {
  const px_ctx *c = (const px_ctx *)vc;
  const float a = c->a;
  const size_t row = c->row;
  for (size_t r = begin; r < end; r++) {
    const float *src = c->cf + r * c->src_stride;
    float *dst = c->f + r * c->dst_stride;
    if (c->b != 0.0f)
      for (size_t k = 0; k < row; k++) dst[k] = src[k] * a;
    else
      for (size_t k = 0; k < row; k++) dst[k] = src[k] - a;
  }
}

void dd_px_window_sub(dd_threadpool *pool, float *dst, size_t dst_stride, const float *src, size_t src_stride,
                      size_t row_floats, size_t rows, float sub) {
  px_ctx c = {.f = dst, .cf = src, .a = sub, .b = 0.0f, .dst_stride = dst_stride, .src_stride = src_stride,
              .row = row_floats};
  run(pool, rows, rows * row_floats, window_rows, &c);
}

void dd_px_window_mul(dd_threadpool *pool, float *dst, size_t dst_stride, const float *src, size_t src_stride,
                      size_t row_floats, size_t rows, float mul) {
  px_ctx c = {.f = dst, .cf = src, .a = mul, .b = 1.0f, .dst_stride = dst_stride, .src_stride = src_stride,
              .row = row_floats};
  run(pool, rows, rows * row_floats, window_rows, &c);
}
