/* igemm.c — the indirect-GEMM driver: builds the indirection table of row
 * pointers for each block of MR output pixels (input pixels, or the shared
 * zero row where the window hangs over the padding) and calls the
 * micro-kernel once per packed panel of 8 output channels. No im2col copy:
 * the micro-kernel reads the input pixels in place. */
#include <stdlib.h>

#include "internal.h"

/* Weight panels streamed per pass over the row blocks are capped at about
   this many bytes, so they stay in L2 while the row blocks go by. */
#define DD_IGEMM_PANEL_BYTES (192 * 1024)

/* The first entry is the default: 4x8 load-splat measured fastest both
   natively (gcc -O3, SSE2: ~38 GFLOP/s vs 6x8 ~37, 4x8s4 ~33) and in wasm
   (V8: ~40 vs 6x8 ~27, 4x8s4 ~30) on the Inception shapes. */
static const dd_igemm_config dd_igemm_configs[] = {
    {dd_f32_igemm_4x8__simd128, 4, "4x8"},
    {dd_f32_igemm_4x8s4__simd128, 4, "4x8s4"},
    {dd_f32_igemm_6x8__simd128, 6, "6x8"},
    {dd_f32_igemm_6x8s4__simd128, 6, "6x8s4"},
};

#ifndef DD_IGEMM_DEFAULT
#define DD_IGEMM_DEFAULT 0 /* index into dd_igemm_configs (experiments: -D) */
#endif

const dd_igemm_config *dd_igemm_select(void) {
#ifndef __EMSCRIPTEN__
  const char *want = getenv("DD_IGEMM");
  if (want)
    for (size_t i = 0; i < sizeof dd_igemm_configs / sizeof dd_igemm_configs[0]; i++)
      if (strcmp(want, dd_igemm_configs[i].name) == 0) return &dd_igemm_configs[i];
#endif
  return &dd_igemm_configs[DD_IGEMM_DEFAULT];
}

int dd_panel_width(size_t n) {
  return n <= 3 ? DD_NR_DOT : n == DD_NR_NARROW ? DD_NR_NARROW : DD_NR;
}

size_t dd_panel_stride(size_t ks, size_t kc, int nr) {
  return nr == DD_NR_DOT ? 4 + 3 * ks * kc : (size_t)nr * (1 + ks * kc);
}

size_t dd_pack_size(size_t ks, size_t kc, size_t n, int nr) {
  return (n + (size_t)nr - 1) / (size_t)nr * dd_panel_stride(ks, kc, nr);
}

void dd_pack_panels(size_t ks, size_t kc, size_t n, int nr, const float *src, size_t k_stride,
                    size_t n_stride, const float *bias, float *dst) {
  const size_t stride = dd_panel_stride(ks, kc, nr), hdr = nr == DD_NR_DOT ? 4 : (size_t)nr;
  for (size_t j0 = 0; j0 < n; j0 += (size_t)nr, dst += stride) {
    size_t valid = n - j0 < (size_t)nr ? n - j0 : (size_t)nr;
    for (size_t j = 0; j < hdr; j++) dst[j] = (bias && j < valid) ? bias[j0 + j] : 0.0f;
    if (nr != DD_NR_DOT && n_stride == 1 && valid == (size_t)nr) {
      /* a full panel of contiguous columns (a Dense layer's weights, every
         GEMM call): row by row, nr floats at a time */
      for (size_t k = 0; k < ks * kc; k++) {
        const float *s = src + k * k_stride + j0;
        float *d = dst + dd_panel_index(0, k, 0, kc, nr);
        for (int j = 0; j < nr; j += 4) wasm_v128_store(d + j, wasm_v128_load(s + j));
      }
      continue;
    }
    for (size_t t = 0; t < ks; t++)
      for (size_t kk = 0; kk < kc; kk++)
        for (size_t j = 0; j < (size_t)nr; j++)
          dst[dd_panel_index(t, kk, j, kc, nr)] =
              j < valid ? src[(t * kc + kk) * k_stride + (j0 + j) * n_stride] : 0.0f;
  }
}

typedef struct igemm_job {
  const dd_igemm_problem *pr;
  dd_igemm_ukernel ukernel;
  int mr;
  size_t m;      /* output pixels = n*gh*gw */
  size_t panels; /* ceil(N / NR) */
  size_t chunk;  /* panels per pass */
  size_t groups; /* panel groups per block: work items are (block, group) */
} igemm_job;

/* Destination pointer and source base of grid point m. */
static float *igemm_locate(const dd_igemm_problem *pr, size_t m, int *n, int *by, int *bx) {
  int x = (int)(m % (size_t)pr->gw);
  size_t t = m / (size_t)pr->gw;
  int y = (int)(t % (size_t)pr->gh);
  *n = (int)(t / (size_t)pr->gh);
  *by = y * pr->ystep + pr->yoff;
  *bx = x * pr->xstep + pr->xoff;
  size_t dy = (size_t)(y * pr->dystep + pr->dyoff), dx = (size_t)(x * pr->dxstep + pr->dxoff);
  return pr->dst + (((size_t)*n * pr->dst_h + dy) * pr->dst_w + dx) * pr->dst_ps;
}

