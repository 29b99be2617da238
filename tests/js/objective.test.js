// The objectives beyond the tutorial through the JS API (issue 15): the guide objective (Google's Caffe
// objective_guide) and channel/direction terms against an independent TensorFlow.js computation on the
// stand-in Inception 5h; the options reach the core by name and bad ones come back as coded errors; a guided,
// transformed dream saved and resumed in JS gives the same bytes without the guide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadModel, dream } from '../../wasm/js/index.js';
import { dreamFromState } from '../../wasm/js/dream.js';
import { readGraphDef } from '../../models/lib/graphdef.js';
import { graphRunner, relL2, cosine, noise } from './lib/tfgraph.js';
import { miniInception } from './lib/mini_inception.js';

const shared = process.env.DD_SHARED_DIR || fileURLToPath(new URL('../../../shared', import.meta.url));
const path = `${shared}/models/inception5h-standin.pb`;
const have = existsSync(path);

test('guide, channel and direction gradients match TensorFlow.js on the stand-in', { skip: !have && 'no ../shared stand-in model' }, async (t) => {
  await tf.setBackend('wasm');
  const run = graphRunner(tf, readGraphDef(readFileSync(path)));
  const model = await loadModel(path, { threads: 1 });
  try {
    const H = 160, W = 176, GH = 120, GW = 100;
    const input = noise(H * W * 3, 5, 0, 255), guide = noise(GH * GW * 3, 6, 0, 255);
    const x = tf.tensor4d(input, [1, H, W, 3]);
    for (const layer of ['mixed3b', 'mixed4c']) {
      // TF.js: guide features G (positions x channels); each position of the dream's activation y is matched to
      // the guide feature of largest dot product; L = mean over positions of dot(y, G[match]), match held fixed
      const G = tf.tidy(() => { const g = run(tf.tensor4d(guide, [1, GH, GW, 3]), layer); return g.reshape([-1, g.shape[3]]); });
      const flat = (xx) => { const y = run(xx, layer); return y.reshape([-1, y.shape[3]]); };
      const match = tf.tidy(() => tf.argMax(tf.matMul(flat(x), G, false, true), 1)); // the matches, held fixed
      const matched = tf.gather(G, match);
      const f = (xx) => tf.mean(tf.sum(tf.mul(flat(xx), matched), 1));
      const want = tf.tidy(() => tf.grad(f)(x));
      const wantLoss = tf.tidy(() => f(x).dataSync()[0]);
      const got = model.gradient(input, H, W, { objective: `guide(${layer})`, guide: { data: guide, width: GW, height: GH } });
      const wd = want.dataSync();
      const e = relL2(got.grad, wd), cos = cosine(got.grad, wd);
      t.diagnostic(`guide(${layer}): rel L2 ${e.toExponential(2)}, cosine ${cos.toFixed(7)}, loss ${got.loss} vs ${wantLoss}`);
      assert.ok(e <= 1e-2 && cos >= 0.9999, `guide(${layer}) gradient rel L2 ${e}, cosine ${cos}`);
      assert.ok(Math.abs(got.loss - wantLoss) <= 1e-4 * Math.abs(wantLoss), `loss ${got.loss} vs ${wantLoss}`);
      want.dispose();
      G.dispose();
      match.dispose();
      matched.dispose();
    }
    // channel and direction on mixed4c
    const C = model.findNode('mixed4c').channels;
    // the most active channel on this input (a dead one would compare two zero gradients)
    const act = model.forward(input, H, W, 'mixed4c').data, mean = new Float64Array(C);
    for (let i = 0; i < act.length; i++) mean[i % C] += act[i];
    const k = mean.indexOf(Math.max(...mean));
    const v = Array.from({ length: C }, (_, i) => Math.sin(i * 0.37));
    const cases = [
      [`channel(mixed4c,${k})`, (y) => tf.mean(y.slice([0, 0, 0, k], [-1, -1, -1, 1]))],
      [`direction(mixed4c,[${v.join(',')}])`, (y) => tf.mean(tf.sum(tf.mul(y, tf.tensor1d(v)), 3))],
      [`0.5*channel(mixed4c,${k})-square(mixed3b,[3,9])`, null],
    ];
    for (const [objective, fn] of cases) {
      const f = fn ? (xx) => fn(run(xx, 'mixed4c'))
        : (xx) => tf.sub(tf.mul(0.5, tf.mean(run(xx, 'mixed4c').slice([0, 0, 0, k], [-1, -1, -1, 1]))),
          tf.mean(tf.square(tf.concat([3, 9].map((c) => run(xx, 'mixed3b').slice([0, 0, 0, c], [-1, -1, -1, 1])), 3))));
      const want = tf.tidy(() => tf.grad(f)(x));
      const got = model.gradient(input, H, W, { objective });
      assert.ok(got.grad.some((g) => g !== 0), `${objective.slice(0, 40)}: zero gradient`);
      const e = relL2(got.grad, want.dataSync()), cos = cosine(got.grad, want.dataSync());
      t.diagnostic(`${objective.slice(0, 40)}: rel L2 ${e.toExponential(2)}, cosine ${cos.toFixed(7)}`);
      assert.ok(e <= 1e-2 && cos >= 0.9999, `${objective.slice(0, 40)}: rel L2 ${e}, cosine ${cos}`);
      want.dispose();
    }
    x.dispose();
  } finally {
    model.free();
    run.dispose();
  }
});

