/* protobuf.c — bounded protobuf wire-format reader and a small writer.
 * Contracts: see protobuf.h. */
#include "protobuf.h"

#include <stdlib.h>
#include <string.h>

const char *dd_pb_wire_name(int wire) {
  switch (wire) {
    case DD_PB_VARINT: return "varint";
    case DD_PB_FIXED64: return "fixed64";
    case DD_PB_LEN: return "length-delimited";
    case DD_PB_START_GROUP: return "start-group";
    case DD_PB_END_GROUP: return "end-group";
    case DD_PB_FIXED32: return "fixed32";
  }
  return "invalid";
}

void dd_pb_reader_init(dd_pb_reader *r, const uint8_t *data, size_t len) {
  r->base = data;
  r->p = data;
  r->end = data ? data + len : data;
  r->depth = 0;
}

int dd_pb_read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
  const uint8_t *p = *pp;
  uint64_t v = 0;
  for (int i = 0; i < 10; i++) {
    if (p >= end) return 0; /* truncated */
    uint8_t b = *p++;
    if (i == 9 && b > 1) return 0; /* 10th byte may only carry bit 63 */
    v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *pp = p;
      *out = v;
      return 1;
    }
  }
  return 0; /* more than 10 bytes */
}

dd_status dd_pb_packed_varint_count(const uint8_t *data, size_t len, size_t *count, dd_error *err) {
  const uint8_t *p = data, *end = data + len;
  size_t n = 0;
  while (p < end) {
    uint64_t v;
    if (!dd_pb_read_varint(&p, end, &v))
      return dd_fail(err, DD_ERR_PARSE,
                     "protobuf: packed varint %zu of a %zu-byte packed field is truncated or longer "
                     "than 10 bytes",
                     n, len);
    n++;
  }
  *count = n;
  return DD_OK;
}

/* Reads one tag and, for wire types 0/1/2/5, its value. For 3/4 only the tag. */
static dd_status read_one(const dd_pb_reader *r, const uint8_t **pp, dd_pb_field *f,
                          dd_error *err) {
  const uint8_t *p = *pp, *end = r->end;
  size_t off = (size_t)(p - r->base);
  uint64_t tag;
  if (!dd_pb_read_varint(&p, end, &tag))
    return dd_fail(err, DD_ERR_PARSE,
                   "protobuf: field tag at byte %zu is truncated or longer than 10 bytes", off);
  if (tag > UINT32_MAX)
    return dd_fail(err, DD_ERR_PARSE, "protobuf: field tag %llu at byte %zu is larger than 32 bits",
                   (unsigned long long)tag, off);
  f->number = (uint32_t)(tag >> 3);
  f->wire = (dd_pb_wire)(tag & 7);
  f->offset = off;
  f->u64 = 0;
  f->data = NULL;
  f->len = 0;
  if (f->number == 0)
    return dd_fail(err, DD_ERR_PARSE, "protobuf: field number 0 at byte %zu", off);
  if (f->number > DD_PB_MAX_FIELD_NUMBER)
    return dd_fail(err, DD_ERR_PARSE, "protobuf: field number %u at byte %zu exceeds 2^29-1",
                   f->number, off);
  switch ((int)f->wire) {
    case DD_PB_VARINT:
      if (!dd_pb_read_varint(&p, end, &f->u64))
        return dd_fail(err, DD_ERR_PARSE,
                       "protobuf: varint of field %u at byte %zu is truncated or longer than 10 bytes",
                       f->number, off);
      break;
    case DD_PB_FIXED64:
      if ((size_t)(end - p) < 8)
        return dd_fail(err, DD_ERR_PARSE,
                       "protobuf: fixed64 field %u at byte %zu is truncated (%zu of 8 bytes left)",
                       f->number, off, (size_t)(end - p));
      f->u64 = dd_pb_le64(p);
      p += 8;
      break;
    case DD_PB_FIXED32:
      if ((size_t)(end - p) < 4)
        return dd_fail(err, DD_ERR_PARSE,
                       "protobuf: fixed32 field %u at byte %zu is truncated (%zu of 4 bytes left)",
                       f->number, off, (size_t)(end - p));
      f->u64 = dd_pb_le32(p);
      p += 4;
      break;
    case DD_PB_LEN: {
      uint64_t n;
      if (!dd_pb_read_varint(&p, end, &n))
        return dd_fail(err, DD_ERR_PARSE,
                       "protobuf: length of field %u at byte %zu is truncated or longer than 10 bytes",
                       f->number, off);
      size_t left = (size_t)(end - p);
      if (n > (uint64_t)left)
        return dd_fail(err, DD_ERR_PARSE,
                       "protobuf: field %u at byte %zu declares %llu bytes but only %zu remain in "
                       "the enclosing message",
                       f->number, off, (unsigned long long)n, left);
      f->data = p;
      f->len = (size_t)n;
      p += n;
      break;
    }
    case DD_PB_START_GROUP:
    case DD_PB_END_GROUP:
      break;
    default:
      return dd_fail(err, DD_ERR_PARSE, "protobuf: invalid wire type %d for field %u at byte %zu",
                     (int)f->wire, f->number, off);
  }
  *pp = p;
  return DD_OK;
}

