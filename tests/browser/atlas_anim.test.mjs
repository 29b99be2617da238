// The Atlas and Animate tabs in headless Chromium: a tiny atlas to the end (tiles drawn, a channel click sets
// the Dream tab's layer and channels, a second build comes from IndexedDB), a 3-frame zoom animation with its
// PNG-zip, GIF (read back by an independent decoder) and WebM downloads, no console errors; then the stand-in
// Inception 5h's mixed4c atlas (partial) and a zoom animation, screenshotted at 1280x800 and 390x844.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { haveChromium, haveStandin, STANDIN, startServer, openBrowser, openDemo, setSettings, screenshot, testPng } from './lib.mjs';
import { decodeGif } from '../js/lib/gif_decode.js';
import { unzip } from '../../wasm/js/zip.js';
import { decodeImage } from '../../wasm/js/index.js';

const skip = !haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)';
let srv;
before(async () => { srv = await startServer(); });
after(async () => { if (srv) await srv.close(); });

async function download(page, selector) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click(selector)]);
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
}

test('the page serves the animation encoders to its import map, and nothing else of node_modules', { skip }, async () => {
  for (const [path, status] of [['/vendor/gifenc/dist/gifenc.esm.js', 200], ['/vendor/webm-muxer/build/webm-muxer.mjs', 200],
    ['/vendor/playwright-core/package.json', 404], ['/vendor/', 404]]) {
    const r = await fetch(srv.base + path);
    assert.equal(r.status, status, path);
  }
});

test('default model: a tiny atlas, channel click, cache hit; a 3-frame animation with PNG zip, GIF and WebM', { skip }, async (t) => {
  const b = await openBrowser();
  try {
    const { page, errors } = b;
    await openDemo(page, srv.base);
    await page.setInputFiles('#image-file', { name: 'small.png', mimeType: 'image/png', buffer: await testPng(160, 120) });
    await page.waitForFunction(() => window.deepdreamDemo.source.width === 160);
    await setSettings(page, { iterations: 2, octaves: 1, seed: 2 });

    await page.click('#tab-atlas');
    await page.evaluate(() => window.deepdreamDemo.atlasReady());
    const layer = await page.$eval('#atlas-layer', (s) => s.value);
    await page.fill('#atlas-size', '32');
    await page.fill('#atlas-iterations', '2');
    await page.fill('#atlas-octaves', '0');
    await page.click('#atlas-start');
    await page.waitForFunction(() => window.deepdreamDemo.atlas.stats.complete || window.deepdreamDemo.atlas.stats.lastError, null, { timeout: 180_000, polling: 200 });
    let st = await page.evaluate(() => ({ ...window.deepdreamDemo.atlas.stats }));
    assert.equal(st.lastError, null);
    const tiles = await page.$$eval('.atlas-tile', (bs) => bs.map((x) => ({ pending: x.classList.contains('pending'), disabled: x.disabled })));
    assert.ok(tiles.length > 1);
    assert.equal(st.tiles, tiles.length);
    assert.ok(tiles.every((t) => !t.pending && !t.disabled), 'every tile drawn and clickable');
    const lit = await page.$$eval('.atlas-tile canvas', (cs) => cs.slice(0, 3).map((c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2]; return s; }));
    assert.ok(lit.every((s) => s > 0), 'tiles are drawn');
    // a second build is the cached atlas
    await page.click('#atlas-start');
    await page.waitForFunction(() => window.deepdreamDemo.atlas.stats.runs === 2 && (window.deepdreamDemo.atlas.stats.complete || window.deepdreamDemo.atlas.stats.lastError), null, { timeout: 60_000 });
    st = await page.evaluate(() => ({ ...window.deepdreamDemo.atlas.stats }));
    assert.equal(st.cached, tiles.length);
    // clicking channel 1 makes it the Dream tab's channel
    await page.click('.atlas-tile[data-channel="1"]');
    assert.equal(await page.getAttribute('#tab-dream', 'aria-selected'), 'true');
    assert.equal(await page.inputValue('#channels'), '1');
    assert.equal(await page.inputValue('#objective'), `channel(${layer},1)`, 'the objective its tile was dreamed with');
    const layerSel = await page.inputValue('#layer');
    assert.ok(layerSel === layer || /^\d+$/.test(layerSel), layerSel);

    await page.click('#tab-animate');
    await page.evaluate(() => window.deepdreamDemo.animateReady());
    await page.fill('#anim-frames', '3');
    await page.fill('#anim-zoom', '1.2');
    await page.fill('#anim-size', '96');
    await page.click('#anim-start');
    await page.waitForFunction(() => window.deepdreamDemo.animate.stats.complete || window.deepdreamDemo.animate.stats.lastError, null, { timeout: 180_000, polling: 200 });
    const an = await page.evaluate(() => ({ ...window.deepdreamDemo.animate.stats }));
    assert.equal(an.lastError, null);
    assert.equal(an.frames, 3);
    assert.equal(await page.$$eval('#anim-strip canvas', (cs) => cs.length), 3);

    const zip = await download(page, '#anim-zip');
    assert.equal(zip.name, 'deepdream-zoom-frames.zip');
    const files = unzip(new Uint8Array(zip.bytes)); // the project's CRC-checking zip reader
    assert.deepEqual([...files.keys()].sort(), ['frame-0000.png', 'frame-0001.png', 'frame-0002.png']);
    const first = await files.get('frame-0000.png').read();
    const png = await decodeImage(first);
    assert.deepEqual([png.width, png.height], [96, 72]);

    const gif = await download(page, '#anim-gif');
    const g = decodeGif(new Uint8Array(gif.bytes));
    assert.deepEqual([g.width, g.height, g.frames.length], [96, 72, 3]);
    assert.equal(g.frames[0].delay, 130); // 8 frames/s -> 125 ms, in GIF's 10 ms units

    const webmMissing = await page.evaluate(() => window.deepdreamDemo.animate.stats.webm);
    t.diagnostic(webmMissing ? `WebM: ${webmMissing}` : 'WebM: encoded through WebCodecs');
    if (webmMissing) {
      assert.ok(await page.isDisabled('#anim-webm'));
      assert.match(await page.textContent('#anim-webm-note'), /WebM/);
    } else {
      const webm = await download(page, '#anim-webm');
      assert.deepEqual([...webm.bytes.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], 'an EBML (WebM) file');
      assert.ok(webm.bytes.includes(Buffer.from('V_VP8')), 'with a VP8 track');
    }
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
  }
});

