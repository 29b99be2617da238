/* options.c — the dream options: defaults, the option table both command
 * lines and the JS API parse through, the checks dd_dream_begin runs first,
 * and the dd_dream_options / dd_progress layouts the bindings describe
 * (include/deepdream_options.h). */
#include "deepdream_options.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"

#define MAX_CHANNELS 65536

void dd_dream_options_init(dd_dream_options *o) {
  memset(o, 0, sizeof *o);
  o->objective.layer_index = 0;
  o->num_iterations = 10;
  o->step_size = 3.0;
  o->tile_size = 400;
  o->num_repeats = 4;
  o->rescale_factor = 0.7;
  o->blend = 0.2;
  o->seed = 0;
  o->input_mean = 0.0;
  o->resample = DD_RESAMPLE_LANCZOS_U8;
  o->gradient_mode = DD_GRADIENT_SMOOTH;
  o->lap_levels = 4;
}

/* ---- the table -------------------------------------------------------------- */

typedef struct row {
  dd_option_info info;
  size_t offset; /* of the member in dd_dream_options, when info.field */
} row;

#define NONE 0, 0, 0, NULL
#define FIELD(member) #member
#define AT(member) offsetof(dd_dream_options, member)

static const row rows[] = {
    {{"model", NULL, DD_OPTION_TEXT, NONE, "PATH",
      "a TensorFlow GraphDef .pb or an ONNX .onnx (default: $DEEPDREAM_MODEL, else the default model next to the program)"}, 0},
    {{"layer", "objective.layer", DD_OPTION_LAYER, 0, 1000000, 0, NULL, "NAME|INDEX",
      "layer to amplify: a node name (mixed4b) or a dream-layer index (default: the model's, 2 for Inception 5h)"},
     AT(objective.layer)},
    {{"channels", "objective.channels", DD_OPTION_CHANNELS, 0, MAX_CHANNELS - 1, 0, NULL, "LIST",
      "channel subset, e.g. 0:3 (channels 0, 1, 2) or 0,5,9 (default: all)"},
     AT(objective.channels)},
    {{"iterations", FIELD(num_iterations), DD_OPTION_INT, 1, 1000, 0, NULL, "N", "gradient steps per octave (10)"},
     AT(num_iterations)},
    {{"step", FIELD(step_size), DD_OPTION_NUMBER, -1e6, 1e6, 0, NULL, "X", "step size (3.0)"}, AT(step_size)},
    {{"tile", FIELD(tile_size), DD_OPTION_INT, 16, 2048, 0, NULL, "N", "tile size in pixels (400)"}, AT(tile_size)},
    {{"octaves", FIELD(num_repeats), DD_OPTION_INT, 0, 32, 0, NULL, "N",
      "downscaled octaves below full size, the tutorial's num_repeats (4)"},
     AT(num_repeats)},
    {{"rescale", FIELD(rescale_factor), DD_OPTION_NUMBER, 0, 1, DD_OPTION_MIN_OPEN | DD_OPTION_MAX_OPEN, NULL, "X",
      "octave scale factor (0.7)"},
     AT(rescale_factor)},
    {{"blend", FIELD(blend), DD_OPTION_NUMBER, 0, 1, 0, NULL, "X", "share of the original image at each octave (0.2)"},
     AT(blend)},
    {{"seed", FIELD(seed), DD_OPTION_SEED, 0, 18446744073709551615.0, 0, NULL, "N",
      "random seed, 0..2^64-1; same seed and build give the same bytes (0)"},
     AT(seed)},
    {{"mean", FIELD(input_mean), DD_OPTION_NUMBER, -1e6, 1e6, 0, NULL, "X",
      "subtract X from pixels before the network (0; the TF1 example uses 117)"},
     AT(input_mean)},
    {{"resample", FIELD(resample), DD_OPTION_CHOICE, 0, 0, 0, "u8|float|lanczos-u8|lanczos-float", "u8|float",
      "Lanczos through 8-bit as the tutorial (u8), or on floats"},
     AT(resample)},
    {{"objective", FIELD(objective_expr), DD_OPTION_TEXT, NONE, "EXPR",
      "what to amplify, e.g. channel(mixed4c,97) or 0.5*square(mixed4c)+neuron(mixed4d,12) (default: square of --layer)"},
     AT(objective_expr)},
    {{"guide", NULL, DD_OPTION_TEXT, NONE, "FILE", "guide image: pull the layer toward its features (guide(layer))"}, 0},
    {{"tv", FIELD(tv), DD_OPTION_NUMBER, 0, 1e6, 0, NULL, "X", "total-variation penalty weight (0)"}, AT(tv)},
    {{"gradient", FIELD(gradient_mode), DD_OPTION_CHOICE, 0, 0, 0, "smooth|laplacian", "smooth|laplacian",
      "the tutorial's three blurs (smooth), or lap_normalize of the TF1 notebook"},
     AT(gradient_mode)},
    {{"lap-levels", FIELD(lap_levels), DD_OPTION_INT, 1, 8, 0, NULL, "N", "Laplacian pyramid levels, scale_n (4)"},
     AT(lap_levels)},
    {{"roll", FIELD(roll), DD_OPTION_INT, 0, 1024, 0, NULL, "N", "Caffe's jitter: roll each tile by up to N px (0)"},
     AT(roll)},
    {{"pad", FIELD(pad), DD_OPTION_INT, 0, 512, 0, NULL, "N", "Lucid's pad: N px of grey around each tile (0)"},
     AT(pad)},
    {{"jitter", FIELD(jitter), DD_OPTION_INT, 0, 512, 0, NULL, "N", "Lucid's jitter: shift each tile by up to N px (0)"},
     AT(jitter)},
    {{"scale", FIELD(scale), DD_OPTION_NUMBER, 0, 0.5, 0, NULL, "X", "Lucid's random scale: zoom by 1-X..1+X (0)"},
     AT(scale)},
    {{"rotate", FIELD(rotate), DD_OPTION_NUMBER, 0, 180, 0, NULL, "X",
      "Lucid's random rotate: by -X..X degrees (0)"},
     AT(rotate)},
    {{"noise", NULL, DD_OPTION_SIZE, 1, 16384, 0, NULL, "WxH",
      "start from seeded random noise of this size (INPUT is ignored: use -)"}, 0},
    {{"show-gradient", NULL, DD_OPTION_TEXT, NONE, "FILE", "write the final smoothed gradient as an image"}, 0},
    {{"zoom", NULL, DD_OPTION_INT, 1, 100000, 0, NULL, "N",
      "write N frames OUTPUT-0000.png ... of a DeepDream zoom movie"}, 0},
    {{"zoom-scale", NULL, DD_OPTION_NUMBER, 1, 4, DD_OPTION_MIN_OPEN, NULL, "X", "zoom per frame, in (1, 4] (1.05)"},
     0},
    {{"gif", NULL, DD_OPTION_TEXT, NONE, "FILE", "with --zoom: also write the frames as an animated GIF (Node CLI)"}, 0},
    {{"save-state", NULL, DD_OPTION_TEXT, NONE, "FILE", "on Ctrl-C, save the dream state to FILE (--resume FILE)"}, 0},
    {{"checkpoint", NULL, DD_OPTION_TEXT, NONE, "DIR",
      "save the dream state in DIR while dreaming, every 8 tiles (--resume ID)"}, 0},
    {{"resume", NULL, DD_OPTION_TEXT, NONE, "FILE|ID",
      "continue a dream: a --save-state FILE, or dream ID from --checkpoint DIR (INPUT is ignored)"}, 0},
    {{"backend", NULL, DD_OPTION_CHOICE, 0, 0, 0, "auto|reference|simd128|xnnpack", "NAME",
      "kernels: auto | reference | simd128 | xnnpack (xnnpack: native builds only)"}, 0},
    {{"threads", NULL, DD_OPTION_INT, 1, 64, 0, NULL, "N",
      "worker threads, 1..64 (native: 1; Node: one per core, at most 8)"}, 0},
    {{"quality", NULL, DD_OPTION_INT, 1, 100, 0, NULL, "N", "JPEG quality, 1..100 (92)"}, 0},
    {{"list-layers", NULL, DD_OPTION_FLAG, NONE, NULL, "print the model's layers and exit"}, 0},
    {{"profile", NULL, DD_OPTION_FLAG, NONE, NULL, "time one gradient step (tile x tile) per op, and exit"}, 0},
    {{"quiet", NULL, DD_OPTION_FLAG, NONE, NULL, "no progress bar"}, 0},
};
#define N_ROWS ((int)(sizeof rows / sizeof rows[0]))

