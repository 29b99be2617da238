/* dd_probe.c — a native helper for the wasm-vs-native parity test
 * (tests/js/native_parity.test.js). Reads a GraphDef and an HxWx3 float32
 * input, writes forward outputs of the named nodes and input gradients:
 *
 *   dd_probe MODEL INPUT.f32 H W OUT.f32 fwd:NODE ... grad:NODE[:c0,c1] ...
 *
 * OUT.f32 is the concatenation of every requested result, in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepdream.h"

static void *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *p = malloc((size_t)n + 1);
  if (fread(p, 1, (size_t)n, f) != (size_t)n) n = -1;
  fclose(f);
  if (n < 0) { free(p); return NULL; }
  *len = (size_t)n;
  return p;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: dd_probe MODEL INPUT.f32 H W OUT.f32 fwd:NODE|grad:NODE[:c,..] ...\n");
    return 2;
  }
  size_t mlen, ilen;
  void *mb = slurp(argv[1], &mlen);
  float *in = (float *)slurp(argv[2], &ilen);
  int h = atoi(argv[3]), w = atoi(argv[4]);
  if (!mb || !in || ilen != (size_t)h * w * 3 * 4) { fprintf(stderr, "dd_probe: bad inputs\n"); return 1; }
  dd_model *m;
  dd_error err;
  if (dd_model_load_graphdef(mb, mlen, NULL, &m, &err) != DD_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
  FILE *out = fopen(argv[5], "wb");
  for (int i = 6; i < argc; i++) {
    if (!strncmp(argv[i], "fwd:", 4)) {
      int shape[4];
      if (dd_model_forward(m, in, h, w, argv[i] + 4, NULL, 0, shape, &err) != DD_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
      size_t n = (size_t)shape[0] * shape[1] * shape[2] * shape[3];
      float *o = malloc(n * 4);
      dd_model_forward(m, in, h, w, argv[i] + 4, o, n, shape, &err);
      fwrite(o, 4, n, out);
      free(o);
    } else if (!strncmp(argv[i], "grad:", 5)) {
      char name[256];
      int ch[64], nch = 0;
      snprintf(name, sizeof name, "%s", argv[i] + 5);
      char *colon = strchr(name, ':');
      if (colon) {
        *colon = 0;
        for (char *t = strtok(colon + 1, ","); t && nch < 64; t = strtok(NULL, ",")) ch[nch++] = atoi(t);
      }
      dd_objective obj = {name, 0, ch, nch};
      float *g = malloc((size_t)h * w * 3 * 4);
      if (dd_model_gradient(m, in, h, w, &obj, g, NULL, &err) != DD_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
      fwrite(g, 4, (size_t)h * w * 3, out);
      free(g);
    }
  }
  fclose(out);
  dd_model_free(m);
  free(mb);
  free(in);
  return 0;
}
