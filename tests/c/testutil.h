/* testutil.h — a tiny assertion harness for the C tests.
 * Each test file calls TEST_RUN(fn) for its cases and ends with
 * `return test_summary();`, which prints "N passed, N failed". */
#ifndef DD_TESTUTIL_H
#define DD_TESTUTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int test_failures_in_case;
void test_fail_at(const char *file, int line, const char *fmt, ...);
#define CHECK(cond) do { if (!(cond)) test_fail_at(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)
#define CHECKF(cond, ...) do { if (!(cond)) test_fail_at(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_OK(expr) do { dd_status s_ = (expr); if (s_ != DD_OK) test_fail_at(__FILE__, __LINE__, "%s -> %d", #expr, (int)s_); } while (0)
#define TEST_RUN(fn) test_run(#fn, fn)
void test_run(const char *name, void (*fn)(void));
int test_summary(void);

/* Deterministic data. */
typedef struct test_rng { uint64_t s; } test_rng;
void test_rng_seed(test_rng *r, uint64_t seed);
float test_uniform(test_rng *r, float lo, float hi);
int test_randint(test_rng *r, int lo, int hi); /* inclusive */
void test_fill(test_rng *r, float *x, size_t n, float lo, float hi);
float *test_alloc(size_t n);           /* zeroed, with DD_EXTRA_BYTES slack; free with free() */
double *test_alloc_d(size_t n);

/* Comparisons: max |a-b| / (atol + rtol*|b|) <= 1 for every element. Prints the
   worst element on failure and returns 0. */
int test_close(const char *what, const float *got, const float *want, size_t n, double atol, double rtol);
double test_rel_l2(const float *got, const float *want, size_t n);
double test_max_abs_diff(const float *a, const float *b, size_t n);

/* Path of a file in ../shared, or NULL when shared/ is absent (tests skip). */
const char *test_shared_path(const char *rel);
/* Reads a whole file; NULL on failure. */
unsigned char *test_read_file(const char *path, size_t *len);
double test_now_ms(void);

/* Golden files (format: tests/golden/README.md), read from
   $DD_SOURCE_DIR/tests/golden/<name>. Returns 0 (after a test failure) when
   the file is missing or malformed; free g->data with free(). */
typedef struct golden {
  int dtype; /* 1 float32, 2 uint8 */
  int ndim;
  int dims[4];
  size_t count;
  void *data;
} golden;
int golden_load(const char *name, golden *g);
#endif