int dd_option_count(void) { return N_ROWS; }
const dd_option_info *dd_option_at(int i) { return i >= 0 && i < N_ROWS ? &rows[i].info : NULL; }

static const row *find_row(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < N_ROWS; i++)
    if (!strcmp(rows[i].info.name, name)) return &rows[i];
  return NULL;
}
const dd_option_info *dd_option_find(const char *name) {
  const row *r = find_row(name);
  return r ? &r->info : NULL;
}

/* ---- parsing ---------------------------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* "tile (tile_size)": the option as the command lines spell it and the member it sets */
typedef struct label { char s[64]; } label;
static label name_of(const dd_option_info *o) {
  label l;
  if (o->field && strcmp(o->field, o->name)) snprintf(l.s, sizeof l.s, "%s (%s)", o->name, o->field);
  else snprintf(l.s, sizeof l.s, "%s", o->name);
  return l;
}

/* A decimal integer (optional '-', digits only) into *v; 0 when the text is not
   one or does not fit in int64 (*overflow set). */
static int parse_integer(const char *s, int64_t *v, int *overflow) {
  const char *p = s;
  *overflow = 0;
  if (*p == '-') p++;
  if (!is_digit(*p)) return 0;
  for (const char *q = p; *q; q++)
    if (!is_digit(*q)) return 0;
  errno = 0;
  long long x = strtoll(s, NULL, 10);
  if (errno == ERANGE) {
    *overflow = 1;
    return 0;
  }
  *v = (int64_t)x;
  return 1;
}

