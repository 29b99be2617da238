/* test_sizes.c — size arithmetic that must not wrap (size_t is 32 bits in
 * wasm32): the checked helpers, shape counts, aligned allocation, the
 * arena's 64-bit tally and its cap, memory planning, and a forward plan far
 * beyond a 32-bit address space that must fail with the figure. */
#include <stdlib.h>

#include "api/model_internal.h"
#include "core/core.h"
#include "deepdream.h"
#include "engine/engine.h"
#include "engine/memplan.h"
#include "testutil.h"

static void test_helpers(void) {
  size_t z = 7;
  CHECK(dd_mul_size(SIZE_MAX / 2, 2, &z) && z == SIZE_MAX - 1);
  z = 7;
  CHECK(!dd_mul_size(SIZE_MAX / 2 + 1, 2, &z) && z == 7);
  CHECK(dd_add_size(SIZE_MAX - 1, 1, &z) && z == SIZE_MAX);
  CHECK(!dd_add_size(SIZE_MAX, 1, &z));
  int64_t v = 0;
  CHECK(dd_mul_i64((int64_t)1 << 31, (int64_t)1 << 31, &v) && v == (int64_t)1 << 62);
  CHECK(!dd_mul_i64((int64_t)1 << 32, (int64_t)1 << 31, &v));
  CHECK(!dd_mul_i64(-1, 2, &v));
  /* a shape whose count overflows: never a small wrapped number */
  size_t n = 0;
  dd_shape big = dd_shape4(65536, 65536, 65536, 65536);
  CHECK(!dd_shape_count_checked(big, &n));
  CHECK(dd_shape_count(big) == SIZE_MAX);
  CHECK(!dd_shape_count_checked(dd_shape4(1, -1, 2, 3), &n));
  CHECK(dd_shape_count_checked(dd_shape4(1, 4000, 4000, 3), &n) && n == 48000000u);
  /* the 64-byte rounding of an aligned allocation must not wrap to 0 */
  void *p = dd_aligned_alloc(SIZE_MAX - 10);
  CHECK(p == NULL);
  dd_aligned_free(p);
  p = dd_aligned_calloc(SIZE_MAX - 62);
  CHECK(p == NULL);
  dd_aligned_free(p);
}

static void test_arena(void) {
  dd_arena a;
  memset(&a, 0, sizeof a);
  dd_error err = {0};
  /* reservations that add up past the address space: no wrap, an error */
  dd_arena_reserve(&a, SIZE_MAX / 2);
  dd_arena_reserve(&a, SIZE_MAX / 2);
  dd_arena_reserve(&a, 4096);
  CHECK(a.wanted >= (uint64_t)SIZE_MAX);
  CHECK(a.used == SIZE_MAX || a.used >= SIZE_MAX / 2);
  dd_status s = dd_arena_commit(&a, &err);
  CHECKF(s == DD_ERR_OUT_OF_MEMORY, "commit of a wrapped plan: %s", dd_status_string(s));
  CHECKF(strstr(err.message, "bytes") != NULL, "message: %s", err.message);
  CHECK(a.base == NULL && a.capacity == 0);
  /* a cap: refused with both figures, then a plan that fits commits */
  dd_arena_reset(&a);
  a.limit = 4096;
  dd_arena_reserve(&a, 3000);
  dd_arena_reserve(&a, 1100); /* 3008 + 1152 = 4160 */
  s = dd_arena_commit(&a, &err);
  CHECKF(s == DD_ERR_OUT_OF_MEMORY, "over the cap: %s", dd_status_string(s));
  CHECKF(strstr(err.message, "4160 bytes") && strstr(err.message, "4096 bytes"), "message: %s", err.message);
  dd_arena_reset(&a);
  size_t o1 = dd_arena_reserve(&a, 3000), o2 = dd_arena_reserve(&a, 1000);
  CHECK(o1 == 0 && o2 == 3008);
  CHECK_OK(dd_arena_commit(&a, &err));
  CHECK(a.capacity == 4032 && a.peak == 4032);
  dd_arena_free(&a);
}

static void test_memplan_overflow(void) {
  /* three buffers alive at once whose sizes add up past SIZE_MAX */
  dd_usage_record rec[3];
  int order[3];
  for (int i = 0; i < 3; i++) {
    rec[i].first = 0;
    rec[i].last = 5;
    rec[i].size = SIZE_MAX / 2 - 63;
    rec[i].offset = 0;
  }
  CHECK(dd_memplan_place(rec, 3, order) == SIZE_MAX);
  rec[2].size = 64; /* two halves and a little: fits exactly below SIZE_MAX */
  size_t t = dd_memplan_place(rec, 3, order);
  CHECK(t != SIZE_MAX && t == 2 * (SIZE_MAX / 2 - 63) + 64);
}

/* The figure: a forward plan to mixed5b at 4000x4000 needs about
   8.1 GiB; with the arena capped at a 32-bit address space it must be
   DD_ERR_OUT_OF_MEMORY with the figure (wasm32 wrapped it and ran on 0.1 GiB
   with status 0), and the model must work afterwards. */
static void test_big_forward_capped(void) {
  const char *path = test_shared_path("models/inception5h-standin.pb");
  size_t len = 0;
  unsigned char *bytes = path ? test_read_file(path, &len) : NULL;
  if (!bytes) {
    printf("  SKIP: models/inception5h-standin.pb not found (set DD_SHARED_DIR)\n");
    return;
  }
  dd_model *m = NULL;
  dd_error err = {0};
  dd_model_options o;
  dd_model_options_init(&o);
  o.num_threads = 1;
  CHECK_OK(dd_model_load_graphdef(bytes, len, &o, &m, &err));
  free(bytes);
  if (!m) return;
  m->exec->arena.limit = (size_t)UINT32_MAX; /* what wasm32 can address */
  const int side = 4000;
  float *in = (float *)calloc((size_t)side * side * 3, sizeof(float));
  float out[4];
  int shape[4];
  dd_status s = dd_model_forward(m, in, side, side, "mixed5b", out, 4, shape, &err);
  CHECKF(s == DD_ERR_OUT_OF_MEMORY, "4000x4000 to mixed5b: %s (%s)", dd_status_string(s), err.message);
  unsigned long long need = 0;
  const char *at = strstr(err.message, "need ");
  if (at) need = strtoull(at + 5, NULL, 10);
  printf("  %s\n", err.message);
  CHECKF(need > 8ull << 30 && need < 9ull << 30, "the figure: %llu bytes (message: %s)", need, err.message);
  CHECKF(strstr(err.message, "GiB") && strstr(err.message, "4294967295"), "message: %s", err.message);
  /* the model still works */
  s = dd_model_forward(m, in, 64, 64, "mixed5b", out, 4, shape, &err);
  CHECKF(s == DD_ERR_SHAPE && shape[1] == 2 && shape[3] == 1024, "small forward after: %s (%s)",
         dd_status_string(s), err.message);
  free(in);
  dd_model_free(m);
}

int main(void) {
  TEST_RUN(test_helpers);
  TEST_RUN(test_arena);
  TEST_RUN(test_memplan_overflow);
  TEST_RUN(test_big_forward_capped);
  return test_summary();
}
