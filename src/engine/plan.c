/* plan.c — planning: what a target needs, in what order, with which shapes,
 * fused how, stored where (engine.h states the plan-node invariants).
 *
 * A plan is the nodes a target needs (constants excluded) in topological
 * order, each with an output shape and a storage root. Views (Identity,
 * Reshape) and nodes fused into a convolution's epilogue (BiasAdd, Relu)
 * share their producer's storage. Activations are kept for the backward
 * pass; gradient buffers are per storage root, placed by lifetime
 * (memplan.c). */
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

/* The executor's switches over ops (infer_shape here, forward.c, backward.c)
   have no default case, so -Wswitch names every switch a new op must join;
   this count makes the rest of "Adding an op" (ARCHITECTURE.md) a build
   error until it has been walked through. */
_Static_assert(DD_OP_COUNT == 18, "a graph op was added or removed: walk through \"Adding an op\" in "
               "ARCHITECTURE.md, then update this count");

static int is_param(const dd_node *n) { return n->op == DD_OP_CONST; }


/* Prefixes the window error in err with the node's name; reads the message
   into a copy first (dd_fail must not read the buffer it writes). */
static dd_status window_fail(dd_error *err, dd_status s, const dd_node *n) {
  char msg[DD_ERROR_MESSAGE_SIZE];
  snprintf(msg, sizeof msg, "%s", err ? err->message : "bad window");
  return dd_fail(err, s, "node '%s': %s", n->name, msg);
}

/* Post-order DFS from `root` over non-constant inputs, appending the nodes
   not yet done (state 2) to the plan in topological order. */
static dd_status visit(dd_exec *e, int root, int *stack, unsigned char *state, dd_error *err) {
  const dd_graph *g = e->g;
  if (state[root] == 2) return DD_OK;
  int sp = 0;
  stack[sp++] = root;
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
      if (state[v] == 1) return dd_fail(err, DD_ERR_GRAPH, "graph has a cycle through node '%s'", n->name);
      state[v] = 1;
    }
    if (next_in < n->n_inputs) {
      stack[sp - 1] = next_in + 1;
      int u = n->inputs[next_in];
      if (is_param(&g->nodes[u]) || state[u] == 2) continue;
      if (state[u] == 1) return dd_fail(err, DD_ERR_GRAPH, "graph has a cycle through node '%s'", g->nodes[u].name);
      stack[sp++] = u;
      stack[sp++] = 0;
      continue;
    }
    state[v] = 2;
    sp -= 2;
    dd_plan_node *pn = &e->plan[e->plan_len];
    memset(pn, 0, sizeof *pn);
    pn->node = v;
    pn->root = e->plan_len;
    e->plan_index[v] = e->plan_len++;
  }
  return DD_OK;
}

/* The plan's nodes: what the targets need, in topological order (the union;
   with one target, exactly what it needs, as before). */
static dd_status collect(dd_exec *e, const int *targets, int n_targets, dd_error *err) {
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
    dd_plan_node *p = (dd_plan_node *)realloc(e->plan, (size_t)g->n_nodes * sizeof(dd_plan_node));
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
  for (int t = 0; t < n_targets && s == DD_OK; t++) s = visit(e, targets[t], stack, state, err);
  free(stack);
  free(state);
  return s;
}