static dd_status bad_int(const dd_option_info *o, const char *text, dd_error *err) {
  return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s must be an integer in %.0f..%.0f, got '%s'", name_of(o).s, o->min,
                 o->max, text);
}

static dd_status parse_int_in(const dd_option_info *o, const char *text, int64_t *out, dd_error *err) {
  int64_t v;
  int overflow;
  if (!parse_integer(text, &v, &overflow) || (double)v < o->min || (double)v > o->max) return bad_int(o, text, err);
  *out = v;
  return DD_OK;
}

static dd_status parse_number(const dd_option_info *o, const char *text, double *out, dd_error *err) {
  char *end;
  errno = 0;
  double v = *text && (is_digit(*text) || *text == '-' || *text == '+' || *text == '.') ? strtod(text, &end) : NAN;
  int ok = !isnan(v) && *end == 0 && isfinite(v);
  if (ok) ok = (o->open & DD_OPTION_MIN_OPEN) ? v > o->min : v >= o->min;
  if (ok) ok = (o->open & DD_OPTION_MAX_OPEN) ? v < o->max : v <= o->max;
  if (!ok)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s must be a number in %c%g, %g%c, got '%s'", name_of(o).s,
                   (o->open & DD_OPTION_MIN_OPEN) ? '(' : '[', o->min, o->max,
                   (o->open & DD_OPTION_MAX_OPEN) ? ')' : ']', text);
  *out = v;
  return DD_OK;
}

static dd_status parse_seed(const dd_option_info *o, const char *text, uint64_t *out, dd_error *err) {
  int ok = is_digit(*text);
  for (const char *q = text; ok && *q; q++) ok = is_digit(*q);
  unsigned long long v = 0;
  if (ok) {
    errno = 0;
    v = strtoull(text, NULL, 10);
    ok = errno != ERANGE;
  }
  if (!ok)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s must be an integer in 0..18446744073709551615 (2^64-1), got '%s'",
                   name_of(o).s, text);
  *out = (uint64_t)v;
  return DD_OK;
}

static dd_status parse_choice(const dd_option_info *o, const char *text, int64_t *out, dd_error *err) {
  size_t n = strlen(text);
  int64_t index = 0;
  for (const char *p = o->choices; *p; index++) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (n && len == n && !memcmp(p, text, n)) {
      *out = index;
      return DD_OK;
    }
    p += len + (bar ? 1 : 0);
  }
  return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s must be one of %s, got '%s'", name_of(o).s, o->choices, text);
}

static dd_status parse_size(const dd_option_info *o, const char *text, int *w, int *h, dd_error *err) {
  char buf[64];
  const char *x = strchr(text, 'x');
  size_t n = strlen(text);
  int64_t a, b;
  int overflow;
  if (x && n < sizeof buf) {
    memcpy(buf, text, n + 1);
    buf[x - text] = 0;
    if (parse_integer(buf, &a, &overflow) && parse_integer(buf + (x - text) + 1, &b, &overflow) && a >= o->min &&
        a <= o->max && b >= o->min && b <= o->max) {
      *w = (int)a;
      *h = (int)b;
      return DD_OK;
    }
  }
  return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s takes WxH with sides in %.0f..%.0f (e.g. 400x300), got '%s'",
                 o->name, o->min, o->max, text);
}

