// The C<->JS seam has one source of truth (issue 18): the status names come
// from the core's DD_STATUS_LIST, the dream options cross by name through the
// core's option table and the progress through dd_progress' layout, which JS
// checks at load; a core whose layout differs is refused with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCore, loadModel, dream, Status, DeepDreamError } from '../../wasm/js/index.js';
import { readSeam, checkSeam } from '../../wasm/js/seam.js';
import { statusName } from '../../wasm/js/errors.js';
import { miniInception } from './lib/mini_inception.js';

const M = await loadCore({ threads: false });
const seam = readSeam(M);
const clone = () => structuredClone(seam);
const refused = (s, re) => assert.throws(() => checkSeam(s), (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_INTERNAL' &&
  /does not match this JavaScript/.test(e.message) && re.test(e.message), `expected ${re}`);

test('status names and values are the core\'s', () => {
  const src = readFileSync(fileURLToPath(new URL('../../wasm/js/errors.js', import.meta.url)), 'utf8');
  // no name -> value table (the codes errors.js gives fs errors are names, not a table)
  assert.doesNotMatch(src, /\b(?:DD_ERR_)?(?:INVALID_ARGUMENT|OUT_OF_MEMORY|STATE_MISMATCH|PARSE)['"]?\s*[:=]\s*-?\d/, 'errors.js keeps its own status table');
  assert.equal(seam.statuses.length, 13);
  for (const { value, name } of seam.statuses) {
    assert.equal(statusName(value), name);
    assert.equal(Status[name.replace(/^DD_(ERR_)?/, '')], value);
  }
  assert.equal(Status.DONE, 1);
  assert.equal(statusName(-3), 'DD_ERR_PARSE');
});

test('the real seam passes the check', () => {
  assert.doesNotThrow(() => checkSeam(clone()));
  assert.ok(seam.layouts.progress.fields.length === 25 && seam.layouts.options.fields.length === 26);
});

test('a tampered progress layout fails loudly', () => {
  let s = clone();
  s.layouts.progress.fields.find((f) => f.name === 'tiles_done').type = 'i32';
  refused(s, /dd_progress\.tiles_done is i32, expected i64/);
  s = clone();
  s.layouts.progress.fields = s.layouts.progress.fields.filter((f) => f.name !== 'grad_max');
  refused(s, /no member 'grad_max'/);
  s = clone();
  s.layouts.progress.fields.push({ name: 'loss', offset: 0, type: 'f64' });
  refused(s, /'loss' unknown to the JS API/);
  s = clone();
  s.layouts.progress.fields.find((f) => f.name === 'step_scaled').offset = s.layouts.progress.size;
  refused(s, /does not fit/);
});

test('a tampered option table fails loudly', () => {
  let s = clone();
  s.options.find((o) => o.name === 'iterations').kind = 'number';
  refused(s, /option 'iterations' is of kind 'number', expected 'int'/);
  s = clone();
  s.options = s.options.filter((o) => o.name !== 'seed');
  refused(s, /'seed'.*does not exist/);
  s = clone();
  s.options.push({ name: 'wobble', field: 'wobble', kind: 'int' });
  refused(s, /wobble/);
  s = clone();
  s.layouts.options.fields = s.layouts.options.fields.filter((f) => f.name !== 'num_iterations');
  refused(s, /num_iterations/);
  s = clone();
  s.statuses.find((x) => x.name === 'DD_DONE').value = 2;
  refused(s, /DD_DONE = 1/);
});

test('progress read through the layout carries every field', async () => {
  const model = await loadModel(miniInception({ scale: 16, seed: 5 }), { threads: 1 });
  const img = { width: 48, height: 40, channels: 3, data: new Uint8Array(48 * 40 * 3).fill(120) };
  const events = [];
  await dream(model, img, { layer: 'mixed3a', iterations: 2, repeats: 1, tileSize: 32, onProgress: (p) => events.push(p) }).result;
  const last = events.at(-1);
  assert.equal(last.fraction, 1);
  assert.equal(last.numIterations, 2);
  assert.equal(last.numOctaves, 2);
  assert.equal(last.imageWidth, 48);
  assert.equal(last.imageHeight, 40);
  assert.equal(last.tilesDone, events.length);
  assert.ok(Number.isFinite(last.gradMax) && last.gradMax > last.gradMin);
  model.free();
});