dd_status dd_pb_next(dd_pb_reader *r, dd_pb_field *f, dd_error *err) {
  if (r->p >= r->end) return DD_DONE;
  const uint8_t *p = r->p;
  dd_status s = read_one(r, &p, f, err);
  if (s != DD_OK) return s;
  if (f->wire == DD_PB_END_GROUP)
    return dd_fail(err, DD_ERR_PARSE, "protobuf: end-group tag for field %u at byte %zu without a "
                   "matching start-group", f->number, f->offset);
  if (f->wire == DD_PB_START_GROUP) {
    /* Skip the group, tracking nested groups on a bounded stack. */
    uint32_t stack[DD_PB_MAX_DEPTH];
    int sp = 0;
    if (r->depth + 1 > DD_PB_MAX_DEPTH)
      return dd_fail(err, DD_ERR_PARSE, "protobuf: group at byte %zu nests deeper than %d levels",
                     f->offset, DD_PB_MAX_DEPTH);
    stack[sp++] = f->number;
    const uint8_t *contents = p;
    for (;;) {
      const uint8_t *tag_at = p;
      dd_pb_field g;
      if (p >= r->end)
        return dd_fail(err, DD_ERR_PARSE,
                       "protobuf: group for field %u at byte %zu is not closed before the end of "
                       "the message", f->number, f->offset);
      s = read_one(r, &p, &g, err);
      if (s != DD_OK) return s;
      if (g.wire == DD_PB_START_GROUP) {
        if (r->depth + sp + 1 > DD_PB_MAX_DEPTH)
          return dd_fail(err, DD_ERR_PARSE,
                         "protobuf: group at byte %zu nests deeper than %d levels", g.offset,
                         DD_PB_MAX_DEPTH);
        stack[sp++] = g.number;
      } else if (g.wire == DD_PB_END_GROUP) {
        if (stack[sp - 1] != g.number)
          return dd_fail(err, DD_ERR_PARSE,
                         "protobuf: end-group tag for field %u at byte %zu closes a group of field %u",
                         g.number, g.offset, stack[sp - 1]);
        if (--sp == 0) {
          f->data = contents;
          f->len = (size_t)(tag_at - contents);
          break;
        }
      }
    }
  }
  r->p = p;
  return DD_OK;
}

dd_status dd_pb_enter(const dd_pb_reader *parent, const dd_pb_field *f, dd_pb_reader *sub,
                      dd_error *err) {
  if (f->wire != DD_PB_LEN)
    return dd_fail(err, DD_ERR_PARSE,
                   "protobuf: field %u at byte %zu is %s, expected an embedded message "
                   "(length-delimited)", f->number, f->offset, dd_pb_wire_name(f->wire));
  if (parent->depth + 1 > DD_PB_MAX_DEPTH)
    return dd_fail(err, DD_ERR_PARSE, "protobuf: message at byte %zu nests deeper than %d levels",
                   f->offset, DD_PB_MAX_DEPTH);
  sub->base = parent->base;
  sub->p = f->data;
  sub->end = f->data + f->len;
  sub->depth = parent->depth + 1;
  return DD_OK;
}

/* ---- writer ---------------------------------------------------------------- */
void dd_pb_writer_init(dd_pb_writer *w) {
  w->data = NULL;
  w->len = w->cap = 0;
  w->oom = 0;
}

