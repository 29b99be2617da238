// checkpoint.js — when a dream saves its checkpoints: the schedule the caller
// chose ({everyTiles} and/or {everySeconds}), or every 8 tiles when it chose
// none. Shared by the in-process API (index.js) and the Worker proxy (remote.js).
export const DEFAULT_EVERY_TILES = 8;

/** The checkpoint spec with the default schedule added only when neither everyTiles nor everySeconds is set. */
export function withSchedule(ck) {
  if (ck.everyTiles != null || ck.everySeconds != null) return { ...ck };
  return { ...ck, everyTiles: DEFAULT_EVERY_TILES };
}
