#!/usr/bin/env node
// cli.js — `npx deepdream-wasm in.jpg out.jpg --layer mixed4b --octaves 4 --seed 7`
// The native CLI's options, running the wasm core in Node: both print their
// --help from the core's option table (include/deepdream_options.h) and check
// every value through it, before any work starts.
import * as fs from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCore } from './core.js';
import { withScope, check } from './heap.js';
import { atomicWrite } from './persist.js';
import { DREAM_OPTIONS } from './seam.js';
import { dreamFromState } from './dream.js';
import { loadModel, dream, decodeImage, encodeImage, resumeDream, zoomAnimation, resumeZoomAnimation, encodeGif } from './index.js';
import { DeepDreamError, asDeepDreamError } from './errors.js';
import { resolveModelArg } from './registry.js';
import { noiseImage } from './picture.js';

class UsageError extends Error {}

function help(table) {
  const lines = ['usage: deepdream-wasm [options] INPUT OUTPUT',
    'DeepDream as Hvass-Labs TensorFlow tutorial #14 does it, on a TensorFlow GraphDef or ONNX model.', ''];
  for (const o of table) lines.push(`  ${`--${o.name}${o.arg ? ` ${o.arg}` : ''}`.padEnd(24)} ${o.help}`);
  lines.push(`  ${'-h, --help'.padEnd(24)} this text`);
  return lines.join('\n');
}

/** Checks `text` for option `name` in the core: {i, d, w, h}; a bad value throws a UsageError with the core's sentence. */
function parseValue(M, name, text) {
  return withScope(M, (s) => {
    const out = s.alloc(32), err = s.err();
    const st = M._ddw_option_parse(s.str(name), s.str(text), out, err);
    if (st < 0) throw new UsageError(M.UTF8ToString(M._ddw_error_message(err)));
    const v = M.HEAPF64.subarray(out >>> 3, (out >>> 3) + 4);
    return { i: v[0], d: v[1], w: v[2], h: v[3] };
  });
}

/** --objective @FILE: the expression from a file (a long direction vector). */
async function readObjective(v) {
  const text = await fs.readFile(v.slice(1), 'utf8').catch((e) => { throw new UsageError(`--objective ${v}: ${e.message}`); });
  if (Buffer.byteLength(text) > 65536) throw new UsageError(`--objective ${v}: the file is longer than the 65536 bytes an objective may have`);
  return text;
}

async function parse(M, argv) {
  const table = M.ddSeam.options;
  const rows = new Map(table.map((o) => [o.name, o]));
  const jsName = Object.fromEntries(Object.entries(DREAM_OPTIONS).map(([js, [c]]) => [c, js]));
  const a = { pos: [], o: {}, helpText: help(table) };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '-h' || k === '--help') { a.help = true; continue; }
    if (!k.startsWith('-') || k === '-') { if (a.pos.length === 2) throw new UsageError('too many arguments (see --help)'); a.pos.push(k); continue; }
    const name = k.slice(2), row = k.startsWith('--') ? rows.get(name) : undefined;
    if (!row) throw new UsageError(`unknown option ${k} (see --help)`);
    let v;
    if (row.kind !== 'flag') {
      if (i + 1 >= argv.length) throw new UsageError(`${k} needs a value`);
      v = argv[++i];
    }
    if (name === 'objective' && v.startsWith('@')) v = await readObjective(v); // --objective @FILE
    const val = row.kind === 'flag' ? null : parseValue(M, name, v);
    if (row.field) { a.o[jsName[name]] = v; continue; } // dream() sets it through the same table
    switch (name) {
      case 'quiet': a.quiet = true; break;
      case 'list-layers': a.list = true; break;
      case 'profile': a.profile = true; break;
      case 'model': a.model = v; break;
      case 'noise': a.noise = [val.w, val.h]; break;
      case 'show-gradient': a.grad = v; break;
      case 'guide': a.guide = v; break;
      case 'zoom': a.zoom = val.i; break;
      case 'zoom-scale': a.zoomScale = val.d; break;
      case 'gif': a.gif = v; break;
      case 'save-state': a.saveState = v; break;
      case 'checkpoint': a.checkpoint = v; break;
      case 'resume': a.resume = v; break;
      case 'backend':
        if (!M._ddw_backend_available(val.i)) throw new UsageError(`backend ${v} is not in the wasm build (xnnpack is native only; use auto, reference or simd128)`);
        a.backend = v;
        break;
      case 'threads': a.threads = val.i; break;
      case 'quality': a.quality = val.i; break;
      default: throw new UsageError(`option --${name} is not implemented by this program (please report it)`);
    }
  }
  return a;
}

