/* ukernels.c — register-blocked f32x4 micro-kernels.
 *
 * igemm MRx8: MR rows of output pixels by 8 output channels, accumulators in
 * 2*MR f32x4 registers, one packed weight panel streamed once per call.
 *   *_4x8 / *_6x8:     one k step at a time; A broadcast by load32_splat.
 *   *_4x8s4 / *_6x8s4: four k steps per A vector load, lanes broadcast by
 *                      shuffles (fewer loads; XNNPACK's "splat" pattern).
 * wasm SIMD has no FMA, so every MAC is an f32x4 mul + add.
 *
 * gemm_tn 4x8 / 4x4: outer products accumulated over a 2-D strided pixel
 * grid, for the filter gradient dW = X^T dY. */
#include "internal.h"

/* ---- shared epilogues ----------------------------------------------------- */

/* Stores one 8-column row (lo, hi) into c[0..nc), applying the flags. */
static inline void dd_store_row8(float *c, v128_t lo, v128_t hi, size_t nc, int flags) {
  if (nc == DD_NR) {
    if (flags & DD_UK_ACCUMULATE) {
      lo = wasm_f32x4_add(lo, wasm_v128_load(c));
      hi = wasm_f32x4_add(hi, wasm_v128_load(c + 4));
    }
    if (flags & DD_UK_RELU) {
      const v128_t z = wasm_f32x4_splat(0.0f);
      lo = wasm_f32x4_pmax(lo, z);
      hi = wasm_f32x4_pmax(hi, z);
    }
    wasm_v128_store(c, lo);
    wasm_v128_store(c + 4, hi);
    return;
  }
  float t[DD_NR];
  if (flags & DD_UK_ACCUMULATE) {
    memset(t, 0, sizeof t);
    memcpy(t, c, nc * sizeof(float));
    lo = wasm_f32x4_add(lo, wasm_v128_load(t));
    hi = wasm_f32x4_add(hi, wasm_v128_load(t + 4));
  }
  if (flags & DD_UK_RELU) {
    const v128_t z = wasm_f32x4_splat(0.0f);
    lo = wasm_f32x4_pmax(lo, z);
    hi = wasm_f32x4_pmax(hi, z);
  }
  wasm_v128_store(t, lo);
  wasm_v128_store(t + 4, hi);
  memcpy(c, t, nc * sizeof(float));
}

/* One multiply-accumulate of a broadcast A value into a row's two halves. */
#define DD_MAC2(acc0, acc1, va, vb0, vb1)                 \
  do {                                                    \
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(va, vb0)); \
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(va, vb1)); \
  } while (0)

#define DD_LANE(v, l) wasm_i32x4_shuffle(v, v, l, l, l, l)

/* clang's SLP vectorizer packs the row pointers a0..a5 of these kernels into
   an i32x4 and extracts a lane for every load, which V8 runs at about half
   speed. An empty asm statement per pointer keeps each one a scalar local.
   Native builds (gcc) do not do this and need no barrier. */
#if defined(__wasm__)
#define DD_KEEP_SCALAR(p) __asm__("" : "+r"(p))
#else
#define DD_KEEP_SCALAR(p) ((void)0)
#endif
#define DD_KEEP_SCALAR4(a, b, c, d) \
  do {                              \
    DD_KEEP_SCALAR(a);              \
    DD_KEEP_SCALAR(b);              \
    DD_KEEP_SCALAR(c);              \
    DD_KEEP_SCALAR(d);              \
  } while (0)

/* ---- igemm 4x8, load-splat ------------------------------------------------ */

void dd_f32_igemm_4x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                               const float *w, float *const *c, size_t coff, int flags) {
  v128_t c00 = wasm_v128_load(w), c01 = wasm_v128_load(w + 4);
  v128_t c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  w += DD_NR;
  do {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    a += 4;
    for (size_t k = kc; k != 0; k--) {
      const v128_t b0 = wasm_v128_load(w), b1 = wasm_v128_load(w + 4);
      w += DD_NR;
      const v128_t v0 = wasm_v128_load32_splat(a0++);
      const v128_t v1 = wasm_v128_load32_splat(a1++);
      const v128_t v2 = wasm_v128_load32_splat(a2++);
      const v128_t v3 = wasm_v128_load32_splat(a3++);
      DD_MAC2(c00, c01, v0, b0, b1);
      DD_MAC2(c10, c11, v1, b0, b1);
      DD_MAC2(c20, c21, v2, b0, b1);
      DD_MAC2(c30, c31, v3, b0, b1);
      DD_KEEP_SCALAR4(a0, a1, a2, a3);
    }
  } while (--ks != 0);
  if (mr > 3) dd_store_row8(c[3] + coff, c30, c31, nc, flags);
  if (mr > 2) dd_store_row8(c[2] + coff, c20, c21, nc, flags);
  if (mr > 1) dd_store_row8(c[1] + coff, c10, c11, nc, flags);
  dd_store_row8(c[0] + coff, c00, c01, nc, flags);
}

