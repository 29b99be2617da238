/* net.c — building a dd_net: layers, shapes, parameters, initialisation,
 * options, RNG, workspace. The passes are in pass.c, the optimizer and the
 * batch loops in fit.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

void dd_net_options_init(dd_net_options *opt) {
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->backend = DD_BACKEND_AUTO;
  opt->num_threads = 1;
}

void dd_train_options_init(dd_train_options *opt) {
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->learning_rate = 0.001;
  opt->beta1 = 0.9;
  opt->beta2 = 0.999;
  opt->epsilon = 1e-7;
  opt->from_logits = 0;
}

dd_status dd_net_create(int rank, const int *input_shape, const dd_net_options *opt, dd_net **out,
                        dd_error *err) {
  if (!out || !input_shape) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_net_create: NULL argument");
  if (rank != 1 && rank != 3)
    return dd_fail(err, DD_ERR_SHAPE, "input rank %d is not supported (1: features, 3: height x width x channels)",
                   rank);
  for (int i = 0; i < rank; i++)
    if (input_shape[i] <= 0 || input_shape[i] > (1 << 24))
      return dd_fail(err, DD_ERR_SHAPE, "input dimension %d is %d; it must be in 1..16777216", i, input_shape[i]);
  dd_net_options o;
  dd_net_options_init(&o);
  if (opt) o = *opt;
  const dd_kernels *k = dd_kernels_get(o.backend);
  if (!k) return dd_fail(err, DD_ERR_UNSUPPORTED, "backend %s is not available in this build", dd_backend_name(o.backend));
  int h = rank == 3 ? input_shape[0] : 1, w = rank == 3 ? input_shape[1] : 1;
  int c = rank == 3 ? input_shape[2] : input_shape[0];
  size_t size;
  if (!dd_mul_size((size_t)h * (size_t)w, (size_t)c, &size) || size > ((size_t)1 << 28))
    return dd_fail(err, DD_ERR_SHAPE, "input of %dx%dx%d values is too large", h, w, c);
  dd_net *net = (dd_net *)calloc(1, sizeof *net);
  if (!net) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "dd_net_create: out of memory");
  net->k = k;
  if (o.num_threads != 1) net->pool = dd_threadpool_open(o.pool, o.num_threads);
  net->in_rank = rank;
  net->in_h = h;
  net->in_w = w;
  net->in_c = c;
  net->in_size = size;
  dd_train_options_init(&net->topt);
  dd_rng_seed(&net->rng, 0);
  *out = net;
  return DD_OK;
}

static void ws_free(dd_net *net) {
  dd_aligned_free(net->ws_block);
  free(net->ws_labels);
  net->ws_block = NULL;
  net->ws_labels = NULL;
  net->ws_input = NULL;
  net->ws_grad[0] = net->ws_grad[1] = NULL;
  for (int i = 0; i < net->n_layers; i++) net->layers[i].y = net->layers[i].z = net->layers[i].mask = NULL;
  net->ws_batch = 0;
  net->pass_count = 0;
}

void dd_net_free(dd_net *net) {
  if (!net) return;
  ws_free(net);
  for (int i = 0; i < net->n_layers; i++)
    if (net->layers[i].cw) net->k->conv2d_destroy(net->layers[i].cw);
  dd_workspace_free(&net->conv_scratch);
  for (int i = 0; i < net->n_params; i++) {
    dd_aligned_free(net->params[i].value);
    dd_aligned_free(net->params[i].grad);
    dd_aligned_free(net->params[i].m);
    dd_aligned_free(net->params[i].v);
  }
  free(net->layers);
  free(net->params);
  dd_threadpool_destroy(net->pool);
  free(net);
}

/* ---- adding layers ---------------------------------------------------------- */

/* The output shape of the net so far. */
static void current_shape(const dd_net *net, int *rank, int *h, int *w, int *c) {
  if (net->n_layers == 0) {
    *rank = net->in_rank;
    *h = net->in_h;
    *w = net->in_w;
    *c = net->in_c;
  } else {
    const dd_net_layer *l = &net->layers[net->n_layers - 1];
    *rank = l->out_rank;
    *h = l->out_h;
    *w = l->out_w;
    *c = l->out_c;
  }
}

