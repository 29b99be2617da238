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
 * The core's statuses by short name ({OK: 0, DONE: 1, PARSE: -3, ...}),
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
