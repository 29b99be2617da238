// One thread pool per wasm instance (wasm/instance_pool.c): two models and a
// threaded trainer at 8 and 16 threads on any machine (oversubscribed on small
// ones, on purpose), interleaved, give the same bytes as one thread; and
// model.free() while a dream runs is deferred until the dream settles, on both
// builds. Each case runs in a child process with a deadline, so a hang fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./lib/threads_child.mjs', import.meta.url));

function child(args, timeout = 240_000) {
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', timeout });
  assert.equal(r.signal, null, `${args.join(' ')}: killed by ${r.signal} after ${timeout} ms (a hang)\n${r.stderr}`);
  assert.equal(r.status, 0, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('two models + a trainer share the instance pool: 8 and 16 threads, interleaved, bit-identical to 1 thread', { timeout: 900_000 }, () => {
  const ref = child(['shared', '1', 'st']);
  assert.deepEqual(ref.threads, [1, 1]);
  for (const threads of ['8', '16']) {
    const got = child(['shared', threads, 'mt']);
    assert.ok(got.threads.every((t) => t > 1 && t <= 9), `threads ${got.threads}: at most PTHREAD_POOL_SIZE (8) + the caller`);
    for (const k of Object.keys(ref)) if (k !== 'threads') assert.equal(got[k], ref[k], `${threads} threads: ${k}`);
  }
});

for (const build of ['st', 'mt']) {
  test(`${build}: model.free() while its dream runs waits for the dream; other models are unharmed`, { timeout: 600_000 }, () => {
    const r = child(['free', build]);
    assert.ok(r.freedDuring, 'free() was called mid-dream');
    assert.equal(r.dream, r.reference, 'the dream finishes with the same bytes as an uninterrupted one');
    assert.ok(r.released, 'the model is released once the dream settled');
    assert.equal(r.after, 'DD_ERR_INVALID_ARGUMENT', 'the freed model refuses work');
    assert.equal(r.newDream, 'DD_ERR_INVALID_ARGUMENT', 'and new dreams');
    assert.equal(r.gradB2, r.gradB, 'another model of the same instance still computes the same gradient');
  });
}
