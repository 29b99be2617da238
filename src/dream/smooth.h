/* smooth.h — scipy.ndimage.gaussian_filter for float images in HWC layout.
 *
 * What: the Gaussian blur that Hvass-Labs tutorial #14 applies to the
 * gradient (optimize_image: gaussian_filter(grad, sigma) for sigma, 2*sigma
 * and 0.5*sigma, summed) and to the image before each downscale
 * (recursive_optimize: gaussian_filter(image, sigma=(0.5, 0.5, 0.0))).
 *
 * Semantics, as scipy.ndimage.gaussian_filter(x, sigma, mode='reflect',
 * truncate=4.0) on a float32 array of shape (h, w, c):
 *   - separable 1-D correlations along axis 0 (rows, h), then axis 1
 *     (columns, w), then axis 2 (channels, c); the result of each axis is
 *     rounded to float32 before the next axis, as scipy stores it in the
 *     float32 output array between axes;
 *   - an axis whose sigma is <= 1e-15 is not filtered at all (scipy skips it);
 *   - radius r = (int)(4.0 * sigma + 0.5); weights exp(-0.5 * k^2 / sigma^2)
 *     for k = -r..r, computed in double, normalised to sum 1, then stored as
 *     float; the accumulation is in float (scipy accumulates in double): the
 *     difference is a few float32 ulps (max |error| ~1e-7 on unit-range data,
 *     see tests/c/test_smooth.c);
 *   - mode 'reflect' = half-sample symmetric (d c b a | a b c d | d c b a),
 *     periodic with period 2n, so a radius larger than the axis length n
 *     reflects again and again exactly like scipy's line extension. On the
 *     channel axis (c <= 16) the taps are folded into a c x c matrix, which is
 *     the same linear map.
 *
 * Layout: in/out are h*w*c floats, row-major, channels fastest (HWC; the
 * tutorial's numpy image). Sizes: h, w, c >= 1. Sigma: finite, >= 0 and at
 * most DD_GAUSS_MAX_SIGMA.
 *
 * Scratch: dd_gaussian_filter needs dd_gaussian_scratch_floats(h, w, c)
 * = h*w*c floats; dd_gaussian_sum3 needs dd_gaussian_sum3_scratch_floats
 * = 2*h*w*c floats. Scratch must not overlap in or out.
 *
 * Aliasing: dd_gaussian_filter allows in == out (any partial overlap is not
 * allowed). dd_gaussian_sum3 needs in != out.
 *
 * Errors: DD_ERR_INVALID_ARGUMENT for NULL pointers, sizes < 1, a negative,
 * NaN or too large sigma, h*w*c overflowing; nothing is written then.
 * No function allocates memory; none keeps a pointer after returning.
 *
 * Threads: dd_gaussian_filter_ex and dd_gaussian_sum3 take a dd_threadpool
 * and split each pass over dd_parallel_for (NULL = inline). The result is
 * bit-identical for every pool size.
 *
 * Cost (960x540x3, the tutorial's last iteration, sigma 4.1, sum3 = 117
 * taps per spatial axis): about 30 ms native on one core (gcc -O3, SIMDe
 * SSE2), about 50 ms in wasm (Node 20, TurboFan).
 */
#ifndef DD_DREAM_SMOOTH_H
#define DD_DREAM_SMOOTH_H

#include <stddef.h>
#include "core/core.h"

/* Sigma cap: radius 4*255+0.5 -> 1020 taps on each side. */
#define DD_GAUSS_MAX_SIGMA 255.0
#define DD_GAUSS_MAX_RADIUS 1020

/* scipy's radius for a sigma: (int)(4*sigma + 0.5); 0 when sigma <= 1e-15.
   -1 when sigma is negative, NaN or above DD_GAUSS_MAX_SIGMA. */
int dd_gaussian_radius(double sigma);

/* The normalised half kernel: weights[0] is the centre, weights[k] the weight
   at offsets +k and -k, k = 1..radius (radius = dd_gaussian_radius(sigma)).
   Writes radius+1 floats. Returns the radius, or -1 for an invalid sigma. */
int dd_gaussian_kernel(double sigma, float *weights, int capacity);

/* Floats of scratch for dd_gaussian_filter / dd_gaussian_filter_ex: h*w*c
   (0 on overflow or invalid sizes). */
size_t dd_gaussian_scratch_floats(int h, int w, int c);
/* Floats of scratch for dd_gaussian_sum3: 2*h*w*c (0 on overflow). */
size_t dd_gaussian_sum3_scratch_floats(int h, int w, int c);

/* out = gaussian_filter(in, sigma=(sigma_h, sigma_w, sigma_c)). */
dd_status dd_gaussian_filter(const float *in, float *out, int h, int w, int c, float sigma_h,
                             float sigma_w, float sigma_c, float *scratch);

/* The same with double sigmas (the tutorial computes sigma in double; the
   kernel weights are then computed from exactly that value) and an optional
   thread pool. sigma[0..2] = (h, w, c) axes. */
dd_status dd_gaussian_filter_ex(const float *in, float *out, int h, int w, int c,
                                const double sigma[3], float *scratch, dd_threadpool *pool);

/* optimize_image's smoothing:
     out = (G(sigma) + G(2*sigma)) + G(0.5*sigma)
   where G(s) = gaussian_filter(in, sigma=(s, s, blur_channels ? s : 0)) and
   every term and partial sum is float32 as in numpy. The tutorial uses
   blur_channels = 1 (gaussian_filter(grad, sigma=sigma)); 0 is the variant
   its comment mentions (colours drift to pastel). sigma is a double so that
   the tutorial's sigma = (i*4.0)/num_iterations + 0.5 is used exactly.
   scratch: dd_gaussian_sum3_scratch_floats(h, w, c) floats. in != out. */
dd_status dd_gaussian_sum3(const float *in, float *out, int h, int w, int c, double sigma,
                           int blur_channels, float *scratch, dd_threadpool *pool);
/* The same, given the capacities (floats) of out and scratch: when h*w*c >
   out_floats or 2*h*w*c > scratch_floats it is DD_ERR_INVALID_ARGUMENT and
   nothing is written. The dream's strips use it: their rows come from the
   iteration's sigma, which a saved state carries. */
dd_status dd_gaussian_sum3_bounded(const float *in, float *out, size_t out_floats, int h, int w, int c,
                                   double sigma, int blur_channels, float *scratch, size_t scratch_floats,
                                   dd_threadpool *pool);

#endif /* DD_DREAM_SMOOTH_H */
