// net.js — the C dd_net in wasm memory (wasm/bindings_train.c), wrapped for
// the training API. Everything here is a thin, checked translation: shapes,
// counts and labels are validated by the core, which reports DD_ERR_* codes.
import { loadCore } from '../core.js';
import { DeepDreamError } from '../errors.js';
import { check, checkPtr, withScope, malloc } from '../heap.js';

export const KIND = { dense: 1, dropout: 2, conv2d: 3, maxPooling2d: 4, flatten: 5 };
export const ACTIVATION = { linear: 0, relu: 1, softmax: 2 };
export const PADDING = { valid: 0, same: 1 };
export const SLOT = { value: 0, m: 1, v: 2 };
const BACKENDS = { auto: 0, reference: 1, simd128: 2 };

/** Loads the core for training: the single-threaded build unless threads > 1. */
export async function loadTrainCore(opts = {}) {
  const threads = opts.threads ?? 1;
  return loadCore({ threads: opts.useThreadedBuild ?? threads > 1 });
}

/** A wasm-resident buffer that frees itself on free(); re-reads HEAP views on access. */
export class HeapBuffer {
  constructor(M, bytes) { this.M = M; this.ptr = malloc(M, bytes); this.bytes = bytes; }
  static f32(M, arr) { const b = new HeapBuffer(M, arr.length * 4); M.HEAPF32.set(arr, b.ptr >>> 2); return b; }
  static i32(M, arr) { const b = new HeapBuffer(M, Math.max(1, arr.length) * 4); M.HEAP32.set(arr, b.ptr >>> 2); return b; }
  get i32() { return this.M.HEAP32.subarray(this.ptr >>> 2, (this.ptr + this.bytes) >>> 2); }
  free() { if (this.ptr) this.M._free(this.ptr); this.ptr = 0; }
}

