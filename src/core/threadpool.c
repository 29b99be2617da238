/* threadpool.c — dd_pool (the public, refcounted set of threads), the
 * dd_threadpool handles models and nets hold on one, and dd_parallel_for.
 * With DD_THREADS (native pthreads, or wasm built with -pthread) a fixed
 * pool of workers splits the range; otherwise everything runs inline on the
 * calling thread. */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"

/* A sanity cap for native builds; the wasm threaded build passes the number of
   workers Emscripten pre-spawns (PTHREAD_POOL_SIZE). */
#ifndef DD_MAX_WORKER_THREADS
#define DD_MAX_WORKER_THREADS 255
#endif

int dd_max_threads(void) {
#ifdef DD_THREADS
  return DD_MAX_WORKER_THREADS + 1; /* the calling thread works too */
#else
  return 1;
#endif
}

static int cpu_count(void) {
#if defined(_SC_NPROCESSORS_ONLN)
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)(n < 4096 ? n : 4096) : 1;
#else
  return 1;
#endif
}

static int clamp_threads(int num_threads) {
  int n = num_threads <= 0 ? cpu_count() : num_threads;
  return n < dd_max_threads() ? n : dd_max_threads();
}

/* The handle a model or net holds: a reference on the pool, and the most
   threads its jobs use. */
struct dd_threadpool {
  dd_pool *pool;
  int size;
};

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
   depend on who runs a chunk: items are independent. The caller never waits for a worker that has not
   started: when the caller has claimed the last chunk it closes the job, and waits only for the workers that
   entered it before (and so may hold a chunk); a worker that wakes after the close leaves at once. On a busy
   machine a worker may not run for milliseconds, and a small job (the atlas's 80 px tiles: tens of
   microseconds) is then done by the caller alone instead of waiting a time slice for it. Between jobs the threads spin for up to DD_SPIN_NS before
   blocking on a condition variable, so the back-to-back parallel regions of a
   gradient step do not pay a futex wake-up each (in wasm, Atomics.wait /
   notify through the JS runtime). */
#ifndef DD_CHUNKS_PER_THREAD
#define DD_CHUNKS_PER_THREAD 4
#endif
#ifndef DD_SPIN_NS
#define DD_SPIN_NS 200000
#endif

typedef void (*enter_fn)(void);

struct dd_pool {
  atomic_int refs;
  int size; /* workers + the calling thread */
  pthread_mutex_t job_mu; /* one job at a time, whoever calls */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t work_cv, done_cv;
  pthread_cond_t idle_cv; /* workers the current job does not use wait here, without spinning */
  int last_active;        /* threads of the previous job (caller only, under job_mu) */
  /* the current job: written by the caller before `word` is published */
  dd_range_fn fn;     /* one of fn, fn_t is set */
  dd_range_fn_t fn_t;
  void *ctx;
  size_t n, chunks;
  struct dd_queue *queues; /* per thread */
  /* (job number << 16) | CLOSED | threads the job uses: published last, so a
     worker reads which job and whether it takes part in one load. */
  _Atomic uint64_t word;
  atomic_int inflight;     /* workers inside a job (entered before it closed, or about to leave) */
  atomic_int sleepers;     /* workers blocked (or about to block) on work_cv */
  atomic_int idlers;       /* workers blocked (or about to block) on idle_cv */
  atomic_int waiting;      /* the caller is blocked (or about to block) on done_cv */
  atomic_int stop;
  _Atomic(enter_fn) enter; /* dd_pool_set_enter_hook (tests); read by late workers too */
};

/* The chunks [next, end) a thread owns; one cache line each. */
typedef struct dd_queue {
  _Alignas(64) atomic_size_t next;
  size_t end;
} dd_queue;

#define JOB_CLOSED ((uint64_t)1 << 15) /* every chunk is claimed: workers that come now leave */
#define JOB_ACTIVE(w) ((int)((w) & 0x7fff))

