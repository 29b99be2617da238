/* objective.h — the objective algebra beyond the tutorial (issue 15):
 * weighted sums of terms on layers, parsed from the `objective` option
 * (grammar: include/deepdream_options.h), bound to a model, and turned into
 * the seed dL/d(activation) the engine back-propagates (exec.h,
 * dd_exec_seed_gradient).
 *
 * objective_parse.c: the text -> terms (syntax only: no model).
 * objective.c: binding to a model (nodes, channel counts), the choices made
 *   once per dream (strong/weak channels, guide features), the seeds and the
 *   input gradient (one forward and one reverse pass for all the layers).
 * tv.c: the total-variation penalty on an input.
 */
#ifndef DD_DREAM_OBJECTIVE_H
#define DD_DREAM_OBJECTIVE_H

#include "core/core.h"
#include "dream/guide_match.h"
#include "deepdream.h"
#include "deepdream_options.h"

typedef enum dd_term_kind {
  DD_TERM_SQUARE = 0,
  DD_TERM_CHANNEL = 1,
  DD_TERM_NEURON = 2,
  DD_TERM_DIRECTION = 3,
  DD_TERM_STRONG = 4,
  DD_TERM_WEAK = 5,
  DD_TERM_GUIDE = 6,
  DD_TERM_KIND_COUNT = 7
} dd_term_kind;

#define DD_TERM_MAX_LAYER_NAME 255
#define DD_TERM_MAX_VECTOR 65536
/* guide features kept per term: positions x channels floats */
#define DD_GUIDE_MAX_FLOATS ((size_t)1 << 24)

typedef struct dd_term {
  dd_term_kind kind;
  double weight;
  char layer[DD_TERM_MAX_LAYER_NAME + 1]; /* a node name, or "" with layer_index */
  int layer_index;
  int *channels; /* square: the list (NULL = all); channel: one; strong/weak: the k chosen (after selection) */
  int n_channels;
  int k;      /* strong/weak */
  int dx, dy; /* neuron: offset from the map's centre */
  float *vec; /* direction: one weight per channel */
  int n_vec;
  float *guide; /* guide: guide_n x c_layer features */
  int guide_n;
  double guide_norm_max; /* dd_guide_norm_max of the features (set with them) */
  /* bound */
  int node, c_layer;
} dd_term;

typedef struct dd_objective_prog {
  dd_term terms[DD_OBJECTIVE_MAX_TERMS];
  int n_terms;
  float *tmp; /* seed scratch, grown to the largest activation */
  size_t tmp_cap;
  dd_guide_match match; /* the guide term's matching scratch */
} dd_objective_prog;

/* Parses `text` into *p (zeroed first; release with dd_objective_free).
   DD_ERR_INVALID_ARGUMENT with the expression and the position on error. */
dd_status dd_objective_parse(const char *text, dd_objective_prog *p, dd_error *err);
/* The tutorial's term square(layer, channels) as a one-term program. */
dd_status dd_objective_from_default(const dd_objective *o, dd_objective_prog *p, dd_error *err);
void dd_objective_free(dd_objective_prog *p);

/* Resolves every term's layer, reads its channel count, and checks channels,
   vector lengths and k against it. */
dd_status dd_objective_bind(dd_objective_prog *p, dd_model *m, dd_error *err);
int dd_objective_needs_guide(const dd_objective_prog *p);
int dd_objective_needs_selection(const dd_objective_prog *p);

/* strong/weak: chooses each term's k channels from the mean activation of
   `image` (h x w x 3 floats, fed as it is) over a grid of tiles of
   dd_tile_size(side, tile_size) from the origin. */
dd_status dd_objective_select(dd_objective_prog *p, dd_model *m, const float *image, int h, int w, int tile_size,
                              dd_error *err);
/* guide: each guide term's features from `image` (h x w x 3 floats, fed as
   it is): the activation of its layer, positions x channels. */
dd_status dd_objective_set_guide(dd_objective_prog *p, dd_model *m, const float *image, int h, int w, dd_error *err);

/* The distinct layers of p's terms (graph nodes, bound), in the order of
   their first terms, into nodes (DD_OBJECTIVE_MAX_TERMS ints); returns how
   many. */
int dd_objective_layers(const dd_objective_prog *p, int *nodes);

/* d L / d input for input h x w x 3; grad_out gets h*w*3 floats; *loss
   (may be NULL) L. One forward and one reverse pass for all the layers
   (dd_exec_seeds_gradient): the sum rounds differently from a sum of one pass
   per layer, by float rounding only. */
dd_status dd_objective_gradient(dd_objective_prog *p, dd_model *m, const float *input, int h, int w, float *grad_out,
                                double *loss, dd_error *err);

/* The seed of the terms of p bound to `node` (for tests: the value and dy of
   one layer's terms at an activation). dy has dd_shape_count(shape) floats. */
dd_status dd_objective_seed(dd_objective_prog *p, int node, const float *y, dd_shape shape, float *dy, double *loss,
                            dd_error *err);

/* Total variation (beta 2) of x (h x w x 3), divided by 255^2 and by h*w*3:
   returns it, and when grad is not NULL adds -weight * its gradient there. */
double dd_tv_penalty(const float *x, int h, int w, double weight, float *grad);

#endif /* DD_DREAM_OBJECTIVE_H */
