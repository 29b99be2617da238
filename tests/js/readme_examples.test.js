// README.md's ```js blocks run as they are written: each is saved as a module
// inside the package (so `from 'deepdream-wasm'` resolves to this checkout)
// with the free names it uses (fileOrUrlOrBytes, x, y, ...) provided as
// globals, and with an `export {...}` of the values checked here appended.
// Node has no canvas: `targetCanvas` is undefined (the browser tests draw one).
// IndexedDB is fake-indexeddb; files go to a temporary working directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import 'fake-indexeddb/auto';
import { loadModel, dream, sequential, dense, dropout, clearSession } from '../../wasm/js/index.js';
import { miniInception } from './lib/mini_inception.js';
import { onnxPython, standin } from './lib/onnx_standins.js';
import { decodeGif } from './lib/gif_decode.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const outDir = join(root, 'tests/artifacts/readme');
const work = mkdtempSync(join(tmpdir(), 'ddw-readme-'));
process.chdir(work); // the examples write relative paths (./checkpoints/...)
test.after(() => rmSync(work, { recursive: true, force: true }));

/** Runs README block i as a module; `names` are exported back for the checks. */
async function runBlock(i, names) {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `block-${i}.mjs`);
  writeFileSync(file, `${blocks[i]}\nexport { ${names.join(', ')} };\n`);
  return import(`${pathToFileURL(file).href}?${Date.now()}`);
}

/** The README block that matches re (the examples are found by what they show, not by position). */
const blockOf = (re) => {
  const i = blocks.findIndex((b) => re.test(b));
  assert.ok(i >= 0, `no README block matches ${re}`);
  return i;
};