static dd_status infer_shape(dd_exec *e, int pi, dd_shape in_shape, dd_error *err) {
  const dd_graph *g = e->g;
  dd_plan_node *pn = &e->plan[pi];
  const dd_node *n = &g->nodes[pn->node];
  const dd_plan_node *a = NULL;
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
    case DD_OP_LEAKY_RELU:
    case DD_OP_LRN:
    case DD_OP_SOFTMAX:
    case DD_OP_CLIP:
      pn->shape = a->shape;
      return DD_OK;
    case DD_OP_ADD: {
      int bi = e->plan_index[n->inputs[1]];
      if (bi < 0) return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': Add of a constant", n->name);
      dd_shape b = e->plan[bi].shape;
      if (!dd_shape_equal(a->shape, b))
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': Add of %dx%dx%dx%d and %dx%dx%dx%d (no broadcasting)", n->name,
                       a->shape.n, a->shape.h, a->shape.w, a->shape.c, b.n, b.h, b.w, b.c);
      pn->shape = a->shape;
      return DD_OK;
    }
    case DD_OP_MUL: {
      const dd_const *f = dd_float_const(g, n->inputs[1]);
      if (!f || (f->count != 1 && f->count != a->shape.c))
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': Mul by %lld values for %d channels (1 or one per channel)",
                       n->name, f ? (long long)f->count : 0LL, a->shape.c);
      pn->shape = a->shape;
      return DD_OK;
    }
    case DD_OP_GLOBAL_AVG_POOL:
      pn->shape = dd_shape4(a->shape.n, 1, 1, a->shape.c);
      return DD_OK;
    case DD_OP_BIAS_ADD: {
      const dd_const *b = dd_float_const(g, n->inputs[1]);
      if (!b || b->count != a->shape.c)
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': bias has %lld values for %d channels", n->name,
                       b ? (long long)b->count : 0LL, a->shape.c);
      pn->shape = a->shape;
      return DD_OK;
    }
    case DD_OP_CONV2D: {
      const dd_const *w = dd_float_const(g, n->inputs[1]);
      if (w->dims[2] != a->shape.c)
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': filter expects %lld input channels, got %d", n->name,
                       (long long)w->dims[2], a->shape.c);
      dd_window win = {(int)w->dims[0], (int)w->dims[1], n->attr.conv.strides[0], n->attr.conv.strides[1],
                       n->attr.conv.padding,
                       {n->attr.conv.pads[0], n->attr.conv.pads[1], n->attr.conv.pads[2], n->attr.conv.pads[3]}, 0, 0};
      dd_status s = dd_window_shape_init(&win, a->shape.n, a->shape.h, a->shape.w, &pn->ws, err);
      if (s != DD_OK) return window_fail(err, s, n);
      pn->shape = dd_shape4(a->shape.n, pn->ws.out_h, pn->ws.out_w, (int)w->dims[3]);
      return DD_OK;
    }
    case DD_OP_MAX_POOL:
    case DD_OP_AVG_POOL: {
      dd_status s = dd_window_shape_init(&n->attr.pool, a->shape.n, a->shape.h, a->shape.w, &pn->ws, err);
      if (s != DD_OK) return window_fail(err, s, n);
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
        if (b.c > INT32_MAX - s.c)
          return dd_fail(err, DD_ERR_SHAPE, "node '%s': Concat of more than 2^31 - 1 channels", n->name);
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
        if (dims[j] == 0 && n->attr.reshape.zero_copies && j == 0) dims[j] = a->shape.n; /* ONNX: keep the batch */
        if (dims[j] == -1 && infer < 0) infer = j;
        else if (dims[j] <= 0) return dd_fail(err, DD_ERR_SHAPE, "node '%s': Reshape dim %lld", n->name, (long long)dims[j]);
        else if (!dd_mul_i64(known, dims[j], &known))
          return dd_fail(err, DD_ERR_SHAPE, "node '%s': Reshape to %d dimensions: their product overflows", n->name, rank);
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
      const dd_const *b = dd_float_const(g, n->inputs[1]);
      int64_t rows64 = (int64_t)a->shape.n * a->shape.h * a->shape.w; /* each < 2^31: no overflow */
      if (rows64 > INT32_MAX)
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': MatMul of %lld rows (more than 2^31 - 1)", n->name, (long long)rows64);
      int rows = (int)rows64, k = a->shape.c;
      if (n->attr.matmul.transpose_a)
        return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': MatMul with transpose_a", n->name);
      int tb = n->attr.matmul.transpose_b;
      int64_t bk = tb ? b->dims[1] : b->dims[0], bn = tb ? b->dims[0] : b->dims[1];
      if (bk != k || bn < 1 || bn > INT32_MAX)
        return dd_fail(err, DD_ERR_SHAPE, "node '%s': MatMul of [%d,%d] by [%lld,%lld]", n->name, rows, k, (long long)bk,
                       (long long)bn);
      pn->shape = dd_shape4(rows, 1, 1, (int)bn);
      return DD_OK;
    }
    case DD_OP_CONST: /* never planned: constants are operands */
    case DD_OP_COUNT: break;
  }
  return dd_fail(err, DD_ERR_UNSUPPORTED, "node '%s': op %s cannot be executed", n->name, dd_op_name(n->op));
}

