// callbacks.js — fit() callbacks: the base class (TF.js method names), History,
// and ModelCheckpoint with Keras' options plus CheckpointManager-style
// retention (maxToKeep) and TF's "checkpoint" state for latestCheckpoint().
import { DeepDreamError } from '../errors.js';
import { formatFilepath, isTemplate } from './format.js';

/** Base class; any object with some of these methods works as a callback too. */
export class Callback {
  setModel(model) { this.model = model; }
  setParams(params) { this.params = params; }
  async onTrainBegin(logs) {}
  async onTrainEnd(logs) {}
  async onEpochBegin(epoch, logs) {}
  async onEpochEnd(epoch, logs) {}
  async onBatchBegin(batch, logs) {}
  async onBatchEnd(batch, logs) {}
}

/** What fit() returns: {epoch: [0, 1, ...], history: {loss: [...], accuracy: [...], val_loss: [...], ...}, params}. */
export class History extends Callback {
  constructor() {
    super();
    this.epoch = [];
    this.history = {};
  }
  async onTrainBegin() { this.epoch = []; this.history = {}; }
  async onEpochEnd(epoch, logs = {}) {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

let periodWarned = false;
/** For tests: forget that the `period` deprecation warning was printed. */
export function resetPeriodWarning() { periodWarned = false; }

const pyFloat = (x) => (x === Infinity ? 'inf' : x === -Infinity ? '-inf' : Number.isNaN(x) ? 'nan' : x.toFixed(5));
const epochStr = (e) => String(e + 1).padStart(5, '0');

/**
 * Keras' ModelCheckpoint. filepath: 'indexeddb://training_2/cp-{epoch:04d}.ckpt'
 * or a path (Node); the template takes epoch (1-based), batch (1-based, with
 * saveFreq in batches) and the logs (loss, accuracy, val_loss, ...).
 * Options: saveWeightsOnly, saveFreq ('epoch' or a number of batches), period
 * (deprecated: every N epochs), saveBestOnly, monitor ('val_loss'), mode
 * ('auto' | 'min' | 'max'), initialValueThreshold, verbose, maxToKeep (5;
 * null keeps all), includeOptimizer (full saves; true).
 */
export class ModelCheckpoint extends Callback {
  constructor(filepath, opts = {}) {
    super();
    if (typeof filepath !== 'string' && !(filepath && typeof filepath === 'object'))
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'modelCheckpoint: filepath must be a string');
    const {
      saveWeightsOnly = false, saveFreq = 'epoch', period, saveBestOnly = false, monitor = 'val_loss', mode = 'auto',
      initialValueThreshold, verbose = 0, maxToKeep = 5, includeOptimizer = true, print,
    } = opts;
    this.filepath = filepath;
    this.saveWeightsOnly = !!saveWeightsOnly;
    this.saveBestOnly = !!saveBestOnly;
    this.monitor = monitor;
    this.verbose = verbose;
    this.includeOptimizer = includeOptimizer;
    this.print = print;
    if (maxToKeep !== null && maxToKeep !== undefined && maxToKeep !== Infinity && !(Number.isInteger(maxToKeep) && maxToKeep > 0))
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `modelCheckpoint: maxToKeep must be a positive integer or null, not ${maxToKeep}`);
    this.maxToKeep = maxToKeep ?? Infinity;
    if (saveFreq !== 'epoch' && !(Number.isInteger(saveFreq) && saveFreq > 0))
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `modelCheckpoint: saveFreq must be 'epoch' or a positive number of batches, not ${JSON.stringify(saveFreq)}`);
    this.saveFreq = saveFreq;
    this.period = 1;
    if (period !== undefined && period !== null) {
      if (!periodWarned) {
        periodWarned = true;
        console.warn('`period` argument is deprecated. Please use `saveFreq` to specify the frequency in number of batches seen.');
      }
      if (!(Number.isInteger(period) && period > 0))
        throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `modelCheckpoint: period must be a positive integer, not ${period}`);
      if (saveFreq !== 'epoch') throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'modelCheckpoint: period works with saveFreq \'epoch\' only');
      this.period = period;
    }
    if (!['auto', 'min', 'max'].includes(mode)) {
      console.warn(`ModelCheckpoint mode ${mode} is unknown, fallback to auto mode.`);
    }
    const m = ['min', 'max'].includes(mode) ? mode
      : (String(monitor).includes('acc') || String(monitor).startsWith('fmeasure')) ? 'max' : 'min';
    this.better = m === 'max' ? (a, b) => a > b : (a, b) => a < b;
    this.best = initialValueThreshold ?? (m === 'max' ? -Infinity : Infinity);
    this.epochsSinceLastSave = 0;
    this.batchesSeen = 0;
    this.currentEpoch = 0;
    this.saved = [];
  }

  _print(s) { (this.print ?? this.model?._printFn ?? console.log)(s); }

  async onEpochBegin(epoch) { this.currentEpoch = epoch; }

  async onBatchEnd(batch, logs = {}) {
    if (this.saveFreq === 'epoch') return;
    this.batchesSeen++;
    if (this.batchesSeen >= this.saveFreq) {
      this.batchesSeen = 0;
      await this._save(this.currentEpoch, batch, logs);
    }
  }

  async onEpochEnd(epoch, logs = {}) {
    if (this.saveFreq !== 'epoch') return;
    this.epochsSinceLastSave++;
    if (this.epochsSinceLastSave >= this.period) {
      this.epochsSinceLastSave = 0;
      await this._save(epoch, undefined, logs);
    }
  }

  filepathFor(epoch, batch, logs) {
    if (typeof this.filepath !== 'string') return this.filepath;
    const values = { ...logs, epoch: epoch + 1 };
    if (batch !== undefined) values.batch = batch + 1;
    delete values.size;
    return formatFilepath(this.filepath, values);
  }

  async _save(epoch, batch, logs) {
    const path = this.filepathFor(epoch, batch, logs);
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (typeof current !== 'number') {
        console.warn(`Can save best model only with ${this.monitor} available, skipping.`);
        return;
      }
      if (!this.better(current, this.best)) {
        if (this.verbose > 0) this._print(`\nEpoch ${epochStr(epoch)}: ${this.monitor} did not improve from ${pyFloat(this.best)}`);
        return;
      }
      if (this.verbose > 0)
        this._print(`\nEpoch ${epochStr(epoch)}: ${this.monitor} improved from ${pyFloat(this.best)} to ${pyFloat(current)}, saving model to ${path}`);
      this.best = current;
    } else if (this.verbose > 0) {
      this._print(`\nEpoch ${epochStr(epoch)}: saving model to ${path}`);
    }
    const checkpoint = typeof path === 'string' ? { maxToKeep: this.maxToKeep } : null;
    if (this.saveWeightsOnly) await this.model.saveWeights(path, { checkpoint });
    else await this.model.save(path, { checkpoint, includeOptimizer: this.includeOptimizer });
    this.saved.push(path);
  }
}

/** modelCheckpoint(filepath, {saveWeightsOnly, saveFreq, period, saveBestOnly, monitor, mode, initialValueThreshold, verbose, maxToKeep}) */
export function modelCheckpoint(filepath, opts = {}) { return new ModelCheckpoint(filepath, opts); }

export { isTemplate };
