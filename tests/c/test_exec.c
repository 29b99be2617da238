/* test_exec.c — the executor against an independent double-precision
 * interpreter (graph_ref64.h): forward values of every node kind, and the
 * DeepDream input gradient against central finite differences in double,
 * on an Inception-shaped miniature graph, for every backend in the build;
 * the plan's memory (no two buffers live at one step overlap) and
 * invariants on every plan of the default model, the stand-in and random
 * graphs; fusion on vs off; several targets in one pass against one pass
 * per target. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h" /* white-box: the plan's memory and invariants */
#include "engine/exec.h"
#include "formats/graphdef.h"
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
    CHECK_OK(dd_exec_create(&m.g, k, NULL, 1, &e, &err));
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
    CHECK_OK(dd_exec_create(&m->g, k, NULL, 1, &e, &err));
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

/* An empty test graph with its image input, and a seeded rng for its weights. */
static dd_graph *start_graph(mini *m, test_rng *r, uint64_t seed) {
  memset(m, 0, sizeof *m);
  test_rng_seed(r, seed);
  dd_graph_init(&m->g);
  m->input = gb_op(&m->g, "input", DD_OP_PLACEHOLDER, -1, -1);
  return &m->g;
}

/* A concat that lists one tensor twice (its gradient accumulates inside the
   concat's backward) beside a pooled copy of it. */
static void test_concat_repeated_input(void) {
  mini m;
  test_rng r;
  dd_graph *g = start_graph(&m, &r, 21);
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
    CHECK_OK(dd_exec_create(&m.g, k, NULL, 1, &e1, &err));
    CHECK_OK(dd_exec_create(&m.g, k, NULL, 2, &e2, &err));
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
    /* simd128's convs ran on the executor's one shared workspace (kernels.h) */
    if (k == dd_kernels_simd128())
      CHECKF(dd_exec_workspace_bytes(e1) > 0 && dd_exec_workspace_bytes(e2) >= dd_exec_workspace_bytes(e1),
             "%s: workspace %zu bytes on 1 thread, %zu on 2", k->name, dd_exec_workspace_bytes(e1),
             dd_exec_workspace_bytes(e2));
    dd_exec_free(e1);
    dd_exec_free(e2);
  }
  free(in), free(g1), free(g2), free(in64.d);
  dd_graph_free(&m.g);
}

/* Lanes (dd_exec_create_lane): executors on one set of prepared weights
   that run at the same time, each on one thread. Two lanes and their parent
   (1 thread) compute gradients of different shapes and targets, the lanes
   on two threads at once, several rounds each, with the shapes planned on
   the calling thread first; every result equals the parent's. A lane of a
   lane and a lane on xnnpack (its operators are set up per call) are
   refused. */
typedef struct lane_job {
  dd_exec *lane;
  const int *targets;
  const dd_shape *shapes;
  int n, rounds;
  const float *in;
  float **out; /* per case */
  dd_status st;
} lane_job;
static void *lane_run(void *arg) {
  lane_job *j = (lane_job *)arg;
  dd_error err;
  for (int r = 0; r < j->rounds && j->st == DD_OK; r++)
    for (int i = 0; i < j->n && j->st == DD_OK; i++)
      j->st = dd_exec_objective_gradient(j->lane, j->targets[i], NULL, 0, j->in, j->shapes[i], j->out[i], NULL, &err);
  return NULL;
}
static void test_lanes(void) {
  mini m;
  build_mini(&m, 5);
  enum { NC = 4 };
  const dd_shape shapes[NC] = {dd_shape4(1, 37, 53, 3), dd_shape4(1, 61, 29, 3), dd_shape4(1, 24, 24, 3),
                               dd_shape4(1, 45, 47, 3)};
  const int targets[2][NC] = {{m.mixed, m.branch3, m.conv0, m.mixed}, {m.conv0, m.mixed, m.mixed, m.branch3}};
  const size_t n = 61 * 61 * 3;
  float *in = test_alloc(n);
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * n);
  make_input(&in64, in, 61, 61, 3);
  for (int b = 0; b < 3; b++) {
    const dd_kernels *k = backend(b);
    if (!k) continue;
    dd_exec *parent = NULL, *lanes[2] = {NULL, NULL};
    dd_error err;
    CHECK_OK(dd_exec_create(&m.g, k, NULL, 1, &parent, &err));
    if (!parent) break;
    dd_status s = dd_exec_create_lane(parent, &lanes[0], &err);
    if (!k->conv_concurrent) {
      CHECKF(s == DD_ERR_UNSUPPORTED && !lanes[0], "%s: a lane on a backend without concurrent convs: %s", k->name,
             dd_status_string(s));
      dd_exec_free(parent);
      continue;
    }
    CHECK_OK(s);
    CHECK_OK(dd_exec_create_lane(parent, &lanes[1], &err));
    dd_exec *nested = NULL;
    CHECK(dd_exec_create_lane(lanes[0], &nested, &err) == DD_ERR_INVALID_ARGUMENT && !nested);
    if (!lanes[0] || !lanes[1]) break;
    /* the shapes planned here, on the calling thread */
    for (int l = 0; l < 2; l++)
      for (int i = 0; i < NC; i++) CHECK_OK(dd_exec_reserve(lanes[l], targets[l][i], shapes[i], &err));
    float *want[2][NC], *got[2][NC];
    for (int l = 0; l < 2; l++)
      for (int i = 0; i < NC; i++) {
        const size_t c = dd_shape_count(shapes[i]);
        want[l][i] = test_alloc(c), got[l][i] = test_alloc(c);
        for (size_t q = 0; q < c; q++) got[l][i][q] = NAN;
        CHECK_OK(dd_exec_objective_gradient(parent, targets[l][i], NULL, 0, in, shapes[i], want[l][i], NULL, &err));
      }
    lane_job jobs[2];
    pthread_t th[2];
    for (int l = 0; l < 2; l++) {
      jobs[l] = (lane_job){lanes[l], targets[l], shapes, NC, 6, in, got[l], DD_OK};
      CHECK(pthread_create(&th[l], NULL, lane_run, &jobs[l]) == 0);
    }
    for (int l = 0; l < 2; l++) pthread_join(th[l], NULL);
    for (int l = 0; l < 2; l++) {
      CHECKF(jobs[l].st == DD_OK, "%s: lane %d: %s", k->name, l, dd_status_string(jobs[l].st));
      for (int i = 0; i < NC; i++) {
        CHECKF(memcmp(want[l][i], got[l][i], dd_shape_count(shapes[i]) * sizeof(float)) == 0,
               "%s: lane %d case %d differs from the parent's gradient", k->name, l, i);
        free(want[l][i]), free(got[l][i]);
      }
    }
    /* the parent still runs after its lanes */
    float *again = test_alloc(dd_shape_count(shapes[0]));
    CHECK_OK(dd_exec_objective_gradient(parent, m.mixed, NULL, 0, in, shapes[0], again, NULL, &err));
    free(again);
    dd_exec_free(lanes[0]);
    dd_exec_free(lanes[1]);
    dd_exec_free(parent);
  }
  free(in), free(in64.d);
  dd_graph_free(&m.g);
}

