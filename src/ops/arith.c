/* arith.c — the element-wise ops ONNX models add (ResNet's Add, per-channel
 * Mul from an unfolded BatchNormalization or a Mul/Div by a constant, Clip /
 * Relu6); contracts in ops.h. */
#include "ops.h"

void dd_add(size_t n, const float *a, const float *b, float *out) {
  for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void dd_channel_mul(size_t rows, int c, const float *in, const float *scale, int n_scale, float *out) {
  if (n_scale == 1) {
    const float s = scale[0];
    for (size_t i = 0; i < rows * (size_t)c; i++) out[i] = in[i] * s;
    return;
  }
  for (size_t r = 0; r < rows; r++, in += c, out += c)
    for (int j = 0; j < c; j++) out[j] = in[j] * scale[j];
}

void dd_clip(size_t n, float lo, float hi, const float *in, float *out) {
  for (size_t i = 0; i < n; i++) {
    float v = in[i] < lo ? lo : in[i];
    out[i] = v > hi ? hi : v;
  }
}

void dd_clip_backward(size_t n, float lo, float hi, const float *in, const float *dout, float *din) {
  for (size_t i = 0; i < n; i++) {
    const float d = dout[i], x = in[i];
    din[i] = x > lo && x < hi ? d : 0.0f;
  }
}
