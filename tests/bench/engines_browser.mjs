// engines_browser.mjs — the figures issue 17 asks for, per browser engine (Chromium, Firefox, WebKit through
// tests/browser/drivers): a 400x400 mixed4c gradient step (d mean(square(mixed4c)) / d input, best of --reps
// after a warm-up) and a 1 MP dream with the tutorial's settings (mixed4c, 10 iterations, step 3, 400 px
// tiles, 4 repeats, rescale 0.7, blend 0.2) on the stand-in Inception 5h, through the page API (the model in
// the package's module Worker), single-threaded (st) and multi-threaded (mt, --threads N, default 2) where the
// engine can (cross-origin isolated page with SharedArrayBuffer). A benchmark: it prints, asserts nothing.
//   node tests/bench/engines_browser.mjs [--engines chromium,firefox,webkit] [--reps N] [--threads N] [--no-dream]
import './lib/help.mjs'; // --help: the usage above, and exit
import os from 'node:os';
import { engineNames, skipReason, openEngine } from '../browser/drivers/index.mjs';
import { startServer, haveStandin } from '../browser/lib.mjs';

const args = process.argv.slice(2);
const arg = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const reps = Number(arg('--reps', '3'));
const threads = Number(arg('--threads', '2'));
const withDream = !args.includes('--no-dream');
if (arg('--engines')) process.env.DD_ENGINES = arg('--engines');
if (!haveStandin) { console.log('engines_browser: ../shared absent, skipped'); process.exit(0); }

// Runs in the page.
async function bench({ mt, threads: n, reps: r, withDream: d }) {
  const api = await import('/wasm/js/index.js');
  if (mt && !api.threadsSupported()) return { skipped: 'no threads in this page (no SharedArrayBuffer or not isolated)' };
  const m = await api.loadModel('/shared/models/inception5h-standin.pb', { threads: mt ? n : 1, useThreadedBuild: mt });
  const S = 400, x = new Float32Array(S * S * 3);
  let seed = 12345;
  for (let i = 0; i < x.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; x[i] = (seed >>> 8) / (1 << 24) * 255; }
  await m.gradient(x, S, S, { layer: 'mixed4c' });
  let g = Infinity;
  for (let i = 0; i < r; i++) { const t0 = performance.now(); await m.gradient(x, S, S, { layer: 'mixed4c' }); g = Math.min(g, performance.now() - t0); }
  const out = { variant: m.variant, threads: m.threads, gradientMs: g };
  if (d) {
    const W = 1000, H = 1000, px = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
      const i = (y * W + xx) * 3;
      px[i] = 128 + 100 * Math.sin(xx / 13 + y / 29); px[i + 1] = 128 + 100 * Math.cos(y / 11); px[i + 2] = (xx * 255) / W;
    }
    const t0 = performance.now();
    await api.dream(m, { data: px, width: W, height: H, channels: 3 },
      { layer: 'mixed4c', iterations: 10, stepSize: 3, tileSize: 400, repeats: 4, rescale: 0.7, blend: 0.2, seed: 1 }).result;
    out.dream1mpMs = performance.now() - t0;
  }
  await m.free();
  return out;
}

const srv = await startServer();
console.log(`engines_browser: ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; stand-in Inception 5h, reps ${reps}`);
try {
  for (const engine of engineNames()) {
    const why = skipReason(engine);
    if (why) { console.log(`${engine}: skipped: ${why}`); continue; }
    for (const mt of [false, true]) {
      const s = await openEngine(engine);
      try {
        await s.goto(`${srv.base}/models/registry.json`); // an isolated page that runs nothing itself
        const r = await s.evaluate(bench, { mt, threads, reps, withDream });
        const label = `${engine.padEnd(8)} ${s.version.padEnd(20)} ${mt ? 'mt' : 'st'}`;
        if (r.skipped) console.log(`${label}: ${r.skipped}`);
        else console.log(`${label} x${r.threads}: 400x400 mixed4c gradient ${r.gradientMs.toFixed(0)} ms${r.dream1mpMs ? `; 1 MP tutorial dream (mixed4c) ${(r.dream1mpMs / 1000).toFixed(1)} s` : ''}  (load ${os.loadavg()[0].toFixed(1)})`);
      } catch (e) {
        console.log(`${engine} ${mt ? 'mt' : 'st'}: failed: ${e.message}`);
      } finally {
        await s.close();
      }
    }
  }
} finally {
  await srv.close();
}
