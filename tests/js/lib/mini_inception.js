// mini_inception.js — writes a GraphDef with exactly Inception 5h's node
// names, ops, attrs and encoding (legacy Concat with a concat_dim Const,
// MaxPool/LRN without T, Reshape without Tshape, /cpu:0 devices, weights in
// tensor_content), with every channel count divided by `scale` and seeded
// random weights. The tests' stand-in for tensorflow_inception_graph.pb
// when ../shared is absent.
import { attr, writeGraphDef } from '../../../models/lib/graphdef.js';
import { noise } from './tfgraph.js';

const BLOCKS = [
  // name, 1x1, 3x3 bottleneck, 3x3, 5x5 bottleneck, 5x5, pool_reduce
  ['mixed3a', 64, 96, 128, 16, 32, 32], ['mixed3b', 128, 128, 192, 32, 96, 64],
  ['mixed4a', 192, 96, 204, 16, 48, 64], ['mixed4b', 160, 112, 224, 24, 64, 64],
  ['mixed4c', 128, 128, 256, 24, 64, 64], ['mixed4d', 112, 144, 288, 32, 64, 64],
  ['mixed4e', 256, 160, 320, 32, 128, 128], ['mixed5a', 256, 160, 320, 48, 128, 128],
  ['mixed5b', 384, 192, 384, 48, 128, 128],
];
const POOL_AFTER = { mixed3b: 'maxpool4', mixed4e: 'maxpool10' };

