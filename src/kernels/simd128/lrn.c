/* lrn.c — simd128 local response normalisation (TensorFlow semantics).
 *
 *   N_i = bias + alpha * sum_{|j-i|<=r, 0<=j<c} x_j^2,   y_i = x_i * N_i^-beta
 *   dx_i = dy_i N_i^-beta - 2 alpha beta x_i sum_{|j-i|<=r} dy_j x_j N_j^(-beta-1)
 *
 * Per pixel, the squares go into a scratch row with r zeros on each side,
 * and their pair sums into another, so every channel's window sum is r+1
 * unaligned vector loads. N^-beta has fast
 * paths for beta = 0.5 (1/sqrt, Inception 5h's value), 0.75 and 1; any other
 * beta uses powf per element. Work is split over pixels. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

#define DD_LRN_STACK 2048 /* floats of scratch on the stack per row buffer */

typedef struct lrn_job {
  const dd_lrn_params *p;
  int c;
  const float *in, *dout;
  float *out, *din;
  const float *mask; /* backward: din's relu mask (kernels.h), or NULL */
} lrn_job;

/* Per-task scratch rows. */
typedef struct lrn_scratch {
  float *pad;  /* c + 2r + 4 floats, zeros outside [r, r+c) */
  float *pairs; /* c + 2r + 4: pad's pair sums (lrn_pairs) */
  float *pw;   /* c + 4: N^-beta */
  float *norm; /* c + 4: N */
} lrn_scratch;

/* N^-beta for 4 norms. */
static v128_t lrn_pow_vec(v128_t norm, float beta) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  if (beta == 0.5f) return wasm_f32x4_div(one, wasm_f32x4_sqrt(norm));
  if (beta == 1.0f) return wasm_f32x4_div(one, norm);
  if (beta == 0.75f) {
    const v128_t r2 = wasm_f32x4_sqrt(norm);
    return wasm_f32x4_div(one, wasm_f32x4_mul(r2, wasm_f32x4_sqrt(r2)));
  }
  float t[4];
  wasm_v128_store(t, norm);
  for (int l = 0; l < 4; l++) t[l] = powf(t[l], -beta);
  return wasm_v128_load(t);
}

static float lrn_pow_scalar(float norm, float beta) {
  if (beta == 0.5f) return 1.0f / sqrtf(norm);
  if (beta == 1.0f) return 1.0f / norm;
  if (beta == 0.75f) {
    float r2 = sqrtf(norm);
    return 1.0f / (r2 * sqrtf(r2));
  }
  return powf(norm, -beta);
}

/* Window sums of 2r+1 taps from a scratch row pad (zeros outside its c
   values) by way of its pair sums q[j] = pad[j] + pad[j+1]: r pair loads and
   one single instead of 2r+1 loads, for the 11-tap windows of Inception 5h. */
static void lrn_pairs(const float *pad, int c, int r, float *q) {
  const int n = c + 2 * r - 1;
  int j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(q + j, wasm_f32x4_add(wasm_v128_load(pad + j), wasm_v128_load(pad + j + 1)));
  for (; j < n; j++) q[j] = pad[j] + pad[j + 1];
}

/* Window sums for channels [i, i+4). */
static v128_t lrn_window4(const float *pad, const float *q, int i, int r) {
  v128_t s = wasm_v128_load(pad + i + 2 * r);
  for (int m = 0; m < r; m++) s = wasm_f32x4_add(s, wasm_v128_load(q + i + 2 * m));
  return s;
}

static float lrn_window1(const float *pad, const float *q, int i, int r) {
  float s = pad[i + 2 * r];
  for (int m = 0; m < r; m++) s += q[i + 2 * m];
  return s;
}

/* Writes x^2 into pad[r .. r+c) (the zero borders are set once per task). */
static void lrn_squares(const float *x, int c, int r, float *pad) {
  int i = 0;
  for (; i + 4 <= c; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    wasm_v128_store(pad + r + i, wasm_f32x4_mul(v, v));
  }
  for (; i < c; i++) pad[r + i] = x[i] * x[i];
}

