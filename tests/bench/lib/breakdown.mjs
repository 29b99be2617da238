// breakdown.mjs — where a whole dream's time goes, from the core's own phase
// clocks (dd_progress.ms_*: gradient, tile copies, std/min/max reductions,
// smoothing, image update + preview, pyramid/resize/blend) and the wall clock
// around dream() (JS: the controller, progress events, the final read-out).
// dream_bench.mjs prints it; nothing here asserts.
import { performance } from 'node:perf_hooks';

export const PHASES = [
  ['gradient', 'msGradient'], ['smooth', 'msSmooth'], ['stats', 'msStats'], ['update', 'msUpdate'],
  ['tiles', 'msTiles'], ['levels', 'msLevels'],
];

/** Runs one dream to the end; returns {wall, core, js, gradient, smooth, ...} in ms. */
export async function timedDream(dream, model, image, options) {
  let last = null;
  const t0 = performance.now();
  await dream(model, image, { ...options, onProgress: (p) => { last = p; } }).result;
  const wall = performance.now() - t0;
  const r = { wall, core: last.msCore, js: wall - last.msCore };
  for (const [name, key] of PHASES) r[name] = last[key];
  r.other = last.msCore - PHASES.reduce((a, [name]) => a + r[name], 0); // inside the core, outside the clocks
  return r;
}

/** min and spread (max - min) of xs. */
export function minSpread(xs) {
  const lo = Math.min(...xs), hi = Math.max(...xs);
  return { min: lo, spread: hi - lo };
}

const s = (ms) => (ms / 1000).toFixed(2);
const pct = (part, whole) => `${((100 * part) / whole).toFixed(1)}%`;

/** Prints a markdown table of runs (each a timedDream result), one row per (label, runs). */
export function printBreakdown(rows) {
  const cols = ['wall', ...PHASES.map(([n]) => n), 'other', 'js'];
  console.log(`\nrun | ${cols.map((c) => `${c} s`).join(' | ')} | outside gradient`);
  console.log(`---|${cols.map(() => '---').join('|')}|---`);
  for (const { label, runs } of rows) {
    const best = runs.reduce((a, b) => (b.wall < a.wall ? b : a));
    const spread = minSpread(runs.map((x) => x.wall)).spread;
    console.log(`${label} | ${s(best.wall)} (±${s(spread)}, ${runs.length} runs) | ${cols.slice(1).map((c) => `${s(best[c])} (${pct(best[c], best.wall)})`).join(' | ')} | ${pct(best.wall - best.gradient, best.wall)}`);
  }
}
