// archive.js — model files that come packed: Google ships Inception 5h as
// inception5h.zip (tensorflow_inception_graph.pb, a label list, a LICENSE).
// A zip given wherever a .pb is (loadModel, the page, the Node CLI) is opened
// here, its GraphDef inflated and CRC-checked; only the GraphDef goes on (and
// into IndexedDB by model.save()). Other wrong files are named by the core
// (src/formats/sniff.c) when it fails to read them. The ONNX model zoo ships
// NAME.tar.gz (model.onnx and test data): its one .onnx goes on likewise.
import { DeepDreamError } from './errors.js';
import { malloc } from './heap.js';
import { untar } from './tar.js';
import { gunzip, unzip } from './zip.js';

/** The member tried first (Inception 5h's); otherwise the archive's only .pb. */
export const PREFERRED_MEMBER = 'tensorflow_inception_graph.pb';

/** A short name for a model source, for messages: a file or URL's base name; null for bytes. */
export function sourceName(source) {
  if (typeof Blob !== 'undefined' && source instanceof Blob && typeof source.name === 'string' && source.name) return source.name;
  if (typeof source === 'string' || source instanceof URL) {
    const s = String(source).replace(/[?#].*$/, '');
    return s.slice(s.replace(/\/+$/, '').lastIndexOf('/') + 1) || s;
  }
  return null;
}

export const isZip = (b) => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4;
export const isGzip = (b) => b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8;

/** The ONNX model in a .tar.gz (the zoo's packaging): {bytes, member}. */
export async function onnxFromTarGz(gz, what = 'the .tar.gz archive') {
  const files = untar(await gunzip(gz, what), what);
  const names = [...files.keys()];
  const models = names.filter((n) => /\.onnx$/i.test(n));
  if (models.length !== 1) {
    const list = names.length ? names.slice(0, 12).join(', ') + (names.length > 12 ? `, … (${names.length} entries)` : '') : 'nothing';
    throw new DeepDreamError('DD_ERR_NOT_FOUND', models.length
      ? `${what} holds several .onnx files; unpack it and load the one you want (it contains: ${list})`
      : `${what} has no ONNX model (.onnx) in it; it contains: ${list}`);
  }
  return { bytes: files.get(models[0]), member: models[0] };
}

/**
 * The GraphDef inside a zip: {bytes, member}. A zip with no .pb (or several
 * and none named tensorflow_inception_graph.pb) is DD_ERR_NOT_FOUND naming the
 * entries it has.
 */
export async function graphDefFromZip(zipBytes, what = 'the zip archive') {
  const entries = unzip(zipBytes, what);
  const files = [...entries.keys()].filter((n) => !n.endsWith('/'));
  const pbs = files.filter((n) => /\.pb$/i.test(n));
  const member = pbs.find((n) => n.split('/').pop() === PREFERRED_MEMBER) ?? (pbs.length === 1 ? pbs[0] : undefined);
  if (!member) {
    const list = files.length ? files.slice(0, 12).join(', ') + (files.length > 12 ? `, … (${files.length} entries)` : '') : 'nothing';
    throw new DeepDreamError('DD_ERR_NOT_FOUND', pbs.length
      ? `${what} holds several .pb files and none is ${PREFERRED_MEMBER}; unzip it and load the one you want (it contains: ${list})`
      : `${what} is a zip archive without a TensorFlow GraphDef (.pb) in it; it contains: ${list}`);
  }
  return { bytes: await entries.get(member).read(), member };
}

/**
 * Model bytes already in wasm memory at ptr: when they are a zip, frees them
 * and returns the GraphDef inside, copied into a fresh block. The caller owns
 * the returned ptr either way.
 */
export async function unpackInHeap(M, ptr, len, what) {
  ptr >>>= 0;
  const head = M.HEAPU8.subarray(ptr, ptr + Math.min(len, 4)), zipped = isZip(head);
  if (!zipped && !isGzip(head)) return { ptr, len, member: null };
  let zip;
  try {
    zip = M.HEAPU8.slice(ptr, ptr + len); // a copy: memory may grow while we inflate
  } finally {
    M._free(ptr);
  }
  const { bytes, member } = zipped ? await graphDefFromZip(zip, what) : await onnxFromTarGz(zip, what);
  zip = null;
  const p = malloc(M, bytes.length) >>> 0;
  M.HEAPU8.set(bytes, p);
  return { ptr: p, len: bytes.length, member };
}
