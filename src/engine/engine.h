/* engine.h — the executor's internals, shared by its files; not a header for
 * other layers (they use exec.h). One job per file:
 *
 *   exec.c      dd_exec_create/free: per-node weights prepared once (conv
 *               filters repacked by the backend with a following BiasAdd
 *               folded in, constants aligned), consumer counts
 *   plan.c      planning: the pruned topological order the targets need,
 *               shape inference, conv+bias+relu fusion, Concat pre-masking,
 *               kernel prepare for the plan's geometry, the arena layout
 *   memplan.c   gradient buffers placed by lifetime (memplan.h)
 *   forward.c   the forward pass; dd_exec_forward, dd_exec_output_shape
 *   backward.c  the reverse pass from seeds on one or more targets
 *   profile.c   per-node timing and its table
 */
#ifndef DD_ENGINE_H
#define DD_ENGINE_H

#include "exec.h"
#include "memplan.h"

/* Concat inputs handled by one pass over the rows. */
#define DD_CONCAT_BATCH 16

typedef enum dd_fuse_kind { DD_FUSE_NONE = 0, DD_FUSE_BIAS = 1, DD_FUSE_BIAS_RELU = 2 } dd_fuse_kind;

/* Per graph node, prepared once by dd_exec_create. */
typedef struct dd_prepared {
  dd_conv2d_weights *conv; /* CONV2D: the backend's weights */
  int bias_node;           /* CONV2D: the BiasAdd folded into conv's weights, or -1 */
  const float *bias;       /* CONV2D with bias_node, BIAS_ADD: aligned bias [C] */
  const float *matrix;     /* MATMUL: aligned B [K][N] (or [N][K] with transpose_b) */
  const float *scale;      /* MUL: aligned factors [1 or C] */
} dd_prepared;

/* One node of the current plan.
 *
 * Invariants (plan.c establishes them; dd_plan_check tests them):
 *   root      the plan index whose storage holds this node's output, both
 *             activation and gradient. A node that owns storage is its own
 *             root. A view (dd_op_is_view: Identity, Reshape) has its input's
 *             root; an absorbed node has its fused conv's. Roots are final:
 *             plan[plan[p].root].root == plan[p].root, and only roots have
 *             act_off (and, in a gradient plan, grad_off) of their own.
 *   fuse      CONV2D only. DD_FUSE_BIAS: the conv's BiasAdd (prep.bias_node,
 *             its single consumer, folded into the weights) is absorbed (it
 *             may be the target: the conv's output is its value);
 *             DD_FUSE_BIAS_RELU: so is that BiasAdd's single-consumer Relu,
 *             and the conv's epilogue applies the relu; never when the
 *             BiasAdd is a target (its value would be lost). Fusion off
 *             (dd_exec_set_fusion): always NONE.
 *   absorbed  BIAS_ADD or RELU computed by a fused conv's epilogue: no work
 *             forward or backward; root = the conv. Exactly the nodes a fuse
 *             covers are absorbed.
 *   raw_conv  CONV2D whose weights carry a folded bias (bias_node >= 0) that
 *             its output must not have (the conv is a target, its BiasAdd
 *             is not in the plan, or fusion is off): the forward subtracts
 *             the bias again. Excludes fuse != NONE.
 *   premasked a DD_FUSE_BIAS_RELU conv, not a target's root, whose gradient
 *             is written only by ops that can apply its relu mask as they
 *             write (dd_op_masks_gradient: Concat's copy, the kernels'
 *             din_mask): they do, and the conv's backward skips its pass over
 *             the gradient. The mask is linear, so masking each contribution
 *             equals masking their sum; the bytes are those of the separate
 *             pass. Implies fuse == DD_FUSE_BIAS_RELU.
 */

/* Ops whose backward writes their input's gradient through a relu mask when
   asked (premasked above): Concat, and the kernels with din_mask. */
static inline int dd_op_masks_gradient(dd_op op) {
  return op == DD_OP_CONCAT || op == DD_OP_CONV2D || op == DD_OP_MAX_POOL || op == DD_OP_LRN;
}
typedef struct dd_plan_node {
  int node;            /* graph index */
  dd_shape shape;      /* output shape [n, h, w, c] (rank < 4 padded in front) */
  int root;            /* see above */
  dd_fuse_kind fuse;   /* see above */
  int absorbed;        /* see above */
  int raw_conv;        /* see above */
  int premasked;       /* see above */
  dd_window_shape ws;  /* CONV2D, MAX/AVG_POOL: window geometry for this shape */
  size_t act_off;      /* roots: activation offset in the arena */
  size_t grad_off;     /* roots in a gradient plan: gradient offset in the arena */
  size_t argmax_off;   /* MAX_POOL in a gradient plan, when has_argmax: its argmax (kernels.h) in the arena */
  int has_argmax;      /* the forward saves the argmax and the backward routes by it */
  double ms_fwd, ms_bwd; /* profile: accumulated forward / backward time */
} dd_plan_node;

