/* bindings_train.c — flat, scalar-argument entry points for the training API
 * (the Training section of include/deepdream.h), for wasm/js/train/.
 *
 * Conventions as in bindings.c: a dd_error lives in wasm memory; 64-bit values
 * cross as doubles (counts < 2^53) or as pairs of 32-bit words (seeds, RNG
 * state), so no BigInt is needed. */
#include <emscripten.h>
#include <stdint.h>
#include <string.h>

#include "deepdream.h"
#include "instance_pool.h"

static uint64_t u64(double lo, double hi) { return ((uint64_t)(uint32_t)hi << 32) | (uint32_t)lo; }

EMSCRIPTEN_KEEPALIVE dd_net *ddw_net_create(int rank, int d0, int d1, int d2, int backend, int threads,
                                            dd_error *err) {
  const int shape[3] = {d0, d1, d2};
  dd_net_options o;
  dd_net_options_init(&o);
  o.backend = (dd_backend)backend;
  o.num_threads = threads;
  o.pool = ddw_instance_pool(threads); /* shared with the models: see instance_pool.c */
  if (!o.pool) o.num_threads = 1;
  dd_net *net = NULL;
  if (dd_net_create(rank, shape, &o, &net, err) != DD_OK) return NULL;
  return net;
}
EMSCRIPTEN_KEEPALIVE void ddw_net_free(dd_net *net) { dd_net_free(net); }

EMSCRIPTEN_KEEPALIVE int ddw_net_add_dense(dd_net *net, const char *name, int units, int act, int use_bias,
                                           dd_error *err) {
  return dd_net_add_dense(net, name, units, (dd_activation)act, use_bias, err);
}
EMSCRIPTEN_KEEPALIVE int ddw_net_add_dropout(dd_net *net, const char *name, double rate, dd_error *err) {
  return dd_net_add_dropout(net, name, rate, err);
}
EMSCRIPTEN_KEEPALIVE int ddw_net_add_conv2d(dd_net *net, const char *name, int filters, int kh, int kw, int sh, int sw,
                                            int padding, int act, int use_bias, dd_error *err) {
  return dd_net_add_conv2d(net, name, filters, kh, kw, sh, sw, (dd_net_padding)padding, (dd_activation)act, use_bias,
                           err);
}
EMSCRIPTEN_KEEPALIVE int ddw_net_add_max_pool2d(dd_net *net, const char *name, int ph, int pw, int sh, int sw,
                                                int padding, dd_error *err) {
  return dd_net_add_max_pool2d(net, name, ph, pw, sh, sw, (dd_net_padding)padding, err);
}
EMSCRIPTEN_KEEPALIVE int ddw_net_add_flatten(dd_net *net, const char *name, dd_error *err) {
  return dd_net_add_flatten(net, name, err);
}

EMSCRIPTEN_KEEPALIVE int ddw_net_layer_count(const dd_net *net) { return dd_net_layer_count(net); }
/* info: kind, activation, out_rank, out_shape[3], first_param, n_params (8 ints). */
EMSCRIPTEN_KEEPALIVE int ddw_net_layer_info(const dd_net *net, int index, int *info, dd_error *err) {
  dd_net_layer_info li;
  dd_status s = dd_net_get_layer_info(net, index, &li, err);
  if (s != DD_OK) return s;
  const int v[8] = {(int)li.kind, (int)li.activation, li.out_rank, li.out_shape[0], li.out_shape[1], li.out_shape[2],
                    li.first_param, li.n_params};
  memcpy(info, v, sizeof v);
  return DD_OK;
}
EMSCRIPTEN_KEEPALIVE double ddw_net_input_size(const dd_net *net) { return (double)dd_net_input_size(net); }
EMSCRIPTEN_KEEPALIVE double ddw_net_output_size(const dd_net *net) { return (double)dd_net_output_size(net); }
EMSCRIPTEN_KEEPALIVE int ddw_net_param_count(const dd_net *net) { return dd_net_param_count(net); }
/* info: layer, rank, shape[4], count, value, m, v (10 words; pointers as uint32).
   Returns the name, or 0 on error. */
