// app.js — the demo page: dream on your own photo, tile by tile, resumable.
// The C core runs in a module Worker (wasm/js/worker.js through remote.js), so
// this thread only draws: every call below that computes is a message.
import {
  loadModel, dream, resumeDream, listDreams, removeDream, listModels, removeModel, parseChannels, encodeImage,
} from '../wasm/js/index.js';
import { SAMPLES, toImageData } from './samples.js';
import { mountObjectiveUI, objectiveOptions, applyObjectiveSettings, objectiveIsTutorial } from './objective-ui.js';
import { detectFeatures, showFallbacks, engineLine, scratchCanvas, canvasBlob } from './features.js';

const $ = (id) => document.getElementById(id);
const DEFAULT_MODEL_URL = new URL('../models/default-model.pb', import.meta.url).href;
// where models/fetch-inception5h.mjs puts the real model: offered when this server has it
const SERVER_MODEL_URL = new URL('../models/tensorflow_inception_graph.pb', import.meta.url).href;
const REGISTRY_URL = new URL('../models/registry.json', import.meta.url).href;
const MODEL_INDEX_URL = new URL('../models/index.json', import.meta.url).href; // web/server.js lists models/ there
const OFFICIAL_ZIP_URL = 'https://storage.googleapis.com/download.tensorflow.org/models/inception5h.zip';
const MAX_DISPLAY = 1280; // long side of the on-screen canvases; the dream itself runs at full size
const CHECKPOINT = { storage: 'indexeddb', everyTiles: 8, everySeconds: 5 };
const MAX_CHECKPOINT_MP = 6; // above this a checkpoint (the full float state) costs too much memory and time

/** Checkpoints every 8 tiles or 5 s for ordinary pictures, less often for large ones, none for huge ones. */
function checkpointPolicy(w, h) {
  const mp = (w * h) / 1e6;
  if (mp > MAX_CHECKPOINT_MP) return undefined;
  if (mp <= 1) return CHECKPOINT;
  return { storage: 'indexeddb', everySeconds: Math.round(5 * mp * mp) };
}
const TUTORIAL = { iterations: 10, stepSize: 3, tileSize: 400, rescale: 0.7, blend: 0.2 };
const PRESETS = [
  { layer: 2, channels: '', octaves: 4, title: 'Layer 2', sub: 'all channels' },
  { layer: 6, channels: '', octaves: 4, title: 'Layer 6', sub: 'all channels' },
  { layer: 7, channels: '0:3', octaves: 4, title: 'Layer 7', sub: 'channels 0:3' },
  { layer: 11, channels: '0', octaves: 3, title: 'Layer 11', sub: 'channel 0, 3 octaves' },
];

const S = {
  model: null, // RemoteModel
  modelKey: null, // 'default' | 'server' | 'indexeddb://name' | 'file'
  modelName: null, // the model's file name, for messages ("load inception5h.zip again to resume")
  serverModel: false, // this server has models/tensorflow_inception_graph.pb
  source: null, // {bitmap, width, height, origin: {kind: 'sample', name} | {kind: 'blob', blob, name} | {kind: 'blank'}}
  run: null, // RemoteDream
  lastRun: null,
  result: null, // {data, width, height, channels} at full size
  resultOptions: null,
  busy: false, // loading a model or an image
  pendingResume: [],
  gradientBusy: false,
  startedAt: 0,
};

// Figures the browser tests read (window.deepdreamDemo).
const stats = { progressEvents: 0, checkpoints: [], dreamMs: null, priorMs: 0, lastError: null, doneCount: 0 };

