/* image.c — stb_image / stb_image_write glue with input validation (see
 * image.h). This file holds the only stb implementations in the library. */
#include "dream/image.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Every standard header stb includes, included first (see DD_STB_EXEMPT). */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_SIMD /* identical decoding natively and in wasm */
#define STBI_MAX_DIMENSIONS DD_IMAGE_MAX_DIM
#define STBI_ASSERT(x) assert(x)
/* Zeroed allocations: on corrupt input stb can read memory it never wrote
   (e.g. a Huffman table a scan names but no DHT defined); zeros make that
   deterministic instead of leaking old heap contents into pixels. calloc'd
   pixels are still released with free() = dd_free(). */
#define STBI_MALLOC(sz) calloc(1, (sz))
#define STBI_REALLOC(p, newsz) realloc((p), (newsz))
#define STBI_FREE(p) free(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#define STBIW_ASSERT(x) assert(x)
#define STB_IMAGE_WRITE_IMPLEMENTATION

/* Sanitizer builds (DD_SANITIZE: ASan + UBSan, -fno-sanitize-recover):
   stb's integer arithmetic overflows by design on some inputs: the JPEG
   writer shifts bits out of a signed int bit buffer, and the JPEG decoder's
   integer IDCT overflows int on corrupt coefficients (the values are garbage
   and clamped either way). gcc and clang wrap these in practice; they are not
   memory errors. So stb's functions, and only those, are exempted from the
   two arithmetic checks (signed-integer-overflow, shift); ASan and the other
   UBSan checks (bounds, alignment, null, ...) stay on for every line of stb.
   The attribute is attached by spelling `static` as a macro while the stb
   headers are read; all standard headers they include are already included
   above, so the macro never reaches them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define DD_STB_EXEMPT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define DD_STB_EXEMPT 1
#endif
#endif

#if defined(__GNUC__)
/* The static stb API declares functions that are never defined (GIF, HDR);
   gcc reports those at the end of the file, after any pop. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wpointer-arith"
#pragma GCC diagnostic ignored "-Wattributes" /* the exemption on static variables */
#endif
#if defined(DD_STB_EXEMPT) && defined(__clang__)
/* clang rejects the attribute on variables; it can apply it to functions only */
#pragma clang attribute push(__attribute__((no_sanitize("signed-integer-overflow", "shift"))), apply_to = function)
#elif defined(DD_STB_EXEMPT)
#define static static __attribute__((no_sanitize("signed-integer-overflow", "shift")))
#endif
#include <stb_image.h>
#include <stb_image_write.h>
#if defined(DD_STB_EXEMPT) && defined(__clang__)
#pragma clang attribute pop
#elif defined(DD_STB_EXEMPT)
#undef static
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* decoded pixels (and the hash of the padded decode) are at most
   DD_IMAGE_MAX_PIXELS * 4 bytes: that fits a 32-bit size_t (wasm32) */
_Static_assert((uint64_t)DD_IMAGE_MAX_PIXELS * 4 < UINT32_MAX, "image sizes must fit a 32-bit size_t");

/* ---- structure checks ------------------------------------------------------ */
static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
  /* bitwise CRC-32 (IEEE, reflected); a nibble table keeps it small and fast enough */
  static const uint32_t tab[16] = {0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
                                   0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
                                   0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ tab[crc & 15];
    crc = (crc >> 4) ^ tab[crc & 15];
  }
  return ~crc;
}

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static dd_status check_png(const uint8_t *b, size_t len, int64_t *w, int64_t *h, dd_error *err) {
  size_t pos = 8;
  int chunks = 0;
  for (;;) {
    if (len - pos < 12)
      return dd_fail(err, DD_ERR_PARSE, "PNG is truncated: %s at byte %zu of %zu",
                     chunks ? "no IEND chunk" : "no chunks", pos, len);
    const uint32_t n = be32(b + pos);
    if (n > 0x7fffffffu) return dd_fail(err, DD_ERR_PARSE, "PNG chunk at byte %zu has length %u", pos, n);
    if ((size_t)n > len - pos - 12)
      return dd_fail(err, DD_ERR_PARSE, "PNG is truncated: chunk '%.4s' at byte %zu needs %u bytes, %zu left",
                     (const char *)(b + pos + 4), pos, n + 12u, len - pos);
    const uint32_t want = be32(b + pos + 8 + n);
    const uint32_t got = crc32_update(0, b + pos + 4, (size_t)n + 4);
    char type[5];
    for (int i = 0; i < 4; i++) {
      const uint8_t c = b[pos + 4 + i];
      type[i] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? (char)c : '?';
    }
    type[4] = 0;
    if (want != got)
      return dd_fail(err, DD_ERR_PARSE, "PNG is corrupt: CRC of chunk '%s' at byte %zu is %08x, expected %08x",
                     type, pos, got, want);
    if (chunks == 0) {
      if (memcmp(b + pos + 4, "IHDR", 4) != 0 || n != 13)
        return dd_fail(err, DD_ERR_PARSE, "PNG is corrupt: the first chunk is '%s', not a 13-byte IHDR", type);
      *w = be32(b + pos + 8);
      *h = be32(b + pos + 12);
    }
    chunks++;
    if (memcmp(b + pos + 4, "IEND", 4) == 0) return DD_OK;
    pos += (size_t)n + 12;
  }
}

