// io.js — where trained models live: TF.js ModelArtifacts in IndexedDB (TF.js'
// own database, so tf.loadLayersModel('indexeddb://x') reads what we write and
// the other way round), model.json + weights.bin directories in Node, or any
// TF.js-style IOHandler ({save(artifacts)}, {load()}).
//
// IndexedDB: database "tensorflowjs" version 1, object stores "models_store"
// and "model_info_store", both keyPath "modelPath" (TF.js' layout). A save is
// ONE readwrite transaction over both stores (TF.js uses two). Checkpoint
// bookkeeping (TF's "checkpoint" state file) is a record in models_store keyed
// "<dir>/checkpoint": {modelPath, kind: 'deepdream-wasm/checkpoint-state',
// formatVersion: 1, model_checkpoint_path, all_model_checkpoint_paths}; it is
// not in model_info_store, so TF.js' listModels() does not show it. Saving a
// checkpoint, updating that record and deleting checkpoints beyond maxToKeep
// happen in the same transaction.
//
// Files (Node): <path>/model.json (TF.js' JSON: modelTopology, weightsManifest
// [{paths: ['weights.bin'], weights: [...]}], ...) and <path>/weights.bin. The
// directory is replaced as a whole (atomic_dir.js: written beside it, fsync'ed,
// swapped in by renames), so a kill at any moment leaves the previous save or
// the new one loadable. model.json carries the CRC-32 of the weights in
// userDefinedMetadata, so bytes changed behind our back are reported, not
// loaded. Next to checkpoints, <dir>/checkpoint is TF's text state file
// (model_checkpoint_path: "...", all_model_checkpoint_paths: "..."), written
// atomically after the checkpoint and before older ones are removed.
import { isNode } from '../core.js';
import { DeepDreamError } from '../errors.js';
import { atomicWrite, ioError } from '../persist.js';
import { readableDir, removeDir, replaceDir } from './atomic_dir.js';

const fail = (code, msg, cause) => new DeepDreamError(code, msg, cause ? { cause } : undefined);

export const TFJS_DB = 'tensorflowjs';
export const TFJS_DB_VERSION = 1;
export const MODELS_STORE = 'models_store';
export const INFO_STORE = 'model_info_store';
export const STATE_KIND = 'deepdream-wasm/checkpoint-state';
export const STATE_NAME = 'checkpoint';

export { crc32 } from '../crc32.js';
import { crc32 } from '../crc32.js';

// -------------------------------------------------------------- weights ----
const DTYPE_BYTES = { float32: 4, int32: 4 };

/** Concatenates ArrayBuffers / typed arrays into one ArrayBuffer. */
export function concatBuffers(parts) {
  const views = parts.map((p) => (p instanceof ArrayBuffer ? new Uint8Array(p) : new Uint8Array(p.buffer, p.byteOffset, p.byteLength)));
  const total = views.reduce((a, v) => a + v.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const v of views) { out.set(v, off); off += v.byteLength; }
  return out.buffer;
}

function specBytes(spec, i) {
  if (!spec || typeof spec !== 'object' || typeof spec.name !== 'string')
    throw fail('DD_ERR_PARSE', `weight spec ${i} has no name`);
  if (!Array.isArray(spec.shape) || spec.shape.length > 8 || !spec.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 1 << 30))
    throw fail('DD_ERR_PARSE', `weight '${spec.name}': bad shape ${JSON.stringify(spec.shape)}`);
  if (spec.quantization) throw fail('DD_ERR_UNSUPPORTED', `weight '${spec.name}' is quantized (${JSON.stringify(spec.quantization)}); only float32 weights are supported`);
  const size = DTYPE_BYTES[spec.dtype ?? 'float32'];
  if (!size) throw fail('DD_ERR_UNSUPPORTED', `weight '${spec.name}' has dtype '${spec.dtype}' (float32 and int32 are supported)`);
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (count > 2 ** 31) throw fail('DD_ERR_PARSE', `weight '${spec.name}' is too large`);
  return { count, bytes: count * size };
}

/**
 * Splits weightData by weightSpecs: [{name, shape, dtype, group, data}] with
 * Float32Array / Int32Array data (copies, 4-byte aligned). The byte count
 * must match the specs exactly (a truncated or padded file is DD_ERR_PARSE).
 */
