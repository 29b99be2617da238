/* test_options.c — the option table both command lines and the JS API parse
 * through (include/deepdream_options.h): integers are integers, ranges are
 * checked, messages quote the text as given, channel ranges are non-empty,
 * seeds span 0..2^64-1; the struct layouts cover their structs; the status
 * list is the enum. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "deepdream.h"
#include "deepdream_options.h"
#include "testutil.h"

static void refused(const char *name, const char *text, const char *want) {
  dd_option_value v;
  dd_error err;
  memset(&err, 0, sizeof err);
  dd_status s = dd_option_parse(name, text, &v, &err);
  CHECKF(s == DD_ERR_INVALID_ARGUMENT, "--%s %s -> %d, want DD_ERR_INVALID_ARGUMENT", name, text, (int)s);
  CHECKF(strstr(err.message, want) != NULL, "--%s %s: message '%s' lacks '%s'", name, text, err.message, want);
}

static dd_option_value accepted(const char *name, const char *text) {
  dd_option_value v;
  memset(&v, 0, sizeof v);
  dd_error err;
  dd_status s = dd_option_parse(name, text, &v, &err);
  CHECKF(s == DD_OK, "--%s %s -> %d (%s)", name, text, (int)s, s ? err.message : "");
  return v;
}

static void test_values(void) {
  refused("iterations", "1.5", "got '1.5'");
  refused("iterations", "1000000000000", "got '1000000000000'");
  refused("iterations", "99999999999999999999999", "got '99999999999999999999999'");
  refused("iterations", "abc", "must be an integer in 1..1000");
  refused("iterations", "", "got ''");
  refused("threads", "0", "threads must be an integer in 1..64, got '0'");
  refused("quality", "0", "quality must be an integer in 1..100, got '0'");
  refused("quality", "101", "got '101'");
  refused("channels", "0:0", "the range 0:0 is empty");
  refused("channels", "5:2", "the range 5:2 is empty");
  refused("channels", "1,", "bad channel list");
  refused("channels", "-1", "bad channel list");
  refused("seed", "-1", "got '-1'");
  refused("seed", "18446744073709551616", "got '18446744073709551616'");
  refused("seed", "1.5", "got '1.5'");
  refused("rescale", "1", "rescale (rescale_factor) must be a number in (0, 1), got '1'");
  refused("rescale", "nan", "got 'nan'");
  refused("step", "inf", "got 'inf'");
  refused("zoom-scale", "1", "(1, 4]");
  refused("resample", "cubic", "resample must be one of");
  refused("noise", "0x5", "got '0x5'");
  refused("layer", "-1", "index must be in 0..");
  refused("quiet", "yes", "takes no value");
  dd_option_value v;
  CHECK(dd_option_parse("bogus", "1", &v, NULL) == DD_ERR_NOT_FOUND);

  CHECK(accepted("iterations", "1000").i == 1000);
  CHECK(accepted("seed", "18446744073709551615").u == UINT64_MAX);
  CHECK(accepted("rescale", "0.7").d == 0.7);
  CHECK(accepted("layer", "7").i == 7);
  CHECK(accepted("layer", "mixed4b").i == -1);
  CHECK(accepted("layer", "3x3").i == -1);
  v = accepted("noise", "400x300");
  CHECK(v.w == 400 && v.h == 300);
  v = accepted("backend", "xnnpack");
  CHECK(v.i == DD_BACKEND_XNNPACK);
  v = accepted("channels", "0:3,7");
  CHECK(v.n_channels == 4 && v.channels && v.channels[0] == 0 && v.channels[2] == 2 && v.channels[3] == 7);
  dd_free(v.channels);
  v = accepted("channels", "");
  CHECK(v.n_channels == 0 && !v.channels);
}

static void test_dream_options_set(void) {
  dd_dream_options o;
  dd_dream_options_init(&o);
  dd_error err;
  CHECK_OK(dd_dream_options_set(&o, "iterations", "3", &err));
  CHECK_OK(dd_dream_options_set(&o, "seed", "18446744073709551615", &err));
  CHECK_OK(dd_dream_options_set(&o, "resample", "lanczos-float", &err));
  CHECK_OK(dd_dream_options_set(&o, "layer", "mixed4b", &err));
  CHECK_OK(dd_dream_options_set(&o, "channels", "2:4", &err));
  CHECK_OK(dd_dream_options_set(&o, "channels", "9", &err)); /* replaces (and frees) the list */
  CHECK(o.num_iterations == 3 && o.seed == UINT64_MAX && o.resample == DD_RESAMPLE_LANCZOS_FLOAT);
  CHECK(o.objective.layer && !strcmp(o.objective.layer, "mixed4b"));
  CHECK(o.objective.n_channels == 1 && o.objective.channels[0] == 9);
  CHECK_OK(dd_dream_options_set(&o, "layer", "5", &err));
  CHECK(!o.objective.layer && o.objective.layer_index == 5);
  CHECK(dd_dream_options_set(&o, "quality", "90", &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_dream_options_set(&o, "iterations", "0", &err) == DD_ERR_INVALID_ARGUMENT && o.num_iterations == 3);
  CHECK_OK(dd_dream_options_validate(&o, &err));
  o.tile_size = 8;
  CHECK(dd_dream_options_validate(&o, &err) == DD_ERR_INVALID_ARGUMENT && strstr(err.message, "tile_size"));
  dd_free((void *)o.objective.channels);

  /* beyond the tutorial: every new option defaults to off and sets its member by name */
  dd_dream_options_init(&o);
  CHECK(!o.objective_expr && o.tv == 0 && o.gradient_mode == DD_GRADIENT_SMOOTH && o.lap_levels == 4 && o.roll == 0 &&
        o.pad == 0 && o.jitter == 0 && o.scale == 0 && o.rotate == 0 && !o.guide);
  const char *expr = "0.5*channel(mixed4c,97)";
  CHECK_OK(dd_dream_options_set(&o, "objective", expr, &err));
  CHECK_OK(dd_dream_options_set(&o, "gradient", "laplacian", &err));
  CHECK_OK(dd_dream_options_set(&o, "lap-levels", "6", &err));
  CHECK_OK(dd_dream_options_set(&o, "tv", "2.5", &err));
  CHECK_OK(dd_dream_options_set(&o, "roll", "32", &err));
  CHECK_OK(dd_dream_options_set(&o, "pad", "12", &err));
  CHECK_OK(dd_dream_options_set(&o, "jitter", "8", &err));
  CHECK_OK(dd_dream_options_set(&o, "scale", "0.1", &err));
  CHECK_OK(dd_dream_options_set(&o, "rotate", "10", &err));
  CHECK(o.objective_expr == expr && o.gradient_mode == DD_GRADIENT_LAPLACIAN && o.lap_levels == 6 && o.tv == 2.5 &&
        o.roll == 32 && o.pad == 12 && o.jitter == 8 && o.scale == 0.1 && o.rotate == 10);
  CHECK(o.resample == DD_RESAMPLE_LANCZOS_U8); /* a CHOICE other than resample leaves resample alone */
  CHECK_OK(dd_dream_options_validate(&o, &err));
  CHECK(dd_dream_options_set(&o, "guide", "x.png", &err) == DD_ERR_INVALID_ARGUMENT); /* a path: the CLIs' */
  refused("gradient", "blur", "gradient (gradient_mode) must be one of smooth|laplacian");
  refused("lap-levels", "9", "must be an integer in 1..8");
  refused("scale", "0.6", "must be a number in [0, 0.5]");
  refused("rotate", "-1", "must be a number in [0, 180]");
  refused("objective", "", "needs a non-empty value");
  o.gradient_mode = 2;
  CHECK(dd_dream_options_validate(&o, &err) == DD_ERR_INVALID_ARGUMENT && strstr(err.message, "gradient mode 2"));
  o.gradient_mode = 0;
  uint8_t px[12] = {0};
  o.guide = px, o.guide_width = 2, o.guide_height = 2, o.guide_channels = 2;
  CHECK(dd_dream_options_validate(&o, &err) == DD_ERR_INVALID_ARGUMENT && strstr(err.message, "RGB or RGBA"));
}

