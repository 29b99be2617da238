/* test_train.c — the training core (src/train) against an independent
 * double-precision reference.
 *
 * The reference below re-implements every layer, activation and loss from the
 * Keras/TensorFlow definitions in double, reading only the net's public
 * description (dd_net_get_layer_info / dd_net_get_param_info) and, for Dropout,
 * the mask the last training pass drew. Each check:
 *   1. runs dd_net_compute_gradients (float, the backend's kernels);
 *   2. checks the reference loss equals the net's loss;
 *   3. checks every weight and bias gradient, and the input gradient, against
 *      central finite differences of the reference loss in double.
 * Then: Adam against Keras' formula, Glorot-uniform statistics, learning on
 * clusters, bit-identical resume from saved state, and error statuses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "train/net.h"

/* ---- the double-precision reference ------------------------------------------ */

typedef struct ref_layer {
  dd_net_layer_info info;
  int in_h, in_w, in_c, out_h, out_w, out_c; /* rank 1: h = w = 1 */
  int kh, kw, sh, sw, same;                  /* conv / pool window */
  double rate;
  double *kernel, *bias;                     /* copies of the net's parameters */
  size_t kernel_n, bias_n;
  double *mask;                              /* dropout: the net's last mask (count * size) */
} ref_layer;

typedef struct ref_net {
  int n;
  ref_layer *l;
  int from_logits;
  int count; /* batch */
} ref_net;

/* TF geometry: SAME out = ceil(in/s), pad_before = floor(total/2); VALID out = floor((in-k)/s)+1. */
static int ref_axis(int in, int k, int s, int same, int *pad) {
  if (same) {
    int out = (in + s - 1) / s;
    int total = (out - 1) * s + k - in;
    *pad = total > 0 ? total / 2 : 0;
    return out;
  }
  *pad = 0;
  return (in - k) / s + 1;
}

static double *dcopy(const float *x, size_t n) {
  double *d = (double *)malloc((n ? n : 1) * sizeof(double));
  for (size_t i = 0; i < n; i++) d[i] = x[i];
  return d;
}

/* Builds the reference from the net, with the net's `count`-sample masks. */
static void ref_build(ref_net *r, const dd_net *net, int count, int with_masks) {
  r->n = dd_net_layer_count(net);
  r->l = (ref_layer *)calloc((size_t)r->n, sizeof(ref_layer));
  r->from_logits = net->topt.from_logits;
  r->count = count;
  int h = net->in_h, w = net->in_w, c = net->in_c;
  for (int i = 0; i < r->n; i++) {
    ref_layer *L = &r->l[i];
    CHECK_OK(dd_net_get_layer_info(net, i, &L->info, NULL));
    const dd_net_layer *nl = &net->layers[i];
    L->in_h = h;
    L->in_w = w;
    L->in_c = c;
    if (L->info.out_rank == 3) {
      L->out_h = L->info.out_shape[0];
      L->out_w = L->info.out_shape[1];
      L->out_c = L->info.out_shape[2];
    } else {
      L->out_h = L->out_w = 1;
      L->out_c = L->info.out_shape[0];
    }
    if (L->info.kind == DD_LAYER_DENSE && nl->in_rank == 3) {
      L->out_h = nl->out_h; /* Dense on the last axis keeps h, w */
      L->out_w = nl->out_w;
    }
    if (L->info.kind == DD_LAYER_CONV2D) {
      L->kh = nl->conv.win.k_h; L->kw = nl->conv.win.k_w;
      L->sh = nl->conv.win.stride_h; L->sw = nl->conv.win.stride_w;
      L->same = nl->conv.win.padding == DD_PADDING_SAME;
    } else if (L->info.kind == DD_LAYER_MAX_POOL2D) {
      L->kh = nl->win.k_h; L->kw = nl->win.k_w;
      L->sh = nl->win.stride_h; L->sw = nl->win.stride_w;
      L->same = nl->win.padding == DD_PADDING_SAME;
    }
    L->rate = nl->rate;
    for (int j = 0; j < L->info.n_params; j++) {
      dd_net_param_info pi;
      CHECK_OK(dd_net_get_param_info(net, L->info.first_param + j, &pi, NULL));
      if (j == 0) { L->kernel = dcopy(pi.value, pi.count); L->kernel_n = pi.count; }
      else { L->bias = dcopy(pi.value, pi.count); L->bias_n = pi.count; }
    }
    if (L->info.kind == DD_LAYER_DROPOUT && with_masks && nl->rate > 0)
      L->mask = dcopy(nl->mask, (size_t)count * nl->out_size);
    if (L->info.kind == DD_LAYER_FLATTEN) {
      h = w = 1;
      c = L->out_c;
    } else {
      h = L->out_h;
      w = L->out_w;
      c = L->out_c;
    }
  }
}

static void ref_free(ref_net *r) {
  for (int i = 0; i < r->n; i++) {
    free(r->l[i].kernel);
    free(r->l[i].bias);
    free(r->l[i].mask);
  }
  free(r->l);
}

static void ref_softmax(double *z, int c) {
  double m = z[0], s = 0;
  for (int j = 1; j < c; j++) m = z[j] > m ? z[j] : m;
  for (int j = 0; j < c; j++) s += exp(z[j] - m);
  for (int j = 0; j < c; j++) z[j] = exp(z[j] - m) / s;
}

static double ref_lse(const double *z, int c) {
  double m = z[0], s = 0;
  for (int j = 1; j < c; j++) m = z[j] > m ? z[j] : m;
  for (int j = 0; j < c; j++) s += exp(z[j] - m);
  return m + log(s);
}

