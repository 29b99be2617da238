/* fuzz_model.c — libFuzzer target: model load, then a small forward and a
 * gradient. The input is a GraphDef; a model that loads is run on a small
 * image (size from the last input byte) to its last dream layer (or its last
 * node) forward, the DeepDream gradient of its first dream layer, and an
 * objective on its first two dream layers (one pass, two targets).
 * Failures must carry a status and a message; successes must give finite
 * shapes that fit the buffers. Build and run: tests/fuzz/run_fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deepdream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(dd_status s, const dd_error *err) {
  if (s >= 0 || err->status != s) __builtin_trap();
  if (!memchr(err->message, '\0', sizeof err->message) || err->message[0] == '\0') __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dd_model_options o;
  dd_model_options_init(&o);
  o.num_threads = 1;
  dd_model *m = NULL;
  dd_error err;
  memset(&err, 0, sizeof err);
  dd_status s = dd_model_load_graphdef(data, size, &o, &m, &err);
  if (s != DD_OK) {
    check_error(s, &err);
    if (m) __builtin_trap();
    return 0;
  }
  const int side = 1 + (size ? data[size - 1] % 48 : 16);
  float *in = (float *)calloc((size_t)side * side * 3, sizeof(float));
  float *grad = (float *)calloc((size_t)side * side * 3, sizeof(float));
  for (int i = 0; i < side * side * 3; i++) in[i] = (float)((i * 37) % 255);
  dd_layer_info info;
  const char *node = NULL;
  int layers = dd_model_layer_count(m);
  if (layers > 0 && dd_model_layer_info(m, layers - 1, &info, &err) == DD_OK) node = info.name;
  if (node) {
    int shape[4];
    s = dd_model_forward(m, in, side, side, node, NULL, 0, shape, &err);
    if (s == DD_OK) {
      size_t n = 1;
      for (int k = 0; k < 4; k++) {
        if (shape[k] < 1 || shape[k] > (1 << 24)) __builtin_trap();
        n *= (size_t)shape[k];
      }
      float *out = n <= ((size_t)1 << 22) ? (float *)malloc(n * sizeof(float)) : NULL;
      if (out) {
        s = dd_model_forward(m, in, side, side, node, out, n, shape, &err);
        if (s != DD_OK) check_error(s, &err);
        free(out);
      }
    } else {
      check_error(s, &err);
    }
    dd_objective obj;
    memset(&obj, 0, sizeof obj);
    obj.layer_index = 0;
    float loss = 0;
    s = dd_model_gradient(m, in, side, side, &obj, grad, &loss, &err);
    if (s != DD_OK) check_error(s, &err);
    /* an objective on the first two dream layers: one pass with two
       targets (dd_exec_seeds_gradient) */
    if (layers > 1) {
      double value = 0;
      s = dd_model_objective_gradient(m, in, side, side, "square(0)+0.5*channel(1,0)", NULL, 0, 0, grad, &value, &err);
      if (s != DD_OK) check_error(s, &err);
    }
  }
  free(in);
  free(grad);
  dd_model_free(m);
  return 0;
}
