/* test_objective.c — the objective algebra (src/dream/objective*.c): the
 * parser's accepted forms and readable refusals (hostile text bounded); every
 * term's input gradient, sums of terms on different layers, the guide and the
 * TV penalty against central finite differences of the double-precision
 * interpreter (graph_ref64.h, no engine code); strong/weak channel choice
 * against the interpreter's means; the transforms' adjoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/api/model_internal.h"
#include "deepdream.h"
#include "deepdream_profile.h"
#include "dream/objective.h"
#include "kernels/kernels.h"
#include "dream/transform.h"
#include "dream_fixture.h"
#include "graph_ref64.h"
#include "testutil.h"

/* ---- the parser ------------------------------------------------------------ */

static void parses(const char *text, int n_terms) {
  dd_objective_prog p;
  dd_error err = {0};
  dd_status s = dd_objective_parse(text, &p, &err);
  CHECKF(s == DD_OK, "'%s': %s", text, err.message);
  CHECKF(p.n_terms == n_terms, "'%s': %d terms, want %d", text, p.n_terms, n_terms);
  dd_objective_free(&p);
}

static void refused(const char *text, const char *want) {
  dd_objective_prog p;
  dd_error err = {0};
  dd_status s = dd_objective_parse(text, &p, &err);
  CHECKF(s == DD_ERR_INVALID_ARGUMENT, "'%.60s' -> %d", text, (int)s);
  CHECKF(strstr(err.message, want) != NULL, "'%.60s': message '%s' lacks '%s'", text, err.message, want);
}

static void test_parse(void) {
  parses("square(mixed4c)", 1);
  parses("channel(mixed4c,97)", 1);
  parses(" 0.5 * channel( mixed4c , 97 ) + neuron(mixed4d,12)", 2);
  parses("neuron(mixed4d,12,-1,2)", 1);
  parses("direction(conv_b,[1,-0.5,2e-1])", 1);
  parses("strong(mixed4c,8)-weak(3,2)", 2);
  parses("-guide(mixed4c)", 1);
  parses("square(mixed4c,[0,5,9:12])+square(mixed4c,3:5)+square(1,7)", 3);
  dd_objective_prog p;
  dd_error err;
  CHECK_OK(dd_objective_parse("-2*channel(a,1)+3e-1*square(b,[0,4:6])-direction(c,[1,2])", &p, &err));
  CHECK(p.terms[0].weight == -2 && p.terms[0].kind == DD_TERM_CHANNEL && p.terms[0].channels[0] == 1);
  CHECK(fabs(p.terms[1].weight - 0.3) < 1e-15 && p.terms[1].n_channels == 3 && p.terms[1].channels[2] == 5);
  CHECK(p.terms[2].weight == -1 && p.terms[2].n_vec == 2 && p.terms[2].vec[1] == 2.0f && !strcmp(p.terms[2].layer, "c"));
  dd_objective_free(&p);
  CHECK_OK(dd_objective_parse("square(7)", &p, &err));
  CHECK(p.terms[0].layer_index == 7 && p.terms[0].layer[0] == 0);
  dd_objective_free(&p);

  refused("", "empty");
  refused("cube(mixed4c)", "expected square, channel");
  refused("channel(mixed4c 97)", "at character 17");
  refused("channel(mixed4c)", "expected a channel number");
  refused("channel(mixed4c,97", "expected ')'");
  refused("square(mixed4c,5:2)", "empty channel range");
  refused("square(mixed4c)*2", "expected '+', '-' or the end");
  refused("0.5 channel(a,1)", "expected square");
  refused("strong(a,0)", "k in 1..65536");
  refused("guide(a,1)", "guide takes only a layer");
  refused("direction(a,[1,,2])", "expected a number");
  refused("direction(a,[1e999])", "expected a number");
  refused("neuron(a,1,2)", "y offset");
  refused("channel(,1)", "expected a layer name");
  /* hostile: too long, too many terms, a huge vector, a huge channel range */
  char *big = (char *)malloc(DD_OBJECTIVE_MAX_TEXT + 64);
  memset(big, ' ', DD_OBJECTIVE_MAX_TEXT + 10);
  big[DD_OBJECTIVE_MAX_TEXT + 10] = 0;
  refused(big, "longer than 65536 bytes");
  big[0] = 0;
  for (int i = 0; i < 17; i++) strcat(big, "+channel(a,1)");
  refused(big + 1, "more than 16 terms");
  strcpy(big, "direction(a,[");
  for (int i = 0; i < 1000; i++) strcat(big, "1,");
  strcat(big, "1])");
  parses(big, 1);
  free(big);
  refused("square(a,[0:65536,0:65536])", "more than 65536 channels");
  char name[300];
  memset(name, 'x', 299);
  name[299] = 0;
  char text[400];
  snprintf(text, sizeof text, "square(%s)", name);
  refused(text, "longer than 255 bytes");
}