/* A zeroed layer with the input shape filled in, or NULL (err set). */
static dd_net_layer *layer_begin(dd_net *net, dd_layer_kind kind, const char *name, dd_error *err) {
  if (!net) {
    dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL net");
    return NULL;
  }
  if (!name || !name[0] || strlen(name) >= DD_NET_NAME_MAX) {
    dd_fail(err, DD_ERR_INVALID_ARGUMENT, "a layer name must have 1..%d bytes", DD_NET_NAME_MAX - 1);
    return NULL;
  }
  for (int i = 0; i < net->n_layers; i++)
    if (strcmp(net->layers[i].name, name) == 0) {
      dd_fail(err, DD_ERR_INVALID_ARGUMENT, "there is already a layer named '%s'", name);
      return NULL;
    }
  if (net->n_layers >= DD_NET_MAX_LAYERS) {
    dd_fail(err, DD_ERR_UNSUPPORTED, "a net has at most %d layers", DD_NET_MAX_LAYERS);
    return NULL;
  }
  if (net->n_layers == net->cap_layers) {
    int cap = net->cap_layers ? net->cap_layers * 2 : 8;
    dd_net_layer *nl = (dd_net_layer *)realloc(net->layers, (size_t)cap * sizeof *nl);
    if (!nl) {
      dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory adding layer '%s'", name);
      return NULL;
    }
    net->layers = nl;
    net->cap_layers = cap;
  }
  /* The workspace is planned for the old layer list: drop it. */
  ws_free(net);
  dd_net_layer *l = &net->layers[net->n_layers];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  snprintf(l->name, sizeof l->name, "%s", name);
  current_shape(net, &l->in_rank, &l->in_h, &l->in_w, &l->in_c);
  l->in_size = (size_t)l->in_h * l->in_w * l->in_c;
  l->param0 = net->n_params;
  l->y = l->z = l->mask = NULL;
  return l;
}

static dd_status add_param(dd_net *net, int layer, const char *suffix, int rank, const int *shape, dd_error *err) {
  if (net->n_params == net->cap_params) {
    int cap = net->cap_params ? net->cap_params * 2 : 8;
    dd_net_param *np = (dd_net_param *)realloc(net->params, (size_t)cap * sizeof *np);
    if (!np) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory adding parameters");
    net->params = np;
    net->cap_params = cap;
  }
  dd_net_param *p = &net->params[net->n_params];
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s/%s", net->layers[layer].name, suffix);
  p->layer = layer;
  p->rank = rank;
  size_t count = 1;
  for (int i = 0; i < rank; i++) {
    p->shape[i] = shape[i];
    if (!dd_mul_size(count, (size_t)shape[i], &count) || count > ((size_t)1 << 28))
      return dd_fail(err, DD_ERR_SHAPE, "parameter %s is too large", p->name);
  }
  p->count = count;
  size_t bytes = count * sizeof(float) + DD_EXTRA_BYTES;
  p->value = (float *)dd_aligned_calloc(bytes);
  p->grad = (float *)dd_aligned_calloc(bytes);
  p->m = (float *)dd_aligned_calloc(bytes);
  p->v = (float *)dd_aligned_calloc(bytes);
  if (!p->value || !p->grad || !p->m || !p->v) {
    dd_aligned_free(p->value);
    dd_aligned_free(p->grad);
    dd_aligned_free(p->m);
    dd_aligned_free(p->v);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory for parameter %s (%zu floats)", p->name, count);
  }
  net->n_params++;
  return DD_OK;
}

/* Commits the layer begun with layer_begin, with its parameters; on failure
   the net is left as it was. */
static dd_status layer_commit(dd_net *net, dd_net_layer *l, int n_shapes, const int ranks[2],
                              const int shapes[2][4], dd_error *err) {
  int layer = net->n_layers;
  size_t total = (size_t)l->out_h * l->out_w * l->out_c;
  if (l->out_h <= 0 || l->out_w <= 0 || l->out_c <= 0 || total > ((size_t)1 << 28))
    return dd_fail(err, DD_ERR_SHAPE, "layer '%s': output %dx%dx%d is empty or too large", l->name, l->out_h,
                   l->out_w, l->out_c);
  l->out_size = total;
  net->n_layers++; /* add_param reads the layer's name */
  for (int i = 0; i < n_shapes; i++) {
    dd_status s = add_param(net, layer, i == 0 ? "kernel" : "bias", ranks[i], shapes[i], err);
    if (s != DD_OK) {
      while (net->n_params > l->param0) {
        dd_net_param *p = &net->params[--net->n_params];
        dd_aligned_free(p->value);
        dd_aligned_free(p->grad);
        dd_aligned_free(p->m);
        dd_aligned_free(p->v);
      }
      net->n_layers--;
      return s;
    }
  }
  l->n_params = n_shapes;
  l->cw_stale = 1;
  return DD_OK;
}