/* A grid position (n, y, x), walked row-major: the blocks of a range are
   consecutive, so only a range's first block pays the divisions (a wasm
   i32 division is tens of cycles; with one narrow panel per block, as in
   the RGB data gradient, they were a sizeable share of the block's time). */
typedef struct igemm_cursor {
  int n, y, x;
} igemm_cursor;

static igemm_cursor igemm_cursor_at(const dd_igemm_problem *pr, size_t m) {
  igemm_cursor q;
  size_t t = m / (size_t)pr->gw;
  q.x = (int)(m % (size_t)pr->gw);
  q.y = (int)(t % (size_t)pr->gh);
  q.n = (int)(t / (size_t)pr->gh);
  return q;
}

static void igemm_cursor_next(const dd_igemm_problem *pr, igemm_cursor *q) {
  if (++q->x == pr->gw) {
    q->x = 0;
    if (++q->y == pr->gh) {
      q->y = 0;
      q->n++;
    }
  }
}

/* Fills the indirection table a[tap*mr_max + i] and output rows c[i] for the
   block of mr rows starting at *cur (which is advanced past them); rows past
   mr repeat row mr-1. */
static void igemm_block_pointers(const dd_igemm_problem *pr, int mr_max, size_t mr, igemm_cursor *cur,
                                 const float **a, float **c) {
  igemm_cursor q = *cur;
  for (int i = 0; i < mr_max; i++) {
    if (i > 0 && (size_t)i < mr) igemm_cursor_next(pr, &q);
    const int n = q.n, by = q.y * pr->ystep + pr->yoff, bx = q.x * pr->xstep + pr->xoff;
    const size_t dy = (size_t)(q.y * pr->dystep + pr->dyoff), dx = (size_t)(q.x * pr->dxstep + pr->dxoff);
    c[i] = pr->dst + (((size_t)n * pr->dst_h + dy) * pr->dst_w + dx) * pr->dst_ps;
    const float *img = pr->src + (size_t)n * pr->src_h * pr->src_w * pr->src_ps;
    const float **ai = a + i;
    for (int ti = 0; ti < pr->th; ti++) {
      int sy = by + ti;
      int row_ok = sy >= 0 && sy < pr->src_h;
      const float *row = img + (size_t)(row_ok ? sy : 0) * pr->src_w * pr->src_ps;
      for (int tj = 0; tj < pr->tw; tj++) {
        int sx = bx + tj;
        *ai = row_ok && sx >= 0 && sx < pr->src_w ? row + (size_t)sx * pr->src_ps : pr->zero;
        ai += mr_max;
      }
    }
  }
  igemm_cursor_next(pr, &q);
  *cur = q;
}

/* The micro-kernel over panels [p0, p1) of one block (rows a, c). */
static void igemm_panels(const igemm_job *job, size_t mr, const float **a, float **c, size_t p0, size_t p1) {
  const dd_igemm_problem *pr = job->pr;
  const size_t ks = (size_t)pr->th * pr->tw, kc = (size_t)pr->kc, n_total = (size_t)pr->dst_c, nr = (size_t)pr->nr;
  for (size_t p = p0; p < p1; p++) {
    size_t j0 = p * nr;
    size_t nc = n_total - j0 < nr ? n_total - j0 : nr;
    job->ukernel(mr, nc, kc, ks, a, pr->packed + p * pr->panel_stride, c, j0, pr->flags);
  }
}

/* Items are blocks, or with panel groups (job->groups > 1) item k is block
   k / groups and group k % groups of its panels. Each output element gets
   the same micro-kernel call either way (its block's rows, its panel), so
   the bytes do not depend on the split. */
