/* graph.h — the engine's graph IR: a DAG of single-output nodes.
 *
 * Format importers (formats/graphdef.c) build a dd_graph; the executor
 * (graph/exec.c) plans, runs forward and differentiates it. The IR has
 * already resolved TensorFlow idioms: Concat's axis (legacy input 0 or
 * ConcatV2's last input) is an attribute, Reshape's target shape is an
 * attribute, control inputs are dropped, Identity is kept (a view).
 */
#ifndef DD_GRAPH_H
#define DD_GRAPH_H

#include "../core/core.h"
#include "../kernels/kernels.h"

typedef enum dd_op {
  DD_OP_PLACEHOLDER = 0, /* the image input, [N,H,W,C] */
  DD_OP_CONST,           /* a float or int32 constant */
  DD_OP_IDENTITY,
  DD_OP_CONV2D,          /* inputs: x, filter (Const, HWIO) */
  DD_OP_BIAS_ADD,        /* inputs: x, bias (Const, [C]) */
  DD_OP_RELU,
  DD_OP_MAX_POOL,
  DD_OP_AVG_POOL,
  DD_OP_LRN,
  DD_OP_CONCAT,          /* inputs: the tensors; attr axis */
  DD_OP_MATMUL,          /* inputs: a, b (b may be a Const [K,N]) */
  DD_OP_SOFTMAX,
  DD_OP_RESHAPE,         /* inputs: x; attr shape */
  DD_OP_COUNT
} dd_op;

/* TensorFlow's op type name for an op ("Conv2D", ...). */
const char *dd_op_name(dd_op op);

typedef enum dd_dtype { DD_DTYPE_FLOAT = 1, DD_DTYPE_INT32 = 3 } dd_dtype;

#define DD_MAX_RANK 4

typedef struct dd_const {
  dd_dtype dtype;
  int rank;
  int64_t dims[DD_MAX_RANK];
  int64_t count;         /* number of elements */
  const float *f;        /* float data (DD_DTYPE_FLOAT), may be unaligned-safe copy */
  const int32_t *i;      /* int32 data (DD_DTYPE_INT32) */
} dd_const;

typedef struct dd_node {
  const char *name;      /* owned by the graph's string storage */
  dd_op op;
  int n_inputs;
  int *inputs;           /* node indices, owned by the graph */
  union {
    struct { int strides[2]; dd_padding padding; } conv;               /* CONV2D */
    dd_window pool;                                                    /* MAX/AVG_POOL */
    dd_lrn_params lrn;                                                 /* LRN */
    struct { int axis; } concat;                                       /* CONCAT, axis in [0,4) of NHWC or -1 */
    struct { int rank; int64_t dims[DD_MAX_RANK]; } reshape;           /* RESHAPE, -1 allowed once */
    struct { int transpose_a, transpose_b; } matmul;                   /* MATMUL */
    dd_const value;                                                    /* CONST */
  } attr;
} dd_node;

typedef struct dd_graph {
  dd_node *nodes;
  int n_nodes;
  int capacity;
  /* storage: every allocation the graph owns, freed by dd_graph_free */
  void **owned;
  int n_owned, cap_owned;
} dd_graph;

void dd_graph_init(dd_graph *g);
void dd_graph_free(dd_graph *g);
/* Appends a node (copying name); returns its index or -1 on OOM. */
int dd_graph_add_node(dd_graph *g, const char *name, size_t name_len, dd_op op);
/* Sets inputs of node `i` (copied). */
dd_status dd_graph_set_inputs(dd_graph *g, int i, const int *inputs, int n, dd_error *err);
/* Registers memory the graph will free. Returns p (NULL on OOM, after freeing p). */
void *dd_graph_own(dd_graph *g, void *p);
/* Index of the node with this name ("name:0" accepted), or -1. */
int dd_graph_find(const dd_graph *g, const char *name);
/* Checks every input index, arity and attr; rejects cycles. On success the
   nodes may be in any order; dd_graph_topo_order gives an executable one. */
dd_status dd_graph_validate(const dd_graph *g, dd_error *err);

#endif /* DD_GRAPH_H */
