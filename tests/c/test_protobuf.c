/* test_protobuf.c — the bounded wire-format reader and the writer. */
#include <stdlib.h>
#include <string.h>

#include "formats/protobuf.h"
#include "testutil.h"

/* A heap copy of exactly n bytes, so ASan catches any read past the end. */
static uint8_t *exact(const void *p, size_t n) {
  uint8_t *b = (uint8_t *)malloc(n ? n : 1);
  if (n) memcpy(b, p, n);
  return b;
}

static int varint_ok(const uint8_t *bytes, size_t n, uint64_t *v, size_t *used) {
  uint8_t *b = exact(bytes, n);
  const uint8_t *p = b;
  int ok = dd_pb_read_varint(&p, b + n, v);
  *used = (size_t)(p - b);
  free(b);
  return ok;
}

static void test_varint_edges(void) {
  uint64_t v;
  size_t used;
  const uint8_t zero[] = {0x00}, one27[] = {0x7f}, one28[] = {0x80, 0x01}, v300[] = {0xac, 0x02};
  CHECK(varint_ok(zero, 1, &v, &used) && v == 0 && used == 1);
  CHECK(varint_ok(one27, 1, &v, &used) && v == 127 && used == 1);
  CHECK(varint_ok(one28, 2, &v, &used) && v == 128 && used == 2);
  CHECK(varint_ok(v300, 2, &v, &used) && v == 300 && used == 2);
  /* UINT64_MAX: 9 bytes of 0xff then 0x01 = 10 bytes, the maximum. */
  uint8_t max[10];
  memset(max, 0xff, 9);
  max[9] = 0x01;
  CHECK(varint_ok(max, 10, &v, &used) && v == UINT64_MAX && used == 10);
  /* -1 as an int32 field: the same 10 bytes. */
  CHECK((int32_t)v == -1);
  /* 10th byte with bits beyond 64: rejected. */
  max[9] = 0x02;
  CHECK(!varint_ok(max, 10, &v, &used));
  /* Overlong: 11 bytes (10 continuation bytes). */
  uint8_t over[11];
  memset(over, 0x80, 10);
  over[10] = 0x00;
  CHECK(!varint_ok(over, 11, &v, &used));
  /* Redundant zero padding within 10 bytes is valid protobuf: 0x80 x9 then 0x00. */
  uint8_t pad[10];
  memset(pad, 0x80, 9);
  pad[9] = 0x00;
  CHECK(varint_ok(pad, 10, &v, &used) && v == 0 && used == 10);
  /* Truncated at every length. */
  for (size_t n = 0; n < 10; n++) CHECKF(!varint_ok(max, n, &v, &used), "truncated at %zu", n);
  /* Packed counts. */
  size_t count = 99;
  const uint8_t packed[] = {0x01, 0xac, 0x02, 0x7f};
  CHECK_OK(dd_pb_packed_varint_count(packed, 4, &count, NULL));
  CHECK(count == 3);
  dd_error err = {0};
  CHECK(dd_pb_packed_varint_count(packed, 2, &count, &err) == DD_ERR_PARSE);
  CHECK(strstr(err.message, "packed") != NULL);
  CHECK_OK(dd_pb_packed_varint_count(packed, 0, &count, NULL));
  CHECK(count == 0);
}

/* One field of every wire type, plus a nested group. */
static const uint8_t every_type[] = {
    0x08, 0x96, 0x01,                                     /* 1: varint 150 */
    0x11, 1, 2, 3, 4, 5, 6, 7, 8,                         /* 2: fixed64 */
    0x1a, 0x03, 'a', 'b', 'c',                            /* 3: "abc" */
    0x25, 0x00, 0x00, 0x80, 0x3f,                         /* 4: fixed32 1.0f */
    0x2b, 0x08, 0x01, 0x33, 0x38, 0x02, 0x34, 0x2c,       /* 5: group { 1: 1, 6: group { 7: 2 } } */
    0xf8, 0xff, 0xff, 0xff, 0x0f, 0x05,                   /* 536870911 (max field number): varint 5 */
};
#define EVERY_TYPE_FIELDS 6
/* Byte offsets where each field ends. */
static const size_t every_type_ends[EVERY_TYPE_FIELDS] = {3, 12, 17, 22, 30, 36};

