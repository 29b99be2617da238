// ONNX Runtime as the independent oracle: the stand-ins of the zoo's networks
// (models/onnx/make-standins.py: the published structures, seeded weights)
// loaded by our core and by onnxruntime-node; every dream layer compared
// (rel L2 <= 1e-5) at two sizes, and our whole-network gradient of
// GoogLeNet's inception_4c/output objective against central differences of
// ONNX Runtime's forward (the loss summed in float64). Skipped without
// Debian's python3-onnx (the stand-ins' generator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../wasm/js/index.js';
import { noise, relL2 } from './lib/tfgraph.js';
import { onnxPython, ort, standin, toNCHW, toNHWC, withOutputs } from './lib/onnx_standins.js';

const skip = !onnxPython() && 'no python3 with the onnx package (Debian python3-onnx) to build the stand-ins';
// [stand-in, the network's input range (what its preprocessing gives), sizes]
const CASES = [
  ['bvlc_googlenet', [-128, 128], [[224, 224], [171, 250]]],
  ['resnet50', [-2.2, 2.7], [[224, 224], [160, 193]]],
];
const opts = { logSeverityLevel: 3, intraOpNumThreads: 1, interOpNumThreads: 1 };

async function runOrt(session, input, H, W) {
  const out = await session.run({ [session.inputNames[0]]: new (ort().Tensor)('float32', toNCHW(input, H, W, 3), [1, 3, H, W]) });
  return out;
}

for (const [name, [lo, hi], sizes] of CASES) {
  test(`${name} stand-in: every dream layer matches onnxruntime-node`, { skip }, async (t) => {
    const path = standin(name);
    const model = await loadModel(path, { threads: 1 });
    try {
      assert.equal(model.description.name, name, 'the structure is recognised');
      const layers = model.layers.map((l) => l.name);
      assert.ok(layers.length >= 8, `${layers.length} dream layers`);
      const session = await ort().InferenceSession.create(withOutputs(path, layers, 'dream-layers'), opts);
      for (const [H, W] of sizes) {
        const input = noise(H * W * 3, H * 7 + W, lo, hi);
        const want = await runOrt(session, input, H, W);
        const figs = [];
        for (const l of model.layers) {
          const got = model.forward(input, H, W, l.name);
          const [, C, h, w] = want[l.name].dims;
          assert.deepEqual(got.shape, [1, h, w, C], `${l.name} shape`);
          assert.equal(C, l.channels, `${l.name} channels`);
          const e = relL2(got.data, toNHWC(want[l.name].data, C, h, w));
          figs.push(`${l.name} ${e.toExponential(1)}`);
          assert.ok(e <= 1e-5, `${H}x${W} ${l.name}: rel L2 ${e} against onnxruntime`);
        }
        t.diagnostic(`${H}x${W}: ${figs.join(', ')}`);
      }
    } finally {
      model.free();
    }
  });
}

test('bvlc_googlenet stand-in: the inception_4c/output gradient against finite differences of onnxruntime', { skip }, async (t) => {
  const path = standin('bvlc_googlenet');
  const layer = 'inception_4c/output_1';
  const session = await ort().InferenceSession.create(withOutputs(path, [layer], 'inception_4c'), opts);
  const model = await loadModel(path, { threads: 1 });
  try {
    const [H, W] = [112, 136];
    const x = noise(H * W * 3, 99, -128, 128);
    const loss = async (v) => { // mean(square(layer)) in float64
      const d = (await runOrt(session, v, H, W))[layer].data;
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[i] * d[i];
      return s / d.length;
    };
    const { grad, loss: ours } = model.gradient(x, H, W, { layer: 'inception_4c/output' }); // the Caffe blob name
    const l0 = await loss(x);
    assert.ok(Math.abs(ours - l0) <= 1e-5 * l0, `loss ${ours} vs onnxruntime ${l0}`);
    // directions: the gradient's own (scaled to at most 1 per pixel) plus seeded noise, so the derivative
    // stands well above float32's rounding of the loss; a pure noise direction's derivative nearly cancels
    let gmax = 0;
    for (const v of grad) gmax = Math.max(gmax, Math.abs(v));
    const h = 0.05, figs = []; // central differences: 1 -> 2e-2, 0.25 -> 6e-3, 0.05 -> 1e-3 (curvature: ReLU, max pool)
    for (let k = 0; k < 3; k++) {
      const d = noise(x.length, 1000 + k, -1, 1);
      for (let i = 0; i < d.length; i++) d[i] = grad[i] / gmax + (k === 2 ? 1 : 0.3) * d[i];
      const xp = new Float32Array(x.length), xm = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) { xp[i] = x[i] + h * d[i]; xm[i] = x[i] - h * d[i]; }
      const fd = (await loss(xp) - await loss(xm)) / (2 * h);
      let an = 0;
      for (let i = 0; i < x.length; i++) an += grad[i] * d[i];
      figs.push(`${(Math.abs(fd - an) / Math.abs(an)).toExponential(1)}`);
      assert.ok(Math.abs(fd - an) <= 5e-3 * Math.abs(an), `direction ${k}: finite difference ${fd}, gradient ${an}`);
    }
    t.diagnostic(`directional derivatives, relative error: ${figs.join(', ')}`);
  } finally {
    model.free();
  }
});
