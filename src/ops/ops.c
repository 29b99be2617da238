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

void dd_relu_backward(size_t n, const float *out, const float *dout, float *din) {
  for (size_t i = 0; i < n; i++) din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
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
