/* graphdef.h — imports a TensorFlow GraphDef (binary protobuf) into a dd_graph.
 *
 * Reads the file as it is (e.g. Inception 5h's tensorflow_inception_graph.pb):
 * no conversion step, no generated protobuf code. One pass over the bytes
 * collects the nodes; a second pass over the (small) node list resolves input
 * names, folds Concat axes and Reshape shapes into attributes, and the result
 * is checked with dd_graph_validate() before it is returned.
 *
 * What is understood
 *   GraphDef.node (field 1); versions (4), library (2) and unknown fields are
 *   skipped. NodeDef name/op/input/device/attr; "x:0" inputs become "x",
 *   "^x" control inputs are dropped, "x:N" with N != 0 is DD_ERR_UNSUPPORTED.
 *   Ops: Placeholder (float), Const (DT_FLOAT / DT_INT32), Identity, Conv2D
 *   (strides [1,s,s,1], SAME/VALID, NHWC, dilations 1), BiasAdd (NHWC), Relu,
 *   MaxPool / AvgPool (ksize and strides [1,k,k,1]), LRN (TF defaults
 *   depth_radius 5, bias 1, alpha 1, beta 0.5 when absent), Concat (legacy,
 *   axis = input 0) and ConcatV2 (axis = last input), both needing a scalar
 *   int32 Const axis in 0..3 or -1, MatMul (transpose_a/b), Softmax, Reshape
 *   (shape = a rank-1 int32 Const of at most 4 values), LeakyRelu (alpha,
 *   TF default 0.2), NoOp (ignored). The op names: src/graph/ops.def.
 *   Anything else: DD_ERR_UNSUPPORTED "unsupported op 'Tanh' at node 'foo'".
 *   2015-era attr sets (no T on MaxPool/LRN, no Tshape) and modern ones
 *   (data_format, dilations, Tidx, explicit T) are both accepted.
 *
 * Constants
 *   TensorProto dtype/tensor_shape/tensor_content/float_val/int_val, packed or
 *   not. tensor_content must hold exactly product(dims) * 4 bytes. With no
 *   content, float_val / int_val fill the tensor and the last value repeats
 *   (TF semantics: a single value broadcasts); no values at all means zeros.
 *   Rank <= 4, dims >= 0, no overflow. Values that are not stored in
 *   tensor_content (broadcasts, zeros) may expand to at most
 *   DD_GRAPHDEF_MAX_EXPANDED_BYTES in total, so a tiny file cannot ask for
 *   gigabytes.
 *
 * Borrowing (borrow_bytes != 0)
 *   The caller promises that `bytes` outlives the graph. dd_const.f / .i of
 *   tensors stored in tensor_content then point INTO `bytes`: no weight is
 *   copied and peak memory is the file plus small structures. Such pointers
 *   are generally NOT 4-byte aligned (tensor_content sits wherever the
 *   protobuf put it): readers must memcpy / pack them (kernels copy or repack
 *   weights at create time; never dereference a dd_const pointer as float*
 *   in a hot loop). On big-endian hosts data is always copied and swapped.
 *   With borrow_bytes == 0 every constant is copied into malloc'd memory the
 *   graph owns (16-byte aligned at least), and `bytes` may be freed after the
 *   call.
 *
 * Errors
 *   Never reads outside [bytes, bytes+len) and never crashes, whatever the
 *   input. DD_ERR_PARSE: malformed protobuf, wrong wire type for a known
 *   field, inconsistent Const sizes; DD_ERR_UNSUPPORTED: an op, dtype or attr
 *   value outside the list above; DD_ERR_GRAPH: missing input, duplicate node
 *   name, cycle, empty graph, no Placeholder; DD_ERR_OUT_OF_MEMORY. Messages
 *   name the node, the op and the numbers that disagree. `*out` is written
 *   only on success (release it with dd_graph_free).
 */
#ifndef DD_GRAPHDEF_H
#define DD_GRAPHDEF_H

#include "../graph/graph.h"

#define DD_GRAPHDEF_MAX_EXPANDED_BYTES ((size_t)256 << 20)

dd_status dd_graphdef_import(const uint8_t *bytes, size_t len, int borrow_bytes, dd_graph *out,
                             dd_error *err);

/* TensorFlow's name of a DataType enum value ("DT_FLOAT"), or "DT_<number>"
   written into buf (at least 24 bytes) for values it does not know. */
const char *dd_graphdef_dtype_name(int dtype, char *buf, size_t cap);

#endif /* DD_GRAPHDEF_H */
