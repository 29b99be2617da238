#!/usr/bin/env node
// make-default-model.mjs — writes models/default-model.pb, the small model
// that works offline (no download): "gabor-dream-v1", a three-stage conv net
// whose filters are designed, not learned:
//   edges    7x7/2, 3 -> 24: Gabor filters, 12 orientations x 2 phases, on
//            luminance, plus 8 colour-opponent blobs (32 channels in all)
//   curves   5x5,  32 -> 48: pairs of neighbouring orientations offset
//            along their normal (corners, arcs), seeded
//   textures 3x3,  48 -> 64: seeded sparse mixtures (repeating motifs)
// each followed by BiasAdd + Relu and a 3x3/2 MaxPool between stages. It is
// written with the same encoding as Inception 5h's GraphDef, so it loads
// through exactly the same code path. Deterministic: same bytes every run.
// The real Inception 5h gives far richer dreams: see README.md.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { attr, writeGraphDef } from './lib/graphdef.js';

function rng(seed) {
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 40n) / 16777216;
  };
}

export function defaultModel() {
  const rand = rng(20261121);
  const dev = '/cpu:0';
  const consts = [], ops = [];
  const fconst = (name, dims, values) => consts.push({ name, op: 'Const', device: dev,
    attr: { dtype: attr.type(1), value: attr.tensor(1, dims, values) } });
  const conv = (name, x, k, cin, cout, stride, w, b) => {
    fconst(`${name}_w`, [k, k, cin, cout], w);
    fconst(`${name}_b`, [cout], b);
    ops.push({ name: `${name}_pre_relu/conv`, op: 'Conv2D', inputs: [x, `${name}_w`], device: dev,
      attr: { T: attr.type(1), padding: attr.s('SAME'), strides: attr.ints([1, stride, stride, 1]), use_cudnn_on_gpu: attr.b(true) } });
    ops.push({ name: `${name}_pre_relu`, op: 'BiasAdd', inputs: [`${name}_pre_relu/conv`, `${name}_b`], device: dev, attr: { T: attr.type(1) } });
    ops.push({ name, op: 'Relu', inputs: [`${name}_pre_relu`], device: dev, attr: { T: attr.type(1) } });
  };
  const pool = (name, x) => ops.push({ name, op: 'MaxPool', inputs: [x], device: dev,
    attr: { ksize: attr.ints([1, 3, 3, 1]), padding: attr.s('SAME'), strides: attr.ints([1, 2, 2, 1]) } });

  ops.push({ name: 'input', op: 'Placeholder', device: dev, attr: { dtype: attr.type(1), shape: attr.shape([]) } });
  // --- edges: HWIO [7][7][3][32], input raw 0..255
  const K1 = 7, C1 = 32, w1 = new Float32Array(K1 * K1 * 3 * C1), b1 = new Float32Array(C1);
  const lum = [0.299, 0.587, 0.114];
  for (let o = 0; o < 12; o++) for (let ph = 0; ph < 2; ph++) {
    const c = o * 2 + ph, th = (Math.PI * o) / 12, lambda = 4.5, sigma = 1.9;
    let sum = 0;
    const g = [];
    for (let y = 0; y < K1; y++) for (let x = 0; x < K1; x++) {
      const dx = x - 3, dy = y - 3, u = dx * Math.cos(th) + dy * Math.sin(th), v = -dx * Math.sin(th) + dy * Math.cos(th);
      const val = Math.exp(-(u * u + v * v) / (2 * sigma * sigma)) * (ph ? Math.sin(2 * Math.PI * u / lambda) : Math.cos(2 * Math.PI * u / lambda));
      g.push(val); sum += val;
    }
    const mean = sum / g.length;
    for (let i = 0; i < g.length; i++) for (let k = 0; k < 3; k++) w1[(i * 3 + k) * C1 + c] = ((g[i] - mean) * lum[k]) / 40;
    b1[c] = -0.5;
  }
  const opp = [[1, -1, 0], [-1, 1, 0], [0, -1, 1], [0, 1, -1], [1, 0, -1], [-1, 0, 1], [1, 1, -2], [-1, -1, 2]];
  for (let j = 0; j < 8; j++) {
    const c = 24 + j;
    for (let y = 0; y < K1; y++) for (let x = 0; x < K1; x++) {
      const r2 = (x - 3) ** 2 + (y - 3) ** 2, blob = Math.exp(-r2 / 8);
      for (let k = 0; k < 3; k++) w1[((y * K1 + x) * 3 + k) * C1 + c] = (blob * opp[j][k]) / 120;
    }
    b1[c] = -0.2;
  }
  conv('edges', 'input', K1, 3, C1, 2, w1, b1);
  pool('pool1', 'edges');
  // --- curves: [5][5][32][48]
  const K2 = 5, C2 = 48, w2 = new Float32Array(K2 * K2 * C1 * C2), b2 = new Float32Array(C2).fill(-0.3);
  for (let c = 0; c < C2; c++) {
    const o1 = Math.floor(rand() * 12), o2 = (o1 + 1 + Math.floor(rand() * 3)) % 12, ph = Math.floor(rand() * 2);
    const th = (Math.PI * (o1 + o2)) / 24, off = 1 + Math.floor(rand() * 2);
    for (const [o, sgn] of [[o1, 1], [o2, -1]]) {
      const cx = 2 + Math.round(sgn * off * -Math.sin(th)), cy = 2 + Math.round(sgn * off * Math.cos(th));
      for (let y = 0; y < K2; y++) for (let x = 0; x < K2; x++) {
        const r2 = (x - cx) ** 2 + (y - cy) ** 2;
        w2[((y * K2 + x) * C1 + o * 2 + ph) * C2 + c] += Math.exp(-r2 / 1.5) * 0.35;
      }
    }
    const col = 24 + Math.floor(rand() * 8);
    w2[((2 * K2 + 2) * C1 + col) * C2 + c] += 0.3 * (rand() - 0.3);
  }
  conv('curves', 'pool1', K2, C1, C2, 1, w2, b2);
  pool('pool2', 'curves');
  // --- textures: [3][3][48][64]
  const K3 = 3, C3 = 64, w3 = new Float32Array(K3 * K3 * C2 * C3), b3 = new Float32Array(C3).fill(-0.2);
  for (let c = 0; c < C3; c++) for (let t = 0; t < 6; t++) {
    const i = Math.floor(rand() * C2), y = Math.floor(rand() * 3), x = Math.floor(rand() * 3);
    w3[((y * K3 + x) * C2 + i) * C3 + c] += (rand() < 0.8 ? 1 : -0.6) * 0.25;
  }
  conv('textures', 'pool2', K3, C2, C3, 1, w3, b3);
  return writeGraphDef([...ops.slice(0, 1), ...consts, ...ops.slice(1)]);
}

/** The quick start's procedural sample picture (sky, hills, sun), shared with the demo page. */
export { samplePicture } from '../web/samples.js';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] || fileURLToPath(new URL('./default-model.pb', import.meta.url));
  const bytes = defaultModel();
  writeFileSync(out, bytes);
  console.log(`wrote ${out} (${bytes.length} bytes)`);
}
