/* state.h — the saved dream state: its byte layout and what restore checks.
 *
 * The public entry points are dd_dream_save_state / dd_dream_restore
 * (include/deepdream.h); state.c implements them. A state is untrusted bytes:
 * the checksum (FNV-1a 64) only catches accidents, so restore validates every
 * field against every other before it allocates by it or indexes with it, and
 * a state it accepts satisfies the invariants of dream_impl.h.
 *
 * Layout, version 2 (version 1 is the same without the extras and choices,
 * and still loads), little-endian, no padding (i32/u32/u64/f64 as stored):
 *   header    u32 magic "DDST" (0x54534444), u32 version, u64 model fingerprint
 *   options   u32 layer name length (< 1024, no NUL), the name, i32 layer_index,
 *             i32 n_channels (0..65536), i32 channels[n_channels],
 *             i32 num_iterations, f64 step_size, i32 tile_size, i32 num_repeats,
 *             f64 rescale_factor, f64 blend, u64 seed, f64 input_mean, i32 resample
 *   extras    (version 2 only) u32 objective length (<= 65536, no NUL), the
 *             objective text (empty: the tutorial's; a guide-only dream writes
 *             guide(layer)), f64 tv, i32 gradient_mode, i32 lap_levels,
 *             i32 roll, i32 pad, i32 jitter, f64 scale, f64 rotate
 *   image     i32 width, i32 height, i32 channels (3|4)
 *   choices   (version 2 only) per term of the objective (none without one):
 *             i32 n chosen channels (k for strong/weak, else 0), i32[n]
 *             increasing channels of the layer; i32 guide positions (>= 1
 *             for guide terms, at most 2^24 floats in all, else 0),
 *             f32[positions x layer channels] finite features
 *             u8 alpha[w*h] if channels is 4
 *   position  i32 octave, i32 iteration, i32 tile, i32 n_tiles, i32 done,
 *             n_tiles x (i32 top, left, height, width)
 *   progress  u64 rng[4], f64 grad_min, grad_max, step_scaled, u64 tiles_done,
 *             f64 pixels_done, i32 last tile (top, left, height, width)
 *   pyramid   for each octave from the current one up: its base image,
 *             u8[w*h*3] (DD_RESAMPLE_LANCZOS_U8) or f32[w*h*3]
 *   current   f32 image[w*h*3], u8 gradient preview[w*h*3], and when tile > 0
 *             the partly computed gradient f32[w*h*3] (current octave's size)
 *   trailer   u64 FNV-1a 64 of every byte before it
 *
 * Restore's checks, in the order of the layout (each a row of a table in
 * state.c, named in the error message): options as dd_dream_begin checks
 * them; image size as dd_dream_begin; octave in range; iteration below
 * num_iterations unless done; tile below n_tiles, or both 0; done only at the
 * last octave's end; n_tiles at most dd_tiles_max_count of the octave; the
 * tiles the row-major grid dd_tiles_layout draws (first at the origin, each
 * next to the previous or starting the next row, none larger than the
 * octave's tile size, the last ending at the corner); the rng not all zero;
 * tiles_done and pixels_done consistent with each other and the dream's
 * total; the last tile inside the largest octave; exact total length.
 * A failed check is DD_ERR_PARSE (DD_ERR_STATE_MISMATCH for another model or
 * version) and nothing is returned. */
#ifndef DD_DREAM_STATE_H
#define DD_DREAM_STATE_H

#define DD_STATE_MAGIC 0x54534444u /* "DDST" */
#define DD_STATE_VERSION 2u
#define DD_STATE_MAX_LAYER_NAME 1023

#endif /* DD_DREAM_STATE_H */
