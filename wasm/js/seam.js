// seam.js — the C<->JS seam, read from the core when it loads and checked:
// the status list (DD_STATUS_LIST), the option table (include/deepdream_options.h)
// and the memory layouts of dd_dream_options and dd_progress. What this JS was
// written for is stated once, below; a core that differs (a renamed, retyped,
// added or removed field or option) is refused at load with a DeepDreamError
// naming the difference, instead of passing values into the wrong places.
import { DeepDreamError, registerStatuses } from './errors.js';

export const OPTION_KINDS = ['flag', 'int', 'number', 'seed', 'choice', 'size', 'channels', 'layer', 'text'];
export const FIELD_TYPES = { 1: 'i32', 2: 'i64', 3: 'u64', 4: 'f64', 5: 'ptr' };

/** The JS API's dream options: JS name -> [the core's option name, kind]. */
export const DREAM_OPTIONS = Object.freeze({
  layer: ['layer', 'layer'], channels: ['channels', 'channels'], iterations: ['iterations', 'int'],
  stepSize: ['step', 'number'], tileSize: ['tile', 'int'], repeats: ['octaves', 'int'], rescale: ['rescale', 'number'],
  blend: ['blend', 'number'], seed: ['seed', 'seed'], inputMean: ['mean', 'number'], resample: ['resample', 'choice'],
  // beyond the tutorial (issue 15; include/deepdream_options.h)
  objective: ['objective', 'text'], tv: ['tv', 'number'], gradient: ['gradient', 'choice'],
  lapLevels: ['lap-levels', 'int'], roll: ['roll', 'int'], pad: ['pad', 'int'], jitter: ['jitter', 'int'],
  scale: ['scale', 'number'], rotate: ['rotate', 'number'],
});

/** Progress as JS reports it: JS name -> [dd_progress member, type]. */
export const PROGRESS_FIELDS = Object.freeze({
  octave: ['octave', 'i32'], numOctaves: ['num_octaves', 'i32'], iteration: ['iteration', 'i32'],
  numIterations: ['num_iterations', 'i32'], tile: ['tile', 'i32'], numTiles: ['num_tiles', 'i32'],
  tilesDone: ['tiles_done', 'i64'], tilesTotal: ['tiles_total', 'i64'], fraction: ['fraction', 'f64'],
  tileX: ['tile_x', 'i32'], tileY: ['tile_y', 'i32'], tileWidth: ['tile_w', 'i32'], tileHeight: ['tile_h', 'i32'],
  imageWidth: ['image_w', 'i32'], imageHeight: ['image_h', 'i32'], gradMin: ['grad_min', 'f64'],
  gradMax: ['grad_max', 'f64'], stepScaled: ['step_scaled', 'f64'],
  // where the core's time went (ms, since this dream object began): see dd_progress in include/deepdream.h
  msCore: ['ms_core', 'f64'], msGradient: ['ms_gradient', 'f64'], msTiles: ['ms_tiles', 'f64'],
  msStats: ['ms_stats', 'f64'], msSmooth: ['ms_smooth', 'f64'], msUpdate: ['ms_update', 'f64'],
  msLevels: ['ms_levels', 'f64'],
});

const SIZES = { i32: 4, i64: 8, u64: 8, f64: 8 };

/** Reads the seam from a loaded core: {statuses, options, layouts: {options, progress}}. */
export function readSeam(M) {
  const str = (p) => (p ? M.UTF8ToString(p) : null);
  const statuses = [];
  for (let i = 0, n = M._ddw_status_count(); i < n; i++) {
    const value = M._ddw_status_at(i);
    statuses.push({ value, name: str(M._ddw_status_string(value)) });
  }
  const nums = M._malloc(4 * 8), strs = M._malloc(5 * 4), info = M._malloc(8);
  try {
    const options = [];
    for (let i = 0, n = M._ddw_option_count(); i < n; i++) {
      M._ddw_option_describe(i, nums, strs);
      const d = M.HEAPF64.subarray(nums >>> 3, (nums >>> 3) + 4), w = M.HEAPU32.subarray(strs >>> 2, (strs >>> 2) + 5);
      options.push({ name: str(w[0]), field: str(w[1]), kind: OPTION_KINDS[d[0]] ?? `kind ${d[0]}`, min: d[1], max: d[2],
        open: d[3], choices: str(w[2]), arg: str(w[3]), help: str(w[4]) });
    }
    const layouts = {};
    for (const [which, key] of [[0, 'options'], [1, 'progress']]) {
      M._ddw_layout(which, info);
      const count = M.HEAPU32[info >>> 2], size = M.HEAPU32[(info >>> 2) + 1], fields = [];
      for (let i = 0; i < count; i++) {
        const name = str(M._ddw_layout_field(which, i, info));
        fields.push({ name, offset: M.HEAPU32[info >>> 2], type: FIELD_TYPES[M.HEAPU32[(info >>> 2) + 1]] ?? 'unknown' });
      }
      layouts[key] = { size, fields };
    }
    return { statuses, options, layouts };
  } finally {
    M._free(nums); M._free(strs); M._free(info);
  }
}

