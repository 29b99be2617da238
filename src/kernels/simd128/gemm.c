/* gemm.c — simd128 dense GEMM (MatMul / Dense layers and their gradients).
 *
 * op(B) is packed into 8-column panels per call (on the pool when large), op(A) rows are read in place
 * (transposed A is first copied row-major), and the igemm driver runs with a
 * single tap. beta 1 accumulates in the micro-kernel's epilogue. If a packing
 * buffer cannot be allocated, plain loops compute the same result. */
#include <stdlib.h>

#include "internal.h"

static void gemm_plain(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                       const float *b, int ldb, float *c, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float acc = 0.0f;
      for (int p = 0; p < k; p++)
        acc += (trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) *
               (trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
      c[(size_t)i * ldc + j] += acc;
    }
}

/* C <- beta*C for beta not in {0, 1}; zero for beta 0. */
static void gemm_scale(int m, int n, float beta, float *c, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
}

/* op(B) packed panel by panel on the pool (a Dense layer's weights are
   repacked every call: the pack was 14.5% of a 1-thread training profile
   before this and the contiguous-panel copy). Each panel's floats are the
   serial pack's. */
typedef struct pack_job {
  size_t k, n, k_stride, n_stride, stride;
  int nr;
  const float *src;
  float *dst;
} pack_job;

static void pack_range(void *ctx, size_t p0, size_t p1) {
  const pack_job *j = (const pack_job *)ctx;
  const size_t j0 = p0 * (size_t)j->nr, j1 = p1 * (size_t)j->nr < j->n ? p1 * (size_t)j->nr : j->n;
  dd_pack_panels(1, j->k, j1 - j0, j->nr, j->src + j0 * j->n_stride, j->k_stride, j->n_stride, NULL,
                 j->dst + p0 * j->stride);
}

/* Below this many floats of B the pool's dispatch costs more than the copy. */
#define DD_GEMM_PARALLEL_PACK (64 * 1024)

void dd_simd128_gemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc, dd_threadpool *pool) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (beta != 1.0f) gemm_scale(m, n, beta, c, ldc);
    return;
  }
  const int nr = dd_panel_width((size_t)n);
  float *packed = (float *)dd_aligned_alloc(dd_pack_size(1, (size_t)k, (size_t)n, nr) * sizeof(float));
  float *at = NULL;
  if (trans_a) at = (float *)dd_aligned_alloc((size_t)m * k * sizeof(float) + DD_EXTRA_BYTES);
  if (!packed || (trans_a && !at)) {
    dd_aligned_free(packed);
    dd_aligned_free(at);
    if (beta != 1.0f) gemm_scale(m, n, beta, c, ldc);
    gemm_plain(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    return;
  }
  if (beta != 0.0f && beta != 1.0f) gemm_scale(m, n, beta, c, ldc);
  /* op(B)[p][j] = trans_b ? b[j*ldb + p] : b[p*ldb + j] */
  pack_job pj = {(size_t)k, (size_t)n, trans_b ? 1 : (size_t)ldb, trans_b ? (size_t)ldb : 1,
                 dd_panel_stride(1, (size_t)k, nr), nr, b, packed};
  const size_t panels = ((size_t)n + (size_t)nr - 1) / (size_t)nr;
  if ((size_t)k * (size_t)n >= DD_GEMM_PARALLEL_PACK && panels > 1) dd_parallel_for(pool, panels, pack_range, &pj);
  else pack_range(&pj, 0, panels);
  if (trans_a)
    for (int i = 0; i < m; i++)
      for (int p = 0; p < k; p++) at[(size_t)i * k + p] = a[(size_t)p * lda + i];
  dd_igemm_problem pr;
  pr.n = 1;
  pr.gh = m;
  pr.gw = 1;
  pr.src = trans_a ? at : a;
  pr.src_h = m;
  pr.src_w = 1;
  pr.kc = k;
  pr.src_ps = trans_a ? (size_t)k : (size_t)lda;
  pr.ystep = 1;
  pr.yoff = 0;
  pr.xstep = 1;
  pr.xoff = 0;
  pr.th = 1;
  pr.tw = 1;
  pr.dst = c;
  pr.dst_h = m;
  pr.dst_w = 1;
  pr.dst_c = n;
  pr.dst_ps = (size_t)ldc;
  pr.dystep = 1;
  pr.dyoff = 0;
  pr.dxstep = 1;
  pr.dxoff = 0;
  pr.packed = packed;
  pr.nr = nr;
  pr.panel_stride = dd_panel_stride(1, (size_t)k, nr);
  pr.zero = NULL; /* one tap, never outside */
  pr.flags = beta != 0.0f ? DD_UK_ACCUMULATE : 0;
  dd_igemm_run(&pr, pool);
  dd_aligned_free(packed);
  dd_aligned_free(at);
}
