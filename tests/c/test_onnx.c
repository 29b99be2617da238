/* test_onnx.c — the ONNX importer (src/formats/onnx.c): each op and its
 * attributes and defaults per opset, the layout conversions (OIHW -> HWIO,
 * Flatten's NCHW order through Gemm/MatMul, BatchNormalization folding)
 * checked against arithmetic written here in NCHW, loading through
 * dd_model_load_graphdef, and hostile or unsupported files, each refused
 * with a sentence naming what is wrong. ONNX's own numbers: the conformance
 * runner (tests/onnx/conformance.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/exec.h"
#include "formats/onnx.h"
#include "graph_ref64.h"
#include "onnx_fixture.h"
#include "testutil.h"

static const int64_t IMG[4] = {1, 3, 6, 5};

static dd_status import(ob *b, dd_graph *g, dd_error *err) {
  size_t len;
  uint8_t *bytes = ob_end(b, &len);
  dd_status s = dd_onnx_import(bytes, len, g, err);
  free(bytes);
  return s;
}

static const dd_node *node(const dd_graph *g, const char *name) {
  int i = dd_graph_find(g, name);
  return i >= 0 ? &g->nodes[i] : NULL;
}

static const dd_const *const_of(const dd_graph *g, const dd_node *n, int k) {
  return &g->nodes[n->inputs[k]].attr.value;
}

/* NCHW input -> NHWC */
static void to_nhwc(const float *nchw, int c, int h, int w, float *nhwc) {
  for (int ch = 0; ch < c; ch++)
    for (int p = 0; p < h * w; p++) nhwc[p * c + ch] = nchw[ch * h * w + p];
}

static int forward(const dd_graph *g, const char *target, const float *nhwc, int h, int w, int c, float *out,
                   size_t n) {
  dd_exec *e = NULL;
  dd_error err = {0};
  int ok = 0;
  if (dd_exec_create(g, dd_kernels_get(DD_BACKEND_AUTO), NULL, 1, &e, &err) == DD_OK) {
    dd_tensor t;
    dd_status s = dd_exec_forward(e, dd_graph_find(g, target), nhwc, dd_shape4(1, h, w, c), &t, &err);
    CHECKF(s == DD_OK, "forward to %s: %s", target, err.message);
    if (s == DD_OK && dd_shape_count(t.shape) == n) {
      memcpy(out, t.data, n * sizeof(float));
      ok = 1;
    }
  }
  dd_exec_free(e);
  return ok;
}

