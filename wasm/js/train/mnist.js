// mnist.js — MNIST in its two standard forms, parsed with bounds checks:
//   - IDX files (LeCun's train-images-idx3-ubyte etc.), gzip'ed or not;
//   - Keras' mnist.npz: a zip (stored or deflate entries, zip64 extra fields)
//     of .npy arrays x_train, y_train, x_test, y_test.
// Decompression and zip reading: ../zip.js.
// loadMnist() fetches from a URL the caller gives (defaults below); tests
// serve files they generate.
import { isNode } from '../core.js';
import { DeepDreamError } from '../errors.js';
import { gunzip, unzip } from '../zip.js';

export { gunzip, unzip };

/** Keras' tf.keras.datasets.mnist source (11,490,434 bytes). */
export const MNIST_NPZ_URL = 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz';
/** TensorFlow's mirror of LeCun's IDX files. */
export const MNIST_IDX_BASE_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/';
export const MNIST_IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz', trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz', testLabels: 't10k-labels-idx1-ubyte.gz',
};

const MAX_ELEMENTS = 2 ** 31 - 1;
const parseErr = (what, msg) => new DeepDreamError('DD_ERR_PARSE', `${what}: ${msg}`);
// A plain Uint8Array view (a Node Buffer's slice() is a view, not a copy: never keep Buffers).
const u8 = (b) => (ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));

// -------------------------------------------------------------------- IDX ----
const IDX_TYPES = {
  0x08: [1, (dv, o) => dv.getUint8(o), Uint8Array],
  0x09: [1, (dv, o) => dv.getInt8(o), Int8Array],
  0x0b: [2, (dv, o) => dv.getInt16(o, false), Int16Array],
  0x0c: [4, (dv, o) => dv.getInt32(o, false), Int32Array],
  0x0d: [4, (dv, o) => dv.getFloat32(o, false), Float32Array],
  0x0e: [8, (dv, o) => dv.getFloat64(o, false), Float64Array],
};

/** Parses an IDX file (already gunzipped): {data: typed array, shape}. */
export function parseIdx(bytes, what = 'IDX') {
  const b = u8(bytes);
  if (b.length < 4) throw parseErr(what, 'shorter than the 4-byte magic number');
  if (b[0] !== 0 || b[1] !== 0) throw parseErr(what, `bad magic ${Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join('')} (gzip'ed? use loadIdx or gunzip first)`);
  const t = IDX_TYPES[b[2]];
  if (!t) throw new DeepDreamError('DD_ERR_UNSUPPORTED', `${what}: IDX type 0x${b[2].toString(16)} is not supported`);
  const ndim = b[3];
  if (ndim < 1 || ndim > 8) throw parseErr(what, `${ndim} dimensions`);
  if (b.length < 4 + 4 * ndim) throw parseErr(what, 'truncated header');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shape = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
    if (count > MAX_ELEMENTS) throw parseErr(what, `shape [${shape.join(', ')}...] is too large`);
  }
  const [size, get, Arr] = t;
  const start = 4 + 4 * ndim;
  const need = count * size;
  if (b.length - start !== need) throw parseErr(what, `shape [${shape.join(', ')}] needs ${need} data bytes, the file has ${b.length - start}`);
  let data;
  if (size === 1) data = Arr === Uint8Array ? b.slice(start) : new Int8Array(b.slice(start).buffer);
  else {
    data = new Arr(count);
    for (let i = 0; i < count; i++) data[i] = get(dv, start + i * size);
  }
  return { data, shape };
}

/** IDX bytes, gzip'ed or not. */
export async function loadIdx(bytes, what = 'IDX') {
  const b = u8(bytes);
  return parseIdx(b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b ? await gunzip(b, what) : b, what);
}

