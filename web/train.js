// train.js — the Train tab: drives web/train-worker.js (the training API of
// wasm/js/train/ in a module Worker) and draws the live chart, the per-epoch
// table and the checkpoint list. Loaded when the tab is first opened.
import { detectFeatures } from './features.js';

const $ = (id) => document.getElementById(id);

let worker = null;
let rid = 1;
const pending = new Map();
const history = []; // [{epoch, loss, accuracy, val_loss, val_accuracy}]
let epochsPlanned = 0;
let training = false;
let ckpts = { checkpoints: [], latest: null };
export const trainStats = { epochs: 0, lastEval: null, lastError: null, runs: 0 };

// The runs this page started, kept in localStorage so that after a reload the chart, the table and the
// checkpoint list show which run each checkpoint belongs to: {[run]: {n, startedAt, epochs, seed, history, partial}}
// (partial[epoch] = {batches, steps} when Stop ended that epoch early).
const RUNS_KEY = 'ddw.trainRuns';
function loadRuns() {
  try { const r = JSON.parse(localStorage.getItem(RUNS_KEY) || '{}'); return r && typeof r === 'object' ? r : {}; } catch { return {}; }
}
function saveRuns() {
  try { localStorage.setItem(RUNS_KEY, JSON.stringify(runs)); } catch { /* private mode: this session only */ }
}
let runs = loadRuns();
let stopFlag = null; // shared with the worker when the page is cross-origin isolated

function call(op, args = {}) {
  return new Promise((resolve, reject) => {
    const id = rid++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...args, op, rid: id });
  });
}

function onMessage(e) {
  const m = e.data;
  if (m.rid !== undefined && 'ok' in m) {
    const p = pending.get(m.rid);
    pending.delete(m.rid);
    if (!p) return;
    if (m.ok) p.resolve(m.value);
    else p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
  } else if (m.type === 'batch') {
    const done = (m.epoch + m.batch / m.steps) / Math.max(1, epochsPlanned);
    $('train-progress').value = Math.min(1, done);
    if (m.loss !== undefined) $('train-detail').textContent = `epoch ${m.epoch + 1}/${epochsPlanned} · batch ${m.batch}/${m.steps} · loss ${m.loss.toFixed(4)} · accuracy ${(m.accuracy * 100).toFixed(1)}%`;
  } else if (m.type === 'epoch') {
    history.push({ epoch: m.epoch, ...m.logs });
    trainStats.epochs = history.length;
    addLogRow(history.at(-1));
    drawChart();
    const partial = m.batches < m.steps;
    trainStats.lastEpoch = { epoch: m.epoch, batches: m.batches, steps: m.steps };
    const r = runs[m.run];
    if (r) {
      r.history = history.slice();
      if (partial) r.partial[m.epoch] = { batches: m.batches, steps: m.steps };
      saveRuns();
    }
    $('train-status').textContent = partial
      ? `Stopped in epoch ${m.epoch} at batch ${m.batches} of ${m.steps}: val accuracy ${(m.logs.val_accuracy * 100).toFixed(1)}% — checkpoint saved`
      : `Epoch ${m.epoch}/${m.epochs}: val accuracy ${(m.logs.val_accuracy * 100).toFixed(1)}% — checkpoint saved`;
    refreshCheckpoints();
  }
}

function fail(e) {
  trainStats.lastError = { code: e.code, message: e.message };
  const box = $('error-notice');
  $('error-text').textContent = `${e.message}${e.code ? ` (${e.code})` : ''}`;
  box.hidden = false;
}

