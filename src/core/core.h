/* core.h — internal foundations: errors, aligned memory, tensors, arena, rng,
 * and the parallel-for seam. Everything below the public API includes this. */
#ifndef DD_CORE_H
#define DD_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "deepdream.h"

#if defined(__GNUC__)
#define DD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DD_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define DD_PRINTF(f, a)
#define DD_UNLIKELY(x) (x)
#endif

/* dd_fail (set a dd_error and return its status) is public: include/deepdream.h. */

/* 64-byte aligned allocations; NULL on failure or size 0. */
void *dd_aligned_alloc(size_t size);
void *dd_aligned_calloc(size_t size);
void dd_aligned_free(void *ptr);

/* Overflow-checked size arithmetic: return 0 on overflow (*out untouched),
   else 1. size_t is 32 bits in wasm32: every size product and sum of sizes
   computed from untrusted numbers goes through these. */
static inline int dd_mul_size(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *out = a * b;
  return 1;
}
static inline int dd_add_size(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a) return 0;
  *out = a + b;
  return 1;
}
/* a * b for a, b >= 0; 0 when it exceeds INT64_MAX. */
static inline int dd_mul_i64(int64_t a, int64_t b, int64_t *out) {
  if (a < 0 || b < 0 || (a != 0 && b > INT64_MAX / a)) return 0;
  *out = a * b;
  return 1;
}

/* ---- tensors: float32, NHWC, at most rank 4 -------------------------------- */
typedef struct dd_shape {
  int n, h, w, c;
} dd_shape;

/* Elements of a shape: 1 and *out set, or 0 when a dimension is negative or
   the product overflows size_t. */
static inline int dd_shape_count_checked(dd_shape s, size_t *out) {
  size_t c = 1;
  const int d[4] = {s.n, s.h, s.w, s.c};
  for (int j = 0; j < 4; j++)
    if (d[j] < 0 || !dd_mul_size(c, (size_t)d[j], &c)) return 0;
  *out = c;
  return 1;
}
/* Elements of a shape the planner has checked; SIZE_MAX (never a wrapped,
   too small count) for a shape that would overflow. */
static inline size_t dd_shape_count(dd_shape s) {
  size_t c;
  return dd_shape_count_checked(s, &c) ? c : SIZE_MAX;
}
static inline dd_shape dd_shape4(int n, int h, int w, int c) {
  dd_shape s = {n, h, w, c};
  return s;
}
static inline int dd_shape_equal(dd_shape a, dd_shape b) {
  return a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c;
}

typedef struct dd_tensor {
  dd_shape shape;
  float *data;
} dd_tensor;

/* ---- arena: a growable bump allocator ------------------------------------
   Reserve sizes during planning with dd_arena_reserve(), then dd_arena_commit()
   allocates one block; planning again with sizes that fit reuses it, so a run
   does no allocation after warm-up. Offsets are 64-byte aligned. */
typedef struct dd_arena {
  unsigned char *base;
  size_t capacity; /* bytes allocated */
  size_t used;     /* bytes reserved in the current plan (SIZE_MAX once wanted exceeds it) */
  size_t peak;     /* largest `used` ever committed */
  uint64_t wanted; /* bytes reserved in the current plan, counted in 64 bits (never wraps) */
  size_t limit;    /* most bytes commit may allocate; 0 = the address space (SIZE_MAX) */
} dd_arena;

/* Returns an offset. Reservations that exceed the address space do not wrap:
   the offsets are then meaningless and dd_arena_commit fails. */
size_t dd_arena_reserve(dd_arena *a, size_t bytes);
void dd_arena_reset(dd_arena *a);                   /* forget reservations, keep memory and limit */
/* Allocates the reserved bytes; DD_ERR_OUT_OF_MEMORY, with the bytes the plan
   needs in the message, when they exceed the limit or the allocation fails. */
dd_status dd_arena_commit(dd_arena *a, dd_error *err);
static inline float *dd_arena_ptr(const dd_arena *a, size_t offset) {
  return (float *)(void *)(a->base + offset);
}
void dd_arena_free(dd_arena *a);

/* ---- rng: xoshiro256**, seeded by splitmix64; 32 bytes of state ------------ */
typedef struct dd_rng {
  uint64_t s[4];
} dd_rng;

void dd_rng_seed(dd_rng *r, uint64_t seed);
uint64_t dd_rng_next(dd_rng *r);
/* Uniform integer in [lo, hi], both inclusive (Python's random.randint). */
int64_t dd_rng_randint(dd_rng *r, int64_t lo, int64_t hi);
/* Uniform float in [0, 1). */
float dd_rng_uniform(dd_rng *r);
/* Standard normal (Box-Muller). */
float dd_rng_normal(dd_rng *r);

/* ---- parallel for ----------------------------------------------------------
   Kernels split their work into `n` independent items and call
   dd_parallel_for; each call of fn gets a contiguous [begin, end) range.
   A NULL pool, or a pool of one thread, runs fn(ctx, 0, n) inline.

   The threads live in a dd_pool (public, refcounted: deepdream.h). A
   dd_threadpool is one user's handle on a dd_pool (a model's executor, a
   net): it holds a reference and runs every job on at most its own thread
   count, so two models may share one pool with different counts. Jobs on one
   dd_pool are serialised by a mutex: two handles may be used from two threads
   at once (one waits), but fn must not call dd_parallel_for itself. */
typedef struct dd_pool dd_pool;
typedef struct dd_threadpool dd_threadpool;
typedef void (*dd_range_fn)(void *ctx, size_t begin, size_t end);

/* dd_max_threads() is public (include/deepdream.h). The wasm threaded build
   can start only the workers Emscripten pre-spawned (PTHREAD_POOL_SIZE):
   creating more from a blocking thread deadlocks, so the build passes
   DD_MAX_WORKER_THREADS. */
/* A handle on `pool` using at most num_threads of its threads (<= 0: all).
   With pool NULL the handle owns a new pool of num_threads (<= 0: one per
   core). NULL means one thread: inline (also if memory or threads run out). */
dd_threadpool *dd_threadpool_open(dd_pool *pool, int num_threads);
dd_threadpool *dd_threadpool_create(int num_threads); /* dd_threadpool_open(NULL, num_threads) */
void dd_threadpool_destroy(dd_threadpool *pool);      /* drops the handle's pool reference */
int dd_threadpool_size(const dd_threadpool *pool);    /* 1 for NULL */
void dd_parallel_for(dd_threadpool *pool, size_t n, dd_range_fn fn, void *ctx);
/* The same, telling fn which thread runs the range: 0 <= thread <
   dd_threadpool_size(pool), and no two ranges run at once on one thread, so
   fn may use per-thread scratch indexed by it. */
typedef void (*dd_range_fn_t)(void *ctx, size_t begin, size_t end, int thread);
void dd_parallel_for_t(dd_threadpool *pool, size_t n, dd_range_fn_t fn, void *ctx);
/* A job never waits for a worker that has not started it: the caller runs
   the chunks no worker claimed and waits only for chunks under way (on a busy
   machine a worker may not run for a time slice; a small job is then the
   caller's alone). For tests: enter() runs on each worker as it is about to
   enter a job (NULL: nothing). */
void dd_pool_set_enter_hook(dd_pool *pool, void (*enter)(void));

/* FNV-1a 64-bit, for fingerprints. */
uint64_t dd_fnv1a64(uint64_t h, const void *data, size_t len);
#define DD_FNV1A64_INIT 0xcbf29ce484222325ULL

#endif /* DD_CORE_H */
