/* exec.c — planning, forward and reverse-mode input gradient over a dd_graph.
 *
 * Plan: the nodes a target needs (constants excluded), in topological order,
 * each with an output shape and a storage root. Nodes that only rename or
 * reshape (Identity, Reshape) and nodes fused into a convolution's epilogue
 * (BiasAdd, Relu) share their producer's storage. Activations are kept for
 * the backward pass; gradient buffers are per storage root, written by the
 * first consumer and accumulated by the others.
 */
#include "exec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../ops/ops.h"

/* Concat inputs handled by one pass over the rows. */
#define DD_CONCAT_BATCH 16

typedef enum fuse_kind { FUSE_NONE = 0, FUSE_BIAS = 1, FUSE_BIAS_RELU = 2 } fuse_kind;

typedef struct prepared {
  dd_conv2d_weights *conv; /* CONV2D */
  int bias_node;           /* CONV2D: BiasAdd node folded into the weights, or -1 */
  const float *bias;       /* CONV2D with bias_node / BIAS_ADD: aligned bias */
  const float *matrix;     /* MATMUL: aligned B */
} prepared;

typedef struct plan_node {
  int node;          /* graph index */
  dd_shape shape;
  int root;          /* plan index owning the storage (itself when it owns it) */
  fuse_kind fuse;    /* CONV2D: what its epilogue computes */
  int absorbed;      /* BIAS_ADD/RELU computed by a fused conv: no work */
  int raw_conv;      /* CONV2D whose weights carry a bias that must be undone */
  int premasked;     /* FUSE_BIAS_RELU conv whose gradient writers (all Concats) apply its relu mask */
  dd_window_shape ws;
  size_t act_off, grad_off;
  double ms;         /* profile */
} plan_node;

struct dd_exec {
  const dd_graph *g;
  const dd_kernels *k;
  dd_threadpool *pool;
  prepared *prep;   /* per graph node */
  int *consumers;   /* per graph node: number of consumers in the whole graph */
  void **owned;     /* aligned copies of constants */
  int n_owned;
  /* the current plan */
  plan_node *plan;
  int plan_len, plan_cap;
  int *plan_index;  /* per graph node: its plan index or -1 */
  int plan_target;
  dd_shape plan_in;
  int plan_has_grad;
  size_t scratch_off;
  size_t grad_bytes; /* gradient region of the current plan */
  unsigned char *written; /* per plan index: gradient root written */
  dd_arena arena;
  int profile;
};

/* ---- constants ------------------------------------------------------------ */

static const float *aligned_floats(dd_exec *e, const dd_const *c, dd_error *err) {
  if (((uintptr_t)c->f & 3u) == 0) return c->f;
  float *copy = (float *)dd_aligned_alloc((size_t)c->count * sizeof(float));
  void **grown = (void **)realloc(e->owned, (size_t)(e->n_owned + 1) * sizeof(void *));
  if (!copy || !grown) {
    dd_aligned_free(copy);
    if (grown) e->owned = grown;
    dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory copying a constant");
    return NULL;
  }
  e->owned = grown;
  memcpy(copy, c->f, (size_t)c->count * sizeof(float));
  e->owned[e->n_owned++] = copy;
  return copy;
}

static const dd_const *float_const(const dd_graph *g, int idx) {
  if (idx < 0 || idx >= g->n_nodes) return NULL;
  const dd_node *n = &g->nodes[idx];
  if (n->op != DD_OP_CONST || n->attr.value.dtype != DD_DTYPE_FLOAT) return NULL;
  return &n->attr.value;
}

static dd_status prepare_conv(dd_exec *e, int i, dd_error *err) {
  const dd_graph *g = e->g;
  const dd_node *n = &g->nodes[i];
  const dd_const *w = float_const(g, n->inputs[1]);
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
        const dd_const *b = float_const(g, m->inputs[1]);
        if (b && b->count == p.out_c) {
          bias = aligned_floats(e, b, err);
          if (!bias) return DD_ERR_OUT_OF_MEMORY;
          e->prep[i].bias_node = j;
          e->prep[j].bias = bias;
        }
        break;
      }
    }
  }
  const float *filter = w->f;
  if (((uintptr_t)filter & 3u) != 0) {
    filter = aligned_floats(e, w, err);
    if (!filter) return DD_ERR_OUT_OF_MEMORY;
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

dd_status dd_exec_create(const dd_graph *g, const dd_kernels *k, int num_threads, dd_exec **out,
                         dd_error *err) {
  if (!g || !k || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_exec_create: NULL argument");
  dd_exec *e = (dd_exec *)calloc(1, sizeof *e);
  if (!e) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  e->g = g;
  e->k = k;
  e->plan_target = -1;
  e->prep = (prepared *)calloc((size_t)g->n_nodes + 1, sizeof(prepared));
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
      const dd_const *b = float_const(g, n->inputs[1]);
      if (!b) s = dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': BiasAdd bias must be a float Const", n->name);
      else if (!(e->prep[i].bias = aligned_floats(e, b, err))) s = DD_ERR_OUT_OF_MEMORY;
    } else if (n->op == DD_OP_MATMUL) {
      const dd_const *b = float_const(g, n->inputs[1]);
      if (!b || b->rank != 2)
        s = dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': MatMul's second input must be a rank-2 float Const", n->name);
      else if (!(e->prep[i].matrix = aligned_floats(e, b, err))) s = DD_ERR_OUT_OF_MEMORY;
    }
  }
  if (s != DD_OK) {
    dd_exec_free(e);
    return s;
  }
  if (num_threads > 1) e->pool = dd_threadpool_create(num_threads);
  *out = e;
  return DD_OK;
}

