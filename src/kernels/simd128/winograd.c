/* winograd.c — stride-1 convolution by Winograd's minimal filtering
 * F(m x m, r x r) (Lavin & Gray 2015): F(4x4, 3x3) computes each 4x4 block of
 * outputs with 36 multiplies per (input, output) channel pair instead of
 * 144 (4x less arithmetic), F(2x2, 3x3) with 16 instead of 36 (2.25x, and a
 * quarter of F(4x4)'s memory for the transformed filter), F(2x2, 5x5) with
 * 36 instead of 100 (2.8x). Used for the forward pass and, with the filter
 * flipped and transposed, for the data gradient (itself a stride-1
 * correlation of the same size).
 *
 *   V = B^T d B   (a = m+r-1: a x a input patch d, per input channel)
 *   U = G g G^T   (r x r filter g, per channel pair; once, in double)
 *   M[xi] = V[xi] . U[xi]  for the a*a positions xi: a*a GEMMs over channels
 *   Y = A^T M A   (m x m outputs) + bias, relu
 *
 * The output tiles are cut into blocks of T tiles (T a multiple of the
 * micro-kernel's rows); a work item is a block, or, when there are fewer
 * blocks than twice the threads, a block and a group of its panels. Per
 * item, on one thread: transform the block's input patches into
 * V[a*a][T][src_c] (per-thread scratch); then, per panel of 8 output
 * channels, run the igemm micro-kernel once per xi and row
 * group (one tap, kc = src_c: the same register-blocked inner loop as every
 * other convolution here) into M[a*a][T][8], and transform M into the
 * output pixels. Results differ from the direct convolution by rounding
 * only; the transforms with larger points round more: the worst error seen
 * is ~1.5e-5 of the output's scale against ~2.5e-6 for the direct sum
 * (tests/c/test_kernels_simd128.c prints both). */
#include <stdlib.h>

#include "internal.h"

#define WINO_MAX_XI 36 /* (4+2)^2 */
#define WINO_MAX_T 64  /* tiles per block, at most */

struct dd_wino_filter {
  int src_c, dst_c;
  int panels;          /* ceil(dst_c / 8) */
  size_t panel_stride; /* floats per (panel, xi): 8 zero "bias" + src_c rows of 8 */
  int m, r, a, nxi;    /* output tile m x m, filter r x r, input tile a = m+r-1, a*a positions */
  float *u;            /* [panel][xi] micro-kernel panels */
  float *bias;         /* panels*8 floats (zeros past dst_c) */
  float *zero;         /* src_c + 4 zeros: the padding patch row */
};

/* Floats between one thread's scratch slot and the next when several threads
   run: the transforms write V as 36 sequential streams, and a core's hardware
   prefetchers run a stream on past the slot's end into the next thread's V,
   which that thread is writing, so lines go back and forth between the cores.
   With the slots 16 floats apart, a 2-thread F(2x2, 5x5) data gradient
   (mixed3b 5x5 at 50 px) spent as long in its input transforms on each
   thread as one thread did on all of them (V8, 2-vCPU EPYC); gaps of 1K-4K
   floats changed nothing, 8K floats a little, 16K most, 32K all of it. */
#ifndef DD_WINO_SLOT_GUARD
#define DD_WINO_SLOT_GUARD (32 * 1024)
#endif

/* Scratch floats of one thread's block of t tiles: V and M (and the guard
   when other threads' slots follow). */
static size_t wino_block_floats(int nxi, int src_c, int t, int threads) {
  return (size_t)nxi * t * ((size_t)src_c + DD_NR) + (threads > 1 ? DD_WINO_SLOT_GUARD : 16);
}

/* Tiles per block: V near 96 KB (L2-resident while the panels go by),
   rounded to a multiple of mr, at least mr, and small enough that every
   thread gets several blocks. */
static int wino_block_tiles(int nxi, int src_c, size_t tiles, int threads, int mr) {
  size_t t = (96 * 1024 / sizeof(float)) / ((size_t)nxi * src_c);
  size_t fair = tiles / ((size_t)threads * 4);
  if (threads > 1 && fair < t) t = fair;
  if (t > WINO_MAX_T) t = WINO_MAX_T;
  t = t / (size_t)mr * (size_t)mr;
  return t < (size_t)mr ? mr : (int)t;
}

