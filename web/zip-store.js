// zip-store.js — a zip archive of files stored as they are (no compression: the PNG frames are compressed
// already), for the Animate tab's "PNG frames" download. CRC-32 from wasm/js/crc32.js; wasm/js/zip.js
// (the reader) opens what this writes.
import { crc32 } from '../wasm/js/crc32.js';

/** files: [{name, bytes: Uint8Array}] -> the .zip's bytes (names ASCII, fewer than 65535 files, < 4 GiB). */
export function zipStore(files) {
  const enc = new TextEncoder(), locals = [], central = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.name), crc = crc32(f.bytes), n = f.bytes.length;
    const h = new DataView(new ArrayBuffer(30));
    h.setUint32(0, 0x04034b50, true); h.setUint16(4, 20, true); h.setUint16(6, 0x0800, true); h.setUint16(8, 0, true);
    h.setUint16(10, 0, true); h.setUint16(12, 0x21, true); h.setUint32(14, crc, true); h.setUint32(18, n, true);
    h.setUint32(22, n, true); h.setUint16(26, name.length, true); h.setUint16(28, 0, true);
    locals.push(new Uint8Array(h.buffer), name, f.bytes);
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true); c.setUint16(4, 20, true); c.setUint16(6, 20, true); c.setUint16(8, 0x0800, true);
    c.setUint16(10, 0, true); c.setUint16(12, 0, true); c.setUint16(14, 0x21, true); c.setUint32(16, crc, true);
    c.setUint32(20, n, true); c.setUint32(24, n, true); c.setUint16(28, name.length, true); c.setUint32(42, offset, true);
    central.push(new Uint8Array(c.buffer), name);
    offset += 30 + name.length + n;
  }
  const cdSize = central.reduce((s, a) => s + a.length, 0);
  const e = new DataView(new ArrayBuffer(22));
  e.setUint32(0, 0x06054b50, true); e.setUint16(8, files.length, true); e.setUint16(10, files.length, true);
  e.setUint32(12, cdSize, true); e.setUint32(16, offset, true);
  return new Blob([...locals, ...central, new Uint8Array(e.buffer)], { type: 'application/zip' });
}