/* GoogLeNet's ops in one small graph: each becomes the IR op with its attrs. */
static void test_googlenet_ops(void) {
  test_rng r;
  test_rng_seed(&r, 1);
  float w1[4 * 3 * 3 * 3], b1[4], w2[2 * 4], b2[2], fc[5 * 6 * 2 * 2], fcb[5];
  test_fill(&r, w1, 108, -1, 1);
  test_fill(&r, b1, 4, -1, 1);
  test_fill(&r, w2, 8, -1, 1);
  test_fill(&r, b2, 2, -1, 1);
  test_fill(&r, fc, 120, -1, 1);
  test_fill(&r, fcb, 5, -1, 1);
  ob b;
  ob_begin(&b, 9);
  ob_input(&b, "data", 4, IMG);
  ob_init(&b, "w1", 4, (int64_t[]){4, 3, 3, 3}, w1);
  ob_init_as(&b, "b1", 1, (int64_t[]){4}, b1, 1); /* float_data, beside raw_data */
  ob_init(&b, "w2", 4, (int64_t[]){2, 4, 1, 1}, w2);
  ob_init(&b, "b2", 1, (int64_t[]){2}, b2);
  ob_init(&b, "fc_w", 2, (int64_t[]){5, 24}, fc);
  ob_init(&b, "fc_b", 1, (int64_t[]){5}, fcb);
  const int64_t p1[4] = {1, 0, 2, 1}, k3[2] = {3, 3}, s2[2] = {2, 2}, p0011[4] = {0, 0, 1, 1};
  oattr conv_a[] = {OA_IS("pads", 4, p1), OA_IS("kernel_shape", 2, k3)};
  ob_node(&b, "Conv", "conv1", "data,w1,b1", "conv1", conv_a, 2);
  ob_node(&b, "Relu", "relu1", "conv1", "relu1", NULL, 0);
  oattr pool_a[] = {OA_IS("kernel_shape", 2, k3), OA_IS("strides", 2, s2), OA_IS("pads", 4, p0011)};
  ob_node(&b, "MaxPool", "pool1", "relu1", "pool1", pool_a, 3);
  oattr lrn_a[] = {OA_I("size", 3), OA_F("alpha", 0.3f), OA_F("beta", 0.5f), OA_F("bias", 2.0f)};
  ob_node(&b, "LRN", "norm1", "pool1", "norm1", lrn_a, 4);
  ob_node(&b, "Conv", "red", "norm1,w2,b2", "red", NULL, 0);
  oattr cat_a[] = {OA_I("axis", 1)};
  ob_node(&b, "Concat", "mix", "norm1,red", "mix", cat_a, 1);
  oattr ap_a[] = {OA_IS("kernel_shape", 2, (int64_t[]){2, 2}), OA_IS("strides", 2, (int64_t[]){1, 1})};
  ob_node(&b, "AveragePool", "pool5", "mix", "pool5", ap_a, 2);
  oattr drop_a[] = {OA_F("ratio", 0.4f)};
  ob_node(&b, "Dropout", "drop", "pool5", "drop", drop_a, 1);
  ob_node(&b, "Flatten", "flat", "drop", "flat", NULL, 0);
  oattr gemm_a[] = {OA_I("transB", 1), OA_F("alpha", 0.5f), OA_F("beta", 2.0f)};
  ob_node(&b, "Gemm", "fc", "flat,fc_w,fc_b", "fc", gemm_a, 3);
  ob_node(&b, "Softmax", "prob", "fc", "prob", NULL, 0);
  ob_output(&b, "prob");
  dd_graph g;
  dd_error err = {0};
  dd_status s = import(&b, &g, &err);
  CHECKF(s == DD_OK, "import: %s", err.message);
  if (s != DD_OK) return;
  const dd_node *n = node(&g, "data");
  CHECK(n && n->op == DD_OP_PLACEHOLDER);
  /* Conv + bias: Conv2D "conv1/conv" (HWIO filter, explicit pads) under BiasAdd "conv1" */
  n = node(&g, "conv1");
  CHECK(n && n->op == DD_OP_BIAS_ADD && const_of(&g, n, 1)->f[2] == b1[2]);
  n = node(&g, "conv1/conv");
  CHECK(n && n->op == DD_OP_CONV2D && n->attr.conv.padding == DD_PADDING_EXPLICIT && n->attr.conv.pads[0] == 1 &&
        n->attr.conv.pads[1] == 0 && n->attr.conv.pads[2] == 2 && n->attr.conv.pads[3] == 1 &&
        n->attr.conv.strides[0] == 1);
  if (n) {
    const dd_const *f = const_of(&g, n, 1);
    CHECK(f->rank == 4 && f->dims[0] == 3 && f->dims[1] == 3 && f->dims[2] == 3 && f->dims[3] == 4);
    int bad = 0;
    for (int o = 0; o < 4; o++)
      for (int ci = 0; ci < 3; ci++)
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 3; j++) bad += f->f[((i * 3 + j) * 3 + ci) * 4 + o] != w1[((o * 3 + ci) * 3 + i) * 3 + j];
    CHECKF(bad == 0, "%d filter values not where OIHW -> HWIO puts them", bad);
  }
  /* a conv without pads is VALID (the kernels' fast geometry) */
  n = node(&g, "red/conv");
  CHECK(n && n->attr.conv.padding == DD_PADDING_VALID);
  n = node(&g, "pool1");
  CHECK(n && n->op == DD_OP_MAX_POOL && n->attr.pool.padding == DD_PADDING_EXPLICIT && n->attr.pool.pads[2] == 1 &&
        n->attr.pool.pads[0] == 0 && n->attr.pool.k_h == 3 && n->attr.pool.stride_w == 2 && !n->attr.pool.ceil_mode);
  /* LRN: ONNX's alpha is divided by size; TF's radius is (size - 1) / 2 */
  n = node(&g, "norm1");
  CHECK(n && n->op == DD_OP_LRN && n->attr.lrn.depth_radius == 1 && fabsf(n->attr.lrn.alpha - 0.1f) < 1e-7f &&
        n->attr.lrn.beta == 0.5f && n->attr.lrn.bias == 2.0f);
  n = node(&g, "mix");
  CHECK(n && n->op == DD_OP_CONCAT && n->attr.concat.axis == 3 && n->n_inputs == 2);
  n = node(&g, "pool5");
  CHECK(n && n->op == DD_OP_AVG_POOL && n->attr.pool.padding == DD_PADDING_VALID);
  n = node(&g, "drop");
  CHECK(n && n->op == DD_OP_IDENTITY);
  n = node(&g, "flat");
  CHECK(n && n->op == DD_OP_RESHAPE && n->attr.reshape.rank == 2 && n->attr.reshape.zero_copies);
  n = node(&g, "fc/matmul");
  CHECK(n && n->op == DD_OP_MATMUL && n->attr.matmul.transpose_b == 1);
  n = node(&g, "fc");
  CHECK(n && n->op == DD_OP_BIAS_ADD && const_of(&g, n, 1)->f[3] == 2.0f * fcb[3]); /* beta * C */
  n = node(&g, "prob");
  CHECK(n && n->op == DD_OP_SOFTMAX);
  /* 6x5 -> conv 3x3 pads (1,0,2,1): 7x4 -> max pool with pads: 3x2 -> avg 2x2: 2x1 */
  float in[3 * 6 * 5], nhwc[3 * 6 * 5], prob[5];
  test_fill(&r, in, 90, 0, 1);
  to_nhwc(in, 3, 6, 5, nhwc);
  /* 2x1 pixels of 6 channels = 12 features, not the 24 fc_w wants: the shape check names both */
  dd_exec *e = NULL;
  CHECK_OK(dd_exec_create(&g, dd_kernels_get(DD_BACKEND_AUTO), NULL, 1, &e, &err));
  dd_tensor t;
  s = dd_exec_forward(e, dd_graph_find(&g, "prob"), nhwc, dd_shape4(1, 6, 5, 3), &t, &err);
  CHECKF(s == DD_ERR_SHAPE && strstr(err.message, "MatMul"), "%s", err.message);
  dd_exec_free(e);
  /* 10x6 input: 11x5 -> 5x2 -> 4x1 x 6 = 24 features */
  float in2[3 * 10 * 6], nhwc2[3 * 10 * 6];
  test_fill(&r, in2, 180, 0, 1);
  to_nhwc(in2, 3, 10, 6, nhwc2);
  if (forward(&g, "prob", nhwc2, 10, 6, 3, prob, 5)) {
    double sum = 0;
    for (int k = 0; k < 5; k++) sum += prob[k];
    CHECKF(fabs(sum - 1) < 1e-5, "softmax sums to %g", sum);
  }
  /* the imported graph's input gradient against central finite differences of
     the double interpreter (graph_ref64.h), through pads, LRN, Concat, the
     Flatten and the Gemm */
  const char *targets[3] = {"mix", "fc", "norm1"};
  const int H = 10, W = 6, np = H * W * 3;
  r64 x64 = {1, H, W, 3, (double *)malloc(sizeof(double) * np)};
  for (int i = 0; i < np; i++) x64.d[i] = nhwc2[i];
  CHECK_OK(dd_exec_create(&g, dd_kernels_get(DD_BACKEND_AUTO), NULL, 1, &e, &err));
  for (int t = 0; t < 3; t++) {
    int ti = dd_graph_find(&g, targets[t]);
    float grad[3 * 10 * 6], fd[3 * 10 * 6], loss = 0;
    s = dd_exec_objective_gradient(e, ti, NULL, 0, nhwc2, dd_shape4(1, H, W, 3), grad, &loss, &err);
    CHECKF(s == DD_OK, "gradient of %s: %s", targets[t], err.message);
    for (int i = 0; i < np; i++) {
      double x0 = x64.d[i];
      x64.d[i] = x0 + 1e-4;
      double fp = r64_objective(&g, ti, NULL, 0, &x64);
      x64.d[i] = x0 - 1e-4;
      double fm = r64_objective(&g, ti, NULL, 0, &x64);
      x64.d[i] = x0;
      fd[i] = (float)((fp - fm) / 2e-4);
    }
    double want = r64_objective(&g, ti, NULL, 0, &x64), fd_max = 0;
    for (int i = 0; i < np; i++) fd_max = fd_max > fabs(fd[i]) ? fd_max : fabs(fd[i]);
    CHECKF(fd_max > 0, "%s: the finite differences are all zero", targets[t]);
    CHECKF(fabs(loss - want) <= 1e-5 * fabs(want), "%s: loss %g, the double interpreter %g", targets[t], loss, want);
    CHECKF(test_rel_l2(grad, fd, (size_t)np) < 1e-3, "%s: gradient rel L2 vs finite differences %.3g", targets[t],
           test_rel_l2(grad, fd, (size_t)np));
  }
  dd_exec_free(e);
  free(x64.d);
  dd_graph_free(&g);
}

