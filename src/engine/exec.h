/* exec.h — plans and runs a dd_graph: forward to any node, and the gradient of
 * a DeepDream objective with respect to the input.
 *
 * A plan is the pruned, topologically ordered list of nodes a target needs,
 * with shapes for one input size and activation offsets in one arena. The
 * executor keeps one plan, made again when the target, the input shape or
 * the need for a gradient changes; re-planning a size that fits reuses the
 * arena, so a run does no allocation after warm-up. Conv and MatMul weights
 * are prepared for the kernel backend once, when the executor is created.
 *
 * The engine's files and the plan's invariants: engine.h.
 */
#ifndef DD_EXEC_H
#define DD_EXEC_H

#include "../graph/graph.h"

typedef struct dd_exec dd_exec;

/* Targets of one gradient pass, at most (dd_exec_seeds_gradient). */
#define DD_PLAN_MAX_TARGETS 16

/* profile.c: a monotonic clock in milliseconds (the profile's; the dream
   times its phases with it). */
double dd_now_ms(void);

/* The executor runs on `pool` (shared, referenced until dd_exec_free) with at
   most num_threads of its threads, or on threads of its own when pool is NULL
   (see dd_threadpool_open). */
dd_status dd_exec_create(const dd_graph *g, const dd_kernels *k, dd_pool *pool, int num_threads, dd_exec **out,
                         dd_error *err);
void dd_exec_free(dd_exec *e);

/* A lane: a second executor on `parent`'s prepared weights (nothing is
   copied) with a plan, an arena and a conv workspace of its own, running on
   the calling thread only. Lanes of one parent may run at the same time,
   each on one thread (the dream runs small tiles side by side this way),
   when the backend allows it (kernels.h: conv_concurrent; otherwise
   DD_ERR_UNSUPPORTED) and every input shape they run at the same time has
   been planned before, on the calling thread, on some executor of these
   weights (dd_exec_reserve): planning may write the shared weights (a
   geometry's transformed filters), running only reads them. The parent must
   outlive its lanes and must not plan or run while they run. Results are
   the parent's, bit for bit (the kernels give the same bytes on any number
   of threads). Free with dd_exec_free. */
dd_status dd_exec_create_lane(dd_exec *parent, dd_exec **out, dd_error *err);

/* Forward from the placeholder (input [n,h,w,c]) to node `target`. *out
   points into the executor's arena and stays valid until the next call. */
dd_status dd_exec_forward(dd_exec *e, int target, const float *input, dd_shape in_shape,
                          dd_tensor *out, dd_error *err);

/* Plans a gradient to `target` for inputs of in_shape and sizes the
   activation arena for it, without running anything: a caller that will
   run several shapes reserves the largest first, so the arena is allocated
   once instead of growing (and leaving holes in the heap) shape by shape. */
dd_status dd_exec_reserve(dd_exec *e, int target, dd_shape in_shape, dd_error *err);

/* The output shape of `target` for an input shape, without running anything. */
dd_status dd_exec_output_shape(dd_exec *e, int target, dd_shape in_shape, dd_shape *out, dd_error *err);

/* d mean(square(target[..., channels])) / d input. channels NULL or
   n_channels 0 = all. grad_out has dd_shape_count(in_shape) floats. */
dd_status dd_exec_objective_gradient(dd_exec *e, int target, const int *channels, int n_channels,
                                     const float *input, dd_shape in_shape, float *grad_out,
                                     float *loss_out, dd_error *err);

/* The general reverse pass: `seed` receives the target's activation y
   (a->shape, NHWC) and writes dL/dy into a->dy (every one of its
   dd_shape_count(shape) floats) and L into *a->loss; the engine
   back-propagates dy to the input. It may use a->pool (may be NULL) for
   row-parallel work. A seed that fails (a shape it cannot use) fills err;
   nothing is back-propagated. dd_exec_objective_gradient is this with the
   tutorial's seed, bit for bit as it always was. */
typedef struct dd_seed_args {
  const float *y;
  dd_shape shape;
  float *dy;
  double *loss;
  dd_threadpool *pool;
  const char *name; /* the target node's name, for messages */
  const dd_kernels *k; /* the executor's kernels (a seed may use its GEMM) */
  int target;          /* the target's graph index */
} dd_seed_args;
typedef dd_status (*dd_seed_fn)(void *ctx, const dd_seed_args *a, dd_error *err);
dd_status dd_exec_seed_gradient(dd_exec *e, int target, dd_seed_fn seed, void *ctx, const float *input,
                                dd_shape in_shape, float *grad_out, double *loss_out, dd_error *err);

/* The same for a sum of losses on several targets (distinct graph nodes, at
   most DD_PLAN_MAX_TARGETS) in one forward and one reverse pass: the forward
   runs every node any target needs once, `seed` is called once per target
   (a->target tells which), in the order given, and the reverse pass
   back-propagates the sum. *loss_out is the sum of the seeds' losses, in that
   order. With one target this is dd_exec_seed_gradient, bit for bit. */
dd_status dd_exec_seeds_gradient(dd_exec *e, const int *targets, int n_targets, dd_seed_fn seed, void *ctx,
                                 const float *input, dd_shape in_shape, float *grad_out, double *loss_out,
                                 dd_error *err);

/* dd_exec_reserve for a set of targets (as dd_exec_seeds_gradient plans them). */
dd_status dd_exec_reserve_targets(dd_exec *e, const int *targets, int n_targets, dd_shape in_shape, dd_error *err);

/* Fusion of Conv2D -> BiasAdd [-> Relu] into the conv's epilogue, and the
   pre-masking that relies on it (engine.h, premasked): DD_EXEC_FUSION_ON by
   default. OFF runs every op on its own (results equal up to rounding);
   CONCAT_MASKS fuses but lets only Concats apply a relu mask (the other
   writers' masks become a separate pass again: the same bytes as ON, which
   tests hold it to). For tests. Takes effect at the next run (the plan is
   made again). */
enum { DD_EXEC_FUSION_OFF = 0, DD_EXEC_FUSION_CONCAT_MASKS = 1, DD_EXEC_FUSION_ON = 2 };
void dd_exec_set_fusion(dd_exec *e, int level);

/* Peak bytes of activations and gradients held by the arena so far. */
size_t dd_exec_arena_peak(const dd_exec *e);
/* Bytes of the convs' shared run-time scratch (the kernels' workspace) now. */
size_t dd_exec_workspace_bytes(const dd_exec *e);
/* The threads the executor runs on, for work beside the graph that should use
   the same ones (the dream's smoothing and blurs); NULL means the calling thread only. */
dd_threadpool *dd_exec_threads(const dd_exec *e);

/* Optional per-op profile of the last run: when enabled, times per node are
   accumulated and printed by dd_exec_profile_print. */
void dd_exec_set_profile(dd_exec *e, int enabled);
void dd_exec_profile_print(const dd_exec *e, void *file /* FILE* */);

#endif
