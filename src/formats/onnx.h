/* onnx.h — imports an ONNX ModelProto (binary protobuf) into a dd_graph.
 *
 * Reads .onnx files as the model zoo publishes them (opsets 3..13 at least:
 * attributes and inputs per opset), with the bounded protobuf reader the
 * GraphDef importer uses (protobuf.h) and nothing else of it.
 *
 * Layout. ONNX activations are NCHW, weights OIHW; the engine is NHWC/HWIO.
 * Weights are converted once, here: Conv filters to HWIO (dilations become
 * zeros between the taps and groups a block-diagonal filter, so the kernels
 * see plain convolutions: correct, and as slow as the expanded filter),
 * BatchNormalization folded into the conv before it when that conv feeds
 * nothing else (else a per-channel Mul + BiasAdd), Gemm/MatMul matrices
 * scaled by alpha and, after a Flatten of C channels of H*W > 1 pixels, their
 * K rows permuted from ONNX's c*HW + p order to the engine's p*C + c, so the
 * numbers equal ONNX's while activations stay NHWC. The graph's one input
 * (a rank-4 float NCHW graph input that is not an initializer) becomes the
 * Placeholder, fed NHWC (the dream's HxWx3).
 *
 * Names. Each ONNX node's (first) output names the IR node that computes it;
 * helper nodes take that name plus "/conv", "/matmul", "/scale", weights
 * "/filter", "/bias", "/matrix", "/factor" (with "_N" added when taken). A
 * conv whose BatchNormalization was folded keeps its name with the
 * normalised values.
 *
 * Ops: Conv (pads, strides, dilations, group, auto_pad), Relu, LeakyRelu,
 * MaxPool / AveragePool (pads, ceil_mode, count_include_pad, auto_pad;
 * dilations 1, storage_order 0), GlobalAveragePool, LRN (odd size), Concat
 * (the channel axis), Add (two activations, or a constant), Sub / Mul / Div
 * by a scalar or per-channel constant, BatchNormalization (inference),
 * Gemm (transA 0), MatMul (by a constant), Flatten (axis 1), Reshape (to
 * [N, K]), Dropout and Identity (views), Softmax (over the last axis of a
 * matrix, or channels at opset >= 13), Constant, Clip (attrs < 11, inputs
 * >= 11). The op names: src/graph/ops.def's ONNX column.
 *
 * Errors. Never reads outside [bytes, bytes + len), never crashes. Messages
 * name the op and the node: DD_ERR_UNSUPPORTED "unsupported op 'Tanh' at
 * node 'foo'" (or a domain, dtype, attribute value, rank, external-data
 * tensor "weights 'w' are stored in the external file 'model.data'"),
 * DD_ERR_PARSE (malformed protobuf, sizes that disagree, NaN/Inf weights
 * naming the node and the initializer), DD_ERR_GRAPH (an input produced by no
 * earlier node, duplicate outputs), DD_ERR_OUT_OF_MEMORY. Sizes are checked
 * for 32-bit size_t; a filter a dilation or group expands may hold at most
 * DD_ONNX_MAX_EXPANDED_FILTER values, and all weights together at most
 * DD_ONNX_MAX_WEIGHT_BYTES. *out is written only
 * on success (release it with dd_graph_free); weights are always copied.
 */
#ifndef DD_ONNX_H
#define DD_ONNX_H

#include "../graph/graph.h"

#define DD_ONNX_MAX_WEIGHT_BYTES ((size_t)1 << 30)
/* Values one conv filter may have after dilation and group expansion (64 MB). */
#define DD_ONNX_MAX_EXPANDED_FILTER (16 << 20)

/* A TensorProto given beside the model, taken as an initializer of that name
   (the conformance runner binds a node test's extra inputs this way). */
typedef struct dd_onnx_binding {
  const char *name;
  const uint8_t *tensor; /* serialized TensorProto */
  size_t len;
} dd_onnx_binding;

dd_status dd_onnx_import(const uint8_t *bytes, size_t len, dd_graph *out, dd_error *err);
dd_status dd_onnx_import_bound(const uint8_t *bytes, size_t len, const dd_onnx_binding *bind, int n_bind,
                               dd_graph *out, dd_error *err);

/* ONNX's name of a TensorProto data type ("FLOAT", "INT64"), or "type <n>"
   written into buf (at least 24 bytes). */
const char *dd_onnx_dtype_name(int dtype, char *buf, size_t cap);

#endif /* DD_ONNX_H */
