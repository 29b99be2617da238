/* describe.c — model descriptions: the table of recognised structures (input
   channel order, per-channel mean and scale, dream layers, default layer). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "describe.h"

#define MAX_KNOWN_LAYERS 24

typedef struct known_model {
  const char *name;
  const char *probe[3];   /* node names that all exist in the structure */
  int bgr;
  float mean[3], scale[3]; /* RGB order, 0..255 units */
  const char *layers[MAX_KNOWN_LAYERS]; /* NULL-terminated; NULL first: keep index_layers' list */
  const char *default_layer;
} known_model;

/* ImageNet statistics on 0..1 RGB (torchvision, MXNet Gluon) in 0..255 units */
#define IMAGENET_MEAN {123.675f, 116.28f, 103.53f}
#define IMAGENET_SCALE {1.0f / 58.395f, 1.0f / 57.12f, 1.0f / 57.375f}

static const known_model known[] = {
    {"inception5h", {"mixed4c", "softmax2", "conv2d2"}, 0, {0, 0, 0}, {1, 1, 1}, {NULL}, "conv2d2"},
    /* ONNX zoo bvlc_googlenet (Caffe -> Caffe2 -> ONNX): BGR, the zoo README's means */
    {"bvlc_googlenet",
     {"inception_4c/output_1", "pool5/7x7_s1_1", "conv1/7x7_s2_2"},
     1,
     {123.68f, 116.779f, 103.939f},
     {1, 1, 1},
     {"conv1/7x7_s2_2", "conv2/3x3_2", "inception_3a/output_1", "inception_3b/output_1", "inception_4a/output_1",
      "inception_4b/output_1", "inception_4c/output_1", "inception_4d/output_1", "inception_4e/output_1",
      "inception_5a/output_1", "inception_5b/output_1", NULL},
     "inception_4c/output_1"},
    /* ONNX zoo vgg16-7 (MXNet Gluon) */
    {"vgg16",
     {"vgg0_relu12_fwd", "vgg0_pool4_fwd", "vgg0_conv0_fwd"},
     0,
     IMAGENET_MEAN,
     IMAGENET_SCALE,
     {"vgg0_relu1_fwd", "vgg0_relu3_fwd", "vgg0_relu6_fwd", "vgg0_relu7_fwd", "vgg0_relu8_fwd", "vgg0_relu9_fwd",
      "vgg0_relu10_fwd", "vgg0_relu11_fwd", "vgg0_relu12_fwd", NULL},
     "vgg0_relu9_fwd"},
    /* ONNX zoo resnet50-v1-7 (MXNet Gluon) */
    {"resnet50",
     {"resnetv17_stage4_activation2", "resnetv17_stage3_activation5", "resnetv17_pool0_fwd"},
     0,
     IMAGENET_MEAN,
     IMAGENET_SCALE,
     {"resnetv17_stage1_activation2", "resnetv17_stage2_activation1", "resnetv17_stage2_activation3",
      "resnetv17_stage3_activation1", "resnetv17_stage3_activation3", "resnetv17_stage3_activation5",
      "resnetv17_stage4_activation0", "resnetv17_stage4_activation2", NULL},
     "resnetv17_stage3_activation3"},
};

int dd_model_find_blob(const dd_graph *g, const char *name) {
  int i = dd_graph_find(g, name);
  if (i >= 0 || !name) return i;
  char buf[512];
  for (int k = 63; k >= 1; k--) {
    int w = snprintf(buf, sizeof buf, "%s_%d", name, k);
    if (w < 0 || (size_t)w >= sizeof buf) return -1;
    i = dd_graph_find(g, buf);
    if (i >= 0) return i;
  }
  return -1;
}

static void identity(dd_model_description *d) {
  memset(d, 0, sizeof *d);
  for (int c = 0; c < 3; c++) d->scale[c] = 1.0f;
}

