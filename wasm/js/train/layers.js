// layers.js — Keras-style layers: configuration, serialisation (Keras JSON as
// TF.js writes it), shape inference, and the registry for custom layers.
//
// A layer does no arithmetic in JS. Its build(builder) adds primitives —
// dense, dropout, conv2d, maxPooling2d, flatten — that the C core runs. A
// custom layer (the tutorial's "custom objects") composes primitives:
//
//   class DenseBlock extends Layer {
//     static className = 'DenseBlock';
//     constructor({ units, rate = 0.2, ...rest }) { super(rest); this.units = units; this.rate = rate; }
//     build(b) { b.dense(this.units, { activation: 'relu' }); b.dropout(this.rate); }
//     getConfig() { return { ...super.getConfig(), units: this.units, rate: this.rate }; }
//   }
//   registerLayer(DenseBlock);
//
// Its weights are named "<layer>/<primitive>/kernel", e.g. "dense_block/dense/kernel".
import { DeepDreamError } from '../errors.js';

const fail = (code, msg) => new DeepDreamError(code, msg);

// ---------------------------------------------------------------- names ----
const counters = new Map();

/** Keras' name uniquifier: dense, dense_1, dense_2 ... per process (reset with clearSession). */
export function uniqueName(base) {
  const n = counters.get(base) ?? 0;
  counters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Resets layer and model name counters, as tf.keras.backend.clear_session() does. */
export function clearSession() { counters.clear(); }

/** Keras' to_snake_case: 'MaxPooling2D' -> 'max_pooling2d', 'DenseBlock' -> 'dense_block'. */
export function toSnakeCase(name) {
  const a = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2');
  return a.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

// -------------------------------------------------------------- helpers ----
const ACTIVATIONS = new Set(['linear', 'relu', 'softmax']);

function activationOf(a, where) {
  if (a === undefined || a === null) return 'linear';
  if (typeof a === 'object' && a.class_name === 'Activation') a = a.config?.activation;
  if (typeof a !== 'string' || !ACTIVATIONS.has(a))
    throw fail('DD_ERR_UNSUPPORTED', `${where}: activation '${typeof a === 'string' ? a : JSON.stringify(a)}' is not supported (relu, softmax, linear)`);
  return a;
}

function paddingOf(p, where) {
  if (p === undefined || p === null) return 'valid';
  const v = String(p).toLowerCase();
  if (v !== 'valid' && v !== 'same') throw fail('DD_ERR_UNSUPPORTED', `${where}: padding '${p}' is not supported (valid, same)`);
  return v;
}

function pairOf(v, what, where) {
  const pair = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (!pair || !pair.every((x) => Number.isInteger(x) && x > 0 && x <= 4096))
    throw fail('DD_ERR_INVALID_ARGUMENT', `${where}: ${what} must be a positive integer or a pair of them, not ${JSON.stringify(v)}`);
  return pair.slice();
}

function positiveInt(v, what, where) {
  if (!Number.isInteger(v) || v <= 0 || v > 1 << 24)
    throw fail('DD_ERR_INVALID_ARGUMENT', `${where}: ${what} must be a positive integer, not ${JSON.stringify(v)}`);
  return v;
}

function pick(config, camel, snake) {
  if (config[camel] !== undefined) return config[camel];
  return config[snake];
}

function checkChannelsLast(config, where) {
  const df = pick(config, 'dataFormat', 'data_format');
  if (df !== undefined && df !== null && df !== 'channels_last')
    throw fail('DD_ERR_UNSUPPORTED', `${where}: data_format '${df}' is not supported (channels_last)`);
}

function checkNull(config, keys, where) {
  for (const [camel, snake] of keys) {
    const v = pick(config, camel, snake);
    if (v !== undefined && v !== null)
      throw fail('DD_ERR_UNSUPPORTED', `${where}: ${snake} is not supported (found ${JSON.stringify(v)})`);
  }
}

const shapeStr = (s) => `(None, ${s.join(', ')})`.replace('(None, )', '(None,)');

// ---------------------------------------------------------------- layer ----
export class Layer {
  static className = 'Layer';

  constructor(config = {}) {
    if (config === null || typeof config !== 'object') throw fail('DD_ERR_INVALID_ARGUMENT', 'a layer config must be an object');
    this.name = config.name ?? uniqueName(toSnakeCase(this.getClassName()));
    if (typeof this.name !== 'string' || !/^[A-Za-z0-9_.\-/]{1,100}$/.test(this.name))
      throw fail('DD_ERR_INVALID_ARGUMENT', `bad layer name ${JSON.stringify(this.name)}`);
    this.trainable = config.trainable ?? true;
    const bis = pick(config, 'batchInputShape', 'batch_input_shape');
    const is = pick(config, 'inputShape', 'input_shape');
    this.inputShape = is ?? (Array.isArray(bis) ? bis.slice(1) : undefined);
    if (this.inputShape !== undefined) {
      if (!Array.isArray(this.inputShape) || !this.inputShape.every((d) => Number.isInteger(d) && d > 0))
        throw fail('DD_ERR_SHAPE', `layer '${this.name}': inputShape must be positive integers, not ${JSON.stringify(this.inputShape)}`);
      this.inputShape = this.inputShape.slice();
    }
    const dtype = config.dtype;
    if (dtype !== undefined && dtype !== null && dtype !== 'float32')
      throw fail('DD_ERR_UNSUPPORTED', `layer '${this.name}': dtype '${dtype}' is not supported (float32)`);
  }

  getClassName() { return this.constructor.className ?? this.constructor.name; }

  /** A JSON-serialisable object from which fromConfig re-creates the layer. Subclasses extend it. */
  getConfig() { return { name: this.name, trainable: this.trainable }; }

  /** Keras' from_config: by default the config is the constructor's argument. */
  static fromConfig(config) { return new this(config); }

  /** Adds this layer's primitives to the builder. Custom layers must implement it. */
  build(b) {
    throw fail('DD_ERR_UNSUPPORTED', `layer class '${this.getClassName()}' does not implement build(builder); ` +
      'custom layers compose the built-in primitives (dense, dropout, conv2d, maxPooling2d, flatten)');
  }
}

export class Dense extends Layer {
  static className = 'Dense';
  constructor(config = {}) {
    super(config);
    const w = `dense '${this.name}'`;
    this.units = positiveInt(config.units, 'units', w);
    this.activation = activationOf(config.activation, w);
    this.useBias = pick(config, 'useBias', 'use_bias') ?? true;
    checkNull(config, [['kernelRegularizer', 'kernel_regularizer'], ['biasRegularizer', 'bias_regularizer'],
      ['activityRegularizer', 'activity_regularizer'], ['kernelConstraint', 'kernel_constraint'], ['biasConstraint', 'bias_constraint']], w);
  }
  getConfig() {
    return { units: this.units, activation: this.activation, use_bias: this.useBias,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
      ...super.getConfig() };
  }
  build(b) { b._primitive('dense', this.name, { units: this.units, activation: this.activation, useBias: this.useBias }); }
}

export class Dropout extends Layer {
  static className = 'Dropout';
  constructor(config = {}) {
    super(config);
    this.rate = config.rate;
    if (typeof this.rate !== 'number' || !(this.rate >= 0 && this.rate < 1))
      throw fail('DD_ERR_INVALID_ARGUMENT', `dropout '${this.name}': rate must be in [0, 1), not ${JSON.stringify(config.rate)}`);
    checkNull(config, [['noiseShape', 'noise_shape']], `dropout '${this.name}'`);
  }
  getConfig() { return { rate: this.rate, noise_shape: null, seed: null, ...super.getConfig() }; }
  build(b) { b._primitive('dropout', this.name, { rate: this.rate }); }
}

export class Conv2D extends Layer {
  static className = 'Conv2D';
  constructor(config = {}) {
    super(config);
    const w = `conv2d '${this.name}'`;
    this.filters = positiveInt(config.filters, 'filters', w);
    this.kernelSize = pairOf(pick(config, 'kernelSize', 'kernel_size'), 'kernelSize', w);
    this.strides = pairOf(config.strides ?? 1, 'strides', w);
    this.padding = paddingOf(config.padding, w);
    this.activation = activationOf(config.activation, w);
    this.useBias = pick(config, 'useBias', 'use_bias') ?? true;
    checkChannelsLast(config, w);
    const dil = pick(config, 'dilationRate', 'dilation_rate');
    if (dil !== undefined && dil !== null && !(dil === 1 || (Array.isArray(dil) && dil.every((d) => d === 1))))
      throw fail('DD_ERR_UNSUPPORTED', `${w}: dilation_rate ${JSON.stringify(dil)} is not supported (1)`);
    const groups = config.groups;
    if (groups !== undefined && groups !== null && groups !== 1) throw fail('DD_ERR_UNSUPPORTED', `${w}: groups ${groups} is not supported`);
    checkNull(config, [['kernelRegularizer', 'kernel_regularizer'], ['biasRegularizer', 'bias_regularizer'],
      ['activityRegularizer', 'activity_regularizer'], ['kernelConstraint', 'kernel_constraint'], ['biasConstraint', 'bias_constraint']], w);
  }
  getConfig() {
    return { filters: this.filters, kernel_size: this.kernelSize.slice(), strides: this.strides.slice(), padding: this.padding,
      data_format: 'channels_last', dilation_rate: [1, 1], activation: this.activation, use_bias: this.useBias,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
      ...super.getConfig() };
  }
  build(b) {
    b._primitive('conv2d', this.name, { filters: this.filters, kernelSize: this.kernelSize, strides: this.strides,
      padding: this.padding, activation: this.activation, useBias: this.useBias });
  }
}

export class MaxPooling2D extends Layer {
  static className = 'MaxPooling2D';
  constructor(config = {}) {
    super(config);
    const w = `max_pooling2d '${this.name}'`;
    this.poolSize = pairOf(pick(config, 'poolSize', 'pool_size') ?? 2, 'poolSize', w);
    const st = config.strides;
    this.strides = st === undefined || st === null ? this.poolSize.slice() : pairOf(st, 'strides', w);
    this.padding = paddingOf(config.padding, w);
    checkChannelsLast(config, w);
  }
  getConfig() {
    return { pool_size: this.poolSize.slice(), padding: this.padding, strides: this.strides.slice(), data_format: 'channels_last',
      ...super.getConfig() };
  }
  build(b) { b._primitive('maxPooling2d', this.name, { poolSize: this.poolSize, strides: this.strides, padding: this.padding }); }
}

export class Flatten extends Layer {
  static className = 'Flatten';
  constructor(config = {}) {
    super(config);
    checkChannelsLast(config, `flatten '${this.name}'`);
  }
  getConfig() { return { data_format: 'channels_last', ...super.getConfig() }; }
  build(b) { b._primitive('flatten', this.name, {}); }
}

// ------------------------------------------------------------- factories ----
// dense(512, {activation: 'relu', inputShape: [784]}) or dense({units: 512, ...}) (TF.js style).
export function dense(units, opts = {}) {
  return typeof units === 'object' && units !== null ? new Dense(units) : new Dense({ ...opts, units });
}
export function dropout(rate, opts = {}) {
  return typeof rate === 'object' && rate !== null ? new Dropout(rate) : new Dropout({ ...opts, rate });
}
export function conv2d(filters, kernelSize, opts = {}) {
  if (typeof filters === 'object' && filters !== null) return new Conv2D(filters);
  if (typeof kernelSize === 'object' && !Array.isArray(kernelSize) && kernelSize !== null) return new Conv2D({ ...kernelSize, filters });
  return new Conv2D({ ...opts, filters, kernelSize });
}
export function maxPooling2d(opts = {}) { return new MaxPooling2D(opts); }
export function flatten(opts = {}) { return new Flatten(opts); }

// -------------------------------------------------------------- registry ----
const registry = new Map();
for (const cls of [Dense, Dropout, Conv2D, MaxPooling2D, Flatten]) registry.set(cls.className, cls);

/**
 * Registers a custom layer class for loadLayersModel (Keras' custom_objects).
 * The class extends Layer, has a static className (or its JS name is used),
 * implements getConfig() and build(builder); fromConfig defaults to new cls(config).
 */
export function registerLayer(cls, name) {
  if (typeof cls !== 'function' || !(cls.prototype instanceof Layer))
    throw fail('DD_ERR_INVALID_ARGUMENT', 'registerLayer: the class must extend Layer');
  const key = name ?? cls.className ?? cls.name;
  if (typeof key !== 'string' || !key) throw fail('DD_ERR_INVALID_ARGUMENT', 'registerLayer: the class needs a name');
  registry.set(key, cls);
  return cls;
}

/** Re-creates a layer from {class_name, config}; customObjects ({Name: cls}) take precedence. */
export function deserializeLayer(json, customObjects = {}) {
  if (!json || typeof json !== 'object' || typeof json.class_name !== 'string')
    throw fail('DD_ERR_PARSE', `a layer entry must be {class_name, config}, not ${JSON.stringify(json)?.slice(0, 80)}`);
  const cls = customObjects[json.class_name] ?? registry.get(json.class_name);
  if (!cls)
    throw fail('DD_ERR_NOT_FOUND', `unknown layer class '${json.class_name}': built in are ${[...registry.keys()].join(', ')}; ` +
      'register custom layers with registerLayer(cls) or pass {customObjects: {Name: cls}}');
  const config = json.config ?? {};
  if (typeof config !== 'object') throw fail('DD_ERR_PARSE', `layer '${json.class_name}': config must be an object`);
  const layer = typeof cls.fromConfig === 'function' ? cls.fromConfig(config) : new cls(config);
  if (!(layer instanceof Layer)) throw fail('DD_ERR_INVALID_ARGUMENT', `${json.class_name}.fromConfig did not return a Layer`);
  return layer;
}

// --------------------------------------------------------------- builder ----
/**
 * Plans the primitives of a list of layers, tracking shapes as the C core
 * does, so summary() and errors need no wasm. A custom layer's build()
 * receives this object: b.dense(units, {activation, useBias, name}),
 * b.dropout(rate), b.conv2d(filters, kernelSize, {strides, padding, activation}),
 * b.maxPooling2d({poolSize, strides, padding}), b.flatten(); b.shape is the
 * current per-sample shape.
 */
export class Builder {
  constructor(inputShape) {
    this.shape = inputShape.slice();
    this.ops = [];
    this._layer = null;
    this._subNames = null;
  }

  _sub(kind, opts) {
    const base = opts.name ?? toSnakeCase(kind === 'maxPooling2d' ? 'MaxPooling2D' : kind);
    let name = base, i = 0;
    while (this._subNames.has(name)) name = `${base}_${++i}`;
    this._subNames.add(name);
    return `${this._layer.name}/${name}`;
  }
  dense(units, opts = {}) {
    const w = `layer '${this._layer.name}'`;
    this._primitive('dense', this._sub('dense', opts), { units: positiveInt(units, 'units', w),
      activation: activationOf(opts.activation, w), useBias: opts.useBias ?? true });
  }
  dropout(rate, opts = {}) { this._primitive('dropout', this._sub('dropout', opts), { rate }); }
  conv2d(filters, kernelSize, opts = {}) {
    const w = `layer '${this._layer.name}'`;
    this._primitive('conv2d', this._sub('conv2d', opts), { filters: positiveInt(filters, 'filters', w),
      kernelSize: pairOf(kernelSize, 'kernelSize', w), strides: pairOf(opts.strides ?? 1, 'strides', w),
      padding: paddingOf(opts.padding, w), activation: activationOf(opts.activation, w), useBias: opts.useBias ?? true });
  }
  maxPooling2d(opts = {}) {
    const w = `layer '${this._layer.name}'`;
    const pool = pairOf(opts.poolSize ?? 2, 'poolSize', w);
    this._primitive('maxPooling2d', this._sub('maxPooling2d', opts), { poolSize: pool,
      strides: opts.strides === undefined || opts.strides === null ? pool : pairOf(opts.strides, 'strides', w), padding: paddingOf(opts.padding, w) });
  }
  flatten(opts = {}) { this._primitive('flatten', this._sub('flatten', opts), {}); }

  /** Adds one primitive named `name` (built-in layers use their own name). */
  _primitive(kind, name, p) {
    const s = this.shape;
    const where = `${kind === 'maxPooling2d' ? 'max_pooling2d' : kind} '${name}'`;
    const params = [];
    let out;
    switch (kind) {
      case 'dense':
        out = [...s.slice(0, -1), p.units];
        params.push({ suffix: 'kernel', shape: [s[s.length - 1], p.units] });
        if (p.useBias) params.push({ suffix: 'bias', shape: [p.units] });
        break;
      case 'dropout':
        if (typeof p.rate !== 'number' || !(p.rate >= 0 && p.rate < 1))
          throw fail('DD_ERR_INVALID_ARGUMENT', `${where}: rate must be in [0, 1), not ${p.rate}`);
        out = s.slice();
        break;
      case 'conv2d':
      case 'maxPooling2d': {
        if (s.length !== 3)
          throw fail('DD_ERR_SHAPE', `${where} needs a height x width x channels input, not ${shapeStr(s)}`);
        const k = kind === 'conv2d' ? p.kernelSize : p.poolSize;
        const dims = [0, 1].map((a) => {
          const n = s[a], kk = k[a], st = p.strides[a];
          if (p.padding === 'same') return Math.ceil(n / st);
          if (kk > n) throw fail('DD_ERR_SHAPE', `${where}: window ${k.join('x')} is larger than its ${s[0]}x${s[1]} input (padding 'valid')`);
          return Math.floor((n - kk) / st) + 1;
        });
        out = kind === 'conv2d' ? [dims[0], dims[1], p.filters] : [dims[0], dims[1], s[2]];
        if (kind === 'conv2d') {
          params.push({ suffix: 'kernel', shape: [k[0], k[1], s[2], p.filters] });
          if (p.useBias) params.push({ suffix: 'bias', shape: [p.filters] });
        }
        break;
      }
      case 'flatten':
        out = [s.reduce((a, b) => a * b, 1)];
        break;
      default:
        throw fail('DD_ERR_INTERNAL', `unknown primitive ${kind}`);
    }
    if (this.ops.some((o) => o.name === name)) throw fail('DD_ERR_INVALID_ARGUMENT', `two layers are named '${name}'`);
    this.ops.push({ kind, name, ...p, inShape: s.slice(), outShape: out, params: params.map((q) => ({ name: `${name}/${q.suffix}`, shape: q.shape })) });
    this.shape = out;
  }

  /** Plans `layers` (the first must know its input shape). */
  static plan(layers, inputShape) {
    if (!inputShape) throw fail('DD_ERR_SHAPE', 'the first layer needs an inputShape (e.g. dense(512, {inputShape: [784]}))');
    const b = new Builder(inputShape);
    const perLayer = [];
    for (const layer of layers) {
      const first = b.ops.length, inShape = b.shape.slice();
      b._layer = layer;
      b._subNames = new Set();
      layer.build(b);
      const ops = b.ops.slice(first);
      perLayer.push({ layer, inShape, outShape: b.shape.slice(), ops,
        paramCount: ops.reduce((a, o) => a + o.params.reduce((c, q) => c + q.shape.reduce((x, y) => x * y, 1), 0), 0) });
    }
    return { inputShape: inputShape.slice(), ops: b.ops, layers: perLayer, outShape: b.shape.slice() };
  }
}

export { shapeStr };