static int is_sof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

/* What the markers so far have defined; a scan may only use defined tables
   (stb would read its never-written table memory otherwise). */
typedef struct jpeg_state {
  int frames, progressive, ncomp;
  uint8_t comp_id[4], comp_tq[4];
  unsigned dc, ac, q; /* bit t: table t defined */
} jpeg_state;

static dd_status jpeg_segment(jpeg_state *js, uint8_t m, const uint8_t *p, size_t n, size_t at, int64_t *w,
                              int64_t *h, dd_error *err) {
  if (is_sof(m)) {
    if (js->frames++)
      return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: a second frame header at byte %zu", at);
    if (n < 6) return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: frame header of %zu bytes", n);
    *h = (int64_t)p[1] << 8 | p[2];
    *w = (int64_t)p[3] << 8 | p[4];
    js->ncomp = p[5];
    js->progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
    if (js->ncomp < 1 || js->ncomp > 4 || n < 6 + 3 * (size_t)js->ncomp)
      return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: frame header with %d components in %zu bytes", js->ncomp, n);
    for (int i = 0; i < js->ncomp; i++) {
      js->comp_id[i] = p[6 + 3 * i];
      js->comp_tq[i] = p[8 + 3 * i];
      if (js->comp_tq[i] > 3)
        return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: component %d uses quantisation table %d", i, js->comp_tq[i]);
    }
  } else if (m == 0xDB) { /* DQT */
    size_t q = 0;
    while (q < n) {
      const int pq = p[q] >> 4, tq = p[q] & 15;
      const size_t need = 1 + 64 * (size_t)(pq + 1);
      if (pq > 1 || tq > 3 || n - q < need)
        return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: bad quantisation table at byte %zu", at);
      js->q |= 1u << tq;
      q += need;
    }
  } else if (m == 0xC4) { /* DHT; stb 2.27 does not bound the symbol count (writes past 256) */
    size_t q = 0;
    while (q < n) {
      if (n - q < 17) return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: short Huffman table at byte %zu", at);
      const int tc = p[q] >> 4, th = p[q] & 15;
      size_t count = 0;
      for (int i = 1; i <= 16; i++) count += p[q + i];
      if (tc > 1 || th > 3 || count > 256 || n - q - 17 < count)
        return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: bad Huffman table at byte %zu (class %d, id %d, %zu symbols)",
                       at, tc, th, count);
      if (tc == 0) js->dc |= 1u << th;
      else js->ac |= 1u << th;
      q += 17 + count;
    }
  } else if (m == 0xDA) { /* SOS */
    if (!js->frames) return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: scan before the frame header");
    const size_t ns = n ? p[0] : 0;
    if (ns < 1 || ns > 4 || n < 1 + 2 * ns + 3)
      return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: scan header at byte %zu", at);
    const int ss = p[1 + 2 * ns], ah = p[3 + 2 * ns] >> 4;
    for (size_t i = 0; i < ns; i++) {
      const uint8_t cs = p[1 + 2 * i];
      const int td = p[2 + 2 * i] >> 4, ta = p[2 + 2 * i] & 15;
      int c = 0;
      while (c < js->ncomp && js->comp_id[c] != cs) c++;
      if (c == js->ncomp) return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: scan names unknown component %d", cs);
      if (!(js->q >> js->comp_tq[c] & 1))
        return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: quantisation table %d is used but not defined",
                       js->comp_tq[c]);
      const int need_dc = js->progressive ? (ss == 0 && ah == 0) : 1;
      const int need_ac = js->progressive ? ss != 0 : 1;
      if ((need_dc && (td > 3 || !(js->dc >> td & 1))) || (need_ac && (ta > 3 || !(js->ac >> ta & 1))))
        return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: scan at byte %zu uses an undefined Huffman table", at);
    }
  }
  return DD_OK;
}

