// small_grad_bench.mjs — one small gradient (an atlas tile's: mixed4c, mean of squares) at 1 and N threads, many
// repetitions, interleaved: what the thread pool costs or gains on small pictures. Prints, asserts nothing.
//   node tests/bench/small_grad_bench.mjs [MODEL] [--sizes 40,80] [--threads 1,2] [--reps 60] [--rounds 3] [--layer mixed4c]
import './lib/help.mjs'; // --help: the usage above, and exit
import os from 'node:os';
import { loadModel } from '../../wasm/js/index.js';

const args = process.argv.slice(2);
const flag = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) || new URL('../../../shared/models/inception5h-standin.pb', import.meta.url).pathname;
const sizes = flag('--sizes', '40,80').split(',').map(Number), threads = flag('--threads', '1,2').split(',').map(Number);
const reps = Number(flag('--reps', 60)), rounds = Number(flag('--rounds', 3)), layer = flag('--layer', 'mixed4c');
const models = await Promise.all(threads.map((t) => loadModel(file, { threads: t })));
const input = (s) => { const x = new Float32Array(s * s * 3); let r = 1; for (let i = 0; i < x.length; i++) { r = (r * 1103515245 + 12345) >>> 0; x[i] = (r >>> 8) / (1 << 24) * 255; } return x; };
const best = {};
for (let round = 0; round < rounds; round++) {
  for (const s of sizes) {
    const x = input(s);
    for (const m of models) {
      m.gradient(x, s, s, { layer });
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) m.gradient(x, s, s, { layer });
      const ms = (performance.now() - t0) / reps, k = `${s}px threads ${m.threads}`;
      best[k] = Math.min(best[k] ?? Infinity, ms);
    }
  }
}
for (const [k, ms] of Object.entries(best)) console.log(`${layer} gradient ${k}: ${ms.toFixed(2)} ms (best of ${rounds} rounds of ${reps}) load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const m of models) m.free();
