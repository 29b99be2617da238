// The JS dream API on the wasm core: progress, pause/resume, abort, and
// checkpoints in files and in IndexedDB (fake-indexeddb) that resume to the
// same final bytes as an uninterrupted run, also after a failed write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'fake-indexeddb/auto';
import { loadModel, dream, resumeDream, listDreams, removeDream, IndexedDBStore, DeepDreamError } from '../../wasm/js/index.js';
import { miniInception } from './lib/mini_inception.js';

const model = await loadModel(miniInception({ scale: 16, seed: 5 }), { threads: 1 });
const W = 90, H = 70;
const image = { width: W, height: H, channels: 4, data: new Uint8Array(W * H * 4) };
for (let i = 0; i < W * H; i++) {
  const x = i % W, y = (i / W) | 0;
  image.data.set([128 + 100 * Math.sin(x / 7), 128 + 100 * Math.cos(y / 5), (x * y) % 255, (x * 3) % 256], i * 4);
}
const opts = { layer: 'mixed3a', iterations: 2, repeats: 1, tileSize: 40, seed: 11 };
const reference = await dream(model, image, opts).result;

test('a dream changes the image, reports progress and keeps alpha', async () => {
  const events = [];
  const c = dream(model, image, { ...opts, onProgress: (p) => events.push(p) });
  const out = await c.result;
  assert.equal(out.width, W);
  assert.equal(out.height, H);
  assert.deepEqual(out.data, reference.data);
  let changed = 0;
  for (let i = 0; i < W * H; i++) {
    assert.equal(out.data[i * 4 + 3], image.data[i * 4 + 3]);
    for (let k = 0; k < 3; k++) changed += out.data[i * 4 + k] !== image.data[i * 4 + k];
  }
  assert.ok(changed > W * H, `only ${changed} values changed`);
  assert.ok(events.length >= 8);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].fraction >= events[i - 1].fraction);
  assert.equal(events.at(-1).fraction, 1);
  assert.equal(events[0].numOctaves, 2);
  assert.ok(events.some((e) => e.eta !== null));
});

test('pause holds, resume finishes, abort rejects and frees', async () => {
  const c = dream(model, image, opts);
  let n = 0;
  c.addEventListener('progress', () => { if (++n === 2) c.pause(); });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(n, 2);
  assert.ok(c.paused);
  c.resume();
  assert.deepEqual((await c.result).data, reference.data);

  const ac = new AbortController();
  const d = dream(model, image, { ...opts, signal: ac.signal });
  d.addEventListener('progress', () => ac.abort(), { once: true });
  await assert.rejects(d.result, (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_ABORTED');
  assert.equal(d._ptr, 0);
});

async function interruptAndResume(storage, interruptAfter) {
  const c = dream(model, image, { ...opts, id: `t-${interruptAfter}`, checkpoint: { storage, everyTiles: 1 } });
  let n = 0;
  c.addEventListener('checkpoint', () => { if (++n === interruptAfter) c.abort(); });
  await assert.rejects(c.result, (e) => e.code === 'DD_ERR_ABORTED');
  const list = await listDreams(storage);
  const rec = list.find((r) => r.id === `t-${interruptAfter}`);
  assert.ok(rec && rec.fraction > 0 && rec.fraction < 1, 'a checkpoint is listed');
  const r = await resumeDream(model, `t-${interruptAfter}`, { checkpoint: { storage, everyTiles: 3 } });
  const out = await r.result;
  assert.deepEqual(out.data, reference.data, `resumed after ${interruptAfter} checkpoints`);
  assert.equal((await listDreams(storage)).find((x) => x.id === `t-${interruptAfter}`), undefined, 'removed when done');
}

test('file checkpoints resume to the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddw-'));
  try {
    for (const k of [1, 5, 13]) await interruptAndResume(dir, k);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IndexedDB checkpoints resume to the same bytes', async () => {
  const store = new IndexedDBStore();
  for (const k of [2, 9]) await interruptAndResume(store, k);
});

