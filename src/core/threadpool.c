/* threadpool.c — dd_parallel_for. With DD_THREADS (native pthreads, or wasm
 * built with -pthread) a fixed pool of workers splits the range; otherwise
 * everything runs inline on the calling thread. */
#include <stdlib.h>

#include "core.h"

#ifdef DD_THREADS
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* A job is cut into up to DD_CHUNKS_PER_THREAD chunks per thread. Thread t
   (the caller is 0) owns a contiguous run of them, as a static split would
   give it, and claims them in order from its own counter; when its run is
   done it steals from the others' counters. So on an idle machine every
   thread works through its own contiguous share (cache locality from one
   parallel region to the next), while a worker that wakes late, or a core
   taken by another process, costs chunks, not a whole share. Results never
   depend on who runs a chunk: items are independent. Between jobs the threads spin for up to DD_SPIN_NS before
   blocking on a condition variable, so the back-to-back parallel regions of a
   gradient step do not pay a futex wake-up each (in wasm, Atomics.wait /
   notify through the JS runtime). */
#ifndef DD_CHUNKS_PER_THREAD
#define DD_CHUNKS_PER_THREAD 4
#endif
#ifndef DD_SPIN_NS
#define DD_SPIN_NS 200000
#endif

struct dd_threadpool {
  int size; /* workers + the calling thread */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  /* the current job: written by the caller before `generation` is bumped */
  dd_range_fn fn;     /* one of fn, fn_t is set */
  dd_range_fn_t fn_t;
  void *ctx;
  size_t n, chunks;
  struct dd_queue *queues; /* per thread */
  atomic_uint generation;  /* bumped once per job */
  atomic_int pending;      /* workers that have not finished the current job */
  atomic_int sleepers;     /* workers blocked (or about to block) on work_cv */
  atomic_int waiting;      /* the caller is blocked (or about to block) on done_cv */
  atomic_int stop;
};

/* The chunks [next, end) a thread owns; one cache line each. */
typedef struct dd_queue {
  _Alignas(64) atomic_size_t next;
  size_t end;
} dd_queue;

typedef struct worker_arg {
  dd_threadpool *pool;
  int index;
} worker_arg;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void drain(dd_threadpool *p, dd_queue *q, int self) {
  const size_t n = p->n, chunks = p->chunks;
  for (;;) {
    size_t k = atomic_fetch_add_explicit(&q->next, 1, memory_order_relaxed);
    if (k >= q->end) return;
    size_t begin = n * k / chunks, end = n * (k + 1) / chunks;
    if (begin < end) {
      if (p->fn_t)
        p->fn_t(p->ctx, begin, end, self);
      else
        p->fn(p->ctx, begin, end);
    }
  }
}

/* Runs thread `self`'s chunks, then steals the others' until none is left. */
static void run_chunks(dd_threadpool *p, int self) {
  for (int i = 0; i < p->size; i++) drain(p, &p->queues[(self + i) % p->size], self);
}

/* Spins until *v != old or DD_SPIN_NS pass; returns the last value read. */
static unsigned spin_while_equal_u(atomic_uint *v, unsigned old) {
  unsigned cur = atomic_load_explicit(v, memory_order_acquire);
  if (cur != old) return cur;
  uint64_t t0 = mono_ns();
  for (unsigned i = 1;; i++) {
    cpu_relax();
    cur = atomic_load_explicit(v, memory_order_acquire);
    if (cur != old) return cur;
    if ((i & 255) == 0 && mono_ns() - t0 > DD_SPIN_NS) return cur;
  }
}

static int spin_while_positive(atomic_int *v) {
  int cur = atomic_load_explicit(v, memory_order_acquire);
  if (cur <= 0) return cur;
  uint64_t t0 = mono_ns();
  for (unsigned i = 1;; i++) {
    cpu_relax();
    cur = atomic_load_explicit(v, memory_order_acquire);
    if (cur <= 0) return cur;
    if ((i & 255) == 0 && mono_ns() - t0 > DD_SPIN_NS) return cur;
  }
}