/* Fuse Conv2D -> BiasAdd [-> Relu] chains whose intermediates have a single
   consumer and are not targets: the conv computes the epilogue into the
   last node's storage. With fusion off, every conv whose weights carry a
   folded bias runs raw and its BiasAdd and Relu run on their own. */
static void fuse(dd_exec *e) {
  const dd_graph *g = e->g;
  for (int pi = 0; pi < e->plan_len; pi++) {
    dd_plan_node *pn = &e->plan[pi];
    const dd_node *n = &g->nodes[pn->node];
    if (n->op != DD_OP_CONV2D) continue;
    int bn = e->prep[pn->node].bias_node;
    if (bn < 0) continue;
    int bpi = e->plan_index[bn];
    if (bpi < 0 || dd_plan_is_target(e, pn->node) || !e->fusion) {
      pn->raw_conv = 1; /* weights carry the bias; the raw conv output is wanted */
      continue;
    }
    pn->fuse = DD_FUSE_BIAS;
    dd_plan_node *bp = &e->plan[bpi];
    bp->absorbed = 1;
    bp->root = pi;
    if (!dd_plan_is_target(e, bn) && e->consumers[bn] == 1) {
      for (int ri = bpi + 1; ri < e->plan_len; ri++) {
        const dd_node *r = &g->nodes[e->plan[ri].node];
        if (r->op == DD_OP_RELU && r->inputs[0] == bn) {
          pn->fuse = DD_FUSE_BIAS_RELU;
          e->plan[ri].absorbed = 1;
          e->plan[ri].root = pi;
          break;
        }
      }
    }
  }
  /* Views take their root after fusion (in plan order, so a view of a view
     finds its input's final root). */
  for (int pi = 0; pi < e->plan_len; pi++) {
    const dd_node *n = &g->nodes[e->plan[pi].node];
    if (dd_op_is_view(n->op)) e->plan[pi].root = e->plan[e->plan_index[n->inputs[0]]].root;
  }
}

/* A fused conv+relu whose gradient is written only by ops that can mask as
   they write (Concat's copy; a conv's data gradient, max-pool and LRN
   backward through the kernels' din_mask) has its relu mask applied by them:
   the mask is linear, so masking each contribution equals masking their sum,
   and it saves a pass over the conv's output (3-5% of a 400x400 Inception
   step: conv2d0 -> maxpool0, conv2d2 -> LRN, every bottleneck -> its 3x3 or
   5x5 conv). */
static int writer_masks(const dd_exec *e, dd_op op) {
  return e->fusion == DD_EXEC_FUSION_ON ? dd_op_masks_gradient(op) : op == DD_OP_CONCAT;
}

static void mark_premasked(dd_exec *e) {
  const dd_graph *g = e->g;
  /* candidates: fused conv+relu other than a target's storage (a seed writes
     there unmasked); then any gradient writer that cannot mask disqualifies
     its input's root */
  for (int pi = 0; pi < e->plan_len; pi++) e->plan[pi].premasked = e->plan[pi].fuse == DD_FUSE_BIAS_RELU;
  for (int t = 0; t < e->plan_n_targets; t++) e->plan[e->plan[e->plan_index[e->plan_targets[t]]].root].premasked = 0;
  for (int pi = 0; pi < e->plan_len; pi++) {
    const dd_node *n = &g->nodes[e->plan[pi].node];
    if (!dd_plan_backward_works(e, pi) || writer_masks(e, n->op)) continue;
    for (int j = 0; j < n->n_inputs; j++) {
      int ai = e->plan_index[n->inputs[j]];
      if (ai >= 0) e->plan[e->plan[ai].root].premasked = 0;
    }
  }
  /* Views pass the gradient on to their own consumers, which were checked
     above under the same root. */
}

/* Readies every conv of the plan for its geometry and passes: the only place
   the kernels may allocate or fail (kernels.h); the runs after it cannot. */
static dd_status prepare_kernels(dd_exec *e, int want_grad, dd_error *err) {
  for (int pi = 0; pi < e->plan_len; pi++) {
    const dd_plan_node *pn = &e->plan[pi];
    const dd_node *n = &e->g->nodes[pn->node];
    if (n->op != DD_OP_CONV2D) continue;
    unsigned passes = pn->fuse == DD_FUSE_BIAS_RELU ? DD_CONV_FORWARD_RELU : DD_CONV_FORWARD;
    if (want_grad) passes |= DD_CONV_BACKWARD_DATA;
    dd_status s = e->k->conv2d_prepare(e->prep[pn->node].conv, &pn->ws, passes, &e->ws, e->pool, err);
    if (s != DD_OK) return s;
  }
  return DD_OK;
}

