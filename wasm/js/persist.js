// persist.js — what the dream/model store (storage.js) and the training
// checkpoints (train/io.js, train/atomic_dir.js) share: the DeepDreamError for
// a failed storage operation, the atomic file write of the Node backends, and
// the removal of temporaries that killed writers left behind.
//
// Temporary names: "<name>.tmp-<pid>-<ms>-<rand>" (a file or directory being
// written), "<name>.old-<pid>-<ms>-<rand>" (a directory moved aside while its
// replacement is swapped in) and "<name>.del-<pid>-<ms>-<rand>" (a directory
// being deleted). The native CLI (src/cli/atomic_file.c) uses the same .tmp-
// pattern. Only entries whose writer process is gone are ever removed.
import { DeepDreamError } from './errors.js';

/** A DD_ERR_IO DeepDreamError for `what` failing with `e` (a DeepDreamError passes through). */
export function ioError(what, e) {
  if (e instanceof DeepDreamError) return e;
  if (e && (e.name === 'QuotaExceededError' || /quota/i.test(e.message || '')))
    return new DeepDreamError('DD_ERR_IO', `${what}: the browser's storage quota is exhausted; free space or remove old dreams/models`, { cause: e });
  return new DeepDreamError('DD_ERR_IO', `${what}: ${e && e.message ? e.message : e}`, { cause: e });
}

const TEMP_RE = /^(.+)\.(tmp|old|del)-(\d+)-(\d{10,})-([a-z0-9]{1,8})$/;

/** "<pid>-<ms>-<rand>": the unique part of a temporary name; one suffix may serve a .tmp- and its .old- twin. */
export function tempSuffix(ms = Date.now()) {
  const rand = (Math.random().toString(36).slice(2, 8) || 'x').padEnd(6, '0');
  return `${process.pid}-${ms}-${rand}`;
}

/** {name, kind, pid, ms, token} when `entry` (a base name) is one of our temporaries, else null. */
export function parseTempName(entry) {
  const m = TEMP_RE.exec(entry);
  if (!m) return null;
  return { name: m[1], kind: m[2], pid: Number(m[3]), ms: Number(m[4]), token: `${m[3]}-${m[4]}-${m[5]}` };
}

/** True when process `pid` no longer exists (this process is never gone). */
export function writerGone(pid) {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

/** fsyncs a directory so a rename in it is durable; file systems that refuse (Windows) are ignored. */
export async function syncDir(fs, dir) {
  let fh;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch { /* best effort: the rename itself is atomic */ } finally {
    if (fh) await fh.close().catch(() => {});
  }
}

async function exists(fs, p) {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Cleans `dir` after killed writers (dead pid, timestamp before `before` ms):
 * first finishes or undoes their directory swaps (train/atomic_dir.js): a
 * "<name>.old-T" is removed when <name> exists; otherwise its "<name>.tmp-T"
 * twin, complete by construction, is renamed to <name> (or, without a twin,
 * the old directory goes back). Then "*.tmp-*" and "*.del-*" entries (files
 * or directories) are removed. Best effort; returns the names removed.
 */
export async function cleanOrphans(fs, path, dir, before = Date.now()) {
  let entries;
  try {
    entries = await fs.readdir(dir);
  } catch {
    return [];
  }
  const dead = (t) => t && t.ms < before && writerGone(t.pid);
  const removed = [];
  const rm = async (e) => {
    try {
      await fs.rm(path.join(dir, e), { recursive: true, force: true });
      removed.push(e);
    } catch { /* another cleaner, or permissions: leave it */ }
  };
  const swapped = new Set();
  for (const e of entries) {
    const t = parseTempName(e);
    if (!dead(t) || t.kind !== 'old') continue;
    const target = path.join(dir, t.name), twin = `${t.name}.tmp-${t.token}`;
    try {
      if (await exists(fs, target)) {
        await rm(e);
        continue;
      }
      if (await exists(fs, path.join(dir, twin))) {
        await fs.rename(path.join(dir, twin), target);
        swapped.add(twin);
        await rm(e);
      } else {
        await fs.rename(path.join(dir, e), target);
      }
      await syncDir(fs, dir);
    } catch { /* leave it for the next cleaner */ }
  }
  for (const e of entries) {
    const t = parseTempName(e);
    if (!dead(t) || t.kind === 'old' || swapped.has(e)) continue;
    await rm(e);
  }
  return removed;
}

/**
 * Writes `bytes` to `file` through a temporary file in the same directory,
 * synced, then renamed over it, then the directory synced: a crash or a full
 * disk leaves the old file whole. Orphans of killed writers in that
 * directory are removed first. `fs` is node:fs/promises (passed in: this
 * module loads in browsers).
 */
export async function atomicWrite(fs, file, bytes, what = `writing ${file}`) {
  const path = await import('node:path');
  const start = Date.now();
  const dir = path.dirname(file);
  await cleanOrphans(fs, path, dir, start);
  const tmp = `${file}.tmp-${tempSuffix(start)}`;
  try {
    const fh = await fs.open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw ioError(what, e);
  }
  await syncDir(fs, dir);
}
