// threads_child.mjs — the child processes of threads.test.js and
// node_embedding.test.js (a hang or a hijacked process must be seen from
// outside). Usage: node threads_child.mjs <mode> [threads] [build]
//   shared N st|mt  two models + a trainer, interleaved; prints result hashes
//   free st|mt      model.free() while one of its dreams runs; prints hashes
//   throw           loads a model (mt, 8 threads), then throws an unrelated Error
//   handler         the same with the user's own uncaughtException handler
//   worker          loadModel(src, {worker: true}) without free(); must exit
import { createHash } from 'node:crypto';
import { loadModel, dream, sequential, dense, conv2d, flatten } from '../../../wasm/js/index.js';
import { miniInception } from './mini_inception.js';

const [mode, a1, a2] = process.argv.slice(2);
const hash = (v) => createHash('sha256').update(Buffer.from(v.buffer, v.byteOffset, v.byteLength)).digest('hex').slice(0, 16);

function image(w, h, seed) {
  let s = seed >>> 0;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  return { data, width: w, height: h, channels: 3 };
}
function floats(n, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 255);
}
const DREAM = { layer: 'mixed4a', iterations: 2, repeats: 1, tileSize: 32, stepSize: 3, seed: 7, tilesPerStep: 1 };

async function loadPair(threads, build) {
  const opts = { threads, useThreadedBuild: build === 'mt' };
  const a = await loadModel(miniInception({ scale: 16, seed: 3 }), opts);
  const b = await loadModel(miniInception({ scale: 16, seed: 4 }), opts);
  return [a, b];
}

if (mode === 'shared') {
  const threads = Number(a1), build = a2;
  const out = {};
  const [a, b] = await loadPair(threads, build);
  out.threads = [a.threads, b.threads];
  const net = sequential([conv2d(4, 3, { inputShape: [12, 12, 1], activation: 'relu' }), flatten(),
    dense(16, { activation: 'relu' }), dense(4, { activation: 'softmax' })], { seed: 1, threads, useThreadedBuild: build === 'mt' });
  net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const x = floats(32 * 144, 5).map((v) => v / 255), y = Int32Array.from({ length: 32 }, (_, i) => i % 4);
  const inp = floats(48 * 48 * 3, 9);
  out.gradA1 = hash(a.gradient(inp, 48, 48, { layer: 'mixed4a' }).grad);
  out.gradB1 = hash(b.gradient(inp, 48, 48, { layer: 'mixed4b' }).grad);
  // small pictures (an atlas tile's): jobs of a few microseconds, most of them done by the caller alone
  out.gradSmall = hash(a.gradient(floats(16 * 16 * 3, 11), 16, 16, { objective: 'channel(mixed4a,3)' }).grad);
  out.dreamSmall = hash((await dream(a, image(24, 24, 3), { ...DREAM, objective: 'channel(mixed4b,1)', octaves: 1 }).result).data);
  await net.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  out.gradB2 = hash(b.gradient(inp, 48, 48, { layer: 'mixed3b' }).grad);
  // two dreams interleaved tile by tile, with a training epoch alongside
  const [ia, ib] = await Promise.all([dream(a, image(64, 64, 1), DREAM).result, dream(b, image(64, 64, 2), DREAM).result,
    net.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 })]);
  out.dreamA = hash(ia.data);
  out.dreamB = hash(ib.data);
  out.weights = (await net.getWeights()).map((w) => hash(w.data)).join(',');
  out.gradA2 = hash(a.gradient(inp, 48, 48, { layer: 'mixed4a' }).grad);
  a.free(); b.free(); net.dispose();
  console.log(JSON.stringify(out));
} else if (mode === 'free') {
  const build = a1;
  const out = {};
  const [a, b] = await loadPair(build === 'mt' ? 8 : 1, build);
  const inp = floats(48 * 48 * 3, 9);
  out.gradB = hash(b.gradient(inp, 48, 48, { layer: 'mixed4a' }).grad);
  const d = dream(a, image(64, 64, 1), DREAM);
  let freedAt = null;
  d.addEventListener('progress', () => { if (freedAt === null) { freedAt = d.progress.tiles_done ?? 1; a.free(); } });
  try {
    out.dream = hash((await d.result).data);
  } catch (e) {
    out.dream = `rejected ${e.code}: ${e.message}`;
  }
  out.freedDuring = freedAt !== null;
  out.released = a._ptr === 0;
  try { a.gradient(inp, 48, 48, {}); out.after = 'no error'; } catch (e) { out.after = e.code; }
  try { dream(a, image(64, 64, 1), DREAM); out.newDream = 'no error'; } catch (e) { out.newDream = e.code; }
  out.gradB2 = hash(b.gradient(inp, 48, 48, { layer: 'mixed4a' }).grad);
  // the same dream uninterrupted, on a fresh model with the same bytes
  const [c] = await loadPair(build === 'mt' ? 8 : 1, build);
  out.reference = hash((await dream(c, image(64, 64, 1), DREAM).result).data);
  c.free(); b.free();
  console.log(JSON.stringify(out));
} else if (mode === 'throw' || mode === 'handler') {
  if (mode === 'handler') process.on('uncaughtException', (e) => console.log(`handled: ${e.message}`));
  const m = await loadModel(miniInception({ scale: 16, seed: 3 }), { threads: 8, useThreadedBuild: true });
  m.gradient(floats(32 * 32 * 3, 1), 32, 32, {});
  setTimeout(function userCode() { throw new Error('user boom'); }, 10);
  setTimeout(() => { console.log(`alive, model threads ${m.threads}`); m.free(); }, 200);
} else if (mode === 'worker') {
  const m = await loadModel(miniInception({ scale: 16, seed: 3 }), { worker: true, threads: 2 });
  const g = await m.gradient(floats(32 * 32 * 3, 1), 32, 32, {});
  console.log(`loaded, gradient of ${g.grad.length}`);
  // no m.free(): the process must still exit
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
