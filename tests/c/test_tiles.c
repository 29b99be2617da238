/* test_tiles.c — get_tile_size (Python round semantics) and tiled_gradient's
 * tile grid: exact agreement with a literal transcription of the tutorial's
 * loops, rng draw order, coverage, offset ranges, border tile sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dream/tiles.h"
#include "testutil.h"

static void test_round_half_even(void) {
  static const double in[] = {0.0, 0.4, 0.5, 0.6, 1.5, 2.5, 3.5, 4.5, 2.4999999999999996, 2.5000000000000004,
                              -0.5, -1.5, -2.5, 1e15 + 0.5};
  static const double want[] = {0, 0, 0, 1, 2, 2, 4, 4, 2, 3, -0.0, -2, -2, 1e15};
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
    CHECKF(dd_round_half_even(in[i]) == want[i], "round(%.17g) = %.17g, want %.17g", in[i],
           dd_round_half_even(in[i]), want[i]);
}

static void test_tile_size(void) {
  /* {num_pixels, tile_size, get_tile_size} computed by Python 3.11 */
  static const int cases[][3] = {
      {1000, 400, 500}, {1400, 400, 350}, {600, 400, 300}, {200, 400, 200}, {960, 400, 480}, {540, 400, 540},
      {1920, 400, 384}, {1080, 400, 360}, {100, 400, 100}, {961, 400, 481}, {541, 400, 541}, {401, 400, 401},
      {399, 400, 399},  {37, 400, 37},    {200, 80, 100},  {280, 80, 70},   {100, 40, 50},   {900, 200, 225},
      {1100, 200, 184}, {1, 400, 1},      {3, 2, 2},       {5, 2, 3},       {7, 2, 2},       {2, 4, 2},
      {672, 400, 336},  {378, 400, 378},  {470, 400, 470}, {264, 400, 264}, {1000, 1000, 1000},
      {1500, 1000, 750}, {2500, 1000, 1250}, {999, 1, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CHECKF(dd_tile_size(cases[i][0], cases[i][1]) == cases[i][2], "get_tile_size(%d, %d) = %d, want %d",
           cases[i][0], cases[i][1], dd_tile_size(cases[i][0], cases[i][1]), cases[i][2]);
  CHECK(dd_tile_size(0, 400) == 0);
  CHECK(dd_tile_size(10, 0) == -1);
  CHECK(dd_tile_size(-1, 400) == -1);
  CHECK(dd_tile_size(2147483647, 3) > 0);
}

/* tiled_gradient's loops, transcribed line by line (x = rows, y = columns). */
static int tutorial_layout(dd_rng *rng, int x_max, int y_max, int tile_size, dd_tile *out, int cap) {
  int n = 0;
  int x_tile_size = dd_tile_size(x_max, tile_size);
  int x_tile_size4 = x_tile_size / 4;
  int y_tile_size = dd_tile_size(y_max, tile_size);
  int y_tile_size4 = y_tile_size / 4;
  int x_start = (int)dd_rng_randint(rng, -3 * x_tile_size4, -x_tile_size4);
  while (x_start < x_max) {
    int x_end = x_start + x_tile_size;
    int x_start_lim = x_start > 0 ? x_start : 0;
    int x_end_lim = x_end < x_max ? x_end : x_max;
    int y_start = (int)dd_rng_randint(rng, -3 * y_tile_size4, -y_tile_size4);
    while (y_start < y_max) {
      int y_end = y_start + y_tile_size;
      int y_start_lim = y_start > 0 ? y_start : 0;
      int y_end_lim = y_end < y_max ? y_end : y_max;
      if (n < cap) {
        out[n].top = x_start_lim;
        out[n].left = y_start_lim;
        out[n].height = x_end_lim - x_start_lim;
        out[n].width = y_end_lim - y_start_lim;
      }
      n++;
      y_start = y_end;
    }
    x_start = x_end;
  }
  return n;
}

static const int sizes[][2] = {{961, 541}, {401, 399}, {100, 100}, {37, 1000}, {540, 960}, {1, 1},
                               {3, 7},     {1080, 1920}, {378, 672}, {128, 230}, {1000, 37}};
static const int tile_sizes[] = {400, 100, 7, 3, 1000};

static void test_layout_matches_tutorial(void) {
  int layouts = 0, rows_with_own_offsets = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t t = 0; t < sizeof tile_sizes / sizeof tile_sizes[0]; t++) {
      const int h = sizes[s][0], w = sizes[s][1], ts = tile_sizes[t];
      const int maxn = dd_tiles_max_count(h, w, ts);
      CHECK(maxn >= 1);
      dd_tile *a = (dd_tile *)malloc(sizeof(dd_tile) * (size_t)maxn);
      dd_tile *b = (dd_tile *)malloc(sizeof(dd_tile) * (size_t)maxn);
      unsigned char *cover = (unsigned char *)malloc((size_t)h * w);
      const int xt = dd_tile_size(h, ts), x4 = xt / 4, yt = dd_tile_size(w, ts), y4 = yt / 4;
      for (uint64_t seed = 1; seed <= 12; seed++) {
        dd_rng r1, r2;
        dd_rng_seed(&r1, seed);
        dd_rng_seed(&r2, seed);
        int n = dd_tiles_layout(&r1, h, w, ts, a, maxn);
        int m = tutorial_layout(&r2, h, w, ts, b, maxn);
        layouts++;
        CHECKF(n == m && n >= 1 && n <= maxn, "%dx%d tile %d: %d tiles, tutorial %d, bound %d", h, w, ts, n, m, maxn);
        if (n != m || n > maxn) continue;
        CHECKF(memcmp(a, b, sizeof(dd_tile) * (size_t)n) == 0, "%dx%d tile %d seed %d: grid differs", h, w, ts,
               (int)seed);
        CHECK(memcmp(&r1, &r2, sizeof r1) == 0); /* same draws, same order */
        memset(cover, 0, (size_t)h * w);
        int bad = 0, rows = 0, prev_top = -1, first_row_left_edges = -1;
        int min_h = 1 << 30, min_w = 1 << 30;
        for (int i = 0; i < n; i++) {
          const dd_tile *q = &a[i];
          if (q->height < 1 || q->width < 1 || q->top < 0 || q->left < 0 || q->top + q->height > h ||
              q->left + q->width > w) {
            bad++;
            continue;
          }
          for (int y = q->top; y < q->top + q->height; y++)
            for (int x = q->left; x < q->left + q->width; x++) cover[(size_t)y * w + x]++;
          if (q->height < min_h) min_h = q->height;
          if (q->width < min_w) min_w = q->width;
          /* interior tiles are full size */
          if (q->top > 0 && q->top + q->height < h) bad += q->height != xt;
          if (q->left > 0 && q->left + q->width < w) bad += q->width != yt;
          if (q->top != prev_top) { /* first tile of a tile row */
            bad += q->left != 0;
            bad += q->top != (prev_top < 0 ? 0 : a[i - 1].top + a[i - 1].height);
            if (q->top == 0 && q->height < h) { /* x_start = end - x_tile */
              int x_start = q->height - xt;
              bad += x_start < -3 * x4 || x_start > -x4;
            }
            if (q->width < w) { /* this row's own y_start */
              int y_start = q->width - yt;
              bad += y_start < -3 * y4 || y_start > -y4;
              if (first_row_left_edges < 0) first_row_left_edges = q->width;
              else if (q->width != first_row_left_edges) rows_with_own_offsets++;
            }
            rows++;
            prev_top = q->top;
          } else {
            bad += q->height != a[i - 1].height || q->left != a[i - 1].left + a[i - 1].width;
          }
        }
        CHECKF(bad == 0, "%dx%d tile %d seed %d: %d layout violations", h, w, ts, (int)seed, bad);
        size_t wrong = 0;
        for (size_t p = 0; p < (size_t)h * w; p++) wrong += cover[p] != 1;
        CHECKF(wrong == 0, "%dx%d tile %d: %zu pixels not covered exactly once", h, w, ts, wrong);
        /* border tiles: first >= x_tile - 3*x4 >= x_tile/4, last >= x4 - (count - 1) */
        int cols = n / rows;
        int want_h = x4 - (rows - 1), want_w = y4 - (cols - 1);
        CHECKF(min_h >= (want_h > 1 ? want_h : 1) && min_w >= (want_w > 1 ? want_w : 1),
               "%dx%d tile %d: smallest tile %dx%d (tile %dx%d)", h, w, ts, min_h, min_w, xt, yt);
        /* the rng advanced by exactly 1 + rows draws (when the ranges are not degenerate) */
        dd_rng r3;
        dd_rng_seed(&r3, seed);
        dd_rng_randint(&r3, -3 * x4, -x4);
        for (int k = 0; k < rows; k++) dd_rng_randint(&r3, -3 * y4, -y4);
        CHECK(memcmp(&r1, &r3, sizeof r1) == 0);
      }
      free(a);
      free(b);
      free(cover);
    }
  printf("  %d layouts checked; %d tile rows drew their own column offset\n", layouts, rows_with_own_offsets);
  CHECK(rows_with_own_offsets > 0);
}

