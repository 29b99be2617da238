/* noise.c — the seeded noise start picture of the command lines' --noise
 * (include/deepdream_image.h). */
#include "deepdream_image.h"

#include "core/core.h"

dd_status dd_image_noise(uint64_t seed, int w, int h, uint8_t *rgb, dd_error *err) {
  if (!rgb) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_image_noise: NULL buffer");
  if (w < 1 || h < 1 || w > DD_IMAGE_MAX_DIM || h > DD_IMAGE_MAX_DIM)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "a noise picture must be 1..%d pixels on each side, got %dx%d",
                   DD_IMAGE_MAX_DIM, w, h);
  dd_rng r;
  dd_rng_seed(&r, seed ^ 0x6e6f697365ULL);
  for (size_t i = 0, n = (size_t)w * (size_t)h * 3; i < n; i++) rgb[i] = (uint8_t)(100 + 56 * dd_rng_uniform(&r));
  return DD_OK;
}
