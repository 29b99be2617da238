// model.js — a loaded GraphDef model living in wasm memory.
import { loadCore, defaultThreadCount } from './core.js';
import { DeepDreamError } from './errors.js';
import { check, checkPtr, uptr, withScope } from './heap.js';
import { readIntoHeap } from './source.js';
import { sourceName, unpackInHeap } from './archive.js';

const BACKENDS = { auto: 0, reference: 1, simd128: 2, xnnpack: 3 };

export class Model {
  /** @internal */
  constructor(M, ptr, info) {
    this._M = M;
    this._ptr = ptr;
    this.byteLength = info.byteLength;
    this.layers = readLayers(M, ptr, M._ddw_model_layer_count(ptr), M._ddw_model_layer);
    this.convLayers = readLayers(M, ptr, M._ddw_model_conv_layer_count(ptr), M._ddw_model_conv_layer);
    this.threads = info.threads;
    this.variant = M.ddVariant;
    this._running = 0; // dreams on this model that have not settled
    this._freeing = false; // free() was called while dreams ran
  }

  /** @internal */
  get ptr() {
    if (!this._ptr || this._freeing) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'deepdream-wasm: the model has been freed');
    return this._ptr;
  }

  /** @internal A dream runs on this model until `settled` settles; free() waits for it. */
  _hold(settled) {
    this._running++;
    const release = () => { if (--this._running === 0 && this._freeing) this._release(); };
    settled.then(release, release);
  }

  /** @internal */
  _release() {
    this._M._ddw_model_free(this._ptr);
    this._ptr = 0;
    this._freeing = false;
  }

  /** A 64-bit fingerprint of graph and weights, as a 16-digit hex string. */
  get fingerprint() {
    const M = this._M;
    // _ptr, not ptr: a dream still running after free() checkpoints with it
    if (!this._ptr) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'deepdream-wasm: the model has been freed');
    const hi = M._ddw_model_fingerprint(this._ptr, 1), lo = M._ddw_model_fingerprint(this._ptr, 0);
    return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  }

  /**
   * What the network expects, applied by the dream (RGB 0..255 in, RGB out):
   * {name, channelOrder: 'RGB'|'BGR', mean: [r,g,b], scale: [r,g,b] (0..255 units:
   * net = (pixel - mean) * scale), defaultLayer: index into `layers`}.
   */
  get description() {
    const M = this._M;
    return withScope(M, (s) => {
      const nums = s.alloc(32), name = s.alloc(32);
      M._ddw_model_description(this.ptr, nums, name);
      const f = M.HEAPF32.subarray(nums >>> 2, (nums >>> 2) + 8);
      return { name: M.UTF8ToString(name, 32), channelOrder: f[0] ? 'BGR' : 'RGB', mean: [f[1], f[2], f[3]],
        scale: [f[4], f[5], f[6]], defaultLayer: f[7] };
    });
  }

  /** Overrides the description (fields left out keep their value); not while a dream runs. */
  setDescription(desc = {}) {
    const M = this._M, cur = this.description, d = { ...cur, ...desc };
    if (d.channelOrder !== 'RGB' && d.channelOrder !== 'BGR')
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `channelOrder must be 'RGB' or 'BGR', got '${d.channelOrder}'`);
    if (this._running > 0) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'setDescription: a dream is running on this model');
    const arr = (v, what) => {
      if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number'))
        throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `${what} must be an array of 3 numbers`);
      return v;
    };
    let def = d.defaultLayer;
    if (typeof def === 'string') {
      const hit = this.layers.find((l) => l.name === def || l.nodeIndex === this.findNode(def).nodeIndex);
      if (!hit) throw new DeepDreamError('DD_ERR_NOT_FOUND', `defaultLayer '${def}' is not one of the model's dream layers`);
      def = hit.index;
    }
    withScope(M, (s) => {
      const nums = s.f32(new Float32Array([d.channelOrder === 'BGR' ? 1 : 0, ...arr(d.mean, 'mean'), ...arr(d.scale, 'scale'), def]));
      const err = s.err();
      check(M, M._ddw_model_set_description(this.ptr, nums, s.str(String(d.name ?? '')), err), err, 'setDescription');
    });
  }

  /** {name, channels, nodeIndex} of any node ("name" or "name:0"). */
  findNode(name) {
    const M = this._M;
    return withScope(M, (s) => {
      const info = s.alloc(8), err = s.err();
      const p = checkPtr(M, M._ddw_model_find_node(this.ptr, s.str(name), info, err), err, 'findNode');
      return { name: M.UTF8ToString(p), channels: M.HEAP32[info >>> 2], nodeIndex: M.HEAP32[(info >>> 2) + 1] };
    });
  }

  /**
   * Runs the graph on an HxWx3 float image (NHWC, fed as is: the tutorial feeds
   * raw 0..255) and returns the named node's output {data: Float32Array, shape}.
   */
  forward(input, height, width, node) {
    const M = this._M;
    checkImage(input, height, width);
    return withScope(M, (s) => {
      const inp = s.f32(input), shape = s.alloc(16), err = s.err(), name = s.str(node);
      check(M, M._ddw_model_forward(this.ptr, inp, height, width, name, 0, 0, shape, err), err, 'forward');
      const dims = Array.from(M.HEAP32.subarray(shape >>> 2, (shape >>> 2) + 4));
      const n = dims.reduce((a, b) => a * b, 1);
      const out = s.alloc(n * 4);
      check(M, M._ddw_model_forward(this.ptr, inp, height, width, name, out, n, shape, err), err, 'forward');
      return { data: M.HEAPF32.slice(out >>> 2, (out >>> 2) + n), shape: dims };
    });
  }

  /**
   * The DeepDream gradient d mean(square(layer[..., channels])) / d input, or with
   * {objective: 'channel(mixed4c,97)+...', guide?: {data: Float32Array, width, height}} that
   * expression's gradient (fed as it is; guide(...) terms use the guide's features).
   * @param {{layer?: string|number, channels?: number[], objective?: string, guide?: {data: Float32Array, width: number, height: number}}} objective
   * @returns {{grad: Float32Array, loss: number}}
   */
  gradient(input, height, width, objective = {}) {
    const M = this._M;
    checkImage(input, height, width);
    if (objective.objective) { // an objective expression (README "Objectives and transforms")
      const g = objective.guide;
      if (g) checkImage(g.data, g.height, g.width);
      return withScope(M, (s) => {
        const inp = s.f32(input), err = s.err(), grad = s.alloc(input.length * 4), loss = s.alloc(8);
        const st = M._ddw_model_objective_gradient(this.ptr, inp, height, width, s.str(objective.objective),
          g ? s.f32(g.data) : 0, g ? g.height : 0, g ? g.width : 0, grad, loss, err);
        check(M, st, err, 'gradient');
        return { grad: M.HEAPF32.slice(grad >>> 2, (grad >>> 2) + input.length), loss: M.HEAPF64[loss >>> 3] };
      });
    }
    return withScope(M, (s) => {
      const { layer = 0, channels = [] } = objective;
      const inp = s.f32(input), err = s.err(), grad = s.alloc(input.length * 4), loss = s.alloc(4);
      const name = typeof layer === 'string' ? s.str(layer) : 0;
      const ch = s.i32(channels);
      const st = M._ddw_model_gradient(this.ptr, inp, height, width, name, typeof layer === 'number' ? layer : -1,
        ch, channels.length, grad, loss, err);
      check(M, st, err, 'gradient');
      return { grad: M.HEAPF32.slice(grad >>> 2, (grad >>> 2) + input.length), loss: M.HEAPF32[loss >>> 2] };
    });
  }

  /** The model file's bytes (a copy). */
  bytes() {
    const p = uptr(this._M._ddw_model_bytes(this.ptr));
    if (!p) throw new DeepDreamError('DD_ERR_UNSUPPORTED', 'this model does not keep its file bytes');
    return this._M.HEAPU8.slice(p, p + this.byteLength);
  }

  /** Saves the model file, e.g. to 'indexeddb://inception5h', for loadModel('indexeddb://inception5h'). */
  async save(url, opts = {}) {
    const { IndexedDBStore } = await import('./storage.js');
    if (!String(url).startsWith('indexeddb://'))
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `model.save: unsupported URL '${url}' (use indexeddb://name)`);
    const store = opts.store || new IndexedDBStore();
    await store.saveModel(String(url).slice(12), this.bytes(), { fingerprint: this.fingerprint });
  }

  /** Prints the time per op of one gradient step (after a warm-up) to stdout / the console. */
  profile(input, height, width, layer = 0) {
    const M = this._M;
    checkImage(input, height, width);
    return withScope(M, (s) => {
      const inp = s.f32(input), err = s.err(), grad = s.alloc(input.length * 4);
      const name = typeof layer === 'string' ? s.str(layer) : 0;
      check(M, M._ddw_model_profile(this.ptr, inp, height, width, name, typeof layer === 'number' ? layer : -1, grad, err), err, 'profile');
    });
  }

  /**
   * Releases the model's wasm memory. Safe to call twice. While dreams run on
   * the model, the release waits until the last of them settles (finishes,
   * fails or is aborted); the model refuses new work from now on.
   */
  free() {
    if (!this._ptr || this._freeing) return;
    if (this._running > 0) this._freeing = true;
    else this._release();
  }
}

