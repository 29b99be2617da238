/* bench.c — kernel benchmark entry points for tests/bench/kernels_wasm.mjs.
 *
 * Each dd_bench_*_run call performs exactly one kernel call, so JavaScript
 * times it with performance.now() and calls it repeatedly: V8 has no on-stack
 * replacement for wasm, and a hot loop inside one long call would stay in the
 * baseline tier. Buffers are allocated once per case, with DD_EXTRA_BYTES of
 * slack as the kernel contract asks. */
#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include "instance_pool.h"
#include "kernels/kernels.h"

typedef struct dd_bench_conv {
  const dd_kernels *k;
  dd_conv2d_params p;
  dd_window_shape s;
  dd_conv2d_weights *w;
  float *x, *y, *dx, *dw, *db;
  dd_threadpool *pool;
} dd_bench_conv;

static float *dd_bench_buffer(size_t n, uint32_t *seed) {
  float *b = (float *)dd_aligned_alloc(n * sizeof(float) + DD_EXTRA_BYTES);
  if (!b) return NULL;
  for (size_t i = 0; i < n; i++) {
    *seed = *seed * 1664525u + 1013904223u;
    b[i] = (float)(*seed >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
  return b;
}

EMSCRIPTEN_KEEPALIVE void dd_bench_conv_destroy(dd_bench_conv *b) {
  if (!b) return;
  if (b->w) b->k->conv2d_destroy(b->w);
  dd_aligned_free(b->x), dd_aligned_free(b->y), dd_aligned_free(b->dx);
  dd_aligned_free(b->dw), dd_aligned_free(b->db);
  dd_threadpool_destroy(b->pool);
  free(b);
}

/* A square SAME conv case: hw x hw x ci input, k x k / s filter, co outputs,
   on `backend` (dd_backend) with `threads` threads. 0 on failure. */
EMSCRIPTEN_KEEPALIVE dd_bench_conv *dd_bench_conv_create(int backend, int hw, int k, int s, int ci,
                                                         int co, int threads) {
  const dd_kernels *kern = dd_kernels_get((dd_backend)backend);
  if (!kern) return NULL;
  dd_bench_conv *b = (dd_bench_conv *)calloc(1, sizeof *b);
  if (!b) return NULL;
  b->k = kern;
  b->p.win.k_h = b->p.win.k_w = k;
  b->p.win.stride_h = b->p.win.stride_w = s;
  b->p.win.padding = DD_PADDING_SAME;
  b->p.in_c = ci;
  b->p.out_c = co;
  b->pool = dd_threadpool_open(ddw_instance_pool(threads), threads);
  uint32_t seed = 12345;
  if (dd_window_shape_init(&b->p.win, 1, hw, hw, &b->s, NULL) != DD_OK) goto fail;
  size_t nx = (size_t)hw * hw * ci, nf = (size_t)k * k * ci * co;
  size_t ny = (size_t)b->s.out_h * b->s.out_w * co;
  float *f = dd_bench_buffer(nf, &seed), *bias = dd_bench_buffer((size_t)co, &seed);
  b->x = dd_bench_buffer(nx, &seed);
  b->y = dd_bench_buffer(ny, &seed);
  b->dx = dd_bench_buffer(nx, &seed);
  b->dw = dd_bench_buffer(nf, &seed);
  b->db = dd_bench_buffer((size_t)co, &seed);
  dd_status st = DD_ERR_OUT_OF_MEMORY;
  if (f && bias && b->x && b->y && b->dx && b->dw && b->db)
    st = kern->conv2d_create(&b->p, f, bias, &b->w, NULL);
  if (st == DD_OK)
    st = kern->conv2d_prepare(b->w, &b->s, DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA, NULL, b->pool, NULL);
  dd_aligned_free(f);
  dd_aligned_free(bias);
  if (st != DD_OK) goto fail;
  return b;
fail:
  dd_bench_conv_destroy(b);
  return NULL;
}

/* 2 * MACs of one forward (= one data or filter gradient) call. */
EMSCRIPTEN_KEEPALIVE double dd_bench_conv_flops(const dd_bench_conv *b) {
  return 2.0 * b->s.out_h * b->s.out_w * (double)b->p.win.k_h * b->p.win.k_w * b->p.in_c *
         b->p.out_c;
}

/* One call: op 0 = forward (+bias+relu), 1 = data gradient, 2 = filter gradient (+bias). */
EMSCRIPTEN_KEEPALIVE void dd_bench_conv_run(dd_bench_conv *b, int op) {
  if (op == 0)
    b->k->conv2d_forward(b->w, &b->s, b->x, b->y, 1, NULL, b->pool);
  else if (op == 1)
    b->k->conv2d_backward_data(b->w, &b->s, b->y, NULL, b->dx, NULL, b->pool);
  else
    b->k->conv2d_backward_filter(&b->p, &b->s, b->x, b->y, b->dw, b->db, b->pool);
}

typedef struct dd_bench_gemm {
  const dd_kernels *k;
  int n;
  float *a, *b, *c;
} dd_bench_gemm;

EMSCRIPTEN_KEEPALIVE void dd_bench_gemm_destroy(dd_bench_gemm *g) {
  if (!g) return;
  dd_aligned_free(g->a), dd_aligned_free(g->b), dd_aligned_free(g->c);
  free(g);
}

/* An n x n x n gemm case on `backend`. 0 on failure. */
EMSCRIPTEN_KEEPALIVE dd_bench_gemm *dd_bench_gemm_create(int backend, int n) {
  const dd_kernels *kern = dd_kernels_get((dd_backend)backend);
  dd_bench_gemm *g = kern ? (dd_bench_gemm *)calloc(1, sizeof *g) : NULL;
  if (!g) return NULL;
  uint32_t seed = 777;
  g->k = kern;
  g->n = n;
  g->a = dd_bench_buffer((size_t)n * n, &seed);
  g->b = dd_bench_buffer((size_t)n * n, &seed);
  g->c = dd_bench_buffer((size_t)n * n, &seed);
  if (!g->a || !g->b || !g->c) {
    dd_bench_gemm_destroy(g);
    return NULL;
  }
  return g;
}

/* One C = A.B call (B packing included). */
EMSCRIPTEN_KEEPALIVE void dd_bench_gemm_run(dd_bench_gemm *g) {
  g->k->gemm(0, 0, g->n, g->n, g->n, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n, NULL);
}

/* Inception 5h's other per-pixel layers: kind 0 = LRN (depth_radius 5,
   bias 2, alpha 1e-4, beta 0.5), kind 1 = MaxPool 3x3 stride 2 SAME; an
   hw x hw x c input, `threads` threads. 0 on failure. */
typedef struct dd_bench_layer {
  const dd_kernels *k;
  int kind, c;
  dd_lrn_params lrn;
  dd_window win;
  dd_window_shape s;
  float *x, *y, *dy, *dx;
  uint8_t *argmax; /* max pool: the forward's argmax (ops 3, 4) */
  dd_threadpool *pool;
} dd_bench_layer;

EMSCRIPTEN_KEEPALIVE void dd_bench_layer_destroy(dd_bench_layer *b) {
  if (!b) return;
  dd_aligned_free(b->x), dd_aligned_free(b->y), dd_aligned_free(b->dy), dd_aligned_free(b->dx);
  free(b->argmax);
  dd_threadpool_destroy(b->pool);
  free(b);
}

EMSCRIPTEN_KEEPALIVE dd_bench_layer *dd_bench_layer_create(int backend, int kind, int hw, int c, int threads) {
  const dd_kernels *kern = dd_kernels_get((dd_backend)backend);
  dd_bench_layer *b = kern ? (dd_bench_layer *)calloc(1, sizeof *b) : NULL;
  if (!b) return NULL;
  b->k = kern;
  b->kind = kind;
  b->c = c;
  b->lrn = (dd_lrn_params){5, 2.0f, 1e-4f, 0.5f};
  b->win = (dd_window){3, 3, 2, 2, DD_PADDING_SAME, {0, 0, 0, 0}, 0, 0};
  b->pool = dd_threadpool_open(ddw_instance_pool(threads), threads);
  uint32_t seed = 4242;
  if (dd_window_shape_init(&b->win, 1, hw, hw, &b->s, NULL) != DD_OK) goto fail;
  const size_t nx = (size_t)hw * hw * c, ny = kind == 0 ? nx : (size_t)b->s.out_h * b->s.out_w * c;
  b->x = dd_bench_buffer(nx, &seed);
  b->y = dd_bench_buffer(ny, &seed);
  b->dy = dd_bench_buffer(ny, &seed);
  b->dx = dd_bench_buffer(nx, &seed);
  b->argmax = (uint8_t *)calloc(ny + 16, 1);
  if (!b->x || !b->y || !b->dy || !b->dx || !b->argmax) goto fail;
  return b;
fail:
  dd_bench_layer_destroy(b);
  return NULL;
}

/* One call: op 0 = forward, 1 = backward (the input gradient), 2 = backward
   with the input as the relu mask (din_mask, as the engine calls it); max
   pool, when the backend has them: 3 = forward saving the argmax, 4 =
   backward from it with the input as the mask (what the engine runs). */
EMSCRIPTEN_KEEPALIVE void dd_bench_layer_run(dd_bench_layer *b, int op) {
  const size_t pixels = (size_t)b->s.in_h * b->s.in_w;
  if (b->kind == 0 && op == 0) b->k->lrn_forward(&b->lrn, pixels, b->c, b->x, b->y, b->pool);
  else if (b->kind == 0) b->k->lrn_backward(&b->lrn, pixels, b->c, b->x, b->dy, op == 2 ? b->x : NULL, b->dx, b->pool);
  else if (op == 0) b->k->max_pool_forward(&b->win, &b->s, b->c, b->x, b->y, b->pool);
  else if (op == 3 && b->k->max_pool_forward_argmax)
    b->k->max_pool_forward_argmax(&b->win, &b->s, b->c, b->x, b->y, b->argmax, b->pool);
  else if (op == 4 && b->k->max_pool_backward_argmax)
    b->k->max_pool_backward_argmax(&b->win, &b->s, b->c, b->argmax, b->dy, b->x, b->dx, b->pool);
  else b->k->max_pool_backward(&b->win, &b->s, b->c, b->x, b->dy, op == 2 ? b->x : NULL, b->dx, b->pool);
}

/* The heap's high-water mark in bytes (the program break: dlmalloc never
   lowers it), for tests/bench/memory_bench.mjs. The wasm memory itself grows
   in steps of up to 20% and can be larger. */
#include <unistd.h>
EMSCRIPTEN_KEEPALIVE double dd_bench_heap_top(void) { return (double)(uintptr_t)sbrk(0); }
