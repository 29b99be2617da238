/* test_image.c — PNG/JPEG decode and encode through stb: exact PNG round
 * trips, channel conversions, the tutorial's hulk.jpg (progressive JPEG)
 * against PIL's decode, and hostile inputs: every truncation, byte flips,
 * zero and oversized dimensions. Never a crash (run under ASan/UBSan). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dream/image.h"
#include "testutil.h"

static uint8_t *make_pixels(int w, int h, int c, uint64_t seed) {
  test_rng r;
  test_rng_seed(&r, seed);
  uint8_t *p = (uint8_t *)malloc((size_t)w * h * c);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int ch = 0; ch < c; ch++) /* a smooth pattern plus a little noise */
        p[((size_t)y * w + x) * c + ch] =
            (uint8_t)(128 + 90 * sin(x / (3.0 + ch) + y / 5.0) + test_randint(&r, -20, 20));
  return p;
}

static void test_png_round_trip(void) {
  static const int shapes[][3] = {{37, 23, 3}, {37, 23, 4}, {1, 1, 3}, {64, 3, 4}, {5, 200, 3}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int w = shapes[s][0], h = shapes[s][1], c = shapes[s][2];
    uint8_t *px = make_pixels(w, h, c, s + 1), *png = NULL, *back = NULL;
    size_t len = 0;
    CHECK_OK(dd_image_encode_png(px, w, h, c, &png, &len, NULL));
    CHECK(len > 8 && memcmp(png, "\x89PNG", 4) == 0);
    int w2 = 0, h2 = 0, c2 = 0;
    dd_error err = {0};
    CHECK_OK(dd_image_decode(png, len, &w2, &h2, &c2, &back, &err));
    CHECKF(w2 == w && h2 == h && c2 == c, "%dx%dx%d came back as %dx%dx%d", w, h, c, w2, h2, c2);
    if (back && w2 == w && h2 == h && c2 == c)
      CHECKF(memcmp(px, back, (size_t)w * h * c) == 0, "%dx%dx%d PNG round trip not exact", w, h, c);
    free(px);
    dd_free(png);
    dd_free(back);
  }
}

/* gray -> RGB, gray+alpha -> RGBA */
static void test_gray_expands(void) {
  const int w = 19, h = 11;
  for (int c = 1; c <= 2; c++) {
    uint8_t *px = make_pixels(w, h, c, 40 + c), *png = NULL, *back = NULL;
    size_t len = 0;
    CHECK_OK(dd_image_encode_png(px, w, h, c, &png, &len, NULL));
    int w2, h2, c2 = 0;
    CHECK_OK(dd_image_decode(png, len, &w2, &h2, &c2, &back, NULL));
    CHECK(c2 == (c == 1 ? 3 : 4));
    int bad = 0;
    for (int i = 0; back && i < w * h; i++) {
      const uint8_t g = px[i * c], *q = back + (size_t)i * c2;
      bad += q[0] != g || q[1] != g || q[2] != g;
      if (c == 2) bad += q[3] != px[i * c + 1];
    }
    CHECKF(bad == 0, "%d-channel PNG: %d pixels not expanded exactly", c, bad);
    free(px);
    dd_free(png);
    dd_free(back);
  }
}

