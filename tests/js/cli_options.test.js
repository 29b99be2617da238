// Options are checked once, in the core's option table, before any work, by
// both command lines and the JS API (issue 12 §5): same options, same
// sentences, values quoted as given; the output's writability is checked
// before the dream; the native default model does not depend on the cwd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, dream, encodeImage, decodeImage } from '../../wasm/js/index.js';
import { defaultModel, samplePicture } from '../../models/make-default-model.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const native = join(root, 'build/deepdream');
const dir = mkdtempSync(join(tmpdir(), 'ddopt-'));
const model = join(dir, 'default.pb');
writeFileSync(model, defaultModel());
const input = join(dir, 'in.png');
writeFileSync(input, await encodeImage(samplePicture(96, 64)));
const common = ['--model', model, '--layer', 'curves', '--iterations', '2', '--octaves', '1', '--tile', '64', '--quiet'];
const env = { ...process.env };
delete env.DEEPDREAM_MODEL;

const tools = { node: (args, opt = {}) => spawnSync(process.execPath, [join(root, 'wasm/js/cli.js'), ...args], { env, ...opt }) };
if (existsSync(native)) tools.native = (args, opt = {}) => spawnSync(native, args, { env, ...opt });

// [arguments, exit code, stderr pattern]
const bad = [
  [['--iterations', '1.5'], 2, /iterations \(num_iterations\) must be an integer in 1\.\.1000, got '1\.5'/],
  [['--iterations', '1000000000000'], 2, /got '1000000000000'/],
  [['--threads', '0'], 2, /threads must be an integer in 1\.\.64, got '0'/],
  [['--channels', '0:0'], 2, /the range 0:0 is empty/],
  [['--channels', '5:2'], 2, /the range 5:2 is empty/],
  [['--seed', '-1'], 2, /seed must be an integer in 0\.\.18446744073709551615 \(2\^64-1\), got '-1'/],
  [['--seed', '18446744073709551616'], 2, /got '18446744073709551616'/],
  [['--quality', '0'], 2, /quality must be an integer in 1\.\.100, got '0'/],
  [['--layer', '99'], 1, /layer index 99 does not exist; the model has layers 0\.\.2/],
  [['--zoom-scale', '1'], 2, /zoom-scale must be a number in \(1, 4\], got '1'/],
];