/* Mean loss over the batch for input x (count * in_size doubles). */
static double ref_loss(const ref_net *r, const double *x, const int32_t *labels) {
  const int B = r->count;
  size_t n = (size_t)B * r->l[0].in_h * r->l[0].in_w * r->l[0].in_c;
  double *cur = (double *)malloc(n * sizeof(double));
  memcpy(cur, x, n * sizeof(double));
  double *logits = NULL;
  for (int i = 0; i < r->n; i++) {
    const ref_layer *L = &r->l[i];
    size_t on = (size_t)B * L->out_h * L->out_w * L->out_c;
    double *out = (double *)calloc(on ? on : 1, sizeof(double));
    switch (L->info.kind) {
      case DD_LAYER_DENSE: {
        size_t rows = (size_t)B * L->in_h * L->in_w;
        for (size_t rr = 0; rr < rows; rr++)
          for (int u = 0; u < L->out_c; u++) {
            double s = L->bias ? L->bias[u] : 0.0;
            for (int k = 0; k < L->in_c; k++) s += cur[rr * L->in_c + k] * L->kernel[(size_t)k * L->out_c + u];
            out[rr * L->out_c + u] = s;
          }
        break;
      }
      case DD_LAYER_CONV2D: {
        int pt, pl;
        ref_axis(L->in_h, L->kh, L->sh, L->same, &pt);
        ref_axis(L->in_w, L->kw, L->sw, L->same, &pl);
        for (int b = 0; b < B; b++)
          for (int oh = 0; oh < L->out_h; oh++)
            for (int ow = 0; ow < L->out_w; ow++)
              for (int co = 0; co < L->out_c; co++) {
                double s = L->bias ? L->bias[co] : 0.0;
                for (int a = 0; a < L->kh; a++)
                  for (int e = 0; e < L->kw; e++) {
                    int ih = oh * L->sh - pt + a, iw = ow * L->sw - pl + e;
                    if (ih < 0 || ih >= L->in_h || iw < 0 || iw >= L->in_w) continue;
                    for (int ci = 0; ci < L->in_c; ci++)
                      s += cur[(((size_t)b * L->in_h + ih) * L->in_w + iw) * L->in_c + ci] *
                           L->kernel[(((size_t)a * L->kw + e) * L->in_c + ci) * L->out_c + co];
                  }
                out[(((size_t)b * L->out_h + oh) * L->out_w + ow) * L->out_c + co] = s;
              }
        break;
      }
      case DD_LAYER_MAX_POOL2D: {
        int pt, pl;
        ref_axis(L->in_h, L->kh, L->sh, L->same, &pt);
        ref_axis(L->in_w, L->kw, L->sw, L->same, &pl);
        for (int b = 0; b < B; b++)
          for (int oh = 0; oh < L->out_h; oh++)
            for (int ow = 0; ow < L->out_w; ow++)
              for (int ch = 0; ch < L->out_c; ch++) {
                double m = -INFINITY;
                for (int a = 0; a < L->kh; a++)
                  for (int e = 0; e < L->kw; e++) {
                    int ih = oh * L->sh - pt + a, iw = ow * L->sw - pl + e;
                    if (ih < 0 || ih >= L->in_h || iw < 0 || iw >= L->in_w) continue;
                    double v = cur[(((size_t)b * L->in_h + ih) * L->in_w + iw) * L->in_c + ch];
                    if (v > m) m = v;
                  }
                out[(((size_t)b * L->out_h + oh) * L->out_w + ow) * L->out_c + ch] = m;
              }
        break;
      }
      case DD_LAYER_DROPOUT:
        for (size_t j = 0; j < on; j++) out[j] = cur[j] * (L->mask ? L->mask[j] : 1.0);
        break;
      case DD_LAYER_FLATTEN:
        memcpy(out, cur, on * sizeof(double));
        break;
    }
    if (i == r->n - 1 && L->info.activation == DD_ACTIVATION_SOFTMAX) {
      logits = (double *)malloc(on * sizeof(double));
      memcpy(logits, out, on * sizeof(double));
    }
    if (L->info.activation == DD_ACTIVATION_RELU)
      for (size_t j = 0; j < on; j++) out[j] = out[j] > 0 ? out[j] : 0;
    else if (L->info.activation == DD_ACTIVATION_SOFTMAX)
      for (size_t j = 0; j < on; j += (size_t)L->out_c) ref_softmax(out + j, L->out_c);
    free(cur);
    cur = out;
  }
  const ref_layer *last = &r->l[r->n - 1];
  const int C = last->out_c;
  double loss = 0;
  for (int b = 0; b < B; b++) {
    const double *o = cur + (size_t)b * C;
    int y = labels[b];
    if (r->from_logits) {
      loss += ref_lse(o, C) - o[y];
    } else if (last->info.activation == DD_ACTIVATION_SOFTMAX) {
      const double *z = logits + (size_t)b * C; /* TF2 Keras: softmax output -> logits */
      loss += ref_lse(z, C) - z[y];
    } else {
      double S = 0;
      for (int j = 0; j < C; j++) S += o[j];
      double q = o[y] / S;
      if (q < 1e-7) q = 1e-7;
      if (q > 1 - 1e-7) q = 1 - 1e-7;
      loss += -log(q);
    }
  }
  free(cur);
  free(logits);
  return loss / B;
}

/* ---- gradient checks ------------------------------------------------------------- */

/* Compares the net's gradients (after dd_net_compute_gradients on x, labels)
   with central differences of the reference loss; checks at most `max_each`
   coordinates per tensor (spread over the tensor). */