/* Flatten of C x H x W (H*W > 1) into Gemm / MatMul gives ONNX's numbers: the
   matrix rows are permuted at load (NCHW order c*HW + p -> the engine's p*C + c). */
static void check_flatten_gemm(int use_matmul, int trans_b, int via_reshape) {
  enum { C = 3, H = 3, W = 2, K = C * H * W, N = 4 };
  test_rng r;
  test_rng_seed(&r, 7);
  float wt[K * N], in[K], nhwc[K], got[N];
  test_fill(&r, wt, K * N, -1, 1);
  test_fill(&r, in, K, -1, 1);
  ob b;
  ob_begin(&b, 11);
  ob_input(&b, "x", 4, (int64_t[]){1, C, H, W});
  ob_init(&b, "B", 2, trans_b ? (int64_t[]){N, K} : (int64_t[]){K, N}, wt);
  if (via_reshape) {
    ob_init_i64(&b, "shape", 2, (int64_t[]){0, -1});
    ob_node(&b, "Reshape", NULL, "x,shape", "flat", NULL, 0);
  } else {
    ob_node(&b, "Flatten", NULL, "x", "flat", NULL, 0);
  }
  oattr ga[] = {OA_I("transB", trans_b)};
  ob_node(&b, use_matmul ? "MatMul" : "Gemm", "fc", "flat,B", "y", ga, use_matmul ? 0 : 1);
  dd_graph g;
  dd_error err = {0};
  dd_status s = import(&b, &g, &err);
  CHECKF(s == DD_OK, "import: %s", err.message);
  if (s != DD_OK) return;
  to_nhwc(in, C, H, W, nhwc);
  if (forward(&g, "y", nhwc, H, W, C, got, N)) {
    for (int j = 0; j < N; j++) {
      double want = 0;
      for (int k = 0; k < K; k++) want += (double)in[k] * (trans_b ? wt[j * K + k] : wt[k * N + j]);
      CHECKF(fabs(got[j] - want) < 1e-5, "%s%s%s: y[%d] = %g, ONNX order gives %g", use_matmul ? "MatMul" : "Gemm",
             trans_b ? " transB" : "", via_reshape ? " after Reshape" : "", j, got[j], want);
    }
  }
  dd_graph_free(&g);
}

static void test_flatten_order(void) {
  check_flatten_gemm(0, 0, 0);
  check_flatten_gemm(0, 1, 0);
  check_flatten_gemm(1, 0, 0);
  check_flatten_gemm(0, 1, 1);
}

/* BatchNormalization: folded into a conv that feeds nothing else (its filter
   scaled, its bias shifted), else a Mul and a BiasAdd; both give BN's numbers. */