/* ---- the double oracle ------------------------------------------------------- */

/* a term's value on a layer's double activation */
static double term_value64(const dd_term *t, const r64 *y) {
  size_t c = (size_t)y->c, rows = r64_count(y) / c;
  double L = 0;
  switch (t->kind) {
    case DD_TERM_SQUARE:
    case DD_TERM_STRONG:
    case DD_TERM_WEAK: {
      int n = t->n_channels ? t->n_channels : (int)c;
      for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < n; k++) {
          double v = y->d[r * c + (size_t)(t->n_channels ? t->channels[k] : k)];
          L += v * v;
        }
      return L / ((double)rows * n);
    }
    case DD_TERM_CHANNEL:
      for (size_t r = 0; r < rows; r++) L += y->d[r * c + (size_t)t->channels[0]];
      return L / (double)rows;
    case DD_TERM_NEURON: {
      int cy = y->h / 2 + t->dy, cx = y->w / 2 + t->dx;
      cy = cy < 0 ? 0 : cy >= y->h ? y->h - 1 : cy; /* clamped into the map */
      cx = cx < 0 ? 0 : cx >= y->w ? y->w - 1 : cx;
      return y->d[((size_t)cy * y->w + cx) * c + (size_t)t->channels[0]];
    }
    case DD_TERM_DIRECTION:
      for (size_t r = 0; r < rows; r++)
        for (size_t q = 0; q < c; q++) L += y->d[r * c + q] * t->vec[q];
      return L / (double)rows;
    case DD_TERM_GUIDE:
      for (size_t r = 0; r < rows; r++) {
        double best = -INFINITY;
        for (int j = 0; j < t->guide_n; j++) {
          double dot = 0;
          for (size_t q = 0; q < c; q++) dot += y->d[r * c + q] * t->guide[(size_t)j * c + q];
          best = dot > best ? dot : best;
        }
        L += best;
      }
      return L / (double)rows;
    default: return NAN;
  }
}

static double objective64(const dd_model *m, const dd_objective_prog *p, const r64 *in) {
  double L = 0;
  for (int i = 0; i < p->n_terms; i++) {
    r64 y;
    CHECK(r64_forward(&m->graph, p->terms[i].node, in, &y) == 0);
    L += p->terms[i].weight * term_value64(&p->terms[i], &y);
    free(y.d);
  }
  return L;
}

static void make_input(int H, int W, uint64_t seed, float *in32, r64 *in64) {
  test_rng r;
  test_rng_seed(&r, seed);
  size_t n = (size_t)H * W * 3;
  in64->n = 1, in64->h = H, in64->w = W, in64->c = 3;
  in64->d = (double *)malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    in32[i] = test_uniform(&r, -4, 4);
    in64->d[i] = in32[i];
  }
}

/* The engine's gradient of `text` (bound on m, with the guide features of
   `guide_img` when it has a guide term) against central finite differences. */