static void test_every_wire_type(void) {
  uint8_t *b = exact(every_type, sizeof every_type);
  dd_pb_reader r;
  dd_pb_field f;
  dd_pb_reader_init(&r, b, sizeof every_type);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 1 && f.wire == DD_PB_VARINT && f.u64 == 150 && f.offset == 0);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 2 && f.wire == DD_PB_FIXED64 && f.u64 == 0x0807060504030201ULL);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 3 && f.wire == DD_PB_LEN && f.len == 3 && memcmp(f.data, "abc", 3) == 0);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 4 && f.wire == DD_PB_FIXED32 && dd_pb_bits_to_float((uint32_t)f.u64) == 1.0f);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 5 && f.wire == DD_PB_START_GROUP && f.len == 6 && f.data == b + 23);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == DD_PB_MAX_FIELD_NUMBER && f.wire == DD_PB_VARINT && f.u64 == 5);
  CHECK(dd_pb_next(&r, &f, NULL) == DD_DONE);
  CHECK(dd_pb_next(&r, &f, NULL) == DD_DONE); /* stays done */
  free(b);
}

static void test_truncation_every_byte(void) {
  for (size_t n = 0; n <= sizeof every_type; n++) {
    uint8_t *b = exact(every_type, n);
    dd_pb_reader r;
    dd_pb_field f;
    dd_error err = {0};
    dd_pb_reader_init(&r, b, n);
    int fields = 0;
    dd_status s;
    while ((s = dd_pb_next(&r, &f, &err)) == DD_OK) fields++;
    /* Complete fields before the cut are read; a cut inside a field is an error. */
    int complete = 0;
    int boundary = n == 0;
    for (int k = 0; k < EVERY_TYPE_FIELDS; k++) {
      if (every_type_ends[k] <= n) complete++;
      if (every_type_ends[k] == n) boundary = 1;
    }
    CHECKF(fields == complete, "cut at %zu: %d fields, expected %d", n, fields, complete);
    if (boundary) {
      CHECKF(s == DD_DONE, "cut at field boundary %zu gave %d", n, (int)s);
    } else {
      CHECKF(s == DD_ERR_PARSE, "cut at %zu gave %d", n, (int)s);
      CHECKF(strstr(err.message, "protobuf:") != NULL && strstr(err.message, "byte") != NULL,
             "message: %s", err.message);
    }
    free(b);
  }
}

static dd_status read_all(const uint8_t *bytes, size_t n, dd_error *err, int *fields) {
  uint8_t *b = exact(bytes, n);
  dd_pb_reader r;
  dd_pb_field f;
  dd_pb_reader_init(&r, b, n);
  dd_status s;
  *fields = 0;
  while ((s = dd_pb_next(&r, &f, err)) == DD_OK) (*fields)++;
  free(b);
  return s;
}

static void expect_parse_error(const char *what, const uint8_t *bytes, size_t n, const char *needle) {
  dd_error err = {0};
  int fields;
  dd_status s = read_all(bytes, n, &err, &fields);
  CHECKF(s == DD_ERR_PARSE, "%s: status %d", what, (int)s);
  CHECKF(err.status == DD_ERR_PARSE, "%s: err.status %d", what, (int)err.status);
  CHECKF(strstr(err.message, needle) != NULL, "%s: message '%s' lacks '%s'", what, err.message, needle);
}

