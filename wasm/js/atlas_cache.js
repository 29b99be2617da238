// atlas_cache.js — where channel atlases are kept between runs, so a finished atlas is shown at once and a
// cancelled one continues where it stopped. Two homes, on the existing storage code:
//   IndexedDB (browser): a record {kind: 'deepdream-wasm/atlas', formatVersion: 1, name: 'atlas/<key>', ...}
//     in the "models" store of storage.js's database (no schema change; model listings skip other kinds);
//   files (Node): <dir>/<key>.ddatlas = "DDAT" + u32 header length + JSON header + tile bytes, written
//     atomically (persist.js: temp + fsync + rename).
// Records are untrusted: a record that does not match what is asked (key, size, channels, byte counts)
// is ignored and the atlas starts afresh.
import { isNode } from './core.js';
import { DeepDreamError, asDeepDreamError } from './errors.js';
import { IndexedDBStore, FORMAT_VERSION } from './storage.js';
import { atomicWrite, cleanOrphans } from './persist.js';

const KIND = 'deepdream-wasm/atlas';
const MAGIC = [0x44, 0x44, 0x41, 0x54]; // "DDAT"

/** The record for `want` ({key, size, channels}) if `r` is one, else null. */
export function checkAtlasRecord(r, want) {
  if (!r || typeof r !== 'object' || r.kind !== KIND || r.formatVersion !== FORMAT_VERSION || r.key !== want.key) return null;
  if (r.size !== want.size || !Array.isArray(r.channels) || r.channels.length !== want.channels.length ||
      r.channels.some((c, i) => c !== want.channels[i])) return null;
  const n = want.channels.length;
  const done = r.done instanceof Uint8Array ? r.done : r.done instanceof ArrayBuffer ? new Uint8Array(r.done) : null;
  const tiles = r.tiles instanceof Uint8Array ? r.tiles : r.tiles instanceof ArrayBuffer ? new Uint8Array(r.tiles) : null;
  if (!done || !tiles || done.length !== n || tiles.length !== n * want.size * want.size * 3 || done.some((d) => d > 1)) return null;
  return { ...r, done, tiles };
}

class IndexedDBAtlasCache {
  constructor(store) { this.store = store || new IndexedDBStore(); }
  async load(want) {
    const r = await this.store._tx('models', 'readonly', (s) => s.get(`atlas/${want.key}`));
    return checkAtlasRecord(r, want);
  }
  async save(rec) {
    const r = { ...rec, name: `atlas/${rec.key}`, kind: KIND, formatVersion: FORMAT_VERSION, savedAt: new Date().toISOString() };
    await this.store._tx('models', 'readwrite', (s) => { s.put(r); });
  }
  async remove(key) { await this.store._tx('models', 'readwrite', (s) => { s.delete(`atlas/${key}`); }); }
}

class FileAtlasCache {
  constructor(dir) { this.dir = dir; }
  async _fs() {
    if (!isNode) throw new DeepDreamError('DD_ERR_UNSUPPORTED', 'a file atlas cache needs Node.js');
    const fs = await import('node:fs/promises'), path = await import('node:path');
    await fs.mkdir(this.dir, { recursive: true }).catch((e) => { throw asDeepDreamError(e, 'cannot use the atlas cache directory'); });
    return { fs, path };
  }
  async load(want) {
    const { fs, path } = await this._fs();
    await cleanOrphans(fs, path, this.dir);
    let buf;
    try { buf = new Uint8Array(await fs.readFile(path.join(this.dir, `${want.key}.ddatlas`))); } catch { return null; }
    if (buf.length < 8 || MAGIC.some((m, i) => buf[i] !== m)) return null;
    const n = new DataView(buf.buffer, buf.byteOffset).getUint32(4, true);
    if (8 + n > buf.length) return null;
    let header;
    try { header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))); } catch { return null; }
    if (!header || typeof header !== 'object' || !Array.isArray(header.done)) return null;
    return checkAtlasRecord({ ...header, done: Uint8Array.from(header.done.map((d) => (d === 1 ? 1 : d === 0 ? 0 : 2))), tiles: buf.slice(8 + n) }, want);
  }
  async save(rec) {
    const { fs, path } = await this._fs();
    const { tiles, done, ...meta } = rec;
    const json = new TextEncoder().encode(JSON.stringify({ ...meta, done: [...done], kind: KIND, formatVersion: FORMAT_VERSION, savedAt: new Date().toISOString() }));
    const head = new Uint8Array(8);
    head.set(MAGIC);
    new DataView(head.buffer).setUint32(4, json.length, true);
    const file = path.join(this.dir, `${rec.key}.ddatlas`);
    const all = new Uint8Array(8 + json.length + tiles.length);
    all.set(head); all.set(json, 8); all.set(tiles, 8 + json.length);
    await atomicWrite(fs, file, all, `writing the atlas cache ${file}`);
  }
  async remove(key) {
    const { fs, path } = await this._fs();
    await fs.rm(path.join(this.dir, `${key}.ddatlas`), { force: true });
  }
}

/** A cache: 'indexeddb', a directory path (Node), an object with load/save, or false/null (none). */
export function openAtlasCache(target) {
  if (target === false || target === null) return null;
  if (target && typeof target === 'object' && typeof target.load === 'function' && typeof target.save === 'function') return target;
  if (target === 'indexeddb' || target === 'indexeddb://') return new IndexedDBAtlasCache();
  if (target instanceof IndexedDBStore) return new IndexedDBAtlasCache(target);
  if (typeof target === 'string') return new FileAtlasCache(target);
  throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'atlas cache must be "indexeddb", a directory path, an object with load/save, or false');
}