static dd_status check_activation(dd_activation a, dd_error *err) {
  if (a != DD_ACTIVATION_LINEAR && a != DD_ACTIVATION_RELU && a != DD_ACTIVATION_SOFTMAX)
    return dd_fail(err, DD_ERR_UNSUPPORTED, "unknown activation %d", (int)a);
  return DD_OK;
}

dd_status dd_net_add_dense(dd_net *net, const char *name, int units, dd_activation activation, int use_bias,
                           dd_error *err) {
  if (check_activation(activation, err) != DD_OK) return err ? err->status : DD_ERR_UNSUPPORTED;
  if (units <= 0 || units > (1 << 24))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dense '%s': units must be in 1..16777216, not %d",
                   name ? name : "?", units);
  dd_net_layer *l = layer_begin(net, DD_LAYER_DENSE, name, err);
  if (!l) return err ? err->status : DD_ERR_INVALID_ARGUMENT;
  l->act = activation;
  l->use_bias = use_bias != 0;
  l->out_rank = l->in_rank;
  l->out_h = l->in_h;
  l->out_w = l->in_w;
  l->out_c = units;
  const int ranks[2] = {2, 1};
  const int shapes[2][4] = {{l->in_c, units, 0, 0}, {units, 0, 0, 0}};
  return layer_commit(net, l, l->use_bias ? 2 : 1, ranks, shapes, err);
}

dd_status dd_net_add_dropout(dd_net *net, const char *name, double rate, dd_error *err) {
  if (!(rate >= 0.0 && rate < 1.0))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dropout '%s': rate must be in [0, 1), not %g", name ? name : "?",
                   rate);
  dd_net_layer *l = layer_begin(net, DD_LAYER_DROPOUT, name, err);
  if (!l) return err ? err->status : DD_ERR_INVALID_ARGUMENT;
  l->rate = rate;
  l->out_rank = l->in_rank;
  l->out_h = l->in_h;
  l->out_w = l->in_w;
  l->out_c = l->in_c;
  return layer_commit(net, l, 0, NULL, NULL, err);
}

static dd_status window_out(dd_net_layer *l, const dd_window *win, dd_error *err) {
  dd_window_shape ws;
  dd_error e;
  if (dd_window_shape_init(win, 1, l->in_h, l->in_w, &ws, &e) != DD_OK)
    return dd_fail(err, DD_ERR_SHAPE, "layer '%s': %s", l->name, e.message);
  l->out_h = ws.out_h;
  l->out_w = ws.out_w;
  return DD_OK;
}

static int window_ok(int kh, int kw, int sh, int sw, int padding) {
  return kh > 0 && kw > 0 && sh > 0 && sw > 0 && kh <= 4096 && kw <= 4096 && sh <= 4096 && sw <= 4096 &&
         (padding == DD_NET_PADDING_VALID || padding == DD_NET_PADDING_SAME);
}

dd_status dd_net_add_conv2d(dd_net *net, const char *name, int filters, int kernel_h, int kernel_w, int stride_h,
                            int stride_w, dd_net_padding padding, dd_activation activation, int use_bias,
                            dd_error *err) {
  if (check_activation(activation, err) != DD_OK) return err ? err->status : DD_ERR_UNSUPPORTED;
  if (filters <= 0 || filters > (1 << 20) || !window_ok(kernel_h, kernel_w, stride_h, stride_w, (int)padding))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "conv2d '%s': bad filters %d, kernel %dx%d, strides %dx%d or padding %d",
                   name ? name : "?", filters, kernel_h, kernel_w, stride_h, stride_w, (int)padding);
  if (net) {
    int rank, h, w, c;
    current_shape(net, &rank, &h, &w, &c);
    if (rank != 3)
      return dd_fail(err, DD_ERR_SHAPE, "conv2d '%s' needs a height x width x channels input, not a vector of %d",
                     name ? name : "?", c);
  }
  dd_net_layer *l = layer_begin(net, DD_LAYER_CONV2D, name, err);
  if (!l) return err ? err->status : DD_ERR_INVALID_ARGUMENT;
  l->act = activation;
  l->use_bias = use_bias != 0;
  l->conv.win.k_h = kernel_h;
  l->conv.win.k_w = kernel_w;
  l->conv.win.stride_h = stride_h;
  l->conv.win.stride_w = stride_w;
  l->conv.win.padding = padding == DD_NET_PADDING_SAME ? DD_PADDING_SAME : DD_PADDING_VALID;
  l->conv.in_c = l->in_c;
  l->conv.out_c = filters;
  dd_status s = window_out(l, &l->conv.win, err);
  if (s != DD_OK) return s;
  l->out_rank = 3;
  l->out_c = filters;
  const int ranks[2] = {4, 1};
  const int shapes[2][4] = {{kernel_h, kernel_w, l->in_c, filters}, {filters, 0, 0, 0}};
  return layer_commit(net, l, l->use_bias ? 2 : 1, ranks, shapes, err);
}

