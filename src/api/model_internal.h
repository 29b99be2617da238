/* model_internal.h — what a dd_model is, for the dream and API layers. */
#ifndef DD_MODEL_INTERNAL_H
#define DD_MODEL_INTERNAL_H

#include "../engine/exec.h"
#include "../graph/graph.h"

struct dd_model {
  dd_graph graph;
  dd_exec *exec;
  void *adopted;        /* file bytes the graph borrows from, or NULL */
  int input_node;
  int *layers;          /* dream layers (node indices) */
  int n_layers;
  int *conv_layers;     /* every Conv2D */
  int n_conv_layers;
  uint64_t fingerprint;  /* of the graph; dd_model_fingerprint folds in desc */
  dd_model_description desc; /* input channel order, mean, scale, default layer */
};

/* Resolves an objective to a node index (by name, or by dream-layer index). */
dd_status dd_model_resolve_objective(const dd_model *m, const dd_objective *obj, int *node, dd_error *err);
/* Channels of a node's output (runs shape inference on a small input once). */
int dd_model_node_channels(const dd_model *m, int node);

#endif