export function decodeWeights(specs, weightData, context = 'the weights') {
  if (!Array.isArray(specs)) throw fail('DD_ERR_PARSE', `${context}: weightSpecs must be an array`);
  let data = weightData;
  if (Array.isArray(data)) data = concatBuffers(data);
  if (ArrayBuffer.isView(data)) data = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  if (!(data instanceof ArrayBuffer)) {
    // structured clones from another realm (fake-indexeddb) are ArrayBuffer-like
    if (data && typeof data.byteLength === 'number' && typeof data.slice === 'function') data = new Uint8Array(data).slice().buffer;
    else if (specs.length === 0) data = new ArrayBuffer(0);
    else throw fail('DD_ERR_PARSE', `${context}: weightData is missing`);
  }
  const sizes = specs.map(specBytes);
  const need = sizes.reduce((a, s) => a + s.bytes, 0);
  if (need !== data.byteLength)
    throw fail('DD_ERR_PARSE', `${context}: the weight data has ${data.byteLength} bytes but the ${specs.length} weight specs need ${need} (corrupted or truncated weights file)`);
  const out = [];
  let off = 0;
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i];
    const bytes = data.slice(off, off + sizes[i].bytes);
    off += sizes[i].bytes;
    out.push({ name: s.name, shape: s.shape.slice(), dtype: s.dtype ?? 'float32', group: s.group,
      data: (s.dtype ?? 'float32') === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes) });
  }
  return out;
}

/** Checks the CRC-32 our saves record in userDefinedMetadata (absent in foreign files: skipped). */
export function verifyChecksum(artifacts, context) {
  const meta = artifacts.userDefinedMetadata && artifacts.userDefinedMetadata.deepdreamWasm;
  if (!meta || meta.weightsCrc32 === undefined) return;
  const data = Array.isArray(artifacts.weightData) ? concatBuffers(artifacts.weightData) : artifacts.weightData;
  const got = crc32(new Uint8Array(ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data));
  if (got !== meta.weightsCrc32)
    throw fail('DD_ERR_PARSE', `${context}: the weights' CRC-32 is ${got.toString(16)}, model.json says ${Number(meta.weightsCrc32).toString(16)} (a torn or corrupted save)`);
}

/** TF.js' getModelArtifactsInfoForJSON. */
export function artifactsInfo(a) {
  const utf8 = (s) => new TextEncoder().encode(s).length;
  return {
    dateSaved: new Date(),
    modelTopologyType: 'JSON',
    modelTopologyBytes: a.modelTopology == null ? 0 : utf8(JSON.stringify(a.modelTopology)),
    weightSpecsBytes: a.weightSpecs == null ? 0 : utf8(JSON.stringify(a.weightSpecs)),
    weightDataBytes: a.weightData == null ? 0 : a.weightData.byteLength,
  };
}

// --------------------------------------------------------------- targets ----
/**
 * 'indexeddb://key' -> {scheme: 'indexeddb', key}; a TF.js IOHandler -> {scheme: 'handler'};
 * 'file://...' or any other string -> {scheme: 'file', path} (Node only).
 */
