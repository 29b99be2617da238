// A consumer's view: `npm pack` the package, install the tarball into a
// scratch project, import it from Node, dream with the bundled default model,
// and run its bin. Offline and with an empty npm cache of its own (a new
// machine's: `npm ci` caches tarballs, not the registry metadata an install
// by name needs), so the runtime dependencies (gifenc, webm-muxer and theirs)
// are packed from the repository's node_modules and installed beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = existsSync(join(root, 'wasm/dist/deepdream-core-st.wasm')) && existsSync(join(root, 'models/default-model.pb'));

/** The package's runtime dependencies and theirs, as installed in the repository's node_modules. */
function runtimeDependencies() {
  const seen = new Set();
  const visit = (manifest) => {
    for (const name of Object.keys(manifest.dependencies || {})) {
      if (seen.has(name)) continue;
      seen.add(name);
      visit(JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')));
    }
  };
  visit(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')));
  return [...seen];
}

test('the packed tarball installs and works from Node', { skip: !built && 'run npm run build first' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddconsumer-'));
  try {
    const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
    const tgz = npm(['pack', '--pack-destination', dir], root).trim().split('\n').pop();
    const deps = runtimeDependencies();
    const depTgz = deps.length ? npm(['pack', ...deps.map((d) => join(root, 'node_modules', d)), '--pack-destination', dir], root).trim().split('\n') : [];
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    npm(['install', '--offline', '--cache', join(dir, 'npm-cache'), ...[tgz, ...depTgz].map((t) => join(dir, t))], dir);
    writeFileSync(join(dir, 'use.mjs'), `
      import { loadModel, dream, DeepDreamError } from 'deepdream-wasm';
      import { createRequire } from 'node:module';
      const pkgDir = new URL('./node_modules/deepdream-wasm/', import.meta.url);
      const model = await loadModel(new URL('models/default-model.pb', pkgDir), { threads: 1 });
      const W = 48, H = 40, data = new Uint8Array(W * H * 3).map((_, i) => (i * 37) % 256);
      const out = await dream(model, { data, width: W, height: H, channels: 3 }, { layer: 'curves', iterations: 2, repeats: 0, tileSize: 32 }).result;
      let changed = 0; for (let i = 0; i < data.length; i++) changed += out.data[i] !== data[i];
      console.log(JSON.stringify({ layers: model.layers.map((l) => l.name), w: out.width, h: out.height, changed, err: new DeepDreamError('X', 'y') instanceof Error }));
      model.free();
    `);
    const r = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop());
    assert.deepEqual(r.layers, ['edges', 'curves', 'textures']);
    assert.equal(r.w, 48);
    assert.equal(r.h, 40);
    assert.ok(r.changed > 500, `${r.changed} values changed`);
    assert.ok(r.err);
    const help = execFileSync(join(dir, 'node_modules/.bin/deepdream-wasm'), ['--help'], { encoding: 'utf8' });
    assert.match(help, /--layer NAME\|INDEX/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
