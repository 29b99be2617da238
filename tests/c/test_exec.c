/* test_exec.c — the executor against an independent double-precision
 * interpreter (graph_ref64.h): forward values of every node kind, and the
 * DeepDream input gradient against central finite differences in double,
 * on an Inception-shaped miniature graph, for every backend in the build. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/exec.h"
#include "graph_ref64.h"
#include "testutil.h"

typedef struct mini {
  dd_graph g;
  int input, conv0, pool0, lrn0, conv1, mixed, concat_pre, avg, reshape, logits, softmax, branch3, relu0;
} mini;

static int conv_block(dd_graph *g, test_rng *r, const char *name, int x, int kh, int kw, int ci, int co, int stride,
                      dd_padding pad, int relu, int *pre) {
  char buf[64];
  int64_t dims[4] = {kh, kw, ci, co};
  size_t n = (size_t)kh * kw * ci * co;
  float *w = (float *)malloc(n * sizeof(float)), b[64];
  float scale = 1.5f / sqrtf((float)(kh * kw * ci));
  test_fill(r, w, n, -scale, scale);
  test_fill(r, b, (size_t)co, -0.1f, 0.2f);
  snprintf(buf, sizeof buf, "%s_w", name);
  int wi = gb_const(g, buf, 4, dims, w);
  snprintf(buf, sizeof buf, "%s_b", name);
  int64_t bd[1] = {co};
  int bi = gb_const(g, buf, 1, bd, b);
  free(w);
  snprintf(buf, sizeof buf, "%s_pre_relu/conv", name);
  int c = gb_op(g, buf, DD_OP_CONV2D, x, wi);
  g->nodes[c].attr.conv.strides[0] = g->nodes[c].attr.conv.strides[1] = stride;
  g->nodes[c].attr.conv.padding = pad;
  snprintf(buf, sizeof buf, "%s_pre_relu", name);
  int ba = gb_op(g, buf, DD_OP_BIAS_ADD, c, bi);
  if (pre) *pre = ba;
  if (!relu) return ba;
  return gb_op(g, name, DD_OP_RELU, ba, -1);
}

static void build_mini(mini *m, uint64_t seed) {
  test_rng r;
  test_rng_seed(&r, seed);
  dd_graph *g = &m->g;
  dd_graph_init(g);
  m->input = gb_op(g, "input", DD_OP_PLACEHOLDER, -1, -1);
  m->conv0 = conv_block(g, &r, "conv0", m->input, 5, 5, 3, 8, 2, DD_PADDING_SAME, 1, NULL);
  m->relu0 = m->conv0;
  m->pool0 = gb_op(g, "pool0", DD_OP_MAX_POOL, m->conv0, -1);
  g->nodes[m->pool0].attr.pool = (dd_window){3, 3, 2, 2, DD_PADDING_SAME};
  m->lrn0 = gb_op(g, "lrn0", DD_OP_LRN, m->pool0, -1);
  g->nodes[m->lrn0].attr.lrn = (dd_lrn_params){2, 2.0f, 1e-2f, 0.75f};
  m->conv1 = conv_block(g, &r, "conv1", m->lrn0, 1, 1, 8, 12, 1, DD_PADDING_VALID, 1, NULL);
  /* an inception block: 1x1, 3x3 via bottleneck, 5x5 via bottleneck, pool + 1x1 */
  int b1 = conv_block(g, &r, "mixed_1x1", m->conv1, 1, 1, 12, 4, 1, DD_PADDING_SAME, 1, NULL);
  int b2a = conv_block(g, &r, "mixed_3x3_bottleneck", m->conv1, 1, 1, 12, 6, 1, DD_PADDING_SAME, 1, NULL);
  int pre3;
  int b2 = conv_block(g, &r, "mixed_3x3", b2a, 3, 3, 6, 5, 1, DD_PADDING_SAME, 1, &pre3);
  m->branch3 = pre3;
  int b3a = conv_block(g, &r, "mixed_5x5_bottleneck", m->conv1, 1, 1, 12, 3, 1, DD_PADDING_SAME, 1, NULL);
  int b3 = conv_block(g, &r, "mixed_5x5", b3a, 5, 5, 3, 4, 1, DD_PADDING_SAME, 1, NULL);
  int p = gb_op(g, "mixed_pool", DD_OP_MAX_POOL, m->conv1, -1);
  g->nodes[p].attr.pool = (dd_window){3, 3, 1, 1, DD_PADDING_SAME};
  int b4 = conv_block(g, &r, "mixed_pool_reduce", p, 1, 1, 12, 3, 1, DD_PADDING_SAME, 1, NULL);
  m->mixed = dd_graph_add_node(g, "mixed", 5, DD_OP_CONCAT);
  int ins[4] = {b1, b2, b3, b4};
  dd_graph_set_inputs(g, m->mixed, ins, 4, NULL);
  g->nodes[m->mixed].attr.concat.axis = 3;
  m->avg = gb_op(g, "avgpool", DD_OP_AVG_POOL, m->mixed, -1);
  g->nodes[m->avg].attr.pool = (dd_window){3, 3, 2, 2, DD_PADDING_VALID};
  m->reshape = gb_op(g, "flat", DD_OP_RESHAPE, m->avg, -1);
  g->nodes[m->reshape].attr.reshape.rank = 2;
  g->nodes[m->reshape].attr.reshape.dims[0] = -1;
  g->nodes[m->reshape].attr.reshape.dims[1] = 16;
  float wm[16 * 7];
  test_fill(&r, wm, 16 * 7, -0.5f, 0.5f);
  int64_t md[2] = {16, 7};
  int mw = gb_const(g, "fc_w", 2, md, wm);
  m->logits = gb_op(g, "logits", DD_OP_MATMUL, m->reshape, mw);
  m->softmax = gb_op(g, "softmax", DD_OP_SOFTMAX, m->logits, -1);
  m->concat_pre = b2;
}