static void test_jpeg_encode(void) {
  const int w = 61, h = 37;
  for (int c = 3; c <= 4; c++) {
    uint8_t *px = make_pixels(w, h, c, 70 + c), *jpg = NULL, *back = NULL;
    size_t len = 0;
    CHECK_OK(dd_image_encode_jpeg(px, w, h, c, 95, &jpg, &len, NULL));
    CHECK(len > 2 && jpg[0] == 0xFF && jpg[1] == 0xD8 && jpg[len - 2] == 0xFF && jpg[len - 1] == 0xD9);
    int w2, h2, c2 = 0;
    CHECK_OK(dd_image_decode(jpg, len, &w2, &h2, &c2, &back, NULL));
    CHECK(w2 == w && h2 == h && c2 == 3); /* JPEG has no alpha */
    double sum = 0;
    for (int i = 0; back && i < w * h; i++)
      for (int ch = 0; ch < 3; ch++) sum += fabs((double)px[i * c + ch] - back[i * 3 + ch]);
    double mae = sum / (w * h * 3);
    printf("  JPEG q95 %d-channel input: mean abs error %.2f levels, %zu bytes\n", c, mae, len);
    CHECK(mae < 6.0);
    dd_free(jpg);
    dd_free(back);
    /* lower quality is smaller */
    size_t len10 = 0;
    CHECK_OK(dd_image_encode_jpeg(px, w, h, c, 10, &jpg, &len10, NULL));
    CHECK(len10 < len);
    dd_free(jpg);
    free(px);
  }
}

static void test_hulk(void) {
  const char *path = test_shared_path("images/hulk.jpg");
  if (!path) {
    printf("  skipped: DD_SHARED_DIR/images/hulk.jpg not found (set DD_SHARED_DIR)\n");
    return;
  }
  size_t len = 0;
  uint8_t *bytes = test_read_file(path, &len), *px = NULL;
  CHECK(bytes != NULL);
  int w = 0, h = 0, c = 0;
  dd_error err = {0};
  double t0 = test_now_ms();
  CHECK_OK(dd_image_decode(bytes, len, &w, &h, &c, &px, &err));
  double t1 = test_now_ms();
  CHECKF(w == 960 && h == 540 && c == 3, "hulk.jpg: %dx%dx%d", w, h, c);
  if (!px || w != 960 || h != 540 || c != 3) {
    free(bytes);
    dd_free(px);
    return;
  }
  /* PIL (libjpeg) per-channel means of the full image */
  const double pil_mean[3] = {64.33788966, 66.01433063, 56.37017168};
  double mean[3] = {0, 0, 0};
  for (size_t i = 0; i < (size_t)w * h; i++)
    for (int ch = 0; ch < 3; ch++) mean[ch] += px[i * 3 + ch];
  for (int ch = 0; ch < 3; ch++) {
    mean[ch] /= (double)w * h;
    CHECKF(fabs(mean[ch] - pil_mean[ch]) < 0.05, "channel %d mean %.4f, PIL %.4f", ch, mean[ch], pil_mean[ch]);
  }
  /* PIL's pixels on a 16-pixel grid (tests/golden/hulk_pil_sub16.bin) */
  const char *root = getenv("DD_SOURCE_DIR");
  char gpath[1024];
  snprintf(gpath, sizeof gpath, "%s/tests/golden/hulk_pil_sub16.bin", root ? root : ".");
  size_t glen = 0;
  uint8_t *g = test_read_file(gpath, &glen);
  CHECKF(g && glen == 24 + 34 * 60 * 3 && memcmp(g, "DDG1", 4) == 0, "cannot read %s", gpath);
  if (g && glen == 24 + 34 * 60 * 3) {
    int maxd = 0, ndiff = 0;
    for (int y = 0; y < 34; y++)
      for (int x = 0; x < 60; x++)
        for (int ch = 0; ch < 3; ch++) {
          int d = abs((int)g[24 + (y * 60 + x) * 3 + ch] - (int)px[((size_t)y * 16 * w + x * 16) * 3 + ch]);
          ndiff += d != 0;
          maxd = d > maxd ? d : maxd;
        }
    printf("  hulk.jpg (progressive) %dx%d decoded in %.1f ms; vs PIL on a 16-px grid: %d of 6120 values "
           "differ, max %d levels\n",
           w, h, t1 - t0, ndiff, maxd);
    CHECK(maxd <= 3 && ndiff <= 6120 / 20);
  }
  free(g);
  /* truncations of the real progressive file: a spread of lengths, plus the end */
  int wrong = 0, tried = 0;
  for (size_t cut = 0; cut < len; cut += (cut + 64 < len ? 997 : 1)) {
    uint8_t *p2 = (uint8_t *)0x1;
    int w2 = -7, h2 = -7, c2 = -7;
    dd_error e2 = {0};
    dd_status s = dd_image_decode(bytes, cut, &w2, &h2, &c2, &p2, &e2);
    tried++;
    if (s != DD_ERR_PARSE || p2 != (uint8_t *)0x1 || w2 != -7 || e2.message[0] == 0) wrong++;
    if (s == DD_OK) dd_free(p2);
  }
  printf("  hulk.jpg truncated at %d lengths: %d not rejected with DD_ERR_PARSE\n", tried, wrong);
  CHECK(wrong == 0);
  free(bytes);
  dd_free(px);
}

