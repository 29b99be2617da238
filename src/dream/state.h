/* state.h — the saved dream state: its byte layout and what restore checks.
 *
 * The public entry points are dd_dream_save_state / dd_dream_restore
 * (include/deepdream.h); state.c implements them. A state is untrusted bytes:
 * the checksum (FNV-1a 64) only catches accidents, so restore validates every
 * field against every other before it allocates by it or indexes with it, and
 * a state it accepts satisfies the invariants of dream_impl.h.
 *
 * Layout, version 1, little-endian, no padding (i32/u32/u64/f64 as stored):
 *   header    u32 magic "DDST" (0x54534444), u32 version, u64 model fingerprint
 *   options   u32 layer name length (< 1024, no NUL), the name, i32 layer_index,
 *             i32 n_channels (0..65536), i32 channels[n_channels],
 *             i32 num_iterations, f64 step_size, i32 tile_size, i32 num_repeats,
 *             f64 rescale_factor, f64 blend, u64 seed, f64 input_mean, i32 resample
 *   image     i32 width, i32 height, i32 channels (3|4), u8 alpha[w*h] if 4
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
#define DD_STATE_VERSION 1u
#define DD_STATE_MAX_LAYER_NAME 1023

#endif /* DD_DREAM_STATE_H */
