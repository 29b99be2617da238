// heap.js — small helpers for moving data in and out of the wasm heap.
// Always re-read M.HEAP* views after a call that may grow memory.
//
// Both builds grow their memory (st and mt, up to 4 GiB). In the threaded
// build the memory is shared, and any thread may grow it: Emscripten then
// refreshes M.HEAP* only on the thread that grew it, and an old view of a
// shared buffer does not fail, it just ends where the memory used to end (a
// read past it gives undefined, a write is dropped). growableViews() makes
// every M.HEAP* read re-derive its view when the memory has grown, so a view
// taken after a call is always whole. Do not keep a view across a call.
//
// Pointers are unsigned: the single-threaded build grows to 4 GiB, and a wasm
// export returns an i32, so a block above 2 GiB comes back negative. Every
// pointer a C call returns goes through uptr() (or checkPtr/malloc, which
// apply it), and heap indices are taken with >>> (never >>).
import { DeepDreamError, statusName } from './errors.js';

const MAX_WASM32_BYTES = 0xffffffff;

const VIEWS = { HEAP8: Int8Array, HEAPU8: Uint8Array, HEAP16: Int16Array, HEAPU16: Uint16Array, HEAP32: Int32Array,
  HEAPU32: Uint32Array, HEAPF32: Float32Array, HEAPF64: Float64Array };

/**
 * Turns M.HEAP8 ... M.HEAPF64 into getters that re-derive the view from the
 * memory when it has grown since the view was made (any thread may grow a
 * shared memory). Emscripten's own refresh (it assigns M.HEAP*) is accepted
 * and ignored: the getter derives the same view. @internal
 */
export function growableViews(M) {
  const mem = M.wasmMemory;
  if (!mem) return;
  for (const [name, View] of Object.entries(VIEWS)) {
    let view = null;
    Object.defineProperty(M, name, {
      configurable: true, enumerable: true,
      get() {
        const buf = mem.buffer;
        if (!view || view.buffer !== buf) view = new View(buf);
        return view;
      },
      set() {},
    });
  }
}

/** A pointer returned by a wasm export, as the unsigned address it is. */
export function uptr(p) { return p >>> 0; }

export function malloc(M, bytes) {
  // _malloc takes a 32-bit size_t: a larger request would wrap to a small block
  if (!(bytes <= MAX_WASM32_BYTES)) {
    throw new DeepDreamError('DD_ERR_OUT_OF_MEMORY',
      `deepdream-wasm: cannot allocate ${bytes} bytes: wasm memory holds at most 4 GiB`);
  }
  const p = M._malloc(Math.max(1, bytes)) >>> 0;
  if (!p) throw new DeepDreamError('DD_ERR_OUT_OF_MEMORY', `deepdream-wasm: cannot allocate ${bytes} bytes in wasm memory`);
  return p;
}

export function cstring(M, s) {
  const n = M.lengthBytesUTF8(s) + 1;
  const p = malloc(M, n);
  M.stringToUTF8(s, p, n);
  return p;
}

/** Runs fn(scope) and frees every pointer scope.alloc* handed out, even on throw. */
export function withScope(M, fn) {
  const ptrs = [];
  const scope = {
    alloc: (bytes) => { const p = malloc(M, bytes); ptrs.push(p); return p; },
    str: (s) => { const p = cstring(M, s); ptrs.push(p); return p; },
    f32: (arr) => { const p = malloc(M, arr.length * 4); ptrs.push(p); M.HEAPF32.set(arr, p >>> 2); return p; },
    i32: (arr) => { const p = malloc(M, Math.max(1, arr.length) * 4); ptrs.push(p); M.HEAP32.set(arr, p >>> 2); return p; },
    u8: (arr) => { const p = malloc(M, arr.length); ptrs.push(p); M.HEAPU8.set(arr, p); return p; },
    err: () => { const p = malloc(M, M._ddw_error_size()); ptrs.push(p); M.HEAP32[p >>> 2] = 0; M.HEAPU8[p + 4] = 0; return p; },
  };
  try {
    return fn(scope);
  } finally {
    for (const p of ptrs) M._free(p);
  }
}

/** Throws a DeepDreamError when status < 0, with the message in the dd_error at errPtr. */
export function check(M, status, errPtr, context) {
  if (status >= 0) return status;
  const msg = errPtr ? M.UTF8ToString(M._ddw_error_message(errPtr)) : '';
  throw new DeepDreamError(statusName(status), `${context ? context + ': ' : ''}${msg || statusName(status)}`);
}

/**
 * For a C call that returns an object: the pointer (unsigned) when it is not
 * NULL; otherwise a DeepDreamError — with the dd_error at errPtr when the core
 * filled it, and DD_ERR_INTERNAL with a sentence when it did not (a NULL
 * result never passes as a live object).
 */
export function checkPtr(M, p, errPtr, context) {
  const ptr = p >>> 0;
  if (ptr) return ptr;
  const status = errPtr ? M._ddw_error_status(errPtr) : 0;
  if (status < 0) check(M, status, errPtr, context);
  throw new DeepDreamError('DD_ERR_INTERNAL',
    `${context}: the core returned no result and gave no reason (an internal error; please report it)`);
}