/* "0:3,7" -> 0 1 2 7. Counts first, then fills. */
static dd_status parse_channels(const dd_option_info *o, const char *text, int **out, int *count, dd_error *err) {
  int *list = NULL;
  for (int pass = 0; pass < 2; pass++) {
    int k = 0;
    const char *p = text;
    while (*p) {
      char part[48];
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      if (len == 0 || len >= sizeof part) goto bad;
      memcpy(part, p, len);
      part[len] = 0;
      char *colon = strchr(part, ':');
      int64_t a, b;
      int overflow;
      if (colon) *colon = 0;
      if (!parse_integer(part, &a, &overflow) || a < o->min || a > o->max) goto bad;
      b = a + 1;
      if (colon) {
        if (!parse_integer(colon + 1, &b, &overflow) || b > o->max + 1) goto bad;
        if (b <= a) {
          dd_free(list);
          return dd_fail(err, DD_ERR_INVALID_ARGUMENT,
                         "%s: the range %lld:%lld is empty (a:b means channels a..b-1, so b must be greater than a), "
                         "in '%s'",
                         o->name, (long long)a, (long long)b, text);
        }
      }
      if (k + (b - a) > MAX_CHANNELS) {
        dd_free(list);
        return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s: more than %d channels in '%s'", o->name, MAX_CHANNELS, text);
      }
      for (int64_t c = a; c < b; c++, k++)
        if (list) list[k] = (int)c;
      p += len + (comma ? 1 : 0);
      if (comma && !*p) goto bad;
    }
    if (pass == 0) {
      *count = k;
      if (k == 0) {
        *out = NULL;
        return DD_OK;
      }
      list = (int *)dd_malloc(sizeof(int) * (size_t)k);
      if (!list) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory for %d channels", k);
    }
  }
  *out = list;
  return DD_OK;
bad:
  dd_free(list);
  return dd_fail(err, DD_ERR_INVALID_ARGUMENT,
                 "bad channel list '%s' (use e.g. 0:3 or 1,5,7; channels in %.0f..%.0f)", text, o->min, o->max);
}

dd_status dd_option_parse(const char *name, const char *text, dd_option_value *out, dd_error *err) {
  const row *r = find_row(name);
  if (!r) return dd_fail(err, DD_ERR_NOT_FOUND, "unknown option --%s", name ? name : "(null)");
  const dd_option_info *o = &r->info;
  if (!out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_option_parse: NULL output");
  if (o->kind == DD_OPTION_FLAG) {
    if (text && *text) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "--%s takes no value, got '%s'", o->name, text);
    memset(out, 0, sizeof *out);
    return DD_OK;
  }
  if (!text) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "--%s needs a value", o->name);
  dd_option_value v;
  memset(&v, 0, sizeof v);
  dd_status s = DD_OK;
  switch (o->kind) {
    case DD_OPTION_INT:
      s = parse_int_in(o, text, &v.i, err);
      v.d = (double)v.i;
      break;
    case DD_OPTION_NUMBER: s = parse_number(o, text, &v.d, err); break;
    case DD_OPTION_SEED:
      s = parse_seed(o, text, &v.u, err);
      v.d = (double)v.u;
      break;
    case DD_OPTION_CHOICE: s = parse_choice(o, text, &v.i, err); break;
    case DD_OPTION_SIZE: s = parse_size(o, text, &v.w, &v.h, err); break;
    case DD_OPTION_CHANNELS: s = parse_channels(o, text, &v.channels, &v.n_channels, err); break;
    case DD_OPTION_LAYER: {
      int64_t idx;
      int overflow;
      if (!*text) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s must be a node name or an index, got ''", name_of(o).s);
      if (is_digit(text[0]) || text[0] == '-') {
        if (parse_integer(text, &idx, &overflow) || overflow) {
          if (overflow || idx < o->min || idx > o->max)
            return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s index must be in %.0f..%.0f, got '%s'", name_of(o).s, o->min,
                           o->max, text);
          v.i = idx;
          break;
        }
      }
      v.i = -1; /* a node name */
      break;
    }
    case DD_OPTION_TEXT:
      if (!*text) s = dd_fail(err, DD_ERR_INVALID_ARGUMENT, "--%s needs a non-empty value", o->name);
      break;
    case DD_OPTION_FLAG: break;
  }
  if (s == DD_OK) *out = v;
  return s;
}

