/* winograd.c — 3x3 stride-1 convolution by Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin & Gray 2015): each 2x2 block of outputs costs 16
 * multiplies per (input, output) channel pair instead of 36, 2.25x less
 * arithmetic for the 3x3 convolutions that dominate Inception's gradient
 * step. Used for the forward pass and, with the filter flipped and
 * transposed, for the data gradient (itself a 3x3 stride-1 correlation).
 *
 *   V = B^T d B   (4x4 input patch d, per input channel)
 *   U = G g G^T   (3x3 filter g, per channel pair; once, in double)
 *   M[xi] = V[xi] . U[xi]  for the 16 positions xi: 16 GEMMs over channels
 *   Y = A^T M A   (2x2 outputs) + bias, relu
 *
 * The output tiles are cut into blocks of T tiles (T a multiple of the
 * micro-kernel's rows). Per block, on one thread: transform the block's
 * input patches into V[16][T][src_c] (per-thread scratch); then, per panel
 * of 8 output channels, run the igemm micro-kernel once per xi and row
 * group (one tap, kc = src_c: the same register-blocked inner loop as every
 * other convolution here) into M[16][T][8], and transform M into the
 * output pixels. Results differ from the direct convolution by rounding only
 * (the transforms add and subtract; G's halves are exact). */
#include <stdlib.h>

#include "internal.h"

struct dd_wino_filter {
  int src_c, dst_c;
  int panels;          /* ceil(dst_c / 8) */
  size_t panel_stride; /* floats per (panel, xi): 8 zero "bias" + src_c rows of 8 */
  float *u;            /* [panel][xi] micro-kernel panels */
  float *bias;         /* panels*8 floats (zeros past dst_c) */
  float *zero;         /* src_c + 4 zeros: the padding patch row */
};

/* Scratch floats of one block of t tiles: V and M. */
static size_t wino_block_floats(int src_c, int t) {
  return 16 * (size_t)t * (size_t)src_c + 16 * (size_t)t * DD_NR + 16;
}

/* Tiles per block: V near 96 KB (L2-resident while the panels go by),
   rounded to a multiple of mr, at least mr, and small enough that every
   thread gets several blocks. */
static int wino_block_tiles(int src_c, size_t tiles, int threads, int mr) {
  size_t t = (96 * 1024 / sizeof(float)) / (16 * (size_t)src_c);
  size_t fair = tiles / ((size_t)threads * 4);
  if (threads > 1 && fair < t) t = fair;
  if (t > 64) t = 64;
  t = t / (size_t)mr * (size_t)mr;
  return t < (size_t)mr ? mr : (int)t;
}

dd_wino_filter *dd_wino_create(int src_c, int dst_c, dd_wino_weight_fn weight, const void *ctx,
                               const float *bias) {
  if (src_c <= 0 || dst_c <= 0) return NULL;
  dd_wino_filter *f = (dd_wino_filter *)calloc(1, sizeof *f);
  if (!f) return NULL;
  f->src_c = src_c;
  f->dst_c = dst_c;
  f->panels = (dst_c + DD_NR - 1) / DD_NR;
  f->panel_stride = (size_t)DD_NR * (1 + (size_t)src_c);
  f->u = (float *)dd_aligned_calloc((size_t)f->panels * 16 * f->panel_stride * sizeof(float));
  f->bias = (float *)dd_aligned_calloc((size_t)f->panels * DD_NR * sizeof(float));
  f->zero = (float *)dd_aligned_calloc(((size_t)src_c + 4) * sizeof(float));
  if (!f->u || !f->bias || !f->zero) {
    dd_wino_destroy(f);
    return NULL;
  }
  if (bias) memcpy(f->bias, bias, (size_t)dst_c * sizeof(float));
  static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  for (int s = 0; s < src_c; s++)
    for (int d = 0; d < dst_c; d++) {
      double g[3][3], gg[4][3];
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) g[a][b] = weight(ctx, a, b, s, d);
      for (int r = 0; r < 4; r++)
        for (int b = 0; b < 3; b++) gg[r][b] = G[r][0] * g[0][b] + G[r][1] * g[1][b] + G[r][2] * g[2][b];
      float *base = f->u + (size_t)(d / DD_NR) * 16 * f->panel_stride;
      for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
          double v = gg[r][0] * G[c][0] + gg[r][1] * G[c][1] + gg[r][2] * G[c][2];
          base[(size_t)(r * 4 + c) * f->panel_stride + DD_NR + (size_t)s * DD_NR + (size_t)(d % DD_NR)] = (float)v;
        }
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

size_t dd_wino_scratch_floats(const dd_wino_filter *f, const dd_wino_problem *pr, int threads) {
  const size_t tiles = (size_t)pr->n * ((pr->dst_h + 1) / 2) * ((pr->dst_w + 1) / 2);
  const int t = wino_block_tiles(f->src_c, tiles, threads, dd_igemm_select()->mr);
  return (size_t)threads * wino_block_floats(f->src_c, t);
}