export function resolveTarget(target) {
  if (target && typeof target === 'object' && (typeof target.save === 'function' || typeof target.load === 'function'))
    return { scheme: 'handler', handler: target };
  if (typeof target !== 'string' || !target) throw fail('DD_ERR_INVALID_ARGUMENT', 'a model path must be a non-empty string or an IOHandler');
  if (target.startsWith('indexeddb://')) {
    const key = target.slice('indexeddb://'.length);
    return { scheme: 'indexeddb', key, url: target };
  }
  if (/^(localstorage|downloads|https?):\/\//.test(target))
    throw fail('DD_ERR_UNSUPPORTED', `'${target}': only indexeddb:// and file paths are supported (or pass a TF.js IOHandler)`);
  if (!isNode) throw fail('DD_ERR_UNSUPPORTED', `'${target}': file paths need Node.js; use indexeddb://${target}`);
  let path = target;
  if (path.startsWith('file://')) path = decodeURIComponent(new URL(path).pathname);
  return { scheme: 'file', path, url: target };
}

/** The checkpoint directory and name of a save target: 'a/b/cp.ckpt' -> ['a/b', 'cp.ckpt']. */
function splitKey(key) {
  const k = key.replace(/\/+$/, '');
  const i = k.lastIndexOf('/');
  return i < 0 ? ['', k] : [k.slice(0, i), k.slice(i + 1)];
}
const stateKey = (dir) => (dir ? `${dir}/${STATE_NAME}` : STATE_NAME);

function checkName(name, url) {
  if (!name) throw fail('DD_ERR_INVALID_ARGUMENT', `'${url}' names no model`);
  if (name === STATE_NAME) throw fail('DD_ERR_INVALID_ARGUMENT', `'${url}': '${STATE_NAME}' is reserved for the checkpoint state`);
}

/** Keeps `name` as the newest entry and at most maxToKeep; returns {state, removed}. */
function nextState(old, name, maxToKeep) {
  let all = old && Array.isArray(old.all_model_checkpoint_paths) ? old.all_model_checkpoint_paths.filter((p) => typeof p === 'string' && p !== name) : [];
  all.push(name);
  let removed = [];
  if (Number.isFinite(maxToKeep) && maxToKeep > 0 && all.length > maxToKeep) {
    removed = all.slice(0, all.length - maxToKeep);
    all = all.slice(all.length - maxToKeep);
  }
  return { state: { model_checkpoint_path: name, all_model_checkpoint_paths: all }, removed };
}

// ------------------------------------------------------------- IndexedDB ----
function idbFactory(opts) {
  const f = opts.indexedDB ?? globalThis.indexedDB;
  if (!f) throw fail('DD_ERR_UNSUPPORTED', 'IndexedDB is not available here (in Node, import "fake-indexeddb/auto")');
  return f;
}

/** Opens TF.js' database (creating its two stores as TF.js does). Close it after use: TF.js opens per action too. */
export function openTfjsDb(opts = {}) {
  const factory = idbFactory(opts);
  return new Promise((resolve, reject) => {
    const req = factory.open(TFJS_DB, TFJS_DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(MODELS_STORE)) db.createObjectStore(MODELS_STORE, { keyPath: 'modelPath' });
      if (!db.objectStoreNames.contains(INFO_STORE)) db.createObjectStore(INFO_STORE, { keyPath: 'modelPath' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(ioError(`opening IndexedDB '${TFJS_DB}'`, req.error));
    req.onblocked = () => reject(fail('DD_ERR_IO', `opening IndexedDB '${TFJS_DB}' is blocked by another connection`));
  });
}

async function withTx(opts, mode, what, body) {
  const db = await openTfjsDb(opts);
  try {
    return await new Promise((resolve, reject) => {
      let tx, result;
      try {
        tx = db.transaction([MODELS_STORE, INFO_STORE], mode);
        result = body(tx.objectStore(MODELS_STORE), tx.objectStore(INFO_STORE), tx);
      } catch (e) {
        reject(ioError(what, e));
        return;
      }
      tx.oncomplete = () => resolve(typeof result === 'function' ? result() : result);
      tx.onabort = () => reject(ioError(`${what} was aborted`, tx.error));
      tx.onerror = () => {};
    });
  } finally {
    db.close();
  }
}

/**
 * Saves artifacts under `key` in one transaction; with `checkpoint`
 * ({maxToKeep}) also updates the directory's state record and deletes
 * checkpoints beyond maxToKeep. Returns {removed: [keys]}.
 */
export async function idbSave(key, artifacts, opts = {}, checkpoint = null) {
  const [dir, name] = splitKey(key);
  checkName(name, `indexeddb://${key}`);
  const modelArtifactsInfo = artifactsInfo(artifacts);
  let removed = [];
  await withTx(opts, 'readwrite', `saving indexeddb://${key}`, (models, info, tx) => {
    models.put({ modelPath: key, modelArtifacts: artifacts, modelArtifactsInfo });
    info.put({ modelPath: key, modelArtifactsInfo });
    if (checkpoint) {
      const sk = stateKey(dir);
      const get = models.get(sk);
      get.onsuccess = () => {
        const old = get.result && get.result.kind === STATE_KIND ? get.result : null;
        const next = nextState(old, name, checkpoint.maxToKeep);
        models.put({ modelPath: sk, kind: STATE_KIND, formatVersion: 1, ...next.state });
        for (const r of next.removed) {
          const rk = dir ? `${dir}/${r}` : r;
          if (rk === key) continue;
          models.delete(rk);
          info.delete(rk);
        }
        removed = next.removed.map((r) => (dir ? `${dir}/${r}` : r));
      };
      get.onerror = () => tx.abort();
    }
    return () => ({ removed });
  });
  return { removed };
}

export async function idbLoad(key, opts = {}) {
  const rec = await withTx(opts, 'readonly', `loading indexeddb://${key}`, (models) => {
    const req = models.get(key);
    return () => req.result;
  });
  if (!rec) throw fail('DD_ERR_NOT_FOUND', `there is no model 'indexeddb://${key}' in IndexedDB '${TFJS_DB}'`);
  if (!rec.modelArtifacts || typeof rec.modelArtifacts !== 'object')
    throw fail('DD_ERR_PARSE', `'indexeddb://${key}' is not a model record${rec.kind === STATE_KIND ? ' (it is the checkpoint state)' : ''}`);
  return rec.modelArtifacts;
}

export async function idbReadState(dir, opts = {}) {
  const rec = await withTx(opts, 'readonly', 'reading the checkpoint state', (models) => {
    const req = models.get(stateKey(dir));
    return () => req.result;
  });
  return rec && rec.kind === STATE_KIND ? rec : null;
}

export async function idbExists(key, opts = {}) {
  return withTx(opts, 'readonly', 'reading IndexedDB', (models) => {
    const req = models.getKey(key);
    return () => req.result !== undefined;
  });
}

/** Deletes a model (both stores) in one transaction. */
export async function idbRemove(key, opts = {}) {
  await withTx(opts, 'readwrite', `removing indexeddb://${key}`, (models, info) => {
    models.delete(key);
    info.delete(key);
  });
}

// ------------------------------------------------------------------ files ----
let nodeMods;
async function node() {
  if (!nodeMods) {
    const [fs, path] = await Promise.all([import('node:fs/promises'), import('node:path')]);
    nodeMods = { fs, path };
  }
  return nodeMods;
}

/** Writes directory <dir> holding model.json (TF.js' JSON with a weightsManifest) and weights.bin, atomically as a whole. */
export async function fileSave(dir, artifacts) {
  const { fs, path } = await node();
  const { weightData, weightSpecs, ...rest } = artifacts;
  const json = { ...rest, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }] };
  await replaceDir(fs, path, dir, [['weights.bin', new Uint8Array(weightData)], ['model.json', new TextEncoder().encode(JSON.stringify(json))]]);
}

function checkShardPath(p, jsonPath) {
  if (typeof p !== 'string' || !p || p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p) || p.split(/[\\/]/).includes('..'))
    throw fail('DD_ERR_PARSE', `${jsonPath}: weights path ${JSON.stringify(p)} must be relative and stay in the model's directory`);
}