static void test_errors(void) {
  mini m;
  build_mini(&m, 4);
  dd_exec *e = NULL;
  dd_error err;
  CHECK_OK(dd_exec_create(&m.g, dd_kernels_reference(), NULL, 1, &e, &err));
  float in[9 * 9 * 3] = {0}, g[9 * 9 * 3]; /* the shape passed below: the channel is checked once the layer's shape is known */
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

/* Reshape targets whose element count overflows 64 bits (issue 12): a
   product that wraps to a divisor of the input's count must not pass as a
   valid shape (2147418113 * 1718039348 * 5 = 2^64 + 4), nor may [65536]x4
   (2^64, wrapping to 0) reach signed overflow. */
static void test_reshape_overflow(void) {
  static const int64_t cases[][4] = {{2147418113, 1718039348, 5, -1}, {65536, 65536, 65536, 65536},
                                     {-1, 65536, 65536, 65536}, {2147418113, 1718039348, 5, 3}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    dd_graph g;
    dd_graph_init(&g);
    int in = gb_op(&g, "input", DD_OP_PLACEHOLDER, -1, -1);
    int rs = gb_op(&g, "rs", DD_OP_RESHAPE, in, -1);
    g.nodes[rs].attr.reshape.rank = 4;
    memcpy(g.nodes[rs].attr.reshape.dims, cases[c], sizeof cases[c]);
    CHECK_OK(dd_graph_validate(&g, NULL));
    dd_exec *e = NULL;
    dd_error err;
    CHECK_OK(dd_exec_create(&g, dd_kernels_reference(), NULL, 1, &e, &err));
    dd_shape out = {0, 0, 0, 0};
    err.message[0] = '\0';
    dd_status s = dd_exec_output_shape(e, rs, dd_shape4(1, 2, 2, 3), &out, &err);
    CHECKF(s == DD_ERR_SHAPE && err.message[0], "case %zu: status %d, shape %dx%dx%dx%d, '%s'", c, (int)s, out.n,
           out.h, out.w, out.c, err.message);
    float x[12] = {0};
    dd_tensor t;
    s = dd_exec_forward(e, rs, x, dd_shape4(1, 2, 2, 3), &t, &err);
    CHECKF(s == DD_ERR_SHAPE, "case %zu: forward status %d", c, (int)s);
    dd_exec_free(e);
    dd_graph_free(&g);
  }
}

/* Every failure of dd_exec_create fills dd_error (issue 12: an empty MatMul
   or BiasAdd constant returned DD_ERR_OUT_OF_MEMORY with no message, and the
   JS loader took the silent failure for a model). */
static void test_errors_are_filled(void) {
  for (int kind = 0; kind < 2; kind++) {
    dd_graph g;
    dd_graph_init(&g);
    int in = gb_op(&g, "input", DD_OP_PLACEHOLDER, -1, -1);
    float one = 1.0f;
    int64_t dims[2] = {kind == 0 ? 3 : 0, kind == 0 ? 0 : 1};
    int w = gb_const(&g, "empty", kind == 0 ? 2 : 1, dims, &one);
    g.nodes[w].attr.value.f = NULL; /* an empty tensor has no data (as the importer leaves it) */
    int op = gb_op(&g, "op", kind == 0 ? DD_OP_MATMUL : DD_OP_BIAS_ADD, in, w);
    (void)op;
    dd_error err;
    err.message[0] = '\0';
    dd_status s = dd_graph_validate(&g, &err);
    CHECKF(s != DD_OK && strstr(err.message, "empty"), "%s: validate %d '%s'", kind ? "BiasAdd" : "MatMul", (int)s,
           err.message);
    for (int b = 0; b < 3; b++) {
      const dd_kernels *k = backend(b);
      if (!k) continue;
      dd_exec *e = NULL;
      err.message[0] = '\0';
      err.status = DD_OK;
      s = dd_exec_create(&g, k, NULL, 1, &e, &err);
      CHECKF(s != DD_OK && e == NULL && err.status == s && err.message[0],
             "%s (%s): create returned %d with message '%s'", kind ? "BiasAdd" : "MatMul", k->name, (int)s, err.message);
      dd_exec_free(e);
    }
    dd_graph_free(&g);
  }
}

/* The worked example of "Adding an op" (ARCHITECTURE.md): LeakyRelu between
   two convs and as a target, forward against the double interpreter and
   gradient against finite differences, on every backend; its alpha is
   checked by validation. */
static void test_leaky_relu(void) {
  mini m;
  test_rng r;
  dd_graph *g = start_graph(&m, &r, 23);
  int a = conv_block(g, &r, "conv_a", m.input, 3, 3, 3, 6, 1, DD_PADDING_SAME, 0, NULL);
  int l1 = gb_op(g, "leaky1", DD_OP_LEAKY_RELU, a, -1);
  g->nodes[l1].attr.alpha = 0.2f;
  int b = conv_block(g, &r, "conv_b", l1, 3, 3, 6, 5, 2, DD_PADDING_SAME, 0, NULL);
  int l2 = gb_op(g, "leaky2", DD_OP_LEAKY_RELU, b, -1);
  g->nodes[l2].attr.alpha = -0.5f; /* any finite slope */
  CHECK_OK(dd_graph_validate(g, NULL));
  const int H = 15, W = 13;
  float *in32 = test_alloc(H * W * 3);
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * H * W * 3);
  make_input(&in64, in32, H, W, 4);
  int targets[2] = {l1, l2};
  for (int bk = 0; bk < 3; bk++) {
    const dd_kernels *k = backend(bk);
    if (!k) continue;
    dd_exec *e = NULL;
    dd_error err;
    CHECK_OK(dd_exec_create(g, k, NULL, 1, &e, &err));
    for (int t = 0; t < 2; t++) {
      dd_tensor out;
      CHECK_OK(dd_exec_forward(e, targets[t], in32, dd_shape4(1, H, W, 3), &out, &err));
      r64 want, x;
      CHECK(r64_forward(g, targets[t], &in64, &want) == 0);
      CHECK(r64_forward(g, g->nodes[targets[t]].inputs[0], &in64, &x) == 0);
      size_t n = dd_shape_count(out.shape);
      CHECK(n == r64_count(&want));
      float *w32 = test_alloc(n);
      int negative = 0;
      for (size_t i = 0; i < n; i++) w32[i] = (float)want.d[i], negative += x.d[i] < 0;
      CHECKF(negative > 0 && (size_t)negative < n, "%d of %zu inputs negative: a side is untested", negative, n);
      free(x.d);
      CHECKF(test_rel_l2(out.data, w32, n) < 2e-6, "%s: LeakyRelu forward rel L2 %.3g", k->name,
             test_rel_l2(out.data, w32, n));
      free(w32);
      free(want.d);
    }
    dd_exec_free(e);
  }
  int ch[2] = {0, 3};
  check_gradient(&m, l2, NULL, 0, 11, 12);
  check_gradient(&m, l2, ch, 2, 12, 11);
  check_gradient(&m, l1, ch, 1, 9, 10);
  g->nodes[l2].attr.alpha = NAN;
  dd_error err;
  CHECK(dd_graph_validate(g, &err) == DD_ERR_GRAPH && strstr(err.message, "alpha"));
  free(in32);
  free(in64.d);
  dd_graph_free(g);
}


