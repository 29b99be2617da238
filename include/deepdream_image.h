/* deepdream_image.h — images for programs built on deepdream.h: PNG/JPEG
 * bytes <-> 8-bit pixels (stb), Pillow's LANCZOS resize, a seeded noise
 * picture. A sibling of deepdream.h with the same contracts (dd_status,
 * dd_error, outputs written only on success, untrusted bytes never read out
 * of bounds).
 *
 * Pixels: interleaved rows, top row first, w*channels bytes per row, no
 * padding; channels 3 = RGB, 4 = RGBA (1 = gray and 2 = gray+alpha are
 * accepted by the encoders). Buffers returned through `uint8_t **` are
 * released with dd_free().
 *
 * Decoding: JPEG (baseline and progressive) and PNG (any bit depth, palette,
 * interlaced; 16-bit is reduced to 8). Gray -> RGB (3), gray+alpha -> RGBA
 * (4), RGB -> 3, RGBA and palette-with-transparency -> 4. The bytes are
 * untrusted: PNG chunk CRCs and IEND, the JPEG marker structure and EOI are
 * checked, sizes above DD_IMAGE_MAX_DIM / DD_IMAGE_MAX_PIXELS are refused
 * before any pixel memory is allocated; every such failure is DD_ERR_PARSE
 * with a sentence naming the cause. Decoding is identical natively and in wasm.
 *
 * Encoding: PNG (lossless) and baseline JPEG (quality 1..100, alpha dropped).
 * Errors: DD_ERR_INVALID_ARGUMENT for NULL or out-of-range arguments (a
 * quality outside 1..100 included), DD_ERR_OUT_OF_MEMORY.
 *
 * Thread safety: no shared mutable state.
 */
#ifndef DEEPDREAM_IMAGE_H
#define DEEPDREAM_IMAGE_H

#include "deepdream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DD_IMAGE_MAX_DIM 16384
#define DD_IMAGE_MAX_PIXELS 100000000

dd_status dd_image_decode(const uint8_t *bytes, size_t len, int *w, int *h, int *channels, uint8_t **pixels,
                          dd_error *err);

dd_status dd_image_encode_png(const uint8_t *pixels, int w, int h, int channels, uint8_t **out, size_t *len,
                              dd_error *err);

dd_status dd_image_encode_jpeg(const uint8_t *pixels, int w, int h, int channels, int quality, uint8_t **out,
                               size_t *len, dd_error *err);

/* Pillow's Image.resize((ow, oh), Image.LANCZOS) of an 8-bit image with c
   channels, bit-exact. Width before height, as in Pillow. in and out must not
   overlap; out holds ow*oh*c bytes. */
dd_status dd_resize_lanczos_u8(const uint8_t *in, int w, int h, int c, uint8_t *out, int ow, int oh,
                               dd_error *err);

/* One step of the zoom movie (the CLIs' --zoom, the JS zoomAnimation): the
   centre (int)(w/scale) x (int)(h/scale) pixels of `in`, starting at
   ((w-cw)/2, (h-ch)/2), resized back to w x h with dd_resize_lanczos_u8.
   scale in (1, 4] (DD_ERR_INVALID_ARGUMENT otherwise, or when the crop would be
   empty). `out` holds w*h*c bytes and may be `in` itself. */
dd_status dd_image_zoom(const uint8_t *in, int w, int h, int c, double scale, uint8_t *out, dd_error *err);

/* The command lines' --noise start picture: w*h RGB pixels in 100..155 drawn
   from `seed` (xoshiro256**), identical on every platform. `rgb` holds
   w*h*3 bytes; w and h in 1..DD_IMAGE_MAX_DIM. */
dd_status dd_image_noise(uint64_t seed, int w, int h, uint8_t *rgb, dd_error *err);

#ifdef __cplusplus
}
#endif
#endif /* DEEPDREAM_IMAGE_H */
