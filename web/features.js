// features.js — what this browser offers the demo, detected once, and the one
// line the page shows when it falls back. The engines differ (see README's
// feature table): WebKitGTK, for one, gives no SharedArrayBuffer even to a
// cross-origin isolated page, so the core runs single-threaded there.
//   simd            WebAssembly SIMD (both builds need it: without it the demo cannot run)
//   sharedMemory    SharedArrayBuffer exists on this thread
//   isolated        crossOriginIsolated
//   threads         the threaded build can run (isolated and shared memory)
//   moduleWorker    new Worker(url, {type: 'module'}) is honoured (else the core runs on the page's thread)
//   offscreenCanvas OffscreenCanvas with a 2D context (else a detached <canvas> does its work)

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — the SIMD probe of wasm-feature-detect
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

function moduleWorkerSupported() {
  if (typeof Worker !== 'function') return false;
  let read = false; // only browsers with module Workers read the option; the invalid URL then stops the constructor
  try { new Worker('http://[', { get type() { read = true; return 'module'; } }); } catch { /* as intended */ }
  return read;
}

function offscreenCanvasSupported() {
  try { return typeof OffscreenCanvas === 'function' && !!new OffscreenCanvas(1, 1).getContext('2d'); } catch { return false; }
}

let cached = null;
/** The features of this browser (computed once). */
export function detectFeatures() {
  if (cached) return cached;
  const g = globalThis;
  let simd = false;
  try { simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE); } catch { simd = false; }
  const sharedMemory = typeof g.SharedArrayBuffer === 'function';
  const isolated = g.crossOriginIsolated === true;
  cached = Object.freeze({ simd, sharedMemory, isolated, threads: sharedMemory && isolated,
    moduleWorker: moduleWorkerSupported(), offscreenCanvas: offscreenCanvasSupported() });
  return cached;
}

/**
 * The one line the page shows for what it fell back to, or null when nothing
 * did (the not-isolated case has its own notice). model: the loaded model (its variant), if any.
 */
export function fallbackLine(f = detectFeatures(), model = null) {
  if (!f.simd) return 'This browser has no WebAssembly SIMD, which the core needs: dreaming cannot run here (use a current Firefox, Chrome or Safari).';
  const parts = [];
  if (model && model.fallback) parts.push(`single-threaded: ${model.fallback}`);
  else if (f.isolated && (!f.sharedMemory || (model && model.variant === 'st')))
    parts.push('single-threaded: this browser gives no SharedArrayBuffer to the page even though it is cross-origin isolated, so the core runs on one thread (slower)');
  if (!f.moduleWorker) parts.push('no module Workers: the core runs on the page\'s own thread, so the page may pause while a tile is computed');
  if (!f.offscreenCanvas) parts.push('no OffscreenCanvas: pictures are drawn with an ordinary canvas');
  if (!parts.length) return null;
  const s = parts.join('; ');
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

/** "Engine: …" for the page's footer. */
export function engineLine(model, f = detectFeatures()) {
  const build = model.variant === 'mt' ? `threaded SIMD build, ${model.threads} threads` : 'single-threaded SIMD build';
  return `Engine: ${build} ${model.remote ? 'in a Worker' : 'on the page\'s thread'} · ${f.isolated ? 'cross-origin isolated' : 'not cross-origin isolated'}`
    + `${f.isolated && !f.sharedMemory ? ' (no SharedArrayBuffer)' : ''}`;
}

/** Shows (or hides) the page's #compat-notice line. */
export function showFallbacks(model = null) {
  const el = document.getElementById('compat-notice');
  if (!el) return;
  const line = fallbackLine(detectFeatures(), model);
  el.textContent = line || '';
  el.hidden = !line;
}

/** A 2D canvas for off-screen work: an OffscreenCanvas where there is one, else a detached <canvas>. */
export function scratchCanvas(width, height) {
  if (detectFeatures().offscreenCanvas) return new OffscreenCanvas(width, height);
  return Object.assign(document.createElement('canvas'), { width, height });
}

/** Encodes a scratchCanvas as a Blob of the given type. */
export function canvasBlob(canvas, type, quality) {
  if (typeof canvas.convertToBlob === 'function') return canvas.convertToBlob({ type, quality });
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error(`this browser cannot encode ${type}`))), type, quality));
}