/* The ONNX ops and geometries (ARCHITECTURE.md "Adding an op"): explicit
   asymmetric conv pads, SAME_LOWER, a max pool with ceil_mode, an average
   pool counting its padding, Clip, a per-channel Mul, Add of two
   activations, GlobalAvgPool; forward against the double interpreter and
   the input gradient against finite differences, on every backend. */
static void set_conv_pads(dd_graph *g, int bias_add, dd_padding mode, int t, int l, int b, int r) {
  dd_node *c = &g->nodes[g->nodes[bias_add].inputs[0]];
  c->attr.conv.padding = mode;
  c->attr.conv.pads[0] = t, c->attr.conv.pads[1] = l, c->attr.conv.pads[2] = b, c->attr.conv.pads[3] = r;
}

static void check_forward(const dd_graph *g, const int *targets, int n_targets, int H, int W, double tol) {
  float *in32 = test_alloc((size_t)H * W * 3);
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * H * W * 3);
  make_input(&in64, in32, H, W, 5);
  for (int bk = 0; bk < 3; bk++) {
    const dd_kernels *k = backend(bk);
    if (!k) continue;
    dd_exec *e = NULL;
    dd_error err;
    CHECK_OK(dd_exec_create(g, k, NULL, 1, &e, &err));
    for (int t = 0; t < n_targets; t++) {
      dd_tensor out;
      dd_status s = dd_exec_forward(e, targets[t], in32, dd_shape4(1, H, W, 3), &out, &err);
      CHECKF(s == DD_OK, "%s forward to %s: %s", k->name, g->nodes[targets[t]].name, err.message);
      if (s != DD_OK) continue;
      r64 want;
      CHECK(r64_forward(g, targets[t], &in64, &want) == 0);
      CHECKF(out.shape.n == want.n && out.shape.h == want.h && out.shape.w == want.w && out.shape.c == want.c,
             "%s: %s is %dx%dx%dx%d, the double interpreter says %dx%dx%dx%d", k->name, g->nodes[targets[t]].name,
             out.shape.n, out.shape.h, out.shape.w, out.shape.c, want.n, want.h, want.w, want.c);
      size_t n = dd_shape_count(out.shape);
      if (n == r64_count(&want)) {
        float *w32 = test_alloc(n);
        for (size_t i = 0; i < n; i++) w32[i] = (float)want.d[i];
        CHECKF(test_rel_l2(out.data, w32, n) < tol, "%s: %s forward rel L2 %.3g", k->name, g->nodes[targets[t]].name,
               test_rel_l2(out.data, w32, n));
        free(w32);
      }
      free(want.d);
    }
    dd_exec_free(e);
  }
  free(in32);
  free(in64.d);
}

