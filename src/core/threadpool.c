/* threadpool.c — dd_parallel_for. With DD_THREADS (native pthreads, or wasm
 * built with -pthread) a fixed pool of workers splits the range; otherwise
 * everything runs inline on the calling thread. */
#include <stdlib.h>

#include "core.h"

#ifdef DD_THREADS
#include <pthread.h>

struct dd_threadpool {
  int size; /* workers + the calling thread */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  /* the current job */
  dd_range_fn fn;
  void *ctx;
  size_t n;
  unsigned generation;
  int pending; /* workers that have not finished the current job */
  int stop;
};

typedef struct worker_arg {
  dd_threadpool *pool;
  int index;
} worker_arg;

static void run_share(dd_threadpool *p, int index, dd_range_fn fn, void *ctx, size_t n) {
  size_t begin = n * (size_t)index / (size_t)p->size;
  size_t end = n * (size_t)(index + 1) / (size_t)p->size;
  if (begin < end) fn(ctx, begin, end);
}

static void *worker_main(void *arg) {
  worker_arg *wa = (worker_arg *)arg;
  dd_threadpool *p = wa->pool;
  int index = wa->index;
  free(wa);
  unsigned seen = 0;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->generation == seen) pthread_cond_wait(&p->work_cv, &p->mu);
    if (p->stop) {
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    seen = p->generation;
    dd_range_fn fn = p->fn;
    void *ctx = p->ctx;
    size_t n = p->n;
    pthread_mutex_unlock(&p->mu);
    run_share(p, index, fn, ctx, n);
    pthread_mutex_lock(&p->mu);
    if (--p->pending == 0) pthread_cond_signal(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
  }
}

dd_threadpool *dd_threadpool_create(int num_threads) {
  if (num_threads <= 1) return NULL;
  dd_threadpool *p = (dd_threadpool *)calloc(1, sizeof *p);
  if (!p) return NULL;
  p->size = num_threads;
  p->threads = (pthread_t *)calloc((size_t)num_threads, sizeof(pthread_t));
  if (!p->threads) {
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  for (int i = 1; i < num_threads; i++) {
    worker_arg *wa = (worker_arg *)malloc(sizeof *wa);
    if (!wa || pthread_create(&p->threads[i], NULL, worker_main, wa ? (wa->pool = p, wa->index = i, wa) : NULL) != 0) {
      free(wa);
      p->size = i; /* run with the workers we got */
      break;
    }
  }
  if (p->size <= 1) {
    dd_threadpool_destroy(p);
    return NULL;
  }
  return p;
}

void dd_threadpool_destroy(dd_threadpool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i < p->size; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  free(p->threads);
  free(p);
}

int dd_threadpool_size(const dd_threadpool *p) { return p ? p->size : 1; }

void dd_parallel_for(dd_threadpool *p, size_t n, dd_range_fn fn, void *ctx) {
  if (n == 0) return;
  if (!p || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  p->pending = p->size - 1;
  p->generation++;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  run_share(p, 0, fn, ctx, n);
  pthread_mutex_lock(&p->mu);
  while (p->pending > 0) pthread_cond_wait(&p->done_cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

#else /* no threads */

dd_threadpool *dd_threadpool_create(int num_threads) {
  (void)num_threads;
  return NULL;
}
void dd_threadpool_destroy(dd_threadpool *p) { (void)p; }
int dd_threadpool_size(const dd_threadpool *p) {
  (void)p;
  return 1;
}
void dd_parallel_for(dd_threadpool *p, size_t n, dd_range_fn fn, void *ctx) {
  (void)p;
  if (n) fn(ctx, 0, n);
}
#endif
