// TF.js interop both ways, in IndexedDB (fake-indexeddb) and in files:
// models we save load with tf.loadLayersModel and predict the same (to float
// rounding; argmax identical), with the optimizer state TF.js restores; models
// TF.js saves (includeOptimizer) load into ours and keep training.
//
// What TF.js needs in Node: its IndexedDB router returns no handler unless
// env IS_BROWSER is true, and its IndexedDB factory reads `self.indexedDB`
// (`window` is undefined in Node). So: import 'fake-indexeddb/auto' first,
// then globalThis.self = globalThis and tf.env().set('IS_BROWSER', true).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'fake-indexeddb/auto';
import * as tf from '@tensorflow/tfjs';
import {
  sequential, dense, dropout, conv2d, maxPooling2d, flatten, loadLayersModel, sparseCategoricalCrossentropy, adam,
} from '../../wasm/js/index.js';
import { openTfjsDb } from '../../wasm/js/train/io.js';

globalThis.self ??= globalThis;
tf.env().set('IS_BROWSER', true);
await tf.setBackend('cpu');

function data(n, dims, classes, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const per = dims.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * per), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(rnd() * classes);
    for (let j = 0; j < per; j++) x[i * per + j] = rnd() - 0.5 + (j % classes === y[i] ? 0.8 : 0);
  }
  return { x, y, n, dims };
}

const dense784 = data(256, [784], 10, 1);
const images = data(96, [12, 12, 1], 4, 2);

function oursDense(seed, opts = {}) {
  const m = sequential([dense(64, { activation: 'relu', inputShape: [784] }), dropout(0.2), dense(10, { activation: opts.logits ? 'linear' : 'softmax' })], { seed });
  m.compile({ optimizer: adam({ learningRate: 0.002 }), loss: opts.logits ? sparseCategoricalCrossentropy({ fromLogits: true }) : 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function oursConv(seed) {
  const m = sequential([
    conv2d(6, 3, { activation: 'relu', inputShape: [12, 12, 1], padding: 'same' }),
    maxPooling2d({ poolSize: 2 }),
    conv2d(5, [3, 2], { strides: [2, 1], activation: 'relu' }),
    flatten(),
    dense(4, { activation: 'softmax' }),
  ], { seed });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function tfjsDense() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 64, activation: 'relu', inputShape: [784] }));
  m.add(tf.layers.dropout({ rate: 0.2 }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

function tfjsConv() {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1], padding: 'same' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: [2, 1], activation: 'relu' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

async function tfjsFit(m, d, epochs = 1) {
  const xs = tf.tensor(d.x, [d.n, ...d.dims]), ys = tf.tensor1d(Float32Array.from(d.y));
  await m.fit(xs, ys, { epochs, batchSize: 32, verbose: 0, shuffle: false });
  xs.dispose();
  ys.dispose();
}

function tfjsPredict(m, d) {
  return tf.tidy(() => m.predict(tf.tensor(d.x, [d.n, ...d.dims])).dataSync());
}

function assertSamePredictions(a, b, classes, what) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 2e-5, `${what}: max |difference| ${worst}`);
  for (let r = 0; r < a.length / classes; r++) {
    const row = (v) => Array.from(v.subarray(r * classes, (r + 1) * classes));
    const am = (v) => v.indexOf(Math.max(...v));
    assert.equal(am(row(a)), am(row(b)), `${what}: argmax of row ${r}`);
  }
}

async function writeTfjsFiles(m, dir, shards = 2) {
  // What a file handler writes: model.json (weightsManifest) + shards (here split in two).
  let saved;
  await m.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }),
    { includeOptimizer: true });
  mkdirSync(dir, { recursive: true });
  const bytes = new Uint8Array(saved.weightData);
  const cut = Math.floor(bytes.length / 2 / 4) * 4;
  const parts = shards === 2 ? [bytes.slice(0, cut), bytes.slice(cut)] : [bytes];
  const paths = parts.map((_, i) => `group1-shard${i + 1}of${parts.length}.bin`);
  parts.forEach((p, i) => writeFileSync(join(dir, paths[i]), p));
  const { weightData, weightSpecs, ...rest } = saved;
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...rest, weightsManifest: [{ paths, weights: weightSpecs }] }));
  return saved;
}

