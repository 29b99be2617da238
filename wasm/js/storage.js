// storage.js — dream checkpoints and cached models, in IndexedDB (browser, or
// any IndexedDB implementation such as fake-indexeddb in Node) or in files.
//
// IndexedDB schema (documented in README.md): database "deepdream-wasm",
// version 1, object stores
//   "dreams": keyPath "id"   — dream checkpoint records
//   "models": keyPath "name" — cached model files
// Every record carries formatVersion: 1 and kind. A checkpoint is one put()
// in one readwrite transaction: it lands whole or not at all.
//
// Files: <dir>/<id>.ddream = "DDCK" + u32 header length + JSON header + state
// bytes, written to a temporary file, fsync'ed and renamed over the old one
// (persist.js); temporaries of killed writers are removed on save and load.
import { isNode } from './core.js';
import { DeepDreamError, asDeepDreamError } from './errors.js';
import { atomicWrite, cleanOrphans, ioError } from './persist.js';

export const FORMAT_VERSION = 1;
export const DB_NAME = 'deepdream-wasm';
export const DB_VERSION = 1;
const DREAM_KIND = 'deepdream-wasm/dream';
const MODEL_KIND = 'deepdream-wasm/model';
const MAGIC = [0x44, 0x44, 0x43, 0x4b]; // "DDCK"

function checkRecord(r, kind) {
  if (!r || typeof r !== 'object') return 'not an object';
  if (r.kind !== kind) return `not a ${kind} record`;
  if (r.formatVersion !== FORMAT_VERSION) return `format version ${r.formatVersion}, this library reads ${FORMAT_VERSION}`;
  if (kind === DREAM_KIND && !(r.state instanceof Uint8Array || r.state instanceof ArrayBuffer)) return 'no state bytes';
  if (kind === DREAM_KIND) return checkDreamHeader(r);
  if (kind === MODEL_KIND && !(r.bytes instanceof ArrayBuffer || r.bytes instanceof Uint8Array)) return 'no model bytes';
  return null;
}

const isCount = (v, max) => Number.isInteger(v) && v >= 1 && v <= max;

/**
 * The fields resumeDream reads from a checkpoint's header (JSON in a file, the
 * record in IndexedDB), which may have been edited: their types and ranges.
 * What they must agree with in the state itself (channels, size) is checked
 * when the state is restored (dream.js dreamFromState).
 */
function checkDreamHeader(r) {
  if (typeof r.id !== 'string' || !r.id) return 'the header has no dream id';
  if (!isCount(r.width, 0x7fffffff) || !isCount(r.height, 0x7fffffff))
    return `the header's image size ${JSON.stringify(r.width)}x${JSON.stringify(r.height)} is not two positive integers`;
  if (r.channels !== 3 && r.channels !== 4) return `the header's channels ${JSON.stringify(r.channels)} is not 3 or 4`;
  if (!r.options || typeof r.options !== 'object' || Array.isArray(r.options)) return 'the header has no options object';
  if (!isCount(r.options.tilesPerStep, 0x7fffffff))
    return `the header's options.tilesPerStep ${JSON.stringify(r.options.tilesPerStep)} is not a positive integer`;
  if (r.fraction !== undefined && !(typeof r.fraction === 'number' && r.fraction >= 0 && r.fraction <= 1))
    return `the header's fraction ${JSON.stringify(r.fraction)} is not a number in 0..1`;
  return null;
}

// ------------------------------------------------------------- IndexedDB ----
export class IndexedDBStore {
  constructor(factory = globalThis.indexedDB) {
    if (!factory) throw new DeepDreamError('DD_ERR_UNSUPPORTED', 'IndexedDB is not available here');
    this.factory = factory;
    this._db = null;
  }