static void *worker_main(void *arg) {
  worker_arg *wa = (worker_arg *)arg;
  dd_threadpool *p = wa->pool;
  const int self = wa->index;
  free(wa);
  unsigned seen = 0;
  for (;;) {
    unsigned g = spin_while_equal_u(&p->generation, seen);
    if (g == seen) {
      pthread_mutex_lock(&p->mu);
      atomic_fetch_add(&p->sleepers, 1);
      while (!atomic_load(&p->stop) && (g = atomic_load(&p->generation)) == seen)
        pthread_cond_wait(&p->work_cv, &p->mu);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) return NULL;
    seen = g;
    run_chunks(p, self);
    if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->waiting)) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done_cv);
      pthread_mutex_unlock(&p->mu);
    }
  }
}

dd_threadpool *dd_threadpool_create(int num_threads) {
  if (num_threads <= 1) return NULL;
  dd_threadpool *p = (dd_threadpool *)calloc(1, sizeof *p);
  if (!p) return NULL;
  p->size = num_threads;
  p->threads = (pthread_t *)calloc((size_t)num_threads, sizeof(pthread_t));
  p->queues = (dd_queue *)dd_aligned_calloc((size_t)num_threads * sizeof(dd_queue));
  if (!p->threads || !p->queues) {
    free(p->threads);
    dd_aligned_free(p->queues);
    free(p);
    return NULL;
  }
  for (int i = 0; i < num_threads; i++) atomic_init(&p->queues[i].next, 0);
  atomic_init(&p->generation, 0);
  atomic_init(&p->pending, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->waiting, 0);
  atomic_init(&p->stop, 0);
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
  atomic_store(&p->stop, 1);
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i < p->size; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  free(p->threads);
  dd_aligned_free(p->queues);
  free(p);
}

int dd_threadpool_size(const dd_threadpool *p) { return p ? p->size : 1; }

static void run_job(dd_threadpool *p, size_t n, dd_range_fn fn, dd_range_fn_t fn_t, void *ctx) {
  size_t chunks = (size_t)p->size * DD_CHUNKS_PER_THREAD;
  if (chunks > n) chunks = n;
  p->fn = fn;
  p->fn_t = fn_t;
  p->ctx = ctx;
  p->n = n;
  p->chunks = chunks;
  for (int t = 0; t < p->size; t++) {
    atomic_store_explicit(&p->queues[t].next, chunks * (size_t)t / (size_t)p->size, memory_order_relaxed);
    p->queues[t].end = chunks * (size_t)(t + 1) / (size_t)p->size;
  }
  atomic_store_explicit(&p->pending, p->size - 1, memory_order_relaxed);
  atomic_fetch_add(&p->generation, 1); /* publishes the job (seq_cst: pairs with sleepers) */
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
  }
  run_chunks(p, 0);
  if (spin_while_positive(&p->pending) > 0) {
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->waiting, 1);
    while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
    atomic_store(&p->waiting, 0);
    pthread_mutex_unlock(&p->mu);
  }
  atomic_thread_fence(memory_order_acquire);
}

void dd_parallel_for(dd_threadpool *p, size_t n, dd_range_fn fn, void *ctx) {
  if (n == 0) return;
  if (!p || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  run_job(p, n, fn, NULL, ctx);
}

void dd_parallel_for_t(dd_threadpool *p, size_t n, dd_range_fn_t fn, void *ctx) {
  if (n == 0) return;
  if (!p || n == 1) {
    fn(ctx, 0, n, 0);
    return;
  }
  run_job(p, n, NULL, fn, ctx);
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
void dd_parallel_for_t(dd_threadpool *p, size_t n, dd_range_fn_t fn, void *ctx) {
  (void)p;
  if (n) fn(ctx, 0, n, 0);
}
#endif
