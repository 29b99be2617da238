// Importing the package must not take over the host Node process: the
// threaded glue installs no uncaughtException/unhandledRejection handlers
// (NODEJS_CATCH_EXIT=0, NODEJS_CATCH_REJECTION=0), and a {worker: true} model
// does not keep Node alive while it idles. Child processes with deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./lib/threads_child.mjs', import.meta.url));
const run = (mode, timeout = 120_000) => spawnSync(process.execPath, [CHILD, mode], { encoding: 'utf8', timeout });

test('an unrelated throw after loadModel (threaded build, 8 threads): exit 1, a short stderr ending in the user stack', () => {
  const r = run('throw');
  assert.equal(r.signal, null, 'hung');
  assert.equal(r.status, 1, `exit code ${r.status}\n${r.stderr.slice(0, 2000)}`);
  assert.ok(r.stderr.length < 2048, `stderr is ${r.stderr.length} characters`);
  assert.ok(!/deepdream-core/.test(r.stderr), 'no glue code in the report');
  const at = r.stderr.indexOf('Error: user boom');
  assert.ok(at >= 0, r.stderr);
  const stack = r.stderr.slice(at).split('\n').filter((l) => /^\s+at /.test(l));
  assert.match(stack[0], /userCode .*threads_child\.mjs/, 'the first frame is the user\'s');
  assert.ok(!r.stdout.includes('alive'), 'the process ended at the throw');
});

test('with a user uncaughtException handler the process lives on', () => {
  const r = run('handler');
  assert.equal(r.signal, null, 'hung');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /handled: user boom/);
  assert.match(r.stdout, /alive, model threads [2-9]/);
});

test('a {worker: true} model that is never freed lets Node exit', () => {
  const r = run('worker', 60_000);
  assert.equal(r.signal, null, 'Node was kept alive by the idle worker');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /loaded, gradient of 3072/);
});
