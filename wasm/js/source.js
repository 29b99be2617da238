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
    return readStream(M, source.stream(), source.size, source.size, report);
  }
  if (typeof source === 'string' || source instanceof URL) {
    const s = String(source);
    if (isNode && !/^(https?|data|blob):/i.test(s)) return readNodeFile(M, s.startsWith('file:') ? new URL(s) : s, report);
    return readUrl(M, s, report);
  }
  throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT',
    'deepdream-wasm: a model source must be a URL, file path, File/Blob, ArrayBuffer or typed array');
}

async function readUrl(M, url, report) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: fetching ${url} failed: ${e.cause && e.cause.message ? e.cause.message : e.message}`, { cause: e });
  }
  if (!res.ok) {
    throw new DeepDreamError('DD_ERR_IO',
      `deepdream-wasm: fetching ${url} failed: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const type = res.headers.get('content-type') || '';
  if (/^text\/html\b/i.test(type)) {
    throw new DeepDreamError('DD_ERR_PARSE',
      `deepdream-wasm: ${url} returned an HTML page (content-type ${type}), not a model file: check the URL`);
  }
  // Content-Length counts the bytes on the wire: compressed ones when the
  // server compresses (fetch hands over the decoded body), and a browser hides
  // Content-Encoding on cross-origin responses. So it is a hint for the first
  // block (and progress), exact only for an identity encoding we can see.
  const encoding = (res.headers.get('content-encoding') || 'identity').trim().toLowerCase();
  const announced = Number(res.headers.get('content-length')) || 0;
  const exact = encoding === 'identity' ? announced : 0;
  const body = res.body ? res.body : new Blob([await res.arrayBuffer()]).stream();
  // an HTML page served as something else is named by the core when it fails to load (src/formats/sniff.c)
  return readStream(M, body, exact, announced, report, url);
}

/**
 * Streams into wasm memory. exact > 0: the length is known (a Blob, an
 * uncompressed response) and must match. Otherwise `hint` (maybe 0) sizes the
 * first block, which grows as the bytes arrive.
 */
async function readStream(M, stream, exact, hint, report, what = 'the source') {
  let cap = Math.max(1, exact || hint || (1 << 20));
  let ptr = malloc(M, cap);
  let done = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: reading ${what} failed after ${done} bytes: ${e.message}`, { cause: e });
      }
      const { value, done: end } = chunk;
      if (end) break;
      if (exact && done + value.length > exact) throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: ${what} is longer than the ${exact} bytes announced`);
      if (done + value.length > cap) {
        const grown = Math.max(done + value.length, Math.min(cap * 2, 0xffffffff));
        const bigger = malloc(M, grown);
        M.HEAPU8.copyWithin(bigger, ptr, ptr + done);
        M._free(ptr);
        ptr = bigger;
        cap = grown;
      }
      M.HEAPU8.set(value, ptr + done);
      done += value.length;
      report(done, exact);
    }
    if (exact && done !== exact) throw new DeepDreamError('DD_ERR_IO', `deepdream-wasm: read ${done} of the ${exact} bytes of ${what}`);
  } catch (e) {
    M._free(ptr);
    throw e;
  }
  if (!exact) report(done, done);
  return { ptr, len: done };
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
