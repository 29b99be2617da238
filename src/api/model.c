/* model.c — dd_model: a graph, its executor, its named layers. */
#include <stdio.h>
#include <stdlib.h>

#include "../formats/graphdef.h"
#include "../formats/onnx.h"
#include "../formats/sniff.h"
#include "describe.h"
#include "model_internal.h"
#include "../dream/objective.h"

int dd_backend_available(dd_backend b) {
  return b == DD_BACKEND_AUTO ? 1 : dd_kernels_get(b) != NULL;
}

const char *dd_backend_name(dd_backend b) {
  switch (b) {
    case DD_BACKEND_AUTO: return "auto";
    case DD_BACKEND_REFERENCE: return "reference";
    case DD_BACKEND_SIMD128: return "simd128";
    case DD_BACKEND_XNNPACK: return "xnnpack";
  }
  return "unknown";
}

void dd_model_options_init(dd_model_options *o) {
  memset(o, 0, sizeof *o);
  o->backend = DD_BACKEND_AUTO;
  o->num_threads = 1;
}

static const char *const tutorial_layers[12] = {"conv2d0", "conv2d1", "conv2d2", "mixed3a", "mixed3b", "mixed4a",
                                                "mixed4b", "mixed4c", "mixed4d", "mixed4e", "mixed5a", "mixed5b"};

/* Static channel count of a node, from constants alone (no input needed). */
static int static_channels(const dd_graph *g, int i, int depth) {
  if (i < 0 || i >= g->n_nodes || depth > 64) return -1;
  const dd_node *n = &g->nodes[i];
  switch (n->op) {
    case DD_OP_CONV2D: {
      const dd_node *w = &g->nodes[n->inputs[1]];
      return w->op == DD_OP_CONST && w->attr.value.rank == 4 ? (int)w->attr.value.dims[3] : -1;
    }
    case DD_OP_MATMUL: {
      const dd_node *w = &g->nodes[n->inputs[1]];
      if (w->op != DD_OP_CONST || w->attr.value.rank != 2) return -1;
      return (int)w->attr.value.dims[n->attr.matmul.transpose_b ? 0 : 1];
    }
    case DD_OP_CONCAT: {
      int s = 0;
      for (int j = 0; j < n->n_inputs; j++) {
        int c = static_channels(g, n->inputs[j], depth + 1);
        if (c < 0) return -1;
        s += c;
      }
      return s;
    }
    case DD_OP_RESHAPE:
      return n->attr.reshape.rank > 0 ? (int)n->attr.reshape.dims[n->attr.reshape.rank - 1] : -1;
    case DD_OP_PLACEHOLDER:
      return 3;
    case DD_OP_CONST:
      return -1;
    default:
      return n->n_inputs > 0 ? static_channels(g, n->inputs[0], depth + 1) : -1;
  }
}

int dd_model_node_channels(const dd_model *m, int node) { return static_channels(&m->graph, node, 0); }

static dd_status index_layers(dd_model *m, dd_error *err) {
  const dd_graph *g = &m->graph;
  m->layers = (int *)malloc(((size_t)g->n_nodes + 12) * sizeof(int));
  m->conv_layers = (int *)malloc(((size_t)g->n_nodes + 1) * sizeof(int));
  if (!m->layers || !m->conv_layers) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  int all = 1;
  for (int i = 0; i < 12; i++) {
    int k = dd_graph_find(g, tutorial_layers[i]);
    if (k < 0) all = 0;
    m->layers[i] = k;
  }
  if (all) {
    m->n_layers = 12;
  } else {
    m->n_layers = 0;
    for (int i = 0; i < g->n_nodes; i++) {
      const dd_node *n = &g->nodes[i];
      if (n->op != DD_OP_RELU) continue;
      int p = n->inputs[0];
      if (g->nodes[p].op == DD_OP_BIAS_ADD) p = g->nodes[p].inputs[0];
      if (g->nodes[p].op == DD_OP_CONV2D) m->layers[m->n_layers++] = i;
    }
  }
  m->n_conv_layers = 0;
  m->input_node = -1;
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i].op == DD_OP_CONV2D) m->conv_layers[m->n_conv_layers++] = i;
    if (g->nodes[i].op == DD_OP_PLACEHOLDER && m->input_node < 0) m->input_node = i;
  }
  if (m->input_node < 0) return dd_fail(err, DD_ERR_GRAPH, "the graph has no Placeholder input");
  dd_describe_model(m); /* a recognised structure's description and dream layers */
  return DD_OK;
}

