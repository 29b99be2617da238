/* pass.c — forward pass, sparse categorical cross-entropy, backward pass.
 *
 * Dense and Conv2D run on the backend's kernels: Dense is one GEMM forward
 * (x·W), and two backward (dW = xᵀ·dz, dx = dz·Wᵀ); Conv2D uses the backend's
 * forward, conv2d_backward_filter (dW, db) and conv2d_backward_data (dx).
 * MaxPooling2D routes gradients to the first maximum (TensorFlow's MaxPoolGrad).
 * The loss is the mean over the batch (Keras' sum_over_batch_size); per-sample
 * losses are computed in double. */
#include <math.h>
#include <string.h>

#include "../ops/ops.h"
#include "net.h"

static const float *layer_input(const dd_net *net, int i) {
  return i == 0 ? net->ws_input : net->layers[i - 1].yp;
}

static dd_status conv_weights(dd_net *net, dd_net_layer *l, dd_error *err) {
  if (l->cw && !l->cw_stale) return DD_OK;
  if (l->cw) net->k->conv2d_destroy(l->cw);
  l->cw = NULL;
  const float *bias = l->use_bias ? net->params[l->param0 + 1].value : NULL;
  dd_status s = net->k->conv2d_create(&l->conv, net->params[l->param0].value, bias, &l->cw, err);
  if (s != DD_OK) return s;
  l->cw_stale = 0;
  return DD_OK;
}

static dd_status window_shape(const dd_net_layer *l, const dd_window *win, int count, dd_window_shape *ws,
                              dd_error *err) {
  dd_error e;
  if (dd_window_shape_init(win, count, l->in_h, l->in_w, ws, &e) != DD_OK)
    return dd_fail(err, DD_ERR_INTERNAL, "layer '%s': %s", l->name, e.message);
  return DD_OK;
}

/* Applies the activation to `pre` (rows x c) writing `out`; for softmax, pre
   and out differ (the loss needs the logits). */
static void activate(dd_activation act, size_t rows, int c, float *pre, float *out) {
  switch (act) {
    case DD_ACTIVATION_RELU: dd_relu(rows * (size_t)c, pre, out); break;
    case DD_ACTIVATION_SOFTMAX: dd_softmax(rows, c, pre, out); break;
    default:
      if (out != pre) memcpy(out, pre, rows * (size_t)c * sizeof(float));
      break;
  }
}

dd_status dd_net_forward_ws(dd_net *net, int count, int training, dd_error *err) {
  if (count <= 0 || count > net->ws_batch)
    return dd_fail(err, DD_ERR_INTERNAL, "forward: %d samples, workspace for %d", count, net->ws_batch);
  for (int i = 0; i < net->n_layers; i++) {
    dd_net_layer *l = &net->layers[i];
    const float *x = layer_input(net, i);
    const size_t in_rows = (size_t)count * l->in_h * l->in_w;
    const size_t out_rows = (size_t)count * l->out_h * l->out_w;
    float *dst = l->act == DD_ACTIVATION_SOFTMAX ? l->z : l->y;
    dd_window_shape ws;
    dd_status s;
    switch (l->kind) {
      case DD_LAYER_DENSE: {
        const dd_net_param *kp = &net->params[l->param0];
        net->k->gemm(0, 0, (int)in_rows, l->out_c, l->in_c, x, l->in_c, kp->value, l->out_c, 0.0f, dst, l->out_c,
                     net->pool);
        if (l->use_bias) dd_bias_add(in_rows, l->out_c, dst, net->params[l->param0 + 1].value, dst);
        activate(l->act, out_rows, l->out_c, dst, l->y);
        l->yp = l->y;
        break;
      }
      case DD_LAYER_CONV2D:
        if ((s = conv_weights(net, l, err)) != DD_OK) return s;
        if ((s = window_shape(l, &l->conv.win, count, &ws, err)) != DD_OK) return s;
        if ((s = net->k->conv2d_prepare(l->cw, &ws, l->act == DD_ACTIVATION_RELU ? DD_CONV_FORWARD_RELU : DD_CONV_FORWARD,
                                        &net->conv_scratch, net->pool, err)) != DD_OK)
          return s;
        net->k->conv2d_forward(l->cw, &ws, x, dst, l->act == DD_ACTIVATION_RELU, &net->conv_scratch, net->pool);
        if (l->act == DD_ACTIVATION_SOFTMAX) activate(l->act, out_rows, l->out_c, dst, l->y);
        l->yp = l->y;
        break;
      case DD_LAYER_MAX_POOL2D:
        if ((s = window_shape(l, &l->win, count, &ws, err)) != DD_OK) return s;
        net->k->max_pool_forward(&l->win, &ws, l->in_c, x, l->y, net->pool);
        l->yp = l->y;
        break;
      case DD_LAYER_DROPOUT:
        if (training && l->rate > 0.0) {
          const size_t n = (size_t)count * l->out_size;
          const float rate = (float)l->rate, scale = (float)(1.0 / (1.0 - l->rate));
          for (size_t j = 0; j < n; j++) {
            float keep = dd_rng_uniform(&net->rng) >= rate ? scale : 0.0f;
            l->mask[j] = keep;
            l->y[j] = x[j] * keep;
          }
          l->yp = l->y;
        } else {
          l->yp = x;
        }
        break;
      case DD_LAYER_FLATTEN:
        l->yp = x;
        break;
    }
  }
  net->pass_training = training != 0;
  net->pass_count = count;
  return DD_OK;
}