/* every truncation of a small PNG and JPEG is DD_ERR_PARSE, outputs untouched */
static void test_truncation(void) {
  const int w = 23, h = 17;
  uint8_t *px = make_pixels(w, h, 4, 5);
  uint8_t *files[3] = {NULL, NULL, NULL};
  size_t lens[3] = {0, 0, 0};
  CHECK_OK(dd_image_encode_png(px, w, h, 4, &files[0], &lens[0], NULL));
  CHECK_OK(dd_image_encode_jpeg(px, w, h, 4, 90, &files[1], &lens[1], NULL));
  CHECK_OK(dd_image_encode_jpeg(px, w, h, 4, 95, &files[2], &lens[2], NULL));
  for (int f = 0; f < 3; f++) {
    int wrong = 0;
    for (size_t cut = 0; cut < lens[f]; cut++) {
      uint8_t *copy = (uint8_t *)malloc(cut ? cut : 1); /* exact size: ASan sees any over-read */
      memcpy(copy, files[f], cut);
      uint8_t *p2 = NULL;
      int w2 = -7, h2 = -7, c2 = -7;
      dd_error e = {0};
      dd_status s = dd_image_decode(copy, cut, &w2, &h2, &c2, &p2, &e);
      if (s != DD_ERR_PARSE || p2 || w2 != -7 || h2 != -7 || c2 != -7 || e.status != DD_ERR_PARSE ||
          !e.message[0]) {
        if (wrong < 3) fprintf(stderr, "  file %d cut at %zu: status %d '%s'\n", f, cut, (int)s, e.message);
        wrong++;
      }
      dd_free(p2);
      free(copy);
    }
    CHECKF(wrong == 0, "%s: %d of %zu truncations not rejected", f == 0 ? "PNG" : "JPEG", wrong, lens[f]);
  }
  /* bytes after IEND / EOI are ignored */
  for (int f = 0; f < 2; f++) {
    uint8_t *longer = (uint8_t *)malloc(lens[f] + 5);
    memcpy(longer, files[f], lens[f]);
    memcpy(longer + lens[f], "junk!", 5);
    uint8_t *p2 = NULL;
    int w2, h2, c2;
    CHECK_OK(dd_image_decode(longer, lens[f] + 5, &w2, &h2, &c2, &p2, NULL));
    dd_free(p2);
    free(longer);
  }
  for (int f = 0; f < 3; f++) dd_free(files[f]);
  free(px);
}

/* A JPEG cut mid-scan with an end marker appended (what a broken download
   or a careless tool leaves): stb fills the missing blocks with a flat
   colour and reported success; it must be DD_ERR_PARSE, "truncated". Made
   here from the shared photos (two progressive, one baseline) and from small
   baseline files of our own encoder, cut at spread positions. */
static int cut_with_eoi(const uint8_t *file, size_t cut, int *early) {
  uint8_t *b = (uint8_t *)malloc(cut + 2);
  memcpy(b, file, cut);
  b[cut] = 0xFF;
  b[cut + 1] = 0xD9;
  uint8_t *p = NULL;
  int w = -7, h = -7, c = -7;
  dd_error e = {0};
  dd_status s = dd_image_decode(b, cut + 2, &w, &h, &c, &p, &e);
  if (s == DD_OK) dd_free(p);
  *early = strstr(e.message, "truncated") != NULL;
  free(b);
  return s == DD_ERR_PARSE && !p && w == -7 && e.status == DD_ERR_PARSE;
}

