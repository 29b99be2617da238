// channelAtlas: each tile is the dream of one channel from the core's noise picture, laid out in a grid;
// tiles arrive one by one; a cancelled atlas continues from its cache (files, IndexedDB) to the same
// pixels; a finished one is a cache hit; a damaged cache is ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'fake-indexeddb/auto';
import { loadModel, dream, channelAtlas, loadCore, IndexedDBStore, listModels, ATLAS_DEFAULTS } from '../../wasm/js/index.js';
import { withScope, check } from '../../wasm/js/heap.js';
import { miniInception } from './lib/mini_inception.js';

const model = await loadModel(miniInception({ scale: 16, seed: 5 }), { threads: 1 });
const M = await loadCore({ threads: false });
const sha = (d) => createHash('sha256').update(d).digest('hex');
const opts = { layer: 'mixed3a', channels: '2:9', size: 32, iterations: 3, octaves: 1, seed: 4 };
const N = 7, S = 32;

function coreNoise(seed, w, h) { // dd_image_noise called directly
  return withScope(M, (s) => {
    const p = s.alloc(w * h * 3), err = s.err();
    check(M, M._ddw_image_noise(seed, 0, w, h, p, err), err, 'noise');
    return { data: M.HEAPU8.slice(p, p + w * h * 3), width: w, height: h, channels: 3 };
  });
}
const tileOf = (grid, col, row) => {
  const out = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) out.set(grid.data.subarray(((row * S + y) * grid.width + col * S) * 3, ((row * S + y) * grid.width + col * S + S) * 3), y * S * 3);
  return out;
};

const events = [];
const full = await channelAtlas(model, opts, { cache: false, onChannel: (e) => events.push(e) });

test('the grid: 3 columns x 3 rows of 32 px; tile i = the dream of channel i from the noise picture', async () => {
  assert.deepEqual([full.columns, full.rows, full.size, full.layer], [3, 3, 32, 'mixed3a']);
  assert.deepEqual(full.channels, [2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([full.image.width, full.image.height, full.image.channels], [96, 96, 3]);
  const noise = coreNoise(4, S, S);
  for (let i = 0; i < N; i++) {
    const want = await dream(model, noise, { layer: 'mixed3a', channels: [2 + i], iterations: 3, octaves: 1, stepSize: ATLAS_DEFAULTS.stepSize, seed: 4 }).result;
    assert.equal(sha(tileOf(full.image, i % 3, Math.floor(i / 3))), sha(new Uint8Array(want.data.buffer)), `channel ${2 + i}`);
  }
  assert.notEqual(sha(tileOf(full.image, 0, 0)), sha(tileOf(full.image, 1, 0)), 'channels differ');
  assert.ok(tileOf(full.image, 2, 2).every((v) => v === 0), 'the cell after the last channel stays empty');
});

test('onChannel: one event per channel, in order, as each tile completes', () => {
  assert.deepEqual(events.map((e) => e.channel), [2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(events.map((e) => [e.index, e.column, e.row, e.count, e.cached]), [0, 1, 2, 3, 4, 5, 6].map((i) => [i, i % 3, Math.floor(i / 3), N, false]));
  for (const e of events) assert.equal(sha(e.image.data), sha(tileOf(full.image, e.column, e.row)));
});

test('cancelled after 3 channels (file cache), then resumed: the cached 3 first, the rest made, the same pixels; then a cache hit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-atlas-'));
  try {
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(channelAtlas(model, opts, { cache: dir, signal: ac.signal, onChannel: () => { if (++n === 3) ac.abort(); } }),
      (e) => e.code === 'DD_ERR_ABORTED');
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.ddatlas')).length, 1);
    const seen = [];
    const resumed = await channelAtlas(model, opts, { cache: dir, onChannel: (e) => seen.push([e.channel, e.cached]) });
    assert.deepEqual(seen, [[2, true], [3, true], [4, true], [5, false], [6, false], [7, false], [8, false]]);
    assert.equal(sha(resumed.image.data), sha(full.image.data));
    const hit = [];
    const t0 = performance.now();
    const again = await channelAtlas(model, opts, { cache: dir, onChannel: (e) => hit.push(e.cached) });
    assert.deepEqual(hit, Array(N).fill(true));
    assert.equal(sha(again.image.data), sha(full.image.data));
    assert.ok(performance.now() - t0 < 2000);
    // other options (a seed, a step size) or other channels are another atlas
    for (const change of [{ seed: 5 }, { stepSize: 2 }, { channels: '2:4' }, { blend: 0.3 }]) {
      const other = [];
      await channelAtlas(model, { ...opts, ...change }, { cache: dir, onChannel: (e) => other.push(e.cached) });
      assert.ok(other.length > 0 && other.every((c) => c === false), JSON.stringify(change));
    }
    // a damaged cache file is ignored: the atlas is made again, to the same pixels
    const file = join(dir, readdirSync(dir).find((f) => f.startsWith(full.key)));
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const remade = [];
    const r = await channelAtlas(model, opts, { cache: dir, onChannel: (e) => remade.push(e.cached) });
    assert.deepEqual(remade, Array(N).fill(false));
    assert.equal(sha(r.image.data), sha(full.image.data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IndexedDB cache: cancel, resume, hit; model listings do not show atlases', async () => {
  const ac = new AbortController();
  let n = 0;
  await assert.rejects(channelAtlas(model, opts, { cache: 'indexeddb', signal: ac.signal, onChannel: () => { if (++n === 5) ac.abort(); } }),
    (e) => e.code === 'DD_ERR_ABORTED');
  const seen = [];
  const r = await channelAtlas(model, opts, { cache: 'indexeddb', onChannel: (e) => seen.push(e.cached) });
  assert.deepEqual(seen, [true, true, true, true, true, false, false]);
  assert.equal(sha(r.image.data), sha(full.image.data));
  const hit = [];
  await channelAtlas(model, opts, { cache: new IndexedDBStore(), onChannel: (e) => hit.push(e.cached) });
  assert.deepEqual(hit, Array(N).fill(true));
  assert.deepEqual(await listModels(), {});
});

test('bad arguments are coded errors', async () => {
  await assert.rejects(channelAtlas(model, { ...opts, layer: 'nope' }), (e) => e.code === 'DD_ERR_NOT_FOUND');
  await assert.rejects(channelAtlas(model, { ...opts, channels: [999] }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /channel 999/.test(e.message));
  await assert.rejects(channelAtlas(model, { ...opts, size: 8 }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
  await assert.rejects(channelAtlas(model, { ...opts, iterations: 0 }, { cache: false }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /iterations/.test(e.message));
});
