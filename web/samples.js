// samples.js — built-in pictures, generated (no photos are shipped).
// samplePicture() is also the quick start's input (models/make-default-model.mjs
// re-exports it), so this file must stay free of Node and DOM imports.

/** Sky, sun, hills. RGB. */
export function samplePicture(width = 640, height = 400) {
  const px = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const t = y / height, hill = height * (0.62 + 0.08 * Math.sin(x / 53) + 0.05 * Math.sin(x / 17 + 1));
    let r = 90 + 120 * t, g = 140 + 80 * t, b = 230 - 60 * t;
    const sd = Math.hypot(x - width * 0.72, y - height * 0.28);
    if (sd < height * 0.11) { r = 255; g = 220; b = 120; }
    if (y > hill) { const k = (y - hill) / height; r = 60 + 80 * k; g = 120 - 40 * k + 20 * Math.sin(x / 9); b = 50; }
    const i = (y * width + x) * 3;
    px[i] = Math.max(0, Math.min(255, r)); px[i + 1] = Math.max(0, Math.min(255, g)); px[i + 2] = Math.max(0, Math.min(255, b));
  }
  return { data: px, width, height, channels: 3 };
}

const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Soft concentric ripples over a colour wheel. RGB. */
export function ripples(width = 560, height = 420) {
  const px = new Uint8Array(width * height * 3);
  const cx = width * 0.45, cy = height * 0.55;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const dx = x - cx, dy = y - cy, r = Math.hypot(dx, dy), a = Math.atan2(dy, dx);
    const wave = 0.5 + 0.5 * Math.sin(r / 9 - 2 * Math.sin(a * 3));
    const i = (y * width + x) * 3;
    px[i] = clamp(128 + 100 * Math.cos(a) * wave + 20 * Math.sin(x / 31));
    px[i + 1] = clamp(128 + 100 * Math.cos(a - 2.094) * wave);
    px[i + 2] = clamp(128 + 100 * Math.cos(a + 2.094) * wave + 20 * Math.cos(y / 23));
  }
  return { data: px, width, height, channels: 3 };
}

/** Fractal value noise clouds (seeded). RGB. */
export function clouds(width = 600, height = 400, seed = 7) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const G = 65, grid = Float32Array.from({ length: G * G }, rnd);
  const noise = (x, y) => {
    const xi = Math.floor(x), yi = Math.floor(y), fx = x - xi, fy = y - yi;
    const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
    const g = (a, b) => grid[((b % G + G) % G) * G + ((a % G + G) % G)];
    const top = g(xi, yi) * (1 - sx) + g(xi + 1, yi) * sx, bot = g(xi, yi + 1) * (1 - sx) + g(xi + 1, yi + 1) * sx;
    return top * (1 - sy) + bot * sy;
  };
  const px = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    let v = 0, amp = 0.5, f = 1 / 64;
    for (let o = 0; o < 5; o++) { v += amp * noise(x * f, y * f); amp /= 2; f *= 2; }
    const i = (y * width + x) * 3, t = y / height;
    px[i] = clamp(40 + 200 * v * (1 - 0.3 * t));
    px[i + 1] = clamp(70 + 150 * v);
    px[i + 2] = clamp(120 + 130 * v + 40 * t);
  }
  return { data: px, width, height, channels: 3 };
}

export const SAMPLES = {
  landscape: { label: 'Landscape', make: () => samplePicture(640, 400) },
  ripples: { label: 'Ripples', make: () => ripples(560, 420) },
  clouds: { label: 'Clouds', make: () => clouds(600, 400) },
};

/** RGB(A) pixels -> ImageData. */
export function toImageData(img) {
  if (img.channels === 4) return new ImageData(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.width, img.height);
  const out = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0, j = 0; i < out.length; i += 4, j += 3) { out[i] = img.data[j]; out[i + 1] = img.data[j + 1]; out[i + 2] = img.data[j + 2]; out[i + 3] = 255; }
  return new ImageData(out, img.width, img.height);
}
