/* protobuf.h — a bounded reader (and a small writer) for the protobuf wire format.
 *
 * Just enough protobuf to walk a TensorFlow GraphDef without generated code or
 * a schema. The reader never allocates and never reads outside [data, data+len).
 *
 * Reader contract
 *   - dd_pb_next() decodes one field (tag + value) and advances. It returns
 *     DD_OK with *f filled, DD_DONE at the end of the message, or DD_ERR_PARSE
 *     with a message giving the byte offset (from the start of the outermost
 *     buffer) and what was wrong: a truncated or overlong varint (more than
 *     10 bytes, or a 10th byte above 1), a length that runs past the end of the
 *     enclosing message, field number 0 or above 2^29-1, wire types 6/7, an
 *     unmatched end-group tag, or groups nested deeper than DD_PB_MAX_DEPTH.
 *   - Groups (wire types 3/4, proto2) are skipped safely: a start-group field
 *     is returned with `data/len` spanning its contents; nothing interprets it.
 *   - Unknown fields need no special handling: dd_pb_next has already stepped
 *     over them, whatever their wire type.
 *   - Length-delimited values (wire type 2) are returned as a pointer into the
 *     input and a length already checked against the enclosing message.
 *     dd_pb_enter() opens one as a sub-message, one level deeper; it fails past
 *     DD_PB_MAX_DEPTH levels, so hostile nesting cannot exhaust anything.
 *   - Packed repeated fields are plain length-delimited payloads: use
 *     dd_pb_read_varint() on them, or dd_pb_packed_varint_count() to size them.
 *   - Scalars: fixed32 / fixed64 / varint values are in f->u64 (fixed32 in the
 *     low 32 bits). Little-endian decoding is done byte by byte, so the reader
 *     works on any host and any alignment.
 *
 * Writer contract
 *   - A growable byte buffer. Calls never fail individually: an allocation
 *     failure sets a sticky flag that dd_pb_writer_status() reports, and later
 *     calls do nothing. Output is canonical (minimal varints).
 *   - Nested messages: mark = dd_pb_write_begin(w, field); ...;
 *     dd_pb_write_end(w, mark). Begin/end pairs must nest (LIFO).
 *   - Meant for tests and fixture generators: nested ends move the payload
 *     once per level, which is fine for small messages.
 */
#ifndef DD_PROTOBUF_H
#define DD_PROTOBUF_H

#include "../core/core.h"

#define DD_PB_MAX_DEPTH 32
#define DD_PB_MAX_FIELD_NUMBER 536870911u /* 2^29 - 1 */

typedef enum dd_pb_wire {
  DD_PB_VARINT = 0,
  DD_PB_FIXED64 = 1,
  DD_PB_LEN = 2,
  DD_PB_START_GROUP = 3,
  DD_PB_END_GROUP = 4,
  DD_PB_FIXED32 = 5
} dd_pb_wire;

/* Name of a wire type for messages: "varint", "fixed64", "length-delimited", ... */
const char *dd_pb_wire_name(int wire);

typedef struct dd_pb_reader {
  const uint8_t *base; /* start of the outermost buffer (for offsets in messages) */
  const uint8_t *p;    /* next byte to read */
  const uint8_t *end;  /* end of this message */
  int depth;           /* 0 for the outermost message */
} dd_pb_reader;

typedef struct dd_pb_field {
  uint32_t number;     /* field number, >= 1 */
  dd_pb_wire wire;
  uint64_t u64;        /* VARINT, FIXED64, FIXED32 (low 32 bits) */
  const uint8_t *data; /* LEN: payload; START_GROUP: the group's contents */
  size_t len;
  size_t offset;       /* offset of the tag from reader.base */
} dd_pb_field;

/* A view of bytes inside a message (a name, a string field): not NUL-terminated, valid while the message is. */
typedef struct dd_pb_bytes {
  const uint8_t *p;
  size_t n;
} dd_pb_bytes;
int dd_pb_bytes_eq(dd_pb_bytes s, const char *lit); /* equal to the C string lit, byte for byte */

/* A printable, bounded copy of (possibly hostile) bytes for messages: at most 80 bytes, those outside printable
   ASCII shown as '?', "..." when cut. */
typedef struct dd_pb_label {
  char s[96];
} dd_pb_label;
dd_pb_label dd_pb_label_of(dd_pb_bytes x);

void dd_pb_reader_init(dd_pb_reader *r, const uint8_t *data, size_t len);

/* DD_OK and the next field, DD_DONE at the end, or DD_ERR_PARSE. */
dd_status dd_pb_next(dd_pb_reader *r, dd_pb_field *f, dd_error *err);

/* Opens length-delimited field `f` (read by `parent`) as a message. */
dd_status dd_pb_enter(const dd_pb_reader *parent, const dd_pb_field *f, dd_pb_reader *sub,
                      dd_error *err);

/* Decodes one varint from [*p, end), advancing *p. Returns 1, or 0 when the
   varint is truncated or longer than 10 bytes / wider than 64 bits. */
int dd_pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Number of varints in a packed payload; DD_ERR_PARSE if it ends inside one
   or one is overlong. */
dd_status dd_pb_packed_varint_count(const uint8_t *data, size_t len, size_t *count, dd_error *err);

static inline uint32_t dd_pb_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t dd_pb_le64(const uint8_t *p) {
  return (uint64_t)dd_pb_le32(p) | (uint64_t)dd_pb_le32(p + 4) << 32;
}
static inline float dd_pb_bits_to_float(uint32_t bits) {
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* ---- writer ---------------------------------------------------------------- */
typedef struct dd_pb_writer {
  uint8_t *data;
  size_t len, cap;
  int oom; /* sticky: an allocation failed */
} dd_pb_writer;

void dd_pb_writer_init(dd_pb_writer *w);
void dd_pb_writer_free(dd_pb_writer *w);
/* DD_OK, or DD_ERR_OUT_OF_MEMORY if any earlier call failed to allocate. */
dd_status dd_pb_writer_status(const dd_pb_writer *w, dd_error *err);

void dd_pb_write_raw(dd_pb_writer *w, const void *bytes, size_t n);
void dd_pb_write_raw_varint(dd_pb_writer *w, uint64_t v);
void dd_pb_write_tag(dd_pb_writer *w, uint32_t field, dd_pb_wire wire);
void dd_pb_write_varint(dd_pb_writer *w, uint32_t field, uint64_t v);
/* int32/int64 fields: negative values take 10 bytes (two's complement). */
void dd_pb_write_int64(dd_pb_writer *w, uint32_t field, int64_t v);
void dd_pb_write_fixed32(dd_pb_writer *w, uint32_t field, uint32_t v);
void dd_pb_write_fixed64(dd_pb_writer *w, uint32_t field, uint64_t v);
void dd_pb_write_float(dd_pb_writer *w, uint32_t field, float v);
void dd_pb_write_bytes(dd_pb_writer *w, uint32_t field, const void *bytes, size_t n);
void dd_pb_write_string(dd_pb_writer *w, uint32_t field, const char *s);
size_t dd_pb_write_begin(dd_pb_writer *w, uint32_t field);
void dd_pb_write_end(dd_pb_writer *w, size_t mark);

#endif /* DD_PROTOBUF_H */