static void test_onnx_ops(void) {
  const int ch_w[2] = {0, 7};
  mini m;
  test_rng r;
  dd_graph *g = start_graph(&m, &r, 31);
  /* 3x3 stride 2 with pads top 2, left 0, bottom 1, right 2 */
  int a = conv_block(g, &r, "conv_asym", m.input, 3, 3, 3, 6, 2, DD_PADDING_VALID, 0, NULL);
  set_conv_pads(g, a, DD_PADDING_EXPLICIT, 2, 0, 1, 2);
  int clip = gb_op(g, "clip", DD_OP_CLIP, a, -1);
  g->nodes[clip].attr.clip.lo = -0.5f, g->nodes[clip].attr.clip.hi = 0.6f;
  int mp = gb_op(g, "pool_ceil", DD_OP_MAX_POOL, clip, -1);
  g->nodes[mp].attr.pool = (dd_window){3, 3, 2, 2, DD_PADDING_EXPLICIT, {0, 1, 1, 0}, 1, 0};
  /* two branches summed: a SAME_LOWER 4x4 conv (even kernel: the odd pad pixel goes first) and a per-channel Mul */
  int b1 = conv_block(g, &r, "conv_lower", mp, 4, 4, 6, 6, 1, DD_PADDING_SAME_LOWER, 0, NULL);
  float f6[6] = {0.5f, -1.25f, 2.0f, 0.75f, -0.3f, 1.1f};
  int64_t d6[1] = {6};
  int fk = gb_const(g, "factor", 1, d6, f6);
  int b2 = gb_op(g, "scaled", DD_OP_MUL, mp, fk);
  int sum = gb_op(g, "sum", DD_OP_ADD, b1, b2);
  int relu = gb_op(g, "sum_relu", DD_OP_RELU, sum, -1);
  int avg = gb_op(g, "avg_incl", DD_OP_AVG_POOL, relu, -1);
  g->nodes[avg].attr.pool = (dd_window){3, 3, 2, 2, DD_PADDING_EXPLICIT, {1, 1, 1, 2}, 0, 1};
  int gap = gb_op(g, "gap", DD_OP_GLOBAL_AVG_POOL, avg, -1);
  int self = gb_op(g, "self_sum", DD_OP_ADD, avg, avg); /* one input twice: gradients accumulate */
  /* 8+ channels, stride 1, square: the geometries simd128 runs through Winograd
     (3x3 and 5x5), here with asymmetric explicit pads */
  int ex = conv_block(g, &r, "expand", m.input, 1, 1, 3, 8, 1, DD_PADDING_VALID, 1, NULL);
  int w3 = conv_block(g, &r, "wino3", ex, 3, 3, 8, 9, 1, DD_PADDING_VALID, 1, NULL);
  set_conv_pads(g, g->nodes[w3].inputs[0], DD_PADDING_EXPLICIT, 2, 0, 0, 2);
  int w5 = conv_block(g, &r, "wino5", w3, 5, 5, 9, 8, 1, DD_PADDING_VALID, 0, NULL);
  set_conv_pads(g, w5, DD_PADDING_EXPLICIT, 4, 1, 0, 3);
  CHECK_OK(dd_graph_validate(g, NULL));
  const int targets[] = {a, clip, mp, b1, b2, sum, avg, gap, self, w3, w5};
  check_forward(g, targets, 11, 23, 19, 2e-6);
  check_forward(g, targets, 11, 16, 17, 2e-6);
  check_gradient(&m, w5, ch_w, 2, 14, 15);
  check_gradient(&m, w3, NULL, 0, 12, 11);
  int ch[2] = {1, 4};
  check_gradient(&m, a, NULL, 0, 11, 12);
  check_gradient(&m, mp, ch, 2, 13, 12);
  check_gradient(&m, sum, NULL, 0, 14, 13);
  check_gradient(&m, avg, ch, 2, 15, 16);
  check_gradient(&m, gap, NULL, 0, 13, 14);
  check_gradient(&m, self, ch, 1, 12, 12);
  /* validation: pads not smaller than the window, unordered clip bounds, a constant Add */
  g->nodes[mp].attr.pool.pads[2] = 3;
  dd_error err;
  CHECK(dd_graph_validate(g, &err) == DD_ERR_GRAPH && strstr(err.message, "pad"));
  g->nodes[mp].attr.pool.pads[2] = 1;
  g->nodes[clip].attr.clip.lo = 1.0f;
  CHECK(dd_graph_validate(g, &err) == DD_ERR_GRAPH && strstr(err.message, "bounds"));
  g->nodes[clip].attr.clip.lo = -0.5f;
  set_conv_pads(g, a, DD_PADDING_EXPLICIT, 3, 0, 1, 2);
  CHECK(dd_graph_validate(g, &err) == DD_ERR_GRAPH && strstr(err.message, "pad 0 is 3"));
  set_conv_pads(g, a, DD_PADDING_EXPLICIT, 2, 0, 1, 2);
  CHECK_OK(dd_graph_validate(g, NULL));
  dd_graph_free(g);
}

/* ---- the plan's memory ------------------------------------------------------------ */

/* An independent account of the current plan's buffers: every root's
   activation lives for the whole run; a gradient buffer lives from the first
   backward step that touches it to the last (the seed is step -1, the final
   copy of the input's gradient step n); scratch lives through the backward
   pass. Derived here from the plan's nodes and ops (not from the planner's
   lifetimes): any two buffers live at one step must not share a byte, and
   every buffer must lie inside the arena. Returns the number of buffers. */
typedef struct buf { size_t off, size; int first, last; int root; const char *what; } buf;

static int op_moves_gradient(const dd_exec *e, int pi) {
  dd_op op = e->g->nodes[e->plan[pi].node].op;
  return op != DD_OP_PLACEHOLDER && op != DD_OP_IDENTITY && op != DD_OP_RESHAPE && !e->plan[pi].absorbed;
}

static void touch(buf *b, int step) {
  if (step < b->first) b->first = step;
  if (step > b->last) b->last = step;
}

static int check_plan_memory(const dd_exec *e, int want_grad, const char *label) {
  const int n = e->plan_len;
  buf *bufs = (buf *)calloc((size_t)n * 2 + 1, sizeof *bufs);
  int *gbuf = (int *)malloc(sizeof(int) * (size_t)n); /* root -> its gradient buffer, -1 */
  int nb = 0;
  size_t max_elems = 0;
  for (int pi = 0; pi < n; pi++) {
    const dd_plan_node *pn = &e->plan[pi];
    size_t cnt = dd_shape_count(pn->shape);
    if (cnt > max_elems) max_elems = cnt;
    gbuf[pi] = -1;
    if (pn->root != pi) continue;
    bufs[nb++] = (buf){pn->act_off, cnt * sizeof(float) + DD_EXTRA_BYTES, -2, n + 1, pi, "activation"};
  }
  if (want_grad) {
    for (int pi = 0; pi < n; pi++)
      if (e->plan[pi].root == pi) {
        gbuf[pi] = nb;
        bufs[nb++] = (buf){e->plan[pi].grad_off, dd_shape_count(e->plan[pi].shape) * sizeof(float) + DD_EXTRA_BYTES,
                           INT32_MAX, INT32_MIN, pi, "gradient"};
      }
    bufs[nb++] = (buf){e->scratch_off, max_elems * sizeof(float) + DD_EXTRA_BYTES, -1, n, -1, "scratch"};
    for (int t = 0; t < e->plan_n_targets; t++) touch(&bufs[gbuf[e->plan[e->plan_index[e->plan_targets[t]]].root]], -1);
    for (int pi = 0; pi < n; pi++) {
      const dd_node *nd = &e->g->nodes[e->plan[pi].node];
      if (nd->op == DD_OP_PLACEHOLDER) touch(&bufs[gbuf[e->plan[pi].root]], n);
      if (!op_moves_gradient(e, pi)) continue;
      const int step = n - 1 - pi;
      touch(&bufs[gbuf[e->plan[pi].root]], step); /* reads its output's gradient */
      for (int j = 0; j < nd->n_inputs; j++) {
        int ai = e->plan_index[nd->inputs[j]];
        if (ai >= 0) touch(&bufs[gbuf[e->plan[ai].root]], step); /* writes its input's */
      }
    }
  }
  int bad = 0;
  for (int i = 0; i < nb && !bad; i++) {
    const buf *a = &bufs[i];
    if (a->first > a->last) continue; /* never touched */
    if (a->off + a->size > e->arena.used) {
      CHECKF(0, "%s: %s buffer of '%s' ends at %zu, past the arena's %zu bytes", label, a->what,
             a->root >= 0 ? e->g->nodes[e->plan[a->root].node].name : "-", a->off + a->size, e->arena.used);
      bad = 1;
    }
    for (int j = i + 1; j < nb && !bad; j++) {
      const buf *b = &bufs[j];
      if (b->first > b->last || a->first > b->last || b->first > a->last) continue;
      if (a->off < b->off + b->size && b->off < a->off + a->size) {
        CHECKF(0, "%s: %s of '%s' [%zu, +%zu) steps %d..%d overlaps %s of '%s' [%zu, +%zu) steps %d..%d", label,
               a->what, a->root >= 0 ? e->g->nodes[e->plan[a->root].node].name : "-", a->off, a->size, a->first,
               a->last, b->what, b->root >= 0 ? e->g->nodes[e->plan[b->root].node].name : "-", b->off, b->size,
               b->first, b->last);
        bad = 1;
      }
    }
  }
  char why[256];
  if (!dd_plan_check(e, why, sizeof why)) {
    CHECKF(0, "%s: plan invariant broken: %s", label, why);
    bad = 1;
  }
  free(bufs);
  free(gbuf);
  return bad ? -1 : nb;
}

