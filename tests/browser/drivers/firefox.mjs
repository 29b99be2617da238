// drivers/firefox.mjs — Debian firefox-esr through puppeteer-core over WebDriver BiDi (headless).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

export async function open({ binary, width, height }) {
  const profile = mkdtempSync(join(tmpdir(), 'ddw-ff-'));
  const downloadDir = mkdtempSync(join(tmpdir(), 'ddw-ff-dl-'));
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: binary, headless: true, userDataDir: profile,
    extraPrefsFirefox: { 'browser.download.dir': downloadDir, 'browser.download.folderList': 2, 'browser.download.useDownloadDir': true,
      'browser.download.always_ask_before_handling_new_types': false },
    defaultViewport: { width, height }, protocolTimeout: 3_600_000 });
  const errors = [];
  const page = (await browser.pages())[0] || await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.setViewport({ width, height });
  return {
    page,
    downloadDir,
    version: await browser.version(),
    goto: (url) => page.goto(url),
    reload: () => page.reload(),
    evaluate: (fn, arg = null) => page.evaluate(fn, arg),
    click: (sel) => page.click(sel),
    async check(sel, on = true) { if ((await page.$eval(sel, (e) => e.checked)) !== on) await page.click(sel); },
    async setFiles(sel, path) { const el = await page.$(sel); await el.uploadFile(path); },
    setViewport: (w, h) => page.setViewport({ width: w, height: h }),
    screenshot: (path) => page.screenshot({ path, fullPage: true }),
    errors: async () => [...errors],
    async close() { await browser.close().catch(() => {}); rmSync(profile, { recursive: true, force: true }); rmSync(downloadDir, { recursive: true, force: true }); },
  };
}
