/* core.c — errors, memory, arena, rng, hashing. */
#include "core.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

dd_status dd_fail(dd_error *err, dd_status status, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->status = status;
  }
  return status;
}

#define DD_STATUS_CASE_(name, value, meaning) \
  case name:                                  \
    return #name;
const char *dd_status_string(dd_status s) {
  switch (s) { DD_STATUS_LIST(DD_STATUS_CASE_) }
  return "DD_ERR_UNKNOWN";
}
#undef DD_STATUS_CASE_

#define DD_STATUS_VALUE_(name, value, meaning) name,
static const dd_status all_statuses[] = {DD_STATUS_LIST(DD_STATUS_VALUE_)};
#undef DD_STATUS_VALUE_
int dd_status_count(void) { return (int)(sizeof all_statuses / sizeof all_statuses[0]); }
dd_status dd_status_at(int i) { return i >= 0 && i < dd_status_count() ? all_statuses[i] : DD_ERR_INTERNAL; }

void dd_free(void *ptr) { free(ptr); }
void *dd_malloc(size_t size) { return size ? malloc(size) : NULL; }

void *dd_aligned_alloc(size_t size) {
  if (size == 0 || size > SIZE_MAX - 63) return NULL; /* the rounding below would wrap */
  void *p = NULL;
  size = (size + 63) & ~(size_t)63;
  if (posix_memalign(&p, 64, size) != 0) return NULL;
  return p;
}
void *dd_aligned_calloc(size_t size) {
  void *p = dd_aligned_alloc(size);
  if (p) memset(p, 0, (size + 63) & ~(size_t)63);
  return p;
}
void dd_aligned_free(void *ptr) { free(ptr); }

/* ---- arena ---------------------------------------------------------------- */
size_t dd_arena_reserve(dd_arena *a, size_t bytes) {
  size_t off = a->used;
  uint64_t b = ((uint64_t)bytes + 63) & ~(uint64_t)63;
  a->wanted = b > UINT64_MAX - a->wanted ? UINT64_MAX : a->wanted + b;
  a->used = a->wanted <= SIZE_MAX ? (size_t)a->wanted : SIZE_MAX;
  return off;
}
void dd_arena_reset(dd_arena *a) {
  a->used = 0;
  a->wanted = 0;
}
dd_status dd_arena_commit(dd_arena *a, dd_error *err) {
  const size_t limit = a->limit ? a->limit : SIZE_MAX;
  if (a->wanted > limit || a->wanted == UINT64_MAX) /* UINT64_MAX: the tally saturated */
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY,
                   "the activations need %llu bytes (%.1f GiB), more than the %zu bytes (%.1f GiB) this build can "
                   "address; use a smaller image or tile",
                   (unsigned long long)a->wanted, (double)a->wanted / 1073741824.0, limit,
                   (double)limit / 1073741824.0);
  if (a->used > a->peak) a->peak = a->used;
  if (a->used <= a->capacity) return DD_OK;
  dd_aligned_free(a->base);
  a->base = NULL;
  a->capacity = 0;
  a->base = (unsigned char *)dd_aligned_alloc(a->used);
  if (!a->base)
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "could not allocate %zu bytes (%.1f GiB) of activations", a->used,
                   (double)a->used / 1073741824.0);
  a->capacity = a->used;
  return DD_OK;
}
void dd_arena_free(dd_arena *a) {
  dd_aligned_free(a->base);
  memset(a, 0, sizeof *a);
}

/* ---- rng ------------------------------------------------------------------ */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
void dd_rng_seed(dd_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
uint64_t dd_rng_next(dd_rng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}
int64_t dd_rng_randint(dd_rng *r, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  uint64_t range = (uint64_t)(hi - lo) + 1;
  /* rejection sampling: unbiased */
  uint64_t limit = UINT64_MAX - (UINT64_MAX % range);
  uint64_t x;
  do x = dd_rng_next(r);
  while (x >= limit);
  return lo + (int64_t)(x % range);
}
float dd_rng_uniform(dd_rng *r) { return (float)(dd_rng_next(r) >> 40) * (1.0f / 16777216.0f); }
float dd_rng_normal(dd_rng *r) {
  double u1 = ((double)(dd_rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
  double u2 = (double)(dd_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
  return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t dd_fnv1a64(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = (const unsigned char *)data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
