/* fuzz_train.c — libFuzzer target for what a training checkpoint feeds the C
 * core. The JS side (wasm/js/train/) parses model.json and weights.bin and
 * hands the C core a topology (dd_net_add_*), one float array per parameter
 * and Adam slot (dd_net_param_set), the step count (dd_net_set_iterations),
 * the RNG state (dd_net_set_rng_state) and the optimizer settings
 * (dd_net_compile); all of those come from the file. The input bytes play
 * the file: they choose the topology and its sizes, the arrays (counts and
 * values, NaN and Inf included), iterations, RNG state, learning rate and
 * labels; then one training step, an evaluation and a prediction run on a
 * small batch. Every refusal must carry a status and a message. Build and
 * run: tests/fuzz/run_fuzz.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deepdream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct bytes {
  const uint8_t *p;
  size_t n, at;
} bytes;

static uint8_t u8(bytes *b) { return b->at < b->n ? b->p[b->at++] : 0; }
static void take(bytes *b, void *dst, size_t n) {
  for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = u8(b);
}

static void check_error(dd_status s, const dd_error *err) {
  if (s >= 0 || err->status != s) __builtin_trap();
  if (!memchr(err->message, '\0', sizeof err->message) || err->message[0] == '\0') __builtin_trap();
}
#define TRY(call)                         \
  do {                                    \
    dd_status s_ = (call);                \
    if (s_ != DD_OK) check_error(s_, &err); \
  } while (0)

/* a small signed size: mostly valid, sometimes 0 or negative */
static int small(bytes *b, int max) { return (int)(int8_t)u8(b) % (max + 1); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bytes b = {data, size, 0};
  dd_error err;
  memset(&err, 0, sizeof err);
  const int topology = u8(&b) % 3;
  int shape[3] = {6, 6, 1};
  int rank = topology == 0 ? 1 : 3;
  dd_net *net = NULL;
  dd_status s = dd_net_create(rank, shape, NULL, &net, &err);
  if (s != DD_OK) __builtin_trap();
  const dd_net_padding pad = (dd_net_padding)(u8(&b) % 3); /* 2 is invalid */
  const dd_activation act = (dd_activation)(u8(&b) % 4);    /* 3 is invalid */
  if (topology == 0) {
    TRY(dd_net_add_dense(net, "d1", small(&b, 8), act, u8(&b) & 1, &err));
  } else {
    TRY(dd_net_add_conv2d(net, "c1", small(&b, 4), small(&b, 4), small(&b, 4), small(&b, 3), small(&b, 3), pad, act,
                          u8(&b) & 1, &err));
    if (topology == 1) TRY(dd_net_add_max_pool2d(net, "p1", small(&b, 3), small(&b, 3), small(&b, 3), small(&b, 3), pad, &err));
    TRY(dd_net_add_flatten(net, "f1", &err));
    double rate;
    take(&b, &rate, sizeof rate);
    if (topology == 2) TRY(dd_net_add_dropout(net, "drop", u8(&b) & 1 ? rate : 0.25, &err));
  }
  TRY(dd_net_add_dense(net, "out", 3, (dd_activation)(u8(&b) % 3), 1, &err));
  TRY(dd_net_init_params(net, u8(&b), &err));
  /* the weights file: per parameter and slot, a count and the values */
  for (int i = 0; i < dd_net_param_count(net); i++) {
    dd_net_param_info info;
    if (dd_net_get_param_info(net, i, &info, &err) != DD_OK) __builtin_trap();
    for (int slot = 0; slot < 3; slot++) {
      uint8_t how = u8(&b);
      if (!(how & 1)) continue;
      size_t count = how & 2 ? info.count : (size_t)u8(&b);
      if (count > 4096) continue;
      float *v = (float *)calloc(count ? count : 1, sizeof(float));
      for (size_t k = 0; k < count && b.at < b.n; k++) take(&b, &v[k], 4);
      TRY(dd_net_param_set(net, i, (dd_param_slot)slot, v, count, &err));
      free(v);
    }
  }
  int64_t it;
  take(&b, &it, sizeof it);
  TRY(dd_net_set_iterations(net, it, &err));
  uint64_t st[4];
  take(&b, st, sizeof st);
  TRY(dd_net_set_rng_state(net, st, &err));
  dd_train_options o;
  dd_train_options_init(&o);
  if (u8(&b) & 1) take(&b, &o.learning_rate, sizeof o.learning_rate);
  if (u8(&b) & 1) take(&b, &o.epsilon, sizeof o.epsilon);
  o.from_logits = u8(&b) & 1;
  s = dd_net_compile(net, &o, &err);
  if (s != DD_OK) check_error(s, &err);
  const int n = 4;
  const size_t in = dd_net_input_size(net), out = dd_net_output_size(net);
  if (s == DD_OK && in > 0 && in <= 36 && out > 0 && out <= 4096) {
    float x[4 * 36];
    for (int k = 0; k < 4 * 36; k++) x[k] = (float)((k * 7) % 11) / 11.0f;
    int32_t labels[4];
    for (int k = 0; k < n; k++) labels[k] = (int32_t)(int8_t)u8(&b) % 5; /* sometimes out of range */
    dd_batch_result r;
    TRY(dd_net_train_batch(net, x, labels, n, NULL, n, &r, &err));
    TRY(dd_net_evaluate(net, x, labels, n, 1 + u8(&b) % 4, &r, &err));
    float *y = (float *)malloc(out * n * sizeof(float));
    TRY(dd_net_predict(net, x, n, 1 + u8(&b) % 4, y, out * n, &err));
    free(y);
  }
  dd_net_free(net);
  return 0;
}