/* *scan_end: the offset of the marker that ends the last scan's data. */
static dd_status check_jpeg(const uint8_t *b, size_t len, int64_t *w, int64_t *h, size_t *scan_end, dd_error *err) {
  size_t pos = 2; /* after SOI */
  jpeg_state js;
  memset(&js, 0, sizeof js);
  for (;;) {
    /* a marker: one or more 0xFF, then a code that is not 0x00 or 0xFF */
    if (pos >= len) return dd_fail(err, DD_ERR_PARSE, "JPEG is truncated: no EOI marker (%zu bytes)", len);
    if (b[pos] != 0xFF)
      return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: expected a marker at byte %zu, found 0x%02x", pos, b[pos]);
    while (pos < len && b[pos] == 0xFF) pos++;
    if (pos >= len) return dd_fail(err, DD_ERR_PARSE, "JPEG is truncated: no EOI marker (%zu bytes)", len);
    const uint8_t m = b[pos++];
    if (m == 0xD9) { /* EOI */
      if (!js.frames) return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: no frame header (SOF) before EOI");
      return DD_OK;
    }
    if (m == 0x00 || m == 0xD8)
      return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: marker 0xFF%02X at byte %zu", m, pos - 2);
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue; /* TEM, RSTn: no length */
    if (len - pos < 2) return dd_fail(err, DD_ERR_PARSE, "JPEG is truncated inside marker 0xFF%02X", m);
    const size_t seg = (size_t)b[pos] << 8 | b[pos + 1];
    if (seg < 2) return dd_fail(err, DD_ERR_PARSE, "JPEG is corrupt: marker 0xFF%02X has length %zu", m, seg);
    if (seg > len - pos)
      return dd_fail(err, DD_ERR_PARSE, "JPEG is truncated: marker 0xFF%02X at byte %zu needs %zu bytes, %zu left",
                     m, pos - 2, seg, len - pos);
    dd_status st = jpeg_segment(&js, m, b + pos + 2, seg - 2, pos - 2, w, h, err);
    if (st != DD_OK) return st;
    pos += seg;
    if (m == 0xDA) { /* SOS: entropy-coded data up to the next marker */
      for (;;) {
        if (pos + 1 >= len)
          return dd_fail(err, DD_ERR_PARSE, "JPEG is truncated: scan data runs to the end (%zu bytes)", len);
        if (b[pos] == 0xFF && b[pos + 1] != 0x00 && !(b[pos + 1] >= 0xD0 && b[pos + 1] <= 0xD7)) break;
        pos++;
      }
      *scan_end = pos;
    }
  }
}

/* ---- a scan cut short ---------------------------------------------------------- */
/* stb's JPEG decoder feeds zero bits once a scan's data ends at a marker, so a
   file cut mid-scan with an end marker appended decodes "successfully" to a
   flat fill. A complete scan never reads past its last MCU (it prefetches a
   few bytes and skips the rest up to the next marker), so the same file with
   non-marker bytes inserted after the last scan's data decodes to the same
   pixels; a scan cut short reads them as coefficients and decodes to other
   pixels (or fails). The two decodes are compared by hash, one after the
   other, so peak memory stays one image. */
#define PAD_BYTES 64
#define PAD_BYTE 0x55

