// deepdream-wasm — DeepDream on TensorFlow GraphDef models (Inception 5h) in
// the browser and in Node, on a C core compiled to WebAssembly SIMD.
export { DeepDreamError, Status } from './errors.js';
import { DeepDreamError, asDeepDreamError } from './errors.js';
export { loadCore, threadsSupported, defaultThreadCount } from './core.js';
export { Model } from './model.js';
import { loadCore as _loadCore } from './core.js';
import { decodeImage as _decode, encodeImage as _encode } from './image.js';
/** Decodes JPEG/PNG bytes into {data, width, height, channels} (works in Node and browsers). */
export async function decodeImage(bytes) {
  return guard('decodeImage', async () => _decode(await _loadCore({ threads: false }), bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)));
}
/** Encodes {data, width, height, channels} as 'png' or 'jpeg'. */
export async function encodeImage(img, format = 'png', quality = 92) {
  return guard('encodeImage', async () => _encode(await _loadCore({ threads: false }), img, format, quality));
}

// The API boundary: whatever fails below (a Node fs error, a TypeError from a
// bad argument) leaves as a DeepDreamError with a stable code and a sentence.
async function guard(context, fn) {
  try {
    return await fn();
  } catch (e) {
    throw asDeepDreamError(e, context);
  }
}
function guardSync(context, fn) {
  try {
    return fn();
  } catch (e) {
    throw asDeepDreamError(e, context);
  }
}
import { loadModelBytes } from './model.js';
import { dream as startDream, dreamFromState } from './dream.js';
import { openStore, IndexedDBStore } from './storage.js';
import { withSchedule } from './checkpoint.js';
import { loadRemoteModel, remoteDream, remoteResumeDream, remoteListDreams } from './remote.js';
export { IndexedDBStore, FileStore, openStore, FORMAT_VERSION } from './storage.js';
export { RemoteModel, RemoteDream, terminateWorker } from './remote.js';

/**
 * True in a browser page (a window) whose browser has module Workers: there the
 * core runs in a module Worker (worker.js) so the page stays responsive. In
 * Node, inside workers, and in browsers without module Workers it runs in-process.
 */
export const runsInWorkerByDefault = typeof window === 'object' && typeof document === 'object' && moduleWorkersSupported();

/** Whether new Worker(url, {type: 'module'}) is honoured: only then is the option read (an invalid URL stops it there). */
function moduleWorkersSupported() {
  if (typeof Worker !== 'function') return false;
  let read = false;
  try { new Worker('http://[', { get type() { read = true; return 'module'; } }); } catch { /* the invalid URL, as intended */ }
  return read;
}

/**
 * Loads a model. source: URL, Node file path, File/Blob, ArrayBuffer, typed array or 'indexeddb://name'.
 * In a browser page the model lives in a module Worker and this returns a
 * RemoteModel (same properties; computing methods return promises); pass
 * {worker: false} to load it on the calling thread, or {worker: true} in Node
 * to use a worker_thread.
 * @returns {Promise<import('./model.js').Model | import('./remote.js').RemoteModel>}
 */
export async function loadModel(source, opts = {}) {
  return guard('loadModel', async () => {
    if (opts.worker ?? runsInWorkerByDefault) return loadRemoteModel(source, opts);
    if (typeof source === 'string' && source.startsWith('indexeddb://')) {
      const store = opts.store || new IndexedDBStore();
      const bytes = await store.loadModel(source.slice('indexeddb://'.length));
      return loadModelBytes(bytes, opts);
    }
    return loadModelBytes(source, opts);
  });
}

/** Caches model bytes in IndexedDB so the page reads the 54 MB file once. */
export async function saveModelBytes(url, bytes, opts = {}) {
  return guard('saveModelBytes', async () => {
    if (!String(url).startsWith('indexeddb://'))
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `saveModelBytes: unsupported URL '${url}' (use indexeddb://name)`);
    const store = opts.store || new IndexedDBStore();
    await store.saveModel(String(url).slice('indexeddb://'.length), bytes, opts.meta);
  });
}
export async function listModels(opts = {}) { return guard('listModels', () => (opts.store || new IndexedDBStore()).listModels()); }
export async function removeModel(url, opts = {}) {
  return guard('removeModel', () => (opts.store || new IndexedDBStore()).removeModel(String(url).replace(/^indexeddb:\/\//, '')));
}
export async function copyModel(from, to, opts = {}) {
  return guard('copyModel', async () => {
    const store = opts.store || new IndexedDBStore();
    const bytes = await store.loadModel(String(from).replace(/^indexeddb:\/\//, ''));
    await store.saveModel(String(to).replace(/^indexeddb:\/\//, ''), bytes);
  });
}

/**
 * Dreams on an image. With options.checkpoint = {storage, everyTiles, everySeconds},
 * the state is saved while dreaming; resumeDream() continues it after a reload.
 * checkpoint.removeWhenDone (true): remove the record when the dream finishes; when false,
 * checkpoint.saveWhenDone saves the finished state (fraction 1) before the 'done' event.
 * checkpoint.record: a plain-data object (JSON values: it crosses to a Worker and into checkpoint
 * files) whose fields every saved record carries; the standard fields (id, state, fraction, ...)
 * come after it and win. The spec is checked here (checkpoint.js), not at the first save.
 */
export function dream(model, source, options = {}) {
  return guardSync('dream', () => {
    // no layer: the model's default dream layer, as on both command lines and in the page (Inception 5h: 2, conv2d2)
    if (options.layer === undefined && model && model.description && Number.isInteger(model.description.defaultLayer))
      options = { ...options, layer: model.description.defaultLayer };
    if (model && model.remote) return remoteDream(model, source, options);
    if (options.checkpoint) options = { ...options, checkpoint: { ...withSchedule(options.checkpoint), storage: openStore(options.checkpoint.storage) } };
    return startDream(model, source, options);
  });
}

/** Continues a checkpointed dream; yields the same final bytes as an uninterrupted run. */
export async function resumeDream(model, id, options = {}) {
  return guard('resumeDream', async () => {
    if (model && model.remote) return remoteResumeDream(model, id, options);
    const storage = openStore(options.checkpoint ? options.checkpoint.storage : options.storage);
    const rec = await storage.loadDream(id);
    const checkpoint = options.checkpoint === false ? undefined : { ...withSchedule(options.checkpoint || {}), storage };
    return dreamFromState(model, rec.state, { id: rec.id, width: rec.width, height: rec.height, channels: rec.channels,
      options: rec.options, fraction: rec.fraction }, { ...options, checkpoint });
  });
}

export async function listDreams(storage) {
  return guard('listDreams', async () => {
    if (runsInWorkerByDefault && (storage === undefined || storage === 'indexeddb')) {
      const list = await remoteListDreams(storage);
      if (list) return list;
    }
    return openStore(storage).listDreams();
  });
}
export async function removeDream(id, storage) { return guard('removeDream', () => openStore(storage).removeDream(id)); }
export { DreamController, DEFAULTS, parseChannels } from './dream.js';
export { zoomAnimation, resumeZoomAnimation, ANIMATION_DEFAULTS } from './animate.js';
export { channelAtlas, channelObjective, ATLAS_DEFAULTS } from './atlas.js';
/** An animated GIF of frames (gifenc; loaded on first use): {delay: ms per frame, repeat: 0 = forever}. */
export async function encodeGif(frames, opts = {}) {
  return guard('encodeGif', async () => (await import('./gif.js')).encodeGifFrames(frames, opts));
}
export * from './train/index.js';
