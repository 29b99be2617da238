/* sniff.h — names what a file is from its first bytes, so that a wrong file
 * given as a model gets a sentence a person understands ("this is a PNG
 * image, not a TensorFlow GraphDef") before any protobuf detail.
 *
 * Contract: reads at most the first DD_SNIFF_BYTES bytes of `bytes` (and
 * never past `len`); never fails; DD_FILE_UNKNOWN means "no known signature",
 * which is what a GraphDef itself looks like (protobuf has no magic number).
 */
#ifndef DD_FORMATS_SNIFF_H
#define DD_FORMATS_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#define DD_SNIFF_BYTES 64

typedef enum dd_file_kind {
  DD_FILE_UNKNOWN = 0, /* no signature: possibly a GraphDef */
  DD_FILE_EMPTY,
  DD_FILE_ZIP,
  DD_FILE_GZIP,
  DD_FILE_PNG,
  DD_FILE_JPEG,
  DD_FILE_GIF,
  DD_FILE_WEBP,
  DD_FILE_HTML,
  DD_FILE_JSON,
  DD_FILE_HDF5,
  DD_FILE_TFLITE,
  DD_FILE_ONNX,
  DD_FILE_SAVED_MODEL,
  DD_FILE_KIND_COUNT
} dd_file_kind;

dd_file_kind dd_sniff(const uint8_t *bytes, size_t len);

/* "a PNG image", "a ZIP archive", ... ; "" for DD_FILE_UNKNOWN. */
const char *dd_file_kind_describe(dd_file_kind kind);

/* One sentence of advice for a kind given where a GraphDef was expected
   (e.g. for a ZIP: unzip it first), or "" when there is none. */
const char *dd_file_kind_advice(dd_file_kind kind);

#endif
