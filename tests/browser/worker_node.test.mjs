// The Worker protocol (remote.js <-> worker.js) without a browser: Node's
// loadModel(src, {worker: true}) runs the same worker.js in a worker_thread.
// The remote model and dream give the same values and bytes as in-process,
// errors keep their codes across the boundary, file checkpoints resume to the
// same bytes, and free() ends the worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, dream, resumeDream, listDreams, DeepDreamError, RemoteModel, RemoteDream } from '../../wasm/js/index.js';

const MODEL = fileURLToPath(new URL('../../models/default-model.pb', import.meta.url));
const W = 96, H = 72;
const image = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
for (let i = 0; i < W * H; i++) {
  const x = i % W, y = (i / W) | 0;
  image.data.set([128 + 90 * Math.sin(x / 6), 128 + 90 * Math.cos(y / 5), (x * y) % 256], i * 3);
}
const opts = { layer: 2, iterations: 3, repeats: 1, tileSize: 48, seed: 21 };

const local = await loadModel(MODEL, { threads: 1 });
const reference = await dream(local, image, opts).result;

test('worker model: same layers, fingerprint, forward and gradient as in-process', async () => {
  const m = await loadModel(MODEL, { worker: true, threads: 1 });
  try {
    assert.ok(m instanceof RemoteModel);
    assert.deepEqual(m.layers, local.layers);
    assert.deepEqual(m.convLayers, local.convLayers);
    assert.equal(m.fingerprint, local.fingerprint);
    const input = new Float32Array(40 * 40 * 3).map((_, i) => (i * 37) % 255);
    assert.deepEqual(await m.forward(input, 40, 40, 'curves'), local.forward(input, 40, 40, 'curves'));
    assert.deepEqual(await m.gradient(input, 40, 40, { layer: 1, channels: [0, 3] }), local.gradient(input, 40, 40, { layer: 1, channels: [0, 3] }));
    assert.deepEqual(await m.findNode('edges'), local.findNode('edges'));
    await assert.rejects(m.findNode('nope'), (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_NOT_FOUND');
    assert.deepEqual(await m.bytes(), local.bytes());
  } finally {
    await m.free();
  }
});

test('worker dream: progress, same bytes, errors with codes, abort', async () => {
  const m = await loadModel(MODEL, { worker: true, threads: 1 });
  try {
    const events = [];
    const c = dream(m, image, { ...opts, onProgress: (p) => events.push(p) });
    assert.ok(c instanceof RemoteDream);
    assert.equal(c.width, W);
    const out = await c.result;
    assert.deepEqual(out.data, reference.data);
    assert.ok(events.length >= 4);
    assert.equal(events.at(-1).fraction, 1);
    assert.ok(events.some((p) => p.eta !== null));
    const g = await c.currentGradient(); // kept after the end
    assert.equal(g.width, W);
    assert.equal(g.data.length, W * H * 3);
    // option errors throw synchronously, as in-process; core errors reject with the core's code
    assert.throws(() => dream(m, image, { ...opts, channels: '1:x' }), (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_INVALID_ARGUMENT');
    const bad = dream(m, image, { ...opts, layer: 'nope' });
    let errEvent = null;
    bad.addEventListener('error', (e) => { errEvent = e.detail; });
    await assert.rejects(bad.result, (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_NOT_FOUND' && /textures/.test(e.message));
    assert.equal(errEvent.code, 'DD_ERR_NOT_FOUND');
    await assert.rejects(dream(m, image, { ...opts, tileSize: 0 }).result, (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
    // pause holds, abort through a signal rejects with DD_ERR_ABORTED
    const ac = new AbortController();
    const d = dream(m, image, { ...opts, signal: ac.signal });
    let n = 0;
    let pausedAt = null;
    d.addEventListener('progress', (e) => { if (++n === 2) { d.pause(); pausedAt = e.detail.fraction; } });
    // the events the worker sent before it saw the pause still arrive (how many depends on how busy this thread
    // was: tiles of this picture take a few ms); then they stop
    for (let last = -1, t0 = Date.now(); last !== n; ) {
      assert.ok(Date.now() - t0 < 20_000, 'progress events keep coming after pause()');
      last = n;
      await new Promise((r) => setTimeout(r, 300));
    }
    const held = n;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(n, held, 'no progress while paused');
    assert.ok(d.progress.fraction < 1 && d.progress.fraction >= pausedAt, `paused at ${pausedAt}, held at ${d.progress.fraction}`);
    assert.ok(d.paused);
    d.resume();
    d.addEventListener('progress', () => ac.abort(), { once: true });
    await assert.rejects(d.result, (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_ABORTED');
  } finally {
    await m.free();
  }
});

test('worker checkpoints (files): resume gives the same bytes; free() ends the worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddw-remote-'));
  const m = await loadModel(MODEL, { worker: true, threads: 1 });
  try {
    const c = dream(m, image, { ...opts, id: 'remote-1', checkpoint: { storage: dir, everyTiles: 2 } });
    const cks = [];
    c.addEventListener('checkpoint', (e) => { cks.push(e.detail); if (cks.length === 3) c.abort(); });
    await assert.rejects(c.result, (e) => e.code === 'DD_ERR_ABORTED');
    assert.ok(cks.every((k) => k.id === 'remote-1' && k.bytes > 0 && k.ms >= 0));
    const rec = (await listDreams(dir)).find((r) => r.id === 'remote-1');
    assert.ok(rec && rec.fraction > 0 && rec.fraction < 1);
    const r = await resumeDream(m, 'remote-1', { checkpoint: { storage: dir } });
    assert.equal(r.width, W);
    assert.deepEqual((await r.result).data, reference.data);
    assert.equal((await listDreams(dir)).length, 0);
    await assert.rejects(resumeDream(m, 'missing', { storage: dir }), (e) => e.code === 'DD_ERR_NOT_FOUND');
    const exited = new Promise((resolve) => m._host.worker.once('exit', resolve));
    await m.free();
    await exited; // the last model freed: the worker (and all its memory) is gone
    await assert.rejects(m.findNode('edges'), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
  } finally {
    await m.free();
    rmSync(dir, { recursive: true, force: true });
  }
});
