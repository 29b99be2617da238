// The TF.js port in tests/bench/dream_bench.mjs blurs with tests/bench/lib/blur.mjs:
// it must be scipy's gaussian_filter (the tutorial's), checked here against the
// scipy golden files, so the benchmark compares the same arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gaussianFilter } from '../bench/lib/blur.mjs';

function golden(name) {
  const b = readFileSync(new URL(`../golden/${name}`, import.meta.url));
  assert.equal(b.toString('latin1', 0, 4), 'DDG1');
  const nd = b.readUInt32LE(8), dims = [];
  for (let i = 0; i < nd; i++) dims.push(b.readUInt32LE(12 + 4 * i));
  const off = 12 + 4 * nd;
  return { dims, data: new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length)) };
}

const CASES = [
  ['gauss_a_in.bin', 'gauss_a_s0.5.bin', [0.5, 0.5, 0.5]], ['gauss_a_in.bin', 'gauss_a_s1.7.bin', [1.7, 1.7, 1.7]],
  ['gauss_a_in.bin', 'gauss_a_s4.5.bin', [4.5, 4.5, 4.5]], ['gauss_a_in.bin', 'gauss_a_s0.5_0.5_0.bin', [0.5, 0.5, 0]],
  ['gauss_a_in.bin', 'gauss_a_s1_2.5_0.7.bin', [1, 2.5, 0.7]], ['gauss_b_in.bin', 'gauss_b_s1.7.bin', [1.7, 1.7, 1.7]],
  ['gauss_b_in.bin', 'gauss_b_s8.2.bin', [8.2, 8.2, 8.2]], ['gauss_c_in.bin', 'gauss_c_s4.5.bin', [4.5, 4.5, 4.5]],
  ['gauss_c_in.bin', 'gauss_c_s3_0_0.bin', [3, 0, 0]], ['gauss_c_in.bin', 'gauss_c_s0_2_0.bin', [0, 2, 0]],
];

test('the benchmark port blurs as scipy.ndimage.gaussian_filter does (golden files)', () => {
  for (const [inName, outName, [sh, sw, sc]] of CASES) {
    const x = golden(inName), want = golden(outName);
    const [h, w, c] = x.dims;
    const got = gaussianFilter(x.data, h, w, c, sh, sw, sc);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want.data[i]) / (1e-6 + Math.abs(want.data[i])));
    assert.ok(worst < 1e-6, `${outName}: worst relative difference ${worst}`);
  }
});
