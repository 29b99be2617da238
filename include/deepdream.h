/* deepdream.h — the public C API of deepdream-wasm.
 *
 * deepdream-wasm loads TensorFlow GraphDef models (Google's Inception 5h,
 * `tensorflow_inception_graph.pb`, as it is) and runs DeepDream on images,
 * tile by tile, the way Hvass-Labs TensorFlow tutorial #14 does it. The same
 * C core is compiled natively (gcc, optional XNNPACK backend) and to
 * WebAssembly with SIMD128.
 *
 * Contracts that hold for every function here:
 *   - Every fallible call returns a dd_status. DD_OK (0) is success, DD_DONE (1)
 *     is a second kind of success (a finished dream); every error is negative.
 *   - Every fallible call takes a `dd_error *err` as its last argument. It may be
 *     NULL. When not NULL and the call fails, err->status and err->message (a
 *     NUL-terminated, human readable sentence naming what was wrong) are set.
 *     On success err is left untouched.
 *   - Output pointers (`**out`) are written only on success.
 *   - No function keeps a pointer to caller memory after it returns unless the
 *     contract says so. There is no process-wide mutable state: two models and
 *     two dreams may live side by side; one handle must not be used from two
 *     threads at once.
 *   - Input bytes (model files, saved states) are untrusted: a malformed input
 *     gives an error status, never a crash or an out-of-bounds read.
 *   - Memory returned to the caller (`void **bytes`) is released with dd_free().
 *
 * Data flow: bytes -> formats -> graph -> engine (kernels) -> dream | train
 *            -> this API -> wasm bindings -> JS API.
 *
 * Siblings with the same contracts, for programs that need more than
 * dreaming: deepdream_image.h (PNG/JPEG, resize, noise pictures),
 * deepdream_options.h (options by name as the command lines spell them, and
 * the struct layouts the wasm bindings describe to JavaScript),
 * deepdream_profile.h (per-op times). Nothing outside include/ is public: the
 * command line and the wasm bindings are built with include/ alone.
 */
#ifndef DEEPDREAM_H
#define DEEPDREAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DD_VERSION_MAJOR 0
#define DD_VERSION_MINOR 1
#define DD_VERSION_PATCH 0

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                  */
/* ------------------------------------------------------------------------ */

/* The status list, one row per code: X(name, value, meaning). The enum, the
   names (dd_status_string) and the list the wasm bindings hand to JavaScript
   (dd_status_count / dd_status_at) all expand from it. */
#define DD_STATUS_LIST(X)                                                          \
  X(DD_OK, 0, "success")                                                           \
  X(DD_DONE, 1, "success: the dream is finished")                                  \
  X(DD_ERR_INVALID_ARGUMENT, -1, "a parameter is out of range or NULL")            \
  X(DD_ERR_OUT_OF_MEMORY, -2, "an allocation failed")                              \
  X(DD_ERR_PARSE, -3, "malformed bytes: protobuf, image, saved state")             \
  X(DD_ERR_UNSUPPORTED, -4, "well-formed but not supported: op, dtype, attr")      \
  X(DD_ERR_NOT_FOUND, -5, "a named layer, node or channel does not exist")         \
  X(DD_ERR_SHAPE, -6, "tensor shapes disagree")                                    \
  X(DD_ERR_GRAPH, -7, "graph structure: missing input, cycle")                     \
  X(DD_ERR_STATE_MISMATCH, -8, "saved state belongs to another model or version")  \
  X(DD_ERR_IO, -9, "file could not be read or written")                            \
  X(DD_ERR_ABORTED, -10, "the caller asked to stop")                               \
  X(DD_ERR_INTERNAL, -11, "a bug: please report it")

typedef enum dd_status {
#define DD_STATUS_ENUM_(name, value, meaning) name = value,
  DD_STATUS_LIST(DD_STATUS_ENUM_)
#undef DD_STATUS_ENUM_
} dd_status;

#define DD_ERROR_MESSAGE_SIZE 256

typedef struct dd_error {
  dd_status status;
  char message[DD_ERROR_MESSAGE_SIZE];
} dd_error;

/* A short constant name for a status, e.g. "DD_ERR_PARSE". Never NULL. */
const char *dd_status_string(dd_status status);