static void check_objective(dd_model *m, const char *text, int H, int W) {
  dd_objective_prog p;
  dd_error err = {0};
  CHECK_OK(dd_objective_parse(text, &p, &err));
  dd_status s = dd_objective_bind(&p, m, &err);
  CHECKF(s == DD_OK, "%s: bind: %s", text, err.message);
  if (s != DD_OK) return;
  if (dd_objective_needs_guide(&p)) {
    int gh = 15, gw = 12;
    float *g = test_alloc((size_t)gh * gw * 3);
    r64 unused;
    make_input(gh, gw, 99, g, &unused);
    free(unused.d);
    CHECK_OK(dd_objective_set_guide(&p, m, g, gh, gw, &err));
    free(g);
  }
  if (dd_objective_needs_selection(&p)) {
    float *g = test_alloc((size_t)H * W * 3);
    r64 unused;
    make_input(H, W, 5, g, &unused);
    free(unused.d);
    CHECK_OK(dd_objective_select(&p, m, g, H, W, 400, &err));
    free(g);
  }
  size_t n = (size_t)H * W * 3;
  float *in32 = test_alloc(n), *g32 = test_alloc(n), *fd = test_alloc(n);
  r64 in64;
  make_input(H, W, 77, in32, &in64);
  /* the double oracle is fed the float input, as the engine is */
  const double h = 1e-4;
  for (size_t i = 0; i < n; i++) {
    double x0 = in64.d[i];
    in64.d[i] = x0 + h;
    double fp = objective64(m, &p, &in64);
    in64.d[i] = x0 - h;
    double fm = objective64(m, &p, &in64);
    in64.d[i] = x0;
    fd[i] = (float)((fp - fm) / (2 * h));
  }
  double want = objective64(m, &p, &in64), loss = 0;
  s = dd_objective_gradient(&p, m, in32, H, W, g32, &loss, &err);
  CHECKF(s == DD_OK, "%s: %s", text, err.message);
  double gmax = 0;
  for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(fd[i]));
  double rel = test_rel_l2(g32, fd, n);
  CHECKF(gmax > 0, "%s: the finite-difference gradient is zero", text);
  CHECKF(rel < 1e-3, "%s: gradient rel L2 vs finite differences %.3g", text, rel);
  CHECKF(fabs(loss - want) <= 1e-5 * fabs(want) + 1e-9, "%s: value %.9g vs %.9g", text, loss, want);
  free(in32);
  free(g32);
  free(fd);
  free(in64.d);
  dd_objective_free(&p);
}

static void test_gradients(void) {
  dd_model *m = dream_fixture_model();
  check_objective(m, "square(conv_b)", 13, 11);
  check_objective(m, "square(conv_b,[1,3:5])", 13, 11);
  check_objective(m, "channel(conv_b,3)", 13, 11);
  check_objective(m, "channel(conv_c,0)", 12, 14);
  check_objective(m, "neuron(conv_b,4)", 15, 16);
  check_objective(m, "neuron(conv_c,2,1,-1)", 14, 13);
  check_objective(m, "neuron(conv_c,2,-20,30)", 14, 13); /* off the map: clamped to its corner */
  check_objective(m, "direction(conv_b,[1,-0.5,0.25,0,2,-1,0.5,0.5,-2,1,0,0.75])", 13, 11);
  check_objective(m, "strong(conv_b,3)", 13, 11);
  check_objective(m, "weak(conv_c,2)", 13, 11);
  check_objective(m, "guide(conv_b)", 13, 11);
  check_objective(m, "guide(conv_c)", 16, 12);
  /* a weighted sum over three layers */
  check_objective(m, "0.5*channel(conv_b,3)+neuron(conv_c,2,1,-1)-0.25*square(conv_a,[0,2:4])"
                     "+direction(conv_b,[1,-0.5,0.25,0,2,-1,0.5,0.5,-2,1,0,0.75])+0.1*guide(conv_c)", 13, 11);
  dd_model_free(m);
}

/* square(L) alone is the tutorial's seed: the same floats as
   dd_model_gradient, bit for bit. */
