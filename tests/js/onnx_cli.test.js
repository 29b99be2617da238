// `--model x.onnx` in both command-line tools, on the BVLC GoogLeNet stand-in:
// the dream layers are listed, the model's default layer (inception_4c/output)
// is dreamed when --layer is not given (the same bytes as naming it, other
// bytes than layer 0). Skipped without
// Debian's python3-onnx (the stand-in's generator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnxPython, standin } from './lib/onnx_standins.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const native = join(root, 'build/deepdream');
const skip = !onnxPython() && 'no python3 with the onnx package (Debian python3-onnx) to build the stand-in';
const tools = [['node', (args) => spawnSync(process.execPath, [join(root, 'wasm/js/cli.js'), ...args])]];
if (existsSync(native)) tools.push(['native', (args) => spawnSync(native, args)]);

for (const [name, run] of tools) {
  test(`${name} CLI: --model bvlc_googlenet.onnx lists its layers and dreams its default layer`, { skip }, () => {
    const model = standin('bvlc_googlenet');
    const dir = mkdtempSync(join(tmpdir(), 'ddonnxcli-'));
    try {
      let r = run(['--model', model, '--list-layers']);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.match(r.stdout.toString(), /6 {2}inception_4c\/output_1 +512 channels/);
      const common = ['--model', model, '--noise', '72x56', '--iterations', '2', '--octaves', '1', '--tile', '64', '--seed', '4', '--quiet', '--threads', '1'];
      r = run(['-', join(dir, 'default.png'), ...common]);
      assert.equal(r.status, 0, r.stderr.toString());
      r = run(['-', join(dir, 'named.png'), ...common, '--layer', 'inception_4c/output']);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.deepEqual(readFileSync(join(dir, 'default.png')), readFileSync(join(dir, 'named.png')));
      r = run(['-', join(dir, 'conv1.png'), ...common, '--layer', '0']);
      assert.equal(r.status, 0, r.stderr.toString());
      assert.notDeepEqual(readFileSync(join(dir, 'conv1.png')), readFileSync(join(dir, 'named.png')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
