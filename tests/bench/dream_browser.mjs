// dream_browser.mjs — a whole dream in a real page of Debian's Chromium (playwright-core, tests/browser/lib.mjs,
// web/server.js with COOP/COEP, so the page is cross-origin isolated): the tutorial's defaults at mixed3b on a photo
// (default ../shared/images/escher_planefilling2.jpg, 1181x1019 = 1.2 MP), through the page API as an app uses it:
// loadModel() in the package's module Worker with --threads N (default 2, the threaded build), the photo passed as a
// Blob (decoded in the worker), a canvas redrawn from the worker's frames. Prints the time from dream() to the result
// and the page's main-thread long tasks (PerformanceObserver 'longtask', > 50 ms) and event-loop lag while it ran.
// A benchmark: it prints, asserts nothing.
//
//   node tests/bench/dream_browser.mjs [--threads N] [--image FILE] [--layer L] [--reps N] [--timeout S]
import './lib/help.mjs'; // --help: the usage above, and exit
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import os from 'node:os';

const args = process.argv.slice(2);
const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const threads = Math.max(1, Number(arg('--threads', '2')));
const reps = Math.max(1, Number(arg('--reps', '1')));
const layer = arg('--layer', 'mixed3b');
const timeoutS = Number(arg('--timeout', '1200'));
const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(CHROMIUM_PATH)) { console.log(`dream_browser: ${CHROMIUM_PATH} is missing, skipped`); process.exit(0); }
const { SHARED, haveStandin } = await import('../browser/lib.mjs');
const { runBrowserBench } = await import('./lib/browser_bench.mjs');
const image = arg('--image', `${SHARED}/images/escher_planefilling2.jpg`);
if (!haveStandin || !existsSync(image)) { console.log('dream_browser: ../shared absent, skipped'); process.exit(0); }
if (!image.startsWith(SHARED + '/')) { console.log(`dream_browser: --image must be under ${SHARED} (served as /shared/)`); process.exit(1); }

// Runs in the page.
async function pageDream(p) {
  const { loadModel, dream } = await import(p.base + '/wasm/js/index.js');
  const model = await loadModel(p.base + '/shared/models/inception5h-standin.pb', { threads: p.threads });
  const blob = await (await fetch(p.base + p.image)).blob();
  const canvas = document.createElement('canvas');
  document.body.appendChild(canvas);
  const runs = [];
  for (let r = 0; r < p.reps; r++) {
    window.__perf.longTasks = [];
    window.__perf.lagMax = 0;
    window.__perf.measuring = true;
    const t0 = performance.now();
    let frames = 0;
    const run = dream(model, blob, { layer: p.layer, seed: 1, canvas, onProgress: () => { frames++; } });
    const out = await run.result;
    const s = (performance.now() - t0) / 1000;
    window.__perf.measuring = false;
    runs.push({ s, width: out.width, height: out.height, frames, longTasks: window.__perf.longTasks.slice(), lagMax: window.__perf.lagMax });
  }
  const info = { variant: model.variant, threads: model.threads, remote: !!model.remote, coi: crossOriginIsolated };
  model.free();
  return { info, runs };
}

await runBrowserBench('dream_browser', timeoutS, async ({ srv, b }) => {
  const { page, context } = b;
  // a blank page of the server's origin with COOP/COEP, so it is cross-origin isolated
  const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-cache' };
  await context.route((u) => u.pathname === '/bench/dream.html', (route) => route.fulfill({ status: 200,
    headers: { ...ISOLATION, 'Content-Type': 'text/html; charset=utf-8' }, body: '<!doctype html><meta charset="utf-8"><title>dream_browser</title><body></body>' }));
  await page.goto(`${srv.base}/bench/dream.html`);
  const version = context.browser()?.version() || '?';
  const load0 = os.loadavg()[0];
  const p = { base: srv.base, threads, reps, layer, image: '/shared/' + image.slice(SHARED.length + 1) };
  const r = await page.evaluate(({ p, src }) => (0, eval)(`(${src})`)(p), { p, src: pageDream.toString() });
  console.log(`dream_browser: Chromium ${version}; ${os.cpus().length} cores, ${os.cpus()[0].model}; crossOriginIsolated ${r.info.coi}; ` +
    `${r.info.remote ? 'model in the package Worker' : 'in-process'}, ${r.info.variant} build x${r.info.threads}; load ${load0.toFixed(2)} at start`);
  for (const x of r.runs) {
    const lt = x.longTasks;
    console.log(`  ${basename(image)} ${x.width}x${x.height}, tutorial defaults, ${layer}: ${x.s.toFixed(1)} s; ${x.frames} progress events; ` +
      `main-thread tasks > 50 ms: ${lt.length}${lt.length ? ` (longest ${Math.max(...lt).toFixed(0)} ms)` : ''}; event-loop lag max ${x.lagMax.toFixed(0)} ms`);
  }
});