/* Gradient buffers live only from their first write (the backward step of
   the last consumer in forward order) to their last read (their own node's
   backward step; the end of the pass for the input). Backward step of plan
   node pi is n-1-pi; the seeds (the objective's gradients) are step -1. */
static size_t grad_bytes(const dd_plan_node *pn) {
  return (dd_shape_count(pn->shape) * sizeof(float) + DD_EXTRA_BYTES + 63) & ~(size_t)63;
}

static dd_status place_gradients(dd_exec *e, dd_error *err) {
  int n = e->plan_len;
  int *start = (int *)malloc(sizeof(int) * (size_t)n * 4);
  dd_usage_record *rec = (dd_usage_record *)malloc(sizeof *rec * (size_t)n);
  if (!start || !rec) {
    free(start);
    free(rec);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory planning %d gradient buffers", n);
  }
  int *end = start + n, *order = start + 2 * n, *owner = start + 3 * n;
  for (int pi = 0; pi < n; pi++) {
    start[pi] = INT32_MAX;
    end[pi] = n - 1 - pi;
  }
  for (int pi = 0; pi < n; pi++) {
    if (e->g->nodes[e->plan[pi].node].op == DD_OP_PLACEHOLDER) end[e->plan[pi].root] = n; /* copied out at the end */
    if (!dd_plan_backward_works(e, pi)) continue;
    const dd_node *nd = &e->g->nodes[e->plan[pi].node];
    for (int j = 0; j < nd->n_inputs; j++) {
      int ai = e->plan_index[nd->inputs[j]];
      if (ai < 0) continue;
      int r = e->plan[ai].root, step = n - 1 - pi;
      if (step < start[r]) start[r] = step;
    }
  }
  for (int t = 0; t < e->plan_n_targets; t++) start[e->plan[e->plan_index[e->plan_targets[t]]].root] = -1;
  int m = 0;
  for (int pi = 0; pi < n; pi++)
    if (e->plan[pi].root == pi && start[pi] != INT32_MAX) {
      rec[m].first = start[pi];
      rec[m].last = end[pi];
      rec[m].size = grad_bytes(&e->plan[pi]);
      owner[m++] = pi;
    }
  size_t total = dd_memplan_place(rec, m, order);
  size_t base = dd_arena_reserve(&e->arena, total);
  for (int i = 0; i < m; i++) e->plan[owner[i]].grad_off = base + rec[i].offset;
  e->grad_bytes = total;
  free(start);
  free(rec);
  return DD_OK;
}

static int same_targets(const dd_exec *e, const int *targets, int n_targets) {
  if (!e->plan_valid || e->plan_n_targets != n_targets) return 0;
  for (int i = 0; i < n_targets; i++)
    if (e->plan_targets[i] != targets[i]) return 0;
  return 1;
}

