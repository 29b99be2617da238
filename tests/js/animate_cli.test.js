// The command lines' zoom movie: the Node CLI's --zoom frames are zoomAnimation's, its --gif holds them
// (read back by an independent decoder), the native CLI writes the same frames and refuses --gif with a
// sentence; --gif without --zoom is a usage error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, zoomAnimation, encodeImage, decodeImage } from '../../wasm/js/index.js';
import { defaultModel, samplePicture } from '../../models/make-default-model.mjs';
import { decodeGif } from './lib/gif_decode.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const native = join(root, 'build/deepdream');
const dir = mkdtempSync(join(tmpdir(), 'ddzoom-'));
const modelFile = join(dir, 'default.pb');
writeFileSync(modelFile, defaultModel());
const picture = samplePicture(80, 56);
const input = join(dir, 'in.png');
writeFileSync(input, await encodeImage(picture));
const common = ['--model', modelFile, '--layer', 'curves', '--iterations', '2', '--octaves', '1', '--tile', '64', '--seed', '6', '--quiet'];
const env = { ...process.env };
delete env.DEEPDREAM_MODEL;
const node = (args) => spawnSync(process.execPath, [join(root, 'wasm/js/cli.js'), ...args], { env });
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('Node CLI --zoom 3 --gif: the frames of zoomAnimation as PNG files, and a 3-frame GIF of them', async () => {
  const r = node([input, join(dir, 'z.png'), ...common, '--zoom', '3', '--zoom-scale', '1.1', '--gif', join(dir, 'z.gif')]);
  assert.equal(r.status, 0, r.stderr.toString());
  const model = await loadModel(modelFile, { threads: 1 });
  const api = await zoomAnimation(model, await decodeImage(readFileSync(input)),
    { layer: 'curves', iterations: 2, octaves: 1, tileSize: 64, seed: 6, frames: 3, zoom: 1.1 });
  model.free();
  for (let f = 0; f < 3; f++) {
    const png = await decodeImage(readFileSync(join(dir, `z-${String(f).padStart(4, '0')}.png`)));
    assert.deepEqual(png.data, api.frames[f].data, `frame ${f}`);
  }
  const g = decodeGif(readFileSync(join(dir, 'z.gif')));
  assert.deepEqual([g.width, g.height, g.frames.length], [80, 56, 3]);
  for (const fr of g.frames) assert.deepEqual([fr.width, fr.height], [80, 56]);
});

test('Node CLI --zoom --checkpoint: Ctrl-C after frame 0, then --resume ID: the same frames and a whole GIF', async () => {
  const ck = join(dir, 'ck');
  const args = [input, join(dir, 'r.png'), ...common.filter((x) => x !== '--quiet'), '--iterations', '6', '--zoom', '3', '--zoom-scale', '1.1',
    '--checkpoint', ck, '--gif', join(dir, 'r.gif')];
  const child = spawn(process.execPath, [join(root, 'wasm/js/cli.js'), ...args], { env });
  let err = '';
  child.stderr.on('data', (d) => { err += d; if (/frame 1\/3 written/.test(err) && !child.killed) child.kill('SIGINT'); });
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 130, err);
  const m = err.match(/resume with --zoom 3 --checkpoint \S+ --resume (\S+)/);
  assert.ok(m, err);
  assert.ok(!existsSync(join(dir, 'r-0002.png')), 'interrupted before the last frame');
  const r = node([join(dir, 'r.png'), ...common, '--zoom', '3', '--checkpoint', ck, '--resume', m[1], '--gif', join(dir, 'r.gif')]);
  assert.equal(r.status, 0, r.stderr.toString());
  const u = node([input, join(dir, 'u.png'), ...common, '--iterations', '6', '--zoom', '3', '--zoom-scale', '1.1']);
  assert.equal(u.status, 0, u.stderr.toString());
  for (let f = 0; f < 3; f++) {
    const k = String(f).padStart(4, '0');
    assert.deepEqual(readFileSync(join(dir, `r-${k}.png`)), readFileSync(join(dir, `u-${k}.png`)), `frame ${f}`);
  }
  assert.equal(decodeGif(readFileSync(join(dir, 'r.gif'))).frames.length, 3);
});

test('--gif without --zoom is a usage error', () => {
  const r = node([input, join(dir, 'y.png'), ...common, '--gif', join(dir, 'y.gif')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /--gif needs --zoom N/);
  assert.ok(!existsSync(join(dir, 'y.gif')));
});

test('native CLI: --zoom frames equal the Node CLI\'s; --gif is refused with a sentence', { skip: !existsSync(native) && 'native CLI not built' }, () => {
  let r = spawnSync(native, [input, join(dir, 'n.png'), ...common, '--zoom', '3', '--zoom-scale', '1.1'], { env });
  assert.equal(r.status, 0, r.stderr.toString());
  for (let f = 0; f < 3; f++) {
    const k = String(f).padStart(4, '0');
    assert.deepEqual(readFileSync(join(dir, `n-${k}.png`)), readFileSync(join(dir, `z-${k}.png`)), `frame ${f}`);
  }
  r = spawnSync(native, [input, join(dir, 'm.png'), ...common, '--zoom', '2', '--gif', join(dir, 'm.gif')], { env });
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /native CLI writes the --zoom frames as PNG files only/);
});
