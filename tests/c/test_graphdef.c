/* test_graphdef.c — GraphDef import: fixture graphs of every form, every bad
 * input, truncation and mutation robustness, and the Inception 5h stand-in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats/graphdef.h"
#include "graphdef_fixture.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------------- */
static uint8_t *exact(const void *p, size_t n) {
  uint8_t *b = (uint8_t *)malloc(n ? n : 1);
  if (n) memcpy(b, p, n);
  return b;
}

static const dd_node *node(const dd_graph *g, const char *name) {
  int i = dd_graph_find(g, name);
  CHECKF(i >= 0, "node '%s' not found", name);
  return i >= 0 ? &g->nodes[i] : NULL;
}

static int input_is(const dd_graph *g, const dd_node *n, int k, const char *name) {
  return n && k < n->n_inputs && strcmp(g->nodes[n->inputs[k]].name, name) == 0;
}

static float const_f(const dd_const *c, int64_t k) {
  float v;
  memcpy(&v, (const uint8_t *)c->f + 4 * k, 4); /* borrowed data may be unaligned */
  return v;
}
static int32_t const_i(const dd_const *c, int64_t k) {
  int32_t v;
  memcpy(&v, (const uint8_t *)c->i + 4 * k, 4);
  return v;
}

static void check_dims(const char *what, const dd_const *c, int rank, int64_t d0, int64_t d1,
                       int64_t d2, int64_t d3) {
  int64_t want[4] = {d0, d1, d2, d3};
  int ok = c->rank == rank;
  int64_t count = 1;
  for (int d = 0; ok && d < rank; d++) {
    ok = c->dims[d] == want[d];
    count *= want[d];
  }
  CHECKF(ok && c->count == count, "%s: rank %d dims [%lld,%lld,%lld,%lld] count %lld", what, c->rank,
         (long long)c->dims[0], (long long)c->dims[1], (long long)c->dims[2], (long long)c->dims[3],
         (long long)c->count);
}

/* ---- (a) every form ------------------------------------------------------------ */
static void check_all_forms(const dd_graph *g, const uint8_t *bytes, size_t len, int borrow) {
  CHECKF(g->n_nodes == FX_ALL_FORMS_NODES, "%d nodes", g->n_nodes);
  CHECK_OK(dd_graph_validate(g, NULL));
  CHECK(dd_graph_find(g, "init") < 0); /* NoOp dropped */

  const dd_node *n = node(g, "input");
  CHECK(n && n->op == DD_OP_PLACEHOLDER && n->n_inputs == 0);
  CHECK(dd_graph_find(g, "input:0") == dd_graph_find(g, "input"));
  CHECK(dd_graph_find(g, "input:1") < 0);

  /* tensor_content weights: values, and borrowed (inside bytes) or copied */
  n = node(g, "c0_w");
  if (n) {
    const dd_const *c = &n->attr.value;
    CHECK(n->op == DD_OP_CONST && c->dtype == DD_DTYPE_FLOAT);
    check_dims("c0_w", c, 4, 3, 3, 3, 4);
    int ok = 1;
    for (int k = 0; k < FX_C0_W_COUNT; k++) ok &= const_f(c, k) == fx_weight(k);
    CHECK(ok);
    const uint8_t *p = (const uint8_t *)c->f;
    int inside = p >= bytes && p + 4 * c->count <= bytes + len;
    CHECKF(inside == borrow, "c0_w data %s the input bytes (borrow=%d)", inside ? "inside" : "outside",
           borrow);
  }
  n = node(g, "c0_b"); /* packed float_val */
  if (n) {
    check_dims("c0_b", &n->attr.value, 1, 4, 0, 0, 0);
    for (int k = 0; k < 4; k++) CHECK(const_f(&n->attr.value, k) == fx_c0_b[k]);
  }
  n = node(g, "b1_w"); /* unpacked float_val */
  if (n) {
    check_dims("b1_w", &n->attr.value, 4, 1, 1, 4, 2);
    for (int k = 0; k < 8; k++) CHECK(const_f(&n->attr.value, k) == fx_b1_w[k]);
  }
  n = node(g, "b1_b"); /* scalar broadcast */
  if (n) {
    check_dims("b1_b", &n->attr.value, 1, 2, 0, 0, 0);
    CHECK(const_f(&n->attr.value, 0) == 0.5f && const_f(&n->attr.value, 1) == 0.5f);
  }
  n = node(g, "b2_b"); /* 2 values filling 3: the last repeats */
  if (n) {
    check_dims("b2_b", &n->attr.value, 1, 3, 0, 0, 0);
    CHECK(const_f(&n->attr.value, 0) == 7.0f && const_f(&n->attr.value, 1) == -7.0f &&
          const_f(&n->attr.value, 2) == -7.0f);
  }
  n = node(g, "fc2_w"); /* no values: zeros */
  if (n) {
    check_dims("fc2_w", &n->attr.value, 2, 5, 5, 0, 0);
    int zero = 1;
    for (int k = 0; k < 25; k++) zero &= const_f(&n->attr.value, k) == 0.0f;
    CHECK(zero);
  }
  n = node(g, "mix/concat_dim");
  if (n) {
    CHECK(n->attr.value.dtype == DD_DTYPE_INT32 && n->attr.value.rank == 0 && n->attr.value.count == 1);
    CHECK(const_i(&n->attr.value, 0) == 3);
  }
  n = node(g, "mix2/axis"); /* packed int_val, 10-byte varint */
  if (n) CHECK(n->attr.value.dtype == DD_DTYPE_INT32 && const_i(&n->attr.value, 0) == -1);
  n = node(g, "flat/shape");
  if (n) {
    check_dims("flat/shape", &n->attr.value, 1, 2, 0, 0, 0);
    CHECK(const_i(&n->attr.value, 0) == -1 && const_i(&n->attr.value, 1) == 20);
  }

  n = node(g, "c0/conv");
  CHECK(n && n->op == DD_OP_CONV2D && n->n_inputs == 2 && input_is(g, n, 0, "input") &&
        input_is(g, n, 1, "c0_w"));
  CHECK(n && n->attr.conv.strides[0] == 2 && n->attr.conv.strides[1] == 2 &&
        n->attr.conv.padding == DD_PADDING_SAME);
  n = node(g, "b1/conv");
  CHECK(n && input_is(g, n, 0, "lrn1") && input_is(g, n, 1, "b1_w"));
  CHECK(n && n->attr.conv.strides[0] == 1 && n->attr.conv.strides[1] == 1 &&
        n->attr.conv.padding == DD_PADDING_VALID);
  n = node(g, "c0_pre");
  CHECK(n && n->op == DD_OP_BIAS_ADD && input_is(g, n, 0, "c0/conv") && input_is(g, n, 1, "c0_b"));
  n = node(g, "c0");
  CHECK(n && n->op == DD_OP_RELU && n->n_inputs == 1 && input_is(g, n, 0, "c0_pre"));
  n = node(g, "pool0");
  CHECK(n && n->op == DD_OP_MAX_POOL && n->attr.pool.k_h == 3 && n->attr.pool.k_w == 3 &&
        n->attr.pool.stride_h == 2 && n->attr.pool.stride_w == 2 &&
        n->attr.pool.padding == DD_PADDING_SAME);
  n = node(g, "apool");
  CHECK(n && n->op == DD_OP_AVG_POOL && n->attr.pool.k_h == 2 && n->attr.pool.stride_h == 1 &&
        n->attr.pool.padding == DD_PADDING_VALID && input_is(g, n, 0, "mix"));
  n = node(g, "lrn0");
  CHECK(n && n->op == DD_OP_LRN && n->attr.lrn.depth_radius == 5 && n->attr.lrn.bias == 2.0f &&
        n->attr.lrn.alpha == 9.999999747378752e-05f && n->attr.lrn.beta == 0.5f);
  n = node(g, "lrn1"); /* TF defaults */
  CHECK(n && n->op == DD_OP_LRN && n->attr.lrn.depth_radius == 5 && n->attr.lrn.bias == 1.0f &&
        n->attr.lrn.alpha == 1.0f && n->attr.lrn.beta == 0.5f);
  n = node(g, "mix"); /* legacy Concat: axis from input 0, dropped from inputs */
  CHECK(n && n->op == DD_OP_CONCAT && n->attr.concat.axis == 3 && n->n_inputs == 2 &&
        input_is(g, n, 0, "b1") && input_is(g, n, 1, "b2"));
  n = node(g, "mix2"); /* ConcatV2: axis from the last input; control input dropped */
  CHECK(n && n->op == DD_OP_CONCAT && n->attr.concat.axis == -1 && n->n_inputs == 2 &&
        input_is(g, n, 0, "b2") && input_is(g, n, 1, "b1"));
  n = node(g, "flat");
  CHECK(n && n->op == DD_OP_RESHAPE && n->n_inputs == 1 && input_is(g, n, 0, "apool") &&
        n->attr.reshape.rank == 2 && n->attr.reshape.dims[0] == -1 && n->attr.reshape.dims[1] == 20);
  n = node(g, "fc");
  CHECK(n && n->op == DD_OP_MATMUL && !n->attr.matmul.transpose_a && !n->attr.matmul.transpose_b &&
        input_is(g, n, 0, "flat") && input_is(g, n, 1, "fc_w"));
  n = node(g, "fc2");
  CHECK(n && n->op == DD_OP_MATMUL && !n->attr.matmul.transpose_a && n->attr.matmul.transpose_b);
  n = node(g, "sm");
  CHECK(n && n->op == DD_OP_SOFTMAX && input_is(g, n, 0, "fc2"));
  n = node(g, "output");
  CHECK(n && n->op == DD_OP_IDENTITY && n->n_inputs == 1 && input_is(g, n, 0, "sm"));
}

