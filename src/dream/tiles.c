/* tiles.c — get_tile_size and tiled_gradient's tile grid (see tiles.h). */
#include "dream/tiles.h"

#include <math.h>

double dd_round_half_even(double x) {
  double f = floor(x), d = x - f; /* exact for finite x */
  if (d > 0.5) return f + 1.0;
  if (d < 0.5) return f;
  return fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

int dd_tile_size(int num_pixels, int tile_size) {
  if (num_pixels < 0 || tile_size < 1) return -1;
  /* int(round(num_pixels / tile_size)): true division in double */
  double r = dd_round_half_even((double)num_pixels / (double)tile_size);
  int num_tiles = r < 1.0 ? 1 : (int)r;
  /* math.ceil(num_pixels / num_tiles): the double quotient is never within
     rounding distance of an integer it is not equal to, so this is exact. */
  return (int)(((long long)num_pixels + num_tiles - 1) / num_tiles);
}

static int axis_max(int n, int tile) {
  long long t4 = tile / 4;
  return (int)(((long long)n + 3 * t4 + tile - 1) / tile);
}

int dd_tiles_max_count(int h, int w, int tile_size) {
  if (h < 1 || w < 1 || tile_size < 1) return -1;
  long long n = (long long)axis_max(h, dd_tile_size(h, tile_size)) * axis_max(w, dd_tile_size(w, tile_size));
  return n > 0x7fffffffLL ? -1 : (int)n;
}

int dd_tiles_layout(dd_rng *rng, int h, int w, int tile_size, dd_tile *tiles, int max_tiles) {
  if (!rng || h < 1 || w < 1 || tile_size < 1 || max_tiles < 0 || (!tiles && max_tiles > 0)) return -1;
  const int x_tile = dd_tile_size(h, tile_size), x4 = x_tile / 4;
  const int y_tile = dd_tile_size(w, tile_size), y4 = y_tile / 4;
  int count = 0;
  /* 64-bit positions: x_start + x_tile cannot overflow */
  long long x_start = dd_rng_randint(rng, -3LL * x4, -(long long)x4);
  while (x_start < h) {
    const long long x_end = x_start + x_tile;
    const int x0 = x_start > 0 ? (int)x_start : 0;
    const int x1 = x_end < h ? (int)x_end : h;
    long long y_start = dd_rng_randint(rng, -3LL * y4, -(long long)y4);
    while (y_start < w) {
      const long long y_end = y_start + y_tile;
      const int y0 = y_start > 0 ? (int)y_start : 0;
      const int y1 = y_end < w ? (int)y_end : w;
      if (count < max_tiles) {
        tiles[count].top = x0;
        tiles[count].left = y0;
        tiles[count].height = x1 - x0;
        tiles[count].width = y1 - y0;
      }
      if (count < 0x7fffffff) count++;
      y_start = y_end;
    }
    x_start = x_end;
  }
  return count;
}