static void test_square_is_the_tutorial(void) {
  dd_model *m = dream_fixture_model();
  const int H = 20, W = 17;
  size_t n = (size_t)H * W * 3;
  float *in = test_alloc(n), *a = test_alloc(n), *b = test_alloc(n);
  r64 unused;
  make_input(H, W, 3, in, &unused);
  free(unused.d);
  int ch[2] = {1, 5};
  dd_objective o = {"conv_b", 0, ch, 2};
  dd_error err;
  CHECK_OK(dd_model_gradient(m, in, H, W, &o, a, NULL, &err));
  dd_objective_prog p;
  CHECK_OK(dd_objective_parse("square(conv_b,[1,5])", &p, &err));
  CHECK_OK(dd_objective_bind(&p, m, &err));
  CHECK_OK(dd_objective_gradient(&p, m, in, H, W, b, NULL, &err));
  CHECK(memcmp(a, b, n * sizeof(float)) == 0);
  dd_objective_free(&p);
  free(in);
  free(a);
  free(b);
  dd_model_free(m);
}

/* The tutorial's objective with a channel the layer lacks: the same sentence as the objective's, before any work
   (a fresh model's activation arena is never touched). */
static void test_tutorial_channel_checked_first(void) {
  dd_model *m = dream_fixture_model();
  float *in = test_alloc(16 * 16 * 3), *g = test_alloc(16 * 16 * 3);
  memset(in, 0, 16 * 16 * 3 * sizeof(float));
  int ch[2] = {1, 12};
  dd_objective o = {"conv_b", 0, ch, 2};
  dd_error err = {0};
  CHECK(dd_model_gradient(m, in, 16, 16, &o, g, NULL, &err) == DD_ERR_NOT_FOUND);
  CHECKF(strstr(err.message, "channel 12 does not exist in 'conv_b', which has channels 0..11") != NULL, "'%s'", err.message);
  CHECKF(dd_model_arena_peak(m) == 0, "the forward pass ran first (arena peak %zu bytes)", dd_model_arena_peak(m));
  ch[1] = 11;
  CHECK_OK(dd_model_gradient(m, in, 16, 16, &o, g, NULL, &err));
  CHECK(dd_model_arena_peak(m) > 0);
  free(in);
  free(g);
  dd_model_free(m);
}

/* The guide matcher (float GEMM screen + double check) against the plain double loop, written out here: the same
   feature chosen and the same dot, bit for bit, on every backend and pool size, also where float rounding cannot
   tell the features apart (near ties a float dot reorders, exact ties, zero positions, large values). */
static int plain_match(const float *x, int c, const float *g, int n, double *best) {
  int arg = 0;
  *best = -INFINITY;
  for (int j = 0; j < n; j++) {
    double dot = 0;
    for (int q = 0; q < c; q++) dot += (double)x[q] * g[(size_t)j * c + q];
    if (dot > *best) *best = dot, arg = j;
  }
  return arg;
}