static void test_all_forms(void) {
  fx_graph fx;
  fx_build_all_forms(&fx);
  CHECK_OK(dd_pb_writer_status(&fx.w, NULL));
  CHECKF(fx.w.len < 4096, "fixture is %zu bytes", fx.w.len);
  for (int borrow = 0; borrow <= 1; borrow++) {
    uint8_t *bytes = exact(fx.w.data, fx.w.len);
    dd_graph g;
    dd_error err = {0};
    dd_status s = dd_graphdef_import(bytes, fx.w.len, borrow, &g, &err);
    CHECKF(s == DD_OK, "borrow=%d: %d %s", borrow, (int)s, err.message);
    if (s == DD_OK) {
      if (!borrow) { /* copies: the input can go away before the graph is used */
        memset(bytes, 0xee, fx.w.len);
        free(bytes);
        bytes = NULL;
      }
      check_all_forms(&g, bytes, fx.w.len, borrow);
      dd_graph_free(&g);
    }
    free(bytes);
  }
  fx_free(&fx);
}

static void test_op_names(void) {
  CHECK(strcmp(dd_op_name(DD_OP_CONV2D), "Conv2D") == 0);
  CHECK(strcmp(dd_op_name(DD_OP_LRN), "LRN") == 0);
  CHECK(strcmp(dd_op_name(DD_OP_CONCAT), "Concat") == 0);
  CHECK(strcmp(dd_op_name(DD_OP_COUNT), "Unknown") == 0);
  for (int k = 0; k < DD_OP_COUNT; k++) CHECK(dd_op_name((dd_op)k) != NULL);
  /* the op list: every op has a name in TF or ONNX (ONNX-only ops: Add, Mul, Clip,
     GlobalAvgPool), and every name of each format looks up to it, with its variant */
  for (int k = 0; k < DD_OP_COUNT; k++) {
    const char *tf = dd_op_format_name((dd_op)k, DD_OP_FORMAT_TF, 0);
    const char *onnx = dd_op_format_name((dd_op)k, DD_OP_FORMAT_ONNX, 0);
    CHECKF(tf != NULL || (onnx != NULL && k >= DD_OP_ADD), "op %d has no TF name", k);
    for (int fmt = 0; fmt < 2; fmt++)
      for (int v = 0; v < DD_OP_MAX_NAMES; v++) {
        const char *name = dd_op_format_name((dd_op)k, (dd_op_format)fmt, v);
        if (!name) break;
        int got_v = -1;
        CHECKF(dd_op_lookup((dd_op_format)fmt, name, strlen(name), &got_v) == (dd_op)k && got_v == v,
               "%s '%s' does not look up to op %d variant %d", fmt ? "ONNX" : "TF", name, k, v);
      }
    int lo, hi;
    dd_op_arity((dd_op)k, &lo, &hi);
    CHECK(lo >= 0 && (hi < 0 || hi >= lo));
  }
  int v = -1;
  CHECK(dd_op_lookup(DD_OP_FORMAT_TF, "ConcatV2", 8, &v) == DD_OP_CONCAT && v == 1);
  CHECK(dd_op_lookup(DD_OP_FORMAT_TF, "Concat", 6, &v) == DD_OP_CONCAT && v == 0);
  CHECK(strcmp(dd_op_format_name(DD_OP_CONCAT, DD_OP_FORMAT_TF, 1), "ConcatV2") == 0);
  CHECK(dd_op_lookup(DD_OP_FORMAT_TF, "ConcatV2x", 8, NULL) == DD_OP_CONCAT); /* length-bounded */
  CHECK(dd_op_lookup(DD_OP_FORMAT_TF, "Relu\0x", 6, NULL) == DD_OP_COUNT);   /* a NUL is not an end */
  CHECK(dd_op_lookup(DD_OP_FORMAT_TF, "Conv", 4, NULL) == DD_OP_COUNT);
  CHECK(dd_op_lookup(DD_OP_FORMAT_TF, "NoOp", 4, NULL) == DD_OP_COUNT);      /* the importer's own */
  CHECK(dd_op_lookup(DD_OP_FORMAT_ONNX, "Conv", 4, NULL) == DD_OP_CONV2D);
  CHECK(dd_op_lookup(DD_OP_FORMAT_ONNX, "AveragePool", 11, NULL) == DD_OP_AVG_POOL);
  CHECK(dd_op_lookup(DD_OP_FORMAT_ONNX, "BiasAdd", 7, NULL) == DD_OP_COUNT);
  CHECK(dd_op_format_name(DD_OP_BIAS_ADD, DD_OP_FORMAT_ONNX, 0) == NULL);
  CHECK(dd_op_format_name(DD_OP_COUNT, DD_OP_FORMAT_TF, 0) == NULL);
  /* views: exactly Identity and Reshape */
  for (int k = 0; k < DD_OP_COUNT; k++)
    CHECK(dd_op_is_view((dd_op)k) == (k == DD_OP_IDENTITY || k == DD_OP_RESHAPE));
  CHECK(dd_op_is_view(DD_OP_COUNT) == 0);
  CHECK(dd_op_attr_kind(DD_OP_MAX_POOL) == DD_ATTR_POOL && dd_op_attr_kind(DD_OP_RELU) == DD_ATTR_NONE);
  char buf[24];
  CHECK(strcmp(dd_graphdef_dtype_name(9, buf, sizeof buf), "DT_INT64") == 0);
  CHECK(strcmp(dd_graphdef_dtype_name(1000, buf, sizeof buf), "DT_1000") == 0);
}

