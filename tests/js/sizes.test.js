// wasm32 size arithmetic (issue 12 §3): size_t is 32 bits, so a plan larger
// than the address space must fail with the figure, never wrap. The forward
// plan to mixed5b at 4000x4000 needs 8.1 GiB: before, the single-threaded
// build committed 0.1 GiB with status 0. Skipped when ../shared is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../wasm/js/index.js';

const shared = process.env.DD_SHARED_DIR || fileURLToPath(new URL('../../../shared', import.meta.url));
const path = `${shared}/models/inception5h-standin.pb`;
const have = existsSync(path);

test('a 4000x4000 forward to mixed5b is OUT_OF_MEMORY with the figure, and the model still works',
  { skip: !have && 'no ../shared stand-in model' }, async (t) => {
    const model = await loadModel(path, { threads: 1 });
    try {
      const side = 4000;
      const input = new Float32Array(side * side * 3);
      let error = null;
      try {
        model.forward(input, side, side, 'mixed5b');
      } catch (e) {
        error = e;
      }
      assert.ok(error, 'the forward succeeded');
      t.diagnostic(`${error.code}: ${error.message}`);
      assert.equal(error.name, 'DeepDreamError');
      assert.equal(error.code, 'DD_ERR_OUT_OF_MEMORY');
      const need = Number(/need (\d+) bytes/.exec(error.message)?.[1]);
      assert.ok(need > 8 * 2 ** 30 && need < 9 * 2 ** 30, `figure ${need}: ${error.message}`);
      assert.match(error.message, /8\.1 GiB/);
      const small = model.forward(new Float32Array(64 * 64 * 3), 64, 64, 'mixed5b');
      assert.deepEqual(small.shape, [1, 2, 2, 1024]);
    } finally {
      model.free();
    }
  });
