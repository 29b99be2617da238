/* graphdef.c — TensorFlow GraphDef -> dd_graph. Contracts: see graphdef.h.
 *
 * Field numbers (tensorflow/core/framework/ *.proto files):
 *   GraphDef      node=1 library=2 version=3 versions=4
 *   NodeDef       name=1 op=2 input=3 device=4 attr=5 (map<string, AttrValue>)
 *   AttrValue     list=1 s=2 i=3 f=4 b=5 type=6 shape=7 tensor=8 placeholder=9 func=10
 *   ListValue     s=2 i=3 f=4 b=5 type=6 shape=7 tensor=8 func=9
 *   TensorProto   dtype=1 tensor_shape=2 version_number=3 tensor_content=4
 *                 float_val=5 double_val=6 int_val=7 ...
 *   TensorShapeProto dim=2 {size=1 name=2} unknown_rank=3
 */
#include "graphdef.h"

#include <stdio.h>
#include <stdlib.h>

#include "protobuf.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define DD_HOST_LITTLE_ENDIAN 0
#else
#define DD_HOST_LITTLE_ENDIAN 1
#endif

enum { DT_INVALID = 0, DT_FLOAT = 1, DT_INT32 = 3, DT_INT64 = 9 };

const char *dd_graphdef_dtype_name(int dtype, char *buf, size_t cap) {
  static const char *const names[] = {
      "DT_INVALID", "DT_FLOAT",     "DT_DOUBLE", "DT_INT32",     "DT_UINT8",    "DT_INT16",
      "DT_INT8",    "DT_STRING",    "DT_COMPLEX64", "DT_INT64",  "DT_BOOL",     "DT_QINT8",
      "DT_QUINT8",  "DT_QINT32",    "DT_BFLOAT16",  "DT_QINT16", "DT_QUINT16",  "DT_UINT16",
      "DT_COMPLEX128", "DT_HALF",   "DT_RESOURCE",  "DT_VARIANT", "DT_UINT32",  "DT_UINT64"};
  if (dtype >= 0 && dtype < (int)(sizeof names / sizeof names[0])) return names[dtype];
  snprintf(buf, cap, "DT_%d", dtype);
  return buf;
}

/* ---- small helpers ---------------------------------------------------------- */
static dd_pb_label lab_str(const char *s) {
  dd_pb_bytes x = {(const uint8_t *)s, strlen(s)};
  return dd_pb_label_of(x);
}

typedef struct dims_text {
  char s[112];
} dims_text;

static dims_text fmt_dims(const int64_t *dims, int rank) {
  dims_text t;
  size_t n = 0;
  t.s[n++] = '[';
  for (int d = 0; d < rank && n < sizeof t.s - 24; d++)
    n += (size_t)snprintf(t.s + n, sizeof t.s - n, d ? ",%lld" : "%lld", (long long)dims[d]);
  t.s[n++] = ']';
  t.s[n] = '\0';
  return t;
}

/* Grows *arr (element size `elem`) to hold at least `need` elements. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap : 16;
  while (c < need) {
    if (c > SIZE_MAX / 2 / elem) return 0;
    c *= 2;
  }
  void *p = realloc(*arr, c * elem);
  if (!p) return 0;
  *arr = p;
  *cap = c;
  return 1;
}

/* ---- importer state ------------------------------------------------------------ */
typedef struct attr_entry {
  dd_pb_bytes key;
  dd_pb_bytes value; /* AttrValue payload */
  int has_value;
} attr_entry;

typedef struct pending_inputs {
  size_t first;   /* into importer.in_names */
  int count;
  int64_t n_attr; /* Concat/ConcatV2 attr N, -1 when absent */
} pending_inputs;

/* The TensorFlow names of graph ops come from ops.def (dd_op_lookup). Where
   one op has several, the variant is the name's position in its TF list: */
enum { TF_CONCAT = 0, TF_CONCAT_V2 = 1 }; /* "Concat" (axis first), "ConcatV2" (axis last) */
/* NoOp has no graph op: it is only ever a control input, and is skipped. */
#define TF_NOOP "NoOp"

typedef struct importer {
  const uint8_t *bytes;
  size_t len;
  int borrow;
  dd_error *err;
  dd_graph g;
  /* per graph node (dense, NoOps skipped): where its data input names are */
  pending_inputs *pend;
  size_t cap_pend;
  unsigned char *variant; /* per graph node: its TF name variant (TF_CONCAT, ...) */
  size_t cap_variant;
  dd_pb_bytes *in_names;
  size_t n_in_names, cap_in_names;
  /* per NodeDef scratch */
  attr_entry *attrs;
  size_t n_attrs, cap_attrs;
  size_t expanded_bytes; /* Const bytes not backed by tensor_content */
  /* the NodeDef being read, for messages */
  dd_pb_bytes name, opname;
  size_t node_number;
} importer;

static dd_status oom(importer *im, const char *what) {
  return dd_fail(im->err, DD_ERR_OUT_OF_MEMORY, "GraphDef import: out of memory (%s) at node '%s'",
                 what, dd_pb_label_of(im->name).s);
}

/* "node 'x' (#3)", or "node #3" while the name is not known yet. */
typedef struct node_ref {
  char s[128];
} node_ref;

static node_ref ref(const importer *im) {
  node_ref r;
  if (im->name.n)
    snprintf(r.s, sizeof r.s, "node '%s' (#%zu)", dd_pb_label_of(im->name).s, im->node_number);
  else
    snprintf(r.s, sizeof r.s, "node #%zu", im->node_number);
  return r;
}

/* Wrong wire type for a field we know. */
static dd_status bad_wire(importer *im, const char *field, const dd_pb_field *f, const char *want) {
  return dd_fail(im->err, DD_ERR_PARSE, "%s: %s (field %u at byte %zu) is %s, expected %s",
                 ref(im).s, field, f->number, f->offset, dd_pb_wire_name(f->wire), want);
}

