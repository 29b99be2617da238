// dream.js — DeepDream on an image, tile by tile, with progress, pause,
// resume, abort and checkpoints. Runs wherever the core runs (Node, a Worker).
import { DeepDreamError, Status, asDeepDreamError } from './errors.js';
import { check, checkPtr, withScope, malloc } from './heap.js';
import { toRGBA, drawToCanvas } from './image.js';
import { DREAM_OPTIONS, readProgress } from './seam.js';
import { EtaEstimator } from './eta.js';

/** The tutorial's defaults (Hvass-Labs #14 recursive_optimize / optimize_image). */
export const DEFAULTS = Object.freeze({
  layer: 0, channels: [], iterations: 10, stepSize: 3.0, tileSize: 400, repeats: 4, rescale: 0.7, blend: 0.2,
  seed: 0, inputMean: 0, resample: 'lanczos-u8', tilesPerStep: 1,
  // beyond the tutorial: all off by default (README "Objectives and transforms")
  objective: '', tv: 0, gradient: 'smooth', lapLevels: 4, roll: 0, pad: 0, jitter: 0, scale: 0, rotate: 0,
});

/** Parses channels given as [0,1,2], "0:3", "5", or {start, end}. A range a:b needs b > a. */
export function parseChannels(ch) {
  if (ch === undefined || ch === null || ch === '') return [];
  if (Array.isArray(ch)) return ch.map(Number);
  if (typeof ch === 'number') return [ch];
  if (typeof ch === 'object') return range(ch.start ?? 0, ch.end);
  const out = [];
  for (const part of String(ch).split(',')) {
    const m = part.trim().match(/^(\d+)(?::(\d+))?$/);
    if (!m) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `bad channel list '${ch}' (use e.g. 0:3 or 1,5,7)`);
    out.push(...(m[2] === undefined ? [Number(m[1])] : range(Number(m[1]), Number(m[2]))));
  }
  return out;
}
function range(a, b) {
  if (!(b > a)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `channels: the range ${a}:${b} is empty (a:b means channels a..b-1, so b must be greater than a)`);
  const r = []; for (let i = a; i < b; i++) r.push(i); return r;
}

/**
 * The options with defaults filled in (seed as a decimal string). Values are
 * not checked here: the core checks every one (its option table) when the
 * dream starts, and its messages quote the value as given.
 */
export function normalizeOptions(options = {}) {
  const o = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) if (options[k] !== undefined) o[k] = options[k];
  if (options.octaves !== undefined && options.repeats === undefined) o.repeats = options.octaves;
  o.seed = typeof o.seed === 'bigint' ? o.seed.toString() : String(o.seed);
  parseChannels(o.channels); // the list's form, here too for workers (remote.js); the core checks it again
  return o;
}

/** An option's value as the text the core's option table parses. */
function optionText(key, v) {
  if (key === 'channels') {
    if (v === undefined || v === null) return '';
    if (Array.isArray(v)) return v.join(',');
    if (typeof v === 'object') return `${v.start ?? 0}:${v.end}`;
  }
  return String(v);
}

/** Fills a dd_dream_options in wasm memory (freed by the caller with _ddw_dream_options_free). */
function coreOptions(M, s, o) {
  const opts = M._ddw_dream_options_new();
  if (!opts) throw new DeepDreamError('DD_ERR_OUT_OF_MEMORY', 'dream: cannot allocate the options');
  const err = s.err();
  try {
    for (const [key, [name]] of Object.entries(DREAM_OPTIONS)) {
      if (key === 'objective' && (o[key] === '' || o[key] == null)) continue; // the tutorial's objective
      check(M, M._ddw_dream_options_set(opts, s.str(name), s.str(optionText(key, o[key])), err), err, `dream: ${key}`);
    }
  } catch (e) {
    M._ddw_dream_options_free(opts);
    throw e;
  }
  return opts;
}

/** A running dream. Create with dream() or resumeDream(). */
export class DreamController extends EventTarget {
  /** @internal */
  constructor(model, ptr, meta, opts) {
    super();
    this.model = model;
    this._M = model._M;
    this._ptr = ptr;
    this.width = meta.width;
    this.height = meta.height;
    this.channels = meta.channels;
    this.options = meta.options;
    this.id = meta.id;
    this._opts = opts;
    this._paused = false;
    this._resume = null;
    this._aborted = false;
    this.progress = null;
    this._started = performance.now();
    this._pausedMs = 0;
    this._startFraction = meta.fraction || 0;
    const o = meta.options;
    this._eta = o && meta.width > 0 && meta.height > 0 && Number.isInteger(o.repeats) && o.rescale > 0 && o.iterations > 0
      ? new EtaEstimator({ width: meta.width, height: meta.height, repeats: o.repeats, rescale: o.rescale, iterations: o.iterations })
      : null;
    if (opts.signal) {
      if (opts.signal.aborted) this._aborted = true;
      else opts.signal.addEventListener('abort', () => this.abort(), { once: true });
    }
    if (opts.onProgress) this.addEventListener('progress', (e) => opts.onProgress(e.detail));
    this.result = this._run();
    this.result.catch(() => {}); // the caller may only listen to events
    model._hold(this.result); // model.free() waits for this dream
  }

