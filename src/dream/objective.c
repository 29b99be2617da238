/* objective.c — a parsed objective (objective.h) bound to a model: the
 * choices made once per dream (strong/weak channels, guide features), the
 * seed dL/d(activation) of each layer's terms, and the input gradient (one
 * forward/backward per distinct layer, the gradients summed). */
#include "objective.h"

#include <math.h>
#include <stdlib.h>

#include "../api/model_internal.h"
#include "../ops/ops.h"
#include "tiles.h"

static dd_status oom(dd_error *err, size_t bytes) {
  return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory allocating %zu bytes for the objective", bytes);
}

static const char *term_name(dd_term_kind k) {
  static const char *const n[] = {"square", "channel", "neuron", "direction", "strong", "weak", "guide"};
  return k < DD_TERM_KIND_COUNT ? n[k] : "?";
}

dd_status dd_objective_bind(dd_objective_prog *p, dd_model *m, dd_error *err) {
  for (int i = 0; i < p->n_terms; i++) {
    dd_term *t = &p->terms[i];
    dd_objective o = {t->layer[0] ? t->layer : NULL, t->layer_index, NULL, 0};
    dd_status s = dd_model_resolve_objective(m, &o, &t->node, err);
    if (s != DD_OK) return s;
    t->c_layer = dd_model_node_channels(m, t->node);
    const char *ln = m->graph.nodes[t->node].name;
    if (t->c_layer < 1)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: '%s' has no channel axis to use", ln);
    if (!isfinite(t->weight))
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: term %d has a weight that is not finite", i + 1);
    if (t->kind != DD_TERM_STRONG && t->kind != DD_TERM_WEAK)
      for (int j = 0; j < t->n_channels; j++)
        if (t->channels[j] < 0 || t->channels[j] >= t->c_layer)
          return dd_fail(err, DD_ERR_NOT_FOUND, "objective: %s: channel %d does not exist in '%s', which has "
                         "channels 0..%d", term_name(t->kind), t->channels[j], ln, t->c_layer - 1);
    if (t->kind == DD_TERM_DIRECTION && t->n_vec != t->c_layer)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: direction on '%s' has %d numbers; the layer has %d "
                     "channels", ln, t->n_vec, t->c_layer);
    if ((t->kind == DD_TERM_STRONG || t->kind == DD_TERM_WEAK) && t->k > t->c_layer)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: %s(%s, %d) asks for more channels than the %d it has",
                     term_name(t->kind), ln, t->k, t->c_layer);
    if (t->kind == DD_TERM_GUIDE && t->guide && (size_t)t->guide_n * (size_t)t->c_layer > DD_GUIDE_MAX_FLOATS)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: too many guide features");
  }
  return DD_OK;
}

int dd_objective_needs_guide(const dd_objective_prog *p) {
  for (int i = 0; i < p->n_terms; i++)
    if (p->terms[i].kind == DD_TERM_GUIDE) return 1;
  return 0;
}
int dd_objective_needs_selection(const dd_objective_prog *p) {
  for (int i = 0; i < p->n_terms; i++)
    if (p->terms[i].kind == DD_TERM_STRONG || p->terms[i].kind == DD_TERM_WEAK) return 1;
  return 0;
}

/* ---- choices made once per dream ------------------------------------------------ */

