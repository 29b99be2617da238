/* graph.c — the graph IR: node storage, name index, validation.
 *
 * Storage: g->nodes is a growable array; names and input arrays are separate
 * malloc blocks registered in g->owned. The name index (an open-addressing
 * hash table from name to node index) is private to this file and lives in
 * g->owned[0]: whenever n_owned > 0, slot 0 is reserved for it (it may be
 * NULL). So nodes must be appended only with dd_graph_add_node and names never
 * changed; dd_graph_find falls back to a linear scan when there is no index.
 * Memory registered with dd_graph_own must come from malloc (freed with free).
 */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- name index ----------------------------------------------------------- */
typedef struct name_slot {
  int32_t node; /* -1 = empty */
  uint32_t hash;
} name_slot;

typedef struct name_index {
  uint32_t mask; /* capacity - 1, capacity a power of two */
  uint32_t count;
  name_slot slots[];
} name_index;

static uint32_t hash_name(const char *s, size_t n) {
  uint64_t h = dd_fnv1a64(DD_FNV1A64_INIT, s, n);
  return (uint32_t)(h ^ (h >> 32));
}

static name_index *index_of(const dd_graph *g) {
  return g->n_owned > 0 ? (name_index *)g->owned[0] : NULL;
}

static int reserve_owned(dd_graph *g, int extra) {
  int need = g->n_owned + extra + (g->n_owned == 0);
  if (need < 0) return 0;
  if (need <= g->cap_owned) {
    if (g->n_owned == 0) g->owned[g->n_owned++] = NULL; /* slot 0: the index */
    return 1;
  }
  if (g->cap_owned > INT32_MAX / 2) return 0;
  int cap = g->cap_owned ? g->cap_owned * 2 : 16;
  while (cap < need) cap *= 2;
  void **o = (void **)realloc(g->owned, (size_t)cap * sizeof *o);
  if (!o) return 0;
  g->owned = o;
  g->cap_owned = cap;
  if (g->n_owned == 0) g->owned[g->n_owned++] = NULL;
  return 1;
}

static void index_insert(name_index *ix, int node, uint32_t h) {
  uint32_t i = h & ix->mask;
  while (ix->slots[i].node >= 0) i = (i + 1) & ix->mask;
  ix->slots[i].node = node;
  ix->slots[i].hash = h;
  ix->count++;
}

/* Makes room for one more name; rebuilds the table when it is 3/4 full.
   Returns 0 on OOM (the graph stays usable: find falls back to a scan). */
static int index_grow(dd_graph *g) {
  if (!reserve_owned(g, 0)) return 0;
  name_index *ix = index_of(g);
  uint32_t want = ix ? ix->mask + 1 : 64;
  while ((uint64_t)(g->n_nodes + 1) * 4 > (uint64_t)want * 3) {
    if (want > (1u << 30)) return 0;
    want *= 2;
  }
  if (ix && want == ix->mask + 1) return 1;
  name_index *nx = (name_index *)malloc(sizeof *nx + (size_t)want * sizeof(name_slot));
  if (!nx) return 0;
  nx->mask = want - 1;
  nx->count = 0;
  for (uint32_t i = 0; i < want; i++) nx->slots[i].node = -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const char *nm = g->nodes[i].name;
    index_insert(nx, i, hash_name(nm, strlen(nm)));
  }
  free(ix);
  g->owned[0] = nx;
  return 1;
}

/* First node (lowest index) with exactly this name, or -1. */
static int find_n(const dd_graph *g, const char *name, size_t n) {
  const name_index *ix = index_of(g);
  if (ix && ix->count == (uint32_t)g->n_nodes) {
    uint32_t h = hash_name(name, n);
    int best = -1;
    for (uint32_t i = h & ix->mask; ix->slots[i].node >= 0; i = (i + 1) & ix->mask) {
      const name_slot *s = &ix->slots[i];
      if (s->hash != h || s->node >= g->n_nodes) continue;
      const char *nm = g->nodes[s->node].name;
      if (strncmp(nm, name, n) == 0 && nm[n] == '\0' && (best < 0 || s->node < best)) best = s->node;
    }
    return best;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const char *nm = g->nodes[i].name;
    if (nm && strncmp(nm, name, n) == 0 && nm[n] == '\0') return i;
  }
  return -1;
}

