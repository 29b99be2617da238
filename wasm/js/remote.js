// remote.js — the main-thread side of the Worker architecture.
//
// In a browser page, loadModel() starts one module Worker (worker.js) that
// loads the C core (the threaded build when the page is cross-origin
// isolated, the single-threaded SIMD build otherwise) and returns a
// RemoteModel; dream() on a RemoteModel returns a RemoteDream. Both have the
// shape of Model / DreamController, except that the methods that compute
// (forward, gradient, findNode, bytes, saveState, currentImage,
// currentGradient) return promises. Pixels are transferred, not copied, where
// the caller's data is not at stake; the target canvas is redrawn on the main
// thread from an ImageBitmap the worker sends after every tile. Errors cross
// the boundary as DeepDreamErrors with the same code.
//
// In Node, loadModel(source, {worker: true}) does the same with a
// worker_thread (no canvas frames; checkpoints to a directory).
import { isNode } from './core.js';
import { DeepDreamError } from './errors.js';
import { normalizeOptions } from './dream.js';
import { toRGBA, drawToCanvas } from './image.js';
import { IndexedDBStore, FileStore } from './storage.js';
import { withSchedule } from './checkpoint.js';

function reviveError(e) {
  if (!e) return new DeepDreamError('DD_ERR_INTERNAL', 'deepdream-wasm: unknown worker error');
  const err = e.code ? new DeepDreamError(e.code, e.message) : Object.assign(new Error(e.message), { name: e.name });
  if (e.stack) err.workerStack = e.stack;
  return err;
}

// ------------------------------------------------------------- the host ----
// A browser can leave the worker blocked for good while the threaded build
// creates its thread Workers (worker.js says why): it beats every 200 ms then,
// and a worker silent for STALL_MS is ended. loadModel starts another (three
// times; the last try uses the single-threaded build, which creates no Workers).
const STALL_MS = 3000;
const TICK_MS = 500; // how often the page looks
const MAX_STARTS = 4;

class WorkerHost {
  constructor() {
    this.pending = new Map();
    this.dreams = new Map();
    this.rid = 1;
    this.models = 0;
    this.dead = null;
    const url = new URL('./worker.js', import.meta.url);
    this.ready = (async () => {
      if (isNode) {
        const { Worker } = await import('node:worker_threads');
        const w = new Worker(url);
        this.worker = w;
        this._post = (m, t) => w.postMessage(m, t);
        w.on('message', (m) => this._onMessage(m));
        w.on('error', (e) => this._fail(e));
        w.on('exit', (code) => this._fail(new Error(`the worker exited (code ${code})`)));
        this._terminate = () => w.terminate();
        this._refresh(); // after the listeners: adding a 'message' listener refs the worker again
      } else {
        const w = new Worker(url, { type: 'module', name: 'deepdream-wasm' });
        this.worker = w;
        this._post = (m, t) => w.postMessage(m, t || []);
        w.onmessage = (e) => this._onMessage(e.data);
        w.onerror = (e) => { e.preventDefault?.(); this._fail(new Error(e.message || 'the worker failed to start')); };
        w.onmessageerror = () => this._fail(new Error('a message from the worker could not be read'));
        this._terminate = () => w.terminate();
      }
    })();
  }

  /**
   * Node: the worker keeps the process alive while a call or an unpaused dream
   * is under way, not while models idle or dreams are paused (as in-process).
   */
  _refresh() {
    const w = this.worker;
    if (!w || typeof w.unref !== 'function') return; // a browser Worker
    let busy = this.pending.size > 0;
    for (const d of this.dreams.values()) busy ||= !d._paused;
    if (busy) w.ref();
    else w.unref();
  }

  /** A sign of life while the threaded build starts (browsers). */
  _watch() {
    const now = Date.now();
    this.lastBeat = now;
    if (this.watchdog) return;
    let lastTick = now;
    this.watchdog = setInterval(() => {
      const t = Date.now();
      // a late tick means this page was paused (a frozen tab, a sleeping machine): not the worker's silence
      if (t - lastTick > 3 * TICK_MS) this.lastBeat = t;
      lastTick = t;
      if (t - this.lastBeat > STALL_MS) this._stalled();
    }, TICK_MS);
  }

  _unwatch() {
    clearInterval(this.watchdog);
    this.watchdog = null;
  }

  _stalled() {
    const e = new DeepDreamError('DD_ERR_INTERNAL', `deepdream-wasm: the worker stopped answering while the threaded core was starting its thread Workers (nothing for ${STALL_MS / 1000} s), so it was ended`);
    e.stalled = true;
    this._fail(e, true);
    this.ready.then(() => this._terminate());
  }