/* pw[i] = N_i^-beta (and norm[i] = N_i unless norm is NULL) for one pixel
   whose squares are in pad. */
static void lrn_norms(const dd_lrn_params *p, int c, const float *pad, float *q, float *pw, float *norm) {
  const int r = p->depth_radius;
  lrn_pairs(pad, c, r, q);
  const v128_t vb = wasm_f32x4_splat(p->bias), va = wasm_f32x4_splat(p->alpha);
  int i = 0;
  for (; i + 4 <= c; i += 4) {
    v128_t n = wasm_f32x4_add(vb, wasm_f32x4_mul(va, lrn_window4(pad, q, i, r)));
    if (norm) wasm_v128_store(norm + i, n);
    wasm_v128_store(pw + i, lrn_pow_vec(n, p->beta));
  }
  for (; i < c; i++) {
    float n = p->bias + p->alpha * lrn_window1(pad, q, i, r);
    if (norm) norm[i] = n;
    pw[i] = lrn_pow_scalar(n, p->beta);
  }
}

static void lrn_forward_pixels(const lrn_job *job, lrn_scratch *sc, size_t begin, size_t end) {
  const int c = job->c, r = job->p->depth_radius;
  for (size_t px = begin; px < end; px++) {
    const float *x = job->in + px * c;
    float *y = job->out + px * c;
    lrn_squares(x, c, r, sc->pad);
    lrn_norms(job->p, c, sc->pad, sc->pairs, sc->pw, NULL);
    int i = 0;
    for (; i + 4 <= c; i += 4)
      wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(x + i), wasm_v128_load(sc->pw + i)));
    for (; i < c; i++) y[i] = x[i] * sc->pw[i];
  }
}

/* The cross-channel terms are staged in the scratch row. din does not
   overlap dout (kernels.h), which lrn_plain below relies on. */
static void lrn_backward_pixels(const lrn_job *job, lrn_scratch *sc, size_t begin, size_t end) {
  const dd_lrn_params *p = job->p;
  const int c = job->c, r = p->depth_radius;
  const float k2ab = 2.0f * p->alpha * p->beta;
  const v128_t vk = wasm_f32x4_splat(k2ab);
  float *t = sc->pad + r;
  for (size_t px = begin; px < end; px++) {
    const float *x = job->in + px * c, *dy = job->dout + px * c;
    float *dx = job->din + px * c;
    lrn_squares(x, c, r, sc->pad);
    lrn_norms(p, c, sc->pad, sc->pairs, sc->pw, sc->norm);
    /* the squares are no longer needed: t_j = dy_j x_j N_j^(-beta-1) replaces them */
    int i = 0;
    for (; i + 4 <= c; i += 4) {
      v128_t v = wasm_f32x4_mul(wasm_v128_load(dy + i), wasm_v128_load(x + i));
      v = wasm_f32x4_mul(v, wasm_v128_load(sc->pw + i));
      wasm_v128_store(t + i, wasm_f32x4_div(v, wasm_v128_load(sc->norm + i)));
    }
    for (; i < c; i++) t[i] = dy[i] * x[i] * sc->pw[i] / sc->norm[i];
    lrn_pairs(sc->pad, c, r, sc->pairs);
    const float *mk = job->mask ? job->mask + px * c : NULL;
    for (i = 0; i + 4 <= c; i += 4) {
      v128_t ws = lrn_window4(sc->pad, sc->pairs, i, r);
      v128_t v = wasm_f32x4_mul(wasm_v128_load(dy + i), wasm_v128_load(sc->pw + i));
      v = wasm_f32x4_sub(v, wasm_f32x4_mul(vk, wasm_f32x4_mul(wasm_v128_load(x + i), ws)));
      if (mk) v = wasm_v128_and(v, wasm_f32x4_gt(wasm_v128_load(mk + i), wasm_f32x4_splat(0.0f)));
      wasm_v128_store(dx + i, v);
    }
    for (; i < c; i++) {
      const float v = dy[i] * sc->pw[i] - k2ab * x[i] * lrn_window1(sc->pad, sc->pairs, i, r);
      dx[i] = !mk || mk[i] > 0.0f ? v : 0.0f;
    }
  }
}