dd_status dd_plan_make_targets(dd_exec *e, const int *targets, int n_targets, dd_shape in_shape, int want_grad,
                               dd_error *err) {
  if (n_targets < 1 || n_targets > DD_PLAN_MAX_TARGETS)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%d targets (1 to %d)", n_targets, DD_PLAN_MAX_TARGETS);
  for (int i = 0; i < n_targets; i++) {
    if (targets[i] < 0 || targets[i] >= e->g->n_nodes || e->g->nodes[targets[i]].op == DD_OP_CONST)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "target %d is not a node that can be run", targets[i]);
    for (int j = 0; j < i; j++)
      if (targets[j] == targets[i])
        return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "node '%s' is given twice as a target", e->g->nodes[targets[i]].name);
  }
  if (same_targets(e, targets, n_targets) && dd_shape_equal(e->plan_in, in_shape) && e->plan_has_grad >= want_grad)
    return DD_OK;
  e->plan_valid = 0;
  e->plan_n_targets = n_targets;
  memcpy(e->plan_targets, targets, (size_t)n_targets * sizeof(int));
  dd_status s = collect(e, targets, n_targets, err);
  if (s != DD_OK) return s;
  int has_input = 0;
  for (int pi = 0; pi < e->plan_len; pi++) {
    if (e->g->nodes[e->plan[pi].node].op == DD_OP_PLACEHOLDER) has_input++;
    s = infer_shape(e, pi, in_shape, err);
    if (s != DD_OK) return s;
  }
  if (has_input != 1)
    return dd_fail(err, DD_ERR_GRAPH, "node '%s' depends on %d image inputs; exactly one is supported",
                   e->g->nodes[targets[0]].name, has_input);
  fuse(e);
  mark_premasked(e);
  s = prepare_kernels(e, want_grad, err);
  if (s != DD_OK) return s;
  dd_arena_reset(&e->arena);
  size_t max_elems = 0;
  for (int pi = 0; pi < e->plan_len; pi++) {
    dd_plan_node *pn = &e->plan[pi];
    size_t bytes, elems;
    if (!dd_shape_count_checked(pn->shape, &elems) || !dd_mul_size(elems, sizeof(float), &bytes) || bytes > SIZE_MAX / 4)
      return dd_fail(err, DD_ERR_SHAPE, "node '%s': tensor too large", e->g->nodes[pn->node].name);
    if (elems > max_elems) max_elems = elems;
    if (pn->root == pi) pn->act_off = dd_arena_reserve(&e->arena, bytes + DD_EXTRA_BYTES);
    /* a max pool's argmax (one byte per output) spares its backward the
       rescan of every window */
    const dd_node *n = &e->g->nodes[pn->node];
    pn->has_argmax = want_grad && n->op == DD_OP_MAX_POOL && e->k->max_pool_forward_argmax &&
                     e->k->max_pool_backward_argmax && (int64_t)n->attr.pool.k_h * n->attr.pool.k_w <= 256;
    if (pn->has_argmax) pn->argmax_off = dd_arena_reserve(&e->arena, elems + DD_EXTRA_BYTES);
  }
  if (want_grad) {
    dd_status ps = place_gradients(e, err);
    if (ps != DD_OK) return ps;
  }
  if (want_grad) e->scratch_off = dd_arena_reserve(&e->arena, max_elems * sizeof(float) + DD_EXTRA_BYTES);
  s = dd_arena_commit(&e->arena, err);
  if (s != DD_OK) return s;
  e->plan_valid = 1;
  e->plan_in = in_shape;
  e->plan_has_grad = want_grad;
  return DD_OK;
}

dd_status dd_plan_make(dd_exec *e, int target, dd_shape in_shape, int want_grad, dd_error *err) {
  return dd_plan_make_targets(e, &target, 1, in_shape, want_grad, err);
}

dd_status dd_exec_reserve_targets(dd_exec *e, const int *targets, int n_targets, dd_shape in_shape, dd_error *err) {
  if (!e || !targets) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_exec_reserve: bad arguments");
  return dd_plan_make_targets(e, targets, n_targets, in_shape, 1, err); /* checks the targets */
}

dd_status dd_exec_reserve(dd_exec *e, int target, dd_shape in_shape, dd_error *err) {
  return dd_exec_reserve_targets(e, &target, 1, in_shape, err);
}

dd_status dd_exec_output_shape(dd_exec *e, int target, dd_shape in_shape, dd_shape *out, dd_error *err) {
  static const float dummy = 0.0f;
  dd_status s = dd_exec_check_run_args(e, target, &dummy, in_shape, err);
  if (s == DD_OK) s = dd_plan_make(e, target, in_shape, 0, err);
  if (s == DD_OK && out) *out = e->plan[e->plan_index[target]].shape;
  return s;
}


void dd_exec_set_fusion(dd_exec *e, int level) {
  if (!e) return;
  e->fusion = level <= DD_EXEC_FUSION_OFF ? DD_EXEC_FUSION_OFF
              : level == DD_EXEC_FUSION_CONCAT_MASKS ? DD_EXEC_FUSION_CONCAT_MASKS
                                                     : DD_EXEC_FUSION_ON;
  e->plan_valid = 0; /* the next run plans again */
}

/* ---- the invariants of engine.h, checked --------------------------------------- */
#define BROKEN(...) (snprintf(why, cap, __VA_ARGS__), 0)