static const dd_kernels *backend(int i) {
  switch (i) {
    case 0: return dd_kernels_reference();
    case 1: return dd_kernels_simd128();
    default: return dd_kernels_xnnpack();
  }
}

static void make_input(r64 *in64, float *in32, int h, int w, uint64_t seed) {
  test_rng r;
  test_rng_seed(&r, seed);
  in64->n = 1; in64->h = h; in64->w = w; in64->c = 3;
  for (int i = 0; i < h * w * 3; i++) {
    in32[i] = test_uniform(&r, 0.0f, 255.0f) / 64.0f;
    in64->d[i] = in32[i];
  }
}

static void test_forward_matches_double(void) {
  mini m;
  build_mini(&m, 11);
  CHECK_OK(dd_graph_validate(&m.g, NULL));
  const int H = 29, W = 23;
  float *in32 = test_alloc(H * W * 3);
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * H * W * 3);
  make_input(&in64, in32, H, W, 5);
  int targets[] = {m.conv0, m.pool0, m.lrn0, m.conv1, m.branch3, m.mixed, m.avg, m.reshape, m.logits, m.softmax};
  for (int b = 0; b < 3; b++) {
    const dd_kernels *k = backend(b);
    if (!k) continue;
    dd_exec *e = NULL;
    dd_error err;
    CHECK_OK(dd_exec_create(&m.g, k, 1, &e, &err));
    if (!e) break;
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
      dd_tensor out;
      dd_status s = dd_exec_forward(e, targets[t], in32, dd_shape4(1, H, W, 3), &out, &err);
      CHECKF(s == DD_OK, "%s forward %s: %s", k->name, m.g.nodes[targets[t]].name, err.message);
      if (s != DD_OK) continue;
      r64 want;
      CHECK(r64_forward(&m.g, targets[t], &in64, &want) == 0);
      size_t n = dd_shape_count(out.shape);
      CHECKF(n == r64_count(&want), "%s: count %zu vs %zu", m.g.nodes[targets[t]].name, n, r64_count(&want));
      float *w32 = test_alloc(n);
      for (size_t i = 0; i < n; i++) w32[i] = (float)want.d[i];
      double rel = test_rel_l2(out.data, w32, n);
      CHECKF(rel < 2e-6, "%s: forward %s rel L2 %.3g", k->name, m.g.nodes[targets[t]].name, rel);
      free(w32);
      free(want.d);
    }
    dd_exec_free(e);
  }
  free(in32);
  free(in64.d);
  dd_graph_free(&m.g);
}

/* Gradient of mean(square(target[..., ch])) wrt the input: engine vs central
   finite differences of the double interpreter. */