/* ---- igemm 6x8, load-splat ------------------------------------------------ */

void dd_f32_igemm_6x8__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                               const float *w, float *const *c, size_t coff, int flags) {
  v128_t c00 = wasm_v128_load(w), c01 = wasm_v128_load(w + 4);
  v128_t c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  v128_t c40 = c00, c41 = c01, c50 = c00, c51 = c01;
  w += DD_NR;
  do {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    a += 6;
    for (size_t k = kc; k != 0; k--) {
      const v128_t b0 = wasm_v128_load(w), b1 = wasm_v128_load(w + 4);
      w += DD_NR;
      v128_t v = wasm_v128_load32_splat(a0++);
      DD_MAC2(c00, c01, v, b0, b1);
      v = wasm_v128_load32_splat(a1++);
      DD_MAC2(c10, c11, v, b0, b1);
      v = wasm_v128_load32_splat(a2++);
      DD_MAC2(c20, c21, v, b0, b1);
      v = wasm_v128_load32_splat(a3++);
      DD_MAC2(c30, c31, v, b0, b1);
      v = wasm_v128_load32_splat(a4++);
      DD_MAC2(c40, c41, v, b0, b1);
      v = wasm_v128_load32_splat(a5++);
      DD_MAC2(c50, c51, v, b0, b1);
      DD_KEEP_SCALAR4(a0, a1, a2, a3);
      DD_KEEP_SCALAR(a4);
      DD_KEEP_SCALAR(a5);
    }
  } while (--ks != 0);
  if (mr > 5) dd_store_row8(c[5] + coff, c50, c51, nc, flags);
  if (mr > 4) dd_store_row8(c[4] + coff, c40, c41, nc, flags);
  if (mr > 3) dd_store_row8(c[3] + coff, c30, c31, nc, flags);
  if (mr > 2) dd_store_row8(c[2] + coff, c20, c21, nc, flags);
  if (mr > 1) dd_store_row8(c[1] + coff, c10, c11, nc, flags);
  dd_store_row8(c[0] + coff, c00, c01, nc, flags);
}

/* ---- igemm 4x8, 4 k steps per A load ------------------------------------- */

#define DD_STEP4x8(l, off)                                               \
  do {                                                                   \
    const v128_t b0 = wasm_v128_load(w + (off)), b1 = wasm_v128_load(w + (off) + 4); \
    v128_t s = DD_LANE(v0, l);                                           \
    DD_MAC2(c00, c01, s, b0, b1);                                        \
    s = DD_LANE(v1, l);                                                  \
    DD_MAC2(c10, c11, s, b0, b1);                                        \
    s = DD_LANE(v2, l);                                                  \
    DD_MAC2(c20, c21, s, b0, b1);                                        \
    s = DD_LANE(v3, l);                                                  \
    DD_MAC2(c30, c31, s, b0, b1);                                        \
  } while (0)

