/* net.h — internals of dd_net (see the Training section of deepdream.h).
 *
 * A dd_net is an array of layers, each with its per-sample output shape, and
 * an array of parameter tensors (kernel, bias) with their gradient and Adam
 * moments. A pass over a batch of B samples uses a workspace sized for the
 * largest batch seen so far:
 *   - y: layer i's output, B * out_size floats (Flatten has none: it
 *     aliases its input);
 *   - z: the pre-activation of softmax layers (the loss uses logits);
 *   - mask: Dropout's 0 or 1/(1-rate) multipliers for the last training pass;
 *   - two gradient buffers that the backward pass ping-pongs between.
 * Every buffer a kernel reads has DD_EXTRA_BYTES of slack.
 *
 * The functions below are shared by the files of src/train and by the tests
 * (finite-difference checks need the gradients without the Adam update). */
#ifndef DD_TRAIN_NET_H
#define DD_TRAIN_NET_H

#include "../kernels/kernels.h"

#define DD_NET_NAME_MAX 128
#define DD_NET_MAX_LAYERS 256
/* Keras' backend epsilon: the clip of probabilities in cross-entropy. */
#define DD_NET_PROB_EPSILON 1e-7

typedef struct dd_net_layer {
  dd_layer_kind kind;
  char name[DD_NET_NAME_MAX];
  dd_activation act;
  int use_bias;
  int in_rank, in_h, in_w, in_c; /* rank 1: h = w = 1, c = features */
  int out_rank, out_h, out_w, out_c;
  size_t in_size, out_size;      /* floats per sample */
  double rate;                   /* dropout */
  dd_conv2d_params conv;         /* conv2d: window, in_c, out_c */
  dd_window win;                 /* max pool */
  int param0, n_params;
  dd_conv2d_weights *cw;         /* conv2d: backend copy of the current weights */
  int cw_stale;                  /* parameters changed since cw was created */
  /* workspace views (NULL until planned): output, softmax pre-activation,
     dropout multipliers */
  float *y, *z, *mask;
  const float *yp; /* this pass's output: y, or the input for Flatten and inference Dropout */
} dd_net_layer;

typedef struct dd_net_param {
  char name[DD_NET_NAME_MAX + 8];
  int layer;
  int rank;
  int shape[4];
  size_t count;
  float *value, *grad, *m, *v; /* each count floats + DD_EXTRA_BYTES */
} dd_net_param;

struct dd_net {
  const dd_kernels *k;
  dd_threadpool *pool;
  int in_rank, in_h, in_w, in_c;
  size_t in_size;
  dd_net_layer *layers;
  int n_layers, cap_layers;
  dd_net_param *params;
  int n_params, cap_params;
  /* training configuration and state */
  dd_train_options topt;
  int compiled;
  int64_t iterations;
  dd_rng rng;
  /* workspace */
  int ws_batch;          /* batch capacity of the workspace; 0 = none */
  float *ws_input;       /* gathered batch input */
  float *ws_grad[2];
  int ws_grad_cur;       /* which ws_grad holds the current gradient */
  float *ws_block;       /* one allocation holding every view */
  int *ws_labels;        /* gathered labels */
  dd_workspace conv_scratch; /* the run-time scratch all conv layers share (kernels.h); kept across the
                                steps that rebuild their weights */
  /* results of the last pass */
  int pass_training;     /* the last forward pass ran in training mode */
  int pass_count;        /* samples in the last forward pass */
};

/* Sizes the workspace for `batch` samples (grows only). */
dd_status dd_net_reserve(dd_net *net, int batch, dd_error *err);

/* Forward pass over `count` samples already in net->ws_input. training != 0
   draws dropout masks from the net's RNG. Sets net->out. */
dd_status dd_net_forward_ws(dd_net *net, int count, int training, dd_error *err);

/* The loss of the last forward pass against labels (count of them, checked to
   be in range): returns the summed per-sample loss and correct count in res,
   and, when grad != NULL, writes d(mean loss)/d(last layer's output) — or,
   with a fused softmax, d(mean loss)/d(logits) — into grad (count*out_size
   floats). *fused is set when the gradient is with respect to the logits. */
dd_status dd_net_loss(dd_net *net, const int32_t *labels, int count, float *grad, int *fused,
                      dd_batch_result *res, dd_error *err);

/* Backward pass after dd_net_forward_ws + dd_net_loss (gradient in
   net->ws_grad[net->ws_grad_cur]): fills every param->grad. When dx != NULL,
   also writes the gradient with respect to the input (count * in_size). */
dd_status dd_net_backward(dd_net *net, int count, int fused, float *dx, dd_error *err);

/* Gathers x[index[i]] (or the first count samples) into the workspace. */
dd_status dd_net_gather(dd_net *net, const float *x, const int32_t *labels, int64_t n,
                        const int32_t *index, int count, dd_error *err);

/* Forward (training or inference) + loss + backward on the gathered batch:
   param->grad hold d(mean loss)/d(param). No optimizer step. dx may be NULL. */
dd_status dd_net_compute_gradients(dd_net *net, const float *x, const int32_t *labels, int64_t n,
                                   const int32_t *index, int count, int training,
                                   dd_batch_result *res, float *dx, dd_error *err);

/* One Adam update from param->grad; increments iterations. */
void dd_net_adam_step(dd_net *net);

/* Marks conv weights stale after a parameter change. */
void dd_net_params_changed(dd_net *net, int param_index);

#endif /* DD_TRAIN_NET_H */