/** Reads <path>/model.json (or path itself when it ends in .json) and its weight shards. */
export async function fileLoad(target) {
  const { fs, path } = await node();
  const jsonPath = target.endsWith('.json') ? target : path.join(await readableDir(fs, path, target), 'model.json');
  let text;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') throw fail('DD_ERR_NOT_FOUND', `there is no model at ${target} (no ${jsonPath})`, e);
    throw ioError(`reading ${jsonPath}`, e);
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail('DD_ERR_PARSE', `${jsonPath} is not valid JSON: ${e.message}`, e);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw fail('DD_ERR_PARSE', `${jsonPath} is not a model.json object`);
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw fail('DD_ERR_PARSE', `${jsonPath}: weightsManifest must be an array`);
  const specs = [], parts = [];
  const base = path.dirname(jsonPath);
  for (const group of manifest) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      throw fail('DD_ERR_PARSE', `${jsonPath}: each weightsManifest entry needs paths[] and weights[]`);
    for (const p of group.paths) {
      checkShardPath(p, jsonPath);
      try {
        parts.push(new Uint8Array(await fs.readFile(path.join(base, p))));
      } catch (e) {
        if (e.code === 'ENOENT') throw fail('DD_ERR_NOT_FOUND', `${jsonPath} names weights file ${p}, which is missing`, e);
        throw ioError(`reading ${p}`, e);
      }
    }
    specs.push(...group.weights);
  }
  const { weightsManifest, ...rest } = json;
  return { ...rest, weightSpecs: specs, weightData: concatBuffers(parts) };
}

/** Removes a checkpoint directory written by fileSave (see atomic_dir.js removeDir). */
export async function fileRemove(dir) {
  const { fs, path } = await node();
  await removeDir(fs, path, dir);
}

/** TF's text checkpoint state: key: "value" lines. Returns null when absent. */
export async function fileReadState(dir) {
  const { fs, path } = await node();
  let text;
  try {
    text = await fs.readFile(path.join(dir, STATE_NAME), 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
    throw ioError(`reading ${path.join(dir, STATE_NAME)}`, e);
  }
  return parseStateText(text, path.join(dir, STATE_NAME));
}

export function parseStateText(text, where = 'checkpoint') {
  const state = { model_checkpoint_path: null, all_model_checkpoint_paths: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(model_checkpoint_path|all_model_checkpoint_paths|[a-z_]+)\s*:\s*"((?:[^"\\]|\\.)*)"$/.exec(line);
    if (!m) {
      if (/^[a-z_]+\s*:/.test(line)) continue; // other fields (timestamps) are ignored
      throw fail('DD_ERR_PARSE', `${where}: cannot parse line ${JSON.stringify(line.slice(0, 80))}`);
    }
    const v = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    if (m[1] === 'model_checkpoint_path') state.model_checkpoint_path = v;
    else if (m[1] === 'all_model_checkpoint_paths') state.all_model_checkpoint_paths.push(v);
  }
  if (state.model_checkpoint_path === null) throw fail('DD_ERR_PARSE', `${where}: no model_checkpoint_path`);
  return state;
}

