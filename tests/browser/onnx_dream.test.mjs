// The BVLC GoogLeNet ONNX stand-in (models/onnx/make-standins.py) in the page:
// loaded through the model file input as a .onnx and dropped as the zoo's
// .tar.gz, stored, its default layer (inception_4c/output) selected, dreamed
// to the end; then, through the page's API (the Worker), a dream interrupted
// at a checkpoint in IndexedDB resumes to the same bytes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveChromium, startServer, openBrowser, openDemo, setSettings, dreamToEnd, dropFile, testPng } from './lib.mjs';
import { onnxPython, standin } from '../js/lib/onnx_standins.js';

const skip = (!haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)') ||
  (!onnxPython() && 'no python3 with the onnx package (Debian python3-onnx) to build the stand-in');
let srv, dir, onnx, tgz;
before(async () => {
  if (skip) return;
  srv = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'ddpageonnx-'));
  onnx = standin('bvlc_googlenet');
  tgz = join(dir, 'googlenet-12.tar.gz'); // the zoo's layout: googlenet/model.onnx + test data
  execFileSync(onnxPython(), ['-c', `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w:gz') as t:
    t.add(sys.argv[2], 'googlenet/model.onnx')
    info = tarfile.TarInfo('googlenet/test_data_set_0/input_0.pb'); info.size = 4
    t.addfile(info, io.BytesIO(b'\\0\\0\\0\\0'))
`, tgz, onnx]);
});
after(async () => {
  if (srv) await srv.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('GoogLeNet .onnx and zoo .tar.gz in the page: inception_4c/output by default, dreamed; a checkpoint resumes to the same bytes', { skip }, async (t) => {
  const b = await openBrowser();
  try {
    const { page } = b;
    await openDemo(page, srv.base);
    assert.match(await page.getAttribute('#model-file', 'accept'), /\.onnx/);
    await page.setInputFiles('#model-file', onnx);
    await page.waitForFunction(() => window.deepdreamDemo.model.key === 'indexeddb://bvlc_googlenet.onnx' && document.body.dataset.state === 'idle', null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.deepdreamDemo.model.layers), 11);
    const selected = await page.$eval('#layer', (s) => s.options[s.selectedIndex].textContent);
    assert.match(selected, /inception_4c\/output_1 — 512 channels/);
    await page.setInputFiles('#image-file', { name: 'small.png', mimeType: 'image/png', buffer: await testPng(128, 96) });
    await page.waitForFunction(() => window.deepdreamDemo.source.width === 128);
    await setSettings(page, { iterations: 2, octaves: 1, seed: 3, tileSize: 64 });
    const stats = await dreamToEnd(page);
    t.diagnostic(`GoogLeNet stand-in, 128x96: ${stats.dreamMs.toFixed(0)} ms`);
    assert.ok(await page.evaluate(() => window.deepdreamDemo.changedFraction()) > 0.3);

    await dropFile(page, tgz); // the zoo's archive: its model.onnx is taken out and stored
    await page.waitForFunction(() => window.deepdreamDemo.model.key === 'indexeddb://googlenet-12' && document.body.dataset.state !== 'loading', null, { timeout: 120_000 })
      .catch(async (e) => {
        const state = await page.evaluate(() => [window.deepdreamDemo.model.key, document.body.dataset.state, document.body.innerText.slice(0, 600)]);
        throw new Error(`${e.message}; the page: ${JSON.stringify(state)}; errors: ${b.errors.join(' | ')}`);
      });

    const same = await page.evaluate(async () => {
      const { loadModel, dream, resumeDream } = await import('/wasm/js/index.js');
      const m = await loadModel('indexeddb://googlenet-12', { threads: 1 });
      const W = 96, H = 80, data = new Uint8Array(W * H * 3);
      for (let i = 0; i < data.length; i++) data[i] = (i * 29 + (i % 3) * 70) & 255;
      const image = { width: W, height: H, channels: 3, data };
      const o = { layer: 'inception_4c/output', iterations: 2, repeats: 1, tileSize: 64, seed: 9 };
      const ref = await dream(m, image, o).result;
      const c = dream(m, image, { ...o, id: 'onnx-page', checkpoint: { storage: 'indexeddb', everyTiles: 1 } });
      let n = 0;
      c.addEventListener('checkpoint', () => { if (++n === 2) c.abort(); });
      const aborted = await c.result.then(() => 'finished', (e) => e.code);
      const r = await (await resumeDream(m, 'onnx-page', { checkpoint: { storage: 'indexeddb' } })).result;
      m.free();
      let diff = 0;
      for (let i = 0; i < r.data.length; i++) diff += r.data[i] !== ref.data[i];
      return { aborted, diff, n: r.data.length, desc: m.description && m.description.name };
    });
    assert.equal(same.aborted, 'DD_ERR_ABORTED');
    assert.equal(same.diff, 0, 'resumed bytes differ');
    assert.equal(same.desc, 'bvlc_googlenet');
    assert.deepEqual(b.errors.filter((e) => !/Failed to load resource/.test(e)), []);
  } finally {
    await b.close();
  }
});
