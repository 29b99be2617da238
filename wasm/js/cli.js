#!/usr/bin/env node
// cli.js — `npx deepdream-wasm in.jpg out.jpg --layer mixed4b --octaves 4 --seed 7`
// The same options as the native CLI, running the wasm core in Node.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadModel, dream, decodeImage, encodeImage, resumeDream, DEFAULTS } from './index.js';
import { resolveModelArg } from './registry.js';
import { asDeepDreamError } from './errors.js';

const HELP = `usage: deepdream-wasm [options] INPUT OUTPUT
DeepDream as Hvass-Labs TensorFlow tutorial #14 does it, on a TensorFlow GraphDef model.
  --model PATH|NAME   GraphDef .pb or a .zip holding one; or a model name (inception5h), downloaded once
                      into $XDG_CACHE_HOME/deepdream-wasm (default: $DEEPDREAM_MODEL, else the bundled model)
  --layer NAME|INDEX  layer to amplify (default 2)
  --channels LIST     channel subset, e.g. 0:3 or 0,5,9
  --iterations N (10)  --step X (3.0)  --tile N (400)  --octaves N (4)  --rescale X (0.7)
  --blend X (0.2)  --seed N (0)  --mean X (0)  --resample u8|float
  --noise WxH         start from seeded random noise (INPUT is ignored: use -)
  --show-gradient F   write the final smoothed gradient as an image
  --checkpoint DIR    save the dream state in DIR while dreaming (every 8 tiles)
  --resume ID         continue dream ID from --checkpoint DIR
  --threads N         threads (default: one per core)
  --quality N         JPEG quality (92)
  --list-layers       print the model's layers and exit
  --profile           time one gradient step (tile x tile) per op, and exit
  --quiet             no progress bar`;

function parse(argv) {
  const a = { pos: [], o: {} };
  const num = (k, v) => { const n = Number(v); if (!Number.isFinite(n)) throw new Error(`${k} needs a number, got '${v}'`); return n; };
  const int = (k, v) => { try { return BigInt(v); } catch { throw new Error(`${k} needs an integer, got '${v}'`); } };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    switch (k) {
      case '-h': case '--help': a.help = true; break;
      case '--quiet': a.quiet = true; break;
      case '--list-layers': a.list = true; break;
      case '--profile': a.profile = true; break;
      case '--model': a.model = v(); break;
      case '--layer': { const s = v(); a.o.layer = /^\d+$/.test(s) ? Number(s) : s; break; }
      case '--channels': a.o.channels = v(); break;
      case '--iterations': a.o.iterations = num(k, v()); break;
      case '--step': a.o.stepSize = num(k, v()); break;
      case '--tile': a.o.tileSize = num(k, v()); break;
      case '--octaves': a.o.repeats = num(k, v()); break;
      case '--rescale': a.o.rescale = num(k, v()); break;
      case '--blend': a.o.blend = num(k, v()); break;
      case '--seed': a.o.seed = int(k, v()); break;
      case '--mean': a.o.inputMean = num(k, v()); break;
      case '--resample': { const s = v(); a.o.resample = s === 'float' ? 'lanczos-float' : s === 'u8' ? 'lanczos-u8' : s; break; }
      case '--noise': { const m = v().match(/^(\d+)x(\d+)$/); if (!m) throw new Error('--noise takes WxH'); a.noise = [Number(m[1]), Number(m[2])]; break; }
      case '--show-gradient': a.grad = v(); break;
      case '--checkpoint': a.checkpoint = v(); break;
      case '--resume': a.resume = v(); break;
      case '--threads': a.threads = num(k, v()); break;
      case '--quality': a.quality = num(k, v()); break;
      default:
        if (k.startsWith('--')) throw new Error(`unknown option ${k} (see --help)`);
        a.pos.push(k);
    }
  }
  return a;
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
  let a;
  try { a = parse(process.argv.slice(2)); } catch (e) { console.error(`deepdream-wasm: ${e.message}`); return 2; }
  if (a.help) { console.log(HELP); return 0; }
  if (!a.list && !a.profile && a.pos.length !== 2 && !(a.resume && a.pos.length >= 1)) { console.error(HELP); return 2; }
  const modelPath = await resolveModelArg(a.model || process.env.DEEPDREAM_MODEL || fileURLToPath(new URL('../../models/default-model.pb', import.meta.url)),
    { onProgress: a.quiet ? undefined : downloadBar() });
  const model = await loadModel(modelPath, { threads: a.threads });
  if (a.list) {
    console.log('dream layers (--layer NAME or INDEX):');
    for (const l of model.layers) console.log(`  ${String(l.index).padStart(2)}  ${l.name.padEnd(28)} ${String(l.channels).padStart(5)} channels`);
    console.log(`conv layers: ${model.convLayers.length}, ${model.convLayers.reduce((s, l) => s + l.channels, 0)} channels`);
    return 0;
  }
  if (a.o.layer === undefined) a.o.layer = Math.min(2, model.layers.length - 1);
  if (a.profile) {
    const t = a.o.tileSize ?? 400, x = new Float32Array(t * t * 3);
    for (let i = 0; i < x.length; i++) x[i] = (i * 2654435761 >>> 24);
    model.profile(x, t, t, a.o.layer);
    return 0;
  }
  const out = a.pos[a.pos.length - 1];
  let image;
  if (a.noise) {
    const [w, h] = a.noise;
    const data = new Uint8Array(w * h * 3);
    let s = BigInt(a.o.seed ?? 0) ^ 0x6e6f697365n;
    for (let i = 0; i < data.length; i++) { s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn; data[i] = 100 + Number(s >> 58n) * 0.875 * 8; }
    image = { data, width: w, height: h, channels: 3 };
  } else if (!a.resume) {
    const bytes = await readFile(a.pos[0]).catch((e) => { throw asDeepDreamError(e, 'cannot read the input image'); });
    image = await decodeImage(bytes);
  }
  const t0 = performance.now();
  const onProgress = a.quiet ? undefined : bar;
  const checkpoint = a.checkpoint ? { storage: a.checkpoint, everyTiles: 8 } : undefined;
  const c = a.resume ? await resumeDream(model, a.resume, { checkpoint: { storage: a.checkpoint || '.' }, onProgress })
    : dream(model, image, { ...a.o, onProgress, checkpoint });
  if (checkpoint && !a.quiet) process.stderr.write(`checkpointing as '${c.id}' in ${a.checkpoint}\n`);
  process.on('SIGINT', () => c.abort());
  let result;
  try {
    result = await c.result;
  } catch (e) {
    if (!a.quiet) process.stderr.write('\n');
    if (e.code === 'DD_ERR_ABORTED' && checkpoint) { console.error(`deepdream-wasm: interrupted; resume with --checkpoint ${a.checkpoint} --resume ${c.id}`); return 130; }
    throw e;
  }
  if (!a.quiet) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}dream: ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  const jpeg = /\.jpe?g$/i.test(out);
  const encoded = await encodeImage(result, jpeg ? 'jpeg' : 'png', a.quality ?? 92);
  await writeFile(out, encoded).catch((e) => { throw asDeepDreamError(e, 'cannot write the output image'); });
  if (!a.quiet) process.stderr.write(`wrote ${out} (${result.width}x${result.height})\n`);
  model.free();
  return 0;
}

main().then((rc) => process.exit(rc), (raw) => {
  const e = asDeepDreamError(raw); // no raw JS error reaches the user
  console.error(`deepdream-wasm: ${e.code}: ${e.message}`);
  process.exit(1);
});