// ---------------------------------------------------------------- chart ----
function drawChart() {
  const c = $('train-chart');
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const cssW = c.clientWidth || 720, cssH = Math.max(220, Math.round(cssW * 0.42));
  if (c.width !== Math.round(cssW * dpr)) { c.width = Math.round(cssW * dpr); c.height = Math.round(cssH * dpr); }
  const ctx = c.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const W = cssW, H = cssH;
  const style = getComputedStyle(document.documentElement);
  const fg = style.getPropertyValue('--fg').trim() || '#222', muted = style.getPropertyValue('--muted').trim() || '#777';
  const line = style.getPropertyValue('--line').trim() || '#ddd';
  ctx.clearRect(0, 0, W, H);
  ctx.font = '11px system-ui, sans-serif';
  const series = [
    { key: 'loss', color: '#d9730d', dash: [], label: 'loss' },
    { key: 'val_loss', color: '#d9730d', dash: [5, 4], label: 'val loss' },
    { key: 'accuracy', color: '#5b3cc4', dash: [], label: 'accuracy' },
    { key: 'val_accuracy', color: '#5b3cc4', dash: [5, 4], label: 'val accuracy' },
  ];
  // legend layout: as many items per row as fit
  const L = 44, R = 44;
  const legend = [];
  let lx = L, ly = 12;
  for (const s of series) {
    const w = 22 + ctx.measureText(s.label).width + 14;
    if (lx + w > W - 8 && lx > L) { lx = L; ly += 16; }
    legend.push({ s, x: lx, y: ly });
    lx += w;
  }
  const T = ly + 14, B = 30, pw = W - L - R, ph = H - T - B;
  const n = Math.max(epochsPlanned, history.length, 2);
  const maxLoss = Math.max(0.5, ...history.flatMap((h) => [h.loss, h.val_loss]).filter(Number.isFinite)) * 1.05;
  const X = (e) => L + ((e - 1) / Math.max(1, n - 1)) * pw;
  const YL = (v) => T + ph - (v / maxLoss) * ph;
  const YA = (v) => T + ph - v * ph;
  ctx.strokeStyle = line;
  ctx.lineWidth = 1;
  ctx.fillStyle = muted;
  for (let i = 0; i <= 4; i++) {
    const y = T + (ph * i) / 4;
    ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + pw, y); ctx.stroke();
    ctx.textAlign = 'right'; ctx.fillText((maxLoss * (1 - i / 4)).toFixed(2), L - 6, y + 4);
    ctx.textAlign = 'left'; ctx.fillText(`${Math.round(100 * (1 - i / 4))}%`, L + pw + 6, y + 4);
  }
  ctx.textAlign = 'center';
  const tick = Math.max(1, Math.ceil(n / 10));
  for (let e = 1; e <= n; e += tick) ctx.fillText(String(e), X(e), T + ph + 16);
  ctx.fillText('epoch', L + pw / 2, H - 2);
  for (const s of series) s.y = s.key.includes('loss') ? YL : YA;
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color; ctx.lineWidth = 2; ctx.setLineDash(s.dash);
    ctx.beginPath();
    history.forEach((h, i) => { const x = X(h.epoch), y = s.y(h[s.key]); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    ctx.stroke();
    ctx.setLineDash([]);
    for (const h of history) { ctx.beginPath(); ctx.arc(X(h.epoch), s.y(h[s.key]), 2.5, 0, 7); ctx.fill(); }
  }
  ctx.textAlign = 'left';
  for (const { s, x, y } of legend) {
    ctx.strokeStyle = s.color; ctx.setLineDash(s.dash); ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 18, y); ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = fg; ctx.fillText(s.label, x + 22, y + 4);
  }
  c.setAttribute('aria-label', history.length
    ? `Loss and accuracy per epoch; after epoch ${history.at(-1).epoch}: loss ${history.at(-1).loss.toFixed(3)}, val accuracy ${(history.at(-1).val_accuracy * 100).toFixed(1)}%`
    : 'Loss and accuracy per epoch (no training yet)');
}

function addLogRow(h) {
  const tr = document.createElement('tr');
  for (const v of [h.epoch, h.loss.toFixed(4), `${(h.accuracy * 100).toFixed(1)}%`, h.val_loss.toFixed(4), `${(h.val_accuracy * 100).toFixed(1)}%`]) {
    const td = document.createElement('td');
    td.textContent = String(v);
    tr.append(td);
  }
  $('train-log').tBodies[0].append(tr);
}

