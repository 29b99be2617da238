/* main.c — the native command-line tool.
 *
 *   deepdream [options] INPUT OUTPUT
 *
 * Runs the tutorial's recursive DeepDream on INPUT (JPEG or PNG) and writes
 * OUTPUT (.png or .jpg). See --help.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deepdream.h"
#include "deepdream_image.h"
#include "deepdream_profile.h"

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

static void usage(FILE *f) {
  fputs(
      "usage: deepdream [options] INPUT OUTPUT\n"
      "DeepDream as Hvass-Labs TensorFlow tutorial #14 does it, on a TensorFlow GraphDef model.\n\n"
      "  --model PATH        GraphDef .pb (default: $DEEPDREAM_MODEL, else models/default-model.pb)\n"
      "  --layer NAME|INDEX  layer to amplify: a name (mixed4b, mixed4d_3x3_bottleneck_pre_relu)\n"
      "                      or a tutorial layer index 0..11 (default 2)\n"
      "  --channels LIST     channel subset, e.g. 0:3 or 0,5,9 (default: all)\n"
      "  --iterations N      gradient steps per octave (10)\n"
      "  --step X            step size (3.0)\n"
      "  --tile N            tile size in pixels (400)\n"
      "  --octaves N         downscaled octaves below full size, the tutorial's num_repeats (4)\n"
      "  --rescale X         octave scale factor (0.7)\n"
      "  --blend X           share of the original image at each octave (0.2)\n"
      "  --seed N            random seed; same seed and build give the same bytes (0)\n"
      "  --mean X            subtract X from pixels before the network (0; the TF1 example uses 117)\n"
      "  --resample u8|float Lanczos through 8-bit as the tutorial (u8), or on floats\n"
      "  --noise WxH         start from seeded random noise of this size (INPUT is ignored: use -)\n"
      "  --show-gradient F   write the final smoothed gradient as an image (the tutorial's plot)\n"
      "  --zoom N            write N frames OUTPUT-0000.png ... of a DeepDream zoom movie\n"
      "  --zoom-scale X      zoom per frame (1.05)\n"
      "  --save-state F      on Ctrl-C, save the dream state to F (resume with --resume F)\n"
      "  --resume F          continue a dream saved with --save-state (INPUT is ignored)\n"
      "  --backend NAME      auto | reference | simd128 | xnnpack\n"
      "  --threads N         worker threads (1)\n"
      "  --quality N         JPEG quality (92)\n"
      "  --list-layers       print the model's layers and exit\n"
      "  --profile           time one gradient step (tile size x tile size) per op, and exit\n"
      "  --quiet             no progress bar\n",
      f);
}

static int parse_int(const char *s, int lo, int hi, const char *what, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi) {
    fprintf(stderr, "deepdream: %s must be an integer in %d..%d, got '%s'\n", what, lo, hi, s);
    return 0;
  }
  *out = (int)v;
  return 1;
}
static int parse_double(const char *s, const char *what, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v)) {
    fprintf(stderr, "deepdream: %s must be a number, got '%s'\n", what, s);
    return 0;
  }
  *out = v;
  return 1;
}

static int parse_channels(const char *s, int **out, int *n) {
  int cap = 16, k = 0;
  int *ch = (int *)malloc(sizeof(int) * cap);
  const char *p = s;
  while (*p) {
    char *end;
    long a = strtol(p, &end, 10), b;
    if (end == p || a < 0 || a > 100000) goto bad;
    b = a + 1;
    p = end;
    if (*p == ':') {
      p++;
      b = strtol(p, &end, 10);
      if (end == p || b <= a || b > 100001) goto bad;
      p = end;
    }
    for (long c = a; c < b; c++) {
      if (k == cap) ch = (int *)realloc(ch, sizeof(int) * (cap *= 2));
      ch[k++] = (int)c;
    }
    if (*p == ',') p++;
    else if (*p) goto bad;
  }
  *out = ch;
  *n = k;
  return 1;
bad:
  fprintf(stderr, "deepdream: bad channel list '%s' (use e.g. 0:3 or 1,5,7)\n", s);
  free(ch);
  return 0;
}

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = n >= 0 ? (unsigned char *)malloc((size_t)n + 1) : NULL;
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  if (p) *len = (size_t)n;
  return p;
}

static int write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  int ok = fwrite(data, 1, len, f) == len;
  ok &= fclose(f) == 0;
  return ok;
}

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  if (a < b) return 0;
  for (size_t i = 0; i < b; i++)
    if ((s[a - b + i] | 32) != (suf[i] | 32)) return 0;
  return 1;
}

static int save_image(const char *path, const uint8_t *px, int w, int h, int c, int quality) {
  uint8_t *bytes = NULL;
  size_t len = 0;
  dd_error err;
  dd_status s = (ends_with(path, ".jpg") || ends_with(path, ".jpeg"))
                    ? dd_image_encode_jpeg(px, w, h, c, quality, &bytes, &len, &err)
                    : dd_image_encode_png(px, w, h, c, &bytes, &len, &err);
  if (s != DD_OK) {
    fprintf(stderr, "deepdream: cannot encode %s: %s\n", path, err.message);
    return 0;
  }
  int ok = write_file(path, bytes, len);
  if (!ok) fprintf(stderr, "deepdream: cannot write %s: %s\n", path, strerror(errno));
  dd_free(bytes);
  return ok;
}

/* pixels -> floats, for the profile's input; returns 1 */
static int to_floats(float *x, const uint8_t *px, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = (float)px[i];
  return 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A bar redrawn in place on a terminal; one line per iteration in logs. */
static void progress_bar(const dd_progress *p, double t0, double f0) {
  static int last_key = -1; /* CLI-local display state */
  int tty = isatty(fileno(stderr));
  int key = p->octave * 10000 + p->iteration;
  if (!tty && key == last_key && p->fraction < 1.0) return;
  last_key = key;
  int width = 30, fill = (int)(p->fraction * width + 0.5);
  double el = now_s() - t0, gained = p->fraction - f0;
  double eta = gained > 0 ? el / gained * (1 - p->fraction) : 0;
  char tile[32] = "-";
  if (p->num_tiles) snprintf(tile, sizeof tile, "%d/%d", p->tile, p->num_tiles);
  fprintf(stderr, "%s[", tty ? "\r" : "");
  for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
  fprintf(stderr, "] %3.0f%%  octave %d/%d  iteration %d/%d  tile %s  %dx%d  %.0fs, ETA %.0fs%s", p->fraction * 100,
          p->octave + 1, p->num_octaves, p->iteration + (p->iteration < p->num_iterations), p->num_iterations, tile,
          p->image_w, p->image_h, el, eta, tty ? "   " : "\n");
  fflush(stderr);
}

typedef struct cli {
  const char *model_path, *in, *out, *grad_out, *save_state, *resume, *layer;
  int layer_index, quiet, list, profile, threads, quality, zoom, noise_w, noise_h;
  double zoom_scale;
  dd_backend backend;
  dd_dream_options o;
} cli;

/* Runs one dream to the end; returns malloc'd pixels or NULL. */
static uint8_t *run_dream(const cli *a, dd_dream *d, int *wp, int *hp, int *cp, const char *label) {
  dd_error err;
  dd_progress p;
  dd_status s;
  double t0 = now_s(), f0 = -1;
  while ((s = dd_dream_step(d, 1, &p, &err)) == DD_OK) {
    if (f0 < 0) f0 = 0;
    if (!a->quiet) progress_bar(&p, t0, f0);
    if (interrupted) {
      if (!a->quiet) fputc('\n', stderr);
      if (a->save_state) {
        void *st;
        size_t len;
        if (dd_dream_save_state(d, &st, &len, &err) == DD_OK && write_file(a->save_state, st, len))
          fprintf(stderr, "deepdream: interrupted; state saved to %s (continue with --resume %s)\n", a->save_state,
                  a->save_state);
        else
          fprintf(stderr, "deepdream: interrupted; could not save the state\n");
        dd_free(st);
      } else {
        fprintf(stderr, "deepdream: interrupted (use --save-state FILE to be able to resume)\n");
      }
      return NULL;
    }
  }
  if (!a->quiet) {
    progress_bar(&p, t0, 0);
    if (isatty(fileno(stderr))) fprintf(stderr, "\n");
  }
  if (s != DD_DONE) {
    fprintf(stderr, "deepdream: %s: %s\n", label, err.message);
    return NULL;
  }
  if (!a->quiet)
    fprintf(stderr, "%s: %.2f s (last step: gradient min %.6f, max %.6f, step size %.2f)\n", label, now_s() - t0,
            p.grad_min, p.grad_max, p.step_scaled);
  int w, h, c = dd_dream_channels(d);
  dd_dream_current_size(d, &w, &h);
  *wp = w;
  *hp = h;
  *cp = c;
  uint8_t *px = (uint8_t *)malloc((size_t)w * h * c);
  if (px && dd_dream_read_image(d, px, (size_t)w * h * c, &err) != DD_OK) {
    free(px);
    px = NULL;
  }
  if (a->grad_out) {
    uint8_t *g = (uint8_t *)malloc((size_t)w * h * 3);
    if (g && dd_dream_read_gradient(d, g, (size_t)w * h * 3, &err) == DD_OK) save_image(a->grad_out, g, w, h, 3, 95);
    free(g);
  }
  return px;
}

static int list_layers(dd_model *m) {
  dd_layer_info li;
  printf("dream layers (--layer NAME or INDEX):\n");
  for (int i = 0; i < dd_model_layer_count(m); i++)
    if (dd_model_layer_info(m, i, &li, NULL) == DD_OK) printf("  %2d  %-28s %5d channels\n", i, li.name, li.channels);
  int total = 0, n = dd_model_conv_layer_count(m);
  printf("conv layers (%d):\n", n);
  for (int i = 0; i < n; i++)
    if (dd_model_conv_layer_info(m, i, &li, NULL) == DD_OK) {
      printf("      %-44s %5d channels\n", li.name, li.channels);
      total += li.channels;
    }
  printf("total: %d conv layers, %d channels\n", n, total);
  return 0;
}

int main(int argc, char **argv) {
  cli a;
  memset(&a, 0, sizeof a);
  dd_dream_options_init(&a.o);
  a.layer_index = 2;
  a.threads = 1;
  a.quality = 92;
  a.zoom_scale = 1.05;
  a.backend = DD_BACKEND_AUTO;
  a.model_path = getenv("DEEPDREAM_MODEL");
  int *channels = NULL, n_channels = 0;
  const char *pos[2] = {NULL, NULL};
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                   \
  do {                                                                 \
    if (!v) {                                                          \
      fprintf(stderr, "deepdream: %s needs a value\n", k);             \
      return 2;                                                        \
    }                                                                  \
    i++;                                                               \
  } while (0)
    if (!strcmp(k, "-h") || !strcmp(k, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(k, "--quiet")) {
      a.quiet = 1;
    } else if (!strcmp(k, "--list-layers")) {
      a.list = 1;
    } else if (!strcmp(k, "--profile")) {
      a.profile = 1;
    } else if (!strcmp(k, "--model")) {
      NEED_VALUE();
      a.model_path = v;
    } else if (!strcmp(k, "--layer")) {
      NEED_VALUE();
      char *end;
      long idx = strtol(v, &end, 10);
      if (*v && !*end) {
        a.layer_index = (int)idx;
        a.layer = NULL;
      } else {
        a.layer = v;
      }
    } else if (!strcmp(k, "--channels")) {
      NEED_VALUE();
      free(channels);
      if (!parse_channels(v, &channels, &n_channels)) return 2;
    } else if (!strcmp(k, "--iterations")) {
      NEED_VALUE();
      if (!parse_int(v, 1, 1000, k, &a.o.num_iterations)) return 2;
    } else if (!strcmp(k, "--step")) {
      NEED_VALUE();
      if (!parse_double(v, k, &a.o.step_size)) return 2;
    } else if (!strcmp(k, "--tile")) {
      NEED_VALUE();
      if (!parse_int(v, 16, 2048, k, &a.o.tile_size)) return 2;
    } else if (!strcmp(k, "--octaves")) {
      NEED_VALUE();
      if (!parse_int(v, 0, 32, k, &a.o.num_repeats)) return 2;
    } else if (!strcmp(k, "--rescale")) {
      NEED_VALUE();
      if (!parse_double(v, k, &a.o.rescale_factor)) return 2;
    } else if (!strcmp(k, "--blend")) {
      NEED_VALUE();
      if (!parse_double(v, k, &a.o.blend)) return 2;
    } else if (!strcmp(k, "--seed")) {
      NEED_VALUE();
      char *end;
      a.o.seed = strtoull(v, &end, 10);
      if (*end) {
        fprintf(stderr, "deepdream: --seed must be a non-negative integer\n");
        return 2;
      }
    } else if (!strcmp(k, "--mean")) {
      NEED_VALUE();
      if (!parse_double(v, k, &a.o.input_mean)) return 2;
    } else if (!strcmp(k, "--resample")) {
      NEED_VALUE();
      if (!strcmp(v, "u8")) a.o.resample = DD_RESAMPLE_LANCZOS_U8;
      else if (!strcmp(v, "float")) a.o.resample = DD_RESAMPLE_LANCZOS_FLOAT;
      else {
        fprintf(stderr, "deepdream: --resample is u8 or float\n");
        return 2;
      }
    } else if (!strcmp(k, "--noise")) {
      NEED_VALUE();
      if (sscanf(v, "%dx%d", &a.noise_w, &a.noise_h) != 2 || a.noise_w < 1 || a.noise_h < 1 || a.noise_w > 16384 ||
          a.noise_h > 16384) {
        fprintf(stderr, "deepdream: --noise takes WxH, e.g. 400x400\n");
        return 2;
      }
    } else if (!strcmp(k, "--show-gradient")) {
      NEED_VALUE();
      a.grad_out = v;
    } else if (!strcmp(k, "--zoom")) {
      NEED_VALUE();
      if (!parse_int(v, 1, 100000, k, &a.zoom)) return 2;
    } else if (!strcmp(k, "--zoom-scale")) {
      NEED_VALUE();
      if (!parse_double(v, k, &a.zoom_scale) || a.zoom_scale <= 1.0 || a.zoom_scale > 4) {
        fprintf(stderr, "deepdream: --zoom-scale must be in (1, 4]\n");
        return 2;
      }
    } else if (!strcmp(k, "--save-state")) {
      NEED_VALUE();
      a.save_state = v;
    } else if (!strcmp(k, "--resume")) {
      NEED_VALUE();
      a.resume = v;
    } else if (!strcmp(k, "--backend")) {
      NEED_VALUE();
      if (!strcmp(v, "auto")) a.backend = DD_BACKEND_AUTO;
      else if (!strcmp(v, "reference")) a.backend = DD_BACKEND_REFERENCE;
      else if (!strcmp(v, "simd128")) a.backend = DD_BACKEND_SIMD128;
      else if (!strcmp(v, "xnnpack")) a.backend = DD_BACKEND_XNNPACK;
      else {
        fprintf(stderr, "deepdream: unknown backend '%s'\n", v);
        return 2;
      }
    } else if (!strcmp(k, "--threads")) {
      NEED_VALUE();
      if (!parse_int(v, 1, 64, k, &a.threads)) return 2;
    } else if (!strcmp(k, "--quality")) {
      NEED_VALUE();
      if (!parse_int(v, 1, 100, k, &a.quality)) return 2;
    } else if (k[0] == '-' && k[1]) {
      fprintf(stderr, "deepdream: unknown option %s (see --help)\n", k);
      return 2;
    } else if (npos < 2) {
      pos[npos++] = k;
    } else {
      fprintf(stderr, "deepdream: too many arguments (see --help)\n");
      return 2;
    }
  }
  if (!a.model_path) a.model_path = "models/default-model.pb";
  if (!a.list && !a.profile && npos != 2) {
    usage(stderr);
    return 2;
  }
  a.in = pos[0];
  a.out = pos[1];

  size_t mlen;
  unsigned char *mbytes = read_file(a.model_path, &mlen);
  if (!mbytes) {
    fprintf(stderr, "deepdream: cannot read model %s: %s\n", a.model_path, strerror(errno));
    return 1;
  }
  dd_model_options mo;
  dd_model_options_init(&mo);
  mo.backend = a.backend;
  mo.num_threads = a.threads;
  mo.adopt_buffer = 1;
  dd_model *m = NULL;
  dd_error err;
  if (dd_model_load_graphdef(mbytes, mlen, &mo, &m, &err) != DD_OK) {
    fprintf(stderr, "deepdream: cannot load %s: %s\n", a.model_path, err.message);
    return 1;
  }
  if (a.list) {
    int rc = list_layers(m);
    dd_model_free(m);
    return rc;
  }
  if (a.layer_index >= dd_model_layer_count(m) && !a.layer) a.layer_index = dd_model_layer_count(m) - 1;
  a.o.objective.layer = a.layer;
  a.o.objective.layer_index = a.layer_index;
  a.o.objective.channels = channels;
  a.o.objective.n_channels = n_channels;
  if (a.profile) {
    int t = a.o.tile_size;
    size_t n = (size_t)t * t * 3;
    float *x = (float *)malloc(sizeof(float) * n), *g = (float *)malloc(sizeof(float) * n);
    uint8_t *noise = (uint8_t *)malloc(n);
    int rc2 = 1;
    if (!x || !g || !noise) {
      fprintf(stderr, "deepdream: out of memory for a %dx%d profile\n", t, t);
    } else if (dd_image_noise(1, t, t, noise, &err) == DD_OK && to_floats(x, noise, n) &&
               dd_model_gradient(m, x, t, t, &a.o.objective, g, NULL, &err) == DD_OK) {
      /* that first gradient was the warm-up: plans, packs */
      dd_model_set_profile(m, 1, NULL);
      double t0 = now_s();
      dd_model_gradient(m, x, t, t, &a.o.objective, g, NULL, &err);
      double el = now_s() - t0;
      dd_model_profile_print(m, stdout, NULL);
      printf("one %dx%d gradient step: %.1f ms wall, %d thread(s); activation arena peak %.1f MiB\n", t, t, el * 1e3,
             a.threads, dd_model_arena_peak(m) / 1048576.0);
      dd_model_set_profile(m, 0, NULL);
      rc2 = 0;
    } else {
      fprintf(stderr, "deepdream: %s\n", err.message);
    }
    free(x);
    free(g);
    free(noise);
    free(channels);
    dd_model_free(m);
    return rc2;
  }
  signal(SIGINT, on_sigint);

  int rc = 1, w = 0, h = 0, c = 3;
  uint8_t *px = NULL;
  dd_dream *d = NULL;
  if (a.resume) {
    size_t slen;
    unsigned char *st = read_file(a.resume, &slen);
    if (!st) {
      fprintf(stderr, "deepdream: cannot read %s: %s\n", a.resume, strerror(errno));
      goto out;
    }
    dd_status s = dd_dream_restore(m, st, slen, &d, &err);
    free(st);
    if (s != DD_OK) {
      fprintf(stderr, "deepdream: cannot resume from %s: %s\n", a.resume, err.message);
      goto out;
    }
  } else if (a.noise_w) {
    w = a.noise_w;
    h = a.noise_h;
    px = (uint8_t *)malloc((size_t)w * h * 3);
    if (!px || dd_image_noise(a.o.seed, w, h, px, &err) != DD_OK) {
      fprintf(stderr, "deepdream: --noise: %s\n", px ? err.message : "out of memory");
      goto out;
    }
  } else {
    size_t ilen;
    unsigned char *ib = read_file(a.in, &ilen);
    if (!ib) {
      fprintf(stderr, "deepdream: cannot read %s: %s\n", a.in, strerror(errno));
      goto out;
    }
    dd_status s = dd_image_decode(ib, ilen, &w, &h, &c, &px, &err);
    free(ib);
    if (s != DD_OK) {
      fprintf(stderr, "deepdream: %s: %s\n", a.in, err.message);
      goto out;
    }
  }

  if (a.zoom) {
    /* the tutorial's movie exercise: dream, zoom in a little, repeat */
    dd_dream_options fo = a.o;
    size_t n = (size_t)w * h * c;
    uint8_t *crop = (uint8_t *)malloc(n);
    char path[4096];
    const char *dot = strrchr(a.out, '.');
    int stem = dot ? (int)(dot - a.out) : (int)strlen(a.out);
    for (int f = 0; f < a.zoom; f++) {
      fo.seed = a.o.seed + (uint64_t)f;
      if (dd_dream_begin(m, &fo, px, w, h, c, &d, &err) != DD_OK) {
        fprintf(stderr, "deepdream: %s\n", err.message);
        goto out;
      }
      char label[32];
      snprintf(label, sizeof label, "frame %d/%d", f + 1, a.zoom);
      int rw, rh, rc2;
      uint8_t *res = run_dream(&a, d, &rw, &rh, &rc2, label);
      dd_dream_free(d);
      d = NULL;
      if (!res) goto out;
      snprintf(path, sizeof path, "%.*s-%04d%s", stem, a.out, f, dot ? dot : ".png");
      if (!save_image(path, res, w, h, c, a.quality)) {
        free(res);
        goto out;
      }
      /* centre crop of 1/zoom_scale, resized back to full size */
      int cw = (int)(w / a.zoom_scale), ch = (int)(h / a.zoom_scale);
      int x0 = (w - cw) / 2, y0 = (h - ch) / 2;
      for (int y = 0; y < ch; y++) memcpy(crop + (size_t)y * cw * c, res + ((size_t)(y0 + y) * w + x0) * c, (size_t)cw * c);
      if (dd_resize_lanczos_u8(crop, cw, ch, c, px, w, h, &err) != DD_OK) {
        fprintf(stderr, "deepdream: zoom: %s\n", err.message);
        free(res);
        goto out;
      }
      free(res);
    }
    free(crop);
    rc = 0;
    goto out;
  }

  if (!d && dd_dream_begin(m, &a.o, px, w, h, c, &d, &err) != DD_OK) {
    fprintf(stderr, "deepdream: %s\n", err.message);
    goto out;
  }
  {
    uint8_t *res = run_dream(&a, d, &w, &h, &c, "dream");
    if (!res) goto out;
    rc = save_image(a.out, res, w, h, c, a.quality) ? 0 : 1;
    if (rc == 0 && !a.quiet) fprintf(stderr, "wrote %s (%dx%d)\n", a.out, w, h);
    free(res);
  }
out:
  free(px);
  free(channels);
  dd_dream_free(d);
  dd_model_free(m);
  return rc;
}