/* ---- construction ---------------------------------------------------------- */
void dd_graph_init(dd_graph *g) { memset(g, 0, sizeof *g); }

void dd_graph_free(dd_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->n_owned; i++) free(g->owned[i]);
  free(g->owned);
  free(g->nodes);
  memset(g, 0, sizeof *g);
}

void *dd_graph_own(dd_graph *g, void *p) {
  if (!p) return NULL;
  if (!reserve_owned(g, 1)) {
    free(p);
    return NULL;
  }
  g->owned[g->n_owned++] = p;
  return p;
}

int dd_graph_add_node(dd_graph *g, const char *name, size_t name_len, dd_op op) {
  if (g->n_nodes >= INT32_MAX - 1 || name_len >= SIZE_MAX) return -1;
  if (g->n_nodes == g->capacity) {
    int cap = g->capacity ? g->capacity * 2 : 64;
    if (g->capacity > INT32_MAX / 2) cap = INT32_MAX - 1;
    dd_node *nodes = (dd_node *)realloc(g->nodes, (size_t)cap * sizeof *nodes);
    if (!nodes) return -1;
    g->nodes = nodes;
    g->capacity = cap;
  }
  char *copy = (char *)malloc(name_len + 1);
  if (!copy) return -1;
  if (name_len) memcpy(copy, name, name_len);
  copy[name_len] = '\0';
  if (!dd_graph_own(g, copy)) return -1;
  int have_index = index_grow(g); /* before the node exists: sizes for n_nodes + 1 */
  int idx = g->n_nodes;
  dd_node *nd = &g->nodes[idx];
  memset(nd, 0, sizeof *nd);
  nd->name = copy;
  nd->op = op;
  g->n_nodes++;
  name_index *ix = index_of(g);
  if (have_index && ix && ix->count == (uint32_t)idx)
    index_insert(ix, idx, hash_name(copy, strlen(copy))); /* strlen: a name stops at a NUL */
  return idx;
}

dd_status dd_graph_set_inputs(dd_graph *g, int i, const int *inputs, int n, dd_error *err) {
  if (i < 0 || i >= g->n_nodes)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "set_inputs: node index %d out of range [0, %d)",
                   i, g->n_nodes);
  dd_node *nd = &g->nodes[i];
  if (n < 0 || (n > 0 && !inputs))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "set_inputs: node '%s': bad input list (n=%d)",
                   nd->name, n);
  for (int k = 0; k < n; k++)
    if (inputs[k] < 0 || inputs[k] >= g->n_nodes)
      return dd_fail(err, DD_ERR_GRAPH, "node '%s': input %d refers to node index %d, out of range "
                     "[0, %d)", nd->name, k, inputs[k], g->n_nodes);
  int *copy = NULL;
  if (n > 0) {
    copy = (int *)malloc((size_t)n * sizeof *copy);
    if (!copy || !dd_graph_own(g, copy))
      return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "node '%s': out of memory for %d inputs", nd->name, n);
    memcpy(copy, inputs, (size_t)n * sizeof *copy);
  }
  nd->inputs = copy;
  nd->n_inputs = n;
  return DD_OK;
}

int dd_graph_find(const dd_graph *g, const char *name) {
  if (!g || !name) return -1;
  size_t n = strlen(name);
  int i = find_n(g, name, n);
  if (i < 0 && n > 2 && name[n - 2] == ':' && name[n - 1] == '0') i = find_n(g, name, n - 2);
  return i;
}

/* ---- the op list (ops.def) --------------------------------------------------- */
typedef struct op_row {
  const char *name;
  int min_in, max_in;
  int view;
  dd_attr_kind attr;
  const char *names[2][DD_OP_MAX_NAMES]; /* per dd_op_format; NULL after the last (a longer
                                           list is a compile-time excess-initializer warning) */
} op_row;