/* Plain loops without scratch: only used when a very wide row's scratch
   cannot be allocated. Backward reads dy[j] for |j - i| <= r after dx[i]
   is written: correct because din does not overlap dout. */
static void lrn_plain(const lrn_job *job, size_t begin, size_t end, int backward) {
  const dd_lrn_params *p = job->p;
  const int c = job->c, r = p->depth_radius;
  for (size_t px = begin; px < end; px++) {
    const float *x = job->in + px * c;
    for (int i = 0; i < c; i++) {
      float s = 0.0f;
      for (int j = i - r; j <= i + r; j++)
        if (j >= 0 && j < c) s += x[j] * x[j];
      float pw = lrn_pow_scalar(p->bias + p->alpha * s, p->beta);
      if (!backward) {
        job->out[px * c + i] = x[i] * pw;
        continue;
      }
      const float *dy = job->dout + px * c;
      float acc = 0.0f;
      for (int j = i - r; j <= i + r; j++) {
        if (j < 0 || j >= c) continue;
        float sj = 0.0f;
        for (int l = j - r; l <= j + r; l++)
          if (l >= 0 && l < c) sj += x[l] * x[l];
        float nj = p->bias + p->alpha * sj;
        acc += dy[j] * x[j] * lrn_pow_scalar(nj, p->beta) / nj;
      }
      const float v = dy[i] * pw - 2.0f * p->alpha * p->beta * x[i] * acc;
      job->din[px * c + i] = !job->mask || job->mask[px * c + i] > 0.0f ? v : 0.0f;
    }
  }
}

/* Runs pixels [begin, end) with scratch rows on the stack, or on the heap
   for wide rows. */
static void lrn_run(const lrn_job *job, size_t begin, size_t end, int backward) {
  const int c = job->c, r = job->p->depth_radius;
  const size_t pad_n = (size_t)c + 2 * (size_t)r + 4, pw_n = (size_t)c + 4;
  float stack[DD_LRN_STACK];
  float *heap = NULL, *buf = stack;
  if (2 * pad_n + 2 * pw_n > DD_LRN_STACK) {
    heap = (float *)malloc((2 * pad_n + 2 * pw_n) * sizeof(float));
    if (!heap) {
      lrn_plain(job, begin, end, backward);
      return;
    }
    buf = heap;
  }
  lrn_scratch sc = {buf, buf + pad_n, buf + 2 * pad_n, buf + 2 * pad_n + pw_n};
  memset(sc.pad, 0, pad_n * sizeof(float));
  if (backward)
    lrn_backward_pixels(job, &sc, begin, end);
  else
    lrn_forward_pixels(job, &sc, begin, end);
  free(heap);
}

/* Each thread works from a copy of the job on its own stack (see wino_range). */
static void lrn_forward_fn(void *ctx, size_t b, size_t e) {
  const lrn_job own = *(const lrn_job *)ctx;
  lrn_run(&own, b, e, 0);
}
static void lrn_backward_fn(void *ctx, size_t b, size_t e) {
  const lrn_job own = *(const lrn_job *)ctx;
  lrn_run(&own, b, e, 1);
}

void dd_simd128_lrn_forward(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                            float *out, dd_threadpool *pool) {
  lrn_job job = {p, c, in, NULL, out, NULL, NULL};
  dd_parallel_for(pool, pixels, lrn_forward_fn, &job);
}

void dd_simd128_lrn_backward(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                             const float *dout, const float *din_mask, float *din, dd_threadpool *pool) {
  lrn_job job = {p, c, in, dout, NULL, din, din_mask};
  dd_parallel_for(pool, pixels, lrn_backward_fn, &job);
}
