/* guide_match.c — the guide objective's matching: per position, the guide feature of largest dot product.
 *
 * The plain loop is rows x n x c multiply-adds in double, one position after another: at mixed3b on a 400 px tile
 * (2500 positions, 2500 guide features, 480 channels) 3G of them, ten times the tile's whole gradient. Here a float
 * GEMM (the backend's, on the pool) computes every dot product of a block of positions, and only the features whose
 * float dot lies within the GEMM's rounding bound of the block's float maximum are recomputed in double, in channel
 * order, the first largest winning: the same choice and the same double value as the plain loop, whatever the
 * backend's summation order or the thread count.
 *
 * The bound: a float dot of c terms, summed in any order, is within gamma * sum_q |y_q g_q| <= gamma * |y| |g| of the
 * exact one, gamma = (c+2) u / (1 - (c+2) u), u = 2^-24. With E = gamma |y| max_j |g_j|, the plain loop's choice j*
 * has F[j*] >= D[j*] - E >= D[jf] - E >= F[jf] - 2E = Fmax - 2E (jf the float argmax), and every feature below
 * Fmax - 2E has an exact dot below D[j*]; 2.5E leaves room for the double sums' own rounding (~c 2^-53). A row
 * whose float dots or norms are not finite takes the plain loop. */
#include "dream/guide_match.h"

#include <math.h>
#include <stdlib.h>

/* one dot product in double, in channel order: the plain loop's sum */
static double dot64(const float *x, const float *g, int c) {
  double dot = 0;
  for (int q = 0; q < c; q++) dot += (double)x[q] * g[q];
  return dot;
}

/* the plain loop for one position: what the matcher must reproduce */
static int match_plain(const float *x, int c, const float *guide, int n, double *best_out) {
  double best = -INFINITY;
  int arg = 0;
  for (int j = 0; j < n; j++) {
    const double dot = dot64(x, guide + (size_t)j * c, c);
    if (dot > best) {
      best = dot;
      arg = j;
    }
  }
  *best_out = best;
  return arg;
}

double dd_guide_norm_max(const float *guide, int n, int c) {
  double m = 0;
  for (int j = 0; j < n; j++) {
    double s = 0;
    for (int q = 0; q < c; q++) s += (double)guide[(size_t)j * c + q] * guide[(size_t)j * c + q];
    if (!(s <= m * m)) m = sqrt(s); /* NaN propagates: the matcher then takes the plain loop */
  }
  return m;
}

static void write_row(float *dy, const float *g, int c, double scale) {
  for (int q = 0; q < c; q++) dy[q] = (float)(g[q] * scale);
}

dd_status dd_guide_match_run(dd_guide_match *gm, const dd_kernels *k, dd_threadpool *pool, const float *y,
                             size_t rows, int c, const float *guide, int n, double norm_max, double scale, float *dy,
                             double *dot_sum, dd_error *err) {
  (void)err;
  double sum = 0;
  /* positions per GEMM: at most 64, and at most 4M floats of dot products */
  size_t block = n > 0 ? ((size_t)1 << 22) / (size_t)n : 64;
  block = block > 64 ? 64 : block < 1 ? 1 : block;
  if (k && k->gemm && n > 1 && rows > 0 && isfinite(norm_max) && gm->dots_cap < (size_t)n * block) {
    free(gm->dots);
    gm->dots = (float *)malloc((size_t)n * block * sizeof(float));
    gm->dots_cap = gm->dots ? (size_t)n * block : 0;
  }
  if (!k || !k->gemm || n <= 1 || !isfinite(norm_max) || !gm->dots) {
    for (size_t r = 0; r < rows; r++) {
      double best;
      int arg = match_plain(y + r * c, c, guide, n, &best);
      write_row(dy + r * c, guide + (size_t)arg * c, c, scale);
      sum += best;
    }
    *dot_sum += sum;
    return DD_OK;
  }
  const double u = ldexp(1.0, -24), gamma = (c + 2) * u / (1 - (c + 2) * u);
  float fmax[64];
  double thr[64], best[64];
  int arg[64], plain[64];
  for (size_t r0 = 0; r0 < rows; r0 += block) {
    const int b = (int)(rows - r0 < block ? rows - r0 : block);
    /* dots[j][r] = guide[j] . y[r0 + r] */
    k->gemm(0, 1, n, b, c, guide, c, y + r0 * c, c, 0.0f, gm->dots, b, pool);
    for (int r = 0; r < b; r++) fmax[r] = -INFINITY, plain[r] = 0;
    for (int j = 0; j < n; j++) {
      const float *d = gm->dots + (size_t)j * b;
      for (int r = 0; r < b; r++) {
        if (!isfinite(d[r])) plain[r] = 1;
        if (d[r] > fmax[r]) fmax[r] = d[r];
      }
    }
    for (int r = 0; r < b; r++) {
      const float *x = y + (r0 + r) * c;
      double yy = 0;
      for (int q = 0; q < c; q++) yy += (double)x[q] * x[q];
      if (yy == 0) { /* every dot is exactly +0 (the guide is finite): the plain loop keeps feature 0 */
        plain[r] = 0, thr[r] = INFINITY, best[r] = 0, arg[r] = 0;
        continue;
      }
      const double e = gamma * sqrt(yy) * norm_max;
      thr[r] = (double)fmax[r] - 2.5 * e;
      if (!isfinite(thr[r]) || !isfinite(e)) plain[r] = 1;
      best[r] = -INFINITY;
      arg[r] = 0;
    }
    /* the candidates, in feature order, in double exactly as the plain loop sums them */
    for (int j = 0; j < n; j++) {
      const float *d = gm->dots + (size_t)j * b, *g = guide + (size_t)j * c;
      for (int r = 0; r < b; r++) {
        if (plain[r] || (double)d[r] < thr[r]) continue;
        const double dot = dot64(y + (r0 + r) * c, g, c);
        if (dot > best[r]) best[r] = dot, arg[r] = j;
      }
    }
    for (int r = 0; r < b; r++) {
      if (plain[r]) arg[r] = match_plain(y + (r0 + r) * c, c, guide, n, &best[r]);
      write_row(dy + (r0 + r) * c, guide + (size_t)arg[r] * c, c, scale);
      sum += best[r];
    }
  }
  *dot_sum += sum;
  return DD_OK;
}

void dd_guide_match_free(dd_guide_match *gm) {
  free(gm->dots);
  gm->dots = NULL;
  gm->dots_cap = 0;
}
