// crc32.js — CRC-32 (IEEE 802.3, as zip, gzip and PNG use it).
let crcTable;
/** CRC-32 (IEEE, as zip and gzip use). */
export function crc32(bytes, crc = 0) {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let c = ~crc;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
