/* deepdream_options.h — options by name, and the layouts the bindings
 * describe. A sibling of deepdream.h with its contracts.
 *
 * 1. The option table. Every value option of the two command lines (native
 *    `deepdream`, Node `deepdream-wasm`) and of the JS API's dream options is
 *    one row here: its name (`iterations` is `--iterations`), the
 *    dd_dream_options member it sets (or NULL for an option of the run:
 *    threads, quality, paths), its kind and range, and its help line. Both
 *    command lines print their --help from this table and parse every value
 *    through dd_option_parse, so they take the same options and refuse the
 *    same values with the same sentences; the JS API sets its dream options
 *    through dd_dream_options_set. Validation happens once, here, before any
 *    work starts.
 *
 *    Parsing rules (dd_option_parse):
 *      - INT: a decimal integer in [min, max]; "1.5", "1e12" out of range and
 *        "abc" are refused, and the message quotes the text as given (no
 *        value is ever wrapped to 32 bits before it is checked);
 *      - NUMBER: a finite decimal number in the range (`open` excludes ends);
 *      - SEED: a decimal integer in 0 .. 2^64-1 (no sign);
 *      - CHOICE: one of the `|`-separated words of `choices` (value.i is its
 *        index);
 *      - SIZE: WxH, each side an integer in [min, max];
 *      - CHANNELS: a comma-separated list of channels `c` and half-open
 *        ranges `a:b` (a < b), each channel in [min, max]; the list is
 *        allocated (value.channels, release with dd_free); "" means all;
 *      - LAYER: a dream-layer index (digits, in [min, max]; value.i) or a
 *        node name (value.i = -1);
 *      - TEXT: any non-empty text (a path or a name); FLAG: no value.
 *    Errors are DD_ERR_INVALID_ARGUMENT, with a sentence that names the
 *    option and quotes the text; an unknown name is DD_ERR_NOT_FOUND.
 *
 * 2. Objectives and transforms (issue 15). Every one defaults to off, which
 *    is the tutorial bit for bit. JS names in brackets.
 *
 *    objective TEXT [objective]: what the gradient ascends; empty = the
 *      tutorial's mean(square(layer[..., channels])) from --layer/--channels.
 *      Grammar (spaces anywhere between tokens; at most 65536 bytes, 16 terms):
 *        expr   := term (('+' | '-') term)*
 *        term   := [NUMBER '*'] call
 *        call   := square(L [, CH])     mean(square(L[..., CH])), CH all if absent
 *                | channel(L, c)        mean over positions of L[..., c]
 *                | neuron(L, c [, dx, dy]) L[cy + dy, cx + dx, c], where (cx, cy) =
 *                                       (W/2, H/2) (integer division) of the
 *                                       activation map of each tile: a tiled
 *                                       dream pulls the centre neuron of every
 *                                       tile; a position off the map (a small
 *                                       edge tile) is clamped to its edge
 *                | direction(L, [v0, v1, ...]) mean over positions of
 *                                       dot(L[y, x, :], v); one weight per channel
 *                | strong(L, k) | weak(L, k) mean(square(L[..., S])), S = the k
 *                                       channels of highest / lowest mean
 *                                       activation on the dream's smallest
 *                                       octave (its base image, before any
 *                                       step), chosen once when the dream
 *                                       begins (ties: lower channel first) and
 *                                       saved in its state
 *                | guide(L)             Google's Caffe objective_guide: each
 *                                       position x of L is pulled toward the
 *                                       guide feature g with the largest
 *                                       dot(x, g): value mean_x max_g dot(x, g),
 *                                       gradient g* / positions. Needs a guide
 *        L      := a node name (mixed4c) or a dream-layer index (digits)
 *      Both command lines also take --objective @FILE: the expression read
 *      from FILE (e.g. a long direction vector).
 *        CH     := c | a:b (channels a..b-1) | [c, a:b, ...]
 *      Terms on different layers are summed (one forward and one backward pass
 *      for all of them).
 *      Errors quote the expression and point at the offending character.
 *    guide FILE [guide: {data, width, height} | Blob | path]: the guide image;
 *      with no objective, the objective is guide(layer). Its features are
 *      computed once when the dream begins, from the guide resized (Lanczos,
 *      as the octaves) so its longer side is at most `tile` pixels (never
 *      enlarged), fed as the dream's tiles are (minus `mean`); they are saved
 *      in the dream state, so resuming needs no guide.
 *    tv X [tv]: subtracts X * mean over the tile of the squared differences
 *      of horizontally and vertically adjacent input values, divided by 255^2
 *      (total variation, beta = 2), from the objective (0: off).
 *    gradient smooth|laplacian [gradient]: the tutorial's three-blur smoothing
 *      and step_size / std step (smooth), or the TF1 notebook's lap_normalize
 *      of the whole gradient (laplacian: the k5x5 [1 4 6 4 1] Laplacian
 *      pyramid of lap-levels levels, each level divided by its RMS, merged)
 *      and a step of step_size.
 *    lap-levels N [lapLevels]: lap_normalize's scale_n, 1..8 (4).
 *    Robustness transforms, drawn per tile from the dream's seeded generator
 *    (saved in the state: resumable), applied to the tile's input and undone
 *    on its gradient (the adjoint of the same sampling):
 *    roll N [roll]: Caffe's jitter: the tile is rolled (wrap-around) by
 *      (ox, oy), each uniform in [-N, N]; 0 off.
 *    pad N [pad]: Lucid's pad: N pixels of constant 127.5 - mean around the tile.
 *    jitter N [jitter]: Lucid's jitter: a shift by (dx, dy), each in [-N, N].
 *    scale X [scale]: Lucid's random_scale: zoom by s uniform in [1-X, 1+X]
 *      (0..0.5) about the centre.
 *    rotate X [rotate]: Lucid's random_rotate: by an angle uniform in
 *      [-X, X] degrees (0..180) about the centre.
 *    pad, jitter, scale and rotate are one bilinear resampling of the padded
 *    tile onto a (w+2 pad) x (h+2 pad) input (Lucid's jitter crops; ours
 *    shifts, so the size stays); samples outside the tile read the pad value.
 *
 * 3. Layouts. The wasm bindings hand JavaScript a dd_dream_options and a
 *    dd_progress as they are in memory; JS reads the layout (field names,
 *    byte offsets, types) from the core when it loads and refuses to run when
 *    the layout differs from what it was written for.
 */
