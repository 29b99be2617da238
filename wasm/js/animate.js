// animate.js — the DeepDream zoom movie (Google's Caffe notebook's loop): dream a frame, zoom into its
// centre by a factor (dd_image_zoom in the core), dream again, N frames. Frame f dreams with seed + f, as
// both CLIs' --zoom do, so the three give the same frames.
//
// Resumable, with a model on the calling thread or in a Worker alike: with hooks.checkpoint =
// {storage, everyTiles?, everySeconds?}, each frame's dream is checkpointed as an ordinary dream record
// (storage.js) under the animation's id, carrying the frame's position as plain data (checkpoint.record:
// {animation: {frame, frames, zoom, seed, options}}), and its finished state is saved too (saveWhenDone:
// a record at fraction 1 means that frame is finished), so the next frame's start picture is never lost.
// resumeZoomAnimation() continues from that record: the frame in progress to the same bytes (a finished
// one is read back from its state, not dreamed again), then the frames after it.
import { loadCore } from './core.js';
import { DeepDreamError } from './errors.js';
import { check, withScope } from './heap.js';
import { toRGBA } from './image.js';
import { withSchedule } from './checkpoint.js';
import { openStore } from './storage.js';
import { remoteDreamStore } from './remote.js';
import { dream, resumeDream } from './index.js';
import { u64, zoomImage } from './picture.js';

/** The defaults: 10 frames, 5% zoom per frame (the CLIs' --zoom-scale default). */
export const ANIMATION_DEFAULTS = Object.freeze({ frames: 10, zoom: 1.05 });

const coreOf = (model) => (model && model._M && !model.remote ? model._M : loadCore({ threads: false }));

/** A value checked by the core's option table (the CLIs' --zoom / --zoom-scale rows): the same sentences. */
function optionValue(M, name, value, what) {
  return withScope(M, (s) => {
    const out = s.alloc(32), err = s.err();
    check(M, M._ddw_option_parse(s.str(name), s.str(String(value)), out, err), err, what);
    return name === 'zoom' ? M.HEAPF64[out >>> 3] : M.HEAPF64[(out >>> 3) + 1];
  });
}

/** The dream options a record can carry as plain data (a bigint seed as its decimal text; no callbacks; a guide as pixels). */
function plainOptions(o) {
  const out = {};
  const g = globalThis;
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'function' || k === 'canvas' || k === 'signal' || k === 'checkpoint' || k === 'id') continue;
    const drawable = (g.ImageBitmap && v instanceof g.ImageBitmap) || (g.OffscreenCanvas && v instanceof g.OffscreenCanvas)
      || (g.HTMLCanvasElement && v instanceof g.HTMLCanvasElement);
    out[k] = typeof v === 'bigint' ? v.toString() : k === 'guide' && drawable ? toRGBA(v) : v; // IndexedDB keeps pixels, not bitmaps
  }
  return out;
}

/**
 * Where an animation's records are read and removed: the store itself for a model on this thread; for a
 * worker-hosted model, through its worker, which writes them (a Node worker's IndexedDB is not this thread's).
 */
const recordStore = (model, storage) => (model && model.remote ? remoteDreamStore(model, storage) : openStore(storage));