void dd_pb_writer_free(dd_pb_writer *w) {
  free(w->data);
  dd_pb_writer_init(w);
}

dd_status dd_pb_writer_status(const dd_pb_writer *w, dd_error *err) {
  if (w->oom)
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "protobuf writer: out of memory after %zu bytes",
                   w->len);
  return DD_OK;
}

static int reserve(dd_pb_writer *w, size_t extra) {
  if (w->oom) return 0;
  if (extra > SIZE_MAX - w->len) {
    w->oom = 1;
    return 0;
  }
  size_t need = w->len + extra;
  if (need <= w->cap) return 1;
  size_t cap = w->cap ? w->cap : 64;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *d = (uint8_t *)realloc(w->data, cap);
  if (!d) {
    w->oom = 1;
    return 0;
  }
  w->data = d;
  w->cap = cap;
  return 1;
}

static size_t encode_varint(uint8_t *buf, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  buf[n++] = (uint8_t)v;
  return n;
}

void dd_pb_write_raw(dd_pb_writer *w, const void *bytes, size_t n) {
  if (n == 0 || !reserve(w, n)) return;
  memcpy(w->data + w->len, bytes, n);
  w->len += n;
}

void dd_pb_write_raw_varint(dd_pb_writer *w, uint64_t v) {
  uint8_t buf[10];
  dd_pb_write_raw(w, buf, encode_varint(buf, v));
}

void dd_pb_write_tag(dd_pb_writer *w, uint32_t field, dd_pb_wire wire) {
  dd_pb_write_raw_varint(w, (uint64_t)field << 3 | (uint64_t)wire);
}

void dd_pb_write_varint(dd_pb_writer *w, uint32_t field, uint64_t v) {
  dd_pb_write_tag(w, field, DD_PB_VARINT);
  dd_pb_write_raw_varint(w, v);
}

void dd_pb_write_int64(dd_pb_writer *w, uint32_t field, int64_t v) {
  dd_pb_write_varint(w, field, (uint64_t)v);
}

void dd_pb_write_fixed32(dd_pb_writer *w, uint32_t field, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  dd_pb_write_tag(w, field, DD_PB_FIXED32);
  dd_pb_write_raw(w, b, 4);
}

void dd_pb_write_fixed64(dd_pb_writer *w, uint32_t field, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  dd_pb_write_tag(w, field, DD_PB_FIXED64);
  dd_pb_write_raw(w, b, 8);
}

void dd_pb_write_float(dd_pb_writer *w, uint32_t field, float v) {
  uint32_t bits;
  memcpy(&bits, &v, 4);
  dd_pb_write_fixed32(w, field, bits);
}

void dd_pb_write_bytes(dd_pb_writer *w, uint32_t field, const void *bytes, size_t n) {
  dd_pb_write_tag(w, field, DD_PB_LEN);
  dd_pb_write_raw_varint(w, n);
  dd_pb_write_raw(w, bytes, n);
}

void dd_pb_write_string(dd_pb_writer *w, uint32_t field, const char *s) {
  dd_pb_write_bytes(w, field, s, strlen(s));
}

size_t dd_pb_write_begin(dd_pb_writer *w, uint32_t field) {
  dd_pb_write_tag(w, field, DD_PB_LEN);
  return w->len;
}

void dd_pb_write_end(dd_pb_writer *w, size_t mark) {
  if (w->oom || mark > w->len) return;
  uint8_t buf[10];
  size_t payload = w->len - mark;
  size_t k = encode_varint(buf, payload);
  if (!reserve(w, k)) return;
  memmove(w->data + mark + k, w->data + mark, payload);
  memcpy(w->data + mark, buf, k);
  w->len += k;
}

int dd_pb_bytes_eq(dd_pb_bytes s, const char *lit) {
  size_t n = strlen(lit);
  return s.n == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

dd_pb_label dd_pb_label_of(dd_pb_bytes x) {
  dd_pb_label l;
  size_t n = x.n > 80 ? 80 : x.n, k = 0;
  for (size_t i = 0; i < n; i++) l.s[k++] = x.p[i] >= 32 && x.p[i] < 127 ? (char)x.p[i] : '?';
  if (x.n > n) l.s[k++] = '.', l.s[k++] = '.', l.s[k++] = '.';
  l.s[k] = '\0';
  return l;
}