typedef struct ranked { double v; int c; } ranked;
static int by_value_desc(const void *a, const void *b) {
  const ranked *x = (const ranked *)a, *y = (const ranked *)b;
  if (x->v != y->v) return x->v > y->v ? -1 : 1;
  return x->c - y->c;
}
static int by_value_asc(const void *a, const void *b) {
  const ranked *x = (const ranked *)a, *y = (const ranked *)b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return x->c - y->c;
}
static int int_asc(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

dd_status dd_objective_select(dd_objective_prog *p, dd_model *m, const float *image, int h, int w, int tile_size,
                              dd_error *err) {
  int th = dd_tile_size(h, tile_size), tw = dd_tile_size(w, tile_size);
  if (th < 1 || tw < 1) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: bad image for channel selection");
  float *tile = (float *)dd_aligned_alloc((size_t)th * tw * 3 * sizeof(float) + DD_EXTRA_BYTES);
  if (!tile) return oom(err, (size_t)th * tw * 12);
  dd_status s = DD_OK;
  for (int i = 0; i < p->n_terms && s == DD_OK; i++) {
    dd_term *t = &p->terms[i];
    if (t->kind != DD_TERM_STRONG && t->kind != DD_TERM_WEAK) continue;
    ranked *r = (ranked *)calloc((size_t)t->c_layer, sizeof(ranked));
    if (!r) {
      s = oom(err, sizeof(ranked) * (size_t)t->c_layer);
      break;
    }
    double positions = 0;
    for (int y0 = 0; y0 < h && s == DD_OK; y0 += th)
      for (int x0 = 0; x0 < w && s == DD_OK; x0 += tw) {
        int hh = y0 + th > h ? h - y0 : th, ww = x0 + tw > w ? w - x0 : tw;
        for (int y = 0; y < hh; y++)
          memcpy(tile + (size_t)y * ww * 3, image + ((size_t)(y0 + y) * w + x0) * 3, (size_t)ww * 3 * sizeof(float));
        dd_tensor out;
        s = dd_exec_forward(m->exec, t->node, tile, dd_shape4(1, hh, ww, 3), &out, err);
        if (s != DD_OK) break;
        size_t rows = dd_shape_count(out.shape) / (size_t)out.shape.c;
        for (size_t q = 0; q < rows; q++)
          for (int c = 0; c < t->c_layer; c++) r[c].v += out.data[q * (size_t)out.shape.c + (size_t)c];
        positions += (double)rows;
      }
    if (s == DD_OK) {
      for (int c = 0; c < t->c_layer; c++) {
        r[c].c = c;
        r[c].v /= positions > 0 ? positions : 1;
      }
      qsort(r, (size_t)t->c_layer, sizeof(ranked), t->kind == DD_TERM_STRONG ? by_value_desc : by_value_asc);
      free(t->channels);
      t->channels = (int *)malloc(sizeof(int) * (size_t)t->k);
      if (!t->channels) s = oom(err, sizeof(int) * (size_t)t->k);
      else {
        for (int j = 0; j < t->k; j++) t->channels[j] = r[j].c;
        qsort(t->channels, (size_t)t->k, sizeof(int), int_asc);
        t->n_channels = t->k;
      }
    }
    free(r);
  }
  dd_aligned_free(tile);
  return s;
}

dd_status dd_objective_set_guide(dd_objective_prog *p, dd_model *m, const float *image, int h, int w, dd_error *err) {
  for (int i = 0; i < p->n_terms; i++) {
    dd_term *t = &p->terms[i];
    if (t->kind != DD_TERM_GUIDE) continue;
    dd_tensor out;
    dd_status s = dd_exec_forward(m->exec, t->node, image, dd_shape4(1, h, w, 3), &out, err);
    if (s != DD_OK) return s;
    size_t n = dd_shape_count(out.shape), rows = n / (size_t)out.shape.c;
    if (n > DD_GUIDE_MAX_FLOATS || rows < 1)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: the guide gives %zu features at '%s' (at most %zu)", n,
                     m->graph.nodes[t->node].name, (size_t)DD_GUIDE_MAX_FLOATS);
    free(t->guide);
    t->guide = (float *)malloc(n * sizeof(float));
    if (!t->guide) return oom(err, n * sizeof(float));
    memcpy(t->guide, out.data, n * sizeof(float));
    t->guide_n = (int)rows;
    t->guide_norm_max = dd_guide_norm_max(t->guide, t->guide_n, out.shape.c);
  }
  return DD_OK;
}

/* ---- seeds ----------------------------------------------------------------- */

/* one term's value and dL/dy (weight 1) into dy, which is zeroed first */
static dd_status term_seed(const dd_term *t, const float *y, dd_shape shape, float *dy, double *loss,
                           dd_threadpool *pool, const dd_kernels *kern, dd_guide_match *gm, const char *name,
                           dd_error *err) {
  const size_t c = (size_t)shape.c, rows = dd_shape_count(shape) / c;
  const double inv = 1.0 / (double)rows;
  if ((int)c != t->c_layer)
    return dd_fail(err, DD_ERR_SHAPE, "objective: '%s' has %zu channels here, %d when bound", name, c, t->c_layer);
  if (t->kind == DD_TERM_SQUARE || t->kind == DD_TERM_STRONG || t->kind == DD_TERM_WEAK) {
    *loss = dd_mean_square(rows, (int)c, y, t->channels, t->n_channels);
    dd_mean_square_backward_par(pool, rows, (int)c, y, t->channels, t->n_channels, dy);
    return DD_OK;
  }
  memset(dy, 0, rows * c * sizeof(float));
  double L = 0;
  switch (t->kind) {
    case DD_TERM_CHANNEL: {
      const int k = t->channels[0];
      for (size_t r = 0; r < rows; r++) {
        L += y[r * c + (size_t)k];
        dy[r * c + (size_t)k] = (float)inv;
      }
      L *= inv;
      break;
    }
    case DD_TERM_NEURON: {
      /* clamped into the map: a dream's edge tiles can be a few pixels wide */
      int cy = shape.h / 2 + t->dy, cx = shape.w / 2 + t->dx;
      cy = cy < 0 ? 0 : cy >= shape.h ? shape.h - 1 : cy;
      cx = cx < 0 ? 0 : cx >= shape.w ? shape.w - 1 : cx;
      size_t at = ((size_t)cy * (size_t)shape.w + (size_t)cx) * c + (size_t)t->channels[0];
      L = y[at];
      dy[at] = 1.0f;
      break;
    }
    case DD_TERM_DIRECTION:
      for (size_t r = 0; r < rows; r++) {
        double dot = 0;
        for (size_t q = 0; q < c; q++) {
          dot += (double)y[r * c + q] * t->vec[q];
          dy[r * c + q] = (float)(t->vec[q] * inv);
        }
        L += dot;
      }
      L *= inv;
      break;
    case DD_TERM_GUIDE: {
      if (!t->guide || t->guide_n < 1)
        return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: guide(%s) needs a guide image", name);
      dd_status s = dd_guide_match_run(gm, kern, pool, y, rows, (int)c, t->guide, t->guide_n, t->guide_norm_max, inv, dy,
                                       &L, err);
      if (s != DD_OK) return s;
      L *= inv;
      break;
    }
    default: return dd_fail(err, DD_ERR_INTERNAL, "objective: no seed for term kind %d", (int)t->kind);
  }
  *loss = L;
  return DD_OK;
}

