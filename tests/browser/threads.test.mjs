// One thread pool per wasm instance, in a cross-origin isolated Chromium page:
// two models and a trainer on the threaded build at 8 and 16 threads
// (oversubscribed on small machines on purpose), interleaved, give the same
// bytes as the single-threaded build; free() while a dream runs is deferred.
// The page runs the in-process API (worker: false) so that every model and
// the trainer live in one instance. Each page gets a deadline: a hang fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { haveChromium, startServer, openBrowser } from './lib.mjs';

const skip = !haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)';
let srv;
before(async () => { srv = await startServer(); });
after(async () => { if (srv) await srv.close(); });

async function inPage(fn, arg, { deadline = 120_000 } = {}) {
  const { context, page, errors } = await openBrowser();
  try {
    await page.goto(`${srv.base}/models/registry.json`); // an isolated page that runs nothing itself
    let timer;
    const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${deadline} ms (a hang)`)), deadline); });
    try {
      return { value: await Promise.race([page.evaluate(fn, arg), timeout]), errors };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await context.close();
  }
}

// Runs in the page: two models + a Sequential, interleaved; returns hashes.
async function sharedRun({ threads, mt }) {
  const api = await import('/wasm/js/index.js');
  const hex = async (v) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', v.slice().buffer)))
    .slice(0, 8).map((b) => b.toString(16).padStart(2, '0')).join('');
  let s = 9;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const inp = Float32Array.from({ length: 48 * 48 * 3 }, () => rnd() * 255);
  const img = (seed) => { let t = seed; return { data: Uint8Array.from({ length: 64 * 64 * 3 }, () => (t = (Math.imul(t, 1664525) + 1013904223) >>> 0) >>> 24), width: 64, height: 64, channels: 3 }; };
  const opts = { threads, useThreadedBuild: mt, worker: false };
  const a = await api.loadModel('/models/default-model.pb', opts);
  const b = await api.loadModel('/models/default-model.pb', opts);
  const net = api.sequential([api.conv2d(4, 3, { inputShape: [12, 12, 1], activation: 'relu' }), api.flatten(),
    api.dense(16, { activation: 'relu' }), api.dense(4, { activation: 'softmax' })], { seed: 1, threads, useThreadedBuild: mt });
  net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const x = Float32Array.from({ length: 32 * 144 }, () => rnd()), y = Int32Array.from({ length: 32 }, (_, i) => i % 4);
  const out = { variant: a.variant, threads: [a.threads, b.threads] };
  out.gradA = await hex(a.gradient(inp, 48, 48, { layer: 2 }).grad);
  out.gradB = await hex(b.gradient(inp, 48, 48, { layer: 1 }).grad);
  out.gradSmall = await hex(a.gradient(inp.subarray(0, 16 * 16 * 3), 16, 16, { layer: 2 }).grad); // an atlas-sized picture
  await net.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
  const D = { layer: 2, iterations: 2, repeats: 1, tileSize: 32, seed: 7, tilesPerStep: 1 };
  const [ia, ib] = await Promise.all([api.dream(a, img(1), D).result, api.dream(b, img(2), { ...D, layer: 1 }).result,
    net.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 })]);
  out.dreamA = await hex(ia.data);
  out.dreamB = await hex(ib.data);
  out.weights = (await Promise.all((await net.getWeights()).map((w) => hex(w.data)))).join(',');
  out.gradB2 = await hex(b.gradient(inp, 48, 48, { layer: 0 }).grad);
  // free() while a dream runs: deferred until it settles; the other model is unharmed
  const d = api.dream(a, img(3), D);
  await new Promise((r) => d.addEventListener('progress', r, { once: true }));
  a.free();
  out.freedDream = await hex((await d.result).data);
  try { a.gradient(inp, 48, 48, {}); out.afterFree = 'no error'; } catch (e) { out.afterFree = e.code; }
  out.gradB3 = await hex(b.gradient(inp, 48, 48, { layer: 0 }).grad);
  b.free(); net.dispose();
  return out;
}

test('two models + a trainer in one page at 8 and 16 threads: bit-identical to 1 thread; free() mid-dream deferred', { skip, timeout: 900_000 }, async () => {
  const ref = await inPage(sharedRun, { threads: 1, mt: false });
  assert.equal(ref.value.variant, 'st');
  assert.equal(ref.value.afterFree, 'DD_ERR_INVALID_ARGUMENT');
  assert.equal(ref.value.gradB3, ref.value.gradB2);
  for (const threads of [8, 16]) {
    const { value, errors } = await inPage(sharedRun, { threads, mt: true });
    assert.equal(value.variant, 'mt');
    assert.ok(value.threads.every((t) => t > 1 && t <= 9), `threads ${value.threads} (pool at most PTHREAD_POOL_SIZE + 1)`);
    for (const k of ['gradA', 'gradB', 'gradSmall', 'dreamA', 'dreamB', 'weights', 'gradB2', 'freedDream', 'afterFree', 'gradB3'])
      assert.equal(value[k], ref.value[k], `${threads} threads: ${k}`);
    // the page is a JSON document: Chromium's /favicon.ico request is the one 404 (a missing file would fail above)
    assert.deepEqual(errors.filter((e) => !/status of 404/.test(e)), [], 'console errors');
  }
});
