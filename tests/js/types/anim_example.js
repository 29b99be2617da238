// @ts-check
// The zoom animation and channel atlas return values, typed by index.d.ts (tsc --strict through
// tsconfig.json) and checked at runtime by animate.test.js: the declarations agree with the code.
import { zoomAnimation, channelAtlas, encodeGif, channelObjective, ANIMATION_DEFAULTS, ATLAS_DEFAULTS } from 'deepdream-wasm';

/** @param {boolean} ok @param {string} what */
function check(ok, what) {
  if (!ok) throw new Error(`a value does not have its declared shape: ${what}`);
}

/** @param {import('deepdream-wasm').Model} model @param {string} layer @returns {Promise<string>} */
export async function main(model, layer) {
  const image = { data: new Uint8Array(40 * 32 * 3).fill(120), width: 40, height: 32, channels: /** @type {3} */ (3) };
  /** @type {import('deepdream-wasm').ZoomProgress[]} */
  const progress = [];
  /** @type {number[]} */
  const seen = [];
  const anim = await zoomAnimation(model, image, { frames: 2, zoom: 1.2, layer, iterations: 1, octaves: 0 }, {
    onFrame: (f) => { seen.push(f.index); check(f.image.data instanceof Uint8Array && f.frames === 2, 'frame'); },
    onProgress: (p) => { progress.push(p); },
  });
  check(typeof anim.id === 'string' && anim.first === 0 && anim.frames.length === 2 && seen.join() === '0,1', 'ZoomResult');
  check(progress.every((p) => typeof p.frame === 'number' && typeof p.frameFraction === 'number' && typeof p.fraction === 'number'), 'ZoomProgress');
  const gif = await encodeGif(anim.frames, { delay: 50 });
  check(gif instanceof Uint8Array && gif[0] === 0x47, 'encodeGif');
  /** @type {import('deepdream-wasm').AtlasTile[]} */
  const tiles = [];
  const atlas = await channelAtlas(model, { layer, channels: [0, 1], size: 16, iterations: 1, octaves: 0 }, { cache: false, onChannel: (t) => { tiles.push(t); } });
  check(atlas.image.width === 32 && atlas.image.height === 16 && atlas.columns === 2 && atlas.rows === 1 && atlas.complete, 'AtlasResult');
  check(tiles.length === 2 && tiles.every((t) => t.image.width === 16 && typeof t.cached === 'boolean'), 'AtlasTile');
  check(channelObjective(layer, 3).objective === `channel(${layer},3)` && ANIMATION_DEFAULTS.zoom === 1.05 && ATLAS_DEFAULTS.size === 80, 'defaults');
  return 'ok';
}
