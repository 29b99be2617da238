// model.js — Sequential models: the tutorial's API (compile, fit, evaluate,
// predict, summary, save/saveWeights/loadWeights, loadLayersModel) on the C
// core. Datasets are copied into wasm memory once per call; batches, losses,
// metrics, gradients and Adam run in C.
import { isNode } from '../core.js';
import { DeepDreamError } from '../errors.js';
import { Builder, Layer, deserializeLayer, shapeStr, uniqueName } from './layers.js';
import { HeapBuffer, Net, loadTrainCore, splitSeed } from './net.js';
import { Adam, SparseCategoricalCrossentropy, lossFrom, metricsFrom, optimizerFrom } from './optim.js';
import { History } from './callbacks.js';
import { concatBuffers, crc32, decodeWeights, loadArtifacts, saveArtifacts, verifyChecksum } from './io.js';

export const GENERATED_BY = 'deepdream-wasm 0.1.0';
const fail = (code, msg) => new DeepDreamError(code, msg);
const prod = (s) => s.reduce((a, b) => a * b, 1);

function randomSeed() {
  const w = new Uint32Array(2);
  globalThis.crypto.getRandomValues(w);
  return (w[0] & 0x1fffff) * 2 ** 32 + w[1];
}
const trainSeed = (seed) => BigInt.asUintN(64, BigInt(seed) ^ 0x9e3779b97f4a7c15n);

// ------------------------------------------------------------------ data ----
function flattenNested(a, shape, out, depth = 0) {
  if (!Array.isArray(a)) {
    out.push(a);
    return;
  }
  if (shape.length <= depth) shape.push(a.length);
  else if (shape[depth] !== a.length) throw fail('DD_ERR_SHAPE', `ragged nested array: ${a.length} vs ${shape[depth]} at depth ${depth}`);
  for (const v of a) flattenNested(v, shape, out, depth + 1);
}

/** x as {data: Float32Array, n}; accepts Float32Array (flat), typed arrays, nested arrays, {data, shape}, tensors. */
export function toSamples(x, sampleShape, what = 'x') {
  let data, shape;
  if (x && typeof x.dataSync === 'function' && Array.isArray(x.shape)) {
    data = x.dataSync();
    shape = x.shape;
  } else if (x && !ArrayBuffer.isView(x) && !Array.isArray(x) && typeof x === 'object' && 'data' in x) {
    data = x.data;
    shape = x.shape;
  } else if (Array.isArray(x)) {
    shape = [];
    const flat = [];
    flattenNested(x, shape, flat);
    data = flat;
    if (shape.length === 1) shape = undefined; // a flat JS array: samples one after another
  } else {
    data = x;
  }
  if (!(data instanceof Float32Array)) {
    if (!(ArrayBuffer.isView(data) || Array.isArray(data)))
      throw fail('DD_ERR_INVALID_ARGUMENT', `${what} must be a Float32Array, a typed or nested array, or {data, shape}`);
    data = Float32Array.from(data);
  }
  const per = prod(sampleShape);
  let n;
  if (shape) {
    if (!Array.isArray(shape) || shape.length < 1) throw fail('DD_ERR_SHAPE', `${what}: bad shape ${JSON.stringify(shape)}`);
    const rest = shape.slice(1);
    if (rest.length !== sampleShape.length || rest.some((d, i) => d !== sampleShape[i]))
      throw fail('DD_ERR_SHAPE', `${what} has shape [${shape.join(', ')}] but the model expects [n, ${sampleShape.join(', ')}]`);
    n = shape[0];
    if (data.length !== n * per) throw fail('DD_ERR_SHAPE', `${what}: shape [${shape.join(', ')}] needs ${n * per} values, the data has ${data.length}`);
  } else {
    if (data.length % per !== 0)
      throw fail('DD_ERR_SHAPE', `${what} has ${data.length} values, not a whole number of samples of [${sampleShape.join(', ')}] (${per} values)`);
    n = data.length / per;
  }
  if (n === 0) throw fail('DD_ERR_INVALID_ARGUMENT', `${what} has no samples`);
  return { data, n };
}

