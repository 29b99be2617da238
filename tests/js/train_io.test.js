// Training API edges: filepath templates (checked against Python's
// str.format), bad input and corrupted checkpoints (clear DeepDreamError codes,
// the model left untouched), custom layers through the registry,
// saveBestOnly / saveFreq in batches / full-model checkpoints, IOHandlers,
// IndexedDB atomicity, callbacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, truncateSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'fake-indexeddb/auto';
import {
  sequential, dense, dropout, conv2d, flatten, Layer, registerLayer, loadLayersModel, modelCheckpoint, latestCheckpoint,
  formatFilepath, DeepDreamError, Callback,
} from '../../wasm/js/index.js';
import { idbSave, idbLoad, openTfjsDb } from '../../wasm/js/train/io.js';

const dir = mkdtempSync(join(tmpdir(), 'dd-train-io-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function data(n, per, classes, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * per), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(rnd() * classes);
    for (let j = 0; j < per; j++) x[i * per + j] = rnd() - 0.5 + (j % classes === y[i] ? 0.7 : 0);
  }
  return { x, y };
}
const d = data(100, 20, 3, 1);

function small(seed = 1, hidden = 16) {
  const m = sequential([dense(hidden, { activation: 'relu', inputShape: [20] }), dropout(0.1), dense(3, { activation: 'softmax' })], { seed });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

const code = (c) => (e) => {
  assert.ok(e instanceof DeepDreamError, `not a DeepDreamError: ${e}`);
  assert.equal(e.code, c, e.message);
  return true;
};

test('filepath templates follow Python str.format', () => {
  // expected values printed by CPython 3 for the same formats
  const cases = [
    ['cp-{epoch:04d}.ckpt', { epoch: 5 }, 'cp-0005.ckpt'], ['{epoch:02d}-{val_loss:.2f}', { epoch: 3, val_loss: 0.41372 }, '03-0.41'],
    ['{x}', { x: 1 }, '1.0'], ['{x}', { x: 1e-5 }, '1e-05'], ['{x}', { x: 1.5e16 }, '1.5e+16'], ['{x}', { x: 0.4137 }, '0.4137'],
    ['{x:e}', { x: 0.000123 }, '1.230000e-04'], ['{x:g}', { x: 0.000123 }, '0.000123'], ['{x:g}', { x: 1234567 }, '1.23457e+06'],
    ['{x:.3g}', { x: 3.14159 }, '3.14'], ['{x:>8.3f}|', { x: -3.14159 }, '  -3.142|'], ['{x:+08.2f}', { x: 3.14159 }, '+0003.14'],
    ['{x:,}', { x: 1234567.5 }, '1,234,567.5'], ['{epoch:,d}', { epoch: 1234567 }, '1,234,567'], ['{x:.1%}', { x: 0.873 }, '87.3%'],
    ['{x:*^9}', { x: 'ab' }, '***ab****'], ['{{a}}{epoch:3}', { epoch: 7 }, '{a}  7'], ['{x:.0f}', { x: 2.5 }, '2'],
    ['{x:.2f}', { x: 0.125 }, '0.12'], ['{x:.2e}', { x: 12345.678 }, '1.23e+04'], ['{x:G}', { x: 1e-10 }, '1E-10'], ['{epoch}', { epoch: 12 }, '12'],
  ];
  for (const [t, v, want] of cases) assert.equal(formatFilepath(t, v), want, t);
  assert.throws(() => formatFilepath('cp-{val_loss:.2f}', { epoch: 1 }), code('DD_ERR_INVALID_ARGUMENT'));
  assert.throws(() => formatFilepath('cp-{loss:04d}', { loss: 0.5 }), code('DD_ERR_INVALID_ARGUMENT'));
  assert.throws(() => formatFilepath('cp-{epoch', { epoch: 1 }), code('DD_ERR_INVALID_ARGUMENT'));
  assert.throws(() => formatFilepath('cp-{epoch:q}', { epoch: 1 }), code('DD_ERR_INVALID_ARGUMENT'));
});

test('bad input gives clear codes', async () => {
  assert.throws(() => sequential([dense(4)]), code('DD_ERR_SHAPE')); // no inputShape
  assert.throws(() => sequential([dense(4, { inputShape: [5] }), conv2d(2, 3)]), code('DD_ERR_SHAPE'));
  assert.throws(() => sequential([conv2d(2, 5, { inputShape: [4, 4, 1] })]), code('DD_ERR_SHAPE'));
  assert.throws(() => dense(4, { activation: 'tanh', inputShape: [3] }), code('DD_ERR_UNSUPPORTED'));
  assert.throws(() => dropout(1.5), code('DD_ERR_INVALID_ARGUMENT'));
  assert.throws(() => conv2d(2, 3, { inputShape: [4, 4, 1], padding: 'causal' }), code('DD_ERR_UNSUPPORTED'));
  const m = small();
  assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' }), code('DD_ERR_UNSUPPORTED'));
  assert.throws(() => m.compile({ optimizer: 'adam', loss: 'meanSquaredError' }), code('DD_ERR_UNSUPPORTED'));
  await assert.rejects(m.fit(d.x.subarray(0, 1999), d.y), code('DD_ERR_SHAPE'));
  await assert.rejects(m.fit(d.x, d.y.subarray(0, 99)), code('DD_ERR_SHAPE'));
  await assert.rejects(m.fit({ data: d.x, shape: [100, 4, 5] }, d.y), code('DD_ERR_SHAPE'));
  const bad = Int32Array.from(d.y);
  bad[17] = 3;
  await assert.rejects(m.fit(d.x, bad, { verbose: 0 }), (e) => code('DD_ERR_INVALID_ARGUMENT')(e) && /label .* is 3; the model has 3 classes/.test(e.message));
  await assert.rejects(m.fit(d.x, Array.from(d.y, (v, i) => (i === 5 ? 0.5 : v)), { verbose: 0 }), code('DD_ERR_INVALID_ARGUMENT'));
  await assert.rejects(m.evaluate(d.x, bad, { verbose: 0 }), code('DD_ERR_INVALID_ARGUMENT'));
  await assert.rejects(small().fit(d.x, d.y, { batchSize: 0 }), code('DD_ERR_INVALID_ARGUMENT'));
  const unc = sequential([dense(3, { inputShape: [20] })]);
  await assert.rejects(unc.fit(d.x, d.y), code('DD_ERR_INVALID_ARGUMENT'));
  assert.throws(() => sequential([conv2d(2, 3, { inputShape: [6, 6, 1] })]).compile({ loss: 'sparseCategoricalCrossentropy' }), code('DD_ERR_SHAPE'));
  // two fits at once
  const busy = small();
  const first = busy.fit(d.x, d.y, { epochs: 2, verbose: 0, yieldEvery: 'batch' });
  await assert.rejects(busy.fit(d.x, d.y, { verbose: 0 }), code('DD_ERR_INVALID_ARGUMENT'));
  await first;
  // nested arrays and {data, shape} work; predict returns {data, shape}
  const nested = Array.from({ length: 4 }, (_, i) => Array.from(d.x.subarray(i * 20, i * 20 + 20)));
  const p1 = await m.predict(nested), p2 = await m.predict({ data: d.x.subarray(0, 80), shape: [4, 20] });
  assert.deepEqual(p1.shape, [4, 3]);
  assert.deepEqual(p1.data, p2.data);
});

test('corrupted or mismatched checkpoints are refused and leave the model untouched', async () => {
  const m = small(2);
  await m.fit(d.x, d.y, { epochs: 2, verbose: 0 });
  const p = join(dir, 'corrupt', 'cp.ckpt');
  await m.saveWeights(p);
  const target = small(3);
  const before = await target.getWeights();
  const unchanged = async () => {
    const now = await target.getWeights();
    now.forEach((w, i) => assert.deepEqual(w.data, before[i].data));
  };
  const weights = join(p, 'weights.bin'), json = join(p, 'model.json');
  const good = readFileSync(weights), goodJson = readFileSync(json, 'utf8');

  truncateSync(weights, good.length - 4);
  await assert.rejects(target.loadWeights(p), (e) => code('DD_ERR_PARSE')(e) && /has \d+ bytes but the 4 weight specs need \d+/.test(e.message));
  await unchanged();

  const flipped = Buffer.from(good);
  flipped[100] ^= 0x40;
  writeFileSync(weights, flipped);
  await assert.rejects(target.loadWeights(p), (e) => code('DD_ERR_PARSE')(e) && /CRC-32/.test(e.message));
  await unchanged();
  writeFileSync(weights, good);

  writeFileSync(json, goodJson.slice(0, 50));
  await assert.rejects(target.loadWeights(p), code('DD_ERR_PARSE'));
  const j = JSON.parse(goodJson);
  j.weightsManifest[0].paths = ['../../etc/passwd'];
  writeFileSync(json, JSON.stringify(j));
  await assert.rejects(target.loadWeights(p), code('DD_ERR_PARSE'));
  const j2 = JSON.parse(goodJson);
  j2.weightsManifest[0].weights[1].dtype = 'float16';
  writeFileSync(json, JSON.stringify(j2));
  await assert.rejects(target.loadWeights(p), code('DD_ERR_UNSUPPORTED'));
  const j3 = JSON.parse(goodJson);
  j3.weightsManifest[0].weights[0].shape = [-1, 16];
  writeFileSync(json, JSON.stringify(j3));
  await assert.rejects(target.loadWeights(p), code('DD_ERR_PARSE'));
  writeFileSync(json, goodJson);
  await unchanged();

  await assert.rejects(target.loadWeights(join(dir, 'nowhere')), code('DD_ERR_NOT_FOUND'));
  await assert.rejects(small(4, 8).loadWeights(p), (e) => code('DD_ERR_SHAPE')(e) && /\[20, 16\].*\[20, 8\]/.test(e.message));
  const three = sequential([dense(3, { activation: 'softmax', inputShape: [20] })]);
  await assert.rejects(three.loadWeights(p), (e) => code('DD_ERR_SHAPE')(e) && /4 weights for a model with 2/.test(e.message));

  // NaN weights are refused before anything is written
  const nanJson = JSON.parse(goodJson);
  const nanBytes = Buffer.from(good);
  nanBytes.writeFloatLE(NaN, 8);
  delete nanJson.userDefinedMetadata;
  writeFileSync(json, JSON.stringify(nanJson));
  writeFileSync(weights, nanBytes);
  await assert.rejects(target.loadWeights(p), code('DD_ERR_INVALID_ARGUMENT'));
  await unchanged();
  writeFileSync(json, goodJson);
  writeFileSync(weights, good);
  await target.loadWeights(p);
  assert.deepEqual(await target.evaluate(d.x, d.y, { verbose: 0 }), await m.evaluate(d.x, d.y, { verbose: 0 }));

  // unknown layer classes and unsupported configs
  await m.save(join(dir, 'full'));
  const fj = JSON.parse(readFileSync(join(dir, 'full', 'model.json'), 'utf8'));
  fj.modelTopology.config.layers[1].class_name = 'LSTM';
  writeFileSync(join(dir, 'full', 'model.json'), JSON.stringify(fj));
  await assert.rejects(loadLayersModel(join(dir, 'full')), (e) => code('DD_ERR_NOT_FOUND')(e) && /unknown layer class 'LSTM'/.test(e.message));
  fj.modelTopology.config.layers[1].class_name = 'Dropout';
  fj.modelTopology.config.layers[0].config.activation = 'sigmoid';
  writeFileSync(join(dir, 'full', 'model.json'), JSON.stringify(fj));
  await assert.rejects(loadLayersModel(join(dir, 'full')), code('DD_ERR_UNSUPPORTED'));
  fj.modelTopology.class_name = 'Model';
  writeFileSync(join(dir, 'full', 'model.json'), JSON.stringify(fj));
  await assert.rejects(loadLayersModel(join(dir, 'full')), code('DD_ERR_UNSUPPORTED'));
});

class DenseBlock extends Layer {
  static className = 'DenseBlock';
  constructor({ units, rate = 0.1, ...rest } = {}) {
    super(rest);
    this.units = units;
    this.rate = rate;
  }
  build(b) {
    b.dense(this.units, { activation: 'relu' });
    b.dropout(this.rate);
    b.dense(this.units, { activation: 'relu' });
  }
  getConfig() { return { ...super.getConfig(), units: this.units, rate: this.rate }; }
}

test('custom layers: getConfig/fromConfig through the registry (the tutorial\'s custom objects)', async () => {
  const m = sequential([new DenseBlock({ units: 12, inputShape: [20] }), dense(3, { activation: 'softmax' })], { seed: 5 });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const lines = [];
  m.summary(undefined, undefined, (l) => lines.push(l));
  assert.match(lines[4], /^dense_block \(DenseBlock\) +\(None, 12\) +408 +$/);
  assert.deepEqual((await m.getWeights()).map((w) => w.name), ['dense_block/dense/kernel', 'dense_block/dense/bias',
    'dense_block/dense_1/kernel', 'dense_block/dense_1/bias', `${m.layers[1].name}/kernel`, `${m.layers[1].name}/bias`]);
  await m.fit(d.x, d.y, { epochs: 3, verbose: 0 });
  await m.save('indexeddb://custom/model');
  await assert.rejects(loadLayersModel('indexeddb://custom/model'), (e) => code('DD_ERR_NOT_FOUND')(e) && /DenseBlock/.test(e.message));
  const viaOpts = await loadLayersModel('indexeddb://custom/model', { customObjects: { DenseBlock } });
  assert.ok(viaOpts.layers[0] instanceof DenseBlock);
  assert.equal(viaOpts.layers[0].units, 12);
  registerLayer(DenseBlock);
  const viaRegistry = await loadLayersModel('indexeddb://custom/model');
  const want = await m.predict(d.x);
  assert.deepEqual((await viaOpts.predict(d.x)).data, want.data);
  assert.deepEqual((await viaRegistry.predict(d.x)).data, want.data);
  // training continues identically after the round trip
  await m.fit(d.x, d.y, { epochs: 4, initialEpoch: 3, verbose: 0 });
  await viaRegistry.fit(d.x, d.y, { epochs: 4, initialEpoch: 3, verbose: 0 });
  assert.deepEqual((await viaRegistry.getWeights())[0].data, (await m.getWeights())[0].data);
  assert.throws(() => registerLayer(class NotALayer {}), code('DD_ERR_INVALID_ARGUMENT'));
});

test('saveBestOnly with mode and initialValueThreshold; a missing monitor warns and skips', async () => {
  const m = small(6);
  const lines = [];
  const base = join(dir, 'best');
  const logs = [0.9, 0.7, 0.8, 0.6, 0.65];
  const cb = modelCheckpoint(`${base}/cp-{epoch:02d}-{val_loss:.2f}`, { saveBestOnly: true, saveWeightsOnly: true, verbose: 1, print: (l) => lines.push(l) });
  cb.setModel(m);
  for (let e = 0; e < logs.length; e++) await cb.onEpochEnd(e, { loss: 1, val_loss: logs[e] });
  assert.deepEqual(lines, [
    `\nEpoch 00001: val_loss improved from inf to 0.90000, saving model to ${base}/cp-01-0.90`,
    `\nEpoch 00002: val_loss improved from 0.90000 to 0.70000, saving model to ${base}/cp-02-0.70`,
    '\nEpoch 00003: val_loss did not improve from 0.70000',
    `\nEpoch 00004: val_loss improved from 0.70000 to 0.60000, saving model to ${base}/cp-04-0.60`,
    '\nEpoch 00005: val_loss did not improve from 0.60000',
  ]);
  assert.deepEqual(readdirSync(base).sort(), ['checkpoint', 'cp-01-0.90', 'cp-02-0.70', 'cp-04-0.60']);

  const acc = modelCheckpoint(join(dir, 'best-acc'), { saveBestOnly: true, monitor: 'val_accuracy', initialValueThreshold: 0.5, saveWeightsOnly: true });
  acc.setModel(m);
  for (const v of [0.4, 0.55, 0.5]) await acc.onEpochEnd(0, { val_accuracy: v });
  assert.equal(acc.saved.length, 1);
  assert.equal(acc.best, 0.55);

  const warnings = [];
  const warn = console.warn;
  console.warn = (s) => warnings.push(s);
  try {
    const none = modelCheckpoint(join(dir, 'best-none'), { saveBestOnly: true });
    await m.fit(d.x, d.y, { epochs: 1, verbose: 0, callbacks: [none] });
    assert.deepEqual(warnings, ['Can save best model only with val_loss available, skipping.']);
    assert.ok(!existsSync(join(dir, 'best-none')));
  } finally {
    console.warn = warn;
  }
});

test('saveFreq in batches with {epoch}/{batch} names and maxToKeep; full-model checkpoints resume', async () => {
  const m = small(7);
  const base = join(dir, 'freq');
  const cb = modelCheckpoint(`${base}/e{epoch:02d}-b{batch:02d}`, { saveFreq: 3, maxToKeep: 2 });
  await m.fit(d.x, d.y, { epochs: 2, batchSize: 25, verbose: 0, callbacks: [cb] }); // 4 batches per epoch
  assert.deepEqual(cb.saved.map((p) => p.slice(base.length + 1)), ['e01-b03', 'e02-b02']);
  assert.deepEqual(readdirSync(base).sort(), ['checkpoint', 'e01-b03', 'e02-b02']);

  const m2 = small(8);
  const keep = modelCheckpoint(`${base}/full-{epoch}`, { maxToKeep: 2 });
  await m2.fit(d.x, d.y, { epochs: 3, verbose: 0, callbacks: [keep] });
  assert.deepEqual(readdirSync(base).filter((f) => f.startsWith('full')).sort(), ['full-2', 'full-3']);
  const latest = await latestCheckpoint(base);
  assert.equal(latest, join(base, 'full-3'));
  const resumed = await loadLayersModel(latest);
  assert.equal(resumed.epoch, 3);
  const twin = small(8);
  await twin.fit(d.x, d.y, { epochs: 5, verbose: 0 });
  await resumed.fit(d.x, d.y, { epochs: 5, initialEpoch: 3, verbose: 0 });
  assert.deepEqual((await resumed.getWeights()).map((w) => w.data), (await twin.getWeights()).map((w) => w.data));

  // latestCheckpoint: nothing recorded, a removed checkpoint, a corrupt state file
  assert.equal(await latestCheckpoint(join(dir, 'empty')), null);
  assert.equal(await latestCheckpoint('indexeddb://nothing/here'), null);
  rmSync(join(base, 'full-3'), { recursive: true });
  assert.equal(await latestCheckpoint(base), null);
  writeFileSync(join(base, 'checkpoint'), 'garbage without quotes\n');
  await assert.rejects(latestCheckpoint(base), code('DD_ERR_PARSE'));
});

test('IndexedDB: one transaction (a failing save writes nothing), reserved names, IOHandlers', async () => {
  const m = small(9);
  await m.build();
  await assert.rejects(idbSave('atomic/x', { modelTopology: {}, weightData: new ArrayBuffer(4), weightSpecs: [], bad: () => 1 }), code('DD_ERR_IO'));
  const db = await openTfjsDb();
  const keys = await new Promise((res) => {
    const tx = db.transaction(['models_store', 'model_info_store']);
    const a = tx.objectStore('models_store').getAllKeys(), b = tx.objectStore('model_info_store').getAllKeys();
    tx.oncomplete = () => res([...a.result, ...b.result]);
  });
  db.close();
  assert.ok(!keys.includes('atomic/x'), 'a failed save left a record behind');
  await assert.rejects(m.save('indexeddb://dir/checkpoint'), code('DD_ERR_INVALID_ARGUMENT'));
  await m.saveWeights('indexeddb://dir/w');
  await assert.rejects(idbLoad('dir/checkpoint'), code('DD_ERR_PARSE'));
  await assert.rejects(loadLayersModel('indexeddb://dir/none'), code('DD_ERR_NOT_FOUND'));
  await assert.rejects(m.save('https://example.com/model'), code('DD_ERR_UNSUPPORTED'));

  let captured;
  await m.save({ save: async (a) => { captured = a; return { modelArtifactsInfo: {} }; } });
  assert.equal(captured.format, 'layers-model');
  assert.equal(captured.weightSpecs.filter((s) => s.group === 'optimizer')[0].name, 'iter');
  assert.equal(captured.trainingConfig.loss, 'sparse_categorical_crossentropy');
  assert.deepEqual(captured.trainingConfig.metrics, ['accuracy']);
  const back = await loadLayersModel({ load: async () => captured });
  assert.deepEqual((await back.predict(d.x)).data, (await m.predict(d.x)).data);
});

test('callbacks: TF.js method names, running batch logs, stopTraining, History', async () => {
  const m = small(10);
  const events = [];
  class Recorder extends Callback {
    async onTrainBegin() { events.push('trainBegin'); }
    async onEpochBegin(e) { events.push(`epochBegin ${e}`); }
    async onBatchEnd(b, logs) { events.push(`batch ${b} ${logs.size}`); assert.ok(logs.loss > 0 && logs.accuracy >= 0); }
    async onEpochEnd(e, logs) {
      events.push(`epochEnd ${e}`);
      assert.deepEqual(Object.keys(logs), ['loss', 'accuracy', 'val_loss', 'val_accuracy']);
      if (e === 1) this.model.stopTraining = true;
    }
    async onTrainEnd() { events.push('trainEnd'); }
  }
  const h = await m.fit(d.x, d.y, { epochs: 5, batchSize: 40, validationSplit: 0.2, verbose: 0, callbacks: [new Recorder()] });
  assert.deepEqual(events, ['trainBegin', 'epochBegin 0', 'batch 0 40', 'batch 1 40', 'epochEnd 0', 'epochBegin 1', 'batch 0 40', 'batch 1 40', 'epochEnd 1', 'trainEnd']);
  assert.deepEqual(h.epoch, [0, 1]);
  assert.equal(h.history.loss.length, 2);
  assert.equal(h.params.samples, 80);
  // a plain object works too (TF.js CustomCallback style)
  let n = 0;
  await m.fit(d.x, d.y, { epochs: 1, verbose: 0, callbacks: { onBatchEnd: async () => { n++; } } });
  assert.equal(n, 4);
});

test('the threaded build (2 threads) trains bit-identically to the single-threaded one', async () => {
  let s = 3;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(64 * 144).map(() => rnd()), y = Int32Array.from({ length: 64 }, () => Math.floor(rnd() * 4));
  const run = async (threads) => {
    const m = sequential([conv2d(4, 3, { inputShape: [12, 12, 1], activation: 'relu' }), flatten(), dropout(0.2),
      dense(32, { activation: 'relu' }), dense(4, { activation: 'softmax' })], { seed: 1, threads });
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    const w = await m.getWeights();
    m.dispose();
    return w;
  };
  const a = await run(1), b = await run(2);
  a.forEach((w, i) => assert.deepEqual(w.data, b[i].data, w.name));
});