#define DD_OP_NAMES_(...) {__VA_ARGS__}
static const op_row op_rows[] = {
#define DD_OP(id, name, min_in, max_in, view, attr, tf, onnx) \
  [DD_OP_##id] = {name, min_in, max_in, view, DD_ATTR_##attr, {DD_OP_NAMES_ tf, DD_OP_NAMES_ onnx}},
#include "ops.def"
};
/* Every per-op table is complete: a row per op (ggml's check). */
_Static_assert(sizeof op_rows / sizeof op_rows[0] == DD_OP_COUNT, "op_rows must have one row per op");

static const op_row *op_row_of(dd_op op) {
  return (int)op >= 0 && (int)op < DD_OP_COUNT ? &op_rows[op] : NULL;
}

const char *dd_op_name(dd_op op) {
  const op_row *r = op_row_of(op);
  return r ? r->name : "Unknown";
}

int dd_op_is_view(dd_op op) {
  const op_row *r = op_row_of(op);
  return r ? r->view : 0;
}

dd_attr_kind dd_op_attr_kind(dd_op op) {
  const op_row *r = op_row_of(op);
  return r ? r->attr : DD_ATTR_NONE;
}

void dd_op_arity(dd_op op, int *min_in, int *max_in) {
  const op_row *r = op_row_of(op);
  *min_in = r ? r->min_in : 0;
  *max_in = r ? r->max_in : 0;
}

dd_op dd_op_lookup(dd_op_format fmt, const char *name, size_t len, int *variant) {
  if (variant) *variant = 0;
  if ((int)fmt < 0 || (int)fmt > DD_OP_FORMAT_ONNX || !name || len == 0) return DD_OP_COUNT;
  for (int op = 0; op < DD_OP_COUNT; op++)
    for (int v = 0; v < DD_OP_MAX_NAMES && op_rows[op].names[fmt][v]; v++) {
      const char *n = op_rows[op].names[fmt][v];
      if (strlen(n) == len && memcmp(n, name, len) == 0) { /* name may hold NULs */
        if (variant) *variant = v;
        return (dd_op)op;
      }
    }
  return DD_OP_COUNT;
}

const char *dd_op_format_name(dd_op op, dd_op_format fmt, int variant) {
  const op_row *r = op_row_of(op);
  if (!r || (int)fmt < 0 || (int)fmt > DD_OP_FORMAT_ONNX || variant < 0 || variant >= DD_OP_MAX_NAMES)
    return NULL;
  return r->names[fmt][variant];
}

/* ---- validation ------------------------------------------------------------ */
static int is_const(const dd_graph *g, int i, dd_dtype dt, int rank) {
  const dd_node *n = &g->nodes[i];
  return n->op == DD_OP_CONST && n->attr.value.dtype == dt && n->attr.value.rank == rank;
}

static dd_status check_window(const dd_node *n, const dd_window *w, int check_kernel, dd_error *err) {
  if (check_kernel && (w->k_h < 1 || w->k_w < 1))
    return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': window %dx%d must be at least 1x1",
                   dd_op_name(n->op), n->name, w->k_h, w->k_w);
  if (w->stride_h < 1 || w->stride_w < 1)
    return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': strides %dx%d must be at least 1",
                   dd_op_name(n->op), n->name, w->stride_h, w->stride_w);
  if ((unsigned)w->padding > DD_PADDING_EXPLICIT)
    return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': padding %d is neither SAME, SAME_LOWER, VALID nor explicit",
                   dd_op_name(n->op), n->name, (int)w->padding);
  if (w->padding == DD_PADDING_EXPLICIT) {
    const int k[4] = {w->k_h, w->k_w, w->k_h, w->k_w};
    for (int j = 0; j < 4; j++)
      if (w->pads[j] < 0 || (check_kernel && w->pads[j] >= k[j]) || w->pads[j] > 1 << 20)
        return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': pad %d is %d; pads must be at least 0 and smaller than "
                       "the window", dd_op_name(n->op), n->name, j, w->pads[j]);
  }
  if ((w->ceil_mode & ~1) || (w->count_include_pad & ~1))
    return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': ceil_mode and count_include_pad must be 0 or 1",
                   dd_op_name(n->op), n->name);
  return DD_OK;
}

