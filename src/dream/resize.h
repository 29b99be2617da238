/* resize.h — Pillow's Image.resize(size, Image.LANCZOS), bit-exact for 8-bit
 * images, plus the tutorial's size rule and float<->uint8 conventions.
 *
 * What Pillow does (ImagingResample with the default box (0, 0, w, h)), and
 * what dd_resize_lanczos_u8 reproduces:
 *   - two separable passes, horizontal FIRST (into an 8-bit intermediate
 *     image, clipped and rounded), then vertical; a pass whose size does not
 *     change is skipped (both skipped = a copy);
 *   - per axis: scale = in/out, filterscale = max(scale, 1),
 *     support = 3 * filterscale, ksize = 2*ceil(support) + 1; output sample i
 *     has centre (i + 0.5) * scale, input window
 *     [ (int)(centre - support + 0.5), (int)(centre + support + 0.5) ) clamped
 *     to the image, weights lanczos((j - centre + 0.5) / filterscale) with
 *     lanczos(x) = sinc(x) * sinc(x/3) on [-3, 3), normalised to sum 1 in
 *     double;
 *   - 8-bit: weights become fixed point with 22 fraction bits
 *     (PRECISION_BITS = 32 - 8 - 2), rounded half away from zero; each
 *     output = clip8((1 << 21) + sum(pixel * weight)) where clip8 is
 *     "arithmetic shift right by 22, clamp to 0..255".
 * Channels are independent (Pillow's L and RGB; Pillow premultiplies RGBA by
 * alpha first, which this does not do).
 *
 * Layout: interleaved rows, w*c bytes (or floats) per row, no padding.
 * Argument order is Pillow's: width before height.
 * Errors: DD_ERR_INVALID_ARGUMENT (NULL, sizes < 1, c < 1, sizes too large
 * for the coefficient tables), DD_ERR_OUT_OF_MEMORY. Each call allocates its
 * coefficient tables and intermediate image and frees them before returning.
 * in and out must not overlap.
 *
 * Exactness note: the weights use libm sin(); glibc and emscripten's musl
 * agree to the last bit on the arguments that occur in practice, and a 1-ulp
 * difference could only matter for a weight within 1e-16 of a rounding
 * boundary of the fixed-point conversion.
 */
#ifndef DD_DREAM_RESIZE_H
#define DD_DREAM_RESIZE_H

#include <stddef.h>
#include <stdint.h>
#include "core/core.h"
#include "deepdream_image.h"

/* The tutorial's resize_image(image, factor=f) size rule:
     size = (np.array(image.shape[0:2]) * factor).astype(int)
   i.e. (int)((double)h * factor), (int)((double)w * factor), truncated
   toward zero in float64. May give 0 for tiny images: the caller must
   check (Pillow refuses a zero size). Note 540 * 0.7 == 378 in float64, but
   540 * (double)0.7f == 377.99999 -> 377: pass the factor as the double
   the user typed (see dd_resize_factor_from_float). */
void dd_resize_scaled_size(int h, int w, double factor, int *oh, int *ow);

/* The double nearest to the shortest decimal that round-trips the float f,
   e.g. 0.7f -> 0.7 (not 0.699999988079071). For options stored as float
   whose meaning is a decimal typed by a user, as the tutorial's 0.7. */
double dd_resize_factor_from_float(float f);

/* Pillow LANCZOS resize of an 8-bit image, bit-exact: dd_resize_lanczos_u8,
   declared in the public include/deepdream_image.h. */

/* The same filter on floats, no clipping or rounding: Pillow's mode "F"
   path (double weights, double accumulation in Pillow's order, float32
   intermediate image), per channel. Bit-identical to Pillow "F" on the
   golden tests. The better option for a dream: no 8-bit quantisation. */
dd_status dd_resize_lanczos_float(const float *in, int w, int h, int c, float *out, int ow, int oh,
                                  dd_error *err);

/* np.clip(x, 0, 255).astype(np.uint8): clamp, then truncate toward zero.
   NaN becomes 0 (what numpy gives on x86 and wasm). */
void dd_float_to_u8_tutorial(const float *in, uint8_t *out, size_t n);

/* The tutorial's resize_image() on a float HWC image: clip to 0..255,
   truncate to uint8, Pillow LANCZOS, back to float (integral values).
   Its 8-bit output is staged in the last quarter of `out`'s bytes. */
dd_status dd_resize_tutorial(const float *in, int w, int h, int c, float *out, int ow, int oh,
                             dd_error *err);

/* dd_resize_lanczos_u8 with its passes on `pool` (NULL = inline): the same
   bytes for any pool size. */
dd_status dd_resize_lanczos_u8_pool(const uint8_t *in, int w, int h, int c, uint8_t *out, int ow, int oh,
                                    dd_threadpool *pool, dd_error *err);

/* Bytes of scratch with which the resizes below allocate nothing large
   (the 8-bit input copy and the intermediate image). */
size_t dd_resize_scratch_bytes(int w, int h, int c, int ow, int is_u8);

/* dd_resize_tutorial and dd_resize_lanczos_float, with caller scratch of
   scratch_bytes (not overlapping in or out); with less than
   dd_resize_scratch_bytes (or NULL) they allocate as usual. The work runs
   on `pool` (NULL = inline), with the same bytes for any pool size. */
dd_status dd_resize_tutorial_scratch(const float *in, int w, int h, int c, float *out, int ow, int oh,
                                     void *scratch, size_t scratch_bytes, dd_threadpool *pool, dd_error *err);
dd_status dd_resize_lanczos_float_scratch(const float *in, int w, int h, int c, float *out, int ow, int oh,
                                          void *scratch, size_t scratch_bytes, dd_threadpool *pool, dd_error *err);

#endif /* DD_DREAM_RESIZE_H */
