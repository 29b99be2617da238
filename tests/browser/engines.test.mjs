// The key browser tests in every engine that is installed — Chromium, Firefox
// (firefox-esr, WebDriver BiDi) and WebKit (WebKitGTK, classic WebDriver) —
// through the one driver of drivers/index.mjs: the demo page dreams to the
// end and downloads, a reload mid-dream resumes to the same bytes (the same
// SHA-256 in every engine, and Node's), the Train tab trains and restores, the API in a
// page gives the bytes Node gives (Worker and in-process, threaded and not),
// the page says in one line what it falls back to, and no console errors.
// Screenshots at 1280x800 and 390x844 go to tests/artifacts/<engine>-<what>-<width>x<height>.png
// (WebKit's MiniBrowser window cannot be narrower than 447 px: its phone shots are 447 px wide).
// (The full demo suite runs in Chromium: demo.test.mjs and its siblings.)
//   DD_ENGINES=firefox,webkit node --test tests/browser/engines.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { engineNames, skipReason, openEngine } from './drivers/index.mjs';
import { startServer, testPng, nodeLandscapeHash } from './lib.mjs';
import { loadModel, dream } from '../../wasm/js/index.js';

const MODEL = fileURLToPath(new URL('../../models/default-model.pb', import.meta.url));

let srv, plain;
before(async () => { srv = await startServer({ errorHook: true }); plain = await startServer({ errorHook: true, isolation: false }); });
after(async () => { await srv?.close(); await plain?.close(); });

const hashes = {}; // engine -> SHA-256 of the uninterrupted 640x400 dream
const features = {}; // engine -> what the tests found (printed as FEATURES lines for README's table)

async function openDemo(s, base = srv.base) {
  await s.goto(`${base}/web/`);
  try {
    await s.waitFor(() => window.deepdreamDemo && window.deepdreamDemo.model && document.body.dataset.state !== 'loading', null, { timeout: 240_000 });
  } catch (e) {
    const where = await s.evaluate(() => window.deepdreamDemo && window.deepdreamDemo.initStage).catch(() => 'unknown');
    throw new Error(`${e.message} (the page's init() was at '${where}')`);
  }
  await s.evaluate(() => window.deepdreamDemo.ready.then(() => null));
}
async function dreamToEnd(s, timeout = 300_000) {
  const n = await s.evaluate(() => window.deepdreamDemo.stats.doneCount);
  await s.click('#start');
  await s.waitFor((k) => window.deepdreamDemo.stats.doneCount > k || window.deepdreamDemo.stats.lastError, n, { timeout });
  const stats = await s.evaluate(() => JSON.parse(JSON.stringify(window.deepdreamDemo.stats)));
  if (stats.lastError) throw new Error(`the page reported: ${stats.lastError.message}`);
  return stats;
}
async function settings(s, o) {
  const ids = { iterations: '#iterations', octaves: '#octaves', tileSize: '#tile', seed: '#seed', layer: '#layer' };
  for (const [k, v] of Object.entries(o)) await s.fill(ids[k], v);
}
/** Clicks a download button; the file the browser saved. */
async function download(s, button, name) {
  await s.click(button);
  return s.waitForDownload(name);
}
/** Controls that overlap one another or stick out of the viewport sideways (clipped), as sentences. */
async function layoutProblems(s, groups) {
  return s.evaluate((gs) => {
    const out = [];
    for (const g of gs) {
      const els = [...document.querySelectorAll(g)].filter((e) => e.getClientRects().length);
      const rs = els.map((e) => [e, e.getBoundingClientRect()]);
      for (const [e, r] of rs) if (r.left < 0 || r.right > document.documentElement.clientWidth + 0.5) out.push(`${g}: ${e.outerHTML.slice(0, 60)} is clipped (${r.left}..${r.right})`);
      for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) {
        const [a, ra] = rs[i], [b, rb] = rs[j];
        const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left), h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (w > 0.5 && h > 0.5) out.push(`${g}: ${a.outerHTML.slice(0, 50)} overlaps ${b.outerHTML.slice(0, 50)} by ${w.toFixed(1)} px`);
      }
    }
    return out;
  }, groups);
}
const DREAM_CONTROLS = ['.view-row .compare > *, .view-row .check', '.actions button', '.downloads button', '.tabs button'];