// -------------------------------------------------------------------- npy ----
const NPY_TYPES = { b1: [1, Uint8Array], u1: [1, Uint8Array], i1: [1, Int8Array], u2: [2, Uint16Array], i2: [2, Int16Array],
  u4: [4, Uint32Array], i4: [4, Int32Array], f4: [4, Float32Array], f8: [8, Float64Array], i8: [8, null], u8: [8, null] };

/** Parses a .npy file: {data, shape, dtype}. C order only; 64-bit ints become Float64Array (exact below 2^53). */
export function parseNpy(bytes, what = 'npy') {
  const b = u8(bytes);
  if (b.length < 10 || b[0] !== 0x93 || String.fromCharCode(...b.subarray(1, 6)) !== 'NUMPY') throw parseErr(what, 'not a .npy file');
  const major = b[6];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let hlen, hstart;
  if (major === 1) { hlen = dv.getUint16(8, true); hstart = 10; }
  else if (major === 2 || major === 3) {
    if (b.length < 12) throw parseErr(what, 'truncated header');
    hlen = dv.getUint32(8, true); hstart = 12;
  } else throw new DeepDreamError('DD_ERR_UNSUPPORTED', `${what}: .npy version ${major} is not supported`);
  if (hstart + hlen > b.length) throw parseErr(what, 'truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(hstart, hstart + hlen));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) throw parseErr(what, `cannot parse header ${JSON.stringify(header.slice(0, 120))}`);
  if (fortran[1] === 'True') throw new DeepDreamError('DD_ERR_UNSUPPORTED', `${what}: Fortran-ordered arrays are not supported`);
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map((s) => {
    if (!/^\d+L?$/.test(s)) throw parseErr(what, `bad dimension '${s}'`);
    return Number(s.replace('L', ''));
  });
  const key = `${descr[2]}${descr[3]}`;
  const t = NPY_TYPES[key];
  if (!t) throw new DeepDreamError('DD_ERR_UNSUPPORTED', `${what}: dtype '${descr[1]}${key}' is not supported`);
  const [size, Arr] = t;
  const big = descr[1] === '>' && size > 1;
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > MAX_ELEMENTS) throw parseErr(what, `shape (${shape.join(', ')}) is too large`);
  }
  const start = hstart + hlen;
  if (b.length - start !== count * size) throw parseErr(what, `shape (${shape.join(', ')}) of ${descr[0] ?? ''}${key} needs ${count * size} data bytes, the file has ${b.length - start}`);
  let data;
  if (Arr === null) {
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const o = start + i * 8;
      const v = key === 'i8' ? dv.getBigInt64(o, !big) : dv.getBigUint64(o, !big);
      data[i] = Number(v);
    }
  } else if (size === 1) {
    data = new Arr(b.slice(start).buffer);
  } else {
    data = new Arr(count);
    const getter = { 2: key === 'u2' ? 'getUint16' : 'getInt16', 4: key === 'f4' ? 'getFloat32' : key === 'u4' ? 'getUint32' : 'getInt32', 8: 'getFloat64' }[size];
    for (let i = 0; i < count; i++) data[i] = dv[getter](start + i * size, !big);
  }
  return { data, shape, dtype: `${descr[1]}${key}` };
}

/** Parses an .npz (numpy.savez): {name: {data, shape, dtype}} with '.npy' dropped from names. */
export async function parseNpz(bytes, what = 'npz') {
  const out = {};
  for (const [name, entry] of unzip(bytes, what)) {
    if (!name.endsWith('.npy')) continue;
    out[name.slice(0, -4)] = parseNpy(await entry.read(), `${what}: ${name}`);
  }
  return out;
}

