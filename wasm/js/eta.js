// eta.js — how long a dream has left, from a cost model of its iterations.
//
// The work of one tutorial iteration grows with the octave's pixels, plus a
// fixed part (tile set-up, the three blurs' edges, a new plan when an octave
// starts). Dividing the time so far by the pixel fraction done over-estimates
// early by 2–3x: the first octaves are small and pay the fixed parts most. So
// each finished iteration gives a point (pixels, seconds); a least-squares
// line seconds = a + b * pixels over the points seen (the first iteration of
// each octave apart: it carries the octave's set-up, kept as a separate
// warm-up cost) prices every iteration still to come, octave by octave, with
// the octave sizes computed as the core computes them.

/** Pixels of each octave, smallest first (the core's level_sizes: truncating rescale from the full size). */
export function octavePixels(width, height, repeats, rescale) {
  const out = [width * height];
  let w = width, h = height;
  for (let k = 0; k < repeats; k++) {
    w = Math.trunc(w * rescale);
    h = Math.trunc(h * rescale);
    out.unshift(w * h);
  }
  return out;
}

export class EtaEstimator {
  /** @param {{width: number, height: number, repeats: number, rescale: number, iterations: number}} o */
  constructor(o) {
    this.pixels = octavePixels(o.width, o.height, o.repeats, o.rescale);
    this.iterations = o.iterations;
    this.points = []; // {pixels, seconds} of iterations that were not the first of their octave
    this.warmups = []; // extra seconds of an octave's first iteration
    this.firsts = []; // {pixels, seconds} of first iterations, priced once the line is known
    this.start = null; // {octave, iteration, t}: the iteration under way and when it started
  }

  /**
   * Feeds one progress report at `t` seconds of active dreaming; returns seconds left, or null while unknown.
   * A report with numTiles 0 marks an iteration boundary: (octave, iteration) starts, the one before has ended.
   */
  update(p, t) {
    if (p.numTiles === 0) {
      const s = this.start;
      const next = s && ((p.octave === s.octave && p.iteration === s.iteration + 1) || (p.octave === s.octave + 1 && p.iteration === 0));
      if (next) (s.iteration === 0 ? this.firsts : this.points).push({ pixels: this.pixels[s.octave], seconds: t - s.t });
      this.start = { octave: p.octave, iteration: p.iteration, t };
    }
    const line = this._fit();
    // one octave size measured says nothing of how larger octaves scale: no guess rather than a 1.3-3x one
    if (!line || (line.oneSize && p.octave < this.pixels.length - 1)) return null;
    const cost = (k) => line.a + line.b * this.pixels[k];
    let warm = 0;
    if (this.firsts.length) {
      // the latest octave's set-up is the best guess for the next ones
      const f = this.firsts[this.firsts.length - 1];
      warm = Math.max(0, f.seconds - (line.a + line.b * f.pixels));
    }
    const inIteration = p.numTiles > 0 ? Math.min(1, p.tile / p.numTiles) : 0;
    let left = Math.max(0, this.iterations - p.iteration - inIteration) * cost(p.octave);
    for (let k = p.octave + 1; k < this.pixels.length; k++) left += warm + this.iterations * cost(k);
    return left;
  }

  /** seconds = a + b * pixels by least squares; through the origin (oneSize) while all points share one size. */
  _fit() {
    const pts = this.points;
    if (!pts.length) return null;
    const n = pts.length;
    let sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const { pixels: x, seconds: y } of pts) { sx += x; sy += y; sxx += x * x; sxy += x * y; }
    const den = n * sxx - sx * sx;
    if (den > 1e-9 * n * sxx) {
      const b = (n * sxy - sx * sy) / den, a = (sy - b * sx) / n;
      if (b > 0 && a >= 0) return { a, b };
    }
    return { a: 0, b: sxy / sxx, oneSize: true };
  }
}
