/* internal.h — private to the simd128 backend: micro-kernels and the
 * indirect-GEMM driver shared by convolution forward, data gradient and
 * dense gemm.
 *
 * The core primitive is an "igemm": C[m][0..N) = bias + sum over ks taps and
 * kc channels of A_tap(m)[k] * W[tap][k][0..N). A_tap(m) is a row pointer
 * from an indirection table (input pixel, or a shared zero row for padding),
 * W is packed into panels of DD_NR columns. */
#ifndef DD_SIMD128_INTERNAL_H
#define DD_SIMD128_INTERNAL_H

#include "../kernels.h"
#include "simd.h"

#define DD_NR 8 /* columns per packed weight panel (two f32x4) */
#define DD_NR_NARROW 4 /* panel width for outputs of 4 channels */
#define DD_NR_DOT 3    /* "panel width" of the dot-product layout for <= 3 channels */

/* Rows of the selected igemm micro-kernel (4 or 6; see dd_igemm_select). */
#ifndef DD_IGEMM_MR
#define DD_IGEMM_MR 4
#endif
#define DD_IGEMM_MR_MAX 8

/* Largest ks*MR indirection table a driver keeps on its stack. Kernels with
   more taps than DD_IGEMM_MAX_TAPS (a 9x9 window) use the scalar fallback. */
#define DD_IGEMM_MAX_TAPS 81

enum { DD_UK_RELU = 1, DD_UK_ACCUMULATE = 2 };

/* igemm micro-kernel: one MR x NR tile (NR = 8, or 4 for the narrow kernel).
 *   mr:   valid rows (1..MR); only those are stored.
 *   a:    ks groups of MR row pointers, a[s*MR + i]; each row has kc floats.
 *         Pointers of rows >= mr must still be readable (drivers repeat a
 *         valid row); their results are discarded.
 *   w:    one packed panel: NR bias values, then ks*kc rows of NR weights.
 *   c:    mr output row pointers; columns [coff, coff+nc) are written, nc <= NR.
 *   flags: DD_UK_RELU clamps at 0; DD_UK_ACCUMULATE adds the old C. */
typedef void (*dd_igemm_ukernel)(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                                 const float *w, float *const *c, size_t coff, int flags);

void dd_f32_igemm_4x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                               const float *w, float *const *c, size_t coff, int flags);
void dd_f32_igemm_6x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                               const float *w, float *const *c, size_t coff, int flags);
void dd_f32_igemm_4x8s4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                                 const float *w, float *const *c, size_t coff, int flags);
void dd_f32_igemm_6x8s4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                                 const float *w, float *const *c, size_t coff, int flags);
/* Narrow outputs (N == 4): 4-column panels. */
void dd_f32_igemm_8x4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a, const float *w, float *const *c,
                               size_t coff, int flags);
/* N <= 3 (the data gradient into an RGB image): dot products along k. Its
   panel is 4 bias floats, then per tap 3 rows of kc weights (see
   dd_pack_panels with nr = DD_NR_DOT). */
void dd_f32_igemm_2x3dot__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                  const float *const *a, const float *w, float *const *c,
                                  size_t coff, int flags);
void dd_f32_igemm_3x3dot__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                  const float *const *a, const float *w, float *const *c,
                                  size_t coff, int flags);

typedef struct dd_igemm_config {
  dd_igemm_ukernel ukernel;
  int mr;
  const char *name;
} dd_igemm_config;

/* The micro-kernel in use. The environment variable DD_IGEMM (native
   benchmarks only) may pick another: "4x8", "6x8", "4x8s4", "6x8s4". */
const dd_igemm_config *dd_igemm_select(void);

/* Outer-product micro-kernels for the filter gradient:
 *   C[i][j] (+)= sum over a 2-D grid (rows x cols) of A_p[i] * B_p[j],
 * A_p = a + r*a_rs + q*a_cs (4 consecutive floats, i < 4),
 * B_p = b + r*b_rs + q*b_cs (8 or 4 consecutive floats).
 * C rows [0, mr) and columns [0, nc) are stored with row stride ldc.
 * Reads whole vectors: up to 3 floats past A_p's valid values and, for
 * 4x8, up to 3 past B_p's (the DD_EXTRA_BYTES contract). */
void dd_f32_gemm_tn_4x8__simd128(size_t mr, size_t nc, size_t rows, size_t cols,
                                 const float *a, size_t a_rs, size_t a_cs, const float *b,
                                 size_t b_rs, size_t b_cs, float *c, size_t ldc, int accumulate);