static void check_batchnorm(int conv_bias, int second_consumer) {
  enum { C = 3, M = 2, H = 4, W = 3 };
  test_rng r;
  test_rng_seed(&r, 11);
  float w[M * C * 9], cb[M], sc[M] = {1.5f, -0.5f}, bb[M] = {0.25f, 1.0f}, mean[M] = {0.1f, -0.2f},
                              var[M] = {0.8f, 2.0f}, in[C * H * W], nhwc[C * H * W], got[M * H * W];
  test_fill(&r, w, sizeof w / 4, -1, 1);
  test_fill(&r, cb, M, -1, 1);
  test_fill(&r, in, C * H * W, -1, 1);
  ob b;
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, (int64_t[]){1, C, H, W});
  ob_init(&b, "w", 4, (int64_t[]){M, C, 3, 3}, w);
  ob_init(&b, "cb", 1, (int64_t[]){M}, cb);
  ob_init(&b, "sc", 1, (int64_t[]){M}, sc);
  ob_init(&b, "bb", 1, (int64_t[]){M}, bb);
  ob_init(&b, "mean", 1, (int64_t[]){M}, mean);
  ob_init(&b, "var", 1, (int64_t[]){M}, var);
  oattr ca[] = {OA_IS("pads", 4, (int64_t[]){1, 1, 1, 1})};
  ob_node(&b, "Conv", NULL, conv_bias ? "x,w,cb" : "x,w", "c", ca, 1);
  oattr ba[] = {OA_F("epsilon", 0.01f)};
  ob_node(&b, "BatchNormalization", "bn", "c,sc,bb,mean,var", "y", ba, 1);
  if (second_consumer) ob_node(&b, "Relu", NULL, "c", "c_relu", NULL, 0);
  dd_graph g;
  dd_error err = {0};
  dd_status s = import(&b, &g, &err);
  CHECKF(s == DD_OK, "import: %s", err.message);
  if (s != DD_OK) return;
  int muls = 0;
  for (int i = 0; i < g.n_nodes; i++) muls += g.nodes[i].op == DD_OP_MUL;
  CHECKF(muls == second_consumer, "%d Mul nodes; folding expected %s", muls, second_consumer ? "off" : "on");
  to_nhwc(in, C, H, W, nhwc);
  if (forward(&g, "y", nhwc, H, W, C, got, M * H * W)) {
    int bad = 0;
    for (int o = 0; o < M; o++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
          double acc = conv_bias ? cb[o] : 0;
          for (int ci = 0; ci < C; ci++)
            for (int i = 0; i < 3; i++)
              for (int j = 0; j < 3; j++) {
                int iy = y - 1 + i, ix = x - 1 + j;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) acc += (double)in[(ci * H + iy) * W + ix] * w[((o * C + ci) * 3 + i) * 3 + j];
              }
          double want = (acc - mean[o]) / sqrt((double)var[o] + 0.01f) * sc[o] + bb[o];
          bad += fabs(got[(y * W + x) * M + o] - want) > 1e-5 * (1 + fabs(want));
        }
    CHECKF(bad == 0, "BatchNormalization (bias %d, shared conv %d): %d values differ", conv_bias, second_consumer, bad);
  }
  dd_graph_free(&g);
}

static void test_batchnorm(void) {
  check_batchnorm(0, 0);
  check_batchnorm(1, 0);
  check_batchnorm(1, 1);
  check_batchnorm(0, 1);
}

/* One node on the image, for attribute and opset checks. */
static dd_status one_node(int64_t opset, const char *op, const char *ins, const oattr *a, int na, dd_graph *g,
                          dd_error *err, void (*extra)(ob *)) {
  ob b;
  ob_begin(&b, opset);
  ob_input(&b, "x", 4, IMG);
  if (extra) extra(&b);
  ob_node(&b, op, "n", ins, "y", a, na);
  return import(&b, g, err);
}

static void clip_bounds(ob *b) {
  ob_init(b, "lo", 0, NULL, (float[]){-0.5f});
  ob_init(b, "hi", 0, NULL, (float[]){6.0f});
}
static void shape_const(ob *b) { ob_init_i64(b, "shape", 2, (int64_t[]){1, -1}); }
static void ratio_const(ob *b) { ob_init(b, "ratio", 0, NULL, (float[]){0.5f}); }
static void bool_const(ob *b, int v) { /* a BOOL scalar in raw_data */
  size_t t = dd_pb_write_begin(&b->w, 5);
  dd_pb_write_varint(&b->w, 2, 9);
  dd_pb_write_string(&b->w, 8, "tm");
  uint8_t byte = (uint8_t)v;
  dd_pb_write_bytes(&b->w, 9, &byte, 1);
  dd_pb_write_end(&b->w, t);
  ratio_const(b);
}
static void train_false(ob *b) { bool_const(b, 0); }
static void train_true(ob *b) { bool_const(b, 1); }
static void chan_const(ob *b) { ob_init(b, "k", 3, (int64_t[]){3, 1, 1}, (float[]){2.0f, 4.0f, -1.0f}); }
static void scalar_const(ob *b) { ob_init(b, "k", 0, NULL, (float[]){4.0f}); }

