/* instance_pool.c — the one thread pool of a wasm instance.
 *
 * The C API keeps no process-wide state; a wasm instance is one process of
 * its own (own memory, own pthread workers), so the bindings hold its pool
 * here. One pool per instance means the instance never asks for more threads
 * than Emscripten pre-spawned (PTHREAD_POOL_SIZE): two models and a trainer
 * share the same workers instead of each starting its own. Jobs on the pool
 * are serialised (threadpool.c); JS calls come from one thread anyway. */
#include <emscripten.h>

#include "instance_pool.h"

static dd_pool *instance_pool; /* never freed: it lives as long as the instance */

dd_pool *ddw_instance_pool(int threads) {
  if (threads <= 1 || dd_max_threads() <= 1) return NULL;
  if (!instance_pool && dd_pool_create(threads, &instance_pool, NULL) != DD_OK) instance_pool = NULL;
  return instance_pool;
}

/* The most threads a model can use in this build (1 in the single-threaded one). */
EMSCRIPTEN_KEEPALIVE int ddw_max_threads(void) { return dd_max_threads(); }
/* The instance pool's threads: 0 before the first threaded model or net. */
EMSCRIPTEN_KEEPALIVE int ddw_pool_threads(void) { return instance_pool ? dd_pool_threads(instance_pool) : 0; }
