// The tutorial's examples (Hvass-Labs #14) on its own images with the
// stand-in Inception 5h; outputs are kept in tests/artifacts/tutorial/ (not
// committed) to look at. Skipped without ../shared. DD_TUTORIAL_EXAMPLES=first
// runs only the first recursive example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, dream, decodeImage, encodeImage } from '../../wasm/js/index.js';

const shared = process.env.DD_SHARED_DIR || fileURLToPath(new URL('../../../shared', import.meta.url));
const modelPath = `${shared}/models/inception5h-standin.pb`;
const have = existsSync(modelPath) && existsSync(`${shared}/images/hulk.jpg`);
const outDir = fileURLToPath(new URL('../artifacts/tutorial/', import.meta.url));

// [name, image, options] — the tutorial's calls, in its order
const EXAMPLES = [
  ['hulk-optimize-layer2-step6', 'hulk.jpg', { layer: 2, repeats: 0, stepSize: 6.0 }],
  ['hulk-recursive-layer2', 'hulk.jpg', { layer: 2, repeats: 4 }],
  ['hulk-recursive-layer6', 'hulk.jpg', { layer: 6, repeats: 4 }],
  ['hulk-recursive-layer7-ch0-3', 'hulk.jpg', { layer: 7, channels: '0:3', repeats: 4 }],
  ['hulk-recursive-layer11-ch0', 'hulk.jpg', { layer: 11, channels: [0], repeats: 3 }],
  ['giger-recursive-layer3', 'giger.jpg', { layer: 3, repeats: 3 }],
  ['giger-recursive-layer5', 'giger.jpg', { layer: 5, repeats: 3 }],
  ['escher-recursive-layer6', 'escher_planefilling2.jpg', { layer: 6, repeats: 3 }],
];
const which = process.env.DD_TUTORIAL_EXAMPLES === 'first' ? EXAMPLES.slice(1, 2) : EXAMPLES;

test('the tutorial examples', { skip: !have && 'no ../shared' }, async (t) => {
  mkdirSync(outDir, { recursive: true });
  const model = await loadModel(modelPath);
  try {
    for (const [name, file, opts] of which) {
      const img = await decodeImage(readFileSync(`${shared}/images/${file}`));
      const t0 = performance.now();
      const c = dream(model, img, { seed: 1, ...opts });
      const out = await c.result;
      const secs = (performance.now() - t0) / 1000;
      assert.equal(out.width, img.width);
      assert.equal(out.height, img.height);
      let changed = 0, sum = 0;
      for (let i = 0; i < out.data.length; i++) { changed += out.data[i] !== img.data[i]; sum += out.data[i]; }
      assert.ok(changed > out.data.length / 4, `${name}: only ${changed} values changed`);
      assert.ok(sum / out.data.length > 5 && sum / out.data.length < 250, `${name}: mean ${sum / out.data.length}`);
      writeFileSync(`${outDir}${name}.jpg`, await encodeImage(out, 'jpeg', 90));
      t.diagnostic(`${name}: ${img.width}x${img.height}, ${secs.toFixed(1)} s (${model.variant} x${model.threads})`);
    }
  } finally {
    model.free();
  }
});
