/* pooling.c — the window ops the kernels leave to the engine: ONNX's
 * GlobalAveragePool and the count_include_pad divisor of AveragePool;
 * contracts in ops.h. */
#include "ops.h"

void dd_global_avg_pool(int n, size_t hw, int c, const float *in, float *out) {
  for (int b = 0; b < n; b++, out += c) {
    const float *x = in + (size_t)b * hw * (size_t)c;
    for (int j = 0; j < c; j++) {
      double s = 0;
      for (size_t p = 0; p < hw; p++) s += x[p * (size_t)c + j];
      out[j] = (float)(s / (double)hw);
    }
  }
}

void dd_global_avg_pool_backward(int n, size_t hw, int c, const float *dout, float *din) {
  const float inv = (float)(1.0 / (double)hw);
  for (int b = 0; b < n; b++, dout += c)
    for (size_t p = 0; p < hw; p++, din += c)
      for (int j = 0; j < c; j++) din[j] = dout[j] * inv;
}

/* pixels of one axis inside the input, and inside input + declared padding */
static void axis_counts(int o, int k, int stride, int pad_before, int pad_after, int in, int *inside, int *with_pad) {
  int a = o * stride - pad_before, b = a + k;
  int lo = a < 0 ? 0 : a, hi = b > in ? in : b;
  int hp = b > in + pad_after ? in + pad_after : b;
  *inside = hi - lo;
  *with_pad = hp - a;
}

void dd_avg_pool_include_pad_scale(int k_h, int k_w, int stride_h, int stride_w, int pad_bottom, int pad_right,
                                   int n, int in_h, int in_w, int out_h, int out_w, int pad_top, int pad_left, int c,
                                   float *x) {
  for (int b = 0; b < n; b++)
    for (int oh = 0; oh < out_h; oh++) {
      int ih, ph;
      axis_counts(oh, k_h, stride_h, pad_top, pad_bottom, in_h, &ih, &ph);
      for (int ow = 0; ow < out_w; ow++) {
        int iw, pw;
        axis_counts(ow, k_w, stride_w, pad_left, pad_right, in_w, &iw, &pw);
        const float f = (float)((double)ih * iw / ((double)ph * pw));
        float *v = x + (((size_t)b * out_h + oh) * out_w + ow) * (size_t)c;
        for (int j = 0; j < c; j++) v[j] *= f;
      }
    }
}