  _fail(e, asIs = false) {
    this._unwatch();
    if (this.dead) return;
    this.dead = asIs && e instanceof DeepDreamError ? e
      : new DeepDreamError('DD_ERR_INTERNAL', `deepdream-wasm: ${e && e.message ? e.message : e}`, { cause: e });
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    for (const d of this.dreams.values()) d._onError(this.dead);
    this.dreams.clear();
    this._refresh();
    if (host === this) host = null;
  }

  _onMessage(m) {
    if (!m) return;
    if (m.rid !== undefined && 'ok' in m) {
      const p = this.pending.get(m.rid);
      if (!p) return;
      this.pending.delete(m.rid);
      this._refresh();
      if (m.ok) p.resolve(m.value);
      else p.reject(reviveError(m.error));
    } else if (m.type === 'loadProgress') {
      const p = this.pending.get(m.rid);
      if (p && p.onProgress) p.onProgress(m.fraction, m.done, m.total);
    } else if (m.type === 'fatal') {
      // the core aborted: nothing in this worker can run any more
      const e = reviveError(m.error);
      this._fail(e, true);
      this.ready.then(() => this._terminate());
    } else if (m.type === 'coreStart' || m.type === 'alive') {
      if (!this.dead) this._watch();
    } else if (m.type === 'coreStarted') {
      this._unwatch();
    } else if (m.type === 'dream') {
      const d = this.dreams.get(m.dream);
      if (d) d._onWorkerEvent(m);
      else if (m.frame && m.frame.close) m.frame.close();
    }
  }

  /** Posts {op, ...args} and resolves with the worker's answer. */
  async call(op, args = {}, transfer = [], onProgress) {
    await this.ready;
    if (this.dead) throw this.dead;
    const rid = this.rid++;
    return new Promise((resolve, reject) => {
      this.pending.set(rid, { resolve, reject, onProgress });
      this._refresh();
      try {
        this._post({ ...args, op, rid }, transfer);
      } catch (e) {
        this.pending.delete(rid);
        this._refresh();
        reject(e instanceof DeepDreamError ? e : new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `deepdream-wasm: cannot send to the worker: ${e.message}`, { cause: e }));
      }
    });
  }

  /** Posts without waiting for an answer. */
  send(op, args = {}) {
    this.ready.then(() => { if (!this.dead) this._post({ ...args, op }); });
  }

  /** Ends the worker when nothing lives in it any more (releases all of its memory). */
  maybeTerminate() {
    if (this.models > 0 || this.dreams.size > 0 || this.pending.size > 0) return;
    if (host === this) host = null;
    this.dead = new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'deepdream-wasm: the worker has been terminated');
    this.ready.then(() => this._terminate());
  }
}

let host = null;
function getHost() {
  if (!host || host.dead) host = new WorkerHost();
  return host;
}

/** Terminates the shared worker now (every remote model and dream becomes unusable). */
export function terminateWorker() {
  if (!host) return;
  const h = host;
  host = null;
  h._fail(new Error('the worker was terminated'));
  h.ready.then(() => h._terminate());
}

/**
 * listDreams() through the running worker (IndexedDB's getAll() also reads the
 * states: that copy stays off the page's thread). null when no worker runs.
 */
export async function remoteListDreams(storage) {
  if (!host || host.dead) return null;
  const { list, skipped } = await host.call('listDreams', { storage: storage === undefined ? 'indexeddb' : storage });
  list.skipped = skipped;
  return list;
}

/**
 * The dream records a worker-hosted model checkpoints to, read and removed by its worker (where they are
 * written). loadDream resolves to the record's header without the state bytes. storage as for checkpoints.
 */
export function remoteDreamStore(model, storage) {
  const h = model._host, where = checkpointSpec({ storage }).storage;
  return {
    loadDream: (id) => h.call('dreamRecord', { id, storage: where }),
    removeDream: (id) => h.call('removeDream', { id, storage: where }),
  };
}

// ---------------------------------------------------------------- model ----
function modelSource(source) {
  if (typeof source === 'string' || source instanceof URL) {
    const s = String(source);
    if (s.startsWith('indexeddb://')) return { source: s, transfer: [] };
    if (!isNode && typeof location !== 'undefined') return { source: new URL(s, globalThis.document ? document.baseURI : location.href).href, transfer: [] };
    if (isNode && !/^[a-z]+:/i.test(s)) return { source: s, transfer: [] }; // a file path: the worker opens it itself
    return { source: s, transfer: [] };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return { source, transfer: [] }; // no copy of the contents
  if (source instanceof ArrayBuffer) return { source, transfer: [] };
  if (ArrayBuffer.isView(source)) return { source: new Uint8Array(source.buffer, source.byteOffset, source.byteLength), transfer: [] };
  throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT',
    'deepdream-wasm: a model source must be a URL, file path, File/Blob, ArrayBuffer or typed array');
}

