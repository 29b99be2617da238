// gif.js — an animated GIF of frames through gifenc (a palette of 256 colours per frame).
// Imported lazily (encodeGif in index.js): the bare specifier 'gifenc' resolves in Node and, through
// the page's import map, in web/index.html; Workers, which have no import map, never load this file.
import { DeepDreamError } from './errors.js';
import { rgbaBytes, toRGBA } from './image.js';

// gifenc is ESM in browsers (named exports) and CommonJS in Node (one exports object as the default)
const gifenc = import('gifenc').then((ns) => (ns.quantize ? ns : ns.default));

/** frames: images of one size; {delay: ms per frame (100), repeat: 0 = forever}. Returns the GIF's bytes. */
export async function encodeGifFrames(frames, { delay = 100, repeat = 0, onProgress } = {}) {
  const { GIFEncoder, quantize, applyPalette } = await gifenc;
  if (!Array.isArray(frames) || frames.length === 0) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'encodeGif: no frames');
  if (!(Number.isInteger(delay) && delay >= 0 && delay <= 655350)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `encodeGif: delay must be 0..655350 ms, got ${delay}`);
  const first = toRGBA(frames[0]);
  if (first.width > 65535 || first.height > 65535) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `encodeGif: ${first.width}x${first.height} is larger than a GIF can be`);
  const gif = GIFEncoder();
  frames.forEach((f, i) => {
    const img = toRGBA(f);
    if (img.width !== first.width || img.height !== first.height)
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `encodeGif: frame ${i} is ${img.width}x${img.height}, frame 0 ${first.width}x${first.height}`);
    const rgba = rgbaBytes(img);
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), img.width, img.height, { palette, delay, repeat });
    if (onProgress) onProgress((i + 1) / frames.length);
  });
  gif.finish();
  return gif.bytes();
}