int dd_description_is_identity(const dd_model_description *d) {
  for (int c = 0; c < 3; c++)
    if (d->mean[c] != 0.0f || d->scale[c] != 1.0f) return 0;
  return !d->bgr;
}

void dd_describe_model(dd_model *m) {
  const dd_graph *g = &m->graph;
  identity(&m->desc);
  /* the CLIs' default before descriptions: the tutorial's index 2, or the last of fewer layers */
  m->desc.default_layer = m->n_layers > 2 ? 2 : (m->n_layers > 0 ? m->n_layers - 1 : 0);
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
    const known_model *km = &known[k];
    int all = 1;
    for (int p = 0; p < 3 && all; p++) all = dd_graph_find(g, km->probe[p]) >= 0;
    if (!all) continue;
    if (km->layers[0]) { /* the list replaces index_layers' when every entry exists */
      int idx[MAX_KNOWN_LAYERS], n = 0;
      for (; n < MAX_KNOWN_LAYERS && km->layers[n]; n++)
        if ((idx[n] = dd_graph_find(g, km->layers[n])) < 0) break;
      if (n == MAX_KNOWN_LAYERS || km->layers[n]) continue;
      memcpy(m->layers, idx, (size_t)n * sizeof *idx);
      m->n_layers = n;
    }
    snprintf(m->desc.name, sizeof m->desc.name, "%s", km->name);
    m->desc.bgr = km->bgr;
    memcpy(m->desc.mean, km->mean, sizeof km->mean);
    memcpy(m->desc.scale, km->scale, sizeof km->scale);
    int def = dd_graph_find(g, km->default_layer);
    for (int i = 0; i < m->n_layers; i++)
      if (m->layers[i] == def) m->desc.default_layer = i;
    return;
  }
}

dd_status dd_description_check(const dd_model_description *d, int n_layers, dd_error *err) {
  if (!d) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL model description");
  if (d->bgr != 0 && d->bgr != 1)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "model description: bgr must be 0 or 1, got %d", d->bgr);
  for (int c = 0; c < 3; c++) {
    if (!isfinite(d->mean[c]))
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "model description: mean[%d] must be finite", c);
    if (!isfinite(d->scale[c]) || !(d->scale[c] > 0.0f))
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "model description: scale[%d] must be finite and > 0, got %g", c,
                     (double)d->scale[c]);
  }
  if (d->default_layer < 0 || (d->default_layer > 0 && d->default_layer >= n_layers))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT,
                   "model description: default_layer %d is not a dream-layer index (the model has %d layers)",
                   d->default_layer, n_layers);
  if (!memchr(d->name, 0, sizeof d->name))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "model description: name is not NUL-terminated within 32 bytes");
  return DD_OK;
}

void dd_description_feed(const dd_model_description *d, float input_mean, const float *src, float *dst, int width) {
  int o0 = d->bgr ? 2 : 0, o2 = d->bgr ? 0 : 2;
  for (int x = 0; x < width; x++, src += 3, dst += 3) {
    dst[o0] = (src[0] - input_mean - d->mean[0]) * d->scale[0];
    dst[1] = (src[1] - input_mean - d->mean[1]) * d->scale[1];
    dst[o2] = (src[2] - input_mean - d->mean[2]) * d->scale[2];
  }
}

void dd_description_unfeed_gradient(const dd_model_description *d, float *g, size_t n) {
  for (size_t i = 0; i < n; i++, g += 3) {
    float a = g[0], c = g[2];
    if (d->bgr) {
      g[0] = c;
      g[2] = a;
    }
    g[0] *= d->scale[0];
    g[1] *= d->scale[1];
    g[2] *= d->scale[2];
  }
}

uint64_t dd_description_fingerprint(uint64_t h, const dd_model_description *d) {
  if (dd_description_is_identity(d)) return h;
  h = dd_fnv1a64(h, &d->bgr, sizeof d->bgr);
  h = dd_fnv1a64(h, d->mean, sizeof d->mean);
  return dd_fnv1a64(h, d->scale, sizeof d->scale);
}