typedef struct worker_arg {
  dd_pool *pool;
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

static void drain(dd_pool *p, dd_queue *q, int self) {
  const size_t n = p->n, chunks = p->chunks;
  for (;;) {
    /* acq_rel: whoever finds a queue empty has seen the claims that emptied it, and so the claimants' entry
       into `inflight` before them (run_job's wait counts them). */
    size_t k = atomic_fetch_add_explicit(&q->next, 1, memory_order_acq_rel);
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
static void run_chunks(dd_pool *p, int self, int active) {
  for (int i = 0; i < active; i++) drain(p, &p->queues[(self + i) % active], self);
}

/* Spins until the job number in *v differs from `job` or DD_SPIN_NS pass; returns the last value read. */
static uint64_t spin_while_job(_Atomic uint64_t *v, uint64_t job) {
  uint64_t cur = atomic_load_explicit(v, memory_order_acquire);
  if ((cur >> 16) != job) return cur;
  uint64_t t0 = mono_ns();
  for (unsigned i = 1;; i++) {
    cpu_relax();
    cur = atomic_load_explicit(v, memory_order_acquire);
    if ((cur >> 16) != job) return cur;
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

/* A worker that sees a job it takes no part in (its index >= the job's
   thread count) blocks on idle_cv, without spinning, until a job uses it: the
   first such job uses more threads than the one before it (which did not use
   this worker), so the caller wakes idle workers only when the count grows.
   A worker that takes part enters `inflight`, then checks that the job is
   still open (both seq_cst: either the caller's wait sees it or it sees the
   close), so a worker inside a job always reads that job's fields: the next
   one is not published before `inflight` falls to 0. */
static void *worker_main(void *arg) {
  worker_arg *wa = (worker_arg *)arg;
  dd_pool *p = wa->pool;
  const int self = wa->index;
  free(wa);
  uint64_t seen = 0; /* the last job number this worker looked at */
  for (;;) {
    uint64_t g = spin_while_job(&p->word, seen);
    if ((g >> 16) == seen) {
      pthread_mutex_lock(&p->mu);
      atomic_fetch_add(&p->sleepers, 1);
      while (!atomic_load(&p->stop) && ((g = atomic_load(&p->word)) >> 16) == seen)
        pthread_cond_wait(&p->work_cv, &p->mu);
      atomic_fetch_sub(&p->sleepers, 1);
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) return NULL;
    if (JOB_ACTIVE(g) <= self) {
      pthread_mutex_lock(&p->mu);
      atomic_fetch_add(&p->idlers, 1);
      while (!atomic_load(&p->stop) && JOB_ACTIVE(g = atomic_load(&p->word)) <= self)
        pthread_cond_wait(&p->idle_cv, &p->mu);
      atomic_fetch_sub(&p->idlers, 1);
      pthread_mutex_unlock(&p->mu);
      if (atomic_load(&p->stop)) return NULL;
    }
    seen = g >> 16;
    enter_fn enter = atomic_load(&p->enter);
    if (enter) enter();
    atomic_fetch_add(&p->inflight, 1);
    const uint64_t now = atomic_load(&p->word);
    if ((now >> 16) == seen && !(now & JOB_CLOSED)) run_chunks(p, self, JOB_ACTIVE(now));
    if (atomic_fetch_sub(&p->inflight, 1) == 1 && atomic_load(&p->waiting)) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done_cv);
      pthread_mutex_unlock(&p->mu);
    }
  }
}

static void pool_destroy(dd_pool *p);

/* A pool of num_threads (already clamped, >= 1) threads; fewer when the
   platform starts fewer. */
static dd_pool *pool_create(int num_threads) {
  dd_pool *p = (dd_pool *)calloc(1, sizeof *p);
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
  atomic_init(&p->refs, 1);
  atomic_init(&p->word, 0);
  atomic_init(&p->inflight, 0);
  atomic_init(&p->sleepers, 0);
  atomic_init(&p->idlers, 0);
  atomic_init(&p->waiting, 0);
  atomic_init(&p->stop, 0);
  atomic_init(&p->enter, NULL);
  pthread_mutex_init(&p->job_mu, NULL);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  pthread_cond_init(&p->idle_cv, NULL);
  for (int i = 1; i < num_threads; i++) {
    worker_arg *wa = (worker_arg *)malloc(sizeof *wa);
    if (!wa || pthread_create(&p->threads[i], NULL, worker_main, wa ? (wa->pool = p, wa->index = i, wa) : NULL) != 0) {
      free(wa);
      p->size = i; /* run with the workers we got (wasm: EAGAIN once Emscripten's workers are taken) */
      break;
    }
  }
  return p;
}

static void pool_destroy(dd_pool *p) {
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, 1);
  pthread_cond_broadcast(&p->work_cv);
  pthread_cond_broadcast(&p->idle_cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i < p->size; i++) pthread_join(p->threads[i], NULL);
  pthread_mutex_destroy(&p->job_mu);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  pthread_cond_destroy(&p->idle_cv);
  free(p->threads);
  dd_aligned_free(p->queues);
  free(p);
}

static void run_job(dd_pool *p, int active, size_t n, dd_range_fn fn, dd_range_fn_t fn_t, void *ctx) {
  pthread_mutex_lock(&p->job_mu);
  size_t chunks = (size_t)active * DD_CHUNKS_PER_THREAD;
  if (chunks > n) chunks = n;
  p->fn = fn;
  p->fn_t = fn_t;
  p->ctx = ctx;
  p->n = n;
  p->chunks = chunks;
  for (int t = 0; t < active; t++) {
    atomic_store_explicit(&p->queues[t].next, chunks * (size_t)t / (size_t)active, memory_order_relaxed);
    p->queues[t].end = chunks * (size_t)(t + 1) / (size_t)active;
  }
  uint64_t job = (atomic_load_explicit(&p->word, memory_order_relaxed) >> 16) + 1;
  atomic_store(&p->word, (job << 16) | (uint64_t)active); /* publishes the job (seq_cst: pairs with sleepers) */
  const int wake_idle = active > p->last_active && atomic_load(&p->idlers) > 0;
  p->last_active = active;
  if (atomic_load(&p->sleepers) > 0 || wake_idle) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->work_cv);
    if (wake_idle) pthread_cond_broadcast(&p->idle_cv);
    pthread_mutex_unlock(&p->mu);
  }
  run_chunks(p, 0, active); /* returns when every chunk is claimed (not necessarily finished) */
  atomic_store(&p->word, (job << 16) | JOB_CLOSED | (uint64_t)active);
  if (spin_while_positive(&p->inflight) > 0) { /* the workers that entered: their chunks */
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->waiting, 1);
    while (atomic_load(&p->inflight) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
    atomic_store(&p->waiting, 0);
    pthread_mutex_unlock(&p->mu);
  }
  atomic_thread_fence(memory_order_acquire);
  pthread_mutex_unlock(&p->job_mu);
}