static uint64_t fingerprint(const dd_graph *g) {
  uint64_t h = DD_FNV1A64_INIT;
  for (int i = 0; i < g->n_nodes; i++) {
    const dd_node *n = &g->nodes[i];
    h = dd_fnv1a64(h, n->name, strlen(n->name) + 1);
    h = dd_fnv1a64(h, &n->op, sizeof n->op);
    if (n->op == DD_OP_CONST) {
      const dd_const *c = &n->attr.value;
      h = dd_fnv1a64(h, c->dims, sizeof c->dims);
      size_t bytes = (size_t)c->count * 4;
      const unsigned char *p = c->dtype == DD_DTYPE_FLOAT ? (const unsigned char *)c->f : (const unsigned char *)c->i;
      if (!p) continue;
      /* every 61st byte plus both ends: cheap, and any re-trained model differs */
      for (size_t k = 0; k < bytes; k += bytes > 4096 ? 61 : 1) h = dd_fnv1a64(h, p + k, 1);
      h = dd_fnv1a64(h, p + (bytes > 64 ? bytes - 64 : 0), bytes > 64 ? 64 : bytes);
    }
  }
  return h;
}

/* A file that is not a GraphDef at all (an image, a zip, a web page) fails
   deep in the protobuf reader; say first what it is, keep the reader's words
   as the detail. */
static dd_status name_wrong_file(const void *bytes, size_t len, dd_status s, dd_error *err) {
  dd_file_kind kind = dd_sniff((const uint8_t *)bytes, len);
  if (kind == DD_FILE_UNKNOWN || !err) return s;
  char detail[sizeof err->message];
  snprintf(detail, sizeof detail, "%s", err->message);
  const char *advice = dd_file_kind_advice(kind);
  if (kind == DD_FILE_EMPTY)
    return dd_fail(err, DD_ERR_PARSE, "the model file is empty (0 bytes), not a TensorFlow GraphDef model (.pb)");
  return dd_fail(err, s,
                 "this is %s, not a TensorFlow GraphDef model (.pb).%s%s (detail: %s)", dd_file_kind_describe(kind),
                 *advice ? " " : "", advice, detail);
}

dd_status dd_model_load_graphdef(const void *bytes, size_t len, const dd_model_options *opt, dd_model **out,
                                 dd_error *err) {
  dd_model_options defaults;
  if (!opt) {
    dd_model_options_init(&defaults);
    opt = &defaults;
  }
  if (!bytes || !out) {
    if (opt->adopt_buffer) dd_free((void *)bytes);
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_model_load_graphdef: NULL argument");
  }
  const dd_kernels *k = dd_kernels_get(opt->backend);
  if (!k) {
    if (opt->adopt_buffer) dd_free((void *)bytes);
    return dd_fail(err, DD_ERR_UNSUPPORTED, "backend '%s' is not available in this build", dd_backend_name(opt->backend));
  }
  dd_model *m = (dd_model *)calloc(1, sizeof *m);
  if (!m) {
    if (opt->adopt_buffer) dd_free((void *)bytes);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  }
  if (opt->adopt_buffer) m->adopted = (void *)bytes;
  dd_graph_init(&m->graph);
  dd_status s;
  if (dd_sniff((const uint8_t *)bytes, len) == DD_FILE_ONNX) { /* the two formats, by their first bytes */
    s = dd_onnx_import((const uint8_t *)bytes, len, &m->graph, err);
    if (s != DD_OK && err) {
      char detail[sizeof err->message];
      snprintf(detail, sizeof detail, "%s", err->message);
      s = dd_fail(err, s, "this is an ONNX model that cannot be loaded: %s", detail);
    }
  } else {
    s = dd_graphdef_import((const uint8_t *)bytes, len, opt->adopt_buffer, &m->graph, err);
    if (s != DD_OK) s = name_wrong_file(bytes, len, s, err);
  }
  if (s == DD_OK) s = dd_graph_validate(&m->graph, err);
  if (s == DD_OK) s = index_layers(m, err);
  if (s == DD_OK) s = dd_exec_create(&m->graph, k, opt->pool, opt->num_threads, &m->exec, err);
  if (s != DD_OK) {
    dd_model_free(m);
    return s;
  }
  m->fingerprint = fingerprint(&m->graph);
  *out = m;
  return DD_OK;
}