int dd_plan_check(const dd_exec *e, char *why, size_t cap) {
  const dd_graph *g = e->g;
  if (!e->plan_valid) return BROKEN("no current plan");
  const int n = e->plan_len;
  for (int t = 0; t < e->plan_n_targets; t++)
    if (e->plan_index[e->plan_targets[t]] < 0) return BROKEN("target '%s' is not in the plan", g->nodes[e->plan_targets[t]].name);
  for (int pi = 0; pi < n; pi++) {
    const dd_plan_node *pn = &e->plan[pi];
    const dd_node *nd = &g->nodes[pn->node];
    const char *name = nd->name;
    if (pn->root < 0 || pn->root >= n || e->plan[pn->root].root != pn->root)
      return BROKEN("'%s': root %d is not a final root", name, pn->root);
    if (dd_op_is_view(nd->op)) {
      if (pn->root != e->plan[e->plan_index[nd->inputs[0]]].root)
        return BROKEN("view '%s' does not share its input's root", name);
    } else if (pn->absorbed) {
      const dd_plan_node *c = &e->plan[pn->root];
      if ((nd->op != DD_OP_BIAS_ADD && nd->op != DD_OP_RELU) || c->fuse == DD_FUSE_NONE ||
          g->nodes[c->node].op != DD_OP_CONV2D)
        return BROKEN("'%s' is absorbed but not into a fused conv", name);
      if (nd->op == DD_OP_RELU && dd_plan_is_target(e, nd->inputs[0]))
        return BROKEN("Relu '%s' is absorbed although its BiasAdd is a target", name);
    } else if (pn->root != pi) {
      return BROKEN("'%s' owns no storage but is neither a view nor absorbed", name);
    }
    if (pn->fuse != DD_FUSE_NONE || pn->raw_conv) {
      if (nd->op != DD_OP_CONV2D || e->prep[pn->node].bias_node < 0)
        return BROKEN("'%s' is fused or raw but not a conv with a folded bias", name);
    }
    if (nd->op == DD_OP_CONV2D && e->prep[pn->node].bias_node >= 0 && (pn->raw_conv != 0) == (pn->fuse != DD_FUSE_NONE))
      return BROKEN("conv '%s' with a folded bias must be either fused or raw (fuse %d, raw %d)", name,
                    (int)pn->fuse, pn->raw_conv);
    if (pn->fuse != DD_FUSE_NONE) {
      if (!e->fusion) return BROKEN("conv '%s' is fused with fusion off", name);
      int bpi = e->plan_index[e->prep[pn->node].bias_node], absorbed = 0, relu = 0;
      if (bpi < 0 || !e->plan[bpi].absorbed || e->plan[bpi].root != pi)
        return BROKEN("conv '%s': its BiasAdd is not absorbed into it", name);
      for (int q = 0; q < n; q++)
        if (e->plan[q].absorbed && e->plan[q].root == pi) {
          absorbed++;
          const dd_node *qn = &g->nodes[e->plan[q].node];
          if (qn->op == DD_OP_RELU && qn->inputs[0] == e->plan[bpi].node) relu++;
        }
      if (absorbed != (pn->fuse == DD_FUSE_BIAS ? 1 : 2) || relu != (pn->fuse == DD_FUSE_BIAS_RELU))
        return BROKEN("conv '%s': fuse %d but %d absorbed nodes (%d relu)", name, (int)pn->fuse, absorbed, relu);
    }
    if (pn->premasked) {
      int is_troot = 0;
      for (int t = 0; t < e->plan_n_targets; t++) is_troot |= e->plan[e->plan_index[e->plan_targets[t]]].root == pi;
      if (pn->fuse != DD_FUSE_BIAS_RELU || is_troot)
        return BROKEN("'%s' is premasked but not a fused conv+relu apart from the targets", name);
      for (int q = 0; q < n; q++) {
        const dd_node *qn = &g->nodes[e->plan[q].node];
        if (!dd_plan_backward_works(e, q)) continue;
        for (int j = 0; j < qn->n_inputs; j++) {
          int ai = e->plan_index[qn->inputs[j]];
          if (ai >= 0 && e->plan[ai].root == pi && !writer_masks(e, qn->op))
            return BROKEN("'%s' is premasked but '%s' (a %s, which cannot mask) writes its gradient", name,
                          qn->name, dd_op_name(qn->op));
        }
      }
    }
  }
  return 1;
}
