/* tv.c — the total-variation penalty (objective.h, dd_tv_penalty): beta = 2,
 *   TV(x) = sum over rows, columns, channels of
 *           (x[i+1, j] - x[i, j])^2 + (x[i, j+1] - x[i, j])^2
 *   divided by 255^2 and by h*w*3, so a weight means the same at any tile
 *   size. The dream ascends objective - weight * TV. */
#include "objective.h"

double dd_tv_penalty(const float *x, int h, int w, double weight, float *grad) {
  const double norm = 1.0 / (255.0 * 255.0 * (double)h * (double)w * 3.0);
  const size_t row = (size_t)w * 3;
  double tv = 0;
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++)
      for (int c = 0; c < 3; c++) {
        const size_t at = (size_t)i * row + (size_t)j * 3 + (size_t)c;
        if (i + 1 < h) {
          double d = (double)x[at + row] - x[at];
          tv += d * d;
          if (grad) {
            float g = (float)(2.0 * weight * d * norm);
            grad[at] += g; /* -weight * d(d^2)/dx[at] = +2 w d */
            grad[at + row] -= g;
          }
        }
        if (j + 1 < w) {
          double d = (double)x[at + 3] - x[at];
          tv += d * d;
          if (grad) {
            float g = (float)(2.0 * weight * d * norm);
            grad[at] += g;
            grad[at + 3] -= g;
          }
        }
      }
  return tv * norm;
}
