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
import { loadModel, dream, channelAtlas, channelObjective, loadCore, IndexedDBStore, listModels, ATLAS_DEFAULTS } from '../../wasm/js/index.js';
import { withScope, check } from '../../wasm/js/heap.js';
import { miniInception } from './lib/mini_inception.js';
import { onnxPython, standin } from './lib/onnx_standins.js';

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

test('the grid: 3 columns x 3 rows of 32 px; tile i = the dream of channel(mixed3a, i) (mean activation) from the noise picture', async () => {
  assert.deepEqual([full.columns, full.rows, full.size, full.layer], [3, 3, 32, 'mixed3a']);
  assert.deepEqual(full.channels, [2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([full.image.width, full.image.height, full.image.channels], [96, 96, 3]);
  const noise = coreNoise(4, S, S);
  for (let i = 0; i < N; i++) {
    const base = { layer: 'mixed3a', iterations: 3, octaves: 1, stepSize: ATLAS_DEFAULTS.stepSize, seed: 4 };
    const want = await dream(model, noise, { ...base, objective: `channel(mixed3a,${2 + i})` }).result;
    const tile = sha(tileOf(full.image, i % 3, Math.floor(i / 3)));
    assert.equal(tile, sha(new Uint8Array(want.data.buffer)), `channel ${2 + i}`);
    if (i < 2) { // not the tutorial's mean of squares of the channel
      const squares = await dream(model, noise, { ...base, channels: [2 + i] }).result;
      assert.notEqual(tile, sha(new Uint8Array(squares.data.buffer)), `channel ${2 + i}: mean(square) is another picture`);
    }
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

test('channelObjective: the grammar channel term; names with / (ONNX), dream-layer indices; unwritable names refused', () => {
  assert.deepEqual(channelObjective('mixed4c', 7), { objective: 'channel(mixed4c,7)' });
  assert.deepEqual(channelObjective('inception_4c/output', 3), { objective: 'channel(inception_4c/output,3)' });
  assert.deepEqual(channelObjective(2, 5), { objective: 'channel(2,5)' });
  for (const bad of ['12', 'a b', 'x,y', 'f(x)', '', null]) assert.throws(() => channelObjective(bad, 0), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT', String(bad));
  assert.throws(() => channelObjective('mixed4c', -1), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
});

test('bad arguments are coded errors', async () => {
  await assert.rejects(channelAtlas(model, { ...opts, layer: 'nope' }), (e) => e.code === 'DD_ERR_NOT_FOUND');
  await assert.rejects(channelAtlas(model, { ...opts, channels: [999] }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /channel 999/.test(e.message));
  await assert.rejects(channelAtlas(model, { ...opts, size: 8 }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
  await assert.rejects(channelAtlas(model, { ...opts, iterations: 0 }, { cache: false }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /iterations/.test(e.message));
});

test('an ONNX layer name with / (GoogLeNet stand-in inception_4c/output): the tiles are its channel objective', { skip: !onnxPython() && 'no python3-onnx for the stand-in' }, async () => {
  const g = await loadModel(standin('bvlc_googlenet'), { threads: 1 });
  try {
    const layer = g.layers.find((l) => l.name.startsWith('inception_4c/output')).name;
    const o = { layer, channels: [5, 9], size: 96, iterations: 2, octaves: 0, seed: 3 };
    const a = await channelAtlas(g, o, { cache: false });
    const noise = coreNoise(3, 96, 96);
    for (const [i, c] of [5, 9].entries()) {
      const base = { layer, iterations: 2, octaves: 0, stepSize: ATLAS_DEFAULTS.stepSize, seed: 3 };
      const want = await dream(g, noise, { ...base, objective: `channel(${layer},${c})` }).result;
      const squares = await dream(g, noise, { ...base, channels: [c] }).result; // 96 px: a 6x6 map, where mean and mean of squares differ
      const got = new Uint8Array(96 * 96 * 3);
      for (let y = 0; y < 96; y++) got.set(a.image.data.subarray((y * a.image.width + i * 96) * 3, (y * a.image.width + i * 96 + 96) * 3), y * 96 * 3);
      assert.equal(sha(got), sha(new Uint8Array(want.data.buffer)), `${layer} channel ${c}`);
      assert.notEqual(sha(got), sha(new Uint8Array(squares.data.buffer)), `${layer} channel ${c}: not the mean of squares`);
    }
  } finally { g.free(); }
});
