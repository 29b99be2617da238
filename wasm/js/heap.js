// heap.js — small helpers for moving data in and out of the wasm heap.
// Always re-read M.HEAP* views after a call that may grow memory.
import { DeepDreamError, statusName } from './errors.js';

export function malloc(M, bytes) {
  const p = M._malloc(Math.max(1, bytes));
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
    f32: (arr) => { const p = malloc(M, arr.length * 4); ptrs.push(p); M.HEAPF32.set(arr, p >> 2); return p; },
    i32: (arr) => { const p = malloc(M, Math.max(1, arr.length) * 4); ptrs.push(p); M.HEAP32.set(arr, p >> 2); return p; },
    u8: (arr) => { const p = malloc(M, arr.length); ptrs.push(p); M.HEAPU8.set(arr, p); return p; },
    err: () => { const p = malloc(M, M._ddw_error_size()); ptrs.push(p); M.HEAP32[p >> 2] = 0; M.HEAPU8[p + 4] = 0; return p; },
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