void dd_exec_free(dd_exec *e) {
  if (!e) return;
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
  dd_threadpool_destroy(e->pool);
  free(e);
}

size_t dd_exec_arena_peak(const dd_exec *e) { return e ? e->arena.peak : 0; }

/* ---- planning ------------------------------------------------------------- */

static int is_param(const dd_node *n) { return n->op == DD_OP_CONST; }

/* Post-order DFS from target over non-constant inputs -> topological order. */
static dd_status collect(dd_exec *e, int target, dd_error *err) {
  const dd_graph *g = e->g;
  for (int i = 0; i < g->n_nodes; i++) e->plan_index[i] = -1;
  e->plan_len = 0;
  int *stack = (int *)malloc(((size_t)g->n_nodes + 1) * 2 * sizeof(int));
  unsigned char *state = (unsigned char *)calloc((size_t)g->n_nodes + 1, 1); /* 1 open, 2 done */
  if (!stack || !state) {
    free(stack);
    free(state);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  }
  if (e->plan_cap < g->n_nodes) {
    plan_node *p = (plan_node *)realloc(e->plan, (size_t)g->n_nodes * sizeof(plan_node));
    unsigned char *w = (unsigned char *)realloc(e->written, (size_t)g->n_nodes);
    if (!p || !w) {
      if (p) e->plan = p;
      if (w) e->written = w;
      free(stack);
      free(state);
      return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
    }
    e->plan = p;
    e->written = w;
    e->plan_cap = g->n_nodes;
  }
  dd_status s = DD_OK;
  int sp = 0;
  stack[sp++] = target;
  stack[sp++] = 0;
  while (sp > 0) {
    int next_in = stack[sp - 1];
    int v = stack[sp - 2];
    const dd_node *n = &g->nodes[v];
    if (next_in == 0) {
      if (state[v] == 2) {
        sp -= 2;
        continue;
      }
      if (state[v] == 1) {
        s = dd_fail(err, DD_ERR_GRAPH, "graph has a cycle through node '%s'", n->name);
        break;
      }
      state[v] = 1;
    }
    if (next_in < n->n_inputs) {
      stack[sp - 1] = next_in + 1;
      int u = n->inputs[next_in];
      if (is_param(&g->nodes[u]) || state[u] == 2) continue;
      if (state[u] == 1) {
        s = dd_fail(err, DD_ERR_GRAPH, "graph has a cycle through node '%s'", g->nodes[u].name);
        break;
      }
      stack[sp++] = u;
      stack[sp++] = 0;
      continue;
    }
    state[v] = 2;
    sp -= 2;
    plan_node *pn = &e->plan[e->plan_len];
    memset(pn, 0, sizeof *pn);
    pn->node = v;
    pn->root = e->plan_len;
    e->plan_index[v] = e->plan_len++;
  }
  free(stack);
  free(state);
  return s;
}