static void test_malformed(void) {
  const uint8_t huge_len[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'x'};
  expect_parse_error("huge length", huge_len, sizeof huge_len, "declares 4294967295 bytes");
  const uint8_t huge64[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  expect_parse_error("2^63 length", huge64, sizeof huge64, "declares");
  const uint8_t len_past[] = {0x0a, 0x05, 'a', 'b'};
  expect_parse_error("length past end", len_past, sizeof len_past, "only 2 remain");
  const uint8_t wire6[] = {0x0e, 0x00};
  expect_parse_error("wire type 6", wire6, sizeof wire6, "invalid wire type 6");
  const uint8_t wire7[] = {0x0f};
  expect_parse_error("wire type 7", wire7, sizeof wire7, "invalid wire type 7");
  const uint8_t field0[] = {0x00, 0x01};
  expect_parse_error("field 0", field0, sizeof field0, "field number 0");
  const uint8_t big_field[] = {0x80, 0x80, 0x80, 0x80, 0x10, 0x00}; /* field 2^29 */
  expect_parse_error("field 2^29", big_field, sizeof big_field, "larger than 32 bits");
  const uint8_t tag64[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00}; /* tag > 32 bits */
  expect_parse_error("tag > 32 bits", tag64, sizeof tag64, "larger than 32 bits");
  const uint8_t lone_end[] = {0x0c};
  expect_parse_error("lone end group", lone_end, sizeof lone_end, "without a matching start");
  const uint8_t mismatched[] = {0x0b, 0x14}; /* start 1, end 2 */
  expect_parse_error("mismatched group", mismatched, sizeof mismatched, "closes a group of field 1");
  const uint8_t unclosed[] = {0x0b, 0x08, 0x01};
  expect_parse_error("unclosed group", unclosed, sizeof unclosed, "not closed");
  const uint8_t bad_in_group[] = {0x0b, 0x0a, 0x09, 0x0c};
  expect_parse_error("bad length in group", bad_in_group, sizeof bad_in_group, "declares 9");
  const uint8_t f32_short[] = {0x0d, 1, 2, 3};
  expect_parse_error("short fixed32", f32_short, sizeof f32_short, "fixed32");
  const uint8_t f64_short[] = {0x09, 1, 2, 3, 4, 5, 6, 7};
  expect_parse_error("short fixed64", f64_short, sizeof f64_short, "fixed64");
  uint8_t over_tag[12];
  memset(over_tag, 0x80, 11);
  over_tag[11] = 0;
  expect_parse_error("overlong tag", over_tag, sizeof over_tag, "tag at byte 0");

  /* Groups nested deeper than the limit. */
  uint8_t deep[2 * (DD_PB_MAX_DEPTH + 2)];
  size_t n = 0;
  for (int k = 0; k < DD_PB_MAX_DEPTH + 1; k++) deep[n++] = 0x0b;
  for (int k = 0; k < DD_PB_MAX_DEPTH + 1; k++) deep[n++] = 0x0c;
  expect_parse_error("deep groups", deep, n, "nests deeper");
  /* ... and exactly at the limit they are fine. */
  n = 0;
  for (int k = 0; k < DD_PB_MAX_DEPTH; k++) deep[n++] = 0x0b;
  for (int k = 0; k < DD_PB_MAX_DEPTH; k++) deep[n++] = 0x0c;
  int fields;
  CHECK(read_all(deep, n, NULL, &fields) == DD_DONE && fields == 1);
}

/* Unknown fields of every type are stepped over; the known field is found. */
static void test_skip_unknown(void) {
  uint8_t msg[sizeof every_type + 3];
  memcpy(msg, every_type, sizeof every_type);
  msg[sizeof every_type] = 0x38; /* field 7 varint 9 */
  msg[sizeof every_type + 1] = 0x09;
  msg[sizeof every_type + 2] = 0;
  uint8_t *b = exact(msg, sizeof every_type + 2);
  dd_pb_reader r;
  dd_pb_field f;
  dd_pb_reader_init(&r, b, sizeof every_type + 2);
  uint64_t got = 0;
  int seen = 0;
  dd_status s;
  while ((s = dd_pb_next(&r, &f, NULL)) == DD_OK)
    if (f.number == 7) {
      got = f.u64;
      seen++;
    }
  CHECK(s == DD_DONE && seen == 1 && got == 9);
  free(b);
}

static void test_enter_depth(void) {
  /* 40 nested messages of field 1; entering fails past DD_PB_MAX_DEPTH. */
  dd_pb_writer w;
  dd_pb_writer_init(&w);
  size_t marks[40];
  for (int k = 0; k < 40; k++) marks[k] = dd_pb_write_begin(&w, 1);
  dd_pb_write_varint(&w, 2, 7);
  for (int k = 39; k >= 0; k--) dd_pb_write_end(&w, marks[k]);
  CHECK_OK(dd_pb_writer_status(&w, NULL));
  dd_pb_reader r, sub;
  dd_pb_field f;
  dd_error err = {0};
  dd_pb_reader_init(&r, w.data, w.len);
  int depth = 0;
  dd_status s = DD_OK;
  while (s == DD_OK && dd_pb_next(&r, &f, NULL) == DD_OK && f.number == 1) {
    s = dd_pb_enter(&r, &f, &sub, &err);
    if (s == DD_OK) {
      r = sub;
      depth++;
    }
  }
  CHECK(s == DD_ERR_PARSE && depth == DD_PB_MAX_DEPTH);
  CHECK(strstr(err.message, "deeper") != NULL);
  /* Entering a non-length-delimited field is an error. */
  dd_pb_reader_init(&r, every_type, sizeof every_type);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(dd_pb_enter(&r, &f, &sub, &err) == DD_ERR_PARSE);
  CHECK(strstr(err.message, "varint") != NULL);
  dd_pb_writer_free(&w);
}

static void test_writer_round_trip(void) {
  dd_pb_writer w;
  dd_pb_writer_init(&w);
  char big[300];
  for (int k = 0; k < 300; k++) big[k] = (char)('a' + k % 26);
  dd_pb_write_varint(&w, 1, 150);
  dd_pb_write_int64(&w, 2, -2);
  dd_pb_write_fixed32(&w, 3, 0xdeadbeef);
  dd_pb_write_fixed64(&w, 4, 0x0123456789abcdefULL);
  dd_pb_write_float(&w, 5, -0.375f);
  dd_pb_write_string(&w, 6, "hello");
  size_t outer = dd_pb_write_begin(&w, 7);
  size_t inner = dd_pb_write_begin(&w, 1);
  dd_pb_write_bytes(&w, 2, big, sizeof big); /* > 127: two-byte lengths at both levels */
  dd_pb_write_end(&w, inner);
  dd_pb_write_varint(&w, 3, 1);
  dd_pb_write_end(&w, outer);
  dd_pb_write_varint(&w, DD_PB_MAX_FIELD_NUMBER, 0);
  CHECK_OK(dd_pb_writer_status(&w, NULL));

  uint8_t *b = exact(w.data, w.len);
  dd_pb_reader r, s1, s2;
  dd_pb_field f;
  dd_pb_reader_init(&r, b, w.len);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 1 && f.wire == DD_PB_VARINT && f.u64 == 150);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 2 && (int64_t)f.u64 == -2);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 3 && f.wire == DD_PB_FIXED32 && f.u64 == 0xdeadbeef);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 4 && f.wire == DD_PB_FIXED64 && f.u64 == 0x0123456789abcdefULL);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 5 && dd_pb_bits_to_float((uint32_t)f.u64) == -0.375f);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 6 && f.len == 5 && memcmp(f.data, "hello", 5) == 0);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == 7 && f.wire == DD_PB_LEN);
  CHECK_OK(dd_pb_enter(&r, &f, &s1, NULL));
  CHECK_OK(dd_pb_next(&s1, &f, NULL));
  CHECK(f.number == 1 && f.wire == DD_PB_LEN);
  CHECK_OK(dd_pb_enter(&s1, &f, &s2, NULL));
  CHECK_OK(dd_pb_next(&s2, &f, NULL));
  CHECK(f.number == 2 && f.len == sizeof big && memcmp(f.data, big, sizeof big) == 0);
  CHECK(dd_pb_next(&s2, &f, NULL) == DD_DONE);
  CHECK_OK(dd_pb_next(&s1, &f, NULL));
  CHECK(f.number == 3 && f.u64 == 1);
  CHECK(dd_pb_next(&s1, &f, NULL) == DD_DONE);
  CHECK_OK(dd_pb_next(&r, &f, NULL));
  CHECK(f.number == DD_PB_MAX_FIELD_NUMBER && f.u64 == 0);
  CHECK(dd_pb_next(&r, &f, NULL) == DD_DONE);
  /* Canonical encoding: int64 -2 takes 10 bytes, the nested lengths are minimal. */
  size_t expect = 3 + (1 + 10) + 5 + 9 + 5 + 7 + (1 + 2 + (1 + 2 + (1 + 2 + 300)) + 2) + (5 + 1);
  CHECKF(w.len == expect, "encoded %zu bytes, expected %zu", w.len, expect);
  free(b);
  dd_pb_writer_free(&w);
}