static dd_status check_const(const dd_node *n, dd_error *err) {
  const dd_const *c = &n->attr.value;
  if (c->dtype != DD_DTYPE_FLOAT && c->dtype != DD_DTYPE_INT32)
    return dd_fail(err, DD_ERR_GRAPH, "Const node '%s': dtype %d is neither float nor int32",
                   n->name, (int)c->dtype);
  if (c->rank < 0 || c->rank > DD_MAX_RANK)
    return dd_fail(err, DD_ERR_GRAPH, "Const node '%s': rank %d outside [0, %d]", n->name, c->rank,
                   DD_MAX_RANK);
  int64_t count = 1;
  for (int d = 0; d < c->rank; d++) {
    if (c->dims[d] < 0)
      return dd_fail(err, DD_ERR_GRAPH, "Const node '%s': dimension %d is negative (%lld)", n->name,
                     d, (long long)c->dims[d]);
    if (c->dims[d] != 0 && count > INT64_MAX / 4 / c->dims[d])
      return dd_fail(err, DD_ERR_GRAPH, "Const node '%s': element count overflows", n->name);
    count *= c->dims[d];
  }
  if (count != c->count)
    return dd_fail(err, DD_ERR_GRAPH, "Const node '%s': count %lld disagrees with its shape (%lld)",
                   n->name, (long long)c->count, (long long)count);
  const void *data = c->dtype == DD_DTYPE_FLOAT ? (const void *)c->f : (const void *)c->i;
  if (count > 0 && !data)
    return dd_fail(err, DD_ERR_GRAPH, "Const node '%s': %lld elements but no data", n->name,
                   (long long)count);
  return DD_OK;
}