/* Sets *err (when err is not NULL) to `status` and a printf-style message and
   returns `status`: `return dd_fail(err, DD_ERR_PARSE, "node %s: ...", name);`.
   The core fails this way; code that adds its own steps around the API (the
   CLI's file writes) fills a dd_error the same way. */
dd_status dd_fail(dd_error *err, dd_status status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The statuses of DD_STATUS_LIST, in its order: index 0..dd_status_count()-1. */
int dd_status_count(void);
dd_status dd_status_at(int index);

/* Releases memory that this API returned to the caller. NULL is allowed. */
void dd_free(void *ptr);

/* Allocates memory that may be handed to the API with an "adopt" flag. */
void *dd_malloc(size_t size);

/* ------------------------------------------------------------------------ */
/* Kernel backends                                                          */
/* ------------------------------------------------------------------------ */

typedef enum dd_backend {
  DD_BACKEND_AUTO = 0,      /* simd128 (wasm and native), the default */
  DD_BACKEND_REFERENCE = 1, /* plain loops: the oracle for tests */
  DD_BACKEND_SIMD128 = 2,   /* the project's own wasm_f32x4 kernels (native via SIMDe) */
  DD_BACKEND_XNNPACK = 3    /* Debian's XNNPACK, native builds only */
} dd_backend;

/* 1 when the backend is compiled into this build, else 0. */
int dd_backend_available(dd_backend backend);
/* "reference", "simd128", "xnnpack", or "auto". */
const char *dd_backend_name(dd_backend backend);

/* ------------------------------------------------------------------------ */
/* Threads                                                                  */
/* ------------------------------------------------------------------------ */
/* A dd_pool is a set of worker threads that models and nets share, so a
 * process (or a wasm instance) starts its threads once however many models
 * and trainers it holds. The contract:
 *   - dd_pool_create starts num_threads - 1 workers (the calling thread is
 *     the last one); 0 means one per core. The count is clamped to what the
 *     build can start (the wasm threaded build: the workers Emscripten
 *     pre-spawns, PTHREAD_POOL_SIZE, plus the caller); dd_pool_threads gives
 *     the count it got.
 *   - A model or net given the pool (dd_model_options.pool,
 *     dd_net_options.pool) holds a reference: dd_pool_free drops the
 *     caller's, and the threads stop when the last holder is freed. So the
 *     caller may free the pool right after creating its models.
 *   - Each holder runs its jobs on at most its own num_threads of the pool's
 *     threads. Results do not depend on the thread count.
 *   - Jobs on one pool run one at a time: two models sharing a pool may be
 *     used from two threads at once (one waits for the other's parallel
 *     region), and neither blocks the other for longer than one region.
 *   - Without a pool, a model or net with num_threads != 1 starts its own
 *     threads (as before); in the wasm threaded build such extra pools get
 *     only the workers left, and run with fewer threads rather than hang.
 *   - The single-threaded builds return a pool of 1 thread. */
typedef struct dd_pool dd_pool;

dd_status dd_pool_create(int num_threads, dd_pool **out, dd_error *err);
int dd_pool_threads(const dd_pool *pool); /* 1 for NULL */
void dd_pool_free(dd_pool *pool);         /* NULL is allowed */
/* The most threads a pool may have in this build, the calling thread
   included (1 in single-threaded builds; in the wasm threaded build the
   workers Emscripten pre-spawns plus the caller). */
int dd_max_threads(void);

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct dd_model dd_model;

typedef struct dd_model_options {
  dd_backend backend; /* DD_BACKEND_AUTO */
  int num_threads;    /* 0 = one thread per core the platform reports (with a pool: all of
                         its threads); 1 = no threads */
  dd_pool *pool;      /* NULL: the model starts its own threads; else it runs on this shared
                         pool (and holds a reference on it until dd_model_free) */
  /* When non-zero, dd_model_load_graphdef takes ownership of `bytes`, which
     must come from dd_malloc(); the model keeps weights as views into it and
     frees it with the model (also on failure). This halves peak memory. */
  int adopt_buffer;
} dd_model_options;

void dd_model_options_init(dd_model_options *opt);

/* Loads a TensorFlow GraphDef (binary protobuf), e.g. Inception 5h's
   tensorflow_inception_graph.pb, or an ONNX model (.onnx, recognised by its
   first bytes; its NCHW image input is fed NHWC like a GraphDef's; weights
   are copied, so adopt_buffer saves nothing there). `opt` may be NULL for
   defaults. */
dd_status dd_model_load_graphdef(const void *bytes, size_t len, const dd_model_options *opt,
                                 dd_model **out, dd_error *err);
/* Free every dream of a model (dd_dream_free) before the model: a dream keeps
   a pointer to it. The JS API enforces this (Model.free() while a dream runs
   is deferred until the dream settles). */
void dd_model_free(dd_model *model);

typedef struct dd_layer_info {
  const char *name;   /* node name, valid while the model lives */
  const char *op;     /* TensorFlow op type of the node, e.g. "Relu", "Concat" */
  int channels;       /* output channels (last axis) */
  int node_index;     /* index of the node in the graph */
} dd_layer_info;

/* The model's dream layers: for Inception 5h the tutorial's 12 layers
   conv2d0 .. mixed5b, index 0..11; for a recognised ONNX zoo structure its
   list (BVLC GoogLeNet: conv1, conv2 and the nine inception_NN/output
   concats). For other graphs: every Relu after a Conv2D, in graph order.
   Every node stays selectable by name (dd_model_find_node). */
int dd_model_layer_count(const dd_model *model);
dd_status dd_model_layer_info(const dd_model *model, int index, dd_layer_info *out, dd_error *err);

/* What a model expects as input, and its dream layers' default. The dream
   (dd_dream_*) takes RGB 0..255 pixels and feeds the network
       net[channel_order(c)] = (pixel[c] - input_mean - mean[c]) * scale[c]
   (input_mean is the dream option), and maps the gradient back through the
   same affine map (chain rule per channel), so callers give RGB and get RGB
   back whatever the network wants. dd_model_forward and dd_model_gradient
   feed the network as they are (no description applied).
   At load the description is set from a built-in table of recognised
   structures (by node names): Inception 5h and unknown graphs get the
   identity (RGB, mean 0, scale 1: the tutorial's raw 0..255, bit-identical
   to before); the ONNX zoo's BVLC GoogLeNet gets BGR with the Caffe means;
   the zoo's VGG16 and ResNet50 (MXNet) get ImageNet mean/std on 0..1
   (mean = 255*m, scale = 1/(255*s)). A non-identity description is part of
   dd_model_fingerprint, so a dream state is never resumed under another. */
typedef struct dd_model_description {
  char name[32];        /* "inception5h", "bvlc_googlenet", ... ; "" when unrecognised */
  int bgr;              /* 1: the network's input channels are B, G, R */
  float mean[3];        /* per RGB channel, in 0..255 units */
  float scale[3];       /* per RGB channel, > 0 and finite (1 / std in 0..255 units) */
  int default_layer;    /* index into the dream layers (Inception 5h: 2, the tutorial's) */
} dd_model_description;

void dd_model_get_description(const dd_model *model, dd_model_description *out);
/* Overrides the description (checked: finite means, finite positive scales,
   default_layer a dream-layer index). Not while a dream runs on the model. */
dd_status dd_model_set_description(dd_model *model, const dd_model_description *desc, dd_error *err);

/* Every Conv2D of the graph (Inception 5h: 59 layers, 7548 channels). */
int dd_model_conv_layer_count(const dd_model *model);
dd_status dd_model_conv_layer_info(const dd_model *model, int index, dd_layer_info *out, dd_error *err);

/* Any node by name; a ":0" suffix is accepted, and a Caffe2 export's blob
   name without its SSA version ("inception_4c/output" for
   "inception_4c/output_1", "conv1/7x7_s2" for the ReLU's "conv1/7x7_s2_2")
   names the blob's last version. DD_ERR_NOT_FOUND otherwise. */
dd_status dd_model_find_node(const dd_model *model, const char *name, dd_layer_info *out, dd_error *err);

/* A 64-bit fingerprint of the graph and its weights; saved dream states
   carry it so that a state is never restored onto another model. */
uint64_t dd_model_fingerprint(const dd_model *model);

/* The model file's bytes when the model adopted them (adopt_buffer), else
   NULL. Valid while the model lives; read-only. */
const void *dd_model_file_bytes(const dd_model *model);

/* Runs the graph on one NHWC float image of height x width x 3 and copies
   the named node's output into `out` (capacity `out_capacity` floats).
   out_shape receives [N, H, W, C] (rank < 4 outputs are padded with 1s in
   front). DD_ERR_SHAPE when out_capacity is too small. With out == NULL only
   out_shape is computed (shape inference, no arithmetic; input may be NULL). */
dd_status dd_model_forward(dd_model *model, const float *input, int height, int width,
                           const char *node, float *out, size_t out_capacity, int out_shape[4],
                           dd_error *err);

/* The DeepDream objective: mean(square(node[..., channels])). */
typedef struct dd_objective {
  const char *layer;      /* node name; NULL to use layer_index */
  int layer_index;        /* index into the dream layers, when layer is NULL */
  const int *channels;    /* channel list; NULL or n_channels == 0 means all */
  int n_channels;
} dd_objective;

/* Gradient of the objective with respect to the input image (height x width x 3,
   fed to the graph as it is). grad_out has height*width*3 floats. loss_out
   (may be NULL) receives the objective's value. */
dd_status dd_model_gradient(dd_model *model, const float *input, int height, int width,
                            const dd_objective *objective, float *grad_out, float *loss_out,
                            dd_error *err);

/* The gradient of an objective expression (the `objective` option's grammar,
   deepdream_options.h) with respect to the input (height x width x 3, fed as
   it is), as a dream's tile computes it before its normalisation (no
   transforms, no TV). guide (may be NULL): a guide image, guide_height x
   guide_width x 3 floats fed as they are, whose features guide(...) terms
   use; strong/weak terms choose their channels on `input` itself. loss_out
   (may be NULL) receives the objective's value. */
dd_status dd_model_objective_gradient(dd_model *model, const float *input, int height, int width,
                                      const char *objective, const float *guide, int guide_height,
                                      int guide_width, float *grad_out, double *loss_out, dd_error *err);

/* ------------------------------------------------------------------------ */
/* DeepDream                                                                */
/* ------------------------------------------------------------------------ */

typedef enum dd_resample {
  DD_RESAMPLE_LANCZOS_U8 = 0,   /* the tutorial: clip to 0..255, 8-bit Lanczos (PIL) */
  DD_RESAMPLE_LANCZOS_FLOAT = 1 /* the same filter on floats, no clipping */
} dd_resample;

typedef struct dd_dream_options {
  dd_objective objective;  /* layer and channels */
  int num_iterations;      /* 10, in 1..1000 */
  double step_size;        /* 3.0 */
  int tile_size;           /* 400, in 16..2048 */
  int num_repeats;         /* 4: octaves below the full-size one, 0..32 */
  double rescale_factor;   /* 0.7, in (0, 1) */
  double blend;            /* 0.2, in [0, 1] */
  uint64_t seed;           /* all randomness comes from it */
  double input_mean;       /* 0 (tutorial: raw 0..255); 117 for the TF1 example */
  dd_resample resample;    /* DD_RESAMPLE_LANCZOS_U8 */
  /* ---- beyond the tutorial (issue 15). Zero / NULL (the defaults) is the
     tutorial exactly; deepdream_options.h documents each option by name. */
  const char *objective_expr; /* "objective": NULL or "" = mean(square(objective)) above;
                                 else an expression (grammar: deepdream_options.h) */
  double tv;                  /* "tv": total-variation penalty weight, 0 */
  int gradient_mode;          /* "gradient": DD_GRADIENT_SMOOTH (the tutorial) | DD_GRADIENT_LAPLACIAN */
  int lap_levels;             /* "lap-levels": lap_normalize's scale_n, 4 */
  int roll;                   /* "roll": Caffe's jitter, roll the tile by up to N px, 0 */
  int pad;                    /* "pad": Lucid's pad, N px of grey (127.5) around the tile, 0 */
  int jitter;                 /* "jitter": Lucid's jitter, shift by up to N px, 0 */
  double scale;               /* "scale": Lucid's random_scale, a factor in [1-X, 1+X], 0 */
  double rotate;              /* "rotate": Lucid's random_rotate, in [-X, X] degrees, 0 */
  const uint8_t *guide;       /* the guide image for guide(...) terms (copied by dd_dream_begin), or NULL */
  int guide_width, guide_height, guide_channels; /* channels 3 or 4 (alpha ignored) */
} dd_dream_options;

enum { DD_GRADIENT_SMOOTH = 0, DD_GRADIENT_LAPLACIAN = 1 };

/* The smallest octave must be at least this many pixels on each side. */
#define DD_DREAM_MIN_OCTAVE_SIZE 16

void dd_dream_options_init(dd_dream_options *opt);

typedef struct dd_dream dd_dream;

typedef struct dd_progress {
  int octave, num_octaves;        /* octave 0 is the smallest image */
  int iteration, num_iterations;
  int tile, num_tiles;            /* tile index within the iteration */
  int64_t tiles_done;             /* over the whole dream */
  int64_t tiles_total;            /* an estimate: tile counts depend on random offsets */
  double fraction;                /* exact share of the work done, weighted by pixels */
  int tile_x, tile_y, tile_w, tile_h; /* the tile just computed, octave coordinates */
  int image_w, image_h;           /* size of the current octave's image */
  /* the last finished iteration, as the tutorial's show_gradient prints it */
  double grad_min, grad_max, step_scaled;
  /* Where the time went: milliseconds summed over dd_dream_begin/restore and
     every step of this dream object (a restored dream starts from 0). core is
     all time inside those calls; the others are parts of it: gradient (the
     network's tile gradients), tiles (tile copy in/out), stats (the per-tile
     and per-iteration std/min/max reductions), smooth (the three Gaussian
     blurs), update (the image step and the gradient preview), levels (the
     pyramid: blur + Lanczos resizes, upscale + blend, octave set-up). */
  double ms_core, ms_gradient, ms_tiles, ms_stats, ms_smooth, ms_update, ms_levels;
} dd_progress;

/* Starts a dream on an 8-bit image with `channels` = 3 (RGB) or 4 (RGBA;
   the alpha channel is passed through untouched). The pixels are copied. */
dd_status dd_dream_begin(dd_model *model, const dd_dream_options *opt, const uint8_t *pixels,
                         int width, int height, int channels, dd_dream **out, dd_error *err);

/* Advances by at most `max_tiles` gradient tiles (>= 1). Returns DD_OK while
   work remains and DD_DONE once the final image is ready. `progress` may be NULL. */
dd_status dd_dream_step(dd_dream *dream, int max_tiles, dd_progress *progress, dd_error *err);

/* The image as it is now, at the current octave's size (dd_progress.image_w/h),
   or the full size once finished. Writes w*h*channels bytes. */
dd_status dd_dream_current_size(const dd_dream *dream, int *width, int *height);
/* 3 or 4: the channels of the image the dream was started with (and returns). */
int dd_dream_channels(const dd_dream *dream);
dd_status dd_dream_read_image(const dd_dream *dream, uint8_t *pixels, size_t capacity, dd_error *err);

/* The last smoothed gradient (the tutorial's show_gradient), min-max
   normalised to 0..255, at the current octave's size, RGB. */
dd_status dd_dream_read_gradient(const dd_dream *dream, uint8_t *rgb, size_t capacity, dd_error *err);

/* Serialises the complete state; restore continues bit-identically. */
dd_status dd_dream_save_state(const dd_dream *dream, void **bytes, size_t *len, dd_error *err);
dd_status dd_dream_restore(dd_model *model, const void *bytes, size_t len, dd_dream **out,
                           dd_error *err);
void dd_dream_free(dd_dream *dream);

/* ------------------------------------------------------------------------ */
/* Training (Keras-style Sequential models)                                 */
/* ------------------------------------------------------------------------ */
/* A dd_net is a Sequential stack of layers (Dense, Dropout, Conv2D,
 * MaxPooling2D, Flatten) trained with Adam on sparse categorical
 * cross-entropy, one batch per call, as Keras' Model.fit does it.
 *
 *   - Activations are float32, one sample after another; a sample is a
 *     vector (rank 1) or an NHWC image (rank 3, height x width x channels).
 *     Flatten keeps NHWC order, as Keras' channels_last Flatten does.
 *   - Weights use Keras' layouts: Dense kernel [in, units], Conv2D kernel
 *     HWIO [kh, kw, in_c, out_c], biases [units]. Parameter names are
 *     "<layer>/kernel" and "<layer>/bias".
 *   - All randomness (Glorot-uniform initialisation, dropout masks, shuffles)
 *     comes from seeds. The training RNG (xoshiro256**) state, the Adam moments
 *     and the step count can be read and written, so a saved and restored net
 *     continues bit-identically.
 *   - Labels are class indices in [0, classes); anything else is
 *     DD_ERR_INVALID_ARGUMENT. Shapes that disagree are DD_ERR_SHAPE.
 *   - A dd_net must not be used from two threads at once.
 */

typedef struct dd_net dd_net;

typedef enum dd_activation {
  DD_ACTIVATION_LINEAR = 0,
  DD_ACTIVATION_RELU = 1,
  DD_ACTIVATION_SOFTMAX = 2 /* over the last axis */
} dd_activation;

typedef enum dd_net_padding {
  DD_NET_PADDING_VALID = 0, /* TensorFlow's "valid" */
  DD_NET_PADDING_SAME = 1   /* TensorFlow's "same": the extra pixel goes bottom/right */
} dd_net_padding;

typedef enum dd_layer_kind {
  DD_LAYER_DENSE = 1,
  DD_LAYER_DROPOUT = 2,
  DD_LAYER_CONV2D = 3,
  DD_LAYER_MAX_POOL2D = 4,
  DD_LAYER_FLATTEN = 5
} dd_layer_kind;

typedef struct dd_net_options {
  dd_backend backend; /* DD_BACKEND_AUTO */
  int num_threads;    /* 1; 0 = one per core (with a pool: all of its threads) */
  dd_pool *pool;      /* NULL: own threads when num_threads != 1; else this shared pool,
                         referenced until dd_net_free (see dd_pool) */
} dd_net_options;

void dd_net_options_init(dd_net_options *opt);

/* A net with no layers. `input_shape` has `rank` (1 or 3) positive sizes,
   without the batch dimension: {784} or {28, 28, 1}. `opt` may be NULL. */
dd_status dd_net_create(int rank, const int *input_shape, const dd_net_options *opt, dd_net **out,
                        dd_error *err);
void dd_net_free(dd_net *net);

/* Appending layers. `name` (copied; at most 127 bytes) is used in parameter
   names and messages. Each call checks the layer against the current output
   shape (DD_ERR_SHAPE, e.g. Conv2D on a vector or a window larger than the
   input with VALID padding) and leaves the net unchanged on failure.
   Parameters start at zero; call dd_net_init_params. A Dense layer on a rank-3
   input acts on the last axis, as in Keras. */
dd_status dd_net_add_dense(dd_net *net, const char *name, int units, dd_activation activation,
                           int use_bias, dd_error *err);
/* Inverted dropout: in training, each value is zeroed with probability `rate`
   (in [0, 1)) and the others scaled by 1/(1-rate); identity in inference. */
dd_status dd_net_add_dropout(dd_net *net, const char *name, double rate, dd_error *err);
dd_status dd_net_add_conv2d(dd_net *net, const char *name, int filters, int kernel_h, int kernel_w,
                            int stride_h, int stride_w, dd_net_padding padding,
                            dd_activation activation, int use_bias, dd_error *err);
dd_status dd_net_add_max_pool2d(dd_net *net, const char *name, int pool_h, int pool_w, int stride_h,
                                int stride_w, dd_net_padding padding, dd_error *err);
dd_status dd_net_add_flatten(dd_net *net, const char *name, dd_error *err);

typedef struct dd_net_layer_info {
  const char *name;   /* valid while the net lives */
  dd_layer_kind kind;
  dd_activation activation; /* DD_ACTIVATION_LINEAR for layers without one */
  int out_rank;       /* 1 or 3 */
  int out_shape[3];   /* out_rank sizes, without the batch dimension */
  size_t param_count; /* number of trainable scalars */
  int first_param;    /* index of the layer's first parameter tensor */
  int n_params;       /* 0, 1 (no bias) or 2 (kernel, bias) */
} dd_net_layer_info;

int dd_net_layer_count(const dd_net *net);
dd_status dd_net_get_layer_info(const dd_net *net, int index, dd_net_layer_info *out, dd_error *err);
/* Floats per sample of the input and of the last layer's output (0 for NULL). */
size_t dd_net_input_size(const dd_net *net);
size_t dd_net_output_size(const dd_net *net);

typedef struct dd_net_param_info {
  const char *name; /* "<layer>/kernel" or "<layer>/bias", valid while the net lives */
  int layer;        /* owning layer index */
  int rank;         /* 1, 2 or 4 */
  int shape[4];
  size_t count;     /* product of shape */
  /* The current values and Adam moments; read-only views, valid until the next
     call that changes the net's layers or parameters. */
  const float *value, *m, *v;
} dd_net_param_info;

int dd_net_param_count(const dd_net *net);
dd_status dd_net_get_param_info(const dd_net *net, int index, dd_net_param_info *out, dd_error *err);

typedef enum dd_param_slot { DD_PARAM_VALUE = 0, DD_PARAM_ADAM_M = 1, DD_PARAM_ADAM_V = 2 } dd_param_slot;
/* Copies `count` floats (which must equal the parameter's count, else
   DD_ERR_SHAPE) into the parameter or one of its Adam moments. Non-finite
   values are DD_ERR_INVALID_ARGUMENT; v must be >= 0. */
dd_status dd_net_param_set(dd_net *net, int index, dd_param_slot slot, const float *data,
                           size_t count, dd_error *err);

/* Keras' defaults: Glorot-uniform kernels (limit sqrt(6/(fan_in+fan_out))),
   zero biases, drawn layer by layer from `seed`. Zeroes the Adam state and the
   step count. */
dd_status dd_net_init_params(dd_net *net, uint64_t seed, dd_error *err);

typedef struct dd_train_options {
  double learning_rate; /* 0.001 */
  double beta1;         /* 0.9 */
  double beta2;         /* 0.999 */
  double epsilon;       /* 1e-7 */
  /* Sparse categorical cross-entropy on logits (1) or on probabilities (0).
     With 0 and a softmax last layer, the loss is computed from the softmax's
     input, as TF2 Keras does; other outputs are normalised to sum 1 and
     clipped to [1e-7, 1-1e-7], as TF.js does. */
  int from_logits;      /* 0 */
} dd_train_options;

void dd_train_options_init(dd_train_options *opt);
/* Sets the optimizer (Adam; Keras' update: lr_t = lr*sqrt(1-b2^t)/(1-b1^t),
   w -= lr_t*m/(sqrt(v)+epsilon)) and the loss. Keeps the Adam state. */
dd_status dd_net_compile(dd_net *net, const dd_train_options *opt, dd_error *err);

/* Adam's step count (Keras' optimizer.iterations). */
int64_t dd_net_iterations(const dd_net *net);
dd_status dd_net_set_iterations(dd_net *net, int64_t iterations, dd_error *err);
/* The training RNG (dropout masks and shuffles). */
void dd_net_seed(dd_net *net, uint64_t seed);
void dd_net_rng_state(const dd_net *net, uint64_t state[4]);
/* An all-zero state is DD_ERR_INVALID_ARGUMENT (xoshiro256** cannot leave it). */
dd_status dd_net_set_rng_state(dd_net *net, const uint64_t state[4], dd_error *err);

/* Fills perm[0..n) with a uniformly random permutation of 0..n-1 drawn from
   the training RNG (Fisher-Yates). */
dd_status dd_net_shuffle(dd_net *net, int32_t *perm, int64_t n, dd_error *err);

typedef struct dd_batch_result {
  double loss_sum; /* sum over the samples of their cross-entropy */
  int64_t correct; /* samples whose argmax equals the label */
  int64_t count;   /* samples */
} dd_batch_result;

/* One training step on the samples x[index[i]], labels[index[i]] for
   i < count (index NULL: the first `count` samples). x holds n samples of
   dd_net_input_size floats. Forward in training mode (dropout on), mean loss
   over the batch, backward, one Adam update. `out` (may be NULL) receives the
   batch's loss and accuracy from that forward pass. */
dd_status dd_net_train_batch(dd_net *net, const float *x, const int32_t *labels, int64_t n,
                             const int32_t *index, int count, dd_batch_result *out,
                             dd_error *err);
/* Inference-mode loss and accuracy over all n samples, batch_size at a time. */
dd_status dd_net_evaluate(dd_net *net, const float *x, const int32_t *labels, int64_t n,
                          int batch_size, dd_batch_result *out, dd_error *err);
/* Inference-mode outputs: n * dd_net_output_size floats into `out`
   (DD_ERR_SHAPE when out_capacity is smaller). */
dd_status dd_net_predict(dd_net *net, const float *x, int64_t n, int batch_size, float *out,
                         size_t out_capacity, dd_error *err);

#ifdef __cplusplus
}
#endif
#endif /* DEEPDREAM_H */