  get paused() { return this._paused; }
  pause() { if (!this._paused) { this._paused = true; this.dispatchEvent(new Event('pause')); } }
  resume() {
    if (this._paused) {
      this._paused = false;
      const r = this._resume; this._resume = null; if (r) r();
      this.dispatchEvent(new Event('resume'));
    }
  }
  abort() {
    this._aborted = true;
    const r = this._resume; this._resume = null; if (r) r();
  }

  /** The complete state as bytes: dd_dream_restore continues bit-identically. */
  saveState() {
    const M = this._M;
    return withScope(M, (s) => {
      const out = s.alloc(8), err = s.err();
      M.HEAPU32[out >>> 2] = 0;
      check(M, M._ddw_dream_save_state(this._live(), out, err), err, 'saveState');
      const p = checkPtr(M, M.HEAPU32[out >>> 2], err, 'saveState'), n = M.HEAPU32[(out >>> 2) + 1];
      const bytes = M.HEAPU8.slice(p, p + n);
      M._dd_free(p);
      return bytes;
    });
  }

  /** The image as it is now (current octave's size): {data, width, height, channels}. */
  currentImage() {
    const M = this._M;
    return withScope(M, (s) => {
      const wh = s.alloc(8), err = s.err();
      M._ddw_dream_size(this._live(), wh);
      const w = M.HEAP32[wh >>> 2], h = M.HEAP32[(wh >>> 2) + 1], n = w * h * this.channels;
      const buf = s.alloc(n);
      check(M, M._ddw_dream_read_image(this._live(), buf, n, err), err, 'readImage');
      return { data: new Uint8ClampedArray(M.HEAPU8.slice(buf, buf + n).buffer), width: w, height: h, channels: this.channels };
    });
  }

  /** The last smoothed gradient, normalised to 0..255 (the tutorial's show_gradient). RGB. */
  currentGradient() {
    const M = this._M;
    return withScope(M, (s) => {
      const wh = s.alloc(8), err = s.err();
      M._ddw_dream_size(this._live(), wh);
      const w = M.HEAP32[wh >>> 2], h = M.HEAP32[(wh >>> 2) + 1], n = w * h * 3;
      const buf = s.alloc(n);
      check(M, M._ddw_dream_read_gradient(this._live(), buf, n, err), err, 'readGradient');
      return { data: new Uint8ClampedArray(M.HEAPU8.slice(buf, buf + n).buffer), width: w, height: h, channels: 3 };
    });
  }

  _live() {
    if (!this._ptr) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'the dream has ended');
    return this._ptr;
  }

  _step(tiles) {
    const M = this._M;
    return withScope(M, (s) => {
      const prog = s.alloc(M.ddProgressSize), err = s.err();
      const st = M._ddw_dream_step(this._live(), tiles, prog, err);
      check(M, st, err, 'dream');
      return { done: st === Status.DONE, progress: readProgress(M, prog) };
    });
  }

  async _run() {
    const o = this._opts;
    const ck = o.checkpoint;
    let lastSave = performance.now(), tilesSinceSave = 0;
    try {
      // the first tile runs after dream() has returned: listeners the caller adds right away (a worker's relay
      // too) see its progress event, and dream() itself never blocks for a tile
      await null;
      for (;;) {
        if (this._paused && !this._aborted) {
          const t0 = performance.now();
          await new Promise((r) => { this._resume = r; });
          this._pausedMs += performance.now() - t0;
        }
        if (this._aborted) throw new DeepDreamError('DD_ERR_ABORTED', 'the dream was aborted');
        const { done, progress } = this._step(this.options.tilesPerStep);
        const elapsed = (performance.now() - this._started - this._pausedMs) / 1000; // active time
        const gained = progress.fraction - this._startFraction;
        progress.elapsed = elapsed;
        // from the cost of the iterations seen (eta.js); without the options (a bare state), time per fraction done
        progress.eta = done ? 0 : this._eta ? this._eta.update(progress, elapsed) : gained > 0 ? (elapsed / gained) * (1 - progress.fraction) : null;
        this.progress = progress;
        if (o.canvas) drawToCanvas(o.canvas, this.currentImage());
        this.dispatchEvent(new CustomEvent('progress', { detail: progress }));
        tilesSinceSave += this.options.tilesPerStep;
        if (ck && ck.storage && !done && ((ck.everyTiles && tilesSinceSave >= ck.everyTiles) ||
            (ck.everySeconds && performance.now() - lastSave >= ck.everySeconds * 1000))) {
          await this._checkpoint();
          lastSave = performance.now();
          tilesSinceSave = 0;
        }
        if (done) break;
        await yieldNow();
      }
      const img = this.currentImage();
      if (ck && ck.storage && ck.removeWhenDone !== false) await ck.storage.removeDream(this.id).catch(() => {});
      else if (ck && ck.storage && ck.saveWhenDone) await this._checkpoint(1); // the finished state, before 'done'
      this.dispatchEvent(new CustomEvent('done', { detail: img }));
      return img;
    } catch (raw) {
      const e = asDeepDreamError(raw, 'dream');
      this.dispatchEvent(new CustomEvent('error', { detail: e }));
      throw e;
    } finally {
      this._M._ddw_dream_free(this._ptr);
      this._ptr = 0;
    }
  }

  /** Saves the state as a record: checkpoint.record's fields (plain data), then the standard ones, which it cannot override. */
  async _checkpoint(fraction = this.progress ? this.progress.fraction : 0) {
    const ck = this._opts.checkpoint;
    const t0 = performance.now();
    const record = {
      ...(ck.record && typeof ck.record === 'object' ? ck.record : {}),
      id: this.id, modelFingerprint: this.model.fingerprint, width: this.width, height: this.height,
      channels: this.channels, options: this.options, fraction, state: this.saveState(),
    };
    await ck.storage.saveDream(record);
    this.dispatchEvent(new CustomEvent('checkpoint', { detail: { id: this.id, ms: performance.now() - t0, bytes: record.state.length } }));
  }
}

