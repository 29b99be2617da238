// Issue 3's proof: ../shared's 54 MB stand-in for tensorflow_inception_graph.pb
// (the real file's bytes layout, random weights), loaded as it is and compared
// with an independent TensorFlow.js implementation of the same graph built
// from the same weights. Skipped when ../shared is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel } from '../../wasm/js/index.js';
import { readGraphDef } from '../../models/lib/graphdef.js';
import { graphRunner, tfDreamGradient, relL2, cosine, noise } from './lib/tfgraph.js';
import { TUTORIAL_LAYERS } from './lib/mini_inception.js';

const shared = process.env.DD_SHARED_DIR || fileURLToPath(new URL('../../../shared', import.meta.url));
const path = `${shared}/models/inception5h-standin.pb`;
const have = existsSync(path);

test('stand-in Inception 5h matches TensorFlow.js', { skip: !have && 'no ../shared stand-in model' }, async (t) => {
  await tf.setBackend('wasm');
  const nodes = readGraphDef(readFileSync(path));
  const run = graphRunner(tf, nodes);
  const t0 = performance.now();
  const model = await loadModel(path, { threads: 1 });
  t.diagnostic(`load ${(performance.now() - t0).toFixed(0)} ms, wasm heap ${(model._M.HEAPU8.length / 2 ** 20).toFixed(1)} MiB`);
  try {
    assert.equal(model.convLayers.length, 59);
    assert.equal(model.convLayers.reduce((s, l) => s + l.channels, 0), 7548);
    for (const [H, W] of [[224, 224], [207, 301]]) {
      const input = noise(H * W * 3, H + W, 0, 255);
      const x = tf.tensor4d(input, [1, H, W, 3]);
      const want = run(x, TUTORIAL_LAYERS);
      const figs = [];
      for (let i = 0; i < 12; i++) {
        const got = model.forward(input, H, W, TUTORIAL_LAYERS[i]);
        assert.deepEqual(got.shape, want[i].shape);
        const e = relL2(got.data, want[i].dataSync());
        figs.push(`${TUTORIAL_LAYERS[i]} ${e.toExponential(1)}`);
        assert.ok(e <= 1e-4, `${H}x${W} ${TUTORIAL_LAYERS[i]} forward rel L2 ${e}`);
      }
      t.diagnostic(`${H}x${W} forward rel L2: ${figs.join(', ')}`);
      const probs = model.forward(input, H, W, 'softmax2');
      assert.equal(probs.shape[3], 1008);
      for (const layer of ['conv2d2', 'mixed3b', 'mixed4c', 'mixed5b']) {
        const { grad } = model.gradient(input, H, W, { layer });
        const w = tfDreamGradient(tf, run, x, layer);
        const wd = w.dataSync();
        const e = relL2(grad, wd), cos = cosine(grad, wd);
        w.dispose();
        t.diagnostic(`${H}x${W} gradient ${layer}: rel L2 ${e.toExponential(2)}, cosine ${cos.toFixed(7)}`);
        if (layer === 'conv2d2') assert.ok(e <= 1e-5, `conv2d2 gradient rel L2 ${e}`);
        else assert.ok(e <= 1e-2 && cos >= 0.9999, `${layer} gradient rel L2 ${e} cosine ${cos}`);
      }
      x.dispose();
      want.forEach((w) => w.dispose());
    }
  } finally {
    model.free();
    run.dispose();
  }
});
