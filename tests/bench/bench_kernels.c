/* bench_kernels.c — GFLOP/s (2*MACs / time, best of several runs after a
 * warm-up) of conv forward, data gradient and filter gradient on the Inception
 * 5h shapes at the tutorial's 400x400 tile, for every backend compiled in
 * (reference on one small shape only), plus a raw 512^3 GEMM line.
 * A benchmark, not a test: it prints and asserts nothing.
 *
 * Environment: DD_BENCH_THREADS (default 1), DD_BENCH_SECONDS (time budget
 * per measurement, default 0.4), DD_IGEMM (simd128 micro-kernel variant),
 * DD_BENCH_CLOCK=cpu (time the calling thread's CPU time instead of wall
 * time: steadier on a shared machine, meaningful with 1 thread only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "kernels/simd128/internal.h"
#include "testutil.h"

typedef struct bshape {
  const char *name;
  int hw, k, s, ci, co;
} bshape;

static const bshape shapes[] = {
    {"conv2d0 7x7/2 3->64 @400", 400, 7, 2, 3, 64},
    {"conv2d2 3x3 64->192 @100", 100, 3, 1, 64, 192},
    {"mixed3b 1x1 256->128 @50", 50, 1, 1, 256, 128},
    {"mixed3b 5x5 32->96 @50", 50, 5, 1, 32, 96},
    {"mixed4c 3x3 128->256 @25", 25, 3, 1, 128, 256},
    {"mixed5b 1x1 832->384 @13", 13, 1, 1, 832, 384},
};
#define NUM_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

static double budget_ms = 400.0;
static int use_cpu_clock;

static double now_ms(void) {
  if (!use_cpu_clock) return test_now_ms();
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef enum { OP_FWD, OP_BWD_DATA, OP_BWD_FILTER } op_kind;

typedef struct bench_case {
  const dd_kernels *K;
  dd_conv2d_params p;
  dd_window_shape s;
  dd_conv2d_weights *w;
  float *x, *y, *dx, *dw, *db;
  dd_threadpool *pool;
} bench_case;

static void run_op(bench_case *b, op_kind op) {
  switch (op) {
    case OP_FWD: b->K->conv2d_forward(b->w, &b->s, b->x, b->y, 1, NULL, b->pool); break;
    case OP_BWD_DATA: b->K->conv2d_backward_data(b->w, &b->s, b->y, NULL, b->dx, NULL, b->pool); break;
    case OP_BWD_FILTER:
      b->K->conv2d_backward_filter(&b->p, &b->s, b->x, b->y, b->dw, b->db, b->pool);
      break;
  }
}

/* Best time in ms of one call: one warm-up, then at least 3 runs and until
   the budget is spent (at most 50). */
static double best_ms(bench_case *b, op_kind op) {
  run_op(b, op);
  double best = 1e30, spent = 0;
  for (int i = 0; i < 50 && (i < 3 || spent < budget_ms); i++) {
    double t0 = now_ms();
    run_op(b, op);
    double t = now_ms() - t0;
    spent += t;
    if (t < best) best = t;
  }
  return best;
}

static float *rand_buf(size_t n, test_rng *r) {
  float *x = (float *)dd_aligned_alloc(n * sizeof(float) + DD_EXTRA_BYTES);
  if (x) test_fill(r, x, n, -1, 1);
  return x;
}

