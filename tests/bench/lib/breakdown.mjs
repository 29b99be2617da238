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

/** Runs one dream to the end; returns {wall, core, js, gradient, smooth, ..., octaves} in ms; octaves: the
    gradient time of each octave ({size: 'WxH', gradient}), read from the progress events' msGradient where the
    octave changes (an event's figures cover the work up to it). */
export async function timedDream(dream, model, image, options) {
  let last = null;
  const octaves = [];
  const onProgress = (p) => {
    const o = octaves[octaves.length - 1];
    if (!o || o.octave !== p.octave) octaves.push({ octave: p.octave, size: `${p.imageWidth}x${p.imageHeight}`, from: last ? last.msGradient : 0, to: p.msGradient });
    else o.to = p.msGradient;
    last = p;
  };
  const t0 = performance.now();
  await dream(model, image, { ...options, onProgress }).result;
  const wall = performance.now() - t0;
  const r = { wall, core: last.msCore, js: wall - last.msCore };
  r.octaves = octaves.map((o) => ({ size: o.size, gradient: o.to - o.from }));
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

/** Prints each octave's gradient time (the best over runs) per thread count, and the speed-up from the first
    thread count to the others. runsByThreads: Map thread count -> timedDream results of one image. */
export function printOctaves(name, runsByThreads) {
  const counts = [...runsByThreads.keys()];
  const best = new Map(counts.map((n) => {
    const runs = runsByThreads.get(n);
    return [n, runs[0].octaves.map((_, i) => Math.min(...runs.map((x) => (x.octaves[i] ? x.octaves[i].gradient : Infinity))))];
  }));
  const sizes = runsByThreads.get(counts[0])[0].octaves.map((o) => o.size);
  console.log(`${name}: gradient ms per octave (best of the runs)${counts.slice(1).map((n) => `, speed-up x${counts[0]} -> x${n}`).join('')}`);
  sizes.forEach((size, i) => {
    const t = counts.map((n) => best.get(n)[i]);
    console.log(`  ${size}: ${counts.map((n, j) => `x${n} ${t[j].toFixed(0)}`).join(', ')}${t.slice(1).map((v) => ` (${(t[0] / v).toFixed(2)}x)`).join('')}`);
  });
}