/** Sparse labels as Int32Array of length n (shape [n] or [n, 1]); non-integers are DD_ERR_INVALID_ARGUMENT. */
export function toLabels(y, n, what = 'y') {
  let data = y, shape;
  if (y && typeof y.dataSync === 'function' && Array.isArray(y.shape)) {
    data = y.dataSync();
    shape = y.shape;
  } else if (y && !ArrayBuffer.isView(y) && !Array.isArray(y) && typeof y === 'object' && 'data' in y) {
    data = y.data;
    shape = y.shape;
  } else if (Array.isArray(y)) {
    data = y.flat(1);
  }
  if (!(ArrayBuffer.isView(data) || Array.isArray(data))) throw fail('DD_ERR_INVALID_ARGUMENT', `${what} must be an array of class indices`);
  if (shape && !(shape.length === 1 || (shape.length === 2 && shape[1] === 1)))
    throw fail('DD_ERR_SHAPE', `${what} has shape [${shape.join(', ')}]; sparse labels are [n] or [n, 1]`);
  if (data.length !== n) throw fail('DD_ERR_SHAPE', `x has ${n} samples but ${what} has ${data.length} labels`);
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
      throw fail('DD_ERR_INVALID_ARGUMENT', `${what}[${i}] is ${data[i]}: sparse labels must be class indices (non-negative integers)`);
    out[i] = v;
  }
  return out;
}

// -------------------------------------------------------------- printing ----
function fmtLogs(logs, keys) {
  return keys.filter((k) => typeof logs[k] === 'number')
    .map((k) => ` - ${k}: ${Math.abs(logs[k]) > 1e-3 ? logs[k].toFixed(4) : logs[k].toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2')}`).join('');
}

function timeStr(seconds, steps) {
  const per = seconds / Math.max(1, steps);
  const unit = per >= 1 ? `${per.toFixed(0)}s/step` : per >= 1e-3 ? `${(per * 1e3).toFixed(0)}ms/step` : `${(per * 1e6).toFixed(0)}us/step`;
  return `${Math.floor(seconds)}s ${unit}`;
}

function bar(current, target) {
  const w = String(target).length;
  let s = `${String(current).padStart(w)}/${target} [`;
  const prog = Math.floor((30 * current) / target);
  if (prog > 0) s += '='.repeat(prog - 1) + (current < target ? '>' : '=');
  return s + '.'.repeat(30 - prog) + ']';
}

/** Keras' progress lines. */
class Progress {
  constructor(verbose, printFn) {
    this.verbose = verbose;
    this.print = printFn ?? console.log;
    this.tty = !printFn && isNode && process.stdout.isTTY;
    this.lastDraw = 0;
  }
  update(step, steps, logs, keys, t0) {
    if (this.verbose !== 1 || !this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 50) return;
    this.lastDraw = now;
    const elapsed = (now - t0) / 1000, eta = (elapsed / step) * (steps - step);
    process.stdout.write(`\r${bar(step, steps)} - ETA: ${Math.round(eta)}s${fmtLogs(logs, keys)}\x1b[K`);
  }
  done(steps, logs, keys, t0) {
    if (!this.verbose) return;
    const seconds = (performance.now() - t0) / 1000;
    const line = this.verbose === 1 ? `${bar(steps, steps)} - ${timeStr(seconds, steps)}${fmtLogs(logs, keys)}`
      : `${steps}/${steps} - ${Math.floor(seconds)}s${fmtLogs(logs, keys)}`;
    if (this.tty) process.stdout.write('\r\x1b[K');
    this.print(line);
  }
}

// ----------------------------------------------------------------- model ----
export class Sequential {
  /**
   * @param {{layers?: Layer[], name?: string, seed?: number, threads?: number, backend?: 'auto'|'reference'|'simd128'}} [opts]
   *   seed: all randomness (weights, dropout, shuffles) follows from it (random when absent; see model.seed).
   *   threads > 1 uses the threaded wasm build.
   */
  constructor(opts = {}) {
    const { layers = [], name, seed, threads = 1, backend = 'auto' } = opts;
    this.name = name ?? uniqueName('sequential');
    this._layers = [];
    this.seed = seed ?? randomSeed();
    splitSeed(this.seed);
    this.threads = threads;
    this.backend = backend;
    this._net = null;
    this._netPromise = null;
    this._compiled = null;
    this.epoch = 0;
    this.stopTraining = false;
    this._busy = false;
    for (const l of layers) this.add(l);
  }

