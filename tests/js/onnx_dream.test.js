// The BVLC GoogLeNet stand-in (the zoo's structure, seeded weights) dreams
// inception_4c/output end to end in Node through the JS API: the model's
// description (BGR, Caffe means) feeds the tiles, the dream changes the
// picture, and a dream interrupted at a checkpoint resumes to the same bytes.
// Skipped without Debian's python3-onnx (the stand-in's generator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, dream, resumeDream } from '../../wasm/js/index.js';
import { onnxPython, standin } from './lib/onnx_standins.js';

const skip = !onnxPython() && 'no python3 with the onnx package (Debian python3-onnx) to build the stand-in';
const W = 112, H = 88;
const image = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
for (let i = 0; i < W * H; i++) {
  const x = i % W, y = (i / W) | 0;
  image.data.set([128 + 100 * Math.sin(x / 9), 128 + 90 * Math.cos(y / 7), (x * y) % 255], i * 3);
}
const opts = { layer: 'inception_4c/output', iterations: 2, repeats: 1, tileSize: 64, seed: 5 };

test('GoogLeNet stand-in: dreams inception_4c/output, and a checkpoint resumes to the same bytes', { skip }, async (t) => {
  const model = await loadModel(standin('bvlc_googlenet'), { threads: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'ddonnx-'));
  try {
    const d = model.description;
    assert.equal(d.name, 'bvlc_googlenet');
    assert.equal(d.channelOrder, 'BGR');
    assert.deepEqual(d.mean.map((v) => +v.toFixed(3)), [123.68, 116.779, 103.939]);
    assert.equal(model.layers[d.defaultLayer].name, 'inception_4c/output_1');
    assert.equal(model.findNode('inception_4c/output').channels, 512);

    const t0 = performance.now();
    const ref = await dream(model, image, opts).result;
    t.diagnostic(`${W}x${H}, 2 octaves x 2 iterations: ${(performance.now() - t0).toFixed(0)} ms`);
    let changed = 0;
    for (let i = 0; i < ref.data.length; i++) changed += ref.data[i] !== image.data[i];
    assert.ok(changed > ref.data.length / 2, `only ${changed} values changed`);

    // interrupted after its 3rd checkpoint, resumed: the same bytes
    const c = dream(model, image, { ...opts, id: 'g', checkpoint: { storage: dir, everyTiles: 1 } });
    let n = 0;
    c.addEventListener('checkpoint', () => { if (++n === 3) c.abort(); });
    await assert.rejects(c.result, (e) => e.code === 'DD_ERR_ABORTED');
    const resumed = await (await resumeDream(model, 'g', { checkpoint: { storage: dir } })).result;
    assert.deepEqual(resumed.data, ref.data);

    // the description is what the dream feeds: without it (raw RGB) the dream differs
    model.setDescription({ channelOrder: 'RGB', mean: [0, 0, 0] });
    const raw = await dream(model, image, opts).result;
    assert.notDeepEqual(raw.data, ref.data);
  } finally {
    model.free();
    rmSync(dir, { recursive: true, force: true });
  }
});
