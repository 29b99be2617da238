/* graph_ref64.h — an independent double-precision interpreter of dd_graph,
 * for tests only. It shares no code with the engine: plain loops written from
 * TensorFlow's op definitions. Used as the oracle for forward values and, with
 * central finite differences, for input gradients.
 *
 * Also small builders for test graphs. Header-only (static functions).
 */
#ifndef DD_GRAPH_REF64_H
#define DD_GRAPH_REF64_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

typedef struct r64 {
  int n, h, w, c;
  double *d;
} r64;

static size_t r64_count(const r64 *t) { return (size_t)t->n * t->h * t->w * t->c; }

/* One axis of a window from ONNX's definitions (written from the ONNX
   operator docs, not from window.c): SAME_UPPER (TF SAME) / SAME_LOWER:
   out = ceil(in / s), pads total (out-1)*s + k - in split with the odd pixel
   after / before; explicit pads b, a: out = floor((in + b + a - k) / s) + 1,
   or with ceil_mode ceil(...) + 1 less a window starting at or past in + b.
   *decl_after: the padding after as declared (for count_include_pad). */
static void r64_axis(int in, int k, int s, dd_padding mode, int b, int a, int ceil_mode, int *out, int *pad_before,
                     int *decl_after) {
  if (mode == DD_PADDING_SAME || mode == DD_PADDING_SAME_LOWER) {
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + k - in;
    if (total < 0) total = 0;
    *pad_before = mode == DD_PADDING_SAME ? total / 2 : total - total / 2;
    *decl_after = total - *pad_before;
  } else if (mode == DD_PADDING_EXPLICIT) {
    double q = (double)(in + b + a - k) / s;
    int o = (int)(ceil_mode ? ceil(q) : floor(q)) + 1;
    if (ceil_mode && (o - 1) * s >= in + b) o--;
    *out = o;
    *pad_before = b;
    *decl_after = a;
  } else {
    *out = (in - k) / s + 1;
    *pad_before = 0;
    *decl_after = 0;
  }
}