for (const [name, run] of Object.entries(tools)) {
  test(`${name} CLI refuses bad values before any work, quoting them`, () => {
    for (const [args, code, re] of bad) {
      const out = join(dir, `${name}-bad.jpg`);
      const r = run([input, out, ...common, ...args]);
      assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.toString(), re, args.join(' '));
      assert.ok(!existsSync(out), `${args.join(' ')} wrote ${out}`);
    }
    const s = run([input, join(dir, 'x.png'), ...common, '--seed', '18446744073709551615']);
    assert.equal(s.status, 0, s.stderr.toString());
  });

  test(`${name} CLI checks that the output is writable before dreaming`, () => {
    const ro = join(dir, `${name}-ro`);
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    try {
      const probe = join(ro, 'probe');
      let writable = true;
      try { writeFileSync(probe, 'x'); rmSync(probe); } catch { writable = false; }
      for (const out of [join(dir, 'no-such-dir', 'out.png'), ...(writable ? [] : [join(ro, 'out.png')])]) {
        // without --quiet a dream prints its progress: none may appear
        const r = run([input, out, ...common.filter((x) => x !== '--quiet')]);
        assert.equal(r.status, 1, r.stderr.toString());
        assert.match(r.stderr.toString(), /cannot write .*out\.png/);
        assert.doesNotMatch(r.stderr.toString(), /octave|^dream:/m, 'the dream ran before the output was checked');
      }
      for (const opt of ['--show-gradient', '--save-state']) {
        const r = run([input, join(dir, 'fine.png'), ...common, opt, join(dir, 'no-such-dir', 'f')]);
        assert.equal(r.status, 1, `${opt}: ${r.stderr}`);
        assert.match(r.stderr.toString(), /cannot write .*no-such-dir\/f/, opt);
      }
    } finally {
      chmodSync(ro, 0o700);
    }
  });

  test(`${name} CLI finds its default model from any working directory`, () => {
    const r = run(['--list-layers'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.match(r.stdout.toString(), /dream layers/);
  });

  test(`${name} CLI takes the whole option set`, async () => {
    // --zoom: frames out-0000.png, out-0001.png
    const zoom = join(dir, `${name}-zoom.png`);
    let r = run([input, zoom, ...common, '--zoom', '2', '--zoom-scale', '1.2', '--seed', '4']);
    assert.equal(r.status, 0, r.stderr.toString());
    for (const f of ['0000', '0001']) assert.equal((await decodeImage(readFileSync(join(dir, `${name}-zoom-${f}.png`)))).width, 96);
    // --backend
    r = run([input, join(dir, `${name}-ref.png`), ...common, '--backend', 'reference']);
    assert.equal(r.status, 0, r.stderr.toString());
    // --checkpoint DIR: a fresh dream checkpoints and finishes
    r = run([input, join(dir, `${name}-ck.png`), ...common, '--checkpoint', join(dir, `${name}-ck`)]);
    assert.equal(r.status, 0, r.stderr.toString());
    // --show-gradient
    r = run([input, join(dir, `${name}-g.png`), ...common, '--show-gradient', join(dir, `${name}-grad.png`)]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal((await decodeImage(readFileSync(join(dir, `${name}-grad.png`)))).width, 96);
  });
}

const helpOptions = (run) => [...run(['--help']).stdout.toString().matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]);

test('both CLIs list the same options in --help', { skip: !tools.native && 'native CLI not built' }, () => {
  const n = helpOptions(tools.node), c = helpOptions(tools.native);
  assert.ok(n.length >= 25, n.join(' '));
  assert.deepEqual(n, c);
  for (const o of ['--zoom', '--save-state', '--backend', '--checkpoint', '--resume', '--noise', '--quality']) assert.ok(n.includes(o), o);
  // the same lines, word for word, after the usage line
  const lines = (run) => run(['--help']).stdout.toString().split('\n').slice(1);
  assert.deepEqual(lines(tools.node), lines(tools.native));
});

test('both CLIs give the same --noise and --zoom bytes', { skip: !tools.native && 'native CLI not built' }, () => {
  for (const f of ['0000', '0001']) assert.deepEqual(readFileSync(join(dir, `node-zoom-${f}.png`)), readFileSync(join(dir, `native-zoom-${f}.png`)));
  for (const name of ['node', 'native']) {
    const r = tools[name](['-', join(dir, `${name}-noise.png`), ...common, '--noise', '80x48', '--seed', '9']);
    assert.equal(r.status, 0, r.stderr.toString());
  }
  assert.deepEqual(readFileSync(join(dir, 'node-noise.png')), readFileSync(join(dir, 'native-noise.png')));
});

test('the JS API refuses the same values with the same sentences', async () => {
  const m = await loadModel(defaultModel(), { threads: 1 });
  const img = samplePicture(96, 64);
  const o = { layer: 'curves', iterations: 2, repeats: 1, tileSize: 64 };
  const cases = [
    [{ iterations: 1.5 }, /iterations \(num_iterations\) must be an integer in 1\.\.1000, got '1\.5'/],
    [{ iterations: 1e12 }, /got '1000000000000'/],
    [{ channels: '0:0' }, /the range 0:0 is empty/],
    [{ channels: '5:2' }, /the range 5:2 is empty/],
    [{ channels: { start: 3, end: 3 } }, /the range 3:3 is empty/],
    [{ seed: -1 }, /got '-1'/],
    [{ seed: 2n ** 64n }, /got '18446744073709551616'/],
    [{ seed: 1.5 }, /seed must be an integer/],
    [{ layer: 99 }, /layer index 99 does not exist/],
    [{ resample: 'cubic' }, /resample must be one of/],
  ];
  for (const [bad, re] of cases) {
    assert.throws(() => dream(m, img, { ...o, ...bad }), (e) => e.name === 'DeepDreamError' && /DD_ERR_(INVALID_ARGUMENT|NOT_FOUND)/.test(e.code) && re.test(e.message),
      JSON.stringify(bad, (k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
  }
  const ok = await dream(m, img, { ...o, seed: 2n ** 64n - 1n }).result;
  assert.equal(ok.width, 96);
  m.free();
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

// --save-state in one CLI, --resume FILE in the other: the same bytes as an uninterrupted run
async function interrupted(run, args) {
  const { spawn } = await import('node:child_process');
  const [cmd, argv] = run === 'node' ? [process.execPath, [join(root, 'wasm/js/cli.js'), ...args]] : [native, args];
  const child = spawn(cmd, argv, { env });
  let err = '';
  let sent = false;
  child.stderr.on('data', (d) => {
    err += d;
    if (!sent && /iteration 2\//.test(err)) { sent = true; child.kill('SIGINT'); }
  });
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  return { code, err };
}

test('a state saved on Ctrl-C by one CLI resumes in the other to the same bytes', { skip: !tools.native && 'native CLI not built' }, async () => {
  const long = ['--model', model, '--layer', 'curves', '--iterations', '6', '--octaves', '1', '--tile', '32', '--seed', '5'];
  const ref = join(dir, 'ref-long.png');
  assert.equal(tools.native([input, ref, ...long, '--quiet']).status, 0);
  for (const [saver, resumer] of [['node', 'native'], ['native', 'node']]) {
    const state = join(dir, `${saver}.state`), out = join(dir, `${resumer}-resumed.png`);
    const r = await interrupted(saver, [input, join(dir, 'never.png'), ...long, '--save-state', state]);
    assert.notEqual(r.code, 0, r.err);
    assert.match(r.err, /state saved to/, r.err);
    const q = tools[resumer](['--model', model, '--resume', state, out, '--quiet']);
    assert.equal(q.status, 0, q.stderr.toString());
    assert.deepEqual(readFileSync(out), readFileSync(ref), `${saver} -> ${resumer}`);
  }
});

test('native --checkpoint DIR: interrupted, then --resume ID, gives the uninterrupted bytes', { skip: !tools.native && 'native CLI not built' }, async () => {
  const long = ['--model', model, '--layer', 'curves', '--iterations', '6', '--octaves', '1', '--tile', '32', '--seed', '5'];
  const ck = join(dir, 'native-ck-resume');
  const r = await interrupted('native', [input, join(dir, 'never2.png'), ...long, '--checkpoint', ck]);
  const m = r.err.match(/--checkpoint \S+ --resume (\S+)/);
  assert.ok(m, r.err);
  const out = join(dir, 'native-ck-resumed.png');
  const q = tools.native(['--model', model, '--checkpoint', ck, '--resume', m[1], out, '--quiet']);
  assert.equal(q.status, 0, q.stderr.toString());
  assert.deepEqual(readFileSync(out), readFileSync(join(dir, 'ref-long.png')));
  assert.ok(!existsSync(join(ck, `${m[1]}.ddstate`)), 'the finished dream\'s checkpoint is removed');
});
