// train-worker.js — the Train tab's module Worker: the Keras "save and load"
// tutorial (784-512-10 with dropout, Adam) on a built-in dataset of synthetic
// digits, with a checkpoint in IndexedDB after every epoch. The page only draws.
//
// page -> worker {rid, op: 'init' | 'train' | 'stop' | 'list' | 'evaluate' | 'delete', ...}
// worker -> page {rid, ok, value | error} and {type: 'epoch' | 'batch', ...} while training
import { sequential, dense, dropout, modelCheckpoint, latestCheckpoint, clearSession } from '../wasm/js/index.js';
import { openTfjsDb, INFO_STORE, idbRemove } from '../wasm/js/train/io.js';

export const DIR = 'deepdream-demo/train';
// each run keeps its checkpoints under its own name: <DIR>/<run>/cp-0002-acc0.9000.ckpt
const template = (run) => `indexeddb://${DIR}/${run}/cp-{epoch:04d}-acc{val_accuracy:.4f}.ckpt`;
const RUN_NAME = /^run-[0-9a-z-]{1,40}$/;
const N_TRAIN = 1000, N_TEST = 200;

// ------------------------------------------------------------- dataset ----
// Seven-segment digits drawn with random slant, size, position, stroke width
// and noise: deterministic for a seed, no fonts needed, learnable but not trivial.
const SEGMENTS = { // a b c d e f g (top, top-right, bottom-right, bottom, bottom-left, top-left, middle)
  0: 'abcdef', 1: 'bc', 2: 'abged', 3: 'abgcd', 4: 'fgbc', 5: 'afgcd', 6: 'afgedc', 7: 'abc', 8: 'abcdefg', 9: 'abcdfg',
};
const SEG_LINES = {
  a: [[0, 0], [1, 0]], b: [[1, 0], [1, 1]], c: [[1, 1], [1, 2]], d: [[0, 2], [1, 2]], e: [[0, 1], [0, 2]], f: [[0, 0], [0, 1]], g: [[0, 1], [1, 1]],
};

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
}

/** Rasterises one digit into 28x28 floats in 0..1 (anti-aliased distance to the strokes). */
function drawDigit(digit, rnd, out, off) {
  const w = 7 + rnd() * 4, h = 8 + rnd() * 4; // half the glyph is 2 segments tall
  const slant = (rnd() - 0.5) * 0.5, cx = 14 + (rnd() - 0.5) * 5, cy = 14 + (rnd() - 0.5) * 4;
  const thick = 1.2 + rnd() * 1.3;
  const segs = [...SEGMENTS[digit]].map((k) => SEG_LINES[k].map(([x, y]) => {
    const px = (x - 0.5) * w, py = (y - 1) * h;
    return [cx + px - slant * py, cy + py];
  }));
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    let d = Infinity;
    for (const [[x0, y0], [x1, y1]] of segs) {
      const dx = x1 - x0, dy = y1 - y0, t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
      d = Math.min(d, Math.hypot(x - x0 - t * dx, y - y0 - t * dy));
    }
    const ink = Math.max(0, Math.min(1, thick - d + 0.5));
    const noise = (rnd() - 0.5) * 0.35;
    out[off + y * 28 + x] = Math.max(0, Math.min(1, ink + noise));
  }
}

function makeSet(n, seed) {
  const rnd = rng(seed);
  const x = new Float32Array(n * 784), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(rnd() * 10);
    drawDigit(y[i], rnd, x, i * 784);
  }
  return { x, y };
}

let train, test;
function data() {
  if (!train) {
    train = makeSet(N_TRAIN, 1);
    test = makeSet(N_TEST, 2);
  }
  return { train, test };
}

