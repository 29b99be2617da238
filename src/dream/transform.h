/* transform.h — the robustness transforms of a tile (issue 15; options in
 * include/deepdream_options.h): Caffe's roll, and Lucid's pad, jitter,
 * random scale and random rotate as one bilinear resampling, applied to the
 * tile's input and undone on its gradient by the exact adjoint of the same
 * sampling (so the gradient is that of the objective of the transformed tile
 * with respect to the untransformed one).
 *
 * Geometry (pixel centres at integer + 0.5): the tile (w x h) is rolled by
 * (ox, oy) (np.roll: rolled[y][x] = tile[(y - oy) mod h][(x - ox) mod w]),
 * then placed in a canvas of (w + 2 pad) x (h + 2 pad) filled with `fill`;
 * output pixel (u, v) of the same canvas size reads the canvas at
 *   R(-angle) * ((u, v) + 0.5 - centre) / s + centre - (jx, jy) - 0.5
 * bilinearly, where centre = (W/2, H/2) of the canvas. With s = 1, angle 0
 * the sampling is an exact integer shift. */
#ifndef DD_DREAM_TRANSFORM_H
#define DD_DREAM_TRANSFORM_H

#include "core/core.h"
#include "deepdream.h"

typedef struct dd_transform {
  int active;       /* any transform on */
  int ox, oy;       /* roll */
  int pad;
  int jx, jy;       /* jitter */
  double s, angle;  /* scale, rotation in radians */
  int w, h;         /* the tile */
  int ow, oh;       /* the transformed input: w + 2 pad, h + 2 pad */
} dd_transform;

/* Whether options ask for any transform. */
int dd_transform_enabled(const dd_dream_options *o);
/* Draws one tile's transform from rng, in the order roll (ox, oy), jitter
   (jx, jy), scale, rotate, each only when its option is on (so the rng
   stream of a dream without transforms is untouched). */
void dd_transform_draw(dd_transform *t, dd_rng *rng, const dd_dream_options *o, int w, int h);
/* out (oh x ow x 3) = T(in (h x w x 3)). */
void dd_transform_apply(const dd_transform *t, const float *in, float fill, float *out);
/* gin (h x w x 3) = T^T(gout (oh x ow x 3)); gin is overwritten. */
void dd_transform_adjoint(const dd_transform *t, const float *gout, float *gin);

#endif /* DD_DREAM_TRANSFORM_H */