/** The output must be writable before the dream starts: the file if it exists, else its directory. */
async function checkWritable(file, frames) {
  const io = (e, what = file) => asDeepDreamError(e, `cannot write ${what}`);
  try {
    const st = await fs.stat(file);
    if (!frames) {
      if (st.isDirectory()) throw new DeepDreamError('DD_ERR_IO', `cannot write ${file}: it is a directory`);
      await fs.access(file, constants.W_OK).catch((e) => { throw io(e); });
      return;
    }
  } catch (e) {
    if (e.code !== 'ENOENT') throw io(e);
  }
  const dir = dirname(file);
  await fs.access(dir, constants.W_OK | constants.X_OK).catch((e) => { throw io(e, `${file} (in ${dir})`); });
}

let lastLine = '';
function bar(p) {
  const w = 30, fill = Math.round(p.fraction * w);
  const eta = p.eta == null ? '?' : `${p.eta.toFixed(0)}s`;
  const where = `octave ${p.octave + 1}/${p.numOctaves}  iteration ${Math.min(p.iteration + 1, p.numIterations)}/${p.numIterations}`;
  const line = `[${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${(p.fraction * 100).toFixed(0).padStart(3)}%  ${where}  tile ${p.numTiles ? `${p.tile}/${p.numTiles}` : '-'}  ${p.imageWidth}x${p.imageHeight}  ETA ${eta}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
  else if (where !== lastLine) { lastLine = where; process.stderr.write(`${line}\n`); } // logs: one line per iteration
}

async function save(file, img, quality) {
  const jpeg = /\.jpe?g$/i.test(file);
  await atomicWrite(fs, file, await encodeImage(img, jpeg ? 'jpeg' : 'png', quality ?? 92), `cannot write ${file}`);
}

/** A download bar for --model NAME: on a terminal one updating line, in logs a line per 10%. */
function downloadBar() {
  let shown = -1;
  return (done, total) => {
    const mib = (n) => (n / 2 ** 20).toFixed(1);
    const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    const line = `downloading the model: ${mib(done)} / ${total ? mib(total) : '?'} MiB (${pct}%)`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}   ${done >= total ? '\n' : ''}`);
    else if (Math.floor(pct / 10) !== shown) { shown = Math.floor(pct / 10); process.stderr.write(`${line}\n`); }
  };
}

