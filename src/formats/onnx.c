/* onnx.c — ONNX ModelProto → dd_graph; contract and conventions in onnx.h.
 *
 * Three passes: the model and graph fields are located (no copies); every
 * node's inputs, outputs and attributes are collected and every value name
 * registered, so consumers can be counted before anything is built; then the
 * nodes are converted in file order (ONNX requires a topological order) into
 * IR nodes, weights parsed when a node first uses them. */
#include "onnx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "protobuf.h"

enum { T_FLOAT = 1, T_INT32 = 6, T_INT64 = 7, T_BOOL = 9, T_DOUBLE = 11 };
enum { A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_FLOATS = 6, A_INTS = 7 };
#define MAX_ATTR_VALS 16
#define MAX_ONNX_RANK 8

const char *dd_onnx_dtype_name(int dtype, char *buf, size_t cap) {
  static const char *const names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
                                      "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
                                      "COMPLEX128", "BFLOAT16"};
  if (dtype >= 0 && dtype < (int)(sizeof names / sizeof names[0])) return names[dtype];
  snprintf(buf, cap, "type %d", dtype);
  return buf;
}


/* An ONNX tensor (initializer, binding or Constant), parsed on first use. */
typedef struct tensor {
  dd_pb_bytes bytes;  /* the serialized TensorProto */
  int parsed; /* 0 not yet, 1 done */
  int dtype;
  int rank;
  int64_t dims[MAX_ONNX_RANK];
  int64_t count;
  float *f;   /* FLOAT (and DOUBLE, converted) */
  int64_t *i; /* INT32 / INT64 */
} tensor;

/* A value: an ONNX tensor name, its producer and what is known of it. */
typedef struct val {
  dd_pb_bytes name;
  int tensor;  /* constant: index into im.ts, else -1 */
  int node;    /* activation: its IR node, -1 until produced */
  int rank;    /* activation: ONNX rank */
  int c;       /* activation: channels (dim 1), -1 unknown */
  int flat_c;  /* rank 2 made by a Flatten of c channels (0: none) */
  int conv;    /* the IR Conv2D this value is the output of (maybe through its BiasAdd), or -1 */
  int bias;    /* that conv's BiasAdd, or -1 */
  int uses;    /* node inputs and graph outputs naming it */
  int defined; /* produced by a node, an initializer or the graph input */
} val;

typedef struct onode {
  dd_pb_bytes name, op, domain;
  int in0, n_in, out0, n_out; /* into im.io (value indices; -1: an empty name) */
  int attr0, n_attr;          /* into im.attrs */
} onode;

typedef struct attr {
  dd_pb_bytes name;
  int type, has_f, has_i, has_s, has_t, n_ints, n_floats;
  float f;
  int64_t i;
  dd_pb_bytes s, t;
  int64_t ints[MAX_ATTR_VALS];
  float floats[MAX_ATTR_VALS];
} attr;

typedef struct im {
  const uint8_t *base;
  size_t len;
  dd_error *err;
  dd_graph g;
  int64_t opset;
  val *vals;
  int n_vals, cap_vals;
  int32_t *hash; /* open addressing over vals, -1 empty */
  uint32_t hash_mask;
  tensor *ts;
  int n_ts, cap_ts;
  onode *nodes;
  int n_nodes, cap_nodes;
  int *io;
  int n_io, cap_io;
  dd_pb_bytes *attrs;
  int n_attrs, cap_attrs;
  size_t weight_bytes;
  /* the node being converted */
  const onode *cur;
  char where[200]; /* "Conv node 'conv1'" */
} im;

static dd_status oom(im *m) { return dd_fail(m->err, DD_ERR_OUT_OF_MEMORY, "ONNX import: out of memory"); }

static int grow(void **arr, int *cap, int need, size_t elem) {
  if (need <= *cap) return 1;
  if (need > INT32_MAX / 2) return 0;
  int c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  size_t bytes;
  if (!dd_mul_size((size_t)c, elem, &bytes)) return 0;
  void *p = realloc(*arr, bytes);
  if (!p) return 0;
  *arr = p;
  *cap = c;
  return 1;
}

/* ---- the value table ------------------------------------------------------------- */
static uint32_t hash_str(dd_pb_bytes s) {
  uint64_t h = dd_fnv1a64(DD_FNV1A64_INIT, s.p, s.n);
  return (uint32_t)(h ^ (h >> 32));
}

static int find_val(const im *m, dd_pb_bytes name) {
  if (!m->hash) return -1;
  for (uint32_t i = hash_str(name) & m->hash_mask;; i = (i + 1) & m->hash_mask) {
    int v = m->hash[i];
    if (v < 0) return -1;
    if (m->vals[v].name.n == name.n && memcmp(m->vals[v].name.p, name.p, name.n) == 0) return v;
  }
}

static int rehash(im *m, uint32_t cap) {
  int32_t *h = (int32_t *)malloc((size_t)cap * sizeof *h);
  if (!h) return 0;
  for (uint32_t i = 0; i < cap; i++) h[i] = -1;
  free(m->hash);
  m->hash = h;
  m->hash_mask = cap - 1;
  for (int v = 0; v < m->n_vals; v++) {
    uint32_t i = hash_str(m->vals[v].name) & m->hash_mask;
    while (h[i] >= 0) i = (i + 1) & m->hash_mask;
    h[i] = v;
  }
  return 1;
}

/* The value named `name`, registered when new; -1 on OOM. */
static int intern(im *m, dd_pb_bytes name) {
  int v = find_val(m, name);
  if (v >= 0) return v;
  if (!grow((void **)&m->vals, &m->cap_vals, m->n_vals + 1, sizeof(val))) return -1;
  if (!m->hash || (uint64_t)(m->n_vals + 1) * 2 > (uint64_t)m->hash_mask + 1) {
    uint32_t cap = m->hash ? (m->hash_mask + 1) * 2 : 64;
    if (cap > (1u << 30) || !rehash(m, cap)) return -1;
  }
  v = m->n_vals++;
  val *x = &m->vals[v];
  memset(x, 0, sizeof *x);
  x->name = name;
  x->tensor = x->node = x->conv = x->bias = -1;
  x->c = -1;
  uint32_t i = hash_str(name) & m->hash_mask;
  while (m->hash[i] >= 0) i = (i + 1) & m->hash_mask;
  m->hash[i] = v;
  return v;
}

/* ---- protobuf helpers ------------------------------------------------------------- */
static dd_status wire_error(im *m, const char *msg, const dd_pb_field *f, const char *want) {
  return dd_fail(m->err, DD_ERR_PARSE, "ONNX %s: field %u at byte %zu is %s, expected %s", msg, f->number, f->offset,
                 dd_pb_wire_name(f->wire), want);
}

/* int64 from a varint field (two's complement) */
static int64_t as_i64(const dd_pb_field *f) { return (int64_t)f->u64; }

/* Appends the int64s of field f (varint, or packed) to vals (cap max); 0 when too many. */
static dd_status read_ints(im *m, const dd_pb_field *f, int64_t *vals, int *n, int max, const char *what) {
  if (f->wire == DD_PB_VARINT) {
    if (*n >= max) return dd_fail(m->err, DD_ERR_UNSUPPORTED, "ONNX %s: more than %d values", what, max);
    vals[(*n)++] = as_i64(f);
    return DD_OK;
  }
  if (f->wire != DD_PB_LEN) return wire_error(m, what, f, "varint or packed varints");
  const uint8_t *p = f->data, *end = f->data + f->len;
  while (p < end) {
    uint64_t u;
    if (!dd_pb_read_varint(&p, end, &u))
      return dd_fail(m->err, DD_ERR_PARSE, "ONNX %s: a packed varint at byte %zu is truncated", what, f->offset);
    if (*n >= max) return dd_fail(m->err, DD_ERR_UNSUPPORTED, "ONNX %s: more than %d values", what, max);
    vals[(*n)++] = (int64_t)u;
  }
  return DD_OK;
}

/* ---- tensors ---------------------------------------------------------------------- */
static int add_tensor(im *m, dd_pb_bytes bytes) {
  if (!grow((void **)&m->ts, &m->cap_ts, m->n_ts + 1, sizeof(tensor))) return -1;
  tensor *t = &m->ts[m->n_ts];
  memset(t, 0, sizeof *t);
  t->bytes = bytes;
  return m->n_ts++;
}

static size_t first_non_finite(const float *f, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(f[i] - f[i] == 0)) return i;
  return n;
}

