#!/usr/bin/env node
// run.mjs — runs the browser tests (tests/browser/*.test.mjs) with node's test
// runner, one file at a time; prints node's usual "# pass N / # fail N" lines.
// Without /usr/bin/chromium (or $CHROMIUM_PATH) the page tests skip themselves
// with a note, and the worker-protocol tests (Node worker_threads) still run.
//   node tests/browser/run.mjs [--test-name-pattern=...]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const dir = fileURLToPath(new URL('.', import.meta.url));
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(chromium)) console.log(`note: ${chromium} is missing: the page tests are skipped (apt-get install -y chromium)`);
const files = readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(dir, f));
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
