// drivers/chromium.mjs — Debian chromium through playwright-core (headless).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Chromium's flags for the tests (lib.mjs's openBrowser uses them too). */
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function open({ binary, width, height }) {
  const profile = mkdtempSync(join(tmpdir(), 'ddw-chr-'));
  const downloadDir = mkdtempSync(join(tmpdir(), 'ddw-chr-dl-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: binary, headless: true, args: ARGS, viewport: { width, height },
    acceptDownloads: true });
  const errors = [];
  const watch = (p) => {
    p.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    p.on('crash', () => errors.push('page crashed'));
    p.on('download', (dl) => { dl.saveAs(join(downloadDir, dl.suggestedFilename())).catch((e) => errors.push(`download: ${e.message}`)); });
  };
  const page = context.pages()[0] || await context.newPage();
  watch(page);
  return {
    page,
    downloadDir,
    version: context.browser()?.version() ?? 'chromium',
    goto: (url) => page.goto(url),
    reload: () => page.reload(),
    evaluate: (fn, arg = null) => page.evaluate(fn, arg),
    click: (sel) => page.click(sel),
    check: (sel, on = true) => (on ? page.check(sel) : page.uncheck(sel)),
    setFiles: (sel, path) => page.setInputFiles(sel, path),
    setViewport: (w, h) => page.setViewportSize({ width: w, height: h }),
    screenshot: (path) => page.screenshot({ path, fullPage: true }),
    errors: async () => [...errors],
    async close() { await context.close().catch(() => {}); rmSync(profile, { recursive: true, force: true }); rmSync(downloadDir, { recursive: true, force: true }); },
  };
}
