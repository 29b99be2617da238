// memory_bench.mjs — prints the wasm heap needed by a 4096x4096 dream (memory
// is bounded by the tile, not the image) and by one 400x400 gradient step per
// tutorial layer. wasm memory never shrinks, so the heap size after a run is
// its peak. Needs ../shared (the stand-in Inception 5h).
//   node tests/bench/memory_bench.mjs [all|layers|4k|8k [LAYER]]   (4k, 8k: conv2d2 unless LAYER)
// 8k: an 8192x8192 dream on the default (threaded) build, 2 threads: its heap grows up to 4 GiB.
import './lib/help.mjs'; // --help: the usage above, and exit
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, dream } from '../../wasm/js/index.js';

const shared = process.env.DD_SHARED_DIR || fileURLToPath(new URL('../../../shared', import.meta.url));
const modelPath = `${shared}/models/inception5h-standin.pb`;
if (!existsSync(modelPath)) { console.log('memory_bench: ../shared absent, skipped'); process.exit(0); }
const MiB = (b) => (b / 2 ** 20).toFixed(0);
// heap in use at its peak (the program break) and the wasm memory, which grows in steps of up to 20%
const heap = (m) => `${MiB(m._M._dd_bench_heap_top())} MiB used at peak (wasm memory ${MiB(m._M.HEAPU8.length)} MiB)`;
const what = process.argv[2] || 'all';

if (what === 'all' || what === 'layers') {
  console.log('wasm heap for one 400x400 gradient step (fresh module per layer):');
  for (const layer of ['conv2d2', 'mixed3b', 'mixed4c', 'mixed4e', 'mixed5b']) {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), `layer:${layer}`]).toString().trim();
    console.log(`  ${layer.padEnd(8)} ${out}`);
  }
}
if (what.startsWith('layer:')) {
  const layer = what.slice(6);
  const m = await loadModel(modelPath, { threads: 1 });
  const base = m._M._dd_bench_heap_top();
  const x = new Float32Array(400 * 400 * 3).fill(100);
  m.gradient(x, 400, 400, { layer });
  console.log(`${heap(m)}; model loaded: ${MiB(base)} MiB`);
  process.exit(0);
}
if (what === 'all' || what === '4k' || what === '8k') {
  const N = what === '8k' ? 8192 : 4096;
  const m = await loadModel(modelPath, { threads: N > 4096 ? 2 : 1 });
  const startHeap = m._M.HEAPU8.length;
  const img = { width: N, height: N, channels: 4, data: new Uint8Array(N * N * 4) };
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 2654435761) >>> 24;
  const t0 = performance.now();
  let last = 0;
  const layer = process.argv[3] || 'conv2d2';
  const c = dream(m, img, { layer, iterations: 1, seed: 3,
    onProgress: (p) => { if (p.fraction - last > 0.1) { last = p.fraction; process.stderr.write(`  ${(p.fraction * 100).toFixed(0)}% octave ${p.octave + 1}/${p.numOctaves}, heap ${heap(m)}\n`); } } });
  const out = await c.result;
  console.log(`${N}x${N} RGBA dream (${m.variant} build x${m.threads}, ${layer}, 1 iteration, 5 octaves, 400 px tiles): ${((performance.now() - t0) / 1000).toFixed(0)} s, heap ${heap(m)} (${(m._M._dd_bench_heap_top() / (N * N)).toFixed(1)} bytes/pixel; ${MiB(startHeap)} MiB at start), result ${out.width}x${out.height}`);
}
