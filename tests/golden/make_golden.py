#!/usr/bin/python3
"""make_golden.py - reference outputs of scipy.ndimage.gaussian_filter and
Pillow's Image.resize(..., LANCZOS) for the C tests test_smooth and test_resize.

Run with Debian's interpreter (it has python3-scipy, python3-pil, python3-numpy):

    /usr/bin/python3 tests/golden/make_golden.py

It rewrites the *.bin files next to itself. The output is deterministic for a
given numpy / scipy / Pillow; the versions used are printed and recorded in
versions.txt. The file format is described in README.md.
"""
import os
import struct
import sys

import numpy as np
import PIL
import PIL.Image
import scipy
from scipy.ndimage import gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2}
written = []


def write(name, arr):
    """DDG1 header (magic, dtype, ndim, dims as uint32 LE) + raw LE data."""
    arr = np.ascontiguousarray(arr)
    code = DTYPES[arr.dtype]
    head = b"DDG1" + struct.pack("<II", code, arr.ndim)
    head += struct.pack("<%dI" % arr.ndim, *arr.shape)
    data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(head + data)
    written.append((name, arr.shape, arr.dtype))


# ---- the tutorial's helpers, verbatim in behaviour ---------------------------
def tutorial_resize_image(image, size=None, factor=None):
    if factor is not None:
        size = np.array(image.shape[0:2]) * factor
        size = size.astype(int)
    else:
        size = size[0:2]
    size = tuple(reversed(size))
    img = np.clip(image, 0.0, 255.0)
    img = img.astype(np.uint8)
    img = PIL.Image.fromarray(img)
    img_resized = img.resize(size, PIL.Image.LANCZOS)
    return np.float32(img_resized)


def pil_resize_u8(arr, h, w):
    """arr: HxWx3 or HxW uint8 -> Pillow LANCZOS to (w, h)."""
    return np.asarray(PIL.Image.fromarray(arr).resize((w, h), PIL.Image.LANCZOS))


def pil_resize_f32(arr, h, w):
    """Per channel through Pillow mode 'F' (32-bit float, no clipping)."""
    chans = []
    for ch in range(arr.shape[2]):
        im = PIL.Image.fromarray(np.ascontiguousarray(arr[:, :, ch]), mode="F")
        chans.append(np.asarray(im.resize((w, h), PIL.Image.LANCZOS), dtype=np.float32))
    return np.stack(chans, axis=2)


