// The page in a browser that lacks a feature (issue 17), simulated in Chromium
// by removing it before any page script runs: without OffscreenCanvas (Safari
// before 16.4) and without module Workers (Safari before 15, Firefox before
// 114) the page says so in one line, falls back (a <canvas>; the core on the
// page's thread) and still dreams and downloads, with no console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { haveChromium, startServer, openBrowser, openDemo, setSettings, dreamToEnd } from './lib.mjs';

const skip = !haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)';
let srv;
before(async () => { srv = await startServer(); });
after(async () => { if (srv) await srv.close(); });

const REMOVE = {
  offscreenCanvas: () => { delete globalThis.OffscreenCanvas; },
  // a Worker that, like an old engine's, never reads {type: 'module'}
  moduleWorker: () => {
    const W = globalThis.Worker;
    globalThis.Worker = class Worker extends W { constructor(url) { super(url); } };
  },
};

async function dreamWithout(feature, t) {
  const b = await openBrowser();
  try {
    const { page, context } = b;
    await context.addInitScript(REMOVE[feature]);
    await page.reload().catch(() => {});
    await openDemo(page, srv.base);
    const info = await page.evaluate(() => ({ features: window.deepdreamDemo.features, engine: document.getElementById('engine-info').textContent,
      notices: [...document.querySelectorAll('#notices > .notice')].filter((n) => !n.hidden).map((n) => n.textContent.trim()) }));
    t.diagnostic(JSON.stringify(info));
    assert.equal(info.features[feature], false, `${feature} is detected as missing`);
    assert.equal(info.notices.length, 1, 'one line says what the page fell back to');
    await setSettings(page, { iterations: 2, octaves: 1, seed: 5, layer: 2 });
    const stats = await dreamToEnd(page);
    assert.ok(stats.progressEvents >= 2);
    assert.ok(await page.evaluate(() => window.deepdreamDemo.changedFraction()) > 0.3, 'dreamed');
    assert.ok(await page.evaluate(() => window.deepdreamDemo.screenDiff()) > 0.3, 'and shown');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-jpeg')]);
    assert.match(dl.suggestedFilename(), /\.jpg$/);
    assert.deepEqual(b.errors, []);
    return info;
  } finally {
    await b.close();
  }
}

test('without OffscreenCanvas: a <canvas> does its work; the page says so and dreams', { skip }, async (t) => {
  const info = await dreamWithout('offscreenCanvas', t);
  assert.match(info.notices[0], /no OffscreenCanvas/i);
});

test('without module Workers: the core runs on the page\'s thread; the page says so and dreams', { skip }, async (t) => {
  const info = await dreamWithout('moduleWorker', t);
  assert.match(info.notices[0], /no module Workers/i);
  assert.match(info.engine, /on the page's thread/);
});
