// train_bench.mjs — prints (does not assert) the epoch time of the tutorial's
// model (Dense 512 relu, Dropout 0.2, Dense 10 softmax; Adam; sparse
// categorical cross-entropy) on 1000 samples of 784 floats, batch 32:
// deepdream-wasm's training core (single-threaded build, and the threaded one)
// against TF.js' wasm backend fit() in the same process.
//
//   node tests/bench/train_bench.mjs [epochs=5]
import os from 'node:os';
import { sequential, dense, dropout } from '../../wasm/js/index.js';

const EPOCHS = Number(process.argv[2] ?? 5);
const N = 1000, BATCH = 32;

function dataset() {
  let s = 1;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(N * 784), y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    y[i] = Math.floor(rnd() * 10);
    for (let j = 0; j < 784; j++) x[i * 784 + j] = rnd() + (j % 10 === y[i] ? 0.5 : 0);
  }
  return { x, y };
}

const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

async function ours(x, y, threads) {
  const model = sequential([dense(512, { activation: 'relu', inputShape: [784] }), dropout(0.2), dense(10, { activation: 'softmax' })],
    { seed: 1, threads });
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const times = [];
  let t = 0;
  await model.fit(x, y, { epochs: EPOCHS + 1, batchSize: BATCH, verbose: 0, yieldEvery: 'never',
    callbacks: { onEpochBegin: async () => { t = performance.now(); }, onEpochEnd: async () => { times.push(performance.now() - t); } } });
  const [loss, acc] = await model.evaluate(x, y, { verbose: 0 });
  model.dispose();
  return { times: times.slice(1), loss, acc };
}

async function tfjs(x, y) {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 512, activation: 'relu', inputShape: [784], kernelInitializer: 'glorotUniform' }));
  m.add(tf.layers.dropout({ rate: 0.2 }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: 'glorotUniform' }));
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.tensor2d(x, [N, 784]), ys = tf.tensor1d(Float32Array.from(y));
  const times = [];
  let t = 0;
  await m.fit(xs, ys, { epochs: EPOCHS + 1, batchSize: BATCH, verbose: 0, yieldEvery: 'never',
    callbacks: { onEpochBegin: async () => { t = performance.now(); }, onEpochEnd: async () => { times.push(performance.now() - t); } } });
  const [l, a] = m.evaluate(xs, ys).map((v) => v.dataSync()[0]);
  return { times: times.slice(1), loss: l, acc: a, backend: `${ok ? tf.getBackend() : 'failed'}${simd ? '+simd' : ''}, threads ${tf.wasm?.getThreadsCount?.() ?? 1}` };
}

const { x, y } = dataset();
console.log(`Training benchmark: Dense(512, relu) -> Dropout(0.2) -> Dense(10, softmax), Adam, ${N} samples x 784, batch ${BATCH}`);
console.log(`Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism?.() ?? os.cpus().length}; ${EPOCHS} timed epochs after 1 warm-up\n`);
const rows = [];
const st = await ours(x, y, 1);
rows.push(['deepdream-wasm (st, simd128)', st]);
const threads = Math.min(4, os.availableParallelism?.() ?? os.cpus().length);
if (threads > 1) rows.push([`deepdream-wasm (mt, ${threads} threads)`, await ours(x, y, threads)]);
let tfRow;
try {
  tfRow = await tfjs(x, y);
  rows.push([`TF.js ${tfRow.backend}`, tfRow]);
} catch (e) {
  console.log(`TF.js wasm backend unavailable: ${e.message}`);
}
const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('implementation', 36)}${pad('epoch ms (median)', 19)}${pad('min', 9)}${pad('samples/s', 11)}final train loss / acc`);
for (const [name, r] of rows) {
  const med = median(r.times);
  console.log(`${pad(name, 36)}${pad(med.toFixed(1), 19)}${pad(Math.min(...r.times).toFixed(1), 9)}${pad(Math.round((N / med) * 1000), 11)}${r.loss.toFixed(4)} / ${r.acc.toFixed(4)}`);
}
if (tfRow) console.log(`\nspeed-up vs TF.js wasm: ${(median(tfRow.times) / median(st.times)).toFixed(2)}x (single-threaded build)`);
process.exit(0);
