// registry.js — named models (models/registry.json): 'inception5h' downloads
// once from its official URL into a per-user cache, is checked (archive size,
// member CRC-32 and size) and reused; the ONNX zoo's files (an entry with a
// sha256) likewise, checked by size and SHA-256 (registry_file.js). Node only (the page keeps models in
// IndexedDB instead).
//
//   cache:  $DEEPDREAM_CACHE, else $XDG_CACHE_HOME/deepdream-wasm, else ~/.cache/deepdream-wasm
//   mirror: $DEEPDREAM_MIRROR (a base URL holding the same file names) replaces the official host
//   registry: $DEEPDREAM_REGISTRY, a registry.json of your own (same layout)
import { DeepDreamError } from './errors.js';
import { graphDefFromZip } from './archive.js';
import { atomicWrite } from './persist.js';
import { downloadFile, fetchBytes } from './registry_file.js';

let registryCache;
/** models/registry.json, parsed. */
export async function registry(env = process.env) {
  const file = env.DEEPDREAM_REGISTRY || new URL('../../models/registry.json', import.meta.url);
  if (!registryCache || registryCache.file !== String(file)) {
    const { readFile } = await import('node:fs/promises');
    let json;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new DeepDreamError('DD_ERR_IO', `cannot read the model registry ${file}: ${e.message}`);
    }
    registryCache = { file: String(file), json };
  }
  return registryCache.json;
}

/** Names of models that can be downloaded by name. */
export async function registryNames(env = process.env) {
  const r = await registry(env);
  return Object.keys(r.models).filter((k) => r.models[k].url);
}

export async function cacheDir(env = process.env) {
  const { homedir } = await import('node:os');
  const { join } = await import('node:path');
  if (env.DEEPDREAM_CACHE) return env.DEEPDREAM_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'deepdream-wasm');
}

function officialUrl(entry, env) {
  if (!env.DEEPDREAM_MIRROR) return entry.url;
  return `${env.DEEPDREAM_MIRROR.replace(/\/+$/, '')}/${entry.url.slice(entry.url.lastIndexOf('/') + 1)}`;
}

/**
 * The path of registry model `name` in the cache, downloading it first when it
 * is not there (or has the wrong size). onProgress(doneBytes, totalBytes).
 * @returns {Promise<string>}
 */
export async function resolveRegistryModel(name, { onProgress, env = process.env, fetchFn } = {}) {
  const r = await registry(env);
  if (!r.models[name]) name = Object.keys(r.models).find((k) => (r.models[k].aliases || []).includes(name)) ?? name;
  const entry = r.models[name];
  if (!entry || !entry.url)
    throw new DeepDreamError('DD_ERR_NOT_FOUND', `'${name}' is neither a file nor a model name (known: ${(await registryNames(env)).join(', ')})`);
  const { join } = await import('node:path');
  const fs = await import('node:fs/promises');
  const file = entry.member || entry.url.slice(entry.url.lastIndexOf('/') + 1);
  const dest = join(await cacheDir(env), name, file);
  const st = await fs.stat(dest).catch(() => null);
  if (st && (!entry.bytes || st.size === entry.bytes)) return dest;

  if (entry.sha256) { // a model file served as it is (the ONNX zoo): size and SHA-256 checked
    await downloadFile({ url: officialUrl(entry, env), manualUrl: entry.url, bytes: entry.bytes, sha256: entry.sha256, dest, onProgress, fetchFn });
    return dest;
  }
  await downloadModel({ url: officialUrl(entry, env), manualUrl: entry.url, member: entry.member, zipBytes: entry.zipBytes,
    bytes: entry.bytes, dest, onProgress, fetchFn });
  return dest;
}

/**
 * Downloads a zip from `url` (progress: onProgress(doneBytes, totalBytes)),
 * checks its size, inflates `member` (CRC-checked), checks that size and
 * writes it atomically to `dest`. Sizes given as 0/undefined are not checked.
 */
export async function downloadModel({ url, manualUrl = url, member, zipBytes, bytes: expectBytes, dest, onProgress, fetchFn }) {
  const { dirname } = await import('node:path');
  const fs = await import('node:fs/promises');
  const zip = await fetchBytes({ url, manualUrl, maxBytes: zipBytes, onProgress, fetchFn });
  if (zipBytes && zip.length !== zipBytes)
    throw new DeepDreamError('DD_ERR_IO', `${url}: got ${zip.length} bytes, expected ${zipBytes} (an incomplete download or a different file)`);
  const { bytes: pb, member: got } = await graphDefFromZip(zip, url); // CRC-checked
  if (member && got.split('/').pop() !== member)
    throw new DeepDreamError('DD_ERR_PARSE', `${url} holds ${got}, expected ${member}`);
  if (expectBytes && pb.length !== expectBytes)
    throw new DeepDreamError('DD_ERR_PARSE', `${got} from ${url} has ${pb.length} bytes, expected ${expectBytes}`);
  await fs.mkdir(dirname(dest), { recursive: true });
  await atomicWrite(fs, dest, pb, `writing ${dest}`);
  return { dest, bytes: pb.length };
}

/**
 * What a CLI's --model names: an existing file (or anything that looks like a
 * path) as it is, otherwise a registry model, fetched into the cache once.
 */
export async function resolveModelArg(arg, opts = {}) {
  const { existsSync } = await import('node:fs');
  if (existsSync(arg) || /[/\\.]/.test(arg)) return arg;
  return resolveRegistryModel(arg, opts);
}
