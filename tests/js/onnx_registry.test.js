// The ONNX zoo's models by name (`--model googlenet`, models/registry.json):
// a plain file, downloaded once into the cache with its size and SHA-256
// checked, reused after; a wrong file writes nothing. A local server stands
// in for github.com (DEEPDREAM_REGISTRY names a registry of the same layout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveRegistryModel, resolveModelArg } from '../../wasm/js/registry.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ddonnxreg-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const body = Buffer.alloc(300000);
for (let i = 0; i < body.length; i++) body[i] = (i * 7919) >> 3 & 255;
const sha = createHash('sha256').update(body).digest('hex');

test('the zoo entries carry the LFS pointers\' sizes and SHA-256, and official URLs', () => {
  const reg = JSON.parse(readFileSync(join(root, 'models/registry.json'), 'utf8'));
  for (const k of ['bvlc_googlenet', 'vgg16', 'resnet50']) {
    const e = reg.models[k];
    assert.match(e.url, /^https:\/\/github\.com\/onnx\/models\/raw\/main\/validated\/vision\/classification\/.+\.onnx$/);
    assert.match(e.sha256, /^[0-9a-f]{64}$/);
    assert.ok(Number.isInteger(e.bytes) && e.bytes > 1e7, `${k} bytes`);
    assert.ok(e.layers.includes(e.defaultLayer), `${k} default layer listed`);
  }
  assert.ok(reg.models.bvlc_googlenet.aliases.includes('googlenet'));
});

test('--model googlenet: downloads once with progress, checks size and SHA-256, caches, reuses', async () => {
  let requests = 0, mode = 'ok';
  const server = createServer((req, res) => {
    requests++;
    if (req.url !== '/m/googlenet-7.onnx') { res.writeHead(404); res.end(); return; }
    if (mode === 'html') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>sign in</html>'); return; }
    const b = mode === 'corrupt' ? Buffer.from(body).fill(1, 1000, 1001) : body;
    res.writeHead(200, { 'content-length': b.length, 'content-type': 'application/octet-stream' });
    res.end(b);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${server.address().port}/m/googlenet-7.onnx`;
    const regFile = join(dir, 'reg.json');
    writeFileSync(regFile, JSON.stringify({ default: 'x', models: { bvlc_googlenet: {
      url, bytes: body.length, sha256: sha, format: 'onnx', aliases: ['googlenet'], layers: [] } } }));
    const env = { DEEPDREAM_REGISTRY: regFile, DEEPDREAM_CACHE: join(dir, 'cache') };
    const seen = [];
    const p = await resolveModelArg('googlenet', { env, onProgress: (d, t) => seen.push([d, t]) });
    assert.equal(p, join(dir, 'cache', 'bvlc_googlenet', 'googlenet-7.onnx'));
    assert.deepEqual(readFileSync(p), body);
    assert.equal(requests, 1);
    assert.deepEqual(seen.at(-1), [body.length, body.length]);
    assert.equal(await resolveRegistryModel('bvlc_googlenet', { env }), p); // cached: no request
    assert.equal(requests, 1);

    const env2 = { ...env, DEEPDREAM_CACHE: join(dir, 'cache2') };
    mode = 'corrupt';
    await assert.rejects(resolveModelArg('googlenet', { env: env2 }), (e) => e.code === 'DD_ERR_PARSE' && /SHA-256/.test(e.message));
    assert.ok(!existsSync(join(dir, 'cache2', 'bvlc_googlenet', 'googlenet-7.onnx')), 'nothing written');
    mode = 'html';
    await assert.rejects(resolveModelArg('googlenet', { env: env2 }), (e) => e.code === 'DD_ERR_IO' && /web page/.test(e.message));
    mode = 'ok';
    const short = join(dir, 'short.json'); // (the registry is cached per file name)
    writeFileSync(short, JSON.stringify({ default: 'x', models: { bvlc_googlenet: {
      url, bytes: body.length - 1, sha256: sha, format: 'onnx', layers: [] } } }));
    await assert.rejects(resolveRegistryModel('bvlc_googlenet', { env: { ...env2, DEEPDREAM_REGISTRY: short } }),
      (e) => e.code === 'DD_ERR_IO' && /expected/.test(e.message));
  } finally {
    server.close();
  }
});