static void test_random_bytes(void) {
  /* Random input never crashes and always ends in DONE or a PARSE error. */
  test_rng rng;
  test_rng_seed(&rng, 7);
  for (int it = 0; it < 20000; it++) {
    size_t n = (size_t)test_randint(&rng, 0, 64);
    uint8_t *b = (uint8_t *)malloc(n ? n : 1);
    for (size_t k = 0; k < n; k++) b[k] = (uint8_t)test_randint(&rng, 0, 255);
    dd_pb_reader r;
    dd_pb_field f;
    dd_error err = {0};
    dd_pb_reader_init(&r, b, n);
    dd_status s;
    int guard = 0;
    while ((s = dd_pb_next(&r, &f, &err)) == DD_OK && guard++ < 1000) {
      CHECK(f.number >= 1 && f.number <= DD_PB_MAX_FIELD_NUMBER);
      if (f.wire == DD_PB_LEN || f.wire == DD_PB_START_GROUP)
        CHECK(f.data >= b && f.data + f.len <= b + n);
    }
    CHECK(s == DD_DONE || (s == DD_ERR_PARSE && err.message[0]));
    free(b);
  }
}

int main(void) {
  TEST_RUN(test_varint_edges);
  TEST_RUN(test_every_wire_type);
  TEST_RUN(test_truncation_every_byte);
  TEST_RUN(test_malformed);
  TEST_RUN(test_skip_unknown);
  TEST_RUN(test_enter_depth);
  TEST_RUN(test_writer_round_trip);
  TEST_RUN(test_random_bytes);
  return test_summary();
}