static int argmax(const float *row, int c) {
  int best = 0;
  for (int j = 1; j < c; j++)
    if (row[j] > row[best]) best = j;
  return best;
}

dd_status dd_net_loss(dd_net *net, const int32_t *labels, int count, float *grad, int *fused, dd_batch_result *res,
                      dd_error *err) {
  if (net->n_layers == 0) return dd_fail(err, DD_ERR_SHAPE, "the net has no layers");
  const dd_net_layer *last = &net->layers[net->n_layers - 1];
  if (last->out_rank != 1)
    return dd_fail(err, DD_ERR_SHAPE,
                   "the last layer '%s' outputs %dx%dx%d values; sparse categorical cross-entropy needs a vector of "
                   "class scores (add Flatten and Dense)",
                   last->name, last->out_h, last->out_w, last->out_c);
  if (count != net->pass_count) return dd_fail(err, DD_ERR_INTERNAL, "loss: %d labels for %d samples", count, net->pass_count);
  const int C = last->out_c;
  for (int r = 0; r < count; r++)
    if (labels[r] < 0 || labels[r] >= C)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "label %d of the batch is %d; the model has %d classes (0..%d)", r,
                     (int)labels[r], C, C - 1);
  const int use_logits = net->topt.from_logits;
  const int is_fused = !use_logits && last->act == DD_ACTIVATION_SOFTMAX;
  const double inv_count = 1.0 / count;
  double loss_sum = 0.0;
  int64_t correct = 0;
  for (int r = 0; r < count; r++) {
    const float *out = last->yp + (size_t)r * C;
    const int y = labels[r];
    float *g = grad ? grad + (size_t)r * C : NULL;
    correct += argmax(out, C) == y;
    if (use_logits || is_fused) {
      /* Cross-entropy of softmax(z): log-sum-exp(z) - z[y]; gradient softmax(z) - onehot. */
      const float *z = is_fused ? last->z + (size_t)r * C : out;
      double m = z[0];
      for (int j = 1; j < C; j++) m = z[j] > m ? z[j] : m;
      double s = 0.0;
      for (int j = 0; j < C; j++) s += exp((double)z[j] - m);
      loss_sum += m + log(s) - (double)z[y];
      if (g)
        for (int j = 0; j < C; j++) g[j] = (float)((exp((double)z[j] - m) / s - (j == y ? 1.0 : 0.0)) * inv_count);
    } else {
      /* Probabilities: normalise to sum 1, clip to [eps, 1-eps], -log (TF.js' categoricalCrossentropy). */
      double S = 0.0;
      for (int j = 0; j < C; j++) S += out[j];
      double q = S > 0.0 ? out[y] / S : 0.0;
      const int clipped = !(q > DD_NET_PROB_EPSILON && q < 1.0 - DD_NET_PROB_EPSILON);
      if (q < DD_NET_PROB_EPSILON || !(q == q)) q = DD_NET_PROB_EPSILON;
      if (q > 1.0 - DD_NET_PROB_EPSILON) q = 1.0 - DD_NET_PROB_EPSILON;
      loss_sum += -log(q);
      if (g)
        for (int j = 0; j < C; j++)
          g[j] = clipped ? 0.0f : (float)(((j == y ? -1.0 / out[y] : 0.0) + 1.0 / S) * inv_count);
    }
  }
  if (fused) *fused = is_fused;
  if (res) {
    res->loss_sum = loss_sum;
    res->correct = correct;
    res->count = count;
  }
  return DD_OK;
}

