// tar.js — reads a (POSIX ustar / GNU) tar archive, bounds-checked: the ONNX
// model zoo ships its models as NAME.tar.gz (model.onnx + test data). Regular
// files only; links, devices and directories are skipped.
import { DeepDreamError } from './errors.js';

const parseErr = (what, msg) => new DeepDreamError('DD_ERR_PARSE', `${what}: ${msg}`);

function field(b, off, len) {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

function octal(b, off, len, what) {
  if (b[off] & 0x80) throw parseErr(what, 'a tar entry larger than 8 GiB (base-256 size)');
  const s = field(b, off, len).trim();
  if (!/^[0-7]*$/.test(s)) throw parseErr(what, `a tar header has a bad number '${s}'`);
  return s ? parseInt(s, 8) : 0;
}

/** Map name -> Uint8Array (views into `bytes`) of the regular files in a tar archive. */
export function untar(bytes, what = 'tar') {
  const b = bytes;
  const files = new Map();
  let off = 0, longName = null;
  while (off + 512 <= b.length) {
    const h = b.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break; // the end-of-archive blocks
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== octal(h, 148, 8, what)) throw parseErr(what, `bad tar header checksum at byte ${off}`);
    const size = octal(h, 124, 12, what), type = String.fromCharCode(h[156] || 48);
    const start = off + 512;
    if (size > b.length - start) throw parseErr(what, `tar entry at byte ${off} runs past the end (${size} bytes)`);
    const data = b.subarray(start, start + size);
    const prefix = field(h, 345, 155), name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = null;
    if (type === 'L') longName = field(data, 0, size); // GNU long name for the next entry
    else if (type === '0' || type === '7') files.set(name.replace(/^\.\//, ''), data);
    off = start + Math.ceil(size / 512) * 512;
  }
  return files;
}