/* Defaults and per-opset forms of attributes. */
static void test_attrs_per_opset(void) {
  dd_graph g;
  dd_error err = {0};
  /* LeakyRelu: alpha 0.01 by default */
  CHECK_OK(one_node(9, "LeakyRelu", "x", NULL, 0, &g, &err, NULL));
  CHECK(node(&g, "y")->attr.alpha == 0.01f);
  dd_graph_free(&g);
  /* LRN: alpha 1e-4 / size, beta 0.75, bias 1 */
  oattr lrn5[] = {OA_I("size", 5)};
  CHECK_OK(one_node(9, "LRN", "x", lrn5, 1, &g, &err, NULL));
  const dd_node *n = node(&g, "y");
  CHECK(n->attr.lrn.depth_radius == 2 && fabsf(n->attr.lrn.alpha - 2e-5f) < 1e-10f && n->attr.lrn.beta == 0.75f &&
        n->attr.lrn.bias == 1.0f);
  dd_graph_free(&g);
  /* an even LRN size sums an asymmetric window: refused by name */
  oattr lrn4[] = {OA_I("size", 4)};
  CHECK(one_node(9, "LRN", "x", lrn4, 1, &g, &err, NULL) == DD_ERR_UNSUPPORTED && strstr(err.message, "size 4"));
  /* Concat: axis defaults to 1 before opset 4, is required after */
  CHECK_OK(one_node(3, "Concat", "x,x", NULL, 0, &g, &err, NULL));
  CHECK(node(&g, "y")->attr.concat.axis == 3);
  dd_graph_free(&g);
  CHECK(one_node(9, "Concat", "x,x", NULL, 0, &g, &err, NULL) == DD_ERR_PARSE && strstr(err.message, "axis is missing"));
  /* Concat on a spatial axis: refused naming the axis */
  oattr ax2[] = {OA_I("axis", 2)};
  CHECK(one_node(9, "Concat", "x,x", ax2, 1, &g, &err, NULL) == DD_ERR_UNSUPPORTED && strstr(err.message, "axis 2"));
  /* Softmax: axis 1 of an image means C*H*W before opset 13 (refused), channels from 13 */
  CHECK(one_node(9, "Softmax", "x", NULL, 0, &g, &err, NULL) == DD_ERR_UNSUPPORTED && strstr(err.message, "opset 9"));
  oattr ax1[] = {OA_I("axis", 1)};
  CHECK_OK(one_node(13, "Softmax", "x", ax1, 1, &g, &err, NULL));
  CHECK(node(&g, "y")->op == DD_OP_SOFTMAX);
  dd_graph_free(&g);
  /* Clip: min/max attributes before opset 11, inputs from 11 (an empty name = absent) */
  oattr mm[] = {OA_F("min", 0.0f), OA_F("max", 6.0f)};
  CHECK_OK(one_node(6, "Clip", "x", mm, 2, &g, &err, NULL));
  n = node(&g, "y");
  CHECK(n->op == DD_OP_CLIP && n->attr.clip.lo == 0.0f && n->attr.clip.hi == 6.0f);
  dd_graph_free(&g);
  CHECK_OK(one_node(11, "Clip", "x,lo,hi", NULL, 0, &g, &err, clip_bounds));
  n = node(&g, "y");
  CHECK(n->attr.clip.lo == -0.5f && n->attr.clip.hi == 6.0f);
  dd_graph_free(&g);
  CHECK_OK(one_node(11, "Clip", "x,,hi", NULL, 0, &g, &err, clip_bounds));
  n = node(&g, "y");
  CHECK(n->attr.clip.lo == -INFINITY && n->attr.clip.hi == 6.0f);
  dd_graph_free(&g);
  /* Dropout: ratio attribute (opset 7) or input (opset 12): an identity either way */
  oattr ratio[] = {OA_F("ratio", 0.3f)};
  CHECK_OK(one_node(7, "Dropout", "x", ratio, 1, &g, &err, NULL));
  CHECK(node(&g, "y")->op == DD_OP_IDENTITY);
  dd_graph_free(&g);
  CHECK_OK(one_node(12, "Dropout", "x,ratio", NULL, 0, &g, &err, ratio_const));
  CHECK(node(&g, "y")->op == DD_OP_IDENTITY);
  dd_graph_free(&g);
  /* opset 12's training_mode (a BOOL input): false is inference; true is refused */
  CHECK_OK(one_node(12, "Dropout", "x,ratio,tm", NULL, 0, &g, &err, train_false));
  dd_graph_free(&g);
  CHECK(one_node(12, "Dropout", "x,ratio,tm", NULL, 0, &g, &err, train_true) == DD_ERR_UNSUPPORTED &&
        strstr(err.message, "training_mode"));
  /* Reshape: shape attribute before opset 5, input from 5 */
  oattr shp[] = {OA_IS("shape", 2, (int64_t[]){1, -1})};
  CHECK_OK(one_node(4, "Reshape", "x", shp, 1, &g, &err, NULL));
  CHECK(node(&g, "y")->op == DD_OP_RESHAPE && node(&g, "y")->attr.reshape.dims[1] == -1);
  dd_graph_free(&g);
  CHECK_OK(one_node(9, "Reshape", "x,shape", NULL, 0, &g, &err, shape_const));
  CHECK(node(&g, "y")->op == DD_OP_RESHAPE && node(&g, "y")->attr.reshape.dims[0] == 1);
  dd_graph_free(&g);
  /* Conv auto_pad: SAME_UPPER is TF's SAME, SAME_LOWER its mirror */
  static const float w9[3 * 3 * 3 * 2] = {0};
  oattr lower[] = {OA_S("auto_pad", "SAME_LOWER")};
  ob b;
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_init(&b, "w", 4, (int64_t[]){2, 3, 3, 3}, w9);
  ob_node(&b, "Conv", NULL, "x,w", "y", lower, 1);
  CHECK_OK(import(&b, &g, &err));
  CHECK(node(&g, "y")->attr.conv.padding == DD_PADDING_SAME_LOWER);
  dd_graph_free(&g);
  /* Mul / Div / Sub / Add by constants: per channel ([C,1,1]) or scalars */
  CHECK_OK(one_node(9, "Mul", "x,k", NULL, 0, &g, &err, chan_const));
  n = node(&g, "y");
  CHECK(n->op == DD_OP_MUL && const_of(&g, n, 1)->count == 3 && const_of(&g, n, 1)->f[1] == 4.0f);
  dd_graph_free(&g);
  CHECK_OK(one_node(9, "Div", "x,k", NULL, 0, &g, &err, scalar_const));
  n = node(&g, "y");
  CHECK(n->op == DD_OP_MUL && const_of(&g, n, 1)->f[0] == 0.25f);
  dd_graph_free(&g);
  CHECK_OK(one_node(9, "Sub", "x,k", NULL, 0, &g, &err, chan_const));
  n = node(&g, "y");
  CHECK(n->op == DD_OP_BIAS_ADD && const_of(&g, n, 1)->f[2] == 1.0f);
  dd_graph_free(&g);
  CHECK_OK(one_node(9, "Add", "k,x", NULL, 0, &g, &err, scalar_const));
  n = node(&g, "y");
  CHECK(n->op == DD_OP_BIAS_ADD && const_of(&g, n, 1)->count == 3 && const_of(&g, n, 1)->f[2] == 4.0f);
  dd_graph_free(&g);
  /* Add of two activations (ResNet's residual sum) */
  CHECK_OK(one_node(9, "Add", "x,x", NULL, 0, &g, &err, NULL));
  CHECK(node(&g, "y")->op == DD_OP_ADD);
  dd_graph_free(&g);
  /* a constant divided by the image is not a per-channel scale: refused */
  CHECK(one_node(9, "Div", "k,x", NULL, 0, &g, &err, scalar_const) == DD_ERR_UNSUPPORTED);
  /* GlobalAveragePool; MaxPool with ceil_mode; AveragePool counting its pads */
  CHECK_OK(one_node(9, "GlobalAveragePool", "x", NULL, 0, &g, &err, NULL));
  CHECK(node(&g, "y")->op == DD_OP_GLOBAL_AVG_POOL);
  dd_graph_free(&g);
  oattr ceil_a[] = {OA_IS("kernel_shape", 2, (int64_t[]){3, 3}), OA_IS("strides", 2, (int64_t[]){2, 2}),
                    OA_I("ceil_mode", 1)};
  CHECK_OK(one_node(10, "MaxPool", "x", ceil_a, 3, &g, &err, NULL));
  n = node(&g, "y");
  CHECK(n->attr.pool.padding == DD_PADDING_EXPLICIT && n->attr.pool.ceil_mode == 1);
  dd_graph_free(&g);
  oattr incl[] = {OA_IS("kernel_shape", 2, (int64_t[]){3, 3}), OA_IS("pads", 4, (int64_t[]){1, 1, 1, 1}),
                  OA_I("count_include_pad", 1)};
  CHECK_OK(one_node(10, "AveragePool", "x", incl, 3, &g, &err, NULL));
  CHECK(node(&g, "y")->attr.pool.count_include_pad == 1);
  dd_graph_free(&g);
  /* dilated and grouped convolutions expand to plain HWIO filters: zeros between
     taps, zeros across groups (the conformance suite checks their numbers) */
  float w4[4 * 1 * 2 * 2];
  for (int i = 0; i < 16; i++) w4[i] = (float)(i + 1);
  oattr dg[] = {OA_I("group", 2), OA_IS("dilations", 2, (int64_t[]){2, 3})};
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, (int64_t[]){1, 2, 8, 8});
  ob_init(&b, "w", 4, (int64_t[]){4, 1, 2, 2}, w4);
  ob_node(&b, "Conv", NULL, "x,w", "y", dg, 2);
  CHECK_OK(import(&b, &g, &err));
  const dd_const *f = const_of(&g, node(&g, "y"), 1);
  CHECK(f->dims[0] == 3 && f->dims[1] == 4 && f->dims[2] == 2 && f->dims[3] == 4);
  /* HWIO[(i*2, j*3)][group g input][o] = W[o][0][i][j]; output 3 is in group 1 */
  CHECK(f->f[((2 * 4 + 3) * 2 + 1) * 4 + 3] == w4[3 * 4 + 1 * 2 + 1]);
  CHECK(f->f[((2 * 4 + 3) * 2 + 0) * 4 + 3] == 0.0f); /* group 0's input: no tap */
  CHECK(f->f[((1 * 4 + 0) * 2 + 1) * 4 + 3] == 0.0f); /* between dilated taps */
  dd_graph_free(&g);
}