static dd_status check_node(const dd_graph *g, int idx, dd_error *err) {
  const dd_node *n = &g->nodes[idx];
  if (!n->name) return dd_fail(err, DD_ERR_GRAPH, "node %d has no name", idx);
  if ((int)n->op < 0 || (int)n->op >= DD_OP_COUNT)
    return dd_fail(err, DD_ERR_GRAPH, "node '%s': invalid op %d", n->name, (int)n->op);
  const char *op = dd_op_name(n->op);
  if (n->n_inputs < 0 || (n->n_inputs > 0 && !n->inputs))
    return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': bad input list (%d inputs)", op, n->name,
                   n->n_inputs);
  for (int k = 0; k < n->n_inputs; k++) {
    int in = n->inputs[k];
    if (in < 0 || in >= g->n_nodes)
      return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': input %d is node index %d, out of range "
                     "[0, %d)", op, n->name, k, in, g->n_nodes);
    if (g->nodes[in].op == DD_OP_CONST && g->nodes[in].attr.value.dtype == DD_DTYPE_INT32)
      return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': input %d is the int32 Const '%s'; int32 "
                     "constants are only allowed as Concat axes and Reshape shapes, which become "
                     "attributes", op, n->name, k, g->nodes[in].name);
  }
  int min_in, max_in;
  dd_op_arity(n->op, &min_in, &max_in);
  if (n->n_inputs < min_in || (max_in >= 0 && n->n_inputs > max_in)) {
    if (min_in == max_in)
      return dd_fail(err, DD_ERR_GRAPH, "%s node '%s' has %d inputs, expected %d", op, n->name,
                     n->n_inputs, min_in);
    if (max_in < 0)
      return dd_fail(err, DD_ERR_GRAPH, "%s node '%s' has %d inputs, expected at least %d", op,
                     n->name, n->n_inputs, min_in);
    return dd_fail(err, DD_ERR_GRAPH, "%s node '%s' has %d inputs, expected %d to %d", op, n->name,
                   n->n_inputs, min_in, max_in);
  }
  /* operands that must be constants, and not empty (an empty filter, bias or
     matrix leaves a tensor without channels) */
  for (int k = 1; k < n->n_inputs; k++) {
    const dd_node *in = &g->nodes[n->inputs[k]];
    if ((n->op == DD_OP_CONV2D || n->op == DD_OP_BIAS_ADD || n->op == DD_OP_MATMUL || n->op == DD_OP_MUL) &&
        in->op == DD_OP_CONST &&
        in->attr.value.count == 0)
      return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': constant operand '%s' is empty", op, n->name, in->name);
  }
  switch (n->op) {
    case DD_OP_CONV2D:
      if (!is_const(g, n->inputs[1], DD_DTYPE_FLOAT, 4))
        return dd_fail(err, DD_ERR_GRAPH, "Conv2D node '%s': filter '%s' must be a rank-4 float "
                       "Const (HWIO)", n->name, g->nodes[n->inputs[1]].name);
      break;
    case DD_OP_BIAS_ADD:
      if (!is_const(g, n->inputs[1], DD_DTYPE_FLOAT, 1))
        return dd_fail(err, DD_ERR_GRAPH, "BiasAdd node '%s': bias '%s' must be a rank-1 float Const",
                       n->name, g->nodes[n->inputs[1]].name);
      break;
    case DD_OP_MUL:
      if (!is_const(g, n->inputs[1], DD_DTYPE_FLOAT, 1))
        return dd_fail(err, DD_ERR_GRAPH, "Mul node '%s': factor '%s' must be a rank-1 float Const (1 or C values)",
                       n->name, g->nodes[n->inputs[1]].name);
      break;
    case DD_OP_ADD:
      if (g->nodes[n->inputs[1]].op == DD_OP_CONST)
        return dd_fail(err, DD_ERR_GRAPH, "Add node '%s': '%s' is a constant; Add sums two activations (a constant "
                       "is a BiasAdd)", n->name, g->nodes[n->inputs[1]].name);
      break;
    case DD_OP_MATMUL: {
      int b = n->inputs[1];
      if (g->nodes[b].op == DD_OP_CONST && !is_const(g, b, DD_DTYPE_FLOAT, 2))
        return dd_fail(err, DD_ERR_GRAPH, "MatMul node '%s': Const operand '%s' must be a rank-2 "
                       "float matrix", n->name, g->nodes[b].name);
      break;
    }
    default: break;
  }
  /* attrs, by kind */
  switch (dd_op_attr_kind(n->op)) {
    case DD_ATTR_NONE: return DD_OK;
    case DD_ATTR_VALUE: return check_const(n, err);
    case DD_ATTR_CONV: {
      dd_window w = {1, 1, n->attr.conv.strides[0], n->attr.conv.strides[1], n->attr.conv.padding,
                     {n->attr.conv.pads[0], n->attr.conv.pads[1], n->attr.conv.pads[2], n->attr.conv.pads[3]}, 0, 0};
      dd_status s = check_window(n, &w, 0, err);
      if (s != DD_OK || n->attr.conv.padding != DD_PADDING_EXPLICIT) return s;
      const dd_const *f = &g->nodes[n->inputs[1]].attr.value; /* rank-4 HWIO, checked above */
      for (int j = 0; j < 4; j++)
        if (n->attr.conv.pads[j] >= f->dims[j & 1])
          return dd_fail(err, DD_ERR_GRAPH, "Conv2D node '%s': pad %d is %d, not smaller than the %lldx%lld filter",
                         n->name, j, n->attr.conv.pads[j], (long long)f->dims[0], (long long)f->dims[1]);
      return DD_OK;
    }
    case DD_ATTR_POOL: return check_window(n, &n->attr.pool, 1, err);
    case DD_ATTR_LRN: {
      const dd_lrn_params *p = &n->attr.lrn;
      if (p->depth_radius < 0 || p->depth_radius > 1 << 20)
        return dd_fail(err, DD_ERR_GRAPH, "LRN node '%s': depth_radius %d outside [0, 2^20]",
                       n->name, p->depth_radius);
      /* finite and, for a well-defined power, positive base when beta != 0 */
      if (!(p->bias - p->bias == 0) || !(p->alpha - p->alpha == 0) || !(p->beta - p->beta == 0))
        return dd_fail(err, DD_ERR_GRAPH, "LRN node '%s': bias %g, alpha %g, beta %g must be finite",
                       n->name, (double)p->bias, (double)p->alpha, (double)p->beta);
      return DD_OK;
    }
    case DD_ATTR_CONCAT:
      if (n->attr.concat.axis < -1 || n->attr.concat.axis >= DD_MAX_RANK)
        return dd_fail(err, DD_ERR_GRAPH, "Concat node '%s': axis %d outside [0, %d) and not -1",
                       n->name, n->attr.concat.axis, DD_MAX_RANK);
      return DD_OK;
    case DD_ATTR_MATMUL:
      if ((n->attr.matmul.transpose_a & ~1) || (n->attr.matmul.transpose_b & ~1))
        return dd_fail(err, DD_ERR_GRAPH, "MatMul node '%s': transpose flags must be 0 or 1", n->name);
      return DD_OK;
    case DD_ATTR_ALPHA:
      if (!(n->attr.alpha - n->attr.alpha == 0))
        return dd_fail(err, DD_ERR_GRAPH, "%s node '%s': alpha %g must be finite", op, n->name, (double)n->attr.alpha);
      return DD_OK;
    case DD_ATTR_CLIP:
      if (n->attr.clip.lo != n->attr.clip.lo || n->attr.clip.hi != n->attr.clip.hi || n->attr.clip.lo > n->attr.clip.hi)
        return dd_fail(err, DD_ERR_GRAPH, "Clip node '%s': bounds [%g, %g] must be ordered numbers", n->name,
                       (double)n->attr.clip.lo, (double)n->attr.clip.hi);
      return DD_OK;
    case DD_ATTR_RESHAPE: {
      int rank = n->attr.reshape.rank, wild = 0;
      if (n->attr.reshape.zero_copies & ~1)
        return dd_fail(err, DD_ERR_GRAPH, "Reshape node '%s': zero_copies must be 0 or 1", n->name);
      if (rank < 0 || rank > DD_MAX_RANK)
        return dd_fail(err, DD_ERR_GRAPH, "Reshape node '%s': rank %d outside [0, %d]", n->name,
                       rank, DD_MAX_RANK);
      for (int d = 0; d < rank; d++) {
        int64_t v = n->attr.reshape.dims[d];
        if (v < -1 || v > INT32_MAX)
          return dd_fail(err, DD_ERR_GRAPH, "Reshape node '%s': dimension %d is %lld", n->name, d,
                         (long long)v);
        if (v == -1 && ++wild > 1)
          return dd_fail(err, DD_ERR_GRAPH, "Reshape node '%s': more than one -1 dimension", n->name);
      }
      return DD_OK;
    }
  }
  return DD_OK;
}

