/* dream_fixture.h — a small dreamable GraphDef for tests: three conv layers
 * (conv_a 5x5/2, pool, conv_b 3x3, conv_c 1x1), each Conv2D -> BiasAdd ->
 * Relu with seeded weights, written with the real file's encoding. */
#ifndef DD_DREAM_FIXTURE_H
#define DD_DREAM_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>

#include "graphdef_fixture.h"
#include "testutil.h"

static void dfx_conv_layer(fx_graph *g, test_rng *r, const char *name, const char *x, int k, int ci, int co, int stride) {
  char buf[96], wname[96], bname[96], cname[96];
  int64_t wd[4] = {k, k, ci, co}, bd[1] = {co};
  int n = k * k * ci * co;
  float *w = (float *)malloc(sizeof(float) * (size_t)n), *b = (float *)malloc(sizeof(float) * (size_t)co);
  float a = 1.7f / sqrtf((float)(k * k * ci));
  test_fill(r, w, (size_t)n, -a, a);
  test_fill(r, b, (size_t)co, -0.05f, 0.1f);
  snprintf(wname, sizeof wname, "%s_w", name);
  snprintf(bname, sizeof bname, "%s_b", name);
  fx_const_content(g, wname, wd, 4, w, n);
  fx_const_content(g, bname, bd, 1, b, co);
  snprintf(cname, sizeof cname, "%s_pre_relu/conv", name);
  fx_conv(g, cname, x, wname, stride, "SAME");
  snprintf(buf, sizeof buf, "%s_pre_relu", name);
  fx_binary(g, buf, "BiasAdd", cname, bname);
  fx_unary(g, name, "Relu", buf);
  free(w);
  free(b);
}

/* Returns malloc'd GraphDef bytes (free with free()). */
static uint8_t *dream_fixture_seeded(size_t *len, uint64_t seed) {
  fx_graph g;
  fx_init(&g);
  test_rng r;
  test_rng_seed(&r, seed);
  fx_placeholder(&g, "input");
  dfx_conv_layer(&g, &r, "conv_a", "input", 5, 3, 8, 2);
  fx_pool(&g, "pool_a", "MaxPool", "conv_a", 3, 2, "SAME");
  dfx_conv_layer(&g, &r, "conv_b", "pool_a", 3, 8, 12, 1);
  dfx_conv_layer(&g, &r, "conv_c", "conv_b", 1, 12, 6, 1);
  uint8_t *out = (uint8_t *)malloc(g.w.len);
  memcpy(out, g.w.data, g.w.len);
  *len = g.w.len;
  fx_free(&g);
  return out;
}
static uint8_t *dream_fixture(size_t *len) { return dream_fixture_seeded(len, 2024); }

/* A w x h x c test picture (smooth waves and seeded noise; channel 3, when
   c == 4, a left-to-right alpha ramp). malloc'd. */
static uint8_t *dream_fixture_image(int w, int h, int c, uint64_t seed) {
  uint8_t *p = (uint8_t *)malloc((size_t)w * h * c);
  test_rng r;
  test_rng_seed(&r, seed);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++) {
        float v = 128 + 90 * sinf(x * 0.11f + k) * cosf(y * 0.07f - k) + test_uniform(&r, -20, 20);
        p[((size_t)y * w + x) * c + k] = (uint8_t)(k == 3 ? (x * 255) / w : (v < 0 ? 0 : v > 255 ? 255 : v));
      }
  return p;
}

/* A little-endian i32 of a saved state at byte `off`. */
static inline int32_t dfx_rd_i32(const uint8_t *p, size_t off) {
  int32_t v;
  memcpy(&v, p + off, 4);
  return v;
}
/* Recomputes a state's FNV-1a 64 trailer after an edit (the checksum is no defence). */
static inline void dfx_reseal(uint8_t *s, size_t len) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i + 8 < len; i++) {
    h ^= s[i];
    h *= 0x100000001b3ULL;
  }
  memcpy(s + len - 8, &h, 8);
}

#ifdef DEEPDREAM_H
/* Runs a dream to the end with steps of `chunk` tiles (progress never goes
   back; *steps, when not NULL, the number of steps before the last); returns
   the final pixels (malloc'd). */
static inline uint8_t *dream_fixture_run_all(dd_dream *d, int w, int h, int c, int chunk, int *steps) {
  dd_progress p;
  dd_status s;
  dd_error err;
  memset(&err, 0, sizeof err);
  int n = 0;
  double last = -1;
  while ((s = dd_dream_step(d, chunk, &p, &err)) == DD_OK) {
    CHECK(p.fraction >= last && p.fraction < 1.0);
    last = p.fraction;
    n++;
  }
  CHECKF(s == DD_DONE, "step: %s", err.message);
  CHECK(p.fraction == 1.0);
  if (steps) *steps = n;
  uint8_t *out = (uint8_t *)malloc((size_t)w * h * c);
  CHECK_OK(dd_dream_read_image(d, out, (size_t)w * h * c, &err));
  return out;
}

/* The fixture loaded as a model (a test failure when it does not load). */
static dd_model *dream_fixture_model(void) {
  size_t len;
  uint8_t *bytes = dream_fixture(&len);
  dd_model *m = NULL;
  dd_error err;
  dd_status s = dd_model_load_graphdef(bytes, len, NULL, &m, &err);
  CHECKF(s == DD_OK, "load: %s", err.message);
  free(bytes);
  return m;
}
#endif
#endif
