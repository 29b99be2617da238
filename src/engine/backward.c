/* backward.c — the reverse pass over the current plan: the input gradient of
 * a loss whose seeds dL/d(activation) the caller computes on one or more
 * targets (the tutorial's: mean(square(target[..., channels]))).
 *
 * Gradient buffers are per storage root (engine.h). The first contribution
 * to a root is written in place; later ones go to scratch and are added
 * (Concat accumulates in place itself). Nodes are visited in reverse plan
 * order, so a root's gradient is complete before its own node runs. */
#include <string.h>

#include "../ops/ops.h"
#include "engine.h"

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

/* The relu mask a gradient writer applies for its input ai (premasked,
   engine.h): the input's activation, or NULL. */
static const float *input_mask(const dd_exec *e, int ai) {
  const int r = e->plan[ai].root;
  return e->plan[r].premasked ? dd_act(e, r) : NULL;
}

static void backward_node(dd_exec *e, int pi) {
  dd_plan_node *pn = &e->plan[pi];
  const dd_node *n = &e->g->nodes[pn->node];
  if (!dd_plan_backward_works(e, pi)) return;
  if (!e->written[pn->root]) return; /* no gradient reaches this node */
  int ai = e->plan_index[n->inputs[0]];
  float *dy = dd_grad(e, pi);
  size_t count = dd_shape_count(pn->shape);
  size_t rows = count / (size_t)pn->shape.c;
  int acc;
  switch (n->op) {
    case DD_OP_CONV2D: {
      if (pn->fuse == DD_FUSE_BIAS_RELU && !pn->premasked) dd_relu_backward_par(e->pool, count, dd_act(e, pi), dy, dy);
      float *dx = grad_dst(e, ai, &acc);
      e->k->conv2d_backward_data(e->prep[pn->node].conv, &pn->ws, dy, input_mask(e, ai), dx, &e->ws, e->pool);
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
      dd_relu_backward_par(e->pool, count, dd_act(e, pi), dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_MAX_POOL: {
      float *dx = grad_dst(e, ai, &acc);
      if (pn->has_argmax)
        e->k->max_pool_backward_argmax(&n->attr.pool, &pn->ws, pn->shape.c,
                                       (const uint8_t *)dd_arena_ptr(&e->arena, pn->argmax_off), dy,
                                       input_mask(e, ai), dx, e->pool);
      else
        e->k->max_pool_backward(&n->attr.pool, &pn->ws, pn->shape.c, dd_act(e, ai), dy, input_mask(e, ai), dx,
                                e->pool);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_AVG_POOL: {
      if (n->attr.pool.count_include_pad) dd_avg_pool_scale(n, pn, dy); /* dy is this node's own: scaled in place */
      float *dx = grad_dst(e, ai, &acc);
      e->k->avg_pool_backward(&n->attr.pool, &pn->ws, pn->shape.c, dy, dx, e->pool);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_LRN: {
      float *dx = grad_dst(e, ai, &acc);
      e->k->lrn_backward(&n->attr.lrn, rows, pn->shape.c, dd_act(e, ai), dy, input_mask(e, ai), dx, e->pool);
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
          dparts[j] = dd_grad(e, bi);
          masks[j] = e->plan[r].premasked ? dd_act(e, r) : NULL;
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
    case DD_OP_LEAKY_RELU: {
      float *dx = grad_dst(e, ai, &acc);
      dd_leaky_relu_backward(count, n->attr.alpha, dd_act(e, ai), dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_SOFTMAX: {
      float *dx = grad_dst(e, ai, &acc);
      dd_softmax_backward(rows, pn->shape.c, dd_act(e, pi), dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_GLOBAL_AVG_POOL: {
      const dd_shape as = e->plan[ai].shape;
      float *dx = grad_dst(e, ai, &acc);
      dd_global_avg_pool_backward(as.n, (size_t)as.h * (size_t)as.w, as.c, dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_ADD:
      for (int j = 0; j < 2; j++) { /* both summands get dy (accumulated when they are one node) */
        int bj = e->plan_index[n->inputs[j]];
        float *dx = grad_dst(e, bj, &acc);
        dd_copy_par(e->pool, count, dy, dx);
        grad_done(e, bj, acc);
      }
      break;
    case DD_OP_MUL: {
      const dd_const *f = dd_float_const(e->g, n->inputs[1]);
      float *dx = grad_dst(e, ai, &acc);
      dd_channel_mul(rows, pn->shape.c, dy, e->prep[pn->node].scale, (int)f->count, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_CLIP: {
      float *dx = grad_dst(e, ai, &acc);
      dd_clip_backward(count, n->attr.clip.lo, n->attr.clip.hi, dd_act(e, ai), dy, dx);
      grad_done(e, ai, acc);
      break;
    }
    case DD_OP_PLACEHOLDER: /* dd_plan_backward_works excluded these */
    case DD_OP_IDENTITY:
    case DD_OP_RESHAPE:
    case DD_OP_CONST:
    case DD_OP_COUNT: break;
  }
}

/* The tutorial's seed: d mean(square(y[..., channels])) / dy, exactly as before
   the seed became a parameter (same ops, same rounding). */
typedef struct square_seed { const int *channels; int n_channels; } square_seed;
static dd_status seed_square(void *ctx, const dd_seed_args *a, dd_error *err) {
  const square_seed *q = (const square_seed *)ctx;
  for (int j = 0; j < q->n_channels && q->channels; j++)
    if (q->channels[j] < 0 || q->channels[j] >= a->shape.c)
      return dd_fail(err, DD_ERR_NOT_FOUND, "channel %d does not exist in '%s', which has channels 0..%d",
                     q->channels[j], a->name, a->shape.c - 1);
  size_t rows = dd_shape_count(a->shape) / (size_t)a->shape.c;
  *a->loss = dd_mean_square(rows, a->shape.c, a->y, q->channels, q->n_channels);
  dd_mean_square_backward_par(a->pool, rows, a->shape.c, a->y, q->channels, q->n_channels, a->dy);
  return DD_OK;
}

dd_status dd_exec_seeds_gradient(dd_exec *e, const int *targets, int n_targets, dd_seed_fn seed, void *ctx,
                                 const float *input, dd_shape in_shape, float *grad_out, double *loss_out,
                                 dd_error *err) {
  if (!targets || n_targets < 1) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "no target");
  dd_status s = DD_OK;
  for (int t = 0; t < n_targets && s == DD_OK; t++) s = dd_exec_check_run_args(e, targets[t], input, in_shape, err);
  if (s != DD_OK) return s;
  if (!grad_out || !seed) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "grad_out or the seed is NULL");
  s = dd_plan_make_targets(e, targets, n_targets, in_shape, 1, err);
  if (s != DD_OK) return s;
  dd_forward_run(e, input);
  memset(e->written, 0, (size_t)e->plan_len);
  /* the seeds, in the order given: the first into its root's buffer, a later
     one on a root already written (a view of another target) through scratch */
  double total = 0;
  for (int t = 0; t < n_targets; t++) {
    const int ti = e->plan_index[targets[t]];
    int acc;
    float *dy = grad_dst(e, ti, &acc);
    double loss = 0;
    dd_seed_args a = {dd_act(e, ti), e->plan[ti].shape, dy, &loss, e->pool, e->g->nodes[targets[t]].name, e->k,
                      targets[t]};
    s = seed(ctx, &a, err);
    if (s != DD_OK) return s;
    total += loss;
    grad_done(e, ti, acc);
  }
  if (loss_out) *loss_out = total;
  for (int pi = e->plan_len - 1; pi >= 0; pi--) {
    if (e->profile) {
      double t0 = dd_now_ms();
      backward_node(e, pi);
      e->plan[pi].ms_bwd += dd_now_ms() - t0;
    } else {
      backward_node(e, pi);
    }
  }
  int in_pi = -1;
  for (int pi = 0; pi < e->plan_len; pi++)
    if (e->g->nodes[e->plan[pi].node].op == DD_OP_PLACEHOLDER) in_pi = pi;
  size_t n_in = dd_shape_count(in_shape);
  if (in_pi >= 0 && e->written[e->plan[in_pi].root])
    dd_copy_par(e->pool, n_in, dd_grad(e, in_pi), grad_out);
  else
    memset(grad_out, 0, n_in * sizeof(float));
  return DD_OK;
}

dd_status dd_exec_seed_gradient(dd_exec *e, int target, dd_seed_fn seed, void *ctx, const float *input,
                                dd_shape in_shape, float *grad_out, double *loss_out, dd_error *err) {
  return dd_exec_seeds_gradient(e, &target, 1, seed, ctx, input, in_shape, grad_out, loss_out, err);
}

dd_status dd_exec_objective_gradient(dd_exec *e, int target, const int *channels, int n_channels,
                                     const float *input, dd_shape in_shape, float *grad_out,
                                     float *loss_out, dd_error *err) {
  square_seed q = {channels, n_channels};
  double loss = 0;
  dd_status s = dd_exec_seed_gradient(e, target, seed_square, &q, input, in_shape, grad_out, &loss, err);
  if (s == DD_OK && loss_out) *loss_out = (float)loss;
  return s;
}