static dd_status infer_shape(dd_exec *e, int pi, dd_shape in_shape, dd_error *err) {
  const dd_graph *g = e->g;
  plan_node *pn = &e->plan[pi];
  const dd_node *n = &g->nodes[pn->node];
  const plan_node *a = NULL;
  if (n->op != DD_OP_PLACEHOLDER) {
    if (n->n_inputs < 1) return dd_fail(err, DD_ERR_GRAPH, "node '%s' (%s) has no input", n->name, dd_op_name(n->op));
    int ai = e->plan_index[n->inputs[0]];
    if (ai < 0)
      return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': input '%s' is a constant; only the image input may flow here",
                     n->name, g->nodes[n->inputs[0]].name);
    a = &e->plan[ai];
  }
  switch (n->op) {
    case DD_OP_PLACEHOLDER:
      pn->shape = in_shape;
      return DD_OK;
    case DD_OP_IDENTITY:
      pn->shape = a->shape;
      pn->root = a->root;
      return DD_OK;
    case DD_OP_RELU:
    case DD_OP_LRN:
    case DD_OP_SOFTMAX:
      pn->shape = a->shape;
      return DD_OK;
    case DD_OP_BIAS_ADD: {
      const dd_const *b = float_const(g, n->inputs[1]);
      if (!b || b->count != a->shape.c)
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': bias has %lld values for %d channels", n->name,
                       b ? (long long)b->count : 0LL, a->shape.c);
      pn->shape = a->shape;
      return DD_OK;
    }
    case DD_OP_CONV2D: {
      const dd_const *w = float_const(g, n->inputs[1]);
      if (w->dims[2] != a->shape.c)
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': filter expects %lld input channels, got %d", n->name,
                       (long long)w->dims[2], a->shape.c);
      dd_window win = {(int)w->dims[0], (int)w->dims[1], n->attr.conv.strides[0], n->attr.conv.strides[1],
                       n->attr.conv.padding};
      dd_status s = dd_window_shape_init(&win, a->shape.n, a->shape.h, a->shape.w, &pn->ws, err);
      if (s != DD_OK) return dd_fail(err, s, "node '%s': %s", n->name, err ? err->message : "bad window");
      pn->shape = dd_shape4(a->shape.n, pn->ws.out_h, pn->ws.out_w, (int)w->dims[3]);
      return DD_OK;
    }
    case DD_OP_MAX_POOL:
    case DD_OP_AVG_POOL: {
      dd_status s = dd_window_shape_init(&n->attr.pool, a->shape.n, a->shape.h, a->shape.w, &pn->ws, err);
      if (s != DD_OK) return dd_fail(err, s, "node '%s': %s", n->name, err ? err->message : "bad window");
      pn->shape = dd_shape4(a->shape.n, pn->ws.out_h, pn->ws.out_w, a->shape.c);
      return DD_OK;
    }
    case DD_OP_CONCAT: {
      int axis = n->attr.concat.axis;
      if (axis != 3 && axis != -1)
        return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': Concat on axis %d; only the channel axis is supported",
                       n->name, axis);
      dd_shape s = a->shape;
      s.c = 0;
      for (int j = 0; j < n->n_inputs; j++) {
        int bi = e->plan_index[n->inputs[j]];
        if (bi < 0) return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': constant Concat input", n->name);
        dd_shape b = e->plan[bi].shape;
        if (b.n != s.n || b.h != s.h || b.w != s.w)
          return dd_fail(err, DD_ERR_SHAPE, "node '%s': Concat input %d is %dx%dx%d, expected %dx%dx%d", n->name, j,
                         b.n, b.h, b.w, s.n, s.h, s.w);
        s.c += b.c;
      }
      pn->shape = s;
      return DD_OK;
    }
    case DD_OP_RESHAPE: {
      size_t count = dd_shape_count(a->shape);
      int64_t dims[DD_MAX_RANK];
      int rank = n->attr.reshape.rank, infer = -1;
      int64_t known = 1;
      if (rank < 1 || rank > DD_MAX_RANK) return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': Reshape rank %d", n->name, rank);
      for (int j = 0; j < rank; j++) {
        dims[j] = n->attr.reshape.dims[j];
        if (dims[j] == -1 && infer < 0) infer = j;
        else if (dims[j] <= 0) return dd_fail(err, DD_ERR_SHAPE, "node '%s': Reshape dim %lld", n->name, (long long)dims[j]);
        else known *= dims[j];
      }
      if (infer >= 0) {
        if (known <= 0 || count % (size_t)known != 0)
          return dd_fail(err, DD_ERR_SHAPE, "node '%s': cannot reshape %zu values into a multiple of %lld", n->name, count,
                         (long long)known);
        dims[infer] = (int64_t)(count / (size_t)known);
      } else if ((size_t)known != count) {
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': cannot reshape %zu values into %lld", n->name, count, (long long)known);
      }
      int64_t d4[4] = {1, 1, 1, 1};
      for (int j = 0; j < rank; j++) d4[4 - rank + j] = dims[j];
      if (rank == 2) { /* [rows, cols] -> rows x 1 x 1 x cols */
        d4[0] = dims[0];
        d4[1] = d4[2] = 1;
        d4[3] = dims[1];
      }
      for (int j = 0; j < 4; j++)
        if (d4[j] > INT32_MAX) return dd_fail(err, DD_ERR_SHAPE, "node '%s': dimension too large", n->name);
      pn->shape = dd_shape4((int)d4[0], (int)d4[1], (int)d4[2], (int)d4[3]);
      pn->root = a->root;
      return DD_OK;
    }
    case DD_OP_MATMUL: {
      const dd_const *b = float_const(g, n->inputs[1]);
      int rows = a->shape.n * a->shape.h * a->shape.w, k = a->shape.c;
      if (n->attr.matmul.transpose_a)
        return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': MatMul with transpose_a", n->name);
      int tb = n->attr.matmul.transpose_b;
      int64_t bk = tb ? b->dims[1] : b->dims[0], bn = tb ? b->dims[0] : b->dims[1];
      if (bk != k)
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': MatMul of [%d,%d] by [%lld,%lld]", n->name, rows, k, (long long)bk,
                       (long long)bn);
      pn->shape = dd_shape4(rows, 1, 1, (int)bn);
      return DD_OK;
    }
    default:
      return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': op %s cannot be executed", n->name, dd_op_name(n->op));
  }
}

