/* test_pool.c — the shared dd_pool: handles with their own thread counts,
 * references, and jobs from two threads at once on one pool (serialised). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "deepdream.h"
#include "dream_fixture.h"
#include "testutil.h"

#define N_ITEMS 997
#define N_JOBS 300

typedef struct job_ctx {
  unsigned char seen[N_ITEMS];
  int max_thread;
  atomic_int bad_thread;
} job_ctx;

static void count_items(void *ctx, size_t begin, size_t end, int thread) {
  job_ctx *j = (job_ctx *)ctx;
  if (thread < 0 || thread >= j->max_thread) atomic_store(&j->bad_thread, 1);
  for (size_t i = begin; i < end; i++) j->seen[i]++;
}

typedef struct runner {
  dd_threadpool *h;
  int failures;
} runner;

static void *run_jobs(void *arg) {
  runner *r = (runner *)arg;
  job_ctx *j = (job_ctx *)malloc(sizeof *j);
  for (int k = 0; k < N_JOBS; k++) {
    memset(j->seen, 0, sizeof j->seen);
    j->max_thread = dd_threadpool_size(r->h);
    atomic_init(&j->bad_thread, 0);
    dd_parallel_for_t(r->h, N_ITEMS, count_items, j);
    int ok = !atomic_load(&j->bad_thread);
    for (int i = 0; i < N_ITEMS; i++) ok &= j->seen[i] == 1;
    if (!ok) r->failures++;
  }
  free(j);
  return NULL;
}

/* Handles on one pool of 16 threads (8 and 16 on a 2-core machine are
   oversubscribed on purpose) used from two threads at once: every item of
   every job runs exactly once, on a thread index below the handle's count. */
static void test_two_handles_two_threads(void) {
  for (int threads = 8; threads <= 16; threads += 8) {
    dd_pool *pool = NULL;
    dd_error err;
    CHECK_OK(dd_pool_create(threads, &pool, &err));
    CHECK(dd_pool_threads(pool) == threads);
    runner a = {dd_threadpool_open(pool, 0), 0}, b = {dd_threadpool_open(pool, 3), 0};
    CHECK(dd_threadpool_size(a.h) == threads);
    CHECK(dd_threadpool_size(b.h) == 3);
    dd_pool_free(pool); /* the handles keep it alive */
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, run_jobs, &a) == 0);
    CHECK(pthread_create(&tb, NULL, run_jobs, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECKF(a.failures == 0 && b.failures == 0, "%d threads: %d + %d jobs lost or repeated items", threads, a.failures,
           b.failures);
    /* and one after the other from this thread, interleaved */
    runner c = {a.h, 0};
    run_jobs(&c);
    c.h = b.h;
    run_jobs(&c);
    CHECK(c.failures == 0);
    dd_threadpool_destroy(a.h);
    dd_threadpool_destroy(b.h);
  }
}

static void test_counts(void) {
  dd_pool *pool = NULL;
  CHECK_OK(dd_pool_create(1000000, &pool, NULL));
  CHECK(dd_pool_threads(pool) == dd_max_threads()); /* clamped to what the build can start */
  dd_threadpool *h = dd_threadpool_open(pool, 1);
  CHECK(h == NULL); /* one thread: inline */
  CHECK(dd_threadpool_size(h) == 1);
  dd_pool_free(pool);
  CHECK(dd_pool_create(2, NULL, NULL) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_pool_threads(NULL) == 1);
  dd_pool_free(NULL);
}

/* ---- the public API: two models and a net on one pool -------------------- */

#define IMG 72

static dd_model *fixture_model(uint64_t seed, dd_pool *pool, int threads) {
  size_t len;
  uint8_t *bytes = dream_fixture_seeded(&len, seed);
  dd_model_options o;
  dd_model_options_init(&o);
  o.pool = pool;
  o.num_threads = threads;
  dd_model *m = NULL;
  dd_error err;
  dd_status s = dd_model_load_graphdef(bytes, len, &o, &m, &err);
  CHECKF(s == DD_OK, "load: %s", err.message);
  free(bytes);
  return m;
}

typedef struct grad_job {
  dd_model *m;
  const float *input;
  float *grad; /* 8 gradients, one per layer-and-repeat */
  int failures;
} grad_job;

static void *gradients(void *arg) {
  grad_job *j = (grad_job *)arg;
  for (int k = 0; k < 8; k++) {
    dd_objective o = {NULL, k % 3, NULL, 0};
    if (dd_model_gradient(j->m, j->input, IMG, IMG, &o, j->grad + (size_t)k * IMG * IMG * 3, NULL, NULL) != DD_OK)
      j->failures++;
  }
  return NULL;
}

static void net_steps(dd_net *net, float out[4 * 3]) {
  float x[4 * 64];
  int32_t y[4] = {0, 1, 2, 1};
  for (int i = 0; i < 4 * 64; i++) x[i] = (float)((i * 37) % 11) / 11.0f;
  CHECK_OK(dd_net_add_dense(net, "d1", 512, DD_ACTIVATION_RELU, 1, NULL));
  CHECK_OK(dd_net_add_dense(net, "d2", 3, DD_ACTIVATION_SOFTMAX, 1, NULL));
  CHECK_OK(dd_net_init_params(net, 5, NULL));
  dd_train_options to;
  dd_train_options_init(&to);
  CHECK_OK(dd_net_compile(net, &to, NULL));
  for (int k = 0; k < 3; k++) CHECK_OK(dd_net_train_batch(net, x, y, 4, NULL, 4, NULL, NULL));
  CHECK_OK(dd_net_predict(net, x, 4, 4, out, 12, NULL));
}

