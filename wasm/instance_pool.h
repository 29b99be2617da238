/* instance_pool.h — the one thread pool of a wasm instance (instance_pool.c). */
#ifndef DDW_INSTANCE_POOL_H
#define DDW_INSTANCE_POOL_H

#include "deepdream.h"

/* The pool every threaded model, net and benchmark of this instance runs on,
   or NULL when threads <= 1. Started by the first call with threads > 1,
   sized to that count (at most dd_max_threads: the workers Emscripten
   pre-spawned, plus the caller) and kept for the instance's life; later
   callers share it and run on at most min(their threads, its threads). */
dd_pool *ddw_instance_pool(int threads);

#endif