/* The graph API directly: many names (index growth), lookup, set_inputs. */
static void test_graph_api(void) {
  dd_graph g;
  dd_graph_init(&g);
  char name[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(name, sizeof name, "n%d", i);
    CHECK(dd_graph_add_node(&g, name, strlen(name), i == 0 ? DD_OP_PLACEHOLDER : DD_OP_RELU) == i);
  }
  int ok = 1;
  for (int i = 0; i < 1000; i++) {
    snprintf(name, sizeof name, "n%d", i);
    ok &= dd_graph_find(&g, name) == i;
    snprintf(name, sizeof name, "n%d:0", i);
    ok &= dd_graph_find(&g, name) == i;
  }
  CHECK(ok);
  CHECK(dd_graph_find(&g, "n1000") < 0 && dd_graph_find(&g, "n1:1") < 0 && dd_graph_find(&g, "") < 0);
  /* a chain n0 -> n1 -> ... validates */
  for (int i = 1; i < 1000; i++) {
    int in = i - 1;
    CHECK_OK(dd_graph_set_inputs(&g, i, &in, 1, NULL));
  }
  CHECK_OK(dd_graph_validate(&g, NULL));
  dd_error err = {0};
  int bad = 5000;
  CHECK(dd_graph_set_inputs(&g, 3, &bad, 1, &err) == DD_ERR_GRAPH && strstr(err.message, "n3"));
  CHECK(dd_graph_set_inputs(&g, -1, &bad, 1, &err) == DD_ERR_INVALID_ARGUMENT);
  /* close a cycle n500 -> n10 */
  int in = 500;
  CHECK_OK(dd_graph_set_inputs(&g, 10, &in, 1, NULL));
  CHECK(dd_graph_validate(&g, &err) == DD_ERR_GRAPH);
  CHECKF(strstr(err.message, "cycle") && strstr(err.message, "'n10'") && strstr(err.message, "'n500'"),
         "%s", err.message);
  /* a duplicate name */
  in = 0;
  CHECK_OK(dd_graph_set_inputs(&g, 10, &in, 1, NULL));
  int d = dd_graph_add_node(&g, "n7", 2, DD_OP_RELU);
  CHECK(d == 1000);
  CHECK_OK(dd_graph_set_inputs(&g, d, &in, 1, NULL));
  CHECK(dd_graph_find(&g, "n7") == 7);
  CHECK(dd_graph_validate(&g, &err) == DD_ERR_GRAPH && strstr(err.message, "duplicate") &&
        strstr(err.message, "'n7'"));
  /* owned memory is freed with the graph (ASan checks leaks) */
  CHECK(dd_graph_own(&g, malloc(10)) != NULL);
  CHECK(dd_graph_own(&g, NULL) == NULL);
  dd_graph_free(&g);
  dd_graph_free(&g); /* idempotent */
  /* an empty graph */
  dd_graph_init(&g);
  CHECK(dd_graph_validate(&g, &err) == DD_ERR_GRAPH && strstr(err.message, "no nodes"));
  dd_graph_free(&g);
}

/* validate() on hand-built graphs: every rule an importer cannot trigger. */
static dd_graph vg;
static float vg_data[16];

static int vg_build(dd_op op) {
  dd_graph_free(&vg);
  dd_graph_init(&vg);
  int in = dd_graph_add_node(&vg, "input", 5, DD_OP_PLACEHOLDER);
  int w = dd_graph_add_node(&vg, "w", 1, DD_OP_CONST);
  dd_const *c = &vg.nodes[w].attr.value;
  c->dtype = DD_DTYPE_FLOAT;
  c->rank = 4;
  c->dims[0] = c->dims[1] = 2;
  c->dims[2] = c->dims[3] = 2;
  c->count = 16;
  c->f = vg_data;
  int x = dd_graph_add_node(&vg, "x", 1, op);
  int ins[2] = {in, w};
  CHECK_OK(dd_graph_set_inputs(&vg, x, ins, op == DD_OP_CONV2D ? 2 : 1, NULL));
  dd_node *n = &vg.nodes[x];
  n->attr.conv.strides[0] = n->attr.conv.strides[1] = 1;
  if (op == DD_OP_MAX_POOL) n->attr.pool = (dd_window){2, 2, 1, 1, DD_PADDING_SAME};
  if (op == DD_OP_LRN) n->attr.lrn = (dd_lrn_params){5, 1.0f, 1.0f, 0.5f};
  CHECK_OK(dd_graph_validate(&vg, NULL));
  return x;
}

static void vg_expect(const char *what, dd_status want, const char *needle) {
  dd_error err = {0};
  dd_status s = dd_graph_validate(&vg, &err);
  CHECKF(s == want && strstr(err.message, needle), "%s: %s \"%s\" (wanted \"%s\")", what,
         dd_status_string(s), err.message, needle);
}

static void test_validate_rules(void) {
  int x = vg_build(DD_OP_CONV2D);
  vg.nodes[x].attr.conv.padding = (dd_padding)7;
  vg_expect("padding", DD_ERR_GRAPH, "padding 7");
  x = vg_build(DD_OP_CONV2D);
  vg.nodes[x].attr.conv.strides[1] = 0;
  vg_expect("stride 0", DD_ERR_GRAPH, "Conv2D node 'x': strides 1x0");
  x = vg_build(DD_OP_CONV2D);
  vg.nodes[1].attr.value.rank = 3;
  vg.nodes[1].attr.value.count = 8;
  vg_expect("rank-3 filter", DD_ERR_GRAPH, "filter 'w'");
  x = vg_build(DD_OP_CONV2D);
  vg.nodes[1].attr.value.count = 15;
  vg_expect("const count", DD_ERR_GRAPH, "count 15 disagrees");
  x = vg_build(DD_OP_CONV2D);
  vg.nodes[1].attr.value.f = NULL;
  vg_expect("const data", DD_ERR_GRAPH, "'w': 16 elements but no data");
  x = vg_build(DD_OP_CONV2D);
  vg.nodes[1].attr.value.dims[0] = -2;
  vg_expect("const dim", DD_ERR_GRAPH, "negative (-2)");
  x = vg_build(DD_OP_CONV2D);
  vg.nodes[1].attr.value.dtype = (dd_dtype)9;
  vg_expect("const dtype", DD_ERR_GRAPH, "dtype 9");
  x = vg_build(DD_OP_RELU);
  vg.nodes[x].op = (dd_op)99;
  vg_expect("op", DD_ERR_GRAPH, "invalid op 99");
  x = vg_build(DD_OP_RELU);
  vg.nodes[x].inputs[0] = 42;
  vg_expect("input index", DD_ERR_GRAPH, "node index 42");
  x = vg_build(DD_OP_MAX_POOL);
  vg.nodes[x].attr.pool.k_w = 0;
  vg_expect("window", DD_ERR_GRAPH, "MaxPool node 'x': window 2x0");
  x = vg_build(DD_OP_LRN);
  vg.nodes[x].attr.lrn.alpha = NAN;
  vg_expect("lrn nan", DD_ERR_GRAPH, "finite");
  x = vg_build(DD_OP_LRN);
  vg.nodes[x].attr.lrn.depth_radius = -1;
  vg_expect("lrn radius", DD_ERR_GRAPH, "depth_radius -1");
  x = vg_build(DD_OP_CONCAT);
  vg.nodes[x].attr.concat.axis = 4;
  vg_expect("concat axis", DD_ERR_GRAPH, "axis 4");
  x = vg_build(DD_OP_RESHAPE);
  vg.nodes[x].attr.reshape.rank = 2;
  vg.nodes[x].attr.reshape.dims[0] = -1;
  vg.nodes[x].attr.reshape.dims[1] = -1;
  vg_expect("reshape -1 -1", DD_ERR_GRAPH, "more than one -1");
  x = vg_build(DD_OP_RESHAPE);
  vg.nodes[x].attr.reshape.rank = 5;
  vg_expect("reshape rank", DD_ERR_GRAPH, "rank 5");
  x = vg_build(DD_OP_RELU);
  vg.nodes[x].op = DD_OP_MATMUL;
  vg_expect("matmul arity", DD_ERR_GRAPH, "MatMul node 'x' has 1 inputs, expected 2");
  x = vg_build(DD_OP_CONV2D);
  vg.nodes[x].op = DD_OP_MATMUL;
  vg_expect("matmul const rank", DD_ERR_GRAPH, "rank-2");
  vg.nodes[1].attr.value.rank = 2;
  vg.nodes[1].attr.value.dims[0] = vg.nodes[1].attr.value.dims[1] = 4;
  CHECK_OK(dd_graph_validate(&vg, NULL));
  vg.nodes[x].attr.matmul.transpose_b = 2;
  vg_expect("matmul flag", DD_ERR_GRAPH, "transpose flags");
  /* a long cycle is summarised with both ends named */
  dd_graph_free(&vg);
  dd_graph_init(&vg);
  char name[16];
  dd_graph_add_node(&vg, "input", 5, DD_OP_PLACEHOLDER);
  for (int i = 1; i <= 40; i++) {
    snprintf(name, sizeof name, "c%d", i);
    CHECK(dd_graph_add_node(&vg, name, strlen(name), DD_OP_RELU) == i);
  }
  for (int i = 1; i <= 40; i++) {
    int in = i == 1 ? 40 : i - 1;
    CHECK_OK(dd_graph_set_inputs(&vg, i, &in, 1, NULL));
  }
  vg_expect("long cycle", DD_ERR_GRAPH, "cycle of 40 nodes: 'c1' -> 'c2' -> 'c3' -> ... -> 'c39' -> 'c40' -> 'c1'");
  dd_graph_free(&vg);
}

