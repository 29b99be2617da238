// The Animate tab resumes after a reload (headless Chromium): a 4-frame zoom animation made once uninterrupted,
// then again with a reload in the middle of frame 2 or 3 (a checkpoint of that frame in IndexedDB, written by the
// model's worker); after the reload the tab offers "interrupted at frame k of 4", Resume finishes it, and all 4
// frames are byte-identical (SHA-256) to the uninterrupted run's — the ones made before the reload come from the
// page's frame store — the GIF has 4 frames, nothing is left behind, no console errors. "Make frames" while an
// animation is kept asks before discarding it ("Keep it" keeps it; "Make new frames" there replaces it).
// Screenshots of the offer and of the question at 1280x800 and 390x844.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { haveChromium, startServer, openBrowser, openDemo, setSettings, screenshot } from './lib.mjs';
import { decodeGif } from '../js/lib/gif_decode.js';

const skip = !haveChromium && 'no /usr/bin/chromium (apt-get install -y chromium)';
let srv;
before(async () => { srv = await startServer(); });
after(async () => { if (srv) await srv.close(); });

const animRecords = (page) => page.evaluate(async () => (await (await import('/wasm/js/index.js')).listDreams('indexeddb'))
  .filter((r) => r.animation).map((r) => ({ id: r.id, frame: r.animation.frame, fraction: r.fraction })));

