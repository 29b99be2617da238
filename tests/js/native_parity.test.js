// The wasm build gives the same results as the native build (within float
// tolerance) on the same inputs: forward values of the tutorial layers and
// DeepDream gradients on a miniature Inception 5h. Needs build/dd_probe
// (built by `npm run build`); skipped when it is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../wasm/js/index.js';
import { miniInception, TUTORIAL_LAYERS } from './lib/mini_inception.js';
import { noise, relL2 } from './lib/tfgraph.js';

const probe = fileURLToPath(new URL('../../build/dd_probe', import.meta.url));

test('wasm and native agree', { skip: !existsSync(probe) && 'build/dd_probe not built' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ddparity-'));
  try {
    const bytes = miniInception({ scale: 8, seed: 21 });
    const [H, W] = [73, 59];
    const input = noise(H * W * 3, 4242);
    writeFileSync(join(dir, 'm.pb'), bytes);
    writeFileSync(join(dir, 'in.f32'), Buffer.from(input.buffer));
    const grads = [['conv2d2', []], ['mixed4c', [1, 2, 7]], ['mixed5b', []]];
    const args = [join(dir, 'm.pb'), join(dir, 'in.f32'), String(H), String(W), join(dir, 'out.f32'),
      ...TUTORIAL_LAYERS.map((l) => `fwd:${l}`), ...grads.map(([l, c]) => `grad:${l}${c.length ? ':' + c.join(',') : ''}`)];
    execFileSync(probe, args);
    const raw = readFileSync(join(dir, 'out.f32'));
    const native = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
    const model = await loadModel(bytes, { threads: 1 });
    let off = 0;
    const figs = [];
    for (const l of TUTORIAL_LAYERS) {
      const { data } = model.forward(input, H, W, l);
      const e = relL2(data, native.subarray(off, off + data.length));
      off += data.length;
      figs.push(`${l} ${e.toExponential(1)}`);
      assert.ok(e <= 1e-6, `${l}: wasm vs native forward rel L2 ${e}`);
    }
    for (const [l, c] of grads) {
      const { grad } = model.gradient(input, H, W, { layer: l, channels: c });
      const e = relL2(grad, native.subarray(off, off + grad.length));
      off += grad.length;
      figs.push(`grad ${l} ${e.toExponential(1)}`);
      assert.ok(e <= 1e-5, `${l}: wasm vs native gradient rel L2 ${e}`);
    }
    assert.equal(off, native.length);
    t.diagnostic(`wasm vs native rel L2: ${figs.join(', ')}`);
    model.free();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
