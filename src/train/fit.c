/* fit.c — Adam, and the batch entry points: train one batch, evaluate,
 * predict. */
#include <math.h>
#include <string.h>

#include "../kernels/simd128/simd.h"
#include "net.h"

/* Adam over one parameter range; wasm_f32x4 (SIMDe natively). Each lane does
   exactly the scalar tail's operations (IEEE mul, add, sqrt, div), so the
   result does not depend on where a range starts. */
typedef struct adam_job {
  float *w, *m, *v;
  const float *g;
  size_t n;
  float lr_t, b1, b2, c1, c2, eps;
} adam_job;

#define DD_ADAM_CHUNK 8192

static void adam_range(void *ctx, size_t begin, size_t end) {
  const adam_job *j = (const adam_job *)ctx;
  size_t i = begin * DD_ADAM_CHUNK, stop = end * DD_ADAM_CHUNK < j->n ? end * DD_ADAM_CHUNK : j->n;
  const v128_t b1 = wasm_f32x4_splat(j->b1), b2 = wasm_f32x4_splat(j->b2), c1 = wasm_f32x4_splat(j->c1),
               c2 = wasm_f32x4_splat(j->c2), eps = wasm_f32x4_splat(j->eps), lr = wasm_f32x4_splat(j->lr_t);
  for (; i + 4 <= stop; i += 4) {
    const v128_t g = wasm_v128_load(j->g + i);
    const v128_t m = wasm_f32x4_add(wasm_f32x4_mul(b1, wasm_v128_load(j->m + i)), wasm_f32x4_mul(c1, g));
    const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(b2, wasm_v128_load(j->v + i)), wasm_f32x4_mul(c2, wasm_f32x4_mul(g, g)));
    wasm_v128_store(j->m + i, m);
    wasm_v128_store(j->v + i, v);
    const v128_t step = wasm_f32x4_div(wasm_f32x4_mul(lr, m), wasm_f32x4_add(wasm_f32x4_sqrt(v), eps));
    wasm_v128_store(j->w + i, wasm_f32x4_sub(wasm_v128_load(j->w + i), step));
  }
  for (; i < stop; i++) {
    const float g = j->g[i];
    const float m = j->b1 * j->m[i] + j->c1 * g;
    const float v = j->b2 * j->v[i] + j->c2 * (g * g);
    j->m[i] = m;
    j->v[i] = v;
    j->w[i] -= (j->lr_t * m) / (sqrtf(v) + j->eps);
  }
}

void dd_net_adam_step(dd_net *net) {
  const double t = (double)(net->iterations + 1);
  const double b1 = net->topt.beta1, b2 = net->topt.beta2;
  adam_job j;
  /* Keras' OptimizerV2 Adam: the bias correction folded into the step size. */
  j.lr_t = (float)(net->topt.learning_rate * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t)));
  j.b1 = (float)b1;
  j.b2 = (float)b2;
  j.c1 = (float)(1.0 - b1);
  j.c2 = (float)(1.0 - b2);
  j.eps = (float)net->topt.epsilon;
  for (int pi = 0; pi < net->n_params; pi++) {
    dd_net_param *p = &net->params[pi];
    j.w = p->value;
    j.m = p->m;
    j.v = p->v;
    j.g = p->grad;
    j.n = p->count;
    dd_parallel_for(net->pool, (p->count + DD_ADAM_CHUNK - 1) / DD_ADAM_CHUNK, adam_range, &j);
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
