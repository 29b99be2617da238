/* forward.c — the forward pass over the current plan (engine.h). */
#include "../ops/ops.h"
#include "engine.h"

/* The activation of node n's j-th input. */
static float *input_act(const dd_exec *e, const dd_node *n, int j) { return dd_act(e, e->plan_index[n->inputs[j]]); }

void dd_avg_pool_scale(const dd_node *n, const dd_plan_node *pn, float *x) {
  const dd_window *w = &n->attr.pool;
  const dd_window_shape *s = &pn->ws;
  dd_avg_pool_include_pad_scale(w->k_h, w->k_w, w->stride_h, w->stride_w, w->pads[2], w->pads[3], s->n, s->in_h,
                                s->in_w, s->out_h, s->out_w, s->pad_top, s->pad_left, pn->shape.c, x);
}

static void forward_node(dd_exec *e, int pi, const float *input) {
  dd_plan_node *pn = &e->plan[pi];
  const dd_node *n = &e->g->nodes[pn->node];
  float *out = dd_act(e, pi);
  size_t count = dd_shape_count(pn->shape);
  size_t rows = count / (size_t)pn->shape.c;
  switch (n->op) {
    case DD_OP_PLACEHOLDER:
      dd_copy_par(e->pool, count, input, out);
      break;
    case DD_OP_IDENTITY: /* views: the input's storage is the output */
    case DD_OP_RESHAPE:
      break;
    case DD_OP_CONV2D: {
      e->k->conv2d_forward(e->prep[pn->node].conv, &pn->ws, input_act(e, n, 0), out, pn->fuse == DD_FUSE_BIAS_RELU, &e->ws, e->pool);
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
      if (pn->has_argmax)
        e->k->max_pool_forward_argmax(&n->attr.pool, &pn->ws, pn->shape.c, input_act(e, n, 0), out,
                                      (uint8_t *)dd_arena_ptr(&e->arena, pn->argmax_off), e->pool);
      else
        e->k->max_pool_forward(&n->attr.pool, &pn->ws, pn->shape.c, input_act(e, n, 0), out, e->pool);
      break;
    case DD_OP_AVG_POOL:
      e->k->avg_pool_forward(&n->attr.pool, &pn->ws, pn->shape.c, input_act(e, n, 0), out, e->pool);
      if (n->attr.pool.count_include_pad) dd_avg_pool_scale(n, pn, out);
      break;
    case DD_OP_GLOBAL_AVG_POOL: {
      const dd_shape as = e->plan[e->plan_index[n->inputs[0]]].shape;
      dd_global_avg_pool(as.n, (size_t)as.h * (size_t)as.w, as.c, input_act(e, n, 0), out);
      break;
    }
    case DD_OP_ADD:
      dd_add(count, input_act(e, n, 0), input_act(e, n, 1), out);
      break;
    case DD_OP_MUL: {
      const dd_const *f = dd_float_const(e->g, n->inputs[1]);
      dd_channel_mul(rows, pn->shape.c, input_act(e, n, 0), e->prep[pn->node].scale, (int)f->count, out);
      break;
    }
    case DD_OP_CLIP:
      dd_clip(count, n->attr.clip.lo, n->attr.clip.hi, input_act(e, n, 0), out);
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
    case DD_OP_LEAKY_RELU:
      dd_leaky_relu(count, n->attr.alpha, input_act(e, n, 0), out);
      break;
    case DD_OP_CONST: /* never planned */
    case DD_OP_COUNT: break;
  }
}

void dd_forward_run(dd_exec *e, const float *input) {
  for (int pi = 0; pi < e->plan_len; pi++) {
    if (e->profile) {
      double t0 = dd_now_ms();
      forward_node(e, pi, input);
      e->plan[pi].ms_fwd += dd_now_ms() - t0;
    } else {
      forward_node(e, pi, input);
    }
  }
}

dd_status dd_exec_forward(dd_exec *e, int target, const float *input, dd_shape in_shape, dd_tensor *out,
                          dd_error *err) {
  dd_status s = dd_exec_check_run_args(e, target, input, in_shape, err);
  if (s == DD_OK) s = dd_plan_make(e, target, in_shape, 0, err);
  if (s != DD_OK) return s;
  dd_forward_run(e, input);
  int pi = e->plan_index[target];
  if (out) {
    out->shape = e->plan[pi].shape;
    out->data = dd_act(e, pi);
  }
  return DD_OK;
}

