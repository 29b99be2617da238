/* ops.h — the small element-wise and layout ops that need no backend kernel:
 * bias add, relu, softmax, concat along channels, square, mean, and their
 * backward passes. Shapes are NHWC; "rows" means n*h*w pixels of `c`
 * channels. Every function overwrites its output unless named *_accumulate.
 */
#ifndef DD_OPS_H
#define DD_OPS_H

#include <stddef.h>

#include "../core/core.h"

/* out[r][c] = in[r][c] + bias[c] (in may equal out). */
void dd_bias_add(size_t rows, int c, const float *in, const float *bias, float *out);
/* dbias[c] = sum_r dout[r][c] */
void dd_bias_add_backward(size_t rows, int c, const float *dout, float *dbias);
/* out = in - bias (undo a fused bias; in may equal out). */
void dd_bias_sub(size_t rows, int c, const float *in, const float *bias, float *out);

void dd_relu(size_t n, const float *in, float *out);
/* din = dout where out > 0, else 0 (TensorFlow's ReluGrad on the output).
   din may alias dout. */
void dd_relu_backward(size_t n, const float *out, const float *dout, float *din);

/* out = in where in > 0, else alpha * in (TensorFlow's LeakyRelu). */
void dd_leaky_relu(size_t n, float alpha, const float *in, float *out);
/* din = dout where in > 0, else alpha * dout (LeakyReluGrad, on the input).
   din may alias dout. */
void dd_leaky_relu_backward(size_t n, float alpha, const float *in, const float *dout, float *din);

/* Softmax over the last axis, numerically stable (max subtracted). */
void dd_softmax(size_t rows, int c, const float *in, float *out);
/* din = y * (dout - sum(dout * y)) per row. */
void dd_softmax_backward(size_t rows, int c, const float *y, const float *dout, float *din);

/* Copies the rows x c_part tensor `part` into channels [c_off, c_off+c_part)
   of the rows x c_total tensor `out`, and back. */
void dd_concat_put(size_t rows, int c_total, int c_off, int c_part, const float *part, float *out);
void dd_concat_get(size_t rows, int c_total, int c_off, int c_part, const float *whole, float *part);

/* y += x */
void dd_add_inplace(size_t n, const float *x, float *y);

/* mean(square(x[..., channels])) over rows x c, in double; channels NULL = all. */
double dd_mean_square(size_t rows, int c, const float *x, const int *channels, int n_channels);
/* d/dx of dd_mean_square: 2*x/count on the selected channels, 0 elsewhere. */
void dd_mean_square_backward(size_t rows, int c, const float *x, const int *channels,
                             int n_channels, float *dx);

/* ---- arith.c: the ONNX element-wise ops ------------------------------------------ */
/* out = a + b (n floats; out may alias either). */
void dd_add(size_t n, const float *a, const float *b, float *out);
/* out[r][j] = in[r][j] * scale[n_scale == 1 ? 0 : j]; n_scale is 1 or c. in may equal out. */
void dd_channel_mul(size_t rows, int c, const float *in, const float *scale, int n_scale, float *out);
/* out = min(max(in, lo), hi). */
void dd_clip(size_t n, float lo, float hi, const float *in, float *out);
/* din = dout where lo < in < hi, else 0 (on the input). din may alias dout. */
void dd_clip_backward(size_t n, float lo, float hi, const float *in, const float *dout, float *din);

/* ---- pooling.c: window ops beside the kernels ------------------------------------ */
/* out[b][0][0][j] = mean over the hw pixels of in[b][.][.][j]; batches b < n. */
void dd_global_avg_pool(int n, size_t hw, int c, const float *in, float *out);
/* din[b][p][j] = dout[b][0][0][j] / hw. */
void dd_global_avg_pool_backward(int n, size_t hw, int c, const float *dout, float *din);
/* ONNX AveragePool with count_include_pad: the kernels average over the input
   pixels of a window (TF); this multiplies each output pixel of an average by
   (input pixels) / (pixels of the window inside input + declared pads), so the
   divisor counts the padding (ONNX Runtime's rule: not a ceil_mode overhang).
   Applied to the forward output, and to dout before the kernel's backward.
   pad_bottom/pad_right are the declared pads (win.pads[2], [3]). */
void dd_avg_pool_include_pad_scale(int k_h, int k_w, int stride_h, int stride_w, int pad_bottom, int pad_right,
                                   int n, int in_h, int in_w, int out_h, int out_w, int pad_top, int pad_left, int c,
                                   float *x);

/* ---- the same, split over a thread pool (NULL = inline) ----------------------
   Element-wise work is cut into blocks of DD_OPS_BLOCK floats (rows for the
   row ops); every element is computed exactly as by the serial version, so
   results do not depend on the thread count. Tensors smaller than a few
   blocks run inline: a parallel region costs more than it saves there. */
#define DD_OPS_BLOCK 16384
void dd_relu_backward_par(dd_threadpool *pool, size_t n, const float *out, const float *dout, float *din);
void dd_add_inplace_par(dd_threadpool *pool, size_t n, const float *x, float *y);
void dd_copy_par(dd_threadpool *pool, size_t n, const float *src, float *dst);
void dd_bias_sub_par(dd_threadpool *pool, size_t rows, int c, const float *in, const float *bias, float *out);
void dd_mean_square_backward_par(dd_threadpool *pool, size_t rows, int c, const float *x, const int *channels,
                                 int n_channels, float *dx);
/* Concat along channels, in one pass over the rows: the n_parts tensors
   rows x c_parts[j] go side by side into the first sum(c_parts) channels of
   each row of `out` (row stride c_total; pass out + offset for later ones). */
void dd_concat_forward_par(dd_threadpool *pool, size_t rows, int c_total, int n_parts, const float *const *parts,
                           const int *c_parts, float *out);
/* Its backward: dparts[j] = (or += when accumulate[j]) the channels of part j
   of `whole` (row stride c_total, parts from its first channel on), where
   masks[j] (NULL = none; masks itself may be NULL), a tensor shaped like the
   part, is > 0 (the relu backward fused in); else 0 (or += 0). Parts may
   share a buffer: per row they are processed in order. */
void dd_concat_backward_par(dd_threadpool *pool, size_t rows, int c_total, int n_parts, const float *whole,
                            float *const *dparts, const float *const *masks, const int *c_parts,
                            const unsigned char *accumulate);

#endif
