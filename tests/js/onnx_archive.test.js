// The ONNX zoo's packaging: NAME.tar.gz holding NAME/model.onnx and test
// data. wasm/js/tar.js reads the tar bounds- and checksum-checked; archive.js
// takes its one .onnx. The archives are written by Python's tarfile (GNU and
// ustar formats), not by our code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { untar } from '../../wasm/js/tar.js';
import { onnxFromTarGz } from '../../wasm/js/archive.js';
import { loadModel } from '../../wasm/js/index.js';
import { onnxPython, standin } from './lib/onnx_standins.js';

const dir = mkdtempSync(join(tmpdir(), 'ddtar-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function pyTar(name, files, format = 'GNU_FORMAT') {
  const spec = join(dir, `${name}.json`);
  writeFileSync(spec, JSON.stringify(files.map(([n, hex]) => [n, hex])));
  execFileSync('python3', ['-c', `
import io, json, sys, tarfile
files = json.load(open(sys.argv[1]))
with tarfile.open(sys.argv[2], 'w:gz', format=getattr(tarfile, sys.argv[3])) as t:
    for name, hexdata in files:
        data = bytes.fromhex(hexdata)
        info = tarfile.TarInfo(name); info.size = len(data)
        t.addfile(info, io.BytesIO(data))
`, spec, join(dir, name), format]);
  return readFileSync(join(dir, name));
}

const model = Buffer.alloc(3000);
for (let i = 0; i < model.length; i++) model[i] = (i * 131 + 7) & 255;
const longDir = 'googlenet/' + 'x'.repeat(120); // longer than a ustar name field

test('the one .onnx of a zoo-style .tar.gz comes out byte for byte (GNU and ustar)', async () => {
  for (const format of ['GNU_FORMAT', 'USTAR_FORMAT', 'PAX_FORMAT']) {
    const gz = pyTar(`z-${format}.tar.gz`, [['googlenet/test_data_set_0/input_0.pb', 'deadbeef'],
      [format === 'GNU_FORMAT' ? `${longDir}/model.onnx` : 'googlenet/model.onnx', model.toString('hex')]], format);
    const { bytes, member } = await onnxFromTarGz(gz, 'googlenet-12.tar.gz');
    assert.ok(member.endsWith('model.onnx'), member);
    if (format === 'GNU_FORMAT') assert.equal(member, `${longDir}/model.onnx`);
    assert.deepEqual(Buffer.from(bytes), model);
  }
});

test('a tar.gz without one .onnx says what it holds', async () => {
  const none = pyTar('none.tar.gz', [['a/readme.txt', '41']]);
  await assert.rejects(onnxFromTarGz(none, 'x.tar.gz'), (e) => e.code === 'DD_ERR_NOT_FOUND' && /no ONNX model.*a\/readme\.txt/.test(e.message));
  const two = pyTar('two.tar.gz', [['a.onnx', '00'], ['b.onnx', '01']]);
  await assert.rejects(onnxFromTarGz(two, 'x.tar.gz'), (e) => e.code === 'DD_ERR_NOT_FOUND' && /several/.test(e.message));
});

test('hostile tar headers are refused, not trusted', () => {
  const gz = pyTar('h.tar.gz', [['m.onnx', model.toString('hex')]], 'USTAR_FORMAT');
  const tar = new Uint8Array(execFileSync('python3', ['-c', 'import gzip,sys; sys.stdout.buffer.write(gzip.decompress(open(sys.argv[1],"rb").read()))', join(dir, 'h.tar.gz')], { maxBuffer: 1 << 24 }));
  assert.deepEqual(Buffer.from(untar(tar).get('m.onnx')), model);
  const badSum = tar.slice(); badSum[0] ^= 1;
  assert.throws(() => untar(badSum, 't'), (e) => e.code === 'DD_ERR_PARSE' && /checksum/.test(e.message));
  const tooBig = tar.slice(); // size field says 64 MiB: past the end
  tooBig.set(new TextEncoder().encode('00400000000\0'), 124);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : tooBig[i];
  tooBig.set(new TextEncoder().encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  assert.throws(() => untar(tooBig, 't'), (e) => e.code === 'DD_ERR_PARSE' && /past the end/.test(e.message));
  assert.equal(gz[0], 0x1f);
});

test('a gzip that is not a tar is a parse error', async () => {
  const junk = gzipSync(Buffer.alloc(1024, 7));
  await assert.rejects(onnxFromTarGz(junk, 'junk.tar.gz'), (e) => e.code === 'DD_ERR_PARSE');
});

test('mutated tar archives parse or fail with DD_ERR_PARSE, nothing else', () => {
  pyTar('f.tar.gz', [['googlenet/model.onnx', model.toString('hex')], [`${longDir}/x.pb`, '0102']], 'GNU_FORMAT');
  const tar = new Uint8Array(execFileSync('python3', ['-c', 'import gzip,sys; sys.stdout.buffer.write(gzip.decompress(open(sys.argv[1],"rb").read()))', join(dir, 'f.tar.gz')], { maxBuffer: 1 << 24 }));
  let s = 12345, parsed = 0;
  const rnd = (n) => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % n);
  for (let k = 0; k < 2000; k++) {
    const b = tar.slice(0, k % 7 === 0 ? rnd(tar.length) : tar.length);
    for (let j = 1 + rnd(4); j > 0; j--) b[rnd(Math.min(b.length, 2048)) || 0] = rnd(256);
    try {
      for (const v of untar(b, 'fuzz').values()) assert.ok(v.byteOffset + v.length <= b.byteOffset + b.length);
      parsed++;
    } catch (e) {
      assert.equal(e.code, 'DD_ERR_PARSE', `mutation ${k}: ${e.message}`);
    }
  }
  assert.ok(parsed > 0 && parsed < 2000, `${parsed} of 2000 parsed`);
});

test('loadModel takes the zoo\'s googlenet .tar.gz as the .onnx inside', { skip: !onnxPython() && 'no python3-onnx for the stand-in' }, async () => {
  const onnx = standin('bvlc_googlenet');
  const tgz = join(dir, 'googlenet-12.tar.gz');
  execFileSync('python3', ['-c', 'import sys, tarfile\nwith tarfile.open(sys.argv[1], "w:gz") as t: t.add(sys.argv[2], "googlenet/model.onnx")', tgz, onnx]);
  const a = await loadModel(onnx, { threads: 1 }), b = await loadModel(tgz, { threads: 1 });
  try {
    assert.equal(b.fingerprint, a.fingerprint);
    assert.equal(b.description.name, 'bvlc_googlenet');
    assert.equal(b.byteLength, readFileSync(onnx).length);
  } finally {
    a.free();
    b.free();
  }
});