/* Fuse Conv2D -> BiasAdd [-> Relu] chains whose intermediates have a single
   consumer and are not the target: the conv computes the epilogue into the
   last node's storage. */
static void fuse(dd_exec *e, int target) {
  const dd_graph *g = e->g;
  for (int pi = 0; pi < e->plan_len; pi++) {
    plan_node *pn = &e->plan[pi];
    const dd_node *n = &g->nodes[pn->node];
    if (n->op != DD_OP_CONV2D) continue;
    int bn = e->prep[pn->node].bias_node;
    if (bn < 0) continue;
    int bpi = e->plan_index[bn];
    if (bpi < 0 || pn->node == target) {
      pn->raw_conv = 1; /* weights carry the bias; the raw conv output is wanted */
      continue;
    }
    pn->fuse = FUSE_BIAS;
    plan_node *bp = &e->plan[bpi];
    bp->absorbed = 1;
    bp->root = pi;
    if (bn != target && e->consumers[bn] == 1) {
      for (int ri = bpi + 1; ri < e->plan_len; ri++) {
        const dd_node *r = &g->nodes[e->plan[ri].node];
        if (r->op == DD_OP_RELU && r->inputs[0] == bn) {
          pn->fuse = FUSE_BIAS_RELU;
          e->plan[ri].absorbed = 1;
          e->plan[ri].root = pi;
          break;
        }
      }
    }
  }
  /* Identity/Reshape take their root after fusion. */
  for (int pi = 0; pi < e->plan_len; pi++) {
    const dd_node *n = &g->nodes[e->plan[pi].node];
    if (n->op == DD_OP_IDENTITY || n->op == DD_OP_RESHAPE)
      e->plan[pi].root = e->plan[e->plan_index[n->inputs[0]]].root;
  }
}

/* A fused conv+relu whose output reaches the backward pass only through
   Concats has its relu mask applied by the Concat's gradient copy: the mask
   is linear, so masking each contribution equals masking their sum, and it
   saves a pass over the conv's output. */
static void mark_premasked(dd_exec *e, int target) {
  const dd_graph *g = e->g;
  const int troot = e->plan[e->plan_index[target]].root;
  for (int pi = 0; pi < e->plan_len; pi++) e->plan[pi].premasked = e->plan[pi].fuse == FUSE_BIAS_RELU && pi != troot;
  for (int pi = 0; pi < e->plan_len; pi++) {
    const plan_node *pn = &e->plan[pi];
    const dd_node *n = &g->nodes[pn->node];
    dd_op op = n->op;
    if (op == DD_OP_PLACEHOLDER || op == DD_OP_IDENTITY || op == DD_OP_RESHAPE || pn->absorbed) continue;
    for (int j = 0; j < n->n_inputs; j++) {
      int ai = e->plan_index[n->inputs[j]];
      if (ai < 0) continue;
      plan_node *r = &e->plan[e->plan[ai].root];
      if (op != DD_OP_CONCAT) r->premasked = 0;
    }
  }
  /* Identity/Reshape consumers pass the gradient on to their own consumers,
     which were checked above under the same root. */
}

/* Gradient buffers live only from their first write (the backward step of
   the last consumer in forward order) to their last read (their own node's
   backward step; the end of the pass for the input). Place them in the arena
   by first fit over those intervals, largest first. */
static int does_backward_work(const dd_exec *e, int pi) {
  const plan_node *pn = &e->plan[pi];
  dd_op op = e->g->nodes[pn->node].op;
  return !(op == DD_OP_PLACEHOLDER || op == DD_OP_IDENTITY || op == DD_OP_RESHAPE || pn->absorbed);
}

