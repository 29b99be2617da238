// step_bench.mjs — one 400x400 DeepDream gradient step (d mean(square(layer)) / d input) and forward pass, per layer,
// in Node wasm: the single-threaded build (st) on 1 thread, the threaded build (mt) on 2 threads; TF.js's wasm backend
// (tf.grad of mean(square(layer)) through tests/js/lib/tfgraph.js, SIMD, 1 thread in Node) beside it for mixed4c.
// A benchmark: it prints, asserts nothing. Times are the best of --reps N (default 5) after a warm-up call.
//
//   node tests/bench/step_bench.mjs [--reps N] [--layers a,b,c] [--threads N] [--no-tfjs] [--mt1]
//
// --mt1 adds the threaded build on 1 thread (separates the pool's cost from the st/mt build difference).
// Needs ../shared/models/inception5h-standin.pb (or DD_SHARED_DIR).
import './lib/help.mjs'; // --help: the usage above, and exit
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadModel } from '../../wasm/js/index.js';
import { stepOptions, printStepTable } from './lib/step_common.mjs';

const { reps, threads, layers: LAYERS, withTf, mt1 } = stepOptions();
const shared = process.env.DD_SHARED_DIR || fileURLToPath(new URL('../../../shared', import.meta.url));
const modelPath = `${shared}/models/inception5h-standin.pb`;
if (!existsSync(modelPath)) { console.log('step_bench: ../shared absent, skipped'); process.exit(0); }

const S = 400;
// deterministic noise in 0..255 (the tutorial feeds raw pixel values)
const x = new Float32Array(S * S * 3);
let seed = 12345;
for (let i = 0; i < x.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; x[i] = (seed >>> 8) / (1 << 24) * 255; }

const best = (fn) => { fn(); let b = Infinity; for (let i = 0; i < reps; i++) { const t0 = performance.now(); fn(); b = Math.min(b, performance.now() - t0); } return b; };
const load0 = os.loadavg()[0];

const st = await loadModel(modelPath, { threads: 1, useThreadedBuild: false });
const mt = await loadModel(modelPath, { threads, useThreadedBuild: true });
const m1 = mt1 ? await loadModel(modelPath, { threads: 1, useThreadedBuild: true }) : null;
console.log(`step_bench: ${os.cpus().length} cores, ${os.cpus()[0].model}; Node ${process.versions.node}; load ${load0.toFixed(2)} at start; ` +
  `best of ${reps}; 1 thread = ${st.variant} build, ${mt.threads} threads = ${mt.variant} build`);

const rows = [];
for (const layer of LAYERS) {
  const g1 = best(() => st.gradient(x, S, S, { layer }));
  const g2 = best(() => mt.gradient(x, S, S, { layer }));
  const f1 = best(() => st.forward(x, S, S, layer));
  const gm1 = m1 ? best(() => m1.gradient(x, S, S, { layer })) : NaN;
  rows.push({ layer, g1, g2, f1, gm1 });
}
printStepTable(rows, threads, mt1);

if (withTf) {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  const { readGraphDef } = await import('../../models/lib/graphdef.js');
  const { graphRunner } = await import('../js/lib/tfgraph.js');
  await tf.setBackend('wasm');
  const run = graphRunner(tf, readGraphDef(readFileSync(modelPath)));
  const t = tf.tensor4d(x, [1, S, S, 3]);
  const layer = 'mixed4c';
  const g = tf.grad((v) => tf.mean(tf.square(run(v, layer))));
  const tfReps = Math.min(reps, 2);
  const bestTf = (fn) => { fn(); let b = Infinity; for (let i = 0; i < tfReps; i++) { const t0 = performance.now(); fn(); b = Math.min(b, performance.now() - t0); } return b; };
  const tg = bestTf(() => tf.tidy(() => g(t).dataSync()));
  const tfw = bestTf(() => tf.tidy(() => run(t, layer).dataSync()));
  t.dispose();
  const ours = rows.find((r) => r.layer === layer);
  console.log(`\nTF.js ${tf.version.tfjs} wasm backend (SIMD, 1 thread), ${layer}: gradient ${tg.toFixed(0)} ms, forward ${tfw.toFixed(0)} ms` +
    (ours ? `  (ours: x${(tg / ours.g1).toFixed(1)} faster on 1 thread, x${(tg / ours.g2).toFixed(1)} on ${threads}; forward x${(tfw / ours.f1).toFixed(2)})` : ''));
}
console.log(`load ${os.loadavg()[0].toFixed(2)} at end`);
st.free(); mt.free(); m1?.free();
process.exit(0);