dd_status dd_net_add_max_pool2d(dd_net *net, const char *name, int pool_h, int pool_w, int stride_h, int stride_w,
                                dd_net_padding padding, dd_error *err) {
  if (!window_ok(pool_h, pool_w, stride_h, stride_w, (int)padding))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "max_pooling2d '%s': bad pool %dx%d, strides %dx%d or padding %d",
                   name ? name : "?", pool_h, pool_w, stride_h, stride_w, (int)padding);
  if (net) {
    int rank, h, w, c;
    current_shape(net, &rank, &h, &w, &c);
    if (rank != 3)
      return dd_fail(err, DD_ERR_SHAPE, "max_pooling2d '%s' needs a height x width x channels input, not a vector of %d",
                     name ? name : "?", c);
  }
  dd_net_layer *l = layer_begin(net, DD_LAYER_MAX_POOL2D, name, err);
  if (!l) return err ? err->status : DD_ERR_INVALID_ARGUMENT;
  l->win.k_h = pool_h;
  l->win.k_w = pool_w;
  l->win.stride_h = stride_h;
  l->win.stride_w = stride_w;
  l->win.padding = padding == DD_NET_PADDING_SAME ? DD_PADDING_SAME : DD_PADDING_VALID;
  dd_status s = window_out(l, &l->win, err);
  if (s != DD_OK) return s;
  l->out_rank = 3;
  l->out_c = l->in_c;
  return layer_commit(net, l, 0, NULL, NULL, err);
}

dd_status dd_net_add_flatten(dd_net *net, const char *name, dd_error *err) {
  dd_net_layer *l = layer_begin(net, DD_LAYER_FLATTEN, name, err);
  if (!l) return err ? err->status : DD_ERR_INVALID_ARGUMENT;
  l->out_rank = 1;
  l->out_h = 1;
  l->out_w = 1;
  l->out_c = (int)l->in_size;
  return layer_commit(net, l, 0, NULL, NULL, err);
}

/* ---- queries ------------------------------------------------------------------ */

int dd_net_layer_count(const dd_net *net) { return net ? net->n_layers : 0; }