static dd_status place_gradients(dd_exec *e, int target, dd_error *err) {
  int n = e->plan_len;
  int *start = (int *)malloc(sizeof(int) * (size_t)n * 3);
  size_t *off = (size_t *)malloc(sizeof(size_t) * (size_t)n);
  if (!start || !off) {
    free(start);
    free(off);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory");
  }
  int *end = start + n, *order = start + 2 * n;
  /* backward step of plan node pi is n-1-pi; the seed is step -1 */
  for (int pi = 0; pi < n; pi++) {
    start[pi] = INT32_MAX;
    end[pi] = n - 1 - pi;
  }
  for (int pi = 0; pi < n; pi++) {
    if (e->g->nodes[e->plan[pi].node].op == DD_OP_PLACEHOLDER) end[e->plan[pi].root] = n; /* copied out at the end */
    if (!does_backward_work(e, pi)) continue;
    const dd_node *nd = &e->g->nodes[e->plan[pi].node];
    for (int j = 0; j < nd->n_inputs; j++) {
      int ai = e->plan_index[nd->inputs[j]];
      if (ai < 0) continue;
      int r = e->plan[ai].root, step = n - 1 - pi;
      if (step < start[r]) start[r] = step;
    }
  }
  start[e->plan[e->plan_index[target]].root] = -1;
  int m = 0;
  for (int pi = 0; pi < n; pi++)
    if (e->plan[pi].root == pi && start[pi] != INT32_MAX) order[m++] = pi;
  /* largest first (insertion sort: n is a few hundred) */
  for (int i = 1; i < m; i++) {
    int v = order[i], k = i;
    size_t sv = dd_shape_count(e->plan[v].shape);
    while (k > 0 && dd_shape_count(e->plan[order[k - 1]].shape) < sv) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = v;
  }
  size_t total = 0;
  for (int i = 0; i < m; i++) {
    int v = order[i];
    size_t size = (dd_shape_count(e->plan[v].shape) * sizeof(float) + DD_EXTRA_BYTES + 63) & ~(size_t)63;
    size_t at = 0;
    for (int again = 1; again;) { /* first fit among the placed buffers whose lifetimes overlap */
      again = 0;
      for (int k = 0; k < i; k++) {
        int u = order[k];
        if (start[u] > end[v] || start[v] > end[u]) continue;
        size_t usize = (dd_shape_count(e->plan[u].shape) * sizeof(float) + DD_EXTRA_BYTES + 63) & ~(size_t)63;
        if (at < off[u] + usize && off[u] < at + size) {
          at = off[u] + usize;
          again = 1;
        }
      }
    }
    off[v] = at;
    if (at + size > total) total = at + size;
  }
  size_t base = dd_arena_reserve(&e->arena, total);
  for (int i = 0; i < m; i++) e->plan[order[i]].grad_off = base + off[order[i]];
  e->grad_bytes = total;
  free(start);
  free(off);
  return DD_OK;
}

static dd_status make_plan(dd_exec *e, int target, dd_shape in_shape, int want_grad, dd_error *err) {
  if (e->plan_target == target && dd_shape_equal(e->plan_in, in_shape) && e->plan_has_grad >= want_grad)
    return DD_OK;
  e->plan_target = -1;
  dd_status s = collect(e, target, err);
  if (s != DD_OK) return s;
  int has_input = 0;
  for (int pi = 0; pi < e->plan_len; pi++) {
    if (e->g->nodes[e->plan[pi].node].op == DD_OP_PLACEHOLDER) has_input++;
    s = infer_shape(e, pi, in_shape, err);
    if (s != DD_OK) return s;
  }
  if (has_input != 1)
    return dd_fail(err, DD_ERR_GRAPH, "node '%s' depends on %d image inputs; exactly one is supported",
                   e->g->nodes[target].name, has_input);
  fuse(e, target);
  mark_premasked(e, target);
  dd_arena_reset(&e->arena);
  size_t max_elems = 0;
  for (int pi = 0; pi < e->plan_len; pi++) {
    plan_node *pn = &e->plan[pi];
    size_t bytes, elems = dd_shape_count(pn->shape);
    if (!dd_mul_size(elems, sizeof(float), &bytes) || bytes > SIZE_MAX / 4)
      return dd_fail(err, DD_ERR_SHAPE, "node '%s': tensor too large", e->g->nodes[pn->node].name);
    if (elems > max_elems) max_elems = elems;
    if (pn->root == pi) pn->act_off = dd_arena_reserve(&e->arena, bytes + DD_EXTRA_BYTES);
  }
  if (want_grad) {
    dd_status ps = place_gradients(e, target, err);
    if (ps != DD_OK) return ps;
  }
  if (want_grad) e->scratch_off = dd_arena_reserve(&e->arena, max_elems * sizeof(float) + DD_EXTRA_BYTES);
  s = dd_arena_commit(&e->arena, err);
  if (s != DD_OK) return s;
  e->plan_target = target;
  e->plan_in = in_shape;
  e->plan_has_grad = want_grad;
  return DD_OK;
}

dd_status dd_exec_reserve(dd_exec *e, int target, dd_shape in_shape, dd_error *err) {
  if (!e || target < 0 || target >= e->g->n_nodes) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_exec_reserve: bad arguments");
  return make_plan(e, target, in_shape, 1, err);
}