export class Net {
  /**
   * @param M the Emscripten module
   * @param {number[]} inputShape [features] or [h, w, c]
   */
  constructor(M, inputShape, opts = {}) {
    this.M = M;
    const backend = BACKENDS[opts.backend ?? 'auto'];
    if (backend === undefined) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `unknown backend '${opts.backend}'`);
    // shares the instance's pool with the models (wasm/instance_pool.c)
    const threads = M.ddVariant === 'mt' ? Math.max(1, Math.min(opts.threads ?? 1, M._ddw_max_threads())) : 1;
    const s = inputShape;
    this.ptr = withScope(M, (sc) => {
      const err = sc.err();
      const p = M._ddw_net_create(s.length, s[0] | 0, (s[1] ?? 0) | 0, (s[2] ?? 0) | 0, backend, threads, err);
      return checkPtr(M, p, err, 'creating the model');
    });
    this.threads = Math.max(1, Math.min(threads, M._ddw_pool_threads()));
  }

  _call(context, fn) {
    if (!this.ptr) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'the model has been disposed');
    return withScope(this.M, (sc) => {
      const err = sc.err();
      return check(this.M, fn(sc, err), err, context);
    });
  }

  addDense(name, units, activation, useBias) {
    this._call(`layer '${name}'`, (s, e) => this.M._ddw_net_add_dense(this.ptr, s.str(name), units, ACTIVATION[activation], useBias ? 1 : 0, e));
  }
  addDropout(name, rate) {
    this._call(`layer '${name}'`, (s, e) => this.M._ddw_net_add_dropout(this.ptr, s.str(name), rate, e));
  }
  addConv2d(name, filters, [kh, kw], [sh, sw], padding, activation, useBias) {
    this._call(`layer '${name}'`, (s, e) => this.M._ddw_net_add_conv2d(this.ptr, s.str(name), filters, kh, kw, sh, sw,
      PADDING[padding], ACTIVATION[activation], useBias ? 1 : 0, e));
  }
  addMaxPool2d(name, [ph, pw], [sh, sw], padding) {
    this._call(`layer '${name}'`, (s, e) => this.M._ddw_net_add_max_pool2d(this.ptr, s.str(name), ph, pw, sh, sw, PADDING[padding], e));
  }
  addFlatten(name) {
    this._call(`layer '${name}'`, (s, e) => this.M._ddw_net_add_flatten(this.ptr, s.str(name), e));
  }

  get inputSize() { return this.M._ddw_net_input_size(this.ptr); }
  get outputSize() { return this.M._ddw_net_output_size(this.ptr); }

  /** [{name, layer, shape, count, value, m, v}] with pointers (read with paramData). */
  params() {
    const M = this.M;
    const n = M._ddw_net_param_count(this.ptr);
    return withScope(M, (s) => {
      const info = s.alloc(40), err = s.err();
      const out = [];
      for (let i = 0; i < n; i++) {
        const p = checkPtr(M, M._ddw_net_param_info(this.ptr, i, info, err), err, 'parameter info');
        const w = M.HEAPU32.subarray(info >>> 2, (info >>> 2) + 10);
        out.push({ name: M.UTF8ToString(p), layer: w[0], shape: Array.from(w.subarray(2, 2 + w[1])), count: w[6],
          value: w[7], m: w[8], v: w[9] });
      }
      return out;
    });
  }

  /** A copy of one parameter slot ('value', 'm' or 'v') as a Float32Array. */
  readParam(index, slot = 'value') {
    const p = this.params()[index];
    const ptr = p[slot];
    return this.M.HEAPF32.slice(ptr >>> 2, (ptr >>> 2) + p.count);
  }
  readAllParams(slot = 'value') {
    return this.params().map((p) => this.M.HEAPF32.slice(p[slot] >>> 2, (p[slot] >>> 2) + p.count));
  }

  setParam(index, slot, data) {
    const M = this.M;
    this._call(`setting parameter ${index}`, (s, e) => M._ddw_net_param_set(this.ptr, index, SLOT[slot], s.f32(data), data.length, e));
  }

  initParams(seed) {
    const [lo, hi] = splitSeed(seed);
    this._call('initialising weights', (s, e) => this.M._ddw_net_init_params(this.ptr, lo, hi, e));
  }

  compile({ learningRate, beta1, beta2, epsilon, fromLogits }) {
    this._call('compile', (s, e) => this.M._ddw_net_compile(this.ptr, learningRate, beta1, beta2, epsilon, fromLogits ? 1 : 0, e));
  }

  get iterations() { return this.M._ddw_net_iterations(this.ptr); }
  set iterations(v) { this._call('setting iterations', (s, e) => this.M._ddw_net_set_iterations(this.ptr, v, e)); }

  seed(seed) { const [lo, hi] = splitSeed(seed); this.M._ddw_net_seed(this.ptr, lo, hi); }

  /** The training RNG state as 8 uint32 words. */
  get rngState() {
    return withScope(this.M, (s) => {
      const p = s.alloc(32);
      this.M._ddw_net_rng_state(this.ptr, p);
      return Array.from(this.M.HEAPU32.subarray(p >>> 2, (p >>> 2) + 8));
    });
  }
  set rngState(words) {
    if (!Array.isArray(words) || words.length !== 8 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff))
      throw new DeepDreamError('DD_ERR_PARSE', 'the saved RNG state must be 8 unsigned 32-bit integers');
    this._call('restoring the RNG state', (s, e) => {
      const p = s.alloc(32);
      this.M.HEAPU32.set(words, p >>> 2);
      return this.M._ddw_net_set_rng_state(this.ptr, p, e);
    });
  }

  /** Shuffles into perm (a HeapBuffer of n int32). */
  shuffle(perm, n) { this._call('shuffle', (s, e) => this.M._ddw_net_shuffle(this.ptr, perm.ptr, n, e)); }

  /** One training step on samples perm[offset .. offset+count); returns {lossSum, correct, count}. */
  trainBatch(x, labels, n, perm, offset, count) {
    const M = this.M;
    if (!this._res) this._res = new HeapBuffer(M, 24);
    this._call('fit', (s, e) => M._ddw_net_train_batch(this.ptr, x.ptr, labels.ptr, n, perm.ptr + offset * 4, count, this._res.ptr, e));
    const r = M.HEAPF64.subarray(this._res.ptr >>> 3, (this._res.ptr >>> 3) + 3);
    return { lossSum: r[0], correct: r[1], count: r[2] };
  }

  evaluate(x, labels, n, batchSize) {
    const M = this.M;
    if (!this._res) this._res = new HeapBuffer(M, 24);
    this._call('evaluate', (s, e) => M._ddw_net_evaluate(this.ptr, x.ptr, labels.ptr, n, batchSize, this._res.ptr, e));
    const r = M.HEAPF64.subarray(this._res.ptr >>> 3, (this._res.ptr >>> 3) + 3);
    return { lossSum: r[0], correct: r[1], count: r[2] };
  }

  predict(x, n, batchSize) {
    const M = this.M;
    const size = n * this.outputSize;
    const out = new HeapBuffer(M, size * 4);
    try {
      this._call('predict', (s, e) => M._ddw_net_predict(this.ptr, x.ptr, n, batchSize, out.ptr, size, e));
      return M.HEAPF32.slice(out.ptr >>> 2, (out.ptr >>> 2) + size);
    } finally {
      out.free();
    }
  }

  dispose() {
    if (this._res) this._res.free();
    this._res = null;
    if (this.ptr) this.M._ddw_net_free(this.ptr);
    this.ptr = 0;
  }
}

/** A seed (number < 2^53 or bigint) as [lo, hi] 32-bit halves. */
export function splitSeed(seed) {
  let b;
  if (typeof seed === 'bigint') b = BigInt.asUintN(64, seed);
  else if (Number.isInteger(seed) && seed >= 0 && seed <= Number.MAX_SAFE_INTEGER) b = BigInt(seed);
  else throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `a seed must be a non-negative integer, not ${seed}`);
  return [Number(b & 0xffffffffn), Number(b >> 32n)];
}