// ------------------------------------------------------------------ utils ----
function fmtTime(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  s = Math.max(0, Math.round(s));
  const m = Math.floor(s / 60), h = Math.floor(m / 60);
  return h ? `${h}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}
function fmtBytes(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}
function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!(s >= 0)) return '';
  if (s < 90) return 'just now';
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
function layerLabel(model, layer) {
  if (typeof layer === 'number') { const l = model && model.layers[layer]; return l ? `layer ${layer} (${l.name})` : `layer ${layer}`; }
  return String(layer);
}

function showError(e, prefix = '') {
  const msg = e && e.message ? e.message : String(e);
  stats.lastError = { code: e && e.code, message: msg };
  $('error-text').textContent = `${prefix}${msg}${e && e.code ? ` (${e.code})` : ''}`;
  $('error-notice').hidden = false;
}
$('error-close').addEventListener('click', () => { $('error-notice').hidden = true; });
let infoTimer = 0;
/** A note that is not an error (e.g. why a drop did nothing); it goes away by itself. */
function tell(text) {
  $('info-text').textContent = text;
  $('info-notice').hidden = false;
  clearTimeout(infoTimer);
  infoTimer = setTimeout(() => { $('info-notice').hidden = true; }, 10000);
}
$('info-close').addEventListener('click', () => { $('info-notice').hidden = true; });
const BUSY_NOTE = 'A dream is running: wait for it to finish (or Cancel it), then drop or paste the file again.';

// A tiny IndexedDB of this page's own (not the library's schema): what each
// unfinished dream was started from, so a resumed dream shows its "before".
const demoDb = {
  _db: null,
  open() {
    if (!this._db) {
      this._db = new Promise((resolve, reject) => {
        const req = indexedDB.open('deepdream-demo', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('origins', { keyPath: 'id' });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return this._db;
  },
  async _tx(mode, fn) {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction('origins', mode);
      const r = fn(tx.objectStore('origins'));
      tx.oncomplete = () => resolve(r && 'result' in r ? r.result : undefined);
      tx.onabort = tx.onerror = () => reject(tx.error);
    });
  },
  put(rec) { return this._tx('readwrite', (s) => s.put(rec)); },
  get(id) { return this._tx('readonly', (s) => s.get(id)); },
  remove(id) { return this._tx('readwrite', (s) => s.delete(id)).catch(() => {}); },
};

// ---------------------------------------------------------------- state ----
function setState(state) {
  document.body.dataset.state = state;
  const running = state === 'running' || state === 'paused' || state === 'starting';
  $('start').disabled = running || !S.model || !S.source || S.busy;
  $('pause').disabled = state !== 'running';
  $('resume').disabled = state !== 'paused';
  $('cancel').disabled = !running;
  for (const el of document.querySelectorAll('.controls-col fieldset')) el.disabled = running || S.busy;
  $('resume-btn').disabled = running || S.busy;
  $('discard-btn').disabled = running;
  const haveResult = !!S.result && !running;
  $('download-png').disabled = !haveResult;
  $('download-jpeg').disabled = !haveResult;
}
function refreshState() { setState(document.body.dataset.state === 'loading' ? 'idle' : document.body.dataset.state); }

function setStatus(text) { $('status').textContent = text; }
function setDetail(text) { $('detail').textContent = text; }

// ---------------------------------------------------------------- canvases ----
const before = $('before'), after = $('after'), gradient = $('gradient');

function sizeCanvases(w, h) {
  const s = Math.min(1, MAX_DISPLAY / Math.max(w, h));
  const cw = Math.max(1, Math.round(w * s)), ch = Math.max(1, Math.round(h * s));
  for (const c of [before, after, gradient]) { c.width = cw; c.height = ch; }
  $('frame').style.setProperty('--ar', String(w / h));
}

function drawBitmap(canvas, bmp) {
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (bmp) ctx.drawImage(bmp, 0, 0, canvas.width, canvas.height);
}

async function drawPixels(canvas, img) {
  const bmp = await createImageBitmap(toImageData(img));
  drawBitmap(canvas, bmp);
  bmp.close();
}

function setCompare(v) {
  $('compare').value = String(v);
  applyCompare();
}
function applyCompare() {
  const v = Number($('compare').value);
  $('frame').style.setProperty('--split', `${v}%`);
  $('divider').hidden = v >= 100 || v <= 0 || $('show-gradient').checked;
  $('compare').setAttribute('aria-valuetext', v >= 100 ? 'all after' : v <= 0 ? 'all before' : `${v}% after`);
}
$('compare').addEventListener('input', applyCompare);

// --------------------------------------------------------------- images ----
async function setSource(bitmap, origin) {
  if (S.source && S.source.bitmap && S.source.bitmap !== bitmap) S.source.bitmap.close();
  if (S.source && S.source.display && S.source.display !== S.source.bitmap) S.source.display.close();
  sizeCanvases(bitmap.width, bitmap.height);
  // a display-size copy, scaled once off the main thread, so redraws stay cheap for large photos
  const display = before.width === bitmap.width ? bitmap
    : await createImageBitmap(bitmap, { resizeWidth: before.width, resizeHeight: before.height, resizeQuality: 'high' });
  S.source = { bitmap, display, width: bitmap.width, height: bitmap.height, origin };
  S.result = null;
  drawBitmap(before, display);
  drawBitmap(after, display);
  drawBitmap(gradient, null);
  setCompare(100);
  const mp = (bitmap.width * bitmap.height) / 1e6;
  const name = origin.kind === 'sample' ? `${SAMPLES[origin.name].label} (built-in sample)` : origin.name || 'image';
  let info = `${name}: ${bitmap.width} × ${bitmap.height} px`;
  if (Math.max(bitmap.width, bitmap.height) > MAX_DISPLAY)
    info += ` (${mp.toFixed(1)} MP) — dreamed at full size, tile by tile; shown downscaled`;
  if (mp > MAX_CHECKPOINT_MP) info += `. Over ${MAX_CHECKPOINT_MP} MP no checkpoints are kept: a reload loses the dream`;
  $('image-info').textContent = info;
  for (const b of document.querySelectorAll('#samples button')) b.setAttribute('aria-pressed', String(origin.kind === 'sample' && b.dataset.sample === origin.name));
  setStatus('Ready');
  setDetail('');
  refreshState();
}

async function sampleBitmap(name) {
  return createImageBitmap(toImageData(SAMPLES[name].make()));
}

async function useSample(name) {
  if (isRunning()) return;
  const pixels = toImageData(SAMPLES[name].make());
  await setSource(await createImageBitmap(pixels), { kind: 'sample', name });
  S.source.pixels = pixels;
}

async function useBlob(blob, name) {
  if (isRunning()) { tell(BUSY_NOTE); return; }
  if (!blob.type.startsWith('image/') && blob.type !== '') { showError(new Error(`${name || 'that file'} is not an image`)); return; }
  let bmp;
  try {
    bmp = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (e) {
    showError(new Error(`cannot decode ${name || 'the image'}: ${e.message}`));
    return;
  }
  await setSource(bmp, { kind: 'blob', blob, name: name || 'pasted image' });
}

function isRunning() { return !!S.run && !S.run.ended; }

function buildSamples() {
  const box = $('samples');
  for (const [key, s] of Object.entries(SAMPLES)) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.sample = key;
    b.textContent = s.label;
    b.setAttribute('aria-pressed', 'false');
    b.addEventListener('click', () => useSample(key));
    box.append(b);
  }
}

$('image-file').addEventListener('change', (e) => {
  const f = e.target.files[0];
  if (f) useBlob(f, f.name);
  e.target.value = '';
});

const stage = $('stage');
let dragDepth = 0;
document.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
  dragDepth++;
  stage.classList.add('dragover');
});
document.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; stage.classList.remove('dragover'); } });
document.addEventListener('dragover', (e) => { if (e.dataTransfer && [...e.dataTransfer.types].includes('Files')) e.preventDefault(); });
document.addEventListener('drop', (e) => {
  dragDepth = 0;
  stage.classList.remove('dragover');
  const f = e.dataTransfer && [...e.dataTransfer.files][0];
  if (!f) return;
  e.preventDefault();
  if (/\.(pb|zip|onnx|tar\.gz|tgz)$/i.test(f.name) || f.type === 'application/zip') loadModelFile(f);
  else useBlob(f, f.name);
});
document.addEventListener('paste', (e) => {
  if (e.target instanceof HTMLInputElement && e.target.type === 'text') return;
  const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.kind === 'file' && i.type.startsWith('image/'));
  if (!item) return;
  e.preventDefault();
  useBlob(item.getAsFile(), 'pasted image');
});

// ---------------------------------------------------------------- models ----
function showModelProgress(fraction, text) {
  $('model-progress-box').hidden = fraction === false;
  const p = $('model-progress');
  if (fraction === null) p.removeAttribute('value');
  else if (fraction !== false) p.value = fraction;
  $('model-progress-text').textContent = text || '';
}

async function refreshModelList(selectKey) {
  let cached = {};
  try { cached = await listModels(); } catch { /* no IndexedDB: only the default */ }
  const sel = $('model-select');
  sel.innerHTML = '';
  sel.append(new Option('gabor-dream-v1 (built in)', 'default'));
  if (S.serverModel) sel.append(new Option('Inception 5h (from this server)', 'server'));
  for (const [url, info] of Object.entries(cached)) {
    const o = new Option(`${url.slice(12)} (${fmtBytes(info.byteLength)}, saved)`, url);
    o.title = `${url.slice(12)}: ${fmtBytes(info.byteLength)}, kept in this browser`;
    sel.append(o);
  }
  sel.value = selectKey && [...sel.options].some((o) => o.value === selectKey) ? selectKey : 'default';
  $('forget-model').disabled = !sel.value.startsWith('indexeddb://');
  describeModel();
  return cached;
}

/** Says which model is loaded and what the real one gives; offers "Get Inception 5h" while it is missing. */
function describeModel() {
  const m = S.model;
  const isInception = !!m && m.layers.length === 12 && m.layers.some((l) => l.name === 'mixed4c');
  const name = S.modelKey === 'default' ? 'gabor-dream-v1' : S.modelKey === 'server' ? 'Inception 5h'
    : S.modelKey && S.modelKey.startsWith('indexeddb://') ? S.modelKey.slice(12) : 'a model from a file';
  $('model-about').textContent = !m ? ''
    : S.modelKey === 'default'
      ? 'Loaded: gabor-dream-v1, the small built-in model. Its filters are designed, not learned, so it dreams arcs, cells and '
        + 'stripes. Inception 5h, trained on photos, dreams the famous eyes, dogs and pagodas.'
      : isInception ? `Loaded: ${name}, Google's Inception 5h as the tutorial uses it.`
        : m.description && m.description.name // a recognised network: what it is fed, its default layer
          ? `Loaded: ${name} (${m.description.name}: fed ${m.description.channelOrder} with its own preprocessing; default layer ${m.layers[m.description.defaultLayer].name}).`
          : `Loaded: ${name}.`;
  const haveInception = isInception || [...$('model-select').options].some((o) => /inception/i.test(o.value) || o.value === 'server');
  $('get-real').hidden = haveInception;
}

