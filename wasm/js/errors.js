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

// Node system errors (fs, net) by code: the sentence a user reads.
const SYSTEM_REASONS = {
  ENOENT: 'no such file or directory', EACCES: 'permission denied', EPERM: 'operation not permitted',
  EISDIR: 'it is a directory', ENOTDIR: 'a part of the path is not a directory', EEXIST: 'it already exists',
  ENOSPC: 'no space left on the disk', EDQUOT: 'the disk quota is exhausted', EROFS: 'the file system is read-only',
  EMFILE: 'too many open files', ENAMETOOLONG: 'the file name is too long', ECONNREFUSED: 'the connection was refused',
};

/**
 * Any error as a DeepDreamError with a sentence: a DeepDreamError passes
 * through; a Node system error becomes DD_ERR_IO ("<context>: '<path>': no
 * such file or directory"); a TypeError/RangeError/SyntaxError raised by a
 * bad argument (e.g. "Cannot convert abc to a BigInt") DD_ERR_INVALID_ARGUMENT;
 * anything else DD_ERR_INTERNAL. The original is kept as `cause`.
 */
export function asDeepDreamError(e, context) {
  if (e instanceof DeepDreamError) return e;
  const where = context ? `${context}: ` : '';
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') {
    const reason = SYSTEM_REASONS[e.code] || String(e.message || e.code).replace(/^[A-Z]+: /, '');
    return new DeepDreamError('DD_ERR_IO', `${where}${e.path ? `'${e.path}': ` : ''}${reason}`, { cause: e });
  }
  if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError) {
    return new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `${where}invalid argument: ${e.message}`, { cause: e });
  }
  return new DeepDreamError('DD_ERR_INTERNAL', `${where}${e && e.message ? e.message : String(e)}`, { cause: e });
}
