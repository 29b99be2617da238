// worker.js — the module Worker that hosts the C core for a page (or a Node
// worker_thread for loadModel(src, {worker: true})). The page talks to it
// through remote.js (RemoteModel / RemoteDream); this file runs the ordinary
// in-process API (model.js, dream.js, storage.js) and forwards events.
//
// Protocol (all messages are structured-cloned, pixel buffers transferred):
//   page -> worker  {rid, op, ...args}
//   worker -> page  {rid, ok: true, value} | {rid, ok: false, error: {name, code, message}}
//                   {type: 'loadProgress', rid, fraction, done, total}
//                   {type: 'dream', dream: id, event: 'progress'|'checkpoint'|'done'|'error', detail, frame?, image?, error?}
//                   {type: 'coreStart'} {type: 'alive'}... {type: 'coreStarted'} (browsers: the threaded build's start)
//                   {type: 'ready'} once, when this worker listens (messages posted earlier wait in its queue)
// A frame is the current image as an ImageBitmap (browsers, only when the page
// asked for frames: it has a target canvas), at most the page's canvas size,
// with at most two frames unacknowledged so a slow page never queues up work.
// The image changes once per iteration and octave (the tiles only accumulate
// the gradient), so frames are sent then; frameEvery: 'tile' sends one per step.
import { isNode, loadCore, threadsSupported, setCoreStartHook } from './core.js';
import { loadModel, dream, resumeDream } from './index.js';
import { IndexedDBStore, openStore } from './storage.js';
import { rgbaBytes } from './image.js';

let port;
if (isNode) {
  const { parentPort } = await import('node:worker_threads');
  port = { post: (m, t) => parentPort.postMessage(m, t), on: (fn) => parentPort.on('message', (data) => fn(data)) };
} else {
  // dream.js yields between tiles with setImmediate when it exists: a
  // MessageChannel is much faster than setTimeout(0) (clamped to 4 ms).
  if (typeof globalThis.setImmediate !== 'function') {
    const ch = new MessageChannel();
    const queue = [];
    ch.port1.onmessage = () => { const fn = queue.shift(); if (fn) fn(); };
    globalThis.setImmediate = (fn, ...args) => { queue.push(() => fn(...args)); ch.port2.postMessage(0); };
  }
  port = { post: (m, t) => self.postMessage(m, t || []), on: (fn) => { self.onmessage = (e) => fn(e.data); } };
}

// The threaded build creates its thread Workers (nested in this one) while it
// starts. Firefox sometimes never returns from such a `new Worker()` (about
// one start in four on a 2-core Linux machine, Firefox ESR 153; plain nested
// Workers without the core do it too), and this thread is blocked for good.
// While the build starts, this worker says it is alive every BEAT_MS; the page
// (remote.js) ends a worker that falls silent and starts another.
const BEAT_MS = 200; // remote.js STALL_MS: 15 beats
if (!isNode) {
  setCoreStartHook((variant, started) => {
    if (variant !== 'mt') return;
    port.post({ type: 'coreStart' });
    const beat = setInterval(() => port.post({ type: 'alive' }), BEAT_MS);
    started.catch(() => {}).then(() => { clearInterval(beat); port.post({ type: 'coreStarted' }); });
  });
}

const models = new Map(); // handle -> Model
const dreams = new Map(); // dream id -> entry
const ended = new Map(); // dream id -> {gradient} of finished dreams (the last few)
let nextHandle = 1;

/** An op's answer whose buffers are transferred, not copied. */
class Transfer { constructor(value, list) { this.value = value; this.list = list; } }

function serializeError(e) {
  if (e && typeof e === 'object') return { name: e.name || 'Error', code: e.code, message: e.message || String(e), stack: e.stack };
  return { name: 'Error', message: String(e) };
}

function model(handle) {
  const m = models.get(handle);
  if (!m) throw Object.assign(new Error('deepdream-wasm: the model has been freed'), { name: 'DeepDreamError', code: 'DD_ERR_INVALID_ARGUMENT' });
  return m;
}

function entry(id) {
  const d = dreams.get(id);
  if (!d) throw Object.assign(new Error(`deepdream-wasm: no running dream '${id}'`), { name: 'DeepDreamError', code: 'DD_ERR_NOT_FOUND' });
  return d;
}

const stores = new Map();
function storeFor(storage = 'indexeddb') {
  if (!stores.has(storage)) stores.set(storage, openStore(storage));
  return stores.get(storage);
}

function storageFor(ck) {
  if (!ck) return undefined;
  return { ...ck, storage: ck.storage === 'indexeddb' || ck.storage === undefined ? 'indexeddb' : ck.storage };
}

function modelInfo(handle, m) {
  return { handle, layers: m.layers, convLayers: m.convLayers, fingerprint: m.fingerprint, byteLength: m.byteLength,
    threads: m.threads, variant: m.variant, description: m.description };
}

