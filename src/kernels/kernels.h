/* kernels.h — the one interface every kernel backend implements.
 *
 * Backends: reference (plain loops, the oracle), simd128 (the project's own
 * wasm_f32x4 kernels; native builds compile the same source through SIMDe),
 * xnnpack (native only; Debian's libXNNPACK). The engine never calls a
 * backend directly: it holds a `const dd_kernels *` chosen at model load.
 *
 * Conventions
 *   - float32, NHWC activations, batch first. Filters arrive in TensorFlow's
 *     HWIO layout [k_h][k_w][in_c][out_c]; a backend may repack them into an
 *     opaque dd_conv2d_weights at create time (once per model).
 *   - Prepare may fail; run may not. conv2d_prepare builds whatever the
 *     run-time conv calls need for a geometry (transformed filters,
 *     data-gradient layouts, scratch) and returns a dd_status; the run-time
 *     calls then allocate nothing and never fall back to another path.
 *   - Padding follows TensorFlow: SAME puts the extra pixel at the bottom and
 *     right; VALID has none; ONNX's explicit (asymmetric) pads, ceil_mode and
 *     SAME_LOWER resolve to the same per-call pad_* and out_* numbers.
 *     dd_window_shape_init (window.c) computes them; kernels read only those.
 *   - Outputs are overwritten, never accumulated into, unless stated.
 *   - Kernels may read up to 16 bytes past the end of an input buffer
 *     (allocate with DD_EXTRA_BYTES slack); they never write past an output.
 *   - `pool` may be NULL (single thread). Work is split by dd_parallel_for.
 */
#ifndef DD_KERNELS_H
#define DD_KERNELS_H

#include "../core/core.h"

#define DD_EXTRA_BYTES 16

/* VALID, SAME: TensorFlow's (SAME: the extra pixel after). SAME_LOWER: ONNX's
   auto_pad SAME_LOWER (the extra pixel before). EXPLICIT: ONNX's pads, given in
   dd_window.pads, possibly asymmetric; with ceil_mode the output size rounds
   up (ONNX/ONNX Runtime: a last window that would start past the input and its
   top/left padding is dropped). */
typedef enum dd_padding {
  DD_PADDING_VALID = 0,
  DD_PADDING_SAME = 1,
  DD_PADDING_SAME_LOWER = 2,
  DD_PADDING_EXPLICIT = 3
} dd_padding;

/* Shape-independent parameters of a convolution or pooling window. The
   members after `padding` are zero for TensorFlow windows. */
typedef struct dd_window {
  int k_h, k_w;
  int stride_h, stride_w;
  dd_padding padding;
  int pads[4];           /* EXPLICIT: top, left, bottom, right; each in [0, k) */
  int ceil_mode;         /* EXPLICIT: output size rounded up */
  int count_include_pad; /* AVG_POOL (the engine's scale, not the kernels): the
                            divisor counts the declared padding (ONNX) */
} dd_window;

/* Per-call geometry, from dd_window_shape(). */
typedef struct dd_window_shape {
  int n;
  int in_h, in_w;
  int out_h, out_w;
  int pad_top, pad_left, pad_bottom, pad_right;
} dd_window_shape;

/* TensorFlow's output size and padding. Returns DD_ERR_SHAPE (with a message)
   when the window does not fit (VALID with a kernel larger than the input),
   or the input is empty. */
dd_status dd_window_shape_init(const dd_window *win, int n, int in_h, int in_w,
                               dd_window_shape *out, dd_error *err);

typedef struct dd_conv2d_params {
  dd_window win;
  int in_c, out_c;
} dd_conv2d_params;

/* The arguments every backend's conv2d_create checks first: non-NULL
   params, filter and out; positive sizes and strides. DD_OK or
   DD_ERR_INVALID_ARGUMENT with a message. */
dd_status dd_conv2d_check(const dd_conv2d_params *p, const float *filter_hwio, const void *out,
                          dd_error *err);

typedef struct dd_lrn_params {
  int depth_radius;
  float bias, alpha, beta;
} dd_lrn_params;