  add(layer) {
    if (!(layer instanceof Layer)) throw fail('DD_ERR_INVALID_ARGUMENT', 'add: expected a layer (dense(...), dropout(...), a Layer subclass)');
    if (this._net || this._netPromise) throw fail('DD_ERR_INVALID_ARGUMENT', 'add: the model is already built; create a new model');
    if (this._layers.some((l) => l.name === layer.name)) throw fail('DD_ERR_INVALID_ARGUMENT', `add: there is already a layer named '${layer.name}'`);
    if (this._layers.length === 0 && !layer.inputShape)
      throw fail('DD_ERR_SHAPE', `the first layer ('${layer.name}') needs an inputShape, e.g. dense(512, {inputShape: [784]})`);
    const before = this._layers.slice();
    this._layers.push(layer);
    try {
      this._plan = Builder.plan(this._layers, this._layers[0].inputShape);
    } catch (e) {
      this._layers = before;
      this._plan = before.length ? Builder.plan(before, before[0].inputShape) : null;
      throw e;
    }
  }

  get layers() { return this._layers.slice(); }
  get inputShape() { return this._plan ? this._plan.inputShape.slice() : undefined; }
  get outputShape() { return this._plan ? this._plan.outShape.slice() : undefined; }
  /** Adam's step count. */
  get iterations() { return this._net ? this._net.iterations : 0; }
  get optimizer() { return this._compiled?.optimizer; }
  get loss() { return this._compiled?.loss; }

  /** The tutorial's model.summary() table. */
  summary(lineLength = 65, positions = [0.45, 0.85, 1], printFn = console.log) {
    if (!this._plan) throw fail('DD_ERR_SHAPE', 'summary: the model has no layers');
    const pos = positions.map((p) => (p <= 1 ? Math.floor(lineLength * p) : p));
    const row = (fields) => {
      let line = '';
      fields.forEach((f, i) => {
        if (i > 0) line = line.slice(0, -1) + ' ';
        line += String(f);
        line = line.slice(0, pos[i]);
        line += ' '.repeat(Math.max(0, pos[i] - line.length));
      });
      return line;
    };
    const out = [`Model: "${this.name}"`, '_'.repeat(lineLength), row(['Layer (type)', 'Output Shape', 'Param #']), '='.repeat(lineLength)];
    const L = this._plan.layers;
    L.forEach((p, i) => {
      out.push(row([`${p.layer.name} (${p.layer.getClassName()})`, shapeStr(p.outShape), p.paramCount]));
      out.push(i === L.length - 1 ? '='.repeat(lineLength) : '_'.repeat(lineLength));
    });
    const total = L.reduce((a, p) => a + p.paramCount, 0);
    const trainable = L.reduce((a, p) => a + (p.layer.trainable ? p.paramCount : 0), 0);
    const g = (n) => n.toLocaleString('en-US');
    out.push(`Total params: ${g(total)}`, `Trainable params: ${g(trainable)}`, `Non-trainable params: ${g(total - trainable)}`, '_'.repeat(lineLength));
    for (const l of out) printFn(l);
    return out.join('\n');
  }

  /** compile({optimizer: 'adam' | adam({...}), loss: 'sparseCategoricalCrossentropy' | sparseCategoricalCrossentropy({fromLogits}), metrics: ['accuracy']}) */
  compile({ optimizer = 'adam', loss, metrics } = {}) {
    if (loss === undefined) throw fail('DD_ERR_INVALID_ARGUMENT', 'compile: a loss is required (sparseCategoricalCrossentropy)');
    const c = { optimizer: optimizerFrom(optimizer), loss: lossFrom(loss), metrics: metricsFrom(metrics),
      lossName: typeof loss === 'string' ? loss : 'sparse_categorical_crossentropy' };
    if (this._plan && this._plan.outShape.length !== 1)
      throw fail('DD_ERR_SHAPE', `compile: the model outputs ${shapeStr(this._plan.outShape)}; sparse categorical cross-entropy needs class scores (add flatten() and dense())`);
    this._compiled = c;
    if (this._net) this._applyCompile(this._net);
  }

  _applyCompile(net) {
    const o = this._compiled.optimizer;
    net.compile({ learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, fromLogits: this._compiled.loss.fromLogits });
  }

  /** Creates the C model (done by every async method; call it to control when wasm loads). */
  async build() {
    await this._ensureNet();
    return this;
  }