/* Files that are broken, hostile or beyond what is supported: each refused
   with a sentence naming what is wrong, and nothing crashes. */
static void nan_weight(ob *b) { ob_init(b, "k", 1, (int64_t[]){3}, (float[]){1.0f, NAN, 2.0f}); }
static void test_refusals(void) {
  dd_graph g;
  dd_error err = {0};
  dd_status s;
  /* an unknown op names itself and the node */
  s = one_node(9, "Tanh", "x", NULL, 0, &g, &err, NULL);
  CHECKF(s == DD_ERR_UNSUPPORTED && strstr(err.message, "unsupported op 'Tanh' at node 'n'"), "%s", err.message);
  /* a NaN weight names the node and the initializer */
  s = one_node(9, "Mul", "x,k", NULL, 0, &g, &err, nan_weight);
  CHECKF(s == DD_ERR_PARSE && strstr(err.message, "Mul node 'n'") && strstr(err.message, "'k'") &&
         strstr(err.message, "NaN"), "%s", err.message);
  /* an op of another domain */
  ob b;
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_node_domain(&b, "Relu", "n", "x", "y", NULL, 0, "com.microsoft");
  s = import(&b, &g, &err);
  CHECKF(s == DD_ERR_UNSUPPORTED && strstr(err.message, "com.microsoft"), "%s", err.message);
  /* weights in an external file: the tensor and the file are named */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  size_t t = dd_pb_write_begin(&b.w, 5);
  dd_pb_write_int64(&b.w, 1, 3);
  dd_pb_write_varint(&b.w, 2, 1);
  dd_pb_write_string(&b.w, 8, "big");
  size_t e = dd_pb_write_begin(&b.w, 13);
  dd_pb_write_string(&b.w, 1, "location");
  dd_pb_write_string(&b.w, 2, "weights.bin");
  dd_pb_write_end(&b.w, e);
  dd_pb_write_varint(&b.w, 14, 1);
  dd_pb_write_end(&b.w, t);
  ob_node(&b, "Mul", "n", "x,big", "y", NULL, 0);
  s = import(&b, &g, &err);
  CHECKF(s == DD_ERR_UNSUPPORTED && strstr(err.message, "'big'") && strstr(err.message, "'weights.bin'"), "%s",
         err.message);
  /* raw_data of the wrong size */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  t = dd_pb_write_begin(&b.w, 5);
  dd_pb_write_int64(&b.w, 1, 3);
  dd_pb_write_varint(&b.w, 2, 1);
  dd_pb_write_string(&b.w, 8, "k");
  dd_pb_write_bytes(&b.w, 9, "12345678", 8);
  dd_pb_write_end(&b.w, t);
  ob_node(&b, "Mul", "n", "x,k", "y", NULL, 0);
  s = import(&b, &g, &err);
  CHECKF(s == DD_ERR_PARSE && strstr(err.message, "2 values stored"), "%s", err.message);
  /* dimensions whose product overflows (2^32 * 2^32): refused before any allocation */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  t = dd_pb_write_begin(&b.w, 5);
  dd_pb_write_int64(&b.w, 1, (int64_t)1 << 32);
  dd_pb_write_int64(&b.w, 1, (int64_t)1 << 32);
  dd_pb_write_varint(&b.w, 2, 1);
  dd_pb_write_string(&b.w, 8, "k");
  dd_pb_write_end(&b.w, t);
  ob_node(&b, "Mul", "n", "x,k", "y", NULL, 0);
  s = import(&b, &g, &err);
  CHECKF(s == DD_ERR_PARSE && strstr(err.message, "overflows"), "%s", err.message);
  /* a negative dimension */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_init(&b, "k", 1, (int64_t[]){-3}, (float[]){1, 2, 3});
  ob_node(&b, "Mul", "n", "x,k", "y", NULL, 0);
  CHECK(import(&b, &g, &err) == DD_ERR_PARSE && strstr(err.message, "negative"));
  /* pads not smaller than the kernel; a group that does not divide; a huge dilation */
  static const float w[2 * 3 * 3 * 3] = {0};
  const oattr bad_attrs[3][1] = {{OA_IS("pads", 4, (int64_t[]){3, 0, 0, 0})},
                                 {OA_I("group", 4)},
                                 {OA_IS("dilations", 2, (int64_t[]){1, 1 << 20})}};
  const char *words[3] = {"pad 3", "group 4", "dilation"};
  for (int k = 0; k < 3; k++) {
    ob_begin(&b, 9);
    ob_input(&b, "x", 4, IMG);
    ob_init(&b, "w", 4, (int64_t[]){2, 3, 3, 3}, w);
    ob_node(&b, "Conv", "c", "x,w", "y", bad_attrs[k], 1);
    s = import(&b, &g, &err);
    CHECKF(s == DD_ERR_UNSUPPORTED && strstr(err.message, words[k]) && strstr(err.message, "Conv node 'c'"), "%s",
           err.message);
  }
  /* two image inputs */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_input(&b, "x2", 4, IMG);
  ob_node(&b, "Add", "n", "x,x2", "y", NULL, 0);
  CHECK(import(&b, &g, &err) == DD_ERR_UNSUPPORTED && strstr(err.message, "more than one input"));
  /* an input of rank 3 */
  ob_begin(&b, 9);
  ob_input(&b, "x", 3, IMG);
  ob_node(&b, "Relu", "n", "x", "y", NULL, 0);
  CHECK(import(&b, &g, &err) == DD_ERR_UNSUPPORTED && strstr(err.message, "rank 3"));
  /* nodes out of topological order: the input is named */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_node(&b, "Relu", "second", "a", "y", NULL, 0);
  ob_node(&b, "Relu", "first", "x", "a", NULL, 0);
  CHECK(import(&b, &g, &err) == DD_ERR_GRAPH && strstr(err.message, "'a' is produced by no earlier node"));
  /* one output produced twice */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_node(&b, "Relu", "a", "x", "y", NULL, 0);
  ob_node(&b, "Relu", "b", "x", "y", NULL, 0);
  CHECK(import(&b, &g, &err) == DD_ERR_GRAPH && strstr(err.message, "already produced"));
  /* a shape given as floats */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_init(&b, "shape", 1, (int64_t[]){2}, (float[]){1, -1});
  ob_node(&b, "Reshape", "r", "x,shape", "y", NULL, 0);
  CHECK(import(&b, &g, &err) == DD_ERR_UNSUPPORTED && strstr(err.message, "FLOAT, expected INT64"));
  /* the activation transposed in a Gemm */
  ob_begin(&b, 9);
  ob_input(&b, "x", 2, (int64_t[]){1, 3});
  ob_init(&b, "B", 2, (int64_t[]){1, 3}, (float[]){1, 2, 3});
  oattr ta[] = {OA_I("transA", 1)};
  ob_node(&b, "Gemm", "g", "x,B", "y", ta, 1);
  CHECK(import(&b, &g, &err) == DD_ERR_UNSUPPORTED && strstr(err.message, "transA"));
  /* a model without a graph, and one without an opset */
  dd_pb_writer pw;
  dd_pb_writer_init(&pw);
  dd_pb_write_varint(&pw, 1, 7);
  dd_pb_write_string(&pw, 2, "pytorch");
  CHECK(dd_onnx_import(pw.data, pw.len, &g, &err) == DD_ERR_PARSE && strstr(err.message, "no graph"));
  dd_pb_writer_free(&pw);
  /* loading through the model API: an ONNX refusal says it is an ONNX model first */
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_node(&b, "Tanh", "th", "x", "y", NULL, 0);
  size_t len;
  uint8_t *bytes = ob_end(&b, &len);
  dd_model *m = NULL;
  s = dd_model_load_graphdef(bytes, len, NULL, &m, &err);
  CHECKF(s == DD_ERR_UNSUPPORTED && strncmp(err.message, "this is an ONNX model that cannot be loaded: unsupported op "
                                            "'Tanh' at node 'th'", 80) == 0, "%s", err.message);
  free(bytes);
}