static uint64_t pixels_hash(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* 1 and *hash set when the bytes with padding inserted at scan_end decode to
   w x h; 0 when that decode fails (which a complete scan never does). */
static dd_status padded_hash(const uint8_t *b, size_t len, size_t scan_end, int w, int h, int want, int *decoded,
                             uint64_t *hash, dd_error *err) {
  *decoded = 0;
  if (len > (size_t)INT_MAX - PAD_BYTES) return DD_OK;
  uint8_t *q = (uint8_t *)malloc(len + PAD_BYTES);
  if (!q) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory checking a %zu-byte JPEG", len);
  memcpy(q, b, scan_end);
  memset(q + scan_end, PAD_BYTE, PAD_BYTES);
  memcpy(q + scan_end + PAD_BYTES, b + scan_end, len - scan_end);
  int x = 0, y = 0, c = 0;
  uint8_t *p = stbi_load_from_memory(q, (int)(len + PAD_BYTES), &x, &y, &c, want);
  free(q);
  if (!p) {
    const char *why = stbi_failure_reason();
    if (why && strcmp(why, "outofmem") == 0)
      return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory decoding a %dx%d image", w, h);
    return DD_OK;
  }
  if (x == w && y == h) {
    *decoded = 1;
    *hash = pixels_hash(p, (size_t)w * (size_t)h * (size_t)want);
  }
  stbi_image_free(p);
  return DD_OK;
}

/* ---- decode ------------------------------------------------------------------- */
dd_status dd_image_decode(const uint8_t *bytes, size_t len, int *w, int *h, int *channels, uint8_t **pixels,
                          dd_error *err) {
  if (!w || !h || !channels || !pixels)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_image_decode: NULL output pointer");
  if (!bytes || len == 0) return dd_fail(err, DD_ERR_PARSE, "image is empty (0 bytes)");
  if (len > (size_t)INT_MAX) return dd_fail(err, DD_ERR_PARSE, "image file of %zu bytes is too large", len);
  dd_status st;
  int64_t hw = -1, hh = -1; /* the size the header declares */
  size_t scan_end = 0;       /* JPEG: where the last scan's data ends */
  int is_jpeg = 0;
  if (len >= 8 && memcmp(bytes, png_signature, 8) == 0) {
    if ((st = check_png(bytes, len, &hw, &hh, err)) != DD_OK) return st;
  } else if (len >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) {
    if ((st = check_jpeg(bytes, len, &hw, &hh, &scan_end, err)) != DD_OK) return st;
    is_jpeg = 1;
  } else {
    return dd_fail(err, DD_ERR_PARSE, "unknown image type: not a PNG or JPEG (%zu bytes)", len);
  }
  if (hw <= 0 || hh <= 0)
    return dd_fail(err, DD_ERR_PARSE, "image has a zero size (%lldx%lld)", (long long)hw, (long long)hh);
  if (hw > DD_IMAGE_MAX_DIM || hh > DD_IMAGE_MAX_DIM || hw * hh > DD_IMAGE_MAX_PIXELS)
    return dd_fail(err, DD_ERR_PARSE, "image of %lldx%lld pixels is larger than the limit (%d per side, %d in all)",
                   (long long)hw, (long long)hh, DD_IMAGE_MAX_DIM, DD_IMAGE_MAX_PIXELS);
  /* A JPEG codes every 8x8 block of its full-resolution component with at
     least one Huffman bit (the DC difference; baseline adds an end-of-block
     code), so it cannot hold more than 512 pixels per byte. A few hundred
     bytes declaring tens of megapixels would otherwise be decoded in full,
     twice (the truncation check below), for seconds of work: refused first. */
  if (is_jpeg && hw * hh > (int64_t)len * 512)
    return dd_fail(err, DD_ERR_PARSE,
                   "JPEG declares %lldx%lld pixels but has only %zu bytes, too few to code them (at least one bit "
                   "per 8x8 block): it is cut short or crafted", (long long)hw, (long long)hh, len);
  int x = 0, y = 0, comp = 0;
  if (!stbi_info_from_memory(bytes, (int)len, &x, &y, &comp))
    return dd_fail(err, DD_ERR_PARSE, "cannot read the image header: %s", stbi_failure_reason());
  if (x != hw || y != hh)
    return dd_fail(err, DD_ERR_PARSE, "image header is inconsistent (%lldx%lld vs %dx%d)", (long long)hw,
                   (long long)hh, x, y);
  if (comp < 1 || comp > 4) return dd_fail(err, DD_ERR_PARSE, "image has %d channels", comp);
  const int want = (comp == 2 || comp == 4) ? 4 : 3;
  int padded_ok = 0;
  uint64_t padded = 0;
  if (scan_end > 0 && (st = padded_hash(bytes, len, scan_end, x, y, want, &padded_ok, &padded, err)) != DD_OK)
    return st;
  int x2 = 0, y2 = 0, comp2 = 0;
  uint8_t *p = stbi_load_from_memory(bytes, (int)len, &x2, &y2, &comp2, want);
  if (!p) {
    const char *why = stbi_failure_reason();
    if (why && strcmp(why, "outofmem") == 0)
      return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "out of memory decoding a %dx%d image", x, y);
    return dd_fail(err, DD_ERR_PARSE, "cannot decode the image: %s", why ? why : "unknown error");
  }
  if (x2 != x || y2 != y) {
    stbi_image_free(p);
    return dd_fail(err, DD_ERR_PARSE, "image header says %dx%d but decodes to %dx%d", x, y, x2, y2);
  }
  if (scan_end > 0 && (!padded_ok || pixels_hash(p, (size_t)x * (size_t)y * (size_t)want) != padded)) {
    stbi_image_free(p);
    return dd_fail(err, DD_ERR_PARSE,
                   "JPEG is truncated: its last scan ends early at byte %zu of %zu (the rest of the %dx%d image "
                   "would be a flat fill)", scan_end, len, x, y);
  }
  *w = x;
  *h = y;
  *channels = want;
  *pixels = p; /* STBI_MALLOC is malloc: dd_free() releases it */
  return DD_OK;
}