/* Prefixes a low-level protobuf error with the node being read. */
static dd_status in_node(importer *im, dd_status s) {
  if (s != DD_ERR_PARSE || !im->err || strncmp(im->err->message, "protobuf:", 9) != 0) return s;
  char msg[DD_ERROR_MESSAGE_SIZE];
  memcpy(msg, im->err->message, sizeof msg);
  msg[sizeof msg - 1] = '\0';
  return dd_fail(im->err, s, "%s: %s", ref(im).s, msg);
}

/* ---- AttrValue ---------------------------------------------------------------- */
enum {
  HAS_LIST = 1 << 1, HAS_S = 1 << 2, HAS_I = 1 << 3, HAS_F = 1 << 4, HAS_B = 1 << 5,
  HAS_TYPE = 1 << 6, HAS_SHAPE = 1 << 7, HAS_TENSOR = 1 << 8
};

typedef struct attr_value {
  unsigned has;
  dd_pb_bytes s, tensor, shape;
  int64_t i;
  float f;
  int b;
  int type;
} attr_value;

static dd_status open_attr(importer *im, const attr_entry *a, int depth, dd_pb_reader *r) {
  dd_pb_reader_init(r, a->value.p, a->value.n);
  r->base = im->bytes;
  r->depth = depth;
  return DD_OK;
}

/* Depth of an AttrValue: GraphDef(0) > NodeDef(1) > map entry(2) > AttrValue(3). */
#define ATTR_DEPTH 3

static dd_status parse_attr(importer *im, const attr_entry *a, attr_value *v) {
  memset(v, 0, sizeof *v);
  if (!a->has_value) return DD_OK;
  dd_pb_reader r;
  open_attr(im, a, ATTR_DEPTH, &r);
  dd_pb_field f;
  dd_status s;
  char what[128];
  while ((s = dd_pb_next(&r, &f, im->err)) == DD_OK) {
    int want = -1;
    switch (f.number) {
      case 1: case 2: case 7: case 8: case 9: case 10: want = DD_PB_LEN; break;
      case 3: case 5: case 6: want = DD_PB_VARINT; break;
      case 4: want = DD_PB_FIXED32; break;
      default: continue;
    }
    if ((int)f.wire != want) {
      snprintf(what, sizeof what, "attr '%s' AttrValue field %u", dd_pb_label_of(a->key).s, f.number);
      return bad_wire(im, what, &f, dd_pb_wire_name(want));
    }
    switch (f.number) {
      case 1: v->has |= HAS_LIST; break;
      case 2: v->has |= HAS_S; v->s.p = f.data; v->s.n = f.len; break;
      case 3: v->has |= HAS_I; v->i = (int64_t)f.u64; break;
      case 4: v->has |= HAS_F; v->f = dd_pb_bits_to_float((uint32_t)f.u64); break;
      case 5: v->has |= HAS_B; v->b = f.u64 != 0; break;
      case 6: v->has |= HAS_TYPE; v->type = (int)(uint32_t)f.u64; break;
      case 7: v->has |= HAS_SHAPE; v->shape.p = f.data; v->shape.n = f.len; break;
      case 8: v->has |= HAS_TENSOR; v->tensor.p = f.data; v->tensor.n = f.len; break;
      default: break;
    }
  }
  return s == DD_DONE ? DD_OK : s;
}

static const attr_entry *find_attr(const importer *im, const char *key) {
  for (size_t k = im->n_attrs; k-- > 0;) /* map semantics: the last entry wins */
    if (dd_pb_bytes_eq(im->attrs[k].key, key)) return &im->attrs[k];
  return NULL;
}

/* Looks up `key` and parses it. *found = 0 when absent. */
static dd_status get_attr(importer *im, const char *key, attr_value *v, int *found) {
  const attr_entry *a = find_attr(im, key);
  *found = a != NULL;
  if (!a) {
    memset(v, 0, sizeof *v);
    return DD_OK;
  }
  return parse_attr(im, a, v);
}

static dd_status attr_kind_error(importer *im, const char *key, const char *kind) {
  return dd_fail(im->err, DD_ERR_PARSE, "%s node '%s': attr '%s' is not %s", dd_pb_label_of(im->opname).s,
                 dd_pb_label_of(im->name).s, key, kind);
}

static dd_status missing_attr(importer *im, const char *key) {
  return dd_fail(im->err, DD_ERR_PARSE, "%s node '%s' has no '%s' attr", dd_pb_label_of(im->opname).s,
                 dd_pb_label_of(im->name).s, key);
}

/* Reads list(i) of attr `key` into vals (at most `max`); *n = count, or -1 when absent. */
static dd_status get_int_list(importer *im, const char *key, int64_t *vals, int max, int *n) {
  const attr_entry *a = find_attr(im, key);
  *n = -1;
  if (!a) return DD_OK;
  attr_value v;
  dd_status s = parse_attr(im, a, &v);
  if (s != DD_OK) return s;
  if (!(v.has & HAS_LIST)) return attr_kind_error(im, key, "a list");
  int count = 0;
  dd_pb_reader r, lr;
  dd_pb_field f, g;
  open_attr(im, a, ATTR_DEPTH, &r);
  while ((s = dd_pb_next(&r, &f, im->err)) == DD_OK) {
    if (f.number != 1) continue; /* repeated occurrences of list merge */
    if ((s = dd_pb_enter(&r, &f, &lr, im->err)) != DD_OK) return s;
    while ((s = dd_pb_next(&lr, &g, im->err)) == DD_OK) {
      if (g.number != 3) continue;
      if (g.wire == DD_PB_VARINT) {
        if (count < max) vals[count] = (int64_t)g.u64;
        count++;
      } else if (g.wire == DD_PB_LEN) { /* packed */
        const uint8_t *p = g.data, *end = g.data + g.len;
        while (p < end) {
          uint64_t x;
          if (!dd_pb_read_varint(&p, end, &x))
            return dd_fail(im->err, DD_ERR_PARSE, "%s node '%s': attr '%s' has a malformed packed "
                           "int list at byte %zu", dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, key, g.offset);
          if (count < max) vals[count] = (int64_t)x;
          count++;
        }
      } else {
        char what[128];
        snprintf(what, sizeof what, "attr '%s' ListValue.i", key);
        return bad_wire(im, what, &g, "varint or packed");
      }
      if (count > max) break;
    }
    if (s != DD_DONE && s != DD_OK) return s;
    if (count > max) break;
  }
  if (s != DD_DONE && s != DD_OK) return s;
  if (count > max)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': attr '%s' has more than %d values",
                   dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, key, max);
  *n = count;
  return DD_OK;
}

