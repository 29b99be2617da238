#include "testutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int test_failures_in_case;
static int passed, failed;

void test_fail_at(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "  FAIL %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  test_failures_in_case++;
}

void test_run(const char *name, void (*fn)(void)) {
  /* DD_TEST_ONLY=name: run only the cases whose name contains it (slow
     sanitizer builds) */
  const char *only = getenv("DD_TEST_ONLY");
  if (only && *only && !strstr(name, only)) return;
  test_failures_in_case = 0;
  double t0 = test_now_ms();
  fn();
  double t1 = test_now_ms();
  if (test_failures_in_case) {
    failed++;
    printf("not ok - %s (%.0f ms)\n", name, t1 - t0);
  } else {
    passed++;
    printf("ok - %s (%.0f ms)\n", name, t1 - t0);
  }
  fflush(stdout);
}

int test_summary(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

void test_rng_seed(test_rng *r, uint64_t seed) { r->s = seed * 0x9e3779b97f4a7c15ULL + 1; }
static uint64_t next(test_rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
float test_uniform(test_rng *r, float lo, float hi) {
  return lo + (hi - lo) * (float)((next(r) >> 40) * (1.0 / 16777216.0));
}
int test_randint(test_rng *r, int lo, int hi) { return lo + (int)(next(r) % (uint64_t)(hi - lo + 1)); }
void test_fill(test_rng *r, float *x, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) x[i] = test_uniform(r, lo, hi);
}
float *test_alloc(size_t n) { return (float *)calloc(n * sizeof(float) + 64, 1); }
double *test_alloc_d(size_t n) { return (double *)calloc(n * sizeof(double) + 64, 1); }

int test_close(const char *what, const float *got, const float *want, size_t n, double atol, double rtol) {
  double worst = 0;
  size_t wi = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)want[i]);
    double tol = atol + rtol * fabs((double)want[i]);
    double r = d / tol;
    if (!(r <= worst)) { /* also catches NaN */
      worst = isnan(r) ? INFINITY : r;
      wi = i;
    }
  }
  if (worst > 1.0) {
    fprintf(stderr, "  %s: element %zu of %zu: got %.9g want %.9g (%.2fx tolerance)\n", what, wi, n,
            (double)got[wi], (double)want[wi], worst);
    return 0;
  }
  return 1;
}

double test_rel_l2(const float *got, const float *want, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)got[i] - (double)want[i];
    num += d * d;
    den += (double)want[i] * (double)want[i];
  }
  return den > 0 ? sqrt(num / den) : sqrt(num);
}
double test_max_abs_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (d > m || isnan(d)) m = d;
  }
  return m;
}

const char *test_shared_path(const char *rel) {
  static char buf[4][1024];
  static int k;
  const char *dir = getenv("DD_SHARED_DIR");
  if (!dir || !*dir) return NULL;
  char *b = buf[k++ & 3];
  snprintf(b, 1024, "%s/%s", dir, rel);
  FILE *f = fopen(b, "rb");
  if (!f) return NULL;
  fclose(f);
  return b;
}

unsigned char *test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = (unsigned char *)malloc((size_t)n + 16);
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  if (p && len) *len = (size_t)n;
  return p;
}

double test_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int golden_load(const char *name, golden *g) {
  const char *root = getenv("DD_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/golden/%s", root ? root : ".", name);
  size_t len = 0;
  unsigned char *b = test_read_file(path, &len);
  memset(g, 0, sizeof *g);
  if (!b) {
    test_fail_at(__FILE__, __LINE__, "cannot read golden file %s (DD_SOURCE_DIR set?)", path);
    return 0;
  }
  uint32_t u[6] = {0};
  if (len < 12 || memcmp(b, "DDG1", 4) != 0) goto bad;
  for (int i = 0; i < 2; i++) u[i] = (uint32_t)b[4 + 4 * i] | (uint32_t)b[5 + 4 * i] << 8 |
                                     (uint32_t)b[6 + 4 * i] << 16 | (uint32_t)b[7 + 4 * i] << 24;
  g->dtype = (int)u[0];
  g->ndim = (int)u[1];
  if ((g->dtype != 1 && g->dtype != 2) || g->ndim < 1 || g->ndim > 4) goto bad;
  size_t off = 12 + 4 * (size_t)g->ndim, count = 1;
  if (len < off) goto bad;
  for (int i = 0; i < g->ndim; i++) {
    const unsigned char *q = b + 12 + 4 * i;
    g->dims[i] = (int)((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24);
    count *= (size_t)g->dims[i];
  }
  size_t esz = g->dtype == 1 ? 4 : 1;
  if (len != off + count * esz) goto bad;
  g->count = count;
  g->data = malloc(count * esz + 16);
  memcpy(g->data, b + off, count * esz); /* the test hosts are little-endian */
  free(b);
  return 1;
bad:
  free(b);
  test_fail_at(__FILE__, __LINE__, "malformed golden file %s", path);
  return 0;
}