static void bench_shape(const dd_kernels *K, const bshape *sh, dd_threadpool *pool) {
  test_rng rng;
  test_rng_seed(&rng, 5);
  bench_case b;
  memset(&b, 0, sizeof b);
  b.K = K;
  b.pool = pool;
  b.p.win.k_h = b.p.win.k_w = sh->k;
  b.p.win.stride_h = b.p.win.stride_w = sh->s;
  b.p.win.padding = DD_PADDING_SAME;
  b.p.in_c = sh->ci;
  b.p.out_c = sh->co;
  if (dd_window_shape_init(&b.p.win, 1, sh->hw, sh->hw, &b.s, NULL) != DD_OK) return;
  size_t nx = (size_t)sh->hw * sh->hw * sh->ci, nf = (size_t)sh->k * sh->k * sh->ci * sh->co;
  size_t ny = (size_t)b.s.out_h * b.s.out_w * sh->co;
  float *f = rand_buf(nf, &rng), *bias = rand_buf((size_t)sh->co, &rng);
  b.x = rand_buf(nx, &rng);
  b.y = rand_buf(ny, &rng);
  b.dx = rand_buf(nx, &rng);
  b.dw = rand_buf(nf, &rng);
  b.db = rand_buf((size_t)sh->co, &rng);
  if (f && bias && b.x && b.y && b.dx && b.dw && b.db &&
      K->conv2d_create(&b.p, f, bias, &b.w, NULL) == DD_OK &&
      K->conv2d_prepare(b.w, &b.s, DD_CONV_FORWARD_RELU | DD_CONV_BACKWARD_DATA, NULL, pool, NULL) == DD_OK) {
    double flop = 2.0 * (double)b.s.out_h * b.s.out_w * nf;
    double tf = best_ms(&b, OP_FWD), td = best_ms(&b, OP_BWD_DATA), tw = best_ms(&b, OP_BWD_FILTER);
    printf("| %-9s | %-26s | %8.2f | %7.1f | %8.2f | %7.1f | %8.2f | %7.1f | %5.2f |\n", K->name,
           sh->name, tf, flop / tf * 1e-6, td, flop / td * 1e-6, tw, flop / tw * 1e-6, td / tf);
    fflush(stdout);
    K->conv2d_destroy(b.w);
  }
  dd_aligned_free(f), dd_aligned_free(bias), dd_aligned_free(b.x), dd_aligned_free(b.y);
  dd_aligned_free(b.dx), dd_aligned_free(b.dw), dd_aligned_free(b.db);
}

static void bench_gemm(const dd_kernels *K, int n, dd_threadpool *pool) {
  test_rng rng;
  test_rng_seed(&rng, 6);
  size_t nn = (size_t)n * n;
  float *a = rand_buf(nn, &rng), *b = rand_buf(nn, &rng), *c = rand_buf(nn, &rng);
  if (a && b && c) {
    K->gemm(0, 0, n, n, n, a, n, b, n, 0.0f, c, n, pool);
    double best = 1e30, spent = 0;
    for (int i = 0; i < 50 && (i < 3 || spent < budget_ms); i++) {
      double t0 = now_ms();
      K->gemm(0, 0, n, n, n, a, n, b, n, 0.0f, c, n, pool);
      double t = now_ms() - t0;
      spent += t;
      if (t < best) best = t;
    }
    printf("| %-9s | gemm %dx%dx%d (incl. B packing) | %8.2f ms | %7.1f GFLOP/s |\n", K->name, n, n,
           n, best, 2.0 * n * (double)nn / best * 1e-6);
  }
  dd_aligned_free(a), dd_aligned_free(b), dd_aligned_free(c);
}

static void print_load(const char *when) {
  FILE *f = fopen("/proc/loadavg", "r");
  char buf[128] = "?";
  if (f) {
    if (!fgets(buf, sizeof buf, f)) strcpy(buf, "?");
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = 0;
  printf("# load average %s: %s\n", when, buf);
}

int main(void) {
  const char *t = getenv("DD_BENCH_THREADS");
  int threads = t ? atoi(t) : 1;
  const char *sec = getenv("DD_BENCH_SECONDS");
  if (sec) budget_ms = atof(sec) * 1000.0;
  const char *clk = getenv("DD_BENCH_CLOCK");
  use_cpu_clock = clk && strcmp(clk, "cpu") == 0;
  dd_threadpool *pool = dd_threadpool_create(threads);
  print_load("before");
  printf("# threads %d, simd128 igemm micro-kernel %s, best of >=3 runs after warm-up, %s time\n",
         dd_threadpool_size(pool), dd_igemm_select()->name, use_cpu_clock ? "thread CPU" : "wall");
  printf("| backend   | shape                      | fwd ms   | GFLOP/s | dgrad ms | GFLOP/s | wgrad ms | GFLOP/s | dgrad/fwd |\n");
  printf("|-----------|----------------------------|----------|---------|----------|---------|----------|---------|-------|\n");
  const dd_kernels *backends[2] = {dd_kernels_simd128(), dd_kernels_xnnpack()};
  for (int i = 0; i < NUM_SHAPES; i++)
    for (int k = 0; k < 2; k++)
      if (backends[k]) bench_shape(backends[k], &shapes[i], pool);
  bench_shape(dd_kernels_reference(), &shapes[4], pool);
  for (int k = 0; k < 2; k++)
    if (backends[k]) bench_gemm(backends[k], 512, pool);
  print_load("after");
  dd_threadpool_destroy(pool);
  return 0;
}