/* `T`, `dtype` style attrs: when present, must equal `want`. */
static dd_status check_type_attr(importer *im, const char *key, int want) {
  attr_value v;
  int found;
  dd_status s = get_attr(im, key, &v, &found);
  if (s != DD_OK || !found) return s;
  if (!(v.has & HAS_TYPE)) return attr_kind_error(im, key, "a type");
  if (v.type != want) {
    char b1[24], b2[24];
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': attr %s = %s; only %s is supported",
                   dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, key,
                   dd_graphdef_dtype_name(v.type, b1, sizeof b1),
                   dd_graphdef_dtype_name(want, b2, sizeof b2));
  }
  return DD_OK;
}

static dd_status check_nhwc(importer *im) {
  attr_value v;
  int found;
  dd_status s = get_attr(im, "data_format", &v, &found);
  if (s != DD_OK || !found) return s;
  if (!(v.has & HAS_S)) return attr_kind_error(im, "data_format", "a string");
  if (!dd_pb_bytes_eq(v.s, "NHWC"))
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': data_format '%s' is not supported "
                   "(only NHWC)", dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, dd_pb_label_of(v.s).s);
  return DD_OK;
}

static dd_status get_padding(importer *im, dd_padding *out) {
  attr_value v;
  int found;
  dd_status s = get_attr(im, "padding", &v, &found);
  if (s != DD_OK) return s;
  if (!found) return missing_attr(im, "padding");
  if (!(v.has & HAS_S)) return attr_kind_error(im, "padding", "a string");
  if (dd_pb_bytes_eq(v.s, "SAME")) *out = DD_PADDING_SAME;
  else if (dd_pb_bytes_eq(v.s, "VALID")) *out = DD_PADDING_VALID;
  else
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': padding '%s' is not supported "
                   "(SAME or VALID)", dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, dd_pb_label_of(v.s).s);
  return DD_OK;
}

/* A 4-element NHWC window attr [1, h, w, 1] (strides, ksize, dilations). */
static dd_status get_nhwc4(importer *im, const char *key, int required, int def, int *h, int *w) {
  int64_t v[4];
  int n;
  dd_status s = get_int_list(im, key, v, 4, &n);
  if (s != DD_OK) return s;
  if (n < 0) {
    if (required) return missing_attr(im, key);
    *h = *w = def;
    return DD_OK;
  }
  if (n != 4)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': attr '%s' has %d values, expected 4",
                   dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, key, n);
  if (v[0] != 1 || v[3] != 1)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': attr '%s' = %s; only [1,h,w,1] is "
                   "supported (no batch or channel window)", dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s,
                   key, fmt_dims(v, 4).s);
  if (v[1] < 1 || v[2] < 1 || v[1] > (1 << 20) || v[2] > (1 << 20))
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': attr '%s' = %s is out of range "
                   "[1, 2^20]", dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, key, fmt_dims(v, 4).s);
  *h = (int)v[1];
  *w = (int)v[2];
  return DD_OK;
}

/* ---- TensorProto ---------------------------------------------------------------- */
#define TENSOR_DEPTH (ATTR_DEPTH + 1)

typedef struct tensor_info {
  int dtype;
  int rank;
  int64_t dims[DD_MAX_RANK];
  int64_t count;
  int has_content;
  dd_pb_bytes content;
  size_t n_float, n_int; /* number of float_val / int_val values */
} tensor_info;

static dd_status parse_shape(importer *im, const dd_pb_reader *parent, const dd_pb_field *sf,
                             tensor_info *t) {
  dd_pb_reader r, dr;
  dd_pb_field f, g;
  dd_status s = dd_pb_enter(parent, sf, &r, im->err);
  if (s != DD_OK) return s;
  while ((s = dd_pb_next(&r, &f, im->err)) == DD_OK) {
    if (f.number == 3) {
      if (f.wire != DD_PB_VARINT) return bad_wire(im, "TensorShapeProto.unknown_rank", &f, "varint");
      if (f.u64)
        return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s': tensor shape has unknown rank",
                       dd_pb_label_of(im->name).s);
    } else if (f.number == 2) {
      if (f.wire != DD_PB_LEN) return bad_wire(im, "TensorShapeProto.dim", &f, "length-delimited");
      if (t->rank >= DD_MAX_RANK)
        return dd_fail(im->err, DD_ERR_UNSUPPORTED, "Const node '%s': tensor rank above %d is not "
                       "supported", dd_pb_label_of(im->name).s, DD_MAX_RANK);
      if ((s = dd_pb_enter(&r, &f, &dr, im->err)) != DD_OK) return s;
      int64_t size = 0;
      while ((s = dd_pb_next(&dr, &g, im->err)) == DD_OK) {
        if (g.number != 1) continue;
        if (g.wire != DD_PB_VARINT) return bad_wire(im, "TensorShapeProto.Dim.size", &g, "varint");
        size = (int64_t)g.u64;
      }
      if (s != DD_DONE) return s;
      if (size < 0)
        return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s': dimension %d is %lld (must be >= 0)",
                       dd_pb_label_of(im->name).s, t->rank, (long long)size);
      t->dims[t->rank++] = size;
    }
  }
  return s == DD_DONE ? DD_OK : s;
}

