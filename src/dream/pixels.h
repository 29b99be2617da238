/* pixels.h — the dream's per-pixel loops outside the network and the blurs,
 * on the model's thread pool: the image step with the gradient preview, the
 * octave blend, u8 -> float, the tile copies in and out, float -> u8.
 *
 * Every function is element-wise (or row-wise) with the arithmetic dream.c
 * used inline before, expression by expression, so the bytes do not depend
 * on the pool size (NULL = inline) or on how the work is cut. None allocates
 * or fails. Sizes are element counts (floats or bytes). */
#ifndef DD_DREAM_PIXELS_H
#define DD_DREAM_PIXELS_H

#include <stddef.h>
#include <stdint.h>
#include "core/core.h"

/* img[i] += g[i] * step; preview[i] = lrint((g[i] - mn) / range * 255.0)
   (double arithmetic, as the tutorial's show_gradient normalisation). */
void dd_px_step(dd_threadpool *pool, float *img, uint8_t *preview, const float *g, size_t n, float step, double mn,
                double range);

/* out[i] = b * base[i] + nb * out[i] in float32 (numpy's blend); base is u8
   (base_f NULL) or float (base_u8 NULL). */
void dd_px_blend(dd_threadpool *pool, float *out, const uint8_t *base_u8, const float *base_f, size_t n, float b,
                 float nb);

/* out[i] = in[i] (u8 or float source, as dd_px_blend). */
void dd_px_to_float(dd_threadpool *pool, float *out, const uint8_t *in_u8, const float *in_f, size_t n);

/* np.clip(x, 0, 255).astype(np.uint8), as dd_float_to_u8_tutorial. */
void dd_px_to_u8(dd_threadpool *pool, const float *in, uint8_t *out, size_t n);

/* A w x h window of rows `stride` floats apart, at src, copied to the packed
   dst as src - sub (tile in: sub = the input mean) or src * mul (tile out:
   mul = 1/std), one row per item. */
void dd_px_window_sub(dd_threadpool *pool, float *dst, size_t dst_stride, const float *src, size_t src_stride,
                      size_t row_floats, size_t rows, float sub);
void dd_px_window_mul(dd_threadpool *pool, float *dst, size_t dst_stride, const float *src, size_t src_stride,
                      size_t row_floats, size_t rows, float mul);

#endif /* DD_DREAM_PIXELS_H */
