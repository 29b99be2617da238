// Both builds grow to 4 GiB (the threaded one's memory is a SharedArrayBuffer), and a wasm export returns its
// pointers as signed i32: a block above 2 GiB comes back negative. Here the
// low 2 GiB of the st build's memory is filled with ballast, then every JS
// path that moves data through the heap (model load/forward/gradient/bytes,
// findNode, a dream with saveState and resume, image decode/encode, training
// fit/predict/getWeights) runs again with its buffers above 2 GiB, and must
// give exactly the results it gave below. Skipped (with the reason) when the
// machine cannot give the process ~2.5 GiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  loadModel, loadCore, dream, decodeImage, encodeImage, sequential, dense,
} from '../../wasm/js/index.js';
import { dreamFromState } from '../../wasm/js/dream.js';

const TWO_GIB = 2 ** 31;
const modelBytes = readFileSync(new URL('../../models/default-model.pb', import.meta.url));
const H = 48, W = 40;
const input = Float32Array.from({ length: H * W * 3 }, (_, i) => (i * 2654435761 >>> 24));
const pixels = Uint8Array.from({ length: 64 * 56 * 3 }, (_, i) => (i * 7919 + (i >> 5)) & 255);

async function everything(mt = false) {
  const model = await loadModel(new Uint8Array(modelBytes), mt ? { threads: 2, useThreadedBuild: true, worker: false } : { threads: 1, worker: false });
  if (mt) assert.equal(model.variant, 'mt');
  try {
    const node = model.layers[1].name;
    const out = {};
    out.layers = JSON.stringify(model.layers);
    out.found = JSON.stringify(model.findNode(node));
    out.bytes = Buffer.from(model.bytes()).toString('base64');
    const f = model.forward(input, H, W, node);
    out.forward = [f.shape.join('x'), Buffer.from(f.data.buffer).toString('base64')];
    const g = model.gradient(input, H, W, { layer: 1, channels: [0, 2] });
    out.gradient = [g.loss, Buffer.from(g.grad.buffer).toString('base64')];
    const opts = { layer: 1, iterations: 2, repeats: 1, tileSize: 32, seed: 5 };
    const c = dream(model, { data: pixels, width: 64, height: 56, channels: 3 }, opts);
    c._step(1); // one tile, then save and continue the state elsewhere
    const state = c.saveState();
    const full = await c.result;
    const resumed = await dreamFromState(model, state, { id: 'x', width: 64, height: 56, channels: 3, options: c.options }).result;
    out.dream = Buffer.from(full.data).toString('base64');
    out.resumed = Buffer.from(resumed.data).toString('base64');
    const png = await encodeImage({ data: pixels, width: 64, height: 56, channels: 3 }, 'png');
    const back = await decodeImage(png);
    out.png = [Buffer.from(png).toString('base64'), Buffer.from(back.data).toString('base64')];
    const net = sequential([dense(8, { activation: 'relu', inputShape: [6], name: 'h' }), dense(3, { activation: 'softmax', name: 'o' })], { seed: 3 });
    net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = Float32Array.from({ length: 20 * 6 }, (_, i) => Math.sin(i)), y = Int32Array.from({ length: 20 }, (_, i) => i % 3);
    await net.fit(x, y, { epochs: 2, batchSize: 5, verbose: 0, seed: 1 });
    const p = await net.predict(x);
    out.predict = [p.shape.join('x'), Buffer.from(p.data.buffer).toString('base64')];
    out.weights = (await net.getWeights()).map((w) => [w.name, w.shape.join('x'), Buffer.from(w.data.buffer).toString('base64')]);
    net.dispose();
    return out;
  } finally {
    model.free();
  }
}

for (const mt of [false, true]) {
  const variant = mt ? 'mt' : 'st';
  test(`every heap path works with its buffers above 2 GiB (${variant} build${mt ? ', 2 threads, a shared memory that grows' : ''})`, async (t) => {
    const M = await loadCore({ threads: mt });
    assert.equal(M.ddVariant, variant);
    const below = await everything(mt);
    // fill everything below 2 GiB, from big blocks down to small ones
    const ballast = [];
    try {
      for (const size of [256 << 20, 16 << 20, 1 << 20, 64 << 10, 4 << 10, 256, 16]) {
        for (let i = 0; i < 200000; i++) {
          const p = M._malloc(size) >>> 0;
          if (!p) break;
          if (p + size > TWO_GIB) { M._free(p); break; }
          ballast.push(p);
        }
      }
    } catch (e) {
      for (const p of ballast) M._free(p);
      t.skip(`cannot fill 2 GiB of wasm memory here: ${e.message}`);
      return;
    }
    if (M.HEAPU8.length <= TWO_GIB) {
      for (const p of ballast) M._free(p);
      t.skip(`the wasm memory could not grow past 2 GiB (${M.HEAPU8.length} bytes)`);
      return;
    }

    // record where the JS helpers' blocks land
    const realMalloc = M._malloc;
    const seen = [];
    M._malloc = (n) => { const p = realMalloc(n); seen.push(p >>> 0); return p; };
    let above;
    try {
      above = await everything(mt);
    } finally {
      M._malloc = realMalloc;
      for (const p of ballast) M._free(p);
    }
    const high = seen.filter((p) => p >= TWO_GIB).length;
    assert.ok(high >= seen.length * 0.9, `${high} of ${seen.length} blocks landed above 2 GiB`);
    assert.deepEqual(above, below);
  });
}

test('a request over 4 GiB is refused, not wrapped to a small block by the 32-bit size_t', async () => {
  const M = await loadCore({ threads: false });
  const { malloc } = await import('../../wasm/js/heap.js');
  for (const n of [2 ** 32, 2 ** 32 + 16, 2 ** 40, NaN]) {
    assert.throws(() => malloc(M, n), (e) => e.code === 'DD_ERR_OUT_OF_MEMORY' && /4 GiB/.test(e.message), String(n));
  }
});