static void check_gradients(dd_net *net, const float *x, const int32_t *labels, int count, int training,
                            int max_each, const char *what) {
  size_t in_size = dd_net_input_size(net);
  float *dx = test_alloc((size_t)count * in_size);
  dd_batch_result res;
  dd_error err = {0};
  dd_status s = dd_net_compute_gradients(net, x, labels, count, NULL, count, training, &res, dx, &err);
  CHECKF(s == DD_OK, "%s: compute_gradients: %s", what, err.message);
  if (s != DD_OK) { free(dx); return; }
  ref_net r;
  ref_build(&r, net, count, training);
  double *xd = dcopy(x, (size_t)count * in_size);
  double L0 = ref_loss(&r, xd, labels);
  CHECKF(fabs(L0 - res.loss_sum / count) <= 1e-5 * (1 + fabs(L0)), "%s: loss %.9g, reference %.9g", what,
         res.loss_sum / count, L0);
  const double h = 1e-6;
  int checked = 0, bad = 0;
  /* parameters */
  for (int li = 0; li < r.n; li++) {
    ref_layer *L = &r.l[li];
    for (int j = 0; j < L->info.n_params; j++) {
      const dd_net_param *p = &net->params[L->info.first_param + j];
      double *v = j == 0 ? L->kernel : L->bias;
      size_t n = j == 0 ? L->kernel_n : L->bias_n;
      size_t step = n > (size_t)max_each ? n / (size_t)max_each : 1;
      for (size_t i = 0; i < n; i += step) {
        double old = v[i];
        v[i] = old + h;
        double lp = ref_loss(&r, xd, labels);
        v[i] = old - h;
        double lm = ref_loss(&r, xd, labels);
        v[i] = old;
        double fd = (lp - lm) / (2 * h), got = p->grad[i];
        checked++;
        if (!(fabs(got - fd) <= 2e-5 + 2e-3 * fabs(fd))) {
          if (bad++ < 5) test_fail_at(__FILE__, __LINE__, "%s: d/d %s[%zu] = %.8g, finite difference %.8g", what, p->name, i, got, fd);
        }
      }
    }
  }
  /* input */
  size_t nx = (size_t)count * in_size;
  size_t step = nx > (size_t)max_each ? nx / (size_t)max_each : 1;
  for (size_t i = 0; i < nx; i += step) {
    double old = xd[i];
    xd[i] = old + h;
    double lp = ref_loss(&r, xd, labels);
    xd[i] = old - h;
    double lm = ref_loss(&r, xd, labels);
    xd[i] = old;
    double fd = (lp - lm) / (2 * h);
    checked++;
    if (!(fabs(dx[i] - fd) <= 2e-5 + 2e-3 * fabs(fd))) {
      if (bad++ < 10) test_fail_at(__FILE__, __LINE__, "%s: d/d input[%zu] = %.8g, finite difference %.8g", what, i, dx[i], fd);
    }
  }
  CHECKF(bad == 0, "%s: %d of %d gradient values disagree", what, bad, checked);
  CHECK(checked > 20);
  free(xd);
  ref_free(&r);
  free(dx);
}

static dd_net *make_net(dd_backend backend, int rank, const int *shape) {
  dd_net_options o;
  dd_net_options_init(&o);
  o.backend = backend;
  dd_net *net = NULL;
  CHECK_OK(dd_net_create(rank, shape, &o, &net, NULL));
  return net;
}

static void compile_net(dd_net *net, int from_logits) {
  dd_train_options t;
  dd_train_options_init(&t);
  t.from_logits = from_logits;
  CHECK_OK(dd_net_compile(net, &t, NULL));
}

static void random_data(uint64_t seed, float *x, size_t n, int32_t *labels, int count, int classes) {
  test_rng r;
  test_rng_seed(&r, seed);
  test_fill(&r, x, n, -1.0f, 1.0f);
  for (int i = 0; i < count; i++) labels[i] = test_randint(&r, 0, classes - 1);
}

/* Randomises biases too (Keras starts them at zero, which hides bias bugs). */
static void randomize_params(dd_net *net, uint64_t seed) {
  CHECK_OK(dd_net_init_params(net, seed, NULL));
  test_rng r;
  test_rng_seed(&r, seed + 99);
  for (int i = 0; i < net->n_params; i++)
    if (net->params[i].rank == 1) test_fill(&r, net->params[i].value, net->params[i].count, -0.3f, 0.3f);
  dd_net_params_changed(net, -1);
}

/* Every backend compiled in (XNNPACK natively when present). */
static const dd_backend backends[] = {DD_BACKEND_REFERENCE, DD_BACKEND_SIMD128, DD_BACKEND_XNNPACK};

/* Dense(relu) -> Dropout -> Dense(softmax), the tutorial's model in small:
   loss from probabilities, i.e. the fused softmax path; dropout in training
   mode with the drawn mask. */
static void test_dense_dropout_softmax(void) {
  for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
    if (!dd_backend_available(backends[b])) continue;
    const int in = 9, B = 7;
    dd_net *net = make_net(backends[b], 1, &in);
    CHECK_OK(dd_net_add_dense(net, "dense", 12, DD_ACTIVATION_RELU, 1, NULL));
    CHECK_OK(dd_net_add_dropout(net, "dropout", 0.3, NULL));
    CHECK_OK(dd_net_add_dense(net, "dense_1", 5, DD_ACTIVATION_SOFTMAX, 1, NULL));
    compile_net(net, 0);
    randomize_params(net, 3);
    dd_net_seed(net, 17);
    float x[9 * 7];
    int32_t y[7];
    random_data(5, x, sizeof x / sizeof *x, y, B, 5);
    check_gradients(net, x, y, B, 1, 1000, dd_backend_name(backends[b]));
    /* the mask zeroes about 30% and scales the rest by 1/0.7 */
    const dd_net_layer *d = &net->layers[1];
    int zeros = 0;
    for (int i = 0; i < B * 12; i++) {
      CHECK(d->mask[i] == 0.0f || d->mask[i] == (float)(1.0 / 0.7));
      zeros += d->mask[i] == 0.0f;
    }
    CHECKF(zeros > 8 && zeros < 45, "%d of 84 dropped", zeros);
    /* inference mode: dropout is the identity */
    check_gradients(net, x, y, B, 0, 1000, "dense/dropout/softmax inference");
    dd_net_free(net);
  }
}