async function noHorizontalScroll(s) {
  return s.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

for (const engine of engineNames()) {
  const skip = skipReason(engine);
  const T = 600_000;

  test(`${engine}: the demo dreams to the end, says what it runs on, downloads; screenshots; no console errors`, { skip, timeout: T }, async (t) => {
    const s = await openEngine(engine);
    try {
      t.diagnostic(s.version);
      await openDemo(s);
      const info = await s.evaluate(() => ({ model: window.deepdreamDemo.model, features: window.deepdreamDemo.features,
        coi: globalThis.crossOriginIsolated, engineInfo: document.getElementById('engine-info').textContent,
        notices: [...document.querySelectorAll('#notices > .notice')].filter((n) => !n.hidden).map((n) => `${n.id}: ${n.textContent.trim().replace(/\s+/g, ' ')}`) }));
      t.diagnostic(JSON.stringify(info));
      assert.equal(info.coi, true, 'the test server isolates the page');
      assert.equal(info.model.layers, 3);
      if (info.model.variant === 'st') {
        // isolated, yet single-threaded: the engine lacks threads; the page says so in one line
        const line = info.notices.find((n) => n.startsWith('compat-notice: '));
        assert.ok(line, `single-threaded while isolated, and no notice says why: ${info.notices.join(' | ')}`);
        assert.match(line, /single-threaded/i);
      } else {
        assert.deepEqual(info.notices, [], 'the threaded build runs: no notice');
      }
      await s.shot('demo');
      await s.setFiles('#image-file', s.tempFile('small.png', await testPng(200, 150)));
      await s.waitFor(() => window.deepdreamDemo.source && window.deepdreamDemo.source.width === 200);
      await settings(s, { iterations: 3, octaves: 2, tileSize: 400, seed: 7, layer: 2 });
      const stats = await dreamToEnd(s);
      t.diagnostic(`200x150 dream: ${stats.dreamMs.toFixed(0)} ms, ${stats.progressEvents} progress events`);
      assert.ok(stats.progressEvents >= 6);
      assert.ok(await s.evaluate(() => window.deepdreamDemo.changedFraction()) > 0.3, 'the dream changed the picture');
      assert.ok(await s.evaluate(() => window.deepdreamDemo.screenDiff()) > 0.3, 'the on-screen canvas shows the dream');
      assert.match(await s.text('#status'), /^Done in/);
      const png = await download(s, '#download-png', 'deepdream-textures-seed7.png');
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
      assert.equal(png.readUInt32BE(16), 200, 'full-size width');
      const jpeg = await download(s, '#download-jpeg', 'deepdream-textures-seed7.jpg');
      assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
      assert.equal(jpeg.at(-2) * 256 + jpeg.at(-1), 0xffd9, 'a whole JPEG');
      await s.setViewport(1280, 800); // WebKit's MiniBrowser opened its downloads bar
      await s.shot('done');
      assert.deepEqual(await layoutProblems(s, DREAM_CONTROLS), [], 'no clipped or overlapping controls at 1280x800');
      await s.setViewport(390, 844);
      await s.evaluate(() => window.scrollTo(0, 0));
      await s.shot('done');
      assert.ok(await noHorizontalScroll(s) <= 0, 'no sideways scrolling at phone width');
      assert.deepEqual(await layoutProblems(s, DREAM_CONTROLS), [], 'no clipped or overlapping controls at phone width');
      features[engine] = { ...features[engine], simd: info.features?.simd, threads: info.model.variant === 'mt' ? info.model.threads : 1, download: true };
      assert.deepEqual(await s.errors(), []);
    } finally {
      await s.close();
    }
  });

  test(`${engine}: reload mid-dream, resume: the same bytes as uninterrupted, in every engine`, { skip, timeout: T }, async (t) => {
    const s = await openEngine(engine);
    try {
      await openDemo(s);
      await settings(s, { iterations: 4, octaves: 2, tileSize: 200, seed: 42, layer: 1 });
      const full = await dreamToEnd(s);
      const want = await s.evaluate(() => window.deepdreamDemo.resultHash());
      hashes[engine] = want;
      assert.equal(want, await nodeLandscapeHash(await s.evaluate(() => window.deepdreamDemo.resultOptions)), 'the bytes Node dreams with the same options');
      t.diagnostic(`uninterrupted 640x400: ${full.dreamMs.toFixed(0)} ms, ${full.checkpoints.length} checkpoints, sha256 ${want}`);
      await s.click('#start');
      await s.waitFor(() => window.deepdreamDemo.stats.checkpoints.length >= 2, null, { timeout: 120_000, polling: 20 });
      await s.reload();
      await s.waitFor(() => window.deepdreamDemo && window.deepdreamDemo.model && !document.getElementById('resume-offer').hidden, null, { timeout: 120_000 });
      const offer = await s.text('#resume-text');
      const pct = Number(offer.match(/(\d+)% done/)[1]);
      assert.ok(pct > 0 && pct < 100, offer);
      await s.shot('resume-offer');
      await s.click('#resume-btn');
      await s.waitFor(() => window.deepdreamDemo.stats.doneCount > 0 || window.deepdreamDemo.stats.lastError, null, { timeout: 300_000 });
      assert.equal(await s.evaluate(() => window.deepdreamDemo.stats.lastError), null);
      assert.equal(await s.evaluate(() => window.deepdreamDemo.resultHash()), want, 'the resumed dream gives the same bytes');
      for (const [other, h] of Object.entries(hashes)) assert.equal(want, h, `the same bytes as ${other}`);
      assert.equal(await s.evaluate(async () => (await (await import('/wasm/js/index.js')).listDreams()).length), 0, 'the checkpoint is removed');
      features[engine] = { ...features[engine], checkpoints: true };
      assert.deepEqual(await s.errors(), []);
    } finally {
      await s.close();
    }
  });

  test(`${engine}: Train tab: an epoch, a checkpoint, restore latest; phone-width screenshot`, { skip, timeout: T }, async (t) => {
    const s = await openEngine(engine);
    try {
      await openDemo(s);
      await s.click('#tab-train');
      assert.equal(await s.evaluate(() => window.deepdreamDemo.trainReady()), true, 'the training API is wired');
      await s.fill('#train-epochs', 1);
      await s.click('#train-start');
      await s.waitFor(() => /^Done after 1 epoch/.test(document.getElementById('train-status').textContent) || window.deepdreamDemo.train.lastError,
        null, { timeout: 300_000 });
      assert.equal(await s.evaluate(() => window.deepdreamDemo.train.lastError), null);
      const row = await s.evaluate(() => [...document.querySelector('#train-log tbody tr').cells].map((c) => c.textContent));
      t.diagnostic(`epoch 1: ${row.join(' ')}`);
      await s.waitFor(() => document.querySelectorAll('#ckpt-list li[data-epoch]').length === 1);
      await s.click('#restore-latest');
      await s.waitFor(() => window.deepdreamDemo.train.lastEval);
      const ev = await s.evaluate(() => window.deepdreamDemo.train.lastEval);
      assert.equal((ev.restored.accuracy * 100).toFixed(1), Number(row[4].replace('%', '')).toFixed(1), 'the restored model scores what epoch 1 scored');
      await s.shot('train');
      await s.setViewport(390, 844);
      await s.evaluate(() => window.dispatchEvent(new Event('resize')));
      await s.shot('train');
      assert.ok(await noHorizontalScroll(s) <= 0, 'no sideways scrolling at phone width');
      features[engine] = { ...features[engine], train: true };
      assert.deepEqual(await s.errors(), []);
    } finally {
      await s.close();
    }
  });

  test(`${engine}: the API in a page (Worker and in-process, threaded and not) gives Node's bytes; codes cross the Worker`, { skip, timeout: T }, async (t) => {
    const W = 96, H = 72, opts = { layer: 2, iterations: 2, repeats: 1, tileSize: 48, seed: 21 };
    const img = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
    for (let i = 0; i < W * H; i++) img.data.set([(i * 7) % 256, (i / W) * 3 % 256, (i % W) * 2 % 256], i * 3);
    const m = await loadModel(MODEL, { threads: 1 });
    const node = await dream(m, img, opts).result;
    m.free();
    const hex = (b) => Buffer.from(b).toString('hex');
    const s = await openEngine(engine);
    try {
      await s.goto(`${srv.base}/web/`);
      const r = await s.evaluate(async ({ data, W: w, H: h, opts: o }) => {
        const api = await import('/wasm/js/index.js');
        const image = { width: w, height: h, channels: 3, data: Uint8Array.from(data) };
        const run = async (mopts) => {
          const model = await api.loadModel('/models/default-model.pb', mopts);
          const out = await api.dream(model, image, o).result;
          const info = { variant: model.variant, threads: model.threads, remote: !!model.remote, data: Array.from(out.data) };
          let code;
          try { await model.findNode('no-such-node'); } catch (e) { code = e.code; }
          info.code = code;
          await model.free();
          return info;
        };
        const res = { worker: await run({}), st: await run({ worker: false, useThreadedBuild: false }) };
        if (api.threadsSupported()) res.mt = await run({ worker: false, useThreadedBuild: true, threads: 4 });
        return res;
      }, { data: Array.from(img.data), W, H, opts });
      t.diagnostic(`worker: ${r.worker.variant} x${r.worker.threads}; in-process threaded: ${r.mt ? `x${r.mt.threads}` : 'not available'}`);
      assert.equal(r.worker.remote, true, 'a page loads the model into a Worker');
      assert.equal(r.worker.code, 'DD_ERR_NOT_FOUND');
      assert.equal(r.st.code, 'DD_ERR_NOT_FOUND');
      for (const k of ['worker', 'st', 'mt']) if (r[k]) assert.equal(hex(r[k].data), hex(node.data), `${k}: the bytes Node dreams`);
      assert.deepEqual(await s.errors(), []);
    } finally {
      await s.close();
    }
  });

  test(`${engine}: without cross-origin isolation: single-threaded, one line says so, still dreams`, { skip, timeout: T }, async () => {
    const s = await openEngine(engine, { width: 390, height: 844 });
    try {
      await openDemo(s, plain.base);
      const info = await s.evaluate(() => ({ coi: globalThis.crossOriginIsolated, variant: window.deepdreamDemo.model.variant,
        notices: [...document.querySelectorAll('#notices > .notice')].filter((n) => !n.hidden).map((n) => n.id) }));
      assert.equal(info.coi, false);
      assert.equal(info.variant, 'st');
      assert.deepEqual(info.notices, ['isolation-notice']);
      await s.shot('not-isolated');
      await settings(s, { iterations: 2, octaves: 1, seed: 9 });
      const stats = await dreamToEnd(s);
      assert.ok(stats.progressEvents >= 2);
      assert.deepEqual(await s.errors(), []);
    } finally {
      await s.close();
    }
  });
}

after(() => { for (const [e, f] of Object.entries(features)) console.log(`FEATURES ${e} ${JSON.stringify(f)}`); });