void dd_f32_igemm_4x8s4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                                 const float *w, float *const *c, size_t coff, int flags) {
  v128_t c00 = wasm_v128_load(w), c01 = wasm_v128_load(w + 4);
  v128_t c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  w += DD_NR;
  do {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    a += 4;
    size_t k = kc;
    for (; k >= 4; k -= 4) {
      const v128_t v0 = wasm_v128_load(a0), v1 = wasm_v128_load(a1);
      const v128_t v2 = wasm_v128_load(a2), v3 = wasm_v128_load(a3);
      a0 += 4, a1 += 4, a2 += 4, a3 += 4;
      DD_KEEP_SCALAR4(a0, a1, a2, a3);
      DD_STEP4x8(0, 0);
      DD_STEP4x8(1, 8);
      DD_STEP4x8(2, 16);
      DD_STEP4x8(3, 24);
      w += 4 * DD_NR;
    }
    for (; k != 0; k--) {
      const v128_t b0 = wasm_v128_load(w), b1 = wasm_v128_load(w + 4);
      w += DD_NR;
      v128_t v = wasm_v128_load32_splat(a0++);
      DD_MAC2(c00, c01, v, b0, b1);
      v = wasm_v128_load32_splat(a1++);
      DD_MAC2(c10, c11, v, b0, b1);
      v = wasm_v128_load32_splat(a2++);
      DD_MAC2(c20, c21, v, b0, b1);
      v = wasm_v128_load32_splat(a3++);
      DD_MAC2(c30, c31, v, b0, b1);
      DD_KEEP_SCALAR4(a0, a1, a2, a3);
    }
  } while (--ks != 0);
  if (mr > 3) dd_store_row8(c[3] + coff, c30, c31, nc, flags);
  if (mr > 2) dd_store_row8(c[2] + coff, c20, c21, nc, flags);
  if (mr > 1) dd_store_row8(c[1] + coff, c10, c11, nc, flags);
  dd_store_row8(c[0] + coff, c00, c01, nc, flags);
}

/* ---- igemm 6x8, 4 k steps per A load ------------------------------------- */

#define DD_STEP6x8(l, off)                                               \
  do {                                                                   \
    const v128_t b0 = wasm_v128_load(w + (off)), b1 = wasm_v128_load(w + (off) + 4); \
    v128_t s = DD_LANE(v0, l);                                           \
    DD_MAC2(c00, c01, s, b0, b1);                                        \
    s = DD_LANE(v1, l);                                                  \
    DD_MAC2(c10, c11, s, b0, b1);                                        \
    s = DD_LANE(v2, l);                                                  \
    DD_MAC2(c20, c21, s, b0, b1);                                        \
    s = DD_LANE(v3, l);                                                  \
    DD_MAC2(c30, c31, s, b0, b1);                                        \
    s = DD_LANE(v4, l);                                                  \
    DD_MAC2(c40, c41, s, b0, b1);                                        \
    s = DD_LANE(v5, l);                                                  \
    DD_MAC2(c50, c51, s, b0, b1);                                        \
  } while (0)

void dd_f32_igemm_6x8s4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a,
                                 const float *w, float *const *c, size_t coff, int flags) {
  v128_t c00 = wasm_v128_load(w), c01 = wasm_v128_load(w + 4);
  v128_t c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  v128_t c40 = c00, c41 = c01, c50 = c00, c51 = c01;
  w += DD_NR;
  do {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    a += 6;
    size_t k = kc;
    for (; k >= 4; k -= 4) {
      const v128_t v0 = wasm_v128_load(a0), v1 = wasm_v128_load(a1), v2 = wasm_v128_load(a2);
      const v128_t v3 = wasm_v128_load(a3), v4 = wasm_v128_load(a4), v5 = wasm_v128_load(a5);
      a0 += 4, a1 += 4, a2 += 4, a3 += 4, a4 += 4, a5 += 4;
      DD_KEEP_SCALAR4(a0, a1, a2, a3);
      DD_KEEP_SCALAR(a4);
      DD_KEEP_SCALAR(a5);
      DD_STEP6x8(0, 0);
      DD_STEP6x8(1, 8);
      DD_STEP6x8(2, 16);
      DD_STEP6x8(3, 24);
      w += 4 * DD_NR;
    }
    for (; k != 0; k--) {
      const v128_t b0 = wasm_v128_load(w), b1 = wasm_v128_load(w + 4);
      w += DD_NR;
      v128_t v = wasm_v128_load32_splat(a0++);
      DD_MAC2(c00, c01, v, b0, b1);
      v = wasm_v128_load32_splat(a1++);
      DD_MAC2(c10, c11, v, b0, b1);
      v = wasm_v128_load32_splat(a2++);
      DD_MAC2(c20, c21, v, b0, b1);
      v = wasm_v128_load32_splat(a3++);
      DD_MAC2(c30, c31, v, b0, b1);
      v = wasm_v128_load32_splat(a4++);
      DD_MAC2(c40, c41, v, b0, b1);
      v = wasm_v128_load32_splat(a5++);
      DD_MAC2(c50, c51, v, b0, b1);
      DD_KEEP_SCALAR4(a0, a1, a2, a3);
      DD_KEEP_SCALAR(a4);
      DD_KEEP_SCALAR(a5);
    }
  } while (--ks != 0);
  if (mr > 5) dd_store_row8(c[5] + coff, c50, c51, nc, flags);
  if (mr > 4) dd_store_row8(c[4] + coff, c40, c41, nc, flags);
  if (mr > 3) dd_store_row8(c[3] + coff, c30, c31, nc, flags);
  if (mr > 2) dd_store_row8(c[2] + coff, c20, c21, nc, flags);
  if (mr > 1) dd_store_row8(c[1] + coff, c10, c11, nc, flags);
  dd_store_row8(c[0] + coff, c00, c01, nc, flags);
}

