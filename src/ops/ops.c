/* ops.c — element-wise and layout ops; see ops.h for the contracts. */
#include "ops.h"

#include <math.h>
#include <string.h>

void dd_bias_add(size_t rows, int c, const float *in, const float *bias, float *out) {
  for (size_t r = 0; r < rows; r++, in += c, out += c)
    for (int j = 0; j < c; j++) out[j] = in[j] + bias[j];
}

void dd_bias_add_backward(size_t rows, int c, const float *dout, float *dbias) {
  for (int j = 0; j < c; j++) dbias[j] = 0.0f;
  for (size_t r = 0; r < rows; r++, dout += c)
    for (int j = 0; j < c; j++) dbias[j] += dout[j];
}

void dd_bias_sub(size_t rows, int c, const float *in, const float *bias, float *out) {
  for (size_t r = 0; r < rows; r++, in += c, out += c)
    for (int j = 0; j < c; j++) out[j] = in[j] - bias[j];
}

void dd_relu(size_t n, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void dd_leaky_relu(size_t n, float alpha, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : alpha * in[i];
}

void dd_leaky_relu_backward(size_t n, float alpha, const float *in, const float *dout, float *din) {
  for (size_t i = 0; i < n; i++) {
    const float d = dout[i];
    din[i] = in[i] > 0.0f ? d : alpha * d;
  }
}

void dd_relu_backward(size_t n, const float *out, const float *dout, float *din) {
  /* both loads unconditional, so the select vectorises (a conditional load of
     dout[i] kept clang from it: 1.4 vs ~6 Gelem/s in wasm) */
  for (size_t i = 0; i < n; i++) {
    const float d = dout[i];
    din[i] = out[i] > 0.0f ? d : 0.0f;
  }
}

void dd_softmax(size_t rows, int c, const float *in, float *out) {
  for (size_t r = 0; r < rows; r++, in += c, out += c) {
    float m = in[0];
    for (int j = 1; j < c; j++) m = in[j] > m ? in[j] : m;
    double s = 0;
    for (int j = 0; j < c; j++) {
      out[j] = expf(in[j] - m);
      s += out[j];
    }
    float inv = (float)(1.0 / s);
    for (int j = 0; j < c; j++) out[j] *= inv;
  }
}

void dd_softmax_backward(size_t rows, int c, const float *y, const float *dout, float *din) {
  for (size_t r = 0; r < rows; r++, y += c, dout += c, din += c) {
    double dot = 0;
    for (int j = 0; j < c; j++) dot += (double)dout[j] * y[j];
    for (int j = 0; j < c; j++) din[j] = y[j] * (dout[j] - (float)dot);
  }
}

void dd_concat_put(size_t rows, int c_total, int c_off, int c_part, const float *part, float *out) {
  for (size_t r = 0; r < rows; r++)
    memcpy(out + r * c_total + c_off, part + r * c_part, (size_t)c_part * sizeof(float));
}

void dd_concat_get(size_t rows, int c_total, int c_off, int c_part, const float *whole, float *part) {
  for (size_t r = 0; r < rows; r++)
    memcpy(part + r * c_part, whole + r * c_total + c_off, (size_t)c_part * sizeof(float));
}

void dd_add_inplace(size_t n, const float *x, float *y) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

double dd_mean_square(size_t rows, int c, const float *x, const int *channels, int n_channels) {
  double s = 0;
  if (!channels || n_channels <= 0) {
    size_t n = rows * (size_t)c;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? s / (double)n : 0.0;
  }
  for (size_t r = 0; r < rows; r++, x += c)
    for (int k = 0; k < n_channels; k++) s += (double)x[channels[k]] * x[channels[k]];
  size_t n = rows * (size_t)n_channels;
  return n ? s / (double)n : 0.0;
}

void dd_mean_square_backward(size_t rows, int c, const float *x, const int *channels,
                             int n_channels, float *dx) {
  if (!channels || n_channels <= 0) {
    size_t n = rows * (size_t)c;
    float k = n ? (float)(2.0 / (double)n) : 0.0f;
    for (size_t i = 0; i < n; i++) dx[i] = k * x[i];
    return;
  }
  size_t n = rows * (size_t)n_channels;
  float k = n ? (float)(2.0 / (double)n) : 0.0f;
  memset(dx, 0, rows * (size_t)c * sizeof(float));
  for (size_t r = 0; r < rows; r++, x += c, dx += c)
    for (int j = 0; j < n_channels; j++) dx[channels[j]] += k * x[channels[j]];
}

/* ---- parallel variants -------------------------------------------------------- */

typedef struct ew_job {
  size_t n;
  const float *a, *b;
  float *out;
  int kind;
} ew_job;

enum { EW_RELU_BWD, EW_ADD, EW_COPY };

static void ew_range(void *ctx, size_t begin, size_t end) {
  const ew_job *j = (const ew_job *)ctx;
  size_t i0 = begin * DD_OPS_BLOCK, i1 = end * DD_OPS_BLOCK < j->n ? end * DD_OPS_BLOCK : j->n;
  switch (j->kind) {
    case EW_RELU_BWD: dd_relu_backward(i1 - i0, j->a + i0, j->b + i0, j->out + i0); break;
    case EW_ADD: dd_add_inplace(i1 - i0, j->a + i0, j->out + i0); break;
    default: memcpy(j->out + i0, j->a + i0, (i1 - i0) * sizeof(float)); break;
  }
}

/* Parallel only from this many blocks on. */
#define DD_OPS_MIN_BLOCKS 3

static void ew_run(dd_threadpool *pool, size_t n, const float *a, const float *b, float *out, int kind) {
  ew_job j = {n, a, b, out, kind};
  size_t blocks = (n + DD_OPS_BLOCK - 1) / DD_OPS_BLOCK;
  if (!pool || blocks < DD_OPS_MIN_BLOCKS)
    ew_range(&j, 0, blocks);
  else
    dd_parallel_for(pool, blocks, ew_range, &j);
}

void dd_relu_backward_par(dd_threadpool *pool, size_t n, const float *out, const float *dout, float *din) {
  ew_run(pool, n, out, dout, din, EW_RELU_BWD);
}
void dd_add_inplace_par(dd_threadpool *pool, size_t n, const float *x, float *y) { ew_run(pool, n, x, NULL, y, EW_ADD); }
void dd_copy_par(dd_threadpool *pool, size_t n, const float *src, float *dst) { ew_run(pool, n, src, NULL, dst, EW_COPY); }

/* Row jobs: items are blocks of rows of about DD_OPS_BLOCK floats. */
typedef struct row_job {
  size_t rows, rows_per_item;
  int c;
  const float *in, *bias;
  float *out;
  const int *channels;
  int n_channels;
  float k;
  /* concat */
  int n_parts;
  const float *const *parts;
  float *const *dparts;
  const float *const *masks;
  const int *c_parts;
  const unsigned char *accumulate;
} row_job;

static size_t rows_per_item(size_t c) {
  size_t r = DD_OPS_BLOCK / (c ? c : 1);
  return r ? r : 1;
}

static void row_run(dd_threadpool *pool, row_job *j, dd_range_fn fn) {
  j->rows_per_item = rows_per_item((size_t)j->c);
  size_t items = (j->rows + j->rows_per_item - 1) / j->rows_per_item;
  if (!pool || items < DD_OPS_MIN_BLOCKS)
    fn(j, 0, items);
  else
    dd_parallel_for(pool, items, fn, j);
}

static void row_bounds(const row_job *j, size_t begin, size_t end, size_t *r0, size_t *r1) {
  *r0 = begin * j->rows_per_item;
  *r1 = end * j->rows_per_item < j->rows ? end * j->rows_per_item : j->rows;
}

static void bias_sub_range(void *ctx, size_t begin, size_t end) {
  const row_job *j = (const row_job *)ctx;
  size_t r0, r1;
  row_bounds(j, begin, end, &r0, &r1);
  dd_bias_sub(r1 - r0, j->c, j->in + r0 * j->c, j->bias, j->out + r0 * j->c);
}

void dd_bias_sub_par(dd_threadpool *pool, size_t rows, int c, const float *in, const float *bias, float *out) {
  row_job j = {0};
  j.rows = rows, j.c = c, j.in = in, j.bias = bias, j.out = out;
  row_run(pool, &j, bias_sub_range);
}

/* The channel-subset case of dd_mean_square_backward, rows [r0, r1). */
static void msb_range(void *ctx, size_t begin, size_t end) {
  const row_job *j = (const row_job *)ctx;
  size_t r0, r1;
  row_bounds(j, begin, end, &r0, &r1);
  const size_t c = (size_t)j->c;
  if (!j->channels) {
    for (size_t i = r0 * c; i < r1 * c; i++) j->out[i] = j->k * j->in[i];
    return;
  }
  memset(j->out + r0 * c, 0, (r1 - r0) * c * sizeof(float));
  for (size_t r = r0; r < r1; r++) {
    const float *x = j->in + r * c;
    float *dx = j->out + r * c;
    for (int q = 0; q < j->n_channels; q++) dx[j->channels[q]] += j->k * x[j->channels[q]];
  }
}

void dd_mean_square_backward_par(dd_threadpool *pool, size_t rows, int c, const float *x, const int *channels,
                                 int n_channels, float *dx) {
  row_job j = {0};
  size_t n = rows * (size_t)(channels && n_channels > 0 ? n_channels : c);
  j.rows = rows, j.c = c, j.in = x, j.out = dx;
  j.channels = channels && n_channels > 0 ? channels : NULL;
  j.n_channels = n_channels;
  j.k = n ? (float)(2.0 / (double)n) : 0.0f; /* as dd_mean_square_backward */
  row_run(pool, &j, msb_range);
}

static void concat_fwd_range(void *ctx, size_t begin, size_t end) {
  const row_job *j = (const row_job *)ctx;
  size_t r0, r1;
  row_bounds(j, begin, end, &r0, &r1);
  for (size_t r = r0; r < r1; r++) {
    float *o = j->out + r * j->c;
    for (int p = 0; p < j->n_parts; p++) {
      const size_t cp = (size_t)j->c_parts[p];
      memcpy(o, j->parts[p] + r * cp, cp * sizeof(float));
      o += cp;
    }
  }
}

void dd_concat_forward_par(dd_threadpool *pool, size_t rows, int c_total, int n_parts, const float *const *parts,
                           const int *c_parts, float *out) {
  row_job j = {0};
  j.rows = rows, j.c = c_total, j.out = out, j.n_parts = n_parts, j.parts = parts, j.c_parts = c_parts;
  row_run(pool, &j, concat_fwd_range);
}

static void concat_bwd_range(void *ctx, size_t begin, size_t end) {
  const row_job *j = (const row_job *)ctx;
  size_t r0, r1;
  row_bounds(j, begin, end, &r0, &r1);
  for (size_t r = r0; r < r1; r++) {
    const float *w = j->in + r * j->c;
    for (int p = 0; p < j->n_parts; p++) {
      const size_t cp = (size_t)j->c_parts[p];
      float *d = j->dparts[p] + r * cp;
      const float *m = j->masks && j->masks[p] ? j->masks[p] + r * cp : NULL;
      if (m && j->accumulate[p]) {
        for (size_t i = 0; i < cp; i++) {
          const float v = w[i];
          d[i] += m[i] > 0.0f ? v : 0.0f;
        }
      } else if (m) {
        dd_relu_backward(cp, m, w, d);
      } else if (j->accumulate[p]) {
        dd_add_inplace(cp, w, d);
      } else {
        memcpy(d, w, cp * sizeof(float));
      }
      w += cp;
    }
  }
}

void dd_concat_backward_par(dd_threadpool *pool, size_t rows, int c_total, int n_parts, const float *whole,
                            float *const *dparts, const float *const *masks, const int *c_parts,
                            const unsigned char *accumulate) {
  row_job j = {0};
  j.rows = rows, j.c = c_total, j.in = whole, j.n_parts = n_parts, j.dparts = dparts, j.c_parts = c_parts;
  j.masks = masks;
  j.accumulate = accumulate;
  row_run(pool, &j, concat_bwd_range);
}
