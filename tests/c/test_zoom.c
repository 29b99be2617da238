/* test_zoom.c — dd_image_zoom, the zoom movie's step: the centre (int)(w/scale) x (int)(h/scale) crop at
 * ((w-cw)/2, (h-ch)/2), cut out here by hand, resized back by dd_resize_lanczos_u8 (itself checked against
 * Pillow in test_resize.c); in place works; bad scales and pictures are refused with a sentence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deepdream_image.h"
#include "testutil.h"

static void picture(uint8_t *p, int w, int h, int c) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++) p[((size_t)y * w + x) * c + k] = (uint8_t)((x * 37 + y * 11 + k * 80 + x * y) & 255);
}

static void test_crop_then_resize(void) {
  const int sizes[][3] = {{64, 48, 3}, {81, 57, 4}, {33, 90, 3}, {7, 5, 1}};
  const double scales[] = {1.05, 1.25, 2.0, 4.0};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    for (size_t j = 0; j < sizeof scales / sizeof scales[0]; j++) {
      int w = sizes[i][0], h = sizes[i][1], c = sizes[i][2];
      double s = scales[j];
      int cw = (int)(w / s), ch = (int)(h / s);
      if (cw < 1 || ch < 1) continue;
      size_t n = (size_t)w * h * c;
      uint8_t *in = malloc(n), *want = malloc(n), *got = malloc(n), *crop = malloc((size_t)cw * ch * c);
      picture(in, w, h, c);
      int x0 = (w - cw) / 2, y0 = (h - ch) / 2;
      for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++)
          for (int k = 0; k < c; k++) crop[((size_t)y * cw + x) * c + k] = in[((size_t)(y0 + y) * w + (x0 + x)) * c + k];
      dd_error err = {0};
      CHECK_OK(dd_resize_lanczos_u8(crop, cw, ch, c, want, w, h, &err));
      CHECK_OK(dd_image_zoom(in, w, h, c, s, got, &err));
      CHECKF(!memcmp(got, want, n), "%dx%dx%d zoom %g differs from crop + resize", w, h, c, s);
      CHECK_OK(dd_image_zoom(in, w, h, c, s, in, &err)); /* in place */
      CHECKF(!memcmp(in, want, n), "%dx%dx%d zoom %g in place differs", w, h, c, s);
      free(in); free(want); free(got); free(crop);
    }
}

static void test_refused(void) {
  uint8_t px[16 * 16 * 3] = {0}, out[16 * 16 * 3];
  dd_error err = {0};
  const double bad[] = {1.0, 0.5, 4.01, -2, NAN, INFINITY};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(dd_image_zoom(px, 16, 16, 3, bad[i], out, &err) == DD_ERR_INVALID_ARGUMENT);
    CHECKF(strstr(err.message, "(1, 4]") != NULL, "%s", err.message);
  }
  CHECK(dd_image_zoom(px, 3, 1, 3, 2.0, out, &err) == DD_ERR_INVALID_ARGUMENT); /* a 1.5x0.5 crop is empty */
  CHECKF(strstr(err.message, "too small") != NULL, "%s", err.message);
  CHECK(dd_image_zoom(px, 0, 16, 3, 2.0, out, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_zoom(px, 16, 16, 5, 2.0, out, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_zoom(px, DD_IMAGE_MAX_DIM + 1, 1, 3, 2.0, out, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_zoom(NULL, 16, 16, 3, 2.0, out, &err) == DD_ERR_INVALID_ARGUMENT);
  CHECK(dd_image_zoom(px, 16, 16, 3, 2.0, NULL, &err) == DD_ERR_INVALID_ARGUMENT);
}

int main(void) {
  TEST_RUN(test_crop_then_resize);
  TEST_RUN(test_refused);
  return test_summary();
}
