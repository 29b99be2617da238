// The model description in the JS API (what the network expects; dreams feed
// it and give RGB back): Inception 5h's is the identity with the tutorial's
// default layer; a BGR description changes the dream and the fingerprint (a
// checkpoint never resumes under another description); restoring it gives the
// first bytes back; bad values are refused with a code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, dream, DeepDreamError } from '../../wasm/js/index.js';
import { miniInception } from './lib/mini_inception.js';

const model = await loadModel(miniInception({ scale: 16, seed: 5 }), { threads: 1 });
const W = 64, H = 48;
const image = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 37 + (i % 3) * 80) & 255;
const opts = { layer: 'mixed3a', iterations: 2, repeats: 1, tileSize: 32, seed: 3 };

test('Inception 5h structure: identity description, the tutorial\'s default layer', () => {
  const d = model.description;
  assert.deepEqual(d, { name: 'inception5h', channelOrder: 'RGB', mean: [0, 0, 0], scale: [1, 1, 1], defaultLayer: 2 });
  assert.equal(model.layers[d.defaultLayer].name, 'conv2d2');
});

test('a BGR description changes the dream and the fingerprint; restoring it restores both', async () => {
  const ref = await dream(model, image, opts).result;
  const fp = model.fingerprint, d0 = model.description;
  model.setDescription({ channelOrder: 'BGR', mean: [10, 20, 30], scale: [1, 0.5, 2] });
  try {
    assert.notEqual(model.fingerprint, fp);
    assert.deepEqual(model.description.scale, [1, 0.5, 2]);
    const other = await dream(model, image, opts).result;
    assert.notDeepEqual(other.data, ref.data);
  } finally {
    model.setDescription(d0);
  }
  assert.equal(model.fingerprint, fp);
  assert.deepEqual((await dream(model, image, opts).result).data, ref.data);
});

test('defaultLayer by name; bad descriptions are refused with a code', () => {
  const d0 = model.description;
  model.setDescription({ defaultLayer: 'mixed4c' });
  assert.equal(model.layers[model.description.defaultLayer].name, 'mixed4c');
  model.setDescription(d0);
  const bad = (desc, code) => assert.throws(() => model.setDescription(desc), (e) => e instanceof DeepDreamError && e.code === code);
  bad({ scale: [1, 0, 1] }, 'DD_ERR_INVALID_ARGUMENT');
  bad({ mean: [1, NaN, 1] }, 'DD_ERR_INVALID_ARGUMENT');
  bad({ mean: [1, 2] }, 'DD_ERR_INVALID_ARGUMENT');
  bad({ channelOrder: 'GBR' }, 'DD_ERR_INVALID_ARGUMENT');
  bad({ defaultLayer: 99 }, 'DD_ERR_INVALID_ARGUMENT');
  assert.deepEqual(model.description, d0);
});