static void test_cut_mid_scan_with_eoi(void) {
  const char *names[3] = {"images/hulk.jpg", "images/giger.jpg", "images/escher_planefilling2.jpg"};
  int tried = 0, refused = 0, named = 0;
  for (int f = 0; f < 3; f++) {
    const char *path = test_shared_path(names[f]);
    size_t len = 0;
    uint8_t *bytes = path ? test_read_file(path, &len) : NULL;
    if (!bytes) {
      printf("  skipped %s (set DD_SHARED_DIR)\n", names[f]);
      continue;
    }
    for (int k = 1; k <= 6; k++) { /* from 5% to 97% of the file */
      size_t cut = k == 6 ? len - len / 33 : len * (size_t)(5 + 17 * (k - 1)) / 100;
      int early;
      int ok = cut_with_eoi(bytes, cut, &early);
      CHECKF(ok, "%s cut at %zu of %zu with EOI appended: not refused", names[f], cut, len);
      tried++;
      refused += ok;
      named += early;
    }
    free(bytes);
  }
  const int w = 64, h = 48;
  uint8_t *px = make_pixels(w, h, 3, 21);
  for (int q = 50; q <= 95; q += 45) {
    uint8_t *jpg = NULL;
    size_t jlen = 0;
    CHECK_OK(dd_image_encode_jpeg(px, w, h, 3, q, &jpg, &jlen, NULL));
    for (size_t cut = jlen / 2; cut + 40 < jlen; cut += 37) {
      int early;
      int ok = cut_with_eoi(jpg, cut, &early);
      CHECKF(ok, "our %zu-byte baseline JPEG (quality %d) cut at %zu with EOI: not refused", jlen, q, cut);
      tried++;
      refused += ok;
      named += early;
    }
    dd_free(jpg);
  }
  free(px);
  printf("  JPEGs cut mid-scan + EOI: %d tried, %d refused with DD_ERR_PARSE, %d of them 'truncated'\n", tried,
         refused, named);
  CHECK(named == refused);
}

/* Random byte flips: PNG always fails its CRC check; JPEG may decode to other
   pixels but must never crash or over-read. */
static void test_corruption(void) {
  const int w = 29, h = 21;
  uint8_t *px = make_pixels(w, h, 3, 11), *png = NULL, *jpg = NULL;
  size_t plen = 0, jlen = 0;
  CHECK_OK(dd_image_encode_png(px, w, h, 3, &png, &plen, NULL));
  CHECK_OK(dd_image_encode_jpeg(px, w, h, 3, 80, &jpg, &jlen, NULL));
  test_rng r;
  test_rng_seed(&r, 1234);
  int png_bad = 0, jpg_ok = 0, jpg_parse = 0, jpg_other = 0;
  for (int iter = 0; iter < 600; iter++) {
    const int is_png = iter & 1;
    const size_t len = is_png ? plen : jlen;
    uint8_t *copy = (uint8_t *)malloc(len);
    memcpy(copy, is_png ? png : jpg, len);
    int flips = test_randint(&r, 1, 4);
    for (int k = 0; k < flips; k++) {
      size_t at = (size_t)test_randint(&r, 0, (int)len - 1);
      uint8_t v = (uint8_t)test_randint(&r, 1, 255);
      copy[at] ^= v;
    }
    uint8_t *p2 = NULL;
    int w2, h2, c2;
    dd_status s = dd_image_decode(copy, len, &w2, &h2, &c2, &p2, NULL);
    if (is_png) {
      png_bad += s != DD_ERR_PARSE;
    } else if (s == DD_OK) {
      jpg_ok++;
      CHECK(w2 >= 1 && h2 >= 1 && w2 <= DD_IMAGE_MAX_DIM && h2 <= DD_IMAGE_MAX_DIM && c2 == 3);
    } else if (s == DD_ERR_PARSE) {
      jpg_parse++;
    } else {
      jpg_other++;
    }
    dd_free(p2);
    free(copy);
  }
  printf("  300 corrupted PNGs: %d accepted; 300 corrupted JPEGs: %d decoded, %d DD_ERR_PARSE, %d other\n", png_bad,
         jpg_ok, jpg_parse, jpg_other);
  CHECK(png_bad == 0 && jpg_other == 0);
  dd_free(png);
  dd_free(jpg);
  free(px);
}