/* The planner itself on random records: live-at-once records never overlap,
   and each sits at the lowest offset free of them (first fit). */
static void test_memplan_random_records(void) {
  test_rng r;
  test_rng_seed(&r, 99);
  for (int trial = 0; trial < 300; trial++) {
    int n = test_randint(&r, 0, 40), order[40];
    dd_usage_record rec[40];
    for (int i = 0; i < n; i++) {
      int a = test_randint(&r, -1, 30), b = test_randint(&r, -1, 30);
      rec[i].first = a < b ? a : b;
      rec[i].last = a < b ? b : a;
      rec[i].size = (size_t)test_randint(&r, 1, 8) * 64 * (size_t)(test_randint(&r, 0, 3) ? 1 : 37);
    }
    size_t total = dd_memplan_place(rec, n, order);
    int x = -1, y = -1;
    CHECKF(!dd_memplan_conflict(rec, n, &x, &y), "trial %d: records %d and %d overlap", trial, x, y);
    size_t top = 0, sum = 0;
    for (int i = 0; i < n; i++) {
      if (rec[i].offset + rec[i].size > top) top = rec[i].offset + rec[i].size;
      sum += rec[i].size;
      /* first fit: at offset 0 or directly after a live-at-once record */
      int flush = rec[i].offset == 0;
      for (int j = 0; j < n && !flush; j++)
        if (j != i && rec[j].first <= rec[i].last && rec[i].first <= rec[j].last &&
            rec[j].offset + rec[j].size == rec[i].offset)
          flush = 1;
      CHECKF(flush, "trial %d: record %d at %zu follows no live buffer", trial, i, rec[i].offset);
    }
    CHECK(total == top && total <= sum);
  }
  /* disjoint lifetimes share memory; overlapping ones stack, largest first */
  dd_usage_record rec[3] = {{0, 2, 128, 0}, {3, 5, 256, 0}, {2, 3, 64, 0}};
  int order[3];
  CHECK(dd_memplan_place(rec, 3, order) == 256 + 64);
  CHECK(rec[1].offset == 0 && rec[0].offset == 0 && rec[2].offset == 256);
  /* the conflict check itself finds an overlap */
  rec[2].offset = 100;
  CHECK(dd_memplan_conflict(rec, 3, NULL, NULL) == 1);
}

/* Every target of a graph, gradient and forward plans, at one input size. */
static int check_every_plan(const dd_graph *g, const dd_kernels *k, dd_shape in, const char *label) {
  dd_exec *e = NULL;
  dd_error err;
  CHECK_OK(dd_exec_create(g, k, NULL, 1, &e, &err));
  if (!e) return 0;
  int planned = 0;
  for (int fusion = DD_EXEC_FUSION_ON; fusion >= DD_EXEC_FUSION_OFF; fusion--) {
    dd_exec_set_fusion(e, fusion);
    for (int t = 0; t < g->n_nodes; t++) {
      if (g->nodes[t].op == DD_OP_CONST) continue;
      for (int want_grad = 0; want_grad <= 1; want_grad++) {
        char what[160];
        snprintf(what, sizeof what, "%s target '%s' (%s, fusion %d)", label, g->nodes[t].name,
                 want_grad ? "gradient" : "forward", fusion);
        dd_status s = want_grad ? dd_exec_reserve(e, t, in, &err) : dd_exec_output_shape(e, t, in, NULL, &err);
        if (s != DD_OK) continue; /* e.g. a shape the head cannot take */
        planned++;
        if (check_plan_memory(e, want_grad, what) < 0) {
          dd_exec_free(e);
          return planned;
        }
      }
    }
  }
  dd_exec_free(e);
  return planned;
}

static void test_plan_memory_models(void) {
  mini m;
  build_mini(&m, 9);
  CHECKF(check_every_plan(&m.g, dd_kernels_reference(), dd_shape4(1, 29, 23, 3), "mini") > 20, "mini: too few plans");
  dd_graph_free(&m.g);
  const char *src = getenv("DD_SOURCE_DIR");
  char path[1024];
  const char *models[2] = {NULL, test_shared_path("models/inception5h-standin.pb")};
  if (src) {
    snprintf(path, sizeof path, "%s/models/default-model.pb", src);
    models[0] = path;
  }
  for (int i = 0; i < 2; i++) {
    size_t len = 0;
    unsigned char *bytes = models[i] ? test_read_file(models[i], &len) : NULL;
    if (!bytes) {
      printf("  (skipped: %s not found)\n", models[i] ? models[i] : "default-model.pb");
      continue;
    }
    dd_graph g;
    dd_error err;
    CHECK_OK(dd_graphdef_import(bytes, len, 0, &g, &err));
    int plans = check_every_plan(&g, dd_kernels_simd128(), dd_shape4(1, 67, 59, 3), models[i]);
    printf("  %s: %d plans checked\n", models[i], plans);
    CHECK(plans > 10);
    dd_graph_free(&g);
    free(bytes);
  }
}

/* Random small DAGs of every executable op: convs with bias and relu (some
   with a second consumer of the BiasAdd, which blocks fusion), pools, LRN,
   Concats of same-size tensors (some listing one twice), Identity,
   LeakyRelu, and a Reshape + MatMul + Softmax head. */