/* ---- forward -------------------------------------------------------------- */

static float *act(dd_exec *e, int pi) { return dd_arena_ptr(&e->arena, e->plan[e->plan[pi].root].act_off); }
static float *input_act(dd_exec *e, const dd_node *n, int j) { return act(e, e->plan_index[n->inputs[j]]); }

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void forward_node(dd_exec *e, int pi, const float *input) {
  plan_node *pn = &e->plan[pi];
  const dd_node *n = &e->g->nodes[pn->node];
  float *out = act(e, pi);
  size_t count = dd_shape_count(pn->shape);
  size_t rows = count / (size_t)pn->shape.c;
  switch (n->op) {
    case DD_OP_PLACEHOLDER:
      dd_copy_par(e->pool, count, input, out);
      break;
    case DD_OP_IDENTITY:
    case DD_OP_RESHAPE:
      break;
    case DD_OP_CONV2D: {
      e->k->conv2d_forward(e->prep[pn->node].conv, &pn->ws, input_act(e, n, 0), out, pn->fuse == FUSE_BIAS_RELU, e->pool);
      if (pn->raw_conv) dd_bias_sub_par(e->pool, rows, pn->shape.c, out, e->prep[pn->node].bias, out);
      break;
    }
    case DD_OP_BIAS_ADD:
      if (!pn->absorbed) dd_bias_add(rows, pn->shape.c, input_act(e, n, 0), e->prep[pn->node].bias, out);
      break;
    case DD_OP_RELU:
      if (!pn->absorbed) dd_relu(count, input_act(e, n, 0), out);
      break;
    case DD_OP_MAX_POOL:
      e->k->max_pool_forward(&n->attr.pool, &pn->ws, pn->shape.c, input_act(e, n, 0), out, e->pool);
      break;
    case DD_OP_AVG_POOL:
      e->k->avg_pool_forward(&n->attr.pool, &pn->ws, pn->shape.c, input_act(e, n, 0), out, e->pool);
      break;
    case DD_OP_LRN:
      e->k->lrn_forward(&n->attr.lrn, rows, pn->shape.c, input_act(e, n, 0), out, e->pool);
      break;
    case DD_OP_CONCAT: {
      const float *parts[DD_CONCAT_BATCH];
      int cs[DD_CONCAT_BATCH];
      for (int j0 = 0, off = 0; j0 < n->n_inputs; j0 += DD_CONCAT_BATCH) {
        int m = n->n_inputs - j0 < DD_CONCAT_BATCH ? n->n_inputs - j0 : DD_CONCAT_BATCH;
        for (int j = 0; j < m; j++) {
          parts[j] = input_act(e, n, j0 + j);
          cs[j] = e->plan[e->plan_index[n->inputs[j0 + j]]].shape.c;
        }
        dd_concat_forward_par(e->pool, rows, pn->shape.c, m, parts, cs, out + off);
        for (int j = 0; j < m; j++) off += cs[j];
      }
      break;
    }
    case DD_OP_MATMUL: {
      const dd_shape as = e->plan[e->plan_index[n->inputs[0]]].shape;
      int k = as.c, nn = pn->shape.c, tb = n->attr.matmul.transpose_b;
      e->k->gemm(0, tb, (int)rows, nn, k, input_act(e, n, 0), k, e->prep[pn->node].matrix, tb ? k : nn, 0.0f, out, nn,
                 e->pool);
      break;
    }
    case DD_OP_SOFTMAX:
      dd_softmax(rows, pn->shape.c, input_act(e, n, 0), out);
      break;
    default:
      break;
  }
}

static void run_forward(dd_exec *e, const float *input) {
  for (int pi = 0; pi < e->plan_len; pi++) {
    if (e->profile) {
      double t0 = now_ms();
      forward_node(e, pi, input);
      e->plan[pi].ms += now_ms() - t0;
    } else {
      forward_node(e, pi, input);
    }
  }
}

static dd_status check_run_args(dd_exec *e, int target, const float *input, dd_shape s, dd_error *err) {
  if (!e || !input) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (target < 0 || target >= e->g->n_nodes) return dd_fail(err, DD_ERR_NOT_FOUND, "node index %d out of range", target);
  if (s.n <= 0 || s.h <= 0 || s.w <= 0 || s.c <= 0 || s.h > 65536 || s.w > 65536 || s.n > 4096)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "invalid input shape %dx%dx%dx%d", s.n, s.h, s.w, s.c);
  if (e->g->nodes[target].op == DD_OP_CONST)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "node '%s' is a constant", e->g->nodes[target].name);
  return DD_OK;
}

