// picture.js — the core's picture makers, for every caller (Node CLI, zoomAnimation, channelAtlas):
// the seeded --noise start picture (dd_image_noise) and one zoom-movie step (dd_image_zoom).
// Both run in the core: the JS does no pixel arithmetic here.
import { check, withScope } from './heap.js';
import { DeepDreamError } from './errors.js';

/** A seed (number, bigint or decimal string) as an unsigned 64-bit BigInt. */
export const u64 = (seed) => BigInt.asUintN(64, BigInt(seed ?? 0));

/** The core's noise picture (the CLIs' --noise bytes): {data, width, height, channels: 3}. */
export function noiseImage(M, seed, w, h) {
  return withScope(M, (s) => {
    const n = w * h * 3, p = s.alloc(n), err = s.err(), x = u64(seed);
    check(M, M._ddw_image_noise(Number(x & 0xffffffffn), Number(x >> 32n), w, h, p, err), err, 'noise');
    return { data: M.HEAPU8.slice(p, p + n), width: w, height: h, channels: 3 };
  });
}

/** One zoom step (dd_image_zoom): the centre 1/scale of img resized back to its size (Pillow's LANCZOS). */
export function zoomImage(M, img, scale) {
  const { width: w, height: h, channels: c } = img;
  if (typeof scale !== 'number') throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `zoom: the zoom per frame must be a number, got ${JSON.stringify(scale)}`);
  return withScope(M, (s) => {
    const n = w * h * c, p = s.u8(img.data), err = s.err();
    check(M, M._ddw_image_zoom(p, w, h, c, scale, p, err), err, 'zoom');
    return { data: M.HEAPU8.slice(p, p + n), width: w, height: h, channels: c };
  });
}
