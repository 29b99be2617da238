// train_bench.mjs — prints (does not assert) the epoch time of the tutorial's
// model (Dense 512 relu, Dropout 0.2, Dense 10 softmax; Adam; sparse
// categorical cross-entropy) on 1000 samples of 784 floats, batch 32:
// deepdream-wasm's training core (single-threaded build, and the threaded one)
// against TF.js' wasm backend fit() in the same process.
//
//   node tests/bench/train_bench.mjs [epochs=5]
import './lib/help.mjs'; // --help: the usage above, and exit
import os from 'node:os';
import { sequential, dense, dropout, conv2d, maxPooling2d, flatten } from '../../wasm/js/index.js';

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

async function ours(x, y, threads, conv = false) {
  const layers = conv
    ? [conv2d(16, 3, { activation: 'relu', inputShape: [28, 28, 1] }), maxPooling2d({ poolSize: 2 }), flatten(), dropout(0.2), dense(10, { activation: 'softmax' })]
    : [dense(512, { activation: 'relu', inputShape: [784] }), dropout(0.2), dense(10, { activation: 'softmax' })];
  const model = sequential(layers, { seed: 1, threads });
  if (conv) x = { data: x, shape: [N, 28, 28, 1] };
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const times = [];
  let t = 0;
  await model.fit(x, y, { epochs: EPOCHS + 1, batchSize: BATCH, verbose: 0, yieldEvery: 'never',
    callbacks: { onEpochBegin: async () => { t = performance.now(); }, onEpochEnd: async () => { times.push(performance.now() - t); } } });
  const [loss, acc] = await model.evaluate(x, y, { verbose: 0 });
  model.dispose();
  return { times: times.slice(1), loss, acc };
}

async function tfjs(x, y, conv = false) {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const m = tf.sequential();
  if (conv) {
    m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], kernelInitializer: 'glorotUniform' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dropout({ rate: 0.2 }));
  } else {
    m.add(tf.layers.dense({ units: 512, activation: 'relu', inputShape: [784], kernelInitializer: 'glorotUniform' }));
    m.add(tf.layers.dropout({ rate: 0.2 }));
  }
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: 'glorotUniform' }));
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = conv ? tf.tensor4d(x, [N, 28, 28, 1]) : tf.tensor2d(x, [N, 784]), ys = tf.tensor1d(Float32Array.from(y));
  const times = [];
  let t = 0;
  await m.fit(xs, ys, { epochs: EPOCHS + 1, batchSize: BATCH, verbose: 0, yieldEvery: 'never',
    callbacks: { onEpochBegin: async () => { t = performance.now(); }, onEpochEnd: async () => { times.push(performance.now() - t); } } });
  const [l, a] = m.evaluate(xs, ys).map((v) => v.dataSync()[0]);
  return { times: times.slice(1), loss: l, acc: a, backend: `${ok ? tf.getBackend() : 'failed'}${simd ? '+simd' : ''}, threads ${tf.wasm?.getThreadsCount?.() ?? 1}` };
}

const { x, y } = dataset();
const pad = (s, n) => String(s).padEnd(n);
function table(title, rows, tfRow, st) {
  console.log(title);
  console.log(`${pad('implementation', 36)}${pad('epoch ms (median)', 19)}${pad('min', 9)}${pad('samples/s', 11)}final train loss / acc`);
  for (const [name, r] of rows) {
    if (r.error) { console.log(`${pad(name, 36)}fails: ${r.error}`); continue; }
    const med = median(r.times);
    console.log(`${pad(name, 36)}${pad(med.toFixed(1), 19)}${pad(Math.min(...r.times).toFixed(1), 9)}${pad(Math.round((N / med) * 1000), 11)}${r.loss.toFixed(4)} / ${r.acc.toFixed(4)}`);
  }
  if (tfRow && !tfRow.error) console.log(`speed-up vs TF.js wasm: ${(median(tfRow.times) / median(st.times)).toFixed(2)}x (single-threaded build)`);
  console.log('');
}
console.log(`Training benchmark: ${N} samples x 784, batch ${BATCH}, Adam, sparse categorical cross-entropy`);
console.log(`Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x ${os.availableParallelism?.() ?? os.cpus().length}; ${EPOCHS} timed epochs after 1 warm-up\n`);
const threads = Math.min(4, os.availableParallelism?.() ?? os.cpus().length);
for (const conv of [false, true]) {
  const rows = [];
  const st = await ours(x, y, 1, conv);
  rows.push(['deepdream-wasm (st, simd128)', st]);
  if (threads > 1) rows.push([`deepdream-wasm (mt, ${threads} threads)`, await ours(x, y, threads, conv)]);
  let tfRow;
  try {
    tfRow = await tfjs(x, y, conv);
    rows.push([`TF.js ${tfRow.backend}`, tfRow]);
  } catch (e) {
    tfRow = { error: e.message.split('\n')[0] };
    rows.push(['TF.js wasm', tfRow]);
  }
  table(conv ? 'Conv2D(16, 3x3, relu) -> MaxPooling2D(2) -> Flatten -> Dropout(0.2) -> Dense(10, softmax), 28x28x1 inputs'
    : "The tutorial's model: Dense(512, relu) -> Dropout(0.2) -> Dense(10, softmax)", rows, tfRow, st);
}
process.exit(0);