async function main() {
  const M = await loadCore({ threads: false }); // the option table lives in the core
  let a;
  try { a = await parse(M, process.argv.slice(2)); } catch (e) { if (!(e instanceof UsageError)) throw e; console.error(`deepdream-wasm: ${e.message}`); return 2; }
  if (a.help) { console.log(a.helpText); return 0; }
  if (a.gif && !a.zoom) { console.error('deepdream-wasm: --gif needs --zoom N (the GIF is of the zoom movie\'s frames)'); return 2; }
  if (!a.list && !a.profile && a.pos.length !== 2 && !(a.resume && a.pos.length >= 1)) { console.error(a.helpText); return 2; }
  const out = a.pos[a.pos.length - 1];
  if (out && !a.list && !a.profile) {
    try { // every file the run may write, before it starts
      await checkWritable(out, a.zoom);
      if (a.grad) await checkWritable(a.grad);
      if (a.saveState) await checkWritable(a.saveState);
      if (a.gif) await checkWritable(a.gif);
    } catch (e) { console.error(`deepdream-wasm: ${e.code}: ${e.message}`); return 1; }
  }
  const modelPath = await resolveModelArg(a.model || process.env.DEEPDREAM_MODEL || fileURLToPath(new URL('../../models/default-model.pb', import.meta.url)),
    { onProgress: a.quiet ? undefined : downloadBar() });
  const model = await loadModel(modelPath, { threads: a.threads, backend: a.backend });
  if (a.list) {
    console.log('dream layers (--layer NAME or INDEX):');
    for (const l of model.layers) console.log(`  ${String(l.index).padStart(2)}  ${l.name.padEnd(28)} ${String(l.channels).padStart(5)} channels`);
    console.log(`conv layers: ${model.convLayers.length}, ${model.convLayers.reduce((s, l) => s + l.channels, 0)} channels`);
    return 0;
  }
  if (a.o.layer === undefined) a.o.layer = model.description.defaultLayer; // Inception 5h: 2, the tutorial's
  if (a.profile) {
    const t = Number(a.o.tileSize ?? 400), x = new Float32Array(t * t * 3);
    for (let i = 0; i < x.length; i++) x[i] = (i * 2654435761 >>> 24);
    model.profile(x, t, t, /^\d+$/.test(String(a.o.layer)) ? Number(a.o.layer) : a.o.layer);
    return 0;
  }
  let image;
  if (a.noise) image = noiseImage(M, a.o.seed ?? 0, a.noise[0], a.noise[1]);
  else if (!a.resume) image = await decodeImage(await fs.readFile(a.pos[0]).catch((e) => { throw asDeepDreamError(e, 'cannot read the input image'); }));
  if (a.guide && !a.resume) // the guide's features go into the dream state: a resumed dream needs no --guide
    a.o.guide = await decodeImage(await fs.readFile(a.guide).catch((e) => { throw asDeepDreamError(e, 'cannot read the guide image'); }));
  const t0 = performance.now();
  const onProgress = a.quiet ? undefined : bar;

  if (a.zoom) { // the tutorial's movie exercise: dream, zoom in a little, repeat (animate.js, the core's zoom step)
    const stem = out.slice(0, out.length - extname(out).length), ext = extname(out) || '.png';
    const frameFile = (i) => `${stem}-${String(i).padStart(4, '0')}${ext}`;
    const frames = [];
    const ac = new AbortController();
    const id = a.resume || `zoom-${process.pid}-${Date.now()}`;
    const hooks = {
      keepFrames: false, signal: ac.signal,
      checkpoint: a.checkpoint ? { storage: a.checkpoint, everyTiles: 8, id } : undefined,
      onProgress: onProgress && ((p) => onProgress({ ...p, fraction: p.frameFraction })),
      onFrame: async ({ index, frames: n, image: frame }) => {
        await save(frameFile(index), frame, a.quality);
        if (a.gif) frames[index] = frame;
        if (!a.quiet) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}frame ${index + 1}/${n} written\n`);
      },
    };
    if (a.checkpoint && !a.resume && !a.quiet) process.stderr.write(`checkpointing as '${id}' in ${a.checkpoint}\n`);
    process.on('SIGINT', () => ac.abort());
    let r;
    try {
      r = a.resume && a.checkpoint ? await resumeZoomAnimation(model, a.resume, hooks)
        : await zoomAnimation(model, image, { ...a.o, frames: a.zoom, zoom: a.zoomScale ?? 1.05 }, hooks);
    } catch (e) {
      if (e.code === 'DD_ERR_ABORTED' && a.checkpoint) {
        if (!a.quiet) process.stderr.write('\n');
        console.error(`deepdream-wasm: interrupted; resume with --zoom ${a.zoom} --checkpoint ${a.checkpoint} --resume ${id}`);
        return 130;
      }
      throw e;
    }
    if (a.gif) { // the frames made before a resume are read back from their files
      for (let i = 0; i < r.first; i++) frames[i] = await decodeImage(await fs.readFile(frameFile(i)).catch((e) => { throw asDeepDreamError(e, `cannot read frame ${frameFile(i)} for the GIF`); }));
      await atomicWrite(fs, a.gif, await encodeGif(frames.filter(Boolean), { delay: 100 }), `cannot write ${a.gif}`);
      if (!a.quiet) process.stderr.write(`wrote ${a.gif} (${frames.filter(Boolean).length} frames)\n`);
    }
    model.free();
    return 0;
  }

  const checkpoint = a.checkpoint ? { storage: a.checkpoint, everyTiles: 8 } : undefined;
  let c;
  if (a.resume && a.checkpoint) c = await resumeDream(model, a.resume, { checkpoint, onProgress });
  else if (a.resume) c = dreamFromState(model, new Uint8Array(await fs.readFile(a.resume)), { id: 'resumed' }, { onProgress });
  else c = dream(model, image, { ...a.o, onProgress, checkpoint });
  if (checkpoint && !a.resume && !a.quiet) process.stderr.write(`checkpointing as '${c.id}' in ${a.checkpoint}\n`);
  let gradient = null; // the dream is still alive in 'done': keep its last gradient
  if (a.grad) c.addEventListener('done', () => { gradient = c.currentGradient(); });
  let saved = null;
  process.on('SIGINT', () => {
    if (!a.saveState) { c.abort(); return; }
    let state;
    try { state = c.saveState(); } catch { c.abort(); return; }
    saved = atomicWrite(fs, a.saveState, state, `saving the state to ${a.saveState}`).then(() => true, () => false);
    c.abort();
  });
  let result;
  try {
    result = await c.result;
  } catch (e) {
    if (!a.quiet) process.stderr.write('\n');
    if (e.code === 'DD_ERR_ABORTED') {
      if (saved && await saved) { console.error(`deepdream-wasm: interrupted; state saved to ${a.saveState} (continue with --resume ${a.saveState})`); return 130; }
      if (checkpoint) { console.error(`deepdream-wasm: interrupted; resume with --checkpoint ${a.checkpoint} --resume ${c.id}`); return 130; }
    }
    throw e;
  }
  if (!a.quiet) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}dream: ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  await save(out, result, a.quality);
  if (gradient) await save(a.grad, gradient, 95);
  if (!a.quiet) process.stderr.write(`wrote ${out} (${result.width}x${result.height})\n`);
  model.free();
  return 0;
}

main().then((rc) => process.exit(rc), (raw) => {
  const e = asDeepDreamError(raw); // no raw JS error reaches the user
  console.error(`deepdream-wasm: ${e.code}: ${e.message}`);
  process.exit(1);
});
