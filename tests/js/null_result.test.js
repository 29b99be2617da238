// A C call that returns NULL must never pass as a live object, even when the
// core left dd_error empty: loadModel rejects instead of resolving with a dead
// model, and so do the dream, resume, image decode and training paths. The
// real module is used with one export at a time replaced by a function that
// fails without a message (what a missing dd_fail in the core looks like).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadModel, loadCore, dream, decodeImage, encodeImage, DeepDreamError, sequential, dense } from '../../wasm/js/index.js';
import { dreamFromState } from '../../wasm/js/dream.js';

const modelBytes = readFileSync(new URL('../../models/default-model.pb', import.meta.url));
const M = await loadCore({ threads: false });

/** Runs fn with M[name] failing silently (NULL, dd_error untouched). */
async function withSilentFailure(name, fn) {
  const real = M[name];
  assert.equal(typeof real, 'function', name);
  M[name] = () => 0;
  try {
    return await fn();
  } finally {
    M[name] = real;
  }
}

const internal = (context) => (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_INTERNAL'
  && e.message.startsWith(`${context}: `) && /no result and gave no reason/.test(e.message);

test('loadModel rejects when the core returns no model and no message', async () => {
  await withSilentFailure('_ddw_model_load', () =>
    assert.rejects(loadModel(new Uint8Array(modelBytes), { threads: 1, worker: false }), internal('loadModel')));
  await withSilentFailure('_ddw_model_layer', () =>
    assert.rejects(loadModel(new Uint8Array(modelBytes), { threads: 1, worker: false }), internal('loadModel: layer list')));
});

test('a status of success with no output block is refused (saveState, encodeImage)', async () => {
  const model = await loadModel(new Uint8Array(modelBytes), { threads: 1, worker: false });
  try {
    const img = { data: new Uint8Array(32 * 32 * 3).fill(90), width: 32, height: 32, channels: 3 };
    const c = dream(model, img, { iterations: 1, repeats: 0, tileSize: 16 });
    await withSilentFailure('_ddw_dream_save_state', () => assert.throws(() => c.saveState(), internal('saveState')));
    c.abort();
    await assert.rejects(c.result);
    await withSilentFailure('_ddw_image_encode', () => assert.rejects(encodeImage(img, 'png'), internal('encodeImage')));
  } finally {
    model.free();
  }
});

test('findNode, dream, resume and decodeImage reject a silent NULL', async () => {
  const model = await loadModel(new Uint8Array(modelBytes), { threads: 1, worker: false });
  try {
    await withSilentFailure('_ddw_model_find_node', () => assert.throws(() => model.findNode(model.layers[0].name), internal('findNode')));
    const img = { data: new Uint8Array(32 * 32 * 3).fill(90), width: 32, height: 32, channels: 3 };
    await withSilentFailure('_ddw_dream_begin', () => assert.throws(() => dream(model, img, { iterations: 1, repeats: 0 }), internal('dream')));
    const c = dream(model, img, { iterations: 1, repeats: 0, tileSize: 16 });
    const state = c.saveState();
    await c.result;
    await withSilentFailure('_ddw_dream_restore', () =>
      assert.throws(() => dreamFromState(model, state, { id: 'x', width: 32, height: 32, channels: 3, options: c.options }), internal('resumeDream')));
    const png = await encodeImage(img, 'png');
    await withSilentFailure('_ddw_image_decode', () => assert.rejects(decodeImage(png), internal('decodeImage')));
  } finally {
    model.free();
  }
});

test('the training net rejects a silent NULL from create and parameter info', async () => {
  const make = () => sequential([dense(4, { inputShape: [3], name: 'd' })], { seed: 1 });
  await withSilentFailure('_ddw_net_create', () => assert.rejects(make().build(), internal('creating the model')));
  const net = make();
  await net.build();
  await withSilentFailure('_ddw_net_param_info', () => assert.rejects(net.getWeights(), internal('parameter info')));
  net.dispose();
});

test('checkPtr: a filled dd_error still wins over the generic sentence', async () => {
  const { checkPtr } = await import('../../wasm/js/heap.js');
  const fake = { _ddw_error_status: () => -5, _ddw_error_message: () => 1, UTF8ToString: () => 'no node "x"' };
  assert.throws(() => checkPtr(fake, 0, 8, 'findNode'), (e) => e.code === 'DD_ERR_NOT_FOUND' && e.message === 'findNode: no node "x"');
  assert.equal(checkPtr(fake, -8, 8, 'x'), 2 ** 32 - 8);
});