dd_status dd_net_get_layer_info(const dd_net *net, int index, dd_net_layer_info *out, dd_error *err) {
  if (!net || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (index < 0 || index >= net->n_layers)
    return dd_fail(err, DD_ERR_NOT_FOUND, "layer %d does not exist (the net has %d)", index, net->n_layers);
  const dd_net_layer *l = &net->layers[index];
  dd_net_layer_info li;
  memset(&li, 0, sizeof li);
  li.name = l->name;
  li.kind = l->kind;
  li.activation = l->act;
  li.out_rank = l->out_rank;
  if (l->out_rank == 3) {
    li.out_shape[0] = l->out_h;
    li.out_shape[1] = l->out_w;
    li.out_shape[2] = l->out_c;
  } else {
    li.out_shape[0] = l->out_c;
  }
  li.first_param = l->param0;
  li.n_params = l->n_params;
  for (int i = 0; i < l->n_params; i++) li.param_count += net->params[l->param0 + i].count;
  *out = li;
  return DD_OK;
}

size_t dd_net_input_size(const dd_net *net) { return net ? net->in_size : 0; }
size_t dd_net_output_size(const dd_net *net) {
  if (!net) return 0;
  return net->n_layers ? net->layers[net->n_layers - 1].out_size : net->in_size;
}

int dd_net_param_count(const dd_net *net) { return net ? net->n_params : 0; }

dd_status dd_net_get_param_info(const dd_net *net, int index, dd_net_param_info *out, dd_error *err) {
  if (!net || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (index < 0 || index >= net->n_params)
    return dd_fail(err, DD_ERR_NOT_FOUND, "parameter %d does not exist (the net has %d)", index, net->n_params);
  const dd_net_param *p = &net->params[index];
  dd_net_param_info pi;
  memset(&pi, 0, sizeof pi);
  pi.name = p->name;
  pi.layer = p->layer;
  pi.rank = p->rank;
  memcpy(pi.shape, p->shape, sizeof pi.shape);
  pi.count = p->count;
  pi.value = p->value;
  pi.m = p->m;
  pi.v = p->v;
  *out = pi;
  return DD_OK;
}

void dd_net_params_changed(dd_net *net, int param_index) {
  if (param_index < 0) {
    for (int i = 0; i < net->n_layers; i++) net->layers[i].cw_stale = 1;
  } else {
    net->layers[net->params[param_index].layer].cw_stale = 1;
  }
}

dd_status dd_net_param_set(dd_net *net, int index, dd_param_slot slot, const float *data, size_t count,
                           dd_error *err) {
  if (!net || (!data && count)) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (index < 0 || index >= net->n_params)
    return dd_fail(err, DD_ERR_NOT_FOUND, "parameter %d does not exist (the net has %d)", index, net->n_params);
  dd_net_param *p = &net->params[index];
  if (count != p->count)
    return dd_fail(err, DD_ERR_SHAPE, "parameter %s has %zu values, %zu were given", p->name, p->count, count);
  float *dst = slot == DD_PARAM_VALUE ? p->value : slot == DD_PARAM_ADAM_M ? p->m : slot == DD_PARAM_ADAM_V ? p->v : NULL;
  if (!dst) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "unknown parameter slot %d", (int)slot);
  for (size_t i = 0; i < count; i++) {
    if (!isfinite(data[i]))
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "parameter %s: value %zu is not finite", p->name, i);
    if (slot == DD_PARAM_ADAM_V && data[i] < 0.0f)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "parameter %s: Adam v[%zu] is negative", p->name, i);
  }
  memcpy(dst, data, count * sizeof(float));
  if (slot == DD_PARAM_VALUE) dd_net_params_changed(net, index);
  return DD_OK;
}

dd_status dd_net_init_params(dd_net *net, uint64_t seed, dd_error *err) {
  if (!net) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL net");
  dd_rng r;
  dd_rng_seed(&r, seed);
  for (int li = 0; li < net->n_layers; li++) {
    const dd_net_layer *l = &net->layers[li];
    for (int j = 0; j < l->n_params; j++) {
      dd_net_param *p = &net->params[l->param0 + j];
      if (j == 0) {
        /* Glorot uniform: fans as Keras computes them (receptive field times channels). */
        double receptive = 1.0;
        for (int d = 0; d < p->rank - 2; d++) receptive *= p->shape[d];
        double fan_in = receptive * p->shape[p->rank - 2], fan_out = receptive * p->shape[p->rank - 1];
        float limit = (float)sqrt(6.0 / (fan_in + fan_out));
        for (size_t i = 0; i < p->count; i++) p->value[i] = (2.0f * dd_rng_uniform(&r) - 1.0f) * limit;
      } else {
        memset(p->value, 0, p->count * sizeof(float));
      }
      memset(p->m, 0, p->count * sizeof(float));
      memset(p->v, 0, p->count * sizeof(float));
    }
  }
  net->iterations = 0;
  dd_net_params_changed(net, -1);
  return DD_OK;
}

dd_status dd_net_compile(dd_net *net, const dd_train_options *opt, dd_error *err) {
  if (!net || !opt) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (!(opt->learning_rate > 0 && opt->learning_rate < 1e6 && isfinite(opt->learning_rate)))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "learning rate must be positive and finite, not %g", opt->learning_rate);
  if (!(opt->beta1 >= 0 && opt->beta1 < 1) || !(opt->beta2 >= 0 && opt->beta2 < 1))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "Adam betas must be in [0, 1), not %g and %g", opt->beta1, opt->beta2);
  if (!(opt->epsilon > 0 && isfinite(opt->epsilon)))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "Adam epsilon must be positive, not %g", opt->epsilon);
  if (net->n_layers == 0) return dd_fail(err, DD_ERR_SHAPE, "the net has no layers");
  net->topt = *opt;
  net->topt.from_logits = opt->from_logits != 0;
  net->compiled = 1;
  return DD_OK;
}

int64_t dd_net_iterations(const dd_net *net) { return net ? net->iterations : 0; }

