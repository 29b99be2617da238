// source.js — reads model bytes from any source straight into wasm memory.
import { isNode } from './core.js';
import { DeepDreamError } from './errors.js';
import { malloc } from './heap.js';

/**
 * Copies the bytes of `source` into a fresh malloc'd block of wasm memory.
 * source: ArrayBuffer | TypedArray | DataView | Blob/File | URL | string (URL,
 * or a file path in Node). Returns {ptr, len}; the caller owns ptr.
 */
export async function readIntoHeap(M, source, onProgress) {
  const report = (done, total) => { if (onProgress) onProgress(total ? done / total : 0, done, total); };
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    const ptr = malloc(M, bytes.length);
    M.HEAPU8.set(bytes, ptr);
    report(bytes.length, bytes.length);
    return { ptr, len: bytes.length };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return readStream(M, source.stream(), source.size, report);
  }
  if (typeof source === 'string' || source instanceof URL) {
    const s = String(source);
    if (isNode && !/^(https?|data|blob):/i.test(s)) return readNodeFile(M, s.startsWith('file:') ? new URL(s) : s, report);
    const res = await fetch(s);
    if (!res.ok) throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: fetching ${s} failed: HTTP ${res.status}`);
    const total = Number(res.headers.get('content-length')) || 0;
    if (!total || !res.body) {
      const buf = new Uint8Array(await res.arrayBuffer());
      const ptr = malloc(M, buf.length);
      M.HEAPU8.set(buf, ptr);
      report(buf.length, buf.length);
      return { ptr, len: buf.length };
    }
    return readStream(M, res.body, total, report);
  }
  throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT',
    'deepdream-wasm: a model source must be a URL, file path, File/Blob, ArrayBuffer or typed array');
}

async function readStream(M, stream, total, report) {
  const ptr = malloc(M, total);
  let done = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      if (done + value.length > total) throw new DeepDreamError('DD_ERR_IO', 'deepdream-wasm: the source is longer than announced');
      M.HEAPU8.set(value, ptr + done);
      done += value.length;
      report(done, total);
    }
    if (done !== total) throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: read ${done} of ${total} bytes`);
  } catch (e) {
    M._free(ptr);
    throw e;
  }
  return { ptr, len: total };
}

async function readNodeFile(M, path, report) {
  const { open } = await import('node:fs/promises');
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: cannot open ${path}: ${e.message}`);
  }
  try {
    const { size } = await fh.stat();
    const ptr = malloc(M, size);
    let done = 0;
    try {
      const chunk = 4 << 20;
      while (done < size) {
        const n = Math.min(chunk, size - done);
        // read straight into wasm memory: no second copy of the file in JS
        const { bytesRead } = await fh.read(M.HEAPU8, ptr + done, n, done);
        if (bytesRead <= 0) throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: ${path} ended early`);
        done += bytesRead;
        report(done, size);
      }
    } catch (e) {
      M._free(ptr);
      throw e;
    }
    return { ptr, len: size };
  } finally {
    await fh.close();
  }
}
