/* graph.h — the engine's graph IR: a DAG of single-output nodes.
 *
 * Format importers (formats/graphdef.c) build a dd_graph; the executor
 * (src/engine/) plans, runs forward and differentiates it. The ops and their
 * per-op facts are one list, ops.def. The IR has already resolved TensorFlow
 * idioms: Concat's axis (legacy input 0 or ConcatV2's last input) is an
 * attribute, Reshape's target shape is an attribute, control inputs are
 * dropped, Identity is kept (a view).
 */
#ifndef DD_GRAPH_H
#define DD_GRAPH_H

#include "../core/core.h"
#include "../kernels/kernels.h"

/* The ops, in ops.def's order (one row there per op). */
typedef enum dd_op {
#define DD_OP(id, name, min_in, max_in, view, attr, tf, onnx) DD_OP_##id,
#include "ops.def"
  DD_OP_COUNT
} dd_op;

/* Which member of dd_node.attr an op uses (ops.def's ATTR column). */
typedef enum dd_attr_kind {
  DD_ATTR_NONE,
  DD_ATTR_VALUE,   /* attr.value */
  DD_ATTR_CONV,    /* attr.conv */
  DD_ATTR_POOL,    /* attr.pool */
  DD_ATTR_LRN,     /* attr.lrn */
  DD_ATTR_CONCAT,  /* attr.concat */
  DD_ATTR_MATMUL,  /* attr.matmul */
  DD_ATTR_RESHAPE, /* attr.reshape */
  DD_ATTR_ALPHA,   /* attr.alpha */
  DD_ATTR_CLIP     /* attr.clip */
} dd_attr_kind;

/* The display name of an op ("Conv2D", ...); "Unknown" outside the enum. */
const char *dd_op_name(dd_op op);
/* 1 when the op is a view (ops.def VIEW: Identity, Reshape): its output is
   its first input under another name or shape, with no storage and no work
   of its own, forward or backward. 0 otherwise and outside the enum. */
int dd_op_is_view(dd_op op);
dd_attr_kind dd_op_attr_kind(dd_op op);
/* Data inputs the op takes in the IR: [*min_in, *max_in], max -1 = any. */
void dd_op_arity(dd_op op, int *min_in, int *max_in);

/* The model formats whose op names ops.def lists. */
typedef enum dd_op_format { DD_OP_FORMAT_TF = 0, DD_OP_FORMAT_ONNX = 1 } dd_op_format;
/* Most names one op has in one format (ops.def lists at most this many). */
#define DD_OP_MAX_NAMES 3
/* The op that `fmt` calls name[0..len) (not NUL-terminated), or DD_OP_COUNT
   when none does. *variant (may be NULL) receives the name's position in the
   op's list: TF "Concat" is DD_OP_CONCAT variant 0, "ConcatV2" variant 1. */
dd_op dd_op_lookup(dd_op_format fmt, const char *name, size_t len, int *variant);
/* The variant-th name of `op` in `fmt`, or NULL when there is none. */
const char *dd_op_format_name(dd_op op, dd_op_format fmt, int variant);

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
    struct { int strides[2]; dd_padding padding; int pads[4]; } conv;  /* CONV2D; pads: EXPLICIT (dd_window) */
    dd_window pool;                                                    /* MAX/AVG_POOL */
    dd_lrn_params lrn;                                                 /* LRN */
    struct { int axis; } concat;                                       /* CONCAT, axis in [0,4) of NHWC or -1 */
    struct { int rank; int64_t dims[DD_MAX_RANK]; int zero_copies; } reshape; /* RESHAPE, -1 allowed once; with
                                                                          zero_copies (ONNX) a 0 keeps the
                                                                          input's dimension (rank 2: n) */
    struct { int transpose_a, transpose_b; } matmul;                   /* MATMUL */
    float alpha;                                                       /* LEAKY_RELU: slope below 0, finite */
    struct { float lo, hi; } clip;                                     /* CLIP: lo <= hi, not NaN (may be infinite) */
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
   nodes may be in any order (the executor orders what a target needs). */
dd_status dd_graph_validate(const dd_graph *g, dd_error *err);

#endif /* DD_GRAPH_H */