  async _ensureNet() {
    if (this._net) return this._net;
    if (!this._plan) throw fail('DD_ERR_SHAPE', 'the model has no layers');
    if (!this._netPromise) {
      this._netPromise = (async () => {
        const M = await loadTrainCore({ threads: this.threads });
        const net = new Net(M, this._plan.inputShape, { threads: this.threads, backend: this.backend });
        try {
          for (const op of this._plan.ops) {
            if (op.kind === 'dense') net.addDense(op.name, op.units, op.activation, op.useBias);
            else if (op.kind === 'dropout') net.addDropout(op.name, op.rate);
            else if (op.kind === 'conv2d') net.addConv2d(op.name, op.filters, op.kernelSize, op.strides, op.padding, op.activation, op.useBias);
            else if (op.kind === 'maxPooling2d') net.addMaxPool2d(op.name, op.poolSize, op.strides, op.padding);
            else net.addFlatten(op.name);
          }
          net.initParams(this.seed);
          net.seed(trainSeed(this.seed));
          if (this._compiled) this._applyCompile(net);
        } catch (e) {
          net.dispose();
          throw e;
        }
        this._net = net;
        return net;
      })();
      this._netPromise.catch(() => { this._netPromise = null; });
    }
    return this._netPromise;
  }

  /** Keras JSON of the architecture (TF.js' modelTopology). */
  toJSON() {
    const layers = this._layers.map((l, i) => {
      const config = { ...l.getConfig() };
      if (i === 0) {
        config.batch_input_shape = [null, ...this._plan.inputShape];
        config.dtype = 'float32';
      }
      return { class_name: l.getClassName(), config };
    });
    return { class_name: 'Sequential', config: { name: this.name, layers }, keras_version: GENERATED_BY, backend: 'deepdream-wasm' };
  }

  _trainingConfig() {
    const c = this._compiled;
    const metrics = c.metrics.slice();
    const tc = { loss: 'sparse_categorical_crossentropy', metrics,
      optimizer_config: { class_name: 'Adam', config: c.optimizer.getConfig() } };
    // TF.js' string losses cannot say from_logits; this extra key (ignored by TF.js) can.
    tc.loss_config = { class_name: 'SparseCategoricalCrossentropy', config: c.loss.getConfig() };
    return tc;
  }

  _metricKey() { return this._compiled && this._compiled.metrics.length ? this._compiled.metrics[0] : null; }

  /* Callbacks may save, load, evaluate or predict during fit (each C call is
     synchronous); only a second fit at the same time is refused. */
  _guard() {
    if (this._busy) throw fail('DD_ERR_INVALID_ARGUMENT', 'the model is busy: another fit() is running');
  }

