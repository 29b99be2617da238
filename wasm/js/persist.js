// persist.js — what the dream/model store (storage.js) and the training
// checkpoints (train/io.js) share: the DeepDreamError for a failed storage
// operation, and the atomic file write of the Node backends.
import { DeepDreamError } from './errors.js';

/** A DD_ERR_IO DeepDreamError for `what` failing with `e` (a DeepDreamError passes through). */
export function ioError(what, e) {
  if (e instanceof DeepDreamError) return e;
  if (e && (e.name === 'QuotaExceededError' || /quota/i.test(e.message || '')))
    return new DeepDreamError('DD_ERR_IO', `${what}: the browser's storage quota is exhausted; free space or remove old dreams/models`, { cause: e });
  return new DeepDreamError('DD_ERR_IO', `${what}: ${e && e.message ? e.message : e}`, { cause: e });
}

/**
 * Writes `bytes` to `file` through a temporary file in the same directory,
 * synced, then renamed over it: a crash or a full disk leaves the old file
 * whole. `fs` is node:fs/promises (passed in: this module loads in browsers).
 */
export async function atomicWrite(fs, file, bytes, what = `writing ${file}`) {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const fh = await fs.open(tmp, 'w');
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
}