/* ---- hand-made headers --------------------------------------------------- */
static uint32_t crc32_ref(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return ~c;
}
static size_t put_chunk(uint8_t *b, const char *type, const uint8_t *data, uint32_t n) {
  b[0] = (uint8_t)(n >> 24), b[1] = (uint8_t)(n >> 16), b[2] = (uint8_t)(n >> 8), b[3] = (uint8_t)n;
  memcpy(b + 4, type, 4);
  if (n) memcpy(b + 8, data, n);
  uint32_t c = crc32_ref(b + 4, n + 4);
  b[8 + n] = (uint8_t)(c >> 24), b[9 + n] = (uint8_t)(c >> 16), b[10 + n] = (uint8_t)(c >> 8), b[11 + n] = (uint8_t)c;
  return 12 + n;
}
/* A PNG with a valid structure and the given IHDR size, one stored 1-byte
   zlib block per... (the IDAT is only a placeholder: the size checks come first). */
static size_t make_png_header(uint8_t *b, uint32_t w, uint32_t h) {
  memcpy(b, "\x89PNG\r\n\x1a\n", 8);
  uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                      (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                      8, 2, 0, 0, 0};
  size_t n = 8 + put_chunk(b + 8, "IHDR", ihdr, 13);
  static const uint8_t idat[] = {0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01};
  n += put_chunk(b + n, "IDAT", idat, sizeof idat);
  n += put_chunk(b + n, "IEND", NULL, 0);
  return n;
}

static void expect_parse(const uint8_t *b, size_t n, const char *what) {
  uint8_t *p = NULL;
  int w = -1, h = -1, c = -1;
  dd_error e = {0};
  dd_status s = dd_image_decode(b, n, &w, &h, &c, &p, &e);
  CHECKF(s == DD_ERR_PARSE && !p && w == -1 && e.message[0], "%s: status %d", what, (int)s);
  printf("  %-28s -> %s: %s\n", what, dd_status_string(s), e.message);
  dd_free(p);
}

static void test_sizes_and_garbage(void) {
  uint8_t b[256];
  expect_parse(b, make_png_header(b, 0, 10), "PNG 0x10");
  expect_parse(b, make_png_header(b, 10, 0), "PNG 10x0");
  expect_parse(b, make_png_header(b, 16385, 2), "PNG 16385x2");
  expect_parse(b, make_png_header(b, 2, 20000), "PNG 2x20000");
  expect_parse(b, make_png_header(b, 10001, 10000), "PNG 10001x10000 (>100M)");
  expect_parse(b, make_png_header(b, 0x7fffffff, 0x7fffffff), "PNG 2^31-1 squared");
  expect_parse(b, make_png_header(b, 7, 5), "PNG 7x5 with empty IDAT");
  /* JPEG: SOI, SOF0 with height 0, EOI */
  static const uint8_t jpeg_h0[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x00, 0x00,
                                    0x10, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9};
  expect_parse(jpeg_h0, sizeof jpeg_h0, "JPEG height 0");
  static const uint8_t jpeg_big[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0xFF, 0xFF, 0xFF,
                                     0xFF, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9};
  expect_parse(jpeg_big, sizeof jpeg_big, "JPEG 65535x65535");
  static const uint8_t soi_eoi[] = {0xFF, 0xD8, 0xFF, 0xD9};
  expect_parse(soi_eoi, sizeof soi_eoi, "JPEG SOI EOI");
  expect_parse((const uint8_t *)"GIF89a\x01\x00\x01\x00", 10, "GIF");
  expect_parse((const uint8_t *)"hello", 5, "text");
  expect_parse((const uint8_t *)"", 0, "empty");
  expect_parse(NULL, 10, "NULL bytes");
  /* outputs NULL */
  CHECK(dd_image_decode(soi_eoi, 4, NULL, NULL, NULL, NULL, NULL) == DD_ERR_INVALID_ARGUMENT);
}

