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
#include <sys/stat.h>
#include <unistd.h>

#include "deepdream.h"
#include "deepdream_image.h"
#include "deepdream_options.h"
#include "deepdream_profile.h"
#include "atomic_file.h"

static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

/* --help: the option table of include/deepdream_options.h, which the Node CLI
   prints too (both take the same options). */
static void usage(FILE *f) {
  fputs("usage: deepdream [options] INPUT OUTPUT\n"
        "DeepDream as Hvass-Labs TensorFlow tutorial #14 does it, on a TensorFlow GraphDef or ONNX model.\n\n",
        f);
  for (int i = 0; i < dd_option_count(); i++) {
    const dd_option_info *o = dd_option_at(i);
    char head[64];
    snprintf(head, sizeof head, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(f, "  %-24s %s\n", head, o->help);
  }
  fputs("  -h, --help               this text\n", f);
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

/* Whole-file writes go through a synced temporary renamed over `path` (atomic_file.c):
 * a crash leaves the old file or the new one. Prints the reason on failure. */
static int write_file(const char *path, const void *data, size_t len) {
  dd_error err;
  if (dd_atomic_write_file(path, data, len, &err) == DD_OK) return 1;
  fprintf(stderr, "deepdream: %s\n", err.message);
  return 0;
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
  const char *model_path, *in, *out, *grad_out, *save_state, *resume, *checkpoint, *guide;
  int quiet, list, profile, threads, quality, zoom, noise_w, noise_h;
  double zoom_scale;
  dd_backend backend;
  dd_dream_options o;
  char checkpoint_file[4096]; /* --checkpoint DIR: DIR/ID.ddstate */
  char checkpoint_id[64];
} cli;

/* Saves the dream's state to `path`; returns 1 on success. */
static int save_state_file(dd_dream *d, const char *path) {
  void *st = NULL;
  size_t len = 0;
  dd_error err;
  int ok = dd_dream_save_state(d, &st, &len, &err) == DD_OK && write_file(path, st, len);
  dd_free(st);
  return ok;
}

/* Runs one dream to the end; returns malloc'd pixels or NULL. */
static uint8_t *run_dream(const cli *a, dd_dream *d, int *wp, int *hp, int *cp, const char *label) {
  dd_error err;
  dd_progress p;
  dd_status s;
  double t0 = now_s(), f0 = -1;
  int tiles = 0;
  while ((s = dd_dream_step(d, 1, &p, &err)) == DD_OK) {
    if (f0 < 0) f0 = 0;
    if (!a->quiet) progress_bar(&p, t0, f0);
    if (a->checkpoint && ++tiles % 8 == 0 && !save_state_file(d, a->checkpoint_file))
      fprintf(stderr, "deepdream: cannot write the checkpoint %s: %s\n", a->checkpoint_file, strerror(errno));
    if (interrupted) {
      if (!a->quiet) fputc('\n', stderr);
      if (a->save_state) {
        if (save_state_file(d, a->save_state))
          fprintf(stderr, "deepdream: interrupted; state saved to %s (continue with --resume %s)\n", a->save_state,
                  a->save_state);
        else
          fprintf(stderr, "deepdream: interrupted; could not save the state\n");
      } else if (a->checkpoint && save_state_file(d, a->checkpoint_file)) {
        fprintf(stderr, "deepdream: interrupted; resume with --checkpoint %s --resume %s\n", a->checkpoint,
                a->checkpoint_id);
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

/* The default model: next to the program, not in the working directory.
   Candidates, relative to the executable's directory: ../models (the build
   tree, build/deepdream), ../share/deepdream-wasm (an install prefix), and the
   directory itself. Returns the first that exists, else the first. */
static const char *default_model_path(const char *argv0, char *buf, size_t cap) {
  char exe[3072];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) exe[n] = 0;
  else if (!realpath(argv0, exe)) snprintf(exe, sizeof exe, "%s", argv0);
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  else snprintf(exe, sizeof exe, ".");
  static const char *const rel[] = {"/../models/default-model.pb", "/../share/deepdream-wasm/default-model.pb",
                                    "/default-model.pb"};
  for (int i = 0; i < 3; i++) {
    snprintf(buf, cap, "%s%s", exe, rel[i]);
    if (access(buf, R_OK) == 0) return buf;
  }
  snprintf(buf, cap, "%s%s", exe, rel[0]);
  return buf;
}

/* The output must be writable before the dream starts (a dream can take
   hours): an existing file must be writable, else its directory. With --zoom
   the frames are new files next to OUTPUT. */
static int check_writable(const char *path, int frames) {
  struct stat st;
  if (!frames && stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      fprintf(stderr, "deepdream: cannot write %s: it is a directory\n", path);
      return 0;
    }
    if (access(path, W_OK) != 0) {
      fprintf(stderr, "deepdream: cannot write %s: %s\n", path, strerror(errno));
      return 0;
    }
    return 1;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) slash == dir ? (void)(slash[1] = 0) : (void)(*slash = 0);
  else snprintf(dir, sizeof dir, ".");
  if (access(dir, W_OK | X_OK) != 0) {
    fprintf(stderr, "deepdream: cannot write %s: %s (directory %s)\n", path, strerror(errno), dir);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  char *objective_text = NULL; /* --objective @FILE's contents, freed at the end */
  cli a;
  memset(&a, 0, sizeof a);
  dd_dream_options_init(&a.o);
  a.o.objective.layer_index = 2; /* the CLI's default layer (the API's is 0) */
  int layer_given = 0;
  a.threads = 1;
  a.quality = 92;
  a.zoom_scale = 1.05;
  a.backend = DD_BACKEND_AUTO;
  a.model_path = getenv("DEEPDREAM_MODEL");
  const char *pos[2] = {NULL, NULL};
  int npos = 0;
  dd_error err;
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i];
    if (!strcmp(k, "-h") || !strcmp(k, "--help")) {
      usage(stdout);
      return 0;
    }
    if (k[0] != '-' || !k[1]) {
      if (npos == 2) {
        fprintf(stderr, "deepdream: too many arguments (see --help)\n");
        return 2;
      }
      pos[npos++] = k;
      continue;
    }
    const char *name = k[1] == '-' ? k + 2 : k + 1;
    const dd_option_info *info = dd_option_find(name);
    if (!info || k[1] != '-') {
      fprintf(stderr, "deepdream: unknown option %s (see --help)\n", k);
      return 2;
    }
    const char *v = NULL;
    if (info->kind != DD_OPTION_FLAG) {
      if (i + 1 >= argc) {
        fprintf(stderr, "deepdream: %s needs a value\n", k);
        return 2;
      }
      v = argv[++i];
    }
    if (!strcmp(name, "objective") && v[0] == '@') { /* --objective @FILE: the expression from a file (long directions) */
      size_t n = 0;
      free(objective_text);
      objective_text = (char *)read_file(v + 1, &n);
      if (!objective_text || n > DD_OBJECTIVE_MAX_TEXT) {
        fprintf(stderr, "deepdream: --objective %s: %s\n", v,
                objective_text ? "the file is longer than the 65536 bytes an objective may have" : strerror(errno));
        free(objective_text);
        return 2;
      }
      objective_text[n] = 0;
      v = objective_text;
    }
    /* every value is checked by the core's option table, before any work */
    dd_option_value val;
    dd_status s = info->field ? dd_dream_options_set(&a.o, name, v, &err) : dd_option_parse(name, v, &val, &err);
    if (s != DD_OK) {
      fprintf(stderr, "deepdream: %s\n", err.message);
      return 2;
    }
    if (info->field) {
      layer_given |= !strcmp(name, "layer");
      continue;
    }
    if (!strcmp(name, "quiet")) a.quiet = 1;
    else if (!strcmp(name, "list-layers")) a.list = 1;
    else if (!strcmp(name, "profile")) a.profile = 1;
    else if (!strcmp(name, "model")) a.model_path = v;
    else if (!strcmp(name, "noise")) a.noise_w = val.w, a.noise_h = val.h;
    else if (!strcmp(name, "show-gradient")) a.grad_out = v;
    else if (!strcmp(name, "guide")) a.guide = v;
    else if (!strcmp(name, "zoom")) a.zoom = (int)val.i;
    else if (!strcmp(name, "zoom-scale")) a.zoom_scale = val.d;
    else if (!strcmp(name, "gif")) {
      fprintf(stderr, "deepdream: --gif: the native CLI writes the --zoom frames as PNG files only; the Node CLI "
                      "(npx deepdream-wasm ... --zoom N --gif FILE) writes the same frames and the GIF\n");
      return 2;
    }
    else if (!strcmp(name, "save-state")) a.save_state = v;
    else if (!strcmp(name, "checkpoint")) a.checkpoint = v;
    else if (!strcmp(name, "resume")) a.resume = v;
    else if (!strcmp(name, "backend")) a.backend = (dd_backend)val.i; /* the table lists them in enum order */
    else if (!strcmp(name, "threads")) a.threads = (int)val.i;
    else if (!strcmp(name, "quality")) a.quality = (int)val.i;
    else {
      fprintf(stderr, "deepdream: option --%s is not implemented by this program (please report it)\n", name);
      return 2;
    }
  }
  if (a.backend != DD_BACKEND_AUTO && !dd_backend_available(a.backend)) {
    fprintf(stderr, "deepdream: backend %s is not in this build\n", dd_backend_name(a.backend));
    return 2;
  }
  int *channels = (int *)a.o.objective.channels; /* allocated by dd_dream_options_set */
  char default_model[4096];
  if (!a.model_path) a.model_path = default_model_path(argv[0], default_model, sizeof default_model);
  if (!a.list && !a.profile && npos != 2 && !(a.resume && npos >= 1)) {
    usage(stderr);
    return 2;
  }
  a.in = pos[0];
  a.out = npos == 2 ? pos[1] : pos[0];
  if (!a.list && !a.profile) { /* every file the run may write, before it starts */
    if ((a.out && !check_writable(a.out, a.zoom)) || (a.grad_out && !check_writable(a.grad_out, 0)) ||
        (a.save_state && !check_writable(a.save_state, 0)))
      return 1;
  }

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
  if (dd_model_load_graphdef(mbytes, mlen, &mo, &m, &err) != DD_OK) {
    fprintf(stderr, "deepdream: cannot load %s: %s\n", a.model_path, err.message);
    return 1;
  }
  if (a.list) {
    int rc = list_layers(m);
    dd_model_free(m);
    return rc;
  }
  if (!layer_given) { /* the model's default dream layer (Inception 5h: 2, the tutorial's) */
    dd_model_description desc;
    dd_model_get_description(m, &desc);
    a.o.objective.layer_index = desc.default_layer;
  }
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
      printf("one %dx%d gradient step: %.1f ms wall, %d thread(s); activation arena peak %.1f MiB, conv workspace "
             "%.1f MiB\n", t, t, el * 1e3, a.threads, dd_model_arena_peak(m) / 1048576.0,
             dd_model_workspace_bytes(m) / 1048576.0);
      dd_model_set_profile(m, 0, NULL);
      rc2 = 0;
    } else {
      fprintf(stderr, "deepdream: %s\n", err.message);
    }
    free(x);
    free(g);
    free(noise);
    dd_free(channels);
    dd_model_free(m);
    return rc2;
  }
  signal(SIGINT, on_sigint);

  int rc = 1, w = 0, h = 0, c = 3;
  uint8_t *px = NULL;
  uint8_t *guide_px = NULL; /* --guide, decoded */
  dd_dream *d = NULL;
  if (a.checkpoint) {
    /* --checkpoint DIR: the state as DIR/ID.ddstate (the raw dd_dream_save_state
       bytes, as --save-state writes them); --resume ID continues it */
    char *id = a.checkpoint_id;
    const size_t id_cap = sizeof a.checkpoint_id;
    if (a.resume && (strchr(a.resume, '/') || a.resume[0] == '.' || strlen(a.resume) >= id_cap)) {
      fprintf(stderr, "deepdream: bad dream id '%s' (with --checkpoint, --resume takes an ID)\n", a.resume);
      goto out;
    }
    if (a.resume) snprintf(id, id_cap, "%s", a.resume);
    else snprintf(id, id_cap, "dream-%lx-%lx", (unsigned long)time(NULL), (unsigned long)getpid());
    if (mkdir(a.checkpoint, 0777) != 0 && errno != EEXIST) {
      fprintf(stderr, "deepdream: cannot create %s: %s\n", a.checkpoint, strerror(errno));
      goto out;
    }
    snprintf(a.checkpoint_file, sizeof a.checkpoint_file, "%s/%s.ddstate", a.checkpoint, id);
    if (!a.resume && !a.quiet) fprintf(stderr, "checkpointing as '%s' in %s\n", id, a.checkpoint);
  }
  if (a.resume) {
    size_t slen;
    const char *from = a.checkpoint ? a.checkpoint_file : a.resume;
    unsigned char *st = read_file(from, &slen);
    if (!st) {
      fprintf(stderr, "deepdream: cannot read %s: %s\n", from, strerror(errno));
      goto out;
    }
    dd_status s = dd_dream_restore(m, st, slen, &d, &err);
    free(st);
    if (s != DD_OK) {
      fprintf(stderr, "deepdream: cannot resume from %s: %s\n", from, err.message);
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

  if (a.guide && !d) { /* the guide's features go into the dream state: a resumed dream needs no --guide */
    size_t glen;
    int gw, gh, gc;
    unsigned char *gb = read_file(a.guide, &glen);
    if (!gb) {
      fprintf(stderr, "deepdream: cannot read the guide %s: %s\n", a.guide, strerror(errno));
      goto out;
    }
    dd_status s = dd_image_decode(gb, glen, &gw, &gh, &gc, &guide_px, &err);
    free(gb);
    if (s != DD_OK) {
      fprintf(stderr, "deepdream: guide %s: %s\n", a.guide, err.message);
      goto out;
    }
    a.o.guide = guide_px;
    a.o.guide_width = gw;
    a.o.guide_height = gh;
    a.o.guide_channels = gc;
  }

  if (a.zoom) {
    /* the tutorial's movie exercise: dream, zoom in a little, repeat */
    dd_dream_options fo = a.o;
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
      /* centre crop of 1/zoom_scale, resized back to full size (the core's zoom step) */
      if (dd_image_zoom(res, w, h, c, a.zoom_scale, px, &err) != DD_OK) {
        fprintf(stderr, "deepdream: zoom: %s\n", err.message);
        free(res);
        goto out;
      }
      free(res);
    }
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
    if (rc == 0 && a.checkpoint) remove(a.checkpoint_file); /* done: the checkpoint has served */
    free(res);
  }
out:
  free(px);
  free(guide_px);
  free(objective_text);
  dd_free(channels);
  dd_dream_free(d);
  dd_model_free(m);
  return rc;
}
