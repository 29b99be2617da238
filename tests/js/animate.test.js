// zoomAnimation: the Caffe notebook's zoom loop on the wasm core — frames as dream + the core's zoom step,
// checkpoints that resume (mid-frame and between frames) to the same bytes, the GIF read back by an
// independent decoder (lib/gif_decode.js), and the option checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, loadCore, dream, resumeDream, zoomAnimation, resumeZoomAnimation, encodeGif, listDreams } from '../../wasm/js/index.js';
import { withScope, check } from '../../wasm/js/heap.js';
import { miniInception } from './lib/mini_inception.js';
import { decodeGif } from './lib/gif_decode.js';

const model = await loadModel(miniInception({ scale: 16, seed: 5 }), { threads: 1 });
const M = await loadCore({ threads: false });
const W = 64, H = 48;
const image = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
for (let i = 0; i < W * H; i++) {
  const x = i % W, y = (i / W) | 0;
  image.data.set([128 + 100 * Math.sin(x / 5), 128 + 100 * Math.cos(y / 4), (x * y) % 255], i * 3);
}
const opts = { layer: 'mixed3a', iterations: 2, octaves: 1, tileSize: 32, seed: 3, frames: 4, zoom: 1.25 };
const sha = (d) => createHash('sha256').update(d).digest('hex');
const reference = await zoomAnimation(model, image, opts);

/** The zoom step built from independent parts: a centre crop in the test, then the core's Pillow-exact resize. */
function cropThenResize(img, scale) {
  const { width: w, height: h, channels: c } = img;
  const cw = Math.trunc(w / scale), ch = Math.trunc(h / scale), x0 = (w - cw) >> 1, y0 = (h - ch) >> 1;
  const crop = new Uint8Array(cw * ch * c);
  for (let y = 0; y < ch; y++) crop.set(img.data.subarray(((y0 + y) * w + x0) * c, ((y0 + y) * w + x0 + cw) * c), y * cw * c);
  return withScope(M, (s) => {
    const src = s.u8(crop), dst = s.alloc(w * h * c), err = s.err();
    check(M, M._ddw_image_resize(src, cw, ch, c, dst, w, h, err), err, 'resize');
    return M.HEAPU8.slice(dst, dst + w * h * c);
  });
}

test('frame f is the dream (seed + f) of frame f-1 zoomed into its centre', async () => {
  assert.equal(reference.frames.length, 4);
  assert.equal(reference.first, 0);
  let start = image;
  for (let f = 0; f < 4; f++) {
    const want = await dream(model, start, { ...opts, seed: 3 + f }).result;
    const got = reference.frames[f];
    assert.equal(got.width, W); assert.equal(got.height, H); assert.equal(got.channels, 3);
    assert.equal(sha(got.data), sha(new Uint8Array(want.data.buffer)), `frame ${f}`);
    start = { ...got, data: cropThenResize(got, 1.25) };
  }
  assert.notEqual(sha(reference.frames[0].data), sha(reference.frames[1].data));
});

test('onFrame and onProgress: every frame in order, overall fraction rising to 1', async () => {
  const seen = [], fr = [];
  const r = await zoomAnimation(model, image, { ...opts, frames: 2 }, {
    keepFrames: false, onFrame: ({ index, frames, image: img }) => seen.push([index, frames, sha(img.data)]), onProgress: (p) => fr.push(p),
  });
  assert.equal(r.frames.length, 0);
  assert.deepEqual(seen, [[0, 2, sha(reference.frames[0].data)], [1, 2, sha(reference.frames[1].data)]]);
  for (let i = 1; i < fr.length; i++) assert.ok(fr[i].fraction >= fr[i - 1].fraction);
  assert.equal(fr.at(-1).fraction, 1);
  assert.ok(fr.some((p) => p.frame === 1 && p.fraction < 1 && p.fraction > 0.5));
});