/* Pass 1 over a TensorProto: dtype, shape, content and value counts. */
static dd_status scan_tensor(importer *im, dd_pb_bytes tp, tensor_info *t) {
  memset(t, 0, sizeof *t);
  dd_pb_reader r;
  dd_pb_reader_init(&r, tp.p, tp.n);
  r.base = im->bytes;
  r.depth = TENSOR_DEPTH;
  dd_pb_field f;
  dd_status s;
  int have_shape = 0;
  while ((s = dd_pb_next(&r, &f, im->err)) == DD_OK) {
    switch (f.number) {
      case 1:
        if (f.wire != DD_PB_VARINT) return bad_wire(im, "TensorProto.dtype", &f, "varint");
        t->dtype = (int)(uint32_t)f.u64;
        break;
      case 2:
        if (f.wire != DD_PB_LEN) return bad_wire(im, "TensorProto.tensor_shape", &f, "length-delimited");
        t->rank = 0; /* a repeated message field merges; keep the last shape */
        if (have_shape) {
          memset(t->dims, 0, sizeof t->dims);
        }
        have_shape = 1;
        if ((s = parse_shape(im, &r, &f, t)) != DD_OK) return s;
        break;
      case 4:
        if (f.wire != DD_PB_LEN) return bad_wire(im, "TensorProto.tensor_content", &f, "length-delimited");
        t->has_content = 1;
        t->content.p = f.data;
        t->content.n = f.len;
        break;
      case 5:
        if (f.wire == DD_PB_FIXED32) t->n_float++;
        else if (f.wire == DD_PB_LEN) {
          if (f.len % 4)
            return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s': packed float_val has %zu bytes, "
                           "not a multiple of 4", dd_pb_label_of(im->name).s, f.len);
          t->n_float += f.len / 4;
        } else
          return bad_wire(im, "TensorProto.float_val", &f, "fixed32 or packed");
        break;
      case 7:
        if (f.wire == DD_PB_VARINT) t->n_int++;
        else if (f.wire == DD_PB_LEN) {
          size_t c;
          if ((s = dd_pb_packed_varint_count(f.data, f.len, &c, im->err)) != DD_OK) return s;
          t->n_int += c;
        } else
          return bad_wire(im, "TensorProto.int_val", &f, "varint or packed");
        break;
      default: break;
    }
  }
  if (s != DD_DONE) return s;
  int64_t count = 1;
  for (int d = 0; d < t->rank; d++) {
    /* count * 4 must fit in int64 and in size_t */
    int64_t lim = INT64_MAX / 4;
    if ((uint64_t)lim > SIZE_MAX / 4) lim = (int64_t)(SIZE_MAX / 4);
    if (t->dims[d] != 0 && count > lim / t->dims[d])
      return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s': shape %s has too many elements "
                     "(overflow)", dd_pb_label_of(im->name).s, fmt_dims(t->dims, t->rank).s);
    count *= t->dims[d];
  }
  t->count = count;
  return DD_OK;
}

/* Pass 2: writes float_val (is_float) or int_val values into dst (count elements,
   4 bytes each); the last value repeats, as in TensorFlow. */
static dd_status fill_values(importer *im, dd_pb_bytes tp, int is_float, uint8_t *dst, size_t count) {
  dd_pb_reader r;
  dd_pb_reader_init(&r, tp.p, tp.n);
  r.base = im->bytes;
  r.depth = TENSOR_DEPTH;
  dd_pb_field f;
  dd_status s;
  size_t k = 0;
  uint32_t last = 0;
  uint32_t want_field = is_float ? 5 : 7;
  while ((s = dd_pb_next(&r, &f, im->err)) == DD_OK) {
    if (f.number != want_field) continue;
    if (f.wire == DD_PB_FIXED32 || f.wire == DD_PB_VARINT) {
      last = (uint32_t)f.u64; /* int32 from varint: the low 32 bits */
      if (k < count) memcpy(dst + 4 * k++, &last, 4);
    } else if (is_float) { /* packed fixed32; length checked in pass 1 */
      for (size_t o = 0; o + 4 <= f.len; o += 4) {
        last = dd_pb_le32(f.data + o);
        if (k < count) memcpy(dst + 4 * k++, &last, 4);
      }
    } else {
      const uint8_t *p = f.data, *end = f.data + f.len;
      uint64_t x;
      while (p < end && dd_pb_read_varint(&p, end, &x)) {
        last = (uint32_t)x;
        if (k < count) memcpy(dst + 4 * k++, &last, 4);
      }
    }
  }
  if (s != DD_DONE) return s;
  for (; k < count; k++) memcpy(dst + 4 * k, &last, 4);
  return DD_OK;
}

/* Index of the first NaN or Inf of `count` little-endian floats at p (possibly
   unaligned), or count. A float is not finite when its exponent bits are all
   ones: then (bits & 0x7f800000) + 0x00800000 carries into bit 31, which no
   finite value does; blocks are scanned with that OR (vectorised), and only a
   block that has one is searched value by value. */
static size_t first_non_finite(const uint8_t *p, size_t count) {
  for (size_t k = 0; k < count; k += 4096) {
    const size_t end = count - k > 4096 ? k + 4096 : count;
    uint32_t acc = 0;
    for (size_t j = k; j < end; j++) {
      uint32_t x;
      memcpy(&x, p + 4 * j, 4);
      acc |= (x & 0x7f800000u) + 0x00800000u;
    }
    if (!(acc & 0x80000000u)) continue;
    for (size_t j = k; j < end; j++) {
      uint32_t x;
      memcpy(&x, p + 4 * j, 4);
      if ((x & 0x7f800000u) == 0x7f800000u) return j;
    }
  }
  return count;
}