#ifndef DEEPDREAM_OPTIONS_H
#define DEEPDREAM_OPTIONS_H

#include "deepdream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DD_OBJECTIVE_MAX_TEXT 65536 /* bytes of an objective expression */
#define DD_OBJECTIVE_MAX_TERMS 16

typedef enum dd_option_kind {
  DD_OPTION_FLAG = 0,
  DD_OPTION_INT = 1,
  DD_OPTION_NUMBER = 2,
  DD_OPTION_SEED = 3,
  DD_OPTION_CHOICE = 4,
  DD_OPTION_SIZE = 5,
  DD_OPTION_CHANNELS = 6,
  DD_OPTION_LAYER = 7,
  DD_OPTION_TEXT = 8
} dd_option_kind;

#define DD_OPTION_MIN_OPEN 1 /* NUMBER: min itself is refused */
#define DD_OPTION_MAX_OPEN 2 /* NUMBER: max itself is refused */

typedef struct dd_option_info {
  const char *name;    /* "iterations": --iterations on both command lines */
  const char *field;   /* the dd_dream_options member it sets ("num_iterations"), or NULL */
  dd_option_kind kind;
  double min, max;     /* INT, NUMBER, SIZE, CHANNELS, LAYER index */
  int open;            /* DD_OPTION_MIN_OPEN | DD_OPTION_MAX_OPEN, for NUMBER */
  const char *choices; /* CHOICE: "u8|float" */
  const char *arg;     /* the value's placeholder in help: "N", "X", "PATH"; NULL for FLAG */
  const char *help;    /* one line, with the default */
} dd_option_info;

/* The rows, in help order: index 0..dd_option_count()-1. */
int dd_option_count(void);
const dd_option_info *dd_option_at(int index);
/* The row named `name` (without the leading "--"), or NULL. */
const dd_option_info *dd_option_find(const char *name);

typedef struct dd_option_value {
  int64_t i;      /* INT; CHOICE: index of the word; LAYER: index, or -1 for a name */
  uint64_t u;     /* SEED */
  double d;       /* NUMBER (also INT and SEED, as a double) */
  int w, h;       /* SIZE */
  int *channels;  /* CHANNELS: dd_malloc'd (NULL for ""), release with dd_free */
  int n_channels;
} dd_option_value;

/* Parses and checks `text` for the option `name` (rules above). `out` is
   written only on success. */
dd_status dd_option_parse(const char *name, const char *text, dd_option_value *out, dd_error *err);

/* Parses `text` for the option `name` and stores it in the dd_dream_options
   member the table names. "layer": an index sets objective.layer_index (and
   clears objective.layer); a name sets objective.layer = text, which must
   outlive the options' use. "channels": objective.channels is allocated
   (release with dd_free((void *)opt->objective.channels)); a previous list
   set this way is released first. Options without a member are
   DD_ERR_INVALID_ARGUMENT. */
dd_status dd_dream_options_set(dd_dream_options *opt, const char *name, const char *text, dd_error *err);

/* Checks every member of `opt` against the table's ranges (what
   dd_dream_begin does first). */
dd_status dd_dream_options_validate(const dd_dream_options *opt, dd_error *err);

/* ---- layouts ----------------------------------------------------------- */

typedef enum dd_field_type {
  DD_FIELD_I32 = 1, /* int, and enums (which are int-sized) */
  DD_FIELD_I64 = 2,
  DD_FIELD_U64 = 3,
  DD_FIELD_F64 = 4,
  DD_FIELD_PTR = 5  /* a pointer: 4 bytes in wasm32, 8 natively */
} dd_field_type;

typedef struct dd_field {
  const char *name; /* the C member, e.g. "num_octaves", "objective.layer" */
  uint32_t offset;  /* in bytes from the start of the struct */
  dd_field_type type;
} dd_field;

/* Every member of dd_dream_options / dd_progress, in declaration order.
   *count receives the number of fields and *size sizeof the struct. */
const dd_field *dd_dream_options_layout(int *count, size_t *size);
const dd_field *dd_progress_layout(int *count, size_t *size);

#ifdef __cplusplus
}
#endif
#endif /* DEEPDREAM_OPTIONS_H */
