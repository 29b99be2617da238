/* exec.c — dd_exec_create/free: what an executor prepares once per model.
 *
 * Per node: Conv2D filters go to the backend (repacked there), with a
 * BiasAdd that is the conv's only consumer folded into the weights (the plan
 * fuses it, or subtracts it again: engine.h, raw_conv); BiasAdd and MatMul
 * constants are kept aligned (copied when the file's bytes are not). */
#include <stdlib.h>

#include "engine.h"

/* ---- constants ------------------------------------------------------------ */

/* *out = the constant's floats at a 4-byte aligned address: its own, or a
   copy the executor owns. Fails (err filled) when it is empty or on OOM. */
static dd_status aligned_floats(dd_exec *e, const dd_node *owner, const dd_const *c, const float **out,
                                dd_error *err) {
  *out = NULL;
  if (c->count <= 0 || !c->f)
    return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': its constant operand is empty", dd_op_name(owner->op),
                   owner->name);
  if (((uintptr_t)c->f & 3u) == 0) {
    *out = c->f;
    return DD_OK;
  }
  float *copy = (float *)dd_aligned_alloc((size_t)c->count * sizeof(float));
  void **grown = (void **)realloc(e->owned, (size_t)(e->n_owned + 1) * sizeof(void *));
  if (!copy || !grown) {
    dd_aligned_free(copy);
    if (grown) e->owned = grown;
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "%s node '%s': out of memory copying a constant of %lld floats",
                   dd_op_name(owner->op), owner->name, (long long)c->count);
  }
  e->owned = grown;
  memcpy(copy, c->f, (size_t)c->count * sizeof(float));
  e->owned[e->n_owned++] = copy;
  *out = copy;
  return DD_OK;
}

static dd_status prepare_conv(dd_exec *e, int i, dd_error *err) {
  const dd_graph *g = e->g;
  const dd_node *n = &g->nodes[i];
  const dd_const *w = dd_float_const(g, n->inputs[1]);
  if (!w || w->rank != 4)
    return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': Conv2D filter must be a rank-4 float Const", n->name);
  dd_conv2d_params p;
  p.win.k_h = (int)w->dims[0];
  p.win.k_w = (int)w->dims[1];
  p.in_c = (int)w->dims[2];
  p.out_c = (int)w->dims[3];
  p.win.stride_h = n->attr.conv.strides[0];
  p.win.stride_w = n->attr.conv.strides[1];
  p.win.padding = n->attr.conv.padding;
  memcpy(p.win.pads, n->attr.conv.pads, sizeof p.win.pads);
  p.win.ceil_mode = p.win.count_include_pad = 0;
  if (p.win.k_h <= 0 || p.win.k_w <= 0 || p.in_c <= 0 || p.out_c <= 0 || p.win.stride_h <= 0 ||
      p.win.stride_w <= 0)
    return dd_fail(err, DD_ERR_SHAPE, "node '%s': invalid Conv2D filter or strides", n->name);
  /* Fold a following BiasAdd into the weights when it is the conv's only consumer. */
  e->prep[i].bias_node = -1;
  const float *bias = NULL;
  if (e->consumers[i] == 1) {
    for (int j = 0; j < g->n_nodes; j++) {
      const dd_node *m = &g->nodes[j];
      if (m->op == DD_OP_BIAS_ADD && m->n_inputs == 2 && m->inputs[0] == i) {
        const dd_const *b = dd_float_const(g, m->inputs[1]);
        if (b && b->count == p.out_c) {
          dd_status s = aligned_floats(e, m, b, &bias, err);
          if (s != DD_OK) return s;
          e->prep[i].bias_node = j;
          e->prep[j].bias = bias;
        }
        break;
      }
    }
  }
  const float *filter = w->f;
  if (((uintptr_t)filter & 3u) != 0) {
    dd_status s = aligned_floats(e, n, w, &filter, err);
    if (s != DD_OK) return s;
  }
  e->prep[i].bias = bias;
  dd_status s = e->k->conv2d_create(&p, filter, bias, &e->prep[i].conv, err);
  if (s != DD_OK) return s;
  /* The aligned copy of an unaligned filter is not needed after create. */
  if (filter != w->f && e->n_owned > 0 && e->owned[e->n_owned - 1] == filter) {
    dd_aligned_free(e->owned[--e->n_owned]);
  }
  return DD_OK;
}

