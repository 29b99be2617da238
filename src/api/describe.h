/* describe.h — what a recognised model expects as input and which layers it
   dreams on: the built-in table, the check of a description, the Caffe2
   blob-name lookup. */
#ifndef DD_DESCRIBE_H
#define DD_DESCRIBE_H

#include "deepdream.h"
#include "model_internal.h"

/* Recognises the graph's structure and sets m->desc (identity when unknown)
   and, for a recognised structure with its own list, m->layers / n_layers
   (m->layers holds room for n_nodes + 12 entries). Call after index_layers. */
void dd_describe_model(dd_model *m);

/* 1 when the description changes nothing (RGB, mean 0, scale 1). */
int dd_description_is_identity(const dd_model_description *d);

/* DD_OK when the description is usable with a model of n_layers dream layers. */
dd_status dd_description_check(const dd_model_description *d, int n_layers, dd_error *err);

/* One row of `width` RGB pixels (0..255) into the network's input:
   dst[order(c)] = (src[c] - input_mean - mean[c]) * scale[c]. */
void dd_description_feed(const dd_model_description *d, float input_mean, const float *src, float *dst, int width);
/* The gradient with respect to the network's input (n pixels, in place) into
   the gradient with respect to the RGB pixels: g[c] = g_net[order(c)] * scale[c]. */
void dd_description_unfeed_gradient(const dd_model_description *d, float *grad, size_t n);

/* Folds a non-identity description into a fingerprint (identity: unchanged). */
uint64_t dd_description_fingerprint(uint64_t h, const dd_model_description *d);

/* dd_graph_find, then a Caffe2 SSA blob name: NAME_<k> for the largest k
   (1..63) that exists. -1 when neither exists. */
int dd_model_find_blob(const dd_graph *g, const char *name);

#endif
