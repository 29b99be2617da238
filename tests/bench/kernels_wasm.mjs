// kernels_wasm.mjs — conv kernel GFLOP/s of the simd128 backend compiled to
// WebAssembly (wasm/dist/deepdream-core-st), beside TensorFlow.js's wasm
// backend, measured in the same Node process on the Inception 5h shapes at the
// tutorial's 400x400 tile. A benchmark: it prints, asserts nothing.
//
//   node tests/bench/kernels_wasm.mjs [--seconds S] [--only ours|tfjs] [--threads N] [--module glue.mjs]
//
// --threads N > 1 runs ours on the threaded build (deepdream-core-mt) with an
// N-thread pool; TF.js stays single-threaded in Node (see toolchain.md §7).
//
// Ours: one kernel call per invocation from JS (wasm/bench.c), so V8 tiers the
// code up; best of the timed calls after a warm-up. GFLOP/s = 2*MACs / time.
// TF.js: forward = tf.fused.conv2d (FusedConv2D, bias + relu like ours), data
// gradient = tf.conv2dTranspose (the Conv2DBackpropInput kernel that tf.grad
// of conv2d w.r.t. its input dispatches). TF.js's wasm backend has no
// Conv2DBackpropFilter kernel, so its filter gradient is n/a.
import './lib/help.mjs'; // --help: the usage above, and exit
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadCore } from '../../wasm/js/core.js';

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const budgetMs = 1000 * Number(arg('--seconds', '0.6'));
const only = arg('--only', '');
const threads = Math.max(1, Number(arg('--threads', '1')));

const SHAPES = [
  { name: 'conv2d0 7x7/2 3->64 @400', hw: 400, k: 7, s: 2, ci: 3, co: 64 },
  { name: 'conv2d2 3x3 64->192 @100', hw: 100, k: 3, s: 1, ci: 64, co: 192 },
  { name: 'mixed3b 1x1 256->128 @50', hw: 50, k: 1, s: 1, ci: 256, co: 128 },
  { name: 'mixed3b 5x5 32->96 @50', hw: 50, k: 5, s: 1, ci: 32, co: 96 },
  { name: 'mixed4c 3x3 128->256 @25', hw: 25, k: 3, s: 1, ci: 128, co: 256 },
  { name: 'mixed5b 1x1 832->384 @13', hw: 13, k: 1, s: 1, ci: 832, co: 384 },
];
const BACKEND_SIMD128 = 2;

/** Best time (ms) of fn() after a warm-up of at least 3 calls / budget/3 ms. */
function bestMs(fn) {
  let spent = 0;
  for (let i = 0; i < 3 || spent < budgetMs / 3; i++) {
    const t0 = performance.now();
    fn();
    spent += performance.now() - t0;
    if (i > 200) break;
  }
  let best = Infinity;
  spent = 0;
  for (let i = 0; i < 5 || spent < budgetMs; i++) {
    const t0 = performance.now();
    fn();
    const t = performance.now() - t0;
    spent += t;
    best = Math.min(best, t);
    if (i > 500) break;
  }
  return best;
}

const gflops = (flop, ms) => (ms > 0 && Number.isFinite(ms) ? (flop / ms) * 1e-6 : NaN);
const fmt = (v, w = 7) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a').padStart(w);
const load = () => os.loadavg().map((v) => v.toFixed(2)).join(' ');

async function measureOurs(M, sh) {
  const h = M._dd_bench_conv_create(BACKEND_SIMD128, sh.hw, sh.k, sh.s, sh.ci, sh.co, threads);
  if (!h) throw new Error(`dd_bench_conv_create failed for ${sh.name}`);
  const flop = M._dd_bench_conv_flops(h);
  const ms = [0, 1, 2].map((op) => bestMs(() => M._dd_bench_conv_run(h, op)));
  M._dd_bench_conv_destroy(h);
  return { flop, fwd: ms[0], dgrad: ms[1], wgrad: ms[2] };
}

function measureTfjs(tf, sh) {
  const outHw = Math.ceil(sh.hw / sh.s);
  const x = tf.randomUniform([1, sh.hw, sh.hw, sh.ci], -1, 1);
  const f = tf.randomUniform([sh.k, sh.k, sh.ci, sh.co], -1, 1);
  const b = tf.randomUniform([sh.co], -1, 1);
  const dy = tf.randomUniform([1, outHw, outHw, sh.co], -1, 1);
  const fwd = bestMs(() => {
    const y = tf.fused.conv2d({ x, filter: f, strides: sh.s, pad: 'same', bias: b, activation: 'relu' });
    y.dispose();
  });
  const dgrad = bestMs(() => {
    const dx = tf.conv2dTranspose(dy, f, [1, sh.hw, sh.hw, sh.ci], sh.s, 'same');
    dx.dispose();
  });
  tf.dispose([x, f, b, dy]);
  return { fwd, dgrad, wgrad: NaN };
}

async function loadTfjs() {
  try {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('setBackend("wasm") returned false');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { tf, note: `TF.js ${tf.version.tfjs} wasm backend, SIMD ${simd}, threads 1` };
  } catch (e) {
    return { tf: null, note: `TF.js unavailable (${e.message}); run "npm ci" at the repository root` };
  }
}

