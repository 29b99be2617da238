/* sniff.c — file signatures; see sniff.h. */
#include "sniff.h"

#include <string.h>

static int starts(const uint8_t *b, size_t len, const char *magic, size_t n) {
  return len >= n && memcmp(b, magic, n) == 0;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int starts_ci(const uint8_t *b, size_t len, const char *word) {
  size_t n = strlen(word);
  if (len < n) return 0;
  for (size_t i = 0; i < n; i++)
    if (lower(b[i]) != word[i]) return 0;
  return 1;
}

/* ONNX ModelProto and TF SavedModel both open with field 1 as a varint (tag
   0x08); a GraphDef opens with field 1 as a message (tag 0x0a). ONNX's field 1
   is ir_version (3..~12 in the wild) followed by producer_name (2), producer_
   version (3), domain (4), model_version (5), doc_string (6), graph (7) or
   opset_import (8); SavedModel's is saved_model_schema_version (1) followed by
   meta_graphs (2). */
static dd_file_kind sniff_varint_first(const uint8_t *b, size_t len) {
  if (len < 3 || b[0] != 0x08 || b[1] > 0x7f) return DD_FILE_UNKNOWN;
  uint8_t v = b[1], tag = b[2];
  if (v == 1 && tag == 0x12) return DD_FILE_SAVED_MODEL;
  int field = tag >> 3, wire = tag & 7;
  if (v >= 2 && v <= 64 && field >= 2 && field <= 8 && (wire == 2 || (field == 5 && wire == 0)))
    return DD_FILE_ONNX;
  return DD_FILE_UNKNOWN;
}

dd_file_kind dd_sniff(const uint8_t *b, size_t len) {
  if (!b || len == 0) return DD_FILE_EMPTY;
  if (len > DD_SNIFF_BYTES) len = DD_SNIFF_BYTES;
  if (starts(b, len, "PK\x03\x04", 4) || starts(b, len, "PK\x05\x06", 4)) return DD_FILE_ZIP;
  if (starts(b, len, "\x1f\x8b", 2)) return DD_FILE_GZIP;
  if (starts(b, len, "\x89PNG\r\n\x1a\n", 8)) return DD_FILE_PNG;
  if (starts(b, len, "\xff\xd8\xff", 3)) return DD_FILE_JPEG;
  if (starts(b, len, "GIF87a", 6) || starts(b, len, "GIF89a", 6)) return DD_FILE_GIF;
  if (len >= 12 && starts(b, len, "RIFF", 4) && memcmp(b + 8, "WEBP", 4) == 0) return DD_FILE_WEBP;
  if (starts(b, len, "\x89HDF\r\n\x1a\n", 8)) return DD_FILE_HDF5;
  if (len >= 8 && memcmp(b + 4, "TFL3", 4) == 0) return DD_FILE_TFLITE;
  /* text: skip a UTF-8 BOM and leading white space */
  size_t i = starts(b, len, "\xef\xbb\xbf", 3) ? 3 : 0;
  while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
  if (i < len && b[i] == '<' &&
      (starts_ci(b + i, len - i, "<!doctype html") || starts_ci(b + i, len - i, "<html") ||
       starts_ci(b + i, len - i, "<head") || starts_ci(b + i, len - i, "<!--") || starts_ci(b + i, len - i, "<?xml")))
    return DD_FILE_HTML;
  /* JSON: '{' then '"' (white space between). A GraphDef opens with 0x0a ('\n', its
     field 1), so a leading line feed never counts as JSON's white space. */
  if (b[0] != '\n' && i < len && b[i] == '{') {
    size_t j = i + 1;
    while (j < len && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n')) j++;
    if (j < len && (b[j] == '"' || b[j] == '}')) return DD_FILE_JSON;
  }
  return sniff_varint_first(b, len);
}

static const char *const describe[DD_FILE_KIND_COUNT] = {
    [DD_FILE_UNKNOWN] = "",
    [DD_FILE_EMPTY] = "an empty file",
    [DD_FILE_ZIP] = "a ZIP archive",
    [DD_FILE_GZIP] = "a gzip-compressed file",
    [DD_FILE_PNG] = "a PNG image",
    [DD_FILE_JPEG] = "a JPEG image",
    [DD_FILE_GIF] = "a GIF image",
    [DD_FILE_WEBP] = "a WebP image",
    [DD_FILE_HTML] = "an HTML or XML page",
    [DD_FILE_JSON] = "a JSON file",
    [DD_FILE_HDF5] = "an HDF5 file (a Keras .h5 model)",
    [DD_FILE_TFLITE] = "a TensorFlow Lite model",
    [DD_FILE_ONNX] = "an ONNX model",
    [DD_FILE_SAVED_MODEL] = "a TensorFlow SavedModel (saved_model.pb)",
};

static const char *const advice[DD_FILE_KIND_COUNT] = {
    [DD_FILE_ZIP] = "Unzip it first (inception5h.zip holds tensorflow_inception_graph.pb), or give the .zip to the "
                    "JS API, the page or the Node CLI, which unpack it.",
    [DD_FILE_GZIP] = "Decompress it first.",
    [DD_FILE_PNG] = "Images go to the dream, not to the model.",
    [DD_FILE_JPEG] = "Images go to the dream, not to the model.",
    [DD_FILE_GIF] = "Images go to the dream, not to the model.",
    [DD_FILE_WEBP] = "Images go to the dream, not to the model.",
    [DD_FILE_HTML] = "A download link probably returned a web page instead of the file.",
    [DD_FILE_JSON] = "A TensorFlow.js model.json is not supported; use the frozen GraphDef (.pb).",
    [DD_FILE_SAVED_MODEL] = "Freeze it into a GraphDef (.pb) first.",
};

const char *dd_file_kind_describe(dd_file_kind kind) {
  return (unsigned)kind < DD_FILE_KIND_COUNT && describe[kind] ? describe[kind] : "";
}

const char *dd_file_kind_advice(dd_file_kind kind) {
  return (unsigned)kind < DD_FILE_KIND_COUNT && advice[kind] ? advice[kind] : "";
}