// --------------------------------------------------------------- loading ----
async function fetchBytes(url, opts) {
  if (isNode && (!/^[a-z]+:\/\//i.test(url) || url.startsWith('file://'))) {
    const fs = await import('node:fs/promises');
    try {
      return new Uint8Array(await fs.readFile(url.startsWith('file://') ? new URL(url) : url));
    } catch (e) {
      throw new DeepDreamError(e.code === 'ENOENT' ? 'DD_ERR_NOT_FOUND' : 'DD_ERR_IO', `reading ${url}: ${e.message}`, { cause: e });
    }
  }
  const f = opts.fetch ?? globalThis.fetch;
  if (!f) throw new DeepDreamError('DD_ERR_UNSUPPORTED', 'no fetch() available; pass {fetch}');
  let res;
  try {
    res = await f(url, opts.requestInit);
  } catch (e) {
    throw new DeepDreamError('DD_ERR_IO', `downloading ${url}: ${e.message}`, { cause: e });
  }
  if (!res.ok) throw new DeepDreamError(res.status === 404 ? 'DD_ERR_NOT_FOUND' : 'DD_ERR_IO', `downloading ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function cached(url, opts) {
  if (!opts.cacheDir || !isNode) return fetchBytes(url, opts);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const file = path.join(opts.cacheDir, url.split('/').pop().replace(/[^A-Za-z0-9._-]/g, '_'));
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch {
    const bytes = await fetchBytes(url, opts);
    await fs.mkdir(opts.cacheDir, { recursive: true });
    await fs.writeFile(`${file}.tmp`, bytes);
    await fs.rename(`${file}.tmp`, file);
    return bytes;
  }
}

function checkPair(images, labels, what) {
  if (images.shape.length !== 3) throw parseErr(what, `images have shape [${images.shape.join(', ')}], expected [n, rows, cols]`);
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0])
    throw parseErr(what, `${images.shape[0]} images but labels of shape [${labels.shape.join(', ')}]`);
  return { images, labels };
}

/**
 * Keras' mnist.load_data(): {train: {images, labels}, test: {images, labels}},
 * images {data: Uint8Array, shape: [n, 28, 28]}, labels {data, shape: [n]}.
 * opts: {format: 'npz' (default) | 'idx', url (npz; default MNIST_NPZ_URL),
 * baseUrl and files (idx), fetch, requestInit, cacheDir (Node)}. URLs may be
 * file paths in Node. Nothing is fetched until this is called.
 */
export async function loadMnist(opts = {}) {
  if ((opts.format ?? 'npz') === 'npz') {
    const url = opts.url ?? MNIST_NPZ_URL;
    const z = await parseNpz(await cached(url, opts), url);
    for (const k of ['x_train', 'y_train', 'x_test', 'y_test']) if (!z[k]) throw parseErr(url, `no '${k}.npy' in the archive`);
    return { train: checkPair(z.x_train, z.y_train, url), test: checkPair(z.x_test, z.y_test, url) };
  }
  const base = opts.baseUrl ?? MNIST_IDX_BASE_URL;
  const files = { ...MNIST_IDX_FILES, ...(opts.files ?? {}) };
  const join = (f) => (base.endsWith('/') || !base ? base + f : `${base}/${f}`);
  const [ti, tl, si, sl] = await Promise.all(['trainImages', 'trainLabels', 'testImages', 'testLabels']
    .map(async (k) => loadIdx(await cached(join(files[k]), opts), files[k])));
  return { train: checkPair(ti, tl, files.trainImages), test: checkPair(si, sl, files.testImages) };
}

/**
 * The tutorial's preprocessing: the first `limit` images, flattened to
 * rows*cols and scaled (default 1/255) into a Float32Array; labels as Int32Array.
 */
export function prepareImages({ images, labels }, { limit, flatten = true, scale = 1 / 255 } = {}) {
  const [n0, rows, cols] = images.shape;
  const n = Math.min(n0, limit ?? n0);
  const per = rows * cols;
  const x = new Float32Array(n * per);
  for (let i = 0; i < n * per; i++) x[i] = images.data[i] * scale;
  const y = Int32Array.from(labels.data.subarray(0, n));
  return { x, y, n, shape: flatten ? [n, per] : [n, rows, cols, 1] };
}