void dd_parallel_for(dd_threadpool *p, size_t n, dd_range_fn fn, void *ctx) {
  if (n == 0) return;
  if (!p || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  run_job(p->pool, p->size, n, fn, NULL, ctx);
}

void dd_parallel_for_t(dd_threadpool *p, size_t n, dd_range_fn_t fn, void *ctx) {
  if (n == 0) return;
  if (!p || n == 1) {
    fn(ctx, 0, n, 0);
    return;
  }
  run_job(p->pool, p->size, n, NULL, fn, ctx);
}

void dd_pool_set_enter_hook(dd_pool *pool, void (*enter)(void)) { atomic_store(&pool->enter, enter); }

#else /* no threads */

void dd_pool_set_enter_hook(dd_pool *pool, void (*enter)(void)) { (void)pool, (void)enter; }

struct dd_pool {
  atomic_int refs;
  int size;
};

static dd_pool *pool_create(int num_threads) {
  (void)num_threads;
  dd_pool *p = (dd_pool *)calloc(1, sizeof *p);
  if (!p) return NULL;
  atomic_init(&p->refs, 1);
  p->size = 1;
  return p;
}
static void pool_destroy(dd_pool *p) { free(p); }

void dd_parallel_for(dd_threadpool *p, size_t n, dd_range_fn fn, void *ctx) {
  (void)p;
  if (n) fn(ctx, 0, n);
}
void dd_parallel_for_t(dd_threadpool *p, size_t n, dd_range_fn_t fn, void *ctx) {
  (void)p;
  if (n) fn(ctx, 0, n, 0);
}
#endif

/* ---- the public pool and the handles (both builds) ------------------------ */

static void pool_release(dd_pool *p) {
  if (p && atomic_fetch_sub(&p->refs, 1) == 1) pool_destroy(p);
}

dd_status dd_pool_create(int num_threads, dd_pool **out, dd_error *err) {
  if (!out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_pool_create: NULL argument");
  dd_pool *p = pool_create(clamp_threads(num_threads));
  if (!p) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "dd_pool_create: out of memory");
  *out = p;
  return DD_OK;
}

int dd_pool_threads(const dd_pool *p) { return p ? p->size : 1; }

void dd_pool_free(dd_pool *p) { pool_release(p); }

dd_threadpool *dd_threadpool_open(dd_pool *pool, int num_threads) {
  int n;
  if (pool) {
    n = num_threads <= 0 || num_threads > pool->size ? pool->size : num_threads;
    if (n <= 1) return NULL;
    atomic_fetch_add(&pool->refs, 1);
  } else {
    n = clamp_threads(num_threads);
    if (n <= 1 || !(pool = pool_create(n))) return NULL;
    if (pool->size <= 1) {
      pool_release(pool);
      return NULL;
    }
    n = pool->size;
  }
  dd_threadpool *h = (dd_threadpool *)malloc(sizeof *h);
  if (!h) {
    pool_release(pool);
    return NULL;
  }
  h->pool = pool;
  h->size = n;
  return h;
}

dd_threadpool *dd_threadpool_create(int num_threads) { return dd_threadpool_open(NULL, num_threads); }

void dd_threadpool_destroy(dd_threadpool *h) {
  if (!h) return;
  pool_release(h->pool);
  free(h);
}

int dd_threadpool_size(const dd_threadpool *h) { return h ? h->size : 1; }