/* Appends s to buf (size cap) without overflowing; keeps it NUL-terminated. */
static void append(char *buf, size_t cap, size_t *len, const char *s) {
  while (*s && *len + 1 < cap) buf[(*len)++] = *s++;
  buf[*len] = '\0';
}

/* Kahn's algorithm. order (n entries) receives a topological order; returns
   the number of nodes ordered (< n_nodes means a cycle). indeg is scratch. */
static int topo_sort(const dd_graph *g, int *order, int *indeg, const int *cons_off,
                     const int *cons) {
  int head = 0, tail = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (indeg[i] == 0) order[tail++] = i;
  while (head < tail) {
    int u = order[head++];
    for (int k = cons_off[u]; k < cons_off[u + 1]; k++)
      if (--indeg[cons[k]] == 0) order[tail++] = cons[k];
  }
  return tail;
}

static dd_status report_cycle(const dd_graph *g, const int *indeg, dd_error *err) {
  int n = g->n_nodes;
  int *step = (int *)malloc((size_t)n * sizeof *step);
  if (!step) return dd_fail(err, DD_ERR_GRAPH, "graph has a cycle (out of memory describing it)");
  for (int i = 0; i < n; i++) step[i] = -1;
  int u = 0;
  while (indeg[u] == 0) u++; /* a node left over by Kahn: on or after a cycle */
  /* Follow unprocessed inputs until a node repeats: that closes a cycle. */
  int t = 0;
  while (step[u] < 0) {
    step[u] = t++;
    const dd_node *nd = &g->nodes[u];
    int next = -1;
    for (int k = 0; k < nd->n_inputs && next < 0; k++)
      if (indeg[nd->inputs[k]] > 0) next = nd->inputs[k];
    if (next < 0) break; /* cannot happen: a leftover node has a leftover input */
    u = next;
  }
  /* Collect the cycle starting at u, walking towards inputs, then print it in
     data-flow order (producer -> consumer). */
  int cyc_len = 0, *cyc = step; /* reuse: step values are no longer needed */
  int start = u, v = u;
  char msg[DD_ERROR_MESSAGE_SIZE];
  size_t len = 0;
  msg[0] = '\0';
  do {
    cyc[cyc_len++] = v;
    const dd_node *nd = &g->nodes[v];
    int next = -1;
    for (int k = 0; k < nd->n_inputs && next < 0; k++)
      if (indeg[nd->inputs[k]] > 0) next = nd->inputs[k];
    v = next;
  } while (v >= 0 && v != start && cyc_len < n);
  /* In data-flow order the cycle reads cyc[0] -> cyc[len-1] -> ... -> cyc[1] -> cyc[0]. */
  char head[48];
  snprintf(head, sizeof head, "graph has a cycle of %d node%s: ", cyc_len, cyc_len == 1 ? "" : "s");
  append(msg, sizeof msg, &len, head);
  for (int j = 0; j <= cyc_len; j++) {
    if (cyc_len > 6 && j == 3) {
      append(msg, sizeof msg, &len, "... -> ");
      j = cyc_len - 2;
    }
    int id = (j == 0 || j == cyc_len) ? cyc[0] : cyc[cyc_len - j];
    append(msg, sizeof msg, &len, "'");
    append(msg, sizeof msg, &len, g->nodes[id].name);
    append(msg, sizeof msg, &len, j == cyc_len ? "'" : "' -> ");
  }
  free(step);
  return dd_fail(err, DD_ERR_GRAPH, "%s", msg);
}