  /**
   * fit(x, y, {epochs: 1, batchSize: 32, validationData: [xv, yv], validationSplit, callbacks, shuffle: true,
   *            initialEpoch: 0, verbose: 1, yieldEvery: 'auto', print})
   * Returns a History: history.history.{loss, accuracy, val_loss, val_accuracy}[epoch].
   */
  async fit(x, y, opts = {}) {
    if (!this._compiled) throw fail('DD_ERR_INVALID_ARGUMENT', 'fit: compile the model first (model.compile({optimizer, loss, metrics}))');
    this._guard();
    const { epochs = 1, batchSize = 32, validationData, validationSplit = 0, callbacks = [], shuffle = true, initialEpoch = 0,
      verbose = 1, yieldEvery = 'auto', print } = opts;
    if (!Number.isInteger(epochs) || epochs < 0) throw fail('DD_ERR_INVALID_ARGUMENT', `fit: epochs must be a non-negative integer, not ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > 1 << 20) throw fail('DD_ERR_INVALID_ARGUMENT', `fit: batchSize must be a positive integer, not ${batchSize}`);
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw fail('DD_ERR_INVALID_ARGUMENT', `fit: initialEpoch must be a non-negative integer, not ${initialEpoch}`);
    if (!(validationSplit >= 0 && validationSplit < 1)) throw fail('DD_ERR_INVALID_ARGUMENT', 'fit: validationSplit must be in [0, 1)');
    const cbList = Array.isArray(callbacks) ? callbacks : [callbacks];
    this._busy = true;
    const buffers = [];
    try {
      const net = await this._ensureNet();
      const M = net.M;
      let { data: xs, n } = toSamples(x, this._plan.inputShape, 'x');
      let ys = toLabels(y, n, 'y');
      let val = null;
      if (validationData) {
        if (!Array.isArray(validationData) || validationData.length < 2) throw fail('DD_ERR_INVALID_ARGUMENT', 'fit: validationData must be [x, y]');
        const v = toSamples(validationData[0], this._plan.inputShape, 'validationData x');
        val = { x: v.data, y: toLabels(validationData[1], v.n, 'validationData y'), n: v.n };
      } else if (validationSplit > 0) {
        const nTrain = Math.floor(n * (1 - validationSplit));
        if (nTrain < 1 || nTrain >= n) throw fail('DD_ERR_INVALID_ARGUMENT', `fit: validationSplit ${validationSplit} of ${n} samples leaves no training or validation data`);
        const per = prod(this._plan.inputShape);
        val = { x: xs.subarray(nTrain * per), y: ys.subarray(nTrain), n: n - nTrain };
        xs = xs.subarray(0, nTrain * per);
        ys = ys.subarray(0, nTrain);
        n = nTrain;
      }
      const xb = HeapBuffer.f32(M, xs); buffers.push(xb);
      const yb = HeapBuffer.i32(M, ys); buffers.push(yb);
      const perm = HeapBuffer.i32(M, new Int32Array(n)); buffers.push(perm);
      let xvb, yvb;
      if (val) {
        xvb = HeapBuffer.f32(M, val.x); buffers.push(xvb);
        yvb = HeapBuffer.i32(M, val.y); buffers.push(yvb);
      }
      if (!shuffle) perm.i32.set(Int32Array.from({ length: n }, (_, i) => i));
      const metric = this._metricKey();
      const keys = ['loss', ...(metric ? [metric] : []), ...(val ? ['val_loss', ...(metric ? [`val_${metric}`] : [])] : [])];
      const history = new History();
      const all = [history, ...cbList];
      const steps = Math.ceil(n / batchSize);
      const params = { epochs, initialEpoch, samples: n, steps, batchSize, verbose, doValidation: !!val, metrics: keys };
      history.params = params;
      for (const cb of all) {
        if (typeof cb.setModel === 'function') cb.setModel(this); else cb.model = this;
        if (typeof cb.setParams === 'function') cb.setParams(params); else cb.params = params;
      }
      const call = async (method, ...args) => {
        for (const cb of all) if (typeof cb[method] === 'function') await cb[method](...args);
      };
      const printFn = print ?? this._printFn;
      const prevPrint = this._printFn;
      this._printFn = printFn;
      const yieldMs = yieldEvery === 'auto' ? 125 : yieldEvery === 'batch' ? 0 : typeof yieldEvery === 'number' ? yieldEvery : Infinity;
      let lastYield = performance.now();
      this.stopTraining = false;
      try {
        await call('onTrainBegin', {});
        for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
          if (verbose) (printFn ?? console.log)(`Epoch ${epoch + 1}/${epochs}`);
          const progress = new Progress(verbose, printFn);
          const t0 = performance.now();
          await call('onEpochBegin', epoch, {});
          if (shuffle) net.shuffle(perm, n);
          let lossSum = 0, correct = 0, seen = 0;
          for (let b = 0; b < steps; b++) {
            const count = Math.min(batchSize, n - b * batchSize);
            await call('onBatchBegin', b, { batch: b, size: count });
            const r = net.trainBatch(xb, yb, n, perm, b * batchSize, count);
            lossSum += r.lossSum; correct += r.correct; seen += r.count;
            const logs = { batch: b, size: count, loss: lossSum / seen };
            if (metric) logs[metric] = correct / seen;
            progress.update(b + 1, steps, logs, keys, t0);
            await call('onBatchEnd', b, logs);
            if (this.stopTraining) break;
            if (yieldEvery === 'epoch' ? false : performance.now() - lastYield >= yieldMs) {
              await new Promise((r2) => setTimeout(r2, 0));
              lastYield = performance.now();
            }
          }
          const logs = { loss: lossSum / seen };
          if (metric) logs[metric] = correct / seen;
          if (val) {
            const r = net.evaluate(xvb, yvb, val.n, opts.validationBatchSize ?? batchSize);
            logs.val_loss = r.lossSum / r.count;
            if (metric) logs[`val_${metric}`] = r.correct / r.count;
          }
          this.epoch = epoch + 1;
          await call('onEpochEnd', epoch, logs);
          progress.done(steps, logs, keys, t0);
          if (yieldEvery === 'epoch') await new Promise((r2) => setTimeout(r2, 0));
        }
        await call('onTrainEnd', {});
      } finally {
        this._printFn = prevPrint;
      }
      return history;
    } finally {
      for (const b of buffers) b.free();
      this._busy = false;
    }
  }

  /** evaluate(x, y, {batchSize: 32, verbose: 1}) -> [loss, accuracy] (or loss without metrics). */
  async evaluate(x, y, opts = {}) {
    if (!this._compiled) throw fail('DD_ERR_INVALID_ARGUMENT', 'evaluate: compile the model first');
    const { batchSize = 32, verbose = 1, print } = opts;
    const net = await this._ensureNet();
    const { data, n } = toSamples(x, this._plan.inputShape, 'x');
    const ys = toLabels(y, n, 'y');
    const xb = HeapBuffer.f32(net.M, data), yb = HeapBuffer.i32(net.M, ys);
    try {
      const t0 = performance.now();
      const r = net.evaluate(xb, yb, n, batchSize);
      const metric = this._metricKey();
      const logs = { loss: r.lossSum / r.count };
      if (metric) logs[metric] = r.correct / r.count;
      new Progress(verbose, print ?? this._printFn).done(Math.ceil(n / batchSize), logs, Object.keys(logs), t0);
      return metric ? [logs.loss, logs[metric]] : logs.loss;
    } finally {
      xb.free();
      yb.free();
    }
  }

  /** predict(x, {batchSize: 32}) -> {data: Float32Array, shape: [n, ...outputShape]} */
  async predict(x, opts = {}) {
    const { batchSize = 32 } = opts;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw fail('DD_ERR_INVALID_ARGUMENT', `predict: batchSize must be a positive integer, not ${batchSize}`);
    const net = await this._ensureNet();
    const { data, n } = toSamples(x, this._plan.inputShape, 'x');
    const xb = HeapBuffer.f32(net.M, data);
    try {
      return { data: net.predict(xb, n, batchSize), shape: [n, ...this._plan.outShape] };
    } finally {
      xb.free();
    }
  }

  /** [{name, shape, data: Float32Array}] in the order of the layers (kernel, then bias). */
  async getWeights() {
    const net = await this._ensureNet();
    const params = net.params();
    return params.map((p, i) => ({ name: p.name, shape: p.shape, data: net.readParam(i) }));
  }

  /** Sets every weight, by position; shapes must match. Accepts getWeights()' output or Float32Arrays. */
  async setWeights(list) {
    const net = await this._ensureNet();
    this._assignWeights(net, list.map((w, i) => (ArrayBuffer.isView(w) ? { name: `#${i}`, shape: null, data: w } : w)), 'setWeights', false);
  }

  /** Validates everything first so a bad checkpoint leaves the model untouched. */
  _assignWeights(net, list, context, byName = true) {
    const params = net.params();
    if (list.length !== params.length)
      throw fail('DD_ERR_SHAPE', `${context}: ${list.length} weights for a model with ${params.length} (${params.map((p) => p.name).join(', ')})`);
    let order = list;
    if (byName) {
      const map = new Map(list.map((w) => [w.name, w]));
      if (params.every((p) => map.has(p.name))) order = params.map((p) => map.get(p.name));
    }
    order.forEach((w, i) => {
      const p = params[i];
      if (!w || !ArrayBuffer.isView(w.data)) throw fail('DD_ERR_INVALID_ARGUMENT', `${context}: weight ${i} has no data`);
      if (w.dtype && w.dtype !== 'float32') throw fail('DD_ERR_PARSE', `${context}: weight '${w.name}' has dtype ${w.dtype}, expected float32`);
      if (w.shape && (w.shape.length !== p.shape.length || w.shape.some((d, j) => d !== p.shape[j])))
        throw fail('DD_ERR_SHAPE', `${context}: weight '${w.name}' has shape [${w.shape.join(', ')}] but the model's '${p.name}' is [${p.shape.join(', ')}]`);
      if (w.data.length !== p.count)
        throw fail('DD_ERR_SHAPE', `${context}: weight '${w.name}' has ${w.data.length} values, the model's '${p.name}' needs ${p.count}`);
      for (let j = 0; j < w.data.length; j++)
        if (!Number.isFinite(w.data[j])) throw fail('DD_ERR_INVALID_ARGUMENT', `${context}: weight '${w.name}'[${j}] is not finite`);
    });
    order.forEach((w, i) => net.setParam(i, 'value', w.data instanceof Float32Array ? w.data : Float32Array.from(w.data)));
  }

  /** Optimizer weights in TF.js' order: iter, then every m, then every v. */
  _assignOptimizer(net, list, context) {
    const params = net.params();
    if (list.length !== 1 + 2 * params.length)
      throw fail('DD_ERR_SHAPE', `${context}: ${list.length} optimizer weights; Adam on ${params.length} weights needs ${1 + 2 * params.length} (iter, m, v)`);
    const iter = list[0];
    if (iter.data.length !== 1 || !(iter.data[0] >= 0) || !Number.isInteger(iter.data[0]))
      throw fail('DD_ERR_PARSE', `${context}: the optimizer's '${iter.name}' is not a step count`);
    const ms = list.slice(1, 1 + params.length), vs = list.slice(1 + params.length);
    const check = (w, p, what) => {
      if (w.data.length !== p.count || (w.shape && w.shape.some((d, j) => d !== p.shape[j])))
        throw fail('DD_ERR_SHAPE', `${context}: optimizer weight '${w.name}' does not match '${p.name}' [${p.shape.join(', ')}] (${what})`);
      for (let j = 0; j < w.data.length; j++)
        if (!Number.isFinite(w.data[j]) || (what === 'v' && w.data[j] < 0)) throw fail('DD_ERR_INVALID_ARGUMENT', `${context}: optimizer weight '${w.name}'[${j}] is invalid`);
    };
    params.forEach((p, i) => { check(ms[i], p, 'm'); check(vs[i], p, 'v'); });
    params.forEach((p, i) => { net.setParam(i, 'm', ms[i].data); net.setParam(i, 'v', vs[i].data); });
    net.iterations = iter.data[0];
  }

  async _artifacts(kind, includeOptimizer) {
    const net = await this._ensureNet();
    const params = net.params();
    const specs = params.map((p) => ({ name: p.name, shape: p.shape.slice(), dtype: 'float32' }));
    const parts = net.readAllParams('value');
    const full = kind === 'model' && this._compiled;
    if (full && includeOptimizer) {
      specs.push({ name: 'iter', shape: [], dtype: 'int32', group: 'optimizer' });
      parts.push(Int32Array.of(net.iterations));
      for (const slot of ['m', 'v']) {
        params.forEach((p) => specs.push({ name: `${p.name}/${slot}`, shape: p.shape.slice(), dtype: 'float32', group: 'optimizer' }));
        parts.push(...net.readAllParams(slot));
      }
    }
    const weightData = concatBuffers(parts);
    const artifacts = { modelTopology: this.toJSON(), format: 'layers-model', generatedBy: GENERATED_BY, convertedBy: null,
      weightSpecs: specs, weightData };
    if (full) artifacts.trainingConfig = this._trainingConfig();
    const meta = { formatVersion: 1, kind, epoch: this.epoch, seed: typeof this.seed === 'bigint' ? this.seed.toString() : this.seed,
      weightsCrc32: crc32(new Uint8Array(weightData)) };
    if (kind === 'model') Object.assign(meta, { iterations: net.iterations, rngState: net.rngState });
    artifacts.userDefinedMetadata = { deepdreamWasm: meta };
    return artifacts;
  }

  /**
   * Saves architecture, weights, training config, optimizer state (Adam m, v,
   * iterations) and counters (epoch, RNG state): 'indexeddb://name', a
   * directory (Node: model.json + weights.bin) or a TF.js IOHandler.
   */
  async save(path, opts = {}) {
    const artifacts = await this._artifacts('model', opts.includeOptimizer ?? true);
    return saveArtifacts(path, artifacts, opts, opts.checkpoint ?? null);
  }

  /** Saves the weights (same layout; no optimizer) and records the save in the directory's checkpoint state. */
  async saveWeights(path, opts = {}) {
    const artifacts = await this._artifacts('weights', false);
    const record = opts.checkpoint !== undefined ? opts.checkpoint : typeof path === 'string' ? { maxToKeep: Infinity } : null;
    return saveArtifacts(path, artifacts, opts, record);
  }

  /** Loads weights saved by saveWeights/save (or TF.js); matched by name, else by position; shapes must agree. */
  async loadWeights(path, opts = {}) {
    const net = await this._ensureNet();
    const artifacts = await loadArtifacts(path, opts);
    const where = typeof path === 'string' ? path : 'loadWeights';
    const weights = decodeWeights(artifacts.weightSpecs, artifacts.weightData, where);
    verifyChecksum(artifacts, where);
    this._assignWeights(net, weights.filter((w) => w.group !== 'optimizer'), where);
  }

  /** Releases the wasm memory. */
  dispose() {
    if (this._net) this._net.dispose();
    this._net = null;
    this._netPromise = null;
  }
}

/** sequential([layers...], {name, seed, threads}) or sequential({layers, name, seed, threads}) */
export function sequential(layers = [], opts = {}) {
  if (!Array.isArray(layers) && layers && typeof layers === 'object') return new Sequential(layers);
  return new Sequential({ ...opts, layers });
}

/**
 * Loads a model saved by model.save() (or by TF.js: model.json + shards, or
 * indexeddb://), with its training state, so fit() continues where it stopped.
 * opts: {customObjects: {Name: cls}, threads, backend, seed, indexedDB}
 */
export async function loadLayersModel(path, opts = {}) {
  const artifacts = await loadArtifacts(path, opts);
  const where = typeof path === 'string' ? path : 'loadLayersModel';
  let topo = artifacts.modelTopology;
  if (!topo || typeof topo !== 'object' || topo instanceof ArrayBuffer || ArrayBuffer.isView(topo))
    throw fail('DD_ERR_UNSUPPORTED', `${where}: the model has no JSON topology (a graph model?)`);
  if (topo.model_config) topo = topo.model_config;
  if (topo.class_name !== 'Sequential')
    throw fail('DD_ERR_UNSUPPORTED', `${where}: model class '${topo.class_name}' is not supported (Sequential)`);
  const cfg = topo.config;
  const layerJson = Array.isArray(cfg) ? cfg : cfg && Array.isArray(cfg.layers) ? cfg.layers : null;
  if (!layerJson) throw fail('DD_ERR_PARSE', `${where}: the Sequential config has no layers`);
  let inputShape;
  const layers = [];
  for (const lj of layerJson) {
    if (lj && lj.class_name === 'InputLayer') {
      const c = lj.config ?? {};
      const bis = c.batch_input_shape ?? c.batchInputShape ?? c.batch_shape;
      if (Array.isArray(bis)) inputShape = bis.slice(1);
      continue;
    }
    layers.push(deserializeLayer(lj, opts.customObjects));
  }
  if (layers.length && !layers[0].inputShape && inputShape) layers[0].inputShape = inputShape;
  const meta = (artifacts.userDefinedMetadata && artifacts.userDefinedMetadata.deepdreamWasm) || null;
  const metaSeed = meta && (Number.isSafeInteger(meta.seed) && meta.seed >= 0 ? meta.seed
    : typeof meta.seed === 'string' && /^\d{1,20}$/.test(meta.seed) ? BigInt.asUintN(64, BigInt(meta.seed)) : undefined);
  const seed = opts.seed ?? metaSeed;
  const model = new Sequential({ layers, name: Array.isArray(cfg) ? undefined : cfg.name, seed, threads: opts.threads, backend: opts.backend });
  try {
    const weights = decodeWeights(artifacts.weightSpecs, artifacts.weightData, where);
    verifyChecksum(artifacts, where);
    const net = await model._ensureNet();
    model._assignWeights(net, weights.filter((w) => w.group !== 'optimizer'), where);
    const tc = artifacts.trainingConfig;
    if (tc) {
      let compiled = false;
      try {
        const optName = tc.optimizer_config && tc.optimizer_config.class_name;
        if (optName !== 'Adam') throw fail('DD_ERR_UNSUPPORTED', `optimizer '${optName}'`);
        const loss = tc.loss_config ? lossFrom(tc.loss_config) : lossFrom(typeof tc.loss === 'string' ? tc.loss : undefined);
        const metrics = (Array.isArray(tc.metrics) ? tc.metrics : []).map((m) => (m === 'acc' || m === 'accuracy' ? m : m === 'sparseCategoricalAccuracy' ? 'sparse_categorical_accuracy' : m));
        model.compile({ optimizer: Adam.fromConfig(tc.optimizer_config.config ?? {}), loss, metrics });
        compiled = true;
      } catch (e) {
        if (!(e instanceof DeepDreamError) || e.code !== 'DD_ERR_UNSUPPORTED') throw e;
        console.warn(`${where}: the training configuration was not restored (${e.message}); compile the model before fit()`);
      }
      const optWeights = weights.filter((w) => w.group === 'optimizer');
      if (compiled && optWeights.length) model._assignOptimizer(net, optWeights, where);
    }
    if (meta) {
      if (Number.isInteger(meta.epoch) && meta.epoch >= 0) model.epoch = meta.epoch;
      if (meta.iterations !== undefined && model._compiled) net.iterations = meta.iterations;
      if (meta.rngState !== undefined) net.rngState = meta.rngState;
    }
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

export { SparseCategoricalCrossentropy };