dd_status dd_exec_create(const dd_graph *g, const dd_kernels *k, dd_pool *pool, int num_threads, dd_exec **out,
                         dd_error *err) {
  if (!g || !k || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_exec_create: NULL argument");
  dd_exec *e = (dd_exec *)calloc(1, sizeof *e);
  if (!e) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  e->g = g;
  e->k = k;
  e->fusion = DD_EXEC_FUSION_ON;
  e->prep = (dd_prepared *)calloc((size_t)g->n_nodes + 1, sizeof(dd_prepared));
  e->consumers = (int *)calloc((size_t)g->n_nodes + 1, sizeof(int));
  e->plan_index = (int *)malloc(((size_t)g->n_nodes + 1) * sizeof(int));
  if (!e->prep || !e->consumers || !e->plan_index) {
    dd_exec_free(e);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  }
  for (int i = 0; i < g->n_nodes; i++) {
    e->prep[i].bias_node = -1;
    for (int j = 0; j < g->nodes[i].n_inputs; j++) e->consumers[g->nodes[i].inputs[j]]++;
  }
  dd_status s = DD_OK;
  for (int i = 0; i < g->n_nodes && s == DD_OK; i++) {
    const dd_node *n = &g->nodes[i];
    if (n->op == DD_OP_CONV2D) {
      s = prepare_conv(e, i, err);
    } else if (n->op == DD_OP_BIAS_ADD && !e->prep[i].bias) {
      const dd_const *b = dd_float_const(g, n->inputs[1]);
      if (!b) s = dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': BiasAdd bias must be a float Const", n->name);
      else s = aligned_floats(e, n, b, &e->prep[i].bias, err);
    } else if (n->op == DD_OP_MUL) {
      const dd_const *f = dd_float_const(g, n->inputs[1]);
      if (!f) s = dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': Mul's factor must be a float Const", n->name);
      else s = aligned_floats(e, n, f, &e->prep[i].scale, err);
    } else if (n->op == DD_OP_MATMUL) {
      const dd_const *b = dd_float_const(g, n->inputs[1]);
      if (!b || b->rank != 2)
        s = dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': MatMul's second input must be a rank-2 float Const", n->name);
      else s = aligned_floats(e, n, b, &e->prep[i].matrix, err);
    }
  }
  if (s != DD_OK) {
    dd_exec_free(e);
    return s;
  }
  if (num_threads != 1) e->pool = dd_threadpool_open(pool, num_threads);
  *out = e;
  return DD_OK;
}

dd_status dd_exec_create_lane(dd_exec *parent, dd_exec **out, dd_error *err) {
  if (!parent || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_exec_create_lane: NULL argument");
  *out = NULL;
  if (parent->parent) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_exec_create_lane: the parent is a lane");
  if (!parent->k->conv_concurrent)
    return dd_fail(err, DD_ERR_UNSUPPORTED, "the %s backend's convolutions cannot run on two threads at once",
                   parent->k->name);
  dd_exec *e = (dd_exec *)calloc(1, sizeof *e);
  int *index = (int *)malloc(((size_t)parent->g->n_nodes + 1) * sizeof(int));
  if (!e || !index) {
    free(e);
    free(index);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  }
  e->parent = parent;
  e->g = parent->g;
  e->k = parent->k;
  e->prep = parent->prep;
  e->consumers = parent->consumers;
  e->fusion = parent->fusion;
  e->plan_index = index;
  *out = e;
  return DD_OK;
}

void dd_exec_free(dd_exec *e) {
  if (!e) return;
  if (e->parent) { /* a lane: the weights are its parent's */
    e->prep = NULL;
    e->consumers = NULL;
  }
  if (e->prep && e->g) {
    for (int i = 0; i < e->g->n_nodes; i++)
      if (e->prep[i].conv) e->k->conv2d_destroy(e->prep[i].conv);
  }
  for (int i = 0; i < e->n_owned; i++) dd_aligned_free(e->owned[i]);
  free(e->owned);
  free(e->prep);
  free(e->consumers);
  free(e->plan_index);
  free(e->plan);
  free(e->written);
  dd_arena_free(&e->arena);
  dd_workspace_free(&e->ws);
  dd_threadpool_destroy(e->pool);
  free(e);
}

size_t dd_exec_arena_peak(const dd_exec *e) { return e ? e->arena.peak : 0; }
size_t dd_exec_workspace_bytes(const dd_exec *e) { return e && e->ws.buf ? e->ws.cap * sizeof(float) + DD_EXTRA_BYTES : 0; }
dd_threadpool *dd_exec_threads(const dd_exec *e) { return e ? e->pool : NULL; }

dd_status dd_exec_check_run_args(dd_exec *e, int target, const float *input, dd_shape s, dd_error *err) {
  if (!e || !input) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (target < 0 || target >= e->g->n_nodes) return dd_fail(err, DD_ERR_NOT_FOUND, "node index %d out of range", target);
  if (s.n <= 0 || s.h <= 0 || s.w <= 0 || s.c <= 0 || s.h > 65536 || s.w > 65536 || s.n > 4096)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "invalid input shape %dx%dx%dx%d", s.n, s.h, s.w, s.c);
  if (e->g->nodes[target].op == DD_OP_CONST)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "node '%s' is a constant", e->g->nodes[target].name);
  return DD_OK;
}