void dd_model_free(dd_model *m) {
  if (!m) return;
  dd_exec_free(m->exec);
  dd_graph_free(&m->graph);
  free(m->layers);
  free(m->conv_layers);
  dd_free(m->adopted);
  free(m);
}

int dd_model_layer_count(const dd_model *m) { return m ? m->n_layers : 0; }
int dd_model_conv_layer_count(const dd_model *m) { return m ? m->n_conv_layers : 0; }
uint64_t dd_model_fingerprint(const dd_model *m) {
  return m ? dd_description_fingerprint(m->fingerprint, &m->desc) : 0;
}

void dd_model_get_description(const dd_model *m, dd_model_description *out) {
  if (!out) return;
  if (m) *out = m->desc;
  else memset(out, 0, sizeof *out);
}

dd_status dd_model_set_description(dd_model *m, const dd_model_description *d, dd_error *err) {
  if (!m) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL model");
  dd_status s = dd_description_check(d, m->n_layers, err);
  if (s == DD_OK) m->desc = *d;
  return s;
}
const void *dd_model_file_bytes(const dd_model *m) { return m ? m->adopted : NULL; }

static void fill_info(const dd_model *m, int node, dd_layer_info *out) {
  const dd_node *n = &m->graph.nodes[node];
  out->name = n->name;
  out->op = dd_op_name(n->op);
  out->channels = dd_model_node_channels(m, node);
  out->node_index = node;
}

