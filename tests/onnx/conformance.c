/* conformance.c — ONNX's backend conformance cases (Debian's libonnx-testdata:
 * node, pytorch-converted, pytorch-operator and simple tests) through the
 * core: every case whose model imports is run and compared with ONNX's
 * reference outputs; the others are skipped with the reason.
 *
 *   onnx_conformance DATA_DIR [MIN_PASSED]
 *
 * Per case: model.onnx is imported (src/formats/onnx.c) with the graph's
 * first input as the image (NCHW, fed NHWC) and the other graph inputs bound
 * as constants from test_data_set_N/input_K.pb (ONNX's node tests give
 * weights as inputs); each output_K.pb is compared with the forward value of
 * the node named by graph output K (NHWC transposed back to NCHW), with ONNX
 * backend-test tolerances |got - want| <= atol + rtol * |want|, rtol 1e-3,
 * atol 1e-7. Skipped (with a reason): what the importer refuses as
 * DD_ERR_UNSUPPORTED (an op, a rank, a dtype, an attribute value), a first
 * input that is not a rank-4 float image, an output that is a Flatten of
 * images (the engine keeps NHWC order there; Gemm gets permuted weights
 * instead). Anything else that goes wrong is a failure. Prints
 * "N passed / M run / K skipped (reason counts)"; exits 1 on a failure or
 * when N < MIN_PASSED (the floor CI holds), 77 when DATA_DIR is missing. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/exec.h"
#include "formats/onnx.h"
#include "formats/protobuf.h"

#define MAX_IO 16

typedef struct blob {
  uint8_t *p;
  size_t n;
} blob;

static blob slurp(const char *path) {
  blob b = {NULL, 0};
  FILE *f = fopen(path, "rb");
  if (!f) return b;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b.p = (uint8_t *)malloc(n > 0 ? (size_t)n : 1);
  if (b.p && n >= 0 && fread(b.p, 1, (size_t)n, f) == (size_t)n) b.n = (size_t)n;
  else free(b.p), b.p = NULL;
  fclose(f);
  return b;
}

/* ---- the model's input and output names (graph fields 11 and 12, minus initializers) ---- */
typedef struct names {
  char in[MAX_IO][256], out[MAX_IO][256], init[256][128];
  int n_in, n_out, n_init;
} names;

static void copy_name(char *dst, size_t cap, const uint8_t *p, size_t n) {
  if (n >= cap) n = cap - 1;
  memcpy(dst, p, n);
  dst[n] = 0;
}

static int read_names(const blob *m, names *nm) {
  memset(nm, 0, sizeof *nm);
  dd_pb_reader r, g, v;
  dd_pb_field f, h, k;
  dd_pb_reader_init(&r, m->p, m->n);
  while (dd_pb_next(&r, &f, NULL) == DD_OK) {
    if (f.number != 7 || f.wire != DD_PB_LEN) continue;
    dd_pb_enter(&r, &f, &g, NULL);
    while (dd_pb_next(&g, &h, NULL) == DD_OK) {
      if (h.wire != DD_PB_LEN || (h.number != 11 && h.number != 12 && h.number != 5)) continue;
      dd_pb_enter(&g, &h, &v, NULL);
      while (dd_pb_next(&v, &k, NULL) == DD_OK) {
        if (k.wire != DD_PB_LEN) continue;
        if (h.number == 5 && k.number == 8 && nm->n_init < 256) copy_name(nm->init[nm->n_init++], 128, k.data, k.len);
        if (h.number == 11 && k.number == 1 && nm->n_in < MAX_IO) copy_name(nm->in[nm->n_in++], 256, k.data, k.len);
        if (h.number == 12 && k.number == 1 && nm->n_out < MAX_IO) copy_name(nm->out[nm->n_out++], 256, k.data, k.len);
      }
    }
  }
  /* graph inputs that are initializers are not fed */
  int w = 0;
  for (int i = 0; i < nm->n_in; i++) {
    int is_init = 0;
    for (int j = 0; j < nm->n_init; j++) is_init |= strcmp(nm->in[i], nm->init[j]) == 0;
    if (!is_init) memmove(nm->in[w++], nm->in[i], 256);
  }
  nm->n_in = w;
  return nm->n_out > 0;
}