static void build_random_graph(dd_graph *g, test_rng *r) {
  dd_graph_init(g);
  int nodes[64], ch[64], sz[64], n = 0, cnt = 0;
  char name[32];
  nodes[n] = gb_op(g, "input", DD_OP_PLACEHOLDER, -1, -1);
  ch[n] = 3, sz[n++] = 1;
  int steps = test_randint(r, 3, 12);
  for (int s = 0; s < steps && n < 60; s++) {
    int x = test_randint(r, 0, n - 1);
    snprintf(name, sizeof name, "n%d", cnt++);
    switch (test_randint(r, 0, 7)) {
      case 0:
      case 1: { /* conv block */
        int k = test_randint(r, 0, 2) * 2 + 1, co = test_randint(r, 1, 9), stride = test_randint(r, 1, 4) == 4 ? 2 : 1;
        int pre;
        int relu = test_randint(r, 0, 3) != 0;
        int y = conv_block(g, r, name, nodes[x], k, k, ch[x], co, stride, DD_PADDING_SAME, relu, &pre);
        nodes[n] = y, ch[n] = co, sz[n++] = sz[x] * stride;
        if (relu && test_randint(r, 0, 4) == 0) { /* a second consumer of the pre-relu value */
          snprintf(name, sizeof name, "n%d", cnt++);
          nodes[n] = gb_op(g, name, DD_OP_IDENTITY, pre, -1), ch[n] = co, sz[n++] = sz[x] * stride;
        }
        break;
      }
      case 2: {
        int p = gb_op(g, name, test_randint(r, 0, 1) ? DD_OP_MAX_POOL : DD_OP_AVG_POOL, nodes[x], -1);
        int stride = test_randint(r, 1, 2);
        g->nodes[p].attr.pool = (dd_window){3, 3, stride, stride, DD_PADDING_SAME};
        nodes[n] = p, ch[n] = ch[x], sz[n++] = sz[x] * stride;
        break;
      }
      case 3: {
        int l = gb_op(g, name, DD_OP_LRN, nodes[x], -1);
        g->nodes[l].attr.lrn = (dd_lrn_params){2, 2.0f, 1e-2f, 0.75f};
        nodes[n] = l, ch[n] = ch[x], sz[n++] = sz[x];
        break;
      }
      case 4:
      case 5: { /* concat of up to 3 nodes with x's downsampling */
        int ins[3], m = 0, c = 0;
        for (int tries = 0; tries < 8 && m < 3; tries++) {
          int y = test_randint(r, 0, n - 1);
          if (sz[y] == sz[x] && nodes[y] != nodes[0]) ins[m++] = nodes[y], c += ch[y];
        }
        if (m == 0) break;
        int cat = dd_graph_add_node(g, name, strlen(name), DD_OP_CONCAT);
        dd_graph_set_inputs(g, cat, ins, m, NULL);
        g->nodes[cat].attr.concat.axis = 3;
        nodes[n] = cat, ch[n] = c, sz[n++] = sz[x];
        break;
      }
      case 6:
        nodes[n] = gb_op(g, name, DD_OP_IDENTITY, nodes[x], -1), ch[n] = ch[x], sz[n++] = sz[x];
        break;
      case 7:
        nodes[n] = gb_op(g, name, DD_OP_LEAKY_RELU, nodes[x], -1), ch[n] = ch[x], sz[n++] = sz[x];
        g->nodes[nodes[n - 1]].attr.alpha = 0.1f;
        break;
    }
  }
  /* the head: flatten the last node's channels, a dense layer, softmax */
  int last = n - 1;
  int rs = gb_op(g, "flat", DD_OP_RESHAPE, nodes[last], -1);
  g->nodes[rs].attr.reshape.rank = 2;
  g->nodes[rs].attr.reshape.dims[0] = -1;
  g->nodes[rs].attr.reshape.dims[1] = ch[last];
  float *w = test_alloc((size_t)ch[last] * 4);
  test_fill(r, w, (size_t)ch[last] * 4, -0.5f, 0.5f);
  int64_t md[2] = {ch[last], 4};
  int mm = gb_op(g, "fc", DD_OP_MATMUL, rs, gb_const(g, "fc_w", 2, md, w));
  free(w);
  gb_op(g, "softmax", DD_OP_SOFTMAX, mm, -1);
}

static void test_plan_memory_random_graphs(void) {
  test_rng r;
  test_rng_seed(&r, 7);
  int plans = 0;
  for (int i = 0; i < 40; i++) {
    dd_graph g;
    build_random_graph(&g, &r);
    dd_error err;
    dd_status s = dd_graph_validate(&g, &err);
    CHECKF(s == DD_OK, "random graph %d: %s", i, err.message);
    char label[32];
    snprintf(label, sizeof label, "random graph %d", i);
    if (s == DD_OK) plans += check_every_plan(&g, i % 2 ? dd_kernels_simd128() : dd_kernels_reference(),
                                              dd_shape4(1, 13, 11, 3), label);
    dd_graph_free(&g);
  }
  printf("  %d plans checked\n", plans);
  CHECK(plans > 400);
}

/* ---- fusion: the same graph with and without it ------------------------------------ */

static int count_plan(const dd_exec *e, int what) {
  int c = 0;
  for (int pi = 0; pi < e->plan_len; pi++)
    c += what == 0 ? e->plan[pi].absorbed : what == 1 ? e->plan[pi].premasked : e->plan[pi].raw_conv;
  return c;
}

/* Gradients and losses agree to rounding (fused, the bias is added in the
   conv's epilogue; unfused, a raw conv subtracts the folded bias and BiasAdd
   adds it again), fusion absorbs nodes and pre-masks Concat inputs, and off
   it does neither. */