/* ---- encode ------------------------------------------------------------------- */
typedef struct membuf {
  uint8_t *data;
  size_t len, cap;
  int failed;
} membuf;

static void membuf_write(void *ctx, void *data, int size) {
  membuf *m = (membuf *)ctx;
  if (m->failed || size <= 0) return;
  if ((size_t)size > m->cap - m->len) {
    size_t cap = m->cap ? m->cap : 4096;
    while ((size_t)size > cap - m->len) {
      if (cap > SIZE_MAX / 2) {
        m->failed = 1;
        return;
      }
      cap *= 2;
    }
    uint8_t *p = (uint8_t *)realloc(m->data, cap);
    if (!p) {
      m->failed = 1;
      return;
    }
    m->data = p;
    m->cap = cap;
  }
  memcpy(m->data + m->len, data, (size_t)size);
  m->len += (size_t)size;
}

static dd_status check_encode_args(const uint8_t *pixels, int w, int h, int channels, uint8_t **out,
                                   size_t *len, const char *what, dd_error *err) {
  if (!pixels || !out || !len) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s: NULL argument", what);
  if (channels < 1 || channels > 4)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s: %d channels (1..4 supported)", what, channels);
  if (w < 1 || h < 1 || w > DD_IMAGE_MAX_DIM || h > DD_IMAGE_MAX_DIM || (int64_t)w * h > DD_IMAGE_MAX_PIXELS)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "%s: size %dx%d out of range", what, w, h);
  return DD_OK;
}

static dd_status finish(membuf *m, int ok, uint8_t **out, size_t *len, const char *what, dd_error *err) {
  if (!ok || m->failed || m->len == 0) {
    free(m->data);
    return dd_fail(err, m->failed ? DD_ERR_OUT_OF_MEMORY : DD_ERR_INTERNAL, "%s: encoder failed%s", what,
                   m->failed ? " (out of memory)" : "");
  }
  uint8_t *shrunk = (uint8_t *)realloc(m->data, m->len);
  *out = shrunk ? shrunk : m->data;
  *len = m->len;
  return DD_OK;
}

dd_status dd_image_encode_png(const uint8_t *pixels, int w, int h, int channels, uint8_t **out, size_t *len,
                              dd_error *err) {
  dd_status st = check_encode_args(pixels, w, h, channels, out, len, "PNG", err);
  if (st != DD_OK) return st;
  membuf m = {0};
  int ok = stbi_write_png_to_func(membuf_write, &m, w, h, channels, pixels, w * channels);
  return finish(&m, ok, out, len, "PNG", err);
}

dd_status dd_image_encode_jpeg(const uint8_t *pixels, int w, int h, int channels, int quality, uint8_t **out,
                               size_t *len, dd_error *err) {
  dd_status st = check_encode_args(pixels, w, h, channels, out, len, "JPEG", err);
  if (st != DD_OK) return st;
  if (quality < 1 || quality > 100)
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "JPEG: quality %d out of range 1..100", quality);
  membuf m = {0};
  int ok = stbi_write_jpg_to_func(membuf_write, &m, w, h, channels, pixels, quality);
  return finish(&m, ok, out, len, "JPEG", err);
}
