// MNIST loaders on files this test writes itself: IDX (raw and gzip), .npy
// (several dtypes), .npz zips (stored, deflate, numpy's zip64 local headers,
// zip64 central directory fields), every corruption reported as DD_ERR_PARSE;
// and the download path: loadMnist fetching from a local HTTP server, with a
// cache directory. The real default URLs are never fetched here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { gzipSync, deflateRawSync } from 'node:zlib';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseIdx, parseNpy, parseNpz, unzip, gunzip, loadMnist, prepareImages, crc32, DeepDreamError, MNIST_NPZ_URL,
  sequential, dense,
} from '../../wasm/js/index.js';
import { loadIdx } from '../../wasm/js/train/mnist.js';

const code = (c) => (e) => {
  assert.ok(e instanceof DeepDreamError, `not a DeepDreamError: ${e}`);
  assert.equal(e.code, c, e.message);
  return true;
};

// ----------------------------------------------------------- writers ----
function idx(type, shape, values) {
  const size = { 8: 1, 9: 1, 11: 2, 12: 4, 13: 4, 14: 8 }[type];
  const n = shape.reduce((a, b) => a * b, 1);
  const b = Buffer.alloc(4 + 4 * shape.length + n * size);
  b[2] = type;
  b[3] = shape.length;
  shape.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  const o = 4 + 4 * shape.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (type === 8) b.writeUInt8(v, o + i);
    else if (type === 9) b.writeInt8(v, o + i);
    else if (type === 11) b.writeInt16BE(v, o + 2 * i);
    else if (type === 12) b.writeInt32BE(v, o + 4 * i);
    else if (type === 13) b.writeFloatBE(v, o + 4 * i);
    else b.writeDoubleBE(v, o + 8 * i);
  }
  return b;
}

function npy(descr, shape, body, { fortran = false, version = 1 } = {}) {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header.padEnd(total - pre - 1, ' ') + '\n';
  const h = Buffer.alloc(pre);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), version, 0]).copy(h);
  if (version === 1) h.writeUInt16LE(header.length, 8); else h.writeUInt32LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), body]);
}

/** A zip as numpy.savez / Python's zipfile write it. zip64Local: numpy's force_zip64 local headers; zip64Central: sizes in the central extra field. */
function zip(entries, { method = 0, zip64Local = false, zip64Central = false } = {}) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameB = Buffer.from(name);
    const comp = method === 8 ? deflateRawSync(data) : data;
    const crc = crc32(data);
    const lextra = zip64Local ? Buffer.alloc(20) : Buffer.alloc(0);
    if (zip64Local) {
      lextra.writeUInt16LE(1, 0); lextra.writeUInt16LE(16, 2);
      lextra.writeBigUInt64LE(BigInt(data.length), 4); lextra.writeBigUInt64LE(BigInt(comp.length), 12);
    }
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(zip64Local ? 45 : 20, 4); lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(zip64Local ? 0xffffffff : comp.length, 18); lh.writeUInt32LE(zip64Local ? 0xffffffff : data.length, 22);
    lh.writeUInt16LE(nameB.length, 26); lh.writeUInt16LE(lextra.length, 28);
    locals.push(lh, nameB, lextra, comp);
    const cextra = zip64Central ? Buffer.alloc(28) : Buffer.alloc(0);
    if (zip64Central) {
      cextra.writeUInt16LE(1, 0); cextra.writeUInt16LE(24, 2);
      cextra.writeBigUInt64LE(BigInt(data.length), 4); cextra.writeBigUInt64LE(BigInt(comp.length), 12); cextra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(45, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(zip64Central ? 0xffffffff : comp.length, 20); ch.writeUInt32LE(zip64Central ? 0xffffffff : data.length, 24);
    ch.writeUInt16LE(nameB.length, 28); ch.writeUInt16LE(cextra.length, 30);
    ch.writeUInt32LE(zip64Central ? 0xffffffff : offset, 42);
    centrals.push(ch, nameB, cextra);
    offset += 30 + nameB.length + lextra.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(entries.length, 8); eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

// A small MNIST look-alike: n images of 28x28 uint8, labels 0..9.
function fakeMnist(n, seed) {
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const images = Buffer.alloc(n * 784), labels = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(rnd() * 10);
    for (let j = 0; j < 784; j++) images[i * 784 + j] = (j % 10 === labels[i] ? 200 : 0) + Math.floor(rnd() * 50);
  }
  return { images, labels };
}
const train = fakeMnist(60, 1), testSet = fakeMnist(20, 2);
const npzEntries = [
  ['x_test.npy', npy('|u1', [20, 28, 28], testSet.images)], ['x_train.npy', npy('|u1', [60, 28, 28], train.images)],
  ['y_train.npy', npy('|u1', [60], train.labels)], ['y_test.npy', npy('|u1', [20], testSet.labels)],
];

test('IDX: every type, gzip or not; truncation and bad headers are DD_ERR_PARSE', async () => {
  const img = idx(8, [60, 28, 28], train.images);
  const p = parseIdx(img);
  assert.deepEqual(p.shape, [60, 28, 28]);
  assert.ok(p.data instanceof Uint8Array);
  assert.deepEqual(Buffer.from(p.data), train.images);
  const viaGz = await loadIdx(gzipSync(img));
  assert.deepEqual(viaGz.data, p.data);
  assert.deepEqual(parseIdx(idx(9, [3], [-1, 0, 5])).data, Int8Array.of(-1, 0, 5));
  assert.deepEqual(parseIdx(idx(11, [2], [-300, 7])).data, Int16Array.of(-300, 7));
  assert.deepEqual(parseIdx(idx(12, [2, 1], [-70000, 3])).data, Int32Array.of(-70000, 3));
  assert.deepEqual(parseIdx(idx(13, [2], [1.5, -2.25])).data, Float32Array.of(1.5, -2.25));
  assert.deepEqual(parseIdx(idx(14, [1], [Math.PI])).data, Float64Array.of(Math.PI));
  assert.throws(() => parseIdx(img.subarray(0, img.length - 1)), code('DD_ERR_PARSE'));
  assert.throws(() => parseIdx(Buffer.concat([img, Buffer.from([0])])), code('DD_ERR_PARSE'));
  assert.throws(() => parseIdx(img.subarray(0, 10)), code('DD_ERR_PARSE'));
  assert.throws(() => parseIdx(Buffer.from([0, 0, 8])), code('DD_ERR_PARSE'));
  assert.throws(() => parseIdx(gzipSync(img)), code('DD_ERR_PARSE'));
  const huge = Buffer.from(img.subarray(0, 16));
  huge.writeUInt32BE(0xffffffff, 4);
  huge.writeUInt32BE(0xffffffff, 8);
  assert.throws(() => parseIdx(huge), code('DD_ERR_PARSE'));
  assert.throws(() => parseIdx(Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 0])), code('DD_ERR_UNSUPPORTED'));
  const gz = gzipSync(img);
  await assert.rejects(gunzip(gz.subarray(0, gz.length - 30)), code('DD_ERR_PARSE'));
});

