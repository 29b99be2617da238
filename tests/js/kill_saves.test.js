// Saves that survive kill -9 (issue 12 §4). Child processes are killed at
// random points during their saves — training checkpoints to a fixed path,
// Node CLI dream checkpoints, native --save-state — and after each kill the
// latest save must load and resume to the same bytes as an uninterrupted run;
// the temporaries the killed writers left are gone after the next save/open.
// Bounded: a fixed number of trials, about 30 s in all on the 2-core CI box.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestCheckpoint, loadLayersModel } from '../../wasm/js/index.js';
import { killTrainData, killTrainModel } from './lib/kill_train.js';
import { fileId, killWhen, sleep, start, temporaries, uniform, waitOutput } from './lib/kill.js';

const root = (p) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const linux = process.platform === 'linux';
const model = root('models/default-model.pb');
const native = root('build/deepdream');

test('training: kill -9 during checkpoints to a fixed path; the latest loads and resumes bit-identically', { skip: !linux && 'needs /proc' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-kill-train-'));
  const base = join(dir, 'training_1');
  const rnd = uniform(12);
  const { x, y } = killTrainData();
  const TRIALS = 10;
  const broken = [], seen = new Set();
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      const child = start(process.execPath, [root('tests/js/lib/kill_train_child.mjs'), base, '100000']);
      const weights = join(base, 'cp.ckpt', 'weights.bin');
      assert.ok(await waitOutput(child, /saved \d+\n/), 'the child saved nothing');
      if (trial % 2) {
        await sleep(rnd() * 150); // anywhere in the save cycle
      } else {
        // as the checkpoint's weights are replaced (main: between weights.bin and model.json)
        const before = fileId(weights);
        killWhen(child.pid, () => fileId(weights) !== before, rnd() * 100);
      }
      child.kill('SIGKILL');
      await child.done;
      for (const e of temporaries(base)) seen.add(e.replace(/^.*\.(tmp|old|del)-.*$/, '$1'));
      const latest = await latestCheckpoint(base);
      let resumed;
      try {
        assert.equal(latest, join(base, 'cp.ckpt'));
        resumed = await loadLayersModel(latest);
      } catch (e) {
        broken.push(`trial ${trial}: ${e.message}`);
        continue;
      }
      const e0 = resumed.epoch, total = e0 + 2;
      const twin = killTrainModel();
      await twin.fit(x, y, { epochs: total, batchSize: x.length / 20, verbose: 0 });
      await resumed.fit(x, y, { epochs: total, initialEpoch: e0, batchSize: x.length / 20, verbose: 0 });
      assert.deepEqual((await resumed.getWeights()).map((w) => w.data), (await twin.getWeights()).map((w) => w.data), `trial ${trial}: resumed from epoch ${e0}`);
      if (trial === TRIALS - 1) await resumed.save(join(base, 'cp.ckpt')); // the next save cleans up after the killed ones
      resumed.dispose();
      twin.dispose();
    }
    t.diagnostic(`broken checkpoints: ${broken.length}/${TRIALS}; kills left temporaries of kinds: ${[...seen].sort().join(', ') || 'none'}`);
    assert.deepEqual(broken, []);
    assert.deepEqual(temporaries(base), []);
    assert.deepEqual(readdirSync(base).sort(), ['checkpoint', 'cp.ckpt']);
    assert.deepEqual(readdirSync(join(base, 'cp.ckpt')).sort(), ['model.json', 'weights.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Node CLI: kill -9 during --checkpoint writes; --resume gives the uninterrupted bytes and no temporaries stay', { skip: !linux && 'needs /proc' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-kill-cli-'));
  const ck = join(dir, 'ck');
  const cli = root('wasm/js/cli.js');
  const dreamArgs = ['--model', model, '--quiet', '--noise', '200x200', '--iterations', '3', '--octaves', '2', '--tile', '64', '--threads', '1'];
  const rnd = uniform(34);
  const TRIALS = 2;
  const failures = [];
  try {
    execFileSync(process.execPath, [cli, ...dreamArgs, '-', join(dir, 'ref.png')]);
    const ref = readFileSync(join(dir, 'ref.png'));
    for (let trial = 0; trial < TRIALS; trial++) {
      rmSync(ck, { recursive: true, force: true });
      const child = start(process.execPath, [cli, ...dreamArgs, '--checkpoint', ck, '-', join(dir, 'out.png')]);
      // once one checkpoint exists, kill as the next one is being written
      const saved = () => existsSync(ck) && readdirSync(ck).some((f) => f.endsWith('.ddream'));
      while (!saved() && child.exitCode === null) await sleep(2);
      const n = readdirSync(ck).length;
      const ids = () => readdirSync(ck);
      const killed = killWhen(child.pid, () => ids().length !== n, rnd() * 3000);
      await child.done;
      assert.ok(killed, `trial ${trial}: the dream ended before a second checkpoint was written`);
      const left = temporaries(ck).length;
      const id = readdirSync(ck).find((f) => f.endsWith('.ddream')).replace(/\.ddream$/, '');
      execFileSync(process.execPath, [cli, '--model', model, '--quiet', '--threads', '1', '--checkpoint', ck, '--resume', id, join(dir, 'out.png')]);
      assert.ok(readFileSync(join(dir, 'out.png')).equals(ref), `trial ${trial}: resumed bytes differ from the uninterrupted run`);
      const rest = readdirSync(ck);
      if (rest.length) failures.push(`trial ${trial}: ${left} temporaries after the kill, left after the resume: ${rest.join(', ')}`);
    }
    t.diagnostic(`trials leaving files behind: ${failures.length}/${TRIALS}`);
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('native CLI: kill -9 while --save-state overwrites the state; it still resumes to the uninterrupted bytes',
  { skip: (!linux && 'needs /proc') || (!existsSync(native) && 'build/deepdream not built') }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-kill-native-'));
    const st = join(dir, 'dream.state');
    const dreamArgs = ['--model', model, '--quiet', '--noise', '300x300', '--iterations', '3', '--octaves', '2', '--tile', '128'];
    const rnd = uniform(56);
    const TRIALS = 6;
    const broken = [];
    try {
      execFileSync(native, [...dreamArgs, '-', join(dir, 'ref.png')]);
      const ref = readFileSync(join(dir, 'ref.png'));
      for (let trial = 0; trial < TRIALS; trial++) {
        // a good state to overwrite: a dream interrupted (Ctrl-C) early
        rmSync(st, { force: true });
        const first = start(native, [...dreamArgs, '--save-state', st, '-', join(dir, 'out.png')]);
        await sleep(30 + rnd() * 60);
        first.kill('SIGINT');
        const r1 = await first.done;
        if (!existsSync(st)) { t.diagnostic(`trial ${trial}: finished before the interrupt (${r1.code})`); continue; }
        // continue it, interrupt again, and kill -9 while that state is written over the old one
        const second = start(native, ['--model', model, '--quiet', '--resume', st, '--save-state', st, '-', join(dir, 'out.png')]);
        await sleep(20 + rnd() * 40);
        const before = fileId(st), entries = readdirSync(dir).length;
        second.kill('SIGINT');
        // even trials: within 100 us of the write's start; odd ones: anywhere in its first 5 ms (write, fsync, rename)
        killWhen(second.pid, () => fileId(st) !== before || readdirSync(dir).length !== entries, rnd() * (trial % 2 ? 5000 : 100));
        await second.done;
        try {
          execFileSync(native, ['--model', model, '--quiet', '--resume', st, '-', join(dir, 'out.png')], { stdio: 'pipe' });
          assert.ok(readFileSync(join(dir, 'out.png')).equals(ref), `trial ${trial}: resumed bytes differ`);
        } catch (e) {
          broken.push(`trial ${trial}: ${String(e.stderr || e.message).trim()}`);
        }
      }
      t.diagnostic(`broken states: ${broken.length}/${TRIALS}`);
      assert.deepEqual(broken, []);
      // the next save removes what killed writers left
      const last = start(native, [...dreamArgs, '--save-state', st, '-', join(dir, 'out.png')]);
      await sleep(50);
      last.kill('SIGINT');
      await last.done;
      assert.deepEqual(temporaries(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
