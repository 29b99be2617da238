/* transform.c — one tile's robustness transform and its adjoint
 * (transform.h). apply and adjoint walk the same samples with the same
 * weights: adjoint is the exact transpose of apply's linear part. */
#include "transform.h"

#include <math.h>

int dd_transform_enabled(const dd_dream_options *o) {
  return o->roll > 0 || o->pad > 0 || o->jitter > 0 || o->scale > 0 || o->rotate > 0;
}

void dd_transform_draw(dd_transform *t, dd_rng *rng, const dd_dream_options *o, int w, int h) {
  memset(t, 0, sizeof *t);
  t->s = 1.0;
  t->w = w;
  t->h = h;
  t->active = dd_transform_enabled(o);
  if (o->roll > 0) {
    t->ox = (int)dd_rng_randint(rng, -o->roll, o->roll);
    t->oy = (int)dd_rng_randint(rng, -o->roll, o->roll);
  }
  t->pad = o->pad;
  if (o->jitter > 0) {
    t->jx = (int)dd_rng_randint(rng, -o->jitter, o->jitter);
    t->jy = (int)dd_rng_randint(rng, -o->jitter, o->jitter);
  }
  if (o->scale > 0) t->s = 1.0 + o->scale * (2.0 * dd_rng_uniform(rng) - 1.0);
  if (o->rotate > 0) t->angle = o->rotate * (2.0 * dd_rng_uniform(rng) - 1.0) * (3.14159265358979323846 / 180.0);
  t->ow = w + 2 * t->pad;
  t->oh = h + 2 * t->pad;
}

static int wrap(int v, int n) {
  int r = v % n;
  return r < 0 ? r + n : r;
}

/* For output pixel (u, v): the four source pixels (tile coordinates after the
   roll is undone, -1 when outside the tile) and their bilinear weights. */
typedef struct taps { int at[4]; float wt[4]; } taps;

static void sample(const dd_transform *t, int u, int v, double ca, double sa, taps *out) {
  const double cx = t->ow * 0.5, cy = t->oh * 0.5;
  const double px = u + 0.5 - cx, py = v + 0.5 - cy;
  /* inverse rotation and scale */
  const double qx = (ca * px + sa * py) / t->s + cx - t->jx - t->pad - 0.5;
  const double qy = (-sa * px + ca * py) / t->s + cy - t->jy - t->pad - 0.5;
  const double fx0 = floor(qx), fy0 = floor(qy);
  const int x0 = (int)fx0, y0 = (int)fy0;
  const float fx = (float)(qx - fx0), fy = (float)(qy - fy0);
  const float wts[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
  for (int k = 0; k < 4; k++) {
    const int x = x0 + (k & 1), y = y0 + (k >> 1);
    out->wt[k] = wts[k];
    if (x < 0 || y < 0 || x >= t->w || y >= t->h) out->at[k] = -1;
    else out->at[k] = (wrap(y - t->oy, t->h) * t->w + wrap(x - t->ox, t->w)) * 3;
  }
}

void dd_transform_apply(const dd_transform *t, const float *in, float fill, float *out) {
  const double ca = cos(t->angle), sa = sin(t->angle);
  for (int v = 0; v < t->oh; v++)
    for (int u = 0; u < t->ow; u++) {
      taps tp;
      sample(t, u, v, ca, sa, &tp);
      float *o = out + ((size_t)v * t->ow + u) * 3;
      for (int ch = 0; ch < 3; ch++) {
        float acc = 0;
        for (int k = 0; k < 4; k++) acc += tp.wt[k] * (tp.at[k] < 0 ? fill : in[tp.at[k] + ch]);
        o[ch] = acc;
      }
    }
}

void dd_transform_adjoint(const dd_transform *t, const float *gout, float *gin) {
  const double ca = cos(t->angle), sa = sin(t->angle);
  memset(gin, 0, (size_t)t->w * t->h * 3 * sizeof(float));
  for (int v = 0; v < t->oh; v++)
    for (int u = 0; u < t->ow; u++) {
      taps tp;
      sample(t, u, v, ca, sa, &tp);
      const float *g = gout + ((size_t)v * t->ow + u) * 3;
      for (int k = 0; k < 4; k++)
        if (tp.at[k] >= 0 && tp.wt[k] != 0)
          for (int ch = 0; ch < 3; ch++) gin[tp.at[k] + ch] += tp.wt[k] * g[ch];
    }
}
