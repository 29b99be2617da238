/* tiles.h — the tutorial's tile grid (get_tile_size and tiled_gradient's loops).
 *
 * Coordinates: the tutorial's "x" is numpy axis 0 = image rows (height) and
 * its "y" is axis 1 = columns (width). A dd_tile names rows and columns
 * explicitly: top/height are along rows (tutorial x), left/width along
 * columns (tutorial y). All sizes are pixels.
 *
 * dd_tile_size(n, t) is get_tile_size(num_pixels=n, tile_size=t):
 *   num_tiles = max(1, int(round(n / t)))   # Python 3 round: half to even,
 *                                           # round(2.5) == 2, round(3.5) == 4
 *   return math.ceil(n / num_tiles)
 * computed exactly (double quotient, ties to even; the ceiling in integers,
 * which equals math.ceil of the double quotient for all int inputs).
 *
 * dd_tiles_layout draws one iteration's tile grid exactly in the order of
 * tiled_gradient:
 *   x_tile = dd_tile_size(h, tile_size); x4 = x_tile / 4   (tutorial's x: rows)
 *   y_tile = dd_tile_size(w, tile_size); y4 = y_tile / 4   (tutorial's y: columns)
 *   x_start = randint(-3*x4, -x4)                 -- once per layout
 *   while x_start < h:
 *     y_start = randint(-3*y4, -y4)               -- once per row of tiles
 *     while y_start < w:
 *       tile = rows [max(x_start,0), min(x_start+x_tile,h)) x
 *              cols [max(y_start,0), min(y_start+y_tile,w))
 *       y_start += y_tile
 *     x_start += x_tile
 * randint is dd_rng_randint (inclusive bounds, Python's random.randint
 * semantics; a degenerate range lo == hi draws nothing). So the rng advances
 * by exactly 1 + (number of tile rows) draws, and a dream that restores the
 * rng state redraws the same grid. Tiles come out row-major: tile rows
 * (top) outer, columns (left) inner. Every pixel is in exactly one tile;
 * every tile has height, width >= 1. The first tile of each axis is at least
 * x_tile - 3*x4 >= x_tile/4 long; the last is at least x4 - (tiles on that
 * axis - 1) long (at least about a quarter tile, as the tutorial intends).
 */
#ifndef DD_DREAM_TILES_H
#define DD_DREAM_TILES_H

#include "core/core.h"

typedef struct dd_tile {
  int top, left;     /* first row, first column */
  int height, width; /* rows, columns; >= 1 */
} dd_tile;

/* get_tile_size. num_pixels >= 0, tile_size >= 1; else -1. */
int dd_tile_size(int num_pixels, int tile_size);

/* Python 3 round() of a double to an integer: nearest, ties to even. */
double dd_round_half_even(double x);

/* An upper bound of dd_tiles_layout's count for any rng state:
   ceil((h + 3*x4) / x_tile) * ceil((w + 3*y4) / y_tile). -1 on invalid sizes. */
int dd_tiles_max_count(int h, int w, int tile_size);

/* Draws one iteration's layout (see above). Writes at most max_tiles tiles
   and returns the layout's full tile count; if it exceeds max_tiles, the
   extra tiles are not written (the rng still advances over the whole layout,
   so the stream stays aligned). -1 for invalid arguments (rng NULL, h, w or
   tile_size < 1, tiles NULL with max_tiles > 0), in which case rng is not
   touched. */
int dd_tiles_layout(dd_rng *rng, int h, int w, int tile_size, dd_tile *tiles, int max_tiles);

#endif /* DD_DREAM_TILES_H */