struct dd_exec {
  const dd_exec *parent; /* a lane's (dd_exec_create_lane): prep, consumers and owned are the parent's */
  const dd_graph *g;
  const dd_kernels *k;
  dd_threadpool *pool;
  dd_prepared *prep;  /* per graph node */
  int *consumers;     /* per graph node: number of consumers in the whole graph */
  void **owned;       /* aligned copies of constants */
  int n_owned;
  int fusion;         /* DD_EXEC_FUSION_*: conv+bias+relu fusion and pre-masking (exec.h) */
  int profile;
  /* the current plan: one at a time, rebuilt when the targets, input shape or
     gradient need changes */
  dd_plan_node *plan;
  int plan_len, plan_cap;
  int *plan_index;    /* per graph node: its plan index or -1 */
  int plan_valid;     /* 0: no valid plan (none yet, a failed one, or fusion switched) */
  int plan_targets[DD_PLAN_MAX_TARGETS]; /* every target, in the order given */
  int plan_n_targets;
  dd_shape plan_in;
  int plan_has_grad;
  size_t scratch_off; /* gradient plans: scratch for accumulated contributions */
  size_t grad_bytes;  /* gradient region of the current plan */
  unsigned char *written; /* per plan index: gradient root written (backward) */
  dd_arena arena;
  dd_workspace ws;    /* the convs' run-time scratch, shared (kernels.h: one node runs at a time) */
};

/* plan.c: makes the plan for (targets, in_shape, want_grad) current, reusing
   it when it already is. A plan of several targets holds every node any of
   them needs; none of them is fused away or premasked, and in a gradient plan
   each target's gradient buffer lives from the seeds (step -1) on.
   dd_plan_make is the one-target case. */
dd_status dd_plan_make_targets(dd_exec *e, const int *targets, int n_targets, dd_shape in_shape, int want_grad,
                               dd_error *err);
dd_status dd_plan_make(dd_exec *e, int target, dd_shape in_shape, int want_grad, dd_error *err);
/* 1 when graph node `node` is one of the current plan's targets. */
static inline int dd_plan_is_target(const dd_exec *e, int node) {
  for (int i = 0; i < e->plan_n_targets; i++)
    if (e->plan_targets[i] == node) return 1;
  return 0;
}
/* plan.c: 1 when the current plan keeps every invariant above; otherwise 0
   with the first broken one described in why (cap bytes). For tests. */
int dd_plan_check(const dd_exec *e, char *why, size_t cap);
/* forward.c: runs the current plan's forward pass. */
void dd_forward_run(dd_exec *e, const float *input);
/* exec.c: checks the arguments every run entry point takes. */
dd_status dd_exec_check_run_args(dd_exec *e, int target, const float *input, dd_shape s, dd_error *err);

/* Node idx when it is a float Const, else NULL. */
static inline const dd_const *dd_float_const(const dd_graph *g, int idx) {
  if (idx < 0 || idx >= g->n_nodes) return NULL;
  const dd_node *n = &g->nodes[idx];
  if (n->op != DD_OP_CONST || n->attr.value.dtype != DD_DTYPE_FLOAT) return NULL;
  return &n->attr.value;
}

/* 1 when plan node pi's backward step writes gradients to its inputs: not
   the image input, not a view, not absorbed into a fused conv. */
static inline int dd_plan_backward_works(const dd_exec *e, int pi) {
  const dd_plan_node *pn = &e->plan[pi];
  const dd_op op = e->g->nodes[pn->node].op;
  return !(op == DD_OP_PLACEHOLDER || dd_op_is_view(op) || pn->absorbed);
}

/* Storage of plan node pi (its root's), activations and gradients. */
static inline float *dd_act(const dd_exec *e, int pi) {
  return dd_arena_ptr(&e->arena, e->plan[e->plan[pi].root].act_off);
}
static inline float *dd_grad(const dd_exec *e, int pi) {
  return dd_arena_ptr(&e->arena, e->plan[e->plan[pi].root].grad_off);
}
/* forward.c: ONNX AveragePool's count_include_pad divisor on plan node pn's
   output-shaped x (its activation forward, its gradient backward). */
void dd_avg_pool_scale(const dd_node *n, const dd_plan_node *pn, float *x);

#endif /* DD_ENGINE_H */
