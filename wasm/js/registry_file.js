// registry_file.js — downloads one model file served as it is (the ONNX model
// zoo's .onnx files): progress, size and SHA-256 checked before it is written
// atomically into the cache. Node only; registry.js decides when.
import { DeepDreamError } from './errors.js';
import { atomicWrite } from './persist.js';

/** onProgress(doneBytes, totalBytes). A wrong size or hash writes nothing. */
export async function downloadFile({ url, manualUrl = url, bytes, sha256, dest, onProgress, fetchFn }) {
  const { createHash } = await import('node:crypto');
  const { dirname } = await import('node:path');
  const fs = await import('node:fs/promises');
  const file = manualUrl.slice(manualUrl.lastIndexOf('/') + 1);
  const offline = (why) => new DeepDreamError('DD_ERR_IO',
    `cannot download ${url} (${why}). Download it by hand from that address and pass the file: --model ${file}`);
  let res;
  try {
    res = await (fetchFn ?? fetch)(url);
  } catch (e) {
    throw offline(e.cause?.code || e.message);
  }
  if (!res.ok || !res.body) throw offline(`HTTP ${res.status}`);
  const type = res.headers.get('content-type') || '';
  if (/^text\/html/i.test(type)) throw offline('the server sent a web page, not the model');
  const total = Number(res.headers.get('content-length')) || bytes || 0;
  const hash = createHash('sha256'), parts = [];
  let done = 0;
  try {
    for await (const chunk of res.body) {
      if (bytes && done + chunk.length > bytes) throw offline(`more than the expected ${bytes} bytes`);
      parts.push(chunk);
      hash.update(chunk);
      done += chunk.length;
      if (onProgress) onProgress(done, total);
    }
  } catch (e) {
    if (e instanceof DeepDreamError) throw e;
    throw offline(`the download broke off after ${done} bytes: ${e.message}`);
  }
  if (bytes && done !== bytes)
    throw new DeepDreamError('DD_ERR_IO', `${url}: got ${done} bytes, expected ${bytes} (an incomplete download or a different file)`);
  const got = hash.digest('hex');
  if (sha256 && got !== sha256.toLowerCase())
    throw new DeepDreamError('DD_ERR_PARSE', `${url}: SHA-256 ${got}, expected ${sha256} (a different file)`);
  const data = new Uint8Array(done);
  for (let o = 0, i = 0; i < parts.length; o += parts[i].length, i++) data.set(parts[i], o);
  await fs.mkdir(dirname(dest), { recursive: true });
  await atomicWrite(fs, dest, data, `writing ${dest}`);
  return { dest, bytes: done };
}