/* Models and a net sharing a pool of 8, then 16 threads (one model capped at
   3), used from two threads at once and interleaved with training: the same
   bits as models on one thread. */
static void test_models_share_a_pool(void) {
  const size_t n = (size_t)IMG * IMG * 3;
  float *input = test_alloc(n);
  test_rng r;
  test_rng_seed(&r, 7);
  test_fill(&r, input, n, 0, 255);
  float *want[2], *got[2];
  float net_want[12], net_got[12];
  for (int i = 0; i < 2; i++) {
    want[i] = test_alloc(8 * n);
    got[i] = test_alloc(8 * n);
    dd_model *m = fixture_model(2024 + (uint64_t)i, NULL, 1);
    grad_job j = {m, input, want[i], 0};
    gradients(&j);
    CHECK(j.failures == 0);
    dd_model_free(m);
  }
  dd_net *net1 = NULL;
  const int in_shape[1] = {64};
  CHECK_OK(dd_net_create(1, in_shape, NULL, &net1, NULL));
  net_steps(net1, net_want);
  dd_net_free(net1);
  for (int threads = 8; threads <= 16; threads += 8) {
    dd_pool *pool = NULL;
    CHECK_OK(dd_pool_create(threads, &pool, NULL));
    dd_model *a = fixture_model(2024, pool, 0), *b = fixture_model(2025, pool, 3);
    dd_net_options no;
    dd_net_options_init(&no);
    no.pool = pool;
    no.num_threads = 0;
    dd_net *net = NULL;
    CHECK_OK(dd_net_create(1, in_shape, &no, &net, NULL));
    dd_pool_free(pool); /* the models and the net hold it */
    grad_job ja = {a, input, got[0], 0}, jb = {b, input, got[1], 0};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, gradients, &ja) == 0);
    CHECK(pthread_create(&tb, NULL, gradients, &jb) == 0);
    net_steps(net, net_got); /* a third user on this thread meanwhile */
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(ja.failures == 0 && jb.failures == 0);
    for (int i = 0; i < 2; i++)
      CHECKF(memcmp(got[i], want[i], 8 * n * sizeof(float)) == 0, "%d threads: model %d differs from 1 thread", threads, i);
    CHECKF(memcmp(net_got, net_want, sizeof net_want) == 0, "%d threads: the net differs from 1 thread", threads);
    dd_model_free(a);
    dd_net_free(net);
    dd_model_free(b); /* the last holder: the threads stop here */
  }
  for (int i = 0; i < 2; i++) {
    free(want[i]);
    free(got[i]);
  }
  free(input);
}

/* A worker that has not started a job does not hold the caller: here the
   pool's one worker is kept from entering (as a busy machine may keep it off
   a core for a time slice) until the job has returned; the caller alone runs
   every item, at once. */
static atomic_int worker_released;
static void hold_worker(void) {
  for (int i = 0; i < 3000 && !atomic_load(&worker_released); i++) usleep(1000); /* at most 3 s */
}
static void add_one(void *ctx, size_t begin, size_t end) {
  int *v = (int *)ctx;
  for (size_t i = begin; i < end; i++) v[i]++;
}
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static void test_late_worker_does_not_hold_the_caller(void) {
  dd_pool *pool = NULL;
  dd_error err;
  CHECK_OK(dd_pool_create(2, &pool, &err));
  dd_threadpool *h = dd_threadpool_open(pool, 0);
  if (dd_threadpool_size(h) < 2) { /* no threads in this build */
    dd_threadpool_destroy(h);
    dd_pool_free(pool);
    return;
  }
  int v[64];
  for (int round = 0; round < 3; round++) {
    memset(v, 0, sizeof v);
    atomic_store(&worker_released, 0);
    dd_pool_set_enter_hook(pool, hold_worker);
    double t0 = now_s();
    dd_parallel_for(h, 64, add_one, v);
    double took = now_s() - t0;
    atomic_store(&worker_released, 1);
    int ok = 1;
    for (int i = 0; i < 64; i++) ok &= v[i] == 1;
    CHECKF(ok, "round %d: an item ran %s", round, "not exactly once");
    CHECKF(took < 1.0, "round %d: the job waited %.2f s for a worker that had not started it", round, took);
    /* the held worker enters late, finds the job closed, and the next jobs run normally */
    dd_pool_set_enter_hook(pool, NULL);
    for (int k = 0; k < 100; k++) dd_parallel_for(h, 64, add_one, v);
    ok = 1;
    for (int i = 0; i < 64; i++) ok &= v[i] == 101;
    CHECK(ok);
  }
  dd_threadpool_destroy(h);
  dd_pool_free(pool);
}

int main(void) {
  TEST_RUN(test_models_share_a_pool);
  TEST_RUN(test_late_worker_does_not_hold_the_caller);
  TEST_RUN(test_two_handles_two_threads);
  TEST_RUN(test_counts);
  return test_summary();
}