/* Parses tensor ti (once). `who` names the value for messages. */
static dd_status parse_tensor(im *m, int ti, dd_pb_bytes who) {
  tensor *t = &m->ts[ti];
  if (t->parsed) return DD_OK;
  dd_pb_reader r;
  dd_pb_field f;
  dd_pb_reader_init(&r, t->bytes.p, t->bytes.n);
  r.base = m->base; /* offsets relative to the file when the tensor lies in it */
  if (t->bytes.p < m->base || t->bytes.p > m->base + m->len) r.base = t->bytes.p;
  int64_t dims[MAX_ONNX_RANK];
  int rank = 0, dtype = 0, external = 0, n_float = 0;
  dd_pb_bytes raw = {NULL, 0}, fdata = {NULL, 0}, i32 = {NULL, 0}, i64 = {NULL, 0}, location = {NULL, 0};
  int have_raw = 0, have_f = 0, have_i32 = 0, have_i64 = 0, segmented = 0;
  float single_f[1] = {0};
  int64_t single_i = 0;
  dd_status s;
  dd_pb_label nm = dd_pb_label_of(who);
  while ((s = dd_pb_next(&r, &f, m->err)) == DD_OK) {
    switch (f.number) {
      case 1:
        if ((s = read_ints(m, &f, dims, &rank, MAX_ONNX_RANK, "tensor dims")) != DD_OK) return s;
        break;
      case 2:
        if (f.wire != DD_PB_VARINT) return wire_error(m, "tensor data_type", &f, "varint");
        dtype = (int)f.u64;
        break;
      case 3: segmented = 1; break;
      case 4:
        if (f.wire == DD_PB_LEN) {
          if (have_f && fdata.p != f.data)
            return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s': float_data split over several fields", nm.s);
          fdata.p = f.data, fdata.n = f.len, have_f = 1;
        } else if (f.wire == DD_PB_FIXED32) {
          if (have_f || n_float)
            return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s': unpacked float_data of several values", nm.s);
          single_f[0] = dd_pb_bits_to_float((uint32_t)f.u64);
          n_float = 1;
        } else {
          return wire_error(m, "tensor float_data", &f, "packed floats");
        }
        break;
      case 5:
        if (f.wire == DD_PB_LEN) i32.p = f.data, i32.n = f.len, have_i32 = 1;
        else return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s': unpacked int32_data", nm.s);
        break;
      case 7:
        if (f.wire == DD_PB_LEN) i64.p = f.data, i64.n = f.len, have_i64 = 1;
        else if (f.wire == DD_PB_VARINT && !have_i64) {
          have_i64 = 2; /* one unpacked value */
          single_i = as_i64(&f);
        } else return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s': unpacked int64_data", nm.s);
        break;
      case 9:
        if (f.wire != DD_PB_LEN) return wire_error(m, "tensor raw_data", &f, "bytes");
        raw.p = f.data, raw.n = f.len, have_raw = 1;
        break;
      case 13: { /* external_data: key/value entries; "location" names the file */
        if (f.wire != DD_PB_LEN) return wire_error(m, "tensor external_data", &f, "a message");
        dd_pb_reader er;
        dd_pb_field ef;
        if ((s = dd_pb_enter(&r, &f, &er, m->err)) != DD_OK) return s;
        dd_pb_bytes key = {NULL, 0}, value = {NULL, 0};
        while ((s = dd_pb_next(&er, &ef, m->err)) == DD_OK)
          if (ef.wire == DD_PB_LEN && ef.number == 1) key.p = ef.data, key.n = ef.len;
          else if (ef.wire == DD_PB_LEN && ef.number == 2) value.p = ef.data, value.n = ef.len;
        if (s != DD_DONE) return s;
        if (dd_pb_bytes_eq(key, "location")) location = value;
        external = 1;
        break;
      }
      case 14:
        if (f.wire == DD_PB_VARINT && f.u64 == 1) external = 1;
        break;
      default: break;
    }
  }
  if (s != DD_DONE) return s;
  if (external) {
    dd_pb_label file = dd_pb_label_of(location.p ? location : (dd_pb_bytes){(const uint8_t *)"?", 1});
    return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s' is stored in the external file '%s'; ONNX external data "
                   "is not supported: save the model with its weights inside (onnx.save_model(..., "
                   "save_as_external_data=False))", nm.s, file.s);
  }
  if (segmented) return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s' is segmented; not supported", nm.s);
  int64_t count = 1;
  for (int d = 0; d < rank; d++)
    if (dims[d] < 0 || !dd_mul_i64(count, dims[d], &count) || count > INT32_MAX)
      return dd_fail(m->err, DD_ERR_PARSE, "tensor '%s': dimension %d (%lld) is negative or the element count "
                     "overflows", nm.s, d, (long long)dims[d]);
  char tb[24];
  size_t esize = dtype == T_FLOAT || dtype == T_INT32 ? 4 : dtype == T_INT64 || dtype == T_DOUBLE ? 8 : dtype == T_BOOL ? 1 : 0;
  if (!esize)
    return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s' has data type %s; only FLOAT (weights) and INT64/INT32/"
                   "BOOL (shapes, flags) are supported", nm.s, dd_onnx_dtype_name(dtype, tb, sizeof tb));
  size_t n = (size_t)count, bytes;
  if (!dd_mul_size(n, 8, &bytes)) return dd_fail(m->err, DD_ERR_PARSE, "tensor '%s' is too large", nm.s);
  /* where the values are, and that there are exactly `count` of them */
  size_t have = 0;
  if (have_raw) have = raw.n / esize;
  else if (dtype == T_FLOAT) have = have_f ? fdata.n / 4 : (size_t)n_float;
  else if (dtype == T_DOUBLE) have = 0;
  else if (dtype == T_INT32 || dtype == T_BOOL) { /* BOOL: int32_data unless raw */
    if (have_i32 && dd_pb_packed_varint_count(i32.p, i32.n, &have, m->err) != DD_OK) return DD_ERR_PARSE;
  } else if (have_i64 == 1) {
    if (dd_pb_packed_varint_count(i64.p, i64.n, &have, m->err) != DD_OK) return DD_ERR_PARSE;
  } else if (have_i64 == 2) {
    have = 1;
  }
  if ((have_raw && raw.n % esize != 0) || (!have_raw && dtype == T_FLOAT && have_f && fdata.n % 4 != 0) ||
      have != n)
    return dd_fail(m->err, DD_ERR_PARSE, "tensor '%s': %zu values stored (%s) for a shape of %zu elements", nm.s,
                   have, have_raw ? "raw_data" : "typed data", n);
  if (dtype == T_FLOAT || dtype == T_DOUBLE) {
    if (!dd_add_size(m->weight_bytes, n * 4, &m->weight_bytes) || m->weight_bytes > DD_ONNX_MAX_WEIGHT_BYTES)
      return dd_fail(m->err, DD_ERR_UNSUPPORTED, "tensor '%s': the weights exceed %zu MB", nm.s,
                     DD_ONNX_MAX_WEIGHT_BYTES >> 20);
    t->f = (float *)malloc(n ? n * 4 : 4);
    if (!t->f) return oom(m);
    for (size_t k = 0; k < n; k++) {
      if (dtype == T_DOUBLE) {
        uint64_t u = dd_pb_le64(raw.p + 8 * k);
        double d;
        memcpy(&d, &u, 8);
        t->f[k] = (float)d;
      } else {
        t->f[k] = have_raw ? dd_pb_bits_to_float(dd_pb_le32(raw.p + 4 * k))
                           : have_f ? dd_pb_bits_to_float(dd_pb_le32(fdata.p + 4 * k)) : single_f[0];
      }
    }
  } else {
    t->i = (int64_t *)malloc(n ? n * 8 : 8);
    if (!t->i) return oom(m);
    const int small = dtype == T_INT32 || dtype == T_BOOL;
    const uint8_t *p = small ? i32.p : i64.p, *end = p ? p + (small ? i32.n : i64.n) : NULL;
    for (size_t k = 0; k < n; k++) {
      if (have_raw && dtype == T_BOOL) {
        t->i[k] = raw.p[k] != 0;
      } else if (have_raw) {
        t->i[k] = esize == 4 ? (int64_t)(int32_t)dd_pb_le32(raw.p + 4 * k) : (int64_t)dd_pb_le64(raw.p + 8 * k);
      } else if (have_i64 == 2) {
        t->i[k] = single_i;
      } else {
        uint64_t u = 0;
        dd_pb_read_varint(&p, end, &u); /* counted above: cannot fail */
        t->i[k] = small ? (int64_t)(int32_t)u : (int64_t)u;
      }
    }
  }
  t->dtype = dtype == T_DOUBLE ? T_FLOAT : dtype == T_INT32 || dtype == T_BOOL ? T_INT64 : dtype;
  t->rank = rank;
  memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
  t->count = count;
  t->parsed = 1;
  return DD_OK;
}

/* ---- the graph being built -------------------------------------------------------- */
/* A fresh IR node name: base + suffix, with "_N" added while it is taken by an
   IR node or an ONNX value. */
static int add_ir_node(im *m, dd_pb_bytes base, const char *suffix, dd_op op) {
  char buf[512];
  size_t bn = base.n > 400 ? 400 : base.n;
  memcpy(buf, base.p, bn);
  int w = snprintf(buf + bn, sizeof buf - bn, "%s", suffix);
  size_t n = bn + (size_t)(w > 0 ? w : 0);
  for (int k = 1; k < 1000; k++) {
    dd_pb_bytes s = {(const uint8_t *)buf, n};
    int clash = memchr(buf, 0, n) == NULL && dd_graph_find(&m->g, buf) >= 0;
    int v = find_val(m, s);
    /* an ONNX value of this name is another tensor unless it is what is being named */
    if (v >= 0 && (suffix[0] || m->vals[v].defined)) clash = 1;
    if (!clash) return dd_graph_add_node(&m->g, buf, n, op);
    int w2 = snprintf(buf + bn, sizeof buf - bn, "%s_%d", suffix, k);
    n = bn + (size_t)(w2 > 0 ? w2 : 0);
  }
  return -1;
}