dd_status dd_dream_options_set(dd_dream_options *opt, const char *name, const char *text, dd_error *err) {
  const row *r = find_row(name);
  if (!opt) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_dream_options_set: NULL options");
  if (r && !r->info.field)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "--%s is an option of the run, not of the dream", name);
  dd_option_value v;
  dd_status s = dd_option_parse(name, text, &v, err);
  if (s != DD_OK) return s;
  char *at = (char *)opt + r->offset;
  switch (r->info.kind) {
    case DD_OPTION_INT: *(int *)at = (int)v.i; break;
    case DD_OPTION_NUMBER: *(double *)at = v.d; break;
    case DD_OPTION_SEED: *(uint64_t *)at = v.u; break;
    case DD_OPTION_CHOICE:
      if (at == (char *)&opt->resample) opt->resample = (dd_resample)(v.i % 2); /* u8|float|lanczos-u8|lanczos-float */
      else *(int *)at = (int)v.i;
      break;
    case DD_OPTION_TEXT: *(const char **)at = text; break; /* objective: must outlive the options' use */
    case DD_OPTION_LAYER:
      opt->objective.layer = v.i < 0 ? text : NULL;
      if (v.i >= 0) opt->objective.layer_index = (int)v.i;
      break;
    case DD_OPTION_CHANNELS:
      dd_free((void *)opt->objective.channels);
      opt->objective.channels = v.channels;
      opt->objective.n_channels = v.n_channels;
      break;
    default: return dd_fail(err, DD_ERR_INTERNAL, "option --%s has no setter", name);
  }
  return DD_OK;
}

dd_status dd_dream_options_validate(const dd_dream_options *o, dd_error *err) {
  if (!o) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "NULL dream options");
  for (int i = 0; i < N_ROWS; i++) {
    const dd_option_info *in = &rows[i].info;
    const char *at = (const char *)o + rows[i].offset;
    if (!in->field) continue;
    if (in->kind == DD_OPTION_INT) {
      int v = *(const int *)at;
      if (v < in->min || v > in->max)
        return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s must be in %.0f..%.0f, got %d", in->field, in->min, in->max, v);
    } else if (in->kind == DD_OPTION_NUMBER) {
      double v = *(const double *)at;
      int ok = isfinite(v) && ((in->open & DD_OPTION_MIN_OPEN) ? v > in->min : v >= in->min) &&
               ((in->open & DD_OPTION_MAX_OPEN) ? v < in->max : v <= in->max);
      if (!ok)
        return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s must be a finite number in %c%g, %g%c, got %g", in->field,
                       (in->open & DD_OPTION_MIN_OPEN) ? '(' : '[', in->min, in->max,
                       (in->open & DD_OPTION_MAX_OPEN) ? ')' : ']', v);
    }
  }
  if (o->resample != DD_RESAMPLE_LANCZOS_U8 && o->resample != DD_RESAMPLE_LANCZOS_FLOAT)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "unknown resample mode %d", (int)o->resample);
  if (o->gradient_mode != DD_GRADIENT_SMOOTH && o->gradient_mode != DD_GRADIENT_LAPLACIAN)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "unknown gradient mode %d (smooth 0, laplacian 1)", o->gradient_mode);
  if (o->objective_expr && strlen(o->objective_expr) > DD_OBJECTIVE_MAX_TEXT)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "the objective is longer than %d bytes", DD_OBJECTIVE_MAX_TEXT);
  if (o->guide && (o->guide_width < 1 || o->guide_height < 1 || o->guide_width > 16384 || o->guide_height > 16384 ||
                   (int64_t)o->guide_width * o->guide_height > ((int64_t)1 << 26) ||
                   (o->guide_channels != 3 && o->guide_channels != 4)))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT,
                   "the guide image is %dx%d with %d channels; it must be 1..16384 per side, at most 2^26 pixels, "
                   "RGB or RGBA", o->guide_width, o->guide_height, o->guide_channels);
  if (o->objective.n_channels < 0 || o->objective.n_channels > MAX_CHANNELS ||
      (o->objective.n_channels > 0 && !o->objective.channels))
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "invalid channel list");
  return DD_OK;
}

/* ---- layouts ---------------------------------------------------------------- */

_Static_assert(sizeof(dd_resample) == sizeof(int32_t), "enums cross the seam as int32");
_Static_assert(sizeof(int) == sizeof(int32_t), "int is int32");