/* The run-time conv calls a conv2d_prepare readies (a bit set). */
enum {
  DD_CONV_FORWARD = 1,       /* conv2d_forward with relu = 0 */
  DD_CONV_FORWARD_RELU = 2,  /* conv2d_forward with relu = 1 */
  DD_CONV_BACKWARD_DATA = 4  /* conv2d_backward_data */
};

/* Opaque backend-owned filter (and bias) storage. */
typedef struct dd_conv2d_weights dd_conv2d_weights;

/* Scratch of the run-time conv calls (XNNPACK's workspace): the simd128
   backend's per-thread Winograd blocks, the padded RGB input, the data
   gradient's transposed rows. An executor runs one node at a time, so its
   convs share one and need the largest one's scratch, not the sum; two
   executors that run at the same time on one set of weights (the dream's
   lanes) each pass their own. Zero-initialise; prepare grows it (never
   shrinks), so geometries prepared earlier stay valid. dd_workspace_free
   releases the buffer. */
typedef struct dd_workspace {
  float *buf;
  size_t cap; /* floats in buf (plus DD_EXTRA_BYTES of slack) */
} dd_workspace;
/* Grows ws to hold `floats`; DD_ERR_OUT_OF_MEMORY (naming `what`) when it cannot. */
dd_status dd_workspace_grow(dd_workspace *ws, size_t floats, const char *what, dd_error *err);
void dd_workspace_free(dd_workspace *ws);

