/* test_smooth.c — dd_gaussian_filter against scipy.ndimage.gaussian_filter
 * (golden files from tests/golden/make_golden.py) and against an independent
 * double-precision brute-force oracle on many shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dream/smooth.h"
#include "testutil.h"


/* ---- independent oracle: direct 1-D sums in double, float between axes ------ */
static int ref_reflect(int i, int n) {
  /* walk the mirror: d c b a | a b c d | d c b a, repeated */
  while (i < 0 || i >= n) {
    if (i < 0) i = -1 - i;
    else i = 2 * n - 1 - i;
  }
  return i;
}

static void ref_axis(const float *in, float *out, int h, int w, int c, int axis, double sigma) {
  int dims[3] = {h, w, c};
  int r = (int)(4.0 * sigma + 0.5);
  double *k = (double *)malloc(sizeof(double) * (size_t)(2 * r + 1));
  double sum = 0;
  for (int i = -r; i <= r; i++) sum += k[i + r] = exp(-0.5 * i * i / (sigma * sigma));
  for (int i = 0; i <= 2 * r; i++) k[i] /= sum;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int ch = 0; ch < c; ch++) {
        int pos[3] = {y, x, ch};
        double acc = 0;
        for (int t = -r; t <= r; t++) {
          int q[3] = {y, x, ch};
          q[axis] = ref_reflect(pos[axis] + t, dims[axis]);
          acc += k[t + r] * in[((size_t)q[0] * w + q[1]) * c + q[2]];
        }
        out[((size_t)y * w + x) * c + ch] = (float)acc;
      }
  free(k);
}

static void ref_gaussian(const float *in, float *out, int h, int w, int c, const double s[3]) {
  size_t n = (size_t)h * w * c;
  float *a = (float *)malloc(n * sizeof(float)), *b = (float *)malloc(n * sizeof(float));
  memcpy(a, in, n * sizeof(float));
  for (int axis = 0; axis < 3; axis++) {
    if (!(s[axis] > 1e-15)) continue;
    ref_axis(a, b, h, w, c, axis, s[axis]);
    memcpy(a, b, n * sizeof(float));
  }
  memcpy(out, a, n * sizeof(float));
  free(a);
  free(b);
}

static double max_abs(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
  return m;
}

/* ---- tests ------------------------------------------------------------------- */
static void test_radius_and_kernel(void) {
  CHECK(dd_gaussian_radius(0.0) == 0);
  CHECK(dd_gaussian_radius(1e-16) == 0);
  CHECK(dd_gaussian_radius(0.1) == 0);     /* int(0.9) */
  CHECK(dd_gaussian_radius(0.125) == 1);   /* int(1.0) */
  CHECK(dd_gaussian_radius(0.25) == 1);    /* int(1.5) */
  CHECK(dd_gaussian_radius(0.375) == 2);   /* int(2.0) */
  CHECK(dd_gaussian_radius(0.5) == 2);
  CHECK(dd_gaussian_radius(1.7) == 7);     /* int(7.3) */
  CHECK(dd_gaussian_radius(2.5) == 10);    /* int(10.5) */
  CHECK(dd_gaussian_radius(4.5) == 18);
  CHECK(dd_gaussian_radius(8.2) == 33);
  CHECK(dd_gaussian_radius(-1.0) == -1);
  CHECK(dd_gaussian_radius(NAN) == -1);
  CHECK(dd_gaussian_radius(1e9) == -1);
  float k[64];
  int r = dd_gaussian_kernel(1.7, k, 64);
  CHECK(r == 7);
  double sum = k[0];
  for (int i = 1; i <= r; i++) {
    sum += 2.0 * k[i];
    CHECK(k[i] < k[i - 1]);
  }
  CHECKF(fabs(sum - 1.0) < 1e-6, "kernel sum %.9f", sum);
  CHECKF(fabs(k[1] / k[0] - exp(-0.5 / (1.7 * 1.7))) < 1e-6, "k1/k0");
  CHECK(dd_gaussian_kernel(1.7, k, 7) == -1); /* capacity too small */
}

typedef struct gcase {
  const char *in, *out;
  double s[3];
} gcase;

static double worst_golden_err = 0;

