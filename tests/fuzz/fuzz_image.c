/* fuzz_image.c — libFuzzer target for image decoding (PNG and JPEG through
 * stb with our structure checks). A decoded image must have the size limits'
 * dimensions and 3 or 4 channels, and every pixel is read (ASan checks the
 * buffer); a failure must carry a status and a message and leave the outputs
 * untouched. Build and run: tests/fuzz/run_fuzz.sh. */
#include <stdint.h>
#include <string.h>

#include "dream/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int w = -7, h = -7, c = -7;
  uint8_t *px = NULL;
  dd_error err;
  memset(&err, 0, sizeof err);
  dd_status s = dd_image_decode(data, size, &w, &h, &c, &px, &err);
  if (s == DD_OK) {
    if (!px || w < 1 || h < 1 || w > DD_IMAGE_MAX_DIM || h > DD_IMAGE_MAX_DIM || (c != 3 && c != 4))
      __builtin_trap();
    size_t n = (size_t)w * (size_t)h * (size_t)c;
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += px[i];
    (void)sum;
    dd_free(px);
  } else {
    if (s >= 0 || err.status != s || px || w != -7 || h != -7 || c != -7) __builtin_trap();
    if (!memchr(err.message, '\0', sizeof err.message) || err.message[0] == '\0') __builtin_trap();
  }
  return 0;
}