static dd_status node_fail(im *m, dd_status code, const char *fmt, ...) DD_PRINTF(3, 4);
static dd_status node_fail(im *m, dd_status code, const char *fmt, ...) {
  char msg[DD_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return dd_fail(m->err, code, "%s: %s", m->where, msg);
}

/* A new IR node named after the current node's output (plus suffix). */
static dd_status new_node(im *m, const char *suffix, dd_op op, const int *inputs, int n_in, int *out) {
  const onode *nd = m->cur;
  int ov = m->io[nd->out0];
  int i = add_ir_node(m, m->vals[ov].name, suffix, op);
  if (i < 0) return oom(m);
  if (n_in > 0) {
    dd_status s = dd_graph_set_inputs(&m->g, i, inputs, n_in, m->err);
    if (s != DD_OK) return s;
  }
  *out = i;
  return DD_OK;
}

/* A float Const node of the given IR shape; takes ownership of data (malloc'd). */
static dd_status new_const(im *m, const char *suffix, int rank, const int64_t *dims, float *data, int *out) {
  if (!dd_graph_own(&m->g, data)) return oom(m);
  dd_status s = new_node(m, suffix, DD_OP_CONST, NULL, 0, out);
  if (s != DD_OK) return s;
  dd_const *c = &m->g.nodes[*out].attr.value;
  c->dtype = DD_DTYPE_FLOAT;
  c->rank = rank;
  c->count = 1;
  for (int d = 0; d < rank; d++) c->dims[d] = dims[d], c->count *= dims[d];
  c->f = data;
  return DD_OK;
}

static float *alloc_floats(im *m, int64_t count) {
  size_t bytes;
  if (count < 0 || (uint64_t)count > SIZE_MAX / sizeof(float) || !dd_mul_size((size_t)count, sizeof(float), &bytes)) {
    dd_fail(m->err, DD_ERR_UNSUPPORTED, "%s: %lld weights do not fit in memory", m->where, (long long)count);
    return NULL;
  }
  if (!dd_add_size(m->weight_bytes, bytes, &m->weight_bytes) || m->weight_bytes > DD_ONNX_MAX_WEIGHT_BYTES) {
    dd_fail(m->err, DD_ERR_UNSUPPORTED, "%s: the weights (after layout conversion) exceed %zu MB", m->where,
            DD_ONNX_MAX_WEIGHT_BYTES >> 20);
    return NULL;
  }
  float *f = (float *)calloc(bytes ? bytes : 4, 1);
  if (!f) dd_fail(m->err, DD_ERR_OUT_OF_MEMORY, "%s: out of memory for %lld weights", m->where, (long long)count);
  return f;
}

/* ---- node inputs and attributes --------------------------------------------------- */
static int n_inputs(const im *m) {
  const onode *nd = m->cur;
  int n = nd->n_in;
  while (n > 0 && m->io[nd->in0 + n - 1] < 0) n--; /* trailing empty = absent */
  return n;
}
static int in_val(const im *m, int k) { return k < m->cur->n_in ? m->io[m->cur->in0 + k] : -1; }

/* The activation input k: its value index. */
static dd_status act_in(im *m, int k, int *v) {
  int x = in_val(m, k);
  if (x < 0) return node_fail(m, DD_ERR_GRAPH, "input %d is missing", k);
  if (m->vals[x].tensor >= 0)
    return node_fail(m, DD_ERR_UNSUPPORTED, "input %d '%s' is a constant; this input must be computed from the "
                     "image (constant folding is not supported)", k, dd_pb_label_of(m->vals[x].name).s);
  *v = x;
  return DD_OK;
}

/* The constant input k, parsed, of dtype want (T_FLOAT or T_INT64). NULL: absent (when optional). */
static dd_status const_in(im *m, int k, int want, int optional, tensor **out) {
  *out = NULL;
  int x = in_val(m, k);
  if (x < 0) return optional ? DD_OK : node_fail(m, DD_ERR_GRAPH, "input %d is missing", k);
  const val *v = &m->vals[x];
  if (v->tensor < 0)
    return node_fail(m, DD_ERR_UNSUPPORTED, "input %d '%s' must be a constant (an initializer or a Constant); "
                     "computed weights are not supported", k, dd_pb_label_of(v->name).s);
  dd_status s = parse_tensor(m, v->tensor, v->name);
  if (s != DD_OK) {
    char msg[DD_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "%s", m->err ? m->err->message : "");
    return dd_fail(m->err, s, "%s: %s", m->where, msg);
  }
  tensor *t = &m->ts[v->tensor];
  char tb[24];
  if (t->dtype != want)
    return node_fail(m, DD_ERR_UNSUPPORTED, "input %d '%s' has data type %s, expected %s", k, dd_pb_label_of(v->name).s,
                     dd_onnx_dtype_name(t->dtype, tb, sizeof tb), want == T_FLOAT ? "FLOAT" : "INT64");
  if (want == T_FLOAT) {
    size_t bad = first_non_finite(t->f, (size_t)t->count);
    if (bad < (size_t)t->count) {
      float fv = t->f[bad];
      return node_fail(m, DD_ERR_PARSE, "weights '%s': value %zu of %lld is %s; weights must be finite",
                       dd_pb_label_of(v->name).s, bad, (long long)t->count, fv != fv ? "NaN" : fv > 0 ? "+Inf" : "-Inf");
    }
  }
  *out = t;
  return DD_OK;
}

static dd_status parse_attr(im *m, dd_pb_bytes bytes, attr *a) {
  memset(a, 0, sizeof *a);
  dd_pb_reader r;
  dd_pb_field f;
  dd_pb_reader_init(&r, bytes.p, bytes.n);
  r.base = m->base;
  dd_status s;
  while ((s = dd_pb_next(&r, &f, m->err)) == DD_OK) {
    switch (f.number) {
      case 1:
        if (f.wire != DD_PB_LEN) return wire_error(m, "attribute name", &f, "a string");
        a->name.p = f.data, a->name.n = f.len;
        break;
      case 20:
        if (f.wire != DD_PB_VARINT) return wire_error(m, "attribute type", &f, "varint");
        a->type = (int)f.u64;
        break;
      case 2:
        if (f.wire != DD_PB_FIXED32) return wire_error(m, "attribute f", &f, "fixed32");
        a->f = dd_pb_bits_to_float((uint32_t)f.u64), a->has_f = 1;
        break;
      case 3:
        if (f.wire != DD_PB_VARINT) return wire_error(m, "attribute i", &f, "varint");
        a->i = as_i64(&f), a->has_i = 1;
        break;
      case 4:
        if (f.wire != DD_PB_LEN) return wire_error(m, "attribute s", &f, "bytes");
        a->s.p = f.data, a->s.n = f.len, a->has_s = 1;
        break;
      case 5:
        if (f.wire != DD_PB_LEN) return wire_error(m, "attribute t", &f, "a tensor");
        a->t.p = f.data, a->t.n = f.len, a->has_t = 1;
        break;
      case 7:
        if (f.wire == DD_PB_FIXED32) {
          if (a->n_floats >= MAX_ATTR_VALS) return dd_fail(m->err, DD_ERR_UNSUPPORTED, "ONNX attribute: too many floats");
          a->floats[a->n_floats++] = dd_pb_bits_to_float((uint32_t)f.u64);
        } else if (f.wire == DD_PB_LEN) {
          if (f.len % 4 || f.len / 4 > (size_t)(MAX_ATTR_VALS - a->n_floats))
            return dd_fail(m->err, DD_ERR_UNSUPPORTED, "ONNX attribute: too many floats (or a partial one)");
          for (size_t k = 0; k < f.len / 4; k++) a->floats[a->n_floats++] = dd_pb_bits_to_float(dd_pb_le32(f.data + 4 * k));
        } else {
          return wire_error(m, "attribute floats", &f, "floats");
        }
        break;
      case 8:
        if ((s = read_ints(m, &f, a->ints, &a->n_ints, MAX_ATTR_VALS, "attribute ints")) != DD_OK) return s;
        break;
      default: break;
    }
  }
  return s == DD_DONE ? DD_OK : s;
}

/* Attribute `name` of the current node: 1 found, 0 absent, <0 error (err set). */
static int get_attr(im *m, const char *name, attr *a) {
  const onode *nd = m->cur;
  for (int k = 0; k < nd->n_attr; k++) {
    if (parse_attr(m, m->attrs[nd->attr0 + k], a) != DD_OK) return -1;
    if (dd_pb_bytes_eq(a->name, name)) return 1;
  }
  return 0;
}

/* An int attribute with a default; error when present in another form. */
static dd_status attr_int(im *m, const char *name, int64_t def, int64_t *out) {
  attr a;
  int r = get_attr(m, name, &a);
  if (r < 0) return m->err ? m->err->status : DD_ERR_PARSE;
  if (r == 0) {
    *out = def;
    return DD_OK;
  }
  if (!a.has_i) return node_fail(m, DD_ERR_PARSE, "attribute '%s' must be an int", name);
  *out = a.i;
  return DD_OK;
}

static dd_status attr_float(im *m, const char *name, float def, float *out) {
  attr a;
  int r = get_attr(m, name, &a);
  if (r < 0) return m->err ? m->err->status : DD_ERR_PARSE;
  if (r == 0) {
    *out = def;
    return DD_OK;
  }
  if (!a.has_f) return node_fail(m, DD_ERR_PARSE, "attribute '%s' must be a float", name);
  if (a.f != a.f) return node_fail(m, DD_ERR_UNSUPPORTED, "attribute '%s' is NaN", name);
  *out = a.f;
  return DD_OK;
}

/* n ints (exactly `want` when present), else the defaults. found: 1 when present. */
static dd_status attr_ints(im *m, const char *name, int want, const int64_t *def, int64_t *out, int *found) {
  attr a;
  int r = get_attr(m, name, &a);
  if (r < 0) return m->err ? m->err->status : DD_ERR_PARSE;
  if (found) *found = r;
  if (r == 0) {
    for (int k = 0; k < want; k++) out[k] = def[k];
    return DD_OK;
  }
  if (a.n_ints != want)
    return node_fail(m, DD_ERR_UNSUPPORTED, "attribute '%s' has %d values; %d expected (2-D images only)", name,
                     a.n_ints, want);
  for (int k = 0; k < want; k++) out[k] = a.ints[k];
  return DD_OK;
}

/* auto_pad: 0 NOTSET, else the dd_padding. */
static dd_status attr_auto_pad(im *m, int *mode) {
  attr a;
  int r = get_attr(m, "auto_pad", &a);
  if (r < 0) return m->err ? m->err->status : DD_ERR_PARSE;
  *mode = -1;
  if (r == 0 || dd_pb_bytes_eq(a.s, "NOTSET") || a.s.n == 0) return DD_OK;
  if (dd_pb_bytes_eq(a.s, "VALID")) *mode = DD_PADDING_VALID;
  else if (dd_pb_bytes_eq(a.s, "SAME_UPPER")) *mode = DD_PADDING_SAME;
  else if (dd_pb_bytes_eq(a.s, "SAME_LOWER")) *mode = DD_PADDING_SAME_LOWER;
  else return node_fail(m, DD_ERR_UNSUPPORTED, "auto_pad '%s' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER", dd_pb_label_of(a.s).s);
  return DD_OK;
}

/* Outputs after the first must be unused (Dropout's mask, MaxPool's indices, BatchNormalization's statistics). */
static dd_status only_first_output(im *m) {
  for (int k = 1; k < m->cur->n_out; k++) {
    int v = m->io[m->cur->out0 + k];
    if (v >= 0 && m->vals[v].uses > 0)
      return node_fail(m, DD_ERR_UNSUPPORTED, "output %d '%s' is used; only the first output is supported", k,
                       dd_pb_label_of(m->vals[v].name).s);
  }
  return DD_OK;
}

/* The current node's (first) output value becomes IR node `node`. */
static val *define(im *m, int node, int rank, int c) {
  val *v = &m->vals[m->io[m->cur->out0]];
  v->node = node;
  v->rank = rank;
  v->c = c;
  v->defined = 1;
  return v;
}

static dd_status need_rank(im *m, const val *x, int rank, const char *why) {
  if (x->rank != rank)
    return node_fail(m, DD_ERR_UNSUPPORTED, "input '%s' has rank %d; %s", dd_pb_label_of(x->name).s, x->rank, why);
  return DD_OK;
}

/* ---- converters -------------------------------------------------------------------- */
/* Window attrs shared by Conv and the pools: strides, pads / auto_pad. */
static dd_status window_attrs(im *m, int kh, int kw, dd_padding *padding, int pads[4], int strides[2], int ceil_mode) {
  static const int64_t ones[2] = {1, 1}, zeros[4] = {0, 0, 0, 0};
  int64_t st[2], pd[4];
  int mode, have_pads;
  dd_status s;
  if ((s = attr_ints(m, "strides", 2, ones, st, NULL)) != DD_OK) return s;
  if ((s = attr_ints(m, "pads", 4, zeros, pd, &have_pads)) != DD_OK) return s;
  if ((s = attr_auto_pad(m, &mode)) != DD_OK) return s;
  for (int k = 0; k < 2; k++)
    if (st[k] < 1 || st[k] > 4096) return node_fail(m, DD_ERR_UNSUPPORTED, "stride %lld outside [1, 4096]", (long long)st[k]);
  strides[0] = (int)st[0], strides[1] = (int)st[1];
  memset(pads, 0, 4 * sizeof(int));
  if (mode >= 0) {
    *padding = (dd_padding)mode;
    if (ceil_mode && mode != DD_PADDING_VALID)
      return node_fail(m, DD_ERR_UNSUPPORTED, "ceil_mode with auto_pad SAME is not supported");
    if (ceil_mode) *padding = DD_PADDING_EXPLICIT;
    return DD_OK;
  }
  const int k4[4] = {kh, kw, kh, kw};
  int any = 0;
  for (int k = 0; k < 4; k++) {
    if (pd[k] < 0 || pd[k] >= k4[k])
      return node_fail(m, DD_ERR_UNSUPPORTED, "pad %lld (pads %lld,%lld,%lld,%lld) is negative or not smaller than "
                       "the %dx%d window", (long long)pd[k], (long long)pd[0], (long long)pd[1], (long long)pd[2],
                       (long long)pd[3], kh, kw);
    pads[k] = (int)pd[k];
    any |= pads[k];
  }
  *padding = any || ceil_mode ? DD_PADDING_EXPLICIT : DD_PADDING_VALID;
  return DD_OK;
}

static dd_status conv(im *m) {
  int xv = -1, n = 0;
  tensor *w, *b;
  dd_status s;
  if ((s = act_in(m, 0, &xv)) != DD_OK) return s;
  if ((s = need_rank(m, &m->vals[xv], 4, "Conv takes NCHW images")) != DD_OK) return s;
  if ((s = const_in(m, 1, T_FLOAT, 0, &w)) != DD_OK) return s;
  if ((s = const_in(m, 2, T_FLOAT, 1, &b)) != DD_OK) return s;
  if (w->rank != 4) return node_fail(m, DD_ERR_UNSUPPORTED, "the filter has rank %d; 2-D convolutions (OIHW) only", w->rank);
  int64_t M = w->dims[0], cg = w->dims[1], kh = w->dims[2], kw = w->dims[3], group, dil[2], ks[2];
  static const int64_t ones[2] = {1, 1};
  int have_ks;
  if ((s = attr_int(m, "group", 1, &group)) != DD_OK) return s;
  if ((s = attr_ints(m, "dilations", 2, ones, dil, NULL)) != DD_OK) return s;
  if ((s = attr_ints(m, "kernel_shape", 2, ones, ks, &have_ks)) != DD_OK) return s;
  if (M < 1 || cg < 1 || kh < 1 || kw < 1 || M > 1 << 20 || cg > 1 << 20 || kh > 1024 || kw > 1024)
    return node_fail(m, DD_ERR_UNSUPPORTED, "filter %lldx%lldx%lldx%lld is empty or too large", (long long)M,
                     (long long)cg, (long long)kh, (long long)kw);
  if (have_ks && (ks[0] != kh || ks[1] != kw))
    return node_fail(m, DD_ERR_PARSE, "kernel_shape %lldx%lld disagrees with the %lldx%lld filter", (long long)ks[0],
                     (long long)ks[1], (long long)kh, (long long)kw);
  if (group < 1 || group > M || M % group != 0)
    return node_fail(m, DD_ERR_UNSUPPORTED, "group %lld does not divide the %lld output channels", (long long)group,
                     (long long)M);
  for (int k = 0; k < 2; k++)
    if (dil[k] < 1 || dil[k] > 1024) return node_fail(m, DD_ERR_UNSUPPORTED, "dilation %lld outside [1, 1024]", (long long)dil[k]);
  int64_t cin = cg * group, kdh = (kh - 1) * dil[0] + 1, kdw = (kw - 1) * dil[1] + 1;
  const val *x = &m->vals[xv];
  if (x->c >= 0 && x->c != cin)
    return node_fail(m, DD_ERR_SHAPE, "the filter expects %lld input channels (%lld x group %lld), the input has %d",
                     (long long)cin, (long long)cg, (long long)group, x->c);
  if (b && b->count != M)
    return node_fail(m, DD_ERR_SHAPE, "the bias has %lld values for %lld output channels", (long long)b->count, (long long)M);
  int64_t count = 0;
  if (!dd_mul_i64(kdh * kdw, cin, &count) || !dd_mul_i64(count, M, &count) || count > DD_ONNX_MAX_EXPANDED_FILTER)
    return node_fail(m, DD_ERR_UNSUPPORTED, "the filter expanded for dilations %lldx%lld and group %lld would hold "
                     "%lld values (more than %d): too large", (long long)dil[0], (long long)dil[1], (long long)group,
                     (long long)count, DD_ONNX_MAX_EXPANDED_FILTER);
  dd_padding padding;
  int pads[4], strides[2];
  if ((s = window_attrs(m, (int)kdh, (int)kdw, &padding, pads, strides, 0)) != DD_OK) return s;
  float *hwio = alloc_floats(m, count);
  if (!hwio) return m->err ? m->err->status : DD_ERR_OUT_OF_MEMORY;
  const int64_t mg = M / group;
  for (int64_t o = 0; o < M; o++) {
    const int64_t g0 = (o / mg) * cg;
    for (int64_t ci = 0; ci < cg; ci++)
      for (int64_t i = 0; i < kh; i++)
        for (int64_t j = 0; j < kw; j++)
          hwio[(((i * dil[0]) * kdw + j * dil[1]) * cin + g0 + ci) * M + o] = w->f[((o * cg + ci) * kh + i) * kw + j];
  }
  int fi = -1, ci_node = -1;
  const int64_t fd[4] = {kdh, kdw, cin, M};
  if ((s = new_const(m, "/filter", 4, fd, hwio, &fi)) != DD_OK) return s;
  const int ins[2] = {x->node, fi};
  if ((s = new_node(m, b ? "/conv" : "", DD_OP_CONV2D, ins, 2, &ci_node)) != DD_OK) return s;
  dd_node *cn = &m->g.nodes[ci_node];
  cn->attr.conv.strides[0] = strides[0], cn->attr.conv.strides[1] = strides[1];
  cn->attr.conv.padding = padding;
  memcpy(cn->attr.conv.pads, pads, sizeof pads);
  int out = ci_node, bias = -1;
  if (b) {
    float *bb = alloc_floats(m, M);
    if (!bb) return m->err ? m->err->status : DD_ERR_OUT_OF_MEMORY;
    memcpy(bb, b->f, (size_t)M * sizeof(float));
    int bi = -1;
    if ((s = new_const(m, "/bias", 1, &M, bb, &bi)) != DD_OK) return s;
    const int bins[2] = {ci_node, bi};
    if ((s = new_node(m, "", DD_OP_BIAS_ADD, bins, 2, &bias)) != DD_OK) return s;
    out = bias;
  }
  val *v = define(m, out, 4, (int)M);
  v->conv = ci_node;
  v->bias = bias;
  (void)n;
  return DD_OK;
}

/* A per-channel Mul of the current node's input value xv by f (1 or C floats, malloc'd). */
static dd_status mul_node(im *m, int x_node, const char *suffix, float *f, int64_t nf, int *out) {
  int fi = -1;
  dd_status s = new_const(m, suffix[0] ? "/factor" : "/factor", 1, &nf, f, &fi);
  if (s != DD_OK) return s;
  const int ins[2] = {x_node, fi};
  return new_node(m, suffix, DD_OP_MUL, ins, 2, out);
}

static dd_status bias_node(im *m, int x_node, const char *suffix, float *f, int64_t nf, int *out) {
  int bi = -1;
  dd_status s = new_const(m, "/bias", 1, &nf, f, &bi);
  if (s != DD_OK) return s;
  const int ins[2] = {x_node, bi};
  return new_node(m, suffix, DD_OP_BIAS_ADD, ins, 2, out);
}

static dd_status batch_norm(im *m) {
  int xv = -1;
  tensor *sc, *bb, *mean, *var;
  dd_status s;
  if ((s = act_in(m, 0, &xv)) != DD_OK) return s;
  if ((s = const_in(m, 1, T_FLOAT, 0, &sc)) != DD_OK || (s = const_in(m, 2, T_FLOAT, 0, &bb)) != DD_OK ||
      (s = const_in(m, 3, T_FLOAT, 0, &mean)) != DD_OK || (s = const_in(m, 4, T_FLOAT, 0, &var)) != DD_OK)
    return s;
  if ((s = only_first_output(m)) != DD_OK) return s;
  float eps;
  int64_t spatial, training;
  if ((s = attr_float(m, "epsilon", 1e-5f, &eps)) != DD_OK) return s;
  if ((s = attr_int(m, "spatial", 1, &spatial)) != DD_OK) return s;
  if ((s = attr_int(m, "training_mode", 0, &training)) != DD_OK) return s;
  if (spatial != 1 || training != 0)
    return node_fail(m, DD_ERR_UNSUPPORTED, "spatial=%lld training_mode=%lld; inference with spatial=1 only",
                     (long long)spatial, (long long)training);
  val *x = &m->vals[xv];
  int64_t C = sc->count;
  if (bb->count != C || mean->count != C || var->count != C || (x->c >= 0 && x->c != C) || C < 1)
    return node_fail(m, DD_ERR_SHAPE, "scale, B, mean and var have %lld, %lld, %lld, %lld values for %d channels",
                     (long long)sc->count, (long long)bb->count, (long long)mean->count, (long long)var->count, x->c);
  float *mul = alloc_floats(m, C), *add = alloc_floats(m, C);
  if (!mul || !add) {
    free(mul);
    free(add);
    return m->err ? m->err->status : DD_ERR_OUT_OF_MEMORY;
  }
  for (int64_t c = 0; c < C; c++) {
    double d = (double)var->f[c] + eps;
    if (!(d > 0)) {
      free(mul), free(add);
      return node_fail(m, DD_ERR_UNSUPPORTED, "var + epsilon of channel %lld is %g, not positive", (long long)c, d);
    }
    double k = sc->f[c] / sqrt(d);
    mul[c] = (float)k;
    add[c] = (float)(bb->f[c] - mean->f[c] * k);
  }
  const int foldable = x->conv >= 0 && x->uses == 1;
  int out = -1;
  if (foldable) { /* scale the filter's output channels and fold the shift into the bias */
    dd_const *f = &m->g.nodes[m->g.nodes[x->conv].inputs[1]].attr.value;
    float *fw = (float *)f->f;
    for (int64_t k = 0; k < f->count; k++) fw[k] *= mul[k % C];
    free(mul);
    if (x->bias >= 0) {
      dd_const *bc = &m->g.nodes[m->g.nodes[x->bias].inputs[1]].attr.value;
      float *bw = (float *)bc->f;
      for (int64_t c = 0; c < C; c++) bw[c] = bw[c] * (float)sc->f[c] / (float)sqrt((double)var->f[c] + eps) + add[c];
      free(add);
      const int ins[1] = {x->bias};
      if ((s = new_node(m, "", DD_OP_IDENTITY, ins, 1, &out)) != DD_OK) return s;
      val *v = define(m, out, x->rank, (int)C);
      v->conv = -1; /* folded once */
      return DD_OK;
    }
    int conv_node = x->conv;
    if ((s = bias_node(m, conv_node, "", add, C, &out)) != DD_OK) return s;
    define(m, out, x->rank, (int)C);
    return DD_OK;
  }
  int mi = -1;
  if ((s = mul_node(m, x->node, "/scale", mul, C, &mi)) != DD_OK) {
    free(add);
    return s;
  }
  if ((s = bias_node(m, mi, "", add, C, &out)) != DD_OK) return s;
  define(m, out, m->vals[xv].rank, (int)C);
  return DD_OK;
}

static dd_status unary(im *m, dd_op op) {
  int xv = -1, out = -1;
  dd_status s;
  if ((s = act_in(m, 0, &xv)) != DD_OK) return s;
  if ((s = only_first_output(m)) != DD_OK) return s;
  const val *x = &m->vals[xv];
  const int ins[1] = {x->node};
  if ((s = new_node(m, "", op, ins, 1, &out)) != DD_OK) return s;
  x = &m->vals[xv];
  val *v = define(m, out, x->rank, x->c);
  v->flat_c = x->flat_c;
  return DD_OK;
}

static dd_status leaky_relu(im *m) {
  float alpha;
  dd_status s = attr_float(m, "alpha", 0.01f, &alpha);
  if (s != DD_OK) return s;
  if (!(alpha - alpha == 0)) return node_fail(m, DD_ERR_UNSUPPORTED, "alpha is not finite");
  if ((s = unary(m, DD_OP_LEAKY_RELU)) != DD_OK) return s;
  m->g.nodes[m->g.n_nodes - 1].attr.alpha = alpha;
  return DD_OK;
}

static dd_status dropout(im *m) {
  tensor *tm;
  dd_status s = DD_OK;
  if (n_inputs(m) >= 3) { /* opset 12: training_mode must be false */
    if ((s = const_in(m, 2, T_INT64, 0, &tm)) != DD_OK) return s; /* BOOL parses as INT64 0/1 */
    if (tm->count != 1 || tm->i[0] != 0) return node_fail(m, DD_ERR_UNSUPPORTED, "training_mode is true");
  }
  return unary(m, DD_OP_IDENTITY);
}

static dd_status pool(im *m, dd_op op) {
  int xv = -1, out = -1;
  dd_status s;
  if ((s = act_in(m, 0, &xv)) != DD_OK) return s;
  if ((s = need_rank(m, &m->vals[xv], 4, "pooling takes NCHW images")) != DD_OK) return s;
  if ((s = only_first_output(m)) != DD_OK) return s;
  int64_t ks[2], dil[2], ceil_mode, include_pad, order;
  static const int64_t ones[2] = {1, 1};
  int have_ks;
  if ((s = attr_ints(m, "kernel_shape", 2, ones, ks, &have_ks)) != DD_OK) return s;
  if (!have_ks) return node_fail(m, DD_ERR_PARSE, "kernel_shape is missing");
  if ((s = attr_ints(m, "dilations", 2, ones, dil, NULL)) != DD_OK) return s;
  if ((s = attr_int(m, "ceil_mode", 0, &ceil_mode)) != DD_OK) return s;
  if ((s = attr_int(m, "count_include_pad", 0, &include_pad)) != DD_OK) return s;
  if ((s = attr_int(m, "storage_order", 0, &order)) != DD_OK) return s;
  if (dil[0] != 1 || dil[1] != 1) return node_fail(m, DD_ERR_UNSUPPORTED, "pooling dilations %lldx%lld; only 1", (long long)dil[0], (long long)dil[1]);
  if (order != 0) return node_fail(m, DD_ERR_UNSUPPORTED, "storage_order %lld; only 0", (long long)order);
  if ((ceil_mode & ~1) || (include_pad & ~1)) return node_fail(m, DD_ERR_PARSE, "ceil_mode and count_include_pad must be 0 or 1");
  if (ks[0] < 1 || ks[1] < 1 || ks[0] > 4096 || ks[1] > 4096)
    return node_fail(m, DD_ERR_UNSUPPORTED, "kernel_shape %lldx%lld outside [1, 4096]", (long long)ks[0], (long long)ks[1]);
  dd_window w;
  memset(&w, 0, sizeof w);
  w.k_h = (int)ks[0], w.k_w = (int)ks[1];
  int strides[2];
  if ((s = window_attrs(m, w.k_h, w.k_w, &w.padding, w.pads, strides, (int)ceil_mode)) != DD_OK) return s;
  w.stride_h = strides[0], w.stride_w = strides[1];
  w.ceil_mode = (int)ceil_mode;
  w.count_include_pad = op == DD_OP_AVG_POOL && include_pad && w.padding != DD_PADDING_VALID;
  const val *x = &m->vals[xv];
  const int ins[1] = {x->node};
  if ((s = new_node(m, "", op, ins, 1, &out)) != DD_OK) return s;
  m->g.nodes[out].attr.pool = w;
  define(m, out, 4, m->vals[xv].c);
  return DD_OK;
}

static dd_status global_pool(im *m) {
  int xv = -1;
  dd_status s = act_in(m, 0, &xv);
  if (s != DD_OK) return s;
  if ((s = need_rank(m, &m->vals[xv], 4, "GlobalAveragePool takes NCHW images")) != DD_OK) return s;
  return unary(m, DD_OP_GLOBAL_AVG_POOL);
}

static dd_status lrn(im *m) {
  int64_t size;
  float alpha, beta, bias;
  dd_status s;
  if ((s = attr_int(m, "size", -1, &size)) != DD_OK) return s;
  if ((s = attr_float(m, "alpha", 1e-4f, &alpha)) != DD_OK || (s = attr_float(m, "beta", 0.75f, &beta)) != DD_OK ||
      (s = attr_float(m, "bias", 1.0f, &bias)) != DD_OK)
    return s;
  if (size < 1 || size > (1 << 20) || size % 2 == 0)
    return node_fail(m, DD_ERR_UNSUPPORTED, "size %lld; an odd size in [1, 2^20] is supported (an even size sums "
                     "an asymmetric window)", (long long)size);
  if (!(alpha - alpha == 0) || !(beta - beta == 0) || !(bias - bias == 0))
    return node_fail(m, DD_ERR_UNSUPPORTED, "alpha, beta and bias must be finite");
  int xv = -1;
  if ((s = act_in(m, 0, &xv)) != DD_OK) return s;
  if ((s = need_rank(m, &m->vals[xv], 4, "LRN takes NCHW images")) != DD_OK) return s;
  if ((s = unary(m, DD_OP_LRN)) != DD_OK) return s;
  dd_lrn_params *p = &m->g.nodes[m->g.n_nodes - 1].attr.lrn;
  p->depth_radius = (int)((size - 1) / 2);
  p->alpha = (float)((double)alpha / (double)size); /* ONNX divides alpha by size; TF does not */
  p->beta = beta;
  p->bias = bias;
  return DD_OK;
}

static dd_status concat(im *m) {
  int n = n_inputs(m);
  if (n < 1) return node_fail(m, DD_ERR_GRAPH, "no inputs");
  int64_t axis;
  dd_status s = attr_int(m, "axis", m->opset < 4 ? 1 : INT64_MIN, &axis);
  if (s != DD_OK) return s;
  if (axis == INT64_MIN) return node_fail(m, DD_ERR_PARSE, "axis is missing");
  int *ins = (int *)malloc((size_t)n * sizeof(int));
  if (!ins) return oom(m);
  int rank = -1, c = 0;
  for (int k = 0; k < n && s == DD_OK; k++) {
    int xv = -1;
    if ((s = act_in(m, k, &xv)) != DD_OK) break;
    const val *x = &m->vals[xv];
    if (rank < 0) rank = x->rank;
    if (x->rank != rank) s = node_fail(m, DD_ERR_SHAPE, "inputs of rank %d and %d", rank, x->rank);
    else if (x->flat_c) s = node_fail(m, DD_ERR_UNSUPPORTED, "concatenating flattened images is not supported");
    ins[k] = x->node;
    c = c < 0 || x->c < 0 ? -1 : c + x->c;
  }
  if (s == DD_OK && !((rank == 4 && (axis == 1 || axis == -3)) || (rank == 2 && (axis == 1 || axis == -1))))
    s = node_fail(m, DD_ERR_UNSUPPORTED, "axis %lld of rank %d; only the channel axis (1) is supported", (long long)axis, rank);
  int out = -1;
  if (s == DD_OK) s = new_node(m, "", DD_OP_CONCAT, ins, n, &out);
  free(ins);
  if (s != DD_OK) return s;
  m->g.nodes[out].attr.concat.axis = 3;
  define(m, out, rank, c);
  return DD_OK;
}

/* A constant operand broadcast against activation x: 1 value, or one per
   channel (NCHW [C,1,1] / [1,C,1,1]; matrices [N] / [1,N]). *nvals = 1 or C. */
static dd_status per_channel(im *m, const val *x, const tensor *t, int64_t *nvals) {
  if (t->count == 1) {
    *nvals = 1;
    return DD_OK;
  }
  if (t->rank > x->rank) goto bad;
  for (int d = 0; d < t->rank; d++) {
    int xd = x->rank - t->rank + d; /* numpy: right-aligned */
    if (t->dims[d] != 1 && xd != 1) goto bad;
  }
  if (x->c >= 0 && t->count != x->c) goto bad;
  *nvals = t->count;
  return DD_OK;
bad:
  return node_fail(m, DD_ERR_UNSUPPORTED, "a constant of %lld values in a shape that is not one per channel "
                   "(nor a scalar) does not broadcast per channel", (long long)t->count);
}

static dd_status binary(im *m) {
  const onode *nd = m->cur;
  int is_add = dd_pb_bytes_eq(nd->op, "Add"), is_sub = dd_pb_bytes_eq(nd->op, "Sub"), is_mul = dd_pb_bytes_eq(nd->op, "Mul");
  if (n_inputs(m) != 2) return node_fail(m, DD_ERR_GRAPH, "%d inputs; 2 expected", n_inputs(m));
  int a = in_val(m, 0), b = in_val(m, 1);
  int64_t bc;
  dd_status s = attr_int(m, "broadcast", 0, &bc);
  if (s != DD_OK) return s;
  const int ca = m->vals[a].tensor >= 0, cb = m->vals[b].tensor >= 0;
  if (ca && cb) return node_fail(m, DD_ERR_UNSUPPORTED, "both inputs are constants (constant folding is not supported)");
  int out = -1;
  if (!ca && !cb) {
    if (!is_add)
      return node_fail(m, DD_ERR_UNSUPPORTED, "%s of two activations; only Add of two activations is supported",
                       dd_pb_label_of(nd->op).s);
    const val *x = &m->vals[a], *y = &m->vals[b];
    if (x->rank != y->rank || (x->c >= 0 && y->c >= 0 && x->c != y->c) || x->flat_c != y->flat_c)
      return node_fail(m, DD_ERR_UNSUPPORTED, "Add of '%s' and '%s', whose shapes differ (no broadcasting)",
                       dd_pb_label_of(x->name).s, dd_pb_label_of(y->name).s);
    const int ins[2] = {x->node, y->node};
    if ((s = new_node(m, "", DD_OP_ADD, ins, 2, &out)) != DD_OK) return s;
    val *v = define(m, out, m->vals[a].rank, m->vals[a].c >= 0 ? m->vals[a].c : m->vals[b].c);
    v->flat_c = m->vals[a].flat_c;
    return DD_OK;
  }
  const int xk = ca ? 1 : 0; /* the activation's position */
  if (!is_add && !is_mul && xk == 1)
    return node_fail(m, DD_ERR_UNSUPPORTED, "%s of a constant by an activation; only activation %s constant",
                     dd_pb_label_of(nd->op).s, is_sub ? "-" : "/");
  tensor *t;
  if ((s = const_in(m, 1 - xk, T_FLOAT, 0, &t)) != DD_OK) return s;
  const val *x = &m->vals[xk ? b : a];
  int64_t nv = 1;
  if ((s = per_channel(m, x, t, &nv)) != DD_OK) return s;
  int x_node = x->node, xr = x->rank, xc = x->c, xf = x->flat_c;
  if (nv > 1) xc = (int)nv;
  if (xf && nv > 1)
    return node_fail(m, DD_ERR_UNSUPPORTED, "a per-feature constant after a Flatten of images is not supported");
  if (is_add || is_sub) {
    if (xc < 0) return node_fail(m, DD_ERR_UNSUPPORTED, "the input's channel count is unknown");
    float *f = alloc_floats(m, xc);
    if (!f) return m->err ? m->err->status : DD_ERR_OUT_OF_MEMORY;
    for (int c = 0; c < xc; c++) f[c] = is_sub ? -t->f[nv == 1 ? 0 : c] : t->f[nv == 1 ? 0 : c];
    if ((s = bias_node(m, x_node, "", f, xc, &out)) != DD_OK) return s;
  } else {
    float *f = alloc_floats(m, nv);
    if (!f) return m->err ? m->err->status : DD_ERR_OUT_OF_MEMORY;
    for (int64_t c = 0; c < nv; c++) {
      f[c] = is_mul ? t->f[c] : 1.0f / t->f[c];
      if (!(f[c] - f[c] == 0)) {
        free(f);
        return node_fail(m, DD_ERR_UNSUPPORTED, "division by zero (value %lld of the divisor)", (long long)c);
      }
    }
    if ((s = mul_node(m, x_node, "", f, nv, &out)) != DD_OK) return s;
  }
  val *v = define(m, out, xr, xc);
  v->flat_c = xf;
  return DD_OK;
}

/* Gemm and MatMul by a constant matrix. */
static dd_status gemm(im *m, int is_gemm) {
  int xv = -1;
  tensor *bt, *ct = NULL;
  dd_status s;
  if ((s = act_in(m, 0, &xv)) != DD_OK) return s;
  if ((s = const_in(m, 1, T_FLOAT, 0, &bt)) != DD_OK) return s;
  if (is_gemm && (s = const_in(m, 2, T_FLOAT, 1, &ct)) != DD_OK) return s;
  int64_t ta = 0, tb = 0;
  float alpha = 1, beta = 1;
  if (is_gemm) {
    if ((s = attr_int(m, "transA", 0, &ta)) != DD_OK || (s = attr_int(m, "transB", 0, &tb)) != DD_OK ||
        (s = attr_float(m, "alpha", 1, &alpha)) != DD_OK || (s = attr_float(m, "beta", 1, &beta)) != DD_OK)
      return s;
  }
  const val *x = &m->vals[xv];
  if (ta) return node_fail(m, DD_ERR_UNSUPPORTED, "transA=1 (the activation transposed) is not supported");
  if (x->rank != 2) return need_rank(m, x, 2, "a matrix [N, K] is expected (Flatten the image first)");
  if (bt->rank != 2) return node_fail(m, DD_ERR_UNSUPPORTED, "B has rank %d; a matrix is expected", bt->rank);
  if (!(alpha - alpha == 0) || !(beta - beta == 0)) return node_fail(m, DD_ERR_UNSUPPORTED, "alpha or beta is not finite");
  int64_t K = tb ? bt->dims[1] : bt->dims[0], N = tb ? bt->dims[0] : bt->dims[1];
  if (K < 1 || N < 1) return node_fail(m, DD_ERR_UNSUPPORTED, "B is empty");
  if (x->c >= 0 && x->c != K)
    return node_fail(m, DD_ERR_SHAPE, "the input has %d features, B expects %lld", x->c, (long long)K);
  int64_t C = x->flat_c, hw = 1;
  if (C > 0) {
    if (K % C != 0)
      return node_fail(m, DD_ERR_SHAPE, "B's %lld rows are not a multiple of the %lld flattened channels",
                       (long long)K, (long long)C);
    hw = K / C;
  }
  float *mat = alloc_floats(m, K * N);
  if (!mat) return m->err ? m->err->status : DD_ERR_OUT_OF_MEMORY;
  /* row k of op(B) in the engine's order (p*C + c) is ONNX's row c*hw + p */
  for (int64_t kn = 0; kn < K; kn++) {
    int64_t ko = hw > 1 ? (kn % C) * hw + kn / C : kn;
    for (int64_t j = 0; j < N; j++) {
      if (tb) mat[j * K + kn] = alpha * bt->f[j * K + ko];
      else mat[kn * N + j] = alpha * bt->f[ko * N + j];
    }
  }
  int mi = -1, out = -1;
  const int64_t md[2] = {bt->dims[0], bt->dims[1]};
  if ((s = new_const(m, "/matrix", 2, md, mat, &mi)) != DD_OK) return s;
  const int ins[2] = {m->vals[xv].node, mi};
  if ((s = new_node(m, ct ? "/matmul" : "", DD_OP_MATMUL, ins, 2, &out)) != DD_OK) return s;
  m->g.nodes[out].attr.matmul.transpose_b = tb != 0;
  if (ct) {
    if (!(ct->count == 1 || (ct->count == N && (ct->rank == 1 || (ct->rank == 2 && ct->dims[0] == 1)))))
      return node_fail(m, DD_ERR_UNSUPPORTED, "C has %lld values; a scalar or one per output (%lld) is supported",
                       (long long)ct->count, (long long)N);
    float *bias = alloc_floats(m, N);
    if (!bias) return m->err ? m->err->status : DD_ERR_OUT_OF_MEMORY;
    for (int64_t j = 0; j < N; j++) bias[j] = beta * ct->f[ct->count == 1 ? 0 : j];
    int bo = -1;
    if ((s = bias_node(m, out, "", bias, N, &bo)) != DD_OK) return s;
    out = bo;
  }
  define(m, out, 2, (int)N);
  return DD_OK;
}

/* Flatten (axis 1) and Reshape to [N, K]: a view; the K order stays NHWC (gemm() permutes its matrix). */
static dd_status flatten_to(im *m, int64_t d0, int64_t d1) {
  int xv = -1, out = -1;
  dd_status s = act_in(m, 0, &xv);
  if (s != DD_OK) return s;
  const val *x = &m->vals[xv];
  if (x->rank != 4 && x->rank != 2) return need_rank(m, x, 4, "only images and matrices are flattened");
  const int ins[1] = {x->node};
  if ((s = new_node(m, "", DD_OP_RESHAPE, ins, 1, &out)) != DD_OK) return s;
  dd_node *r = &m->g.nodes[out];
  r->attr.reshape.rank = 2;
  r->attr.reshape.dims[0] = d0;
  r->attr.reshape.dims[1] = d1;
  r->attr.reshape.zero_copies = 1;
  x = &m->vals[xv];
  int fc = x->rank == 4 ? (x->c > 0 ? x->c : -1) : x->flat_c;
  if (fc < 0) return node_fail(m, DD_ERR_UNSUPPORTED, "the channel count of '%s' is unknown", dd_pb_label_of(x->name).s);
  val *v = define(m, out, 2, x->rank == 2 ? x->c : d1 > 0 ? (int)d1 : -1);
  v->flat_c = fc;
  return DD_OK;
}

static dd_status flatten(im *m) {
  int64_t axis;
  dd_status s = attr_int(m, "axis", 1, &axis);
  if (s != DD_OK) return s;
  if (axis != 1) return node_fail(m, DD_ERR_UNSUPPORTED, "axis %lld; only 1 (keep the batch) is supported", (long long)axis);
  return flatten_to(m, 0, -1);
}

static dd_status reshape(im *m) {
  int64_t shape[MAX_ATTR_VALS];
  int rank = 0;
  dd_status s;
  if (m->opset < 5) {
    attr a;
    int r = get_attr(m, "shape", &a);
    if (r < 0) return m->err->status;
    if (r == 0) return node_fail(m, DD_ERR_PARSE, "the shape attribute is missing");
    rank = a.n_ints;
    memcpy(shape, a.ints, sizeof(int64_t) * (size_t)rank);
  } else {
    tensor *t;
    if ((s = const_in(m, 1, T_INT64, 0, &t)) != DD_OK) return s;
    if (t->count > MAX_ATTR_VALS) return node_fail(m, DD_ERR_UNSUPPORTED, "a shape of %lld dimensions", (long long)t->count);
    rank = (int)t->count;
    memcpy(shape, t->i, sizeof(int64_t) * (size_t)rank);
  }
  int64_t allowzero;
  if ((s = attr_int(m, "allowzero", 0, &allowzero)) != DD_OK) return s;
  if (rank != 2 || allowzero || shape[0] < -1 || shape[1] < -1 || (shape[0] == -1 && shape[1] == -1) ||
      shape[1] == 0 || shape[0] > INT32_MAX || shape[1] > INT32_MAX)
    return node_fail(m, DD_ERR_UNSUPPORTED, "a reshape to rank %d; only flattening to [N, K] is supported", rank);
  return flatten_to(m, shape[0], shape[1]);
}

static dd_status softmax(im *m) {
  int xv = -1;
  dd_status s = act_in(m, 0, &xv);
  if (s != DD_OK) return s;
  int64_t axis;
  if ((s = attr_int(m, "axis", m->opset < 13 ? 1 : -1, &axis)) != DD_OK) return s;
  const val *x = &m->vals[xv];
  int ok = (x->rank == 2 && (axis == 1 || axis == -1)) || (x->rank == 4 && m->opset >= 13 && (axis == 1 || axis == -3));
  if (!ok)
    return node_fail(m, DD_ERR_UNSUPPORTED, "axis %lld of a rank-%d input at opset %lld; a softmax over a matrix's "
                     "last axis (or, at opset 13+, an image's channels) is supported", (long long)axis, x->rank,
                     (long long)m->opset);
  return unary(m, DD_OP_SOFTMAX);
}

static dd_status clip(im *m) {
  float lo = -INFINITY, hi = INFINITY;
  dd_status s;
  if (m->opset < 11) {
    if ((s = attr_float(m, "min", -INFINITY, &lo)) != DD_OK || (s = attr_float(m, "max", INFINITY, &hi)) != DD_OK) return s;
  } else {
    tensor *t;
    for (int k = 1; k <= 2; k++) {
      if ((s = const_in(m, k, T_FLOAT, 1, &t)) != DD_OK) return s;
      if (!t) continue;
      if (t->count != 1) return node_fail(m, DD_ERR_UNSUPPORTED, "Clip bounds must be scalars");
      if (k == 1) lo = t->f[0];
      else hi = t->f[0];
    }
  }
  if (lo != lo || hi != hi) return node_fail(m, DD_ERR_UNSUPPORTED, "a bound is NaN");
  if ((s = unary(m, DD_OP_CLIP)) != DD_OK) return s;
  dd_node *n = &m->g.nodes[m->g.n_nodes - 1];
  n->attr.clip.lo = lo;
  n->attr.clip.hi = hi < lo ? lo : hi; /* ONNX: min > max gives max everywhere... clipped to lo (numpy.clip) */
  return DD_OK;
}

static dd_status constant(im *m) {
  const onode *nd = m->cur;
  val *v = &m->vals[m->io[nd->out0]];
  for (int k = 0; k < nd->n_attr; k++) {
    attr a;
    dd_status s = parse_attr(m, m->attrs[nd->attr0 + k], &a);
    if (s != DD_OK) return s;
    if (dd_pb_bytes_eq(a.name, "value") && a.has_t) {
      int ti = add_tensor(m, a.t);
      if (ti < 0) return oom(m);
      v->tensor = ti;
      v->defined = 1;
      return DD_OK;
    }
    if (dd_pb_bytes_eq(a.name, "value_float") || dd_pb_bytes_eq(a.name, "value_floats") || dd_pb_bytes_eq(a.name, "value_int") ||
        dd_pb_bytes_eq(a.name, "value_ints")) {
      int ti = add_tensor(m, (dd_pb_bytes){NULL, 0});
      if (ti < 0) return oom(m);
      tensor *t = &m->ts[ti];
      int is_float = a.name.p[6] == 'f', many = a.name.n > 10 && a.name.p[a.name.n - 1] == 's';
      int cnt = many ? (is_float ? a.n_floats : a.n_ints) : 1;
      t->parsed = 1;
      t->dtype = is_float ? T_FLOAT : T_INT64;
      t->rank = many ? 1 : 0;
      t->dims[0] = cnt;
      t->count = cnt;
      if (is_float) {
        t->f = (float *)malloc(sizeof(float) * (size_t)(cnt ? cnt : 1));
        if (!t->f) return oom(m);
        for (int j = 0; j < cnt; j++) t->f[j] = many ? a.floats[j] : a.f;
      } else {
        t->i = (int64_t *)malloc(sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
        if (!t->i) return oom(m);
        for (int j = 0; j < cnt; j++) t->i[j] = many ? a.ints[j] : a.i;
      }
      v->tensor = ti;
      v->defined = 1;
      return DD_OK;
    }
  }
  return node_fail(m, DD_ERR_UNSUPPORTED, "no 'value' tensor (sparse_value and string values are not supported)");
}

/* ---- passes ------------------------------------------------------------------------ */
static dd_status convert(im *m, const onode *nd, int index) {
  m->cur = nd;
  dd_pb_label op = dd_pb_label_of(nd->op);
  if (nd->name.n) snprintf(m->where, sizeof m->where, "%s node '%s'", op.s, dd_pb_label_of(nd->name).s);
  else snprintf(m->where, sizeof m->where, "%s node #%d", op.s, index);
  if (nd->domain.n && !dd_pb_bytes_eq(nd->domain, "ai.onnx"))
    return node_fail(m, DD_ERR_UNSUPPORTED, "op domain '%s' is not supported (only the default ONNX domain)",
                     dd_pb_label_of(nd->domain).s);
  if (nd->n_out < 1 || m->io[nd->out0] < 0) return node_fail(m, DD_ERR_GRAPH, "no output");
  val *o = &m->vals[m->io[nd->out0]];
  if (o->defined)
    return node_fail(m, DD_ERR_GRAPH, "output '%s' is already produced elsewhere (ONNX values are assigned once)",
                     dd_pb_label_of(o->name).s);
  for (int k = 0; k < nd->n_in; k++) {
    int v = m->io[nd->in0 + k];
    if (v >= 0 && !m->vals[v].defined)
      return node_fail(m, DD_ERR_GRAPH, "input '%s' is produced by no earlier node, initializer or graph input",
                       dd_pb_label_of(m->vals[v].name).s);
  }
  dd_op ir = dd_op_lookup(DD_OP_FORMAT_ONNX, (const char *)nd->op.p, nd->op.n, NULL);
  const char *s = NULL;
  (void)s;
  if (dd_pb_bytes_eq(nd->op, "Relu")) return unary(m, DD_OP_RELU);
  if (ir == DD_OP_COUNT) {
    if (nd->name.n)
      return dd_fail(m->err, DD_ERR_UNSUPPORTED, "unsupported op '%s' at node '%s'", op.s, dd_pb_label_of(nd->name).s);
    return dd_fail(m->err, DD_ERR_UNSUPPORTED, "unsupported op '%s' at node #%d (output '%s')", op.s, index,
                   dd_pb_label_of(o->name).s);
  }
  if (dd_pb_bytes_eq(nd->op, "Conv")) return conv(m);
  if (dd_pb_bytes_eq(nd->op, "BatchNormalization")) return batch_norm(m);
  if (dd_pb_bytes_eq(nd->op, "LeakyRelu")) return leaky_relu(m);
  if (dd_pb_bytes_eq(nd->op, "Identity")) return unary(m, DD_OP_IDENTITY);
  if (dd_pb_bytes_eq(nd->op, "Dropout")) return dropout(m);
  if (dd_pb_bytes_eq(nd->op, "MaxPool")) return pool(m, DD_OP_MAX_POOL);
  if (dd_pb_bytes_eq(nd->op, "AveragePool")) return pool(m, DD_OP_AVG_POOL);
  if (dd_pb_bytes_eq(nd->op, "GlobalAveragePool")) return global_pool(m);
  if (dd_pb_bytes_eq(nd->op, "LRN")) return lrn(m);
  if (dd_pb_bytes_eq(nd->op, "Concat")) return concat(m);
  if (dd_pb_bytes_eq(nd->op, "Add") || dd_pb_bytes_eq(nd->op, "Sub") || dd_pb_bytes_eq(nd->op, "Mul") || dd_pb_bytes_eq(nd->op, "Div")) return binary(m);
  if (dd_pb_bytes_eq(nd->op, "Gemm")) return gemm(m, 1);
  if (dd_pb_bytes_eq(nd->op, "MatMul")) return gemm(m, 0);
  if (dd_pb_bytes_eq(nd->op, "Flatten")) return flatten(m);
  if (dd_pb_bytes_eq(nd->op, "Reshape")) return reshape(m);
  if (dd_pb_bytes_eq(nd->op, "Softmax")) return softmax(m);
  if (dd_pb_bytes_eq(nd->op, "Clip")) return clip(m);
  if (dd_pb_bytes_eq(nd->op, "Constant")) return constant(m);
  return node_fail(m, DD_ERR_UNSUPPORTED, "not converted"); /* an ops.def ONNX name without a case here */
}

/* Records node nf's strings, registering its value names. */
static dd_status read_node(im *m, const dd_pb_reader *gr, const dd_pb_field *nf) {
  if (nf->wire != DD_PB_LEN) return wire_error(m, "graph node", nf, "a message");
  if (!grow((void **)&m->nodes, &m->cap_nodes, m->n_nodes + 1, sizeof(onode))) return oom(m);
  onode *nd = &m->nodes[m->n_nodes];
  memset(nd, 0, sizeof *nd);
  dd_pb_reader r;
  dd_pb_field f;
  dd_status s = dd_pb_enter(gr, nf, &r, m->err);
  if (s != DD_OK) return s;
  /* two passes over the node: inputs first, then outputs, so each list is contiguous in io */
  for (int pass = 1; pass <= 2; pass++) {
    dd_pb_reader rr = r;
    if (pass == 1) nd->in0 = m->n_io;
    else nd->out0 = m->n_io;
    while ((s = dd_pb_next(&rr, &f, m->err)) == DD_OK) {
      if (f.number == (uint32_t)pass) {
        if (f.wire != DD_PB_LEN) return wire_error(m, pass == 1 ? "node input" : "node output", &f, "a string");
        if (!grow((void **)&m->io, &m->cap_io, m->n_io + 1, sizeof(int))) return oom(m);
        int v = -1;
        if (f.len > 0 && (v = intern(m, (dd_pb_bytes){f.data, f.len})) < 0) return oom(m);
        if (v >= 0 && pass == 1) m->vals[v].uses++;
        m->io[m->n_io++] = v;
        if (pass == 1) nd->n_in++;
        else nd->n_out++;
      } else if (pass == 1) {
        switch (f.number) {
          case 3: if (f.wire == DD_PB_LEN) nd->name.p = f.data, nd->name.n = f.len; break;
          case 4: if (f.wire == DD_PB_LEN) nd->op.p = f.data, nd->op.n = f.len; break;
          case 7: if (f.wire == DD_PB_LEN) nd->domain.p = f.data, nd->domain.n = f.len; break;
          case 5:
            if (f.wire != DD_PB_LEN) return wire_error(m, "node attribute", &f, "a message");
            if (!grow((void **)&m->attrs, &m->cap_attrs, m->n_attrs + 1, sizeof(dd_pb_bytes))) return oom(m);
            if (nd->n_attr == 0) nd->attr0 = m->n_attrs;
            if (nd->attr0 + nd->n_attr != m->n_attrs) return dd_fail(m->err, DD_ERR_PARSE, "ONNX: internal attribute order");
            m->attrs[m->n_attrs].p = f.data, m->attrs[m->n_attrs++].n = f.len;
            nd->n_attr++;
            break;
          default: break;
        }
      }
    }
    if (s != DD_DONE) return s;
  }
  if (nd->op.n == 0) return dd_fail(m->err, DD_ERR_PARSE, "ONNX node #%d has no op_type", m->n_nodes);
  m->n_nodes++;
  return DD_OK;
}

/* A ValueInfoProto: name, and for the image input its element type and shape. */
static dd_status read_value_info(im *m, const dd_pb_reader *gr, const dd_pb_field *vf, dd_pb_bytes *name, int *elem,
                                 int *rank, int64_t *dim1) {
  dd_pb_reader r, tr, tt, sr, dr;
  dd_pb_field f, g, h, i, j;
  dd_status s = dd_pb_enter(gr, vf, &r, m->err);
  *elem = 0, *rank = -1, *dim1 = -1;
  name->p = NULL, name->n = 0;
  if (s != DD_OK) return s;
  while ((s = dd_pb_next(&r, &f, m->err)) == DD_OK) {
    if (f.number == 1 && f.wire == DD_PB_LEN) name->p = f.data, name->n = f.len;
    if (f.number != 2 || f.wire != DD_PB_LEN) continue;
    if ((s = dd_pb_enter(&r, &f, &tr, m->err)) != DD_OK) return s;
    while ((s = dd_pb_next(&tr, &g, m->err)) == DD_OK) {
      if (g.number != 1 || g.wire != DD_PB_LEN) continue; /* tensor_type */
      if ((s = dd_pb_enter(&tr, &g, &tt, m->err)) != DD_OK) return s;
      while ((s = dd_pb_next(&tt, &h, m->err)) == DD_OK) {
        if (h.number == 1 && h.wire == DD_PB_VARINT) *elem = (int)h.u64;
        if (h.number != 2 || h.wire != DD_PB_LEN) continue; /* shape */
        if ((s = dd_pb_enter(&tt, &h, &sr, m->err)) != DD_OK) return s;
        *rank = 0;
        while ((s = dd_pb_next(&sr, &i, m->err)) == DD_OK) {
          if (i.number != 1 || i.wire != DD_PB_LEN) continue;
          if ((s = dd_pb_enter(&sr, &i, &dr, m->err)) != DD_OK) return s;
          int64_t value = -1;
          while ((s = dd_pb_next(&dr, &j, m->err)) == DD_OK)
            if (j.number == 1 && j.wire == DD_PB_VARINT) value = as_i64(&j);
          if (s != DD_DONE) return s;
          if (*rank == 1) *dim1 = value;
          if (*rank < 64) (*rank)++;
        }
        if (s != DD_DONE) return s;
      }
      if (s != DD_DONE) return s;
    }
    if (s != DD_DONE) return s;
  }
  return s == DD_DONE ? DD_OK : s;
}

static dd_status import_graph(im *m, const dd_pb_reader *mr, const dd_pb_field *gf, const dd_onnx_binding *bind,
                              int n_bind) {
  dd_pb_reader gr;
  dd_pb_field f;
  dd_status s = dd_pb_enter(mr, gf, &gr, m->err);
  if (s != DD_OK) return s;
  /* pass 1: nodes (their value names and uses), initializers, outputs */
  dd_pb_reader r = gr;
  while ((s = dd_pb_next(&r, &f, m->err)) == DD_OK) {
    if (f.number == 1) {
      if ((s = read_node(m, &r, &f)) != DD_OK) return s;
    } else if (f.number == 5 || f.number == 15) {
      if (f.wire != DD_PB_LEN) return wire_error(m, "graph initializer", &f, "a tensor");
      if (f.number == 15) return dd_fail(m->err, DD_ERR_UNSUPPORTED, "ONNX sparse initializers are not supported");
      /* the name: field 8 of the TensorProto */
      dd_pb_reader tr;
      dd_pb_field tf;
      dd_pb_bytes nm = {NULL, 0};
      if ((s = dd_pb_enter(&r, &f, &tr, m->err)) != DD_OK) return s;
      while ((s = dd_pb_next(&tr, &tf, m->err)) == DD_OK)
        if (tf.number == 8 && tf.wire == DD_PB_LEN) nm.p = tf.data, nm.n = tf.len;
      if (s != DD_DONE) return s;
      if (nm.n == 0) return dd_fail(m->err, DD_ERR_PARSE, "ONNX initializer at byte %zu has no name", f.offset);
      int v = intern(m, nm), ti = add_tensor(m, (dd_pb_bytes){f.data, f.len});
      if (v < 0 || ti < 0) return oom(m);
      if (m->vals[v].defined)
        return dd_fail(m->err, DD_ERR_GRAPH, "ONNX initializer '%s' is given twice", dd_pb_label_of(nm).s);
      m->vals[v].tensor = ti;
      m->vals[v].defined = 1;
    } else if (f.number == 12 && f.wire == DD_PB_LEN) {
      dd_pb_bytes nm;
      int elem, rank;
      int64_t d1;
      if ((s = read_value_info(m, &r, &f, &nm, &elem, &rank, &d1)) != DD_OK) return s;
      if (nm.n) {
        int v = intern(m, nm);
        if (v < 0) return oom(m);
        m->vals[v].uses++;
      }
    }
  }
  if (s != DD_DONE) return s;
  for (int k = 0; k < n_bind; k++) {
    dd_pb_bytes nm = {(const uint8_t *)bind[k].name, strlen(bind[k].name)};
    int v = intern(m, nm), ti = add_tensor(m, (dd_pb_bytes){bind[k].tensor, bind[k].len});
    if (v < 0 || ti < 0) return oom(m);
    m->vals[v].tensor = ti;
    m->vals[v].defined = 1;
  }
  /* pass 2: the image input: a graph input that is not an initializer */
  int placeholder = -1;
  r = gr;
  while ((s = dd_pb_next(&r, &f, m->err)) == DD_OK) {
    if (f.number != 11 || f.wire != DD_PB_LEN) continue;
    dd_pb_bytes nm;
    int elem, rank;
    int64_t d1;
    if ((s = read_value_info(m, &r, &f, &nm, &elem, &rank, &d1)) != DD_OK) return s;
    int v = intern(m, nm);
    if (v < 0) return oom(m);
    if (m->vals[v].defined) continue; /* an initializer listed as an input (IR < 4) or bound */
    char tb[24];
    if (placeholder >= 0)
      return dd_fail(m->err, DD_ERR_UNSUPPORTED, "the ONNX graph has more than one input ('%s' and '%s'); exactly "
                     "one image input is supported", dd_pb_label_of(m->vals[placeholder].name).s, dd_pb_label_of(nm).s);
    if (elem != T_FLOAT)
      return dd_fail(m->err, DD_ERR_UNSUPPORTED, "the ONNX graph input '%s' has element type %s; a FLOAT image is "
                     "needed", dd_pb_label_of(nm).s, dd_onnx_dtype_name(elem, tb, sizeof tb));
    if (rank != 4 && rank != 2 && rank != -1)
      return dd_fail(m->err, DD_ERR_UNSUPPORTED, "the ONNX graph input '%s' has rank %d; an NCHW image (rank 4) is "
                     "needed (or a matrix [N, K], fed as N x 1 x 1 x K)", dd_pb_label_of(nm).s, rank);
    if (d1 > INT32_MAX) return dd_fail(m->err, DD_ERR_UNSUPPORTED, "the ONNX graph input '%s' has %lld channels", dd_pb_label_of(nm).s, (long long)d1);
    int node = dd_graph_add_node(&m->g, (const char *)nm.p, nm.n, DD_OP_PLACEHOLDER);
    if (node < 0) return oom(m);
    val *x = &m->vals[v];
    x->node = node, x->rank = rank == 2 ? 2 : 4, x->c = d1 > 0 ? (int)d1 : -1, x->defined = 1;
    placeholder = v;
  }
  if (s != DD_DONE) return s;
  if (placeholder < 0) return dd_fail(m->err, DD_ERR_GRAPH, "the ONNX graph has no image input (every graph input is an initializer)");
  /* pass 3: convert, in file order */
  for (int k = 0; k < m->n_nodes; k++)
    if ((s = convert(m, &m->nodes[k], k)) != DD_OK) return s;
  return DD_OK;
}

static void im_free(im *m) {
  for (int k = 0; k < m->n_ts; k++) free(m->ts[k].f), free(m->ts[k].i);
  free(m->ts);
  free(m->vals);
  free(m->hash);
  free(m->nodes);
  free(m->io);
  free(m->attrs);
}

dd_status dd_onnx_import_bound(const uint8_t *bytes, size_t len, const dd_onnx_binding *bind, int n_bind,
                               dd_graph *out, dd_error *err) {
  if (!bytes || !out || n_bind < 0 || (n_bind > 0 && !bind))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_onnx_import: NULL argument");
  im m;
  memset(&m, 0, sizeof m);
  m.base = bytes;
  m.len = len;
  m.err = err;
  m.opset = -1;
  dd_graph_init(&m.g);
  dd_pb_reader r;
  dd_pb_field f, graph = {0};
  int have_graph = 0;
  int64_t ir_version = 0;
  dd_pb_reader_init(&r, bytes, len);
  dd_status s;
  while ((s = dd_pb_next(&r, &f, err)) == DD_OK) {
    if (f.number == 1 && f.wire == DD_PB_VARINT) ir_version = as_i64(&f);
    else if (f.number == 7) {
      if (f.wire != DD_PB_LEN) {
        s = wire_error(&m, "model graph", &f, "a message");
        break;
      }
      graph = f, have_graph = 1;
    } else if (f.number == 8 && f.wire == DD_PB_LEN) { /* opset_import */
      dd_pb_reader orr;
      dd_pb_field of;
      if ((s = dd_pb_enter(&r, &f, &orr, err)) != DD_OK) break;
      dd_pb_bytes domain = {NULL, 0};
      int64_t version = -1;
      while ((s = dd_pb_next(&orr, &of, err)) == DD_OK)
        if (of.number == 1 && of.wire == DD_PB_LEN) domain.p = of.data, domain.n = of.len;
        else if (of.number == 2 && of.wire == DD_PB_VARINT) version = as_i64(&of);
      if (s != DD_DONE) break;
      s = DD_OK;
      if (domain.n == 0 || dd_pb_bytes_eq(domain, "ai.onnx")) m.opset = version;
    }
  }
  if (s == DD_DONE) {
    s = DD_OK;
    if (!have_graph) s = dd_fail(err, DD_ERR_PARSE, "the ONNX model has no graph (ir_version %lld)", (long long)ir_version);
    else if (m.opset < 1 || m.opset > 1000)
      s = dd_fail(err, DD_ERR_UNSUPPORTED, "the ONNX model imports no usable opset of the default domain (%lld)",
                  (long long)m.opset);
  }
  if (s == DD_OK) s = import_graph(&m, &r, &graph, bind, n_bind);
  /* the file's weights were checked as read; what folding and scaling made of them must be finite too */
  for (int i = 0; s == DD_OK && i < m.g.n_nodes; i++) {
    const dd_node *n = &m.g.nodes[i];
    if (n->op != DD_OP_CONST || n->attr.value.dtype != DD_DTYPE_FLOAT) continue;
    size_t bad = first_non_finite(n->attr.value.f, (size_t)n->attr.value.count);
    if (bad < (size_t)n->attr.value.count)
      s = dd_fail(err, DD_ERR_UNSUPPORTED, "weights '%s': value %zu overflows to %g when the ONNX layout is converted "
                  "(a BatchNormalization folded into its conv, a Gemm's alpha or beta, a divisor's reciprocal)",
                  n->name, bad, (double)n->attr.value.f[bad]);
  }
  if (s == DD_OK) s = dd_graph_validate(&m.g, err);
  im_free(&m);
  if (s != DD_OK) {
    dd_graph_free(&m.g);
    return s;
  }
  *out = m.g;
  return DD_OK;
}

dd_status dd_onnx_import(const uint8_t *bytes, size_t len, dd_graph *out, dd_error *err) {
  return dd_onnx_import_bound(bytes, len, NULL, 0, out, err);
}
