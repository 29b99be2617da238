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
#include "instance_pool.h"

EMSCRIPTEN_KEEPALIVE int ddw_error_size(void) { return (int)sizeof(dd_error); }
EMSCRIPTEN_KEEPALIVE const char *ddw_error_message(const dd_error *e) { return e->message; }
EMSCRIPTEN_KEEPALIVE int ddw_error_status(const dd_error *e) { return (int)e->status; }
EMSCRIPTEN_KEEPALIVE const char *ddw_status_string(int s) { return dd_status_string((dd_status)s); }
EMSCRIPTEN_KEEPALIVE int ddw_backend_available(int b) { return dd_backend_available((dd_backend)b); }

/* Loads a GraphDef. `bytes` must come from malloc (dd_malloc): the model
   adopts it (and frees it on failure too). A threaded model runs on the
   instance's pool (instance_pool.c). Returns the model or 0. */
EMSCRIPTEN_KEEPALIVE dd_model *ddw_model_load(void *bytes, size_t len, int backend, int threads, dd_error *err) {
  dd_model_options o;
  dd_model_options_init(&o);
  o.backend = (dd_backend)backend;
  o.num_threads = threads;
  o.pool = ddw_instance_pool(threads);
  if (!o.pool) o.num_threads = 1; /* never a pool of its own next to the instance's */
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

/* ---- dream ---------------------------------------------------------------- */

EMSCRIPTEN_KEEPALIVE dd_dream *ddw_dream_begin(dd_model *m, const char *layer, int layer_index, const int *channels,
                                               int n_channels, int iterations, double step, int tile, int repeats,
                                               double rescale, double blend, double seed_lo, double seed_hi,
                                               double mean, int resample, const uint8_t *pixels, int w, int h, int c,
                                               dd_error *err) {
  dd_dream_options o;
  dd_dream_options_init(&o);
  o.objective.layer = layer && layer[0] ? layer : NULL;
  o.objective.layer_index = layer_index;
  o.objective.channels = channels;
  o.objective.n_channels = n_channels;
  o.num_iterations = iterations;
  o.step_size = step;
  o.tile_size = tile;
  o.num_repeats = repeats;
  o.rescale_factor = rescale;
  o.blend = blend;
  o.seed = ((uint64_t)(uint32_t)seed_hi << 32) | (uint32_t)seed_lo;
  o.input_mean = mean;
  o.resample = (dd_resample)resample;
  dd_dream *d = NULL;
  if (dd_dream_begin(m, &o, pixels, w, h, c, &d, err) != DD_OK) return NULL;
  return d;
}

/* progress: 18 doubles, see wasm/js/dream.js */
static void progress_out(const dd_progress *p, double *o) {
  double v[18] = {p->octave, p->num_octaves, p->iteration, p->num_iterations, p->tile, p->num_tiles,
                  (double)p->tiles_done, (double)p->tiles_total, p->fraction, p->tile_x, p->tile_y, p->tile_w,
                  p->tile_h, p->image_w, p->image_h, p->grad_min, p->grad_max, p->step_scaled};
  memcpy(o, v, sizeof v);
}

EMSCRIPTEN_KEEPALIVE int ddw_dream_step(dd_dream *d, int max_tiles, double *progress, dd_error *err) {
  dd_progress p;
  memset(&p, 0, sizeof p);
  dd_status s = dd_dream_step(d, max_tiles, &p, err);
  if (progress) progress_out(&p, progress);
  return s;
}

EMSCRIPTEN_KEEPALIVE int ddw_dream_size(const dd_dream *d, int *wh) { return dd_dream_current_size(d, wh, wh + 1); }
EMSCRIPTEN_KEEPALIVE int ddw_dream_read_image(const dd_dream *d, uint8_t *px, size_t cap, dd_error *err) {
  return dd_dream_read_image(d, px, cap, err);
}
EMSCRIPTEN_KEEPALIVE int ddw_dream_read_gradient(const dd_dream *d, uint8_t *px, size_t cap, dd_error *err) {
  return dd_dream_read_gradient(d, px, cap, err);
}
/* out[0] = pointer (free with dd_free), out[1] = length */
EMSCRIPTEN_KEEPALIVE int ddw_dream_save_state(const dd_dream *d, uint32_t *out, dd_error *err) {
  void *bytes = NULL;
  size_t len = 0;
  dd_status s = dd_dream_save_state(d, &bytes, &len, err);
  out[0] = (uint32_t)(uintptr_t)bytes;
  out[1] = (uint32_t)len;
  return s;
}
EMSCRIPTEN_KEEPALIVE dd_dream *ddw_dream_restore(dd_model *m, const void *bytes, size_t len, dd_error *err) {
  dd_dream *d = NULL;
  if (dd_dream_restore(m, bytes, len, &d, err) != DD_OK) return NULL;
  return d;
}
EMSCRIPTEN_KEEPALIVE void ddw_dream_free(dd_dream *d) { dd_dream_free(d); }

/* The model file bytes the model adopted (for model.save), and their length. */
#include "api/model_internal.h"
EMSCRIPTEN_KEEPALIVE const void *ddw_model_bytes(const dd_model *m) { return m ? m->adopted : NULL; }

/* ---- images (stb) ------------------------------------------------------------ */
#include "dream/image.h"
/* info[0..2] = width, height, channels; returns pixels (dd_free) or 0. */
EMSCRIPTEN_KEEPALIVE uint8_t *ddw_image_decode(const uint8_t *bytes, size_t len, int *info, dd_error *err) {
  uint8_t *px = NULL;
  if (dd_image_decode(bytes, len, &info[0], &info[1], &info[2], &px, err) != DD_OK) return NULL;
  return px;
}
/* format 0 = PNG, 1 = JPEG; out[0] = pointer (dd_free), out[1] = length. */
EMSCRIPTEN_KEEPALIVE int ddw_image_encode(const uint8_t *px, int w, int h, int c, int format, int quality,
                                          uint32_t *out, dd_error *err) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  dd_status s = format == 1 ? dd_image_encode_jpeg(px, w, h, c, quality, &bytes, &len, err)
                            : dd_image_encode_png(px, w, h, c, &bytes, &len, err);
  out[0] = (uint32_t)(uintptr_t)bytes;
  out[1] = (uint32_t)len;
  return s;
}

/* ---- profile ------------------------------------------------------------------ */
#include <stdio.h>
/* Runs one gradient step on `input` (h x w x 3) twice (warm-up, then timed per
   op) and prints the per-op table to stdout. Returns the status. */
EMSCRIPTEN_KEEPALIVE int ddw_model_profile(dd_model *m, const float *input, int h, int w, const char *layer,
                                           int layer_index, float *grad, dd_error *err) {
  dd_objective o = {layer && layer[0] ? layer : NULL, layer_index, NULL, 0};
  /* warm-up: V8 runs a wasm function's first calls in its baseline tier and
     swaps in optimised code only for later calls (no on-stack replacement) */
  dd_status s = DD_OK;
  for (int i = 0; i < 3 && s == DD_OK; i++) s = dd_model_gradient(m, input, h, w, &o, grad, NULL, err);
  if (s != DD_OK) return s;
  dd_exec_set_profile(m->exec, 1);
  s = dd_model_gradient(m, input, h, w, &o, grad, NULL, err);
  dd_exec_profile_print(m->exec, stdout);
  printf("activation arena peak %.1f MiB\n", dd_exec_arena_peak(m->exec) / 1048576.0);
  fflush(stdout);
  dd_exec_set_profile(m->exec, 0);
  return s;
}
