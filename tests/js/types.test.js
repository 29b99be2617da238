// index.d.ts against the code: tsc --strict checks an example that uses every
// public return value (types/api_example.js), and the same example, run here,
// checks each value has the declared shape — in process and through a worker.
// A second file (types/wrong_usage.js) must fail to type-check on exactly the
// lines where the old declarations disagreed with the code.
// Needs the `typescript` package (a devDependency; also found through NODE_PATH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('./types/', import.meta.url));
let tsc = null;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch { /* reported by the skips below */ }
const noTs = tsc ? false : 'typescript is not installed (add it as a devDependency, or put it on NODE_PATH)';
const runTsc = (config) => spawnSync(process.execPath, [tsc, '-p', join(here, config)], { encoding: 'utf8' });

test('tsc --strict accepts the example that uses every public return value', { skip: noTs }, () => {
  const r = runTsc('tsconfig.json');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('tsc --strict rejects the usages the code does not support, line by line', { skip: noTs }, () => {
  const r = runTsc('tsconfig.wrong.json');
  const lines = [...r.stdout.matchAll(/wrong_usage\.js\((\d+),\d+\): error/g)].map((m) => Number(m[1]));
  assert.deepEqual([...new Set(lines)], [8, 9, 10, 11, 12, 13], r.stdout);
});

test('the example\'s values have their declared shapes at runtime (in process and in a worker)', async () => {
  const { main } = await import('./types/api_example.js');
  const bytes = new Uint8Array(readFileSync(new URL('../../models/default-model.pb', import.meta.url)));
  for (const worker of [false, true]) {
    const dir = mkdtempSync(join(tmpdir(), 'ddw-types-'));
    try {
      assert.equal(await main(bytes, dir, worker), worker ? 'remote' : 'local');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
