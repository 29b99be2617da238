/* test_sniff.c — a wrong file given as a model is named in a sentence a
 * person understands; a real GraphDef is never mistaken for anything else. */
#include <stdlib.h>
#include <string.h>

#include "deepdream.h"
#include "formats/sniff.h"
#include "testutil.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_signatures(void) {
  CHECK(dd_sniff(NULL, 0) == DD_FILE_EMPTY);
  CHECK(dd_sniff(B("PK\x03\x04\x14\x00\x00\x00")) == DD_FILE_ZIP);
  CHECK(dd_sniff(B("\x1f\x8b\x08\x00")) == DD_FILE_GZIP);
  CHECK(dd_sniff(B("\x89PNG\r\n\x1a\n\0\0\0\rIHDR")) == DD_FILE_PNG);
  CHECK(dd_sniff(B("\xff\xd8\xff\xe0\0\x10JFIF")) == DD_FILE_JPEG);
  CHECK(dd_sniff(B("GIF89a\x01\0")) == DD_FILE_GIF);
  CHECK(dd_sniff(B("RIFF\x10\0\0\0WEBPVP8 ")) == DD_FILE_WEBP);
  CHECK(dd_sniff(B("\n  <!DOCTYPE html><html>")) == DD_FILE_HTML);
  CHECK(dd_sniff(B("<HTML><body>404</body>")) == DD_FILE_HTML);
  CHECK(dd_sniff(B("{\n  \"format\": \"graph-model\"")) == DD_FILE_JSON);
  CHECK(dd_sniff(B("\x89HDF\r\n\x1a\n")) == DD_FILE_HDF5);
  CHECK(dd_sniff(B("\x1c\0\0\0TFL3\0\0")) == DD_FILE_TFLITE);
  /* ONNX: ir_version 7, producer_name "pytorch" */
  CHECK(dd_sniff(B("\x08\x07\x12\x07pytorch")) == DD_FILE_ONNX);
  /* ONNX: ir_version 3, graph (field 7) first */
  CHECK(dd_sniff(B("\x08\x03\x3a\x10")) == DD_FILE_ONNX);
  /* SavedModel: saved_model_schema_version 1, meta_graphs */
  CHECK(dd_sniff(B("\x08\x01\x12\x80\x01")) == DD_FILE_SAVED_MODEL);
  /* GraphDef openings: node (field 1, LEN) whose length byte is '<' or '{' */
  CHECK(dd_sniff(B("\n<\n\x05input\x12\x0bPlaceholder")) == DD_FILE_UNKNOWN);
  CHECK(dd_sniff(B("\n{\n\"abcdefghijklmnopqrstuvwxyz0123456789")) == DD_FILE_UNKNOWN);
  CHECK(dd_sniff(B("\n\x0f\n\x05input\x12\x06")) == DD_FILE_UNKNOWN);
  for (int k = 0; k < DD_FILE_KIND_COUNT; k++) CHECK(dd_file_kind_describe((dd_file_kind)k) != NULL);
  CHECK(strcmp(dd_file_kind_describe((dd_file_kind)999), "") == 0);
}

static void expect_named(const uint8_t *bytes, size_t len, const char *sentence) {
  dd_model *m = NULL;
  dd_error err = {0};
  dd_status s = dd_model_load_graphdef(bytes, len, NULL, &m, &err);
  CHECKF(s != DD_OK && m == NULL, "expected a failure for '%s'", sentence);
  CHECKF(strncmp(err.message, sentence, strlen(sentence)) == 0, "message '%s' does not start with '%s'", err.message,
         sentence);
}

static void test_model_load_names_the_file(void) {
  expect_named((const uint8_t *)"", 0, "the model file is empty");
  const char *img = test_shared_path("images/hulk.jpg");
  if (img) {
    size_t n = 0;
    unsigned char *b = test_read_file(img, &n);
    CHECK(b != NULL);
    if (b) expect_named(b, n, "this is a JPEG image, not a TensorFlow GraphDef model (.pb). Images go");
    free(b);
  }
  expect_named(B("PK\x03\x04\x14\x00\x00\x00\x08\x00tensorflow_inception_graph.pb"),
               "this is a ZIP archive, not a TensorFlow GraphDef model (.pb). Unzip it first");
  expect_named(B("<!doctype html><title>404 Not Found</title>"), "this is an HTML or XML page");
  expect_named(B("\x08\x07\x12\x07pytorch\x1a\x03\x32\x2e\x30"), "this is an ONNX model");
  /* the protobuf reader's words stay as the detail */
  dd_model *m = NULL;
  dd_error err = {0};
  dd_model_load_graphdef(B("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), NULL, &m, &err);
  CHECKF(strstr(err.message, "(detail: ") != NULL, "no detail in '%s'", err.message);
  CHECK(err.status == DD_ERR_PARSE || err.status == DD_ERR_UNSUPPORTED);
}

static void test_graphdef_still_loads(void) {
  /* a real GraphDef (the stand-in) is never named as something else */
  const char *p = test_shared_path("models/inception5h-standin.pb");
  if (!p) return;
  size_t n = 0;
  unsigned char *b = test_read_file(p, &n);
  CHECK(b != NULL);
  if (!b) return;
  CHECK(dd_sniff(b, n) == DD_FILE_UNKNOWN);
  free(b);
}

int main(void) {
  TEST_RUN(test_signatures);
  TEST_RUN(test_model_load_names_the_file);
  TEST_RUN(test_graphdef_still_loads);
  return test_summary();
}
