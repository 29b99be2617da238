// The Keras "save and load" tutorial, on the wasm training core, with a
// synthetic 10-class dataset (784-dim Gaussian clusters, 1000 train / 200
// test) in place of MNIST: summary table, checkpoint every epoch, an
// untrained model near chance, a restored model scoring exactly what it
// scored before saving; bit-identical resume from model.save; retention of
// the newest 5 checkpoints. Each in files and in IndexedDB (fake-indexeddb).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'fake-indexeddb/auto';
import {
  sequential, dense, dropout, modelCheckpoint, latestCheckpoint, loadLayersModel, clearSession, formatFilepath,
} from '../../wasm/js/index.js';
import { resetPeriodWarning } from '../../wasm/js/train/callbacks.js';
import { openTfjsDb } from '../../wasm/js/train/io.js';

/** 10 Gaussian clusters in 784 dimensions: sparse binary centres, unit noise. */
function clusters(n, seed, noise = 1.0) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  let c = 12345;
  const rc = () => ((c = (Math.imul(c, 22695477) + 1) >>> 0) / 2 ** 32);
  const centres = Array.from({ length: 10 }, () => Float32Array.from({ length: 784 }, () => (rc() < 0.05 ? 0.7 : 0)));
  const x = new Float32Array(n * 784), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(rnd() * 10);
    for (let j = 0; j < 784; j++) x[i * 784 + j] = centres[y[i]][j] + noise * gauss();
  }
  return { x, y };
}

const train = clusters(1000, 1), testSet = clusters(200, 2);