export function stateText(state) {
  const q = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  return `model_checkpoint_path: ${q(state.model_checkpoint_path)}\n` +
    state.all_model_checkpoint_paths.map((p) => `all_model_checkpoint_paths: ${q(p)}\n`).join('');
}

/** Records a file checkpoint in <dir>/checkpoint and removes those beyond maxToKeep. */
export async function fileRecordCheckpoint(savedPath, maxToKeep) {
  const { fs, path } = await node();
  const dir = path.dirname(savedPath), name = path.basename(savedPath);
  checkName(name, savedPath);
  const old = await fileReadState(dir).catch(() => null);
  const next = nextState(old, name, maxToKeep);
  await atomicWrite(fs, path.join(dir, STATE_NAME), new TextEncoder().encode(stateText(next.state)));
  const removed = [];
  for (const r of next.removed) {
    if (r === name || r.includes('/') || r.includes('\\') || r === '..' || r === '.') continue;
    await fileRemove(path.join(dir, r));
    removed.push(path.join(dir, r));
  }
  return { removed };
}

// -------------------------------------------------------------- generic ----
/** Saves artifacts to a target; `checkpoint` ({maxToKeep}) records it in the checkpoint state. */
export async function saveArtifacts(target, artifacts, opts = {}, checkpoint = null) {
  const t = resolveTarget(target);
  if (t.scheme === 'handler') {
    if (typeof t.handler.save !== 'function') throw fail('DD_ERR_INVALID_ARGUMENT', 'this IOHandler cannot save');
    return t.handler.save(artifacts);
  }
  if (t.scheme === 'indexeddb') return idbSave(t.key, artifacts, opts, checkpoint);
  const { path } = await node();
  checkName(path.basename(t.path.replace(/[\\/]+$/, '')), t.path);
  await fileSave(t.path, artifacts);
  if (checkpoint) return fileRecordCheckpoint(t.path.replace(/[\\/]+$/, ''), checkpoint.maxToKeep);
  return { removed: [] };
}

export async function loadArtifacts(target, opts = {}) {
  const t = resolveTarget(target);
  let a;
  if (t.scheme === 'handler') {
    if (typeof t.handler.load !== 'function') throw fail('DD_ERR_INVALID_ARGUMENT', 'this IOHandler cannot load');
    a = await t.handler.load();
  } else if (t.scheme === 'indexeddb') {
    a = await idbLoad(t.key, opts);
  } else {
    a = await fileLoad(t.path);
  }
  if (!a || typeof a !== 'object') throw fail('DD_ERR_PARSE', `${t.url ?? 'the IOHandler'} returned no model artifacts`);
  return a;
}

/**
 * tf.train.latest_checkpoint: the newest checkpoint recorded in `dir`
 * ('indexeddb://prefix' or a directory), or null when there is none (or it
 * has been removed).
 */
export async function latestCheckpoint(dir, opts = {}) {
  if (typeof dir !== 'string') throw fail('DD_ERR_INVALID_ARGUMENT', 'latestCheckpoint: dir must be a string');
  if (dir.startsWith('indexeddb://')) {
    const d = dir.slice('indexeddb://'.length).replace(/\/+$/, '');
    const st = await idbReadState(d, opts);
    if (!st || typeof st.model_checkpoint_path !== 'string') return null;
    const key = d ? `${d}/${st.model_checkpoint_path}` : st.model_checkpoint_path;
    return (await idbExists(key, opts)) ? `indexeddb://${key}` : null;
  }
  const t = resolveTarget(dir);
  const { fs, path } = await node();
  const st = await fileReadState(t.path);
  if (!st) return null;
  const p = path.isAbsolute(st.model_checkpoint_path) ? st.model_checkpoint_path : path.join(t.path, st.model_checkpoint_path);
  try {
    await fs.access(path.join(await readableDir(fs, path, p), 'model.json'));
  } catch {
    return null;
  }
  return p;
}