static void test_golden_scipy(void) {
  static const gcase cases[] = {
      {"gauss_a_in.bin", "gauss_a_s0.5.bin", {0.5, 0.5, 0.5}},
      {"gauss_a_in.bin", "gauss_a_s1.7.bin", {1.7, 1.7, 1.7}},
      {"gauss_a_in.bin", "gauss_a_s4.5.bin", {4.5, 4.5, 4.5}},
      {"gauss_a_in.bin", "gauss_a_s0.5_0.5_0.bin", {0.5, 0.5, 0.0}},
      {"gauss_a_in.bin", "gauss_a_s1_2.5_0.7.bin", {1.0, 2.5, 0.7}},
      {"gauss_b_in.bin", "gauss_b_s1.7.bin", {1.7, 1.7, 1.7}},
      {"gauss_b_in.bin", "gauss_b_s8.2.bin", {8.2, 8.2, 8.2}},
      {"gauss_c_in.bin", "gauss_c_s4.5.bin", {4.5, 4.5, 4.5}},
      {"gauss_c_in.bin", "gauss_c_s3_0_0.bin", {3.0, 0.0, 0.0}},
      {"gauss_c_in.bin", "gauss_c_s0_2_0.bin", {0.0, 2.0, 0.0}},
  };
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    golden gi, go;
    if (!golden_load(cases[t].in, &gi) || !golden_load(cases[t].out, &go)) return;
    CHECK(gi.dtype == 1 && go.dtype == 1 && gi.ndim == 3 && gi.count == go.count);
    int h = gi.dims[0], w = gi.dims[1], c = gi.dims[2];
    float *out = test_alloc(gi.count), *scr = test_alloc(dd_gaussian_scratch_floats(h, w, c));
    CHECK_OK(dd_gaussian_filter_ex((const float *)gi.data, out, h, w, c, cases[t].s, scr, NULL));
    double scale = max_abs((const float *)gi.data, gi.count);
    double err = test_max_abs_diff(out, (const float *)go.data, go.count) / scale;
    if (err > worst_golden_err) worst_golden_err = err;
    printf("  %-24s %dx%dx%d sigma (%g,%g,%g): max |err| / max|x| = %.3g\n", cases[t].out, h, w, c,
           cases[t].s[0], cases[t].s[1], cases[t].s[2], err);
    CHECKF(err <= 1e-6, "%s: relative max error %.3g > 1e-6", cases[t].out, err);
    /* the float-sigma entry point gives the same result within float rounding of sigma */
    float *out2 = test_alloc(gi.count);
    CHECK_OK(dd_gaussian_filter((const float *)gi.data, out2, h, w, c, (float)cases[t].s[0],
                                (float)cases[t].s[1], (float)cases[t].s[2], scr));
    CHECK(test_max_abs_diff(out2, (const float *)go.data, go.count) / scale <= 1e-6);
    free(out);
    free(out2);
    free(scr);
    free(gi.data);
    free(go.data);
  }
  printf("  worst relative error vs scipy: %.3g\n", worst_golden_err);
}

static void test_golden_sum3(void) {
  golden gi, go;
  if (!golden_load("gauss_b_in.bin", &gi) || !golden_load("gauss_b_sum3_0.9.bin", &go)) return;
  int h = gi.dims[0], w = gi.dims[1], c = gi.dims[2];
  float *out = test_alloc(gi.count), *scr = test_alloc(dd_gaussian_sum3_scratch_floats(h, w, c));
  const double sigma = (1 * 4.0) / 10 + 0.5; /* the tutorial's sigma at i = 1 */
  CHECK_OK(dd_gaussian_sum3((const float *)gi.data, out, h, w, c, sigma, 1, scr, NULL));
  double scale = max_abs((const float *)go.data, go.count);
  double err = test_max_abs_diff(out, (const float *)go.data, go.count) / scale;
  printf("  sum3 sigma 0.9: max |err| / max|y| = %.3g\n", err);
  CHECKF(err <= 1e-6, "sum3 relative error %.3g", err);
  free(out);
  free(scr);
  free(gi.data);
  free(go.data);
}

/* Many shapes, incl. radius > axis, c = 1, 4, 20 (unfolded channel path),
   widths not a multiple of 4 or 16, 1-pixel axes. */
