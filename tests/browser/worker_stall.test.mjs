// A browser that never finishes starting the threaded core. Firefox sometimes
// blocks a Worker for good inside a nested `new Worker()` (wasm/js/worker.js
// says more): the page stayed at "Starting the engine…" with no model. Here the
// test server makes the first (or first three) threaded core glue(s) it serves
// spin forever where the 5th thread Worker is created — the same silence, in
// any engine, every time. The page must end that worker, start another and
// dream; after three stalls it takes the single-threaded build and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, haveChromium, startServer, openBrowser, openDemo, setSettings, dreamToEnd } from './lib.mjs';

const skip = !haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)';
const GLUE = '/wasm/dist/deepdream-core-mt.mjs';
const CREATE = 'PThread.unusedWorkers.push(new Worker(pthreadMainJs))';
let srv;
let stallsLeft = 0, glueRequests = 0;

before(async () => {
  srv = await startServer();
  const [serve] = srv.server.listeners('request');
  srv.server.removeAllListeners('request');
  srv.server.on('request', (req, res) => {
    if (new URL(req.url, 'http://x').pathname !== GLUE) return serve(req, res);
    glueRequests++;
    if (stallsLeft <= 0) return serve(req, res);
    stallsLeft--;
    // the real glue, with a thread that never returns from its 5th Worker
    const js = readFileSync(join(REPO, 'wasm', 'dist', 'deepdream-core-mt.mjs'), 'utf8');
    assert.ok(js.includes(CREATE), 'the glue creates its thread Workers where this test expects');
    const body = Buffer.from(js.replace(CREATE, `{ if (PThread.unusedWorkers.length === 4) for (;;) {} ${CREATE} }`));
    res.writeHead(200, { 'Content-Type': 'text/javascript', 'Content-Length': body.length, 'Cache-Control': 'no-cache',
      'Cross-Origin-Resource-Policy': 'same-origin', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    return res.end(body);
  });
});
after(async () => { if (srv) await srv.close(); });

async function loadWithStalls(stalls, t) {
  stallsLeft = stalls;
  glueRequests = 0;
  const b = await openBrowser();
  try {
    const { page } = b;
    const t0 = Date.now();
    await page.goto(`${srv.base}/web/`);
    await openDemo(page, srv.base);
    const info = await page.evaluate(() => ({ model: window.deepdreamDemo.model, engine: document.getElementById('engine-info').textContent,
      notices: [...document.querySelectorAll('#notices > .notice')].filter((n) => !n.hidden).map((n) => n.textContent.trim()) }));
    t.diagnostic(`${Date.now() - t0} ms to a model; ${glueRequests} threaded glue requests; ${JSON.stringify(info)}`);
    assert.equal(stallsLeft, 0, 'every stalling glue was served');
    await setSettings(page, { iterations: 1, octaves: 1, seed: 3, layer: 2 });
    await dreamToEnd(page);
    assert.ok(await page.evaluate(() => window.deepdreamDemo.changedFraction()) > 0.3, 'dreamed');
    assert.deepEqual(b.errors, []);
    return { ...info, glueRequests };
  } finally {
    await b.close();
  }
}

test('a worker that stalls starting the threaded core is replaced: the page loads its model threaded and dreams', { skip }, async (t) => {
  const info = await loadWithStalls(1, t);
  assert.equal(info.model.variant, 'mt');
  assert.ok(info.glueRequests > 1, 'a second worker loaded the threaded core (its thread Workers load it too)');
  assert.deepEqual(info.notices, []);
});

test('three stalls: the page falls back to the single-threaded build and says why in one line', { skip }, async (t) => {
  const info = await loadWithStalls(3, t);
  assert.equal(info.model.variant, 'st');
  assert.equal(info.notices.length, 1);
  assert.match(info.notices[0], /did not start the threaded core's Workers \(3 tries\)/);
  assert.match(info.engine, /single-threaded SIMD build/);
});