static void test_guide_match_exact(void) {
  const int c = 96, n = 203, rows = 150;
  float *g = test_alloc((size_t)n * c), *y = test_alloc((size_t)rows * c), *dy = test_alloc((size_t)rows * c);
  test_rng st;
  test_rng_seed(&st, 99);
  for (int i = 0; i < n * c; i++) g[i] = test_uniform(&st, -1, 1);
  for (int i = 0; i < rows * c; i++) y[i] = test_uniform(&st, 0, 3);
  /* near ties: features 1..40 are feature 0 nudged by one float step in one channel each, so that their dots with
     a position differ from feature 0's below what a float sum of 96 terms resolves */
  for (int j = 1; j <= 40; j++) {
    memcpy(g + (size_t)j * c, g, (size_t)c * sizeof(float));
    float *v = &g[(size_t)j * c + (j * 7) % c];
    *v = nextafterf(*v, j % 2 ? 2.0f : -2.0f);
  }
  memcpy(g + (size_t)41 * c, g + (size_t)100 * c, (size_t)c * sizeof(float)); /* an exact tie: 41 must win over 100 */
  /* positions made to prefer the near-tied family or the tied pair; a zero position; large values */
  for (int r = 0; r < 40; r++)
    for (int q = 0; q < c; q++) y[(size_t)r * c + q] = 4 * g[q] + test_uniform(&st, 0, 1e-3f);
  for (int r = 40; r < 50; r++)
    for (int q = 0; q < c; q++) y[(size_t)r * c + q] = 3 * g[(size_t)100 * c + q];
  memset(y + (size_t)50 * c, 0, (size_t)c * sizeof(float));
  for (int q = 0; q < c; q++) y[(size_t)51 * c + q] *= 1e18f;
  const double norm = dd_guide_norm_max(g, n, c), scale = 1.0 / rows;
  double want = 0;
  int args[150];
  for (int r = 0; r < rows; r++) {
    double b;
    args[r] = plain_match(y + (size_t)r * c, c, g, n, &b);
    want += b;
  }
  CHECK(args[45] == 41);
  const dd_kernels *ks[] = {dd_kernels_reference(), dd_kernels_simd128(), dd_kernels_xnnpack(), NULL};
  for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++) {
    if (b < 3 && !ks[b]) continue;
    for (int threads = 1; threads <= 16; threads *= 2) {
      dd_threadpool *pool = threads > 1 ? dd_threadpool_create(threads) : NULL;
      dd_guide_match gm = {0};
      double got = 0;
      dd_error err;
      CHECK_OK(dd_guide_match_run(&gm, ks[b], pool, y, rows, c, g, n, norm, scale, dy, &got, &err));
      CHECKF(memcmp(&got, &want, sizeof got) == 0, "backend %zu, %d threads: dot sum %.17g, plain %.17g", b, threads,
             got, want);
      int bad = -1;
      for (int r = 0; r < rows && bad < 0; r++)
        for (int q = 0; q < c; q++)
          if (dy[(size_t)r * c + q] != (float)(g[(size_t)args[r] * c + q] * scale)) {
            bad = r;
            break;
          }
      CHECKF(bad < 0, "backend %zu, %d threads: position %d took another feature than the plain loop's %d", b, threads,
             bad, bad >= 0 ? args[bad] : 0);
      dd_guide_match_free(&gm);
      dd_threadpool_destroy(pool);
    }
  }
  free(g);
  free(y);
  free(dy);
}