typedef struct dd_kernels {
  const char *name;

  /* ---- convolution ---------------------------------------------------------
     create: copies/repacks `filter_hwio` (and `bias`, which may be NULL = 0);
     the caller's arrays are not referenced afterwards. */
  dd_status (*conv2d_create)(const dd_conv2d_params *p, const float *filter_hwio,
                             const float *bias, dd_conv2d_weights **out, dd_error *err);
  void (*conv2d_destroy)(dd_conv2d_weights *w);
  /* prepare: readies w for the run-time calls named in `passes`
     (DD_CONV_FORWARD, DD_CONV_FORWARD_RELU, DD_CONV_BACKWARD_DATA) on inputs
     of geometry s, run with `pool` (or any pool of at most its size) on
     workspace `ws` (NULL: w's own scratch). Call it once per geometry and
     workspace a caller will run (an executor: when it plans); what it builds
     is kept and scratch only grows, so preparing a geometry that fits what
     is there allocates nothing. DD_ERR_OUT_OF_MEMORY (with a message) when
     it cannot, and nothing falls back. Running a geometry, pass, workspace
     or pool size that was not prepared is a programming error: the simd128
     backend aborts with a message. prepare writes w: it must not overlap
     any other call on w. */
  dd_status (*conv2d_prepare)(dd_conv2d_weights *w, const dd_window_shape *s, unsigned passes,
                              dd_workspace *ws, dd_threadpool *pool, dd_error *err);
  /* 1 when the run-time calls (forward, backward_data) on one w may run at
     the same time on several threads, each on a workspace of its own, once
     every geometry they run is prepared: they then only read w (ws NULL
     means w's own scratch, which they write: not concurrent). 0 (xnnpack: its
     operators hold per-geometry state): one call at a time per w. */
  int conv_concurrent;
  /* out[n][oh][ow][co] = bias[co] + sum in[n][ih][iw][ci] * filter[kh][kw][ci][co];
     with relu != 0 the result is max(0, .) (the fused BiasAdd+Relu epilogue).
     ws: a workspace prepare readied (NULL: w's own). */
  void (*conv2d_forward)(dd_conv2d_weights *w, const dd_window_shape *s, const float *in,
                         float *out, int relu, dd_workspace *ws, dd_threadpool *pool);
  /* Input gradient: din = conv2d_transpose(dout, filter). Overwrites din.
     din_mask (NULL = none; din's shape): the relu mask of din's activation,
     applied as the result is written: din[i] = din_mask[i] > 0 ? din[i] : 0
     (+0), bit for bit what a separate relu-backward pass over din gives, so
     the caller saves that pass. The same contract for max_pool_backward and
     lrn_backward below. */
  void (*conv2d_backward_data)(dd_conv2d_weights *w, const dd_window_shape *s,
                               const float *dout, const float *din_mask, float *din,
                               dd_workspace *ws, dd_threadpool *pool);
  /* Filter and bias gradients (HWIO and [out_c]); overwrite dfilter and dbias
     (dbias may be NULL). Needs no dd_conv2d_weights: training calls it with
     the current input and output gradient. */
  void (*conv2d_backward_filter)(const dd_conv2d_params *p, const dd_window_shape *s,
                                 const float *in, const float *dout, float *dfilter_hwio,
                                 float *dbias, dd_threadpool *pool);

  /* ---- pooling (channels c; padding excluded from averages, as TF) -------- */
  void (*max_pool_forward)(const dd_window *win, const dd_window_shape *s, int c,
                           const float *in, float *out, dd_threadpool *pool);
  /* Routes each dout to the first maximum of its window in row-major scan
     order (TensorFlow's CPU MaxPoolGrad); accumulates overlaps; overwrites din;
     din_mask as conv2d_backward_data's. */
  void (*max_pool_backward)(const dd_window *win, const dd_window_shape *s, int c,
                            const float *in, const float *dout, const float *din_mask,
                            float *din, dd_threadpool *pool);
  /* Optional (NULL: the backend has none). max_pool_forward that also writes
     argmax (uint8, out's layout): per output, the cell i * ww + j of its
     window clipped to the input (hh x ww cells, row-major) that holds the
     first maximum max_pool_backward routes to. Needs k_h * k_w <= 256. */
  void (*max_pool_forward_argmax)(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *in, float *out, uint8_t *argmax, dd_threadpool *pool);
  /* max_pool_backward from the argmax max_pool_forward_argmax wrote for the
     same input: the same bytes, without rescanning the windows. din_mask may
     be the input itself, as max_pool_backward's. */
  void (*max_pool_backward_argmax)(const dd_window *win, const dd_window_shape *s, int c,
                                   const uint8_t *argmax, const float *dout, const float *din_mask,
                                   float *din, dd_threadpool *pool);
  void (*avg_pool_forward)(const dd_window *win, const dd_window_shape *s, int c,
                           const float *in, float *out, dd_threadpool *pool);
  void (*avg_pool_backward)(const dd_window *win, const dd_window_shape *s, int c,
                            const float *dout, float *din, dd_threadpool *pool);

  /* ---- local response normalisation over channels (TF semantics) ----------
     sqr_sum[i] = sum_{j=i-r..i+r, 0<=j<c} in[j]^2;
     out[i] = in[i] / (bias + alpha * sqr_sum[i])^beta. pixels = n*h*w. */
  void (*lrn_forward)(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                      float *out, dd_threadpool *pool);
  /* din must not overlap dout (nor in); din_mask as conv2d_backward_data's. */
  void (*lrn_backward)(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                       const float *dout, const float *din_mask, float *din, dd_threadpool *pool);

  /* ---- dense ---------------------------------------------------------------
     C[m][n] = beta*C[m][n] + sum_k op(A)[m][k] * op(B)[k][n], row-major with
     leading dimensions; op(X) = X or X^T per trans flag. beta is 0 or 1. */
  void (*gemm)(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc, dd_threadpool *pool);
} dd_kernels;

/* The din_mask contract as a plain pass over n values of din: what a backend
   does after a kernel that cannot apply the mask as it writes. */
static inline void dd_kernels_mask(size_t n, const float *din_mask, float *din) {
  for (size_t i = 0; i < n; i++) din[i] = din_mask[i] > 0.0f ? din[i] : 0.0f;
}

/* The backends compiled into this build; NULL when absent. */
const dd_kernels *dd_kernels_reference(void);
const dd_kernels *dd_kernels_simd128(void);
const dd_kernels *dd_kernels_xnnpack(void);
/* DD_BACKEND_AUTO resolves to simd128. NULL when not available. */
const dd_kernels *dd_kernels_get(dd_backend backend);

#endif /* DD_KERNELS_H */