static void igemm_range(void *ctx, size_t k0, size_t k1) {
  /* copies on this thread's stack: the originals sit beside the calling
     thread's locals, and the loop reads them after every micro-kernel call
     (see wino_range) */
  igemm_job own = *(const igemm_job *)ctx;
  dd_igemm_problem prc = *own.pr;
  own.pr = &prc;
  const igemm_job *job = &own;
  const dd_igemm_problem *pr = &prc;
  const float *a[DD_IGEMM_MAX_TAPS * DD_IGEMM_MR_MAX];
  float *c[DD_IGEMM_MR_MAX];
  const size_t mr_max = (size_t)job->mr, groups = job->groups, panels = job->panels;
  if (groups > 1) {
    for (size_t k = k0; k < k1; k++) {
      const size_t g = k % groups, m0 = k / groups * mr_max;
      igemm_cursor cur = igemm_cursor_at(pr, m0);
      const size_t mr = job->m - m0 < mr_max ? job->m - m0 : mr_max;
      igemm_block_pointers(pr, job->mr, mr, &cur, a, c);
      igemm_panels(job, mr, a, c, panels * g / groups, panels * (g + 1) / groups);
    }
    return;
  }
  for (size_t p0 = 0; p0 < panels; p0 += job->chunk) {
    size_t p1 = p0 + job->chunk < panels ? p0 + job->chunk : panels;
    igemm_cursor cur = igemm_cursor_at(pr, k0 * mr_max);
    for (size_t b = k0; b < k1; b++) {
      size_t m0 = b * mr_max;
      size_t mr = job->m - m0 < mr_max ? job->m - m0 : mr_max;
      igemm_block_pointers(pr, job->mr, mr, &cur, a, c);
      igemm_panels(job, mr, a, c, p0, p1);
    }
  }
}

/* Plain loops over the same problem, for windows with more taps than the
   stack indirection table holds. */
static void igemm_scalar(const dd_igemm_problem *pr) {
  const size_t m_total = (size_t)pr->n * pr->gh * pr->gw;
  const size_t kc = (size_t)pr->kc;
  for (size_t m = 0; m < m_total; m++) {
    int n, by, bx;
    float *dst = igemm_locate(pr, m, &n, &by, &bx);
    for (int j = 0; j < pr->dst_c; j++) {
      const float *panel = pr->packed + (size_t)(j / pr->nr) * pr->panel_stride;
      const size_t jj = (size_t)(j % pr->nr);
      float acc = panel[jj];
      for (int ti = 0; ti < pr->th; ti++)
        for (int tj = 0; tj < pr->tw; tj++) {
          int sy = by + ti, sx = bx + tj;
          if (sy < 0 || sy >= pr->src_h || sx < 0 || sx >= pr->src_w) continue;
          const float *x = pr->src + (((size_t)n * pr->src_h + sy) * pr->src_w + sx) * pr->src_ps;
          const size_t t = (size_t)ti * pr->tw + tj;
          for (size_t k = 0; k < kc; k++) acc += x[k] * panel[dd_panel_index(t, k, jj, kc, pr->nr)];
        }
      if (pr->flags & DD_UK_ACCUMULATE) acc += dst[j];
      if ((pr->flags & DD_UK_RELU) && !(acc >= 0.0f)) acc = acc != acc ? acc : 0.0f;
      dst[j] = acc;
    }
  }
}

void dd_igemm_run(const dd_igemm_problem *pr, dd_threadpool *pool) {
  const size_t m = (size_t)pr->n * pr->gh * pr->gw;
  if (m == 0 || pr->dst_c == 0) return;
  if ((size_t)pr->th * pr->tw > DD_IGEMM_MAX_TAPS) {
    igemm_scalar(pr);
    return;
  }
  static const dd_igemm_config narrow = {dd_f32_igemm_8x4__simd128, 8, "8x4"};
  /* V8 keeps fewer vectors in registers than gcc: 2 rows measured faster in
     wasm (27.5 vs 18 GFLOP/s on conv2d0's data gradient), 3 rows natively
     (36 vs 28). */
#ifdef __wasm__
  static const dd_igemm_config dot = {dd_f32_igemm_2x3dot__simd128, 2, "2x3dot"};
#else
  static const dd_igemm_config dot = {dd_f32_igemm_3x3dot__simd128, 3, "3x3dot"};
#endif
  const dd_igemm_config *cfg = pr->nr == DD_NR_NARROW ? &narrow
                               : pr->nr == DD_NR_DOT  ? &dot
                                                      : dd_igemm_select();
  igemm_job job;
  job.pr = pr;
  job.ukernel = cfg->ukernel;
  job.mr = cfg->mr;
  job.m = m;
  job.panels = ((size_t)pr->dst_c + (size_t)pr->nr - 1) / (size_t)pr->nr;
  size_t panel_bytes = pr->panel_stride * sizeof(float);
  job.chunk = DD_IGEMM_PANEL_BYTES / panel_bytes;
  if (job.chunk < 1) job.chunk = 1;
  size_t blocks = (m + (size_t)cfg->mr - 1) / (size_t)cfg->mr;
  /* Few blocks for many threads (a Dense layer's 32-row batch: 8 blocks; a
     7x7 map: 13) on 8-16 threads: the blocks' panels are split into groups,
     as Winograd does, so every thread gets work. Not on 1-2 threads with
     enough blocks. */
  const size_t threads = (size_t)dd_threadpool_size(pool), want = 2 * threads;
  job.groups = 1;
  if (threads > 1 && blocks < want) {
    size_t g = (want + blocks - 1) / blocks;
    job.groups = g > job.panels ? job.panels : g;
  }
  dd_parallel_for(pool, blocks * job.groups, igemm_range, &job);
}