/** A TF.js IOHandler reading our model.json + weights.bin. */
function fileHandler(dir) {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
      const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
      return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData,
        trainingConfig: json.trainingConfig, format: json.format, generatedBy: json.generatedBy, userDefinedMetadata: json.userDefinedMetadata };
    },
  };
}

test('ours -> TF.js via indexeddb://: tf.loadLayersModel predicts the same and restores Adam', async () => {
  const m = oursDense(1);
  await m.fit(dense784.x, dense784.y, { epochs: 2, verbose: 0 });
  await m.save('indexeddb://interop/ours-dense');
  const t = await tf.loadLayersModel('indexeddb://interop/ours-dense');
  assert.deepEqual(t.layers.map((l) => l.name), m.layers.map((l) => l.name));
  assert.deepEqual(t.layers.map((l) => l.getClassName()), ['Dense', 'Dropout', 'Dense']);
  assertSamePredictions(tfjsPredict(t, dense784), (await m.predict(dense784.x)).data, 10, 'dense');
  assert.equal(t.optimizer.getClassName(), 'Adam');
  assert.equal(t.optimizer.iterations, m.iterations);
  assert.equal(t.optimizer.learningRate, 0.002);
  const tw = await t.optimizer.getWeights();
  assert.equal(tw.length, 1 + 2 * 4);
  const ourM = (await m.getWeights())[0];
  assert.equal(tw[1].name, 'dense/kernel/m');
  assert.ok(tw[1].tensor.dataSync().length === ourM.data.length);
  await tfjsFit(t, dense784); // TF.js can keep training it
  // the record is TF.js' own: both stores, keyPath modelPath
  const db = await openTfjsDb();
  const info = await new Promise((res) => { const r = db.transaction('model_info_store').objectStore('model_info_store').get('interop/ours-dense'); r.onsuccess = () => res(r.result); });
  db.close();
  assert.equal(info.modelArtifactsInfo.modelTopologyType, 'JSON');
  assert.ok(info.modelArtifactsInfo.weightDataBytes > 4 * (784 * 64));
  m.dispose();
});

test('TF.js -> ours via indexeddb://: loadLayersModel predicts the same, resumes Adam, keeps training', async () => {
  const t = tfjsDense();
  await tfjsFit(t, dense784, 2);
  await t.save('indexeddb://interop/tfjs-dense', { includeOptimizer: true });
  const m = await loadLayersModel('indexeddb://interop/tfjs-dense');
  assert.deepEqual(m.layers.map((l) => l.name), t.layers.map((l) => l.name));
  assertSamePredictions((await m.predict(dense784.x)).data, tfjsPredict(t, dense784), 10, 'dense');
  assert.equal(m.iterations, t.optimizer.iterations);
  assert.equal(m.iterations, 16);
  const ours = await m.getWeights();
  assert.equal(ours[0].name, `${t.layers[0].name}/kernel`);
  const before = (await m.evaluate(dense784.x, dense784.y, { verbose: 0 }))[0];
  await m.fit(dense784.x, dense784.y, { epochs: 3, verbose: 0 });
  const after = (await m.evaluate(dense784.x, dense784.y, { verbose: 0 }))[0];
  assert.ok(after < before, `loss ${before} -> ${after}`);
  m.dispose();
});