typedef struct wino_job {
  const dd_wino_filter *f;
  const dd_wino_problem *pr;
  dd_igemm_ukernel ukernel;
  int mr, t; /* micro-kernel rows, tiles per block */
  int th, tw;
  size_t tiles;
  float *scratch;
  size_t slot; /* scratch floats per thread */
} wino_job;

/* B^T d B for one channel vector: d[16] rows of the 4x4 patch (row-major). */
#define WINO_BT(d0, d1, d2, d3, t0, t1, t2, t3) \
  do {                                          \
    t0 = wasm_f32x4_sub(d0, d2);                \
    t1 = wasm_f32x4_add(d1, d2);                \
    t2 = wasm_f32x4_sub(d2, d1);                \
    t3 = wasm_f32x4_sub(d1, d3);                \
  } while (0)

/* V[xi][i][0..src_c) for tile i of the block from its 16 patch rows p[]. */
static void wino_input_tile(const float *const *p, int src_c, float *v, size_t xi_stride) {
  int ch = 0;
  for (; ch + 4 <= src_c; ch += 4) {
    v128_t t[16];
    for (int c = 0; c < 4; c++) {
      const v128_t d0 = wasm_v128_load(p[c] + ch), d1 = wasm_v128_load(p[4 + c] + ch);
      const v128_t d2 = wasm_v128_load(p[8 + c] + ch), d3 = wasm_v128_load(p[12 + c] + ch);
      WINO_BT(d0, d1, d2, d3, t[c], t[4 + c], t[8 + c], t[12 + c]);
    }
    for (int r = 0; r < 4; r++) {
      v128_t o0, o1, o2, o3;
      WINO_BT(t[r * 4], t[r * 4 + 1], t[r * 4 + 2], t[r * 4 + 3], o0, o1, o2, o3);
      float *dst = v + (size_t)(r * 4) * xi_stride + ch;
      wasm_v128_store(dst, o0);
      wasm_v128_store(dst + xi_stride, o1);
      wasm_v128_store(dst + 2 * xi_stride, o2);
      wasm_v128_store(dst + 3 * xi_stride, o3);
    }
  }
  for (; ch < src_c; ch++) {
    float t[16];
    for (int c = 0; c < 4; c++) {
      const float d0 = p[c][ch], d1 = p[4 + c][ch], d2 = p[8 + c][ch], d3 = p[12 + c][ch];
      t[c] = d0 - d2;
      t[4 + c] = d1 + d2;
      t[8 + c] = d2 - d1;
      t[12 + c] = d1 - d3;
    }
    for (int r = 0; r < 4; r++) {
      const float *q = t + r * 4;
      float *dst = v + (size_t)(r * 4) * xi_stride + ch;
      dst[0] = q[0] - q[2];
      dst[xi_stride] = q[1] + q[2];
      dst[2 * xi_stride] = q[2] - q[1];
      dst[3 * xi_stride] = q[1] - q[3];
    }
  }
}

/* A^T M A for one 4-column half: m[16] -> y00, y01, y10, y11. */
static inline void wino_output4(const v128_t *m, v128_t *y00, v128_t *y01, v128_t *y10, v128_t *y11) {
  v128_t s0[4], s1[4];
  for (int c = 0; c < 4; c++) {
    const v128_t a = m[c], b = m[4 + c], cc = m[8 + c], d = m[12 + c];
    s0[c] = wasm_f32x4_add(wasm_f32x4_add(a, b), cc);
    s1[c] = wasm_f32x4_sub(wasm_f32x4_sub(b, cc), d);
  }
  *y00 = wasm_f32x4_add(wasm_f32x4_add(s0[0], s0[1]), s0[2]);
  *y01 = wasm_f32x4_sub(wasm_f32x4_sub(s0[1], s0[2]), s0[3]);
  *y10 = wasm_f32x4_add(wasm_f32x4_add(s1[0], s1[1]), s1[2]);
  *y11 = wasm_f32x4_sub(wasm_f32x4_sub(s1[1], s1[2]), s1[3]);
}

static inline void wino_store(float *dst, v128_t v, const float *bias, int relu, int nc) {
  v = wasm_f32x4_add(v, wasm_v128_load(bias));
  if (relu) v = wasm_f32x4_pmax(v, wasm_f32x4_splat(0.0f));
  if (nc >= 4) {
    wasm_v128_store(dst, v);
  } else {
    float t[4];
    wasm_v128_store(t, v);
    memcpy(dst, t, (size_t)nc * sizeof(float));
  }
}

/* Tile index -> (image, tile row, tile column). */
static void wino_tile_at(const wino_job *job, size_t tile, int *n, int *ty, int *tx) {
  *tx = (int)(tile % (size_t)job->tw);
  size_t q = tile / (size_t)job->tw;
  *ty = (int)(q % (size_t)job->th);
  *n = (int)(q / (size_t)job->th);
}

