/* lapnorm.c — lap_normalize of the TF1 DeepDream notebook (lapnorm.h). */
#include "lapnorm.h"

#include <math.h>

static const float K1[5] = {1, 4, 6, 4, 1};

static int half(int n) { return (n + 1) / 2; }
static int pad_before(int in) {
  int out = half(in), total = (out - 1) * 2 + 5 - in;
  return total > 0 ? total / 2 : 0;
}

/* lo (half(h) x half(w) x 3) = conv2d(x, k5x5, stride 2, SAME) */
static void down(const float *x, int h, int w, float *lo) {
  const int ho = half(h), wo = half(w), pt = pad_before(h), pl = pad_before(w);
  for (int i = 0; i < ho; i++)
    for (int j = 0; j < wo; j++)
      for (int c = 0; c < 3; c++) {
        float acc = 0;
        for (int a = 0; a < 5; a++) {
          const int y = 2 * i + a - pt;
          if (y < 0 || y >= h) continue;
          for (int b = 0; b < 5; b++) {
            const int xx = 2 * j + b - pl;
            if (xx < 0 || xx >= w) continue;
            acc += (K1[a] * K1[b] / 256.0f) * x[((size_t)y * w + xx) * 3 + c];
          }
        }
        lo[((size_t)i * wo + j) * 3 + c] = acc;
      }
}

/* dst (h x w x 3) += sign * conv2d_transpose(lo, 4 k5x5, [h, w], stride 2, SAME) */
static void up_add(const float *lo, int h, int w, float sign, float *dst) {
  const int ho = half(h), wo = half(w), pt = pad_before(h), pl = pad_before(w);
  for (int y = 0; y < h; y++)
    for (int xx = 0; xx < w; xx++)
      for (int c = 0; c < 3; c++) {
        float acc = 0;
        /* y = 2i + a - pt  =>  a = y + pt - 2i in 0..4 */
        for (int a = (y + pt) & 1; a < 5; a += 2) {
          const int i = (y + pt - a) / 2;
          if (i < 0 || i >= ho) continue;
          for (int b = (xx + pl) & 1; b < 5; b += 2) {
            const int j = (xx + pl - b) / 2;
            if (j < 0 || j >= wo) continue;
            acc += (K1[a] * K1[b] / 64.0f) * lo[((size_t)i * wo + j) * 3 + c];
          }
        }
        dst[((size_t)y * w + xx) * 3 + c] += sign * acc;
      }
}

static void normalize_std(float *x, size_t n) {
  double sq = 0;
  for (size_t i = 0; i < n; i++) sq += (double)x[i] * x[i];
  float std = (float)sqrt(sq / (double)n);
  float d = std > 1e-10f ? std : 1e-10f;
  for (size_t i = 0; i < n; i++) x[i] /= d;
}

size_t dd_lapnorm_scratch_floats(int h, int w, int levels) {
  size_t total = 0;
  for (int l = 0; l <= levels; l++) {
    total += (size_t)h * w * 3 + 16;
    h = half(h);
    w = half(w);
  }
  return total;
}

void dd_lapnorm(const float *g, int h, int w, int levels, float *out, float *scratch) {
  /* scratch: hi_0 (h x w), hi_1, ..., hi_{n-1}, lo_n, each 3 channels */
  float *slot[16] = {0};
  int hs[16], ws[16];
  float *p = scratch;
  for (int l = 0; l <= levels; l++) {
    hs[l] = l ? half(hs[l - 1]) : h;
    ws[l] = l ? half(ws[l - 1]) : w;
    slot[l] = p;
    p += (size_t)hs[l] * ws[l] * 3 + 16;
  }
  memcpy(slot[0], g, (size_t)h * w * 3 * sizeof(float));
  /* split: slot[l] holds the image at level l; it becomes hi_l once lo is taken */
  for (int l = 0; l < levels; l++) {
    down(slot[l], hs[l], ws[l], slot[l + 1]);
    up_add(slot[l + 1], hs[l], ws[l], -1.0f, slot[l]);
  }
  for (int l = 0; l <= levels; l++) normalize_std(slot[l], (size_t)hs[l] * ws[l] * 3);
  for (int l = levels - 1; l >= 0; l--) up_add(slot[l + 1], hs[l], ws[l], 1.0f, slot[l]);
  memcpy(out, slot[0], (size_t)h * w * 3 * sizeof(float));
}
