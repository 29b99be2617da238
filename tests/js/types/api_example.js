// @ts-check
// Every public return value of deepdream-wasm, typed by index.d.ts (checked by
// `tsc --strict` through tsconfig.json here) and, when run (types.test.js),
// checked to have the declared shape at runtime: the declarations must agree
// with what the code returns, not only compile.
import {
  loadModel, loadCore, threadsSupported, defaultThreadCount, dream, resumeDream, listDreams, removeDream, decodeImage,
  encodeImage, parseChannels, DEFAULTS, DeepDreamError, Status, FileStore, openStore, sequential, dense, dropout,
  formatFilepath,
} from 'deepdream-wasm';

/** @param {boolean} ok @param {string} what */
function check(ok, what) {
  if (!ok) throw new Error(`a value does not have its declared shape: ${what}`);
}
/** @param {unknown} v */
const isInt = (v) => Number.isInteger(v);
/** @param {unknown} v @returns {v is number[]} */
const isIntList = (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x));

/** @param {import('deepdream-wasm').LayerInfo[]} list @param {string} what */
function checkLayers(list, what) {
  check(Array.isArray(list) && list.length > 0, what);
  for (const l of list) {
    check(isInt(l.index) && typeof l.name === 'string' && isInt(l.channels) && isInt(l.nodeIndex), `${what}[${l.index}]`);
  }
}

/** @param {Required<import('deepdream-wasm').RawImage>} img @param {string} what */
function checkImage(img, what) {
  check((img.data instanceof Uint8Array || img.data instanceof Uint8ClampedArray) && isInt(img.width) && isInt(img.height)
    && (img.channels === 3 || img.channels === 4) && img.data.length === img.width * img.height * img.channels, what);
}

/** @param {import('deepdream-wasm').DreamProgress | null} p */
function checkProgress(p) {
  check(p !== null, 'progress');
  if (!p) return;
  for (const k of /** @type {const} */ (['octave', 'numOctaves', 'iteration', 'numIterations', 'tile', 'numTiles', 'tilesDone',
    'tilesTotal', 'fraction', 'tileX', 'tileY', 'tileWidth', 'tileHeight', 'imageWidth', 'imageHeight', 'gradMin',
    'gradMax', 'stepScaled', 'elapsed'])) check(typeof p[k] === 'number', `progress.${k}`);
  check(p.eta === null || typeof p.eta === 'number', 'progress.eta');
}

/** @param {import('deepdream-wasm').NormalizedDreamOptions | null} o */
function checkOptions(o) {
  check(o !== null, 'options');
  if (!o) return;
  check((typeof o.layer === 'string' || typeof o.layer === 'number') && isIntList(o.channels) && typeof o.seed === 'string'
    && isInt(o.iterations) && isInt(o.tileSize) && isInt(o.repeats) && isInt(o.tilesPerStep) && typeof o.stepSize === 'number'
    && typeof o.rescale === 'number' && typeof o.blend === 'number' && typeof o.inputMean === 'number'
    && (o.resample === 'lanczos-u8' || o.resample === 'lanczos-float'), 'normalized options');
}

/**
 * @param {Uint8Array} modelBytes a GraphDef
 * @param {string} dir an empty directory (checkpoints, saved training models)
 * @param {boolean} worker load the model in a worker (RemoteModel)
 */
