// errors.js — every error the package throws is a DeepDreamError with a
// stable `code` (the C core's status name, e.g. 'DD_ERR_PARSE') and the
// core's message. The status names and values are not kept here: the core's
// DD_STATUS_LIST is read when a core loads (seam.js) and registered below.
export class DeepDreamError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'DeepDreamError';
    this.code = code;
  }
}

/**
 * The core's statuses by short name (OK, DONE, PARSE, ... to their values),
 * filled from the core when the first core loads (before that, empty).
 */
export const Status = {};
const names = new Map(); // value -> 'DD_ERR_PARSE'

/**
 * Registers the core's status list [{value, name}]. A second core (st and mt
 * are separate builds) must list the same statuses.
 * @internal
 */
export function registerStatuses(list) {
  if (names.size) {
    const same = list.length === names.size && list.every(({ value, name }) => names.get(value) === name);
    if (!same) throw new DeepDreamError('DD_ERR_INTERNAL', 'deepdream-wasm: two loaded cores list different statuses');
    return;
  }
  for (const { value, name } of list) {
    names.set(value, name);
    Status[name.replace(/^DD_(ERR_)?/, '')] = value;
  }
  Object.freeze(Status);
}

export function statusName(s) {
  return names.get(s) || `DD_ERR_UNKNOWN(${s})`;
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