#define F(type, member, t) {#member, (uint32_t)offsetof(type, member), t}
static const dd_field options_layout[] = {
    F(dd_dream_options, objective.layer, DD_FIELD_PTR),
    F(dd_dream_options, objective.layer_index, DD_FIELD_I32),
    F(dd_dream_options, objective.channels, DD_FIELD_PTR),
    F(dd_dream_options, objective.n_channels, DD_FIELD_I32),
    F(dd_dream_options, num_iterations, DD_FIELD_I32),
    F(dd_dream_options, step_size, DD_FIELD_F64),
    F(dd_dream_options, tile_size, DD_FIELD_I32),
    F(dd_dream_options, num_repeats, DD_FIELD_I32),
    F(dd_dream_options, rescale_factor, DD_FIELD_F64),
    F(dd_dream_options, blend, DD_FIELD_F64),
    F(dd_dream_options, seed, DD_FIELD_U64),
    F(dd_dream_options, input_mean, DD_FIELD_F64),
    F(dd_dream_options, resample, DD_FIELD_I32),
    F(dd_dream_options, objective_expr, DD_FIELD_PTR),
    F(dd_dream_options, tv, DD_FIELD_F64),
    F(dd_dream_options, gradient_mode, DD_FIELD_I32),
    F(dd_dream_options, lap_levels, DD_FIELD_I32),
    F(dd_dream_options, roll, DD_FIELD_I32),
    F(dd_dream_options, pad, DD_FIELD_I32),
    F(dd_dream_options, jitter, DD_FIELD_I32),
    F(dd_dream_options, scale, DD_FIELD_F64),
    F(dd_dream_options, rotate, DD_FIELD_F64),
    F(dd_dream_options, guide, DD_FIELD_PTR),
    F(dd_dream_options, guide_width, DD_FIELD_I32),
    F(dd_dream_options, guide_height, DD_FIELD_I32),
    F(dd_dream_options, guide_channels, DD_FIELD_I32),
};
static const dd_field progress_layout[] = {
    F(dd_progress, octave, DD_FIELD_I32),      F(dd_progress, num_octaves, DD_FIELD_I32),
    F(dd_progress, iteration, DD_FIELD_I32),   F(dd_progress, num_iterations, DD_FIELD_I32),
    F(dd_progress, tile, DD_FIELD_I32),        F(dd_progress, num_tiles, DD_FIELD_I32),
    F(dd_progress, tiles_done, DD_FIELD_I64),  F(dd_progress, tiles_total, DD_FIELD_I64),
    F(dd_progress, fraction, DD_FIELD_F64),    F(dd_progress, tile_x, DD_FIELD_I32),
    F(dd_progress, tile_y, DD_FIELD_I32),      F(dd_progress, tile_w, DD_FIELD_I32),
    F(dd_progress, tile_h, DD_FIELD_I32),      F(dd_progress, image_w, DD_FIELD_I32),
    F(dd_progress, image_h, DD_FIELD_I32),     F(dd_progress, grad_min, DD_FIELD_F64),
    F(dd_progress, grad_max, DD_FIELD_F64),    F(dd_progress, step_scaled, DD_FIELD_F64),
    F(dd_progress, ms_core, DD_FIELD_F64),     F(dd_progress, ms_gradient, DD_FIELD_F64),
    F(dd_progress, ms_tiles, DD_FIELD_F64),    F(dd_progress, ms_stats, DD_FIELD_F64),
    F(dd_progress, ms_smooth, DD_FIELD_F64),   F(dd_progress, ms_update, DD_FIELD_F64),
    F(dd_progress, ms_levels, DD_FIELD_F64),
};
#undef F
/* a member appended after the last listed one leaves a tail the layout misses */
_Static_assert(offsetof(dd_dream_options, guide_channels) + sizeof(int32_t) + 4 >= sizeof(dd_dream_options),
               "dd_dream_options has a member options_layout does not list");
_Static_assert(offsetof(dd_progress, ms_levels) + sizeof(double) == sizeof(dd_progress),
               "dd_progress has a member progress_layout does not list");

const dd_field *dd_dream_options_layout(int *count, size_t *size) {
  if (count) *count = (int)(sizeof options_layout / sizeof options_layout[0]);
  if (size) *size = sizeof(dd_dream_options);
  return options_layout;
}
const dd_field *dd_progress_layout(int *count, size_t *size) {
  if (count) *count = (int)(sizeof progress_layout / sizeof progress_layout[0]);
  if (size) *size = sizeof(dd_progress);
  return progress_layout;
}