export function miniInception({ scale = 16, seed = 7, classes = 1008 } = {}) {
  const ch = (c) => Math.max(1, Math.round(c / scale));
  const consts = [], ops = [];
  let seedCounter = seed;
  const dev = '/cpu:0';
  const fconst = (name, dims) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const fanIn = dims.length === 4 ? dims[0] * dims[1] * dims[2] : dims[0];
    const a = dims.length === 1 ? 0.05 : Math.sqrt(6 / fanIn);
    consts.push({ name, op: 'Const', device: dev, attr: { dtype: attr.type(1), value: attr.tensor(1, dims, noise(n, seedCounter++, -a, a)) } });
  };
  const iconst = (name, dims, values) => consts.push({ name, op: 'Const', device: dev,
    attr: { dtype: attr.type(3), value: attr.tensor(3, dims, values, 'unpacked') } });
  const conv = (name, input, k, cin, cout, stride = 1, pad = 'SAME') => {
    fconst(`${name}_w`, [k, k, cin, cout]);
    fconst(`${name}_b`, [cout]);
    ops.push({ name: `${name}_pre_relu/conv`, op: 'Conv2D', inputs: [input, `${name}_w`], device: dev,
      attr: { T: attr.type(1), padding: attr.s(pad), strides: attr.ints([1, stride, stride, 1]), use_cudnn_on_gpu: attr.b(true) } });
    ops.push({ name: `${name}_pre_relu`, op: 'BiasAdd', inputs: [`${name}_pre_relu/conv`, `${name}_b`], device: dev, attr: { T: attr.type(1) } });
    ops.push({ name, op: 'Relu', inputs: [`${name}_pre_relu`], device: dev, attr: { T: attr.type(1) } });
    return cout;
  };
  const pool = (name, input, op, k, s, pad, withT) => ops.push({ name, op, inputs: [input], device: dev,
    attr: { ...(withT ? { T: attr.type(1) } : {}), ksize: attr.ints([1, k, k, 1]), padding: attr.s(pad), strides: attr.ints([1, s, s, 1]) } });
  const lrn = (name, input) => ops.push({ name, op: 'LRN', inputs: [input], device: dev,
    attr: { alpha: attr.f(9.999999747378752e-05), beta: attr.f(0.5), bias: attr.f(2), depth_radius: attr.i(5) } });

  ops.push({ name: 'input', op: 'Placeholder', device: dev, attr: { dtype: attr.type(1), shape: attr.shape([]) } });
  let c = conv('conv2d0', 'input', 7, 3, ch(64), 2);
  pool('maxpool0', 'conv2d0', 'MaxPool', 3, 2, 'SAME');
  lrn('localresponsenorm0', 'maxpool0');
  c = conv('conv2d1', 'localresponsenorm0', 1, c, ch(64), 1, 'VALID');
  c = conv('conv2d2', 'conv2d1', 3, c, ch(192));
  lrn('localresponsenorm1', 'conv2d2');
  pool('maxpool1', 'localresponsenorm1', 'MaxPool', 3, 2, 'SAME');
  let prev = 'maxpool1';
  const widths = {};
  for (const [b, c1, c3r, c3, c5r, c5, cp] of BLOCKS) {
    const cin = c;
    conv(`${b}_1x1`, prev, 1, cin, ch(c1));
    conv(`${b}_3x3_bottleneck`, prev, 1, cin, ch(c3r));
    conv(`${b}_3x3`, `${b}_3x3_bottleneck`, 3, ch(c3r), ch(c3));
    conv(`${b}_5x5_bottleneck`, prev, 1, cin, ch(c5r));
    conv(`${b}_5x5`, `${b}_5x5_bottleneck`, 5, ch(c5r), ch(c5));
    pool(`${b}_pool`, prev, 'MaxPool', 3, 1, 'SAME');
    conv(`${b}_pool_reduce`, `${b}_pool`, 1, cin, ch(cp));
    iconst(`${b}/concat_dim`, [], [3]);
    ops.push({ name: b, op: 'Concat', device: dev, inputs: [`${b}/concat_dim`, `${b}_1x1`, `${b}_3x3`, `${b}_5x5`, `${b}_pool_reduce`],
      attr: { N: attr.i(4), T: attr.type(1) } });
    c = ch(c1) + ch(c3) + ch(c5) + ch(cp);
    widths[b] = c;
    prev = b;
    if (POOL_AFTER[b]) { pool(POOL_AFTER[b], b, 'MaxPool', 3, 2, 'SAME'); prev = POOL_AFTER[b]; }
  }
  const dense = (name, input, k, n, act) => {
    fconst(`${name}_w`, [k, n]);
    fconst(`${name}_b`, [n]);
    const pre = act === 'Softmax' ? `${name}_pre_activation` : `${name}_pre_relu`;
    ops.push({ name: `${pre}/matmul`, op: 'MatMul', inputs: [input, `${name}_w`], device: dev,
      attr: { T: attr.type(1), transpose_a: attr.b(false), transpose_b: attr.b(false) } });
    ops.push({ name: pre, op: 'BiasAdd', inputs: [`${pre}/matmul`, `${name}_b`], device: dev, attr: { T: attr.type(1) } });
    ops.push({ name, op: act, inputs: [pre], device: dev, attr: { T: attr.type(1) } });
  };
  const reshape = (name, input, dims) => {
    iconst(`${name}/shape`, [dims.length], dims);
    ops.push({ name, op: 'Reshape', inputs: [input, `${name}/shape`], device: dev, attr: { T: attr.type(1) } });
  };
  pool('avgpool0', 'mixed5b', 'AvgPool', 7, 1, 'VALID', true);
  for (const [h, from] of [['0', 'mixed4a'], ['1', 'mixed4d']]) {
    pool(`head${h}_pool`, from, 'AvgPool', 5, 3, 'VALID', true);
    conv(`head${h}_bottleneck`, `head${h}_pool`, 1, widths[from], ch(128));
    reshape(`head${h}_bottleneck/reshape`, `head${h}_bottleneck`, [-1, 16 * ch(128)]);
    dense(`nn${h}`, `head${h}_bottleneck/reshape`, 16 * ch(128), ch(1024), 'Relu');
    reshape(`nn${h}/reshape`, `nn${h}`, [-1, ch(1024)]);
    dense(`softmax${h}`, `nn${h}/reshape`, ch(1024), classes, 'Softmax');
  }
  reshape('avgpool0/reshape', 'avgpool0', [-1, widths.mixed5b]);
  dense('softmax2', 'avgpool0/reshape', widths.mixed5b, classes, 'Softmax');
  for (const [o, s] of [['output', 'softmax0'], ['output1', 'softmax1'], ['output2', 'softmax2']])
    ops.push({ name: o, op: 'Identity', inputs: [s], device: dev, attr: { T: attr.type(1) } });
  return writeGraphDef([...ops.slice(0, 1), ...consts, ...ops.slice(1)]);
}

export const TUTORIAL_LAYERS = ['conv2d0', 'conv2d1', 'conv2d2', 'mixed3a', 'mixed3b', 'mixed4a', 'mixed4b', 'mixed4c',
  'mixed4d', 'mixed4e', 'mixed5a', 'mixed5b'];
