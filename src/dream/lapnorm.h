/* lapnorm.h — Laplacian-pyramid gradient normalisation, as TensorFlow's TF1
 * DeepDream notebook's lap_normalize (gradient=laplacian; options in
 * include/deepdream_options.h):
 *   k5x5 = outer([1,4,6,4,1], [1,4,6,4,1]) / 256, per channel (eye(3))
 *   lap_split(img): lo  = conv2d(img, k5x5, stride 2, 'SAME')
 *                   hi  = img - conv2d_transpose(lo, 4 k5x5, shape(img), stride 2, 'SAME')
 *   lap_split_n(img, n): n splits, levels [lo_n, hi_n, ..., hi_1]
 *   normalize_std(x) = x / max(sqrt(mean(x^2)), 1e-10)   (over the level, all channels)
 *   lap_merge(levels): img = levels[0]; img = conv2d_transpose(img, 4 k5x5, shape(hi)) + hi
 * TF's SAME geometry: out = ceil(in / 2), pad_before = max((out-1)*2 + 5 - in, 0) / 2.
 * float32 arithmetic with double sums for the RMS; checked against an
 * independent numpy implementation (tests/golden/make_lapnorm_golden.py). */
#ifndef DD_DREAM_LAPNORM_H
#define DD_DREAM_LAPNORM_H

#include "core/core.h"

/* floats of scratch dd_lapnorm needs for an h x w x 3 image */
size_t dd_lapnorm_scratch_floats(int h, int w, int levels);
/* out = lap_normalize(g, levels); g and out are h x w x 3 and may be the same. */
void dd_lapnorm(const float *g, int h, int w, int levels, float *out, float *scratch);

#endif /* DD_DREAM_LAPNORM_H */
