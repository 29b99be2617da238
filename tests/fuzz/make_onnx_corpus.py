#!/usr/bin/env python3
"""make_onnx_corpus.py — writes the seed corpus of fuzz_onnx into DIR (made at
fuzz time with Debian's python3-onnx, so no binaries are committed): small
models covering every op the importer converts and its attribute forms
(pads, auto_pad, ceil_mode, count_include_pad, dilations, group, opset-3
Concat, opset-6 Clip attrs, opset-11 Clip inputs, opset-12 Dropout, Reshape
shape input vs opset-4 attr, Constant, BatchNormalization folded and not,
Flatten -> Gemm, float_data and raw_data initializers).

    python3 tests/fuzz/make_onnx_corpus.py DIR
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


def w(name, *shape, float_data=False):
    a = (rng.standard_normal(shape) * 0.3).astype(np.float32)
    if float_data:
        return helper.make_tensor(name, TensorProto.FLOAT, shape, a.flatten().tolist())
    return numpy_helper.from_array(a, name)


def model(nodes, inits, opset, h=8, w_=8, c=3):
    g = helper.make_graph(nodes, "seed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w_])],
                          [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7 if opset >= 12 else 4
    return m.SerializeToString()


def seeds():
    N = helper.make_node
    yield "googlenet_block", model([
        N("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2], kernel_shape=[3, 3]),
        N("Relu", ["c1"], ["r1"]),
        N("MaxPool", ["r1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
        N("LRN", ["p1"], ["n1"], size=5, alpha=1e-4, beta=0.75, bias=1.0),
        N("Conv", ["n1", "w2"], ["c2"]),
        N("Concat", ["n1", "c2"], ["m"], axis=1),
        N("AveragePool", ["m"], ["a"], kernel_shape=[2, 2], strides=[1, 1]),
        N("Dropout", ["a"], ["d"], ratio=0.4),
        N("Flatten", ["d"], ["f"]),
        N("Gemm", ["f", "fc", "fcb"], ["g"], transB=1),
        N("Softmax", ["g"], ["prob"]),
    ], [w("w1", 4, 3, 3, 3), w("b1", 4, float_data=True), w("w2", 2, 4, 1, 1), w("fc", 5, 6 * 1 * 1),
        w("fcb", 5)], 9, h=5, w_=5)
    yield "resnet_block", model([
        N("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        N("BatchNormalization", ["c1", "s", "b", "m", "v"], ["bn"], epsilon=1e-5),
        N("Relu", ["bn"], ["r"]),
        N("Conv", ["r", "w2"], ["c2"], auto_pad="SAME_UPPER"),
        N("Add", ["c2", "x"], ["sum"]),
        N("Clip", ["sum"], ["clip"], min=0.0, max=6.0),
        N("GlobalAveragePool", ["clip"], ["gap"]),
    ], [w("w1", 3, 3, 3, 3), w("s", 3), w("b", 3), w("m", 3),
        numpy_helper.from_array(np.abs(rng.standard_normal(3)).astype(np.float32) + 0.5, "v"), w("w2", 3, 3, 3, 3)], 9)
    yield "depthwise_dilated", model([
        N("Conv", ["x", "dw"], ["c1"], group=3, dilations=[2, 2], pads=[2, 1, 2, 1]),
        N("LeakyRelu", ["c1"], ["l"], alpha=0.1),
        N("MaxPool", ["l"], ["p"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        N("AveragePool", ["p"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
        N("Mul", ["a", "k"], ["mul"]),
        N("Sub", ["mul", "k"], ["sub"]),
        N("Div", ["sub", "two"], ["div"]),
    ], [w("dw", 3, 1, 3, 3), w("k", 3, 1, 1), numpy_helper.from_array(np.array(2.0, np.float32), "two")], 10, 11, 9)
    yield "opset3_concat", model([
        N("Relu", ["x"], ["r"]), N("Concat", ["x", "r"], ["cat"]),
        N("AveragePool", ["cat"], ["a"], kernel_shape=[2, 2], auto_pad="SAME_LOWER")], [], 3)
    yield "opset11_clip_reshape", model([
        N("Constant", [], ["lo"], value=numpy_helper.from_array(np.array(-1.0, np.float32))),
        N("Clip", ["x", "lo", ""], ["c"]),
        N("Reshape", ["c", "shape"], ["flat"]),
        N("MatMul", ["flat", "mat"], ["mm"]),
        N("Identity", ["mm"], ["id"]),
    ], [numpy_helper.from_array(np.array([0, -1], np.int64), "shape"), w("mat", 3 * 4 * 4, 2)], 11, 4, 4)
    yield "opset12_dropout", model([
        N("Dropout", ["x", "ratio"], ["d"]), N("Flatten", ["d"], ["f"]), N("Softmax", ["f"], ["s"], axis=1)],
        [numpy_helper.from_array(np.array(0.5, np.float32), "ratio")], 12)
    yield "opset13_softmax", model([N("Softmax", ["x"], ["s"], axis=1)], [], 13)
    yield "opset4_reshape", model([N("Reshape", ["x"], ["r"], shape=[1, -1]), N("Relu", ["r"], ["y"])], [], 4)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
