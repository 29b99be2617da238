// Both command-line tools on a generated picture with the default model:
// outputs are written and decodable; bad usage gives clear errors and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage, encodeImage } from '../../wasm/js/index.js';
import { defaultModel, samplePicture } from '../../models/make-default-model.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const native = join(root, 'build/deepdream');
const dir = mkdtempSync(join(tmpdir(), 'ddcli-'));
const model = join(dir, 'default.pb');
writeFileSync(model, defaultModel());
const input = join(dir, 'in.png');
writeFileSync(input, await encodeImage(samplePicture(160, 100)));
const common = ['--model', model, '--layer', 'curves', '--iterations', '2', '--octaves', '1', '--tile', '64', '--seed', '3', '--quiet'];

const tools = [['node', [join(root, 'wasm/js/cli.js')]]];
if (existsSync(native)) tools.push(['native', []]);

for (const [name, pre] of tools) {
  const run = (args) => (name === 'node' ? spawnSync(process.execPath, [...pre, ...args]) : spawnSync(native, args));
  test(`${name} CLI dreams and reports errors`, async () => {
    const out = join(dir, `${name}.png`);
    let r = run([input, out, ...common]);
    assert.equal(r.status, 0, r.stderr.toString());
    const img = await decodeImage(readFileSync(out));
    assert.equal(img.width, 160);
    assert.equal(img.height, 100);
    const src = await decodeImage(readFileSync(input));
    let changed = 0;
    for (let i = 0; i < img.data.length; i++) changed += img.data[i] !== src.data[i];
    assert.ok(changed > 1000, `${changed} values changed`);
    // JPEG output, noise start
    r = run(['-', join(dir, `${name}.jpg`), '--noise', '96x64', ...common]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal((await decodeImage(readFileSync(join(dir, `${name}.jpg`)))).width, 96);
    // errors
    r = run([input, out, ...common, '--bogus']);
    assert.equal(r.status, 2);
    assert.match(r.stderr.toString(), /unknown option --bogus/);
    r = run([join(dir, 'missing.jpg'), out, ...common]);
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /missing\.jpg/);
    r = run([input, out, ...common, '--layer', 'nope']);
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /no node named 'nope'; layers are: edges, curves, textures/);
    r = run([input, out, ...common, '--octaves', '9']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString(), /octave|num_repeats/);
    writeFileSync(join(dir, 'bad.png'), Buffer.from('not a png at all'));
    r = run([join(dir, 'bad.png'), out, ...common]);
    assert.equal(r.status, 1);
  });
}

test('native and node CLIs give the same bytes', { skip: !existsSync(native) && 'native CLI not built' }, () => {
  assert.deepEqual(readFileSync(join(dir, 'native.png')), readFileSync(join(dir, 'node.png')));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

// beyond the tutorial (issue 15): --guide, --objective, transforms and the Laplacian gradient in both tools
for (const [name, pre] of tools) {
  const run = (args) => (name === 'node' ? spawnSync(process.execPath, [...pre, ...args]) : spawnSync(native, args));
  test(`${name} CLI: guide, objective, transforms`, async () => {
    const guide = join(dir, 'guide.png');
    const g = samplePicture(90, 70);
    for (let i = 0; i < g.data.length; i += 3) g.data[i] = 255 - g.data[i];
    writeFileSync(guide, await encodeImage(g));
    const bytes = (f) => readFileSync(f).toString('base64');
    const plain = join(dir, `${name}-plain.png`), guided = join(dir, `${name}-guided.png`), expr = join(dir, `${name}-expr.png`);
    let r = run([input, plain, ...common]);
    assert.equal(r.status, 0, r.stderr.toString());
    r = run([input, guided, ...common, '--guide', guide, '--roll', '8']);
    assert.equal(r.status, 0, r.stderr.toString());
    r = run([input, expr, ...common, '--objective', '0.5*channel(curves,1)-weak(edges,2)', '--gradient', 'laplacian',
      '--pad', '4', '--jitter', '3', '--scale', '0.1', '--rotate', '8', '--tv', '1']);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(new Set([plain, guided, expr].map(bytes)).size, 3, 'three different dreams');
    // --objective @FILE: a 48-channel direction from a file
    const dirFile = join(dir, 'direction.txt'), fromFile = join(dir, `${name}-direction.png`);
    writeFileSync(dirFile, `direction(curves, [${Array.from({ length: 48 }, (_, i) => Math.cos(i).toFixed(6)).join(', ')}])\n`);
    r = run([input, fromFile, ...common, '--objective', `@${dirFile}`]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(new Set([plain, fromFile].map(bytes)).size, 2);
    r = run([input, fromFile, ...common, '--objective', `@${join(dir, 'none.txt')}`]);
    assert.equal(r.status, 2);
    assert.match(r.stderr.toString(), /--objective @.*none\.txt/);
    r = run([input, expr, ...common, '--objective', 'channel(curves 1)']);
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /objective: expected a channel number in 0\.\.65535 at character 16 of 'channel\(curves 1\)'/);
    r = run([input, expr, ...common, '--gradient', 'blur']);
    assert.equal(r.status, 2);
    assert.match(r.stderr.toString(), /gradient \(gradient_mode\) must be one of smooth\|laplacian, got 'blur'/);
    r = run([input, expr, ...common, '--guide', join(dir, 'no-guide.png')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /no-guide\.png/);
  });
}

test('native and node CLIs give the same bytes for a guided and for a transformed Laplacian dream', { skip: !existsSync(native) && 'native CLI not built' }, () => {
  for (const kind of ['guided', 'expr', 'direction']) assert.deepEqual(readFileSync(join(dir, `native-${kind}.png`)), readFileSync(join(dir, `node-${kind}.png`)), kind);
});
