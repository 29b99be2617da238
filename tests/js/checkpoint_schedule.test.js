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