/* ---- gemm_tn: outer products over a strided pixel grid -------------------- */

/* Loads (accumulate) or zeroes one C row of up to 8 columns into lo/hi. */
static inline void dd_load_row8(const float *c, size_t nc, int accumulate, v128_t *lo,
                                v128_t *hi) {
  float t[DD_NR] = {0};
  if (accumulate) memcpy(t, c, nc * sizeof(float));
  *lo = wasm_v128_load(t);
  *hi = wasm_v128_load(t + 4);
}

void dd_f32_gemm_tn_4x8__simd128(size_t mr, size_t nc, size_t rows, size_t cols,
                                 const float *a, size_t a_rs, size_t a_cs, const float *b,
                                 size_t b_rs, size_t b_cs, float *c, size_t ldc,
                                 int accumulate) {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  dd_load_row8(c, nc, accumulate, &c00, &c01);
  dd_load_row8(mr > 1 ? c + ldc : c, nc, accumulate && mr > 1, &c10, &c11);
  dd_load_row8(mr > 2 ? c + 2 * ldc : c, nc, accumulate && mr > 2, &c20, &c21);
  dd_load_row8(mr > 3 ? c + 3 * ldc : c, nc, accumulate && mr > 3, &c30, &c31);
  for (size_t r = 0; r < rows; r++) {
    const float *ap = a + r * a_rs, *bp = b + r * b_rs;
    for (size_t q = cols; q != 0; q--) {
      const v128_t va = wasm_v128_load(ap);
      const v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
      ap += a_cs;
      bp += b_cs;
      v128_t s = DD_LANE(va, 0);
      DD_MAC2(c00, c01, s, b0, b1);
      s = DD_LANE(va, 1);
      DD_MAC2(c10, c11, s, b0, b1);
      s = DD_LANE(va, 2);
      DD_MAC2(c20, c21, s, b0, b1);
      s = DD_LANE(va, 3);
      DD_MAC2(c30, c31, s, b0, b1);
    }
  }
  dd_store_row8(c, c00, c01, nc, 0);
  if (mr > 1) dd_store_row8(c + ldc, c10, c11, nc, 0);
  if (mr > 2) dd_store_row8(c + 2 * ldc, c20, c21, nc, 0);
  if (mr > 3) dd_store_row8(c + 3 * ldc, c30, c31, nc, 0);
}

/* Stores columns [0, nc) (nc <= 4) of one row. */
static inline void dd_store_row4(float *c, v128_t v, size_t nc) {
  if (nc == 4) {
    wasm_v128_store(c, v);
    return;
  }
  float t[4];
  wasm_v128_store(t, v);
  memcpy(c, t, nc * sizeof(float));
}

static inline v128_t dd_load_row4(const float *c, size_t nc, int accumulate) {
  float t[4] = {0};
  if (accumulate) memcpy(t, c, nc * sizeof(float));
  return wasm_v128_load(t);
}