/**
 * Loads a model into the shared worker.
 * @param source URL, File/Blob, ArrayBuffer, typed array, 'indexeddb://name' (or a file path in Node)
 * @param {{threads?: number, backend?: string, useThreadedBuild?: boolean, onProgress?: Function, store?: object, transfer?: boolean}} [opts]
 */
export async function loadRemoteModel(source, opts = {}) {
  if (typeof source === 'string' && source.startsWith('indexeddb://') && opts.store) {
    // a custom store object cannot cross to the worker: read it here
    source = await opts.store.loadModel(source.slice('indexeddb://'.length));
    opts = { ...opts, transfer: true };
  }
  const { source: src, transfer } = modelSource(source);
  if (opts.transfer && ArrayBuffer.isView(src) && src.byteOffset === 0 && src.byteLength === src.buffer.byteLength) transfer.push(src.buffer);
  else if (opts.transfer && src instanceof ArrayBuffer) transfer.push(src);
  const wopts = {};
  for (const k of ['threads', 'backend', 'useThreadedBuild']) if (opts[k] !== undefined) wopts[k] = opts[k];
  let fallback = null;
  for (let start = 1; ; start++) {
    const h = getHost();
    h.models++; // counted from the start so the worker is not ended under a loading model
    let info;
    try {
      info = await h.call('loadModel', { source: src, opts: wopts }, transfer, opts.onProgress);
    } catch (e) {
      h.models--;
      h.maybeTerminate();
      // a worker that stalled starting the threaded build: a new one (transferred bytes are gone with the old)
      if (!e.stalled || start >= MAX_STARTS || transfer.length) throw e;
      if (start === MAX_STARTS - 1 && wopts.useThreadedBuild !== true) {
        wopts.useThreadedBuild = false;
        fallback = `the browser did not start the threaded core's Workers (${start} tries), so the core runs on one thread (slower)`;
      }
      continue;
    }
    return new RemoteModel(h, { ...info, fallback });
  }
}

export class RemoteModel {
  /** @internal */
  constructor(h, info) {
    this._host = h;
    this._handle = info.handle;
    this.remote = true;
    this.layers = info.layers;
    this.convLayers = info.convLayers;
    this.description = info.description; // a snapshot: setDescription runs in-process only
    this.fingerprint = info.fingerprint;
    this.byteLength = info.byteLength;
    this.threads = info.threads;
    this.variant = info.variant;
    /** Why a threaded browser got the single-threaded build, or null. */
    this.fallback = info.fallback || null;
  }

  /** False once freed, or when its worker has failed (then load the model again). */
  get alive() { return !!this._handle && !this._host.dead; }

  /** @internal */
  get handle() {
    if (!this._handle) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'deepdream-wasm: the model has been freed');
    return this._handle;
  }

  /** Promise of {name, channels, nodeIndex}. */
  async findNode(name) { return this._host.call('model.findNode', { handle: this.handle, name }); }

  /** Promise of the named node's output {data: Float32Array, shape} for an HxWx3 float image. */
  async forward(input, height, width, node) {
    return this._host.call('model.forward', { handle: this.handle, input, height, width, node });
  }

  /** Promise of {grad, loss}: the DeepDream gradient of mean(square(layer[..., channels])). */
  async gradient(input, height, width, objective = {}) {
    return this._host.call('model.gradient', { handle: this.handle, input, height, width, objective });
  }

  /** Promise of the model file's bytes (a copy). */
  async bytes() { return this._host.call('model.bytes', { handle: this.handle }); }

  /** Saves the model file to 'indexeddb://name' (written by the worker). opts.meta: extra fields for the record. */
  async save(url, opts = {}) {
    if (opts.store) {
      if (!String(url).startsWith('indexeddb://'))
        throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `model.save: unsupported URL '${url}' (use indexeddb://name)`);
      return opts.store.saveModel(String(url).slice(12), await this.bytes(), { ...(opts.meta || {}), fingerprint: this.fingerprint });
    }
    return this._host.call('model.save', { handle: this.handle, url: String(url), meta: opts.meta });
  }

  /** Releases the model's memory in the worker; the worker ends when nothing else lives in it. Safe to call twice. */
  free() {
    if (!this._handle) return Promise.resolve();
    const h = this._host, handle = this._handle;
    this._handle = 0;
    h.models--;
    if (h.dead) return Promise.resolve();
    return h.call('model.free', { handle }).catch(() => {}).then(() => h.maybeTerminate());
  }
}

