// lib.mjs — helpers for the browser tests: the project's own static server
// (web/server.js) on a free localhost port, Debian's Chromium through
// playwright-core (toolchain.md §5: launchPersistentContext, headless,
// --no-sandbox), console error collection, screenshots under tests/artifacts/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { samplePicture } from '../../web/samples.js';
import { createServer } from '../../web/server.js';
import { ERROR_HOOK } from './drivers/index.mjs';
import { ARGS } from './drivers/chromium.mjs';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SHARED = process.env.DD_SHARED_DIR || fileURLToPath(new URL('../../../shared', import.meta.url));
export const STANDIN = join(SHARED, 'models', 'inception5h-standin.pb');
export const ARTIFACTS = join(REPO, 'tests', 'artifacts');
export const haveChromium = existsSync(CHROMIUM);
export const haveStandin = existsSync(STANDIN);

/**
 * Starts web/server.js on 127.0.0.1:0. errorHook: the demo page gets ERROR_HOOK
 * (drivers/index.mjs) as its first script, for engines whose driver reports no console errors.
 */
export async function startServer({ isolation = true, models, errorHook = false } = {}) {
  const server = createServer({ shared: existsSync(SHARED) ? SHARED : null, isolation, models });
  if (errorHook) injectErrorHook(server, isolation);
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const base = `http://127.0.0.1:${server.address().port}`;
  return { server, base, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) };
}

function injectErrorHook(server, isolation) {
  const [serve] = server.listeners('request');
  server.removeAllListeners('request');
  const headers = (type, length) => ({ 'Content-Type': type, 'Content-Length': length, 'Cache-Control': 'no-cache',
    'Cross-Origin-Resource-Policy': 'same-origin',
    ...(isolation ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}) });
  server.on('request', (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/__dd_error_hook.js') {
      res.writeHead(200, headers('text/javascript', Buffer.byteLength(ERROR_HOOK)));
      return res.end(ERROR_HOOK);
    }
    if (req.method === 'GET' && (path === '/web/' || path === '/web/index.html')) {
      const html = Buffer.from(readFileSync(join(REPO, 'web', 'index.html'), 'utf8')
        .replace('<head>', '<head>\n  <script src="/__dd_error_hook.js"></script>'));
      res.writeHead(200, headers('text/html; charset=utf-8', html.length));
      return res.end(html);
    }
    return serve(req, res);
  });
}


/**
 * A fresh browser profile (empty IndexedDB) with one page. Collects console
 * errors and page errors in `errors`; a long-task observer and an event-loop
 * lag probe are installed before any page script runs.
 */
export async function openBrowser({ width = 1280, height = 800 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'ddw-chr-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width, height }, acceptDownloads: true,
  });
  const errors = [];
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('crash', () => errors.push('page crashed'));
  };
  context.on('page', watch);
  await context.addInitScript(() => {
    window.__perf = { longTasks: [], lagMax: 0, measuring: false };
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (window.__perf.measuring) window.__perf.longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: false });
    } catch { /* no longtask support */ }
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (window.__perf.measuring) window.__perf.lagMax = Math.max(window.__perf.lagMax, now - last - 20);
      last = now;
    }, 20);
  });
  const page = context.pages()[0] || await context.newPage();
  watch(page);
  return {
    context, page, errors,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the demo page and waits until it is ready (model loaded). */
export async function openDemo(page, base, path = '/web/') {
  await page.goto(base + path);
  await page.waitForFunction(() => window.deepdreamDemo && window.deepdreamDemo.model && document.body.dataset.state !== 'loading',
    null, { timeout: 60_000 }).catch(async (e) => {
    const where = await page.evaluate(() => window.deepdreamDemo && window.deepdreamDemo.initStage).catch(() => 'unknown');
    throw new Error(`${e.message} (the page's init() was at '${where}')`);
  });
  await page.evaluate(() => window.deepdreamDemo.ready);
}

/** Sets the dream settings through the page's inputs. */
export async function setSettings(page, s) {
  const ids = { iterations: '#iterations', stepSize: '#step', tileSize: '#tile', octaves: '#octaves', rescale: '#rescale', blend: '#blend', seed: '#seed', channels: '#channels' };
  for (const [k, v] of Object.entries(s)) {
    if (k === 'layer') await page.selectOption('#layer', String(v));
    else await page.fill(ids[k], String(v));
  }
}

/** Clicks Start and waits for the dream to end; returns the page's stats. */
export async function dreamToEnd(page, { timeout = 180_000 } = {}) {
  const before = await page.evaluate(() => window.deepdreamDemo.stats.doneCount);
  await page.click('#start');
  await page.waitForFunction((n) => window.deepdreamDemo.stats.doneCount > n || window.deepdreamDemo.stats.lastError,
    before, { timeout, polling: 100 });
  const stats = await page.evaluate(() => JSON.parse(JSON.stringify(window.deepdreamDemo.stats)));
  if (stats.lastError) throw new Error(`the page reported: ${stats.lastError.message}`);
  return stats;
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A PNG of a smooth colourful test picture, encoded by the project's own encoder. */
export async function testPng(width, height) {
  const { encodeImage } = await import('../../wasm/js/index.js');
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3;
    data[i] = 128 + 100 * Math.sin(x / 13 + y / 29);
    data[i + 1] = 128 + 100 * Math.cos(y / 11);
    data[i + 2] = (x * 255) / width;
  }
  return Buffer.from(await encodeImage({ data, width, height, channels: 3 }, 'png'));
}

/** Drops a file on the page as a user would; the File comes from a scratch input (fast for 50 MB, unlike an evaluate argument). */
export async function dropFile(page, path) {
  await page.evaluate(() => {
    const i = Object.assign(document.createElement('input'), { type: 'file', id: 'scratch-file', hidden: true });
    document.body.append(i);
  });
  await page.setInputFiles('#scratch-file', path);
  await page.evaluate(() => {
    const i = document.getElementById('scratch-file');
    const dt = new DataTransfer();
    dt.items.add(i.files[0]);
    i.remove();
    document.getElementById('stage').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
}

/** SHA-256 of the page's built-in landscape (RGBA, as the page sends it) dreamed in Node with the page's options. */
export async function nodeLandscapeHash(options) {
  const { loadModel, dream } = await import('../../wasm/js/index.js');
  const p = samplePicture(640, 400), rgba = new Uint8Array(640 * 400 * 4);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) rgba.set([p.data[j], p.data[j + 1], p.data[j + 2], 255], i);
  const m = await loadModel(join(REPO, 'models', 'default-model.pb'), { threads: 1 });
  try {
    const r = await dream(m, { data: rgba, width: 640, height: 400, channels: 4 }, options).result;
    return createHash('sha256').update(r.data).digest('hex');
  } finally {
    m.free();
  }
}
