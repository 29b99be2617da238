// step_browser.mjs — the headless-Chromium twin of step_bench.mjs: one 400x400 DeepDream gradient step
// (d mean(square(layer)) / d input) and forward pass, per layer, in a real page of Debian's Chromium
// (playwright-core, tests/browser/lib.mjs) served by web/server.js with COOP/COEP, so the page is
// cross-origin isolated and the threaded build can run: the single-threaded build (st) on 1 thread, the
// threaded build (mt) on 2 threads; TF.js's wasm backend (tf.grad of mean(square(layer)) through
// tests/js/lib/tfgraph.js, imported by the page as is) beside it for mixed4c.
// A benchmark: it prints, asserts nothing. Times are the best of --reps N (default 5) after a warm-up call.
//
//   node tests/bench/step_browser.mjs [--reps N] [--layers a,b,c] [--threads N] [--no-tfjs] [--mt1]
//                                     [--raw] [--tfjs-threads N] [--timeout S]
//
// In a page, loadModel() hosts the model in the package's module Worker (a RemoteModel): by default the
// times are those of the awaited page-API calls (model.gradient/forward), i.e. compute plus posting the
// 400x400x3 input to the worker and the result back. --raw instead runs the same code inside a module
// Worker of its own that loads the models in-process and times the synchronous calls (raw compute).
// --mt1 adds the threaded build on 1 thread. TF.js runs on the page's main thread; --tfjs-threads 1 (the
// default) keeps it on its SIMD binary with 1 thread, as in Node; N > 1 lets it use its threaded-SIMD
// binary with N threads. tf.min.js, tf-backend-wasm and its .wasm files and tfgraph.js are served from
// node_modules/ and tests/js/lib/ by a page route of this script (web/server.js serves neither).
// Needs /usr/bin/chromium (or CHROMIUM_PATH) and ../shared/models/inception5h-standin.pb (or DD_SHARED_DIR).
import './lib/help.mjs'; // --help: the usage above, and exit
import { existsSync, readFileSync } from 'node:fs';
import { join, extname, sep } from 'node:path';
import os from 'node:os';
import { stepOptions, printStepTable } from './lib/step_common.mjs';

const { arg, has, reps, threads, layers: LAYERS, withTf, mt1 } = stepOptions();
const raw = has('--raw');
const tfThreads = Math.max(1, Number(arg('--tfjs-threads', '1')));
const timeoutS = Number(arg('--timeout', '900'));

const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(CHROMIUM_PATH)) { console.log(`step_browser: ${CHROMIUM_PATH} is missing (apt-get install -y chromium), skipped`); process.exit(0); }
const { REPO, haveStandin } = await import('../browser/lib.mjs');
const { runBrowserBench } = await import('./lib/browser_bench.mjs');
if (!haveStandin) { console.log('step_browser: ../shared absent, skipped'); process.exit(0); }



const MIME = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-cache' };
// URL path -> file, for what web/server.js does not serve
const EXTRA = [
  ['/node_modules/@tensorflow/tfjs/dist/', join(REPO, 'node_modules/@tensorflow/tfjs/dist')],
  ['/node_modules/@tensorflow/tfjs-backend-wasm/dist/', join(REPO, 'node_modules/@tensorflow/tfjs-backend-wasm/dist')],
  ['/tests/js/lib/', join(REPO, 'tests/js/lib')],
];
const PAGE = '<!doctype html><meta charset="utf-8"><title>step_browser</title><body>step_browser</body>';

