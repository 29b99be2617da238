// blur.mjs — scipy.ndimage.gaussian_filter (truncate 4, mode 'reflect') for an
// HxWxC float image, written as efficient plain JS for the TF.js port of the
// tutorial in dream_bench.mjs: separable, one reflected line buffer per axis
// (no modulo in the inner loop), scipy's symmetric summation in doubles, each
// axis pass rounded to float32 as scipy does for float32 arrays. Checked
// against the scipy golden files by tests/js/bench_blur.test.js, so the
// comparison measures the same arithmetic on both sides.

/** scipy's _gaussian_kernel1d: radius int(4*sigma + 0.5), weights normalised to sum 1 (doubles). */
export function gaussKernel(sigma) {
  const r = Math.floor(4 * sigma + 0.5), w = new Float64Array(r + 1);
  let s = 0;
  for (let k = -r; k <= r; k++) s += Math.exp((-0.5 / (sigma * sigma)) * k * k);
  for (let k = 0; k <= r; k++) w[k] = Math.exp((-0.5 / (sigma * sigma)) * k * k) / s;
  return w; // w[k] = weight at offset ±k
}

/** Half-sample reflection of index i into 0..n-1 ('reflect': d c b a | a b c d | d c b a). */
function reflect(i, n) {
  const p = 2 * n;
  i %= p;
  if (i < 0) i += p;
  return i < n ? i : p - 1 - i;
}

function axisPass(src, dims, axis, sigma) {
  const w = gaussKernel(sigma), r = w.length - 1;
  const n = dims[axis];
  const stride = axis === 0 ? dims[1] * dims[2] : axis === 1 ? dims[2] : 1;
  const outer = axis === 0 ? 1 : axis === 1 ? dims[0] : dims[0] * dims[1];
  const inner = axis === 0 ? dims[1] * dims[2] : axis === 1 ? dims[2] : 1;
  const blockStride = n * stride;
  const src2pad = new Int32Array(n + 2 * r); // padded position -> source index along the axis
  for (let i = 0; i < n + 2 * r; i++) src2pad[i] = reflect(i - r, n);
  const line = new Float64Array(n + 2 * r), out = new Float32Array(src.length);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const base = o * blockStride + q;
      for (let i = 0; i < n + 2 * r; i++) line[i] = src[base + src2pad[i] * stride];
      for (let i = 0; i < n; i++) {
        const c = i + r;
        let s = w[0] * line[c];
        for (let k = 1; k <= r; k++) s += w[k] * (line[c + k] + line[c - k]);
        out[base + i * stride] = s;
      }
    }
  }
  return out;
}

/** gaussian_filter(img, sigma=(sh, sw, sc)) on a float32 HxWxC image; a sigma of 0 leaves that axis alone. */
export function gaussianFilter(img, h, w, c, sh, sw, sc = sh) {
  let a = img instanceof Float32Array ? img : Float32Array.from(img);
  const dims = [h, w, c];
  [sh, sw, sc].forEach((s, axis) => { if (s > 0) a = axisPass(a, dims, axis, s); });
  return a === img ? Float32Array.from(img) : a;
}