// --------------------------------------------------------------- model ----
function createModel(seed) {
  const model = sequential([
    dense(512, { activation: 'relu', inputShape: [784] }),
    dropout(0.2),
    dense(10, { activation: 'softmax' }),
  ], { seed });
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

let current = null; // the model being trained
// Stop, without waiting for the fit to yield: in a cross-origin isolated page the page shares an Int32Array(2) over a
// SharedArrayBuffer: [0] the stop flag, read after every batch; [1] the batches of this epoch done so far, written before
// that read (so the page knows where its Stop arrived). Elsewhere the 'stop' message.
let stopFlag = null;

async function listCheckpoints() {
  const db = await openTfjsDb();
  let infos;
  try {
    infos = await new Promise((resolve, reject) => {
      const req = db.transaction(INFO_STORE, 'readonly').objectStore(INFO_STORE).getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
  const out = [];
  for (const r of infos) {
    if (!r.modelPath.startsWith(`${DIR}/`)) continue;
    const name = r.modelPath.slice(DIR.length + 1);
    const m = name.match(/^(?:(run-[0-9a-z-]+)\/)?cp-(\d+)-acc([\d.]+)\.ckpt$/); // checkpoints of before runs had no run
    if (!m) continue;
    const info = r.modelArtifactsInfo || {};
    out.push({ path: `indexeddb://${r.modelPath}`, name, run: m[1] || '', epoch: Number(m[2]), valAccuracy: Number(m[3]),
      date: info.dateSaved instanceof Date ? info.dateSaved.toISOString() : String(info.dateSaved || ''),
      bytes: info.weightDataBytes || 0 });
  }
  out.sort((a, b) => b.date.localeCompare(a.date) || b.epoch - a.epoch);
  // the newest run's own latest (TF's checkpoint state of its directory)
  const latest = out[0] ? await latestCheckpoint(`indexeddb://${DIR}${out[0].run ? `/${out[0].run}` : ''}`) : null;
  return { checkpoints: out, latest: latest || (out[0] ? out[0].path : null) };
}

const ops = {
  init({ stopFlag: flag } = {}) {
    stopFlag = flag instanceof Int32Array ? flag : null;
    const { train: tr, test: te } = data();
    const samples = [];
    for (let d = 0; d < 10; d++) {
      const i = tr.y.indexOf(d);
      samples.push({ digit: d, pixels: tr.x.slice(i * 784, i * 784 + 784) });
    }
    return { nTrain: N_TRAIN, nTest: N_TEST, samples, testShape: te.x.length / 784 };
  },

  async train({ epochs, seed, run }) {
    if (current) throw Object.assign(new Error('training is already running'), { code: 'DD_ERR_INVALID_ARGUMENT' });
    if (!RUN_NAME.test(String(run))) throw Object.assign(new Error(`bad run name '${run}'`), { code: 'DD_ERR_INVALID_ARGUMENT' });
    const { train: tr, test: te } = data();
    clearSession();
    const model = createModel(seed);
    current = model;
    const t0 = performance.now();
    const steps = Math.ceil(N_TRAIN / 32);
    let lastBatch = 0, batches = 0;
    const reporter = {
      async onEpochBegin(epoch) { batches = 0; if (stopFlag) Atomics.store(stopFlag, 1, 0); postMessage({ type: 'batch', epoch, batch: 0, steps }); },
      async onBatchEnd(batch, logs) {
        batches = batch + 1;
        if (stopFlag) {
          Atomics.store(stopFlag, 1, batches);
          if (Atomics.load(stopFlag, 0)) model.stopTraining = true;
        }
        const now = performance.now();
        if (now - lastBatch > 100 || batch === steps - 1) {
          lastBatch = now;
          postMessage({ type: 'batch', epoch: model.epoch, batch: batch + 1, steps, loss: logs.loss, accuracy: logs.accuracy });
        }
      },
      // batches < steps: Stop ended this epoch early (its checkpoint holds a part of it)
      async onEpochEnd(epoch, logs) { postMessage({ type: 'epoch', run, epoch: epoch + 1, epochs, logs, batches, steps, ms: performance.now() - t0 }); },
    };
    try {
      const history = await model.fit(tr.x, tr.y, {
        epochs, batchSize: 32, validationData: [te.x, te.y], verbose: 0, yieldEvery: 'auto',
        callbacks: [modelCheckpoint(template(run), { saveWeightsOnly: true, maxToKeep: 10 }), reporter],
      });
      return { epochs: history.epoch.length, history: history.history, stopped: history.epoch.length < epochs, ms: performance.now() - t0 };
    } finally {
      current = null;
      model.dispose();
    }
  },

  stop() { if (current) current.stopTraining = true; },

  list() { return listCheckpoints(); },

  /** The tutorial's check: an untrained model scores near chance; the restored one scores what it scored when saved. */
  async evaluate({ path }) {
    const { test: te } = data();
    const fresh = createModel(12345);
    try {
      const [loss0, acc0] = await fresh.evaluate(te.x, te.y, { verbose: 0 });
      await fresh.loadWeights(path);
      const [loss1, acc1] = await fresh.evaluate(te.x, te.y, { verbose: 0 });
      return { path, untrained: { loss: loss0, accuracy: acc0 }, restored: { loss: loss1, accuracy: acc1 } };
    } finally {
      fresh.dispose();
    }
  },

  async delete({ path }) {
    await idbRemove(path.slice('indexeddb://'.length));
    return listCheckpoints();
  },
};

self.onmessage = async (e) => {
  const { rid, op } = e.data || {};
  try {
    if (!ops[op]) throw new Error(`unknown op '${op}'`);
    const value = await ops[op](e.data);
    postMessage({ rid, ok: true, value });
  } catch (err) {
    postMessage({ rid, ok: false, error: { code: err && err.code, message: err && err.message ? err.message : String(err) } });
  }
};
postMessage({ type: 'ready' });