/* ---- a float TensorProto (raw_data or float_data) ---- */
typedef struct ftensor {
  int dtype, rank;
  int64_t dims[8];
  size_t count;
  float *f;
} ftensor;

static int read_tensor(const blob *b, ftensor *t) {
  memset(t, 0, sizeof *t);
  dd_pb_reader r;
  dd_pb_field f;
  const uint8_t *raw = NULL, *fd = NULL;
  size_t raw_n = 0, fd_n = 0;
  dd_pb_reader_init(&r, b->p, b->n);
  while (dd_pb_next(&r, &f, NULL) == DD_OK) {
    if (f.number == 1 && f.wire == DD_PB_VARINT && t->rank < 8) t->dims[t->rank++] = (int64_t)f.u64;
    if (f.number == 1 && f.wire == DD_PB_LEN) {
      const uint8_t *p = f.data, *e = f.data + f.len;
      uint64_t u;
      while (p < e && t->rank < 8 && dd_pb_read_varint(&p, e, &u)) t->dims[t->rank++] = (int64_t)u;
    }
    if (f.number == 2 && f.wire == DD_PB_VARINT) t->dtype = (int)f.u64;
    if (f.number == 9 && f.wire == DD_PB_LEN) raw = f.data, raw_n = f.len;
    if (f.number == 4 && f.wire == DD_PB_LEN) fd = f.data, fd_n = f.len;
  }
  t->count = 1;
  for (int d = 0; d < t->rank; d++) t->count *= (size_t)t->dims[d];
  if (t->dtype != 1) return 0;
  const uint8_t *src = raw ? raw : fd;
  size_t n = raw ? raw_n : fd_n;
  if (n != t->count * 4) return 0;
  t->f = (float *)malloc(t->count * 4 + 4);
  for (size_t i = 0; i < t->count; i++) t->f[i] = dd_pb_bits_to_float(dd_pb_le32(src + 4 * i));
  return 1;
}

/* ---- reasons ---- */
typedef struct tally {
  char reason[64][80];
  int count[64], n;
} tally;

static void count_reason(tally *t, const char *r) {
  for (int i = 0; i < t->n; i++)
    if (strcmp(t->reason[i], r) == 0) {
      t->count[i]++;
      return;
    }
  if (t->n < 64) {
    snprintf(t->reason[t->n], 80, "%s", r);
    t->count[t->n++] = 1;
  }
}

/* The reason an importer refusal is, in a few words. */
static void classify(const char *msg, char *out, size_t cap) {
  const char *p;
  if ((p = strstr(msg, "unsupported op '"))) {
    const char *e = strchr(p + 16, '\'');
    snprintf(out, cap, "op %.*s unsupported", e ? (int)(e - p - 16) : 20, p + 16);
  } else if (strstr(msg, "only the first output")) {
    snprintf(out, cap, "a second output is used");
  } else if (strstr(msg, "only flattening")) {
    snprintf(out, cap, "Reshape other than a Flatten");
  } else if (strstr(msg, "dilations")) {
    snprintf(out, cap, "pooling dilations");
  } else if (strstr(msg, "data type") || strstr(msg, "element type")) {
    snprintf(out, cap, "dtype not float");
  } else if (strstr(msg, "rank")) {
    snprintf(out, cap, "rank not 4 (NCHW) or 2");
  } else if (strstr(msg, "transA")) {
    snprintf(out, cap, "Gemm transA");
  } else if (strstr(msg, "more than one input")) {
    snprintf(out, cap, "several image inputs");
  } else if (strstr(msg, "constant")) {
    snprintf(out, cap, "constant folding / computed weights");
  } else if (strstr(msg, "axis")) {
    snprintf(out, cap, "axis not channels");
  } else {
    snprintf(out, cap, "attribute or geometry not supported");
  }
}

static int verbose;