/* from_logits = 1 on a linear output; from_logits = 0 on a non-softmax output
   (the normalise-and-clip path), which also exercises softmax's backward. */
static void test_losses(void) {
  for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
    if (!dd_backend_available(backends[b])) continue;
    const int in = 6, B = 5;
    float x[6 * 5];
    int32_t y[5];
    random_data(8, x, sizeof x / sizeof *x, y, B, 4);
    dd_net *net = make_net(backends[b], 1, &in);
    CHECK_OK(dd_net_add_dense(net, "dense", 8, DD_ACTIVATION_RELU, 1, NULL));
    CHECK_OK(dd_net_add_dense(net, "logits", 4, DD_ACTIVATION_LINEAR, 1, NULL));
    compile_net(net, 1);
    randomize_params(net, 4);
    check_gradients(net, x, y, B, 1, 1000, "from_logits=true");
    dd_net_free(net);

    net = make_net(backends[b], 1, &in);
    CHECK_OK(dd_net_add_dense(net, "dense", 4, DD_ACTIVATION_SOFTMAX, 1, NULL));
    CHECK_OK(dd_net_add_flatten(net, "flatten", NULL)); /* the last layer is no longer the softmax */
    compile_net(net, 0);
    randomize_params(net, 5);
    check_gradients(net, x, y, B, 1, 1000, "from_logits=false, softmax then flatten");
    dd_net_free(net);

    /* unnormalised outputs: relu scores, and softmax followed by dropout */
    net = make_net(backends[b], 1, &in);
    CHECK_OK(dd_net_add_dense(net, "dense", 4, DD_ACTIVATION_RELU, 1, NULL));
    compile_net(net, 0);
    randomize_params(net, 9);
    for (int i = 0; i < 4; i++) net->params[1].value[i] += 1.5f;
    dd_net_params_changed(net, -1);
    check_gradients(net, x, y, B, 1, 1000, "from_logits=false, relu scores normalised");
    dd_net_free(net);

    net = make_net(backends[b], 1, &in);
    CHECK_OK(dd_net_add_dense(net, "dense", 4, DD_ACTIVATION_SOFTMAX, 1, NULL));
    CHECK_OK(dd_net_add_dropout(net, "dropout", 0.4, NULL));
    compile_net(net, 0);
    randomize_params(net, 10);
    dd_net_seed(net, 4);
    check_gradients(net, x, y, B, 1, 1000, "from_logits=false, softmax then dropout");
    dd_net_free(net);

    /* softmax output and from_logits=true: softmax applied twice, as Keras would */
    net = make_net(backends[b], 1, &in);
    CHECK_OK(dd_net_add_dense(net, "dense", 4, DD_ACTIVATION_SOFTMAX, 0, NULL));
    compile_net(net, 1);
    randomize_params(net, 6);
    check_gradients(net, x, y, B, 1, 1000, "softmax output, from_logits=true");
    dd_net_free(net);
  }
}

/* Conv2D(same, relu) -> MaxPool(2) -> Conv2D(valid, strides 2x1) -> Flatten
   -> Dense(softmax); then overlapping SAME max pooling and a Dense on the
   channels of an image. */
static void test_conv_pool_flatten(void) {
  for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
    if (!dd_backend_available(backends[b])) continue;
    const char *bn = dd_backend_name(backends[b]);
    char what[96];
    {
      const int shape[3] = {9, 8, 2}, B = 3;
      dd_net *net = make_net(backends[b], 3, shape);
      CHECK_OK(dd_net_add_conv2d(net, "conv2d", 4, 3, 3, 1, 1, DD_NET_PADDING_SAME, DD_ACTIVATION_RELU, 1, NULL));
      CHECK_OK(dd_net_add_max_pool2d(net, "max_pooling2d", 2, 2, 2, 2, DD_NET_PADDING_VALID, NULL));
      CHECK_OK(dd_net_add_conv2d(net, "conv2d_1", 3, 2, 3, 2, 1, DD_NET_PADDING_VALID, DD_ACTIVATION_LINEAR, 1, NULL));
      CHECK_OK(dd_net_add_flatten(net, "flatten", NULL));
      CHECK_OK(dd_net_add_dense(net, "dense", 4, DD_ACTIVATION_SOFTMAX, 1, NULL));
      dd_net_layer_info li;
      CHECK_OK(dd_net_get_layer_info(net, 1, &li, NULL));
      CHECK(li.out_rank == 3 && li.out_shape[0] == 4 && li.out_shape[1] == 4 && li.out_shape[2] == 4);
      CHECK_OK(dd_net_get_layer_info(net, 2, &li, NULL));
      CHECK(li.out_shape[0] == 2 && li.out_shape[1] == 2 && li.out_shape[2] == 3);
      CHECK_OK(dd_net_get_layer_info(net, 3, &li, NULL));
      CHECK(li.out_rank == 1 && li.out_shape[0] == 12);
      compile_net(net, 0);
      randomize_params(net, 7);
      float x[9 * 8 * 2 * 3];
      int32_t y[3];
      random_data(9, x, sizeof x / sizeof *x, y, B, 4);
      snprintf(what, sizeof what, "conv/pool/conv/flatten/dense (%s)", bn);
      check_gradients(net, x, y, B, 1, 400, what);
      dd_net_free(net);
    }
    {
      const int shape[3] = {7, 6, 3}, B = 2;
      dd_net *net = make_net(backends[b], 3, shape);
      CHECK_OK(dd_net_add_conv2d(net, "conv2d", 2, 2, 2, 2, 2, DD_NET_PADDING_SAME, DD_ACTIVATION_LINEAR, 0, NULL));
      CHECK_OK(dd_net_add_max_pool2d(net, "max_pooling2d", 3, 3, 2, 2, DD_NET_PADDING_SAME, NULL));
      CHECK_OK(dd_net_add_dense(net, "dense", 5, DD_ACTIVATION_RELU, 1, NULL)); /* on the channel axis */
      CHECK_OK(dd_net_add_flatten(net, "flatten", NULL));
      CHECK_OK(dd_net_add_dropout(net, "dropout", 0.25, NULL));
      CHECK_OK(dd_net_add_dense(net, "dense_1", 3, DD_ACTIVATION_LINEAR, 1, NULL));
      CHECK(net->params[0].rank == 4 && net->layers[0].n_params == 1); /* no bias */
      compile_net(net, 1);
      randomize_params(net, 8);
      dd_net_seed(net, 2);
      float x[7 * 6 * 3 * 2];
      int32_t y[2];
      random_data(10, x, sizeof x / sizeof *x, y, B, 3);
      snprintf(what, sizeof what, "strided conv/overlapping same pool/dense on channels (%s)", bn);
      check_gradients(net, x, y, B, 1, 400, what);
      dd_net_free(net);
    }
  }
}

