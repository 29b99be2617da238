/* window.c — TensorFlow (and ONNX) window geometry (output size and padding of a
 * convolution or pooling window) and the conv2d argument check every
 * backend's conv2d_create starts with. Backends depend on this file; the
 * backend registry (kernels.c) depends on the backends, so the two stay
 * apart: no backend reaches the registry. */
#include "kernels.h"

/* One spatial axis of TensorFlow's GetWindowedOutputSize (dilation 1):
   SAME:  out = ceil(in / stride), total padding = max((out-1)*stride + k - in, 0),
          the smaller half before, the extra pixel after (bottom/right);
   SAME_LOWER: the same total, the extra pixel before (ONNX);
   VALID: out = ceil((in - k + 1) / stride), no padding;
   EXPLICIT: ONNX's pads b (before) and a (after): out = floor or, with ceil,
          ceil((in + b + a - k) / stride) + 1, minus a last window that would
          start past in + b (ONNX Runtime's rule); the padding after is what the
          last window really covers (unused rows of the declared padding are
          dropped, as VALID drops unused input rows). */
static int dd_window_axis(int in, int k, int stride, dd_padding padding, int b, int a, int ceil_mode, int *out,
                          int *pad_before, int *pad_after) {
  if (padding == DD_PADDING_SAME || padding == DD_PADDING_SAME_LOWER) {
    int o = (in + stride - 1) / stride;
    long total = (long)(o - 1) * stride + k - in;
    if (total < 0) total = 0;
    *out = o;
    *pad_before = (int)(padding == DD_PADDING_SAME ? total / 2 : total - total / 2);
    *pad_after = (int)(total - *pad_before);
    return 1;
  }
  if (padding == DD_PADDING_EXPLICIT) {
    if (b < 0 || a < 0 || b >= k || a >= k) return 0;
    long long span = (long long)in + b + a - k;
    if (span < 0) return 0;
    long long o = span / stride + 1;
    if (ceil_mode && span % stride != 0) {
      o++;
      if ((o - 1) * stride >= (long long)in + b) o--;
    }
    long long after = (o - 1) * stride + k - in - b;
    *out = (int)o;
    *pad_before = b;
    *pad_after = after > 0 ? (int)after : 0;
    return 1;
  }
  if (k > in) return 0;
  *out = (in - k) / stride + 1;
  *pad_before = 0;
  *pad_after = 0;
  return 1;
}

dd_status dd_window_shape_init(const dd_window *win, int n, int in_h, int in_w,
                               dd_window_shape *out, dd_error *err) {
  if (!win || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "window shape: NULL argument");
  if (win->k_h <= 0 || win->k_w <= 0 || win->stride_h <= 0 || win->stride_w <= 0)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "window %dx%d stride %dx%d: sizes must be positive",
                   win->k_h, win->k_w, win->stride_h, win->stride_w);
  if ((unsigned)win->padding > DD_PADDING_EXPLICIT)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "window: unknown padding %d", (int)win->padding);
  if (n <= 0 || in_h <= 0 || in_w <= 0)
    return dd_fail(err, DD_ERR_SHAPE, "window: empty input %dx%dx%d", n, in_h, in_w);
  dd_window_shape s;
  s.n = n;
  s.in_h = in_h;
  s.in_w = in_w;
  if (!dd_window_axis(in_h, win->k_h, win->stride_h, win->padding, win->pads[0], win->pads[2], win->ceil_mode,
                      &s.out_h, &s.pad_top, &s.pad_bottom) ||
      !dd_window_axis(in_w, win->k_w, win->stride_w, win->padding, win->pads[1], win->pads[3], win->ceil_mode,
                      &s.out_w, &s.pad_left, &s.pad_right)) {
    if (win->padding == DD_PADDING_EXPLICIT)
      return dd_fail(err, DD_ERR_SHAPE, "window %dx%d with pads %d,%d,%d,%d (top, left, bottom, right) does not fit "
                     "input %dx%d, or a pad is not smaller than the window", win->k_h, win->k_w, win->pads[0],
                     win->pads[1], win->pads[2], win->pads[3], in_h, in_w);
    return dd_fail(err, DD_ERR_SHAPE, "VALID window %dx%d does not fit input %dx%d", win->k_h,
                   win->k_w, in_h, in_w);
  }
  *out = s;
  return DD_OK;
}

dd_status dd_conv2d_check(const dd_conv2d_params *p, const float *filter_hwio, const void *out,
                          dd_error *err) {
  if (!p || !filter_hwio || !out)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "conv2d_create: NULL argument");
  if (p->in_c <= 0 || p->out_c <= 0 || p->win.k_h <= 0 || p->win.k_w <= 0 ||
      p->win.stride_h <= 0 || p->win.stride_w <= 0)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "conv2d_create: bad parameters %dx%d/%dx%d %d->%d",
                   p->win.k_h, p->win.k_w, p->win.stride_h, p->win.stride_w, p->in_c, p->out_c);
  return DD_OK;
}
