// A checkpoint schedule the caller chose is the schedule: the demo's "fewer
// checkpoints above 1 MP" ({storage, everySeconds: N}, no everyTiles) must not
// be merged with the default every-8-tiles, in process, when resuming, and
// through the Worker proxy (a Node worker_thread here). The default (no
// schedule) still checkpoints every 8 tiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, dream, resumeDream } from '../../wasm/js/index.js';
import { withSchedule } from '../../wasm/js/checkpoint.js';

const bytes = readFileSync(new URL('../../models/default-model.pb', import.meta.url));
const W = 96, H = 80;
const image = { width: W, height: H, channels: 3, data: Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 31) & 255) };
const opts = { layer: 1, iterations: 2, repeats: 0, tileSize: 16, seed: 4 }; // 30+ tiles per iteration

/** Runs a dream to the end and counts its checkpoint events. */
async function countCheckpoints(c) {
  let n = 0;
  c.addEventListener('checkpoint', () => { n++; });
  await c.result;
  return n;
}

test('withSchedule adds every 8 tiles only when no schedule is given', () => {
  assert.deepEqual(withSchedule({ storage: 'd' }), { storage: 'd', everyTiles: 8 });
  assert.deepEqual(withSchedule({ storage: 'd', everySeconds: 45 }), { storage: 'd', everySeconds: 45 });
  assert.deepEqual(withSchedule({ storage: 'd', everyTiles: 3 }), { storage: 'd', everyTiles: 3 });
});

for (const worker of [false, true]) {
  test(`everySeconds alone is honoured (${worker ? 'worker' : 'in process'}), also on resume`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddw-sched-'));
    const model = await loadModel(new Uint8Array(bytes), { threads: 1, worker });
    try {
      assert.equal(await countCheckpoints(dream(model, image, { ...opts, checkpoint: { storage: dir, everySeconds: 3600 } })), 0);
      const byDefault = await countCheckpoints(dream(model, image, { ...opts, checkpoint: { storage: dir } }));
      assert.ok(byDefault >= 4, `${byDefault} checkpoints with the default schedule`);

      // a checkpoint to resume from, then a resume with the slow schedule
      const c = dream(model, image, { ...opts, id: 'slow', checkpoint: { storage: dir, everyTiles: 1 } });
      c.addEventListener('checkpoint', () => c.abort(), { once: true });
      await assert.rejects(c.result);
      const r = await resumeDream(model, 'slow', { checkpoint: { storage: dir, everySeconds: 3600 } });
      assert.equal(await countCheckpoints(r), 0);
    } finally {
      await model.free();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// A spec that would never save (or not as asked), or a record some store could not give back the same, is
// refused when the dream is asked for: not at its first save, minutes into it (or never, for a schedule).
test('a bad checkpoint spec is refused at the call, in process, through the Worker proxy and on resume', async () => {
  const bad = [
    [{ everyTiles: 0 }, /checkpoint\.everyTiles must be a whole number of tiles >= 1, got 0/],
    [{ everyTiles: '8' }, /everyTiles .* got "8"/],
    [{ everyTiles: 2.5 }, /everyTiles/],
    [{ everySeconds: -1 }, /checkpoint\.everySeconds must be a number of seconds > 0, got -1/],
    [{ everySeconds: Infinity }, /everySeconds/],
    [{ record: 'note' }, /checkpoint\.record must be an object of plain fields, got string/],
    [{ record: [1, 2] }, /got an array/],
    [{ record: { guide: new Uint8Array(4) } }, /checkpoint\.record\.guide is a Uint8Array: a record carries plain data only/],
    [{ record: { a: { b: [1, { f: () => 0 }] } } }, /checkpoint\.record\.a\.b\[1\]\.f is a function/],
    [{ record: { when: new Date(0) } }, /checkpoint\.record\.when is a Date/],
    [{ record: { n: NaN } }, /checkpoint\.record\.n is NaN/],
    [{ record: { x: undefined } }, /checkpoint\.record\.x is undefined/],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'ddw-sched-'));
  try {
    for (const worker of [false, true]) {
      const model = await loadModel(new Uint8Array(bytes), { threads: 1, worker });
      try {
        for (const [spec, re] of bad) {
          const call = () => dream(model, image, { ...opts, checkpoint: { storage: dir, ...spec } });
          let c = null;
          await assert.rejects(async () => { c = call(); await c.result; },
            (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && re.test(e.message), `${worker ? 'worker' : 'in process'}: ${JSON.stringify(spec)}`);
          assert.equal(c, null, 'refused by dream() itself, before any work');
        }
        // plain data is kept: nested objects, arrays, null, numbers, strings, booleans
        const record = { note: 'x', a: { b: [1, null, true, { c: 'd' }] }, n: -0.5 };
        const c = dream(model, image, { ...opts, id: 'plain', checkpoint: { storage: dir, everyTiles: 1, record } });
        c.addEventListener('checkpoint', () => c.abort(), { once: true });
        await assert.rejects(c.result);
        await assert.rejects(resumeDream(model, 'plain', { checkpoint: { storage: dir, everyTiles: -2 } }),
          (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /everyTiles/.test(e.message));
        await assert.rejects(resumeDream(model, 'plain', { checkpoint: { storage: dir, record: { buf: new ArrayBuffer(2) } } }),
          (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /checkpoint\.record\.buf is an ArrayBuffer/.test(e.message));
        const r = await resumeDream(model, 'plain', { checkpoint: { storage: dir, everyTiles: 1, record: { more: 1 } } });
        await r.result;
      } finally {
        await model.free();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // true: the default store and schedule, as before
  assert.deepEqual(withSchedule(true), { everyTiles: 8 });
});
