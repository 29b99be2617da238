// step_common.mjs — what the gradient-step benchmarks share: step_bench.mjs
// (Node) and step_browser.mjs (headless Chromium) take the same options and
// print the same table.

/** The common options: --reps N, --threads N, --layers a,b,c, --no-tfjs, --mt1; `arg` reads others. */
export function stepOptions(args = process.argv.slice(2)) {
  const arg = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  return {
    arg,
    has: (flag) => args.includes(flag),
    reps: Math.max(1, Number(arg('--reps', '5'))),
    threads: Math.max(2, Number(arg('--threads', '2'))),
    layers: arg('--layers', 'conv2d2,mixed3b,mixed4c,mixed5b').split(','),
    withTf: !args.includes('--no-tfjs'),
    mt1: args.includes('--mt1'),
  };
}

/** Prints rows {layer, g1, g2, f1, gm1} (ms) as a markdown table. */
export function printStepTable(rows, threads, mt1) {
  const hdr = `layer | 1-thread gradient ms | ${threads}-thread gradient ms | scaling | 1-thread forward ms${mt1 ? ' | mt build 1-thread gradient ms' : ''}`;
  console.log('\n' + hdr);
  console.log(hdr.replace(/[^|]/g, '-'));
  for (const r of rows)
    console.log(`${r.layer} | ${r.g1.toFixed(0)} | ${r.g2.toFixed(0)} | ${(r.g1 / r.g2).toFixed(2)}x | ${r.f1.toFixed(0)}${mt1 ? ` | ${r.gm1.toFixed(0)}` : ''}`);
}
