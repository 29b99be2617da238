// zip.js — reads zip archives and gzip streams, bounds-checked, CRC-checked.
// Used for Keras' mnist.npz and for model archives (Google's inception5h.zip).
// Decompression: node:zlib in Node, DecompressionStream in browsers.
import { isNode } from './core.js';
import { crc32 } from './crc32.js';
import { DeepDreamError } from './errors.js';

const parseErr = (what, msg) => new DeepDreamError('DD_ERR_PARSE', `${what}: ${msg}`);
// A plain Uint8Array view (a Node Buffer's slice() is a view, not a copy: never keep Buffers).
const u8 = (b) => (ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));

// ---------------------------------------------------------- decompression ----
async function streamDecompress(format, bytes, what) {
  if (typeof DecompressionStream === 'undefined')
    throw new DeepDreamError('DD_ERR_UNSUPPORTED', `${what}: this environment cannot decompress ${format} (no DecompressionStream)`);
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw parseErr(what, `corrupt ${format} data (${e.message})`);
  }
}

async function zlibCall(name, bytes, what, maxOutput) {
  const zlib = await import('node:zlib');
  try {
    return new Uint8Array(zlib[name](bytes, maxOutput ? { maxOutputLength: maxOutput } : {}));
  } catch (e) {
    throw parseErr(what, `corrupt compressed data (${e.message})`);
  }
}

/** Gunzips bytes (node:zlib in Node, DecompressionStream elsewhere). */
export async function gunzip(bytes, what = 'gzip') {
  const b = u8(bytes);
  if (b.length < 18 || b[0] !== 0x1f || b[1] !== 0x8b) throw parseErr(what, 'not gzip data');
  return isNode ? zlibCall('gunzipSync', b, what) : streamDecompress('gzip', b, what);
}

async function inflateRaw(bytes, size, what) {
  const out = isNode ? await zlibCall('inflateRawSync', bytes, what, size + 1) : await streamDecompress('deflate-raw', bytes, what);
  return out;
}

// -------------------------------------------------------------------- zip ----
/**
 * Reads a zip's central directory: Map name -> {method, crc, compressedSize,
 * size, read(): Promise<Uint8Array>}. Every offset and size is bounds-checked;
 * read() inflates (stored or deflate) and checks size and CRC-32.
 */
export function unzip(bytes, what = 'zip') {
  const b = u8(bytes);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--)
    if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw parseErr(what, 'no end of central directory record (not a zip file, or truncated)');
  let entries = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOff = dv.getUint32(eocd + 16, true);
  if (entries === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw parseErr(what, 'zip64 end record locator missing');
    const z = Number(dv.getBigUint64(loc + 8, true));
    if (z + 56 > b.length || dv.getUint32(z, true) !== 0x06064b50) throw parseErr(what, 'bad zip64 end record');
    entries = Number(dv.getBigUint64(z + 32, true));
    cdSize = Number(dv.getBigUint64(z + 40, true));
    cdOff = Number(dv.getBigUint64(z + 48, true));
  }
  if (cdOff + cdSize > b.length) throw parseErr(what, 'central directory outside the file');
  const out = new Map();
  let p = cdOff;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > cdOff + cdSize || dv.getUint32(p, true) !== 0x02014b50) throw parseErr(what, `bad central directory entry ${e}`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let csize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nlen = dv.getUint16(p + 28, true), xlen = dv.getUint16(p + 30, true), clen = dv.getUint16(p + 32, true);
    let lho = dv.getUint32(p + 42, true);
    if (p + 46 + nlen + xlen + clen > cdOff + cdSize) throw parseErr(what, `central directory entry ${e} overruns`);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nlen));
    // zip64 extra field: the 0xffffffff fields, in order size, csize, offset
    for (let x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen; ) {
      const id = dv.getUint16(x, true), len = dv.getUint16(x + 2, true);
      if (x + 4 + len > p + 46 + nlen + xlen) break;
      if (id === 0x0001) {
        let q = x + 4;
        const take = () => { if (q + 8 > x + 4 + len) throw parseErr(what, `bad zip64 field in '${name}'`); const v = Number(dv.getBigUint64(q, true)); q += 8; return v; };
        if (size === 0xffffffff) size = take();
        if (csize === 0xffffffff) csize = take();
        if (lho === 0xffffffff) lho = take();
      }
      x += 4 + len;
    }
    if (flags & 1) throw new DeepDreamError('DD_ERR_UNSUPPORTED', `${what}: '${name}' is encrypted`);
    const entry = { name, method, crc, compressedSize: csize, size, localHeaderOffset: lho };
    entry.read = async () => {
      if (lho + 30 > b.length || dv.getUint32(lho, true) !== 0x04034b50) throw parseErr(what, `bad local header for '${name}'`);
      const start = lho + 30 + dv.getUint16(lho + 26, true) + dv.getUint16(lho + 28, true);
      if (start + csize > b.length) throw parseErr(what, `'${name}' extends past the end of the file`);
      const comp = b.subarray(start, start + csize);
      let data;
      if (method === 0) {
        if (csize !== size) throw parseErr(what, `stored entry '${name}' has ${csize} bytes, expected ${size}`);
        data = comp;
      } else if (method === 8) data = await inflateRaw(comp, size, `${what}: '${name}'`);
      else throw new DeepDreamError('DD_ERR_UNSUPPORTED', `${what}: '${name}' uses compression method ${method} (stored and deflate are supported)`);
      if (data.length !== size) throw parseErr(what, `'${name}' inflates to ${data.length} bytes, expected ${size}`);
      if (crc32(data) !== crc) throw parseErr(what, `'${name}' fails its CRC-32 check`);
      return data;
    };
    out.set(name, entry);
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