static dd_status build_const(importer *im, dd_node *node) {
  attr_value v;
  int found;
  dd_status s = get_attr(im, "value", &v, &found);
  if (s != DD_OK) return s;
  if (!found) return missing_attr(im, "value");
  if (!(v.has & HAS_TENSOR)) return attr_kind_error(im, "value", "a tensor");
  tensor_info t;
  if ((s = scan_tensor(im, v.tensor, &t)) != DD_OK) return s;
  char b1[24], b2[24];
  if (t.dtype != DT_FLOAT && t.dtype != DT_INT32)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "Const node '%s' has dtype %s; only DT_FLOAT and "
                   "DT_INT32 are supported", dd_pb_label_of(im->name).s,
                   dd_graphdef_dtype_name(t.dtype, b1, sizeof b1));
  attr_value dv;
  if ((s = get_attr(im, "dtype", &dv, &found)) != DD_OK) return s;
  if (found && (!(dv.has & HAS_TYPE) || dv.type != t.dtype))
    return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s': attr dtype %s disagrees with its tensor's "
                   "dtype %s", dd_pb_label_of(im->name).s,
                   (dv.has & HAS_TYPE) ? dd_graphdef_dtype_name(dv.type, b1, sizeof b1) : "(not a type)",
                   dd_graphdef_dtype_name(t.dtype, b2, sizeof b2));
  int is_float = t.dtype == DT_FLOAT;
  size_t count = (size_t)t.count, bytes = count * 4;
  dd_const *c = &node->attr.value;
  c->dtype = is_float ? DD_DTYPE_FLOAT : DD_DTYPE_INT32;
  c->rank = t.rank;
  memcpy(c->dims, t.dims, sizeof c->dims);
  c->count = t.count;
  const void *data = NULL;
  if (t.has_content && t.content.n > 0) {
    if (t.content.n != bytes)
      return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s': tensor_content has %zu bytes but shape "
                     "%s needs %zu (%zu values of 4 bytes)", dd_pb_label_of(im->name).s, t.content.n,
                     fmt_dims(t.dims, t.rank).s, bytes, count);
    if (im->borrow && DD_HOST_LITTLE_ENDIAN) {
      data = t.content.p;
    } else {
      uint8_t *copy = (uint8_t *)malloc(bytes);
      if (!copy || !dd_graph_own(&im->g, copy)) return oom(im, "constant copy");
      if (DD_HOST_LITTLE_ENDIAN) {
        memcpy(copy, t.content.p, bytes);
      } else {
        for (size_t k = 0; k < count; k++) {
          uint32_t x = dd_pb_le32(t.content.p + 4 * k);
          memcpy(copy + 4 * k, &x, 4);
        }
      }
      data = copy;
    }
  } else if (count > 0) {
    size_t nvals = is_float ? t.n_float : t.n_int;
    if (nvals > count)
      return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s' has %zu %s values but shape %s holds "
                     "only %zu", dd_pb_label_of(im->name).s, nvals, is_float ? "float_val" : "int_val",
                     fmt_dims(t.dims, t.rank).s, count);
    if (bytes > DD_GRAPHDEF_MAX_EXPANDED_BYTES - im->expanded_bytes)
      return dd_fail(im->err, DD_ERR_UNSUPPORTED, "Const node '%s': expanding %zu %s values to shape "
                     "%s (%zu bytes) exceeds the limit of %zu bytes for constants not stored in "
                     "tensor_content", dd_pb_label_of(im->name).s, nvals, is_float ? "float_val" : "int_val",
                     fmt_dims(t.dims, t.rank).s, bytes, (size_t)DD_GRAPHDEF_MAX_EXPANDED_BYTES);
    im->expanded_bytes += bytes;
    uint8_t *buf = (uint8_t *)malloc(bytes);
    if (!buf || !dd_graph_own(&im->g, buf)) return oom(im, "constant values");
    if ((s = fill_values(im, v.tensor, is_float, buf, count)) != DD_OK) return s;
    data = buf;
  }
  if (is_float && data) {
    /* weights must be finite: a NaN or Inf dreams to a black image */
    const size_t k = first_non_finite((const uint8_t *)data, count);
    if (k < count) {
      float fv;
      memcpy(&fv, (const uint8_t *)data + 4 * k, 4);
      return dd_fail(im->err, DD_ERR_PARSE, "Const node '%s': value %zu of %zu is %s; weights must be finite",
                     dd_pb_label_of(im->name).s, k, count, fv != fv ? "NaN" : (fv > 0 ? "+Inf" : "-Inf"));
    }
  }
  if (is_float) c->f = (const float *)data;
  else c->i = (const int32_t *)data;
  return DD_OK;
}