static void check_gradient(mini *m, int target, const int *ch, int nch, int H, int W) {
  size_t n = (size_t)H * W * 3;
  float *in32 = test_alloc(n), *g32 = test_alloc(n), *fd32 = test_alloc(n);
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * n);
  make_input(&in64, in32, H, W, 77);
  /* FD in double: step 1e-4 on inputs of magnitude ~4 */
  const double hstep = 1e-4;
  for (size_t i = 0; i < n; i++) {
    double x0 = in64.d[i];
    in64.d[i] = x0 + hstep;
    double fp = r64_objective(&m->g, target, ch, nch, &in64);
    in64.d[i] = x0 - hstep;
    double fm = r64_objective(&m->g, target, ch, nch, &in64);
    in64.d[i] = x0;
    fd32[i] = (float)((fp - fm) / (2 * hstep));
  }
  double want_loss = r64_objective(&m->g, target, ch, nch, &in64);
  for (int b = 0; b < 3; b++) {
    const dd_kernels *k = backend(b);
    if (!k) continue;
    dd_exec *e = NULL;
    dd_error err;
    CHECK_OK(dd_exec_create(&m->g, k, 1, &e, &err));
    float loss = 0;
    dd_status s = dd_exec_objective_gradient(e, target, ch, nch, in32, dd_shape4(1, H, W, 3), g32, &loss, &err);
    CHECKF(s == DD_OK, "%s gradient: %s", k->name, err.message);
    double rel = test_rel_l2(g32, fd32, n);
    double gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(fd32[i]));
    CHECKF(gmax > 0, "gradient is identically zero for %s (loss %g, %dx%d)", m->g.nodes[target].name, want_loss, H, W);
    CHECKF(rel < 1e-4, "%s: gradient of %s (%d channels) rel L2 vs finite differences %.3g", k->name,
           m->g.nodes[target].name, nch, rel);
    CHECKF(fabs(loss - want_loss) <= 1e-5 * fabs(want_loss) + 1e-12, "%s: loss %.9g vs %.9g", k->name, loss, want_loss);
    /* run twice: the second run reuses the plan and arena and must agree bit for bit */
    float *g2 = test_alloc(n);
    dd_exec_objective_gradient(e, target, ch, nch, in32, dd_shape4(1, H, W, 3), g2, NULL, &err);
    CHECK(memcmp(g2, g32, n * sizeof(float)) == 0);
    free(g2);
    dd_exec_free(e);
  }
  free(in32);
  free(g32);
  free(fd32);
  free(in64.d);
}

static void test_gradient_finite_differences(void) {
  mini m;
  build_mini(&m, 3);
  int ch2[2] = {1, 3}, ch1[1] = {5};
  check_gradient(&m, m.conv0, NULL, 0, 13, 11);
  check_gradient(&m, m.lrn0, ch2, 2, 13, 11);
  check_gradient(&m, m.mixed, NULL, 0, 14, 17);
  check_gradient(&m, m.mixed, ch1, 1, 17, 14);
  check_gradient(&m, m.branch3, NULL, 0, 12, 12); /* a pre-relu target: BiasAdd not fused away */
  check_gradient(&m, m.softmax, ch1, 1, 13, 13);
  dd_graph_free(&m.g);
}

/* A concat that lists one tensor twice (its gradient accumulates inside the
   concat's backward) beside a pooled copy of it. */
static void test_concat_repeated_input(void) {
  mini m;
  memset(&m, 0, sizeof m);
  test_rng r;
  test_rng_seed(&r, 21);
  dd_graph *g = &m.g;
  dd_graph_init(g);
  m.input = gb_op(g, "input", DD_OP_PLACEHOLDER, -1, -1);
  int a = conv_block(g, &r, "conv_a", m.input, 3, 3, 3, 5, 1, DD_PADDING_SAME, 1, NULL);
  int p = gb_op(g, "pool_a", DD_OP_MAX_POOL, a, -1);
  g->nodes[p].attr.pool = (dd_window){3, 3, 1, 1, DD_PADDING_SAME};
  int cat = dd_graph_add_node(g, "cat", 3, DD_OP_CONCAT);
  int ins[3] = {a, p, a};
  dd_graph_set_inputs(g, cat, ins, 3, NULL);
  g->nodes[cat].attr.concat.axis = 3;
  CHECK_OK(dd_graph_validate(g, NULL));
  int ch[3] = {0, 6, 12};
  check_gradient(&m, cat, NULL, 0, 9, 8);
  check_gradient(&m, cat, ch, 3, 8, 9);
  dd_graph_free(g);
  /* a relu conv that only Concats consume (its relu mask is applied by the
     Concat's gradient copy), listed twice: masked copy, then masked add */
  memset(&m, 0, sizeof m);
  dd_graph_init(g);
  m.input = gb_op(g, "input", DD_OP_PLACEHOLDER, -1, -1);
  int b = conv_block(g, &r, "conv_b", m.input, 3, 3, 3, 4, 1, DD_PADDING_SAME, 1, NULL);
  int c2 = conv_block(g, &r, "conv_c", m.input, 1, 1, 3, 3, 1, DD_PADDING_SAME, 1, NULL);
  int cat2 = dd_graph_add_node(g, "cat2", 4, DD_OP_CONCAT);
  int ins2[3] = {b, c2, b};
  dd_graph_set_inputs(g, cat2, ins2, 3, NULL);
  g->nodes[cat2].attr.concat.axis = 3;
  /* a linear layer after it, so the gradient reaching the Concat is not
     already zero where the relu is (as d mean(square(relu)) would be) */
  int head = conv_block(g, &r, "head", cat2, 1, 1, 11, 5, 1, DD_PADDING_SAME, 0, NULL);
  CHECK_OK(dd_graph_validate(g, NULL));
  int chb[2] = {1, 4};
  check_gradient(&m, head, NULL, 0, 8, 7);
  check_gradient(&m, head, chb, 2, 7, 8);
  dd_graph_free(g);
}

