/* graphdef_fixture.h — writes small TensorFlow GraphDef files for tests.
 *
 * Header-only (static functions) so that any test can include it; it uses the
 * library's protobuf writer. Two layers:
 *   - a builder: fx_node() ... fx_input() / fx_attr_*() ... fx_end(), to write
 *     any NodeDef, including malformed ones;
 *   - fx_build_all_forms(): one graph that exercises every form the real
 *     Inception 5h file uses (Placeholder with `shape {}`, tensor_content
 *     weights, legacy Concat with a concat_dim Const using int_val, MaxPool and
 *     LRN without T, Reshape without Tshape, device "/cpu:0", Identity outputs)
 *     and the modern forms (ConcatV2 + Tidx, data_format/dilations/T attrs,
 *     packed and unpacked float_val/int_val, scalar broadcast, zeros, control
 *     inputs and a NoOp, "x:0" inputs, forward references, versions/library
 *     fields, unknown fields and a proto2 group).
 * The expected IR of the all-forms graph is described by the FX_* constants.
 */
#ifndef DD_GRAPHDEF_FIXTURE_H
#define DD_GRAPHDEF_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "formats/protobuf.h"

enum { FX_DT_FLOAT = 1, FX_DT_INT32 = 3, FX_DT_INT64 = 9 };

typedef struct fx_graph {
  dd_pb_writer w;
  size_t marks[16];
  int sp;
} fx_graph;

static void fx_push(fx_graph *g, uint32_t field) {
  if (g->sp < 16) g->marks[g->sp++] = dd_pb_write_begin(&g->w, field);
}
static void fx_pop(fx_graph *g) {
  if (g->sp > 0) dd_pb_write_end(&g->w, g->marks[--g->sp]);
}

static void fx_init(fx_graph *g) {
  memset(g, 0, sizeof *g);
  dd_pb_writer_init(&g->w);
}
static void fx_free(fx_graph *g) { dd_pb_writer_free(&g->w); }

/* Begins a NodeDef with name, op and device "/cpu:0" (device NULL: none). */
static void fx_node_dev(fx_graph *g, const char *name, const char *op, const char *device) {
  fx_push(g, 1);
  if (name) dd_pb_write_string(&g->w, 1, name);
  if (op) dd_pb_write_string(&g->w, 2, op);
  if (device) dd_pb_write_string(&g->w, 4, device);
}
static void fx_node(fx_graph *g, const char *name, const char *op) {
  fx_node_dev(g, name, op, "/cpu:0");
}
static void fx_input(fx_graph *g, const char *in) { dd_pb_write_string(&g->w, 3, in); }
static void fx_end(fx_graph *g) { fx_pop(g); }

/* attr map entry: key, then an AttrValue opened at field 2 (close with fx_attr_end). */
static void fx_attr_begin(fx_graph *g, const char *key) {
  fx_push(g, 5);
  dd_pb_write_string(&g->w, 1, key);
  fx_push(g, 2);
}
static void fx_attr_end(fx_graph *g) {
  fx_pop(g);
  fx_pop(g);
}

static void fx_attr_type(fx_graph *g, const char *key, int dtype) {
  fx_attr_begin(g, key);
  dd_pb_write_varint(&g->w, 6, (uint64_t)dtype);
  fx_attr_end(g);
}
static void fx_attr_s(fx_graph *g, const char *key, const char *s) {
  fx_attr_begin(g, key);
  dd_pb_write_string(&g->w, 2, s);
  fx_attr_end(g);
}
static void fx_attr_i(fx_graph *g, const char *key, int64_t v) {
  fx_attr_begin(g, key);
  dd_pb_write_int64(&g->w, 3, v);
  fx_attr_end(g);
}
static void fx_attr_f(fx_graph *g, const char *key, float v) {
  fx_attr_begin(g, key);
  dd_pb_write_float(&g->w, 4, v);
  fx_attr_end(g);
}
static void fx_attr_b(fx_graph *g, const char *key, int v) {
  fx_attr_begin(g, key);
  dd_pb_write_varint(&g->w, 5, (uint64_t)(v != 0));
  fx_attr_end(g);
}
static void fx_attr_ilist(fx_graph *g, const char *key, const int64_t *v, int n, int packed) {
  fx_attr_begin(g, key);
  fx_push(g, 1); /* ListValue */
  if (packed) {
    fx_push(g, 3);
    for (int k = 0; k < n; k++) dd_pb_write_raw_varint(&g->w, (uint64_t)v[k]);
    fx_pop(g);
  } else {
    for (int k = 0; k < n; k++) dd_pb_write_int64(&g->w, 3, v[k]);
  }
  fx_pop(g);
  fx_attr_end(g);
}
static void fx_attr_nhwc4(fx_graph *g, const char *key, int h, int w) {
  int64_t v[4] = {1, h, w, 1};
  fx_attr_ilist(g, key, v, 4, 0);
}

