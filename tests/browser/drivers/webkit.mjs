// drivers/webkit.mjs — WebKitGTK (Safari's engine) through Debian's WebKitWebDriver
// over classic WebDriver (selenium-webdriver), its MiniBrowser under Xvfb when
// there is no display. Classic WebDriver reports no console messages: the test
// server injects ERROR_HOOK (drivers/index.mjs) into HTML pages, which keeps
// console errors and uncaught errors in sessionStorage; errors() reads them.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, By } from 'selenium-webdriver';

const MINIBROWSER = process.env.WEBKIT_BROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Starts Xvfb on a free display number; resolves to {display, stop}. */
function startXvfb() {
  return new Promise((resolve, reject) => {
    const x = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1920x1200x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    x.once('error', reject);
    x.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before it was ready`)));
    x.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ display: `:${out.trim()}`, stop: () => x.kill() });
    });
  });
}

async function waitForDriver(url, deadline = 20_000) {
  const t0 = Date.now();
  for (;;) {
    try { if ((await fetch(`${url}/status`)).ok) return; } catch { /* not yet */ }
    if (Date.now() - t0 > deadline) throw new Error(`WebKitWebDriver did not answer at ${url} in ${deadline} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function open({ binary, width, height }) {
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  const port = await freePort();
  // downloads go to XDG_DOWNLOAD_DIR (GLib reads it from $XDG_CONFIG_HOME/user-dirs.dirs): a directory of this session's
  const home = mkdtempSync(join(tmpdir(), 'ddw-wk-'));
  const downloadDir = join(home, 'downloads');
  mkdirSync(join(home, 'config'), { recursive: true });
  mkdirSync(downloadDir);
  writeFileSync(join(home, 'config', 'user-dirs.dirs'), `XDG_DOWNLOAD_DIR="${downloadDir}"\n`);
  const env = { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), ...(xvfb ? { DISPLAY: xvfb.display } : {}) };
  const drv = spawn(binary, [`--port=${port}`], { stdio: 'ignore', env });
  const stop = () => { drv.kill(); xvfb?.stop(); rmSync(home, { recursive: true, force: true }); };
  let d;
  try {
    await waitForDriver(`http://127.0.0.1:${port}`);
    d = await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
    }).build();
    await d.manage().setTimeouts({ script: 3_600_000, pageLoad: 120_000 });
  } catch (e) {
    stop();
    throw e;
  }
  // classic WebDriver sizes the window: set it, then correct by what the viewport came out as.
  // MiniBrowser's window is at least 447 px wide (its GTK header bar): narrower viewports come out 447 px wide.
  async function setViewport(w, h) {
    await d.manage().window().setRect({ width: w, height: h });
    const [iw, ih] = await d.executeScript('return [innerWidth, innerHeight]');
    if (iw !== w || ih !== h) await d.manage().window().setRect({ width: 2 * w - iw, height: 2 * h - ih });
  }
  await setViewport(width, height);
  const evaluate = async (fn, arg = null) => {
    const r = await d.executeAsyncScript(`const [src, arg, done] = arguments;
      Promise.resolve().then(() => (0, eval)('(' + src + ')')(arg)).then((v) => done({ ok: true, v: v === undefined ? null : v }),
        (e) => done({ ok: false, e: String((e && e.message) || e) }));`, fn.toString(), arg);
    if (!r.ok) throw new Error(`evaluate: ${r.e}`);
    return r.v;
  };
  const version = (await d.getCapabilities()).get('browserVersion');
  return {
    driver: d,
    downloadDir,
    version: `WebKitGTK ${version}`,
    goto: (url) => d.get(url),
    reload: () => d.navigate().refresh(),
    evaluate,
    click: async (sel) => (await d.findElement(By.css(sel))).click(),
    async check(sel, on = true) { const el = await d.findElement(By.css(sel)); if ((await el.isSelected()) !== on) await el.click(); },
    setFiles: async (sel, path) => (await d.findElement(By.css(sel))).sendKeys(path),
    setViewport,
    async screenshot(path) {
      // classic WebDriver shoots the viewport: the top of the page, at the viewport's size
      // (scrolling is asynchronous in WebKit: wait two frames and a moment before the shot)
      await evaluate(() => { window.scrollTo(0, 0); return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 200)))); });
      writeFileSync(path, Buffer.from(await d.takeScreenshot(), 'base64'));
    },
    errors: () => evaluate(() => JSON.parse(sessionStorage.getItem('__ddErrors') || '[]')).catch((e) => [`errors(): ${e.message}`]),
    async close() { await d.quit().catch(() => {}); stop(); },
  };
}