test('npy: dtypes, byte order, versions; bad headers and sizes', () => {
  const f4 = Buffer.alloc(8);
  f4.writeFloatLE(0.5, 0); f4.writeFloatLE(-3, 4);
  assert.deepEqual(parseNpy(npy('<f4', [2, 1], f4)).data, Float32Array.of(0.5, -3));
  const i4 = Buffer.alloc(8);
  i4.writeInt32BE(-5, 0); i4.writeInt32BE(9, 4);
  assert.deepEqual(parseNpy(npy('>i4', [2], i4)).data, Int32Array.of(-5, 9));
  const i8 = Buffer.alloc(16);
  i8.writeBigInt64LE(7n, 0); i8.writeBigInt64LE(-2n, 8);
  assert.deepEqual(parseNpy(npy('<i8', [2], i8, { version: 2 })).data, Float64Array.of(7, -2));
  const u1 = parseNpy(npy('|u1', [60], train.labels));
  assert.deepEqual(u1.shape, [60]);
  assert.equal(u1.dtype, '|u1');
  assert.deepEqual(parseNpy(npy('<f8', [], Buffer.alloc(8))).shape, []);
  assert.throws(() => parseNpy(npy('<f4', [3], f4)), code('DD_ERR_PARSE'));
  assert.throws(() => parseNpy(npy('<f4', [2], f4, { fortran: true })), code('DD_ERR_UNSUPPORTED'));
  assert.throws(() => parseNpy(npy('<c8', [1], f4)), code('DD_ERR_UNSUPPORTED'));
  assert.throws(() => parseNpy(Buffer.from('NUMPY....')), code('DD_ERR_PARSE'));
  const trunc = npy('<f4', [2], f4);
  trunc.writeUInt16LE(5000, 8);
  assert.throws(() => parseNpy(trunc), code('DD_ERR_PARSE'));
});