test('conv models both ways (HWIO kernels, NHWC flatten order) via indexeddb://', async () => {
  const m = oursConv(3);
  await m.fit(images.x, images.y, { epochs: 2, verbose: 0 });
  await m.save('indexeddb://interop/ours-conv');
  const t = await tf.loadLayersModel('indexeddb://interop/ours-conv');
  assertSamePredictions(tfjsPredict(t, images), (await m.predict(images.x)).data, 4, 'ours conv in TF.js');

  const t2 = tfjsConv();
  await tfjsFit(t2, images, 2);
  await t2.save('indexeddb://interop/tfjs-conv', { includeOptimizer: true });
  const m2 = await loadLayersModel('indexeddb://interop/tfjs-conv');
  assertSamePredictions((await m2.predict(images.x)).data, tfjsPredict(t2, images), 4, 'TF.js conv in ours');
  await m2.fit(images.x, images.y, { epochs: 1, verbose: 0 });
  m.dispose();
  m2.dispose();
});

test('files both ways: our model.json + weights.bin into TF.js; TF.js shards into ours', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-interop-'));
  try {
    const m = oursConv(4);
    await m.fit(images.x, images.y, { epochs: 1, verbose: 0 });
    await m.save(join(dir, 'ours'));
    const json = JSON.parse(readFileSync(join(dir, 'ours', 'model.json'), 'utf8'));
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    assert.equal(json.format, 'layers-model');
    assert.equal(json.convertedBy, null);
    assert.equal(json.modelTopology.class_name, 'Sequential');
    assert.deepEqual(json.modelTopology.config.layers.map((l) => l.class_name), ['Conv2D', 'MaxPooling2D', 'Conv2D', 'Flatten', 'Dense']);
    assert.deepEqual(json.modelTopology.config.layers[0].config.batch_input_shape, [null, 12, 12, 1]);
    const [c0, , c1, , d0] = m.layers.map((l) => l.name);
    assert.deepEqual(json.weightsManifest[0].weights.filter((w) => !w.group).map((w) => [w.name, w.shape, w.dtype]), [
      [`${c0}/kernel`, [3, 3, 1, 6]], [`${c0}/bias`, [6]], [`${c1}/kernel`, [3, 2, 6, 5]], [`${c1}/bias`, [5]],
      [`${d0}/kernel`, [50, 4]], [`${d0}/bias`, [4]]].map(([n, sh]) => [n, sh, 'float32']));
    const t = await tf.loadLayersModel(fileHandler(join(dir, 'ours')));
    assertSamePredictions(tfjsPredict(t, images), (await m.predict(images.x)).data, 4, 'ours files in TF.js');

    const t2 = tfjsDense();
    await tfjsFit(t2, dense784, 1);
    await writeTfjsFiles(t2, join(dir, 'tfjs'), 2);
    const m2 = await loadLayersModel(join(dir, 'tfjs'));
    assertSamePredictions((await m2.predict(dense784.x)).data, tfjsPredict(t2, dense784), 10, 'TF.js files in ours');
    assert.equal(m2.iterations, 8);
    const m3 = await loadLayersModel(join(dir, 'tfjs', 'model.json')); // the json path itself works too
    assertSamePredictions((await m3.predict(dense784.x)).data, tfjsPredict(t2, dense784), 10, 'via model.json path');
    for (const x of [m, m2, m3]) x.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('from_logits survives a round trip through our format; TF.js still loads the model', async () => {
  const m = oursDense(7, { logits: true });
  await m.fit(dense784.x, dense784.y, { epochs: 1, verbose: 0 });
  await m.save('indexeddb://interop/logits');
  const back = await loadLayersModel('indexeddb://interop/logits');
  assert.equal(back.loss.fromLogits, true);
  assert.deepEqual(await back.evaluate(dense784.x, dense784.y, { verbose: 0 }), await m.evaluate(dense784.x, dense784.y, { verbose: 0 }));
  const t = await tf.loadLayersModel('indexeddb://interop/logits');
  assertSamePredictions(tfjsPredict(t, dense784), (await m.predict(dense784.x)).data, 10, 'logits model');
  m.dispose();
  back.dispose();
});
