// checkpoint.js — a dream's checkpoint spec, checked when the dream is asked for
// (not at its first save, minutes later): when it saves (the schedule the caller
// chose, {everyTiles} and/or {everySeconds}, or every 8 tiles when it chose
// none) and what each record carries besides the state (checkpoint.record:
// plain data, so IndexedDB's structured clone, a Worker's postMessage and a
// checkpoint file's JSON all give the same record back). Shared by the
// in-process API (index.js, animate.js) and the Worker proxy (remote.js).
import { DeepDreamError } from './errors.js';

export const DEFAULT_EVERY_TILES = 8;
const MAX_RECORD_DEPTH = 32;

const bad = (msg) => new DeepDreamError('DD_ERR_INVALID_ARGUMENT', msg);
const aOrAn = (word) => `${/^[aeio]/i.test(word) ? 'an' : 'a'} ${word}`; // a Uint8Array, an ArrayBuffer

/** What makes v not plain data (a JSON value: null, booleans, finite numbers, strings, arrays, plain objects), or null. */
function notPlain(v, path, depth) {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${path} is ${v}`;
  if (v === undefined) return `${path} is undefined`; // a file's JSON would drop it, IndexedDB would keep it
  if (typeof v !== 'object') return `${path} is ${aOrAn(typeof v)}`;
  if (depth > MAX_RECORD_DEPTH) return `${path} is nested more than ${MAX_RECORD_DEPTH} levels deep`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const why = notPlain(v[i], `${path}[${i}]`, depth + 1);
      if (why) return why;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return `${path} is ${aOrAn((v.constructor && v.constructor.name) || 'non-plain object')}`;
  for (const [k, x] of Object.entries(v)) {
    const why = notPlain(x, `${path}.${k}`, depth + 1);
    if (why) return why;
  }
  return null;
}

/**
 * The checkpoint spec, checked, with the default schedule added only when neither everyTiles nor everySeconds
 * is set. Throws DD_ERR_INVALID_ARGUMENT for a schedule that would never save (or save at every tile by
 * mistake) and for a record that is not plain data.
 */
export function withSchedule(ck) {
  if (ck === true) ck = {}; // the default store and schedule
  if (ck === null || typeof ck !== 'object') throw bad(`checkpoint must be an object ({storage, everyTiles, everySeconds, record}), got ${ck === null ? 'null' : typeof ck}`);
  if (ck.everyTiles != null && !(Number.isInteger(ck.everyTiles) && ck.everyTiles >= 1))
    throw bad(`checkpoint.everyTiles must be a whole number of tiles >= 1, got ${JSON.stringify(ck.everyTiles)}`);
  if (ck.everySeconds != null && !(typeof ck.everySeconds === 'number' && Number.isFinite(ck.everySeconds) && ck.everySeconds > 0))
    throw bad(`checkpoint.everySeconds must be a number of seconds > 0, got ${JSON.stringify(ck.everySeconds)}`);
  if (ck.record != null) {
    if (typeof ck.record !== 'object' || Array.isArray(ck.record)) throw bad(`checkpoint.record must be an object of plain fields, got ${Array.isArray(ck.record) ? 'an array' : typeof ck.record}`);
    const why = notPlain(ck.record, 'checkpoint.record', 0);
    if (why) throw bad(`${why}: a record carries plain data only (null, booleans, finite numbers, strings, arrays, plain objects), so that every store gives it back the same`);
  }
  if (ck.everyTiles != null || ck.everySeconds != null) return { ...ck };
  return { ...ck, everyTiles: DEFAULT_EVERY_TILES };
}
