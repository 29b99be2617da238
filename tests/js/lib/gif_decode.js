// gif_decode.js — a small GIF89a decoder written from the specification for the tests, independent of
// the encoder under test (gifenc): header, logical screen, global/local colour tables, the NETSCAPE loop
// extension, graphic control extensions (delays), and each image's LZW data decoded to RGB pixels.
// Throws on anything malformed (truncated blocks, bad codes, a frame whose pixel count is wrong).

export function decodeGif(bytes) {
  let p = 0;
  const need = (n) => { if (p + n > bytes.length) throw new Error(`truncated at byte ${p}`); };
  const u8 = () => { need(1); return bytes[p++]; };
  const u16 = () => { need(2); const v = bytes[p] | (bytes[p + 1] << 8); p += 2; return v; };
  const sig = String.fromCharCode(...bytes.subarray(0, 6));
  if (sig !== 'GIF89a' && sig !== 'GIF87a') throw new Error(`not a GIF: ${JSON.stringify(sig)}`);
  p = 6;
  const width = u16(), height = u16(), packed = u8();
  u8(); u8(); // background index, aspect
  const table = (size) => { need(size * 3); const t = bytes.slice(p, p + size * 3); p += size * 3; return t; };
  const global = packed & 0x80 ? table(1 << ((packed & 7) + 1)) : null;
  const frames = [];
  let delay = 0, loop = null;
  const subBlocks = () => { const parts = []; for (let n = u8(); n; n = u8()) { need(n); parts.push(bytes.subarray(p, p + n)); p += n; } return parts; };
  for (;;) {
    const b = u8();
    if (b === 0x3b) break; // trailer
    if (b === 0x21) {
      const label = u8();
      const blocks = subBlocks();
      if (label === 0xf9 && blocks[0] && blocks[0].length >= 4) delay = (blocks[0][1] | (blocks[0][2] << 8)) * 10;
      if (label === 0xff && blocks[0] && String.fromCharCode(...blocks[0]) === 'NETSCAPE2.0' && blocks[1]) loop = blocks[1][1] | (blocks[1][2] << 8);
      continue;
    }
    if (b !== 0x2c) throw new Error(`unknown block 0x${b.toString(16)} at byte ${p - 1}`);
    const x = u16(), y = u16(), w = u16(), h = u16(), ip = u8();
    if (ip & 0x40) throw new Error('interlaced frames are not expected');
    const colours = ip & 0x80 ? table(1 << ((ip & 7) + 1)) : global;
    if (!colours) throw new Error('a frame without a colour table');
    const minCode = u8();
    const data = subBlocks();
    const indices = lzw(concat(data), minCode, w * h);
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const k = indices[i];
      if (k * 3 + 2 >= colours.length) throw new Error(`colour index ${k} outside the table`);
      rgb[i * 3] = colours[k * 3]; rgb[i * 3 + 1] = colours[k * 3 + 1]; rgb[i * 3 + 2] = colours[k * 3 + 2];
    }
    frames.push({ x, y, width: w, height: h, delay, data: rgb });
  }
  return { width, height, loop, frames };
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of parts) { out.set(a, o); o += a.length; }
  return out;
}

function lzw(data, minCode, count) {
  const clear = 1 << minCode, end = clear + 1;
  let size = minCode + 1, next = end + 1, prev = null, bit = 0;
  let dict = [];
  const reset = () => { dict = []; for (let i = 0; i < clear; i++) dict[i] = [i]; size = minCode + 1; next = end + 1; prev = null; };
  reset();
  const out = [];
  for (;;) {
    if (bit + size > data.length * 8) throw new Error('LZW data ends without an end code');
    let code = 0;
    for (let i = 0; i < size; i++, bit++) code |= ((data[bit >> 3] >> (bit & 7)) & 1) << i;
    if (code === clear) { reset(); continue; }
    if (code === end) break;
    let entry;
    if (dict[code]) entry = dict[code];
    else if (code === next && prev) entry = [...prev, prev[0]];
    else throw new Error(`bad LZW code ${code}`);
    out.push(...entry);
    if (prev && next < 4096) { dict[next++] = [...prev, entry[0]]; if (next === 1 << size && size < 12) size++; }
    prev = entry;
  }
  if (out.length !== count) throw new Error(`a frame decodes to ${out.length} pixels, expected ${count}`);
  return out;
}