/* The executor with a 2-thread pool against the same executor on one thread,
   bit for bit, on inputs large enough that the element-wise ops, concats and
   kernels all split their work: forward outputs, losses and gradients. */
static void test_threads_bit_identical(void) {
  mini m;
  build_mini(&m, 5);
  const int H = 203, W = 190;
  size_t n = (size_t)H * W * 3;
  float *in = test_alloc(n), *g1 = test_alloc(n), *g2 = test_alloc(n);
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * n);
  make_input(&in64, in, H, W, 8);
  int ch[3] = {2, 9, 15};
  struct { int target; const int *ch; int nch; } cases[] = {
      {m.mixed, NULL, 0}, {m.mixed, ch, 3}, {m.branch3, NULL, 0}, {m.conv0, NULL, 0}, {m.softmax, ch, 1}, {m.lrn0, ch, 1},
  };
  for (int b = 0; b < 3; b++) {
    const dd_kernels *k = backend(b);
    if (!k) continue;
    dd_exec *e1 = NULL, *e2 = NULL;
    dd_error err;
    CHECK_OK(dd_exec_create(&m.g, k, 1, &e1, &err));
    CHECK_OK(dd_exec_create(&m.g, k, 2, &e2, &err));
    if (!e1 || !e2) break;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
      const char *name = m.g.nodes[cases[t].target].name;
      dd_tensor o1, o2;
      CHECK_OK(dd_exec_forward(e1, cases[t].target, in, dd_shape4(1, H, W, 3), &o1, &err));
      CHECK_OK(dd_exec_forward(e2, cases[t].target, in, dd_shape4(1, H, W, 3), &o2, &err));
      size_t no = dd_shape_count(o1.shape);
      CHECKF(dd_shape_equal(o1.shape, o2.shape) && memcmp(o1.data, o2.data, no * sizeof(float)) == 0,
             "%s: forward %s differs between 1 and 2 threads", k->name, name);
      float l1 = -1, l2 = -2;
      for (size_t i = 0; i < n; i++) g2[i] = NAN;
      CHECK_OK(dd_exec_objective_gradient(e1, cases[t].target, cases[t].ch, cases[t].nch, in, dd_shape4(1, H, W, 3), g1,
                                          &l1, &err));
      CHECK_OK(dd_exec_objective_gradient(e2, cases[t].target, cases[t].ch, cases[t].nch, in, dd_shape4(1, H, W, 3), g2,
                                          &l2, &err));
      double gmax = 0;
      for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(g1[i]));
      CHECKF(gmax > 0, "%s: gradient of %s is zero", k->name, name);
      CHECKF(memcmp(g1, g2, n * sizeof(float)) == 0 && l1 == l2,
             "%s: gradient of %s (%d channels) differs between 1 and 2 threads (loss %.9g vs %.9g)", k->name, name,
             cases[t].nch, l1, l2);
    }
    dd_exec_free(e1);
    dd_exec_free(e2);
  }
  free(in), free(g1), free(g2), free(in64.d);
  dd_graph_free(&m.g);
}

static void test_errors(void) {
  mini m;
  build_mini(&m, 4);
  dd_exec *e = NULL;
  dd_error err;
  CHECK_OK(dd_exec_create(&m.g, dd_kernels_reference(), 1, &e, &err));
  float in[5 * 5 * 3] = {0}, g[5 * 5 * 3];
  int bad[1] = {99};
  dd_status s = dd_exec_objective_gradient(e, m.mixed, bad, 1, in, dd_shape4(1, 9, 9, 3), g, NULL, &err);
  CHECK(s == DD_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "channel 99") != NULL);
  /* too small for the VALID avgpool after 4x downsampling */
  float *big = test_alloc(64 * 64 * 3);
  dd_tensor t;
  s = dd_exec_forward(e, m.softmax, big, dd_shape4(1, 4, 4, 3), &t, &err);
  CHECK(s == DD_ERR_SHAPE);
  s = dd_exec_forward(e, m.mixed, big, dd_shape4(1, 0, 4, 3), &t, &err);
  CHECK(s == DD_ERR_INVALID_ARGUMENT);
  s = dd_exec_forward(e, m.mixed, big, dd_shape4(1, 4, 4, 2), &t, &err);
  CHECK(s == DD_ERR_SHAPE);
  free(big);
  dd_exec_free(e);
  dd_graph_free(&m.g);
}

int main(void) {
  TEST_RUN(test_forward_matches_double);
  TEST_RUN(test_gradient_finite_differences);
  TEST_RUN(test_concat_repeated_input);
  TEST_RUN(test_threads_bit_identical);
  TEST_RUN(test_errors);
  return test_summary();
}
