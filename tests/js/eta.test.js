// The dream's ETA (wasm/js/eta.js) against a dream whose iteration costs are
// known: a fixed part per iteration, a part per pixel, a set-up cost when an
// octave starts and the model's warm-up at the very start (the shape measured
// on real dreams: 1.2 us/px in the smallest octave, 0.75 in the largest). The
// estimate must be near the truth early, where time-per-fraction-done was
// 2-3x too high (0:57 shown for a 17 s dream).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtaEstimator, octavePixels } from '../../wasm/js/eta.js';

function simulate({ width, height, repeats = 4, rescale = 0.7, iterations = 10, tile = 400 }) {
  const sizes = [];
  let w = width, h = height;
  sizes.unshift([w, h]);
  for (let k = 0; k < repeats; k++) { w = Math.trunc(w * rescale); h = Math.trunc(h * rescale); sizes.unshift([w, h]); }
  const events = [];
  let t = 0.2; // the model's warm-up
  let done = 0;
  const total = sizes.reduce((s, [a, b]) => s + a * b * iterations, 0);
  const report = (octave, iteration, tileNo, n) => events.push({ t, p: { octave, numOctaves: sizes.length, iteration,
    numIterations: iterations, tile: tileNo, numTiles: n, fraction: done / total } });
  sizes.forEach(([ow, oh], octave) => {
    const n = Math.ceil(ow / tile) * Math.ceil(oh / tile);
    for (let it = 0; it < iterations; it++) {
      if (octave || it) report(octave, it, 0, 0); // the core's boundary report: (octave, it) starts
      if (it === 0) t += 0.04; // a new plan for the octave's tile sizes
      for (let k = 1; k <= n; k++) {
        const px = (ow * oh) / n;
        t += 0.0015 + 0.75e-6 * px;
        done += px;
        if (k < n) report(octave, it, k, n); // the last tile's report is the next boundary
      }
      t += 0.004; // the blurs' fixed part, std, the step
    }
  });
  report(sizes.length - 1, iterations, 0, 0);
  return { events, end: t };
}

test('octave sizes are the core\'s (truncating rescale from the full size)', () => {
  // 960x540, 4 repeats of 0.7: 672x378, 470x264, 329x184, 230x128
  assert.deepEqual(octavePixels(960, 540, 4, 0.7), [230 * 128, 329 * 184, 470 * 264, 672 * 378, 960 * 540]);
});

for (const [w, h] of [[640, 480], [1000, 1000], [960, 540]]) {
  test(`ETA within 20% of the truth from 6% done on ${w}x${h}, where time per fraction was 1.5x+ off`, () => {
    const { events, end } = simulate({ width: w, height: h });
    const eta = new EtaEstimator({ width: w, height: h, repeats: 4, rescale: 0.7, iterations: 10 });
    let worstNew = 0, oldAt3 = null, newAt3 = null;
    for (const { t, p } of events) {
      const got = eta.update(p, t);
      const truth = end - t;
      if (p.fraction < 0.03 || truth < 0.5) continue;
      if (oldAt3 === null) oldAt3 = ((t / p.fraction) * (1 - p.fraction)) / truth;
      // none while only the smallest octave was timed (a few % of the dream), then near the truth
      if (got === null) { assert.ok(p.fraction < 0.06, `no estimate at ${(p.fraction * 100).toFixed(1)}%`); continue; }
      if (newAt3 === null) newAt3 = got / truth;
      worstNew = Math.max(worstNew, Math.abs(got / truth - 1));
    }
    assert.ok(oldAt3 > 1.5, `time per fraction done, at 3%: ${oldAt3.toFixed(2)}x the truth`);
    assert.ok(worstNew < 0.2, `worst error ${(worstNew * 100).toFixed(1)}% (first estimate: ${newAt3.toFixed(2)}x)`);
  });
}

test('no estimate until it can be priced; exact on a one-octave dream; zero at the end', () => {
  const eta = new EtaEstimator({ width: 100, height: 100, repeats: 0, rescale: 0.7, iterations: 3 });
  const at = (iteration, tile, numTiles, t) => eta.update({ octave: 0, iteration, tile, numTiles }, t);
  const near = (x, y) => x !== null && Math.abs(x - y) < 1e-9;
  assert.equal(at(0, 1, 2, 0.1), null);
  assert.equal(at(1, 0, 0, 0.3), null, 'the first iteration (warm-up) is not timed');
  assert.equal(at(1, 1, 2, 0.35), null);
  assert.ok(near(at(2, 0, 0, 0.5), 0.2), 'iteration 1 took 0.2 s: one more to go');
  assert.ok(near(at(2, 1, 2, 0.6), 0.1), 'half of it done');
  assert.ok(near(at(3, 0, 0, 0.7), 0), 'done');
  const two = new EtaEstimator({ width: 1000, height: 1000, repeats: 1, rescale: 0.5, iterations: 3 });
  two.update({ octave: 0, iteration: 1, tile: 0, numTiles: 0 }, 1);
  assert.equal(two.update({ octave: 0, iteration: 2, tile: 0, numTiles: 0 }, 2), null, 'one octave measured: larger ones unknown');
});
