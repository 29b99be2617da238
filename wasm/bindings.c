/* bindings.c — flat, scalar-argument entry points for JavaScript.
 *
 * The public C API (include/deepdream.h) takes structs; JS finds it easier to
 * pass numbers and pointers. These wrappers build the structs and forward.
 * A dd_error lives in wasm memory: JS allocates ddw_error_size() bytes and
 * reads status (int32 at +0) and the message (UTF-8 at ddw_error_message()).
 */
#include <emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepdream.h"
#include "deepdream_image.h"
#include "deepdream_options.h"
#include "deepdream_profile.h"
#include "instance_pool.h"

EMSCRIPTEN_KEEPALIVE int ddw_error_size(void) { return (int)sizeof(dd_error); }
EMSCRIPTEN_KEEPALIVE const char *ddw_error_message(const dd_error *e) { return e->message; }
EMSCRIPTEN_KEEPALIVE int ddw_error_status(const dd_error *e) { return (int)e->status; }
EMSCRIPTEN_KEEPALIVE const char *ddw_status_string(int s) { return dd_status_string((dd_status)s); }
/* The status list (DD_STATUS_LIST): JS reads names and values from here at load. */
EMSCRIPTEN_KEEPALIVE int ddw_status_count(void) { return dd_status_count(); }
EMSCRIPTEN_KEEPALIVE int ddw_status_at(int i) { return (int)dd_status_at(i); }

/* ---- the option table and the layouts (include/deepdream_options.h) ---------- */
EMSCRIPTEN_KEEPALIVE int ddw_option_count(void) { return dd_option_count(); }
/* nums: kind, min, max, open (4 doubles); strs: name, field, choices, arg, help
   (5 pointers, 0 for none). Returns 0 for an index out of range, else 1. */
EMSCRIPTEN_KEEPALIVE int ddw_option_describe(int i, double *nums, uint32_t *strs) {
  const dd_option_info *o = dd_option_at(i);
  if (!o) return 0;
  nums[0] = o->kind;
  nums[1] = o->min;
  nums[2] = o->max;
  nums[3] = o->open;
  const char *v[5] = {o->name, o->field, o->choices, o->arg, o->help};
  for (int k = 0; k < 5; k++) strs[k] = (uint32_t)(uintptr_t)v[k];
  return 1;
}
/* Checks `text` for option `name`; out: i, d, w, h (4 doubles). */
EMSCRIPTEN_KEEPALIVE int ddw_option_parse(const char *name, const char *text, double *out, dd_error *err) {
  dd_option_value v;
  dd_status s = dd_option_parse(name, text, &v, err);
  if (s != DD_OK) return s;
  out[0] = (double)v.i;
  out[1] = v.d;
  out[2] = v.w;
  out[3] = v.h;
  dd_free(v.channels);
  return DD_OK;
}
/* which: 0 = dd_dream_options, 1 = dd_progress. info: count, sizeof (2 words). */
static const dd_field *layout(int which, int *count, size_t *size) {
  return which == 0 ? dd_dream_options_layout(count, size) : which == 1 ? dd_progress_layout(count, size) : NULL;
}
EMSCRIPTEN_KEEPALIVE int ddw_layout(int which, uint32_t *info) {
  int n = 0;
  size_t size = 0;
  if (!layout(which, &n, &size)) return 0;
  info[0] = (uint32_t)n;
  info[1] = (uint32_t)size;
  return 1;
}
/* Field i of layout `which`: returns its name (0 out of range); out: offset, type. */
EMSCRIPTEN_KEEPALIVE const char *ddw_layout_field(int which, int i, uint32_t *out) {
  int n = 0;
  const dd_field *f = layout(which, &n, NULL);
  if (!f || i < 0 || i >= n) return NULL;
  out[0] = f[i].offset;
  out[1] = (uint32_t)f[i].type;
  return f[i].name;
}
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

/* The model description: nums[0] = bgr, nums[1..3] = mean, nums[4..6] =
   scale, nums[7] = default layer; name receives 32 bytes. */