def main():
    rng = np.random.default_rng(14)

    # ---- gaussian_filter ------------------------------------------------------
    g_a = rng.random((37, 23, 3), dtype=np.float32)                   # unit range
    g_b = rng.standard_normal((50, 31, 3)).astype(np.float32)         # gradient-like
    g_c = rng.random((9, 5, 3), dtype=np.float32)                     # radius >> axes
    write("gauss_a_in.bin", g_a)
    write("gauss_b_in.bin", g_b)
    write("gauss_c_in.bin", g_c)
    write("gauss_a_s0.5.bin", gaussian_filter(g_a, sigma=0.5))
    write("gauss_a_s1.7.bin", gaussian_filter(g_a, sigma=1.7))
    write("gauss_a_s4.5.bin", gaussian_filter(g_a, sigma=4.5))
    write("gauss_a_s0.5_0.5_0.bin", gaussian_filter(g_a, sigma=(0.5, 0.5, 0.0)))
    write("gauss_a_s1_2.5_0.7.bin", gaussian_filter(g_a, sigma=(1.0, 2.5, 0.7)))
    write("gauss_b_s1.7.bin", gaussian_filter(g_b, sigma=1.7))
    write("gauss_b_s8.2.bin", gaussian_filter(g_b, sigma=8.2))
    write("gauss_c_s4.5.bin", gaussian_filter(g_c, sigma=4.5))
    write("gauss_c_s3_0_0.bin", gaussian_filter(g_c, sigma=(3.0, 0.0, 0.0)))
    write("gauss_c_s0_2_0.bin", gaussian_filter(g_c, sigma=(0.0, 2.0, 0.0)))
    # optimize_image's smoothing at iteration i=1 of 10: sigma = 0.9
    sigma = (1 * 4.0) / 10 + 0.5
    s3 = (gaussian_filter(g_b, sigma=sigma) + gaussian_filter(g_b, sigma=sigma * 2)
          + gaussian_filter(g_b, sigma=sigma * 0.5))
    write("gauss_b_sum3_0.9.bin", s3)

    # ---- Lanczos --------------------------------------------------------------
    yy, xx = np.mgrid[0:50, 0:31].astype(np.float64)
    smooth = np.stack([128 + 110 * np.sin(xx / 3.1 + yy / 7.3),
                       128 + 110 * np.cos(xx / 5.7 - yy / 2.9),
                       128 + 60 * np.sin((xx * yy) / 40.0)], axis=2)
    l_a = np.clip(smooth + rng.normal(0, 12, smooth.shape), 0, 255).astype(np.uint8)  # 50x31
    l_b = rng.integers(0, 256, (37, 23, 3), dtype=np.uint8)                           # noise
    l_c = rng.integers(0, 256, (97, 61, 3), dtype=np.uint8)
    l_g = rng.integers(0, 256, (37, 23), dtype=np.uint8)                              # mode L
    write("lanczos_a_in.bin", l_a)
    write("lanczos_b_in.bin", l_b)
    write("lanczos_c_in.bin", l_c)
    write("lanczos_g_in.bin", l_g)

    # downscale by 0.7 with the tutorial's size rule, then back up
    for tag, src in (("a", l_a), ("b", l_b), ("c", l_c)):
        h, w = (np.array(src.shape[0:2]) * 0.7).astype(int)
        down = pil_resize_u8(src, h, w)
        up = pil_resize_u8(down, src.shape[0], src.shape[1])
        write("lanczos_%s_down.bin" % tag, down)
        write("lanczos_%s_up.bin" % tag, up)
    # one axis only (Pillow skips the other pass), strong downscale, odd upscale, L
    write("lanczos_a_w45.bin", pil_resize_u8(l_a, 50, 45))
    write("lanczos_a_h20.bin", pil_resize_u8(l_a, 20, 31))
    write("lanczos_c_f0.3.bin", pil_resize_u8(l_c, 29, 18))
    write("lanczos_b_80x53.bin", pil_resize_u8(l_b, 80, 53))
    write("lanczos_g_down.bin", pil_resize_u8(l_g, 25, 16))

    # the tutorial's float path: clip, astype(uint8), LANCZOS, float32
    t_in = (smooth * 1.3 - 40 + rng.normal(0, 5, smooth.shape)).astype(np.float32)
    t_down = tutorial_resize_image(t_in, factor=0.7)
    t_up = tutorial_resize_image(t_down, size=t_in.shape)
    write("tutorial_in.bin", t_in)
    write("tutorial_down.bin", t_down.astype(np.uint8))
    write("tutorial_up.bin", t_up.astype(np.uint8))

    # float Lanczos (Pillow mode 'F': double coefficients, no clipping)
    f_down = pil_resize_f32(t_in, 35, 21)
    write("lanczosf_down.bin", f_down)
    write("lanczosf_up.bin", pil_resize_f32(f_down, 50, 31))

    # PIL's (libjpeg's) decode of the tutorial's hulk.jpg, every 16th pixel,
    # to bound how far stb_image's JPEG decoder lands from it
    shared = os.environ.get("DD_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared"))
    hulk = os.path.join(shared, "images", "hulk.jpg")
    if os.path.exists(hulk):
        write("hulk_pil_sub16.bin", np.asarray(PIL.Image.open(hulk))[::16, ::16, :].copy())
    else:
        print("note: %s not found; hulk_pil_sub16.bin not rewritten" % hulk)

    with open(os.path.join(HERE, "versions.txt"), "w") as f:
        f.write("python %s\nnumpy %s\nscipy %s\nPillow %s\n" % (
            sys.version.split()[0], np.__version__, scipy.__version__, PIL.__version__))
    total = 0
    for name, shape, dtype in written:
        size = os.path.getsize(os.path.join(HERE, name))
        total += size
        print("%-28s %-14s %-8s %6d bytes" % (name, "x".join(map(str, shape)), dtype, size))
    print("total %d bytes (numpy %s, scipy %s, Pillow %s)" % (
        total, np.__version__, scipy.__version__, PIL.__version__))


if __name__ == "__main__":
    main()
