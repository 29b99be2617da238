// drivers/index.mjs — one small page driver for the three browser engines, so
// the same tests run in each: Chromium (playwright-core, Debian chromium),
// Firefox (puppeteer-core over WebDriver BiDi, Debian firefox-esr) and WebKit
// (selenium-webdriver over classic WebDriver, Debian webkit2gtk-driver, under
// Xvfb). Every engine's session has the same methods:
//   goto(url) reload() evaluate(fn, arg) waitFor(fn, arg, {timeout})
//   click(sel) fill(sel, value) select(sel, value) check(sel, on) setFiles(sel, path)
//   setViewport(w, h) screenshot(path) shot(name) errors() close()
//   downloadDir (where the browser saves downloads) and waitForDownload(name)
// fn is serialised (fn.toString()) and run in the page; it may be async; it
// takes one JSON argument and returns JSON. errors() lists console errors and
// uncaught page errors seen so far (across reloads).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));

export const ENGINES = {
  chromium: { binary: process.env.CHROMIUM_PATH || '/usr/bin/chromium', apt: 'chromium', module: './chromium.mjs' },
  firefox: { binary: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr', apt: 'firefox-esr', module: './firefox.mjs' },
  webkit: { binary: process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver', apt: 'webkit2gtk-driver xvfb', module: './webkit.mjs' },
};

/** The engines to test: all three, or the comma-separated DD_ENGINES. */
export function engineNames() {
  const pick = process.env.DD_ENGINES ? process.env.DD_ENGINES.split(',').map((s) => s.trim()).filter(Boolean) : Object.keys(ENGINES);
  for (const n of pick) if (!ENGINES[n]) throw new Error(`DD_ENGINES: unknown engine '${n}' (chromium, firefox, webkit)`);
  return pick;
}

/** false when the engine can run here, else the reason to skip (with the package to install). */
export function skipReason(name) {
  const e = ENGINES[name];
  if (!existsSync(e.binary)) return `${e.binary} is missing (apt-get install -y ${e.apt})`;
  if (name === 'webkit' && !process.env.DISPLAY && !existsSync('/usr/bin/Xvfb')) return 'WebKitGTK needs a display: /usr/bin/Xvfb is missing (apt-get install -y xvfb)';
  return false;
}

/** Opens a fresh browser profile (empty IndexedDB) with one page of the given viewport size. */
export async function openEngine(name, { width = 1280, height = 800 } = {}) {
  const reason = skipReason(name);
  if (reason) throw new Error(`${name}: ${reason}`);
  const { open } = await import(new URL(ENGINES[name].module, import.meta.url).href);
  const session = await open({ binary: ENGINES[name].binary, width, height });
  return Object.assign(session, common(session, name));
}

// What every engine shares, built on evaluate and click.
function common(s, engine) {
  return {
    engine,
    async waitFor(fn, arg = null, { timeout = 60_000, polling = 100 } = {}) {
      const t0 = Date.now();
      const src = fn.toString();
      for (;;) {
        let v, timer;
        try {
          // one poll may not outlive 30 s (a driver can leave an evaluate unanswered across a navigation)
          v = await Promise.race([s.evaluate(async ({ src: f, arg: a }) => {
            try { return { v: await (0, eval)(`(${f})`)(a) }; } catch (e) { return { e: String(e && e.message || e) }; }
          }, { src, arg }), new Promise((resolve) => { timer = setTimeout(() => resolve({ e: 'no answer in 30 s' }), 30_000); })]);
        } catch (e) {
          v = { e: `evaluate: ${e.message}` }; // e.g. the page is navigating
        } finally {
          clearTimeout(timer);
        }
        if (v && v.v) return v.v;
        if (Date.now() - t0 > timeout) throw new Error(`${engine}: waitFor timed out after ${timeout} ms: ${src.slice(0, 200)}${v && v.e ? ` (last error: ${v.e})` : ''}`);
        await new Promise((r) => setTimeout(r, polling));
      }
    },
    /** Sets a text/number input's value as typing would end: input and change events. */
    fill(sel, value) {
      return s.evaluate(({ sel: q, value: v }) => {
        const el = document.querySelector(q);
        if (!el) throw new Error(`no element ${q}`);
        el.focus();
        el.value = v;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }, { sel, value: String(value) });
    },
    select(sel, value) { return this.fill(sel, value); },
    text(sel) { return s.evaluate((q) => document.querySelector(q).textContent, sel); },
    value(sel) { return s.evaluate((q) => document.querySelector(q).value, sel); },
    /** A file for setFiles: writes bytes to a temporary file with the given name. */
    tempFile(fileName, bytes) {
      const dir = mkdtempSync(join(tmpdir(), `ddw-${engine}-file-`));
      const p = join(dir, fileName);
      writeFileSync(p, bytes);
      return p;
    },
    /** Waits until the browser has saved a download called `name` (complete: no partial file left, and its size
        non-zero and the same on two looks 100 ms apart: WebKit creates the file under its final name empty and
        writes it after); its bytes. */
    async waitForDownload(name, { timeout = 30_000 } = {}) {
      const t0 = Date.now();
      let lastSize = -1;
      for (;;) {
        const files = readdirSync(s.downloadDir);
        const partial = files.some((f) => /\.(part|download|wkdownload|crdownload)$/i.test(f) || f.startsWith('.'));
        if (files.includes(name) && !partial) {
          const size = statSync(join(s.downloadDir, name)).size;
          if (size > 0 && size === lastSize) return readFileSync(join(s.downloadDir, name));
          lastSize = size;
        }
        if (Date.now() - t0 > timeout) throw new Error(`${engine}: no download '${name}' in ${timeout} ms (saved: ${files.join(', ') || 'nothing'})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** A screenshot named `${engine}-${name}-${width}x${height}.png` after the real viewport size. */
    async shot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const [w, h] = await s.evaluate(() => [window.innerWidth, window.innerHeight]);
      const p = join(ARTIFACTS, `${engine}-${name}-${w}x${h}.png`);
      await s.screenshot(p);
      return p;
    },
  };
}

/** The page-side error hook (for engines whose driver cannot report console errors). */
export const ERROR_HOOK = `(() => {
  const key = '__ddErrors';
  const push = (t) => { try { const a = JSON.parse(sessionStorage.getItem(key) || '[]'); a.push(t); sessionStorage.setItem(key, JSON.stringify(a)); } catch {} };
  const orig = console.error.bind(console);
  console.error = (...a) => { push('console: ' + a.map((x) => (x && x.message) || String(x)).join(' ')); orig(...a); };
  addEventListener('error', (e) => push('pageerror: ' + (e.message || (e.target && e.target.src ? 'failed to load ' + e.target.src : 'error'))), true);
  addEventListener('unhandledrejection', (e) => push('pageerror: unhandled rejection: ' + ((e.reason && e.reason.message) || e.reason)));
})();`;
