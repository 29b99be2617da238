// Google ships Inception 5h as inception5h.zip: it loads wherever a .pb does
// (loadModel with bytes, a path, a Blob, a URL; the Node CLI's --model), and
// wrong files say what they are. The zips are written by Python's zipfile (an
// independent producer, deflate like the official archive), not by our code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, DeepDreamError } from '../../wasm/js/index.js';
import { miniInception } from './lib/mini_inception.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const standinPath = join(root, '../shared/models/inception5h-standin.pb');
const pb = existsSync(standinPath) ? readFileSync(standinPath) : Buffer.from(miniInception({ scale: 16, seed: 5 }));
const dir = mkdtempSync(join(tmpdir(), 'ddzip-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Writes a zip with Python's zipfile; members: [[name, path-of-content or Buffer]]. */
function pyzip(name, members, method = 'ZIP_DEFLATED') {
  const out = join(dir, name);
  const list = members.map(([n, c], i) => {
    const p = Buffer.isBuffer(c) ? join(dir, `${name}.${i}.bin`) : c;
    if (Buffer.isBuffer(c)) writeFileSync(p, c);
    return [n, p];
  });
  execFileSync('python3', ['-c', `
import json, sys, zipfile
out, method, members = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with zipfile.ZipFile(out, 'w', getattr(zipfile, method)) as z:
    for name, path in members:
        z.write(path, name)
`, out, method, JSON.stringify(list)]);
  return out;
}

// the official archive's layout: the GraphDef, the label list and the LICENSE
const official = () => pyzip('inception5h.zip', [
  ['imagenet_comp_graph_label_strings.txt', Buffer.from('dummy\nkit fox\nEnglish setter\n')],
  ['LICENSE', Buffer.from('Apache License 2.0\n')],
  ['tensorflow_inception_graph.pb', pb],
]);

const code = (c, re) => (e) => e instanceof DeepDreamError && e.code === c && (!re || re.test(e.message));

test('inception5h.zip loads like the .pb inside it (bytes, path, Blob, URL), threads 1', async () => {
  const zipPath = official();
  const ref = await loadModel(pb, { threads: 1 });
  const server = createServer((req, res) => { res.writeHead(200); res.end(readFileSync(zipPath)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const sources = [readFileSync(zipPath), zipPath, new Blob([readFileSync(zipPath)]),
      `http://127.0.0.1:${server.address().port}/inception5h.zip`];
    for (const src of sources) {
      const m = await loadModel(src, { threads: 1 });
      assert.equal(m.fingerprint, ref.fingerprint);
      assert.deepEqual(m.layers.map((l) => [l.name, l.channels]), ref.layers.map((l) => [l.name, l.channels]));
      // only the GraphDef is kept (model.save() stores these bytes)
      assert.equal(m.byteLength, pb.length);
      assert.ok(Buffer.from(m.bytes()).equals(pb));
      const x = new Float32Array(32 * 32 * 3).map((_, i) => (i % 251) / 251);
      assert.deepEqual(m.forward(x, 32, 32, ref.layers[3].name), ref.forward(x, 32, 32, ref.layers[3].name));
      m.free();
    }
  } finally {
    server.close();
    ref.free();
  }
});

test('a stored (uncompressed) zip and a zip with the .pb in a folder load too', async () => {
  for (const z of [pyzip('stored.zip', [['tensorflow_inception_graph.pb', pb]], 'ZIP_STORED'),
    pyzip('nested.zip', [['inception5h/README', Buffer.from('x')], ['inception5h/graph.pb', pb]])]) {
    const m = await loadModel(z, { threads: 1 });
    assert.equal(m.byteLength, pb.length);
    m.free();
  }
});

test('a zip without a GraphDef names what it has; a wrong .pb says what it is', async () => {
  const noPb = pyzip('photos.zip', [['a.jpg', readFileSync(join(root, '../shared/images/hulk.jpg'))], ['notes.txt', Buffer.from('hi')]]);
  await assert.rejects(loadModel(noPb, { threads: 1 }),
    code('DD_ERR_NOT_FOUND', /photos\.zip is a zip archive without a TensorFlow GraphDef \(\.pb\) in it; it contains: a\.jpg, notes\.txt/));
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108020000009077' + '53de', 'hex');
  const wrong = pyzip('wrong.zip', [['tensorflow_inception_graph.pb', png]]);
  await assert.rejects(loadModel(wrong, { threads: 1 }),
    code('DD_ERR_PARSE', /wrong\.zip: tensorflow_inception_graph\.pb\): this is a PNG image, not a TensorFlow GraphDef/));
  const several = pyzip('several.zip', [['a.pb', pb], ['b.pb', pb]]);
  await assert.rejects(loadModel(several, { threads: 1 }), code('DD_ERR_NOT_FOUND', /several \.pb files.*a\.pb, b\.pb/));
});

test('a damaged zip is a clean DD_ERR_PARSE (CRC, truncation), never a dead model', async () => {
  const good = readFileSync(official());
  // flip a byte inside the GraphDef's compressed data: inflate error or CRC failure
  const bad = Buffer.from(good);
  const at = good.indexOf(Buffer.from('tensorflow_inception_graph.pb')) + 40;
  bad[at] ^= 0x55;
  await assert.rejects(loadModel(bad, { threads: 1 }), code('DD_ERR_PARSE'));
  await assert.rejects(loadModel(good.subarray(0, good.length - 100), { threads: 1 }), code('DD_ERR_PARSE', /end of central directory/));
});

test('wrong files given as a model name what they are, before any protobuf detail', async () => {
  const cases = [
    [readFileSync(join(root, '../shared/images/hulk.jpg')), /^loadModel: this is a JPEG image, not a TensorFlow GraphDef model \(\.pb\)\. Images go to the dream/],
    [Buffer.from('<!DOCTYPE html><html><body>Not found</body></html>'), /this is an HTML or XML page.*download link/],
    [Buffer.alloc(0), /the model file is empty \(0 bytes\)/],
    [Buffer.from('{"format": "graph-model", "modelTopology": {}}'), /this is a JSON file.*model\.json/],
  ];
  for (const [bytes, re] of cases) await assert.rejects(loadModel(bytes, { threads: 1 }), (e) => e instanceof DeepDreamError && re.test(e.message));
});

test('the Node CLI takes inception5h.zip as --model', () => {
  const zipPath = official();
  const out = join(dir, 'out.png');
  const r = spawnSync(process.execPath, [join(root, 'wasm/js/cli.js'), '--model', zipPath, '--layer', 'mixed3a',
    '--iterations', '1', '--octaves', '1', '--noise', '48x48', '-', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(readFileSync(out).subarray(1, 4).equals(Buffer.from('PNG')));
});