void dd_f32_gemm_tn_4x8ls__simd128(size_t mr, size_t nc, size_t rows, size_t cols,
                                   const float *a, size_t a_rs, size_t a_cs, const float *b,
                                   size_t b_rs, size_t b_cs, float *c, size_t ldc, int accumulate);
void dd_f32_gemm_tn_4x4__simd128(size_t mr, size_t nc, size_t rows, size_t cols,
                                 const float *a, size_t a_rs, size_t a_cs, const float *b,
                                 size_t b_rs, size_t b_cs, float *c, size_t ldc, int accumulate);

/* ---- the igemm driver ------------------------------------------------------
 * An output grid n x gh x gw. Grid point (n, y, x) reads taps (ti, tj) of the
 * source image at (y*ystep + yoff + ti, x*xstep + xoff + tj) (a zero row when
 * outside) and writes destination pixel (y*dystep + dyoff, x*dxstep + dxoff). */
typedef struct dd_igemm_problem {
  int n, gh, gw;
  const float *src;
  int src_h, src_w, kc; /* kc: floats read per source pixel (the GEMM's K per tap) */
  size_t src_ps;        /* floats between source pixels (>= kc) */
  int ystep, yoff, xstep, xoff;
  int th, tw;
  float *dst;
  int dst_h, dst_w, dst_c; /* dst_c: values written per destination pixel = N */
  size_t dst_ps;           /* floats between destination pixels (>= dst_c) */
  int dystep, dyoff, dxstep, dxoff;
  int nr;              /* panel width: DD_NR, DD_NR_NARROW or DD_NR_DOT (dd_panel_width) */
  const float *packed; /* ceil(N/nr) panels */
  size_t panel_stride; /* floats per panel: dd_panel_stride(th*tw, kc, nr) */
  const float *zero;   /* >= kc zeros */
  int flags;
} dd_igemm_problem;

/* Runs the problem, split over row blocks with dd_parallel_for. */
void dd_igemm_run(const dd_igemm_problem *pr, dd_threadpool *pool);

/* Panel width for a GEMM with n output columns: DD_NR_DOT for n <= 3,
   DD_NR_NARROW for 4, else DD_NR. */
int dd_panel_width(size_t n);

/* Floats per panel of a GEMM with ks taps of kc rows:
   nr*(1 + ks*kc), or 4 + 3*ks*kc in the dot layout. */
size_t dd_panel_stride(size_t ks, size_t kc, int nr);

/* Weight (tap t, row k, column jj of the panel) inside a panel. */
static inline size_t dd_panel_index(size_t t, size_t k, size_t jj, size_t kc, int nr) {
  if (nr == DD_NR_DOT) return 4 + (t * 3 + jj) * kc + k;
  return (size_t)nr + (t * kc + k) * (size_t)nr + jj;
}

/* Packs the weights of ks taps x kc rows x N columns (element (k, j) with
   k = t*kc + kk at src[k*k_stride + j*n_stride]) into ceil(N/nr) panels
   (dd_panel_stride floats each) with bias (or 0) and zero padding.
   dst must hold dd_pack_size(ks, kc, N, nr) floats. */
size_t dd_pack_size(size_t ks, size_t kc, size_t n, int nr);
void dd_pack_panels(size_t ks, size_t kc, size_t n, int nr, const float *src, size_t k_stride,
                    size_t n_stride, const float *bias, float *dst);

/* ---- Winograd F(m x m, r x r) (winograd.c) ---------------------------------
 * A stride-1 r x r correlation of src (n x src_h x src_w x src_c) into dst
 * (n x dst_h x dst_w x dst_c): dst(y, x) = bias + sum over a, b < r and
 * channels s of src(y - pad_top + a, x - pad_left + b)[s] * g[a][b][s][d],
 * src pixels outside the image reading as zero; dst overwritten; then
 * max(0, .) with relu, or 0 where mask (dst's shape, NULL = none) is not > 0. */
typedef struct dd_wino_filter dd_wino_filter;
typedef double (*dd_wino_weight_fn)(const void *ctx, int a, int b, int s, int d);
typedef struct dd_wino_problem {
  int n;
  const float *src;
  int src_h, src_w;
  float *dst;
  int dst_h, dst_w;
  int pad_top, pad_left;
  int relu;
  const float *mask;
} dd_wino_problem;

/* Transforms the filter g[a][b][s][d] = weight(ctx, a, b, s, d) (a, b < r)
   once for output tiles of m x m: (m, r) = (2, 3), (4, 3) or (2, 5), taking
   (m+r-1)^2 / r^2 times the filter's floats; bias (dst_c floats) may be
   NULL. NULL when out of memory or on bad sizes. */