/* ---- (b) bad inputs -------------------------------------------------------------- */
static void expect_fail_bytes(const char *what, const uint8_t *data, size_t len, dd_status want,
                              const char *n1, const char *n2, const char *n3) {
  for (int borrow = 0; borrow <= 1; borrow++) {
    uint8_t *bytes = exact(data, len);
    dd_graph g;
    memset(&g, 0x5a, sizeof g); /* must stay untouched on failure */
    dd_error err = {0};
    dd_status s = dd_graphdef_import(bytes, len, borrow, &g, &err);
    CHECKF(s == want, "%s: status %s, expected %s (%s)", what, dd_status_string(s),
           dd_status_string(want), err.message);
    if (s == DD_OK) dd_graph_free(&g);
    else CHECKF(g.n_nodes == 0x5a5a5a5a, "%s: out written on failure", what);
    CHECKF(err.status == want || s == DD_OK, "%s: err.status %d", what, (int)err.status);
    const char *needles[3] = {n1, n2, n3};
    for (int k = 0; k < 3; k++)
      if (needles[k] && s != DD_OK)
        CHECKF(strstr(err.message, needles[k]) != NULL, "%s: message \"%s\" lacks \"%s\"", what,
               err.message, needles[k]);
    free(bytes);
  }
}

static void expect_fail(const char *what, fx_graph *fx, dd_status want, const char *n1,
                        const char *n2, const char *n3) {
  CHECK_OK(dd_pb_writer_status(&fx->w, NULL));
  expect_fail_bytes(what, fx->w.data, fx->w.len, want, n1, n2, n3);
  fx_free(fx);
}

static void with_input(fx_graph *fx) {
  fx_init(fx);
  fx_placeholder(fx, "input");
}

static void weights(fx_graph *fx, const char *name, int64_t kh, int64_t kw, int64_t ci, int64_t co) {
  int64_t d[4] = {kh, kw, ci, co};
  int n = (int)(kh * kw * ci * co);
  float *v = (float *)calloc((size_t)n, sizeof(float));
  fx_const_content(fx, name, d, 4, v, n);
  free(v);
}

static void test_bad_ops_and_inputs(void) {
  fx_graph fx;
  with_input(&fx);
  fx_unary(&fx, "foo", "Tanh", "input");
  expect_fail("unknown op", &fx, DD_ERR_UNSUPPORTED, "unsupported op 'Tanh' at node 'foo'", NULL, NULL);

  with_input(&fx);
  fx_unary(&fx, "r", "Relu", "input:1");
  expect_fail("output index 1", &fx, DD_ERR_UNSUPPORTED, "'r'", "input:1", "output 1");

  with_input(&fx);
  fx_unary(&fx, "r", "Relu", "input:x");
  expect_fail("malformed input", &fx, DD_ERR_PARSE, "'r'", "input:x", NULL);

  with_input(&fx);
  fx_unary(&fx, "r", "Relu", "nothere");
  expect_fail("missing input", &fx, DD_ERR_GRAPH, "'r'", "'nothere'", "Relu");

  with_input(&fx);
  fx_unary(&fx, "r", "Relu", "input");
  fx_unary(&fx, "r", "Relu", "input");
  expect_fail("duplicate name", &fx, DD_ERR_GRAPH, "duplicate", "'r'", NULL);

  with_input(&fx);
  fx_binary(&fx, "a", "Concat", "a/axis", "b");
  fx_const_int_scalar(&fx, "a/axis", 3);
  fx_unary(&fx, "b", "Relu", "c");
  fx_unary(&fx, "c", "Relu", "a");
  expect_fail("cycle", &fx, DD_ERR_GRAPH, "cycle", "'a' -> 'c' -> 'b' -> 'a'", NULL);

  with_input(&fx);
  fx_unary(&fx, "self", "Identity", "self");
  expect_fail("self loop", &fx, DD_ERR_GRAPH, "cycle", "'self' -> 'self'", NULL);

  expect_fail_bytes("empty graph", (const uint8_t *)"", 0, DD_ERR_GRAPH, "no nodes", NULL, NULL);
  fx_init(&fx);
  fx_push(&fx, 4); /* only versions */
  dd_pb_write_varint(&fx.w, 1, 21);
  fx_pop(&fx);
  expect_fail("versions only", &fx, DD_ERR_GRAPH, "no nodes", NULL, NULL);
  fx_init(&fx);
  fx_node(&fx, "init", "NoOp");
  fx_end(&fx);
  expect_fail("only NoOp", &fx, DD_ERR_GRAPH, "NoOp", NULL, NULL);

  fx_init(&fx);
  weights(&fx, "w", 1, 1, 1, 1);
  fx_unary(&fx, "r", "Relu", "w");
  expect_fail("no placeholder", &fx, DD_ERR_GRAPH, "no Placeholder", NULL, NULL);

  with_input(&fx);
  fx_placeholder(&fx, "input2");
  expect_fail("two placeholders", &fx, DD_ERR_UNSUPPORTED, "'input'", "'input2'", NULL);

  with_input(&fx);
  fx_binary(&fx, "r", "Relu", "input", "input");
  expect_fail("Relu arity", &fx, DD_ERR_GRAPH, "Relu node 'r' has 2 inputs", NULL, NULL);

  with_input(&fx);
  fx_const_int_scalar(&fx, "k", 3);
  fx_unary(&fx, "r", "Relu", "k");
  expect_fail("int32 const as data", &fx, DD_ERR_GRAPH, "'r'", "'k'", "int32");

  with_input(&fx);
  fx_node(&fx, "", "Relu");
  fx_input(&fx, "input");
  fx_end(&fx);
  expect_fail("empty name", &fx, DD_ERR_PARSE, "empty name", "Relu", NULL);

  with_input(&fx);
  fx_node(&fx, "opless", NULL);
  fx_end(&fx);
  expect_fail("no op", &fx, DD_ERR_PARSE, "'opless' has no op", NULL, NULL);

  with_input(&fx);
  fx_unary(&fx, "a:b", "Relu", "input");
  expect_fail("name with colon", &fx, DD_ERR_PARSE, "invalid name", "a:b", NULL);

  with_input(&fx);
  fx_node(&fx, "p2", "Placeholder");
  fx_attr_type(&fx, "dtype", FX_DT_INT32);
  fx_end(&fx);
  expect_fail("int placeholder", &fx, DD_ERR_UNSUPPORTED, "'p2'", "DT_INT32", "Placeholder");

  with_input(&fx);
  fx_node(&fx, "r", "Relu");
  fx_input(&fx, "input");
  fx_attr_type(&fx, "T", 2);
  fx_end(&fx);
  expect_fail("double Relu", &fx, DD_ERR_UNSUPPORTED, "'r'", "DT_DOUBLE", "Relu");
}