dd_status dd_model_layer_info(const dd_model *m, int index, dd_layer_info *out, dd_error *err) {
  if (!m || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (index < 0 || index >= m->n_layers)
    return dd_fail(err, DD_ERR_NOT_FOUND, "layer index %d does not exist; the model has layers 0..%d", index,
                   m->n_layers - 1);
  fill_info(m, m->layers[index], out);
  return DD_OK;
}

dd_status dd_model_conv_layer_info(const dd_model *m, int index, dd_layer_info *out, dd_error *err) {
  if (!m || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (index < 0 || index >= m->n_conv_layers)
    return dd_fail(err, DD_ERR_NOT_FOUND, "conv layer index %d does not exist; the model has %d", index,
                   m->n_conv_layers);
  fill_info(m, m->conv_layers[index], out);
  return DD_OK;
}

static dd_status not_found(const dd_model *m, const char *name, dd_error *err) {
  char list[160];
  size_t used = 0;
  list[0] = 0;
  for (int i = 0; i < m->n_layers && used + 2 < sizeof list; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", m->graph.nodes[m->layers[i]].name);
    if (w < 0 || (size_t)w >= sizeof list - used) {
      used = sizeof list;
      break;
    }
    used += (size_t)w;
  }
  return dd_fail(err, DD_ERR_NOT_FOUND, "no node named '%s'; layers are: %s%s", name, list,
                 used >= sizeof list ? "..." : "");
}

dd_status dd_model_find_node(const dd_model *m, const char *name, dd_layer_info *out, dd_error *err) {
  if (!m || !name || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  int i = dd_model_find_blob(&m->graph, name);
  if (i < 0) return not_found(m, name, err);
  fill_info(m, i, out);
  return DD_OK;
}

dd_status dd_model_resolve_objective(const dd_model *m, const dd_objective *obj, int *node, dd_error *err) {
  if (!m || !obj || !node) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  int i;
  if (obj->layer && obj->layer[0]) {
    i = dd_model_find_blob(&m->graph, obj->layer);
    if (i < 0) return not_found(m, obj->layer, err);
  } else {
    if (obj->layer_index < 0 || obj->layer_index >= m->n_layers)
      return dd_fail(err, DD_ERR_NOT_FOUND, "layer index %d does not exist; the model has layers 0..%d",
                     obj->layer_index, m->n_layers - 1);
    i = m->layers[obj->layer_index];
  }
  if (m->graph.nodes[i].op == DD_OP_CONST)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "node '%s' is a constant, not a layer", m->graph.nodes[i].name);
  if (obj->n_channels < 0 || (obj->n_channels > 0 && !obj->channels))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "invalid channel list");
  *node = i;
  return DD_OK;
}

dd_status dd_model_forward(dd_model *m, const float *input, int height, int width, const char *node, float *out,
                           size_t out_capacity, int out_shape[4], dd_error *err) {
  if (!m || !node || (out && !input)) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  int i = dd_model_find_blob(&m->graph, node);
  if (i < 0) return not_found(m, node, err);
  dd_tensor t;
  dd_status s = out ? dd_exec_forward(m->exec, i, input, dd_shape4(1, height, width, 3), &t, err)
                    : dd_exec_output_shape(m->exec, i, dd_shape4(1, height, width, 3), &t.shape, err);
  if (s != DD_OK) return s;
  size_t n = dd_shape_count(t.shape);
  if (out_shape) {
    out_shape[0] = t.shape.n;
    out_shape[1] = t.shape.h;
    out_shape[2] = t.shape.w;
    out_shape[3] = t.shape.c;
  }
  if (out) {
    if (out_capacity < n)
      return dd_fail(err, DD_ERR_SHAPE, "output of '%s' has %zu values; the buffer holds %zu", node, n, out_capacity);
    memcpy(out, t.data, n * sizeof(float));
  }
  return DD_OK;
}

dd_status dd_model_gradient(dd_model *m, const float *input, int height, int width, const dd_objective *obj,
                            float *grad_out, float *loss_out, dd_error *err) {
  int node = -1;
  dd_status s = dd_model_resolve_objective(m, obj, &node, err);
  if (s != DD_OK) return s;
  /* a channel the layer does not have is an error before any work (the seed checks again, against the run's shape) */
  const int c = dd_model_node_channels(m, node);
  for (int j = 0; c > 0 && obj->channels && j < obj->n_channels; j++)
    if (obj->channels[j] < 0 || obj->channels[j] >= c)
      return dd_fail(err, DD_ERR_NOT_FOUND, "channel %d does not exist in '%s', which has channels 0..%d",
                     obj->channels[j], m->graph.nodes[node].name, c - 1);
  return dd_exec_objective_gradient(m->exec, node, obj->channels, obj->n_channels, input,
                                    dd_shape4(1, height, width, 3), grad_out, loss_out, err);
}

dd_status dd_model_objective_gradient(dd_model *m, const float *input, int height, int width, const char *objective,
                                      const float *guide, int guide_height, int guide_width, float *grad_out,
                                      double *loss_out, dd_error *err) {
  if (!m || !input || !objective || !grad_out)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_model_objective_gradient: NULL argument");
  if (height < 1 || width < 1 || (guide && (guide_height < 1 || guide_width < 1)))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "image sizes must be positive");
  dd_objective_prog p;
  dd_status s = dd_objective_parse(objective, &p, err);
  if (s != DD_OK) return s;
  s = dd_objective_bind(&p, m, err);
  if (s == DD_OK && dd_objective_needs_guide(&p)) {
    s = guide ? dd_objective_set_guide(&p, m, guide, guide_height, guide_width, err)
              : dd_fail(err, DD_ERR_INVALID_ARGUMENT, "the objective has a guide(...) term but no guide was given");
  }
  if (s == DD_OK && dd_objective_needs_selection(&p))
    s = dd_objective_select(&p, m, input, height, width, height > width ? height : width, err);
  if (s == DD_OK) s = dd_objective_gradient(&p, m, input, height, width, grad_out, loss_out, err);
  dd_objective_free(&p);
  return s;
}
