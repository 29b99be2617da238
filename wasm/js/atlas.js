// atlas.js — a layer's channel atlas: every channel's visualisation, dreamed from the core's seeded noise
// picture (dd_image_noise, the same start for every channel) with few iterations, laid out in a grid.
// Incremental (onChannel after each tile), cancellable (signal), cached per model + layer + options
// (atlas_cache.js) and resumable: a cancelled atlas continues at the first channel it had not finished,
// and since every tile is a pure function of (model, options, channel), the pixels are the same.
import { loadCore, isNode } from './core.js';
import { DeepDreamError } from './errors.js';
import { dream } from './index.js';
import { normalizeOptions, parseChannels } from './dream.js';
import { noiseImage } from './picture.js';
import { openAtlasCache } from './atlas_cache.js';

/** Small tiles, few iterations: a quick look at each channel. The start is flat grey noise, so the step is larger than
 * the tutorial's 3 (and two octaves give the patterns some size): each channel's pattern shows within 10 iterations. */
export const ATLAS_DEFAULTS = Object.freeze({ size: 80, iterations: 10, octaves: 2, stepSize: 8, seed: 0 });
// 2: tiles are dreamed with channel(L,c) (mean activation), no longer mean(square(L[..., c])) (format 1)
const CACHE_FORMAT = 2;

// what the objective grammar reads as a layer name (src/dream/objective_parse.c is_name_char); all digits is an index
const GRAMMAR_NAME = /^[A-Za-z0-9_./:-]+$/;

/**
 * The objective that makes one channel's picture: Lucid's channel objective, the mean activation of channel c,
 * {objective: `channel(${layer},${c})`}. `layer` is a node name as the grammar writes it (letters, digits and
 * _ . / : -, e.g. ONNX's inception_4c/output) or a dream-layer index (a number).
 */
export function channelObjective(layer, c) {
  const ref = Number.isInteger(layer) && layer >= 0 ? String(layer)
    : typeof layer === 'string' && GRAMMAR_NAME.test(layer) && !/^[0-9]+$/.test(layer) ? layer : null;
  if (ref === null) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `channelObjective: the layer ${JSON.stringify(layer)} cannot be written in an objective (a name of letters, digits and _ . / : - that is not all digits, or a dream-layer index)`);
  if (!(Number.isInteger(c) && c >= 0)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `channelObjective: channel must be a non-negative integer, got ${JSON.stringify(c)}`);
  return { objective: `channel(${ref},${c})` };
}

/** How the objective names layer `name`: the name, or its dream-layer index when the grammar cannot write the name. */
function objectiveLayer(model, name) {
  if (GRAMMAR_NAME.test(name) && !/^[0-9]+$/.test(name)) return name;
  const i = (model.layers || []).findIndex((l) => l.name === name);
  if (i >= 0) return i;
  throw new DeepDreamError('DD_ERR_UNSUPPORTED', `channelAtlas: the layer name ${JSON.stringify(name)} cannot be written in an objective and it is not a dream layer`);
}

/** The objective channelAtlas dreams channel c of the layer named `name` of `model` with (the page's "dream with it"). */
export function atlasChannelObjective(model, name, c) { return channelObjective(objectiveLayer(model, name), c).objective; }