static void compare_fusion(const dd_graph *g, int target, const int *ch, int nch, int H, int W, int expect_fused,
                           const char *label) {
  size_t n = (size_t)H * W * 3;
  float *in = test_alloc(n), *g_on = test_alloc(n), *g_off = test_alloc(n);
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * n);
  make_input(&in64, in, H, W, 31);
  for (int b = 0; b < 3; b++) {
    const dd_kernels *k = backend(b);
    if (!k) continue;
    dd_exec *e = NULL;
    dd_error err;
    CHECK_OK(dd_exec_create(g, k, NULL, 1, &e, &err));
    float l_on = 0, l_off = 0;
    CHECK_OK(dd_exec_objective_gradient(e, target, ch, nch, in, dd_shape4(1, H, W, 3), g_on, &l_on, &err));
    int absorbed = count_plan(e, 0), premasked = count_plan(e, 1);
    /* only Concats masking (the other writers' masks a separate pass again):
       the same bytes */
    dd_exec_set_fusion(e, DD_EXEC_FUSION_CONCAT_MASKS);
    CHECK_OK(dd_exec_objective_gradient(e, target, ch, nch, in, dd_shape4(1, H, W, 3), g_off, &l_off, &err));
    const int premasked_concat = count_plan(e, 1);
    CHECKF(memcmp(g_on, g_off, n * sizeof(float)) == 0 && l_on == l_off,
           "%s (%s): masks applied by the writers change the bytes", label, k->name);
    CHECKF(premasked >= premasked_concat, "%s: %d premasked, %d with Concats alone", label, premasked, premasked_concat);
    if (expect_fused > 1) CHECKF(premasked > premasked_concat, "%s: no writer other than a Concat masks", label);
    dd_exec_set_fusion(e, DD_EXEC_FUSION_OFF);
    CHECK_OK(dd_exec_objective_gradient(e, target, ch, nch, in, dd_shape4(1, H, W, 3), g_off, &l_off, &err));
    CHECKF(count_plan(e, 0) == 0 && count_plan(e, 1) == 0, "%s: fusion off still absorbs or premasks", label);
    if (expect_fused) CHECKF(absorbed > 0, "%s: fusion absorbed nothing", label);
    if (expect_fused > 1) CHECKF(premasked > 0, "%s: no Concat input pre-masked", label);
    double rel = test_rel_l2(g_off, g_on, n), gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(g_on[i]));
    CHECKF(gmax > 0, "%s: zero gradient", label);
    CHECKF(rel < 2e-6, "%s (%s): gradient with fusion off differs by rel L2 %.3g", label, k->name, rel);
    CHECKF(fabs(l_on - l_off) <= 1e-6 * fabs(l_on), "%s (%s): loss %.9g vs %.9g", label, k->name, l_on, l_off);
    /* back on: the fused plan again, bit for bit */
    dd_exec_set_fusion(e, DD_EXEC_FUSION_ON);
    CHECK_OK(dd_exec_objective_gradient(e, target, ch, nch, in, dd_shape4(1, H, W, 3), g_off, &l_off, &err));
    CHECKF(memcmp(g_on, g_off, n * sizeof(float)) == 0 && l_on == l_off, "%s: fusion on again differs", label);
    dd_exec_free(e);
  }
  free(in), free(g_on), free(g_off), free(in64.d);
}

static void test_fusion_on_off(void) {
  mini m;
  build_mini(&m, 12);
  int ch[2] = {0, 7};
  compare_fusion(&m.g, m.mixed, NULL, 0, 31, 27, 2, "mini mixed");
  compare_fusion(&m.g, m.mixed, ch, 2, 27, 31, 2, "mini mixed, 2 channels");
  compare_fusion(&m.g, m.conv1, NULL, 0, 21, 20, 1, "mini conv1");
  compare_fusion(&m.g, m.branch3, NULL, 0, 19, 19, 1, "mini pre-relu target");
  compare_fusion(&m.g, m.softmax, ch, 1, 29, 23, 2, "mini softmax");
  dd_graph_free(&m.g);
  test_rng r;
  test_rng_seed(&r, 17);
  for (int i = 0; i < 12; i++) {
    dd_graph g;
    build_random_graph(&g, &r);
    char label[32];
    snprintf(label, sizeof label, "random graph %d", i);
    compare_fusion(&g, g.n_nodes - 1, NULL, 0, 17, 15, 0, label);
    dd_graph_free(&g);
  }
}

/* ---- several targets in one pass ---------------------------------------------------- */

/* A test seed of its own: L = w_t * sum(y^2) / count, with a weight per target
   (so a mix-up of targets shows), accumulated in double. */
static dd_status seed_weighted_square(void *ctx, const dd_seed_args *a, dd_error *err) {
  (void)err;
  const int *targets = (const int *)ctx; /* targets[0] = count, then the targets */
  double w = 0;
  for (int i = 0; i < targets[0]; i++)
    if (targets[1 + i] == a->target) w = 1.0 + 0.5 * i;
  size_t n = dd_shape_count(a->shape);
  double acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc += (double)a->y[i] * a->y[i];
    a->dy[i] = (float)(2.0 * w * a->y[i] / (double)n);
  }
  *a->loss = w * acc / (double)n;
  return DD_OK;
}

/* The gradient of targets in one pass against the sum of one pass per
   target (each in double), the loss against the sum of theirs; the plan's
   memory and invariants; 2 threads give the same bits as 1. Returns 1 when
   the targets could be planned (a shape the graph cannot take is skipped). */
static int compare_targets(const dd_graph *g, const dd_kernels *k, const int *targets, int nt, int H, int W,
                           int fusion, const char *label) {
  size_t n = (size_t)H * W * 3;
  float *in = test_alloc(n), *one = test_alloc(n), *part = test_alloc(n), *two = test_alloc(n);
  double *sum = (double *)calloc(n, sizeof(double));
  r64 in64 = {0};
  in64.d = (double *)malloc(sizeof(double) * n);
  make_input(&in64, in, H, W, 41);
  int ctx[1 + DD_PLAN_MAX_TARGETS];
  ctx[0] = nt;
  memcpy(ctx + 1, targets, sizeof(int) * (size_t)nt);
  dd_exec *e = NULL;
  dd_error err;
  CHECK_OK(dd_exec_create(g, k, NULL, 1, &e, &err));
  dd_exec_set_fusion(e, fusion);
  const dd_shape sh = dd_shape4(1, H, W, 3);
  double loss = 0, loss_sum = 0;
  int planned = dd_exec_seeds_gradient(e, targets, nt, seed_weighted_square, ctx, in, sh, one, &loss, &err) == DD_OK;
  if (planned) {
    CHECK(check_plan_memory(e, 1, label) >= 0);
    CHECKF(e->plan_n_targets == nt, "%s: the plan holds %d targets, not %d", label, e->plan_n_targets, nt);
    for (int t = 0; t < nt; t++) {
      double l = 0;
      CHECK_OK(dd_exec_seeds_gradient(e, targets + t, 1, seed_weighted_square, ctx, in, sh, part, &l, &err));
      loss_sum += l;
      for (size_t i = 0; i < n; i++) sum[i] += part[i];
    }
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
      num += (one[i] - sum[i]) * (one[i] - sum[i]);
      den += sum[i] * sum[i];
    }
    CHECKF(den > 0, "%s: zero gradient", label);
    CHECKF(sqrt(num) <= 1e-5 * sqrt(den), "%s (%s): one pass vs one per target: rel L2 %.3g", label, k->name,
           sqrt(num / den));
    /* a target is never fused away, so its value may round differently than
       in another target's plan (raw conv + BiasAdd against the folded bias) */
    CHECKF(fabs(loss - loss_sum) <= 1e-6 * fabs(loss_sum), "%s: loss %.12g vs %.12g", label, loss, loss_sum);
    /* the same targets again after other plans: the same bits */
    CHECK_OK(dd_exec_seeds_gradient(e, targets, nt, seed_weighted_square, ctx, in, sh, two, NULL, &err));
    CHECKF(memcmp(one, two, n * sizeof(float)) == 0, "%s: a second run differs", label);
    dd_exec *e2 = NULL;
    CHECK_OK(dd_exec_create(g, k, NULL, 2, &e2, &err));
    dd_exec_set_fusion(e2, fusion);
    CHECK_OK(dd_exec_seeds_gradient(e2, targets, nt, seed_weighted_square, ctx, in, sh, two, NULL, &err));
    CHECKF(memcmp(one, two, n * sizeof(float)) == 0, "%s: 2 threads differ from 1", label);
    if (fusion == DD_EXEC_FUSION_ON) { /* masks by Concats alone: the same bytes */
      dd_exec_set_fusion(e2, DD_EXEC_FUSION_CONCAT_MASKS);
      CHECK_OK(dd_exec_seeds_gradient(e2, targets, nt, seed_weighted_square, ctx, in, sh, two, NULL, &err));
      CHECKF(memcmp(one, two, n * sizeof(float)) == 0, "%s: masks applied by the writers change the bytes", label);
    }
    dd_exec_free(e2);
  }
  dd_exec_free(e);
  free(in), free(one), free(part), free(two), free(sum), free(in64.d);
  return planned;
}