let counter = 0;
const newId = () => `zoom-${globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${++counter}`}`;

/**
 * The zoom movie. options: {frames = 10, zoom = 1.05, ...dream options (layer, channels, iterations, seed, ...)}.
 * hooks: {onFrame({index, frames, image}) (awaited), onProgress({frame, frames, fraction, ...dream progress}),
 * signal, checkpoint: {storage, everyTiles?, everySeconds?, id?}}.
 * Resolves to {id, frames: the images made by this call, first: the index of frames[0]}; hooks.keepFrames
 * false keeps none (write them in onFrame instead).
 */
export async function zoomAnimation(model, image, options = {}, hooks = {}) {
  const M = await coreOf(model);
  const { frames: nFrames = ANIMATION_DEFAULTS.frames, zoom = ANIMATION_DEFAULTS.zoom, ...dreamOptions } = options;
  const frames = optionValue(M, 'zoom', nFrames, 'zoomAnimation: frames');
  const scale = optionValue(M, 'zoom-scale', zoom, 'zoomAnimation: zoom');
  const img = toRGBA(image);
  const start = { data: img.data.slice(), width: img.width, height: img.height, channels: img.channels };
  const plan = { frames, zoom: scale, seed: u64(dreamOptions.seed ?? 0).toString(), options: plainOptions(dreamOptions) };
  return run(M, model, plan, { frame: 0, image: start }, hooks, (hooks.checkpoint && hooks.checkpoint.id) || newId());
}

/**
 * Continues a checkpointed zoom movie (its id is the record's id: listDreams() shows it with an
 * `animation` field). hooks as for zoomAnimation; hooks.checkpoint (or hooks.storage) names the store.
 * A frame that had finished (its record at fraction 1) is delivered again from its saved state, not dreamed.
 */
export async function resumeZoomAnimation(model, id, hooks = {}) {
  const M = await coreOf(model);
  const where = hooks.checkpoint && hooks.checkpoint.storage !== undefined ? hooks.checkpoint.storage : hooks.storage;
  const rec = await recordStore(model, where).loadDream(id);
  const a = rec.animation;
  if (!a || typeof a !== 'object' || !Number.isInteger(a.frame) || !Number.isInteger(a.frames) || a.frame < 0 || a.frame >= a.frames ||
      typeof a.zoom !== 'number' || typeof a.seed !== 'string' || !a.options || typeof a.options !== 'object')
    throw new DeepDreamError('DD_ERR_PARSE', `saved dream '${id}' is not a zoom animation checkpoint (no valid animation field)`);
  const plan = { frames: optionValue(M, 'zoom', a.frames, 'resumeZoomAnimation: frames'),
    zoom: optionValue(M, 'zoom-scale', a.zoom, 'resumeZoomAnimation: zoom'), seed: u64(a.seed).toString(), options: a.options };
  return run(M, model, plan, { frame: a.frame, resume: true }, { ...hooks, checkpoint: { ...(hooks.checkpoint || {}), storage: where } }, id);
}

async function run(M, model, plan, from, hooks, id) {
  const ck = hooks.checkpoint;
  const store = ck ? recordStore(model, ck.storage) : null;
  // each frame's dream checkpoints where the records are: the store object here, its name for a worker
  const storage = ck && model && model.remote ? ck.storage : store;
  const keep = hooks.keepFrames !== false, out = [];
  let image = from.image;
  for (let f = from.frame; f < plan.frames; f++) {
    if (hooks.signal && hooks.signal.aborted) throw new DeepDreamError('DD_ERR_ABORTED', 'the zoom animation was aborted');
    const onProgress = hooks.onProgress
      ? (p) => hooks.onProgress({ ...p, frame: f, frames: plan.frames, frameFraction: p.fraction, fraction: (f + p.fraction) / plan.frames })
      : undefined;
    const animation = { frame: f, frames: plan.frames, zoom: plan.zoom, seed: plan.seed, options: plan.options };
    const checkpoint = ck
      ? { ...withSchedule(ck), storage, removeWhenDone: false, saveWhenDone: true, record: { animation } }
      : undefined;
    const common = { onProgress, signal: hooks.signal, checkpoint };
    const c = from.resume && f === from.frame
      ? await resumeDream(model, id, common)
      : dream(model, image, { ...plan.options, seed: (u64(plan.seed) + BigInt(f)) % (1n << 64n), id, ...common });
    const res = await c.result; // with a checkpoint, the finished state is saved (fraction 1) before this resolves
    const frame = { data: res.data instanceof Uint8Array ? res.data : new Uint8Array(res.data.buffer, res.data.byteOffset, res.data.byteLength),
      width: res.width, height: res.height, channels: res.channels };
    if (keep) out.push(frame);
    if (hooks.onFrame) await hooks.onFrame({ index: f, frames: plan.frames, image: frame });
    if (f + 1 < plan.frames) image = zoomImage(M, frame, plan.zoom);
  }
  if (store) await store.removeDream(id).catch(() => {});
  return { id, frames: out, first: from.frame };
}