dd_wino_filter *dd_wino_create(int m, int r, int src_c, int dst_c, dd_wino_weight_fn weight,
                               const void *ctx, const float *bias);
/* 1 when F(m x m, r x r) does clearly fewer multiplies than the direct sum
   on a dst_h x dst_w output (not on images of a few pixels). */
int dd_wino_worthwhile(int m, int r, int dst_h, int dst_w);
void dd_wino_destroy(dd_wino_filter *f);
/* Scratch floats dd_wino_run needs for this problem on `threads` threads. */
size_t dd_wino_scratch_floats(const dd_wino_filter *f, const dd_wino_problem *pr, int threads);
void dd_wino_run(const dd_wino_filter *f, const dd_wino_problem *pr, float *scratch,
                 dd_threadpool *pool);

/* ---- the data gradient into <= 3 channels (dgrad_thin.c) -------------------
 * din (n x in_h x in_w x in_c, overwritten) of a convolution with in_c <= 3,
 * vectorised over pixels. Supported when dd_thin_dgrad_supported (at most
 * DD_IGEMM_MAX_TAPS taps per stride class, pads smaller than the window). The
 * weights are repacked once by dd_thin_dgrad_pack into k_h*k_w*out_c*4
 * floats (weight(ctx, tap, ci, co), tap = kh*k_w + kw); the scratch holds
 * dd_thin_dgrad_scratch_floats floats for `threads` threads. */
int dd_thin_dgrad_supported(const dd_conv2d_params *p, const dd_window_shape *s);
size_t dd_thin_dgrad_scratch_floats(const dd_conv2d_params *p, const dd_window_shape *s, int threads);
void dd_thin_dgrad_pack(const dd_conv2d_params *p, float (*weight)(const void *ctx, size_t tap, int ci, int co),
                        const void *ctx, float *dst);
void dd_thin_dgrad_run(const dd_conv2d_params *p, const dd_window_shape *s, const float *w, const float *dout,
                       float *din, float *scratch, dd_threadpool *pool);

/* ---- the backend's entry points (signatures as in dd_kernels) ------------ */
dd_status dd_simd128_conv2d_create(const dd_conv2d_params *p, const float *filter_hwio,
                                   const float *bias, dd_conv2d_weights **out, dd_error *err);
void dd_simd128_conv2d_destroy(dd_conv2d_weights *w);
dd_status dd_simd128_conv2d_prepare(dd_conv2d_weights *w, const dd_window_shape *s, unsigned passes,
                                    dd_workspace *ws, dd_threadpool *pool, dd_error *err);
void dd_simd128_conv2d_forward(dd_conv2d_weights *w, const dd_window_shape *s, const float *in,
                               float *out, int relu, dd_workspace *ws, dd_threadpool *pool);
void dd_simd128_conv2d_backward_data(dd_conv2d_weights *w, const dd_window_shape *s,
                                     const float *dout, const float *din_mask, float *din,
                                     dd_workspace *ws, dd_threadpool *pool);
void dd_simd128_conv2d_backward_filter(const dd_conv2d_params *p, const dd_window_shape *s,
                                       const float *in, const float *dout, float *dfilter_hwio,
                                       float *dbias, dd_threadpool *pool);
void dd_simd128_max_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool);
void dd_simd128_max_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *in, const float *dout, const float *din_mask,
                                  float *din, dd_threadpool *pool);
void dd_simd128_max_pool_forward_argmax(const dd_window *win, const dd_window_shape *s, int c,
                                        const float *in, float *out, uint8_t *argmax, dd_threadpool *pool);
void dd_simd128_max_pool_backward_argmax(const dd_window *win, const dd_window_shape *s, int c,
                                         const uint8_t *argmax, const float *dout, const float *din_mask,
                                         float *din, dd_threadpool *pool);
void dd_simd128_avg_pool_forward(const dd_window *win, const dd_window_shape *s, int c,
                                 const float *in, float *out, dd_threadpool *pool);
void dd_simd128_avg_pool_backward(const dd_window *win, const dd_window_shape *s, int c,
                                  const float *dout, float *din, dd_threadpool *pool);
void dd_simd128_lrn_forward(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                            float *out, dd_threadpool *pool);
void dd_simd128_lrn_backward(const dd_lrn_params *p, size_t pixels, int c, const float *in,
                             const float *dout, const float *din_mask, float *din,
                             dd_threadpool *pool);
void dd_simd128_gemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc, dd_threadpool *pool);

#endif /* DD_SIMD128_INTERNAL_H */