static void test_several_targets(void) {
  mini m;
  build_mini(&m, 21);
  /* an ancestor and its descendant, sibling branches, a pre-relu (unfused)
     target beside the Concat it feeds, the head with the stem */
  const int sets[][4] = {{m.conv1, m.mixed}, {m.mixed, m.conv1}, {m.branch3, m.mixed, m.lrn0},
                         {m.softmax, m.conv0, m.mixed}, {m.concat_pre, m.relu0}};
  const int sizes[] = {2, 2, 3, 3, 2};
  for (int b = 0; b < 2; b++)
    for (int i = 0; i < 5; i++)
      for (int fusion = DD_EXEC_FUSION_ON; fusion >= DD_EXEC_FUSION_OFF; fusion--) {
        char label[64];
        snprintf(label, sizeof label, "mini set %d, fusion %d", i, fusion);
        CHECKF(compare_targets(&m.g, backend(b), sets[i], sizes[i], 27, 25, fusion, label), "%s: not planned", label);
      }
  dd_error err;
  dd_exec *e = NULL;
  CHECK_OK(dd_exec_create(&m.g, dd_kernels_reference(), NULL, 1, &e, &err));
  float in[12 * 12 * 3] = {0}, g[12 * 12 * 3];
  int twice[2] = {m.mixed, m.mixed}, many[DD_PLAN_MAX_TARGETS + 1], ctx[2] = {1, m.mixed};
  for (int i = 0; i <= DD_PLAN_MAX_TARGETS; i++) many[i] = i;
  const dd_shape sh = dd_shape4(1, 12, 12, 3);
  CHECK(dd_exec_seeds_gradient(e, twice, 2, seed_weighted_square, ctx, in, sh, g, NULL, &err) == DD_ERR_INVALID_ARGUMENT &&
        strstr(err.message, "twice"));
  CHECK(dd_exec_seeds_gradient(e, many, DD_PLAN_MAX_TARGETS + 1, seed_weighted_square, ctx, in, sh, g, NULL, &err) ==
        DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_exec_seeds_gradient(e, twice, 0, seed_weighted_square, ctx, in, sh, g, NULL, &err) == DD_ERR_INVALID_ARGUMENT);
  dd_exec_free(e);
  dd_graph_free(&m.g);
  /* random graphs, random sets of 2 to 4 targets */
  test_rng r;
  test_rng_seed(&r, 23);
  int compared = 0;
  for (int i = 0; i < 30; i++) {
    dd_graph rg;
    build_random_graph(&rg, &r);
    int t[4], nt = test_randint(&r, 2, 4), got = 0;
    for (int tries = 0; tries < 50 && got < nt; tries++) {
      int c = test_randint(&r, 0, rg.n_nodes - 1), dup = rg.nodes[c].op == DD_OP_CONST || rg.nodes[c].op == DD_OP_PLACEHOLDER;
      for (int j = 0; j < got; j++) dup |= t[j] == c;
      if (!dup) t[got++] = c;
    }
    char label[64];
    snprintf(label, sizeof label, "random graph %d, %d targets", i, got);
    if (got >= 2) compared += compare_targets(&rg, backend(i % 2), t, got, 15, 13, i % 3, label);
    dd_graph_free(&rg);
  }
  printf("  %d random target sets compared\n", compared);
  CHECK(compared >= 20);
  /* the stand-in Inception 5h: a Concat, a pre-relu BiasAdd in a later
     block, and a deeper Concat (Winograd, LRN, pools on the way) */
  size_t len = 0;
  unsigned char *bytes = test_read_file(test_shared_path("models/inception5h-standin.pb"), &len);
  if (!bytes) {
    printf("  (skipped: the stand-in Inception 5h not found)\n");
    return;
  }
  dd_graph ig;
  CHECK_OK(dd_graphdef_import(bytes, len, 0, &ig, &err));
  free(bytes);
  const char *names[3] = {"mixed3b", "mixed4a_3x3_pre_relu", "mixed4b"};
  int it[3];
  for (int i = 0; i < 3; i++) {
    it[i] = dd_graph_find(&ig, names[i]);
    CHECK(it[i] >= 0);
  }
  CHECK(compare_targets(&ig, dd_kernels_simd128(), it, 3, 67, 59, DD_EXEC_FUSION_ON, "inception 3 targets"));
  dd_graph_free(&ig);
}

int main(void) {
  TEST_RUN(test_forward_matches_double);
  TEST_RUN(test_gradient_finite_differences);
  TEST_RUN(test_concat_repeated_input);
  TEST_RUN(test_threads_bit_identical);
  TEST_RUN(test_errors);
  TEST_RUN(test_leaky_relu);
  TEST_RUN(test_onnx_ops);
  TEST_RUN(test_reshape_overflow);
  TEST_RUN(test_errors_are_filled);
  TEST_RUN(test_memplan_random_records);
  TEST_RUN(test_plan_memory_models);
  TEST_RUN(test_plan_memory_random_graphs);
  TEST_RUN(test_fusion_on_off);
  TEST_RUN(test_several_targets);
  TEST_RUN(test_lanes);
  return test_summary();
}