/* Through the model API: an ONNX file loads, lists its conv layers and
   dreams' layers, and its forward and gradient run. */
static void test_model_load(void) {
  float w[4 * 3 * 3 * 3], bias[4];
  test_rng r;
  test_rng_seed(&r, 3);
  test_fill(&r, w, 108, -1, 1);
  test_fill(&r, bias, 4, -1, 1);
  ob b;
  ob_begin(&b, 8);
  ob_input(&b, "data", 4, (int64_t[]){1, 3, 224, 224});
  ob_init(&b, "w", 4, (int64_t[]){4, 3, 3, 3}, w);
  ob_init(&b, "b", 1, (int64_t[]){4}, bias);
  oattr pads[] = {OA_IS("pads", 4, (int64_t[]){1, 1, 1, 1}), OA_IS("strides", 2, (int64_t[]){2, 2})};
  ob_node(&b, "Conv", "conv1/7x7_s2", "data,w,b", "conv1/7x7_s2", pads, 2);
  ob_node(&b, "Relu", "conv1/relu_7x7", "conv1/7x7_s2", "conv1/7x7_s2_1", NULL, 0);
  size_t len;
  uint8_t *bytes = ob_end(&b, &len);
  dd_model *m = NULL;
  dd_error err = {0};
  dd_status s = dd_model_load_graphdef(bytes, len, NULL, &m, &err);
  free(bytes);
  CHECKF(s == DD_OK, "load: %s", err.message);
  if (s != DD_OK) return;
  CHECK(dd_model_conv_layer_count(m) == 1 && dd_model_layer_count(m) == 1);
  dd_layer_info li;
  CHECK_OK(dd_model_layer_info(m, 0, &li, &err));
  CHECK(strcmp(li.name, "conv1/7x7_s2_1") == 0 && li.channels == 4);
  float img[9 * 7 * 3], grad[9 * 7 * 3], out[5 * 4 * 4];
  test_fill(&r, img, sizeof img / 4, 0, 255);
  int shape[4];
  CHECK_OK(dd_model_forward(m, img, 9, 7, "conv1/7x7_s2_1", out, 80, shape, &err));
  CHECK(shape[1] == 5 && shape[2] == 4 && shape[3] == 4);
  dd_objective obj = {0};
  obj.layer = "conv1/7x7_s2_1";
  float loss = 0;
  CHECK_OK(dd_model_gradient(m, img, 9, 7, &obj, grad, &loss, &err));
  CHECK(loss > 0);
  dd_model_free(m);
}

