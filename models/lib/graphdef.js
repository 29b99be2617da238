// graphdef.js — a minimal, independent TensorFlow GraphDef reader and writer
// in JavaScript, for tests: it parses the stand-in model's weights for the
// TF.js oracle, and writes small fixture graphs. Shares no code with the C core.

// ---------------------------------------------------------------- reader ----
class Reader {
  constructor(buf, pos = 0, end = buf.length) { this.b = buf; this.p = pos; this.end = end; }
  done() { return this.p >= this.end; }
  varint() {
    let r = 0n, shift = 0n;
    for (;;) {
      const x = this.b[this.p++];
      r |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) return r;
      shift += 7n;
    }
  }
  tag() { const t = Number(this.varint()); return [t >>> 3, t & 7]; }
  bytes() { const n = Number(this.varint()); const s = this.p; this.p += n; return this.b.subarray(s, s + n); }
  skip(wt) {
    if (wt === 0) this.varint(); else if (wt === 1) this.p += 8; else if (wt === 2) this.bytes(); else if (wt === 5) this.p += 4;
    else throw new Error(`wire type ${wt}`);
  }
}
const dec = new TextDecoder();
const DT = { 1: 'float32', 3: 'int32' };

function readShape(buf) {
  const r = new Reader(buf), dims = [];
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 2 && wt === 2) {
      const d = new Reader(r.bytes());
      let size = 0;
      while (!d.done()) { const [g, w2] = d.tag(); if (g === 1) size = Number(BigInt.asIntN(64, d.varint())); else d.skip(w2); }
      dims.push(size);
    } else r.skip(wt);
  }
  return dims;
}

function readTensor(buf) {
  const r = new Reader(buf);
  let dtype = 0, shape = [], content = null;
  const floats = [], ints = [];
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1) dtype = Number(r.varint());
    else if (f === 2) shape = readShape(r.bytes());
    else if (f === 4) content = r.bytes();
    else if (f === 5 && wt === 2) { const b = r.bytes(); const v = new DataView(b.buffer, b.byteOffset, b.byteLength); for (let i = 0; i < b.length; i += 4) floats.push(v.getFloat32(i, true)); }
    else if (f === 5 && wt === 5) { floats.push(new DataView(r.b.buffer, r.b.byteOffset + r.p, 4).getFloat32(0, true)); r.p += 4; }
    else if (f === 7 && wt === 2) { const s = new Reader(r.bytes()); while (!s.done()) ints.push(Number(BigInt.asIntN(32, s.varint()))); }
    else if (f === 7 && wt === 0) ints.push(Number(BigInt.asIntN(32, r.varint())));
    else r.skip(wt);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  let values;
  if (content) {
    const copy = Uint8Array.prototype.slice.call(content); // a real copy (Buffer#slice is a view)
    values = dtype === 1 ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  } else {
    const src = dtype === 1 ? floats : ints;
    values = dtype === 1 ? new Float32Array(count) : new Int32Array(count);
    for (let i = 0; i < count; i++) values[i] = src.length === 1 ? src[0] : src[i];
  }
  return { dtype: DT[dtype] || dtype, shape, values };
}

function readAttr(buf) {
  const r = new Reader(buf);
  const out = {};
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1) { // list
      const l = new Reader(r.bytes()); const list = { i: [], s: [] };
      while (!l.done()) {
        const [g, w2] = l.tag();
        if (g === 3 && w2 === 2) { const s = new Reader(l.bytes()); while (!s.done()) list.i.push(Number(BigInt.asIntN(64, s.varint()))); }
        else if (g === 3) list.i.push(Number(BigInt.asIntN(64, l.varint())));
        else if (g === 2) list.s.push(dec.decode(l.bytes()));
        else l.skip(w2);
      }
      out.list = list;
    } else if (f === 2) out.s = dec.decode(r.bytes());
    else if (f === 3) out.i = Number(BigInt.asIntN(64, r.varint()));
    else if (f === 4) { out.f = new DataView(r.b.buffer, r.b.byteOffset + r.p, 4).getFloat32(0, true); r.p += 4; }
    else if (f === 5) out.b = !!r.varint();
    else if (f === 6) out.type = Number(r.varint());
    else if (f === 7) out.shape = readShape(r.bytes());
    else if (f === 8) out.tensor = readTensor(r.bytes());
    else r.skip(wt);
  }
  return out;
}