/* Evaluates every node needed by `target`; vals[i] holds node i's output. */
static int r64_eval(const dd_graph *g, int node, const r64 *input, r64 *vals, unsigned char *done) {
  if (done[node]) return 0;
  const dd_node *nd = &g->nodes[node];
  for (int j = 0; j < nd->n_inputs; j++)
    if (g->nodes[nd->inputs[j]].op != DD_OP_CONST && r64_eval(g, nd->inputs[j], input, vals, done)) return -1;
  r64 *o = &vals[node];
  const r64 *a = nd->n_inputs ? &vals[nd->inputs[0]] : NULL;
  const dd_const *cb = nd->n_inputs > 1 ? &g->nodes[nd->inputs[1]].attr.value : NULL;
  switch (nd->op) {
    case DD_OP_PLACEHOLDER:
      *o = *input;
      o->d = (double *)malloc(r64_count(input) * sizeof(double));
      memcpy(o->d, input->d, r64_count(input) * sizeof(double));
      break;
    case DD_OP_IDENTITY:
    case DD_OP_RELU:
    case DD_OP_LEAKY_RELU:
    case DD_OP_BIAS_ADD:
    case DD_OP_LRN:
    case DD_OP_CLIP:
    case DD_OP_MUL:
    case DD_OP_ADD:
    case DD_OP_SOFTMAX: {
      *o = *a;
      size_t cnt = r64_count(a);
      o->d = (double *)malloc(cnt * sizeof(double));
      for (size_t i = 0; i < cnt; i++) {
        double x = a->d[i];
        int ch = (int)(i % a->c);
        if (nd->op == DD_OP_RELU) x = x > 0 ? x : 0;
        if (nd->op == DD_OP_LEAKY_RELU) x = x > 0 ? x : (double)nd->attr.alpha * x;
        if (nd->op == DD_OP_BIAS_ADD) x += cb->f[ch];
        if (nd->op == DD_OP_MUL) x *= cb->f[cb->count == 1 ? 0 : ch];
        if (nd->op == DD_OP_ADD) x += vals[nd->inputs[1]].d[i];
        if (nd->op == DD_OP_CLIP) x = x < nd->attr.clip.lo ? nd->attr.clip.lo : x > nd->attr.clip.hi ? nd->attr.clip.hi : x;
        if (nd->op == DD_OP_LRN) {
          const dd_lrn_params *p = &nd->attr.lrn;
          double ss = 0;
          for (int k = ch - p->depth_radius; k <= ch + p->depth_radius; k++)
            if (k >= 0 && k < a->c) ss += a->d[i - ch + k] * a->d[i - ch + k];
          x = x / pow((double)p->bias + (double)p->alpha * ss, (double)p->beta);
        }
        o->d[i] = x;
      }
      if (nd->op == DD_OP_SOFTMAX) {
        for (size_t r = 0; r < cnt / a->c; r++) {
          double *v = o->d + r * a->c, m = v[0], s = 0;
          for (int k = 1; k < a->c; k++) m = v[k] > m ? v[k] : m;
          for (int k = 0; k < a->c; k++) s += (v[k] = exp(v[k] - m));
          for (int k = 0; k < a->c; k++) v[k] /= s;
        }
      }
      break;
    }
    case DD_OP_CONV2D: {
      int kh = (int)cb->dims[0], kw = (int)cb->dims[1], ci = (int)cb->dims[2], co = (int)cb->dims[3];
      int sh = nd->attr.conv.strides[0], sw = nd->attr.conv.strides[1];
      int oh, ow, pt, pl, ab, ar;
      const int *pd = nd->attr.conv.pads;
      r64_axis(a->h, kh, sh, nd->attr.conv.padding, pd[0], pd[2], 0, &oh, &pt, &ab);
      r64_axis(a->w, kw, sw, nd->attr.conv.padding, pd[1], pd[3], 0, &ow, &pl, &ar);
      o->n = a->n; o->h = oh; o->w = ow; o->c = co;
      o->d = (double *)calloc(r64_count(o), sizeof(double));
      for (int b = 0; b < a->n; b++)
        for (int y = 0; y < oh; y++)
          for (int x = 0; x < ow; x++)
            for (int oc = 0; oc < co; oc++) {
              double s = 0;
              for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) {
                  int iy = y * sh - pt + i, ix = x * sw - pl + j;
                  if (iy < 0 || iy >= a->h || ix < 0 || ix >= a->w) continue;
                  for (int ic = 0; ic < ci; ic++)
                    s += a->d[(((size_t)b * a->h + iy) * a->w + ix) * a->c + ic] *
                         cb->f[(((size_t)i * kw + j) * ci + ic) * co + oc];
                }
              o->d[(((size_t)b * oh + y) * ow + x) * co + oc] = s;
            }
      break;
    }
    case DD_OP_MAX_POOL:
    case DD_OP_AVG_POOL: {
      const dd_window *p = &nd->attr.pool;
      int oh, ow, pt, pl, ab, ar;
      r64_axis(a->h, p->k_h, p->stride_h, p->padding, p->pads[0], p->pads[2], p->ceil_mode, &oh, &pt, &ab);
      r64_axis(a->w, p->k_w, p->stride_w, p->padding, p->pads[1], p->pads[3], p->ceil_mode, &ow, &pl, &ar);
      o->n = a->n; o->h = oh; o->w = ow; o->c = a->c;
      o->d = (double *)calloc(r64_count(o), sizeof(double));
      for (int b = 0; b < a->n; b++)
        for (int y = 0; y < oh; y++)
          for (int x = 0; x < ow; x++)
            for (int ch = 0; ch < a->c; ch++) {
              double m = -INFINITY, s = 0;
              int cnt = 0;
              for (int i = 0; i < p->k_h; i++)
                for (int j = 0; j < p->k_w; j++) {
                  int iy = y * p->stride_h - pt + i, ix = x * p->stride_w - pl + j;
                  /* ONNX count_include_pad: the divisor counts the declared padding */
                  if (p->count_include_pad && iy >= -pt && iy < a->h + ab && ix >= -pl && ix < a->w + ar &&
                      (iy < 0 || iy >= a->h || ix < 0 || ix >= a->w))
                    cnt++;
                  if (iy < 0 || iy >= a->h || ix < 0 || ix >= a->w) continue;
                  double v = a->d[(((size_t)b * a->h + iy) * a->w + ix) * a->c + ch];
                  m = v > m ? v : m;
                  s += v;
                  cnt++;
                }
              o->d[(((size_t)b * oh + y) * ow + x) * a->c + ch] = nd->op == DD_OP_MAX_POOL ? m : s / cnt;
            }
      break;
    }
    case DD_OP_GLOBAL_AVG_POOL: {
      o->n = a->n; o->h = 1; o->w = 1; o->c = a->c;
      o->d = (double *)calloc(r64_count(o), sizeof(double));
      for (int b = 0; b < a->n; b++)
        for (int p = 0; p < a->h * a->w; p++)
          for (int ch = 0; ch < a->c; ch++)
            o->d[(size_t)b * a->c + ch] += a->d[((size_t)b * a->h * a->w + p) * a->c + ch] / (a->h * a->w);
      break;
    }
    case DD_OP_CONCAT: {
      *o = *a;
      o->c = 0;
      for (int j = 0; j < nd->n_inputs; j++) o->c += vals[nd->inputs[j]].c;
      o->d = (double *)malloc(r64_count(o) * sizeof(double));
      size_t rows = (size_t)o->n * o->h * o->w;
      int off = 0;
      for (int j = 0; j < nd->n_inputs; j++) {
        const r64 *b = &vals[nd->inputs[j]];
        for (size_t r = 0; r < rows; r++)
          for (int k = 0; k < b->c; k++) o->d[r * o->c + off + k] = b->d[r * b->c + k];
        off += b->c;
      }
      break;
    }
    case DD_OP_RESHAPE: {
      size_t cnt = r64_count(a);
      int last = (int)nd->attr.reshape.dims[nd->attr.reshape.rank - 1];
      if (last == -1) { /* [n or 0 or -1, -1]: ONNX's Flatten keeps the batch */
        int64_t d0 = nd->attr.reshape.dims[0];
        last = (int)(cnt / (size_t)(d0 > 0 ? d0 : a->n));
      }
      o->n = (int)(cnt / last); o->h = 1; o->w = 1; o->c = last;
      o->d = (double *)malloc(cnt * sizeof(double));
      memcpy(o->d, a->d, cnt * sizeof(double));
      break;
    }
    case DD_OP_MATMUL: {
      int rows = a->n * a->h * a->w, k = a->c, tb = nd->attr.matmul.transpose_b;
      int nn = (int)(tb ? cb->dims[0] : cb->dims[1]);
      o->n = rows; o->h = 1; o->w = 1; o->c = nn;
      o->d = (double *)calloc((size_t)rows * nn, sizeof(double));
      for (int r = 0; r < rows; r++)
        for (int j = 0; j < nn; j++) {
          double s = 0;
          for (int q = 0; q < k; q++) s += a->d[(size_t)r * k + q] * (tb ? cb->f[(size_t)j * k + q] : cb->f[(size_t)q * nn + j]);
          o->d[(size_t)r * nn + j] = s;
        }
      break;
    }
    default:
      return -1;
  }
  done[node] = 1;
  return 0;
}

