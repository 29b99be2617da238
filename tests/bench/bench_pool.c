/* bench_pool.c — ms per call of max pooling forward / backward and LRN
 * forward / backward on Inception 5h's shapes at the tutorial's 400x400 tile,
 * for every backend compiled in (best of several runs after a warm-up).
 * A benchmark, not a test: it prints and asserts nothing.
 *
 * Environment: DD_BENCH_THREADS (default 1), DD_BENCH_SECONDS (budget per
 * measurement, default 0.3), DD_BENCH_CLOCK=cpu (calling thread's CPU time;
 * steadier on a shared machine, meaningful with 1 thread only),
 * DD_BENCH_BACKEND (only this backend, e.g. simd128). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "testutil.h"

typedef struct pshape {
  const char *name;
  int hw, c, k, s;
} pshape;

static const pshape pools[] = {
    {"maxpool0 3x3/2 200x200x64", 200, 64, 3, 2},   {"maxpool1 3x3/2 100x100x192", 100, 192, 3, 2},
    {"mixed3b_pool 3x3/1 50x50x256", 50, 256, 3, 1}, {"maxpool4 3x3/2 50x50x480", 50, 480, 3, 2},
    {"mixed4c_pool 3x3/1 25x25x512", 25, 512, 3, 1}, {"maxpool10 3x3/2 25x25x832", 25, 832, 3, 2},
    {"mixed5b_pool 3x3/1 13x13x832", 13, 832, 3, 1},
};

static double budget_ms = 300.0;
static int use_cpu_clock;

static double now_ms(void) {
  if (!use_cpu_clock) return test_now_ms();
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct pool_case {
  const dd_kernels *K;
  dd_window win;
  dd_window_shape s;
  int c;
  dd_lrn_params lrn;
  float *x, *y, *g, *dx;
  dd_threadpool *pool;
} pool_case;

enum { MAX_FWD, MAX_BWD, LRN_FWD, LRN_BWD };

static void run(pool_case *b, int op) {
  size_t px = (size_t)b->s.in_h * b->s.in_w;
  switch (op) {
    case MAX_FWD: b->K->max_pool_forward(&b->win, &b->s, b->c, b->x, b->y, b->pool); break;
    case MAX_BWD: b->K->max_pool_backward(&b->win, &b->s, b->c, b->x, b->g, NULL, b->dx, b->pool); break;
    case LRN_FWD: b->K->lrn_forward(&b->lrn, px, b->c, b->x, b->dx, b->pool); break;
    default: b->K->lrn_backward(&b->lrn, px, b->c, b->x, b->x, NULL, b->dx, b->pool); break;
  }
}

static double best_ms(pool_case *b, int op) {
  double spent = 0, best = 1e30;
  for (int i = 0; i < 2; i++) run(b, op);
  for (int i = 0; i < 3 || spent < budget_ms; i++) {
    double t0 = now_ms();
    run(b, op);
    double t = now_ms() - t0;
    spent += t;
    if (t < best) best = t;
    if (i > 2000) break;
  }
  return best;
}

int main(void) {
  const char *env = getenv("DD_BENCH_THREADS");
  int threads = env ? atoi(env) : 1;
  if ((env = getenv("DD_BENCH_SECONDS"))) budget_ms = 1000.0 * atof(env);
  use_cpu_clock = (env = getenv("DD_BENCH_CLOCK")) && strcmp(env, "cpu") == 0;
  const char *only = getenv("DD_BENCH_BACKEND");
  const dd_kernels *backends[3] = {dd_kernels_simd128(), dd_kernels_xnnpack(), dd_kernels_reference()};
  dd_threadpool *pool = dd_threadpool_create(threads);
  printf("bench_pool: %d thread(s), ms per call (best)\n", dd_threadpool_size(pool));
  printf("%-32s %-10s %9s %9s\n", "shape", "backend", "fwd", "bwd");
  test_rng rng;
  test_rng_seed(&rng, 5);
  for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
    const pshape *sh = &pools[i];
    for (int bi = 0; bi < 3; bi++) {
      const dd_kernels *K = backends[bi];
      if (!K || (only && strcmp(only, K->name) != 0)) continue;
      if (bi == 2 && !only && i > 0) continue; /* reference: one shape */
      pool_case b;
      memset(&b, 0, sizeof b);
      b.K = K;
      b.pool = pool;
      b.c = sh->c;
      b.win = (dd_window){sh->k, sh->k, sh->s, sh->s, DD_PADDING_SAME};
      if (dd_window_shape_init(&b.win, 1, sh->hw, sh->hw, &b.s, NULL) != DD_OK) continue;
      size_t nx = (size_t)sh->hw * sh->hw * sh->c, ny = (size_t)b.s.out_h * b.s.out_w * sh->c;
      b.x = test_alloc(nx);
      b.dx = test_alloc(nx);
      b.y = test_alloc(ny);
      b.g = test_alloc(ny);
      test_fill(&rng, b.x, nx, 0.0f, 1.0f);
      test_fill(&rng, b.g, ny, -1.0f, 1.0f);
      double f = best_ms(&b, MAX_FWD), bw = best_ms(&b, MAX_BWD);
      printf("%-32s %-10s %9.3f %9.3f\n", sh->name, K->name, f, bw);
      if (sh->s == 2 && sh->hw >= 100) { /* localresponsenorm0/1: 100x100 pixels of c channels */
        b.lrn = (dd_lrn_params){5, 2.0f, 1e-4f, 0.5f};
        b.s.in_h = b.s.in_w = 100;
        char name[64];
        snprintf(name, sizeof name, "LRN r5 100x100x%d", sh->c);
        f = best_ms(&b, LRN_FWD), bw = best_ms(&b, LRN_BWD);
        printf("%-32s %-10s %9.3f %9.3f\n", name, K->name, f, bw);
      }
      free(b.x), free(b.dx), free(b.y), free(b.g);
    }
  }
  dd_threadpool_destroy(pool);
  return 0;
}