/** Parses GraphDef bytes into [{name, op, inputs, attr}] (attr tensors decoded). */
export function readGraphDef(bytes) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const r = new Reader(buf), nodes = [];
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f !== 1) { r.skip(wt); continue; }
    const n = new Reader(r.bytes());
    const node = { name: '', op: '', inputs: [], attr: {} };
    while (!n.done()) {
      const [g, w2] = n.tag();
      if (g === 1) node.name = dec.decode(n.bytes());
      else if (g === 2) node.op = dec.decode(n.bytes());
      else if (g === 3) node.inputs.push(dec.decode(n.bytes()));
      else if (g === 5) {
        const e = new Reader(n.bytes()); let key = '', val = null;
        while (!e.done()) { const [h, w3] = e.tag(); if (h === 1) key = dec.decode(e.bytes()); else if (h === 2) val = readAttr(e.bytes()); else e.skip(w3); }
        node.attr[key] = val;
      } else n.skip(w2);
    }
    nodes.push(node);
  }
  return nodes;
}

// ---------------------------------------------------------------- writer ----
const enc = new TextEncoder();
class Writer {
  constructor() { this.parts = []; this.len = 0; }
  raw(u8) { this.parts.push(u8); this.len += u8.length; }
  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v));
    const out = [];
    do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; out.push(b); } while (x);
    this.raw(Uint8Array.from(out));
  }
  tag(f, wt) { this.varint((f << 3) | wt); }
  bytes(f, u8) { this.tag(f, 2); this.varint(u8.length); this.raw(u8); }
  str(f, s) { this.bytes(f, enc.encode(s)); }
  msg(f, w) { this.bytes(f, w.finish()); }
  uint(f, v) { this.tag(f, 0); this.varint(v); }
  f32(f, v) { this.tag(f, 5); const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true); this.raw(b); }
  finish() { const out = new Uint8Array(this.len); let o = 0; for (const p of this.parts) { out.set(p, o); o += p.length; } return out; }
}

function shapeMsg(dims) { const w = new Writer(); for (const d of dims) { const dw = new Writer(); dw.uint(1, d); w.msg(2, dw); } return w; }

/** Attribute helpers for writeGraphDef. */
export const attr = {
  type: (t) => (w) => w.uint(6, t),
  i: (v) => (w) => w.uint(3, v),
  f: (v) => (w) => w.f32(4, v),
  s: (v) => (w) => w.str(2, v),
  b: (v) => (w) => w.uint(5, v ? 1 : 0),
  shape: (dims) => (w) => w.msg(7, shapeMsg(dims)),
  ints: (arr) => (w) => { const l = new Writer(); const p = new Writer(); for (const v of arr) p.varint(v); l.bytes(3, p.finish()); w.msg(1, l); },
  /** A float tensor; form: 'content' (tensor_content) | 'packed' | 'unpacked' float_val */
  tensor: (dtype, dims, values, form = 'content') => (w) => {
    const t = new Writer();
    t.uint(1, dtype);
    t.msg(2, shapeMsg(dims));
    if (form === 'content') {
      const arr = dtype === 1 ? Float32Array.from(values) : Int32Array.from(values);
      t.bytes(4, new Uint8Array(arr.buffer));
    } else if (dtype === 1 && form === 'packed') {
      const b = new Uint8Array(values.length * 4); const v = new DataView(b.buffer);
      values.forEach((x, i) => v.setFloat32(i * 4, x, true)); t.bytes(5, b);
    } else if (dtype === 1) {
      for (const x of values) t.f32(5, x);
    } else if (form === 'packed') {
      const p = new Writer(); for (const x of values) p.varint(x); t.bytes(7, p.finish());
    } else {
      for (const x of values) t.uint(7, x);
    }
    w.msg(8, t);
  },
};

/**
 * nodes: [{name, op, inputs?: string[], device?, attr?: {key: attr.*(...)}}] -> GraphDef bytes.
 */
export function writeGraphDef(nodes) {
  const g = new Writer();
  for (const n of nodes) {
    const w = new Writer();
    w.str(1, n.name);
    w.str(2, n.op);
    for (const i of n.inputs || []) w.str(3, i);
    if (n.device !== undefined) w.str(4, n.device);
    for (const [k, fn] of Object.entries(n.attr || {})) {
      const e = new Writer(); e.str(1, k); const v = new Writer(); fn(v); e.msg(2, v); w.msg(5, e);
    }
    g.msg(1, w);
  }
  return g.finish();
}