EMSCRIPTEN_KEEPALIVE void ddw_model_description(const dd_model *m, float *nums, char *name) {
  dd_model_description d;
  dd_model_get_description(m, &d);
  nums[0] = (float)d.bgr;
  for (int c = 0; c < 3; c++) {
    nums[1 + c] = d.mean[c];
    nums[4 + c] = d.scale[c];
  }
  nums[7] = (float)d.default_layer;
  memcpy(name, d.name, sizeof d.name);
}
EMSCRIPTEN_KEEPALIVE int ddw_model_set_description(dd_model *m, const float *nums, const char *name, dd_error *err) {
  dd_model_description d;
  memset(&d, 0, sizeof d);
  snprintf(d.name, sizeof d.name, "%s", name ? name : "");
  d.bgr = (int)nums[0];
  for (int c = 0; c < 3; c++) {
    d.mean[c] = nums[1 + c];
    d.scale[c] = nums[4 + c];
  }
  d.default_layer = (int)nums[7];
  return dd_model_set_description(m, &d, err);
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
/* An objective expression's gradient (dd_model_objective_gradient); loss: a double. */
EMSCRIPTEN_KEEPALIVE int ddw_model_objective_gradient(dd_model *m, const float *input, int h, int w, const char *objective,
                                                      const float *guide, int gh, int gw, float *grad, double *loss,
                                                      dd_error *err) {
  return dd_model_objective_gradient(m, input, h, w, objective, guide, gh, gw, grad, loss, err);
}

EMSCRIPTEN_KEEPALIVE void ddw_model_free(dd_model *m) { dd_model_free(m); }

/* ---- dream ---------------------------------------------------------------- */

/* Dream options live in wasm memory as a dd_dream_options (the layout JS
   checked at load), set by name through the core's option table. */
EMSCRIPTEN_KEEPALIVE dd_dream_options *ddw_dream_options_new(void) {
  dd_dream_options *o = (dd_dream_options *)malloc(sizeof *o);
  if (o) dd_dream_options_init(o);
  return o;
}
EMSCRIPTEN_KEEPALIVE int ddw_dream_options_set(dd_dream_options *o, const char *name, const char *text, dd_error *err) {
  return dd_dream_options_set(o, name, text, err);
}
/* The guide image of guide(...) terms: w x h x c (3|4) bytes, which must stay
   valid until ddw_dream_begin returns (it copies what it needs). */
EMSCRIPTEN_KEEPALIVE void ddw_dream_options_guide(dd_dream_options *o, const uint8_t *pixels, int w, int h, int c) {
  if (!o) return;
  o->guide = pixels;
  o->guide_width = w;
  o->guide_height = h;
  o->guide_channels = c;
}
/* Frees the options and the channel list dd_dream_options_set allocated. */
EMSCRIPTEN_KEEPALIVE void ddw_dream_options_free(dd_dream_options *o) {
  if (!o) return;
  dd_free((void *)o->objective.channels);
  free(o);
}

EMSCRIPTEN_KEEPALIVE dd_dream *ddw_dream_begin(dd_model *m, const dd_dream_options *o, const uint8_t *pixels, int w,
                                               int h, int c, dd_error *err) {
  dd_dream *d = NULL;
  if (dd_dream_begin(m, o, pixels, w, h, c, &d, err) != DD_OK) return NULL;
  return d;
}

/* progress: a dd_progress (JS reads it through dd_progress_layout) */
EMSCRIPTEN_KEEPALIVE int ddw_dream_step(dd_dream *d, int max_tiles, dd_progress *progress, dd_error *err) {
  dd_progress p;
  memset(&p, 0, sizeof p);
  dd_status s = dd_dream_step(d, max_tiles, &p, err);
  if (progress) *progress = p;
  return s;
}

EMSCRIPTEN_KEEPALIVE int ddw_dream_size(const dd_dream *d, int *wh) { return dd_dream_current_size(d, wh, wh + 1); }
/* 3 or 4: what a resumed dream returns, checked against a checkpoint's header (wasm/js/dream.js). */
EMSCRIPTEN_KEEPALIVE int ddw_dream_channels(const dd_dream *d) { return dd_dream_channels(d); }
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

/* The model file bytes the model adopted (for model.save). */
EMSCRIPTEN_KEEPALIVE const void *ddw_model_bytes(const dd_model *m) { return dd_model_file_bytes(m); }

/* ---- images (stb) ------------------------------------------------------------ */
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

/* Pillow's LANCZOS resize of 8-bit pixels (the Node CLI's --zoom). */
EMSCRIPTEN_KEEPALIVE int ddw_image_resize(const uint8_t *in, int w, int h, int c, uint8_t *out, int ow, int oh,
                                          dd_error *err) {
  return dd_resize_lanczos_u8(in, w, h, c, out, ow, oh, err);
}
/* One zoom-movie step (dd_image_zoom): the centre 1/scale resized back to w x h. */
EMSCRIPTEN_KEEPALIVE int ddw_image_zoom(const uint8_t *in, int w, int h, int c, double scale, uint8_t *out, dd_error *err) {
  return dd_image_zoom(in, w, h, c, scale, out, err);
}
/* The --noise start picture (w*h*3 bytes into rgb); the seed as two 32-bit halves. */
EMSCRIPTEN_KEEPALIVE int ddw_image_noise(double seed_lo, double seed_hi, int w, int h, uint8_t *rgb, dd_error *err) {
  return dd_image_noise(((uint64_t)(uint32_t)seed_hi << 32) | (uint32_t)seed_lo, w, h, rgb, err);
}

/* ---- profile ------------------------------------------------------------------ */
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
  dd_model_set_profile(m, 1, NULL);
  const double t0 = emscripten_get_now();
  s = dd_model_gradient(m, input, h, w, &o, grad, NULL, err);
  const double wall = emscripten_get_now() - t0;
  dd_model_profile_print(m, stdout, NULL);
  printf("wall %.2f ms for the whole step (the nodes above and what runs between them: seed, copies)\n", wall);
  printf("activation arena peak %.1f MiB, conv workspace %.1f MiB\n", dd_model_arena_peak(m) / 1048576.0,
         dd_model_workspace_bytes(m) / 1048576.0);
  fflush(stdout);
  dd_model_set_profile(m, 0, NULL);
  return s;
}