/**
 * "Get Inception 5h": downloads Google's inception5h.zip from its official
 * URL with progress; when the browser cannot (offline, or the server does not
 * allow pages to fetch it), one sentence says what to do instead.
 */
async function getInception() {
  if (isRunning() || S.busy) return;
  let url = OFFICIAL_ZIP_URL, expect = 0;
  try {
    const e = (await (await fetch(REGISTRY_URL)).json()).models.inception5h;
    url = e.url;
    expect = e.zipBytes;
  } catch { /* the built-in URL */ }
  $('get-help').hidden = true;
  S.busy = true;
  refreshState();
  const parts = [];
  try {
    showModelProgress(0, 'Downloading inception5h.zip… 0%');
    const res = await fetch(url, { mode: 'cors' });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const total = Number(res.headers.get('content-length')) || expect;
    let done = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      parts.push(value);
      done += value.length;
      showModelProgress(total ? done / total : null, `Downloading inception5h.zip… ${fmtBytes(done)}${total ? ` of ${fmtBytes(total)}` : ''}`);
    }
    if (expect && done !== expect) throw new Error(`got ${done} bytes, expected ${expect}`);
  } catch (e) {
    showModelProgress(false);
    const help = $('get-help');
    help.replaceChildren('This browser could not download it here (offline, or Google\'s server does not let pages fetch it): ',
      Object.assign(document.createElement('a'), { href: url, textContent: 'download inception5h.zip', download: 'inception5h.zip' }),
      ' yourself, then load it with "Load .pb or .zip…" or drop it on the picture.');
    help.title = String(e && e.message ? e.message : e);
    help.hidden = false;
    help.scrollIntoView({ block: 'nearest' });
    return;
  } finally {
    S.busy = false;
    refreshState();
  }
  await loadModelFile(new File(parts, 'inception5h.zip', { type: 'application/zip' }));
}
$('get-inception').addEventListener('click', () => { getInception().catch(showError); });

function fingerprintKeys() {
  try { return JSON.parse(localStorage.getItem('ddw.fingerprints') || '{}'); } catch { return {}; }
}
function rememberFingerprint(fp, key) {
  const m = fingerprintKeys();
  m[fp] = key;
  try { localStorage.setItem('ddw.fingerprints', JSON.stringify(m)); } catch { /* private mode */ }
}