/* One Adam step equals Keras' formula evaluated in double (to float rounding). */
static void test_adam_step(void) {
  const int in = 4;
  dd_net *net = make_net(DD_BACKEND_AUTO, 1, &in);
  CHECK_OK(dd_net_add_dense(net, "dense", 3, DD_ACTIVATION_SOFTMAX, 1, NULL));
  dd_train_options t;
  dd_train_options_init(&t);
  CHECK(t.learning_rate == 0.001 && t.beta1 == 0.9 && t.beta2 == 0.999 && t.epsilon == 1e-7 && !t.from_logits);
  t.learning_rate = 0.01;
  CHECK_OK(dd_net_compile(net, &t, NULL));
  CHECK_OK(dd_net_init_params(net, 1, NULL));
  float x[4 * 6];
  int32_t y[6];
  random_data(11, x, 24, y, 6, 3);
  for (int step = 0; step < 3; step++) {
    /* state before */
    double w[12], m[12], v[12], g[12];
    CHECK_OK(dd_net_compute_gradients(net, x, y, 6, NULL, 6, 1, NULL, NULL, NULL));
    for (int i = 0; i < 12; i++) {
      w[i] = net->params[0].value[i];
      m[i] = net->params[0].m[i];
      v[i] = net->params[0].v[i];
      g[i] = net->params[0].grad[i];
    }
    dd_batch_result r;
    CHECK_OK(dd_net_train_batch(net, x, y, 6, NULL, 6, &r, NULL));
    double tt = step + 1;
    double lr_t = 0.01 * sqrt(1 - pow(0.999, tt)) / (1 - pow(0.9, tt));
    for (int i = 0; i < 12; i++) {
      double mi = 0.9 * m[i] + 0.1 * g[i], vi = 0.999 * v[i] + 0.001 * g[i] * g[i];
      double wi = w[i] - lr_t * mi / (sqrt(vi) + 1e-7);
      CHECKF(fabs(net->params[0].value[i] - wi) <= 1e-6 * (1 + fabs(wi)), "step %d w[%d] %.9g want %.9g", step, i,
             net->params[0].value[i], wi);
      CHECKF(fabs(net->params[0].m[i] - mi) <= 1e-6 * fabs(mi) + 1e-12, "m[%d]", i);
      CHECKF(fabs(net->params[0].v[i] - vi) <= 1e-5 * fabs(vi) + 1e-14, "v[%d]", i);
    }
    CHECK(dd_net_iterations(net) == step + 1);
  }
  dd_net_free(net);
}

/* Glorot uniform: within +-sqrt(6/(fan_in+fan_out)), variance limit^2/3, zero biases; same seed, same values. */
static void test_glorot_init(void) {
  const int shape[3] = {10, 10, 8};
  dd_net *a = make_net(DD_BACKEND_AUTO, 3, shape);
  CHECK_OK(dd_net_add_conv2d(a, "conv2d", 16, 3, 3, 1, 1, DD_NET_PADDING_SAME, DD_ACTIVATION_RELU, 1, NULL));
  CHECK_OK(dd_net_add_flatten(a, "flatten", NULL));
  CHECK_OK(dd_net_add_dense(a, "dense", 300, DD_ACTIVATION_RELU, 1, NULL));
  CHECK_OK(dd_net_init_params(a, 42, NULL));
  dd_net *b = make_net(DD_BACKEND_AUTO, 3, shape);
  CHECK_OK(dd_net_add_conv2d(b, "conv2d", 16, 3, 3, 1, 1, DD_NET_PADDING_SAME, DD_ACTIVATION_RELU, 1, NULL));
  CHECK_OK(dd_net_add_flatten(b, "flatten", NULL));
  CHECK_OK(dd_net_add_dense(b, "dense", 300, DD_ACTIVATION_RELU, 1, NULL));
  CHECK_OK(dd_net_init_params(b, 42, NULL));
  const double limits[2] = {sqrt(6.0 / (9 * 8 + 9 * 16)), sqrt(6.0 / (1600 + 300))};
  for (int li = 0; li < 2; li++) {
    const dd_net_param *k = &a->params[li * 2], *bias = &a->params[li * 2 + 1];
    double s = 0, s2 = 0, mx = 0;
    for (size_t i = 0; i < k->count; i++) {
      s += k->value[i];
      s2 += (double)k->value[i] * k->value[i];
      if (fabs(k->value[i]) > mx) mx = fabs(k->value[i]);
    }
    double mean = s / k->count, var = s2 / k->count - mean * mean, L = limits[li];
    CHECKF(mx <= L && mx > 0.95 * L, "%s: max |w| %g, limit %g", k->name, mx, L);
    CHECKF(fabs(mean) < 0.05 * L, "%s: mean %g", k->name, mean);
    CHECKF(fabs(var / (L * L / 3) - 1) < 0.05, "%s: variance %g, want %g", k->name, var, L * L / 3);
    for (size_t i = 0; i < bias->count; i++) CHECK(bias->value[i] == 0.0f);
    CHECK(memcmp(k->value, b->params[li * 2].value, k->count * sizeof(float)) == 0);
  }
  CHECK(strcmp(a->params[2].name, "dense/kernel") == 0 && strcmp(a->params[3].name, "dense/bias") == 0);
  CHECK(a->params[2].shape[0] == 1600 && a->params[2].shape[1] == 300);
  CHECK(a->params[0].shape[0] == 3 && a->params[0].shape[2] == 8 && a->params[0].shape[3] == 16);
  CHECK_OK(dd_net_init_params(b, 43, NULL));
  CHECK(memcmp(a->params[0].value, b->params[0].value, a->params[0].count * sizeof(float)) != 0);
  dd_net_free(a);
  dd_net_free(b);
}