dd_status dd_exec_forward(dd_exec *e, int target, const float *input, dd_shape in_shape, dd_tensor *out,
                          dd_error *err) {
  dd_status s = check_run_args(e, target, input, in_shape, err);
  if (s == DD_OK) s = make_plan(e, target, in_shape, 0, err);
  if (s != DD_OK) return s;
  run_forward(e, input);
  int pi = e->plan_index[target];
  if (out) {
    out->shape = e->plan[pi].shape;
    out->data = act(e, pi);
  }
  return DD_OK;
}

dd_status dd_exec_output_shape(dd_exec *e, int target, dd_shape in_shape, dd_shape *out, dd_error *err) {
  static const float dummy = 0.0f;
  dd_status s = check_run_args(e, target, &dummy, in_shape, err);
  if (s == DD_OK) s = make_plan(e, target, in_shape, 0, err);
  if (s == DD_OK && out) *out = e->plan[e->plan_index[target]].shape;
  return s;
}

/* ---- backward ------------------------------------------------------------- */

/* Where the gradient for plan node `pi` must be written: its root's buffer
   when nothing has been written there yet, else scratch (then accumulated). */
static float *grad_dst(dd_exec *e, int pi, int *accumulate) {
  int r = e->plan[pi].root;
  if (!e->written[r]) {
    *accumulate = 0;
    return dd_arena_ptr(&e->arena, e->plan[r].grad_off);
  }
  *accumulate = 1;
  return dd_arena_ptr(&e->arena, e->scratch_off);
}
static void grad_done(dd_exec *e, int pi, int accumulate) {
  int r = e->plan[pi].root;
  if (accumulate)
    dd_add_inplace_par(e->pool, dd_shape_count(e->plan[r].shape), dd_arena_ptr(&e->arena, e->scratch_off),
                       dd_arena_ptr(&e->arena, e->plan[r].grad_off));
  e->written[r] = 1;
}
static float *grad(dd_exec *e, int pi) { return dd_arena_ptr(&e->arena, e->plan[e->plan[pi].root].grad_off); }

