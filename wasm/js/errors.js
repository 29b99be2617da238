// errors.js — every error the package throws is a DeepDreamError with a
// stable `code` (the C core's status name, e.g. 'DD_ERR_PARSE') and the
// core's message.
export class DeepDreamError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'DeepDreamError';
    this.code = code;
  }
}

export const Status = Object.freeze({
  OK: 0, DONE: 1, INVALID_ARGUMENT: -1, OUT_OF_MEMORY: -2, PARSE: -3, UNSUPPORTED: -4, NOT_FOUND: -5,
  SHAPE: -6, GRAPH: -7, STATE_MISMATCH: -8, IO: -9, ABORTED: -10, INTERNAL: -11,
});

const names = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, v <= 0 && v !== 0 ? `DD_ERR_${k}` : `DD_${k}`]));

export function statusName(s) {
  return names[s] || `DD_ERR_UNKNOWN(${s})`;
}
