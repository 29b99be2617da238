// optim.js — the optimizer (Adam) and the loss (sparse categorical
// cross-entropy) as configuration objects; the arithmetic is in the C core.
import { DeepDreamError } from '../errors.js';

export class Adam {
  static className = 'Adam';
  /** Keras/TF.js defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7. */
  constructor({ learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = {}) {
    for (const [k, v] of Object.entries({ learningRate, beta1, beta2, epsilon }))
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `adam: ${k} must be a finite number, not ${v}`);
    if (!(learningRate > 0)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `adam: learningRate must be positive, not ${learningRate}`);
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'adam: beta1 and beta2 must be in [0, 1)');
    if (!(epsilon > 0)) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `adam: epsilon must be positive, not ${epsilon}`);
    Object.assign(this, { learningRate, beta1, beta2, epsilon });
  }
  getClassName() { return 'Adam'; }
  /** TF.js' AdamOptimizer.getConfig() keys. */
  getConfig() { return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon }; }
  static fromConfig(c = {}) {
    return new Adam({ learningRate: c.learningRate ?? c.learning_rate ?? c.lr, beta1: c.beta1 ?? c.beta_1,
      beta2: c.beta2 ?? c.beta_2, epsilon: c.epsilon ?? undefined });
  }
}

/** adam({learningRate, beta1, beta2, epsilon}) */
export function adam(opts = {}) { return new Adam(opts); }

export function optimizerFrom(o) {
  if (o instanceof Adam) return o;
  if (o === undefined || o === null || (typeof o === 'string' && o.toLowerCase() === 'adam')) return new Adam();
  if (typeof o === 'object' && (o.class_name === 'Adam' || o.className === 'Adam')) return Adam.fromConfig(o.config ?? {});
  throw new DeepDreamError('DD_ERR_UNSUPPORTED', `optimizer ${typeof o === 'string' ? `'${o}'` : JSON.stringify(o)} is not supported (adam)`);
}

export class SparseCategoricalCrossentropy {
  static className = 'SparseCategoricalCrossentropy';
  constructor({ fromLogits = false } = {}) { this.fromLogits = !!fromLogits; }
  getConfig() { return { from_logits: this.fromLogits, name: 'sparse_categorical_crossentropy' }; }
}

/** sparseCategoricalCrossentropy({fromLogits}) */
export function sparseCategoricalCrossentropy(opts = {}) { return new SparseCategoricalCrossentropy(opts); }

const LOSS_NAMES = new Set(['sparseCategoricalCrossentropy', 'sparse_categorical_crossentropy', 'SparseCategoricalCrossentropy']);

export function lossFrom(l) {
  if (l instanceof SparseCategoricalCrossentropy) return l;
  if (typeof l === 'string' && LOSS_NAMES.has(l)) return new SparseCategoricalCrossentropy();
  if (l && typeof l === 'object' && l.class_name === 'SparseCategoricalCrossentropy')
    return new SparseCategoricalCrossentropy({ fromLogits: !!(l.config && l.config.from_logits) });
  throw new DeepDreamError('DD_ERR_UNSUPPORTED', `loss ${typeof l === 'string' ? `'${l}'` : JSON.stringify(l)} is not supported (sparseCategoricalCrossentropy)`);
}

/** The metric keys: 'accuracy' or 'acc' (as given); sparse_categorical_accuracy aliases. */
export function metricsFrom(metrics) {
  if (metrics === undefined || metrics === null) return [];
  const list = Array.isArray(metrics) ? metrics : [metrics];
  return list.map((m) => {
    if (m === 'accuracy' || m === 'acc') return m;
    if (m === 'sparseCategoricalAccuracy' || m === 'sparse_categorical_accuracy') return 'sparse_categorical_accuracy';
    throw new DeepDreamError('DD_ERR_UNSUPPORTED', `metric ${JSON.stringify(m)} is not supported (accuracy)`);
  });
}
