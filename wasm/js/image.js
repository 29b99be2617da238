// image.js — pixels in and out: canvases, ImageData, ImageBitmap, raw arrays.
import { DeepDreamError } from './errors.js';

/** Returns {data: Uint8Array, width, height, channels (3|4)} for any supported source. */
export function toRGBA(src) {
  if (!src) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'no image given');
  const g = globalThis;
  if ((g.HTMLCanvasElement && src instanceof g.HTMLCanvasElement) || (g.OffscreenCanvas && src instanceof g.OffscreenCanvas)) {
    const id = src.getContext('2d').getImageData(0, 0, src.width, src.height);
    return { data: new Uint8Array(id.data.buffer, id.data.byteOffset, id.data.byteLength), width: id.width, height: id.height, channels: 4 };
  }
  if (g.ImageBitmap && src instanceof g.ImageBitmap) {
    const c = new g.OffscreenCanvas(src.width, src.height);
    c.getContext('2d').drawImage(src, 0, 0);
    return toRGBA(c);
  }
  if (src.data && src.width > 0 && src.height > 0) {
    const channels = src.channels ?? (src.data.length === src.width * src.height * 3 ? 3 : 4);
    if (src.data.length !== src.width * src.height * channels)
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `image data has ${src.data.length} bytes, expected ${src.width}x${src.height}x${channels}`);
    const d = src.data;
    return { data: d instanceof Uint8Array ? d : new Uint8Array(d.buffer, d.byteOffset, d.byteLength), width: src.width, height: src.height, channels };
  }
  throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'unsupported image source: use a canvas, ImageData, ImageBitmap or {data, width, height}');
}

/** RGBA bytes (adds opaque alpha to RGB). */
export function rgbaBytes(img) {
  if (img.channels === 4) return new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const out = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0, j = 0; i < out.length; i += 4, j += 3) { out[i] = img.data[j]; out[i + 1] = img.data[j + 1]; out[i + 2] = img.data[j + 2]; out[i + 3] = 255; }
  return out;
}

/** Draws an image (any size) scaled onto a canvas (HTMLCanvasElement or OffscreenCanvas). */
export function drawToCanvas(canvas, img) {
  const g = globalThis;
  const id = new g.ImageData(rgbaBytes(img), img.width, img.height);
  const ctx = canvas.getContext('2d');
  if (img.width === canvas.width && img.height === canvas.height) { ctx.putImageData(id, 0, 0); return; }
  const tmp = new g.OffscreenCanvas(img.width, img.height);
  tmp.getContext('2d').putImageData(id, 0, 0);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

/** Decodes JPEG or PNG bytes with the core's stb_image: {data, width, height, channels}. */
export function decodeImage(M, bytes) {
  const { checkPtr, withScope } = M.__heap;
  return withScope(M, (s) => {
    const p = s.u8(bytes), info = s.alloc(12), err = s.err();
    const px = checkPtr(M, M._ddw_image_decode(p, bytes.length, info, err), err, 'decodeImage');
    const [w, h, c] = M.HEAP32.subarray(info >>> 2, (info >>> 2) + 3);
    const data = M.HEAPU8.slice(px, px + w * h * c);
    M._dd_free(px);
    return { data, width: w, height: h, channels: c };
  });
}

/** Encodes pixels as PNG (format 'png') or JPEG ('jpeg', quality 1..100). */
export function encodeImage(M, img, format = 'png', quality = 92) {
  const { check, checkPtr, withScope } = M.__heap;
  return withScope(M, (s) => {
    const p = s.u8(img.data), out = s.alloc(8), err = s.err();
    M.HEAPU32[out >>> 2] = 0;
    check(M, M._ddw_image_encode(p, img.width, img.height, img.channels, format === 'jpeg' ? 1 : 0, quality, out, err), err, 'encodeImage');
    const q = checkPtr(M, M.HEAPU32[out >>> 2], err, 'encodeImage'), n = M.HEAPU32[(out >>> 2) + 1];
    const bytes = M.HEAPU8.slice(q, q + n);
    M._dd_free(q);
    return bytes;
  });
}