for (const [name, when] of [
  ['mid-frame (frame 0, after 3 tiles)', { progress: 3 }],
  ['mid-frame (frame 2, after 2 tiles)', { frame: 2, progress: 2 }],
  ['between frames (after frame 1 was delivered)', { afterFrame: 1 }],
  ['twice: in frame 1, then in frame 3', { progress: 5, again: { frame: 3, progress: 1 } }],
]) {
  test(`interrupted ${name}, resumed: every frame has the uninterrupted bytes`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-anim-'));
    try {
      const frames = new Map();
      const interrupt = (w) => {
        const ac = new AbortController();
        let n = 0;
        return {
          signal: ac.signal,
          onProgress: (p) => { if ((w.frame ?? p.frame) === p.frame && w.progress && ++n === w.progress) ac.abort(); },
          onFrame: ({ index, image: img }) => { frames.set(index, sha(img.data)); if (w.afterFrame === index) ac.abort(); },
          checkpoint: { storage: dir, everyTiles: 1 },
        };
      };
      const first = interrupt(when);
      await assert.rejects(zoomAnimation(model, image, opts, first), (e) => e.code === 'DD_ERR_ABORTED');
      const [rec] = await listDreams(dir);
      assert.ok(rec && rec.animation, 'the checkpoint carries the animation position');
      let id = rec.id;
      if (when.again) {
        await assert.rejects(resumeZoomAnimation(model, id, interrupt(when.again)), (e) => e.code === 'DD_ERR_ABORTED');
        id = (await listDreams(dir))[0].id;
      }
      const r = await resumeZoomAnimation(model, id, { checkpoint: { storage: dir, everyTiles: 1 },
        onFrame: ({ index, image: img }) => frames.set(index, sha(img.data)) });
      assert.ok(r.first > 0 || when.progress === 3, `resumed at frame ${r.first}`);
      assert.deepEqual([...frames.keys()].sort(), [0, 1, 2, 3]);
      for (let f = 0; f < 4; f++) assert.equal(frames.get(f), sha(reference.frames[f].data), `frame ${f}`);
      assert.equal((await listDreams(dir)).length, 0, 'a finished animation leaves no checkpoint');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// A worker-hosted model (a worker_thread, as the page's module Worker): the records are written in the worker.
test('a worker-hosted model: aborted mid-frame 2, resumed with resumeZoomAnimation to the uninterrupted bytes', async () => {
  const remote = await loadModel(miniInception({ scale: 16, seed: 5 }), { worker: true, threads: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'dd-anim-remote-'));
  try {
    assert.equal(remote.remote, true);
    const frames = new Map(), ac = new AbortController();
    const onFrame = ({ index, image: img }) => { frames.set(index, sha(img.data)); };
    await assert.rejects(zoomAnimation(remote, image, opts, { signal: ac.signal, onFrame, checkpoint: { storage: dir, everyTiles: 1 },
      onProgress: (p) => { if (p.frame === 2) ac.abort(); } }), (e) => e.code === 'DD_ERR_ABORTED');
    const [rec] = await listDreams(dir);
    assert.equal(rec.animation.frame, 2, 'the checkpoint is frame 2');
    assert.ok(rec.fraction > 0 && rec.fraction < 1, `mid-frame: ${rec.fraction}`);
    assert.deepEqual(rec.animation, { frame: 2, frames: 4, zoom: 1.25, seed: '3', options: { layer: 'mixed3a', iterations: 2, octaves: 1, tileSize: 32, seed: 3 } });
    const seen = [];
    const r = await resumeZoomAnimation(remote, rec.id, { checkpoint: { storage: dir, everyTiles: 1 }, onFrame, onProgress: (p) => seen.push(p) });
    assert.equal(r.first, 2);
    assert.ok(seen[0].frame === 2 && seen[0].frameFraction > rec.fraction - 1e-9, 'frame 2 continues from its checkpoint');
    assert.deepEqual([...frames.keys()].sort(), [0, 1, 2, 3]);
    for (let f = 0; f < 4; f++) assert.equal(frames.get(f), sha(reference.frames[f].data), `frame ${f}`);
    assert.equal((await listDreams(dir)).length, 0, 'a finished animation leaves no checkpoint');
  } finally {
    await remote.free();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker-hosted model aborted right after frame 1 finished resumes without dreaming frame 1 again', async () => {
  const remote = await loadModel(miniInception({ scale: 16, seed: 5 }), { worker: true, threads: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'dd-anim-remote-'));
  try {
    const frames = new Map(), ac = new AbortController();
    await assert.rejects(zoomAnimation(remote, image, opts, { signal: ac.signal, checkpoint: { storage: dir, everyTiles: 1 },
      onFrame: ({ index, image: img }) => { frames.set(index, sha(img.data)); if (index === 1) ac.abort(); } }), (e) => e.code === 'DD_ERR_ABORTED');
    const [rec] = await listDreams(dir);
    assert.deepEqual([rec.animation.frame, rec.fraction], [1, 1], 'the finished state of frame 1 is saved');
    const seen = [], again = new Map();
    const r = await resumeZoomAnimation(remote, rec.id, { checkpoint: { storage: dir, everyTiles: 1 }, onProgress: (p) => seen.push(p),
      onFrame: ({ index, image: img }) => { again.set(index, sha(img.data)); } });
    assert.equal(r.first, 1);
    // frame 1 restored at its end: at most its one finishing step is reported (a worker's first event can
    // precede the relay), never a tile of it dreamed again
    const one = seen.filter((p) => p.frame === 1);
    assert.ok(one.length <= 1 && one.every((p) => p.frameFraction === 1), `frame 1's progress: ${one.map((p) => p.frameFraction)}`);
    assert.ok(seen.filter((p) => p.frame === 2).length > 2, 'frame 2 is dreamed');
    assert.equal(again.get(1), frames.get(1), 'frame 1 is delivered again from its saved state');
    for (let f = 1; f < 4; f++) assert.equal(again.get(f), sha(reference.frames[f].data), `frame ${f}`);
  } finally {
    await remote.free();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint.record and saveWhenDone: plain fields on every record, the standard ones win, the finished state kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dd-anim-'));
  try {
    const ck = { storage: dir, everyTiles: 1, removeWhenDone: false, saveWhenDone: true, record: { note: 'x', id: 'other', fraction: 0.5, state: 'no' } };
    const c = dream(model, image, { ...opts, frames: undefined, zoom: undefined, id: 'kept', checkpoint: ck });
    const saved = [];
    c.addEventListener('checkpoint', (e) => saved.push(e.detail));
    let atDone = null;
    c.addEventListener('done', () => { atDone = listDreams(dir); });
    const img = await c.result;
    const [rec] = await atDone;
    assert.deepEqual([rec.id, rec.note, rec.fraction], ['kept', 'x', 1], 'saved before the done event');
    assert.ok(saved.length > 1);
    const again = await (await resumeDream(model, 'kept', { storage: dir, checkpoint: false })).result;
    assert.equal(sha(again.data), sha(img.data), 'the finished state restores to the result');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the GIF holds every frame at full size, read back by an independent decoder', async () => {
  const gif = await encodeGif(reference.frames, { delay: 120 });
  const g = decodeGif(gif);
  assert.equal(g.width, W); assert.equal(g.height, H);
  assert.equal(g.frames.length, 4);
  assert.equal(g.loop, 0, 'loops forever');
  for (let f = 0; f < 4; f++) {
    const fr = g.frames[f], src = reference.frames[f].data;
    assert.equal(fr.width, W); assert.equal(fr.height, H); assert.equal(fr.delay, 120);
    let err = 0;
    for (let i = 0; i < src.length; i++) err += Math.abs(fr.data[i] - src[i]);
    assert.ok(err / src.length < 12, `frame ${f}: mean error ${err / src.length} after 256-colour quantisation`);
  }
  assert.notDeepEqual(g.frames[0].data, g.frames[1].data);
});

test('bad options get the core option table\'s sentences; a bad checkpoint is refused', async () => {
  await assert.rejects(zoomAnimation(model, image, { ...opts, zoom: 1 }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /zoom-scale must be a number in \(1, 4\], got '1'/.test(e.message));
  await assert.rejects(zoomAnimation(model, image, { ...opts, frames: 0 }), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT' && /zoom/.test(e.message));
  await assert.rejects(encodeGif([]), (e) => e.code === 'DD_ERR_INVALID_ARGUMENT');
  const dir = mkdtempSync(join(tmpdir(), 'dd-anim-'));
  try {
    const c = dream(model, image, { ...opts, frames: undefined, zoom: undefined, id: 'plain', checkpoint: { storage: dir, everyTiles: 1 } });
    c.addEventListener('checkpoint', () => c.abort(), { once: true }); // a plain dream's checkpoint
    await c.result.catch(() => {});
    await assert.rejects(resumeZoomAnimation(model, 'plain', { storage: dir }), (e) => e.code === 'DD_ERR_PARSE' && /not a zoom animation/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the typed example (tests/js/types/anim_example.js, checked by tsc in types.test.js) runs as declared', async () => {
  const { main } = await import('./types/anim_example.js');
  assert.equal(await main(model, 'mixed3a'), 'ok');
});