/* ---- per-op attrs ------------------------------------------------------------- */
static dd_status build_attrs(importer *im, dd_op op, int variant, dd_node *node) {
  dd_status s = DD_OK;
  attr_value v;
  int found;
  switch (op) {
    case DD_OP_PLACEHOLDER: return check_type_attr(im, "dtype", DT_FLOAT);
    case DD_OP_CONST: return build_const(im, node);
    case DD_OP_IDENTITY:
    case DD_OP_RELU:
    case DD_OP_SOFTMAX: return check_type_attr(im, "T", DT_FLOAT);
    case DD_OP_BIAS_ADD:
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      return check_nhwc(im);
    case DD_OP_CONV2D: {
      int dh, dw;
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      if ((s = check_nhwc(im)) != DD_OK) return s;
      if ((s = get_nhwc4(im, "strides", 1, 1, &node->attr.conv.strides[0],
                         &node->attr.conv.strides[1])) != DD_OK)
        return s;
      if ((s = get_padding(im, &node->attr.conv.padding)) != DD_OK) return s;
      if ((s = get_nhwc4(im, "dilations", 0, 1, &dh, &dw)) != DD_OK) return s;
      if (dh != 1 || dw != 1)
        return dd_fail(im->err, DD_ERR_UNSUPPORTED, "Conv2D node '%s': dilations %dx%d are not "
                       "supported (only 1)", dd_pb_label_of(im->name).s, dh, dw);
      return DD_OK;
    }
    case DD_OP_MAX_POOL:
    case DD_OP_AVG_POOL: {
      dd_window *w = &node->attr.pool;
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      if ((s = check_nhwc(im)) != DD_OK) return s;
      if ((s = get_nhwc4(im, "ksize", 1, 1, &w->k_h, &w->k_w)) != DD_OK) return s;
      if ((s = get_nhwc4(im, "strides", 1, 1, &w->stride_h, &w->stride_w)) != DD_OK) return s;
      return get_padding(im, &w->padding);
    }
    case DD_OP_LRN: {
      dd_lrn_params *p = &node->attr.lrn;
      p->depth_radius = 5;
      p->bias = 1.0f;
      p->alpha = 1.0f;
      p->beta = 0.5f;
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      if ((s = get_attr(im, "depth_radius", &v, &found)) != DD_OK) return s;
      if (found) {
        if (!(v.has & HAS_I)) return attr_kind_error(im, "depth_radius", "an int");
        if (v.i < 0 || v.i > (1 << 20))
          return dd_fail(im->err, DD_ERR_UNSUPPORTED, "LRN node '%s': depth_radius %lld is out of "
                         "range [0, 2^20]", dd_pb_label_of(im->name).s, (long long)v.i);
        p->depth_radius = (int)v.i;
      }
      static const char *const keys[3] = {"bias", "alpha", "beta"};
      float *dst[3] = {&p->bias, &p->alpha, &p->beta};
      for (int k = 0; k < 3; k++) {
        if ((s = get_attr(im, keys[k], &v, &found)) != DD_OK) return s;
        if (!found) continue;
        if (!(v.has & HAS_F)) return attr_kind_error(im, keys[k], "a float");
        if (!(v.f - v.f == 0))
          return dd_fail(im->err, DD_ERR_UNSUPPORTED, "LRN node '%s': %s is not finite",
                         dd_pb_label_of(im->name).s, keys[k]);
        *dst[k] = v.f;
      }
      return DD_OK;
    }
    case DD_OP_CONCAT:
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      if (variant == TF_CONCAT_V2 && (s = check_type_attr(im, "Tidx", DT_INT32)) != DD_OK) return s;
      if ((s = get_attr(im, "N", &v, &found)) != DD_OK) return s;
      if (found) {
        if (!(v.has & HAS_I)) return attr_kind_error(im, "N", "an int");
        if (v.i < 1)
          return dd_fail(im->err, DD_ERR_GRAPH, "%s node '%s': attr N = %lld (must be >= 1)",
                         dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, (long long)v.i);
        im->pend[node - im->g.nodes].n_attr = v.i; /* checked against the inputs in resolve() */
      }
      return DD_OK; /* the axis: after inputs are resolved */
    case DD_OP_MATMUL: {
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      static const char *const keys[2] = {"transpose_a", "transpose_b"};
      int *dst[2] = {&node->attr.matmul.transpose_a, &node->attr.matmul.transpose_b};
      for (int k = 0; k < 2; k++) {
        if ((s = get_attr(im, keys[k], &v, &found)) != DD_OK) return s;
        if (!found) continue;
        if (!(v.has & HAS_B)) return attr_kind_error(im, keys[k], "a bool");
        *dst[k] = v.b;
      }
      return DD_OK;
    }
    case DD_OP_RESHAPE:
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      return check_type_attr(im, "Tshape", DT_INT32);
    case DD_OP_LEAKY_RELU:
      node->attr.alpha = 0.2f; /* TF's default */
      if ((s = check_type_attr(im, "T", DT_FLOAT)) != DD_OK) return s;
      if ((s = get_attr(im, "alpha", &v, &found)) != DD_OK) return s;
      if (found) {
        if (!(v.has & HAS_F)) return attr_kind_error(im, "alpha", "a float");
        if (!(v.f - v.f == 0))
          return dd_fail(im->err, DD_ERR_UNSUPPORTED, "LeakyRelu node '%s': alpha is not finite", dd_pb_label_of(im->name).s);
        node->attr.alpha = v.f;
      }
      return DD_OK;
    case DD_OP_ADD: /* ONNX-only ops: ops.def lists no TF name, so lookup_op never returns them */
    case DD_OP_MUL:
    case DD_OP_CLIP:
    case DD_OP_GLOBAL_AVG_POOL:
    case DD_OP_COUNT: break;
  }
  return DD_OK;
}

/* ---- NodeDef -------------------------------------------------------------------- */
static dd_op lookup_op(dd_pb_bytes op, int *variant) {
  return dd_op_lookup(DD_OP_FORMAT_TF, (const char *)op.p, op.n, variant);
}

/* Parses one data input name: strips ":0", rejects ":N". Sets *control for "^x". */
static dd_status parse_input(importer *im, dd_pb_bytes in, dd_pb_bytes *base, int *control) {
  *control = 0;
  if (in.n > 0 && in.p[0] == '^') {
    *control = 1;
    return DD_OK;
  }
  size_t colon = in.n;
  for (size_t k = in.n; k-- > 0;)
    if (in.p[k] == ':') {
      colon = k;
      break;
    }
  base->p = in.p;
  base->n = colon;
  if (colon < in.n) {
    size_t digits = in.n - colon - 1;
    uint64_t idx = 0;
    int ok = digits > 0 && digits <= 9;
    for (size_t k = colon + 1; ok && k < in.n; k++) {
      if (in.p[k] < '0' || in.p[k] > '9') ok = 0;
      else idx = idx * 10 + (uint64_t)(in.p[k] - '0');
    }
    if (!ok)
      return dd_fail(im->err, DD_ERR_PARSE, "%s node '%s': malformed input name '%s'",
                     dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s, dd_pb_label_of(in).s);
    if (idx != 0)
      return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s' reads output %llu of '%s' ('%s'); "
                     "only output 0 is supported", dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s,
                     (unsigned long long)idx, dd_pb_label_of(*base).s, dd_pb_label_of(in).s);
  }
  if (base->n == 0)
    return dd_fail(im->err, DD_ERR_PARSE, "%s node '%s' has an empty input name", dd_pb_label_of(im->opname).s,
                   dd_pb_label_of(im->name).s);
  return DD_OK;
}

static dd_status check_name(importer *im) {
  if (im->name.n == 0)
    return dd_fail(im->err, DD_ERR_PARSE, "node #%zu (op '%s') has an empty name", im->node_number,
                   dd_pb_label_of(im->opname).s);
  for (size_t k = 0; k < im->name.n; k++) {
    uint8_t c = im->name.p[k];
    if (c == 0 || c == ':' || (k == 0 && c == '^'))
      return dd_fail(im->err, DD_ERR_PARSE, "node #%zu has an invalid name '%s' (no NUL, ':' or "
                     "leading '^' allowed)", im->node_number, dd_pb_label_of(im->name).s);
  }
  return DD_OK;
}