void dd_f32_gemm_tn_4x4__simd128(size_t mr, size_t nc, size_t rows, size_t cols,
                                 const float *a, size_t a_rs, size_t a_cs, const float *b,
                                 size_t b_rs, size_t b_cs, float *c, size_t ldc,
                                 int accumulate) {
  v128_t c0 = dd_load_row4(c, nc, accumulate);
  v128_t c1 = dd_load_row4(mr > 1 ? c + ldc : c, nc, accumulate && mr > 1);
  v128_t c2 = dd_load_row4(mr > 2 ? c + 2 * ldc : c, nc, accumulate && mr > 2);
  v128_t c3 = dd_load_row4(mr > 3 ? c + 3 * ldc : c, nc, accumulate && mr > 3);
  for (size_t r = 0; r < rows; r++) {
    const float *ap = a + r * a_rs, *bp = b + r * b_rs;
    for (size_t q = cols; q != 0; q--) {
      const v128_t va = wasm_v128_load(ap), vb = wasm_v128_load(bp);
      ap += a_cs;
      bp += b_cs;
      c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(DD_LANE(va, 0), vb));
      c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(DD_LANE(va, 1), vb));
      c2 = wasm_f32x4_add(c2, wasm_f32x4_mul(DD_LANE(va, 2), vb));
      c3 = wasm_f32x4_add(c3, wasm_f32x4_mul(DD_LANE(va, 3), vb));
    }
  }
  dd_store_row4(c, c0, nc);
  if (mr > 1) dd_store_row4(c + ldc, c1, nc);
  if (mr > 2) dd_store_row4(c + 2 * ldc, c2, nc);
  if (mr > 3) dd_store_row4(c + 3 * ldc, c3, nc);
}

/* ---- igemm 8x4 for narrow outputs (N <= 4), load-splat --------------------- */

/* Stores columns [0, nc) (nc <= 4) of one row, applying the flags. */
static inline void dd_store_row4f(float *c, v128_t v, size_t nc, int flags) {
  float t[4] = {0};
  if (flags & DD_UK_ACCUMULATE) {
    memcpy(t, c, nc * sizeof(float));
    v = wasm_f32x4_add(v, wasm_v128_load(t));
  }
  if (flags & DD_UK_RELU) v = wasm_f32x4_pmax(v, wasm_f32x4_splat(0.0f));
  if (nc == 4) {
    wasm_v128_store(c, v);
    return;
  }
  wasm_v128_store(t, v);
  memcpy(c, t, nc * sizeof(float));
}

void dd_f32_igemm_8x4__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                               const float *const *a, const float *w, float *const *c,
                               size_t coff, int flags) {
  v128_t c0 = wasm_v128_load(w);
  v128_t c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  w += 4;
  do {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    const float *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
    a += 8;
    for (size_t k = kc; k != 0; k--) {
      const v128_t b = wasm_v128_load(w);
      w += 4;
      c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(wasm_v128_load32_splat(a0++), b));
      c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(wasm_v128_load32_splat(a1++), b));
      c2 = wasm_f32x4_add(c2, wasm_f32x4_mul(wasm_v128_load32_splat(a2++), b));
      c3 = wasm_f32x4_add(c3, wasm_f32x4_mul(wasm_v128_load32_splat(a3++), b));
      c4 = wasm_f32x4_add(c4, wasm_f32x4_mul(wasm_v128_load32_splat(a4++), b));
      c5 = wasm_f32x4_add(c5, wasm_f32x4_mul(wasm_v128_load32_splat(a5++), b));
      c6 = wasm_f32x4_add(c6, wasm_f32x4_mul(wasm_v128_load32_splat(a6++), b));
      c7 = wasm_f32x4_add(c7, wasm_f32x4_mul(wasm_v128_load32_splat(a7++), b));
    }
  } while (--ks != 0);
  if (mr > 7) dd_store_row4f(c[7] + coff, c7, nc, flags);
  if (mr > 6) dd_store_row4f(c[6] + coff, c6, nc, flags);
  if (mr > 5) dd_store_row4f(c[5] + coff, c5, nc, flags);
  if (mr > 4) dd_store_row4f(c[4] + coff, c4, nc, flags);
  if (mr > 3) dd_store_row4f(c[3] + coff, c3, nc, flags);
  if (mr > 2) dd_store_row4f(c[2] + coff, c2, nc, flags);
  if (mr > 1) dd_store_row4f(c[1] + coff, c1, nc, flags);
  dd_store_row4f(c[0] + coff, c0, nc, flags);
}

/* ---- igemm 3x3 "dot" for N <= 3 (e.g. the data gradient into RGB) ---------- */

