// atomic_dir.js — a model directory (model.json + its weight files) replaced
// as a whole, so a save to a fixed path (the Keras tutorial's
// training_1/cp.ckpt, repeated model.save('dir')) can be killed at any moment
// and the path still loads: the old save or the new one, never a mix.
//
// Save of <dir>: the files go to "<dir>.tmp-T" (each fsync'ed, then the
// directory), <dir> is renamed to "<dir>.old-T", "<dir>.tmp-T" to <dir>, the
// parent fsync'ed, "<dir>.old-T" removed. Between the two renames <dir> is
// missing; readers then take "<dir>.tmp-T" (complete before the first
// rename), and the next save or cleanup in the parent (persist.js
// cleanOrphans) finishes the swap. The layout inside <dir> stays TF.js'
// (model.json, weights.bin), so directories written before this scheme, or
// by TF.js, load unchanged.
import { DeepDreamError } from '../errors.js';
import { cleanOrphans, ioError, parseTempName, syncDir, tempSuffix } from '../persist.js';

const strip = (p) => (p.length > 1 ? p.replace(/[\\/]+$/, '') : p);
/** `target` without trailing separators; '.', '..' as absolute paths (their names cannot take a suffix). */
const named = (path, target) => {
  const t = strip(target);
  return ['', '.', '..'].includes(path.basename(t)) ? path.resolve(t) : t;
};

/** The files a model directory may hold: model.json, the shards it names, weights.bin, our temporaries. */
async function foreignEntries(fs, path, dir) {
  const entries = await fs.readdir(dir);
  const ours = new Set(['model.json', 'weights.bin']);
  try {
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    for (const g of json.weightsManifest ?? []) for (const p of g.paths ?? []) if (typeof p === 'string') ours.add(p);
  } catch { /* no or bad model.json: only the default names are ours */ }
  return entries.filter((e) => !ours.has(e) && !parseTempName(e));
}

/**
 * Writes `files` ([[name, Uint8Array]]) as directory `target`, replacing a
 * previous model directory there atomically. Refuses (DD_ERR_INVALID_ARGUMENT)
 * when `target` is a file or a directory holding files that are not a
 * model's: those would be lost with the old directory.
 */
export async function replaceDir(fs, path, target, files) {
  target = named(path, target);
  const parent = path.dirname(target);
  const start = Date.now();
  try {
    await fs.mkdir(parent, { recursive: true });
  } catch (e) {
    throw ioError(`creating ${parent}`, e);
  }
  await cleanOrphans(fs, path, parent, start);
  let st = null;
  try {
    st = await fs.stat(target);
  } catch (e) {
    if (e.code !== 'ENOENT') throw ioError(`saving to ${target}`, e);
  }
  if (st && !st.isDirectory()) throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `cannot save a model to ${target}: it is a file, not a directory`);
  const abs = path.resolve(target), cwd = process.cwd();
  if (st && (cwd === abs || cwd.startsWith(abs + path.sep)))
    throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `cannot save a model to ${target}: it is (or holds) the working directory, which replacing the directory would pull from under this process; save to a subdirectory`);
  if (st) {
    const foreign = await foreignEntries(fs, path, target).catch((e) => { throw ioError(`reading ${target}`, e); });
    if (foreign.length)
      throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `cannot save a model to ${target}: it holds other files (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}), which replacing the directory would delete; save to a directory of its own`);
  }
  const suffix = tempSuffix(start);
  const tmp = `${target}.tmp-${suffix}`, old = `${target}.old-${suffix}`;
  let moved = false;
  try {
    await fs.mkdir(tmp);
    for (const [name, bytes] of files) {
      const fh = await fs.open(path.join(tmp, name), 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await syncDir(fs, tmp);
    if (st) {
      await fs.rename(target, old);
      moved = true;
    }
    await fs.rename(tmp, target);
  } catch (e) {
    if (moved) await fs.rename(old, target).catch(() => {});
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw ioError(`saving to ${target}`, e);
  }
  await syncDir(fs, parent);
  if (moved) await fs.rm(old, { recursive: true, force: true }).catch(() => {});
}

/**
 * The directory to read model `target` from: `target` when it holds a
 * model.json; during (or after a kill in) a swap, its complete replacement
 * "<target>.tmp-T" or else the old "<target>.old-T"; otherwise `target`
 * (so that errors name it). Read-only: finishing the swap is the writers' job.
 */
export async function readableDir(fs, path, target) {
  target = named(path, target);
  try {
    await fs.access(path.join(target, 'model.json'));
    return target;
  } catch { /* look for an interrupted swap */ }
  const parent = path.dirname(target), base = path.basename(target);
  let entries;
  try {
    entries = await fs.readdir(parent);
  } catch {
    return target;
  }
  let fallback = null;
  for (const e of entries) {
    const t = parseTempName(e);
    if (!t || t.kind !== 'old' || t.name !== base) continue;
    const twin = path.join(parent, `${base}.tmp-${t.token}`);
    try {
      await fs.access(path.join(twin, 'model.json'));
      return twin;
    } catch { /* the replacement is gone: the old one is what there is */ }
    fallback = path.join(parent, e);
  }
  return fallback ?? target;
}

/**
 * Removes model directory `target` (checkpoints beyond maxToKeep): renamed to
 * "<target>.del-T" first, so a kill mid-removal leaves no half checkpoint under
 * its name. A directory holding other files keeps them: only model.json and
 * its weight files are removed.
 */
export async function removeDir(fs, path, target) {
  target = named(path, target);
  let foreign;
  try {
    foreign = await foreignEntries(fs, path, target);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return;
    throw ioError(`removing ${target}`, e);
  }
  if (!foreign.length) {
    const del = `${target}.del-${tempSuffix()}`;
    try {
      await fs.rename(target, del);
    } catch (e) {
      if (e.code === 'ENOENT') return;
      throw ioError(`removing ${target}`, e);
    }
    await fs.rm(del, { recursive: true, force: true }).catch(() => {});
    return;
  }
  const keep = new Set(foreign);
  for (const e of await fs.readdir(target)) if (!keep.has(e)) await fs.rm(path.join(target, e), { recursive: true, force: true });
}