// ---------------------------------------------------------- checkpoints ----
async function refreshCheckpoints() {
  try {
    ckpts = await call('list');
  } catch (e) {
    fail(e);
    return;
  }
  const list = $('ckpt-list');
  list.innerHTML = '';
  // grouped by run, newest run first (the worker lists newest first)
  const order = [...new Set(ckpts.checkpoints.map((c) => c.run))];
  const groups = order.map((run) => [run, ckpts.checkpoints.filter((c) => c.run === run)]);
  for (const [run, items] of groups) {
    const head = document.createElement('li');
    head.className = 'run-head';
    const r = runs[run];
    head.textContent = r ? `Run ${r.n} · started ${new Date(r.startedAt).toLocaleString()} · seed ${r.seed}, ${r.epochs} epoch${r.epochs === 1 ? '' : 's'} planned`
      : run ? 'A run from another page or browser profile' : 'Earlier checkpoints';
    list.append(head);
    for (const c of items) addCheckpointItem(list, c, r && r.partial[c.epoch]);
  }
  $('ckpt-empty').hidden = ckpts.checkpoints.length > 0;
  $('restore-latest').disabled = !ckpts.latest || training;
  for (const b of list.querySelectorAll('button')) b.disabled = training;
}

function addCheckpointItem(list, c, partial) {
  const li = document.createElement('li');
  li.dataset.epoch = String(c.epoch);
  li.dataset.run = c.run;
  if (c.path === ckpts.latest) li.classList.add('latest');
  const date = c.date ? new Date(c.date) : null;
  const text = document.createElement('div');
  text.className = 'ckpt-text';
  const title = document.createElement('strong');
  title.textContent = partial ? `Epoch ${c.epoch}, stopped at batch ${partial.batches} of ${partial.steps}` : `Epoch ${c.epoch}`;
  const metric = document.createElement('span');
  metric.textContent = ` · val accuracy ${(c.valAccuracy * 100).toFixed(1)}%`;
  const when = document.createElement('small');
  when.textContent = date ? `saved ${date.toLocaleDateString()} ${date.toLocaleTimeString()}` : '';
  text.append(title, metric, document.createElement('br'), when);
  const actions = document.createElement('div');
  actions.className = 'actions-cell';
  const restore = document.createElement('button');
  restore.type = 'button';
  restore.textContent = 'Restore';
  restore.setAttribute('aria-label', `Restore the checkpoint of epoch ${c.epoch}`);
  restore.addEventListener('click', () => evaluate(c.path, c));
  const del = document.createElement('button');
  del.type = 'button';
  del.textContent = 'Delete';
  del.setAttribute('aria-label', `Delete the checkpoint of epoch ${c.epoch}`);
  del.addEventListener('click', async () => {
    try { ckpts = await call('delete', { path: c.path }); } catch (e) { fail(e); }
    refreshCheckpoints();
  });
  actions.append(restore, del);
  li.append(text, actions);
  list.append(li);
}

/** After a reload: the chart and the table show the run the latest checkpoint belongs to. */
function showRunOfLatest() {
  const c = ckpts.checkpoints.find((x) => x.path === ckpts.latest);
  const r = c && runs[c.run];
  if (training || history.length || !r || !Array.isArray(r.history)) return;
  history.push(...r.history);
  epochsPlanned = r.epochs;
  $('train-log').tBodies[0].innerHTML = '';
  for (const h of history) addLogRow(h);
  drawChart();
  $('train-status').textContent = `Run ${r.n}, started ${new Date(r.startedAt).toLocaleString()}: ${history.length} epoch${history.length === 1 ? '' : 's'}, checkpoints below`;
}

async function evaluate(path, info) {
  $('eval-box').hidden = false;
  $('eval-untrained').textContent = 'evaluating…';
  $('eval-restored').textContent = '';
  try {
    const r = await call('evaluate', { path });
    trainStats.lastEval = r;
    const c = info || ckpts.checkpoints.find((x) => x.path === path);
    $('eval-restored-label').textContent = `Restored ${c ? `epoch ${c.epoch}` : path.split('/').pop()}`;
    $('eval-untrained').textContent = `accuracy ${(r.untrained.accuracy * 100).toFixed(1)}%, loss ${r.untrained.loss.toFixed(4)}`;
    $('eval-restored').textContent = `accuracy ${(r.restored.accuracy * 100).toFixed(1)}%, loss ${r.restored.loss.toFixed(4)}`;
  } catch (e) {
    $('eval-untrained').textContent = '';
    fail(e);
  }
}

