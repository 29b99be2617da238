// The Dream tab's objective controls (web/objective-ui.js) in headless Chromium: a guided dream of the stand-in
// Inception 5h (guide through the file input, decoded and dreamed in the Worker) differs from the unguided one with
// the same settings; an objective expression with transforms and the Laplacian gradient dreams too; a bad
// expression is reported by the page with the core's sentence. Screenshots in tests/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  haveChromium, haveStandin, STANDIN, startServer, openBrowser, openDemo, setSettings, dreamToEnd, screenshot, testPng,
} from './lib.mjs';

const skip = (!haveChromium && 'no /usr/bin/chromium') || (!haveStandin && 'no ../shared stand-in model');
let srv;
before(async () => { srv = await startServer(); });
after(async () => { if (srv) await srv.close(); });

/** A PNG unlike testPng's: stripes and rings. */
async function guidePng(width, height) {
  const { encodeImage } = await import('../../wasm/js/index.js');
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3, r = Math.hypot(x - width / 2, y - height / 2);
    data[i] = (x % 12 < 6) * 230;
    data[i + 1] = 128 + 120 * Math.sin(r / 3);
    data[i + 2] = (y % 9 < 3) * 200;
  }
  return Buffer.from(await encodeImage({ data, width, height, channels: 3 }, 'png'));
}

test('guided dream, objective with transforms, and a bad objective in the page', { skip }, async (t) => {
  const b = await openBrowser();
  try {
    const { page } = b;
    await openDemo(page, srv.base);
    await page.setInputFiles('#model-file', STANDIN);
    await page.waitForFunction(() => window.deepdreamDemo.model.layers === 12 && document.body.dataset.state === 'idle', null, { timeout: 120_000 });
    await page.setInputFiles('#image-file', { name: 'photo.png', mimeType: 'image/png', buffer: await testPng(240, 180) });
    await page.waitForFunction(() => window.deepdreamDemo.source.width === 240);
    await setSettings(page, { layer: 7, iterations: 4, octaves: 2, tileSize: 256, seed: 3 }); // mixed4c
    await dreamToEnd(page);
    const plain = await page.evaluate(() => window.deepdreamDemo.resultHash());

    await page.setInputFiles('#guide-file', { name: 'guide.png', mimeType: 'image/png', buffer: await guidePng(160, 120) });
    await page.waitForFunction(() => !document.getElementById('guide-thumb').hidden);
    assert.match(await page.textContent('#guide-name'), /guide\.png \(160×120\)/);
    const t0 = Date.now();
    await dreamToEnd(page);
    t.diagnostic(`guided 240x180 mixed4c, 4 iterations, 2 octaves: ${Date.now() - t0} ms`);
    const guided = await page.evaluate(() => window.deepdreamDemo.resultHash());
    assert.notEqual(guided, plain, 'the guide changes the dream');
    assert.ok(await page.evaluate(() => window.deepdreamDemo.changedFraction()) > 0.3);
    await screenshot(page, 'guided-desktop-1280x800.png');

    await page.click('#guide-clear');
    await page.fill('#objective', '0.5*channel(mixed4c,7)+neuron(mixed4d,12)');
    await page.fill('#jitter', '8');
    await page.fill('#rotate', '10');
    await page.selectOption('#gradient-mode', 'laplacian');
    await dreamToEnd(page);
    const expr = await page.evaluate(() => window.deepdreamDemo.resultHash());
    assert.ok(expr !== plain && expr !== guided);
    await screenshot(page, 'objective-laplacian-desktop-1280x800.png');

    await page.fill('#objective', 'channel(mixed4c 7)');
    await assert.rejects(dreamToEnd(page), /at character 17 of 'channel\(mixed4c 7\)'/);
    assert.deepEqual(b.errors.filter((e) => !/channel\(mixed4c 7\)/.test(e)), []);
  } finally {
    await b.close();
  }
});