/* Horizontal sums of three vectors plus a bias: {sum a, sum b, sum c, 0}. */
static inline v128_t dd_hsum3(v128_t a, v128_t b, v128_t c, const float *bias) {
  /* transpose-add: pairs (a,b) and (c,0) */
  const v128_t z = wasm_f32x4_splat(0.0f);
  v128_t ab_lo = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5); /* a0 b0 a1 b1 */
  v128_t ab_hi = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7); /* a2 b2 a3 b3 */
  v128_t cz_lo = wasm_i32x4_shuffle(c, z, 0, 4, 1, 5);
  v128_t cz_hi = wasm_i32x4_shuffle(c, z, 2, 6, 3, 7);
  v128_t ab = wasm_f32x4_add(ab_lo, ab_hi); /* a0+a2 b0+b2 a1+a3 b1+b3 */
  v128_t cz = wasm_f32x4_add(cz_lo, cz_hi);
  v128_t lo = wasm_i32x4_shuffle(ab, cz, 0, 1, 4, 5);
  v128_t hi = wasm_i32x4_shuffle(ab, cz, 2, 3, 6, 7);
  return wasm_f32x4_add(wasm_f32x4_add(lo, hi), wasm_v128_load(bias));
}

/* Panel layout (nr = 3): 4 bias floats (the 4th unused), then per tap 3 rows
   of kc weights (output channel j's weights contiguous over k). Each output
   is a dot product along k, vectorised 4 k at a time, so all lanes do useful
   work even though N is 3. */
void dd_f32_igemm_3x3dot__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                  const float *const *a, const float *w, float *const *c,
                                  size_t coff, int flags) {
  const float *bias = w;
  w += 4;
  v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s02 = s00;
  v128_t s10 = s00, s11 = s00, s12 = s00, s20 = s00, s21 = s00, s22 = s00;
  float t00 = 0, t01 = 0, t02 = 0, t10 = 0, t11 = 0, t12 = 0, t20 = 0, t21 = 0, t22 = 0;
  do {
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2];
    const float *w0 = w, *w1 = w + kc, *w2 = w + 2 * kc;
    a += 3;
    w += 3 * kc;
    size_t k = kc;
    for (; k >= 4; k -= 4) {
      const v128_t v0 = wasm_v128_load(a0), v1 = wasm_v128_load(a1), v2 = wasm_v128_load(a2);
      a0 += 4, a1 += 4, a2 += 4;
      v128_t b = wasm_v128_load(w0);
      w0 += 4;
      s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(v0, b));
      s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(v1, b));
      s20 = wasm_f32x4_add(s20, wasm_f32x4_mul(v2, b));
      b = wasm_v128_load(w1);
      w1 += 4;
      s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(v0, b));
      s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(v1, b));
      s21 = wasm_f32x4_add(s21, wasm_f32x4_mul(v2, b));
      b = wasm_v128_load(w2);
      w2 += 4;
      s02 = wasm_f32x4_add(s02, wasm_f32x4_mul(v0, b));
      s12 = wasm_f32x4_add(s12, wasm_f32x4_mul(v1, b));
      s22 = wasm_f32x4_add(s22, wasm_f32x4_mul(v2, b));
    }
    for (; k != 0; k--) {
      const float x0 = *a0++, x1 = *a1++, x2 = *a2++, y0 = *w0++, y1 = *w1++, y2 = *w2++;
      t00 += x0 * y0, t01 += x0 * y1, t02 += x0 * y2;
      t10 += x1 * y0, t11 += x1 * y1, t12 += x1 * y2;
      t20 += x2 * y0, t21 += x2 * y1, t22 += x2 * y2;
    }
  } while (--ks != 0);
  const float r0[4] = {t00, t01, t02, 0}, r1[4] = {t10, t11, t12, 0}, r2[4] = {t20, t21, t22, 0};
  v128_t o0 = wasm_f32x4_add(dd_hsum3(s00, s01, s02, bias), wasm_v128_load(r0));
  v128_t o1 = wasm_f32x4_add(dd_hsum3(s10, s11, s12, bias), wasm_v128_load(r1));
  v128_t o2 = wasm_f32x4_add(dd_hsum3(s20, s21, s22, bias), wasm_v128_load(r2));
  if (mr > 2) dd_store_row4f(c[2] + coff, o2, nc, flags);
  if (mr > 1) dd_store_row4f(c[1] + coff, o1, nc, flags);
  dd_store_row4f(c[0] + coff, o0, nc, flags);
}