/* ---- training on clusters, determinism, resume ------------------------------------ */

enum { CL_IN = 20, CL_CLASSES = 4, CL_N = 240 };

static void clusters(uint64_t seed, float *x, int32_t *y, int n) {
  test_rng r;
  test_rng_seed(&r, 1234); /* centres fixed */
  float centres[CL_CLASSES][CL_IN];
  for (int c = 0; c < CL_CLASSES; c++) test_fill(&r, centres[c], CL_IN, -1.0f, 1.0f);
  test_rng_seed(&r, seed);
  for (int i = 0; i < n; i++) {
    y[i] = test_randint(&r, 0, CL_CLASSES - 1);
    for (int j = 0; j < CL_IN; j++) x[(size_t)i * CL_IN + j] = centres[y[i]][j] + test_uniform(&r, -0.9f, 0.9f);
  }
}

static dd_net *cluster_net(int threads) {
  const int in = CL_IN;
  dd_net_options o;
  dd_net_options_init(&o);
  o.num_threads = threads;
  dd_net *net = NULL;
  CHECK_OK(dd_net_create(1, &in, &o, &net, NULL));
  CHECK_OK(dd_net_add_dense(net, "dense", 32, DD_ACTIVATION_RELU, 1, NULL));
  CHECK_OK(dd_net_add_dropout(net, "dropout", 0.2, NULL));
  CHECK_OK(dd_net_add_dense(net, "dense_1", CL_CLASSES, DD_ACTIVATION_SOFTMAX, 1, NULL));
  compile_net(net, 0);
  CHECK_OK(dd_net_init_params(net, 7, NULL));
  dd_net_seed(net, 99);
  return net;
}

/* One epoch as Keras' fit does it: shuffle, then batches of 32 (the last one smaller). */
static void epoch(dd_net *net, const float *x, const int32_t *y, int n, dd_batch_result *total) {
  int32_t perm[CL_N];
  CHECK_OK(dd_net_shuffle(net, perm, n, NULL));
  memset(total, 0, sizeof *total);
  for (int s = 0; s < n; s += 32) {
    dd_batch_result r;
    dd_error err = {0};
    dd_status st = dd_net_train_batch(net, x, y, n, perm + s, n - s < 32 ? n - s : 32, &r, &err);
    CHECKF(st == DD_OK, "train_batch: %s", err.message);
    total->loss_sum += r.loss_sum;
    total->correct += r.correct;
    total->count += r.count;
  }
}

typedef struct saved_state {
  float *value[8], *m[8], *v[8];
  int64_t iterations;
  uint64_t rng[4];
} saved_state;

static void save_state(const dd_net *net, saved_state *s) {
  for (int i = 0; i < dd_net_param_count(net); i++) {
    dd_net_param_info pi;
    CHECK_OK(dd_net_get_param_info(net, i, &pi, NULL));
    s->value[i] = (float *)malloc(pi.count * sizeof(float));
    memcpy(s->value[i], pi.value, pi.count * sizeof(float));
    s->m[i] = (float *)malloc(pi.count * sizeof(float));
    memcpy(s->m[i], pi.m, pi.count * sizeof(float));
    s->v[i] = (float *)malloc(pi.count * sizeof(float));
    memcpy(s->v[i], pi.v, pi.count * sizeof(float));
  }
  s->iterations = dd_net_iterations(net);
  dd_net_rng_state(net, s->rng);
}

