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
#endif