static dd_status read_node(importer *im, const dd_pb_reader *gr, const dd_pb_field *nf) {
  dd_pb_reader r, er;
  dd_pb_field f, e;
  dd_status s = dd_pb_enter(gr, nf, &r, im->err);
  if (s != DD_OK) return s;
  im->name.p = im->opname.p = NULL;
  im->name.n = im->opname.n = 0;
  im->n_attrs = 0;
  size_t in_first = im->n_in_names;
  /* Pass over the fields: name and op may come in any order, so collect first. */
  while ((s = dd_pb_next(&r, &f, im->err)) == DD_OK) {
    switch (f.number) {
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
        if (f.wire != DD_PB_LEN) {
          static const char *const fields[6] = {"", "NodeDef.name", "NodeDef.op", "NodeDef.input",
                                                "NodeDef.device", "NodeDef.attr"};
          return bad_wire(im, fields[f.number], &f, "length-delimited");
        }
        break;
      default: continue; /* unknown field: already skipped */
    }
    dd_pb_bytes val = {f.data, f.len};
    if (f.number == 1) im->name = val;
    else if (f.number == 2) im->opname = val;
    else if (f.number == 3) {
      if (!grow((void **)&im->in_names, &im->cap_in_names, im->n_in_names + 1, sizeof(dd_pb_bytes)))
        return oom(im, "input names");
      im->in_names[im->n_in_names++] = val;
    } else if (f.number == 5) {
      if (!grow((void **)&im->attrs, &im->cap_attrs, im->n_attrs + 1, sizeof(attr_entry)))
        return oom(im, "attrs");
      attr_entry *a = &im->attrs[im->n_attrs++];
      memset(a, 0, sizeof *a);
      if ((s = dd_pb_enter(&r, &f, &er, im->err)) != DD_OK) return s;
      while ((s = dd_pb_next(&er, &e, im->err)) == DD_OK) {
        if (e.number != 1 && e.number != 2) continue;
        if (e.wire != DD_PB_LEN)
          return bad_wire(im, e.number == 1 ? "NodeDef.attr key" : "NodeDef.attr value", &e,
                          "length-delimited");
        dd_pb_bytes x = {e.data, e.len};
        if (e.number == 1) a->key = x;
        else {
          a->value = x;
          a->has_value = 1;
        }
      }
      if (s != DD_DONE) return s;
    }
  }
  if (s != DD_DONE) return s;

  if ((s = check_name(im)) != DD_OK) return s;
  if (im->opname.n == 0)
    return dd_fail(im->err, DD_ERR_PARSE, "node '%s' has no op", dd_pb_label_of(im->name).s);
  if (dd_pb_bytes_eq(im->opname, TF_NOOP)) { /* ignored; only ever a control input */
    im->n_in_names = in_first;
    return DD_OK;
  }
  int variant;
  dd_op op = lookup_op(im->opname, &variant);
  if (op == DD_OP_COUNT)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "unsupported op '%s' at node '%s'",
                   dd_pb_label_of(im->opname).s, dd_pb_label_of(im->name).s);
  /* Data inputs: keep base names in place, drop control inputs. */
  size_t kept = in_first;
  for (size_t k = in_first; k < im->n_in_names; k++) {
    dd_pb_bytes base;
    int control;
    if ((s = parse_input(im, im->in_names[k], &base, &control)) != DD_OK) return s;
    if (!control) im->in_names[kept++] = base;
  }
  im->n_in_names = kept;
  if (kept - in_first > (size_t)INT32_MAX / 2)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "node '%s' has too many inputs", dd_pb_label_of(im->name).s);

  int idx = dd_graph_add_node(&im->g, (const char *)im->name.p, im->name.n, op);
  if (idx < 0) return oom(im, "node");
  int first = dd_graph_find(&im->g, im->g.nodes[idx].name);
  if (first != idx)
    return dd_fail(im->err, DD_ERR_GRAPH, "duplicate node name '%s' (nodes %d and %d)",
                   dd_pb_label_of(im->name).s, first, idx);
  if (!grow((void **)&im->pend, &im->cap_pend, (size_t)idx + 1, sizeof *im->pend) ||
      !grow((void **)&im->variant, &im->cap_variant, (size_t)idx + 1, sizeof *im->variant))
    return oom(im, "node list");
  im->pend[idx].first = in_first;
  im->pend[idx].count = (int)(kept - in_first);
  im->pend[idx].n_attr = -1;
  im->variant[idx] = (unsigned char)variant;
  return build_attrs(im, op, variant, &im->g.nodes[idx]);
}

/* ---- pass 2: inputs, Concat axes, Reshape shapes ----------------------------------- */
static const char *node_name(const importer *im, int i) { return im->g.nodes[i].name; }
/* The TF op type node i was imported from ("ConcatV2", ...), for messages. */
static const char *tf_name(const importer *im, int i) {
  const char *n = dd_op_format_name(im->g.nodes[i].op, DD_OP_FORMAT_TF, im->variant[i]);
  return n ? n : dd_op_name(im->g.nodes[i].op);
}

/* The value of a scalar/vector int32 Const feeding `node`, for messages and folding. */
static dd_status int_const_input(importer *im, int node, int in, const char *role, int max_count,
                                 int32_t *vals, int *n) {
  const dd_node *c = &im->g.nodes[in];
  const char *op = tf_name(im, node);
  if (c->op != DD_OP_CONST || c->attr.value.dtype != DD_DTYPE_INT32)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': %s input '%s' must be an int32 Const "
                   "(it is %s%s)", op, lab_str(node_name(im, node)).s, role,
                   lab_str(c->name).s, dd_op_name(c->op),
                   c->op == DD_OP_CONST ? " of another dtype" : "");
  if (c->attr.value.count > max_count || c->attr.value.rank > 1)
    return dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': %s Const '%s' has shape %s; a scalar "
                   "or vector of at most %d value(s) is supported", op,
                   lab_str(node_name(im, node)).s, role, lab_str(c->name).s,
                   fmt_dims(c->attr.value.dims, c->attr.value.rank).s, max_count);
  *n = (int)c->attr.value.count;
  if (*n > 0) memcpy(vals, c->attr.value.i, (size_t)*n * 4); /* may be unaligned */
  return DD_OK;
}

