// Untrusted checkpoints and datasets, mutated at random (seeded): every
// mutation either loads or fails with a DeepDreamError — never a TypeError,
// RangeError or a crash of the wasm core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, deflateRawSync } from 'node:zlib';
import {
  sequential, dense, dropout, conv2d, maxPooling2d, flatten, loadLayersModel, parseIdx, parseNpy, parseNpz, gunzip, crc32,
  DeepDreamError,
} from '../../wasm/js/index.js';
import { parseStateText } from '../../wasm/js/train/io.js';

let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const pickInt = (n) => Math.floor(rnd() * n);

const JUNK = [null, -1, 0, 1, 2.5, 1e12, 'x', '', 'relu', 'same', [], [0], [-3, 2], [1, 1e9], {}, { class_name: 'Dense' }, true, NaN];

function paths(obj, prefix = [], out = []) {
  if (obj && typeof obj === 'object' && !(obj instanceof ArrayBuffer)) {
    for (const k of Object.keys(obj)) {
      out.push([...prefix, k]);
      paths(obj[k], [...prefix, k], out);
    }
  }
  return out;
}

function mutate(artifacts) {
  const { weightData, ...rest } = artifacts;
  const a = JSON.parse(JSON.stringify(rest));
  let data = weightData.slice(0);
  const kinds = pickInt(4);
  for (let m = 0; m <= kinds; m++) {
    const r = rnd();
    if (r < 0.7) {
      const all = paths(a);
      const p = all[pickInt(all.length)];
      let o = a;
      for (const k of p.slice(0, -1)) o = o[k];
      if (rnd() < 0.2) delete o[p.at(-1)];
      else o[p.at(-1)] = JUNK[pickInt(JUNK.length)];
    } else if (r < 0.85) {
      data = data.slice(0, pickInt(data.byteLength + 1));
    } else {
      const b = new Uint8Array(data);
      for (let i = 0; i < 4; i++) b[pickInt(b.length)] = pickInt(256);
    }
  }
  return { ...a, weightData: data };
}

async function savedArtifacts(model) {
  let saved;
  await model.save({ save: async (a) => { saved = a; return {}; } });
  return saved;
}

test('mutated model artifacts load or fail with a DeepDreamError', async () => {
  const x = new Float32Array(8 * 64).map(() => rnd());
  const y = Int32Array.from({ length: 8 }, () => pickInt(3));
  const dense1 = sequential([dense(8, { activation: 'relu', inputShape: [64] }), dropout(0.2), dense(3, { activation: 'softmax' })], { seed: 1 });
  const conv = sequential([conv2d(2, 3, { inputShape: [8, 8, 1], activation: 'relu', padding: 'same' }), maxPooling2d({ poolSize: 2 }), flatten(),
    dense(3, { activation: 'softmax' })], { seed: 2 });
  const originals = [];
  for (const m of [dense1, conv]) {
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await m.fit(x, y, { epochs: 1, verbose: 0 });
    originals.push(await savedArtifacts(m));
  }
  const warn = console.warn;
  console.warn = () => {};
  const outcome = { loaded: 0, codes: {} };
  try {
    for (let i = 0; i < 400; i++) {
      const art = mutate(originals[i % 2]);
      try {
        const m = await loadLayersModel({ load: async () => art });
        await m.predict(x);
        m.dispose();
        outcome.loaded++;
      } catch (e) {
        assert.ok(e instanceof DeepDreamError, `mutation ${i} threw ${e && e.stack}`);
        outcome.codes[e.code] = (outcome.codes[e.code] ?? 0) + 1;
      }
    }
  } finally {
    console.warn = warn;
  }
  assert.ok(outcome.loaded > 10 && Object.keys(outcome.codes).length >= 3, JSON.stringify(outcome));
});

test('mutated IDX, npy, npz, gzip and checkpoint-state bytes parse or fail with a DeepDreamError', async () => {
  const img = Buffer.alloc(16 + 5 * 4 * 4);
  img.writeUInt32BE(0x00000803, 0);
  img.writeUInt32BE(5, 4); img.writeUInt32BE(4, 8); img.writeUInt32BE(4, 12);
  const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }".padEnd(117, ' ') + '\n';
  const npy = Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length, 0]), Buffer.from(header), Buffer.alloc(24)]);
  const entry = (name, data, method) => {
    const comp = method ? deflateRawSync(data) : data;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(method, 8); lh.writeUInt32LE(crc32(data), 14);
    lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(method, 10); ch.writeUInt32LE(crc32(data), 16);
    ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(data.length, 24); ch.writeUInt16LE(name.length, 28);
    return { local: Buffer.concat([lh, Buffer.from(name), comp]), central: Buffer.concat([ch, Buffer.from(name)]) };
  };
  const e1 = entry('a.npy', npy, 0), e2 = entry('b.npy', npy, 8);
  const c2 = Buffer.from(e2.central);
  c2.writeUInt32LE(e1.local.length, 42);
  const cd = Buffer.concat([e1.central, c2]);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0); eocd.writeUInt16LE(2, 8); eocd.writeUInt16LE(2, 10);
  eocd.writeUInt32LE(cd.length, 12); eocd.writeUInt32LE(e1.local.length + e2.local.length, 16);
  const npz = Buffer.concat([e1.local, e2.local, cd, eocd]);
  assert.deepEqual(Object.keys(await parseNpz(npz)), ['a', 'b']);
  const gz = gzipSync(img);
  const state = Buffer.from('model_checkpoint_path: "cp-0050.ckpt"\nall_model_checkpoint_paths: "cp-0045.ckpt"\nall_model_checkpoint_paths: "cp-0050.ckpt"\n');
  const targets = [
    ['idx', img, async (b) => parseIdx(b)], ['npy', npy, async (b) => parseNpy(b)], ['npz', npz, (b) => parseNpz(b)],
    ['gzip', gz, (b) => gunzip(b)], ['state', state, async (b) => parseStateText(b.toString('latin1'))],
  ];
  for (const [name, good, parse] of targets) {
    let ok = 0, failed = 0;
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(good);
      const r = rnd();
      let mutated = b;
      if (r < 0.3) mutated = b.subarray(0, pickInt(b.length));
      else if (r < 0.9) for (let k = 0; k <= pickInt(4); k++) b[pickInt(b.length)] = pickInt(256);
      else mutated = Buffer.concat([b, Buffer.alloc(pickInt(9) + 1)]);
      try {
        await parse(mutated);
        ok++;
      } catch (e) {
        assert.ok(e instanceof DeepDreamError, `${name} mutation ${i} threw ${e && e.stack}`);
        failed++;
      }
    }
    assert.ok(failed > 0, `${name}: no mutation was detected`);
  }
});
