// Every benchmark answers --help with its usage (its header comment) and exits
// at once, before it loads a model, starts a browser or runs anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../bench/', import.meta.url));
const benches = readdirSync(dir).filter((f) => f.endsWith('.mjs'));

test('every benchmark has a --help', () => {
  assert.ok(benches.length >= 10, `${benches.length} benchmarks`);
  for (const f of benches) {
    for (const flag of ['--help', '-h']) {
      const r = spawnSync(process.execPath, [dir + f, flag], { encoding: 'utf8', timeout: 30000 });
      assert.equal(r.status, 0, `${f} ${flag}: exit ${r.status} ${r.signal || ''} ${r.stderr}`);
      assert.ok(r.stdout.startsWith(`${f} — `), `${f} ${flag}: ${JSON.stringify(r.stdout.slice(0, 80))}`);
      assert.ok(r.stdout.split('\n').length >= 3, `${f} ${flag}: a one-line usage`);
    }
  }
});