/* G (a x r) of F(2,3) (points 0, +-1, inf) and of F(4,3), F(2,5) (points 0,
   +-1, +-2, inf): row j = (1, p_j, .., p_j^(r-1)) / prod_{l != j}(p_j - p_l). */
static const double wino_g23[4][5] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double wino_g43[6][5] = {{1.0 / 4, 0, 0},
                                      {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                      {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                      {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                      {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                      {0, 0, 1}};
static const double wino_g25[6][5] = {{1.0 / 4, 0, 0, 0, 0},
                                      {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                                      {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                                      {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
                                      {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
                                      {0, 0, 0, 0, 1}};

/* U = G g G^T of one channel pair into the panels. */
static void wino_put(dd_wino_filter *f, const double g[5][5], int s, int d) {
  const int a = f->a, r = f->r;
  const double(*G)[5] = f->r == 5 ? wino_g25 : f->m == 4 ? wino_g43 : wino_g23;
  double gg[6][5];
  for (int i = 0; i < a; i++)
    for (int b = 0; b < r; b++) {
      double acc = 0;
      for (int k = 0; k < r; k++) acc += G[i][k] * g[k][b];
      gg[i][b] = acc;
    }
  float *base = f->u + (size_t)(d / DD_NR) * a * a * f->panel_stride + DD_NR +
                (size_t)s * DD_NR + (size_t)(d % DD_NR);
  for (int i = 0; i < a; i++)
    for (int c = 0; c < a; c++) {
      double acc = 0;
      for (int k = 0; k < r; k++) acc += gg[i][k] * G[c][k];
      base[(size_t)(i * a + c) * f->panel_stride] = (float)acc;
    }
}

dd_wino_filter *dd_wino_create(int m, int r, int src_c, int dst_c, dd_wino_weight_fn weight,
                               const void *ctx, const float *bias) {
  if (!((m == 2 && r == 3) || (m == 4 && r == 3) || (m == 2 && r == 5)) || src_c <= 0 || dst_c <= 0)
    return NULL;
  dd_wino_filter *f = (dd_wino_filter *)calloc(1, sizeof *f);
  if (!f) return NULL;
  f->src_c = src_c;
  f->dst_c = dst_c;
  f->panels = (dst_c + DD_NR - 1) / DD_NR;
  f->panel_stride = (size_t)DD_NR * (1 + (size_t)src_c);
  f->m = m;
  f->r = r;
  f->a = m + r - 1;
  f->nxi = f->a * f->a;
  f->u = (float *)dd_aligned_calloc((size_t)f->panels * f->nxi * f->panel_stride * sizeof(float));
  f->bias = (float *)dd_aligned_calloc((size_t)f->panels * DD_NR * sizeof(float));
  f->zero = (float *)dd_aligned_calloc(((size_t)src_c + 4) * sizeof(float));
  if (!f->u || !f->bias || !f->zero) {
    dd_wino_destroy(f);
    return NULL;
  }
  if (bias) memcpy(f->bias, bias, (size_t)dst_c * sizeof(float));
  for (int s = 0; s < src_c; s++)
    for (int d = 0; d < dst_c; d++) {
      double g[5][5];
      for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++) g[a][b] = weight(ctx, a, b, s, d);
      wino_put(f, g, s, d);
    }
  return f;
}

void dd_wino_destroy(dd_wino_filter *f) {
  if (!f) return;
  dd_aligned_free(f->u);
  dd_aligned_free(f->bias);
  dd_aligned_free(f->zero);
  free(f);
}

int dd_wino_worthwhile(int m, int r, int dst_h, int dst_w) {
  const size_t tiles = (size_t)((dst_h + m - 1) / m) * ((dst_w + m - 1) / m), a = (size_t)(m + r - 1);
  return tiles * a * a * 4 < (size_t)dst_h * dst_w * (size_t)(r * r) * 3;
}

size_t dd_wino_scratch_floats(const dd_wino_filter *f, const dd_wino_problem *pr, int threads) {
  const int m = f->m, nxi = f->nxi;
  const size_t tiles = (size_t)pr->n * ((pr->dst_h + m - 1) / m) * ((pr->dst_w + m - 1) / m);
  const int t = wino_block_tiles(nxi, f->src_c, tiles, threads, dd_igemm_select()->mr);
  return (size_t)threads * wino_block_floats(nxi, f->src_c, t, threads);
}

typedef struct wino_job {
  const dd_wino_filter *f;
  const dd_wino_problem *pr;
  dd_igemm_ukernel ukernel;
  int mr, t; /* micro-kernel rows, tiles per block */
  int th, tw; /* tile rows and columns per image */
  size_t tiles;
  int groups;  /* panel groups per block: work items are (block, group) */
  float *scratch;
  size_t slot; /* scratch floats per thread */
} wino_job;

/* ---- transforms, one f32x4 of channels at a time ---------------------------
 * The 1-D transforms x -> B^T x (input) and x -> A^T x (output) applied to
 * columns, then rows. F(2,3): B^T rows (1,0,-1,0), (0,1,1,0), (0,-1,1,0),
 * (0,1,0,-1); A^T rows (1,1,1,0), (0,1,-1,-1). F(4,3) and F(2,5) (points 0,
 * +-1, +-2) share B^T: rows (4,0,-5,0,1,0), (0,-4,-4,1,1,0), (0,4,-4,-1,1,0),
 * (0,-2,-1,2,1,0), (0,2,-1,-2,1,0), (0,4,0,-5,0,1). A^T of F(4,3): rows
 * (1,1,1,1,1,0), (0,1,-1,2,-2,0), (0,1,1,4,4,0), (0,1,-1,8,-8,1); of F(2,5):
 * (1,1,1,1,1,0), (0,1,-1,2,-2,1). */
#define V_ADD wasm_f32x4_add
#define V_SUB wasm_f32x4_sub
#define V_MUL wasm_f32x4_mul

static inline void wino_bt2(const v128_t *x, size_t xs, v128_t *y, size_t ys) {
  const v128_t d0 = x[0], d1 = x[xs], d2 = x[2 * xs], d3 = x[3 * xs];
  y[0] = V_SUB(d0, d2);
  y[ys] = V_ADD(d1, d2);
  y[2 * ys] = V_SUB(d2, d1);
  y[3 * ys] = V_SUB(d1, d3);
}

static inline void wino_bt4(const v128_t *x, size_t xs, v128_t *y, size_t ys) {
  const v128_t four = wasm_f32x4_splat(4.0f), five = wasm_f32x4_splat(5.0f), two = wasm_f32x4_splat(2.0f);
  const v128_t d0 = x[0], d1 = x[xs], d2 = x[2 * xs], d3 = x[3 * xs], d4 = x[4 * xs], d5 = x[5 * xs];
  const v128_t s12 = V_ADD(d1, d2), s34 = V_ADD(d3, d4), m12 = V_SUB(d1, d2), m43 = V_SUB(d4, d3);
  const v128_t m42 = V_SUB(d4, d2), m31 = V_MUL(two, V_SUB(d3, d1));
  y[0] = V_ADD(V_SUB(V_MUL(four, d0), V_MUL(five, d2)), d4);
  y[ys] = V_SUB(s34, V_MUL(four, s12));
  y[2 * ys] = V_ADD(m43, V_MUL(four, m12));
  y[3 * ys] = V_ADD(m42, m31);
  y[4 * ys] = V_SUB(m42, m31);
  y[5 * ys] = V_ADD(V_SUB(V_MUL(four, d1), V_MUL(five, d3)), d5);
}

static inline void wino_at2(const v128_t *x, size_t xs, v128_t *y, size_t ys) {
  const v128_t a = x[0], b = x[xs], c = x[2 * xs], d = x[3 * xs];
  y[0] = V_ADD(V_ADD(a, b), c);
  y[ys] = V_SUB(V_SUB(b, c), d);
}

static inline void wino_at4(const v128_t *x, size_t xs, v128_t *y, size_t ys) {
  const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), eight = wasm_f32x4_splat(8.0f);
  const v128_t s12 = V_ADD(x[xs], x[2 * xs]), d12 = V_SUB(x[xs], x[2 * xs]);
  const v128_t s34 = V_ADD(x[3 * xs], x[4 * xs]), d34 = V_SUB(x[3 * xs], x[4 * xs]);
  y[0] = V_ADD(V_ADD(x[0], s12), s34);
  y[ys] = V_ADD(d12, V_MUL(two, d34));
  y[2 * ys] = V_ADD(s12, V_MUL(four, s34));
  y[3 * ys] = V_ADD(V_ADD(d12, V_MUL(eight, d34)), x[5 * xs]);
}

static inline void wino_at25(const v128_t *x, size_t xs, v128_t *y, size_t ys) {
  const v128_t two = wasm_f32x4_splat(2.0f);
  y[0] = V_ADD(V_ADD(V_ADD(x[0], x[xs]), V_ADD(x[2 * xs], x[3 * xs])), x[4 * xs]);
  y[ys] = V_ADD(V_ADD(V_SUB(x[xs], x[2 * xs]), V_MUL(two, V_SUB(x[3 * xs], x[4 * xs]))), x[5 * xs]);
}

/* Scalar 1-D input transform for the channel tail (src_c not a multiple of
   4); a = 4 (F(2,3)) or 6 (F(4,3) and F(2,5) share B). */
static void wino_bt_scalar(int a, const float *x, size_t xs, float *y, size_t ys) {
  if (a == 4) {
    const float d0 = x[0], d1 = x[xs], d2 = x[2 * xs], d3 = x[3 * xs];
    y[0] = d0 - d2, y[ys] = d1 + d2, y[2 * ys] = d2 - d1, y[3 * ys] = d1 - d3;
    return;
  }
  const float d0 = x[0], d1 = x[xs], d2 = x[2 * xs], d3 = x[3 * xs], d4 = x[4 * xs], d5 = x[5 * xs];
  const float s12 = d1 + d2, s34 = d3 + d4, m12 = d1 - d2, m43 = d4 - d3, m42 = d4 - d2, m31 = 2.0f * (d3 - d1);
  y[0] = 4.0f * d0 - 5.0f * d2 + d4;
  y[ys] = s34 - 4.0f * s12;
  y[2 * ys] = m43 + 4.0f * m12;
  y[3 * ys] = m42 + m31;
  y[4 * ys] = m42 - m31;
  y[5 * ys] = 4.0f * d1 - 5.0f * d3 + d5;
}

/* V[xi][0..src_c) (xi_stride floats apart) of one tile from its a*a patch
   rows p[] (row-major). */
static void wino_input_tile(int a, const float *const *p, int src_c, float *v, size_t xi_stride) {
  int ch = 0;
  for (; ch + 4 <= src_c; ch += 4) {
    v128_t d[WINO_MAX_XI], t[WINO_MAX_XI], o[WINO_MAX_XI];
    for (int k = 0; k < a * a; k++) d[k] = wasm_v128_load(p[k] + ch);
    for (int c = 0; c < a; c++) /* columns: t = B^T d */
      if (a == 4) wino_bt2(d + c, (size_t)a, t + c, (size_t)a);
      else wino_bt4(d + c, (size_t)a, t + c, (size_t)a);
    for (int r = 0; r < a; r++) /* rows: o = t B */
      if (a == 4) wino_bt2(t + r * a, 1, o + r * a, 1);
      else wino_bt4(t + r * a, 1, o + r * a, 1);
    for (int k = 0; k < a * a; k++) wasm_v128_store(v + (size_t)k * xi_stride + ch, o[k]);
  }
  for (; ch < src_c; ch++) {
    float d[WINO_MAX_XI], t[WINO_MAX_XI], o[WINO_MAX_XI];
    for (int k = 0; k < a * a; k++) d[k] = p[k][ch];
    for (int c = 0; c < a; c++) wino_bt_scalar(a, d + c, (size_t)a, t + c, (size_t)a);
    for (int r = 0; r < a; r++) wino_bt_scalar(a, t + r * a, 1, o + r * a, 1);
    for (int k = 0; k < a * a; k++) v[(size_t)k * xi_stride + ch] = o[k];
  }
}

/* Y = A^T M A for one f32x4 of columns: x[a*a] -> y[m*m] (row-major). */
static void wino_output_tile(int m, int a, const v128_t *x, v128_t *y) {
  v128_t t[4 * 6];
  for (int c = 0; c < a; c++) /* columns: t (m x a) = A^T x */
    if (a == 4) wino_at2(x + c, (size_t)a, t + c, (size_t)a);
    else if (m == 4) wino_at4(x + c, (size_t)a, t + c, (size_t)a);
    else wino_at25(x + c, (size_t)a, t + c, (size_t)a);
  for (int r = 0; r < m; r++) /* rows: y = t A */
    if (a == 4) wino_at2(t + r * a, 1, y + r * m, 1);
    else if (m == 4) wino_at4(t + r * a, 1, y + r * m, 1);
    else wino_at25(t + r * a, 1, y + r * m, 1);
}

/* mask (NULL = none) is dst's element in the problem's mask: 0 where it is
   not > 0 (and gives +0, as the relu-backward pass it replaces). */
static inline void wino_store(float *dst, v128_t v, const float *bias, int relu, const float *mask, int nc) {
  v = V_ADD(v, wasm_v128_load(bias));
  if (relu) v = wasm_f32x4_pmax(v, wasm_f32x4_splat(0.0f));
  if (nc >= 4) {
    if (mask) v = wasm_v128_and(v, wasm_f32x4_gt(wasm_v128_load(mask), wasm_f32x4_splat(0.0f)));
    wasm_v128_store(dst, v);
  } else {
    float t[4];
    wasm_v128_store(t, v);
    for (int j = 0; j < nc; j++) dst[j] = !mask || mask[j] > 0.0f ? t[j] : 0.0f;
  }
}


/* Block `block`'s output channels of panels [p0, p1): its inputs transformed
   (again for every group of the block: a small cost beside the GEMMs), then
   per panel the GEMMs and the output transform. A panel's values do not
   depend on the group it is in. */
static void wino_block(const wino_job *job, size_t block, int p0, int p1, float *v, float *mm) {
  const dd_wino_filter *f = job->f;
  const dd_wino_problem *pr = job->pr;
  const int src_c = f->src_c, T = job->t, mr = job->mr, m = f->m, a = f->a, nxi = f->nxi;
  const size_t t0 = block * (size_t)T;
  const int cnt = job->tiles - t0 < (size_t)T ? (int)(job->tiles - t0) : T;
  const size_t v_xi = (size_t)T * src_c; /* floats between V[xi] and V[xi+1] */
  /* tile index -> (image, tile row, tile column), then walked */
  int tx = (int)(t0 % (size_t)job->tw), ty = (int)(t0 / (size_t)job->tw % (size_t)job->th);
  int n = (int)(t0 / (size_t)job->tw / (size_t)job->th);
  int tn[WINO_MAX_T], toy[WINO_MAX_T], tox[WINO_MAX_T];
  for (int i = 0; i < cnt; i++) {
    tn[i] = n, toy[i] = m * ty, tox[i] = m * tx;
    const float *img = pr->src + (size_t)n * pr->src_h * pr->src_w * src_c;
    const float *p[WINO_MAX_XI];
    const int y0 = m * ty - pr->pad_top, x0 = m * tx - pr->pad_left;
    for (int r = 0; r < a; r++) {
      const int y = y0 + r;
      for (int c = 0; c < a; c++) {
        const int x = x0 + c;
        p[r * a + c] = y >= 0 && y < pr->src_h && x >= 0 && x < pr->src_w
                           ? img + ((size_t)y * pr->src_w + x) * src_c
                           : f->zero;
      }
    }
    wino_input_tile(a, p, src_c, v + (size_t)i * src_c, v_xi);
    if (++tx == job->tw) {
      tx = 0;
      if (++ty == job->th) ty = 0, n++;
    }
  }
  const float *ap[DD_IGEMM_MR_MAX];
  float *cp[DD_IGEMM_MR_MAX];
  for (int pnl = p0; pnl < p1; pnl++) {
    const float *u = f->u + (size_t)pnl * nxi * f->panel_stride;
    for (int xi = 0; xi < nxi; xi++, u += f->panel_stride) {
      for (int i0 = 0; i0 < cnt; i0 += mr) {
        const int rows = cnt - i0 < mr ? cnt - i0 : mr;
        for (int k = 0; k < mr; k++) {
          const int i = i0 + (k < rows ? k : rows - 1);
          ap[k] = v + (size_t)xi * v_xi + (size_t)i * src_c;
          cp[k] = mm + ((size_t)xi * T + i0 + k) * DD_NR;
        }
        job->ukernel((size_t)rows, DD_NR, (size_t)src_c, 1, ap, u, cp, 0, 0);
      }
    }
    const int j0 = pnl * DD_NR, nc = f->dst_c - j0 < DD_NR ? f->dst_c - j0 : DD_NR;
    for (int i = 0; i < cnt; i++) {
      const size_t img_off = (size_t)tn[i] * pr->dst_h * pr->dst_w * f->dst_c;
      float *img = pr->dst + img_off;
      const float *mimg = pr->mask ? pr->mask + img_off : NULL;
      const int oh = pr->dst_h - toy[i] < m ? pr->dst_h - toy[i] : m;
      const int ow = pr->dst_w - tox[i] < m ? pr->dst_w - tox[i] : m;
      for (int h = 0; h < 2 && 4 * h < nc; h++) { /* the panel's two f32x4 halves */
        v128_t x[WINO_MAX_XI], y[16];
        for (int xi = 0; xi < nxi; xi++) x[xi] = wasm_v128_load(mm + ((size_t)xi * T + i) * DD_NR + 4 * h);
        wino_output_tile(m, a, x, y);
        for (int dy = 0; dy < oh; dy++)
          for (int dx = 0; dx < ow; dx++) {
            const size_t at = ((size_t)(toy[i] + dy) * pr->dst_w + tox[i] + dx) * f->dst_c + j0 + 4 * h;
            wino_store(img + at, y[dy * m + dx], f->bias + j0 + 4 * h, pr->relu, mimg ? mimg + at : NULL,
                       nc - 4 * h);
          }
      }
    }
  }
}

static void wino_range(void *ctx, size_t b0, size_t b1, int thread) {
  /* The job and the problem live on the calling thread's stack, beside the
     locals it writes while it runs its own share: read through them in the
     loops (the micro-kernel pointer after every call, the output's fields per
     tile), other threads would pull those cache lines back and forth (in V8,
     10-20% of a 3x3 conv on 2 threads). So each thread works from copies on
     its own stack. */
  wino_job own = *(const wino_job *)ctx;
  dd_wino_problem pr = *own.pr;
  own.pr = &pr;
  const wino_job *job = &own;
  float *v = job->scratch + (size_t)thread * job->slot;
  float *mm = v + (size_t)job->f->nxi * job->t * job->f->src_c;
  const int panels = job->f->panels, groups = job->groups;
  for (size_t k = b0; k < b1; k++) {
    const int g = (int)(k % (size_t)groups);
    wino_block(job, k / (size_t)groups, panels * g / groups, panels * (g + 1) / groups, v, mm);
  }
}

void dd_wino_run(const dd_wino_filter *f, const dd_wino_problem *pr, float *scratch,
                 dd_threadpool *pool) {
  const dd_igemm_config *cfg = dd_igemm_select();
  wino_job job;
  job.f = f;
  job.pr = pr;
  job.ukernel = cfg->ukernel;
  job.mr = cfg->mr;
  job.th = (pr->dst_h + f->m - 1) / f->m;
  job.tw = (pr->dst_w + f->m - 1) / f->m;
  job.tiles = (size_t)pr->n * job.th * job.tw;
  if (job.tiles == 0) return;
  const int threads = dd_threadpool_size(pool);
  job.t = wino_block_tiles(f->nxi, f->src_c, job.tiles, threads, job.mr);
  job.scratch = scratch;
  job.slot = wino_block_floats(f->nxi, f->src_c, job.t, threads);
  /* Few blocks for many threads (the 3x3 convs of Inception's mixed4/5 at
     13-25 px: 4-13 blocks, whatever the thread count): the blocks' panels are
     split into groups, so every thread gets work. Not on 1-2 threads with
     enough blocks (those runs are as before). */
  const size_t blocks = (job.tiles + (size_t)job.t - 1) / (size_t)job.t, want = 2 * (size_t)threads;
  job.groups = 1;
  if (threads > 1 && blocks < want) {
    size_t g = (want + blocks - 1) / blocks;
    job.groups = g > (size_t)f->panels ? f->panels : (int)g;
  }
  dd_parallel_for_t(pool, blocks * (size_t)job.groups, wino_range, &job);
}