static dd_status resolve(importer *im) {
  dd_graph *g = &im->g;
  int *ins = NULL;
  size_t cap_ins = 0;
  char *name = NULL;
  size_t cap_name = 0;
  dd_status s = DD_OK;
  for (int i = 0; i < g->n_nodes && s == DD_OK; i++) {
    const char *nm = g->nodes[i].name;
    const char *op = tf_name(im, i);
    int n = im->pend[i].count;
    if (!grow((void **)&ins, &cap_ins, (size_t)n + 1, sizeof *ins)) {
      s = dd_fail(im->err, DD_ERR_OUT_OF_MEMORY, "node '%s': out of memory for inputs", lab_str(nm).s);
      break;
    }
    for (int k = 0; k < n && s == DD_OK; k++) {
      dd_pb_bytes in = im->in_names[im->pend[i].first + (size_t)k];
      if (!grow((void **)&name, &cap_name, in.n + 1, 1)) {
        s = dd_fail(im->err, DD_ERR_OUT_OF_MEMORY, "node '%s': out of memory", lab_str(nm).s);
        break;
      }
      memcpy(name, in.p, in.n);
      name[in.n] = '\0';
      ins[k] = strlen(name) == in.n ? dd_graph_find(g, name) : -1;
      if (ins[k] < 0)
        s = dd_fail(im->err, DD_ERR_GRAPH, "%s node '%s': input '%s' is not a node of the graph",
                    op, lab_str(nm).s, dd_pb_label_of(in).s);
    }
    if (s != DD_OK) break;
    const int *data = ins;
    int n_data = n;
    dd_node *node = &g->nodes[i];
    if (node->op == DD_OP_CONCAT) {
      if (n < 2) {
        s = dd_fail(im->err, DD_ERR_GRAPH, "%s node '%s' has %d inputs; it needs an axis and at "
                    "least one tensor", op, lab_str(nm).s, n);
        break;
      }
      int legacy = im->variant[i] == TF_CONCAT;
      int axis_in = legacy ? ins[0] : ins[n - 1];
      int32_t axis;
      int count;
      if ((s = int_const_input(im, i, axis_in, "axis", 1, &axis, &count)) != DD_OK) break;
      if (count != 1) {
        s = dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': axis Const '%s' is empty", op,
                    lab_str(nm).s, lab_str(node_name(im, axis_in)).s);
        break;
      }
      if (axis < -1 || axis >= DD_MAX_RANK) {
        s = dd_fail(im->err, DD_ERR_UNSUPPORTED, "%s node '%s': axis %d (from '%s') is not "
                    "supported (0..3 or -1)", op, lab_str(nm).s, (int)axis,
                    lab_str(node_name(im, axis_in)).s);
        break;
      }
      node->attr.concat.axis = axis;
      data = legacy ? ins + 1 : ins;
      n_data = n - 1;
      if (im->pend[i].n_attr >= 0 && im->pend[i].n_attr != n_data) {
        s = dd_fail(im->err, DD_ERR_GRAPH, "%s node '%s': attr N = %lld but it has %d tensor "
                    "inputs", op, lab_str(nm).s, (long long)im->pend[i].n_attr, n_data);
        break;
      }
    } else if (node->op == DD_OP_RESHAPE) {
      if (n != 2) {
        s = dd_fail(im->err, DD_ERR_GRAPH, "Reshape node '%s' has %d inputs, expected 2 (tensor, "
                    "shape)", lab_str(nm).s, n);
        break;
      }
      int32_t dims[DD_MAX_RANK];
      int count;
      if ((s = int_const_input(im, i, ins[1], "shape", DD_MAX_RANK, dims, &count)) != DD_OK) break;
      node->attr.reshape.rank = count;
      int wild = 0;
      for (int d = 0; d < count; d++) {
        node->attr.reshape.dims[d] = dims[d];
        if (dims[d] < -1 || (dims[d] == -1 && ++wild > 1)) {
          s = dd_fail(im->err, DD_ERR_UNSUPPORTED, "Reshape node '%s': shape %s (from '%s') is "
                      "invalid: dims must be >= 0 with at most one -1", lab_str(nm).s,
                      fmt_dims(node->attr.reshape.dims, count).s, lab_str(node_name(im, ins[1])).s);
          break;
        }
      }
      if (s != DD_OK) break;
      n_data = 1;
    }
    s = dd_graph_set_inputs(g, i, data, n_data, im->err);
  }
  free(ins);
  free(name);
  return s;
}

dd_status dd_graphdef_import(const uint8_t *bytes, size_t len, int borrow_bytes, dd_graph *out,
                             dd_error *err) {
  if (!out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "GraphDef import: out is NULL");
  if (!bytes && len > 0)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "GraphDef import: bytes is NULL but len is %zu", len);
  importer im;
  memset(&im, 0, sizeof im);
  im.bytes = bytes;
  im.len = len;
  im.borrow = borrow_bytes != 0;
  im.err = err;
  dd_graph_init(&im.g);

  dd_pb_reader r;
  dd_pb_reader_init(&r, bytes, len);
  dd_pb_field f;
  dd_status s;
  size_t nodedefs = 0;
  while ((s = dd_pb_next(&r, &f, err)) == DD_OK) {
    if (f.number != 1) continue; /* library (2), version (3), versions (4), unknown */
    im.node_number = nodedefs++;
    if (f.wire != DD_PB_LEN) {
      s = dd_fail(err, DD_ERR_PARSE, "GraphDef.node (field 1 at byte %zu) is %s, expected "
                  "length-delimited", f.offset, dd_pb_wire_name(f.wire));
      break;
    }
    if ((s = read_node(&im, &r, &f)) != DD_OK) {
      s = in_node(&im, s);
      break;
    }
  }
  if (s == DD_DONE) {
    s = DD_OK;
    if (im.g.n_nodes == 0)
      s = dd_fail(err, DD_ERR_GRAPH, nodedefs ? "GraphDef has no nodes other than NoOps"
                                              : "GraphDef has no nodes (empty graph)");
  }
  if (s == DD_OK) s = resolve(&im);
  if (s == DD_OK) s = dd_graph_validate(&im.g, err);
  free(im.pend);
  free(im.variant);
  free(im.in_names);
  free(im.attrs);
  if (s != DD_OK) {
    dd_graph_free(&im.g);
    return s;
  }
  *out = im.g;
  return DD_OK;
}