test('stand-in Inception 5h: mixed4c atlas (partial) and a zoom animation, screenshots at 1280x800 and 390x844', { skip: skip || (!haveStandin && 'no ../shared stand-in model') }, async (t) => {
  const b = await openBrowser();
  try {
    const { page, errors } = b;
    await openDemo(page, srv.base);
    await page.setInputFiles('#model-file', STANDIN);
    await page.waitForFunction(() => window.deepdreamDemo.model.layers === 12 && document.body.dataset.state === 'idle', null, { timeout: 180_000 });
    await page.click('#tab-atlas');
    await page.evaluate(() => window.deepdreamDemo.atlasReady());
    assert.equal(await page.inputValue('#atlas-layer'), 'mixed4c');
    await page.fill('#atlas-size', '64'); // the other fields keep their defaults (ATLAS_DEFAULTS)
    const t0 = Date.now();
    await page.click('#atlas-start');
    await page.waitForFunction(() => window.deepdreamDemo.atlas.stats.tiles >= 1, null, { timeout: 120_000, polling: 100 });
    t.diagnostic(`mixed4c in the page: first channel after ${Date.now() - t0} ms`);
    await page.waitForFunction(() => window.deepdreamDemo.atlas.stats.tiles >= 40 || window.deepdreamDemo.atlas.stats.lastError, null, { timeout: 600_000, polling: 200 });
    t.diagnostic(`40 channels after ${Date.now() - t0} ms`);
    await screenshot(page, 'atlas-mixed4c-desktop-1280x800.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'atlas-mixed4c-phone-390x844.png');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('#atlas-cancel');
    await page.waitForFunction(() => /^Cancelled at/.test(document.getElementById('atlas-status').textContent), null, { timeout: 60_000 });
    // a channel of the atlas into the Dream tab, then its zoom movie
    await page.click('.atlas-tile[data-channel="6"]');
    assert.equal(await page.inputValue('#channels'), '6');
    await setSettings(page, { iterations: 10, stepSize: 6, octaves: 2, seed: 1 });
    await page.click('#tab-animate');
    await page.evaluate(() => window.deepdreamDemo.animateReady());
    await page.fill('#anim-frames', '4');
    await page.fill('#anim-size', '192');
    await page.click('#anim-start');
    await page.waitForFunction(() => window.deepdreamDemo.animate.stats.complete || window.deepdreamDemo.animate.stats.lastError, null, { timeout: 600_000, polling: 200 });
    assert.equal(await page.evaluate(() => window.deepdreamDemo.animate.stats.lastError), null);
    await screenshot(page, 'animate-desktop-1280x800.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'animate-phone-390x844.png');
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
  }
});
