/* onnx_fixture.h — writes small ONNX ModelProtos for tests (the project's
 * protobuf writer; field numbers from onnx.proto). Header-only.
 *
 *   ob b; ob_begin(&b, 9);                          ir_version 7, opset 9
 *   ob_input(&b, "data", 4, (int64_t[]){1,3,8,8});  the image input
 *   ob_init(&b, "w", 4, dims, floats);              an initializer (raw_data)
 *   ob_node(&b, "Conv", "c1", "data,w,b", "y", attrs, n_attrs);
 *   bytes = ob_end(&b, &len);                       (free with free())
 */
#ifndef DD_ONNX_FIXTURE_H
#define DD_ONNX_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "formats/protobuf.h"

typedef struct ob {
  dd_pb_writer w;
  size_t graph;
} ob;

enum { OA_INT = 2, OA_FLOAT = 1, OA_STRING = 3, OA_INTS = 7, OA_TENSOR = 4 };
typedef struct oattr {
  const char *name;
  int type;
  int64_t i;
  float f;
  const char *s;
  int n;
  const int64_t *ints;
} oattr;

#define OA_I(nm, v) {nm, OA_INT, v, 0, NULL, 0, NULL}
#define OA_F(nm, v) {nm, OA_FLOAT, 0, v, NULL, 0, NULL}
#define OA_S(nm, v) {nm, OA_STRING, 0, 0, v, 0, NULL}
#define OA_IS(nm, n, ...) {nm, OA_INTS, 0, 0, NULL, n, __VA_ARGS__}

static void ob_begin_domain(ob *b, int64_t opset, const char *domain) {
  dd_pb_writer_init(&b->w);
  dd_pb_write_varint(&b->w, 1, 7); /* ir_version */
  size_t o = dd_pb_write_begin(&b->w, 8);
  dd_pb_write_string(&b->w, 1, domain);
  dd_pb_write_int64(&b->w, 2, opset);
  dd_pb_write_end(&b->w, o);
  b->graph = dd_pb_write_begin(&b->w, 7);
  dd_pb_write_string(&b->w, 2, "test");
}
static void ob_begin(ob *b, int64_t opset) { ob_begin_domain(b, opset, ""); }

static void ob_value_info(ob *b, uint32_t field, const char *name, int elem, int rank, const int64_t *dims) {
  size_t v = dd_pb_write_begin(&b->w, field);
  dd_pb_write_string(&b->w, 1, name);
  size_t t = dd_pb_write_begin(&b->w, 2);
  size_t tt = dd_pb_write_begin(&b->w, 1);
  dd_pb_write_varint(&b->w, 1, (uint64_t)elem);
  if (rank >= 0) {
    size_t sh = dd_pb_write_begin(&b->w, 2);
    for (int d = 0; d < rank; d++) {
      size_t dm = dd_pb_write_begin(&b->w, 1);
      dd_pb_write_int64(&b->w, 1, dims[d]);
      dd_pb_write_end(&b->w, dm);
    }
    dd_pb_write_end(&b->w, sh);
  }
  dd_pb_write_end(&b->w, tt);
  dd_pb_write_end(&b->w, t);
  dd_pb_write_end(&b->w, v);
}
static void ob_input(ob *b, const char *name, int rank, const int64_t *dims) { ob_value_info(b, 11, name, 1, rank, dims); }
static void ob_output(ob *b, const char *name) { ob_value_info(b, 12, name, 1, -1, NULL); }

