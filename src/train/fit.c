/* fit.c — Adam, and the batch entry points: train one batch, evaluate,
 * predict. */
#include <math.h>
#include <string.h>

#include "net.h"

void dd_net_adam_step(dd_net *net) {
  const double t = (double)(net->iterations + 1);
  const double b1 = net->topt.beta1, b2 = net->topt.beta2;
  /* Keras' OptimizerV2 Adam: the bias correction folded into the step size. */
  const float lr_t = (float)(net->topt.learning_rate * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t)));
  const float b1f = (float)b1, b2f = (float)b2, c1 = (float)(1.0 - b1), c2 = (float)(1.0 - b2);
  const float eps = (float)net->topt.epsilon;
  for (int pi = 0; pi < net->n_params; pi++) {
    dd_net_param *p = &net->params[pi];
    float *restrict w = p->value, *restrict m = p->m, *restrict v = p->v;
    const float *restrict g = p->grad;
    const size_t n = p->count;
    for (size_t i = 0; i < n; i++) {
      const float gi = g[i];
      const float mi = b1f * m[i] + c1 * gi;
      const float vi = b2f * v[i] + c2 * (gi * gi);
      m[i] = mi;
      v[i] = vi;
      w[i] -= lr_t * mi / (sqrtf(vi) + eps);
    }
  }
  net->iterations++;
  dd_net_params_changed(net, -1);
}

dd_status dd_net_gather(dd_net *net, const float *x, const int32_t *labels, int64_t n, const int32_t *index, int count,
                        dd_error *err) {
  if (count <= 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "a batch needs at least one sample, not %d", count);
  if (!x) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL input");
  if (n < 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "negative sample count %lld", (long long)n);
  if (!index && count > n)
    return dd_fail(err, DD_ERR_SHAPE, "a batch of %d samples from a dataset of %lld", count, (long long)n);
  dd_status s = dd_net_reserve(net, count, err);
  if (s != DD_OK) return s;
  const size_t sz = net->in_size;
  for (int i = 0; i < count; i++) {
    int64_t j = index ? index[i] : i;
    if (j < 0 || j >= n)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "sample index %lld is outside the dataset of %lld samples",
                     (long long)j, (long long)n);
    memcpy(net->ws_input + (size_t)i * sz, x + (size_t)j * sz, sz * sizeof(float));
    if (labels) net->ws_labels[i] = labels[j];
  }
  return DD_OK;
}

static dd_status check_ready(const dd_net *net, int need_compile, dd_error *err) {
  if (!net) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL net");
  if (net->n_layers == 0) return dd_fail(err, DD_ERR_SHAPE, "the net has no layers");
  if (need_compile && !net->compiled)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "the net must be compiled (optimizer and loss) before training or evaluation");
  return DD_OK;
}

dd_status dd_net_compute_gradients(dd_net *net, const float *x, const int32_t *labels, int64_t n, const int32_t *index,
                                   int count, int training, dd_batch_result *res, float *dx, dd_error *err) {
  dd_status s = check_ready(net, 0, err);
  if (s != DD_OK) return s;
  if (!labels) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL labels");
  if ((s = dd_net_gather(net, x, labels, n, index, count, err)) != DD_OK) return s;
  if ((s = dd_net_forward_ws(net, count, training, err)) != DD_OK) return s;
  int fused = 0;
  net->ws_grad_cur = 0;
  if ((s = dd_net_loss(net, net->ws_labels, count, net->ws_grad[0], &fused, res, err)) != DD_OK) return s;
  return dd_net_backward(net, count, fused, dx, err);
}

dd_status dd_net_train_batch(dd_net *net, const float *x, const int32_t *labels, int64_t n, const int32_t *index,
                             int count, dd_batch_result *out, dd_error *err) {
  dd_status s = check_ready(net, 1, err);
  if (s != DD_OK) return s;
  dd_batch_result r;
  if ((s = dd_net_compute_gradients(net, x, labels, n, index, count, 1, &r, NULL, err)) != DD_OK) return s;
  dd_net_adam_step(net);
  if (out) *out = r;
  return DD_OK;
}

dd_status dd_net_evaluate(dd_net *net, const float *x, const int32_t *labels, int64_t n, int batch_size,
                          dd_batch_result *out, dd_error *err) {
  dd_status s = check_ready(net, 1, err);
  if (s != DD_OK) return s;
  if (!labels || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (batch_size <= 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "batch size must be positive, not %d", batch_size);
  if (n <= 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "evaluate needs at least one sample");
  dd_batch_result total = {0.0, 0, 0};
  for (int64_t start = 0; start < n; start += batch_size) {
    int count = (int)(n - start < batch_size ? n - start : batch_size);
    if ((s = dd_net_gather(net, x + (size_t)start * net->in_size, labels + start, n - start, NULL, count, err)) != DD_OK)
      return s;
    if ((s = dd_net_forward_ws(net, count, 0, err)) != DD_OK) return s;
    dd_batch_result r;
    if ((s = dd_net_loss(net, net->ws_labels, count, NULL, NULL, &r, err)) != DD_OK) return s;
    total.loss_sum += r.loss_sum;
    total.correct += r.correct;
    total.count += r.count;
  }
  *out = total;
  return DD_OK;
}

dd_status dd_net_predict(dd_net *net, const float *x, int64_t n, int batch_size, float *out, size_t out_capacity,
                         dd_error *err) {
  dd_status s = check_ready(net, 0, err);
  if (s != DD_OK) return s;
  if (batch_size <= 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "batch size must be positive, not %d", batch_size);
  if (n <= 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "predict needs at least one sample");
  const size_t osz = dd_net_output_size(net);
  size_t need;
  if (!dd_mul_size((size_t)n, osz, &need) || need > out_capacity || !out)
    return dd_fail(err, DD_ERR_SHAPE, "predict: %lld samples need %zu output floats, the buffer holds %zu", (long long)n,
                   osz * (size_t)n, out_capacity);
  for (int64_t start = 0; start < n; start += batch_size) {
    int count = (int)(n - start < batch_size ? n - start : batch_size);
    if ((s = dd_net_gather(net, x + (size_t)start * net->in_size, NULL, n - start, NULL, count, err)) != DD_OK) return s;
    if ((s = dd_net_forward_ws(net, count, 0, err)) != DD_OK) return s;
    memcpy(out + (size_t)start * osz, net->layers[net->n_layers - 1].yp, (size_t)count * osz * sizeof(float));
  }
  return DD_OK;
}
