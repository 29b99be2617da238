/* fuzz_dream_state.c — libFuzzer target for dd_dream_restore. The input is a
 * saved dream state WITHOUT its 8-byte trailer: the target appends the FNV-1a
 * checksum before restoring, so mutations reach the field validation
 * (src/dream/state.h) instead of stopping at the checksum. A restored dream
 * runs a few tiles, is read and saved again; a refused one must carry a
 * status and a message. The model is the tests' small dream fixture (three
 * convs), built once; seeds are states of it (corpus/dream_state). Build and
 * run: tests/fuzz/run_fuzz.sh. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../c/dream_fixture.h"
#include "../c/testutil.c"
#include "deepdream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dd_model *fixture_model(void) {
  static dd_model *m;
  if (!m) {
    size_t len;
    uint8_t *bytes = dream_fixture(&len);
    dd_error err;
    if (dd_model_load_graphdef(bytes, len, NULL, &m, &err) != DD_OK) __builtin_trap();
    free(bytes);
  }
  return m;
}

static void check_error(dd_status s, const dd_error *err) {
  if (s >= 0 || err->status != s) __builtin_trap();
  if (!memchr(err->message, '\0', sizeof err->message) || err->message[0] == '\0') __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dd_model *m = fixture_model();
  uint8_t *state = (uint8_t *)malloc(size + 8);
  if (size) memcpy(state, data, size);
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; i++) {
    h ^= data[i];
    h *= 0x100000001b3ULL;
  }
  memcpy(state + size, &h, 8);
  dd_dream *d = NULL;
  dd_error err;
  memset(&err, 0, sizeof err);
  dd_status s = dd_dream_restore(m, state, size + 8, &d, &err);
  free(state);
  if (s != DD_OK) {
    check_error(s, &err);
    if (d) __builtin_trap();
    return 0;
  }
  dd_progress p;
  for (int i = 0; i < 3; i++) {
    s = dd_dream_step(d, 1, &p, &err);
    if (s == DD_DONE) break;
    if (s != DD_OK) {
      check_error(s, &err);
      break;
    }
    if (!(p.fraction >= 0.0 && p.fraction <= 1.0)) __builtin_trap();
  }
  int w = 0, hh = 0;
  if (dd_dream_current_size(d, &w, &hh) != DD_OK || w < 1 || hh < 1) __builtin_trap();
  size_t n = (size_t)w * (size_t)hh * (size_t)dd_dream_channels(d);
  uint8_t *px = (uint8_t *)malloc(n);
  if (dd_dream_read_image(d, px, n, &err) != DD_OK) __builtin_trap();
  free(px);
  void *again = NULL;
  size_t len = 0;
  if (dd_dream_save_state(d, &again, &len, &err) != DD_OK) __builtin_trap();
  dd_dream *r = NULL; /* what we save, we restore */
  if (dd_dream_restore(m, again, len, &r, &err) != DD_OK) __builtin_trap();
  dd_dream_free(r);
  dd_free(again);
  dd_dream_free(d);
  return 0;
}
