// No raw JS error leaves the package: what fails below the API (a Node fs
// error, a TypeError/RangeError from a bad argument such as "Cannot convert
// abc to a BigInt") arrives as a DeepDreamError with a stable code and a
// sentence, in the API and in the Node CLI (no "ENOENT: ENOENT").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  loadModel, dream, resumeDream, listDreams, removeDream, saveModelBytes, encodeImage, DeepDreamError,
} from '../../wasm/js/index.js';
import { asDeepDreamError } from '../../wasm/js/errors.js';

const modelPath = new URL('../../models/default-model.pb', import.meta.url).pathname;
const model = await loadModel(readFileSync(modelPath), { threads: 1, worker: false });
const image = { width: 40, height: 32, channels: 3, data: new Uint8Array(40 * 32 * 3).fill(120) };
const dir = mkdtempSync(join(tmpdir(), 'ddw-raw-'));
const notADir = join(dir, 'file');
writeFileSync(notADir, 'x');
test.after(() => { model.free(); rmSync(dir, { recursive: true, force: true }); });

const dd = (code, re = /./) => (e) => e instanceof DeepDreamError && e.code === code && re.test(e.message)
  && !/^(ENOENT|EEXIST|ENOTDIR|Cannot convert)/.test(e.message);

test('bad argument types in dream() are DD_ERR_INVALID_ARGUMENT', () => {
  assert.throws(() => dream(model, image, { seed: 'abc', iterations: 1 }), dd('DD_ERR_INVALID_ARGUMENT'));
  assert.throws(() => dream(model, image, { seed: 1.5, iterations: 1 }), dd('DD_ERR_INVALID_ARGUMENT'));
  assert.throws(() => dream(model, image, { seed: {}, iterations: 1 }), dd('DD_ERR_INVALID_ARGUMENT'));
});

test('file system failures in the stores are DD_ERR_IO sentences', async () => {
  const sentence = /'.*file': (it already exists|a part of the path is not a directory)/;
  await assert.rejects(listDreams(notADir), dd('DD_ERR_IO', sentence));
  await assert.rejects(resumeDream(model, 'x', { storage: notADir }), dd('DD_ERR_IO', sentence));
  await assert.rejects(removeDream('x', notADir), dd('DD_ERR_IO', sentence));
  const c = dream(model, image, { iterations: 1, repeats: 0, tileSize: 16, checkpoint: { storage: notADir, everyTiles: 1 } });
  await assert.rejects(c.result, dd('DD_ERR_IO', sentence));
  await assert.rejects(loadModel(join(dir, 'missing.pb'), { threads: 1, worker: false }), dd('DD_ERR_IO', /missing\.pb/));
  await assert.rejects(saveModelBytes('https://example.com/m.pb', new Uint8Array(4)), dd('DD_ERR_INVALID_ARGUMENT', /indexeddb:\/\//));
});

test('asDeepDreamError: system errors, argument errors, anything else', () => {
  const sys = Object.assign(new Error("ENOENT: no such file or directory, open 'a.jpg'"), { code: 'ENOENT', syscall: 'open', path: 'a.jpg' });
  let e = asDeepDreamError(sys, 'reading');
  assert.equal(e.code, 'DD_ERR_IO');
  assert.equal(e.message, "reading: 'a.jpg': no such file or directory");
  assert.equal(e.cause, sys);
  let big;
  try { BigInt('abc'); } catch (x) { big = x; }
  e = asDeepDreamError(big, 'dream');
  assert.equal(e.code, 'DD_ERR_INVALID_ARGUMENT');
  assert.match(e.message, /^dream: invalid argument: /);
  assert.equal(asDeepDreamError(new Error('boom')).code, 'DD_ERR_INTERNAL');
  const same = new DeepDreamError('DD_ERR_PARSE', 'x');
  assert.equal(asDeepDreamError(same, 'y'), same);
});

test('the Node CLI prints sentences, never raw JS errors', async () => {
  const cli = new URL('../../wasm/js/cli.js', import.meta.url).pathname;
  const input = join(dir, 'in.png');
  writeFileSync(input, await encodeImage(image, 'png'));
  const run = (...args) => spawnSync(process.execPath, [cli, '--model', modelPath, '--threads', '1', '--quiet',
    '--iterations', '1', '--octaves', '0', '--tile', '16', ...args], { encoding: 'utf8' });
  let r = run('--seed', 'abc', input, join(dir, 'o.png'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /seed must be an integer in 0\.\.18446744073709551615 \(2\^64-1\), got 'abc'/);
  r = run(join(dir, 'missing.jpg'), join(dir, 'o.png'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^deepdream-wasm: DD_ERR_IO: cannot read the input image: '.*missing\.jpg': no such file or directory\n$/);
  r = run(input, join(dir, 'no-such-dir', 'o.png'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^deepdream-wasm: DD_ERR_IO: .*no-such-dir.*: no such file or directory\n$/);
  for (const x of [r.stderr]) assert.doesNotMatch(x, /ENOENT|Cannot convert/);
});
