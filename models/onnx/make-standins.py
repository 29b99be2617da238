#!/usr/bin/env python3
"""make-standins.py — ONNX stand-ins for the model zoo's networks: the real
published graph structures (node types, attributes, tensor names, opsets,
input names and sizes) with seeded random weights, so the ONNX path can be
tested against ONNX Runtime without downloading the real files.

  python3 models/onnx/make-standins.py OUTDIR [NAME ...]
      writes OUTDIR/NAME.onnx for each NAME (default: all) and prints one
      JSON line per file: {"name", "path", "bytes", "input", "dreamLayers"}.
  python3 models/onnx/make-standins.py --outputs IN.onnx OUT.onnx TENSOR ...
      a copy of IN with the named tensors as its graph outputs, the nodes no
      output needs removed and the image's height and width left free (the
      oracle's view of every dream layer, at any size).

Structures (from the zoo's files and READMEs, github.com/onnx/models):
  bvlc_googlenet  Caffe BVLC GoogLeNet -> Caffe2 -> ONNX (googlenet-9.onnx:
                  opset 9, ir_version 4). Input data_0 [1,3,224,224] (BGR,
                  mean-subtracted 0..255), output prob_1 [1,1000]. Caffe2
                  SSA tensor names: a blob's first write is <blob>_1, the
                  in-place ReLU's <blob>_2, weights <layer>_w_0/_b_0, also
                  listed as graph inputs. Caffe's ceil-mode 3x3/2 max pools
                  are explicit end pads [0,0,2,2]. 142 nodes: Conv 57, Relu 57,
                  MaxPool 13, Concat 9, LRN 2, AveragePool, Reshape, Gemm,
                  Softmax.
  vgg16           MXNet Gluon vgg16 -> ONNX (vgg16-7.onnx: opset 7). Input
                  data [1,3,224,224] (RGB, /255, ImageNet mean/std), names
                  vgg0_conv<i>_fwd, vgg0_relu<i>_fwd, vgg0_pool<i>_fwd,
                  vgg0_dense<i>_fwd; Flatten before each dense; Dropout.
  resnet50        MXNet Gluon resnet50_v1 -> ONNX (resnet50-v1-7.onnx: opset
                  7). Input data [1,3,224,224] (RGB, ImageNet mean/std):
                  conv + BatchNormalization + Relu, bottleneck blocks with Add.

Weights: He-normal scaled per layer (seeded, numpy's PCG64), biases small, so
activations stay in the 1..100 range for inputs of the model's own range (the
LRNs of GoogLeNet then do real work). Same seed, same bytes.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20261204


class Builder:
    def __init__(self, seed, weights_as_inputs):
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.nodes, self.inits = [], []
        self.weights_as_inputs = weights_as_inputs

    def weight(self, name, arr):
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
        return name

    def node(self, op, inputs, output, name='', **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def he(self, shape, fan_in, gain=1.0):
        return self.rng.standard_normal(shape) * (gain * np.sqrt(2.0 / fan_in))

    def conv(self, x, w_name, b_name, out, cin, cout, k, stride=1, pad=0, gain=1.0, name=''):
        w = self.weight(w_name, self.he((cout, cin, k, k), cin * k * k, gain))
        inputs = [x, w]
        if b_name:
            inputs.append(self.weight(b_name, self.rng.uniform(-0.1, 0.3, cout)))
        return self.node('Conv', inputs, out, name=name, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, dilations=[1, 1], group=1)

    def model(self, name, inp, out, out_shape, opset, ir_version, producer):
        x = helper.make_tensor_value_info(inp, TensorProto.FLOAT, [1, 3, 224, 224])
        y = helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)
        inputs = [x]
        if self.weights_as_inputs:  # ir_version < 4 style, which the Caffe2 exports kept
            inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in self.inits]
        graph = helper.make_graph(self.nodes, name, inputs, [y], initializer=self.inits)
        m = helper.make_model(graph, producer_name=producer, opset_imports=[helper.make_opsetid('', opset)])
        m.ir_version = ir_version
        onnx.checker.check_model(m)
        return m


# (name, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj): Szegedy et al. 2014, table 1
GOOGLENET_INCEPTION = [
    ('3a', 64, 96, 128, 16, 32, 32), ('3b', 128, 128, 192, 32, 96, 64), None,
    ('4a', 192, 96, 208, 16, 48, 64), ('4b', 160, 112, 224, 24, 64, 64), ('4c', 128, 128, 256, 24, 64, 64),
    ('4d', 112, 144, 288, 32, 64, 64), ('4e', 256, 160, 320, 32, 128, 128), None,
    ('5a', 256, 160, 320, 32, 128, 128), ('5b', 384, 192, 384, 48, 128, 128),
]


def bvlc_googlenet():
    b = Builder(SEED, weights_as_inputs=True)
    # Caffe2 SSA: conv writes <blob>_1, the in-place ReLU <blob>_2
    def conv_relu(x, blob, cin, cout, k, stride=1, pad=0, gain=1.0):
        c = b.conv(x, f'{blob}_w_0', f'{blob}_b_0', f'{blob}_1', cin, cout, k, stride, pad, gain)
        return b.node('Relu', [c], f'{blob}_2')

    def maxpool_ceil(x, blob):  # Caffe's ceil-mode 3x3/2, as the export wrote it
        return b.node('MaxPool', [x], f'{blob}_1', kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 2, 2])

    def lrn(x, blob):
        return b.node('LRN', [x], f'{blob}_1', size=5, alpha=0.0001, beta=0.75, bias=1.0)

    x = conv_relu('data_0', 'conv1/7x7_s2', 3, 64, 7, 2, 3, gain=0.05)  # input is +-128
    x = lrn(maxpool_ceil(x, 'pool1/3x3_s2'), 'pool1/norm1')
    x = conv_relu(x, 'conv2/3x3_reduce', 64, 64, 1)
    x = conv_relu(x, 'conv2/3x3', 64, 192, 3, 1, 1)
    x = maxpool_ceil(lrn(x, 'conv2/norm2'), 'pool2/3x3_s2')
    cin, pool_no, outputs = 192, 3, []
    for row in GOOGLENET_INCEPTION:
        if row is None:
            x = maxpool_ceil(x, f'pool{pool_no}/3x3_s2')
            pool_no += 1
            continue
        name, n1, n3r, n3, n5r, n5, npp = row
        p = f'inception_{name}'
        a = conv_relu(x, f'{p}/1x1', cin, n1, 1)
        c = conv_relu(conv_relu(x, f'{p}/3x3_reduce', cin, n3r, 1), f'{p}/3x3', n3r, n3, 3, 1, 1)
        d = conv_relu(conv_relu(x, f'{p}/5x5_reduce', cin, n5r, 1), f'{p}/5x5', n5r, n5, 5, 1, 2)
        e = b.node('MaxPool', [x], f'{p}/pool_1', kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
        e = conv_relu(e, f'{p}/pool_proj', cin, npp, 1)
        x = b.node('Concat', [a, c, d, e], f'{p}/output_1', axis=1)
        outputs.append(x)
        cin = n1 + n3 + n5 + npp
    x = b.node('AveragePool', [x], 'pool5/7x7_s1_1', kernel_shape=[7, 7], strides=[1, 1], pads=[0, 0, 0, 0])
    shape = b.weight('OC2_DUMMY_1', np.array([1, 1024]))
    b.inits[-1] = numpy_helper.from_array(np.array([1, 1024], dtype=np.int64), 'OC2_DUMMY_1')
    x = b.node('Reshape', [x, shape], 'OC2_DUMMY_0')
    w = b.weight('loss3/classifier_w_0', b.he((1000, 1024), 1024, 0.5))
    bias = b.weight('loss3/classifier_b_0', np.zeros(1000))
    x = b.node('Gemm', [x, w, bias], 'loss3/classifier_1', alpha=1.0, beta=1.0, transA=0, transB=1)
    b.node('Softmax', [x], 'prob_1')
    m = b.model('googlenet', 'data_0', 'prob_1', [1, 1000], 9, 4, 'onnx-caffe2')
    return m, 'data_0', outputs


VGG16 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']


def vgg16():
    b = Builder(SEED + 16, weights_as_inputs=True)
    x, cin, i, pool, relus = 'data', 3, 0, 0, []
    for v in VGG16:
        if v == 'M':
            x = b.node('MaxPool', [x], f'vgg0_pool{pool}_fwd', name=f'vgg0_pool{pool}_fwd',
                       kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
            pool += 1
            continue
        x = b.conv(x, f'vgg0_conv{i}_weight', f'vgg0_conv{i}_bias', f'vgg0_conv{i}_fwd', cin, v, 3, 1, 1,
                   name=f'vgg0_conv{i}_fwd')
        x = b.node('Relu', [x], f'vgg0_relu{i}_fwd', name=f'vgg0_relu{i}_fwd')
        relus.append(x)
        cin, i = v, i + 1
    dims = [(25088, 4096), (4096, 4096), (4096, 1000)]
    for j, (fi, fo) in enumerate(dims):
        x = b.node('Flatten', [x], f'flatten_{60 + 5 * j}', name=f'flatten_{60 + 5 * j}', axis=1)
        w = b.weight(f'vgg0_dense{j}_weight', b.he((fo, fi), fi, 0.5))
        bias = b.weight(f'vgg0_dense{j}_bias', np.zeros(fo))
        x = b.node('Gemm', [x, w, bias], f'vgg0_dense{j}_fwd', name=f'vgg0_dense{j}_fwd',
                   alpha=1.0, beta=1.0, transA=0, transB=1)
        if j < 2:
            x = b.node('Relu', [x], f'vgg0_dense{j}_relu_fwd', name=f'vgg0_dense{j}_relu_fwd')
            x = b.node('Dropout', [x], f'vgg0_dropout{j}_fwd', name=f'vgg0_dropout{j}_fwd', ratio=0.5)
    m = b.model('mxnet_converted_model', 'data', x, [1, 1000], 7, 3, 'MXNet')
    return m, 'data', relus


def resnet50():
    b = Builder(SEED + 50, weights_as_inputs=True)
    p = 'resnetv17'
    n_conv, n_bn = [0], [0]

    def conv_bn(x, prefix, cin, cout, k, stride, pad, relu_name=None, gain=1.0):
        cname = f'{prefix}conv{n_conv[0]}'
        n_conv[0] += 1
        x = b.conv(x, f'{cname}_weight', None, f'{cname}_fwd', cin, cout, k, stride, pad, gain, name=f'{cname}_fwd')
        bname = f'{prefix}batchnorm{n_bn[0]}'
        n_bn[0] += 1
        scale = b.weight(f'{bname}_gamma', b.rng.uniform(0.5, 1.0, cout))
        bias = b.weight(f'{bname}_beta', b.rng.uniform(-0.1, 0.2, cout))
        mean = b.weight(f'{bname}_running_mean', b.rng.uniform(-0.2, 0.2, cout))
        var = b.weight(f'{bname}_running_var', b.rng.uniform(0.5, 1.5, cout))
        x = b.node('BatchNormalization', [x, scale, bias, mean, var], f'{bname}_fwd', name=f'{bname}_fwd',
                   epsilon=1e-5, momentum=0.9)
        if relu_name:
            x = b.node('Relu', [x], relu_name, name=relu_name)
        return x

    x = conv_bn('data', f'{p}_', 3, 64, 7, 2, 3, relu_name=f'{p}_relu0_fwd')
    x = b.node('MaxPool', [x], f'{p}_pool0_fwd', name=f'{p}_pool0_fwd', kernel_shape=[3, 3], strides=[2, 2],
               pads=[1, 1, 1, 1])
    cin, acts = 64, [x]
    for stage, (blocks, width, stride) in enumerate([(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)], 1):
        sp = f'{p}_stage{stage}_'
        n_conv[0], n_bn[0] = 0, 0
        for blk in range(blocks):
            s = stride if blk == 0 else 1
            y = conv_bn(x, sp, cin, width, 1, s, 0, relu_name=f'{sp}relu{3 * blk}_fwd')
            y = conv_bn(y, sp, width, width, 3, 1, 1, relu_name=f'{sp}relu{3 * blk + 1}_fwd')
            y = conv_bn(y, sp, width, width * 4, 1, 1, 0, gain=0.5)
            if blk == 0:
                sc = conv_bn(x, sp, cin, width * 4, 1, s, 0, gain=0.5)
            else:
                sc = x
            y = b.node('Add', [y, sc], f'{sp}_plus{blk}', name=f'{sp}_plus{blk}')
            x = b.node('Relu', [y], f'{sp}activation{blk}', name=f'{sp}activation{blk}')
            acts.append(x)
            cin = width * 4
    x = b.node('GlobalAveragePool', [x], f'{p}_pool1_fwd', name=f'{p}_pool1_fwd')
    x = b.node('Flatten', [x], 'flatten_473', name='flatten_473', axis=1)
    w = b.weight(f'{p}_dense0_weight', b.he((1000, 2048), 2048, 0.5))
    bias = b.weight(f'{p}_dense0_bias', np.zeros(1000))
    x = b.node('Gemm', [x, w, bias], f'{p}_dense0_fwd', name=f'{p}_dense0_fwd', alpha=1.0, beta=1.0, transA=0,
               transB=1)
    m = b.model('mxnet_converted_model', 'data', x, [1, 1000], 7, 3, 'MXNet')
    return m, 'data', acts


STANDINS = {'bvlc_googlenet': bvlc_googlenet, 'vgg16': vgg16, 'resnet50': resnet50}


def with_outputs(src, dst, names):
    m = onnx.load(src)
    g = m.graph
    producers = {o: n for n in g.node for o in n.output}
    missing = [t for t in names if t not in producers]
    if missing:
        raise SystemExit(f'no node writes {", ".join(missing)}')
    need, stack = set(), list(names)
    while stack:  # keep only the nodes the outputs need
        t = stack.pop()
        n = producers.get(t)
        if n is None or id(n) in need:
            continue
        need.add(id(n))
        stack.extend(n.input)
    kept = [n for n in g.node if id(n) in need]
    used = {i for n in kept for i in n.input}
    del g.node[:]
    g.node.extend(kept)
    inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    ins = [i for i in g.input if i.name in used]
    del g.input[:]
    g.input.extend(ins)
    del g.output[:]
    g.output.extend(helper.make_empty_tensor_value_info(t) for t in names)
    for i in g.input:  # the image input takes any height and width
        if i.name not in {t.name for t in g.initializer}:
            dims = i.type.tensor_type.shape.dim
            if len(dims) == 4:
                dims[2].dim_param, dims[3].dim_param = 'height', 'width'
    onnx.save(m, dst)


def main(argv):
    if argv and argv[0] == '--outputs':
        if len(argv) < 4:
            raise SystemExit('usage: make-standins.py --outputs IN.onnx OUT.onnx TENSOR ...')
        with_outputs(argv[1], argv[2], argv[3:])
        return
    if not argv or argv[0] in ('-h', '--help') or argv[0].startswith('-'):
        print(__doc__.strip() if argv and argv[0] in ('-h', '--help') else
              'usage: make-standins.py OUTDIR [NAME ...]  (names: ' + ', '.join(STANDINS) + ')')
        raise SystemExit(0 if argv and argv[0] in ('-h', '--help') else 2)
    out_dir, names = argv[0], argv[1:] or list(STANDINS)
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        if name not in STANDINS:
            raise SystemExit(f'unknown stand-in {name}; known: {", ".join(STANDINS)}')
        m, inp, layers = STANDINS[name]()
        path = os.path.join(out_dir, f'{name}.onnx')
        tmp = path + '.tmp'
        onnx.save(m, tmp)
        os.replace(tmp, path)
        print(json.dumps({'name': name, 'path': path, 'bytes': os.path.getsize(path), 'input': inp,
                          'dreamLayers': layers}))


if __name__ == '__main__':
    main(sys.argv[1:])