static void test_against_oracle(void) {
  static const int shapes[][3] = {{1, 1, 1}, {1, 7, 3}, {6, 1, 3}, {2, 2, 2}, {13, 17, 1}, {11, 29, 4},
                                  {40, 9, 3}, {5, 70, 3}, {8, 8, 20}, {3, 33, 5}, {19, 6, 17}};
  static const double sigmas[][3] = {{0.5, 0.5, 0.5}, {2.2, 0.8, 0.0}, {0.0, 3.1, 1.3}, {6.0, 6.0, 6.0},
                                     {0.3, 0.2, 0.0}, {1e-16, 1.1, 2.0}, {0.9, 0.0, 0.0}};
  test_rng rng;
  test_rng_seed(&rng, 7);
  double worst = 0;
  for (size_t a = 0; a < sizeof shapes / sizeof shapes[0]; a++)
    for (size_t b = 0; b < sizeof sigmas / sizeof sigmas[0]; b++) {
      int h = shapes[a][0], w = shapes[a][1], c = shapes[a][2];
      size_t n = (size_t)h * w * c;
      float *in = test_alloc(n), *out = test_alloc(n), *want = test_alloc(n), *scr = test_alloc(n);
      test_fill(&rng, in, n, -1.0f, 1.0f);
      ref_gaussian(in, want, h, w, c, sigmas[b]);
      CHECK_OK(dd_gaussian_filter_ex(in, out, h, w, c, sigmas[b], scr, NULL));
      double err = test_max_abs_diff(out, want, n);
      if (err > worst) worst = err;
      CHECKF(err <= 1e-6, "%dx%dx%d sigma (%g,%g,%g): max err %.3g", h, w, c, sigmas[b][0], sigmas[b][1],
             sigmas[b][2], err);
      /* in place gives the same bits */
      float *io = test_alloc(n);
      memcpy(io, in, n * sizeof(float));
      CHECK_OK(dd_gaussian_filter_ex(io, io, h, w, c, sigmas[b], scr, NULL));
      CHECKF(memcmp(io, out, n * sizeof(float)) == 0, "%dx%dx%d in-place differs", h, w, c);
      free(io);
      free(in);
      free(out);
      free(want);
      free(scr);
    }
  printf("  worst abs error vs double oracle on [-1,1] data: %.3g\n", worst);
}

static void test_identity_and_errors(void) {
  float in[2 * 3 * 3], out[18], scr[18];
  for (int i = 0; i < 18; i++) in[i] = (float)i * 0.25f - 1.0f;
  CHECK_OK(dd_gaussian_filter(in, out, 2, 3, 3, 0.0f, 0.0f, 0.0f, scr));
  CHECK(memcmp(in, out, sizeof in) == 0);
  CHECK_OK(dd_gaussian_filter(in, out, 2, 3, 3, 0.1f, 0.1f, 0.1f, scr)); /* radius 0: identity */
  CHECK(memcmp(in, out, sizeof in) == 0);
  /* a constant image stays constant (weights sum to 1 in every mode) */
  float k[18];
  for (int i = 0; i < 18; i++) k[i] = 0.75f;
  CHECK_OK(dd_gaussian_filter(k, out, 2, 3, 3, 3.0f, 3.0f, 3.0f, scr));
  for (int i = 0; i < 18; i++) CHECKF(fabsf(out[i] - 0.75f) < 1e-6f, "constant %d: %g", i, out[i]);
  CHECK(dd_gaussian_filter(NULL, out, 2, 3, 3, 1, 1, 1, scr) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_gaussian_filter(in, out, 0, 3, 3, 1, 1, 1, scr) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_gaussian_filter(in, out, 2, 3, 3, -1, 1, 1, scr) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_gaussian_filter(in, out, 2, 3, 3, 1, NAN, 1, scr) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_gaussian_filter(in, out, 2, 3, 3, 1, 1, 1000, scr) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_gaussian_filter(in, out, 2, 3, 3, 1, 1, 1, NULL) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_gaussian_sum3(in, in, 2, 3, 3, 1.0, 1, scr, NULL) == DD_ERR_INVALID_ARGUMENT);
  /* bounded: buffers smaller than the strip are refused and left untouched
     (the dream's strips, sized for the sigmas a legitimate state reaches) */
  float o2[19], s2[37];
  for (int i = 0; i < 19; i++) o2[i] = -7.0f;
  CHECK(dd_gaussian_sum3_bounded(in, o2, 17, 2, 3, 3, 1.0, 1, s2, 36, NULL) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_gaussian_sum3_bounded(in, o2, 18, 2, 3, 3, 1.0, 1, s2, 35, NULL) == DD_ERR_INVALID_ARGUMENT);
  for (int i = 0; i < 19; i++) CHECKF(o2[i] == -7.0f, "bounded: out[%d] written on failure", i);
  CHECK_OK(dd_gaussian_sum3_bounded(in, o2, 18, 2, 3, 3, 1.0, 1, s2, 36, NULL));
  CHECK(o2[18] == -7.0f);
  CHECK(dd_gaussian_scratch_floats(2, 3, 3) == 18);
  CHECK(dd_gaussian_sum3_scratch_floats(2, 3, 3) == 36);
  CHECK(dd_gaussian_scratch_floats(0, 3, 3) == 0);
  CHECK(dd_gaussian_scratch_floats(1 << 30, 1 << 30, 3) == 0);
}

