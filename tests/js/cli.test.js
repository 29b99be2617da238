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