/* Every prefix of a valid model imports or fails cleanly (ASan in CI). */
static void test_truncations(void) {
  ob b;
  ob_begin(&b, 9);
  ob_input(&b, "x", 4, IMG);
  ob_init(&b, "w", 4, (int64_t[]){2, 3, 1, 1}, (float[]){1, 2, 3, 4, 5, 6});
  oattr ka[] = {OA_IS("kernel_shape", 2, (int64_t[]){2, 2})};
  ob_node(&b, "Conv", "c", "x,w", "c", NULL, 0);
  ob_node(&b, "MaxPool", "p", "c", "p", ka, 1);
  ob_node(&b, "Relu", "r", "p", "r", NULL, 0);
  ob_output(&b, "r");
  size_t len;
  uint8_t *bytes = ob_end(&b, &len);
  int ok = 0, failed = 0;
  for (size_t n = 0; n <= len; n++) {
    uint8_t *copy = (uint8_t *)malloc(n + 1);
    memcpy(copy, bytes, n);
    dd_graph g;
    dd_error err = {0};
    dd_status s = dd_onnx_import(copy, n, &g, &err);
    if (s == DD_OK) {
      ok++;
      CHECK_OK(dd_graph_validate(&g, NULL));
      dd_graph_free(&g);
    } else {
      failed++;
      CHECKF(err.message[0] != 0, "prefix of %zu bytes: status %d without a message", n, (int)s);
    }
    free(copy);
  }
  CHECK(ok >= 1 && failed > 0);
  free(bytes);
}

int main(void) {
  TEST_RUN(test_googlenet_ops);
  TEST_RUN(test_flatten_order);
  TEST_RUN(test_batchnorm);
  TEST_RUN(test_attrs_per_opset);
  TEST_RUN(test_refusals);
  TEST_RUN(test_model_load);
  TEST_RUN(test_truncations);
  return test_summary();
}