  open() {
    if (this._db) return this._db;
    this._db = new Promise((resolve, reject) => {
      const req = this.factory.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('dreams')) db.createObjectStore('dreams', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('models')) db.createObjectStore('models', { keyPath: 'name' });
      };
      req.onblocked = () => reject(new DeepDreamError('DD_ERR_IO',
        `IndexedDB "${DB_NAME}" upgrade is blocked by another open tab; close other tabs of this page and reload`));
      req.onerror = () => reject(ioError('opening IndexedDB', req.error));
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => db.close();
        resolve(db);
      };
    });
    this._db.catch(() => { this._db = null; });
    return this._db;
  }

  async _tx(store, mode, fn) {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      let result;
      let tx;
      try {
        tx = db.transaction(store, mode);
        result = fn(tx.objectStore(store));
      } catch (e) {
        reject(ioError(`IndexedDB ${mode} on ${store}`, e));
        return;
      }
      tx.oncomplete = () => resolve(result && 'result' in result ? result.result : result);
      tx.onabort = () => reject(ioError(`IndexedDB ${mode} on ${store} was aborted`, tx.error));
      tx.onerror = () => {}; // reported through onabort
    });
  }

  async saveDream(record) {
    const now = new Date().toISOString();
    const r = { ...record, kind: DREAM_KIND, formatVersion: FORMAT_VERSION, updatedAt: now, createdAt: record.createdAt || now,
      state: record.state instanceof Uint8Array ? record.state : new Uint8Array(record.state) };
    await this._tx('dreams', 'readwrite', (s) => { s.put(r); });
    return r;
  }

  async loadDream(id) {
    const r = await this._tx('dreams', 'readonly', (s) => s.get(id));
    if (!r) throw new DeepDreamError('DD_ERR_NOT_FOUND', `no saved dream '${id}'`);
    const bad = checkRecord(r, DREAM_KIND);
    if (bad) throw new DeepDreamError('DD_ERR_PARSE', `saved dream '${id}' is unusable: ${bad}`);
    return { ...r, state: r.state instanceof Uint8Array ? r.state : new Uint8Array(r.state) };
  }

  /** [{id, updatedAt, fraction, width, height, ...}] without the state bytes; bad records are listed in .skipped. */
  async listDreams() {
    const all = await this._tx('dreams', 'readonly', (s) => s.getAll());
    const out = [];
    out.skipped = [];
    for (const r of all) {
      const bad = checkRecord(r, DREAM_KIND);
      if (bad) { out.skipped.push({ id: r && r.id, reason: bad }); continue; }
      const { state, ...meta } = r;
      out.push({ ...meta, stateBytes: state.byteLength });
    }
    return out;
  }

  async removeDream(id) { await this._tx('dreams', 'readwrite', (s) => { s.delete(id); }); }

  async saveModel(name, bytes, meta = {}) {
    const buf = bytes instanceof ArrayBuffer ? bytes : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const r = { ...meta, name, kind: MODEL_KIND, formatVersion: FORMAT_VERSION, savedAt: new Date().toISOString(), byteLength: buf.byteLength, bytes: buf };
    await this._tx('models', 'readwrite', (s) => { s.put(r); });
  }

  async loadModel(name) {
    const r = await this._tx('models', 'readonly', (s) => s.get(name));
    if (!r) throw new DeepDreamError('DD_ERR_NOT_FOUND', `no model '${name}' in IndexedDB`);
    const bad = checkRecord(r, MODEL_KIND);
    if (bad) throw new DeepDreamError('DD_ERR_PARSE', `cached model '${name}' is unusable: ${bad}`);
    return r.bytes instanceof Uint8Array ? r.bytes : new Uint8Array(r.bytes);
  }

  async listModels() {
    const keys = await this._tx('models', 'readonly', (s) => s.getAllKeys());
    const out = {};
    for (const k of keys) {
      const r = await this._tx('models', 'readonly', (s) => s.get(k));
      if (!checkRecord(r, MODEL_KIND)) out[`indexeddb://${k}`] = { byteLength: r.byteLength, savedAt: r.savedAt };
    }
    return out;
  }

  async removeModel(name) { await this._tx('models', 'readwrite', (s) => { s.delete(name); }); }

  close() { if (this._db) this._db.then((db) => db.close(), () => {}); this._db = null; }
}

