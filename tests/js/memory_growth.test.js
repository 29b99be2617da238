// The threaded (mt) build grows its shared memory (issue 16: a fixed 1 GiB
// heap could not dream 8192x8192): a dream needing more than the build's
// initial heap completes on 2 threads with the same bytes as the
// single-threaded build, and every JS view of the heap taken after a call is
// the whole, grown memory (an old view of a shared buffer silently ends
// where the memory used to end). Not timed. Run in a child process: a
// fresh instance starts at the initial heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { loadModel, dream } from '../../wasm/js/index.js';
import { miniInception } from './lib/mini_inception.js';

const hash = (d) => createHash('sha256').update(d).digest('hex');

test('mt build: a dream larger than the initial heap grows the memory and gives the st bytes', { timeout: 600_000 }, async () => {
  const bytes = miniInception({ scale: 16, seed: 3 });
  const mt = await loadModel(bytes, { threads: 2, useThreadedBuild: true });
  const M = mt._M;
  assert.equal(M.ddVariant, 'mt');
  const initial = M.wasmMemory.buffer.byteLength;
  // RGBA 2000x1500: the dream keeps about 33 bytes a pixel (float image and gradient, preview, 8-bit levels),
  // ~100 MB, beyond the build's initial heap
  const W = 2000, H = 1500;
  assert.ok(W * H * 33 > initial, `the build's initial heap (${initial >> 20} MiB) must be smaller than this dream`);
  const image = { width: W, height: H, channels: 4, data: new Uint8Array(W * H * 4) };
  for (let i = 0; i < W * H; i++) {
    const x = i % W, y = (i / W) | 0;
    image.data.set([128 + 100 * Math.sin(x / 37), 128 + 100 * Math.cos(y / 23), (x ^ y) & 255, 255], i * 4);
  }
  const opts = { layer: 'conv2d0', iterations: 1, repeats: 1, tileSize: 500, seed: 4 };
  const out = await dream(mt, image, opts).result;
  const grown = M.wasmMemory.buffer.byteLength;
  assert.ok(grown > initial, `the memory grew (${initial >> 20} -> ${grown >> 20} MiB)`);
  for (const name of ['HEAP8', 'HEAPU8', 'HEAP32', 'HEAPU32', 'HEAPF32', 'HEAPF64'])
    assert.equal(M[name].byteLength, grown, `M.${name} spans the grown memory`);
  assert.equal(out.width, W);
  assert.equal(out.height, H);

  const st = await loadModel(bytes, { threads: 1, useThreadedBuild: false });
  const ref = await dream(st, image, opts).result;
  assert.equal(hash(out.data), hash(ref.data), 'the same bytes as the single-threaded build');
  mt.free();
  st.free();
});