/* TensorShapeProto at `field`: rank -1 = unknown_rank, rank 0 = `shape {}`. */
static void fx_shape(fx_graph *g, uint32_t field, const int64_t *dims, int rank) {
  fx_push(g, field);
  if (rank < 0) dd_pb_write_varint(&g->w, 3, 1);
  for (int d = 0; d < rank; d++) {
    fx_push(g, 2);
    dd_pb_write_int64(&g->w, 1, dims[d]);
    fx_pop(g);
  }
  fx_pop(g);
}
static void fx_attr_shape(fx_graph *g, const char *key, const int64_t *dims, int rank) {
  fx_attr_begin(g, key);
  fx_shape(g, 7, dims, rank);
  fx_attr_end(g);
}

/* attr "value" { tensor { dtype shape ...payload } }: call fx_tensor_begin, write
   payload fields (4 content, 5 float_val, 7 int_val), then fx_tensor_end. */
static void fx_tensor_begin(fx_graph *g, int dtype, const int64_t *dims, int rank) {
  fx_attr_begin(g, "value");
  fx_push(g, 8);
  dd_pb_write_varint(&g->w, 1, (uint64_t)dtype);
  fx_shape(g, 2, dims, rank);
}
static void fx_tensor_end(fx_graph *g) {
  fx_pop(g);
  fx_attr_end(g);
}
static void fx_float_vals(fx_graph *g, const float *v, int n, int packed) {
  if (packed) {
    fx_push(g, 5);
    for (int k = 0; k < n; k++) {
      uint8_t b[4];
      uint32_t x;
      memcpy(&x, &v[k], 4);
      for (int j = 0; j < 4; j++) b[j] = (uint8_t)(x >> (8 * j));
      dd_pb_write_raw(&g->w, b, 4);
    }
    fx_pop(g);
  } else {
    for (int k = 0; k < n; k++) dd_pb_write_float(&g->w, 5, v[k]);
  }
}
static void fx_int_vals(fx_graph *g, const int32_t *v, int n, int packed) {
  if (packed) {
    fx_push(g, 7);
    for (int k = 0; k < n; k++) dd_pb_write_raw_varint(&g->w, (uint64_t)(int64_t)v[k]);
    fx_pop(g);
  } else {
    for (int k = 0; k < n; k++) dd_pb_write_int64(&g->w, 7, v[k]);
  }
}
/* Little-endian tensor_content from 4-byte values. */
static void fx_content32(fx_graph *g, const void *vals, int n) {
  fx_push(g, 4);
  const uint8_t *p = (const uint8_t *)vals;
  for (int k = 0; k < n; k++) {
    uint32_t x;
    memcpy(&x, p + 4 * k, 4);
    uint8_t b[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
    dd_pb_write_raw(&g->w, b, 4);
  }
  fx_pop(g);
}

/* ---- whole nodes in the Inception 5h style ----------------------------------- */
static void fx_placeholder(fx_graph *g, const char *name) {
  fx_node(g, name, "Placeholder");
  fx_attr_type(g, "dtype", FX_DT_FLOAT);
  fx_attr_shape(g, "shape", NULL, 0);
  fx_end(g);
}
static void fx_const_content(fx_graph *g, const char *name, const int64_t *dims, int rank,
                             const float *v, int n) {
  fx_node(g, name, "Const");
  fx_attr_type(g, "dtype", FX_DT_FLOAT);
  fx_tensor_begin(g, FX_DT_FLOAT, dims, rank);
  fx_content32(g, v, n);
  fx_tensor_end(g);
  fx_end(g);
}
static void fx_const_int_scalar(fx_graph *g, const char *name, int32_t v) {
  fx_node(g, name, "Const");
  fx_attr_type(g, "dtype", FX_DT_INT32);
  fx_tensor_begin(g, FX_DT_INT32, NULL, 0);
  fx_int_vals(g, &v, 1, 0);
  fx_tensor_end(g);
  fx_end(g);
}
static void fx_const_int_vector(fx_graph *g, const char *name, const int32_t *v, int n) {
  int64_t d = n;
  fx_node(g, name, "Const");
  fx_attr_type(g, "dtype", FX_DT_INT32);
  fx_tensor_begin(g, FX_DT_INT32, &d, 1);
  fx_content32(g, v, n);
  fx_tensor_end(g);
  fx_end(g);
}
/* Conv2D as in the real file: T, padding, strides, use_cudnn_on_gpu. */
static void fx_conv(fx_graph *g, const char *name, const char *x, const char *w, int stride,
                    const char *padding) {
  fx_node(g, name, "Conv2D");
  fx_input(g, x);
  fx_input(g, w);
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_attr_s(g, "padding", padding);
  fx_attr_nhwc4(g, "strides", stride, stride);
  fx_attr_b(g, "use_cudnn_on_gpu", 1);
  fx_end(g);
}
static void fx_unary(fx_graph *g, const char *name, const char *op, const char *x) {
  fx_node(g, name, op);
  fx_input(g, x);
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_end(g);
}
static void fx_binary(fx_graph *g, const char *name, const char *op, const char *a, const char *b) {
  fx_node(g, name, op);
  fx_input(g, a);
  fx_input(g, b);
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_end(g);
}
/* MaxPool / AvgPool without T (2015 registration). */
static void fx_pool(fx_graph *g, const char *name, const char *op, const char *x, int k, int s,
                    const char *padding) {
  fx_node(g, name, op);
  fx_input(g, x);
  fx_attr_nhwc4(g, "ksize", k, k);
  fx_attr_s(g, "padding", padding);
  fx_attr_nhwc4(g, "strides", s, s);
  fx_end(g);
}

/* ---- the all-forms graph -------------------------------------------------------- */
/* Expected values, checked by test_graphdef.c. */
#define FX_C0_W_COUNT (3 * 3 * 3 * 4)
static const int32_t fx_flat_shape[2] = {-1, 20};
static const float fx_c0_b[4] = {0.25f, -1.5f, 3.0f, 1e-3f};
static const float fx_b1_w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const float fx_b1_b_scalar = 0.5f;
static const float fx_b2_b[2] = {7.0f, -7.0f}; /* b2_b is [3]: 7, -7, -7 (the last repeats) */

static float fx_weight(int k) { return (float)((k * 37) % 101) / 50.0f - 1.0f; }

/* Writes the all-forms graph. Node list (file order):
     lib (no node: GraphDef.library), input Placeholder, c0_w, c0_b, c0/conv
     (stride 2 SAME), c0_pre BiasAdd (data_format NHWC), c0 Relu, pool0
     MaxPool 3/2 SAME (no T), lrn0 LRN (5, 2, 1e-4, 0.5, no T), lrn1 LRN (no
     attrs: defaults), b1_w (unpacked float_val [1,1,4,2]), b1/conv (VALID,
     dilations, data_format, input "lrn1:0"), b1_b (float_val 0.5 broadcast to
     [2]), b1 BiasAdd, b2_w (content [1,1,4,3]), b2/conv, b2_b (float_val 7,-7
     filling [3] as 7,-7,-7; plus an unknown field and a group), b2_pre
     BiasAdd, b2 Relu, mix
     Concat(mix/concat_dim, b1, b2) N=2, mix/concat_dim (after its user),
     init NoOp, mix2/axis (int_val packed -1), mix2 ConcatV2(b2, b1, mix2/axis)
     with Tidx and a control input, apool AvgPool 2/1 VALID, flat/shape,
     flat Reshape, fc_w [20,5] content, fc MatMul (explicit false flags),
     fc2_w [5,5] zeros, fc2 MatMul transpose_b, sm Softmax, output
     Identity("sm:0", "^init"), versions.                                      */
#define FX_ALL_FORMS_NODES 31 /* NoOp "init" is not imported */

static void fx_build_all_forms(fx_graph *g) {
  fx_init(g);
  /* GraphDef.library (field 2): an empty FunctionDefLibrary, skipped. */
  fx_push(g, 2);
  fx_pop(g);

  fx_placeholder(g, "input");

  int64_t d_c0w[4] = {3, 3, 3, 4};
  float c0w[FX_C0_W_COUNT];
  for (int k = 0; k < FX_C0_W_COUNT; k++) c0w[k] = fx_weight(k);
  fx_const_content(g, "c0_w", d_c0w, 4, c0w, FX_C0_W_COUNT);

  int64_t d4 = 4;
  fx_node(g, "c0_b", "Const"); /* packed float_val, no dtype attr */
  fx_tensor_begin(g, FX_DT_FLOAT, &d4, 1);
  fx_float_vals(g, fx_c0_b, 4, 1);
  fx_tensor_end(g);
  fx_end(g);

  fx_conv(g, "c0/conv", "input", "c0_w", 2, "SAME");
  fx_node(g, "c0_pre", "BiasAdd");
  fx_input(g, "c0/conv");
  fx_input(g, "c0_b");
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_attr_s(g, "data_format", "NHWC");
  fx_end(g);
  fx_unary(g, "c0", "Relu", "c0_pre");
  fx_pool(g, "pool0", "MaxPool", "c0", 3, 2, "SAME");

  fx_node(g, "lrn0", "LRN"); /* the real file's attrs, no T */
  fx_input(g, "pool0");
  fx_attr_f(g, "alpha", 9.999999747378752e-05f);
  fx_attr_f(g, "beta", 0.5f);
  fx_attr_f(g, "bias", 2.0f);
  fx_attr_i(g, "depth_radius", 5);
  fx_end(g);
  fx_node_dev(g, "lrn1", "LRN", NULL); /* no attrs at all, no device */
  fx_input(g, "lrn0");
  fx_end(g);

  int64_t d_b1w[4] = {1, 1, 4, 2};
  fx_node(g, "b1_w", "Const");
  fx_attr_type(g, "dtype", FX_DT_FLOAT);
  fx_tensor_begin(g, FX_DT_FLOAT, d_b1w, 4);
  fx_float_vals(g, fx_b1_w, 8, 0);
  fx_tensor_end(g);
  fx_end(g);

  fx_node(g, "b1/conv", "Conv2D"); /* modern attrs */
  fx_input(g, "lrn1:0");
  fx_input(g, "b1_w");
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_attr_s(g, "data_format", "NHWC");
  fx_attr_nhwc4(g, "dilations", 1, 1);
  fx_attr_s(g, "padding", "VALID");
  {
    int64_t st[4] = {1, 1, 1, 1};
    fx_attr_ilist(g, "strides", st, 4, 1); /* packed list */
  }
  fx_end(g);

  int64_t d2 = 2, d3 = 3;
  fx_node(g, "b1_b", "Const"); /* scalar float_val broadcast */
  fx_attr_type(g, "dtype", FX_DT_FLOAT);
  fx_tensor_begin(g, FX_DT_FLOAT, &d2, 1);
  fx_float_vals(g, &fx_b1_b_scalar, 1, 0);
  fx_tensor_end(g);
  fx_end(g);
  fx_binary(g, "b1", "BiasAdd", "b1/conv", "b1_b");

  int64_t d_b2w[4] = {1, 1, 4, 3};
  float b2w[12];
  for (int k = 0; k < 12; k++) b2w[k] = fx_weight(k + 200);
  fx_const_content(g, "b2_w", d_b2w, 4, b2w, 12);
  fx_conv(g, "b2/conv", "lrn1", "b2_w", 1, "SAME");
  fx_node(g, "b2_b", "Const"); /* two unpacked values, the last repeats */
  fx_tensor_begin(g, FX_DT_FLOAT, &d3, 1);
  fx_float_vals(g, fx_b2_b, 2, 0);
  fx_tensor_end(g);
  /* an unknown NodeDef field (experimental_debug_info = 6) and a proto2 group (15) */
  fx_push(g, 6);
  dd_pb_write_string(&g->w, 1, "original_node");
  fx_pop(g);
  dd_pb_write_tag(&g->w, 15, DD_PB_START_GROUP);
  dd_pb_write_varint(&g->w, 1, 42);
  dd_pb_write_tag(&g->w, 15, DD_PB_END_GROUP);
  fx_end(g);
  fx_binary(g, "b2_pre", "BiasAdd", "b2/conv", "b2_b");
  fx_unary(g, "b2", "Relu", "b2_pre");

  fx_node(g, "mix", "Concat"); /* legacy: axis first, defined later in the file */
  fx_input(g, "mix/concat_dim");
  fx_input(g, "b1");
  fx_input(g, "b2");
  fx_attr_i(g, "N", 2);
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_end(g);
  fx_const_int_scalar(g, "mix/concat_dim", 3);

  fx_node(g, "init", "NoOp");
  fx_end(g);

  fx_node(g, "mix2/axis", "Const");
  fx_attr_type(g, "dtype", FX_DT_INT32);
  {
    int32_t m1 = -1;
    fx_tensor_begin(g, FX_DT_INT32, NULL, 0);
    fx_int_vals(g, &m1, 1, 1); /* packed, a 10-byte varint */
    fx_tensor_end(g);
  }
  fx_end(g);
  fx_node(g, "mix2", "ConcatV2");
  fx_input(g, "b2");
  fx_input(g, "b1");
  fx_input(g, "mix2/axis");
  fx_input(g, "^init");
  fx_attr_i(g, "N", 2);
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_attr_type(g, "Tidx", FX_DT_INT32);
  fx_end(g);

  fx_pool(g, "apool", "AvgPool", "mix", 2, 1, "VALID");
  fx_const_int_vector(g, "flat/shape", fx_flat_shape, 2);
  fx_node(g, "flat", "Reshape"); /* no Tshape */
  fx_input(g, "apool");
  fx_input(g, "flat/shape");
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_end(g);

  int64_t d_fc[2] = {20, 5};
  float fcw[100];
  for (int k = 0; k < 100; k++) fcw[k] = fx_weight(k + 500);
  fx_const_content(g, "fc_w", d_fc, 2, fcw, 100);
  fx_node(g, "fc", "MatMul");
  fx_input(g, "flat");
  fx_input(g, "fc_w");
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_attr_b(g, "transpose_a", 0);
  fx_attr_b(g, "transpose_b", 0);
  fx_end(g);

  int64_t d_fc2[2] = {5, 5};
  fx_node(g, "fc2_w", "Const"); /* no values at all: zeros */
  fx_attr_type(g, "dtype", FX_DT_FLOAT);
  fx_tensor_begin(g, FX_DT_FLOAT, d_fc2, 2);
  fx_tensor_end(g);
  fx_end(g);
  fx_node(g, "fc2", "MatMul");
  fx_input(g, "fc");
  fx_input(g, "fc2_w");
  fx_attr_b(g, "transpose_b", 1);
  fx_end(g);
  fx_unary(g, "sm", "Softmax", "fc2");
  fx_node(g, "output", "Identity");
  fx_input(g, "sm:0");
  fx_input(g, "^init");
  fx_attr_type(g, "T", FX_DT_FLOAT);
  fx_end(g);

  /* GraphDef.versions (field 4): producer 21, skipped. */
  fx_push(g, 4);
  dd_pb_write_varint(&g->w, 1, 21);
  fx_pop(g);
}

/* A minimal valid graph: input -> r (Relu). */
static void fx_build_minimal(fx_graph *g) {
  fx_init(g);
  fx_placeholder(g, "input");
  fx_unary(g, "r", "Relu", "input");
}

#endif /* DD_GRAPHDEF_FIXTURE_H */
