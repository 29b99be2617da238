/* fuzz_onnx.c — libFuzzer target for the ONNX importer (src/formats/onnx.c).
 *
 * A successful import must validate, index every name, and have readable
 * constants (first and last values read, so ASan checks the pointers); a
 * small one (at most 4 MB of constants) is then planned and run on the
 * reference backend: forward to its last node and the DeepDream gradient of
 * it, on an image whose size comes from the last input byte. A failure must
 * carry a status and a NUL-terminated, non-empty message. Seeds: made at run
 * time by tests/fuzz/make_onnx_corpus.py (python3-onnx); dictionary:
 * tests/fuzz/onnx.dict. Build and run: tests/fuzz/run_fuzz.sh 60 onnx. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "formats/onnx.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const dd_graph *g, int side) {
  int target = -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op != DD_OP_CONST) target = i;
  dd_exec *e = NULL;
  dd_error err;
  memset(&err, 0, sizeof err);
  dd_status s = dd_exec_create(g, dd_kernels_reference(), NULL, 1, &e, &err);
  if (s != DD_OK) {
    fuzz_check_error(s, &err);
    return;
  }
  const int c = 3;
  float *in = (float *)calloc((size_t)side * side * c, sizeof(float));
  float *grad = (float *)calloc((size_t)side * side * c, sizeof(float));
  for (int i = 0; i < side * side * c; i++) in[i] = (float)((i * 37) % 255) / 64.0f;
  dd_shape shape = dd_shape4(1, side, side, c), out;
  s = dd_exec_output_shape(e, target, shape, &out, &err);
  if (s == DD_OK && dd_shape_count(out) <= ((size_t)1 << 22)) {
    dd_tensor t;
    s = dd_exec_forward(e, target, in, shape, &t, &err);
    if (s != DD_OK) fuzz_check_error(s, &err);
    float loss;
    s = dd_exec_objective_gradient(e, target, NULL, 0, in, shape, grad, &loss, &err);
    if (s != DD_OK) fuzz_check_error(s, &err);
  } else if (s != DD_OK) {
    fuzz_check_error(s, &err);
  }
  free(in);
  free(grad);
  dd_exec_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dd_graph g;
  dd_error err;
  memset(&err, 0, sizeof err);
  dd_status s = dd_onnx_import(data, size, &g, &err);
  if (s != DD_OK) {
    fuzz_check_error(s, &err);
    return 0;
  }
  if (dd_graph_validate(&g, &err) != DD_OK) __builtin_trap(); /* import promises a valid graph */
  for (int i = 0; i < g.n_nodes; i++)
    if (dd_graph_find(&g, g.nodes[i].name) != i) __builtin_trap();
  if (fuzz_touch_constants(&g) <= ((size_t)4 << 20)) run(&g, 1 + (size ? data[size - 1] % 24 : 8));
  dd_graph_free(&g);
  return 0;
}