static void test_bad_consts(void) {
  fx_graph fx;
  float v[8] = {0};
  int64_t d23[2] = {2, 3};
  with_input(&fx);
  fx_const_content(&fx, "w", d23, 2, v, 5); /* 20 bytes for 24 */
  expect_fail("content size", &fx, DD_ERR_PARSE, "'w'", "20 bytes", "needs 24");

  int64_t dneg[2] = {-1, 3};
  with_input(&fx);
  fx_const_content(&fx, "w", dneg, 2, v, 3);
  expect_fail("negative dim", &fx, DD_ERR_PARSE, "'w'", "-1", NULL);

  int64_t dbig[3] = {(int64_t)1 << 40, (int64_t)1 << 40, 4};
  with_input(&fx);
  fx_const_content(&fx, "w", dbig, 3, v, 1);
  expect_fail("overflowing dims", &fx, DD_ERR_PARSE, "'w'", "overflow", "1099511627776");

  int64_t d5[5] = {1, 1, 1, 1, 1};
  with_input(&fx);
  fx_const_content(&fx, "w", d5, 5, v, 1);
  expect_fail("rank 5", &fx, DD_ERR_UNSUPPORTED, "'w'", "rank", NULL);

  int64_t d2 = 2;
  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_tensor_begin(&fx, FX_DT_FLOAT, &d2, 1);
  fx_float_vals(&fx, v, 3, 0);
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("too many float_val", &fx, DD_ERR_PARSE, "'w'", "3 float_val", "only 2");

  int64_t dhuge[2] = {(int64_t)1 << 20, (int64_t)1 << 10}; /* 4 GiB from one value */
  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_tensor_begin(&fx, FX_DT_FLOAT, dhuge, 2);
  fx_float_vals(&fx, v, 1, 0);
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("huge broadcast", &fx, DD_ERR_UNSUPPORTED, "'w'", "4294967296 bytes", "limit");

  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_tensor_begin(&fx, FX_DT_INT64, &d2, 1);
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("int64 const", &fx, DD_ERR_UNSUPPORTED, "'w'", "DT_INT64", NULL);

  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_attr_type(&fx, "dtype", FX_DT_INT32);
  fx_tensor_begin(&fx, FX_DT_FLOAT, &d2, 1);
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("dtype mismatch", &fx, DD_ERR_PARSE, "'w'", "DT_INT32", "DT_FLOAT");

  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_attr_type(&fx, "dtype", FX_DT_FLOAT);
  fx_end(&fx);
  expect_fail("const without value", &fx, DD_ERR_PARSE, "'w'", "'value'", NULL);

  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_tensor_begin(&fx, FX_DT_FLOAT, NULL, -1);
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("unknown rank", &fx, DD_ERR_PARSE, "'w'", "unknown rank", NULL);

  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_tensor_begin(&fx, FX_DT_FLOAT, &d2, 1);
  fx_push(&fx, 5);
  dd_pb_write_raw(&fx.w, "abcdef", 6); /* packed float_val of 6 bytes */
  fx_pop(&fx);
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("packed float_val % 4", &fx, DD_ERR_PARSE, "'w'", "6 bytes", NULL);

  with_input(&fx);
  fx_node(&fx, "w", "Const");
  fx_tensor_begin(&fx, FX_DT_FLOAT, &d2, 1);
  dd_pb_write_varint(&fx.w, 5, 1); /* float_val as a varint */
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("float_val wire type", &fx, DD_ERR_PARSE, "'w'", "float_val", "varint");

  /* non-finite weights: rejected at import, naming the node and the value
     (tensor_content, float_val, and float_val broadcast from its last value) */
  float bad[6] = {0.5f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
  bad[4] = NAN;
  with_input(&fx);
  fx_const_content(&fx, "w_nan", d23, 2, bad, 6);
  expect_fail("NaN in tensor_content", &fx, DD_ERR_PARSE, "'w_nan'", "value 4 of 6 is NaN", "finite");
  bad[4] = 4.0f;
  bad[1] = -INFINITY;
  with_input(&fx);
  fx_const_content(&fx, "w_inf", d23, 2, bad, 6);
  expect_fail("-Inf in tensor_content", &fx, DD_ERR_PARSE, "'w_inf'", "value 1 of 6 is -Inf", NULL);
  float inf1 = INFINITY;
  with_input(&fx);
  fx_node(&fx, "w_val", "Const");
  fx_tensor_begin(&fx, FX_DT_FLOAT, d23, 2);
  fx_float_vals(&fx, &inf1, 1, 0);
  fx_tensor_end(&fx);
  fx_end(&fx);
  expect_fail("+Inf float_val", &fx, DD_ERR_PARSE, "'w_val'", "value 0 of 6 is +Inf", NULL);
}

/* LeakyRelu (the worked example of "Adding an op"): TF's default alpha 0.2,
   an explicit one, and a non-float or non-finite alpha rejected.
   input -> LeakyRelu "leaky", with alpha as a float (1), an int (2) or absent (0). */
static void leaky_graph(fx_graph *fx, int alpha_kind, float alpha) {
  with_input(fx);
  fx_node(fx, "leaky", "LeakyRelu");
  fx_input(fx, "input");
  fx_attr_type(fx, "T", FX_DT_FLOAT);
  if (alpha_kind == 1) fx_attr_f(fx, "alpha", alpha);
  if (alpha_kind == 2) fx_attr_i(fx, "alpha", 1);
  fx_end(fx);
}

static void test_leaky_relu(void) {
  fx_graph fx;
  for (int given = 0; given <= 1; given++) {
    leaky_graph(&fx, given, 0.01f);
    dd_graph g;
    dd_error err;
    CHECK_OK(dd_graphdef_import(fx.w.data, fx.w.len, 0, &g, &err));
    int i = dd_graph_find(&g, "leaky");
    CHECK(i >= 0 && g.nodes[i].op == DD_OP_LEAKY_RELU && g.nodes[i].n_inputs == 1 &&
          g.nodes[i].attr.alpha == (given ? 0.01f : 0.2f));
    CHECK(strcmp(dd_op_name(g.nodes[i].op), "LeakyRelu") == 0);
    dd_graph_free(&g);
    fx_free(&fx);
  }
  leaky_graph(&fx, 2, 0);
  expect_fail("LeakyRelu int alpha", &fx, DD_ERR_PARSE, "alpha", NULL, NULL);
  leaky_graph(&fx, 1, INFINITY);
  expect_fail("LeakyRelu alpha inf", &fx, DD_ERR_UNSUPPORTED, "LeakyRelu node 'leaky'", "alpha", NULL);
}

static void test_bad_attrs(void) {
  fx_graph fx;
  with_input(&fx);
  weights(&fx, "w", 1, 1, 3, 2);
  fx_node(&fx, "conv", "Conv2D");
  fx_input(&fx, "input");
  fx_input(&fx, "w");
  fx_attr_s(&fx, "padding", "SAME");
  fx_attr_nhwc4(&fx, "strides", 1, 1);
  fx_attr_s(&fx, "data_format", "NCHW");
  fx_end(&fx);
  expect_fail("NCHW", &fx, DD_ERR_UNSUPPORTED, "Conv2D node 'conv'", "NCHW", NULL);

  with_input(&fx);
  weights(&fx, "w", 1, 1, 3, 2);
  fx_node(&fx, "conv", "Conv2D");
  fx_input(&fx, "input");
  fx_input(&fx, "w");
  fx_attr_s(&fx, "padding", "SAME");
  fx_attr_nhwc4(&fx, "strides", 1, 1);
  fx_attr_nhwc4(&fx, "dilations", 2, 2);
  fx_end(&fx);
  expect_fail("dilations", &fx, DD_ERR_UNSUPPORTED, "'conv'", "dilations 2x2", NULL);

  with_input(&fx);
  weights(&fx, "w", 1, 1, 3, 2);
  fx_node(&fx, "conv", "Conv2D");
  fx_input(&fx, "input");
  fx_input(&fx, "w");
  fx_attr_s(&fx, "padding", "SAME");
  {
    int64_t st[4] = {2, 1, 1, 1};
    fx_attr_ilist(&fx, "strides", st, 4, 0);
  }
  fx_end(&fx);
  expect_fail("batch stride", &fx, DD_ERR_UNSUPPORTED, "'conv'", "[2,1,1,1]", NULL);

  with_input(&fx);
  weights(&fx, "w", 1, 1, 3, 2);
  fx_conv(&fx, "conv", "input", "w", 1, "EXPLICIT");
  expect_fail("explicit padding", &fx, DD_ERR_UNSUPPORTED, "'conv'", "EXPLICIT", NULL);

  with_input(&fx);
  weights(&fx, "w", 1, 1, 3, 2);
  fx_node(&fx, "conv", "Conv2D");
  fx_input(&fx, "input");
  fx_input(&fx, "w");
  fx_attr_s(&fx, "padding", "SAME");
  fx_end(&fx);
  expect_fail("missing strides", &fx, DD_ERR_PARSE, "'conv'", "'strides'", NULL);

  with_input(&fx);
  weights(&fx, "w", 1, 1, 3, 2);
  fx_node(&fx, "conv", "Conv2D");
  fx_input(&fx, "input");
  fx_input(&fx, "w");
  fx_attr_i(&fx, "padding", 1);
  fx_attr_nhwc4(&fx, "strides", 1, 1);
  fx_end(&fx);
  expect_fail("padding not a string", &fx, DD_ERR_PARSE, "'conv'", "'padding' is not a string", NULL);

  with_input(&fx);
  fx_unary(&fx, "r", "Relu", "input");
  fx_conv(&fx, "conv", "input", "r", 1, "SAME");
  expect_fail("non-const filter", &fx, DD_ERR_GRAPH, "'conv'", "'r'", "filter");

  with_input(&fx);
  fx_pool(&fx, "p", "MaxPool", "input", 0, 1, "SAME");
  expect_fail("ksize 0", &fx, DD_ERR_UNSUPPORTED, "MaxPool node 'p'", "ksize", NULL);

  with_input(&fx);
  fx_node(&fx, "p", "AvgPool");
  fx_input(&fx, "input");
  {
    int64_t k5[5] = {1, 2, 2, 1, 1};
    fx_attr_ilist(&fx, "ksize", k5, 5, 1);
  }
  fx_attr_nhwc4(&fx, "strides", 1, 1);
  fx_attr_s(&fx, "padding", "VALID");
  fx_end(&fx);
  expect_fail("ksize of 5", &fx, DD_ERR_UNSUPPORTED, "AvgPool node 'p'", "'ksize'", NULL);

  with_input(&fx);
  fx_node(&fx, "l", "LRN");
  fx_input(&fx, "input");
  fx_attr_i(&fx, "depth_radius", -3);
  fx_end(&fx);
  expect_fail("LRN radius", &fx, DD_ERR_UNSUPPORTED, "LRN node 'l'", "-3", NULL);

  with_input(&fx);
  fx_node(&fx, "l", "LRN");
  fx_input(&fx, "input");
  fx_attr_f(&fx, "beta", INFINITY);
  fx_end(&fx);
  expect_fail("LRN beta inf", &fx, DD_ERR_UNSUPPORTED, "'l'", "beta", NULL);

  with_input(&fx);
  weights(&fx, "w", 3, 2, 1, 1);
  fx_node(&fx, "m", "MatMul");
  fx_input(&fx, "input");
  fx_input(&fx, "w");
  fx_attr_i(&fx, "transpose_a", 1);
  fx_end(&fx);
  expect_fail("transpose as int", &fx, DD_ERR_PARSE, "'m'", "'transpose_a' is not a bool", NULL);

  with_input(&fx);
  fx_node(&fx, "b", "BiasAdd");
  fx_input(&fx, "input");
  fx_input(&fx, "input");
  fx_attr_s(&fx, "data_format", "NCHW");
  fx_end(&fx);
  expect_fail("BiasAdd NCHW", &fx, DD_ERR_UNSUPPORTED, "BiasAdd node 'b'", "NCHW", NULL);
}

static void test_bad_concat_reshape(void) {
  fx_graph fx;
  with_input(&fx);
  fx_node(&fx, "c", "Concat");
  fx_input(&fx, "input");
  fx_input(&fx, "input");
  fx_input(&fx, "input");
  fx_end(&fx);
  expect_fail("concat axis not const", &fx, DD_ERR_UNSUPPORTED, "Concat node 'c'", "axis input 'input'",
              "Placeholder");

  with_input(&fx);
  fx_const_int_scalar(&fx, "ax", 7);
  fx_node(&fx, "c", "ConcatV2");
  fx_input(&fx, "input");
  fx_input(&fx, "input");
  fx_input(&fx, "ax");
  fx_end(&fx);
  expect_fail("concat axis 7", &fx, DD_ERR_UNSUPPORTED, "ConcatV2 node 'c'", "axis 7", "'ax'");

  with_input(&fx);
  fx_const_int_scalar(&fx, "ax", 3);
  fx_node(&fx, "c", "Concat");
  fx_input(&fx, "ax");
  fx_end(&fx);
  expect_fail("concat without tensors", &fx, DD_ERR_GRAPH, "Concat node 'c'", "1 inputs", NULL);

  with_input(&fx);
  fx_const_int_scalar(&fx, "ax", 3);
  fx_node(&fx, "c", "Concat");
  fx_input(&fx, "ax");
  fx_input(&fx, "input");
  fx_input(&fx, "input");
  fx_attr_i(&fx, "N", 3);
  fx_end(&fx);
  expect_fail("concat N mismatch", &fx, DD_ERR_GRAPH, "Concat node 'c'", "N = 3", "2 tensor");

  with_input(&fx);
  {
    int32_t two[2] = {3, 3};
    fx_const_int_vector(&fx, "ax", two, 2);
  }
  fx_binary(&fx, "c", "ConcatV2", "input", "ax");
  expect_fail("concat axis vector", &fx, DD_ERR_UNSUPPORTED, "'c'", "'ax'", "[2]");

  with_input(&fx);
  fx_binary(&fx, "r", "Reshape", "input", "input");
  expect_fail("reshape shape not const", &fx, DD_ERR_UNSUPPORTED, "Reshape node 'r'", "shape input", NULL);

  with_input(&fx);
  {
    int32_t sh[2] = {-1, -1};
    fx_const_int_vector(&fx, "sh", sh, 2);
  }
  fx_binary(&fx, "r", "Reshape", "input", "sh");
  expect_fail("reshape two -1", &fx, DD_ERR_UNSUPPORTED, "'r'", "[-1,-1]", NULL);

  with_input(&fx);
  {
    int32_t sh[5] = {1, 1, 1, 1, -1};
    fx_const_int_vector(&fx, "sh", sh, 5);
  }
  fx_binary(&fx, "r", "Reshape", "input", "sh");
  expect_fail("reshape rank 5", &fx, DD_ERR_UNSUPPORTED, "'r'", "'sh'", "[5]");

  with_input(&fx);
  fx_unary(&fx, "r", "Reshape", "input");
  expect_fail("reshape arity", &fx, DD_ERR_GRAPH, "Reshape node 'r'", "1 inputs", NULL);
}

static void test_bad_wire(void) {
  fx_graph fx;
  with_input(&fx);
  fx_push(&fx, 1);
  dd_pb_write_varint(&fx.w, 1, 5); /* NodeDef.name as a varint */
  fx_pop(&fx);
  expect_fail("name wire type", &fx, DD_ERR_PARSE, "node #1: NodeDef.name", "varint", NULL);

  with_input(&fx);
  dd_pb_write_varint(&fx.w, 1, 5); /* GraphDef.node as a varint */
  expect_fail("node wire type", &fx, DD_ERR_PARSE, "GraphDef.node", "varint", NULL);

  with_input(&fx);
  fx_node(&fx, "l", "LRN");
  fx_input(&fx, "input");
  fx_attr_begin(&fx, "bias");
  dd_pb_write_varint(&fx.w, 4, 2); /* AttrValue.f as a varint */
  fx_attr_end(&fx);
  fx_end(&fx);
  expect_fail("attr f wire type", &fx, DD_ERR_PARSE, "'l'", "'bias'", "fixed32");

  with_input(&fx);
  fx_push(&fx, 1);
  dd_pb_write_string(&fx.w, 1, "x");
  dd_pb_write_tag(&fx.w, 3, DD_PB_LEN);
  dd_pb_write_raw_varint(&fx.w, (uint64_t)1 << 40); /* an input of 1 TiB */
  fx_pop(&fx);
  expect_fail("huge length", &fx, DD_ERR_PARSE, "declares 1099511627776 bytes", "node 'x' (#1)", NULL);

  uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  expect_fail_bytes("junk", junk, sizeof junk, DD_ERR_PARSE, "protobuf", NULL, NULL);

  /* Unknown fields of every wire type at every level are skipped. */
  fx_build_minimal(&fx);
  dd_pb_write_fixed64(&fx.w, 9, 1);
  dd_pb_write_fixed32(&fx.w, 10, 1);
  dd_pb_write_tag(&fx.w, 11, DD_PB_START_GROUP);
  dd_pb_write_tag(&fx.w, 11, DD_PB_END_GROUP);
  fx_node(&fx, "r2", "Relu");
  fx_input(&fx, "r");
  dd_pb_write_fixed64(&fx.w, 99, 1);
  fx_attr_begin(&fx, "T");
  dd_pb_write_varint(&fx.w, 6, FX_DT_FLOAT);
  dd_pb_write_fixed64(&fx.w, 77, 1);
  fx_attr_end(&fx);
  fx_end(&fx);
  expect_fail_bytes("unknown fields", fx.w.data, fx.w.len, DD_OK, NULL, NULL, NULL);
  fx_free(&fx);
}

/* ---- (c) truncation, (d) mutation --------------------------------------------- */
static int status_known(dd_status s) {
  return s == DD_OK || s == DD_ERR_PARSE || s == DD_ERR_UNSUPPORTED || s == DD_ERR_GRAPH ||
         s == DD_ERR_OUT_OF_MEMORY;
}

static int import_once(const uint8_t *data, size_t len, int borrow, dd_status *status) {
  uint8_t *bytes = exact(data, len);
  dd_graph g;
  dd_error err = {0};
  dd_status s = dd_graphdef_import(bytes, len, borrow, &g, &err);
  int ok = status_known(s);
  if (s == DD_OK) {
    ok &= dd_graph_validate(&g, NULL) == DD_OK;
    /* touch every const (ASan checks the pointers) */
    for (int i = 0; i < g.n_nodes; i++) {
      const dd_const *c = &g.nodes[i].attr.value;
      if (g.nodes[i].op != DD_OP_CONST || c->count == 0) continue;
      uint8_t tmp[4];
      const uint8_t *p = c->dtype == DD_DTYPE_FLOAT ? (const uint8_t *)c->f : (const uint8_t *)c->i;
      memcpy(tmp, p + 4 * (c->count - 1), 4);
      memcpy(tmp, p, 4);
    }
    dd_graph_free(&g);
  } else {
    ok &= err.status == s && err.message[0] != '\0';
  }
  free(bytes);
  *status = s;
  return ok;
}

static void test_truncation(void) {
  fx_graph fx;
  fx_build_all_forms(&fx);
  size_t n_fail = 0, n_ok = 0;
  for (size_t len = 0; len < fx.w.len; len++) {
    for (int borrow = 0; borrow <= 1; borrow++) {
      dd_status s;
      CHECKF(import_once(fx.w.data, len, borrow, &s), "truncated at %zu: status %d", len, (int)s);
      if (s == DD_OK) n_ok++;
      else n_fail++;
    }
  }
  /* Most cuts fall inside a field; the few at node boundaries may give a valid
     prefix graph (e.g. the Placeholder alone). */
  CHECKF(n_fail > 2 * n_ok && n_fail > fx.w.len, "%zu failures, %zu successes", n_fail, n_ok);
  printf("  truncation: %zu lengths, %zu imports failed cleanly, %zu gave a valid prefix graph\n",
         fx.w.len, n_fail, n_ok);
  fx_free(&fx);
}

static void test_mutation(void) {
  fx_graph fx;
  fx_build_all_forms(&fx);
  test_rng rng;
  test_rng_seed(&rng, 12345);
  size_t cap = fx.w.len + 64;
  uint8_t *buf = (uint8_t *)malloc(cap);
  int counts[16] = {0};
  const int iterations = 4000;
  for (int it = 0; it < iterations; it++) {
    size_t len = fx.w.len;
    memcpy(buf, fx.w.data, len);
    int edits = test_randint(&rng, 1, 8);
    for (int e = 0; e < edits; e++) {
      size_t at = (size_t)test_randint(&rng, 0, (int)len - 1);
      switch (test_randint(&rng, 0, 5)) {
        case 0: buf[at] ^= (uint8_t)(1u << test_randint(&rng, 0, 7)); break;
        case 1: buf[at] = (uint8_t)test_randint(&rng, 0, 255); break;
        case 2: buf[at] = (uint8_t)(test_randint(&rng, 0, 1) ? 0xff : 0x00); break;
        case 3: buf[at] = (uint8_t)(buf[at] + test_randint(&rng, -2, 2)); break;
        case 4: /* delete a byte */
          memmove(buf + at, buf + at + 1, len - at - 1);
          len--;
          break;
        default: /* insert a byte */
          if (len < cap) {
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = (uint8_t)test_randint(&rng, 0, 255);
            len++;
          }
      }
      if (len < 2) break;
    }
    dd_status s;
    CHECKF(import_once(buf, len, it & 1, &s), "mutation %d: status %d", it, (int)s);
    counts[-(int)s & 15]++;
  }
  printf("  mutation: %d inputs: OK %d, PARSE %d, UNSUPPORTED %d, GRAPH %d\n", iterations,
         counts[0], counts[-DD_ERR_PARSE], counts[-DD_ERR_UNSUPPORTED], counts[-DD_ERR_GRAPH]);
  CHECK(counts[0] > 0 && counts[-DD_ERR_PARSE] > 0); /* the mutations reach deep and shallow */
  free(buf);
  fx_free(&fx);
}

/* ---- (e) the Inception 5h stand-in ---------------------------------------------- */
static int64_t out_channels_of_relu(const dd_graph *g, int relu) {
  /* Relu <- BiasAdd <- Conv2D <- filter [kh,kw,ci,co] */
  const dd_node *r = &g->nodes[relu];
  if (r->op != DD_OP_RELU) return -1;
  const dd_node *b = &g->nodes[r->inputs[0]];
  if (b->op != DD_OP_BIAS_ADD) return -1;
  const dd_node *c = &g->nodes[b->inputs[0]];
  if (c->op != DD_OP_CONV2D) return -1;
  return g->nodes[c->inputs[1]].attr.value.dims[3];
}

static void test_inception_standin(void) {
  const char *path = test_shared_path("models/inception5h-standin.pb");
  size_t len = 0;
  uint8_t *bytes = path ? test_read_file(path, &len) : NULL;
  if (!bytes) {
    printf("  SKIP: models/inception5h-standin.pb not found (set DD_SHARED_DIR)\n");
    return;
  }
  CHECK(len == 53884595);
  for (int borrow = 1; borrow >= 0; borrow--) {
    dd_graph g;
    dd_error err = {0};
    double t0 = test_now_ms();
    dd_status s = dd_graphdef_import(bytes, len, borrow, &g, &err);
    double t1 = test_now_ms();
    CHECKF(s == DD_OK, "import: %s", err.message);
    if (s != DD_OK) continue;
    printf("  import of %zu bytes (%s): %.2f ms\n", len, borrow ? "borrowed" : "copied", t1 - t0);
    if (borrow) CHECKF(t1 - t0 < 300.0, "import took %.1f ms", t1 - t0);
    CHECK(g.n_nodes == 370);
    int counts[DD_OP_COUNT] = {0};
    for (int i = 0; i < g.n_nodes; i++) counts[g.nodes[i].op]++;
    static const int want[DD_OP_COUNT] = {
        [DD_OP_PLACEHOLDER] = 1, [DD_OP_CONST] = 142, [DD_OP_CONV2D] = 59, [DD_OP_BIAS_ADD] = 64,
        [DD_OP_RELU] = 61,       [DD_OP_MAX_POOL] = 13, [DD_OP_LRN] = 2,     [DD_OP_CONCAT] = 9,
        [DD_OP_AVG_POOL] = 3,    [DD_OP_RESHAPE] = 5, [DD_OP_MATMUL] = 5,  [DD_OP_SOFTMAX] = 3,
        [DD_OP_IDENTITY] = 3};
    for (int k = 0; k < DD_OP_COUNT; k++)
      CHECKF(counts[k] == want[k], "%s: %d nodes, expected %d", dd_op_name((dd_op)k), counts[k],
             want[k]);
    int64_t channels = 0;
    for (int i = 0; i < g.n_nodes; i++)
      if (g.nodes[i].op == DD_OP_CONV2D) channels += g.nodes[g.nodes[i].inputs[1]].attr.value.dims[3];
    CHECKF(channels == 7548, "Conv2D output channels: %lld", (long long)channels);
    const dd_node *n = node(&g, "conv2d1_pre_relu/conv");
    CHECK(n && n->op == DD_OP_CONV2D && n->attr.conv.padding == DD_PADDING_VALID);
    n = node(&g, "conv2d0_pre_relu/conv");
    CHECK(n && n->attr.conv.padding == DD_PADDING_SAME && n->attr.conv.strides[0] == 2);
    const char *lrns[2] = {"localresponsenorm0", "localresponsenorm1"};
    for (int k = 0; k < 2; k++) {
      n = node(&g, lrns[k]);
      CHECK(n && n->op == DD_OP_LRN && n->attr.lrn.depth_radius == 5 && n->attr.lrn.bias == 2.0f &&
            n->attr.lrn.alpha == 9.999999747378752e-05f && n->attr.lrn.beta == 0.5f);
    }
    n = node(&g, "mixed4a");
    if (n) {
      CHECK(n->op == DD_OP_CONCAT && n->n_inputs == 4 && n->attr.concat.axis == 3);
      int64_t total = 0;
      for (int k = 0; k < n->n_inputs; k++) total += out_channels_of_relu(&g, n->inputs[k]);
      CHECKF(total == 508, "mixed4a channels %lld", (long long)total);
    }
    n = node(&g, "avgpool0/reshape");
    CHECK(n && n->op == DD_OP_RESHAPE && n->attr.reshape.rank == 2 && n->attr.reshape.dims[0] == -1 &&
          n->attr.reshape.dims[1] == 1024);
    n = node(&g, "output");
    CHECK(n && n->op == DD_OP_IDENTITY && input_is(&g, n, 0, "softmax0"));
    n = node(&g, "conv2d0_w");
    if (n) {
      const uint8_t *p = (const uint8_t *)n->attr.value.f;
      CHECK((p >= bytes && p < bytes + len) == borrow);
    }
    CHECK_OK(dd_graph_validate(&g, NULL));
    dd_graph_free(&g);
  }
  free(bytes);
}

/* Writes the fuzz seed corpus when DD_WRITE_CORPUS names a directory. */
static void write_corpus(void) {
  const char *dir = getenv("DD_WRITE_CORPUS");
  if (!dir) return;
  fx_graph fx;
  char path[512];
  for (int k = 0; k < 3; k++) {
    if (k == 0) fx_build_all_forms(&fx);
    else if (k == 1) fx_build_minimal(&fx);
    else {
      with_input(&fx);
      fx_const_int_scalar(&fx, "ax", 3);
      fx_node(&fx, "c", "Concat");
      fx_input(&fx, "ax");
      fx_input(&fx, "input:0");
      fx_input(&fx, "input");
      fx_input(&fx, "^input");
      fx_end(&fx);
    }
    static const char *const names[3] = {"all_forms.pb", "minimal.pb", "concat.pb"};
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    FILE *f = fopen(path, "wb");
    CHECKF(f != NULL, "cannot write %s", path);
    if (f) {
      fwrite(fx.w.data, 1, fx.w.len, f);
      fclose(f);
      printf("  wrote %s (%zu bytes)\n", path, fx.w.len);
    }
    fx_free(&fx);
  }
}

int main(void) {
  TEST_RUN(test_op_names);
  TEST_RUN(test_graph_api);
  TEST_RUN(test_validate_rules);
  TEST_RUN(test_all_forms);
  TEST_RUN(test_bad_ops_and_inputs);
  TEST_RUN(test_bad_consts);
  TEST_RUN(test_bad_attrs);
  TEST_RUN(test_leaky_relu);
  TEST_RUN(test_bad_concat_reshape);
  TEST_RUN(test_bad_wire);
  TEST_RUN(test_truncation);
  TEST_RUN(test_mutation);
  TEST_RUN(test_inception_standin);
  write_corpus();
  return test_summary();
}
