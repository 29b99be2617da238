// The wasm core against TensorFlow.js on a miniature Inception 5h (the real
// file's node names, ops and encoding; 1/16 of its channels): forward values
// of the tutorial's 12 layers and DeepDream input gradients. Needs no ../shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadModel, DeepDreamError } from '../../wasm/js/index.js';
import { miniInception, TUTORIAL_LAYERS } from './lib/mini_inception.js';
import { readGraphDef, writeGraphDef, attr } from '../../models/lib/graphdef.js';
import { graphRunner, tfDreamGradient, relL2, cosine, noise } from './lib/tfgraph.js';

await tf.setBackend('cpu');
const bytes = miniInception({ scale: 16, seed: 3 });
const nodes = readGraphDef(bytes);
const run = graphRunner(tf, nodes);

test('lists the tutorial layers and every conv layer', async () => {
  const model = await loadModel(bytes.slice(), { threads: 1 });
  try {
    assert.deepEqual(model.layers.map((l) => l.name), TUTORIAL_LAYERS);
    assert.equal(model.convLayers.length, 59);
    const convOut = nodes.filter((n) => n.op === 'Conv2D').map((n) => nodes.find((m) => m.name === n.inputs[1]).attr.value.tensor.shape[3]);
    assert.deepEqual(model.convLayers.map((l) => l.channels), convOut);
    const outCh = (b) => nodes.find((m) => m.name === `${b}_w`).attr.value.tensor.shape[3];
    const want4a = ['1x1', '3x3', '5x5', 'pool_reduce'].reduce((s, b) => s + outCh(`mixed4a_${b}`), 0);
    assert.equal(model.layers[5].channels, want4a);
    assert.equal(model.findNode('mixed4d_3x3_bottleneck_pre_relu:0').name, 'mixed4d_3x3_bottleneck_pre_relu');
    assert.throws(() => model.findNode('nope'), (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_NOT_FOUND' && /mixed4c/.test(e.message));
  } finally {
    model.free();
  }
});

for (const [H, W] of [[67, 53], [45, 80]]) {
  test(`forward of the 12 layers matches TF.js at ${H}x${W}`, async () => {
    const model = await loadModel(bytes.slice(), { threads: 1 });
    const input = noise(H * W * 3, H * 1000 + W);
    const x = tf.tensor4d(input, [1, H, W, 3]);
    try {
      for (const layer of TUTORIAL_LAYERS) {
        const got = model.forward(input, H, W, layer);
        const want = run(x, layer);
        assert.deepEqual(got.shape, want.shape, layer);
        const e = relL2(got.data, want.dataSync());
        assert.ok(e <= 1e-5, `${layer}: relative L2 ${e}`);
      }
    } finally {
      model.free();
      x.dispose();
    }
  });
}

test('DeepDream gradients match tf.grad', async () => {
  const model = await loadModel(bytes.slice(), { threads: 1 });
  const [H, W] = [61, 47];
  const input = noise(H * W * 3, 99);
  const x = tf.tensor4d(input, [1, H, W, 3]);
  try {
    for (const [layer, channels] of [['conv2d2', []], ['mixed3b', []], ['mixed4c', [0, 1, 2]], ['mixed5b', [0]]]) {
      const { grad, loss } = model.gradient(input, H, W, { layer, channels });
      const want = tfDreamGradient(tf, run, x, layer, channels);
      const w = want.dataSync();
      const e = relL2(grad, w), cos = cosine(grad, w);
      assert.ok(e <= 1e-3 && cos >= 0.99999, `${layer}[${channels}]: relL2 ${e} cosine ${cos}`);
      assert.ok(loss > 0);
      want.dispose();
    }
    // by index, as the tutorial does (layer_tensors[7][:,:,:,0:3])
    const a = model.gradient(input, H, W, { layer: 7, channels: [0, 1, 2] });
    const b = model.gradient(input, H, W, { layer: 'mixed4c', channels: [0, 1, 2] });
    assert.deepEqual(a.grad, b.grad);
    assert.throws(() => model.gradient(input, H, W, { layer: 12 }), (e) => e.code === 'DD_ERR_NOT_FOUND');
    assert.throws(() => model.gradient(input, H, W, { layer: 'mixed4c', channels: [100000] }), (e) => e.code === 'DD_ERR_NOT_FOUND');
  } finally {
    model.free();
    x.dispose();
  }
});

test('bad model bytes give DeepDreamErrors, not crashes', async () => {
  await assert.rejects(loadModel(bytes.slice(0, 1000)), (e) => e instanceof DeepDreamError && e.code === 'DD_ERR_PARSE');
  await assert.rejects(loadModel(new Uint8Array([0xff, 0xff, 0xff])), (e) => e instanceof DeepDreamError);
  const unknown = writeGraphDef([
    { name: 'input', op: 'Placeholder', attr: { dtype: attr.type(1) } },
    { name: 'weird', op: 'Tanh', inputs: ['input'], attr: { T: attr.type(1) } },
  ]);
  await assert.rejects(loadModel(unknown), (e) => e.code === 'DD_ERR_UNSUPPORTED' && /Tanh/.test(e.message) && /weird/.test(e.message));
  const missing = writeGraphDef([
    { name: 'input', op: 'Placeholder', attr: { dtype: attr.type(1) } },
    { name: 'r', op: 'Relu', inputs: ['nothere'], attr: { T: attr.type(1) } },
  ]);
  await assert.rejects(loadModel(missing), (e) => e.code === 'DD_ERR_GRAPH' && /nothere/.test(e.message));
  // the core still works afterwards
  const model = await loadModel(bytes.slice(), { threads: 1 });
  assert.equal(model.layers.length, 12);
  model.free();
});
