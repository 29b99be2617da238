/* objective_parse.c — the `objective` option's text -> a dd_objective_prog
 * (grammar: include/deepdream_options.h; terms: objective.h). Syntax only:
 * layers are bound to a model by objective.c. Hostile text is bounded: at
 * most DD_OBJECTIVE_MAX_TEXT bytes, DD_OBJECTIVE_MAX_TERMS terms, vectors of
 * DD_TERM_MAX_VECTOR numbers, no recursion. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "objective.h"

typedef struct parser {
  const char *text, *p;
  dd_error *err;
} parser;

static void skip(parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

/* "objective: <what> at character N of '<text around it>'" */
static dd_status fail_at(parser *ps, const char *what) {
  size_t at = (size_t)(ps->p - ps->text), n = strlen(ps->text);
  size_t from = at > 40 ? at - 40 : 0, to = at + 40 < n ? at + 40 : n;
  return dd_fail(ps->err, DD_ERR_INVALID_ARGUMENT, "objective: %s at character %zu of '%s%.*s%s'", what, at + 1,
                 from ? "..." : "", (int)(to - from), ps->text + from, to < n ? "..." : "");
}

static int expect(parser *ps, char c) {
  skip(ps);
  if (*ps->p != c) return 0;
  ps->p++;
  return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '/' || c == '.' ||
         c == '-' || c == ':';
}

/* a finite decimal number (digits, '.', exponent; optional sign) */
static int number(parser *ps, double *out) {
  skip(ps);
  const char *s = ps->p;
  const char *q = s;
  if (*q == '-' || *q == '+') q++;
  if (!is_digit(*q) && !(*q == '.' && is_digit(q[1]))) return 0;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || !isfinite(v) || errno == ERANGE) return 0;
  ps->p = end;
  *out = v;
  return 1;
}

static int integer(parser *ps, int lo, int hi, int *out) {
  skip(ps);
  const char *s = ps->p;
  int neg = *s == '-';
  if (neg) s++;
  if (!is_digit(*s)) return 0;
  long long v = 0;
  while (is_digit(*s)) {
    v = v * 10 + (*s++ - '0');
    if (v > 1000000000LL) return 0;
  }
  if (neg) v = -v;
  if (v < lo || v > hi) return 0;
  ps->p = s;
  *out = (int)v;
  return 1;
}

/* a call's first argument: a node name or digits (a dream-layer index) */
static dd_status layer_arg(parser *ps, dd_term *t) {
  skip(ps);
  const char *s = ps->p;
  while (is_name_char(*ps->p)) ps->p++;
  size_t n = (size_t)(ps->p - s);
  if (n == 0) return fail_at(ps, "expected a layer name or index");
  if (n > DD_TERM_MAX_LAYER_NAME) return fail_at(ps, "layer name longer than 255 bytes");
  int digits = 1;
  for (size_t i = 0; i < n; i++) digits &= is_digit(s[i]);
  if (digits) {
    if (n > 6) return fail_at(ps, "layer index too large");
    t->layer_index = atoi(s);
    t->layer[0] = 0;
  } else {
    memcpy(t->layer, s, n);
    t->layer[n] = 0;
    t->layer_index = -1;
  }
  return DD_OK;
}

static dd_status push_channels(parser *ps, dd_term *t, int a, int b) {
  if (b <= a) return fail_at(ps, "empty channel range (a:b means a..b-1)");
  if ((int64_t)t->n_channels + (b - a) > 65536) return fail_at(ps, "more than 65536 channels");
  int *c = (int *)realloc(t->channels, sizeof(int) * (size_t)(t->n_channels + (b - a)));
  if (!c) return dd_fail(ps->err, DD_ERR_OUT_OF_MEMORY, "objective: out of memory for channels");
  t->channels = c;
  for (int v = a; v < b; v++) t->channels[t->n_channels++] = v;
  return DD_OK;
}

/* c | a:b */
static dd_status channel_item(parser *ps, dd_term *t) {
  int a, b;
  if (!integer(ps, 0, 65535, &a)) return fail_at(ps, "expected a channel number in 0..65535");
  b = a + 1;
  if (expect(ps, ':') && !integer(ps, 0, 65536, &b)) return fail_at(ps, "expected the end of a channel range");
  return push_channels(ps, t, a, b);
}

/* CH := c | a:b | [item, ...] */
static dd_status channel_spec(parser *ps, dd_term *t) {
  dd_status s;
  if (!expect(ps, '[')) return channel_item(ps, t);
  do {
    if ((s = channel_item(ps, t)) != DD_OK) return s;
  } while (expect(ps, ','));
  return expect(ps, ']') ? DD_OK : fail_at(ps, "expected ',' or ']' in a channel list");
}

static dd_status vector_spec(parser *ps, dd_term *t) {
  if (!expect(ps, '[')) return fail_at(ps, "expected '[' and a list of numbers");
  do {
    double v;
    if (!number(ps, &v)) return fail_at(ps, "expected a number");
    if (t->n_vec >= DD_TERM_MAX_VECTOR) return fail_at(ps, "more than 65536 numbers in a direction");
    if ((t->n_vec & (t->n_vec - 1)) == 0) { /* grow at powers of two */
      float *nv = (float *)realloc(t->vec, sizeof(float) * (size_t)(t->n_vec ? 2 * t->n_vec : 1));
      if (!nv) return dd_fail(ps->err, DD_ERR_OUT_OF_MEMORY, "objective: out of memory for a direction");
      t->vec = nv;
    }
    t->vec[t->n_vec++] = (float)v;
  } while (expect(ps, ','));
  return expect(ps, ']') ? DD_OK : fail_at(ps, "expected ',' or ']' in a direction");
}