static void wino_block(const wino_job *job, size_t block, float *v, float *m) {
  const dd_wino_filter *f = job->f;
  const dd_wino_problem *pr = job->pr;
  const int src_c = f->src_c, T = job->t, mr = job->mr;
  const size_t t0 = block * (size_t)T;
  const int cnt = job->tiles - t0 < (size_t)T ? (int)(job->tiles - t0) : T;
  const size_t v_xi = (size_t)T * src_c; /* floats between V[xi] and V[xi+1] */
  int n, ty, tx;
  wino_tile_at(job, t0, &n, &ty, &tx);
  int tn[64], tyy[64], txx[64];
  for (int i = 0; i < cnt; i++) {
    tn[i] = n, tyy[i] = ty, txx[i] = tx;
    const float *img = pr->src + (size_t)n * pr->src_h * pr->src_w * src_c;
    const float *p[16];
    const int y0 = 2 * ty - pr->pad_top, x0 = 2 * tx - pr->pad_left;
    for (int r = 0; r < 4; r++) {
      const int y = y0 + r;
      for (int c = 0; c < 4; c++) {
        const int x = x0 + c;
        p[r * 4 + c] = y >= 0 && y < pr->src_h && x >= 0 && x < pr->src_w
                           ? img + ((size_t)y * pr->src_w + x) * src_c
                           : f->zero;
      }
    }
    wino_input_tile(p, src_c, v + (size_t)i * src_c, v_xi);
    if (++tx == job->tw) {
      tx = 0;
      if (++ty == job->th) ty = 0, n++;
    }
  }
  const float *a[DD_IGEMM_MR_MAX];
  float *c[DD_IGEMM_MR_MAX];
  for (int pnl = 0; pnl < f->panels; pnl++) {
    const float *u = f->u + (size_t)pnl * 16 * f->panel_stride;
    for (int xi = 0; xi < 16; xi++, u += f->panel_stride) {
      for (int i0 = 0; i0 < cnt; i0 += mr) {
        const int rows = cnt - i0 < mr ? cnt - i0 : mr;
        for (int k = 0; k < mr; k++) {
          const int i = i0 + (k < rows ? k : rows - 1);
          a[k] = v + (size_t)xi * v_xi + (size_t)i * src_c;
          c[k] = m + ((size_t)xi * T + i0 + k) * DD_NR;
        }
        job->ukernel((size_t)rows, DD_NR, (size_t)src_c, 1, a, u, c, 0, 0);
      }
    }
    const int j0 = pnl * DD_NR, nc = f->dst_c - j0 < DD_NR ? f->dst_c - j0 : DD_NR;
    const float *bias = f->bias + j0;
    for (int i = 0; i < cnt; i++) {
      v128_t lo[16], hi[16];
      for (int xi = 0; xi < 16; xi++) {
        const float *mm = m + ((size_t)xi * T + i) * DD_NR;
        lo[xi] = wasm_v128_load(mm);
        hi[xi] = wasm_v128_load(mm + 4);
      }
      v128_t y[2][4];
      wino_output4(lo, &y[0][0], &y[0][1], &y[0][2], &y[0][3]);
      wino_output4(hi, &y[1][0], &y[1][1], &y[1][2], &y[1][3]);
      const int oy = 2 * tyy[i], ox = 2 * txx[i];
      float *img = pr->dst + (size_t)tn[i] * pr->dst_h * pr->dst_w * f->dst_c;
      for (int dy = 0; dy < 2; dy++) {
        if (oy + dy >= pr->dst_h) break;
        for (int dx = 0; dx < 2; dx++) {
          if (ox + dx >= pr->dst_w) break;
          float *o = img + ((size_t)(oy + dy) * pr->dst_w + ox + dx) * f->dst_c + j0;
          wino_store(o, y[0][dy * 2 + dx], bias, pr->relu, nc);
          if (nc > 4) wino_store(o + 4, y[1][dy * 2 + dx], bias + 4, pr->relu, nc - 4);
        }
      }
    }
  }
}

static void wino_range(void *ctx, size_t b0, size_t b1, int thread) {
  const wino_job *job = (const wino_job *)ctx;
  float *v = job->scratch + (size_t)thread * job->slot;
  float *m = v + 16 * (size_t)job->t * job->f->src_c;
  for (size_t b = b0; b < b1; b++) wino_block(job, b, v, m);
}

void dd_wino_run(const dd_wino_filter *f, const dd_wino_problem *pr, float *scratch,
                 dd_threadpool *pool) {
  const dd_igemm_config *cfg = dd_igemm_select();
  wino_job job;
  job.f = f;
  job.pr = pr;
  job.ukernel = cfg->ukernel;
  job.mr = cfg->mr;
  job.th = (pr->dst_h + 1) / 2;
  job.tw = (pr->dst_w + 1) / 2;
  job.tiles = (size_t)pr->n * job.th * job.tw;
  if (job.tiles == 0) return;
  const int threads = dd_threadpool_size(pool);
  job.t = wino_block_tiles(f->src_c, job.tiles, threads, job.mr);
  job.scratch = scratch;
  job.slot = wino_block_floats(f->src_c, job.t);
  dd_parallel_for_t(pool, (job.tiles + (size_t)job.t - 1) / (size_t)job.t, wino_range, &job);
}
