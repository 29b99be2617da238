// `--model inception5h`: a registry name is downloaded once (progress on
// stderr) into the per-user cache, checked (archive size, member CRC and
// size) and reused; offline or a wrong file says what to do. A local server
// stands in for storage.googleapis.com (DEEPDREAM_REGISTRY points at a
// registry.json of the same layout whose URL is the local server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { miniInception } from './lib/mini_inception.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ddreg-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const pb = Buffer.from(miniInception({ scale: 16, seed: 3 }));
writeFileSync(join(dir, 'g.pb'), pb);
execFileSync('python3', ['-c', `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('imagenet_comp_graph_label_strings.txt', 'dummy\\n')
    z.write(sys.argv[2], 'tensorflow_inception_graph.pb')
`, join(dir, 'inception5h.zip'), join(dir, 'g.pb')]);
const zip = readFileSync(join(dir, 'inception5h.zip'));

function cli(args, env) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(root, 'wasm/js/cli.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function registryFile(name, url, over = {}) {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify({ default: 'gabor-dream-v1', models: { inception5h: {
    url, zipBytes: zip.length, member: 'tensorflow_inception_graph.pb', bytes: pb.length, layers: [], ...over } } }));
  return f;
}

test('--model inception5h downloads once with progress, checks, caches and reuses', async () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (req.url === '/models/inception5h.zip') { res.writeHead(200, { 'content-length': zip.length }); res.end(zip); }
    else { res.writeHead(404); res.end('nope'); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const cache = join(dir, 'xdg');
    const env = { DEEPDREAM_REGISTRY: registryFile('ok.json', `${base}/models/inception5h.zip`), XDG_CACHE_HOME: cache, DEEPDREAM_CACHE: '' };
    const first = await cli(['--model', 'inception5h', '--list-layers'], env);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /downloading the model: .* MiB \(100%\)/);
    assert.match(first.stdout, /mixed4c/);
    const cached = join(cache, 'deepdream-wasm', 'inception5h', 'tensorflow_inception_graph.pb');
    assert.ok(readFileSync(cached).equals(pb));
    assert.equal(requests, 1);
    const second = await cli(['--model', 'inception5h', '--list-layers'], env);
    assert.equal(second.status, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /downloading/);
    assert.equal(requests, 1, 'the cached model is reused');

    // a mirror replaces the official host, file names kept
    const mirrored = join(dir, 'mirror-cache');
    const viaMirror = await cli(['--model', 'inception5h', '--list-layers'],
      { DEEPDREAM_REGISTRY: registryFile('far.json', 'https://storage.example.invalid/x/inception5h.zip'), DEEPDREAM_CACHE: mirrored, DEEPDREAM_MIRROR: `${base}/models/` });
    assert.equal(viaMirror.status, 0, viaMirror.stderr);
    assert.ok(existsSync(join(mirrored, 'inception5h', 'tensorflow_inception_graph.pb')));

    // a different file at the URL (wrong size) is refused and nothing is cached
    const wrongCache = join(dir, 'wrong');
    const wrong = await cli(['--model', 'inception5h', '--list-layers'],
      { DEEPDREAM_REGISTRY: registryFile('wrong.json', `${base}/models/inception5h.zip`, { zipBytes: zip.length + 1 }), DEEPDREAM_CACHE: wrongCache });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, new RegExp(`got ${zip.length} bytes, expected ${zip.length + 1}`));
    assert.ok(!existsSync(join(wrongCache, 'inception5h', 'tensorflow_inception_graph.pb')));

    // HTTP 404
    const missing = await cli(['--model', 'inception5h', '--list-layers'],
      { DEEPDREAM_REGISTRY: registryFile('404.json', `${base}/gone/inception5h.zip`), DEEPDREAM_CACHE: join(dir, 'c404') });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /cannot download .*gone\/inception5h\.zip \(HTTP 404\)\. Download it by hand .* --model inception5h\.zip/);
  } finally {
    server.close();
  }
});

test('offline: a clear message with the URL; unknown names list the known ones', async () => {
  const closed = createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const port = closed.address().port;
  await new Promise((r) => closed.close(r));
  const off = await cli(['--model', 'inception5h', '--list-layers'],
    { DEEPDREAM_REGISTRY: registryFile('off.json', `http://127.0.0.1:${port}/inception5h.zip`), DEEPDREAM_CACHE: join(dir, 'off') });
  assert.notEqual(off.status, 0);
  assert.match(off.stderr, new RegExp(`cannot download http://127\\.0\\.0\\.1:${port}/inception5h\\.zip \\(ECONNREFUSED\\)`));
  assert.ok(off.stderr.length < 1000, off.stderr);
  const unknown = await cli(['--model', 'nosuchmodel', '--list-layers'], {});
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /'nosuchmodel' is neither a file nor a model name \(known: inception5h, bvlc_googlenet, vgg16, resnet50\)/);
  assert.ok(statSync(join(root, 'models/registry.json')).size > 0);
});
