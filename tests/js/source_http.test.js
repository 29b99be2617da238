// loadModel(url) against local HTTP servers as they exist in the wild: gzip
// and brotli (Content-Length counts the compressed bytes), chunked without a
// Content-Length, a body cut short, 404, an HTML page in place of the model,
// and no server at all. Every failure is a DeepDreamError with a sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { loadModel, DeepDreamError } from '../../wasm/js/index.js';

const pb = readFileSync(new URL('../../models/default-model.pb', import.meta.url));
const routes = {
  '/plain.pb': (res) => { res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': pb.length }); res.end(pb); },
  '/gzip.pb': (res) => {
    const z = gzipSync(pb);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'content-length': z.length });
    res.end(z);
  },
  '/br.pb': (res) => {
    const z = brotliCompressSync(pb);
    res.writeHead(200, { 'content-encoding': 'br', 'content-length': z.length });
    res.end(z);
  },
  '/chunked.pb': async (res) => { // no Content-Length: Transfer-Encoding chunked, many small writes
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    for (let i = 0; i < pb.length; i += 7001) { res.write(pb.subarray(i, i + 7001)); if (i % 70010 === 0) await new Promise((r) => setImmediate(r)); }
    res.end();
  },
  '/gzip-chunked.pb': (res) => {
    res.writeHead(200, { 'content-encoding': 'gzip' });
    const z = gzipSync(pb);
    res.write(z.subarray(0, 1000)); res.end(z.subarray(1000));
  },
  '/short.pb': (res) => { res.writeHead(200, { 'content-length': pb.length }); res.write(pb.subarray(0, 5000)); res.socket.destroy(); },
  '/html.pb': (res) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end('<!DOCTYPE html><html><body>app</body></html>'); },
  '/html-untyped.pb': (res) => { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end('\n  <!doctype html>\n<html><body>app</body></html>'); },
};
const server = createServer((req, res) => {
  const route = routes[req.url];
  if (route) route(res);
  else { res.writeHead(404, { 'content-type': 'text/html' }); res.end('<h1>Not Found</h1>'); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const reference = await loadModel(new Uint8Array(pb), { threads: 1, worker: false });
test.after(() => { reference.free(); server.close(); });

for (const path of ['/plain.pb', '/gzip.pb', '/br.pb', '/chunked.pb', '/gzip-chunked.pb']) {
  test(`loads ${path} to the same model, progress ends at 1`, async () => {
    const fractions = [];
    const m = await loadModel(`${base}${path}`, { threads: 1, worker: false, onProgress: (f) => fractions.push(f) });
    try {
      assert.equal(m.byteLength, pb.length);
      assert.equal(m.fingerprint, reference.fingerprint);
      assert.deepEqual(Buffer.from(m.bytes()), pb);
      assert.equal(fractions.at(-1), 1);
      assert.ok(fractions.every((f) => f >= 0 && f <= 1), fractions.join());
    } finally {
      m.free();
    }
  });
}

const err = (code, re) => (e) => e instanceof DeepDreamError && e.code === code && re.test(e.message);

test('a body cut short, 404, HTML pages and a dead server are clear DeepDreamErrors', async () => {
  await assert.rejects(loadModel(`${base}/short.pb`, { threads: 1, worker: false }), err('DD_ERR_IO', /short\.pb/));
  await assert.rejects(loadModel(`${base}/missing.pb`, { threads: 1, worker: false }), err('DD_ERR_IO', /missing\.pb failed: HTTP 404 Not Found/));
  await assert.rejects(loadModel(`${base}/html.pb`, { threads: 1, worker: false }), err('DD_ERR_PARSE', /returned an HTML page .*check the URL/));
  await assert.rejects(loadModel(`${base}/html-untyped.pb`, { threads: 1, worker: false }), err('DD_ERR_PARSE', /^loadModel\(html-untyped\.pb\): this is an HTML or XML page, not a TensorFlow GraphDef model \(\.pb\)\. A download link probably returned a web page/));
  const dead = createServer();
  await new Promise((r) => dead.listen(0, '127.0.0.1', r));
  const port = dead.address().port;
  await new Promise((r) => dead.close(r));
  await assert.rejects(loadModel(`http://127.0.0.1:${port}/m.pb`, { threads: 1, worker: false }), err('DD_ERR_IO', /fetching .* failed: .*ECONNREFUSED/));
});