/* The tutorial's workload: a 960x540 gradient, the last iteration's sigma
   (9*4/10 + 0.5 = 4.1: radii 16, 33, 8). Threads give the same bits. */
static void test_full_size_timing_and_threads(void) {
  const int h = 540, w = 960, c = 3;
  size_t n = (size_t)h * w * c;
  float *in = test_alloc(n), *o1 = test_alloc(n), *o2 = test_alloc(n);
  float *scr = test_alloc(dd_gaussian_sum3_scratch_floats(h, w, c));
  test_rng rng;
  test_rng_seed(&rng, 3);
  test_fill(&rng, in, n, -3.0f, 3.0f);
  const double sigma = (9 * 4.0) / 10 + 0.5;
#ifdef NDEBUG
  const int reps = 3;
#else
  const int reps = 1; /* debug + sanitizer builds are ~100x slower */
#endif
  double best = 1e30;
  for (int rep = 0; rep < reps; rep++) {
    double t0 = test_now_ms();
    CHECK_OK(dd_gaussian_sum3(in, o1, h, w, c, sigma, 1, scr, NULL));
    double t = test_now_ms() - t0;
    if (t < best) best = t;
  }
  printf("  sum3 960x540x3 sigma 4.1 (taps 33+67+17 per axis), 1 thread: %.1f ms\n", best);
  dd_threadpool *pool = dd_threadpool_create(2);
  double best2 = 1e30;
  for (int rep = 0; rep < reps; rep++) {
    double t0 = test_now_ms();
    CHECK_OK(dd_gaussian_sum3(in, o2, h, w, c, sigma, 1, scr, pool));
    double t = test_now_ms() - t0;
    if (t < best2) best2 = t;
  }
  printf("  same with a pool of %d: %.1f ms\n", dd_threadpool_size(pool), best2);
  CHECK(memcmp(o1, o2, n * sizeof(float)) == 0);
  dd_threadpool_destroy(pool);
  /* against the oracle on a 300x170 crop (the oracle is slow) */
  const double s3[3] = {4.1, 4.1, 4.1};
  const int ch = 170, cw = 300;
  size_t cn = (size_t)ch * cw * c;
  CHECK_OK(dd_gaussian_filter_ex(in, o1, ch, cw, c, s3, scr, NULL));
  float *want = test_alloc(cn);
  ref_gaussian(in, want, ch, cw, c, s3);
  double err = test_max_abs_diff(o1, want, cn);
  printf("  300x170x3 sigma 4.1 vs double oracle: max abs err %.3g (data in [-3,3])\n", err);
  CHECKF(err <= 3e-6, "err %.3g", err);
  free(want);
  free(in);
  free(o1);
  free(o2);
  free(scr);
}

int main(void) {
  TEST_RUN(test_radius_and_kernel);
  TEST_RUN(test_golden_scipy);
  TEST_RUN(test_golden_sum3);
  TEST_RUN(test_against_oracle);
  TEST_RUN(test_identity_and_errors);
  TEST_RUN(test_full_size_timing_and_threads);
  return test_summary();
}
