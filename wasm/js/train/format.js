// format.js — Python str.format for checkpoint file paths, the subset Keras'
// ModelCheckpoint users write: "cp-{epoch:04d}.ckpt", "{epoch:02d}-{val_loss:.2f}".
// Supported: {{ }}, {name}, {name:spec} with spec
//   [[fill]align][sign][#][0][width][,|_][.precision][type], type in d f F e E g G % s.
// Without a type, integers print as ints and other numbers as Python's repr(float).
import { DeepDreamError } from '../errors.js';

const SPEC = /^(?:(.)?([<>=^]))?([+\- ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([dfFeEgGs%])?$/s;

function bad(template, why) {
  return new DeepDreamError('DD_ERR_INVALID_ARGUMENT', `cannot format the filepath "${template}": ${why}`);
}

/** Python's repr() of a float: shortest round-trip digits, exponent when exp < -4 or >= 16. */
export function pyFloatRepr(x) {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e');
  const e = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  if (e < -4 || e >= 16) return pyExp(neg, digits, e);
  let s;
  if (e < 0) s = '0.' + '0'.repeat(-e - 1) + digits;
  else if (digits.length > e + 1) s = digits.slice(0, e + 1) + '.' + digits.slice(e + 1);
  else s = digits + '0'.repeat(e + 1 - digits.length) + '.0';
  return (neg ? '-' : '') + s;
}

function pyExp(neg, digits, e) {
  const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  return `${neg ? '-' : ''}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function expForm(v, prec, upper) {
  const [m, ex] = v.toExponential(prec).split('e');
  const n = Number(ex);
  const s = `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  return upper ? s.toUpperCase() : s;
}

function generalForm(v, prec, alt, upper) {
  const p = prec === 0 ? 1 : prec;
  if (v === 0) return alt ? (0).toFixed(p - 1) : '0';
  const exp = Number(v.toExponential(p - 1).split('e')[1]);
  let s;
  if (exp >= -4 && exp < p) s = v.toFixed(Math.max(0, p - 1 - exp));
  else s = expForm(v, p - 1, upper);
  if (!alt) {
    const [mant, ex] = s.split(/(?=[eE])/);
    let m2 = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    s = m2 + (ex ?? '');
  }
  return s;
}

/** toFixed with Python's rounding: exact ties go to the even digit (JS rounds them up). */
export function pyFixed(a, p) {
  const s = a.toFixed(p);
  if (!(a < 1e21) || p > 99) return s;
  const full = a.toFixed(100);
  const dot = full.indexOf('.');
  const tail = full.slice(dot + 1 + p);
  if (!/^50*$/.test(tail)) return s;
  const kept = full.slice(0, dot + 1 + p).replace(/\.$/, '');
  const last = kept[kept.length - 1];
  return Number(last) % 2 === 0 ? kept : s;
}

function group(intPart, sep) {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/** Formats one value with a Python format spec. */
export function formatValue(value, spec, template = '', key = '') {
  const m = SPEC.exec(spec);
  if (!m) throw bad(template, `invalid format spec '${spec}' for '${key}'`);
  let [, fill, align, sign, alt, zero, width, grouping, precision, type] = m;
  const isNum = typeof value === 'number' || typeof value === 'bigint';
  let body, neg = false;
  if (type === 's' || (!type && !isNum)) {
    if (isNum && type === 's') throw bad(template, `format code 's' needs a string, '${key}' is a number`);
    body = String(value);
    if (precision !== undefined) body = body.slice(0, Number(precision));
    if (!align) align = '<';
  } else {
    if (!isNum) throw bad(template, `format code '${type}' needs a number, '${key}' is ${JSON.stringify(value)}`);
    let v = Number(value);
    const isInt = Number.isInteger(v) && (typeof value === 'bigint' || value._pyInt || key === 'epoch' || key === 'batch');
    if (type === 'd') {
      if (!isInt) throw bad(template, `format code 'd' needs an integer, '${key}' is ${pyFloatRepr(v)}`);
      neg = v < 0;
      body = String(Math.abs(v));
      if (grouping) body = group(body, grouping);
    } else {
      neg = v < 0 || Object.is(v, -0);
      const a = Math.abs(v);
      const prec = precision === undefined ? 6 : Number(precision);
      if (!Number.isFinite(a)) body = Number.isNaN(a) ? 'nan' : 'inf';
      else if (!type) body = isInt ? String(a) : pyFloatRepr(a);
      else if (type === 'f' || type === 'F') body = pyFixed(a, prec);
      else if (type === '%') body = pyFixed(a * 100, prec) + '%';
      else if (type === 'e' || type === 'E') body = expForm(a, prec, type === 'E');
      else body = generalForm(a, prec, !!alt, type === 'G');
      if ((type === 'F' || type === 'E' || type === 'G') && !Number.isFinite(a)) body = body.toUpperCase();
      if (grouping && Number.isFinite(a)) {
        const [ip, ...rest] = body.split('.');
        body = [group(ip, grouping), ...rest].join('.');
      }
    }
    if (!align) {
      align = zero ? '=' : '>';
      if (zero) fill = '0';
    }
  }
  const signStr = isNum ? (neg ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '') : '';
  const w = width ? Number(width) : 0;
  const f = fill ?? ' ';
  const len = signStr.length + body.length;
  if (len >= w) return signStr + body;
  const pad = w - len;
  switch (align) {
    case '<': return signStr + body + f.repeat(pad);
    case '^': return f.repeat(Math.floor(pad / 2)) + signStr + body + f.repeat(pad - Math.floor(pad / 2));
    case '=': return signStr + f.repeat(pad) + body;
    default: return f.repeat(pad) + signStr + body;
  }
}

/**
 * Formats a Keras filepath template with `values` (e.g. {epoch: 5, val_loss: 0.41}).
 * Unknown keys and bad specs throw DD_ERR_INVALID_ARGUMENT, as Keras raises KeyError.
 */
export function formatFilepath(template, values) {
  if (typeof template !== 'string') throw new DeepDreamError('DD_ERR_INVALID_ARGUMENT', 'the filepath must be a string');
  let out = '';
  for (let i = 0; i < template.length; ) {
    const ch = template[i];
    if (ch === '{') {
      if (template[i + 1] === '{') { out += '{'; i += 2; continue; }
      const end = template.indexOf('}', i);
      if (end < 0) throw bad(template, "single '{' encountered");
      const field = template.slice(i + 1, end);
      const colon = field.indexOf(':');
      const key = colon < 0 ? field : field.slice(0, colon);
      const spec = colon < 0 ? '' : field.slice(colon + 1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw bad(template, `unsupported field '{${field}}'`);
      if (!(key in values) || values[key] === undefined) throw bad(template, `there is no '${key}' (available: ${Object.keys(values).join(', ')})`);
      out += formatValue(values[key], spec, template, key);
      i = end + 1;
    } else if (ch === '}') {
      if (template[i + 1] === '}') { out += '}'; i += 2; continue; }
      throw bad(template, "single '}' encountered");
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** True when the template has replacement fields (so every save gets its own name). */
export function isTemplate(template) {
  return /\{(?!\{)[^}]*\}/.test(template.replace(/\{\{|\}\}/g, ''));
}
