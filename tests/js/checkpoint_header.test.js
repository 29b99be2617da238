// A checkpoint's header (the JSON of a .ddream file, the IndexedDB record) is
// untrusted: edited by hand it must be refused with a DeepDreamError, never
// resumed into a garbage image or a raw TypeError. Each case edits a real
// checkpoint written by a dream that was interrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import 'fake-indexeddb/auto';
import { loadModel, dream, resumeDream, IndexedDBStore, DeepDreamError } from '../../wasm/js/index.js';

const modelPath = new URL('../../models/default-model.pb', import.meta.url);
const model = await loadModel(readFileSync(modelPath), { threads: 1, worker: false });
const W = 72, H = 60;
const image = { width: W, height: H, channels: 3, data: Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37 + (i >> 7)) & 255) };
const opts = { layer: 1, iterations: 2, repeats: 1, tileSize: 32, seed: 9 };
const reference = await dream(model, image, opts).result;

/** Writes a checkpoint of dream `id` to storage (interrupted after its first checkpoint). */
async function interrupted(storage, id) {
  const c = dream(model, image, { ...opts, id, checkpoint: { storage, everyTiles: 1 } });
  c.addEventListener('checkpoint', () => c.abort(), { once: true });
  await assert.rejects(c.result, (e) => e.code === 'DD_ERR_ABORTED');
}

function readCheckpoint(file) {
  const buf = readFileSync(file);
  const n = buf.readUInt32LE(4);
  return { header: JSON.parse(buf.subarray(8, 8 + n).toString()), state: buf.subarray(8 + n) };
}
function writeCheckpoint(file, header, state) {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(8);
  Buffer.from('DDCK').copy(head);
  head.writeUInt32LE(json.length, 4);
  writeFileSync(file, Buffer.concat([head, json, state]));
}

const is = (code, re) => (e) => e instanceof DeepDreamError && e.code === code && re.test(e.message);

const EDITS = [
  ['channels 3 -> 4', (h) => { h.channels = 4; }, is('DD_ERR_STATE_MISMATCH', /channels 4 in the header, 3 in the state/)],
  ['no options', (h) => { delete h.options; }, is('DD_ERR_PARSE', /no options object/)],
  ['options null', (h) => { h.options = null; }, is('DD_ERR_PARSE', /no options object/)],
  ['channels "3"', (h) => { h.channels = '3'; }, is('DD_ERR_PARSE', /channels "3" is not 3 or 4/)],
  ['width 10', (h) => { h.width = 10; }, is('DD_ERR_STATE_MISMATCH', /image 10x60 in the header/)],
  ['height -1', (h) => { h.height = -1; }, is('DD_ERR_PARSE', /image size 72x-1/)],
  ['tilesPerStep 0', (h) => { h.options.tilesPerStep = 0; }, is('DD_ERR_PARSE', /tilesPerStep 0/)],
  ['fraction "x"', (h) => { h.fraction = 'x'; }, is('DD_ERR_PARSE', /fraction "x"/)],
  ['no id', (h) => { delete h.id; }, is('DD_ERR_PARSE', /no dream id/)],
];

test('an edited file checkpoint header is refused; the untouched one resumes to the same bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddw-hdr-'));
  try {
    await interrupted(dir, 'hdr');
    const file = join(dir, 'hdr.ddream');
    const original = readFileSync(file);
    const { header, state } = readCheckpoint(file);
    for (const [what, edit, expect] of EDITS) {
      const h = structuredClone(header);
      edit(h);
      writeCheckpoint(file, h, state);
      await assert.rejects(resumeDream(model, 'hdr', { storage: dir, checkpoint: false }), expect, what);
    }
    writeFileSync(file, original);
    const out = await (await resumeDream(model, 'hdr', { storage: dir, checkpoint: false })).result;
    assert.deepEqual(out.data, reference.data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an edited IndexedDB checkpoint record is refused', async () => {
  const store = new IndexedDBStore();
  await interrupted(store, 'idb-hdr');
  const rec = await store.loadDream('idb-hdr');
  for (const [what, edit, expect] of EDITS.filter(([w]) => w !== 'no id')) {
    const r = structuredClone(rec);
    edit(r);
    await store._tx('dreams', 'readwrite', (s) => { s.put(r); });
    await assert.rejects(resumeDream(model, 'idb-hdr', { storage: store, checkpoint: false }), expect, what);
  }
  await store.removeDream('idb-hdr');
  store.close();
});

test('the Node CLI refuses an edited header with exit 1, a sentence, and no output file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddw-hdr-cli-'));
  try {
    await interrupted(dir, 'cli');
    const file = join(dir, 'cli.ddream');
    const { header, state } = readCheckpoint(file);
    header.channels = 4;
    writeCheckpoint(file, header, state);
    const out = join(dir, 'out.png');
    const cli = new URL('../../wasm/js/cli.js', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [cli, '--model', modelPath.pathname, '--threads', '1', '--quiet',
      '--checkpoint', dir, '--resume', 'cli', out], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /DD_ERR_STATE_MISMATCH: resumeDream: the checkpoint's header does not match its state: channels 4/);
    assert.ok(!existsSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