export async function main(modelBytes, dir, worker) {
  /** @type {boolean} */ const threaded = threadsSupported();
  check(typeof threaded === 'boolean', 'threadsSupported');
  /** @type {number} */ const cores = await defaultThreadCount();
  check(isInt(cores) && cores >= 1, 'defaultThreadCount');
  check(typeof (await loadCore({ useThreadedBuild: false })) === 'object', 'loadCore');
  check(parseChannels('0:3').join() === '0,1,2', 'parseChannels');
  check(DEFAULTS.tileSize === 400 && Status.DONE === 1, 'DEFAULTS, Status');

  const img = { width: 40, height: 32, channels: /** @type {3} */ (3), data: new Uint8Array(40 * 32 * 3).fill(100) };
  /** @type {Uint8Array} */ const png = await encodeImage(img, 'png');
  checkImage(await decodeImage(png), 'decodeImage');

  const m = await loadModel(modelBytes.slice(), { threads: 1, worker, backend: 'auto' });
  checkLayers(m.layers, 'layers');
  checkLayers(m.convLayers, 'convLayers');
  check(/^[0-9a-f]{16}$/.test(m.fingerprint) && isInt(m.byteLength) && isInt(m.threads) && (m.variant === 'st' || m.variant === 'mt'), 'model fields');
  const x = new Float32Array(32 * 32 * 3).fill(50);
  const node = m.layers[0].name;
  const store = new FileStore(dir);
  if (m.remote) {
    check(m.alive === true, 'alive');
    const found = await m.findNode(node);
    check(found.name === node && isInt(found.channels) && isInt(found.nodeIndex), 'remote findNode');
    const f = await m.forward(x, 32, 32, node);
    check(f.data instanceof Float32Array && isIntList(f.shape) && f.shape.length === 4, 'remote forward');
    const g = await m.gradient(x, 32, 32, { layer: 0 });
    check(g.grad instanceof Float32Array && typeof g.loss === 'number', 'remote gradient');
    check((await m.bytes()) instanceof Uint8Array, 'remote bytes');
    const c = dream(m, img, { iterations: 1, repeats: 0, tileSize: 16, checkpoint: { storage: dir, everyTiles: 1 } });
    checkImage(await c.result, 'remote result');
    check(c.id.length > 0 && c.width === 40 && c.height === 32 && c.channels === 3 && c.ended === true && c.model === m, 'remote dream fields');
    checkOptions(c.options);
    checkProgress(c.progress);
    const freed = m.free();
    check(freed instanceof Promise, 'RemoteModel.free returns a Promise');
    /** @type {void} */ const done = await freed;
    check(done === undefined && m.alive === false, 'free resolves');
    return 'remote';
  }

  const found = m.findNode(node);
  check(found.name === node && isInt(found.channels), 'findNode');
  const f = m.forward(x, 32, 32, node);
  check(f.data instanceof Float32Array && isIntList(f.shape) && f.data.length === f.shape.reduce((a, b) => a * b, 1), 'forward');
  const g = m.gradient(x, 32, 32, { layer: node, channels: [0] });
  check(g.grad instanceof Float32Array && g.grad.length === x.length && typeof g.loss === 'number', 'gradient');
  check(m.bytes().length === m.byteLength, 'bytes');

  const c = dream(m, img, { iterations: 2, repeats: 0, tileSize: 16, id: 'typed', checkpoint: { storage: store, everyTiles: 1 } });
  /** @type {Uint8Array | null} */ let state = null;
  c.addEventListener('checkpoint', () => {
    if (state) return;
    state = c.saveState();
    checkImage(c.currentImage(), 'currentImage');
    checkImage(c.currentGradient(), 'currentGradient');
    c.abort();
  });
  await c.result.then(() => check(false, 'the dream was aborted'), (e) => check(e instanceof DeepDreamError && e.code === 'DD_ERR_ABORTED', 'abort'));
  check(state !== null && c.model === m && c.paused === false && c.id === 'typed', 'controller fields');
  checkOptions(c.options);
  checkProgress(c.progress);
  const list = await listDreams(store);
  check(list.length === 1 && Array.isArray(list.skipped), 'listDreams');
  const rec = list[0];
  check(rec.id === 'typed' && rec.kind === 'deepdream-wasm/dream' && rec.formatVersion === 1 && rec.width === 40
    && rec.channels === 3 && typeof rec.fraction === 'number' && typeof rec.updatedAt === 'string'
    && typeof rec.modelFingerprint === 'string', 'record meta');
  checkOptions(rec.options);
  const loaded = await openStore(dir).loadDream('typed');
  check(loaded.state instanceof Uint8Array, 'loadDream state');
  const r = await resumeDream(m, 'typed', { storage: store, checkpoint: false });
  checkImage(await r.result, 'resumed result');
  check(r.width === 40 && r.height === 32 && r.channels === 3, 'resumed fields');
  /** @type {void} */ const removed = await removeDream('typed', store);
  check(removed === undefined, 'removeDream');
  /** @type {void} */ const freed = m.free();
  check(freed === undefined, 'Model.free');

  // training
  const net = sequential([dense(8, { activation: 'relu', inputShape: [4], name: 'h' }), dropout(0.1), dense(3, { activation: 'softmax', name: 'out' })], { seed: 7 });
  net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  /** @type {string[]} */ const lines = [];
  /** @type {string} */ const table = net.summary(65, undefined, (l) => lines.push(l));
  check(typeof table === 'string' && table === lines.join('\n'), 'summary');
  const xs = Float32Array.from({ length: 12 * 4 }, (_, i) => Math.cos(i)), ys = Int32Array.from({ length: 12 }, (_, i) => i % 3);
  const h = await net.fit(xs, ys, { epochs: 2, batchSize: 4, verbose: 0, yieldEvery: 'epoch', validationBatchSize: 4, print: () => {} });
  check(h.epoch.join() === '0,1' && Array.isArray(h.history.loss) && h.history.loss.length === 2 && h.params.epochs === 2
    && h.params.metrics.includes('accuracy'), 'History');
  check(net.epoch === 2 && isInt(net.iterations) && net.stopTraining === false && net.name.length > 0, 'Sequential fields');
  check(isIntList(net.inputShape) && isIntList(net.outputShape) && net.layers.length === 3, 'shapes');
  const ev = await net.evaluate(xs, ys, { batchSize: 4, verbose: 0 });
  check(Array.isArray(ev) ? ev.length === 2 && ev.every((v) => typeof v === 'number') : typeof ev === 'number', 'evaluate');
  const p = await net.predict(xs, { batchSize: 5 });
  check(p.data instanceof Float32Array && p.shape.join() === '12,3' && p.data.length === 36, 'predict');
  const weights = await net.getWeights();
  check(weights.length === 4 && weights.every((w) => typeof w.name === 'string' && isIntList(w.shape) && w.data instanceof Float32Array
    && w.data.length === w.shape.reduce((a, b) => a * b, 1)), 'getWeights');
  check(weights[0].name === 'h/kernel', 'weight names');
  await net.setWeights(weights);
  await net.setWeights(weights.map((w) => w.data));
  const saved = await net.save(`${dir}/net`);
  check(typeof saved === 'object' && saved !== null && (saved.removed === undefined || Array.isArray(saved.removed)), 'save');
  const savedW = await net.saveWeights(`${dir}/w`);
  check(typeof savedW === 'object' && savedW !== null, 'saveWeights');
  check(formatFilepath('cp-{epoch:04d}', { epoch: 3 }) === 'cp-0003', 'formatFilepath');
  net.dispose();
  return 'local';
}