EMSCRIPTEN_KEEPALIVE const char *ddw_net_param_info(const dd_net *net, int index, uint32_t *info, dd_error *err) {
  dd_net_param_info pi;
  if (dd_net_get_param_info(net, index, &pi, err) != DD_OK) return NULL;
  const uint32_t v[10] = {(uint32_t)pi.layer, (uint32_t)pi.rank, (uint32_t)pi.shape[0], (uint32_t)pi.shape[1],
                          (uint32_t)pi.shape[2], (uint32_t)pi.shape[3], (uint32_t)pi.count,
                          (uint32_t)(uintptr_t)pi.value, (uint32_t)(uintptr_t)pi.m, (uint32_t)(uintptr_t)pi.v};
  memcpy(info, v, sizeof v);
  return pi.name;
}
EMSCRIPTEN_KEEPALIVE int ddw_net_param_set(dd_net *net, int index, int slot, const float *data, double count,
                                           dd_error *err) {
  return dd_net_param_set(net, index, (dd_param_slot)slot, data, (size_t)count, err);
}
EMSCRIPTEN_KEEPALIVE int ddw_net_init_params(dd_net *net, double seed_lo, double seed_hi, dd_error *err) {
  return dd_net_init_params(net, u64(seed_lo, seed_hi), err);
}
EMSCRIPTEN_KEEPALIVE int ddw_net_compile(dd_net *net, double lr, double beta1, double beta2, double epsilon,
                                         int from_logits, dd_error *err) {
  dd_train_options t;
  dd_train_options_init(&t);
  t.learning_rate = lr;
  t.beta1 = beta1;
  t.beta2 = beta2;
  t.epsilon = epsilon;
  t.from_logits = from_logits;
  return dd_net_compile(net, &t, err);
}
EMSCRIPTEN_KEEPALIVE double ddw_net_iterations(const dd_net *net) { return (double)dd_net_iterations(net); }
EMSCRIPTEN_KEEPALIVE int ddw_net_set_iterations(dd_net *net, double it, dd_error *err) {
  if (!(it >= 0 && it <= 9007199254740992.0) || it != (double)(int64_t)it)
    return dd_net_set_iterations(net, -1, err);
  return dd_net_set_iterations(net, (int64_t)it, err);
}
EMSCRIPTEN_KEEPALIVE void ddw_net_seed(dd_net *net, double lo, double hi) { dd_net_seed(net, u64(lo, hi)); }
/* state: 8 uint32 words, little-endian halves of the 4 uint64 words. */
EMSCRIPTEN_KEEPALIVE void ddw_net_rng_state(const dd_net *net, uint32_t *out) {
  uint64_t s[4];
  dd_net_rng_state(net, s);
  for (int i = 0; i < 4; i++) {
    out[2 * i] = (uint32_t)s[i];
    out[2 * i + 1] = (uint32_t)(s[i] >> 32);
  }
}
EMSCRIPTEN_KEEPALIVE int ddw_net_set_rng_state(dd_net *net, const uint32_t *in, dd_error *err) {
  uint64_t s[4];
  for (int i = 0; i < 4; i++) s[i] = ((uint64_t)in[2 * i + 1] << 32) | in[2 * i];
  return dd_net_set_rng_state(net, s, err);
}
EMSCRIPTEN_KEEPALIVE int ddw_net_shuffle(dd_net *net, int32_t *perm, int n, dd_error *err) {
  return dd_net_shuffle(net, perm, n, err);
}
/* out: loss_sum, correct, count (3 doubles). */
static void result_out(const dd_batch_result *r, double *out) {
  if (!out) return;
  out[0] = r->loss_sum;
  out[1] = (double)r->correct;
  out[2] = (double)r->count;
}
EMSCRIPTEN_KEEPALIVE int ddw_net_train_batch(dd_net *net, const float *x, const int32_t *labels, int n,
                                             const int32_t *index, int count, double *out, dd_error *err) {
  dd_batch_result r;
  dd_status s = dd_net_train_batch(net, x, labels, n, index, count, &r, err);
  if (s == DD_OK) result_out(&r, out);
  return s;
}
EMSCRIPTEN_KEEPALIVE int ddw_net_evaluate(dd_net *net, const float *x, const int32_t *labels, int n, int batch,
                                          double *out, dd_error *err) {
  dd_batch_result r;
  dd_status s = dd_net_evaluate(net, x, labels, n, batch, &r, err);
  if (s == DD_OK) result_out(&r, out);
  return s;
}
EMSCRIPTEN_KEEPALIVE int ddw_net_predict(dd_net *net, const float *x, int n, int batch, float *out, double cap,
                                         dd_error *err) {
  return dd_net_predict(net, x, n, batch, out, (size_t)cap, err);
}
