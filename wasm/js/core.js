// core.js — loads the C core compiled to WebAssembly.
//
// Two builds ship in wasm/dist: deepdream-core-st (SIMD, single thread; runs
// everywhere) and deepdream-core-mt (SIMD + pthreads; needs SharedArrayBuffer,
// i.e. Node, or a cross-origin isolated page). loadCore picks one.
export const isNode = typeof process === 'object' && !!(process.versions && process.versions.node);

const cache = new Map();
let startHook = null;

/**
 * @internal worker.js: fn(variant, started) is called when a build starts
 * instantiating (started: its promise). The threaded build creates its thread
 * Workers synchronously there, which a browser may never finish (see worker.js).
 */
export function setCoreStartHook(fn) { startHook = fn; }

/** True when the threaded build can run here. */
export function threadsSupported() {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (isNode) return true;
  return typeof globalThis.crossOriginIsolated === 'boolean' ? globalThis.crossOriginIsolated : false;
}

/** Default thread count: one per core (navigator.hardwareConcurrency or os.availableParallelism). */
export async function defaultThreadCount() {
  if (isNode) {
    const os = await import('node:os');
    return os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  }
  return (globalThis.navigator && navigator.hardwareConcurrency) || 1;
}

/**
 * Loads (once) and returns the Emscripten module.
 * @param {{useThreadedBuild?: boolean, threads?: boolean}} [opts] useThreadedBuild
 *   (as in loadModel; `threads` is its older name): true forces the threaded
 *   build, false the single-threaded one; undefined picks threaded when supported.
 */
export async function loadCore(opts = {}) {
  const pick = opts.useThreadedBuild ?? opts.threads;
  const wantThreads = pick === undefined ? threadsSupported() : !!pick;
  const variant = wantThreads ? 'mt' : 'st';
  if (!cache.has(variant)) {
    const started = instantiate(variant);
    cache.set(variant, started);
    if (startHook) startHook(variant, started);
  }
  return cache.get(variant);
}

async function instantiate(variant) {
  const glueUrl = new URL(`../dist/deepdream-core-${variant}.mjs`, import.meta.url);
  const wasmUrl = new URL(`../dist/deepdream-core-${variant}.wasm`, import.meta.url);
  let factory;
  try {
    factory = (await import(glueUrl.href)).default;
  } catch (e) {
    throw new Error(`deepdream-wasm: cannot load ${glueUrl.href} (did you run "npm run build"?): ${e.message}`);
  }
  const opts = {};
  if (isNode) {
    const { readFile } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    opts.wasmBinary = await readFile(fileURLToPath(wasmUrl));
  } else {
    opts.locateFile = (path) => new URL(`../dist/${path}`, import.meta.url).href;
  }
  const M = await factory(opts);
  M.ddVariant = variant;
  M.__heap = await import('./heap.js');
  if (variant === 'mt') M.__heap.growableViews(M); // any thread may grow the shared memory: views re-derived on read
  (await import('./seam.js')).installSeam(M); // statuses, option table, layouts: checked before first use
  if (isNode && variant === 'mt' && M.PThread) {
    // Let Node exit while pool workers idle.
    for (const w of [...(M.PThread.unusedWorkers || []), ...(M.PThread.runningWorkers || [])]) w.unref?.();
  }
  return M;
}