/* every byte of the struct is in a listed field or padding after one */
static void check_layout(const char *what, const dd_field *f, int n, size_t size) {
  size_t end = 0;
  for (int i = 0; i < n; i++) {
    size_t sz = f[i].type == DD_FIELD_I32 ? 4 : f[i].type == DD_FIELD_PTR ? sizeof(void *) : 8;
    CHECKF(f[i].offset >= end && f[i].offset - end < 8 && f[i].offset % sz == 0, "%s.%s at %u after %zu", what,
           f[i].name, f[i].offset, end);
    end = f[i].offset + sz;
  }
  CHECKF(end <= size && size - end < 8, "%s: fields end at %zu of %zu bytes", what, end, size);
}

static void test_layouts(void) {
  int n;
  size_t size;
  const dd_field *f = dd_dream_options_layout(&n, &size);
  CHECK(n == 26 && size == sizeof(dd_dream_options));
  check_layout("dd_dream_options", f, n, size);
  CHECK(f[4].offset == offsetof(dd_dream_options, num_iterations) && !strcmp(f[4].name, "num_iterations"));
  f = dd_progress_layout(&n, &size);
  CHECK(n == 25 && size == sizeof(dd_progress));
  CHECK(f[24].offset == offsetof(dd_progress, ms_levels) && !strcmp(f[24].name, "ms_levels"));
  check_layout("dd_progress", f, n, size);
  CHECK(f[6].offset == offsetof(dd_progress, tiles_done) && f[6].type == DD_FIELD_I64);
  /* every option that sets a member names one the layout lists */
  const dd_field *of = dd_dream_options_layout(&n, NULL);
  for (int i = 0; i < dd_option_count(); i++) {
    const dd_option_info *o = dd_option_at(i);
    if (!o->field) continue;
    int found = 0;
    for (int k = 0; k < n; k++) found |= !strcmp(of[k].name, o->field);
    CHECKF(found, "option %s sets %s, which the layout lacks", o->name, o->field);
    CHECKF(dd_option_find(o->name) == o, "dd_option_find(%s)", o->name);
  }
}

static void test_statuses(void) {
  CHECK(dd_status_count() == 13);
  for (int i = 0; i < dd_status_count(); i++) {
    dd_status s = dd_status_at(i);
    const char *name = dd_status_string(s);
    CHECKF(strncmp(name, s < 0 ? "DD_ERR_" : "DD_", s < 0 ? 7 : 3) == 0 && strcmp(name, "DD_ERR_UNKNOWN"), "%d: %s",
           (int)s, name);
  }
  CHECK(dd_status_at(0) == DD_OK && dd_status_at(1) == DD_DONE && dd_status_at(12) == DD_ERR_INTERNAL);
  CHECK(!strcmp(dd_status_string(DD_ERR_PARSE), "DD_ERR_PARSE"));
}

int main(void) {
  TEST_RUN(test_values);
  TEST_RUN(test_dream_options_set);
  TEST_RUN(test_layouts);
  TEST_RUN(test_statuses);
  return test_summary();
}