static void test_train_resume(void) {
  float *x = test_alloc((size_t)CL_N * CL_IN), *xt = test_alloc((size_t)CL_N * CL_IN);
  int32_t y[CL_N], yt[CL_N];
  clusters(1, x, y, CL_N);
  clusters(2, xt, yt, CL_N);
  dd_net *a = cluster_net(1);
  dd_batch_result ev0, ev1, tr;
  CHECK_OK(dd_net_evaluate(a, xt, yt, CL_N, 32, &ev0, NULL));
  CHECK(ev0.count == CL_N);
  for (int e = 0; e < 4; e++) epoch(a, x, y, CL_N, &tr);
  saved_state st;
  memset(&st, 0, sizeof st);
  save_state(a, &st);
  for (int e = 4; e < 8; e++) epoch(a, x, y, CL_N, &tr);
  CHECK_OK(dd_net_evaluate(a, xt, yt, CL_N, 32, &ev1, NULL));
  double acc0 = (double)ev0.correct / CL_N, acc1 = (double)ev1.correct / CL_N;
  CHECKF(acc0 < 0.5 && acc1 > 0.9, "accuracy %.3f before, %.3f after training", acc0, acc1);
  CHECKF(ev1.loss_sum < 0.5 * ev0.loss_sum, "loss %.4f -> %.4f", ev0.loss_sum / CL_N, ev1.loss_sum / CL_N);

  /* a fresh net restored from the state after epoch 4 continues bit-identically */
  dd_net *b = cluster_net(2);
  CHECK_OK(dd_net_init_params(b, 12345, NULL)); /* different start: everything must come from the state */
  dd_net_seed(b, 1);
  for (int i = 0; i < dd_net_param_count(b); i++) {
    dd_net_param_info pi;
    CHECK_OK(dd_net_get_param_info(b, i, &pi, NULL));
    CHECK_OK(dd_net_param_set(b, i, DD_PARAM_VALUE, st.value[i], pi.count, NULL));
    CHECK_OK(dd_net_param_set(b, i, DD_PARAM_ADAM_M, st.m[i], pi.count, NULL));
    CHECK_OK(dd_net_param_set(b, i, DD_PARAM_ADAM_V, st.v[i], pi.count, NULL));
  }
  CHECK_OK(dd_net_set_iterations(b, st.iterations, NULL));
  CHECK_OK(dd_net_set_rng_state(b, st.rng, NULL));
  for (int e = 4; e < 8; e++) epoch(b, x, y, CL_N, &tr);
  for (int i = 0; i < dd_net_param_count(a); i++) {
    dd_net_param_info pa, pb;
    CHECK_OK(dd_net_get_param_info(a, i, &pa, NULL));
    CHECK_OK(dd_net_get_param_info(b, i, &pb, NULL));
    CHECKF(memcmp(pa.value, pb.value, pa.count * sizeof(float)) == 0, "%s differs after resume", pa.name);
    CHECKF(memcmp(pa.m, pb.m, pa.count * sizeof(float)) == 0, "%s m differs", pa.name);
    CHECKF(memcmp(pa.v, pb.v, pa.count * sizeof(float)) == 0, "%s v differs", pa.name);
  }
  CHECK(dd_net_iterations(a) == dd_net_iterations(b) && dd_net_iterations(a) == 8 * 8);
  dd_batch_result ev2;
  CHECK_OK(dd_net_evaluate(b, xt, yt, CL_N, 32, &ev2, NULL));
  CHECK(ev2.loss_sum == ev1.loss_sum && ev2.correct == ev1.correct);

  /* predict agrees with evaluate's accuracy and does not depend on the batch size */
  float *p1 = test_alloc((size_t)CL_N * CL_CLASSES), *p7 = test_alloc((size_t)CL_N * CL_CLASSES);
  CHECK_OK(dd_net_predict(a, xt, CL_N, 32, p1, (size_t)CL_N * CL_CLASSES, NULL));
  CHECK_OK(dd_net_predict(a, xt, CL_N, 7, p7, (size_t)CL_N * CL_CLASSES, NULL));
  CHECK(test_close("predict batch 7 vs 32", p7, p1, (size_t)CL_N * CL_CLASSES, 1e-6, 1e-5));
  int correct = 0;
  for (int i = 0; i < CL_N; i++) {
    int best = 0;
    for (int j = 1; j < CL_CLASSES; j++)
      if (p1[i * CL_CLASSES + j] > p1[i * CL_CLASSES + best]) best = j;
    correct += best == yt[i];
    double s = 0;
    for (int j = 0; j < CL_CLASSES; j++) s += p1[i * CL_CLASSES + j];
    CHECK(fabs(s - 1) < 1e-5);
  }
  CHECK(correct == ev1.correct);
  for (int i = 0; i < 8; i++) {
    free(st.value[i]);
    free(st.m[i]);
    free(st.v[i]);
  }
  free(p1);
  free(p7);
  dd_net_free(a);
  dd_net_free(b);
  free(x);
  free(xt);
}

static void test_shuffle(void) {
  const int in = 3;
  dd_net *net = make_net(DD_BACKEND_AUTO, 1, &in);
  dd_net_seed(net, 5);
  int32_t p[1000], q[1000];
  CHECK_OK(dd_net_shuffle(net, p, 1000, NULL));
  int seen[1000] = {0}, fixed = 0;
  for (int i = 0; i < 1000; i++) {
    CHECK(p[i] >= 0 && p[i] < 1000);
    if (p[i] >= 0 && p[i] < 1000) seen[p[i]]++;
    fixed += p[i] == i;
  }
  for (int i = 0; i < 1000; i++) CHECK(seen[i] == 1);
  CHECK(fixed < 10);
  CHECK_OK(dd_net_shuffle(net, q, 1000, NULL));
  CHECK(memcmp(p, q, sizeof p) != 0);
  dd_net_seed(net, 5);
  CHECK_OK(dd_net_shuffle(net, q, 1000, NULL));
  CHECK(memcmp(p, q, sizeof p) == 0);
  dd_net_free(net);
}

