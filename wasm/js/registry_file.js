// registry_file.js — downloads for registry.js: the body of a URL with
// progress and a size bound (fetchBytes, which inception5h.zip's download
// shares), and one model file served as it is (the ONNX model zoo's .onnx):
// size and SHA-256 checked before it is written atomically into the cache.
// Node only.
import { DeepDreamError } from './errors.js';
import { atomicWrite } from './persist.js';

/**
 * The body at `url` (progress: onProgress(doneBytes, totalBytes)); more than
 * maxBytes (when given) stops the download. With refuseHtml, a text/html
 * response is refused before its body. Failures say how to download by hand.
 */
export async function fetchBytes({ url, manualUrl = url, maxBytes, onProgress, fetchFn, refuseHtml = false, onChunk }) {
  const offline = (why) => new DeepDreamError('DD_ERR_IO',
    `cannot download ${url} (${why}). Download it by hand from that address and pass the file: --model ${manualUrl.slice(manualUrl.lastIndexOf('/') + 1)}`);
  let res;
  try {
    res = await (fetchFn ?? fetch)(url);
  } catch (e) {
    throw offline(e.cause?.code || e.message);
  }
  if (!res.ok || !res.body) throw offline(`HTTP ${res.status}`);
  if (refuseHtml && /^text\/html/i.test(res.headers.get('content-type') || '')) throw offline('the server sent a web page, not the model');
  const total = Number(res.headers.get('content-length')) || maxBytes || 0;
  const parts = [];
  let done = 0;
  try {
    for await (const chunk of res.body) {
      parts.push(chunk);
      done += chunk.length;
      if (maxBytes && done > maxBytes) throw offline(`more than the expected ${maxBytes} bytes`);
      if (onChunk) onChunk(chunk);
      if (onProgress) onProgress(done, total);
    }
  } catch (e) {
    if (e instanceof DeepDreamError) throw e;
    throw offline(`the download broke off after ${done} bytes: ${e.message}`);
  }
  const data = new Uint8Array(done);
  for (let o = 0, i = 0; i < parts.length; o += parts[i].length, i++) data.set(parts[i], o);
  return data;
}

/** onProgress(doneBytes, totalBytes). A wrong size or hash writes nothing. */
export async function downloadFile({ url, manualUrl = url, bytes, sha256, dest, onProgress, fetchFn }) {
  const { createHash } = await import('node:crypto');
  const { dirname } = await import('node:path');
  const fs = await import('node:fs/promises');
  const hash = createHash('sha256');
  const data = await fetchBytes({ url, manualUrl, maxBytes: bytes, onProgress, fetchFn, refuseHtml: true, onChunk: (c) => hash.update(c) });
  if (bytes && data.length !== bytes)
    throw new DeepDreamError('DD_ERR_IO', `${url}: got ${data.length} bytes, expected ${bytes} (an incomplete download or a different file)`);
  const got = hash.digest('hex');
  if (sha256 && got !== sha256.toLowerCase())
    throw new DeepDreamError('DD_ERR_PARSE', `${url}: SHA-256 ${got}, expected ${sha256} (a different file)`);
  await fs.mkdir(dirname(dest), { recursive: true });
  await atomicWrite(fs, dest, data, `writing ${dest}`);
  return { dest, bytes: data.length };
}