// ------------------------------------------------------------------ files ----
export class FileStore {
  constructor(dir) { this.dir = dir; }

  async _fs() {
    if (!isNode) throw new DeepDreamError('DD_ERR_UNSUPPORTED', 'file storage needs Node.js');
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    try {
      await fs.mkdir(this.dir, { recursive: true });
    } catch (e) {
      throw asDeepDreamError(e, 'cannot use the checkpoint directory');
    }
    return { fs, path };
  }

  _file(path, id) {
    if (!/^[A-Za-z0-9._-]+$/.test(id) || id.startsWith('.')) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `bad dream id '${id}'`);
    return path.join(this.dir, `${id}.ddream`);
  }

  async saveDream(record) {
    const { fs, path } = await this._fs();
    const now = new Date().toISOString();
    const { state, ...meta } = record;
    const header = { ...meta, kind: DREAM_KIND, formatVersion: FORMAT_VERSION, updatedAt: now, createdAt: record.createdAt || now, stateBytes: state.length };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const head = new Uint8Array(8);
    head.set(MAGIC);
    new DataView(head.buffer).setUint32(4, json.length, true);
    const file = this._file(path, record.id);
    await atomicWrite(fs, file, Buffer.concat([head, json, state]), `writing checkpoint ${file}`);
    return { ...header, state };
  }

  async _read(fs, file) {
    const buf = new Uint8Array(await fs.readFile(file));
    if (buf.length < 8 || MAGIC.some((m, i) => buf[i] !== m)) throw new Error('not a deepdream-wasm checkpoint file');
    const n = new DataView(buf.buffer, buf.byteOffset).getUint32(4, true);
    if (8 + n > buf.length) throw new Error('truncated header');
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
    const state = buf.slice(8 + n);
    const r = { ...header, state };
    const bad = checkRecord(r, DREAM_KIND) || (header.stateBytes !== state.length ? `state has ${state.length} bytes, header says ${header.stateBytes}` : null);
    if (bad) throw new Error(bad);
    return r;
  }

  async loadDream(id) {
    const { fs, path } = await this._fs();
    const file = this._file(path, id);
    await cleanOrphans(fs, path, this.dir);
    try {
      return await this._read(fs, file);
    } catch (e) {
      if (e.code === 'ENOENT') throw new DeepDreamError('DD_ERR_NOT_FOUND', `no saved dream '${id}' in ${this.dir}`);
      throw new DeepDreamError('DD_ERR_PARSE', `saved dream ${file} is unusable: ${e.message}`);
    }
  }

  async listDreams() {
    const { fs, path } = await this._fs();
    const out = [];
    out.skipped = [];
    const names = await fs.readdir(this.dir).catch((e) => { throw asDeepDreamError(e, 'cannot list the checkpoint directory'); });
    for (const f of names.sort()) {
      if (!f.endsWith('.ddream')) continue;
      try {
        const { state, ...meta } = await this._read(fs, path.join(this.dir, f));
        out.push(meta);
      } catch (e) {
        out.skipped.push({ id: f.replace(/\.ddream$/, ''), reason: e.message });
      }
    }
    return out;
  }

  async removeDream(id) {
    const { fs, path } = await this._fs();
    const file = this._file(path, id);
    await fs.rm(file, { force: true }).catch((e) => { throw asDeepDreamError(e, 'cannot remove the checkpoint'); });
  }
}

/** A store: 'indexeddb' / 'indexeddb://' (default in browsers), a directory path (Node), or a store object. */
export function openStore(target) {
  if (target && typeof target === 'object' && typeof target.saveDream === 'function') return target;
  if (target === undefined || target === 'indexeddb' || target === 'indexeddb://') return new IndexedDBStore();
  if (typeof target === 'string' && target.startsWith('file://')) return new FileStore(new URL(target).pathname);
  if (typeof target === 'string') return new FileStore(target);
  throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'storage must be "indexeddb", a directory path, or a store object');
}