async function installModel(m, key, name) {
  const old = S.model;
  S.model = m;
  S.modelKey = key;
  S.modelName = name || (key === 'default' ? 'gabor-dream-v1' : key === 'server' ? 'tensorflow_inception_graph.pb' : key.replace(/^indexeddb:\/\//, ''));
  const kind = (x) => (x && x.description ? x.description.name : '');
  const own = kind(m) && kind(m) !== 'inception5h' && kind(m) !== kind(old); // another recognised network: its default layer
  if (old && old !== m) old.free();
  rememberFingerprint(m.fingerprint, key);
  try { localStorage.setItem('ddw.model', key); } catch { /* private mode */ }
  populateLayers(own ? String(m.description.defaultLayer) : undefined);
  buildPresets();
  const conv = m.convLayers.reduce((s, l) => s + l.channels, 0);
  $('model-info').textContent = `${m.layers.length} dream layers, ${m.convLayers.length} conv layers (${conv} channels), ${fmtBytes(m.byteLength)}.`;
  $('engine-info').textContent = engineLine(m);
  showFallbacks(m);
  describeModel();
}

async function useModel(key) {
  if (S.modelKey === key && S.model) return S.model;
  S.busy = true;
  refreshState();
  const label = key === 'default' ? 'default model' : key === 'server' ? 'Inception 5h' : key.slice(12);
  try {
    showModelProgress(0, `Loading ${label}…`);
    const m = await loadModel(key === 'default' ? DEFAULT_MODEL_URL : key === 'server' ? SERVER_MODEL_URL : key, {
      onProgress: (f) => showModelProgress(f, `Loading ${label}… ${Math.round(f * 100)}%`),
    });
    await installModel(m, key);
    showModelProgress(false);
    $('model-select').value = key;
    $('forget-model').disabled = !key.startsWith('indexeddb://');
    return m;
  } catch (e) {
    showModelProgress(false);
    showError(e, `Cannot load ${label}: `);
    $('model-select').value = S.modelKey || 'default';
    throw e;
  } finally {
    S.busy = false;
    refreshState();
  }
}

async function loadModelFile(file) {
  if (isRunning()) { tell(BUSY_NOTE); return; }
  if (S.busy) { tell('A model or picture is still loading: try again in a moment.'); return; }
  S.busy = true;
  refreshState();
  // inception5h.zip is kept as 'inception5h' (only the GraphDef inside is stored)
  const name = file.name.replace(/\.(zip|tar\.gz|tgz)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'model.pb';
  try {
    showModelProgress(0, `Reading ${file.name}… 0%`);
    const m = await loadModel(file, {
      onProgress: (f) => showModelProgress(f, `Reading ${file.name}… ${Math.round(f * 100)}%`),
    });
    const key = `indexeddb://${name}`;
    showModelProgress(null, `Storing ${file.name} in this browser…`);
    let stored = true;
    try {
      await m.save(key, { meta: { fileName: file.name } });
    } catch (e) {
      stored = false;
      showError(e, `Loaded, but not kept in this browser: `);
    }
    await installModel(m, stored ? key : 'file', file.name);
    await refreshModelList(stored ? key : undefined);
    if (!stored) {
      const o = new Option(`${file.name} (this session only)`, 'file');
      $('model-select').append(o);
      $('model-select').value = 'file';
    }
    showModelProgress(false);
  } catch (e) {
    showModelProgress(false);
    showError(e, `Cannot load ${file.name}: `);
  } finally {
    S.busy = false;
    refreshState();
  }
}

$('model-file').addEventListener('change', (e) => {
  const f = e.target.files[0];
  e.target.value = '';
  if (f) loadModelFile(f);
});
$('model-select').addEventListener('change', (e) => {
  const key = e.target.value;
  $('forget-model').disabled = !key.startsWith('indexeddb://');
  if (key !== 'file') useModel(key).catch(() => {});
});
$('forget-model').addEventListener('click', async () => {
  const key = $('model-select').value;
  if (!key.startsWith('indexeddb://')) return;
  try {
    await removeModel(key);
  } catch (e) {
    showError(e);
    return;
  }
  if (S.modelKey === key) S.modelKey = 'file'; // still loaded for this session
  await refreshModelList();
  if (S.modelKey === 'file') {
    $('model-select').append(new Option(`${key.slice(12)} (this session only)`, 'file'));
    $('model-select').value = 'file';
  }
  $('model-info').textContent += ' Removed from this browser.';
});

// ------------------------------------------------------------- settings ----
function populateLayers(select) {
  const m = S.model;
  const sel = $('layer');
  const prev = select !== undefined ? select : sel.value;
  sel.innerHTML = '';
  const g1 = document.createElement('optgroup');
  g1.label = 'Dream layers';
  for (const l of m.layers) g1.append(new Option(`${l.index} · ${l.name} — ${l.channels} channels`, String(l.index)));
  const g2 = document.createElement('optgroup');
  g2.label = 'Every conv layer';
  for (const l of m.convLayers) g2.append(new Option(`${l.name} — ${l.channels} ch`, `name:${l.name}`));
  sel.append(g1, g2);
  const values = [...sel.options].map((o) => o.value);
  const def = String(m.description ? m.description.defaultLayer : 2); // the model's default (Inception 5h: 2)
  sel.value = values.includes(prev) ? prev : values.includes(def) ? def : values[0];
  updateChannelHint();
}

function selectedLayer() {
  const v = $('layer').value;
  return v.startsWith('name:') ? v.slice(5) : Number(v);
}
function layerChannels() {
  const m = S.model, l = selectedLayer();
  if (!m) return 0;
  const info = typeof l === 'number' ? m.layers[l] : m.convLayers.find((c) => c.name === l) || m.layers.find((c) => c.name === l);
  return info ? info.channels : 0;
}
function updateChannelHint() {
  const n = layerChannels();
  $('channels-hint').textContent = n ? `(of ${n}: 0 to ${n - 1})` : '';
  validateChannels();
}
function validateChannels() {
  const input = $('channels');
  let msg = '';
  try {
    const ch = parseChannels(input.value.trim());
    const n = layerChannels();
    const bad = ch.find((c) => !(c >= 0 && c < n));
    if (bad !== undefined) msg = `channel ${bad} is out of range (this layer has ${n})`;
  } catch (e) {
    msg = e.message;
  }
  input.setAttribute('aria-invalid', String(!!msg));
  input.setCustomValidity(msg);
  return msg;
}
$('layer').addEventListener('change', updateChannelHint);
$('channels').addEventListener('input', validateChannels);
$('random-seed').addEventListener('click', () => { $('seed').value = String(Math.floor(Math.random() * 1e6)); });

function readSettings() {
  const num = (id) => {
    const el = $(id), v = el.validity; // a value between the spinner's steps is fine
    const bad = el.value === '' || v.badInput || v.rangeUnderflow || v.rangeOverflow || !Number.isFinite(Number(el.value));
    el.setAttribute('aria-invalid', String(bad));
    if (bad) throw new Error(`${el.labels[0].textContent.trim()}: enter a number from ${el.min} to ${el.max || 'any'}`);
    if ((id === 'iterations' || id === 'tile' || id === 'octaves' || id === 'seed') && !Number.isInteger(Number(el.value))) {
      el.setAttribute('aria-invalid', 'true');
      throw new Error(`${el.labels[0].textContent.trim()}: enter a whole number`);
    }
    return Number(el.value);
  };
  const chMsg = validateChannels();
  if (chMsg) throw new Error(`Channels: ${chMsg}`);
  return {
    layer: selectedLayer(), channels: $('channels').value.trim(), iterations: num('iterations'), stepSize: num('step'),
    tileSize: num('tile'), repeats: num('octaves'), rescale: num('rescale'), blend: num('blend'), seed: num('seed'),
    ...objectiveOptions(), // objective, guide, tv, gradient and transforms: only those set (web/objective-ui.js)
  };
}

function applySettings(o) {
  const m = S.model;
  if (typeof o.layer === 'number') populateLayers(String(o.layer));
  else {
    const isDream = m.layers.findIndex((l) => l.name === o.layer);
    populateLayers(isDream >= 0 && !m.convLayers.some((c) => c.name === o.layer) ? String(isDream) : `name:${o.layer}`);
  }
  const ch = Array.isArray(o.channels) ? o.channels : parseChannels(o.channels);
  const contiguous = ch.length > 1 && ch.every((c, i) => i === 0 || c === ch[i - 1] + 1);
  $('channels').value = ch.length === 0 ? '' : contiguous ? `${ch[0]}:${ch.at(-1) + 1}` : ch.join(',');
  $('iterations').value = o.iterations;
  $('step').value = o.stepSize;
  $('tile').value = o.tileSize;
  $('octaves').value = o.repeats ?? o.octaves;
  $('rescale').value = o.rescale;
  $('blend').value = o.blend;
  $('seed').value = String(o.seed);
  if (o.objective !== undefined) applyObjectiveSettings(o); // a resumed dream's; presets leave them as they are
  updateChannelHint();
  markPreset();
}

/** Marks the tutorial preset the settings match (layer, channels, octaves and the tutorial's other values), if any. */
function markPreset() {
  const same = (a, b) => String(parseChannels(a)) === String(parseChannels(b));
  const v = (id) => Number($(id).value);
  // an objective, a guide or a transform makes it another dream than the tutorial's, whatever the layer
  const tutorial = objectiveIsTutorial() && v('iterations') === TUTORIAL.iterations && v('step') === TUTORIAL.stepSize && v('tile') === TUTORIAL.tileSize
    && v('rescale') === TUTORIAL.rescale && v('blend') === TUTORIAL.blend;
  const buttons = [...$('presets').querySelectorAll('button')];
  PRESETS.forEach((p, i) => {
    let on = false;
    try { on = tutorial && selectedLayer() === p.layer && v('octaves') === p.octaves && same($('channels').value.trim(), p.channels); } catch { on = false; }
    if (buttons[i]) buttons[i].setAttribute('aria-pressed', String(on && !buttons[i].disabled));
  });
}

function buildPresets() {
  const box = $('presets');
  box.innerHTML = '';
  const n = S.model ? S.model.layers.length : 0;
  for (const p of PRESETS) {
    const b = document.createElement('button');
    b.type = 'button';
    const l = S.model && S.model.layers[p.layer];
    b.innerHTML = `<strong></strong><small></small>`;
    b.querySelector('strong').textContent = `${p.title}${l ? ` · ${l.name}` : ''}`;
    b.querySelector('small').textContent = p.sub;
    b.disabled = p.layer >= n;
    b.title = b.disabled ? `This model has ${n} dream layers; load Inception 5h for layer ${p.layer}` : `Tutorial example: ${p.title}, ${p.sub}`;
    b.addEventListener('click', () => applySettings({ ...TUTORIAL, seed: $('seed').value || 0, layer: p.layer, channels: p.channels, repeats: p.octaves }));
    box.append(b);
  }
  markPreset();
}
mountObjectiveUI(document.querySelector('fieldset.settings'), () => markPreset());
for (const id of ['layer', 'channels', 'iterations', 'step', 'tile', 'octaves', 'rescale', 'blend']) {
  $(id).addEventListener('input', markPreset);
  $(id).addEventListener('change', markPreset);
}

// ---------------------------------------------------------------- dreams ----
function progressText(p) {
  const eta = p.eta === null || p.eta === undefined ? 'ETA –' : `ETA ${fmtTime(p.eta)}`;
  return `${Math.floor(p.fraction * 100)}% · octave ${p.octave + 1}/${p.numOctaves} · iteration ${Math.min(p.iteration + 1, p.numIterations)}/${p.numIterations}`
    + (p.numTiles > 0 ? ` · tile ${p.tile}/${p.numTiles}` : '') + ` · ${eta}`;
}

async function drawGradient() {
  const run = S.run || S.lastRun;
  if (!run || S.gradientBusy || !$('show-gradient').checked) return;
  S.gradientBusy = true;
  try {
    const g = await run.currentGradient();
    if ($('show-gradient').checked) await drawPixels(gradient, g);
  } catch {
    // no gradient yet (before the first tile) or the dream is gone
  } finally {
    S.gradientBusy = false;
  }
}
$('show-gradient').addEventListener('change', () => {
  const on = $('show-gradient').checked;
  gradient.hidden = !on;
  applyCompare();
  if (on) drawGradient();
});

/** Outlines the tile the worker just computed (tile coordinates are in the current octave's image). */
function showTile(p) {
  const box = $('tile-box');
  if (!p || p.numTiles === 0 || !(p.imageWidth > 0) || !(p.tileWidth > 0)) { box.hidden = true; return; }
  box.style.left = `${(100 * p.tileX) / p.imageWidth}%`;
  box.style.top = `${(100 * p.tileY) / p.imageHeight}%`;
  box.style.width = `${(100 * p.tileWidth) / p.imageWidth}%`;
  box.style.height = `${(100 * p.tileHeight) / p.imageHeight}%`;
  box.hidden = false;
}

function attach(run, { resumed = false, priorMs = 0 } = {}) {
  S.run = run;
  S.result = null;
  S.startedAt = performance.now() - priorMs; // "Done in" counts the time before a reload too
  stats.priorMs = priorMs;
  stats.progressEvents = 0;
  stats.checkpoints = [];
  stats.dreamMs = null;
  setState('running');
  setStatus(resumed ? 'Resuming…' : 'Dreaming…');
  $('progress').value = run.progress ? run.progress.fraction : 0;
  let lastSaved = '';
  run.addEventListener('progress', (e) => {
    const p = e.detail;
    if (stats.progressEvents++ === 0 && resumed) setStatus('Dreaming…');
    $('progress').value = p.fraction;
    $('progress').setAttribute('aria-valuetext', `${Math.floor(p.fraction * 100)} percent`);
    setDetail(progressText(p) + lastSaved);
    showTile(p);
    // the image and its smoothed gradient change once per iteration (numTiles is 0 right after)
    if ($('show-gradient').checked && (p.numTiles === 0 || stats.progressEvents === 1)) drawGradient();
  });
  run.addEventListener('checkpoint', (e) => {
    stats.checkpoints.push(e.detail);
    lastSaved = ` · saved ${new Date().toLocaleTimeString()}`;
    const elapsedMs = performance.now() - S.startedAt;
    demoDb.get(run.id).then((rec) => rec && demoDb.put({ ...rec, elapsedMs })).catch(() => {});
  });
  run.addEventListener('pause', () => { setState('paused'); setStatus('Paused'); });
  run.addEventListener('resume', () => { setState('running'); setStatus('Dreaming…'); });
  run.result.then(async (img) => {
    stats.dreamMs = performance.now() - S.startedAt;
    stats.doneCount++;
    S.result = img;
    S.resultOptions = run.options;
    S.lastRun = run;
    S.run = null;
    demoDb.remove(run.id);
    showTile(null);
    $('progress').value = 1;
    setStatus(`Done in ${fmtTime(stats.dreamMs / 1000)} — ${img.width} × ${img.height} px`);
    setDetail('Drag the Before/After slider to compare; download the full-size result below.');
    setState('done');
    if ($('show-gradient').checked) drawGradient();
    refreshResumeOffer();
  }, async (e) => {
    S.lastRun = run;
    S.run = null;
    showTile(null);
    if (e && e.code === 'DD_ERR_ABORTED') {
      await removeDream(run.id).catch(() => {});
      demoDb.remove(run.id);
      setStatus('Cancelled');
      setDetail('');
      $('progress').value = 0;
      if (S.source) drawBitmap(after, S.source.display);
    } else {
      setStatus('Stopped by an error');
      showError(e);
    }
    setState('idle');
    if (S.model && !S.model.alive) {
      // the worker failed (e.g. out of memory): start a fresh one with the same model
      const key = S.modelKey;
      S.model = null;
      S.modelKey = null;
      if (key && key !== 'file') await useModel(key).catch(() => {});
    }
    refreshResumeOffer();
  });
}

async function start() {
  if (isRunning() || !S.model || !S.source) return;
  let o;
  try {
    o = readSettings();
  } catch (e) {
    showError(e);
    return;
  }
  $('error-notice').hidden = true;
  setCompare(100);
  drawBitmap(after, S.source.display);
  let run;
  try {
    // a photo goes to the worker as its file (decoded there), a sample as pixels: posting a big
    // ImageBitmap would copy it on this thread
    const o0 = S.source.origin;
    const input = o0.kind === 'blob' ? o0.blob : o0.kind === 'sample' && S.source.pixels ? S.source.pixels : S.source.bitmap;
    run = dream(S.model, input, { ...o, canvas: after, checkpoint: checkpointPolicy(S.source.width, S.source.height) });
  } catch (e) {
    showError(e);
    return;
  }
  const origin = S.source.origin;
  demoDb.put({ id: run.id, modelKey: S.modelKey, modelName: S.modelName, elapsedMs: 0, origin: origin.kind === 'blob' ? { kind: 'blob', blob: origin.blob, name: origin.name } : origin,
    createdAt: new Date().toISOString() }).catch(() => {});
  attach(run);
}

$('start').addEventListener('click', start);
$('pause').addEventListener('click', () => S.run && S.run.pause());
$('resume').addEventListener('click', () => S.run && S.run.resume());
$('cancel').addEventListener('click', () => { if (S.run) { setStatus('Cancelling…'); S.run.abort(); } });

/** The picture without its alpha channel when every pixel is opaque (a canvas PNG would always carry one). */
function opaqueAsRgb(img) {
  if (img.channels !== 4) return img;
  const d = img.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return img;
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) { rgb[j] = d[i]; rgb[j + 1] = d[i + 1]; rgb[j + 2] = d[i + 2]; }
  return { data: rgb, width: img.width, height: img.height, channels: 3 };
}

async function download(type) {
  if (!S.result) return;
  const img = S.result;
  let blob;
  if (type === 'image/png') {
    blob = new Blob([await encodeImage(opaqueAsRgb(img), 'png')], { type });
  } else {
    const c = scratchCanvas(img.width, img.height);
    c.getContext('2d').putImageData(toImageData(img), 0, 0);
    blob = await canvasBlob(c, type, 0.92);
  }
  const o = S.resultOptions || {};
  const layer = typeof o.layer === 'number' && S.model && S.model.layers[o.layer] ? S.model.layers[o.layer].name : o.layer;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `deepdream-${String(layer ?? 'dream').replace(/[^A-Za-z0-9_-]+/g, '_')}-seed${o.seed ?? 0}.${type === 'image/png' ? 'png' : 'jpg'}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 30000);
}
$('download-png').addEventListener('click', () => download('image/png'));
$('download-jpeg').addEventListener('click', () => download('image/jpeg'));

// ---------------------------------------------------------------- resume ----
async function refreshResumeOffer() {
  let list = [];
  try { list = await listDreams(); } catch { list = []; }
  // a zoom animation's frames (records with an `animation` field) are offered by the Animate tab (web/animate.js)
  if (list.some((r) => r.animation) && !panels['tab-animate']) { startPanel('tab-animate'); tell('An animation was interrupted: resume it on the Animate tab.'); }
  S.pendingResume = list.filter((r) => r.fraction < 1 && !r.animation).sort((a, b) => String(b.updatedAt).localeCompare(String(a.updatedAt)));
  const box = $('resume-offer');
  if (!S.pendingResume.length) { box.hidden = true; return; }
  const r = S.pendingResume[0];
  const more = S.pendingResume.length > 1 ? ` (${S.pendingResume.length - 1} more saved)` : '';
  const same = S.model && S.model.fingerprint === r.modelFingerprint;
  $('resume-text').textContent = `An unfinished dream: ${r.width} × ${r.height} px, ${layerLabel(same ? S.model : null, r.options.layer)}, `
    + `${Math.floor(r.fraction * 100)}% done, saved ${ago(r.updatedAt)}${more}. Continue it from the last checkpoint?`;
  box.hidden = false;
  refreshState();
}

async function resumeLatest() {
  const r = S.pendingResume[0];
  if (!r || isRunning()) return;
  const origin = await demoDb.get(r.id).catch(() => null);
  try {
    if (!S.model || S.model.fingerprint !== r.modelFingerprint) {
      const key = (origin && origin.modelKey !== 'file' && origin.modelKey) || fingerprintKeys()[r.modelFingerprint];
      const again = () => Object.assign(new Error(origin && origin.modelName
        ? `this dream was made with ${origin.modelName}, which is not loaded here: load ${origin.modelName} again to resume`
        : 'this dream was made with a model that is not loaded here: load that model again to resume'), { code: 'DD_ERR_STATE_MISMATCH' });
      if (!key || key === 'file') throw again();
      if (key.startsWith('indexeddb://') && !(key in await listModels().catch(() => ({})))) throw again();
      await useModel(key);
      if (S.model.fingerprint !== r.modelFingerprint) throw Object.assign(new Error('the model kept in this browser has changed since this dream was saved'), { code: 'DD_ERR_STATE_MISMATCH' });
    }
    // the "before" picture
    let bmp = null, org = { kind: 'blank' };
    if (origin && origin.origin) {
      org = origin.origin;
      if (org.kind === 'sample' && SAMPLES[org.name]) bmp = await sampleBitmap(org.name);
      else if (org.kind === 'blob' && org.blob) bmp = await createImageBitmap(org.blob, { imageOrientation: 'from-image' }).catch(() => null);
    }
    if (!bmp || bmp.width !== r.width || bmp.height !== r.height) {
      const blank = new ImageData(r.width, r.height);
      bmp = await createImageBitmap(blank);
      org = { kind: 'blank', name: 'resumed dream' };
    }
    await setSource(bmp, org);
    applySettings(r.options);
    $('resume-offer').hidden = true;
    const run = await resumeDream(S.model, r.id, { canvas: after, checkpoint: checkpointPolicy(r.width, r.height) || false });
    attach(run, { resumed: true, priorMs: (origin && origin.elapsedMs) || 0 });
    $('progress').value = r.fraction;
    setDetail(`Resumed at ${Math.floor(r.fraction * 100)}%`);
    run.currentImage().then((img) => { if (!run.ended && stats.progressEvents === 0) drawPixels(after, img); }).catch(() => {});
  } catch (e) {
    showError(e, 'Cannot resume: ');
    refreshResumeOffer();
  }
}
$('resume-btn').addEventListener('click', resumeLatest);
$('discard-btn').addEventListener('click', async () => {
  const r = S.pendingResume[0];
  if (!r) return;
  await removeDream(r.id).catch((e) => showError(e));
  await demoDb.remove(r.id);
  refreshResumeOffer();
});

// ------------------------------------------------------------------ tabs ----
const tabs = [$('tab-dream'), $('tab-atlas'), $('tab-animate'), $('tab-train')].filter(Boolean);
function selectTab(t) {
  for (const x of tabs) {
    const on = x === t;
    x.setAttribute('aria-selected', String(on));
    x.tabIndex = on ? 0 : -1;
    $(x.getAttribute('aria-controls')).hidden = !on;
  }
  if (t.id === 'tab-train') startTrainTab();
  if (PANELS[t.id]) startPanel(t.id);
}

// The Atlas and Animate tabs (web/atlas.js, web/animate.js), loaded on first use; what they may use of the page:
const pageHooks = {
  get model() { return S.model; },
  get source() { return S.source; },
  get running() { return isRunning(); },
  /** The Dream tab's settings (throws a sentence when one is invalid). */
  settings: () => readSettings(),
  /** Makes channel c of layer (a name) the Dream tab's layer and channels (and its objective, if given), and shows the Dream tab. */
  useChannel(layer, c, objective) {
    const sel = $('layer'), l = S.model && S.model.layers.find((x) => x.name === layer);
    const value = l ? String(l.index) : `name:${layer}`;
    if (![...sel.options].some((o) => o.value === value)) return false;
    sel.value = value;
    $('channels').value = String(c);
    if (objective !== undefined) $('objective').value = objective;
    updateChannelHint();
    markPreset();
    selectTab($('tab-dream'));
    return true;
  },
  showError, tell,
};
const PANELS = { 'tab-atlas': './atlas.js', 'tab-animate': './animate.js' };
const panels = {};
function startPanel(id) {
  panels[id] ??= ready.then(() => import(PANELS[id])).then((m) => m.initPanel(pageHooks)).catch((e) => { showError(e, 'This tab could not start: '); return null; });
  return panels[id];
}

let trainTab = null;
function startTrainTab() {
  if (!trainTab) {
    trainTab = import('./train.js').then(async (m) => {
      window.deepdreamDemo.train = m.trainStats;
      return m.initTrain();
    }).catch((e) => {
      $('train-soon-why').textContent = `(${e.message})`;
      $('train-soon').hidden = false;
      return false;
    });
  }
  return trainTab;
}
for (const t of tabs) {
  t.addEventListener('click', () => selectTab(t));
  t.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(t);
    const j = e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i + tabs.length - 1) % tabs.length : -1;
    if (j >= 0) { e.preventDefault(); tabs[j].focus(); selectTab(tabs[j]); }
  });
}

// ------------------------------------------------------------------ init ----
window.addEventListener('unhandledrejection', (e) => { showError(e.reason || e); e.preventDefault(); });

let initStage = 'start'; // where init() is (the tests name it when the page never gets ready)
async function init() {
  $('isolation-notice').hidden = !!globalThis.crossOriginIsolated;
  showFallbacks();
  buildSamples();
  buildPresets();
  initStage = 'sample';
  await useSample('landscape');
  let saved = null;
  try { saved = localStorage.getItem('ddw.model'); } catch { /* private mode */ }
  initStage = 'model index';
  S.serverModel = await fetch(MODEL_INDEX_URL).then((r) => (r.ok ? r.json() : { files: [] }), () => ({ files: [] }))
    .then((j) => Array.isArray(j.files) && j.files.some((f) => f && f.name === 'tensorflow_inception_graph.pb'), () => false);
  initStage = 'model list';
  const cached = await refreshModelList(saved);
  initStage = 'model';
  const key = saved && (saved === 'default' || (saved === 'server' && S.serverModel) || cached[saved]) ? saved : 'default';
  try {
    await useModel(key);
  } catch {
    if (key !== 'default') await useModel('default').catch(() => {});
  }
  initStage = 'resume offer';
  await refreshResumeOffer();
  initStage = 'done';
  setState('idle');
  setStatus(S.model ? 'Ready' : 'No model loaded');
}

const ready = init();
window.deepdreamDemo = {
  ready,
  /** Resolves when the Train tab is up (true) or shows its "coming soon" panel (false). */
  trainReady: () => startTrainTab(),
  /** The Atlas / Animate tab's test hooks (resolves when the tab is up). */
  atlasReady: () => startPanel('tab-atlas'),
  animateReady: () => startPanel('tab-animate'),
  stats,
  get initStage() { return initStage; },
  features: detectFeatures(),
  get state() { return document.body.dataset.state; },
  get model() { return S.model && { fingerprint: S.model.fingerprint, layers: S.model.layers.length, convLayers: S.model.convLayers.length, variant: S.model.variant, threads: S.model.threads, key: S.modelKey }; },
  get source() { return S.source && { width: S.source.width, height: S.source.height, origin: S.source.origin.kind }; },
  get run() { return S.run; },
  /** The options the last result was dreamed with (the tests dream the same in Node). */
  get resultOptions() { return S.resultOptions && JSON.parse(JSON.stringify(S.resultOptions)); },
  /** SHA-256 (hex) of the last result's pixels. */
  async resultHash() {
    if (!S.result) return null;
    const d = await crypto.subtle.digest('SHA-256', S.result.data);
    return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
  },
  /** Share of colour values in the result that differ from the picture it started from. */
  async changedFraction() {
    if (!S.result || !S.source || S.source.origin.kind === 'blank') return null;
    const { width: w, height: h } = S.source;
    const c = scratchCanvas(w, h);
    const ctx = c.getContext('2d');
    ctx.drawImage(S.source.bitmap, 0, 0);
    const a = ctx.getImageData(0, 0, w, h).data, b = S.result.data;
    let n = 0;
    for (let i = 0; i < a.length; i += 4) n += (a[i] !== b[i]) + (a[i + 1] !== b[i + 1]) + (a[i + 2] !== b[i + 2]);
    return n / (w * h * 3);
  },
  /** Share of colour values that differ between the on-screen before and after canvases. */
  screenDiff() {
    const a = before.getContext('2d').getImageData(0, 0, before.width, before.height).data;
    const b = after.getContext('2d').getImageData(0, 0, after.width, after.height).data;
    let n = 0;
    for (let i = 0; i < a.length; i += 4) n += (a[i] !== b[i]) + (a[i + 1] !== b[i + 1]) + (a[i + 2] !== b[i + 2]);
    return n / (a.length * 0.75);
  },
};