static dd_status ensure(float **buf, size_t *cap, size_t n, dd_error *err) {
  if (n <= *cap) return DD_OK;
  dd_aligned_free(*buf);
  *buf = (float *)dd_aligned_alloc(n * sizeof(float) + DD_EXTRA_BYTES);
  *cap = *buf ? n : 0;
  return *buf ? DD_OK : oom(err, n * sizeof(float));
}

static dd_status seed_terms(dd_objective_prog *p, int node, const float *y, dd_shape shape, float *dy, double *loss,
                            dd_threadpool *pool, const dd_kernels *kern, const char *name, dd_error *err) {
  size_t n = dd_shape_count(shape);
  int first = 1;
  double total = 0;
  for (int i = 0; i < p->n_terms; i++) {
    const dd_term *t = &p->terms[i];
    if (t->node != node) continue;
    double L = 0;
    dd_status s;
    if (first && t->weight == 1.0) { /* straight into dy: square(...) alone is the tutorial's seed, bit for bit */
      s = term_seed(t, y, shape, dy, &L, pool, kern, &p->match, name, err);
    } else {
      if ((s = ensure(&p->tmp, &p->tmp_cap, n, err)) != DD_OK) return s;
      s = term_seed(t, y, shape, p->tmp, &L, pool, kern, &p->match, name, err);
      const float w = (float)t->weight;
      if (s == DD_OK && first)
        for (size_t k = 0; k < n; k++) dy[k] = w * p->tmp[k];
      else if (s == DD_OK)
        for (size_t k = 0; k < n; k++) dy[k] += w * p->tmp[k];
    }
    if (s != DD_OK) return s;
    total += t->weight * L;
    first = 0;
  }
  if (first) memset(dy, 0, n * sizeof(float));
  *loss = total;
  return DD_OK;
}

_Static_assert(DD_OBJECTIVE_MAX_TERMS <= DD_PLAN_MAX_TARGETS, "an objective's layers are one pass's targets");

/* The engine's seed for one target: the sum of the terms on that layer. */
static dd_status group_seed(void *ctx, const dd_seed_args *a, dd_error *err) {
  dd_objective_prog *p = (dd_objective_prog *)ctx;
  return seed_terms(p, a->target, a->y, a->shape, a->dy, a->loss, a->pool, a->k, a->name, err);
}

dd_status dd_objective_seed(dd_objective_prog *p, int node, const float *y, dd_shape shape, float *dy, double *loss,
                            dd_error *err) {
  double L = 0;
  dd_status s = seed_terms(p, node, y, shape, dy, &L, NULL, NULL, "the layer", err);
  if (loss) *loss = L;
  return s;
}

int dd_objective_layers(const dd_objective_prog *p, int *nodes) {
  int n_nodes = 0;
  for (int i = 0; i < p->n_terms; i++) {
    int seen = 0;
    for (int j = 0; j < n_nodes; j++) seen |= nodes[j] == p->terms[i].node;
    if (!seen) nodes[n_nodes++] = p->terms[i].node;
  }
  return n_nodes;
}

dd_status dd_objective_gradient(dd_objective_prog *p, dd_model *m, const float *input, int h, int w, float *grad_out,
                                double *loss, dd_error *err) {
  /* one forward and one reverse pass for all the layers */
  int nodes[DD_OBJECTIVE_MAX_TERMS];
  const int n_nodes = dd_objective_layers(p, nodes);
  if (n_nodes == 0) {
    memset(grad_out, 0, (size_t)h * (size_t)w * 3 * sizeof(float));
    if (loss) *loss = 0;
    return DD_OK;
  }
  double L = 0;
  dd_status s = dd_exec_seeds_gradient(m->exec, nodes, n_nodes, group_seed, p, input, dd_shape4(1, h, w, 3), grad_out,
                                       &L, err);
  if (s == DD_OK && loss) *loss = L;
  return s;
}