dd_status dd_net_backward(dd_net *net, int count, int fused, float *dx, dd_error *err) {
  if (count != net->pass_count) return dd_fail(err, DD_ERR_INTERNAL, "backward: %d samples, forward had %d", count, net->pass_count);
  float *g = net->ws_grad[net->ws_grad_cur];
  float *other = net->ws_grad[1 - net->ws_grad_cur];
  for (int i = net->n_layers - 1; i >= 0; i--) {
    dd_net_layer *l = &net->layers[i];
    const float *x = layer_input(net, i);
    const size_t in_rows = (size_t)count * l->in_h * l->in_w;
    const size_t out_rows = (size_t)count * l->out_h * l->out_w;
    const size_t n_out = (size_t)count * l->out_size;
    if (!(fused && i == net->n_layers - 1)) {
      if (l->act == DD_ACTIVATION_RELU) dd_relu_backward(n_out, l->yp, g, g);
      else if (l->act == DD_ACTIVATION_SOFTMAX) dd_softmax_backward(out_rows, l->out_c, l->yp, g, g);
    }
    const int need_dx = i > 0 || dx != NULL;
    float *target = (i == 0 && dx) ? dx : other;
    int moved = 0; /* the gradient now lives in target */
    dd_window_shape ws;
    dd_status s;
    switch (l->kind) {
      case DD_LAYER_DENSE: {
        dd_net_param *kp = &net->params[l->param0];
        net->k->gemm(1, 0, l->in_c, l->out_c, (int)in_rows, x, l->in_c, g, l->out_c, 0.0f, kp->grad, l->out_c,
                     net->pool);
        if (l->use_bias) dd_bias_add_backward(in_rows, l->out_c, g, net->params[l->param0 + 1].grad);
        if (need_dx) {
          net->k->gemm(0, 1, (int)in_rows, l->in_c, l->out_c, g, l->out_c, kp->value, l->out_c, 0.0f, target, l->in_c,
                       net->pool);
          moved = 1;
        }
        break;
      }
      case DD_LAYER_CONV2D:
        if ((s = window_shape(l, &l->conv.win, count, &ws, err)) != DD_OK) return s;
        net->k->conv2d_backward_filter(&l->conv, &ws, x, g, net->params[l->param0].grad,
                                       l->use_bias ? net->params[l->param0 + 1].grad : NULL, net->pool);
        if (need_dx) {
          if ((s = conv_weights(net, l, err)) != DD_OK) return s;
          if ((s = net->k->conv2d_prepare(l->cw, &ws, DD_CONV_BACKWARD_DATA, &net->conv_scratch, net->pool, err)) != DD_OK) return s;
          net->k->conv2d_backward_data(l->cw, &ws, g, NULL, target, &net->conv_scratch, net->pool);
          moved = 1;
        }
        break;
      case DD_LAYER_MAX_POOL2D:
        if (need_dx) {
          if ((s = window_shape(l, &l->win, count, &ws, err)) != DD_OK) return s;
          net->k->max_pool_backward(&l->win, &ws, l->in_c, x, g, NULL, target, net->pool);
          moved = 1;
        }
        break;
      case DD_LAYER_DROPOUT:
        if (net->pass_training && l->rate > 0.0)
          for (size_t j = 0; j < n_out; j++) g[j] *= l->mask[j];
        break;
      case DD_LAYER_FLATTEN:
        break;
    }
    if (moved) {
      if (target != dx) {
        other = g;
        g = target;
      }
    } else if (i == 0 && dx) {
      memcpy(dx, g, (size_t)count * l->in_size * sizeof(float));
    }
  }
  return DD_OK;
}