// --module <glue.mjs>: an alternative build of the same exports (experiments)
async function loadModule(path) {
  const { readFile } = await import('node:fs/promises');
  const { pathToFileURL } = await import('node:url');
  const factory = (await import(pathToFileURL(path).href)).default;
  return factory({ wasmBinary: await readFile(path.replace(/\.mjs$/, '.wasm')) });
}
const modulePath = arg('--module', '');
const M = only === 'tfjs' ? null : modulePath ? await loadModule(modulePath) : await loadCore({ threads: threads > 1 });
const { tf, note } = only === 'ours' ? { tf: null, note: 'TF.js skipped' } : await loadTfjs();

console.log(`# node ${process.version}, ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}`);
console.log(`# load average before: ${load()}`);
console.log(`# ours: simd128 in wasm (deepdream-core-${threads > 1 ? 'mt' : 'st'}, ${threads} thread(s)); ${note}`);
console.log(`# GFLOP/s = 2*MACs / best time of one call after warm-up (budget ${budgetMs} ms per measurement)`);
console.log(
  '| shape                      | fwd ours | fwd tfjs | dgrad ours | dgrad tfjs | wgrad ours | wgrad tfjs | ours dgrad/fwd |',
);
console.log(
  '|----------------------------|----------|----------|------------|------------|------------|------------|----------------|',
);
for (const sh of SHAPES) {
  const o = M ? await measureOurs(M, sh) : { fwd: NaN, dgrad: NaN, wgrad: NaN };
  const flop = 2 * Math.ceil(sh.hw / sh.s) ** 2 * sh.k * sh.k * sh.ci * sh.co;
  const t = tf ? measureTfjs(tf, sh) : { fwd: NaN, dgrad: NaN, wgrad: NaN };
  console.log(
    `| ${sh.name.padEnd(26)} | ${fmt(gflops(flop, o.fwd), 8)} | ${fmt(gflops(flop, t.fwd), 8)} | ` +
      `${fmt(gflops(flop, o.dgrad), 10)} | ${fmt(gflops(flop, t.dgrad), 10)} | ${fmt(gflops(flop, o.wgrad), 10)} | ` +
      `${fmt(gflops(flop, t.wgrad), 10)} | ${(Number.isFinite(o.dgrad / o.fwd) ? (o.dgrad / o.fwd).toFixed(2) : 'n/a').padStart(14)} |`,
  );
}

// raw GEMM: the micro-kernel's peak
const N = 512;
let gOurs = NaN;
let gTf = NaN;
if (M) {
  const g = M._dd_bench_gemm_create(BACKEND_SIMD128, N);
  gOurs = gflops(2 * N ** 3, bestMs(() => M._dd_bench_gemm_run(g)));
  M._dd_bench_gemm_destroy(g);
}
if (tf) {
  const a = tf.randomUniform([N, N]);
  const b = tf.randomUniform([N, N]);
  gTf = gflops(2 * N ** 3, bestMs(() => tf.matMul(a, b).dispose()));
  tf.dispose([a, b]);
}
console.log(`| ${`gemm ${N}x${N}x${N}`.padEnd(26)} | ${fmt(gOurs, 8)} | ${fmt(gTf, 8)} | (1 thread; ours includes packing B)`);

// Inception 5h's per-pixel layers: ms per call (forward; backward = the input gradient). TF.js: forward only
// (tf.localResponseNormalization, tf.maxPool; its wasm backend registers no LRN gradient kernel).
const LAYERS = [
  { name: 'localresponsenorm0 100x100x64', kind: 0, hw: 100, c: 64 },
  { name: 'localresponsenorm1 100x100x192', kind: 0, hw: 100, c: 192 },
  { name: 'maxpool0 3x3/2 200x200x64', kind: 1, hw: 200, c: 64 },
  { name: 'maxpool1 3x3/2 100x100x192', kind: 1, hw: 100, c: 192 },
];
// Max pool also as the engine runs it in a gradient step: the forward saving each output's argmax, the backward
// routing by it (no rescan of the windows), the input as the relu mask.
console.log('\n| layer (ms per call)            | fwd ours | fwd tfjs | bwd ours | fwd, argmax | bwd by argmax |');
console.log('|--------------------------------|----------|----------|----------|-------------|---------------|');
for (const L of LAYERS) {
  let f = NaN, b = NaN, t = NaN, fa = NaN, ba = NaN;
  if (M) {
    const h = M._dd_bench_layer_create(BACKEND_SIMD128, L.kind, L.hw, L.c, threads);
    if (!h) throw new Error(`dd_bench_layer_create failed for ${L.name}`);
    f = bestMs(() => M._dd_bench_layer_run(h, 0));
    b = bestMs(() => M._dd_bench_layer_run(h, 2));
    if (L.kind === 1) {
      fa = bestMs(() => M._dd_bench_layer_run(h, 3));
      ba = bestMs(() => M._dd_bench_layer_run(h, 4));
    }
    M._dd_bench_layer_destroy(h);
  }
  if (tf) {
    const x = tf.randomUniform([1, L.hw, L.hw, L.c], -1, 1);
    t = bestMs(() => (L.kind === 0 ? tf.localResponseNormalization(x, 5, 2, 1e-4, 0.5) : tf.maxPool(x, 3, 2, 'same')).dispose());
    x.dispose();
  }
  const ms = (v) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a').padStart(8);
  console.log(`| ${L.name.padEnd(30)} | ${ms(f)} | ${ms(t)} | ${ms(b)} | ${ms(fa).padStart(11)} | ${ms(ba).padStart(13)} |`);
}
console.log(`# load average after: ${load()}`);
if (M && M.PThread) M.PThread.terminateAllThreads();