// ------------------------------------------------------------------ ours ----
// Runs in the page (awaited RemoteModel calls) or, with --raw, in a module Worker of our own (synchronous
// in-process Model calls; `await` of a plain value costs a microtask). Serialized with toString().
async function oursBench(p) {
  const log = globalThis.__log || ((s) => console.log(s));
  const { loadModel, terminateWorker } = await import(p.base + '/wasm/js/index.js');
  const S = 400;
  // deterministic noise in 0..255 (the tutorial feeds raw pixel values), as step_bench.mjs
  const x = new Float32Array(S * S * 3);
  let seed = 12345;
  for (let i = 0; i < x.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; x[i] = (seed >>> 8) / (1 << 24) * 255; }
  const best = async (fn) => {
    await fn();
    let b = Infinity;
    for (let i = 0; i < p.reps; i++) { const t0 = performance.now(); await fn(); b = Math.min(b, performance.now() - t0); }
    return b;
  };
  const url = p.base + '/shared/models/inception5h-standin.pb';
  const t0 = performance.now();
  const st = await loadModel(url, { threads: 1, useThreadedBuild: false });
  const mt = await loadModel(url, { threads: p.threads, useThreadedBuild: true });
  const m1 = p.mt1 ? await loadModel(url, { threads: 1, useThreadedBuild: true }) : null;
  log(`step_browser: models loaded in ${(performance.now() - t0).toFixed(0)} ms`);
  const info = { stVariant: st.variant, mtVariant: mt.variant, mtThreads: mt.threads, remote: !!st.remote,
    coi: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency };
  const rows = [];
  for (const layer of p.layers) {
    const g1 = await best(() => st.gradient(x, S, S, { layer }));
    const g2 = await best(() => mt.gradient(x, S, S, { layer }));
    const f1 = await best(() => st.forward(x, S, S, layer));
    const gm1 = m1 ? await best(() => m1.gradient(x, S, S, { layer })) : NaN;
    rows.push({ layer, g1, g2, f1, gm1 });
    log(`step_browser: ${layer}: gradient ${g1.toFixed(0)} / ${g2.toFixed(0)} ms, forward ${f1.toFixed(0)} ms`);
  }
  st.free(); mt.free(); m1?.free();
  if (info.remote) terminateWorker();
  return { info, rows };
}

// In --raw mode: a module Worker (from a Blob, so it needs no route) that runs oursBench in-process.
async function oursInWorker(p, src) {
  const code = `const oursBench = ${src};\n` +
    'globalThis.__log = (s) => postMessage({ log: s });\n' +
    'onmessage = async (e) => { try { postMessage({ ok: await oursBench(e.data) }); } catch (err) { postMessage({ error: String(err && err.stack || err) }); } };\n';
  const w = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })), { type: 'module', name: 'step_browser' });
  try {
    return await new Promise((resolve, reject) => {
      w.onmessage = (e) => { if (e.data.log) console.log(e.data.log); else if (e.data.error) reject(new Error(e.data.error)); else resolve(e.data.ok); };
      w.onerror = (e) => reject(new Error(e.message || 'the bench worker failed'));
      w.postMessage(p);
    });
  } finally {
    w.terminate();
  }
}

