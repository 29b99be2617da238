#!/usr/bin/env node
// run.mjs — runs the browser tests (tests/browser/*.test.mjs) with node's test
// runner, one file at a time; prints node's usual "# pass N / # fail N" lines.
// The full demo suite runs in Chromium (/usr/bin/chromium or $CHROMIUM_PATH,
// playwright-core); engines.test.mjs runs the key tests in Firefox (firefox-esr)
// and WebKit (WebKitWebDriver, under its own Xvfb) — and in Chromium too with
// DD_ENGINES=chromium,firefox,webkit. A missing engine's tests skip with a note;
// the worker-protocol tests (Node worker_threads) always run.
//   node tests/browser/run.mjs [--test-name-pattern=...] [file.test.mjs ...]
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ENGINES, skipReason } from './drivers/index.mjs';

const dir = fileURLToPath(new URL('.', import.meta.url));
process.env.DD_ENGINES ??= 'firefox,webkit'; // Chromium has the full suite; CI time stays small
for (const name of Object.keys(ENGINES)) {
  const why = skipReason(name);
  console.log(`note: ${name}: ${why ? `skipped: ${why}` : `${ENGINES[name].binary}`}`);
}
const args = process.argv.slice(2);
const picked = args.filter((a) => a.endsWith('.test.mjs')).map((f) => join(dir, f.replace(/^.*\//, '')));
const files = picked.length ? picked : readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(dir, f));
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...args.filter((a) => !a.endsWith('.test.mjs')), ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
