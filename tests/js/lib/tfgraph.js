// tfgraph.js — an independent implementation of a GraphDef's forward pass
// with TensorFlow.js ops, for tests: the oracle the C core is compared with.
const clean = (s) => s.replace(/^\^/, '').replace(/:0$/, '');

/**
 * @param tf the @tensorflow/tfjs namespace
 * @param nodes readGraphDef() output
 * @returns {(input: tf.Tensor4D, target: string|string[]) => tf.Tensor|tf.Tensor[]} evaluates `target`
 */
export function graphRunner(tf, nodes) {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const constCache = new Map();
  const constant = (n) => {
    if (!constCache.has(n.name)) {
      const t = n.attr.value.tensor;
      constCache.set(n.name, tf.keep(tf.tensor(t.values, t.shape, t.dtype)));
    }
    return constCache.get(n.name);
  };
  const run = (input, target) => {
    const memo = new Map();
    const ev = (name) => {
      name = clean(name);
      if (memo.has(name)) return memo.get(name);
      const n = byName.get(name);
      if (!n) throw new Error(`no node ${name}`);
      const ins = () => n.inputs.filter((i) => !i.startsWith('^')).map(ev);
      let out;
      const pad = () => n.attr.padding.s.toLowerCase();
      const strides = () => { const s = n.attr.strides.list.i; return [s[1], s[2]]; };
      switch (n.op) {
        case 'Placeholder': out = input; break;
        case 'Const': out = constant(n); break;
        case 'Identity': out = ins()[0]; break;
        case 'Conv2D': { const [x, w] = ins(); out = tf.conv2d(x, w, strides(), pad()); break; }
        case 'BiasAdd': { const [x, b] = ins(); out = tf.add(x, b); break; }
        case 'Relu': out = tf.relu(ins()[0]); break;
        case 'MaxPool':
        case 'AvgPool': {
          const k = n.attr.ksize.list.i;
          out = (n.op === 'MaxPool' ? tf.maxPool : tf.avgPool)(ins()[0], [k[1], k[2]], strides(), pad());
          break;
        }
        case 'LRN': {
          const a = n.attr;
          out = tf.localResponseNormalization(ins()[0], a.depth_radius?.i ?? 5, a.bias?.f ?? 1, a.alpha?.f ?? 1, a.beta?.f ?? 0.5);
          break;
        }
        case 'Concat': { const v = ins(); out = tf.concat(v.slice(1), v[0].dataSync()[0]); break; }
        case 'ConcatV2': { const v = ins(); out = tf.concat(v.slice(0, -1), v[v.length - 1].dataSync()[0]); break; }
        case 'Reshape': { const [x, s] = ins(); out = tf.reshape(x, Array.from(s.dataSync())); break; }
        case 'MatMul': { const [a, b] = ins(); out = tf.matMul(a, b, !!n.attr.transpose_a?.b, !!n.attr.transpose_b?.b); break; }
        case 'Softmax': out = tf.softmax(ins()[0]); break;
        default: throw new Error(`tfgraph: op ${n.op} not implemented (node ${name})`);
      }
      memo.set(name, out);
      return out;
    };
    return Array.isArray(target) ? target.map(ev) : ev(target);
  };
  run.dispose = () => { for (const t of constCache.values()) t.dispose(); constCache.clear(); };
  return run;
}

/** The DeepDream gradient with tf.grad: d mean(square(target[..., channels])) / d input. */
export function tfDreamGradient(tf, run, input, target, channels) {
  const f = (x) => {
    let t = run(x, target);
    if (channels && channels.length) t = tf.gather(t, channels, 3);
    return tf.mean(tf.square(t));
  };
  return tf.tidy(() => tf.grad(f)(input));
}

export function relL2(got, want) {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { const d = got[i] - want[i]; num += d * d; den += want[i] * want[i]; }
  return Math.sqrt(num / (den || 1));
}
export function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}
/** Deterministic tie-free noise in [lo, hi). */
export function noise(n, seed = 1, lo = 0, hi = 255) {
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    out[i] = lo + (hi - lo) * Number(s >> 40n) / 16777216;
  }
  return out;
}