/* hulk.jpg at full size: 540 rows x 960 columns, tile 400 -> 540 x 480 tiles,
   offsets in [-405, -135] and [-360, -120]: always 2 x 3 = 6 tiles. */
static void test_hulk_grid(void) {
  CHECK(dd_tiles_max_count(540, 960, 400) >= 6);
  for (uint64_t seed = 0; seed < 50; seed++) {
    dd_rng r;
    dd_rng_seed(&r, seed);
    dd_tile t[16];
    int n = dd_tiles_layout(&r, 540, 960, 400, t, 16);
    CHECKF(n == 6, "seed %d: %d tiles", (int)seed, n);
    CHECK(t[0].top == 0 && t[0].left == 0 && t[0].height >= 135 && t[0].height <= 405);
    CHECK(t[0].width >= 120 && t[0].width <= 360);
    CHECK(t[1].width == 480 && t[3].top == t[0].height && t[3].height == 540 - t[0].height);
  }
}

static void test_truncation_and_errors(void) {
  dd_rng r1, r2;
  dd_rng_seed(&r1, 99);
  dd_rng_seed(&r2, 99);
  dd_tile all[64], few[3];
  memset(few, 0x55, sizeof few);
  int n = dd_tiles_layout(&r1, 961, 541, 100, all, 64); /* 10 x 5 grid, + border rows/cols */
  int m = dd_tiles_layout(&r2, 961, 541, 100, few, 2);
  CHECK(n == m && n > 2);
  CHECK(memcmp(all, few, 2 * sizeof(dd_tile)) == 0);
  unsigned char pad[sizeof(dd_tile)];
  memset(pad, 0x55, sizeof pad);
  CHECK(memcmp(&few[2], pad, sizeof pad) == 0); /* not written */
  CHECK(memcmp(&r1, &r2, sizeof r1) == 0);
  /* counting only (NULL, 0) gives the same count and rng advance */
  dd_rng_seed(&r1, 7);
  dd_rng_seed(&r2, 7);
  int c1 = dd_tiles_layout(&r1, 961, 541, 100, NULL, 0);
  int c2 = dd_tiles_layout(&r2, 961, 541, 100, all, 64);
  CHECK(c1 == c2 && c1 > 0);
  dd_rng before = r1;
  CHECK(dd_tiles_layout(NULL, 10, 10, 4, all, 64) == -1);
  CHECK(dd_tiles_layout(&r1, 0, 10, 4, all, 64) == -1);
  CHECK(dd_tiles_layout(&r1, 10, 10, 0, all, 64) == -1);
  CHECK(dd_tiles_layout(&r1, 10, 10, 4, NULL, 5) == -1);
  CHECK(memcmp(&before, &r1, sizeof r1) == 0);
  CHECK(dd_tiles_max_count(0, 5, 4) == -1);
  /* tile size below 4: x4 = 0, the offsets are fixed at 0 and nothing is drawn */
  dd_rng_seed(&r1, 3);
  before = r1;
  n = dd_tiles_layout(&r1, 3, 7, 2, all, 64); /* tiles 2 x 2 (see test_tile_size) */
  CHECK(n == 2 * 4);
  CHECK(memcmp(&before, &r1, sizeof r1) == 0);
}

int main(void) {
  TEST_RUN(test_round_half_even);
  TEST_RUN(test_tile_size);
  TEST_RUN(test_layout_matches_tutorial);
  TEST_RUN(test_hulk_grid);
  TEST_RUN(test_truncation_and_errors);
  return test_summary();
}
