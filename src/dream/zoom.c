/* zoom.c — one step of the DeepDream zoom movie (include/deepdream_image.h):
 * the centre 1/scale of a picture, resized back to full size with Pillow's
 * LANCZOS. The native CLI's --zoom, the Node CLI's and the JS API's
 * zoomAnimation all zoom through this one function. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deepdream_image.h"

#include "core/core.h"

dd_status dd_image_zoom(const uint8_t *in, int w, int h, int c, double scale, uint8_t *out, dd_error *err) {
  if (!in || !out) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_image_zoom: NULL buffer");
  if (w < 1 || h < 1 || w > DD_IMAGE_MAX_DIM || h > DD_IMAGE_MAX_DIM || c < 1 || c > 4)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "zoom: the picture must be 1..%d pixels on each side with 1..4 channels, got %dx%dx%d",
                   DD_IMAGE_MAX_DIM, w, h, c);
  if (!(scale > 1.0 && scale <= 4.0)) /* NaN fails too */
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "zoom: the zoom per frame must be in (1, 4], got %g", scale);
  int cw = (int)(w / scale), ch = (int)(h / scale);
  if (cw < 1 || ch < 1)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "zoom: a %dx%d picture is too small to zoom by %g", w, h, scale);
  int x0 = (w - cw) / 2, y0 = (h - ch) / 2;
  size_t row = (size_t)cw * (size_t)c, n; /* w, h <= DD_IMAGE_MAX_DIM, c <= 4: rows fit; the product is checked */
  if (!dd_mul_size(row, (size_t)ch, &n)) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "zoom: the crop is too large");
  uint8_t *crop = (uint8_t *)malloc(n);
  if (!crop) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "zoom: out of memory for a %dx%d crop", cw, ch);
  for (int y = 0; y < ch; y++)
    memcpy(crop + (size_t)y * row, in + ((size_t)(y0 + y) * (size_t)w + (size_t)x0) * (size_t)c, row);
  dd_status s = dd_resize_lanczos_u8(crop, cw, ch, c, out, w, h, err); /* in and out may be the same buffer */
  free(crop);
  return s;
}