function checkImage(input, h, w) {
  if (!(input instanceof Float32Array)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'input must be a Float32Array');
  if (!(h > 0 && w > 0 && input.length === h * w * 3))
    throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `input has ${input.length} values, expected ${h}x${w}x3`);
}

function readLayers(M, ptr, count, getter) {
  return withScope(M, (s) => {
    const info = s.alloc(8);
    const out = [];
    for (let i = 0; i < count; i++) {
      const p = checkPtr(M, getter(ptr, i, info), 0, 'loadModel: layer list');
      out.push({ index: i, name: M.UTF8ToString(p), channels: M.HEAP32[info >>> 2], nodeIndex: M.HEAP32[(info >>> 2) + 1] });
    }
    return out;
  });
}

/**
 * Loads a TensorFlow GraphDef model (e.g. Inception 5h's tensorflow_inception_graph.pb).
 * @param source URL, Node file path, File/Blob, ArrayBuffer or typed array
 * @param {{backend?: 'auto'|'reference'|'simd128', threads?: number, onProgress?: (fraction:number)=>void}} [opts]
 */
export async function loadModelBytes(source, opts = {}) {
  const threads = opts.threads ?? await defaultThreadCount();
  const M = await loadCore({ threads: opts.useThreadedBuild ?? (threads > 1 ? undefined : false) });
  const backend = BACKENDS[opts.backend ?? 'auto'];
  if (backend === undefined) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `unknown backend '${opts.backend}'`);
  // One pool per instance (wasm/instance_pool.c), at most the workers the build pre-spawns.
  const effThreads = M.ddVariant === 'mt' ? Math.max(1, Math.min(threads, M._ddw_max_threads())) : 1;
  const name = sourceName(source); // null for bytes
  const read = await readIntoHeap(M, source, opts.onProgress);
  const { ptr, len, member } = await unpackInHeap(M, read.ptr, read.len, name || 'the zip archive');
  return withScope(M, (s) => {
    const err = s.err();
    const m = checkPtr(M, M._ddw_model_load(ptr, len, backend, effThreads, err), err, // adopts ptr, also on failure
      name ? `loadModel(${name}${member ? `: ${member}` : ''})` : member ? `loadModel(${member})` : 'loadModel');
    return new Model(M, m, { byteLength: len, threads: Math.max(1, Math.min(effThreads, M._ddw_pool_threads())) });
  });
}
