// Inception 5h as Google ships it (inception5h.zip) through the page: the
// stand-in, zipped exactly like the official archive (the same three members,
// deflate) by Python's zipfile, given to the model file input and dropped on
// the page; the GraphDef inside is stored (as 'inception5h') and dreamed with.
// A zip without a .pb names its entries on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveChromium, haveStandin, STANDIN, startServer, openBrowser, openDemo, setSettings, dreamToEnd, dropFile, screenshot, testPng } from './lib.mjs';

const skip = (!haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)') || (!haveStandin && 'no ../shared stand-in model');
let srv, dir, noPb;
before(async () => {
  srv = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'ddpagezip-'));
  writeFileSync(join(dir, 'labels.txt'), 'dummy\nkit fox\n');
  writeFileSync(join(dir, 'LICENSE'), 'Apache License 2.0\n');
  const py = (out, members) => execFileSync('python3', ['-c', `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for name, path in json.loads(sys.argv[2]):
        z.write(path, name)
`, out, JSON.stringify(members)]);
  if (haveStandin) {
    py(join(dir, 'inception5h.zip'), [['imagenet_comp_graph_label_strings.txt', join(dir, 'labels.txt')],
      ['LICENSE', join(dir, 'LICENSE')], ['tensorflow_inception_graph.pb', STANDIN]]);
  }
  py(join(dir, 'photos.zip'), [['LICENSE', join(dir, 'LICENSE')], ['labels.txt', join(dir, 'labels.txt')]]);
  noPb = readFileSync(join(dir, 'photos.zip'));
});
after(async () => {
  if (srv) await srv.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('inception5h.zip through the file input and by drag and drop: stored as the GraphDef, dreamed to the end', { skip }, async (t) => {
  const b = await openBrowser();
  try {
    const { page } = b;
    await openDemo(page, srv.base);
    await page.setInputFiles('#model-file', join(dir, 'inception5h.zip'));
    await page.waitForFunction(() => window.deepdreamDemo.model.layers === 12 && document.body.dataset.state === 'idle', null, { timeout: 120_000 });
    const m = await page.evaluate(() => window.deepdreamDemo.model);
    assert.equal(m.key, 'indexeddb://inception5h');
    const stored = await page.evaluate(async () => (await (await import('/wasm/js/index.js')).listModels()));
    assert.deepEqual(Object.keys(stored), ['indexeddb://inception5h']);
    assert.equal(stored['indexeddb://inception5h'].byteLength, readFileSync(STANDIN).length, 'only the GraphDef is stored');
    await page.setInputFiles('#image-file', { name: 'small.png', mimeType: 'image/png', buffer: await testPng(160, 120) });
    await page.waitForFunction(() => window.deepdreamDemo.source.width === 160);
    await setSettings(page, { iterations: 2, octaves: 2, seed: 3 });
    const stats = await dreamToEnd(page);
    t.diagnostic(`stand-in from the zip, 160x120: ${stats.dreamMs.toFixed(0)} ms`);
    assert.ok(await page.evaluate(() => window.deepdreamDemo.changedFraction()) > 0.3);
    await screenshot(page, 'model-zip-loaded-1280.png');

    // forget it, then drop the same zip on the page
    await page.click('#forget-model');
    await page.waitForFunction(() => ![...document.querySelectorAll('#model-select option')].some((o) => o.value.startsWith('indexeddb://')));
    await page.selectOption('#model-select', 'default');
    await page.waitForFunction(() => window.deepdreamDemo.model && window.deepdreamDemo.model.layers !== 12, null, { timeout: 60_000 });
    await dropFile(page, join(dir, 'inception5h.zip'));
    await page.waitForFunction(() => window.deepdreamDemo.model.layers === 12, null, { timeout: 120_000 });
    assert.equal((await page.evaluate(() => window.deepdreamDemo.model)).fingerprint, m.fingerprint);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a zip without a GraphDef: the page names what the zip holds', { skip: !haveChromium && 'no chromium' }, async () => {
  const b = await openBrowser({ width: 390, height: 844 });
  try {
    const { page } = b;
    await openDemo(page, srv.base);
    await page.setInputFiles('#model-file', { name: 'photos.zip', mimeType: 'application/zip', buffer: noPb });
    await page.waitForFunction(() => /it contains/.test(document.body.innerText), null, { timeout: 60_000 });
    const text = await page.evaluate(() => document.body.innerText);
    assert.match(text, /without a TensorFlow GraphDef \(\.pb\) in it; it contains: LICENSE, labels\.txt/);
    await screenshot(page, 'model-zip-error-390.png');
  } finally {
    await b.close();
  }
});