static void backward_node(dd_exec *e, int pi) {
  plan_node *pn = &e->plan[pi];
  const dd_node *n = &e->g->nodes[pn->node];
  if (n->op == DD_OP_PLACEHOLDER || n->op == DD_OP_IDENTITY || n->op == DD_OP_RESHAPE || pn->absorbed) return;
  if (!e->written[pn->root]) return; /* no gradient reaches this node */
  int ai = e->plan_index[n->inputs[0]];
  float *dy = grad(e, pi);
  size_t count = dd_shape_count(pn->shape);
  size_t rows = count / (size_t)pn->shape.c;
  int acc;
  switch (n->op) {
    case DD_OP_CONV2D: {
      if (pn->fuse == FUSE_BIAS_RELU && !pn->premasked) dd_relu_backward_par(e->pool, count, act(e, pi), dy, dy);
      float *dx = grad_dst(e, ai, &acc);
      e->k->conv2d_backward_data(e->prep[pn->node].conv, &pn->ws, dy, dx, e->pool);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_BIAS_ADD: {
      float *dx = grad_dst(e, ai, &acc);
      dd_copy_par(e->pool, count, dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_RELU: {
      float *dx = grad_dst(e, ai, &acc);
      dd_relu_backward_par(e->pool, count, act(e, pi), dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_MAX_POOL: {
      float *dx = grad_dst(e, ai, &acc);
      e->k->max_pool_backward(&n->attr.pool, &pn->ws, pn->shape.c, act(e, ai), dy, dx, e->pool);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_AVG_POOL: {
      float *dx = grad_dst(e, ai, &acc);
      e->k->avg_pool_backward(&n->attr.pool, &pn->ws, pn->shape.c, dy, dx, e->pool);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_LRN: {
      float *dx = grad_dst(e, ai, &acc);
      e->k->lrn_backward(&n->attr.lrn, rows, pn->shape.c, act(e, ai), dy, dx, e->pool);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_CONCAT: {
      /* One pass over the rows for a batch of inputs; an input whose gradient
         already holds a value is accumulated into in place (no scratch). */
      float *dparts[DD_CONCAT_BATCH];
      const float *masks[DD_CONCAT_BATCH];
      int cs[DD_CONCAT_BATCH];
      unsigned char accs[DD_CONCAT_BATCH];
      for (int j0 = 0, off = 0; j0 < n->n_inputs; j0 += DD_CONCAT_BATCH) {
        int m = n->n_inputs - j0 < DD_CONCAT_BATCH ? n->n_inputs - j0 : DD_CONCAT_BATCH;
        for (int j = 0; j < m; j++) {
          int bi = e->plan_index[n->inputs[j0 + j]], r = e->plan[bi].root;
          dparts[j] = grad(e, bi);
          masks[j] = e->plan[r].premasked ? act(e, r) : NULL;
          cs[j] = e->plan[bi].shape.c;
          accs[j] = e->written[r];
          e->written[r] = 1;
        }
        dd_concat_backward_par(e->pool, rows, pn->shape.c, m, dy + off, dparts, masks, cs, accs);
        for (int j = 0; j < m; j++) off += cs[j];
      }
      break;
    }
    case DD_OP_MATMUL: {
      int k = e->plan[ai].shape.c, nn = pn->shape.c, tb = n->attr.matmul.transpose_b;
      float *dx = grad_dst(e, ai, &acc);
      /* dA = dY * op(B)^T */
      e->k->gemm(0, !tb, (int)rows, k, nn, dy, nn, e->prep[pn->node].matrix, tb ? k : nn, 0.0f, dx, k, e->pool);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_SOFTMAX: {
      float *dx = grad_dst(e, ai, &acc);
      dd_softmax_backward(rows, pn->shape.c, act(e, pi), dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    default:
      break;
  }
}

dd_status dd_exec_objective_gradient(dd_exec *e, int target, const int *channels, int n_channels,
                                     const float *input, dd_shape in_shape, float *grad_out,
                                     float *loss_out, dd_error *err) {
  dd_status s = check_run_args(e, target, input, in_shape, err);
  if (s != DD_OK) return s;
  if (!grad_out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "grad_out is NULL");
  s = make_plan(e, target, in_shape, 1, err);
  if (s != DD_OK) return s;
  int ti = e->plan_index[target];
  int c = e->plan[ti].shape.c;
  for (int j = 0; j < n_channels && channels; j++)
    if (channels[j] < 0 || channels[j] >= c)
      return dd_fail(err, DD_ERR_NOT_FOUND, "channel %d does not exist in '%s', which has channels 0..%d", channels[j],
                     e->g->nodes[target].name, c - 1);
  run_forward(e, input);
  size_t rows = dd_shape_count(e->plan[ti].shape) / (size_t)c;
  const float *y = act(e, ti);
  if (loss_out) *loss_out = (float)dd_mean_square(rows, c, y, channels, n_channels);
  memset(e->written, 0, (size_t)e->plan_len);
  int acc;
  float *dy = grad_dst(e, ti, &acc);
  dd_mean_square_backward_par(e->pool, rows, c, y, channels, n_channels, dy);
  grad_done(e, ti, acc);
  for (int pi = e->plan_len - 1; pi >= 0; pi--) {
    if (e->profile) {
      double t0 = now_ms();
      backward_node(e, pi);
      e->plan[pi].ms += now_ms() - t0;
    } else {
      backward_node(e, pi);
    }
  }
  int in_pi = -1;
  for (int pi = 0; pi < e->plan_len; pi++)
    if (e->g->nodes[e->plan[pi].node].op == DD_OP_PLACEHOLDER) in_pi = pi;
  size_t n_in = dd_shape_count(in_shape);
  if (in_pi >= 0 && e->written[e->plan[in_pi].root])
    dd_copy_par(e->pool, n_in, grad(e, in_pi), grad_out);
  else
    memset(grad_out, 0, n_in * sizeof(float));
  return DD_OK;
}

/* ---- profile -------------------------------------------------------------- */

void dd_exec_set_profile(dd_exec *e, int enabled) {
  if (!e) return;
  e->profile = enabled;
  for (int pi = 0; pi < e->plan_len; pi++) e->plan[pi].ms = 0;
}

void dd_exec_profile_print(const dd_exec *e, void *file) {
  FILE *f = file ? (FILE *)file : stdout;
  if (!e) return;
  double total = 0, by_op[DD_OP_COUNT] = {0};
  for (int pi = 0; pi < e->plan_len; pi++) {
    total += e->plan[pi].ms;
    by_op[e->g->nodes[e->plan[pi].node].op] += e->plan[pi].ms;
  }
  fprintf(f, "%-48s %-10s %-18s %9s\n", "node", "op", "shape", "ms");
  for (int pi = 0; pi < e->plan_len; pi++) {
    const plan_node *pn = &e->plan[pi];
    if (pn->ms < 0.05) continue;
    char shape[32];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d", pn->shape.n, pn->shape.h, pn->shape.w, pn->shape.c);
    fprintf(f, "%-48s %-10s %-18s %9.2f\n", e->g->nodes[pn->node].name, dd_op_name(e->g->nodes[pn->node].op), shape,
            pn->ms);
  }
  fprintf(f, "-- by op --\n");
  for (int op = 0; op < DD_OP_COUNT; op++)
    if (by_op[op] > 0) fprintf(f, "%-12s %9.2f ms (%4.1f%%)\n", dd_op_name((dd_op)op), by_op[op], 100 * by_op[op] / total);
  fprintf(f, "total        %9.2f ms\n", total);
}
