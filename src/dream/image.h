/* image.h — PNG/JPEG bytes <-> 8-bit pixels (stb_image, stb_image_write).
 *
 * The functions and their contracts are public: include/deepdream_image.h.
 * What the implementation (image.c) adds to them:
 *   - PNG: the chunk structure is walked, every chunk CRC-32 is verified, an
 *     IEND chunk must be present (bytes after it are ignored); a PNG
 *     colour-key transparency (tRNS on gray/RGB) is dropped;
 *   - JPEG: the marker structure is walked up to the EOI marker, which must be
 *     present; segment lengths must fit (no checksum exists, so corrupted
 *     entropy-coded bytes still decode, to wrong pixels); pixels come from
 *     stb's decoder built with STBI_NO_SIMD so that native and wasm decode
 *     identically (they can differ by a few levels from libjpeg's, i.e. PIL's);
 *   - EXIF orientation is not applied (neither does PIL.Image.open);
 *   - stb subsamples chroma 4:2:0 at JPEG quality <= 90; PNG uses stb's zlib
 *     at compression level 8;
 *   - stb's failure reason is thread-local; the stb_image_write globals are
 *     never modified.
 */
#ifndef DD_DREAM_IMAGE_H
#define DD_DREAM_IMAGE_H

#include "core/core.h"
#include "deepdream_image.h"

#endif /* DD_DREAM_IMAGE_H */
