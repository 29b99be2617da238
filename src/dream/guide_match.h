/* guide_match.h — the guide objective's matching (Google's Caffe notebook's objective_guide): for every position of
 * a layer, the guide feature of largest dot product with it. */
#ifndef DD_GUIDE_MATCH_H
#define DD_GUIDE_MATCH_H

#include <stddef.h>

#include "core/core.h"
#include "kernels/kernels.h"

/* Scratch of one matcher, kept between calls (zero-initialise; release with dd_guide_match_free). */
typedef struct dd_guide_match {
  float *dots;     /* n x (positions of one block) float dot products */
  size_t dots_cap; /* floats */
} dd_guide_match;

/* The largest Euclidean norm of the n guide features (c floats each): the matcher's error bound needs it. */
double dd_guide_norm_max(const float *guide, int n, int c);

/* For each of `rows` positions y[r][0..c) finds arg max_j sum_q (double)y[r][q] * guide[j][q] over the n guide
   features, the first such j on ties, with the dots accumulated in double in channel order: exactly the values and
   choices of the plain double loop. A float GEMM (k->gemm on `pool`) screens the candidates; only those within its
   rounding bound of the float maximum are recomputed in double, so the results do not depend on the kernel backend
   or the thread count. norm_max: dd_guide_norm_max of the guide. Writes dy[r][q] = (float)(guide[arg][q] * scale)
   and adds the chosen dots to *dot_sum. k NULL (or no scratch memory): the plain double loop. */
dd_status dd_guide_match_run(dd_guide_match *gm, const dd_kernels *k, dd_threadpool *pool, const float *y,
                             size_t rows, int c, const float *guide, int n, double norm_max, double scale, float *dy,
                             double *dot_sum, dd_error *err);
void dd_guide_match_free(dd_guide_match *gm);

#endif /* DD_GUIDE_MATCH_H */