/* A float TensorProto's fields (dims, FLOAT, name, raw_data or float_data). */
static void ob_tensor_fields(dd_pb_writer *w, const char *name, int rank, const int64_t *dims, const float *f,
                             int float_data) {
  size_t n = 1;
  for (int d = 0; d < rank; d++) {
    dd_pb_write_int64(w, 1, dims[d]);
    n *= dims[d] < 0 ? (size_t)-dims[d] : (size_t)dims[d]; /* a negative dim (hostile tests) writes |d| values */
  }
  dd_pb_write_varint(w, 2, 1);
  if (name) dd_pb_write_string(w, 8, name);
  if (float_data) {
    size_t m = dd_pb_write_begin(w, 4);
    for (size_t i = 0; i < n; i++) {
      uint32_t u;
      memcpy(&u, &f[i], 4);
      uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
      dd_pb_write_raw(w, le, 4);
    }
    dd_pb_write_end(w, m);
  } else {
    uint8_t *raw = (uint8_t *)malloc(n * 4 + 1);
    for (size_t i = 0; i < n; i++) {
      uint32_t u;
      memcpy(&u, &f[i], 4);
      raw[4 * i] = (uint8_t)u, raw[4 * i + 1] = (uint8_t)(u >> 8), raw[4 * i + 2] = (uint8_t)(u >> 16),
      raw[4 * i + 3] = (uint8_t)(u >> 24);
    }
    dd_pb_write_bytes(w, 9, raw, n * 4);
    free(raw);
  }
}

static void ob_init_as(ob *b, const char *name, int rank, const int64_t *dims, const float *f, int float_data) {
  size_t t = dd_pb_write_begin(&b->w, 5);
  ob_tensor_fields(&b->w, name, rank, dims, f, float_data);
  dd_pb_write_end(&b->w, t);
}
static void ob_init(ob *b, const char *name, int rank, const int64_t *dims, const float *f) {
  ob_init_as(b, name, rank, dims, f, 0);
}
static void ob_init_i64(ob *b, const char *name, int n, const int64_t *v) {
  size_t t = dd_pb_write_begin(&b->w, 5);
  dd_pb_write_int64(&b->w, 1, n);
  dd_pb_write_varint(&b->w, 2, 7);
  dd_pb_write_string(&b->w, 8, name);
  size_t m = dd_pb_write_begin(&b->w, 7);
  for (int i = 0; i < n; i++) dd_pb_write_raw_varint(&b->w, (uint64_t)v[i]);
  dd_pb_write_end(&b->w, m);
  dd_pb_write_end(&b->w, t);
}

/* ins / outs: comma-separated names ("" between commas = an absent optional input). */
static void ob_names(ob *b, uint32_t field, const char *list) {
  const char *p = list;
  while (p && *p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    dd_pb_write_bytes(&b->w, field, p, n);
    p = e ? e + 1 : NULL;
  }
}

static void ob_node_domain(ob *b, const char *op, const char *name, const char *ins, const char *outs,
                           const oattr *a, int n_attrs, const char *domain) {
  size_t nd = dd_pb_write_begin(&b->w, 1);
  ob_names(b, 1, ins);
  ob_names(b, 2, outs);
  if (name) dd_pb_write_string(&b->w, 3, name);
  dd_pb_write_string(&b->w, 4, op);
  if (domain) dd_pb_write_string(&b->w, 7, domain);
  for (int k = 0; k < n_attrs; k++) {
    size_t at = dd_pb_write_begin(&b->w, 5);
    dd_pb_write_string(&b->w, 1, a[k].name);
    dd_pb_write_varint(&b->w, 20, (uint64_t)a[k].type);
    if (a[k].type == OA_INT) dd_pb_write_int64(&b->w, 3, a[k].i);
    if (a[k].type == OA_FLOAT) dd_pb_write_float(&b->w, 2, a[k].f);
    if (a[k].type == OA_STRING) dd_pb_write_string(&b->w, 4, a[k].s);
    if (a[k].type == OA_INTS)
      for (int j = 0; j < a[k].n; j++) dd_pb_write_int64(&b->w, 8, a[k].ints[j]);
    dd_pb_write_end(&b->w, at);
  }
  dd_pb_write_end(&b->w, nd);
}
static void ob_node(ob *b, const char *op, const char *name, const char *ins, const char *outs, const oattr *a,
                    int n_attrs) {
  ob_node_domain(b, op, name, ins, outs, a, n_attrs, NULL);
}

static uint8_t *ob_end(ob *b, size_t *len) {
  dd_pb_write_end(&b->w, b->graph);
  *len = b->w.len;
  return b->w.data; /* the writer's buffer: free() it */
}

#endif
