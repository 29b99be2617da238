// Helpers for the kill -9 tests (kill_saves.test.js): start a child, wait for
// a moment inside one of its saves, SIGKILL it there.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A seeded generator of uniform numbers in [0, 1) (the kill points vary with timing anyway). */
export function uniform(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Spawns `cmd args`; resolves {code, signal, stdout, stderr} on exit. `child.done` is that promise. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let stdout = '', stderr = '';
  child.stdout.on('data', (b) => { stdout += b; child.emit('line-data', stdout); });
  child.stderr.on('data', (b) => { stderr += b; });
  child.done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return child;
}

/** Resolves once the child's stdout matches `re` (or it exits). */
export function waitOutput(child, re) {
  return new Promise((resolve) => {
    const check = (s) => { if (re.test(s)) { child.off('line-data', check); resolve(true); } };
    child.on('line-data', check);
    child.done.then(() => resolve(false));
  });
}

const alive = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
};
const spin = (us) => { const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000)); while (process.hrtime.bigint() < end); };

/**
 * Busy-polls until `changed()` is true (a write has begun), then spins
 * `afterUs` microseconds and SIGKILLs `pid`. Synchronous, so the kill lands
 * within microseconds of the change. Returns true when it killed inside the
 * window, false when the child exited or `timeoutMs` passed first.
 */
export function killWhen(pid, changed, afterUs = 0, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (changed()) break;
    if ((i & 63) === 0 && (!alive(pid) || Date.now() > end)) return false;
  }
  spin(afterUs);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return false;
  }
  return true;
}

/** A snapshot of a file (inode, size, mtime) to compare, or null when it is absent. */
export function fileId(p) {
  try {
    const s = statSync(p, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return null;
  }
}

/** The entries of `dir` that look like temporaries (".tmp-", ".old-", ".del-" with pid-ms-rand), recursively one level. */
export function temporaries(dir) {
  const out = [];
  const re = /\.(tmp|old|del)-\d+-\d{10,}-[a-z0-9]+$/;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (re.test(e.name)) out.push(e.name);
    else if (e.isDirectory()) for (const f of readdirSync(`${dir}/${e.name}`)) if (re.test(f)) out.push(`${e.name}/${f}`);
  }
  return out;
}
