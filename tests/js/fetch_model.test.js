// models/fetch-inception5h.mjs end to end against a local HTTP server (no
// network): download, size checks, unzip (CRC-checked), write, then load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { fetchInception5h } from '../../models/fetch-inception5h.mjs';
import { crc32 } from '../../wasm/js/train/io.js';
import { loadModel } from '../../wasm/js/index.js';
import { miniInception } from './lib/mini_inception.js';

function zipOne(name, data) {
  const comp = deflateRawSync(data), nb = Buffer.from(name), crc = crc32(data) >>> 0;
  const local = Buffer.alloc(30); local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14); local.writeUInt32LE(comp.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(nb.length, 26);
  const cd = Buffer.alloc(46); cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt16LE(8, 10);
  cd.writeUInt32LE(crc, 16); cd.writeUInt32LE(comp.length, 20); cd.writeUInt32LE(data.length, 24); cd.writeUInt16LE(nb.length, 28);
  const body = Buffer.concat([local, nb, comp]);
  const eocd = Buffer.alloc(22); eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(1, 8); eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(46 + nb.length, 12); eocd.writeUInt32LE(body.length, 16);
  return Buffer.concat([body, cd, nb, eocd]);
}

test('fetch-inception5h downloads, checks, unpacks and writes the model', async () => {
  const pb = Buffer.from(miniInception({ scale: 16, seed: 9 }));
  const zip = zipOne('tensorflow_inception_graph.pb', pb);
  const server = createServer((req, res) => {
    if (req.url === '/inception5h.zip') { res.writeHead(200, { 'content-length': zip.length }); res.end(zip); }
    else { res.writeHead(404); res.end(); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const dir = mkdtempSync(join(tmpdir(), 'ddfetch-'));
  try {
    let progress = 0;
    const { dest, bytes } = await fetchInception5h({ url: `${base}/inception5h.zip`, dest: join(dir, 'm.pb'),
      expectZipBytes: zip.length, expectBytes: pb.length, onProgress: (d) => { progress = d; } });
    assert.equal(bytes, pb.length);
    assert.equal(progress, zip.length);
    assert.deepEqual(readFileSync(dest), pb);
    const m = await loadModel(dest, { threads: 1 });
    assert.equal(m.layers.length, 12);
    m.free();
    // the real file's sizes are checked by default
    await assert.rejects(fetchInception5h({ url: `${base}/inception5h.zip`, dest: join(dir, 'x.pb') }), /expected 49937555/);
    await assert.rejects(fetchInception5h({ url: `${base}/missing.zip`, dest: join(dir, 'y.pb') }), /HTTP 404/);
    // a corrupted download fails its CRC
    const bad = Buffer.from(zip); bad[30 + 'tensorflow_inception_graph.pb'.length + 100] ^= 0xff; // inside the deflate data
    server.removeAllListeners('request');
    server.on('request', (req, res) => { res.writeHead(200, { 'content-length': bad.length }); res.end(bad); });
    await assert.rejects(fetchInception5h({ url: `${base}/inception5h.zip`, dest: join(dir, 'z.pb'), expectZipBytes: null, expectBytes: null }));
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