test('a write that fails midway leaves the previous checkpoint intact', async () => {
  const store = new IndexedDBStore();
  const c = dream(model, image, { ...opts, id: 'crash', checkpoint: { storage: store, everyTiles: 1 } });
  let n = 0;
  const origPut = IDBObjectStore.prototype.put;
  let before;
  c.addEventListener('checkpoint', async () => {
    if (++n === 4) {
      c.pause();
      before = await store.loadDream('crash');
      // the next write puts its record, then the "tab crashes" before commit
      IDBObjectStore.prototype.put = function (...a) { const r = origPut.apply(this, a); this.transaction.abort(); return r; };
      c.resume();
    }
  });
  await assert.rejects(c.result, (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_IO');
  IDBObjectStore.prototype.put = origPut;
  const after = await store.loadDream('crash');
  assert.equal(after.updatedAt, before.updatedAt);
  assert.deepEqual(after.state, before.state);
  const out = await (await resumeDream(model, 'crash', { checkpoint: { storage: store } })).result;
  assert.deepEqual(out.data, reference.data);
});

test('corrupt and foreign records are reported and skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddw-'));
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'junk.ddream'), 'not a checkpoint');
    const list = await listDreams(dir);
    assert.equal(list.length, 0);
    assert.equal(list.skipped[0].id, 'junk');
    await assert.rejects(resumeDream(model, 'junk', { storage: dir }), (e) => e.code === 'DD_ERR_PARSE');
    await assert.rejects(resumeDream(model, 'missing', { storage: dir }), (e) => e.code === 'DD_ERR_NOT_FOUND');
    // a state from another model is refused by the core
    const c = dream(model, image, { ...opts, id: 'other', checkpoint: { storage: dir, everyTiles: 1 } });
    c.addEventListener('checkpoint', () => c.abort(), { once: true });
    await assert.rejects(c.result);
    const other = await loadModel(miniInception({ scale: 16, seed: 6 }), { threads: 1 });
    await assert.rejects(resumeDream(other, 'other', { storage: dir }), (e) => e.code === 'DD_ERR_STATE_MISMATCH');
    other.free();
    await removeDream('other', dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are DeepDreamErrors with codes', () => {
  assert.throws(() => dream(model, image, { ...opts, tileSize: 0 }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /tile_size/.test(e.message));
  assert.throws(() => dream(model, image, { ...opts, layer: 'nope' }), (e) => e.code === 'DD_ERR_NOT_FOUND' && /mixed4c/.test(e.message));
  assert.throws(() => dream(model, image, { ...opts, repeats: 9 }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
  assert.throws(() => dream(model, image, { ...opts, channels: '3:x' }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
  assert.throws(() => dream(model, { width: 2, height: 2, data: new Uint8Array(3) }, opts), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
});

test('no layer: the model\'s default dream layer, as on both command lines (not dream layer 0)', async () => {
  const { layer, ...rest } = opts;
  const def = model.description.defaultLayer;
  assert.ok(Number.isInteger(def) && def > 0, `defaultLayer ${def}`);
  const sha = (img) => Buffer.from(img.data).toString('base64');
  const implicit = await dream(model, image, rest).result;
  assert.equal(sha(implicit), sha(await dream(model, image, { ...rest, layer: def }).result));
  assert.notEqual(sha(implicit), sha(await dream(model, image, { ...rest, layer: 0 }).result));
  // the options the dream reports name the layer it used
  const c = dream(model, image, rest);
  await c.result;
  assert.equal(String(c.options.layer), String(def));
});

test('every tile\'s progress reaches a listener added after dream() returns, also the first', async () => {
  const viaOption = [];
  const c = dream(model, image, { ...opts, onProgress: (p) => viaOption.push(p.tile) });
  const viaListener = [];
  c.addEventListener('progress', (e) => viaListener.push(e.detail.tile));
  await c.result;
  assert.ok(viaOption.length >= 8);
  assert.deepEqual(viaListener, viaOption, 'the listener saw every event, the first one too');
});

test('a worker-hosted dream relays every progress event, the first one too', async () => {
  const remote = await loadModel(miniInception({ scale: 16, seed: 5 }), { threads: 1, worker: true });
  try {
    const local = [], relayed = [];
    await dream(model, image, { ...opts, onProgress: (p) => local.push(p.fraction) }).result;
    await dream(remote, image, { ...opts, onProgress: (p) => relayed.push(p.fraction) }).result;
    assert.deepEqual(relayed, local);
  } finally {
    await remote.free();
  }
});