dd_status dd_graph_validate(const dd_graph *g, dd_error *err) {
  if (!g) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "validate: graph is NULL");
  if (g->n_nodes <= 0 || !g->nodes) return dd_fail(err, DD_ERR_GRAPH, "graph has no nodes");
  int placeholder = -1;
  size_t edges = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    dd_status s = check_node(g, i, err);
    if (s != DD_OK) return s;
    const dd_node *n = &g->nodes[i];
    int first = dd_graph_find(g, n->name);
    if (first != i)
      return dd_fail(err, DD_ERR_GRAPH, "duplicate node name '%s' (nodes %d and %d)", n->name,
                     first, i);
    if (n->op == DD_OP_PLACEHOLDER) {
      if (placeholder >= 0)
        return dd_fail(err, DD_ERR_UNSUPPORTED, "graph has more than one Placeholder ('%s' and "
                       "'%s'); exactly one image input is supported",
                       g->nodes[placeholder].name, n->name);
      placeholder = i;
    }
    edges += (size_t)n->n_inputs;
  }
  if (placeholder < 0)
    return dd_fail(err, DD_ERR_GRAPH, "graph has no Placeholder node (the image input)");
  if (edges > INT32_MAX)
    return dd_fail(err, DD_ERR_GRAPH, "graph has too many edges (%zu)", edges);

  /* Cycle check: consumers in CSR form, then Kahn. */
  int n = g->n_nodes;
  size_t bytes = 0;
  int *buf = NULL;
  if (dd_mul_size((size_t)3 * (size_t)n + 1 + edges, sizeof(int), &bytes)) buf = (int *)malloc(bytes);
  if (!buf) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "validate: out of memory for %d nodes", n);
  int *indeg = buf, *order = buf + n, *cons_off = buf + 2 * (size_t)n,
      *cons = buf + 3 * (size_t)n + 1;
  memset(cons_off, 0, ((size_t)n + 1) * sizeof(int));
  for (int i = 0; i < n; i++) {
    indeg[i] = g->nodes[i].n_inputs;
    for (int k = 0; k < g->nodes[i].n_inputs; k++) cons_off[g->nodes[i].inputs[k] + 1]++;
  }
  for (int i = 0; i < n; i++) cons_off[i + 1] += cons_off[i];
  for (int i = 0; i < n; i++) order[i] = cons_off[i]; /* fill cursors */
  for (int i = 0; i < n; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++) cons[order[g->nodes[i].inputs[k]]++] = i;
  int done = topo_sort(g, order, indeg, cons_off, cons);
  dd_status s = DD_OK;
  if (done < n) s = report_cycle(g, indeg, err);
  free(buf);
  return s;
}
