// onnx_standins.js — the ONNX stand-ins (models/onnx/make-standins.py) for
// tests and benchmarks: generated once into build/onnx-standins (reused while
// newer than the script), and onnxruntime-node sessions on copies with every
// dream layer as an output. null when Debian's python3-onnx is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'models/onnx/make-standins.py');
export const standinDir = process.env.DD_STANDIN_DIR || join(root, 'build/onnx-standins');

let python;
/** The Python that has the onnx package (Debian's python3-onnx), or null. */
export function onnxPython() {
  if (python !== undefined) return python;
  python = null;
  for (const p of [process.env.DD_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean)) {
    try { execFileSync(p, ['-c', 'import onnx, numpy'], { stdio: 'ignore' }); python = p; break; } catch { /* next */ }
  }
  return python;
}

const fresh = (path, than) => existsSync(path) && statSync(path).mtimeMs >= statSync(than).mtimeMs;

/** Path of the named stand-in (bvlc_googlenet, vgg16, resnet50), generated if needed; null without python3-onnx. */
export function standin(name) {
  const py = onnxPython();
  if (!py) return null;
  const path = join(standinDir, `${name}.onnx`);
  if (!fresh(path, script)) {
    mkdirSync(standinDir, { recursive: true });
    execFileSync(py, [script, standinDir, name], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return path;
}

/** A copy of `path` whose outputs are `tensors` (and nothing after them), any height and width. */
export function withOutputs(path, tensors, tag) {
  const out = path.replace(/\.onnx$/, `.${tag}.onnx`);
  if (!fresh(out, path) || !fresh(out, script)) execFileSync(onnxPython(), [script, '--outputs', path, out, ...tensors], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

export function ort() {
  return createRequire(import.meta.url)('onnxruntime-node');
}

/** NHWC (ours) -> NCHW (ONNX) and back, batch 1. */
export function toNCHW(x, H, W, C) {
  const y = new Float32Array(x.length);
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) y[(c * H + h) * W + w] = x[(h * W + w) * C + c];
  return y;
}
export function toNHWC(x, C, H, W) {
  const y = new Float32Array(x.length);
  for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) y[(h * W + w) * C + c] = x[(c * H + h) * W + w];
  return y;
}