test('reload during frame 2 or 3 of a zoom animation, Resume: the 4 frames of an uninterrupted run, GIF and all', { skip, timeout: 600_000 }, async (t) => {
  const b = await openBrowser();
  try {
    const { page, errors } = b;
    await openDemo(page, srv.base);
    const { width: sw, height: sh } = await page.evaluate(() => window.deepdreamDemo.source); // the built-in sample
    const [w, h] = sw >= sh ? [128, Math.round((sh * 128) / sw / 2) * 2] : [Math.round((sw * 128) / sh / 2) * 2, 128];
    // 64 px tiles on the 128 px picture: several tiles per iteration, so each frame checkpoints (every 8 tiles) mid-way
    await setSettings(page, { iterations: 8, octaves: 1, tileSize: 64, seed: 4 });
    const setup = async () => {
      await page.click('#tab-animate');
      await page.evaluate(() => window.deepdreamDemo.animateReady());
      await page.fill('#anim-frames', '4');
      await page.fill('#anim-zoom', '1.2');
      await page.fill('#anim-size', '128');
    };
    await setup();
    await page.click('#anim-start');
    await page.waitForFunction(() => window.deepdreamDemo.animate.stats.complete || window.deepdreamDemo.animate.stats.lastError, null, { timeout: 180_000, polling: 100 });
    assert.equal(await page.evaluate(() => window.deepdreamDemo.animate.stats.lastError), null);
    const want = await page.evaluate(() => window.deepdreamDemo.animate.hashes());
    assert.equal(want.length, 4);
    assert.equal(new Set(want).size, 4, 'four different frames');
    assert.deepEqual(await animRecords(page), [], 'a finished animation leaves no checkpoint');

    // the same animation again, reloaded once frame 2 or 3 (index 1 or 2) has a checkpoint of its own
    const interrupt = async () => {
      await page.click('#anim-start');
      let seen = null;
      for (const deadline = Date.now() + 120_000; !seen && Date.now() < deadline;) {
        const rs = await animRecords(page);
        seen = rs.find((r) => r.frame >= 1 && r.frame <= 2 && r.fraction > 0 && r.fraction < 1) || null;
        if (!seen) {
          if (await page.evaluate(() => window.deepdreamDemo.animate.stats.complete)) break;
          await page.waitForTimeout(30);
        }
      }
      assert.ok(seen, 'a checkpoint inside frame 2 or 3 was seen before the animation ended');
      await page.reload();
      await page.waitForFunction(() => window.deepdreamDemo && window.deepdreamDemo.model && document.body.dataset.state === 'idle', null, { timeout: 60_000 });
      assert.equal(await page.isHidden('#resume-offer'), true, 'the Dream tab does not offer an animation frame as a dream');
      // the Animate tab starts by itself and shows the offer
      await page.evaluate(() => window.deepdreamDemo.animateReady());
      await page.waitForFunction(() => { const e = document.getElementById('anim-resume'); return e && !e.hidden; }, null, { timeout: 30_000 });
      return seen;
    };
    const at = await interrupt();
    const recs = await animRecords(page);
    assert.equal(recs.length, 1);
    const k = recs[0].frame + (recs[0].fraction === 1 ? 1 : 0) + 1;
    t.diagnostic(`reloaded in frame ${at.frame + 1} at ${(at.fraction * 100).toFixed(0)}%; the saved record: frame ${recs[0].frame + 1} at ${(recs[0].fraction * 100).toFixed(0)}%`);
    assert.ok(k === 2 || k === 3, `interrupted at frame ${k}`);
    const offer = await page.textContent('#anim-resume-text');
    assert.match(offer, new RegExp(`^An animation was interrupted at frame ${k} of 4 \\(${w} × ${h} px\\)`));
    await page.click('#tab-animate');
    await screenshot(page, 'anim-resume-desktop-1280x800.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'anim-resume-phone-390x844.png');
    await page.setViewportSize({ width: 1280, height: 800 });

    // "Make frames" with an animation kept asks before discarding it; "Keep it" leaves everything as it was
    await page.click('#anim-start');
    await page.waitForSelector('#anim-replace-btns', { state: 'visible', timeout: 10_000 });
    assert.match(await page.textContent('#anim-resume-text'),
      new RegExp(`^Making new frames discards the interrupted animation \\(frame ${k} of 4, ${w} × ${h} px\\)`));
    assert.equal(await page.isHidden('#anim-offer-btns'), true);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'anim-replace-btn');
    assert.equal(await page.evaluate(() => window.deepdreamDemo.animate.stats.runs), 0, 'no animation started');
    assert.deepEqual(await animRecords(page), recs, 'the interrupted animation is still kept');
    await screenshot(page, 'anim-replace-desktop-1280x800.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'anim-replace-phone-390x844.png');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('#anim-keep-btn');
    await page.waitForSelector('#anim-offer-btns', { state: 'visible', timeout: 10_000 });
    assert.equal(await page.isHidden('#anim-replace-btns'), true);
    assert.equal(await page.textContent('#anim-resume-text'), offer);
    assert.deepEqual(await animRecords(page), recs);

    await page.click('#anim-resume-btn');
    await page.waitForFunction(() => window.deepdreamDemo.animate.stats.complete || window.deepdreamDemo.animate.stats.lastError, null, { timeout: 180_000, polling: 100 });
    assert.equal(await page.evaluate(() => window.deepdreamDemo.animate.stats.lastError), null);
    assert.equal(await page.isHidden('#anim-resume'), true);
    assert.deepEqual(await page.evaluate(() => window.deepdreamDemo.animate.hashes()), want, 'the resumed animation has the uninterrupted bytes');
    assert.equal(await page.$$eval('#anim-strip canvas', (cs) => cs.length), 4, 'the strip shows all 4 frames');
    assert.equal(await page.inputValue('#anim-frames'), '4');

    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click('#anim-gif')]);
    const g = decodeGif(new Uint8Array(readFileSync(await d.path())));
    assert.deepEqual([g.width, g.height, g.frames.length], [w, h, 4]);
    assert.deepEqual(await animRecords(page), [], 'no checkpoint left');
    const kept = await page.evaluate(() => new Promise((resolve, reject) => {
      const req = indexedDB.open('deepdream-anim');
      req.onsuccess = () => { const c = req.result.transaction('frames').objectStore('frames').count(); c.onsuccess = () => resolve(c.result); c.onerror = () => reject(c.error); };
      req.onerror = () => reject(req.error);
    }));
    assert.equal(kept, 0, 'the kept frames are removed once the animation is finished');
    assert.equal(await page.evaluate(() => window.deepdreamDemo.animate.stats.storeError), null);

    // Cancel, as the Dream tab's: nothing is left to resume
    await page.click('#anim-start');
    await page.waitForFunction(() => window.deepdreamDemo.animate.stats.frames >= 1, null, { timeout: 60_000, polling: 50 });
    await page.click('#anim-cancel');
    await page.waitForFunction(() => /^Cancelled after/.test(document.getElementById('anim-status').textContent), null, { timeout: 60_000 });
    assert.deepEqual(await animRecords(page), [], 'a cancelled animation leaves no checkpoint');
    assert.equal(await page.isHidden('#anim-resume'), true);

    // interrupted again, then replaced on purpose: "Make frames", then "Make new frames" in the question makes the
    // animation from frame 1 (the uninterrupted bytes again) and leaves only the new one's records
    const settings = async () => { // the page's fields, after a reload too
      await page.click('#tab-dream');
      await setSettings(page, { iterations: 8, octaves: 1, tileSize: 64, seed: 4 });
      await setup();
    };
    await settings();
    await interrupt();
    const old = await animRecords(page);
    assert.equal(old.length, 1);
    await settings();
    await page.click('#anim-start');
    await page.waitForSelector('#anim-replace-btns', { state: 'visible', timeout: 10_000 });
    await page.click('#anim-replace-btn');
    await page.waitForFunction(() => window.deepdreamDemo.animate.stats.complete || window.deepdreamDemo.animate.stats.lastError, null, { timeout: 180_000, polling: 100 });
    assert.equal(await page.evaluate(() => window.deepdreamDemo.animate.stats.lastError), null);
    assert.deepEqual(await page.evaluate(() => window.deepdreamDemo.animate.hashes()), want, 'the new animation, from frame 1');
    assert.deepEqual(await animRecords(page), [], 'the replaced animation\'s checkpoint is gone, and the new one finished');
    assert.equal(await page.isHidden('#anim-resume'), true);
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
  }
});