test('npz: stored, deflate, numpy zip64 local headers, zip64 central fields; corruption is DD_ERR_PARSE', async () => {
  for (const opts of [{}, { method: 8 }, { zip64Local: true }, { method: 8, zip64Central: true }]) {
    const z = await parseNpz(zip(npzEntries, opts));
    assert.deepEqual(Object.keys(z).sort(), ['x_test', 'x_train', 'y_test', 'y_train']);
    assert.deepEqual(z.x_train.shape, [60, 28, 28]);
    assert.deepEqual(Buffer.from(z.x_train.data), train.images, JSON.stringify(opts));
    assert.deepEqual(Buffer.from(z.y_test.data), testSet.labels);
  }
  const good = zip(npzEntries, { method: 8 });
  assert.throws(() => unzip(good.subarray(0, good.length - 10)), code('DD_ERR_PARSE'));
  assert.throws(() => unzip(Buffer.from('not a zip at all, definitely not')), code('DD_ERR_PARSE'));
  const badCrc = Buffer.from(zip(npzEntries));
  badCrc[200] ^= 1; // a data byte of the first (stored) entry
  await assert.rejects(parseNpz(badCrc), (e) => code('DD_ERR_PARSE')(e) && /CRC-32/.test(e.message));
  const badDeflate = Buffer.from(good);
  for (let i = 100; i < 140; i++) badDeflate[i] ^= 0xff;
  await assert.rejects(parseNpz(badDeflate), code('DD_ERR_PARSE'));
  const badOffset = Buffer.from(zip(npzEntries));
  const cdStart = badOffset.readUInt32LE(badOffset.length - 6);
  badOffset.writeUInt32LE(0x7fffffff, cdStart + 42);
  await assert.rejects(parseNpz(badOffset), code('DD_ERR_PARSE'));
  const badCount = Buffer.from(zip(npzEntries));
  badCount.writeUInt16LE(9, badCount.length - 12);
  assert.throws(() => unzip(badCount), code('DD_ERR_PARSE'));
  const lying = Buffer.from(zip(npzEntries, { method: 8 }));
  const cd2 = lying.readUInt32LE(lying.length - 6);
  lying.writeUInt32LE(10, cd2 + 24); // claims 10 uncompressed bytes
  await assert.rejects(parseNpz(lying), code('DD_ERR_PARSE'));
});

test('loadMnist downloads (local server), caches, and prepares like the tutorial; then trains', async (t) => {
  const files = {
    '/mnist.npz': zip(npzEntries, { method: 8, zip64Local: true }),
    '/idx/train-images-idx3-ubyte.gz': gzipSync(idx(8, [60, 28, 28], train.images)),
    '/idx/train-labels-idx1-ubyte.gz': gzipSync(idx(8, [60], train.labels)),
    '/idx/t10k-images-idx3-ubyte.gz': gzipSync(idx(8, [20, 28, 28], testSet.images)),
    '/idx/t10k-labels-idx1-ubyte.gz': gzipSync(idx(8, [20], testSet.labels)),
    '/broken.npz': zip(npzEntries.slice(1)),
  };
  const hits = [];
  const server = createServer((req, res) => {
    hits.push(req.url);
    const body = files[req.url];
    if (!body) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  const cache = mkdtempSync(join(tmpdir(), 'dd-mnist-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));

  assert.equal(MNIST_NPZ_URL, 'https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz');
  const a = await loadMnist({ url: `${base}/mnist.npz`, cacheDir: cache });
  const b = await loadMnist({ url: `${base}/mnist.npz`, cacheDir: cache });
  assert.deepEqual(hits, ['/mnist.npz']);
  assert.deepEqual(readdirSync(cache), ['mnist.npz']);
  assert.deepEqual(a.train.images.shape, [60, 28, 28]);
  assert.deepEqual(a.test.labels.shape, [20]);
  assert.deepEqual(b.train.labels.data, a.train.labels.data);
  const viaIdx = await loadMnist({ format: 'idx', baseUrl: `${base}/idx/` });
  assert.deepEqual(viaIdx.train.images.data, a.train.images.data);
  assert.deepEqual(viaIdx.test.labels.data, a.test.labels.data);
  await assert.rejects(loadMnist({ url: `${base}/missing.npz` }), code('DD_ERR_NOT_FOUND'));
  await assert.rejects(loadMnist({ url: `${base}/broken.npz` }), (e) => code('DD_ERR_PARSE')(e) && /x_test/.test(e.message));
  await assert.rejects(loadMnist({ url: 'http://127.0.0.1:1/mnist.npz' }), code('DD_ERR_IO'));

  // train_images[:50].reshape(-1, 28 * 28) / 255.0
  const tr = prepareImages(a.train, { limit: 50 });
  assert.deepEqual(tr.shape, [50, 784]);
  assert.equal(tr.x[3], Math.fround(a.train.images.data[3] / 255));
  assert.equal(tr.y.length, 50);
  const te = prepareImages(a.test);
  const model = sequential([dense(32, { activation: 'relu', inputShape: [784] }), dense(10, { activation: 'softmax' })], { seed: 1 });
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const h = await model.fit(tr.x, tr.y, { epochs: 5, validationData: [te.x, te.y], verbose: 0 });
  assert.ok(h.history.loss[4] < h.history.loss[0]);
});