test('objective options: names reach the core, bad values are coded errors quoting the text', async () => {
  const model = await loadModel(miniInception({ scale: 16, seed: 2 }), { threads: 1 });
  const pic = { width: 48, height: 40, channels: 3, data: new Uint8Array(48 * 40 * 3).map((_, i) => (i * 7) & 255) };
  try {
    const bad = [
      [{ objective: 'channel(mixed4c 97)' }, 'DD_ERR_INVALID_ARGUMENT', /at character 17 of 'channel\(mixed4c 97\)'/],
      [{ objective: 'channel(mixed4c,97)' }, 'DD_ERR_NOT_FOUND', /channel 97 does not exist in 'mixed4c'/],
      [{ objective: 'guide(mixed4c)' }, 'DD_ERR_INVALID_ARGUMENT', /no guide image was given/],
      [{ gradient: 'sharp' }, 'DD_ERR_INVALID_ARGUMENT', /gradient \(gradient_mode\) must be one of smooth\|laplacian/],
      [{ rotate: 200 }, 'DD_ERR_INVALID_ARGUMENT', /rotate must be a number in \[0, 180\]/],
      [{ guide: { data: new Uint8Array(5), width: 2, height: 2 } }, 'DD_ERR_INVALID_ARGUMENT', /image data has 5 bytes/],
    ];
    for (const [o, code, re] of bad) {
      assert.throws(() => dream(model, pic, { iterations: 1, repeats: 0, ...o }), (e) => e.code === code && re.test(e.message),
        JSON.stringify(o).slice(0, 60));
    }
  } finally {
    model.free();
  }
});

test('a guided, transformed, Laplacian dream saved mid-way resumes in JS to the same bytes without its guide', async () => {
  const model = await loadModel(miniInception({ scale: 16, seed: 2 }), { threads: 1 });
  const W = 64, H = 56;
  const pic = { width: W, height: H, channels: 4, data: new Uint8Array(W * H * 4).map((_, i) => (i * 13 + (i >> 6)) & 255) };
  const guide = { width: 40, height: 30, channels: 3, data: new Uint8Array(40 * 30 * 3).map((_, i) => (i * 29) & 255) };
  const o = { layer: 'mixed4c', guide, gradient: 'laplacian', lapLevels: 3, pad: 4, jitter: 3, roll: 5, rotate: 5, scale: 0.05,
    tv: 2, iterations: 2, repeats: 1, tileSize: 32, seed: 9 };
  try {
    const want = await dream(model, pic, o).result;
    const tutorial = await dream(model, pic, { layer: 'mixed4c', iterations: 2, repeats: 1, tileSize: 32, seed: 9 }).result;
    assert.notDeepEqual(want.data, tutorial.data);
    for (const stopAt of [1, 4]) {
      const c = dream(model, pic, { ...o, tilesPerStep: 1 });
      let state = null;
      await new Promise((resolve) => {
        c.addEventListener('progress', () => { if (!state && c.progress.tilesDone >= stopAt) { state = c.saveState(); c.abort(); resolve(); } });
        c.result.catch(() => resolve());
      });
      assert.ok(state, 'a state was saved');
      const r = dreamFromState(model, state, {});
      const got = await r.result;
      assert.deepEqual(got.data, want.data, `resumed after ${stopAt} tiles`);
    }
  } finally {
    model.free();
  }
});