/* mean(square(target[..., channels])) in double. */
static double r64_objective(const dd_graph *g, int target, const int *ch, int nch, const r64 *input) {
  r64 *vals = (r64 *)calloc((size_t)g->n_nodes, sizeof(r64));
  unsigned char *done = (unsigned char *)calloc((size_t)g->n_nodes, 1);
  double s = 0;
  if (r64_eval(g, target, input, vals, done) == 0) {
    const r64 *t = &vals[target];
    size_t rows = r64_count(t) / t->c, cnt = 0;
    for (size_t r = 0; r < rows; r++)
      for (int k = 0; k < (nch ? nch : t->c); k++) {
        double v = t->d[r * t->c + (nch ? ch[k] : k)];
        s += v * v;
        cnt++;
      }
    s /= (double)cnt;
  } else {
    s = NAN;
  }
  for (int i = 0; i < g->n_nodes; i++) free(vals[i].d);
  free(vals);
  free(done);
  return s;
}

/* Forward values of `target` (caller frees out->d). */
static int r64_forward(const dd_graph *g, int target, const r64 *input, r64 *out) {
  r64 *vals = (r64 *)calloc((size_t)g->n_nodes, sizeof(r64));
  unsigned char *done = (unsigned char *)calloc((size_t)g->n_nodes, 1);
  int rc = r64_eval(g, target, input, vals, done);
  if (rc == 0) {
    *out = vals[target];
    vals[target].d = NULL;
  }
  for (int i = 0; i < g->n_nodes; i++) free(vals[i].d);
  free(vals);
  free(done);
  return rc;
}

/* ---- builders ------------------------------------------------------------- */

static int gb_const(dd_graph *g, const char *name, int rank, const int64_t *dims, const float *data) {
  int i = dd_graph_add_node(g, name, strlen(name), DD_OP_CONST);
  dd_const *c = &g->nodes[i].attr.value;
  c->dtype = DD_DTYPE_FLOAT;
  c->rank = rank;
  c->count = 1;
  for (int k = 0; k < rank; k++) {
    c->dims[k] = dims[k];
    c->count *= dims[k];
  }
  float *copy = (float *)dd_graph_own(g, malloc((size_t)c->count * sizeof(float)));
  memcpy(copy, data, (size_t)c->count * sizeof(float));
  c->f = copy;
  return i;
}

static int gb_op(dd_graph *g, const char *name, dd_op op, int a, int b) {
  int i = dd_graph_add_node(g, name, strlen(name), op);
  int in[2] = {a, b};
  dd_graph_set_inputs(g, i, in, b >= 0 ? 2 : (a >= 0 ? 1 : 0), NULL);
  return i;
}

#endif