function setTraining(on) {
  training = on;
  $('train-start').disabled = on;
  $('train-stop').disabled = !on;
  $('train-epochs').disabled = on;
  $('train-seed').disabled = on;
  $('restore-latest').disabled = on || !ckpts.latest;
  for (const b of $('ckpt-list').querySelectorAll('button')) b.disabled = on;
}

async function startTraining() {
  const epochs = Number($('train-epochs').value), seed = Number($('train-seed').value);
  if (!(Number.isInteger(epochs) && epochs >= 1 && epochs <= 200)) { fail(new Error('Epochs: enter a whole number from 1 to 200')); return; }
  if (!(Number.isInteger(seed) && seed >= 0)) { fail(new Error('Seed: enter a whole number')); return; }
  history.length = 0;
  epochsPlanned = epochs;
  $('train-log').tBodies[0].innerHTML = '';
  drawChart();
  setTraining(true);
  $('train-status').textContent = 'Training…';
  $('train-progress').value = 0;
  try {
    const run = `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    runs = loadRuns();
    runs[run] = { n: Math.max(0, ...Object.values(runs).map((x) => x.n || 0)) + 1, startedAt: new Date().toISOString(), epochs, seed, history: [], partial: {} };
    saveRuns();
    if (stopFlag) { Atomics.store(stopFlag, 0, 0); Atomics.store(stopFlag, 1, 0); }
    trainStats.stopRequestedAfter = null;
    const r = await call('train', { epochs, seed, run });
    trainStats.runs++;
    $('train-status').textContent = `${r.stopped ? 'Stopped' : 'Done'} after ${r.epochs} epoch${r.epochs === 1 ? '' : 's'} in ${(r.ms / 1000).toFixed(1)} s`;
    if (!r.stopped) $('train-progress').value = 1;
  } catch (e) {
    $('train-status').textContent = 'Stopped by an error';
    fail(e);
  } finally {
    setTraining(false);
    refreshCheckpoints();
  }
}

function drawDigits(samples) {
  const box = $('digits');
  box.innerHTML = '';
  for (const s of samples) {
    const c = document.createElement('canvas');
    c.width = 28; c.height = 28;
    const id = new ImageData(28, 28);
    for (let i = 0; i < 784; i++) { const v = 255 - Math.round(s.pixels[i] * 255); id.data.set([v, v, v, 255], i * 4); }
    c.getContext('2d').putImageData(id, 0, 0);
    box.append(c);
  }
}

/** Starts the Train tab (once). */
export async function initTrain() {
  try {
    worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module', name: 'deepdream-train' });
    await new Promise((resolve, reject) => {
      worker.onmessage = (e) => { if (e.data && e.data.type === 'ready') resolve(); };
      worker.onerror = (e) => { e.preventDefault(); reject(new Error(e.message || 'the training worker failed to start')); };
    });
    worker.onmessage = onMessage;
    worker.onerror = (e) => { e.preventDefault(); fail(new Error(e.message || 'the training worker failed')); };
    stopFlag = detectFeatures().threads ? new Int32Array(new SharedArrayBuffer(8)) : null; // WebKitGTK: isolated, no SharedArrayBuffer
    const info = await call('init', { stopFlag });
    $('train-size').textContent = String(info.nTrain);
    $('test-size').textContent = String(info.nTest);
    drawDigits(info.samples);
  } catch (e) {
    $('train-soon-why').textContent = `(${e.message})`;
    $('train-soon').hidden = false;
    return false;
  }
  $('train-ui').hidden = false;
  $('train-start').addEventListener('click', startTraining);
  $('train-stop').addEventListener('click', () => {
    if (stopFlag) {
      Atomics.store(stopFlag, 0, 1); // seen after the batch under way
      trainStats.stopRequestedAfter = Atomics.load(stopFlag, 1); // batches of this epoch done when Stop arrived
    }
    call('stop');
    $('train-status').textContent = 'Stopping after this batch…';
  });
  $('ckpt-refresh').addEventListener('click', refreshCheckpoints);
  $('restore-latest').addEventListener('click', () => ckpts.latest && evaluate(ckpts.latest));
  window.addEventListener('resize', () => drawChart());
  drawChart();
  await refreshCheckpoints();
  showRunOfLatest();
  return true;
}
