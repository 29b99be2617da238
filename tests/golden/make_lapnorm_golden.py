#!/usr/bin/python3
"""make_lapnorm_golden.py - reference outputs of the TF1 DeepDream notebook's
lap_normalize (tensorflow/examples/tutorials/deepdream/deepdream.ipynb) for
the C test test_lapnorm, from an independent numpy/scipy implementation:

    k = np.float32([1,4,6,4,1]); k = np.outer(k, k); k5x5 = k[:,:,None,None]/k.sum()*np.eye(3)
    lap_split(img):  lo = conv2d(img, k5x5, [1,2,2,1], 'SAME')
                     lo2 = conv2d_transpose(lo, k5x5*4, shape(img), [1,2,2,1])
                     hi = img - lo2
    lap_split_n(img, n) -> [lo_n, hi_n, ..., hi_1]
    lap_merge(levels): img = levels[0]; img = conv2d_transpose(img, k5x5*4, shape(hi)) + hi
    normalize_std(img) = img / max(sqrt(mean(square(img))), 1e-10)

conv2d is computed as scipy.signal.correlate2d on the explicitly SAME-padded
image, every other row and column; conv2d_transpose as the 'full'
convolution of the zero-inserted image, cropped at the SAME padding. Both in
float64 (the C code is float32; the test allows for that).

    /usr/bin/python3 tests/golden/make_lapnorm_golden.py
"""
import os
import sys

import numpy as np
from scipy.signal import convolve2d, correlate2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import write, written  # the DDG1 format  # noqa: E402

K1 = np.array([1, 4, 6, 4, 1], dtype=np.float64)
K = np.outer(K1, K1) / np.outer(K1, K1).sum()


def same_pad(n):
    out = -(-n // 2)
    total = max((out - 1) * 2 + 5 - n, 0)
    return out, total // 2, total - total // 2


def conv2d_s2(img):
    h, w, c = img.shape
    ho, pt, pb = same_pad(h)
    wo, pl, pr = same_pad(w)
    out = np.zeros((ho, wo, c))
    for ch in range(c):
        x = np.pad(img[:, :, ch], ((pt, pb), (pl, pr)))
        out[:, :, ch] = correlate2d(x, K, mode="valid")[::2, ::2][:ho, :wo]
    return out


def conv2d_transpose_s2(lo, h, w, kernel):
    ho, pt, _ = same_pad(h)
    wo, pl, _ = same_pad(w)
    assert lo.shape[:2] == (ho, wo)
    out = np.zeros((h, w, lo.shape[2]))
    for ch in range(lo.shape[2]):
        z = np.zeros((2 * ho - 1, 2 * wo - 1))
        z[::2, ::2] = lo[:, :, ch]
        full = convolve2d(z, kernel, mode="full")
        full = np.pad(full, ((0, h + 8), (0, w + 8)))
        out[:, :, ch] = full[pt:pt + h, pl:pl + w]
    return out


def lap_split(img):
    lo = conv2d_s2(img)
    lo2 = conv2d_transpose_s2(lo, img.shape[0], img.shape[1], K * 4)
    return lo, img - lo2


def lap_split_n(img, n):
    levels = []
    for _ in range(n):
        img, hi = lap_split(img)
        levels.append(hi)
    levels.append(img)
    return levels[::-1]


def lap_merge(levels):
    img = levels[0]
    for hi in levels[1:]:
        img = conv2d_transpose_s2(img, hi.shape[0], hi.shape[1], K * 4) + hi
    return img


def normalize_std(img, eps=1e-10):
    std = np.sqrt(np.mean(np.square(img)))
    return img / max(std, eps)


def lap_normalize(img, scale_n=4):
    levels = lap_split_n(img, scale_n)
    return lap_merge(list(map(normalize_std, levels)))


def main():
    rng = np.random.default_rng(15)
    cases = [("a", 37, 53, 4), ("b", 20, 16, 3), ("c", 9, 7, 4), ("d", 64, 48, 1)]
    for name, h, w, n in cases:
        g = rng.standard_normal((h, w, 3)).astype(np.float32)
        g[: h // 2] *= 3.0  # not stationary, so the levels' scales differ
        write("lapnorm_%s_in.bin" % name, g)
        write("lapnorm_%s_out%d.bin" % (name, n), lap_normalize(g.astype(np.float64), n).astype(np.float32))
    for name, shape, dtype in written:
        print(name, shape, dtype)


if __name__ == "__main__":
    main()