/* A small JPEG whose frame header declares 16384x2320 (38 Mpixels in about
   700 bytes, the shape of an input the image fuzzer timed out on: decoded in
   full, twice, it took over 10 s under the sanitizers) is refused from its
   size alone, before any decoding; the same bytes with the true size decode. */
static void test_jpeg_declares_too_many_pixels(void) {
  uint8_t *px = make_pixels(16, 16, 3, 5), *jpg = NULL, *back = NULL;
  size_t len = 0;
  CHECK_OK(dd_image_encode_jpeg(px, 16, 16, 3, 90, &jpg, &len, NULL));
  int w = 0, h = 0, c = 0;
  CHECK_OK(dd_image_decode(jpg, len, &w, &h, &c, &back, NULL));
  dd_free(back);
  back = NULL;
  size_t sof = 0;
  for (size_t i = 2; jpg && i + 9 < len && !sof; i++)
    if (jpg[i] == 0xFF && (jpg[i + 1] == 0xC0 || jpg[i + 1] == 0xC2)) sof = i;
  CHECK(sof > 0);
  if (sof) {
    jpg[sof + 5] = 0x09, jpg[sof + 6] = 0x10; /* height 2320 */
    jpg[sof + 7] = 0x40, jpg[sof + 8] = 0x00; /* width 16384 */
    dd_error e = {0};
    CHECK(dd_image_decode(jpg, len, &w, &h, &c, &back, &e) == DD_ERR_PARSE);
    CHECK(back == NULL);
    CHECKF(strstr(e.message, "16384x2320") && strstr(e.message, "too few to code them"), "message: %s", e.message);
  }
  dd_free(jpg);
  free(px);
}

static void test_encode_errors(void) {
  uint8_t px[12] = {0}, *out = (uint8_t *)0x1;
  size_t len = 99;
  dd_error e = {0};
  CHECK(dd_image_encode_png(NULL, 2, 2, 3, &out, &len, &e) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_encode_png(px, 0, 2, 3, &out, &len, &e) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_encode_png(px, 2, 2, 5, &out, &len, &e) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_encode_png(px, 20000, 2, 3, &out, &len, &e) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_encode_jpeg(px, 2, 2, 3, 0, &out, &len, &e) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_encode_jpeg(px, 2, 2, 3, 101, &out, &len, &e) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_encode_jpeg(px, 2, 2, 3, 50, NULL, &len, &e) == DD_ERR_INVALID_ARGUMENT);
  CHECK(out == (uint8_t *)0x1 && len == 99);
  CHECK(e.status == DD_ERR_INVALID_ARGUMENT && e.message[0]);
}

int main(void) {
  TEST_RUN(test_png_round_trip);
  TEST_RUN(test_gray_expands);
  TEST_RUN(test_jpeg_encode);
  TEST_RUN(test_hulk);
  TEST_RUN(test_truncation);
  TEST_RUN(test_jpeg_declares_too_many_pixels);
  TEST_RUN(test_cut_mid_scan_with_eoi);
  TEST_RUN(test_corruption);
  TEST_RUN(test_sizes_and_garbage);
  TEST_RUN(test_encode_errors);
  return test_summary();
}