function mismatch(what) {
  return new DeepDreamError('DD_ERR_INTERNAL', `deepdream-wasm: the wasm core does not match this JavaScript: ${what} (rebuild with "npm run build")`);
}

/** Throws a DeepDreamError DD_ERR_INTERNAL naming the first difference between the seam and what this JS expects. */
export function checkSeam(seam) {
  const st = new Map(seam.statuses.map((s) => [s.name, s.value]));
  if (st.get('DD_OK') !== 0 || st.get('DD_DONE') !== 1) throw mismatch('the status list lacks DD_OK = 0 or DD_DONE = 1');
  for (const { name, value } of seam.statuses) {
    if (!/^DD_(ERR_)?[A-Z_]+$/.test(name || '') || (value < 0) !== name.startsWith('DD_ERR_')) throw mismatch(`status ${value} is named '${name}'`);
  }
  const byName = new Map(seam.options.map((o) => [o.name, o]));
  for (const [js, [name, kind]] of Object.entries(DREAM_OPTIONS)) {
    const o = byName.get(name);
    if (!o || !o.field) throw mismatch(`dream option '${js}' expects the core's option '${name}', which ${o ? 'sets no dd_dream_options member' : 'does not exist'}`);
    if (o.kind !== kind) throw mismatch(`option '${name}' is of kind '${o.kind}', expected '${kind}'`);
  }
  const optionMembers = new Set(seam.layouts.options.fields.map((f) => f.name));
  for (const o of seam.options) if (o.field && !optionMembers.has(o.field)) throw mismatch(`option '${o.name}' sets '${o.field}', which dd_dream_options' layout does not list`);
  const known = new Set(Object.values(DREAM_OPTIONS).map(([n]) => n));
  for (const o of seam.options) if (o.field && !known.has(o.name)) throw mismatch(`the core's dream option '${o.name}' (${o.field}) is unknown to the JS API`);
  const { size, fields } = seam.layouts.progress;
  const members = new Map(fields.map((f) => [f.name, f]));
  for (const [js, [name, type]] of Object.entries(PROGRESS_FIELDS)) {
    const f = members.get(name);
    if (!f) throw mismatch(`dd_progress has no member '${name}' (progress.${js})`);
    if (f.type !== type) throw mismatch(`dd_progress.${name} is ${f.type}, expected ${type}`);
    if (f.offset % SIZES[type] || f.offset + SIZES[type] > size) throw mismatch(`dd_progress.${name} at offset ${f.offset} does not fit a ${size}-byte struct`);
  }
  const expected = new Set(Object.values(PROGRESS_FIELDS).map(([n]) => n));
  for (const f of fields) if (!expected.has(f.name)) throw mismatch(`dd_progress has a member '${f.name}' unknown to the JS API`);
  return seam;
}

/** Reads and checks the seam of a freshly loaded core; registers its statuses. @internal */
export function installSeam(M) {
  M.ddSeam = checkSeam(readSeam(M));
  registerStatuses(M.ddSeam.statuses);
  M.ddProgress = Object.entries(PROGRESS_FIELDS).map(([js, [name]]) => {
    const f = M.ddSeam.layouts.progress.fields.find((x) => x.name === name);
    return { js, offset: f.offset, type: f.type };
  });
  M.ddProgressSize = M.ddSeam.layouts.progress.size;
}

/** Reads a dd_progress at ptr through the checked layout. @internal */
export function readProgress(M, ptr) {
  const p = {};
  for (const { js, offset, type } of M.ddProgress) {
    const a = ptr + offset;
    if (type === 'i32') p[js] = M.HEAP32[a >>> 2];
    else if (type === 'f64') p[js] = M.HEAPF64[a >>> 3];
    else p[js] = M.HEAPU32[a >>> 2] + M.HEAP32[(a >>> 2) + 1] * 4294967296; // i64, < 2^53
  }
  return p;
}