test('README has the five JS examples', () => {
  assert.equal(blocks.length, 5);
  assert.match(blocks[0], /loadModel\(/);
  for (const re of [/objective:/, /zoomAnimation\(/, /sequential\(/, /bvlc_googlenet\.onnx/]) blockOf(re);
});

test('the dream example runs, and its resume continues an interrupted dream to the same bytes', async () => {
  const bytes = miniInception({ scale: 16, seed: 2 });
  const W = 96, H = 80;
  const picture = { width: W, height: H, channels: 4, data: new Uint8Array(W * H * 4) };
  for (let i = 0; i < W * H; i++) picture.data.set([(i * 7) & 255, (i >> 3) & 255, (i * 13) & 255, 255], i * 4);

  // "before the reload": a dream interrupted after its first checkpoint, and what it gives uninterrupted
  const setup = await loadModel(bytes.slice(), { threads: 1 });
  const small = { layer: 'mixed3a', iterations: 2, repeats: 1, tileSize: 48, seed: 3 };
  const expected = await dream(setup, picture, small).result;
  const c = dream(setup, picture, { ...small, id: 'before-reload', checkpoint: { storage: 'indexeddb', everyTiles: 1 } });
  c.addEventListener('checkpoint', () => c.abort(), { once: true });
  await assert.rejects(c.result, (e) => e.code === 'DD_ERR_ABORTED');
  setup.free();

  Object.assign(globalThis, { fileOrUrlOrBytes: bytes, canvasOrImageData: picture, targetCanvas: undefined,
    abortController: new AbortController() });
  const ex = await runBlock(0, ['model', 'run', 'image', 'interrupted', 'resumed', 'finished']);
  try {
    assert.equal(ex.model.layers.length, 12);
    assert.equal(ex.model.convLayers.length, 59);
    assert.equal(typeof ex.run.id, 'string');
    assert.deepEqual([ex.image.width, ex.image.height, ex.image.channels], [W, H, 4]);
    assert.equal(ex.interrupted.id, 'before-reload');
    assert.ok(ex.interrupted.fraction > 0 && ex.interrupted.fraction < 1);
    assert.equal(ex.resumed.id, 'before-reload');
    assert.deepEqual(ex.finished.data, expected.data);
  } finally {
    ex.model.free();
  }
});

test('the objectives example runs: each dream differs from the tutorial\'s and from the others', async () => {
  const bytes = miniInception({ scale: 16, seed: 2 });
  const W = 96, H = 80;
  const pic = (k) => {
    const p = { width: W, height: H, channels: 4, data: new Uint8Array(W * H * 4) };
    for (let i = 0; i < W * H; i++) p.data.set([(i * k) & 255, (i >> 3) & 255, (i * 13 + k) & 255, 255], i * 4);
    return p;
  };
  Object.assign(globalThis, { fileOrUrlOrBytes: bytes, photo: pic(7), guidePicture: pic(29) });
  const ex = await runBlock(blockOf(/objective:/), ['model', 'channel', 'mixed', 'guided', 'grad', 'loss']);
  try {
    const tutorial = await dream(ex.model, pic(7), { seed: 1 }).result;
    const all = [tutorial, ex.channel, ex.mixed, ex.guided].map((r) => Buffer.from(r.data).toString('base64'));
    assert.equal(new Set(all).size, 4);
    for (const r of [ex.channel, ex.mixed, ex.guided]) assert.deepEqual([r.width, r.height, r.channels], [W, H, 4]);
    assert.equal(ex.grad.length, 64 * 64 * 3);
    assert.ok(Number.isFinite(ex.loss) && ex.grad.some((v) => v !== 0));
  } finally {
    ex.model.free();
  }
});

test('the atlas and animation example runs: 10 frames, a 10-frame GIF, a cached atlas of every channel', async () => {
  const bytes = miniInception({ scale: 16, seed: 2 });
  const W = 96, H = 80;
  const picture = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
  for (let i = 0; i < W * H; i++) picture.data.set([(i * 7) & 255, (i >> 3) & 255, (i * 13) & 255], i * 3);
  Object.assign(globalThis, { fileOrUrlOrBytes: bytes, picture, abortController: new AbortController() });
  const log = console.log;
  console.log = () => {}; // the example logs every frame, tile and channel
  let ex;
  try {
    ex = await runBlock(blockOf(/zoomAnimation\(/), ['model', 'movie', 'gif', 'atlas']);
  } finally {
    console.log = log;
  }
  try {
    assert.equal(ex.movie.frames.length, 10);
    assert.ok(ex.movie.frames.every((f) => f.width === W && f.height === H));
    const g = decodeGif(ex.gif);
    assert.deepEqual([g.width, g.height, g.frames.length, g.frames[0].delay], [W, H, 10, 100]);
    const n = ex.model.layers.find((l) => l.name === 'mixed4c').channels;
    assert.equal(ex.atlas.channels.length, n);
    assert.deepEqual([ex.atlas.image.width, ex.atlas.image.height], [ex.atlas.columns * 80, ex.atlas.rows * 80]);
    assert.equal(readdirSync(join(work, 'atlas-cache')).filter((f) => f.endsWith('.ddatlas')).length, 1);
  } finally {
    ex.model.free();
  }
});

test('the training example runs', async () => {
  const n = 48;
  const data = (count, seed) => {
    let s = seed;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const xs = new Float32Array(count * 784), ys = new Int32Array(count);
    for (let i = 0; i < count; i++) { ys[i] = i % 10; for (let j = 0; j < 784; j++) xs[i * 784 + j] = ((j % 10) === ys[i] ? 0.8 : 0) + 0.2 * rnd(); }
    return [xs, ys];
  };
  const [x, y] = data(n, 1), [xTest, yTest] = data(20, 2);
  const other = sequential([dense(512, { activation: 'relu', inputShape: [784] }), dropout(0.2), dense(10, { activation: 'softmax' })], { seed: 9 });
  clearSession(); // the example's layer names start from dense, dropout, dense_1
  Object.assign(globalThis, { x, y, xTest, yTest, other });
  const lines = [];
  const log = console.log;
  console.log = (...a) => lines.push(a.join(' ')); // the example prints a summary and progress bars
  let ex;
  try {
    ex = await runBlock(blockOf(/sequential\(/), ['model', 'history', 'loss', 'acc', 'data', 'shape', 'resumed']);
  } finally {
    console.log = log;
  }
  assert.ok(lines.includes('Total params: 407,050'), lines.slice(0, 12).join('\n'));
  assert.equal(ex.history.history.loss.length, 50);
  assert.equal(ex.history.history.val_accuracy.length, 50);
  assert.ok(typeof ex.loss === 'number' && typeof ex.acc === 'number');
  assert.deepEqual(ex.shape, [20, 10]);
  assert.equal(ex.data.length, 200);
  assert.equal(ex.resumed.epoch, 50);
  const w = await other.getWeights(), mine = await ex.model.getWeights();
  assert.deepEqual(w.map((v) => v.data), mine.map((v) => v.data)); // loadWeights(latestCheckpoint(...)) took the last epoch's
  for (const m of [ex.model, ex.resumed, other]) m.dispose();
});

test('the ONNX example runs on the GoogLeNet stand-in', { skip: !onnxPython() && 'no python3-onnx for the stand-in' }, async () => {
  copyFileSync(standin('bvlc_googlenet'), join(work, 'bvlc_googlenet.onnx'));
  const W = 72, H = 64, picture = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
  for (let i = 0; i < picture.data.length; i++) picture.data[i] = (i * 13 + (i % 3) * 60) & 255;
  Object.assign(globalThis, { picture });
  const ex = await runBlock(blockOf(/bvlc_googlenet\.onnx/), ['googlenet', 'desc', 'layer', 'dreamt']);
  try {
    assert.equal(ex.desc.name, 'bvlc_googlenet');
    assert.equal(ex.desc.channelOrder, 'BGR');
    assert.equal(ex.desc.defaultLayer, 6);
    assert.equal(ex.layer.name, 'inception_4c/output_1');
    assert.equal(ex.layer.channels, 512);
    assert.deepEqual([ex.dreamt.width, ex.dreamt.height, ex.dreamt.channels], [W, H, 3]);
    assert.notDeepEqual(ex.dreamt.data, picture.data);
    assert.equal(ex.googlenet.description.channelOrder, 'RGB');
  } finally {
    ex.googlenet.free();
  }
});
