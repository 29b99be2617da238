// The page a newcomer meets (issue 13): it says which model is loaded and
// offers "Get Inception 5h"; that downloads the official inception5h.zip with
// progress (here the official URL is answered by the test: the stand-in,
// zipped like the archive), or says in one sentence what to do when the
// browser cannot fetch it; a model that fetch-inception5h.mjs put in models/
// is offered by itself; errors and notes stay in view; at 1280x800 the
// progress and the downloads are visible without scrolling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO, haveChromium, haveStandin, STANDIN, startServer, openBrowser, openDemo, setSettings, dreamToEnd, screenshot, testPng,
} from './lib.mjs';
import { miniInception } from '../js/lib/mini_inception.js';

const skip = !haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)';
const skipStandin = skip || (!haveStandin && 'no ../shared stand-in model');
const OFFICIAL = JSON.parse(readFileSync(join(REPO, 'models/registry.json'), 'utf8')).models.inception5h.url;
let srv, dir, zip;
before(async () => {
  srv = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'ddgetmodel-'));
  if (haveStandin) {
    execFileSync('python3', ['-c', `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('imagenet_comp_graph_label_strings.txt', 'dummy\\n')
    z.writestr('LICENSE', 'Apache License 2.0\\n')
    z.write(sys.argv[2], 'tensorflow_inception_graph.pb')
`, join(dir, 'inception5h.zip'), STANDIN]);
    zip = readFileSync(join(dir, 'inception5h.zip'));
  }
});
after(async () => {
  if (srv) await srv.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const text = (page, id) => page.evaluate((i) => document.getElementById(i).textContent, id);
const visible = (page, id) => page.evaluate((i) => {
  const el = document.getElementById(i);
  if (el.hidden || el.closest('[hidden]')) return false;
  const r = el.getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;
}, id);

test('the default model says what it is and offers Get Inception 5h (1280x800 and 390x844)', { skip }, async () => {
  for (const [w, h] of [[1280, 800], [390, 844]]) {
    const b = await openBrowser({ width: w, height: h });
    try {
      await openDemo(b.page, srv.base);
      assert.match(await text(b.page, 'model-about'), /^Loaded: gabor-dream-v1, the small built-in model\..*Inception 5h/);
      assert.equal(await b.page.evaluate(() => document.getElementById('get-real').hidden), false);
      assert.match(await b.page.evaluate(() => document.querySelector('.tagline').textContent), /small built-in model, or Google's Inception 5h/);
      await screenshot(b.page, `newcomer-${w}.png`);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  }
});

test('Get Inception 5h: downloads the official zip with progress, keeps the GraphDef, dreams', { skip: skipStandin }, async (t) => {
  const b = await openBrowser();
  try {
    const { page } = b;
    let asked = 0;
    await page.route(OFFICIAL, (route) => {
      asked++;
      route.fulfill({ status: 200, body: zip, headers: { 'content-type': 'application/zip', 'content-length': String(zip.length),
        'access-control-allow-origin': '*' } });
    });
    // the registry's size is the real archive's: serve a registry naming ours
    await page.route('**/models/registry.json', async (route) => {
      const reg = JSON.parse(readFileSync(join(REPO, 'models/registry.json'), 'utf8'));
      reg.models.inception5h.zipBytes = zip.length;
      route.fulfill({ status: 200, body: JSON.stringify(reg), headers: { 'content-type': 'application/json' } });
    });
    await openDemo(page, srv.base);
    await page.evaluate(() => {
      window.__progress = [];
      new MutationObserver(() => window.__progress.push(document.getElementById('model-progress-text').textContent))
        .observe(document.getElementById('model-progress-text'), { childList: true, characterData: true, subtree: true });
    });
    await page.click('#get-inception');
    await page.waitForFunction(() => window.deepdreamDemo.model.layers === 12, null, { timeout: 120_000 });
    assert.equal(asked, 1);
    const progress = await page.evaluate(() => window.__progress);
    assert.ok(progress.some((p) => /^Downloading inception5h\.zip… [\d.]+ [KM]?B of \d+\.\d MB$/.test(p)), progress.join(' | '));
    assert.equal((await page.evaluate(() => window.deepdreamDemo.model)).key, 'indexeddb://inception5h');
    assert.match(await text(page, 'model-about'), /Loaded: inception5h, Google's Inception 5h as the tutorial uses it/);
    assert.equal(await page.evaluate(() => document.getElementById('get-real').hidden), true);
    await page.setInputFiles('#image-file', { name: 'photo.png', mimeType: 'image/png', buffer: await testPng(160, 120) });
    await page.waitForFunction(() => window.deepdreamDemo.source.width === 160);
    await setSettings(page, { iterations: 1, octaves: 1, seed: 1 });
    const stats = await dreamToEnd(page);
    t.diagnostic(`downloaded stand-in, 160x120 dream: ${stats.dreamMs.toFixed(0)} ms`);
    await screenshot(page, 'get-inception-done-1280.png');
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('Get Inception 5h offline: one sentence with the link; the downloaded zip is then accepted', { skip }, async () => {
  const b = await openBrowser({ width: 390, height: 844 });
  try {
    const { page } = b;
    await page.route(OFFICIAL, (route) => route.abort('internetdisconnected'));
    await openDemo(page, srv.base);
    await page.click('#get-inception');
    await page.waitForFunction(() => !document.getElementById('get-help').hidden);
    const help = await text(page, 'get-help');
    assert.match(help, /^This browser could not download it here \(offline, or Google's server does not let pages fetch it\): download inception5h\.zip yourself, then load it/);
    assert.equal(await page.evaluate(() => document.querySelector('#get-help a').href), OFFICIAL);
    assert.ok(await visible(page, 'get-help'), 'the help is in view');
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'idle');
    assert.equal((await page.evaluate(() => window.deepdreamDemo.model)).layers, 3, 'the default model is still there');
    await screenshot(page, 'get-inception-offline-390.png');
    assert.deepEqual(b.errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch/.test(e)), []);
  } finally {
    await b.close();
  }
});

test('a model fetch-inception5h.mjs put in models/ is offered by itself', { skip: skipStandin }, async () => {
  const models = join(dir, 'models');
  execFileSync('mkdir', ['-p', models]);
  for (const f of ['default-model.pb', 'registry.json']) copyFileSync(join(REPO, 'models', f), join(models, f));
  copyFileSync(STANDIN, join(models, 'tensorflow_inception_graph.pb'));
  const local = await startServer({ models });
  const b = await openBrowser();
  try {
    const { page } = b;
    await openDemo(page, local.base);
    const options = await page.$$eval('#model-select option', (os) => os.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options.find((o) => o[0] === 'server'), ['server', 'Inception 5h (from this server)']);
    assert.equal(await page.evaluate(() => document.getElementById('get-real').hidden), true, 'no download offered');
    await page.selectOption('#model-select', 'server');
    await page.waitForFunction(() => window.deepdreamDemo.model.layers === 12, null, { timeout: 120_000 });
    assert.match(await text(page, 'model-about'), /Loaded: Inception 5h, Google's Inception 5h/);
    // chosen again after a reload
    await page.reload();
    await page.waitForFunction(() => window.deepdreamDemo && window.deepdreamDemo.model && window.deepdreamDemo.model.layers === 12, null, { timeout: 120_000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await local.close();
  }
});

test('at 1280x800 progress and downloads are in view for 4:3 and portrait photos; errors and notes stay in view', { skip }, async () => {
  const b = await openBrowser();
  try {
    const { page } = b;
    await openDemo(page, srv.base);
    for (const [w, h] of [[640, 480], [480, 640]]) {
      await page.setInputFiles('#image-file', { name: `p${w}.png`, mimeType: 'image/png', buffer: await testPng(w, h) });
      await page.waitForFunction((x) => window.deepdreamDemo.source.width === x, w);
      await page.evaluate(() => window.scrollTo(0, 0));
      for (const id of ['start', 'progress', 'status', 'download-png', 'download-jpeg']) assert.ok(await visible(page, id), `${id} at ${w}x${h}`);
      await screenshot(page, `layout-${w}x${h}-1280.png`);
    }
    // a dream runs; a photo dropped now says why nothing happens
    await setSettings(page, { iterations: 10, octaves: 4, seed: 1 });
    await page.click('#start');
    await page.waitForFunction(() => window.deepdreamDemo.state === 'running');
    await page.evaluate(async () => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'other.png', { type: 'image/png' }));
      document.getElementById('stage').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    assert.match(await text(page, 'info-text'), /A dream is running: wait for it to finish \(or Cancel it\)/);
    assert.ok(await visible(page, 'info-text'));
    await page.click('#cancel');
    await page.waitForFunction(() => window.deepdreamDemo.state !== 'running');
    // an error shown while the page is scrolled to the bottom is in view
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.setInputFiles('#model-file', { name: 'notes.pb', mimeType: 'application/octet-stream', buffer: Buffer.from('<!doctype html><p>hi') });
    await page.waitForFunction(() => !document.getElementById('error-notice').hidden, null, { timeout: 60_000 });
    assert.match(await text(page, 'error-text'), /this is an HTML or XML page, not a TensorFlow GraphDef model/);
    assert.ok(await visible(page, 'error-text'), 'the error is in view at the bottom of the page');
    await screenshot(page, 'error-in-view-1280.png');
  } finally {
    await b.close();
  }
});

test('resuming a dream whose model was forgotten names the file to load again', { skip }, async () => {
  const b = await openBrowser();
  try {
    const { page } = b;
    await openDemo(page, srv.base);
    // a model of its own (the built-in one would resume the dream by its fingerprint)
    await page.setInputFiles('#model-file', { name: 'my-model.pb', mimeType: 'application/octet-stream',
      buffer: Buffer.from(miniInception({ scale: 32, seed: 4 })) });
    await page.waitForFunction(() => window.deepdreamDemo.model.key === 'indexeddb://my-model.pb');
    await setSettings(page, { iterations: 4, octaves: 2, tileSize: 200, seed: 2 });
    await page.click('#start');
    await page.waitForFunction(() => window.deepdreamDemo.stats.checkpoints.length >= 1, null, { timeout: 60_000, polling: 20 });
    await page.reload();
    await page.waitForFunction(() => window.deepdreamDemo && window.deepdreamDemo.model && !document.getElementById('resume-offer').hidden, null, { timeout: 60_000 });
    await page.selectOption('#model-select', 'indexeddb://my-model.pb');
    await page.click('#forget-model');
    await page.waitForFunction(() => ![...document.querySelectorAll('#model-select option')].some((o) => o.value.startsWith('indexeddb://')));
    // the next visit: the model is gone from this browser, the dream is not
    await page.reload();
    await page.waitForFunction(() => window.deepdreamDemo && window.deepdreamDemo.model && !document.getElementById('resume-offer').hidden, null, { timeout: 60_000 });
    await page.click('#resume-btn');
    await page.waitForFunction(() => !document.getElementById('error-notice').hidden);
    assert.match(await text(page, 'error-text'), /this dream was made with my-model\.pb, which is not loaded here: load my-model\.pb again to resume/);
    assert.ok(await visible(page, 'error-text'));
    await screenshot(page, 'resume-forgotten-model-1280.png');
  } finally {
    await b.close();
  }
});
