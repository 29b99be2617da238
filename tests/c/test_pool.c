/* test_pool.c — the shared dd_pool: handles with their own thread counts,
 * references, and jobs from two threads at once on one pool (serialised). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
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

int main(void) {
  TEST_RUN(test_two_handles_two_threads);
  TEST_RUN(test_counts);
  return test_summary();
}