static void test_errors(void) {
  dd_error err;
  dd_net *net = NULL;
  const int bad_rank[2] = {3, 4};
  CHECK(dd_net_create(2, bad_rank, NULL, &net, &err) == DD_ERR_SHAPE && net == NULL);
  const int zero = 0;
  CHECK(dd_net_create(1, &zero, NULL, &net, &err) == DD_ERR_SHAPE);
  const int in = 8;
  CHECK_OK(dd_net_create(1, &in, NULL, &net, NULL));
  CHECK(dd_net_add_conv2d(net, "c", 2, 3, 3, 1, 1, DD_NET_PADDING_VALID, DD_ACTIVATION_RELU, 1, &err) == DD_ERR_SHAPE);
  CHECK(strstr(err.message, "vector") != NULL);
  CHECK(dd_net_add_max_pool2d(net, "p", 2, 2, 2, 2, DD_NET_PADDING_VALID, &err) == DD_ERR_SHAPE);
  CHECK(dd_net_add_dense(net, "d", 0, DD_ACTIVATION_RELU, 1, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_net_add_dense(net, "d", 4, (dd_activation)7, 1, &err) == DD_ERR_UNSUPPORTED);
  CHECK(dd_net_add_dropout(net, "x", 1.0, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_net_add_dropout(net, "", 0.5, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_net_layer_count(net) == 0);
  CHECK_OK(dd_net_add_dense(net, "d", 3, DD_ACTIVATION_SOFTMAX, 1, NULL));
  CHECK(dd_net_add_dense(net, "d", 3, DD_ACTIVATION_SOFTMAX, 1, &err) == DD_ERR_INVALID_ARGUMENT); /* duplicate */
  float x[16] = {0};
  int32_t y[2] = {0, 3};
  CHECK(dd_net_train_batch(net, x, y, 2, NULL, 2, NULL, &err) == DD_ERR_INVALID_ARGUMENT); /* not compiled */
  CHECK(strstr(err.message, "compiled") != NULL);
  compile_net(net, 0);
  CHECK(dd_net_train_batch(net, x, y, 2, NULL, 2, NULL, &err) == DD_ERR_INVALID_ARGUMENT); /* label 3 of 3 classes */
  CHECK(strstr(err.message, "label") != NULL);
  y[1] = -1;
  CHECK(dd_net_evaluate(net, x, y, 2, 32, &(dd_batch_result){0}, &err) == DD_ERR_INVALID_ARGUMENT);
  y[1] = 2;
  int32_t idx[2] = {0, 2};
  CHECK(dd_net_train_batch(net, x, y, 2, idx, 2, NULL, &err) == DD_ERR_INVALID_ARGUMENT); /* index 2 of 2 */
  CHECK(dd_net_train_batch(net, x, y, 2, NULL, 3, NULL, &err) == DD_ERR_SHAPE);
  CHECK(dd_net_train_batch(net, x, y, 2, NULL, 0, NULL, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_net_iterations(net) == 0);
  /* a batch too large for memory is an error, not a crash (x is never read) */
  CHECK(dd_net_train_batch(net, x, y, (int64_t)1 << 30, NULL, 1 << 30, NULL, &err) == DD_ERR_OUT_OF_MEMORY);
  CHECK(dd_net_iterations(net) == 0);
  CHECK_OK(dd_net_train_batch(net, x, y, 2, NULL, 2, NULL, NULL));
  CHECK(dd_net_iterations(net) == 1);
  float out[5];
  CHECK(dd_net_predict(net, x, 2, 32, out, 5, &err) == DD_ERR_SHAPE);
  float w[24];
  memset(w, 0, sizeof w);
  CHECK(dd_net_param_set(net, 0, DD_PARAM_VALUE, w, 23, &err) == DD_ERR_SHAPE);
  w[3] = NAN;
  CHECK(dd_net_param_set(net, 0, DD_PARAM_VALUE, w, 24, &err) == DD_ERR_INVALID_ARGUMENT);
  w[3] = -1;
  CHECK(dd_net_param_set(net, 0, DD_PARAM_ADAM_V, w, 24, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK_OK(dd_net_param_set(net, 0, DD_PARAM_ADAM_M, w, 24, NULL));
  CHECK(dd_net_param_set(net, 2, DD_PARAM_VALUE, w, 3, &err) == DD_ERR_NOT_FOUND);
  const uint64_t zs[4] = {0, 0, 0, 0};
  CHECK(dd_net_set_rng_state(net, zs, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_net_set_iterations(net, -1, &err) == DD_ERR_INVALID_ARGUMENT);
  dd_train_options t;
  dd_train_options_init(&t);
  t.learning_rate = -1;
  CHECK(dd_net_compile(net, &t, &err) == DD_ERR_INVALID_ARGUMENT);
  dd_net_free(net);

  /* VALID window larger than the input; last layer not a vector */
  const int img[3] = {4, 4, 1};
  CHECK_OK(dd_net_create(3, img, NULL, &net, NULL));
  CHECK(dd_net_add_conv2d(net, "c", 2, 5, 5, 1, 1, DD_NET_PADDING_VALID, DD_ACTIVATION_RELU, 1, &err) == DD_ERR_SHAPE);
  CHECK_OK(dd_net_add_conv2d(net, "c", 2, 5, 5, 1, 1, DD_NET_PADDING_SAME, DD_ACTIVATION_RELU, 1, NULL));
  compile_net(net, 1);
  float xi[16] = {0};
  int32_t yi[1] = {0};
  CHECK(dd_net_train_batch(net, xi, yi, 1, NULL, 1, NULL, &err) == DD_ERR_SHAPE);
  CHECK(strstr(err.message, "Flatten") != NULL);
  dd_net_free(net);
  dd_net_free(NULL);
}

int main(void) {
  TEST_RUN(test_dense_dropout_softmax);
  TEST_RUN(test_losses);
  TEST_RUN(test_conv_pool_flatten);
  TEST_RUN(test_adam_step);
  TEST_RUN(test_glorot_init);
  TEST_RUN(test_shuffle);
  TEST_RUN(test_train_resume);
  TEST_RUN(test_errors);
  return test_summary();
}