function createModel(seed) {
  const model = sequential([
    dense(512, { activation: 'relu', inputShape: [784] }),
    dropout(0.2),
    dense(10, { activation: 'softmax' }),
  ], { seed });
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

const sameBytes = (a, b) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

async function idbKeys(store, prefix) {
  const db = await openTfjsDb();
  try {
    return await new Promise((resolve, reject) => {
      const req = db.transaction(store, 'readonly').objectStore(store).getAllKeys();
      req.onsuccess = () => resolve(req.result.filter((k) => k.startsWith(prefix)).sort());
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

test('summary() prints the tutorial table with Keras names', () => {
  clearSession();
  const lines = [];
  const model = createModel(1);
  model.summary(undefined, undefined, (l) => lines.push(l));
  assert.deepEqual(lines, [
    'Model: "sequential"',
    '_________________________________________________________________',
    'Layer (type)                 Output Shape              Param #   ',
    '=================================================================',
    'dense (Dense)                (None, 512)               401920    ',
    '_________________________________________________________________',
    'dropout (Dropout)            (None, 512)               0         ',
    '_________________________________________________________________',
    'dense_1 (Dense)              (None, 10)                5130      ',
    '=================================================================',
    'Total params: 407,050',
    'Trainable params: 407,050',
    'Non-trainable params: 0',
    '_________________________________________________________________',
  ]);
  // a second model continues the counters, as Keras does
  const second = createModel(1);
  assert.deepEqual(second.layers.map((l) => l.name), ['dense_2', 'dropout_1', 'dense_3']);
  assert.equal(second.name, 'sequential_1');
});

for (const where of ['files', 'indexeddb']) {
  test(`tutorial flow (${where}): checkpoint each epoch; untrained ~chance; restored scores exactly the same`, async () => {
    const dir = where === 'files' ? mkdtempSync(join(tmpdir(), 'dd-train-')) : null;
    const base = where === 'files' ? join(dir, 'training_1') : 'indexeddb://tut_training_1';
    const path = `${base}/cp.ckpt`;
    try {
      const model = createModel(11);
      const lines = [];
      const cb = modelCheckpoint(path, { saveWeightsOnly: true, verbose: 1 });
      const history = await model.fit(train.x, train.y, {
        epochs: 10, validationData: [testSet.x, testSet.y], callbacks: [cb], verbose: 1, print: (l) => lines.push(l),
      });
      assert.equal(lines[0], 'Epoch 1/10');
      assert.equal(lines[1], `\nEpoch 00001: saving model to ${path}`);
      assert.match(lines[2], /^32\/32 \[==============================\] - \d+s \d+(ms|us)\/step - loss: \d\.\d{4}(e-\d\d)? - accuracy: \d\.\d{4} - val_loss: \d\.\d{4}(e-\d\d)? - val_accuracy: \d\.\d{4}$/);
      assert.equal(lines.length, 30);
      assert.deepEqual(Object.keys(history.history), ['loss', 'accuracy', 'val_loss', 'val_accuracy']);
      assert.deepEqual(history.epoch, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.ok(history.history.loss[9] < history.history.loss[0] / 2, `loss ${history.history.loss}`);
      assert.equal(model.epoch, 10);

      const [loss, acc] = await model.evaluate(testSet.x, testSet.y, { verbose: 0 });
      assert.ok(acc > 0.7, `trained accuracy ${acc}`);
      assert.equal(loss, history.history.val_loss[9]);
      assert.equal(acc, history.history.val_accuracy[9]);
      const before = await model.predict(testSet.x);

      const fresh = createModel(99);
      const evalLines = [];
      const [loss0, acc0] = await fresh.evaluate(testSet.x, testSet.y, { verbose: 2, print: (l) => evalLines.push(l) });
      assert.match(evalLines[0], /^7\/7 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/);
      assert.ok(acc0 < 0.3, `untrained accuracy ${acc0} should be near chance (0.1)`);
      assert.ok(loss0 > 1.5, `untrained loss ${loss0}`);

      assert.equal(await latestCheckpoint(base), path);
      await fresh.loadWeights(path);
      const [loss1, acc1] = await fresh.evaluate(testSet.x, testSet.y, { verbose: 0 });
      assert.equal(acc1, acc);
      assert.equal(loss1, loss);
      assert.ok(sameBytes((await fresh.predict(testSet.x)).data, before.data));

      if (where === 'files') {
        assert.deepEqual(readdirSync(join(dir, 'training_1')).sort(), ['checkpoint', 'cp.ckpt']);
        assert.deepEqual(readdirSync(join(dir, 'training_1', 'cp.ckpt')).sort(), ['model.json', 'weights.bin']);
        assert.equal(readFileSync(join(dir, 'training_1', 'checkpoint'), 'utf8'),
          'model_checkpoint_path: "cp.ckpt"\nall_model_checkpoint_paths: "cp.ckpt"\n');
      } else {
        assert.deepEqual(await idbKeys('model_info_store', 'tut_training_1/'), ['tut_training_1/cp.ckpt']);
        assert.deepEqual(await idbKeys('models_store', 'tut_training_1/'), ['tut_training_1/checkpoint', 'tut_training_1/cp.ckpt']);
      }
      model.dispose();
      fresh.dispose();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`resume (${where}): 10 epochs straight == 5, save, loadLayersModel, 5 more — bit-identical`, async () => {
    const dir = where === 'files' ? mkdtempSync(join(tmpdir(), 'dd-resume-')) : null;
    const target = where === 'files' ? join(dir, 'my_model') : 'indexeddb://resume/my_model';
    try {
      const straight = createModel(5);
      await straight.fit(train.x, train.y, { epochs: 10, verbose: 0 });

      const first = createModel(5);
      await first.fit(train.x, train.y, { epochs: 5, verbose: 0 });
      await first.save(target);
      first.dispose();

      const resumed = await loadLayersModel(target);
      assert.equal(resumed.epoch, 5);
      assert.equal(resumed.iterations, 5 * 32);
      assert.deepEqual(resumed.layers.map((l) => l.getClassName()), ['Dense', 'Dropout', 'Dense']);
      await resumed.fit(train.x, train.y, { epochs: 10, initialEpoch: 5, verbose: 0 });
      assert.equal(resumed.iterations, straight.iterations);
      const a = await straight.getWeights(), b = await resumed.getWeights();
      assert.equal(a.length, 4);
      for (let i = 0; i < a.length; i++) assert.ok(sameBytes(a[i].data, b[i].data), `${a[i].name} differs after resume`);
      assert.equal(resumed.epoch, 10);

      // the control: weights alone (no optimizer state, no RNG state) do not resume bit-identically
      const weightsOnly = createModel(6);
      const mid = createModel(5);
      await mid.fit(train.x, train.y, { epochs: 5, verbose: 0 });
      await weightsOnly.setWeights(await mid.getWeights());
      await weightsOnly.fit(train.x, train.y, { epochs: 10, initialEpoch: 5, verbose: 0 });
      const c = await weightsOnly.getWeights();
      assert.ok(!sameBytes(a[0].data, c[0].data), 'a resume without optimizer/RNG state should differ');
      for (const m of [straight, resumed, weightsOnly, mid]) m.dispose();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`retention (${where}): period 5 for 50 epochs, maxToKeep 5 keeps exactly the newest 5`, async () => {
    const dir = where === 'files' ? mkdtempSync(join(tmpdir(), 'dd-keep-')) : null;
    const base = where === 'files' ? join(dir, 'training_2') : 'indexeddb://training_2';
    const template = `${base}/cp-{epoch:04d}.ckpt`;
    const warnings = [];
    const warn = console.warn;
    console.warn = (...a) => warnings.push(a.join(' '));
    resetPeriodWarning();
    try {
      const small = clusters(200, 3);
      const model = sequential([dense(32, { activation: 'relu', inputShape: [784] }), dropout(0.2), dense(10, { activation: 'softmax' })], { seed: 3 });
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const lines = [];
      const cb = modelCheckpoint(template, { verbose: 1, saveWeightsOnly: true, period: 5, maxToKeep: 5 });
      modelCheckpoint(template, { period: 5 }); // the deprecation warning is printed once
      await model.saveWeights(formatFilepath(template, { epoch: 0 }));
      await model.fit(small.x, small.y, { epochs: 50, callbacks: [cb], validationData: [small.x, small.y], verbose: 0, print: (l) => lines.push(l) });
      assert.deepEqual(warnings, ['`period` argument is deprecated. Please use `saveFreq` to specify the frequency in number of batches seen.']);
      assert.deepEqual(lines, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50].map((e) =>
        `\nEpoch ${String(e).padStart(5, '0')}: saving model to ${base}/cp-${String(e).padStart(4, '0')}.ckpt`));
      const kept = ['cp-0030.ckpt', 'cp-0035.ckpt', 'cp-0040.ckpt', 'cp-0045.ckpt', 'cp-0050.ckpt'];
      if (where === 'files') {
        assert.deepEqual(readdirSync(base).sort(), ['checkpoint', ...kept]);
        assert.equal(readFileSync(join(base, 'checkpoint'), 'utf8'),
          `model_checkpoint_path: "cp-0050.ckpt"\n${kept.map((k) => `all_model_checkpoint_paths: "${k}"\n`).join('')}`);
        assert.equal(await latestCheckpoint(base), join(base, 'cp-0050.ckpt'));
        assert.ok(!existsSync(join(base, 'cp-0000.ckpt')));
      } else {
        assert.deepEqual(await idbKeys('model_info_store', 'training_2/'), kept.map((k) => `training_2/${k}`));
        assert.deepEqual(await idbKeys('models_store', 'training_2/'), ['training_2/checkpoint', ...kept.map((k) => `training_2/${k}`)]);
        assert.equal(await latestCheckpoint(base), `${base}/cp-0050.ckpt`);
      }
      const latest = await latestCheckpoint(base);
      const restored = sequential([dense(32, { activation: 'relu', inputShape: [784] }), dropout(0.2), dense(10, { activation: 'softmax' })], { seed: 4 });
      restored.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      await restored.loadWeights(latest);
      assert.deepEqual(await restored.evaluate(small.x, small.y, { verbose: 0 }), await model.evaluate(small.x, small.y, { verbose: 0 }));
      model.dispose();
      restored.dispose();
    } finally {
      console.warn = warn;
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
}