async function sha256Hex(text) {
  const d = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function layerInfo(model, layer) {
  const all = [...(model.layers || []), ...(model.convLayers || [])];
  const l = typeof layer === 'number' ? (model.layers || [])[layer] : all.find((x) => x.name === layer);
  if (!l) throw new DeepDreamError('DD_ERR_NOT_FOUND', `channelAtlas: no layer ${JSON.stringify(layer)} in this model (see model.layers and model.convLayers)`);
  return l;
}

/**
 * options: {layer (name or dream-layer index), channels? (default: all of the layer's), size (80), columns?,
 * iterations (10), octaves (2), stepSize (8), seed (0), ... other dream options}.
 * hooks: {onChannel({channel, index, count, image, column, row, cached}), signal,
 * cache: 'indexeddb' (the default in browsers) | a directory (Node) | false, cacheEverySeconds (2)}.
 * Resolves to {layer, channels, size, columns, rows, image: the grid (RGB), complete: true, key}.
 */
export async function channelAtlas(model, options = {}, hooks = {}) {
  const M = model && model._M && !model.remote ? model._M : await loadCore({ threads: false });
  const { layer = 0, channels: chOpt, size = ATLAS_DEFAULTS.size, columns: colOpt, ...rest } = options;
  const info = layerInfo(model, layer);
  const channels = chOpt === undefined ? Array.from({ length: info.channels }, (_, i) => i) : parseChannels(chOpt);
  if (channels.length === 0) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'channelAtlas: no channels');
  const bad = channels.find((c) => !(Number.isInteger(c) && c >= 0 && c < info.channels));
  if (bad !== undefined) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `channelAtlas: channel ${bad} is not in 0..${info.channels - 1} of ${info.name}`);
  if (!(Number.isInteger(size) && size >= 16 && size <= 512)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `channelAtlas: size must be an integer in 16..512, got ${JSON.stringify(size)}`);
  const columns = colOpt ?? Math.ceil(Math.sqrt(channels.length));
  if (!(Number.isInteger(columns) && columns >= 1)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `channelAtlas: columns must be a positive integer, got ${JSON.stringify(colOpt)}`);
  const rows = Math.ceil(channels.length / columns);
  const dreamOpts = { iterations: ATLAS_DEFAULTS.iterations, octaves: ATLAS_DEFAULTS.octaves, stepSize: ATLAS_DEFAULTS.stepSize, seed: ATLAS_DEFAULTS.seed, ...rest, layer: info.name };
  const norm = normalizeOptions(dreamOpts); // the key names every option the dream uses, with its default
  // every option given counts too, also those normalizeOptions does not know (an objective, transforms)
  const given = Object.entries(dreamOpts).filter(([, v]) => typeof v !== 'function').sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]);
  const key = await sha256Hex(JSON.stringify({ v: CACHE_FORMAT, model: model.fingerprint, layer: info.name, size, channels, options: { ...norm, channels: undefined }, given }));
  const noise = noiseImage(M, norm.seed, size, size);
  const objLayer = objectiveLayer(model, info.name);

  const cache = openAtlasCache(hooks.cache ?? (isNode ? false : 'indexeddb'));
  const tileBytes = size * size * 3, n = channels.length;
  let rec = cache ? await cache.load({ key, size, channels }).catch(() => null) : null;
  if (!rec) rec = { key, size, channels, layer: info.name, options: norm, modelFingerprint: model.fingerprint, done: new Uint8Array(n), tiles: new Uint8Array(n * tileBytes) };
  const grid = { data: new Uint8Array(columns * size * rows * size * 3), width: columns * size, height: rows * size, channels: 3 };
  const place = (i) => { // tile i into the grid: row copies only
    const gx = (i % columns) * size, gy = Math.floor(i / columns) * size, row = size * 3;
    for (let y = 0; y < size; y++) grid.data.set(rec.tiles.subarray(i * tileBytes + y * row, i * tileBytes + (y + 1) * row), ((gy + y) * grid.width + gx) * 3);
  };
  const emit = async (i, cached) => {
    place(i);
    if (hooks.onChannel) await hooks.onChannel({ channel: channels[i], index: i, count: n, column: i % columns, row: Math.floor(i / columns), cached,
      image: { data: rec.tiles.slice(i * tileBytes, (i + 1) * tileBytes), width: size, height: size, channels: 3 } });
  };
  for (let i = 0; i < n; i++) if (rec.done[i]) await emit(i, true);

  const every = (hooks.cacheEverySeconds ?? 2) * 1000;
  let lastSave = performance.now(), dirty = false;
  const save = async () => { if (cache && dirty) { await cache.save(rec); dirty = false; lastSave = performance.now(); } };
  try {
    for (let i = 0; i < n; i++) {
      if (rec.done[i]) continue;
      if (hooks.signal && hooks.signal.aborted) throw new DeepDreamError('DD_ERR_ABORTED', 'the channel atlas was cancelled');
      const res = await dream(model, noise, { ...dreamOpts, ...channelObjective(objLayer, channels[i]), signal: hooks.signal }).result;
      if (res.width !== size || res.height !== size || res.channels !== 3) throw new DeepDreamError('DD_ERR_INTERNAL', `channelAtlas: a tile came back ${res.width}x${res.height}x${res.channels}`);
      rec.tiles.set(res.data, i * tileBytes);
      rec.done[i] = 1;
      dirty = true;
      await emit(i, false);
      if (performance.now() - lastSave >= every) await save();
    }
  } finally {
    await save().catch(() => {}); // what was made is kept, whether cancelled or finished
  }
  return { layer: info.name, channels, size, columns, rows, image: grid, complete: true, key };
}