// ------------------------------------------------------------------ TF.js ----
// Runs in the page after tf.min.js and tf-backend-wasm.min.js have been loaded as scripts.
async function tfBench(p) {
  const tf = globalThis.tf;
  tf.wasm.setWasmPaths(p.base + '/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  if (p.tfThreads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // the SIMD binary, 1 thread (as in Node)
  else tf.wasm.setThreadsCount(p.tfThreads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const { readGraphDef } = await import(p.base + '/models/lib/graphdef.js');
  const { graphRunner } = await import(p.base + '/tests/js/lib/tfgraph.js');
  const bytes = new Uint8Array(await (await fetch(p.base + '/shared/models/inception5h-standin.pb')).arrayBuffer());
  const run = graphRunner(tf, readGraphDef(bytes));
  const S = 400;
  const x = new Float32Array(S * S * 3);
  let seed = 12345;
  for (let i = 0; i < x.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; x[i] = (seed >>> 8) / (1 << 24) * 255; }
  const t = tf.tensor4d(x, [1, S, S, 3]);
  const layer = p.layer;
  const g = tf.grad((v) => tf.mean(tf.square(run(v, layer))));
  const tfReps = Math.min(p.reps, 2);
  const bestTf = (fn) => { fn(); let b = Infinity; for (let i = 0; i < tfReps; i++) { const t0 = performance.now(); fn(); b = Math.min(b, performance.now() - t0); } return b; };
  const tg = bestTf(() => tf.tidy(() => g(t).dataSync()));
  const tfw = bestTf(() => tf.tidy(() => run(t, layer).dataSync()));
  t.dispose();
  run.dispose();
  return { tg, tfw, version: tf.version.tfjs, threads: tf.wasm.getThreadsCount(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
}

// ------------------------------------------------------------------ main ----
// Whatever happens in the page, the runner ends on its own (watchdog) and samples the load (the machine may be shared).
await runBrowserBench('step_browser', timeoutS, async ({ srv, b }) => {
  const { page, context } = b;
  const wasmFiles = [];
  await context.route((u) => u.pathname === '/bench/step.html' || EXTRA.some(([pre]) => u.pathname.startsWith(pre)), async (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === '/bench/step.html') return route.fulfill({ status: 200, headers: { ...ISOLATION, 'Content-Type': MIME['.html'] }, body: PAGE });
    const [pre, dir] = EXTRA.find(([p]) => pathname.startsWith(p));
    const file = join(dir, ...decodeURIComponent(pathname.slice(pre.length)).split('/').filter((s) => s && s !== '.' && s !== '..'));
    if (!file.startsWith(dir + sep) || !existsSync(file)) return route.fulfill({ status: 404, headers: ISOLATION, body: 'not found' });
    if (file.endsWith('.wasm')) wasmFiles.push(pathname.split('/').pop());
    return route.fulfill({ status: 200, headers: { ...ISOLATION, 'Content-Type': MIME[extname(file)] || 'application/octet-stream' }, body: readFileSync(file) });
  });
  page.on('console', (m) => { if (m.text().startsWith('step_browser:')) console.error(m.text()); });
  await page.goto(`${srv.base}/bench/step.html`);
  const env = await page.evaluate(() => ({ coi: crossOriginIsolated, cores: navigator.hardwareConcurrency, ua: navigator.userAgent }));
  const version = context.browser()?.version() || (env.ua.match(/Chrom(?:e|ium)\/([\d.]+)/) || [])[1] || env.ua;
  const load0 = os.loadavg()[0];

  const p = { base: srv.base, reps, threads, layers: LAYERS, mt1 };
  const src = oursBench.toString();
  const { info, rows } = raw
    ? await page.evaluate(({ p, src, w }) => (0, eval)(`(${w})`)(p, src), { p, src, w: oursInWorker.toString() })
    : await page.evaluate(({ p, src }) => (0, eval)(`(${src})`)(p), { p, src });

  const how = info.remote
    ? 'times are awaited page-API calls: the model lives in the package\'s module Worker (RemoteModel), so they include posting the input and the result'
    : 'times are synchronous in-process calls inside a module Worker of this script (--raw: compute only)';
  console.log(`step_browser: Chromium ${version}; ${env.cores} cores (navigator.hardwareConcurrency); crossOriginIsolated ${env.coi}; ` +
    `${os.cpus()[0].model}; load ${load0.toFixed(2)} at start; best of ${reps}; 1 thread = ${info.stVariant} build, ` +
    `${info.mtThreads} threads = ${info.mtVariant} build; ${how}`);
  printStepTable(rows, threads, mt1);

  if (withTf) {
    const layer = 'mixed4c';
    await page.addScriptTag({ url: '/node_modules/@tensorflow/tfjs/dist/tf.min.js' });
    await page.addScriptTag({ url: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js' });
    const r = await page.evaluate(({ p, src }) => (0, eval)(`(${src})`)(p), { p: { base: srv.base, reps, layer, tfThreads }, src: tfBench.toString() });
    const ours = rows.find((x) => x.layer === layer);
    const kind = `${r.simd ? 'SIMD' : 'no SIMD'}, ${r.threads} thread${r.threads > 1 ? 's' : ''}, ${wasmFiles.join('+') || '?'}`;
    console.log(`\nTF.js ${r.version} wasm backend (${kind}, page main thread), ${layer}: gradient ${r.tg.toFixed(0)} ms, forward ${r.tfw.toFixed(0)} ms` +
      (ours ? `  (ours: x${(r.tg / ours.g1).toFixed(1)} faster on 1 thread, x${(r.tg / ours.g2).toFixed(1)} on ${threads}; forward x${(r.tfw / ours.f1).toFixed(2)})` : ''));
  }
});
