// The crash states a killed save can leave, built by hand (kill_saves.test.js
// reaches them by kill -9 at random moments): an interrupted directory swap,
// orphan temporaries of dead and of live writers, checkpoints written by
// 0467709 (in-place renames, orphans inside the directory), and a directory
// holding files that are not a model's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latestCheckpoint, loadLayersModel, DeepDreamError } from '../../wasm/js/index.js';
import { killTrainData, killTrainModel } from './lib/kill_train.js';

const dir = mkdtempSync(join(tmpdir(), 'dd-atomic-dir-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const deadPid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));
const { x, y } = killTrainData();
const suffix = (pid, ms = Date.now() - 1000) => `${pid}-${ms}-abc123`;

async function trained(epochs) {
  const m = killTrainModel();
  await m.fit(x, y, { epochs, batchSize: 8, verbose: 0 });
  return m;
}
const weightsOf = async (m) => (await m.getWeights()).map((w) => w.data);

test('an interrupted swap: readers take the complete new directory; the next save in the folder finishes it', async () => {
  const base = join(dir, 'swap'), p = join(base, 'cp.ckpt');
  const a = await trained(1), b = await trained(2);
  await a.save(p, { checkpoint: { maxToKeep: 5 } }); // records it in <base>/checkpoint for latestCheckpoint
  await b.save(join(dir, 'b-src'));
  // the state between the two renames: cp.ckpt moved aside, the complete new one not yet renamed in
  const s = suffix(deadPid);
  renameSync(p, `${p}.old-${s}`);
  cpSync(join(dir, 'b-src'), `${p}.tmp-${s}`, { recursive: true });
  assert.equal(await latestCheckpoint(base), p);
  const loaded = await loadLayersModel(p);
  assert.equal(loaded.epoch, 2);
  assert.deepEqual(await weightsOf(loaded), await weightsOf(b));
  assert.deepEqual(readdirSync(base).sort(), ['checkpoint', `cp.ckpt.old-${s}`, `cp.ckpt.tmp-${s}`], 'loading writes nothing');
  await a.save(join(base, 'other')); // any save in the folder
  assert.deepEqual(readdirSync(base).sort(), ['checkpoint', 'cp.ckpt', 'other']);
  assert.deepEqual(await weightsOf(await loadLayersModel(p)), await weightsOf(b));
  for (const m of [a, b, loaded]) m.dispose();
});

test('a swap killed before its new directory was complete keeps the old one; live writers are left alone', async () => {
  const base = join(dir, 'partial'), p = join(base, 'cp.ckpt');
  const a = await trained(1);
  await a.save(p);
  const dead = suffix(deadPid), live = suffix(process.pid), fresh = suffix(deadPid, Date.now() + 60_000);
  mkdirSync(`${p}.tmp-${dead}`); // killed while writing the new directory
  writeFileSync(join(`${p}.tmp-${dead}`, 'weights.bin'), 'partial');
  mkdirSync(`${p}.tmp-${live}`); // a save in progress in a live process
  writeFileSync(`${base}/checkpoint.tmp-${fresh}`, 'x'); // newer than the cleaning save
  renameSync(p, `${p}.del-${dead}`); // and a removal killed after its rename
  mkdirSync(p);
  cpSync(`${p}.del-${dead}`, p, { recursive: true });
  assert.deepEqual(await weightsOf(await loadLayersModel(p)), await weightsOf(a));
  const b = await trained(2);
  await b.save(p);
  assert.deepEqual(readdirSync(base).sort(), [`checkpoint.tmp-${fresh}`, 'cp.ckpt', `cp.ckpt.tmp-${live}`]);
  assert.deepEqual(await weightsOf(await loadLayersModel(p)), await weightsOf(b));
  // an .old- without its new twin (it was never renamed in): the old directory goes back
  rmSync(`${p}.tmp-${live}`, { recursive: true });
  renameSync(p, `${p}.old-${dead}`);
  assert.deepEqual(await weightsOf(await loadLayersModel(p)), await weightsOf(b), 'readers fall back to the old one');
  await a.save(join(base, 'other'));
  assert.deepEqual(await weightsOf(await loadLayersModel(p)), await weightsOf(b));
  assert.ok(!readdirSync(base).some((e) => e.includes('.old-')));
  a.dispose();
  b.dispose();
});

test('checkpoints written by 0467709 load, and saving over one removes the orphans inside it', async () => {
  const base = join(dir, 'legacy'), p = join(base, 'cp.ckpt');
  const a = await trained(1);
  await a.save(p);
  // 0467709 renamed weights.bin and model.json in place and left killed writes' temporaries inside
  const orphan = `weights.bin.tmp-${suffix(deadPid)}`;
  writeFileSync(join(p, orphan), Buffer.alloc(4096));
  writeFileSync(join(p, `model.json.tmp-${suffix(deadPid)}`), '{');
  assert.deepEqual(await weightsOf(await loadLayersModel(p)), await weightsOf(a));
  const b = await trained(2);
  await b.save(p);
  assert.deepEqual(readdirSync(p).sort(), ['model.json', 'weights.bin']);
  assert.deepEqual(JSON.parse(readFileSync(join(p, 'model.json'), 'utf8')).weightsManifest[0].paths, ['weights.bin']);
  a.dispose();
  b.dispose();
});

test('a directory holding other files, or the working directory, is not replaced', async () => {
  const p = join(dir, 'mixed');
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, 'notes.txt'), 'mine');
  const a = await trained(1);
  await assert.rejects(a.save(p), (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_INVALID_ARGUMENT' && /notes\.txt/.test(e.message));
  assert.deepEqual(readdirSync(p), ['notes.txt']);
  writeFileSync(join(dir, 'afile'), 'x');
  await assert.rejects(a.save(join(dir, 'afile')), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
  // the working directory (or an ancestor) would be renamed away from under the process
  const here = process.cwd();
  await a.save(join(dir, 'cwd'));
  process.chdir(join(dir, 'cwd'));
  try {
    await assert.rejects(a.save('.'), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /working directory/.test(e.message));
  } finally {
    process.chdir(here);
  }
  a.dispose();
});