dd_status dd_net_set_iterations(dd_net *net, int64_t iterations, dd_error *err) {
  if (!net) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL net");
  if (iterations < 0 || iterations > ((int64_t)1 << 53))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "iterations must be in 0..2^53, not %lld", (long long)iterations);
  net->iterations = iterations;
  return DD_OK;
}

void dd_net_seed(dd_net *net, uint64_t seed) {
  if (net) dd_rng_seed(&net->rng, seed);
}

void dd_net_rng_state(const dd_net *net, uint64_t state[4]) {
  if (net && state) memcpy(state, net->rng.s, sizeof net->rng.s);
}

dd_status dd_net_set_rng_state(dd_net *net, const uint64_t state[4], dd_error *err) {
  if (!net || !state) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if ((state[0] | state[1] | state[2] | state[3]) == 0)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "an all-zero RNG state is invalid");
  memcpy(net->rng.s, state, sizeof net->rng.s);
  return DD_OK;
}

dd_status dd_net_shuffle(dd_net *net, int32_t *perm, int64_t n, dd_error *err) {
  if (!net || (!perm && n)) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL argument");
  if (n < 0 || n > INT32_MAX) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "cannot shuffle %lld samples", (long long)n);
  for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = dd_rng_randint(&net->rng, 0, i);
    int32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return DD_OK;
}

/* ---- workspace ------------------------------------------------------------------ */

static size_t round64(size_t bytes) { return (bytes + DD_EXTRA_BYTES + 63) & ~(size_t)63; }

/* The next n floats of the block (sizes were checked when the block was sized). */
static float *take(unsigned char *block, size_t *off, size_t n) {
  float *p = (float *)(void *)(block + *off);
  *off += round64(n * sizeof(float));
  return p;
}

dd_status dd_net_reserve(dd_net *net, int batch, dd_error *err) {
  if (batch <= 0) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "batch size must be positive, not %d", batch);
  if (batch <= net->ws_batch) return DD_OK;
  ws_free(net);
  size_t B = (size_t)batch, maxsz = net->in_size, total = 0, bytes;
  for (int i = 0; i < net->n_layers; i++)
    if (net->layers[i].out_size > maxsz) maxsz = net->layers[i].out_size;
  /* Sizes: input, 2 gradients, per layer act/pre/mask. Overflow-checked. */
#define DD_ADD_BUF(n_floats)                                                              \
  do {                                                                                    \
    if (!dd_mul_size(B, (n_floats), &bytes) || !dd_mul_size(bytes, sizeof(float), &bytes) || \
        (n_floats) * B > (size_t)INT32_MAX)                                               \
      return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "a batch of %d samples needs too much memory", batch); \
    if (total + round64(bytes) < total)                                                   \
      return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "a batch of %d samples needs too much memory", batch); \
    total += round64(bytes);                                                              \
  } while (0)
  DD_ADD_BUF(net->in_size);
  DD_ADD_BUF(maxsz);
  DD_ADD_BUF(maxsz);
  for (int i = 0; i < net->n_layers; i++) {
    const dd_net_layer *l = &net->layers[i];
    if (l->kind != DD_LAYER_FLATTEN) DD_ADD_BUF(l->out_size);
    if (l->act == DD_ACTIVATION_SOFTMAX) DD_ADD_BUF(l->out_size);
    if (l->kind == DD_LAYER_DROPOUT) DD_ADD_BUF(l->out_size);
  }
#undef DD_ADD_BUF
  unsigned char *block = (unsigned char *)dd_aligned_calloc(total);
  int *labels = (int *)malloc(B * sizeof(int));
  if (!block || !labels) {
    dd_aligned_free(block);
    free(labels);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory for a batch of %d samples (%zu bytes)", batch, total);
  }
  size_t off = 0;
  net->ws_block = (float *)(void *)block;
  net->ws_labels = labels;
  net->ws_input = take(block, &off, B * net->in_size);
  net->ws_grad[0] = take(block, &off, B * maxsz);
  net->ws_grad[1] = take(block, &off, B * maxsz);
  for (int i = 0; i < net->n_layers; i++) {
    dd_net_layer *l = &net->layers[i];
    l->y = l->kind != DD_LAYER_FLATTEN ? take(block, &off, B * l->out_size) : NULL;
    l->z = l->act == DD_ACTIVATION_SOFTMAX ? take(block, &off, B * l->out_size) : NULL;
    l->mask = l->kind == DD_LAYER_DROPOUT ? take(block, &off, B * l->out_size) : NULL;
  }
  net->ws_batch = batch;
  return DD_OK;
}