/* One case directory: 1 passed, 0 skipped (reason set), -1 failed. */
static int run_case(const char *dir, char *reason, size_t cap) {
  char path[1200];
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  blob model = slurp(path);
  if (!model.p) {
    snprintf(reason, cap, "no model.onnx");
    return 0;
  }
  names nm;
  int rc = 0;
  ftensor ins[MAX_IO];
  blob in_bytes[MAX_IO];
  int n_in = 0;
  memset(ins, 0, sizeof ins);
  memset(in_bytes, 0, sizeof in_bytes);
  dd_graph g;
  int have_graph = 0;
  dd_exec *e = NULL;
  if (!read_names(&model, &nm) || nm.n_in < 1) {
    snprintf(reason, cap, "no graph input");
    goto done;
  }
  for (int k = 0; k < nm.n_in; k++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k);
    in_bytes[k] = slurp(path);
    if (!in_bytes[k].p) {
      snprintf(reason, cap, "optional input omitted");
      goto done;
    }
    n_in++;
  }
  if (!read_tensor(&in_bytes[0], &ins[0])) {
    snprintf(reason, cap, "dtype not float");
    goto done;
  }
  if (ins[0].rank == 2) { /* a matrix [N, K]: fed as N x 1 x 1 x K */
    ins[0].rank = 4;
    ins[0].dims[3] = 1, ins[0].dims[2] = 1;
  }
  if (ins[0].rank != 4) {
    snprintf(reason, cap, "rank not 4 (NCHW) or 2");
    goto done;
  }
  dd_onnx_binding bind[MAX_IO];
  for (int k = 1; k < n_in; k++) bind[k - 1] = (dd_onnx_binding){nm.in[k], in_bytes[k].p, in_bytes[k].n};
  dd_error err = {0};
  dd_status s = dd_onnx_import_bound(model.p, model.n, bind, n_in - 1, &g, &err);
  if (s == DD_ERR_UNSUPPORTED) {
    classify(err.message, reason, cap);
    if (verbose) printf("  skip %s: %s\n", dir, err.message);
    goto done;
  }
  if (s != DD_OK) {
    printf("  FAIL %s: import: %s\n", dir, err.message);
    rc = -1;
    goto done;
  }
  have_graph = 1;
  if (dd_exec_create(&g, dd_kernels_get(DD_BACKEND_AUTO), NULL, 1, &e, &err) != DD_OK) {
    printf("  FAIL %s: executor: %s\n", dir, err.message);
    rc = -1;
    goto done;
  }
  const ftensor *x = &ins[0];
  const int N = (int)x->dims[0], C = (int)x->dims[1], H = (int)x->dims[2], W = (int)x->dims[3];
  float *nhwc = (float *)malloc(x->count * 4 + 4);
  for (int b = 0; b < N; b++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < H * W; i++) nhwc[((size_t)b * H * W + i) * C + c] = x->f[((size_t)b * C + c) * H * W + i];
  rc = 1;
  for (int k = 0; k < nm.n_out && rc == 1; k++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, k);
    blob ob = slurp(path);
    ftensor want;
    int ok = ob.p && read_tensor(&ob, &want);
    free(ob.p);
    if (!ok) {
      snprintf(reason, cap, "dtype not float");
      rc = 0;
      break;
    }
    int node = dd_graph_find(&g, nm.out[k]);
    if (node < 0) {
      printf("  FAIL %s: no node for output '%s'\n", dir, nm.out[k]);
      rc = -1;
      free(want.f);
      break;
    }
    dd_tensor t;
    s = dd_exec_forward(e, node, nhwc, dd_shape4(N, H, W, C), &t, &err);
    if (s == DD_OK && g.nodes[node].op == DD_OP_RESHAPE) {
      dd_shape before;
      dd_exec_output_shape(e, g.nodes[node].inputs[0], dd_shape4(N, H, W, C), &before, &err);
      if (before.h * before.w > 1) {
        snprintf(reason, cap, "output is a Flatten of images (NHWC order)");
        rc = 0;
        free(want.f);
        break;
      }
      dd_exec_forward(e, node, nhwc, dd_shape4(N, H, W, C), &t, &err);
    }
    if (s == DD_ERR_UNSUPPORTED) {
      classify(err.message, reason, cap);
      if (verbose) printf("  skip %s: %s\n", dir, err.message);
      rc = 0;
      free(want.f);
      break;
    }
    if (s != DD_OK) {
      printf("  FAIL %s: forward: %s\n", dir, err.message);
      rc = -1;
      free(want.f);
      break;
    }
    size_t n = dd_shape_count(t.shape);
    if (n != want.count) {
      printf("  FAIL %s: output '%s' has %zu values, ONNX %zu\n", dir, nm.out[k], n, want.count);
      rc = -1;
      free(want.f);
      break;
    }
    size_t bad = 0, first = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
      /* ONNX index i -> ours: NCHW -> NHWC for images, as is for matrices */
      size_t j = i;
      if (want.rank == 4) {
        size_t hw = (size_t)t.shape.h * t.shape.w, c = (size_t)t.shape.c;
        size_t b = i / (c * hw), r = i % (c * hw), ch = r / hw, p = r % hw;
        j = (b * hw + p) * c + ch;
      }
      double got = t.data[j], w = want.f[i], d = fabs(got - w);
      if (!(d <= 1e-7 + 1e-3 * fabs(w))) {
        if (!bad) first = i;
        bad++;
        if (d > worst || d != d) worst = d;
      }
    }
    if (bad) {
      printf("  FAIL %s: output '%s': %zu of %zu values off (first at %zu: %g vs %g; worst |diff| %g)\n", dir,
             nm.out[k], bad, n, first, (double)t.data[first], (double)want.f[first], worst);
      rc = -1;
    }
    free(want.f);
  }
  free(nhwc);
