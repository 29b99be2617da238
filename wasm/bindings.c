/* bindings.c — flat, scalar-argument entry points for JavaScript.
 *
 * The public C API (include/deepdream.h) takes structs; JS finds it easier to
 * pass numbers and pointers. These wrappers build the structs and forward.
 * A dd_error lives in wasm memory: JS allocates ddw_error_size() bytes and
 * reads status (int32 at +0) and the message (UTF-8 at ddw_error_message()).
 */
#include <emscripten.h>
#include <stdlib.h>
#include <string.h>

#include "deepdream.h"

EMSCRIPTEN_KEEPALIVE int ddw_error_size(void) { return (int)sizeof(dd_error); }
EMSCRIPTEN_KEEPALIVE const char *ddw_error_message(const dd_error *e) { return e->message; }
EMSCRIPTEN_KEEPALIVE int ddw_error_status(const dd_error *e) { return (int)e->status; }
EMSCRIPTEN_KEEPALIVE const char *ddw_status_string(int s) { return dd_status_string((dd_status)s); }
EMSCRIPTEN_KEEPALIVE int ddw_backend_available(int b) { return dd_backend_available((dd_backend)b); }

/* Loads a GraphDef. `bytes` must come from malloc (dd_malloc): the model
   adopts it (and frees it on failure too). Returns the model or 0. */
EMSCRIPTEN_KEEPALIVE dd_model *ddw_model_load(void *bytes, size_t len, int backend, int threads, dd_error *err) {
  dd_model_options o;
  dd_model_options_init(&o);
  o.backend = (dd_backend)backend;
  o.num_threads = threads;
  o.adopt_buffer = 1;
  dd_model *m = NULL;
  if (dd_model_load_graphdef(bytes, len, &o, &m, err) != DD_OK) return NULL;
  return m;
}

EMSCRIPTEN_KEEPALIVE int ddw_model_layer_count(const dd_model *m) { return dd_model_layer_count(m); }
EMSCRIPTEN_KEEPALIVE int ddw_model_conv_layer_count(const dd_model *m) { return dd_model_conv_layer_count(m); }

/* info[0] = channels, info[1] = node index; returns the name or 0. */
static const char *info_out(dd_status s, const dd_layer_info *li, int *info) {
  if (s != DD_OK) return NULL;
  info[0] = li->channels;
  info[1] = li->node_index;
  return li->name;
}
EMSCRIPTEN_KEEPALIVE const char *ddw_model_layer(const dd_model *m, int i, int *info) {
  dd_layer_info li;
  return info_out(dd_model_layer_info(m, i, &li, NULL), &li, info);
}
EMSCRIPTEN_KEEPALIVE const char *ddw_model_conv_layer(const dd_model *m, int i, int *info) {
  dd_layer_info li;
  return info_out(dd_model_conv_layer_info(m, i, &li, NULL), &li, info);
}
EMSCRIPTEN_KEEPALIVE const char *ddw_model_find_node(const dd_model *m, const char *name, int *info, dd_error *err) {
  dd_layer_info li;
  return info_out(dd_model_find_node(m, name, &li, err), &li, info);
}
EMSCRIPTEN_KEEPALIVE double ddw_model_fingerprint(const dd_model *m, int half) {
  uint64_t f = dd_model_fingerprint(m);
  return (double)(uint32_t)(half ? f >> 32 : f);
}

EMSCRIPTEN_KEEPALIVE int ddw_model_forward(dd_model *m, const float *input, int h, int w, const char *node, float *out,
                                           size_t cap, int *shape, dd_error *err) {
  return dd_model_forward(m, input, h, w, node, out, cap, shape, err);
}

EMSCRIPTEN_KEEPALIVE int ddw_model_gradient(dd_model *m, const float *input, int h, int w, const char *layer,
                                            int layer_index, const int *channels, int n_channels, float *grad,
                                            float *loss, dd_error *err) {
  dd_objective o = {layer && layer[0] ? layer : NULL, layer_index, channels, n_channels};
  return dd_model_gradient(m, input, h, w, &o, grad, loss, err);
}

EMSCRIPTEN_KEEPALIVE void ddw_model_free(dd_model *m) { dd_model_free(m); }
