// onnx_bench.mjs — the BVLC GoogLeNet stand-in (models/onnx/make-standins.py)
// beside ONNX Runtime Web's wasm backend (npm onnxruntime-web, in Node, same
// machine, same run): forward to inception_5b/output (the deepest dream layer:
// the classifier's Reshape fixes the input at 224x224) at 224² and 400² on 1
// and 2 threads, and our DeepDream gradient step of inception_4c/output.
// Ours: the single-threaded build on 1 thread, the threaded build on 2.
// ORT-web: ort.env.wasm.numThreads = 1 or 2 (a child process per setting: the
// setting is fixed at its first session). Prints a table, asserts nothing.
// Times are the best of --reps N (default 5) after a warm-up call.
//
//   node tests/bench/onnx_bench.mjs [--reps N] [--sizes 224,400]
import './lib/help.mjs'; // --help: the usage above, and exit
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const reps = Number(opt('--reps', 5));
const x = (n, seed) => { // seeded noise in the network's range (BGR, mean-subtracted)
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = (s >>> 8) / (1 << 24) * 255 - 128; }
  return a;
};

if (args[0] === '--ort-child') { // node onnx_bench.mjs --ort-child THREADS SIZE MODEL REPS
  const [threads, S, path, n] = [Number(args[1]), Number(args[2]), args[3], Number(args[4])];
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(path, { executionProviders: ['wasm'], logSeverityLevel: 3 });
  const feed = { [session.inputNames[0]]: new ort.Tensor('float32', x(3 * S * S, 7), [1, 3, S, S]) };
  await session.run(feed);
  let best = Infinity;
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await session.run(feed); best = Math.min(best, performance.now() - t0); }
  console.log(JSON.stringify({ best }));
  process.exit(0);
}

const { standin, withOutputs, onnxPython } = await import('../js/lib/onnx_standins.js');
const { loadModel } = await import('../../wasm/js/index.js');
if (!onnxPython()) { console.log('onnx_bench: no python3 with onnx (Debian python3-onnx) to build the stand-in, skipped'); process.exit(0); }
const sizes = opt('--sizes', '224,400').split(',').map(Number);
const path = standin('bvlc_googlenet');
const FWD = 'inception_5b/output_1', GRAD = 'inception_4c/output_1';
const oracle = withOutputs(path, [FWD], 'inception_5b');
const load0 = os.loadavg()[0];

const best = (fn) => { fn(); let b = Infinity; for (let i = 0; i < reps; i++) { const t0 = performance.now(); fn(); b = Math.min(b, performance.now() - t0); } return b; };
const ortTime = (threads, S) => JSON.parse(execFileSync(process.execPath,
  [fileURLToPath(import.meta.url), '--ort-child', String(threads), String(S), oracle, String(reps)], { encoding: 'utf8' }).trim().split('\n').pop()).best;

const st = await loadModel(path, { threads: 1, useThreadedBuild: false });
const mt = await loadModel(path, { threads: 2, useThreadedBuild: true });
console.log(`onnx_bench: ${os.cpus().length} cores, ${os.cpus()[0].model}; Node ${process.versions.node}; load ${load0.toFixed(2)} at start; ` +
  `best of ${reps}; ours: 1 thread = ${st.variant} build, ${mt.threads} threads = ${mt.variant} build`);
const rows = [];
for (const S of sizes) {
  const input = x(S * S * 3, S);
  const o1 = best(() => st.forward(input, S, S, FWD)), o2 = best(() => mt.forward(input, S, S, FWD));
  const r1 = ortTime(1, S), r2 = ortTime(2, S);
  const g1 = best(() => st.gradient(input, S, S, { layer: GRAD })), g2 = best(() => mt.gradient(input, S, S, { layer: GRAD }));
  rows.push([`${S}x${S}`, o1, r1, o2, r2, g1, g2]);
}
st.free();
mt.free();
const f = (v) => v.toFixed(0).padStart(9);
console.log('\nforward to inception_5b/output (ms), gradient step of inception_4c/output (ms)');
console.log('size       ours 1t  ORT-web 1t   ours 2t  ORT-web 2t | grad 1t   grad 2t');
for (const [s, o1, r1, o2, r2, g1, g2] of rows)
  console.log(`${s.padEnd(8)} ${f(o1)}   ${f(r1)} ${f(o2)}   ${f(r2)} | ${f(g1)} ${f(g2)}   (1t: ours/ORT ${(o1 / r1).toFixed(2)})`);
console.log(`load ${os.loadavg()[0].toFixed(2)} at the end (a shared, busy machine: compare within a row)`);