done:
  dd_exec_free(e);
  if (have_graph) dd_graph_free(&g);
  for (int k = 0; k < MAX_IO; k++) free(ins[k].f), free(in_bytes[k].p);
  free(model.p);
  return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: onnx_conformance DATA_DIR [MIN_PASSED]\n");
    return 2;
  }
  verbose = getenv("DD_CONFORMANCE_VERBOSE") != NULL;
  const char *only = getenv("DD_CONFORMANCE_ONLY");
  int floor = argc > 2 ? atoi(argv[2]) : 0;
  static const char *const suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  int passed = 0, run = 0, skipped = 0, failed = 0, any_dir = 0;
  tally t = {0};
  for (int si = 0; si < 4; si++) {
    char base[1024];
    snprintf(base, sizeof base, "%s/%s", argv[1], suites[si]);
    DIR *d = opendir(base);
    if (!d) continue;
    any_dir = 1;
    char **list = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.') continue;
      if (n == cap) list = (char **)realloc(list, sizeof(char *) * (size_t)(cap = cap ? cap * 2 : 256));
      list[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(list, (size_t)n, sizeof(char *), cmp_str);
    for (int i = 0; i < n; i++) {
      char dir[1200], reason[80] = "";
      snprintf(dir, sizeof dir, "%s/%s", base, list[i]);
      if (!only || strstr(list[i], only)) {
        int rc = run_case(dir, reason, sizeof reason);
        if (rc > 0) passed++, run++;
        else if (rc < 0) failed++, run++;
        else skipped++, count_reason(&t, reason);
        if (verbose && rc > 0) printf("  pass %s\n", dir);
      }
      free(list[i]);
    }
    free(list);
  }
  if (!any_dir) {
    printf("SKIP: no ONNX test data under %s (apt-get install libonnx-testdata)\n", argv[1]);
    return 77;
  }
  printf("ONNX conformance: %d passed / %d run / %d skipped (", passed, run, skipped);
  for (int i = 0; i < t.n; i++) printf("%s%s: %d", i ? ", " : "", t.reason[i], t.count[i]);
  printf(")\n");
  if (failed) printf("%d failed\n", failed);
  if (passed < floor) printf("FAIL: %d passed, below the floor of %d\n", passed, floor);
  return failed || passed < floor ? 1 : 0;
}