// ------------------------------------------------------------ frames ----
async function makeFrame(img, target) {
  if (isNode || typeof createImageBitmap !== 'function') return null;
  const id = new ImageData(rgbaBytes(img), img.width, img.height);
  let w = img.width, h = img.height;
  if (target && target.width > 0 && target.height > 0 && (img.width > target.width || img.height > target.height)) {
    const s = Math.min(target.width / img.width, target.height / img.height);
    w = Math.max(1, Math.round(img.width * s));
    h = Math.max(1, Math.round(img.height * s));
  }
  if (w === img.width && h === img.height) return createImageBitmap(id);
  return createImageBitmap(id, { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium' });
}

function wire(id, c, frames) {
  const d = { id, c, frames, inFlight: 0, chain: Promise.resolve(), gradient: null, framed: false, stale: false };
  dreams.set(id, d);
  const send = (fn) => { d.chain = d.chain.then(fn).catch((e) => console.error('deepdream-wasm worker:', e)); };
  c.addEventListener('progress', (e) => {
    const detail = e.detail;
    // The image changes once per iteration (the step after the last tile) and
    // at each octave: numTiles is 0 right after. A frame then, and a first one.
    if (detail.numTiles === 0 || !d.framed || (d.frames && d.frames.every === 'tile')) d.stale = true;
    let img = null;
    if (d.frames && d.stale && d.inFlight < 2) {
      img = c.currentImage(); // read now: the next step changes the image
      d.inFlight++;
      d.stale = false;
      d.framed = true;
    }
    send(async () => {
      const frame = img ? await makeFrame(img, d.frames) : null;
      if (img && !frame) d.inFlight--;
      port.post({ type: 'dream', dream: id, event: 'progress', detail, frame }, frame ? [frame] : []);
    });
  });
  c.addEventListener('checkpoint', (e) => { const detail = e.detail; send(() => port.post({ type: 'dream', dream: id, event: 'checkpoint', detail })); });
  c.addEventListener('done', () => {
    // The dream is still alive here: keep its last gradient for currentGradient() after the end.
    try { d.gradient = c.currentGradient(); } catch { d.gradient = null; }
  });
  c.result.then((img) => {
    send(async () => {
      const frame = d.frames ? await makeFrame(img, d.frames) : null;
      const transfer = [img.data.buffer];
      if (frame) transfer.push(frame);
      dreams.delete(id);
      ended.set(id, { gradient: d.gradient });
      while (ended.size > 2) ended.delete(ended.keys().next().value);
      port.post({ type: 'dream', dream: id, event: 'done', image: img, frame }, transfer);
    });
  }, (err) => {
    send(() => {
      dreams.delete(id);
      port.post({ type: 'dream', dream: id, event: 'error', error: serializeError(err) });
    });
  });
}

/** When the core aborts (e.g. out of memory in the fixed-size threaded build) it is unusable: tell the page at once. */
function watchCore(M) {
  if (!M || M.__ddWatched) return;
  M.__ddWatched = true;
  M.onAbort = (what) => {
    const text = String(what ?? '');
    const oom = /OOM|out of memory|Cannot enlarge memory/i.test(text);
    port.post({ type: 'fatal', error: { name: 'DeepDreamError', code: oom ? 'DD_ERR_OUT_OF_MEMORY' : 'DD_ERR_INTERNAL',
      message: oom ? `deepdream-wasm: the core ran out of memory (${M.ddVariant} build, ${(M.HEAPU8.length / 2 ** 20).toFixed(0)} MiB): use a smaller picture or tile size`
        : `deepdream-wasm: the core aborted: ${text}` } });
  };
}

// ------------------------------------------------------------------ ops ----
const ops = {
  async init({ threads }) {
    const M = await loadCore({ threads });
    watchCore(M);
    return { variant: M.ddVariant, threadsSupported: threadsSupported(),
      crossOriginIsolated: typeof globalThis.crossOriginIsolated === 'boolean' ? globalThis.crossOriginIsolated : null };
  },

  async loadModel({ source, opts }, rid) {
    let last = -1;
    const onProgress = (fraction, done, total) => {
      if (fraction - last < 0.005 && fraction < 1) return;
      last = fraction;
      port.post({ type: 'loadProgress', rid, fraction, done, total });
    };
    const m = await loadModel(source, { ...opts, worker: false, onProgress });
    watchCore(m._M);
    const handle = nextHandle++;
    models.set(handle, m);
    return modelInfo(handle, m);
  },

  'model.forward'({ handle, input, height, width, node }) {
    const r = model(handle).forward(input, height, width, node);
    return new Transfer(r, [r.data.buffer]);
  },
  'model.gradient'({ handle, input, height, width, objective }) {
    const r = model(handle).gradient(input, height, width, objective);
    return new Transfer(r, [r.grad.buffer]);
  },
  'model.findNode'({ handle, name }) { return model(handle).findNode(name); },
  'model.bytes'({ handle }) { const b = model(handle).bytes(); return new Transfer(b, [b.buffer]); },
  async 'model.save'({ handle, url, meta }) {
    const m = model(handle);
    if (!meta) return m.save(url);
    if (!String(url).startsWith('indexeddb://')) return m.save(url); // reports the unsupported URL
    await new IndexedDBStore().saveModel(String(url).slice(12), m.bytes(), { ...meta, fingerprint: m.fingerprint });
  },
  'model.free'({ handle }) {
    const m = models.get(handle);
    if (m) m.free();
    models.delete(handle);
  },

  async dream({ handle, id, image, options, checkpoint, frames }) {
    const m = model(handle);
    const decoded = [];
    const decode = async (pic, what) => {
      if (typeof Blob === 'undefined' || !(pic instanceof Blob)) return pic;
      if (typeof createImageBitmap !== 'function')
        throw Object.assign(new Error('deepdream-wasm: decoding a Blob needs createImageBitmap (a browser)'), { name: 'DeepDreamError', code: 'DD_ERR_UNSUPPORTED' });
      try {
        const bm = await createImageBitmap(pic, { imageOrientation: 'from-image' });
        decoded.push(bm);
        return bm;
      } catch (e) {
        throw Object.assign(new Error(`deepdream-wasm: cannot decode the ${what}: ${e.message}`), { name: 'DeepDreamError', code: 'DD_ERR_PARSE' });
      }
    };
    let c;
    try {
      image = await decode(image, 'picture');
      const guide = options && options.guide != null ? await decode(options.guide, 'guide image') : undefined;
      c = dream(m, image, { ...options, guide, id, checkpoint: storageFor(checkpoint) });
    } finally {
      for (const bm of decoded) bm.close();
    }
    wire(id, c, frames);
    return { id: c.id, width: c.width, height: c.height, channels: c.channels, options: c.options };
  },
  async resumeDream({ handle, id, options, checkpoint, storage, frames }) {
    const c = await resumeDream(model(handle), id, { ...options, storage: storage === undefined ? undefined : storage,
      checkpoint: checkpoint === false ? false : storageFor(checkpoint) });
    wire(id, c, frames);
    return { id: c.id, width: c.width, height: c.height, channels: c.channels, options: c.options,
      progress: c.progress, fraction: c._startFraction };
  },
  'dream.pause'({ id }) { entry(id).c.pause(); },
  'dream.resume'({ id }) { entry(id).c.resume(); },
  'dream.abort'({ id }) { const d = dreams.get(id); if (d) d.c.abort(); },
  'dream.frameAck'({ id }) { const d = dreams.get(id); if (d && d.inFlight > 0) d.inFlight--; },
  'dream.frames'({ id, frames }) { const d = dreams.get(id); if (d) d.frames = frames; },
  'dream.saveState'({ id }) { const s = entry(id).c.saveState(); return new Transfer(s, [s.buffer]); },
  'dream.currentImage'({ id }) { const img = entry(id).c.currentImage(); return new Transfer(img, [img.data.buffer]); },
  'dream.currentGradient'({ id }) {
    const d = dreams.get(id);
    if (d) { const g = d.c.currentGradient(); return new Transfer(g, [g.data.buffer]); }
    const e = ended.get(id);
    if (e && e.gradient) return { ...e.gradient, data: e.gradient.data.slice() };
    return entry(id); // throws NOT_FOUND
  },
  async listDreams({ storage }) {
    // getAll() reads every state too: done here, only the small metadata goes to the page
    const list = await storeFor(storage).listDreams();
    return { list: [...list], skipped: list.skipped || [] };
  },
  async removeDream({ id, storage }) { return storeFor(storage).removeDream(id); },
  async dreamRecord({ id, storage }) { // one record's header (a zoom animation's position), without its state
    const { state, ...meta } = await storeFor(storage).loadDream(id);
    return { ...meta, stateBytes: state.byteLength };
  },
};

port.on(async (msg) => {
  if (!msg || typeof msg.op !== 'string') return;
  const { rid, op } = msg;
  try {
    const fn = ops[op];
    if (!fn) throw Object.assign(new Error(`deepdream-wasm worker: unknown op '${op}'`), { code: 'DD_ERR_INVALID_ARGUMENT', name: 'DeepDreamError' });
    let value = await fn(msg, rid);
    let transfer = [];
    if (value instanceof Transfer) ({ value, list: transfer } = value);
    if (rid !== undefined) port.post({ rid, ok: true, value }, transfer);
  } catch (e) {
    if (rid !== undefined) port.post({ rid, ok: false, error: serializeError(e) });
  }
});
port.post({ type: 'ready' });