static const char *const names[DD_TERM_KIND_COUNT] = {"square", "channel", "neuron", "direction",
                                                       "strong", "weak",    "guide"};

static dd_status call(parser *ps, dd_term *t) {
  skip(ps);
  int kind = -1;
  for (int k = 0; k < DD_TERM_KIND_COUNT && kind < 0; k++) {
    size_t n = strlen(names[k]);
    if (!strncmp(ps->p, names[k], n) && !is_name_char(ps->p[n])) {
      kind = k;
      ps->p += n;
    }
  }
  if (kind < 0) return fail_at(ps, "expected square, channel, neuron, direction, strong, weak or guide");
  t->kind = (dd_term_kind)kind;
  if (!expect(ps, '(')) return fail_at(ps, "expected '('");
  dd_status s = layer_arg(ps, t);
  if (s != DD_OK) return s;
  int more = expect(ps, ',');
  switch (t->kind) {
    case DD_TERM_SQUARE:
      if (more && (s = channel_spec(ps, t)) != DD_OK) return s;
      break;
    case DD_TERM_CHANNEL:
    case DD_TERM_NEURON: {
      int c;
      if (!more || !integer(ps, 0, 65535, &c)) return fail_at(ps, "expected a channel number in 0..65535");
      if ((s = push_channels(ps, t, c, c + 1)) != DD_OK) return s;
      if (t->kind == DD_TERM_NEURON && expect(ps, ',')) {
        if (!integer(ps, -65536, 65536, &t->dx)) return fail_at(ps, "expected the neuron's x offset");
        if (!expect(ps, ',') || !integer(ps, -65536, 65536, &t->dy))
          return fail_at(ps, "expected ',' and the neuron's y offset");
      }
      break;
    }
    case DD_TERM_DIRECTION:
      if (!more) return fail_at(ps, "expected ',' and a direction [v0, v1, ...]");
      if ((s = vector_spec(ps, t)) != DD_OK) return s;
      break;
    case DD_TERM_STRONG:
    case DD_TERM_WEAK:
      if (!more || !integer(ps, 1, 65536, &t->k)) return fail_at(ps, "expected a channel count k in 1..65536");
      break;
    case DD_TERM_GUIDE:
      if (more) return fail_at(ps, "guide takes only a layer");
      break;
    case DD_TERM_KIND_COUNT: break;
  }
  return expect(ps, ')') ? DD_OK : fail_at(ps, "expected ')'");
}

void dd_objective_free(dd_objective_prog *p) {
  if (!p) return;
  for (int i = 0; i < p->n_terms; i++) {
    free(p->terms[i].channels);
    free(p->terms[i].vec);
    free(p->terms[i].guide);
  }
  dd_aligned_free(p->tmp);
  dd_guide_match_free(&p->match);
  memset(p, 0, sizeof *p);
}

dd_status dd_objective_parse(const char *text, dd_objective_prog *p, dd_error *err) {
  if (!p) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_objective_parse: NULL program");
  memset(p, 0, sizeof *p);
  if (!text || !*text) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: the expression is empty");
  if (strlen(text) > DD_OBJECTIVE_MAX_TEXT)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "objective: the expression is longer than %d bytes",
                   DD_OBJECTIVE_MAX_TEXT);
  parser ps = {text, text, err};
  double sign = 1;
  skip(&ps);
  if (*ps.p == '-' || *ps.p == '+') sign = *ps.p++ == '-' ? -1 : 1;
  for (;;) {
    if (p->n_terms == DD_OBJECTIVE_MAX_TERMS) {
      dd_status s = fail_at(&ps, "more than 16 terms");
      dd_objective_free(p);
      return s;
    }
    dd_term *t = &p->terms[p->n_terms++];
    t->weight = sign;
    double w;
    const char *save = ps.p;
    if (number(&ps, &w)) {
      if (!expect(&ps, '*')) ps.p = save; /* not a weight: let call() name the problem */
      else t->weight = sign * w;
    }
    dd_status s = call(&ps, t);
    if (s != DD_OK) {
      dd_objective_free(p);
      return s;
    }
    skip(&ps);
    if (!*ps.p) return DD_OK;
    if (*ps.p != '+' && *ps.p != '-') {
      s = fail_at(&ps, "expected '+', '-' or the end");
      dd_objective_free(p);
      return s;
    }
    sign = *ps.p++ == '-' ? -1 : 1;
  }
}

dd_status dd_objective_from_default(const dd_objective *o, dd_objective_prog *p, dd_error *err) {
  memset(p, 0, sizeof *p);
  dd_term *t = &p->terms[0];
  p->n_terms = 1;
  t->kind = DD_TERM_SQUARE;
  t->weight = 1;
  if (o->layer && o->layer[0]) {
    size_t n = strlen(o->layer);
    if (n > DD_TERM_MAX_LAYER_NAME)
      return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "layer name longer than %d bytes", DD_TERM_MAX_LAYER_NAME);
    memcpy(t->layer, o->layer, n + 1);
    t->layer_index = -1;
  } else {
    t->layer_index = o->layer_index;
  }
  if (o->n_channels > 0) {
    t->channels = (int *)malloc(sizeof(int) * (size_t)o->n_channels);
    if (!t->channels) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory for the channel list");
    memcpy(t->channels, o->channels, sizeof(int) * (size_t)o->n_channels);
    t->n_channels = o->n_channels;
  }
  return DD_OK;
}