const yieldNow = () => new Promise((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));

let idCounter = 0;
function newId() {
  const rnd = globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${++idCounter}`;
  return `dream-${rnd}`;
}

/**
 * Starts a dream. source: canvas, OffscreenCanvas, ImageData, ImageBitmap, or
 * {data: Uint8Array|Uint8ClampedArray, width, height, channels: 3|4}.
 */
export function dream(model, source, options = {}) {
  const o = normalizeOptions(options);
  const img = toRGBA(source);
  const M = model._M;
  const ptr = withScope(M, (s) => {
    const opts = coreOptions(M, s, o); // every value checked by the core before any work
    try {
      const err = s.err();
      if (options.guide != null) { // copied by the core: its features go into the dream state
        const g = toRGBA(options.guide);
        M._ddw_dream_options_guide(opts, s.u8(g.data), g.width, g.height, g.channels);
      }
      const px = s.u8(img.data);
      return checkPtr(M, M._ddw_dream_begin(model.ptr, opts, px, img.width, img.height, img.channels, err), err, 'dream');
    } finally {
      M._ddw_dream_options_free(opts);
    }
  });
  return new DreamController(model, ptr, { width: img.width, height: img.height, channels: img.channels, options: o,
    id: options.id || newId() }, options);
}

/** What in a checkpoint header (meta) disagrees with the restored state d, or null. */
/** A checkpoint's header against its state; a bare saveState() file (no header: meta has no sizes) has nothing to check. */
function headerMismatch(M, d, meta) {
  if (meta.channels === undefined && meta.width === undefined && meta.height === undefined) return null;
  const channels = M._ddw_dream_channels(d);
  if (meta.channels !== channels) return `channels ${meta.channels} in the header, ${channels} in the state`;
  return withScope(M, (s) => {
    const wh = s.alloc(8);
    M._ddw_dream_size(d, wh);
    const w = M.HEAP32[wh >>> 2], h = M.HEAP32[(wh >>> 2) + 1];
    return w > meta.width || h > meta.height ? `image ${meta.width}x${meta.height} in the header, ${w}x${h} already in the state` : null;
  });
}

/** Continues a dream from a state saved by saveState() or a checkpoint record. */
export function dreamFromState(model, state, meta, options = {}) {
  const M = model._M;
  const ptr = withScope(M, (s) => {
    const err = s.err();
    const p = malloc(M, state.length);
    M.HEAPU8.set(state, p);
    try {
      const d = checkPtr(M, M._ddw_dream_restore(model.ptr, p, state.length, err), err, 'resumeDream');
      const bad = headerMismatch(M, d, meta);
      if (bad) {
        M._ddw_dream_free(d);
        throw new DeepDreamError('DD_ERR_STATE_MISMATCH', `resumeDream: the checkpoint's header does not match its state: ${bad}`);
      }
      return d;
    } finally {
      M._free(p);
    }
  });
  const m = { ...meta };
  m.options ??= normalizeOptions({});
  if (!m.channels) { // a bare state (the CLIs' --save-state file): ask the core
    m.channels = M._ddw_dream_channels(ptr);
    withScope(M, (s) => { const wh = s.alloc(8); M._ddw_dream_size(ptr, wh); m.width ??= M.HEAP32[wh >>> 2]; m.height ??= M.HEAP32[(wh >>> 2) + 1]; });
  }
  return new DreamController(model, ptr, m, options);
}