// ---------------------------------------------------------------- dream ----
function checkpointSpec(ck) {
  if (!ck) return undefined;
  const spec = withSchedule(ck);
  const s = ck.storage;
  if (s === undefined || s === 'indexeddb' || s === 'indexeddb://') spec.storage = 'indexeddb';
  else if (typeof s === 'string') spec.storage = s; // a directory (Node worker)
  else if (s instanceof IndexedDBStore && s.factory === globalThis.indexedDB) spec.storage = 'indexeddb';
  else if (s instanceof FileStore) spec.storage = s.dir;
  else throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'checkpoint.storage must be "indexeddb" (or a directory in Node) when the core runs in a Worker');
  return spec;
}

let idCounter = 0;
function newId() {
  const rnd = globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${++idCounter}`;
  return `dream-${rnd}`;
}

function isCanvas(c) {
  const g = globalThis;
  return !!c && ((g.HTMLCanvasElement && c instanceof g.HTMLCanvasElement) || (g.OffscreenCanvas && c instanceof g.OffscreenCanvas));
}

/** The pixels to post and what to transfer: the caller's own buffers are copied unless options.transfer. */
function imageMessage(source, transfer) {
  const g = globalThis;
  if (g.Blob && source instanceof g.Blob) {
    // an encoded picture (File/Blob): the worker decodes it, nothing big happens on this thread
    return { image: source, list: [], width: 0, height: 0, channels: 4 };
  }
  if (g.ImageBitmap && source instanceof g.ImageBitmap) {
    return { image: source, list: transfer ? [source] : [], width: source.width, height: source.height, channels: 4 };
  }
  const fresh = isCanvas(source); // getImageData made a new buffer
  const img = toRGBA(source);
  let data = img.data;
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  if (!(fresh || transfer) || !whole || (g.SharedArrayBuffer && data.buffer instanceof g.SharedArrayBuffer)) data = data.slice();
  return { image: { data, width: img.width, height: img.height, channels: img.channels }, list: [data.buffer],
    width: img.width, height: img.height, channels: img.channels };
}

/**
 * Starts a dream in the model's worker. source: as for dream.js's dream(),
 * or an encoded picture as a File/Blob (decoded in the worker with
 * createImageBitmap, EXIF orientation applied; width and height are known
 * once the worker has it). Same options, plus: canvas (redrawn on this thread
 * whenever the image changes: after each iteration's last tile and at each
 * octave; frameEvery: 'tile' redraws after every tile), transfer (move the
 * caller's pixel buffer instead of copying it).
 */
export function remoteDream(model, source, options = {}) {
  const o = normalizeOptions(options); // bad options throw here, as in-process
  const h = model._host;
  const id = options.id || newId();
  const msg = imageMessage(source, !!options.transfer);
  const ck = checkpointSpec(options.checkpoint);
  const c = new RemoteDream(h, model, { id, width: msg.width, height: msg.height, channels: msg.channels, options: o }, options);
  c._start(h.call('dream', { handle: model.handle, id, image: msg.image, options: workerOptions(options), checkpoint: ck,
    frames: c._frameSize() }, msg.list));
  return c;
}

/** Continues a checkpointed dream in the model's worker. */
export async function remoteResumeDream(model, id, options = {}) {
  const h = model._host;
  const ck = options.checkpoint === false ? false : checkpointSpec({ storage: options.storage, ...(options.checkpoint || {}) });
  let storage = options.storage;
  if (storage !== undefined && typeof storage !== 'string') storage = checkpointSpec({ storage }).storage;
  const c = new RemoteDream(h, model, { id, width: 0, height: 0, channels: 0, options: null }, options);
  const started = h.call('resumeDream', { handle: model.handle, id, options: workerOptions(options), checkpoint: ck, storage,
    frames: c._frameSize() });
  c._start(started);
  await started;
  return c;
}

function workerOptions(options) {
  const out = {};
  for (const [k, v] of Object.entries(options)) {
    if (['canvas', 'signal', 'onProgress', 'checkpoint', 'transfer', 'storage', 'id', 'frameEvery'].includes(k)) continue;
    if (typeof v === 'function') continue;
    if (k === 'guide' && isCanvas(v)) { out[k] = toRGBA(v); continue; } // canvases do not cross to a worker; Blobs, ImageData, ImageBitmaps do
    out[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

/** A dream running in the worker: the DreamController API, with promise-returning readers. */
export class RemoteDream extends EventTarget {
  /** @internal */
  constructor(h, model, meta, opts) {
    super();
    this._host = h;
    this.model = model;
    this.id = meta.id;
    this.width = meta.width;
    this.height = meta.height;
    this.channels = meta.channels;
    this.options = meta.options;
    this.progress = null;
    this._opts = opts;
    this._paused = false;
    this._ended = false;
    this._final = null;
    this.canvas = isCanvas(opts.canvas) ? opts.canvas : null;
    this.result = new Promise((resolve, reject) => { this._resolve = resolve; this._reject = reject; });
    this.result.catch(() => {}); // the caller may only listen to events
    h.dreams.set(this.id, this);
    h._refresh();
    if (opts.onProgress) this.addEventListener('progress', (e) => opts.onProgress(e.detail));
    if (opts.signal) {
      if (opts.signal.aborted) queueMicrotask(() => this.abort());
      else opts.signal.addEventListener('abort', () => this.abort(), { once: true });
    }
  }

  /** @internal */
  _frameSize() { return this.canvas ? { width: this.canvas.width, height: this.canvas.height, every: this._opts.frameEvery === 'tile' ? 'tile' : 'change' } : null; }

  /** @internal */
  _start(p) {
    p.then((meta) => {
      this.width = meta.width;
      this.height = meta.height;
      this.channels = meta.channels;
      this.options = meta.options;
      if (meta.progress) this.progress = meta.progress;
    }, (e) => this._onError(e));
  }

  get paused() { return this._paused; }
  get ended() { return this._ended; }

  pause() {
    if (this._paused || this._ended) return;
    this._paused = true;
    this._host._refresh();
    this._host.send('dream.pause', { id: this.id });
    this.dispatchEvent(new Event('pause'));
  }

  resume() {
    if (!this._paused || this._ended) return;
    this._paused = false;
    this._host._refresh();
    this._host.send('dream.resume', { id: this.id });
    this.dispatchEvent(new Event('resume'));
  }

  abort() {
    if (this._ended) return;
    this._host.send('dream.abort', { id: this.id });
  }

  /** Promise of the complete state as bytes. */
  async saveState() { return this._host.call('dream.saveState', { id: this.id }); }

  /** Promise of the image as it is now (current octave's size): {data, width, height, channels}. */
  async currentImage() {
    if (this._final) return { ...this._final, data: this._final.data.slice() };
    return this._host.call('dream.currentImage', { id: this.id });
  }

  /** Promise of the last smoothed gradient, 0..255 RGB (also after the dream ended). */
  async currentGradient() { return this._host.call('dream.currentGradient', { id: this.id }); }

  /** Tells the worker the target canvas changed size (frames are sent at most at that size). */
  setCanvas(canvas) {
    this.canvas = isCanvas(canvas) ? canvas : null;
    this._host.send('dream.frames', { id: this.id, frames: this._frameSize() });
  }

  _draw(frame) {
    if (!frame) return;
    try {
      if (this.canvas) {
        const ctx = this.canvas.getContext('2d');
        ctx.imageSmoothingQuality = 'high';
        ctx.drawImage(frame, 0, 0, this.canvas.width, this.canvas.height);
      }
    } finally {
      if (frame.close) frame.close();
    }
  }

  /** @internal */
  _onWorkerEvent(m) {
    if (m.event === 'progress') {
      if (m.frame) {
        this._draw(m.frame);
        this._host.send('dream.frameAck', { id: this.id });
      }
      this.progress = m.detail;
      this.dispatchEvent(new CustomEvent('progress', { detail: m.detail }));
    } else if (m.event === 'checkpoint') {
      this.dispatchEvent(new CustomEvent('checkpoint', { detail: m.detail }));
    } else if (m.event === 'done') {
      this._end();
      const img = m.image;
      if (img.data && !(img.data instanceof Uint8ClampedArray)) img.data = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
      this._final = img;
      if (m.frame) this._draw(m.frame);
      else if (this.canvas && !isNode) drawToCanvas(this.canvas, img);
      this.dispatchEvent(new CustomEvent('done', { detail: img }));
      this._resolve(img);
    } else if (m.event === 'error') {
      this._onError(reviveError(m.error));
    }
  }

  _end() {
    this._ended = true;
    this._paused = false;
    if (this._host.dreams.get(this.id) === this) this._host.dreams.delete(this.id);
    this._host._refresh();
    this._host.maybeTerminate();
  }

  /** @internal */
  _onError(e) {
    if (this._ended) return;
    this._end();
    this.dispatchEvent(new CustomEvent('error', { detail: e }));
    this._reject(e);
  }
}
