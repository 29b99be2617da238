// anim-frames.js — the Animate tab's finished frames, kept in this browser (IndexedDB "deepdream-anim", the
// page's own database, not the library's schema) so that an animation interrupted by a reload resumes with
// the frames it had already made: the GIF, WebM and zip need every frame. One record per frame, keyed by
// [animation id, frame index], with its raw pixels (exact: the resumed frames are the same bytes).
// One animation is kept at a time: clear() when a new one starts, when it is discarded or finished.
const DB_NAME = 'deepdream-anim', STORE = 'frames';
let db = null;

function open() {
  db ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: ['id', 'index'] });
    req.onsuccess = () => { req.result.onversionchange = () => req.result.close(); resolve(req.result); };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error(`the frame store "${DB_NAME}" is blocked by another tab of this page: close it and reload`));
  });
  db.catch(() => { db = null; });
  return db;
}

async function tx(mode, fn) {
  const d = await open();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const r = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(r && 'result' in r ? r.result : undefined);
    t.onabort = t.onerror = () => reject(t.error || new Error(`the frame store: ${mode} failed`));
  });
}

export const frameStore = {
  /** Keeps frame `index` of animation `id` ({data, width, height, channels}): one transaction, whole or not at all. */
  put(id, index, image) {
    const { data, width, height, channels } = image;
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    return tx('readwrite', (s) => s.put({ id, index, width, height, channels, data: own }));
  },
  /** Frames 0..count-1 of animation `id`, in order; null where one is missing. */
  async load(id, count) {
    if (count <= 0) return [];
    const rows = await tx('readonly', (s) => s.getAll(IDBKeyRange.bound([id, 0], [id, count - 1])));
    const out = new Array(count).fill(null);
    for (const r of rows) {
      if (!Number.isInteger(r.index) || r.index < 0 || r.index >= count || !(r.data instanceof Uint8Array)
        || r.data.length !== r.width * r.height * r.channels) continue;
      out[r.index] = { data: r.data, width: r.width, height: r.height, channels: r.channels };
    }
    return out;
  },
  /** Removes every kept frame (of every animation). */
  clear() { return tx('readwrite', (s) => s.clear()); },
};