/* 2-row variant of the dot kernel (fewer live registers for V8). */
void dd_f32_igemm_2x3dot__simd128(size_t mr, size_t nc, size_t kc, size_t ks,
                                  const float *const *a, const float *w, float *const *c,
                                  size_t coff, int flags) {
  const float *bias = w;
  w += 4;
  v128_t s00 = wasm_f32x4_splat(0.0f), s01 = s00, s02 = s00, s10 = s00, s11 = s00, s12 = s00;
  float t00 = 0, t01 = 0, t02 = 0, t10 = 0, t11 = 0, t12 = 0;
  do {
    const float *a0 = a[0], *a1 = a[1];
    const float *w0 = w, *w1 = w + kc, *w2 = w + 2 * kc;
    a += 2;
    w += 3 * kc;
    size_t k = kc;
    for (; k >= 4; k -= 4) {
      const v128_t v0 = wasm_v128_load(a0), v1 = wasm_v128_load(a1);
      a0 += 4, a1 += 4;
      v128_t b = wasm_v128_load(w0);
      w0 += 4;
      s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(v0, b));
      s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(v1, b));
      b = wasm_v128_load(w1);
      w1 += 4;
      s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(v0, b));
      s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(v1, b));
      b = wasm_v128_load(w2);
      w2 += 4;
      s02 = wasm_f32x4_add(s02, wasm_f32x4_mul(v0, b));
      s12 = wasm_f32x4_add(s12, wasm_f32x4_mul(v1, b));
    }
    for (; k != 0; k--) {
      const float x0 = *a0++, x1 = *a1++, y0 = *w0++, y1 = *w1++, y2 = *w2++;
      t00 += x0 * y0, t01 += x0 * y1, t02 += x0 * y2;
      t10 += x1 * y0, t11 += x1 * y1, t12 += x1 * y2;
    }
  } while (--ks != 0);
  const float r0[4] = {t00, t01, t02, 0}, r1[4] = {t10, t11, t12, 0};
  v128_t o0 = wasm_f32x4_add(dd_hsum3(s00, s01, s02, bias), wasm_v128_load(r0));
  v128_t o1 = wasm_f32x4_add(dd_hsum3(s10, s11, s12, bias), wasm_v128_load(r1));
  if (mr > 1) dd_store_row4f(c[1] + coff, o1, nc, flags);
  dd_store_row4f(c[0] + coff, o0, nc, flags);
}

/* gemm_tn 4x8 with A broadcast by load32_splat instead of shuffles. */
void dd_f32_gemm_tn_4x8ls__simd128(size_t mr, size_t nc, size_t rows, size_t cols,
                                   const float *a, size_t a_rs, size_t a_cs, const float *b,
                                   size_t b_rs, size_t b_cs, float *c, size_t ldc,
                                   int accumulate) {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  dd_load_row8(c, nc, accumulate, &c00, &c01);
  dd_load_row8(mr > 1 ? c + ldc : c, nc, accumulate && mr > 1, &c10, &c11);
  dd_load_row8(mr > 2 ? c + 2 * ldc : c, nc, accumulate && mr > 2, &c20, &c21);
  dd_load_row8(mr > 3 ? c + 3 * ldc : c, nc, accumulate && mr > 3, &c30, &c31);
  for (size_t r = 0; r < rows; r++) {
    const float *ap = a + r * a_rs, *bp = b + r * b_rs;
    for (size_t q = cols; q != 0; q--) {
      const v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
      v128_t s = wasm_v128_load32_splat(ap);
      DD_MAC2(c00, c01, s, b0, b1);
      s = wasm_v128_load32_splat(ap + 1);
      DD_MAC2(c10, c11, s, b0, b1);
      s = wasm_v128_load32_splat(ap + 2);
      DD_MAC2(c20, c21, s, b0, b1);
      s = wasm_v128_load32_splat(ap + 3);
      DD_MAC2(c30, c31, s, b0, b1);
      ap += a_cs;
      bp += b_cs;
    }
  }
  dd_store_row8(c, c00, c01, nc, 0);
  if (mr > 1) dd_store_row8(c + ldc, c10, c11, nc, 0);
  if (mr > 2) dd_store_row8(c + 2 * ldc, c20, c21, nc, 0);
  if (mr > 3) dd_store_row8(c + 3 * ldc, c30, c31, nc, 0);
}