static void test_bind_errors(void) {
  dd_model *m = dream_fixture_model();
  struct { const char *text, *want; } cases[] = {
      {"channel(conv_b,12)", "channel 12 does not exist in 'conv_b'"},
      {"direction(conv_b,[1,2])", "has 2 numbers; the layer has 12 channels"},
      {"strong(conv_c,7)", "more channels than the 6 it has"},
      {"square(nope)", "no node named 'nope'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    dd_objective_prog p;
    dd_error err = {0};
    CHECK_OK(dd_objective_parse(cases[i].text, &p, &err));
    CHECKF(dd_objective_bind(&p, m, &err) != DD_OK && strstr(err.message, cases[i].want), "%s: '%s'", cases[i].text,
           err.message);
    dd_objective_free(&p);
  }
  /* a neuron off the map of a small tile is clamped to its edge: the same gradient as the edge neuron's */
  dd_objective_prog p, q;
  dd_error err = {0};
  CHECK_OK(dd_objective_parse("neuron(conv_b,1,9,-7)", &p, &err));
  CHECK_OK(dd_objective_parse("neuron(conv_b,1,1,-2)", &q, &err)); /* 4x4 map: centre (2, 2) -> (3, 0) */
  CHECK_OK(dd_objective_bind(&p, m, &err));
  CHECK_OK(dd_objective_bind(&q, m, &err));
  float *in = test_alloc(16 * 16 * 3), *g = test_alloc(16 * 16 * 3), *h = test_alloc(16 * 16 * 3);
  r64 unused;
  make_input(16, 16, 12, in, &unused);
  free(unused.d);
  CHECK_OK(dd_objective_gradient(&p, m, in, 16, 16, g, NULL, &err));
  CHECK_OK(dd_objective_gradient(&q, m, in, 16, 16, h, NULL, &err));
  CHECK(memcmp(g, h, 16 * 16 * 3 * sizeof(float)) == 0);
  double gmax = 0;
  for (int i = 0; i < 16 * 16 * 3; i++) gmax = fmax(gmax, fabs(g[i]));
  CHECK(gmax > 0);
  dd_objective_free(&p);
  dd_objective_free(&q);
  free(in);
  free(g);
  free(h);
  dd_model_free(m);
}

/* strong/weak: the k channels of highest/lowest mean activation, as the
   double interpreter ranks them. */
static void test_selection(void) {
  dd_model *m = dream_fixture_model();
  const int H = 40, W = 33;
  size_t n = (size_t)H * W * 3;
  float *img = test_alloc(n);
  r64 in64;
  make_input(H, W, 8, img, &in64);
  for (size_t i = 0; i < n; i++) img[i] = (float)(in64.d[i] = 120 + 30 * in64.d[i]);
  dd_objective_prog p;
  dd_error err;
  CHECK_OK(dd_objective_parse("strong(conv_b,4)+weak(conv_b,3)", &p, &err));
  CHECK_OK(dd_objective_bind(&p, m, &err));
  CHECK_OK(dd_objective_select(&p, m, img, H, W, 400, &err)); /* one tile: the whole image */
  r64 y;
  CHECK(r64_forward(&m->graph, p.terms[0].node, &in64, &y) == 0);
  double mean[12] = {0};
  size_t rows = r64_count(&y) / 12;
  for (size_t r = 0; r < rows; r++)
    for (int c = 0; c < 12; c++) mean[c] += y.d[r * 12 + c];
  int rank[12];
  for (int c = 0; c < 12; c++) rank[c] = c;
  for (int a = 0; a < 12; a++)
    for (int b = a + 1; b < 12; b++)
      if (mean[rank[b]] > mean[rank[a]]) {
        int t = rank[a];
        rank[a] = rank[b];
        rank[b] = t;
      }
  int want_strong[12] = {0}, want_weak[12] = {0};
  for (int k = 0; k < 4; k++) want_strong[rank[k]] = 1;
  for (int k = 0; k < 3; k++) want_weak[rank[11 - k]] = 1;
  CHECK(p.terms[0].n_channels == 4 && p.terms[1].n_channels == 3);
  for (int k = 0; k < 4; k++) CHECKF(want_strong[p.terms[0].channels[k]], "strong chose %d", p.terms[0].channels[k]);
  for (int k = 0; k < 3; k++) CHECKF(want_weak[p.terms[1].channels[k]], "weak chose %d", p.terms[1].channels[k]);
  for (int k = 1; k < 4; k++) CHECK(p.terms[0].channels[k] > p.terms[0].channels[k - 1]);
  free(y.d);
  free(in64.d);
  free(img);
  dd_objective_free(&p);
  dd_model_free(m);
}

/* TV: the penalty's gradient against finite differences of its value. */
static void test_tv(void) {
  const int H = 6, W = 7;
  size_t n = (size_t)H * W * 3;
  float *x = test_alloc(n), *g = test_alloc(n), *fd = test_alloc(n);
  test_rng r;
  test_rng_seed(&r, 4);
  test_fill(&r, x, n, 0, 255);
  const double w = 2.5;
  dd_tv_penalty(x, H, W, w, g);
  for (size_t i = 0; i < n; i++) {
    float x0 = x[i];
    x[i] = x0 + 0.5f;
    double fp = dd_tv_penalty(x, H, W, 0, NULL);
    x[i] = x0 - 0.5f;
    double fm = dd_tv_penalty(x, H, W, 0, NULL);
    x[i] = x0;
    fd[i] = (float)(-w * (fp - fm) / 1.0); /* the dream ascends -w TV */
  }
  CHECKF(test_rel_l2(g, fd, n) < 1e-5, "tv gradient rel L2 %.3g", test_rel_l2(g, fd, n));
  /* the value by its definition, in double, independently */
  double want = 0;
  for (int i = 0; i < H; i++)
    for (int j = 0; j < W; j++)
      for (int c = 0; c < 3; c++) {
        double v = x[(i * W + j) * 3 + c];
        if (i + 1 < H) want += pow(x[((i + 1) * W + j) * 3 + c] - v, 2);
        if (j + 1 < W) want += pow(x[(i * W + j + 1) * 3 + c] - v, 2);
      }
  want /= 255.0 * 255.0 * n;
  CHECK(fabs(dd_tv_penalty(x, H, W, 0, NULL) - want) < 1e-12 * want);
  free(x);
  free(g);
  free(fd);
}

/* The transforms: adjoint is the transpose of apply (<Tx, y> = <x, T'y>),
   pad and jitter alone are an exact shift, roll is np.roll. */
static void test_transform_adjoint(void) {
  dd_dream_options o;
  dd_dream_options_init(&o);
  o.roll = 5, o.pad = 4, o.jitter = 3, o.scale = 0.1, o.rotate = 10;
  dd_rng rng;
  dd_rng_seed(&rng, 11);
  const int W = 19, H = 14;
  for (int trial = 0; trial < 6; trial++) {
    dd_transform t;
    dd_transform_draw(&t, &rng, &o, W, H);
    CHECK(t.active && t.ow == W + 8 && t.oh == H + 8);
    size_t n = (size_t)W * H * 3, m = (size_t)t.ow * t.oh * 3;
    float *x = test_alloc(n), *y = test_alloc(m), *tx = test_alloc(m), *ty = test_alloc(n);
    test_rng r;
    test_rng_seed(&r, (uint64_t)trial);
    test_fill(&r, x, n, -1, 1);
    test_fill(&r, y, m, -1, 1);
    dd_transform_apply(&t, x, 0.0f, tx);
    dd_transform_adjoint(&t, y, ty);
    double a = 0, b = 0;
    for (size_t i = 0; i < m; i++) a += (double)tx[i] * y[i];
    for (size_t i = 0; i < n; i++) b += (double)x[i] * ty[i];
    CHECKF(fabs(a - b) < 1e-4 * (fabs(a) + 1), "trial %d: <Tx,y> %.9g vs <x,T'y> %.9g", trial, a, b);
    free(x), free(y), free(tx), free(ty);
  }
  /* pad 2 + jitter (integer shift), roll: exact values */
  dd_transform t;
  memset(&t, 0, sizeof t);
  t.active = 1, t.w = 5, t.h = 4, t.pad = 2, t.jx = 1, t.jy = -1, t.ox = 2, t.oy = 1, t.s = 1, t.ow = 9, t.oh = 8;
  float x[4 * 5 * 3], out[9 * 8 * 3];
  for (int i = 0; i < 60; i++) x[i] = (float)i;
  dd_transform_apply(&t, x, -7.0f, out);
  int ok = 1;
  for (int v = 0; v < 8; v++)
    for (int u = 0; u < 9; u++) {
      int sx = u - 2 - 1, sy = v - 2 + 1; /* canvas minus pad, minus jitter */
      float want = -7.0f;
      if (sx >= 0 && sx < 5 && sy >= 0 && sy < 4) {
        int rx = ((sx - 2) % 5 + 5) % 5, ry = ((sy - 1) % 4 + 4) % 4; /* np.roll by (2, 1) */
        want = x[(ry * 5 + rx) * 3 + 1];
      }
      ok &= out[(v * 9 + u) * 3 + 1] == want;
    }
  CHECK(ok);
}

int main(void) {
  TEST_RUN(test_parse);
  TEST_RUN(test_gradients);
  TEST_RUN(test_square_is_the_tutorial);
  TEST_RUN(test_tutorial_channel_checked_first);
  TEST_RUN(test_guide_match_exact);
  TEST_RUN(test_bind_errors);
  TEST_RUN(test_selection);
  TEST_RUN(test_tv);
  TEST_RUN(test_transform_adjoint);
  return test_summary();
}
