/* image.h — PNG/JPEG bytes <-> 8-bit pixels (stb_image, stb_image_write).
 *
 * Pixels: interleaved rows, top row first, w*channels bytes per row, no
 * padding; channels 3 = RGB, 4 = RGBA (1 = gray and 2 = gray+alpha are
 * accepted by the encoders). Buffers returned through `uint8_t **` are
 * malloc'd; release them with dd_free(). Outputs are written only on success.
 *
 * Decoding (dd_image_decode): JPEG (baseline and progressive; CMYK/YCCK as
 * stb converts them) and PNG (any bit depth, palette, interlaced; 16-bit is
 * reduced to 8). Gray -> RGB (channels 3), gray+alpha -> RGBA (4), RGB -> 3,
 * RGBA and palette-with-transparency -> 4. A PNG colour-key transparency
 * (tRNS on gray/RGB) is dropped. EXIF orientation is not applied (neither
 * does PIL.Image.open in the tutorial). JPEG pixels come from stb's decoder
 * (built with STBI_NO_SIMD so that native and wasm decode identically) and
 * can differ by a few levels from libjpeg's (PIL's) IDCT and upsampling.
 *
 * Untrusted input: the bytes are checked before and during decoding:
 *   - PNG: the chunk structure is walked, every chunk CRC-32 is verified, an
 *     IEND chunk must be present (bytes after it are ignored);
 *   - JPEG: the marker structure is walked up to the EOI marker, which must be
 *     present; segment lengths must fit (no checksum exists, so corrupted
 *     entropy-coded bytes still decode, to wrong pixels);
 *   - width or height 0 or > DD_IMAGE_MAX_DIM, or w*h > DD_IMAGE_MAX_PIXELS,
 *     are refused before any pixel memory is allocated.
 * Every failure of that kind is DD_ERR_PARSE with a message naming the cause
 * (stb's stbi_failure_reason() when stb refuses). Other formats (GIF, BMP,
 * ...) are DD_ERR_PARSE "unknown image type". Decoding never reads outside
 * [bytes, bytes+len).
 *
 * Encoding: PNG (lossless, stb's zlib, compression level 8) and baseline
 * JPEG (quality 1..100; stb subsamples chroma 4:2:0 at quality <= 90; alpha is
 * dropped). Sizes as for decoding. Errors: DD_ERR_INVALID_ARGUMENT for NULL
 * or out-of-range arguments, DD_ERR_OUT_OF_MEMORY.
 *
 * Thread safety: no shared mutable state (stb's failure reason is
 * thread-local; the stb_image_write globals are never modified).
 */
#ifndef DD_DREAM_IMAGE_H
#define DD_DREAM_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "core/core.h"

#define DD_IMAGE_MAX_DIM 16384
#define DD_IMAGE_MAX_PIXELS 100000000

dd_status dd_image_decode(const uint8_t *bytes, size_t len, int *w, int *h, int *channels, uint8_t **pixels,
                          dd_error *err);

dd_status dd_image_encode_png(const uint8_t *pixels, int w, int h, int channels, uint8_t **out, size_t *len,
                              dd_error *err);

dd_status dd_image_encode_jpeg(const uint8_t *pixels, int w, int h, int channels, int quality, uint8_t **out,
                               size_t *len, dd_error *err);

#endif /* DD_DREAM_IMAGE_H */
