/*
 * The kernel interface and the versioned registry.
 *
 * Every kernel provides two functions:
 *   infer: checks attributes, input dtypes and shapes, and fills in the
 *          dtype and shape of every produced output. It runs while the
 *          session plans memory, when only constants and values computed
 *          from constants and input shapes have data: other inputs have
 *          data == NULL. An op whose output shape depends on an input's
 *          values (Reshape's shape, Slice's starts...) reads it with
 *          onn_input_values(), which fails clearly when it is not known.
 *   run:   computes the outputs, whose buffers the session has allocated
 *          from the shapes infer produced.
 * Both report problems through ctx->err with onn_kfail(), which prefixes the
 * node's name and op type.
 */
#ifndef ONN_KERNEL_H
#define ONN_KERNEL_H

#include "graph/ir.h"

/* A growable buffer that outlives one kernel call, so kernels that need
 * temporary space (im2col columns) do not map and fault in fresh pages on
 * every run. */
typedef struct onn_scratch {
    void *data;
    size_t cap;
} onn_scratch;

typedef struct onn_kctx {
    const onn_node *node;
    int n_in, n_out;
    onnorm_tensor **in;  /* NULL entries for omitted optional inputs */
    onnorm_tensor **out; /* NULL entries for omitted optional outputs */
    int num_threads;     /* >= 1 */
    onnorm_error *err;
    /* Set by onn_input_values() when infer needed values that planning does
     * not have; the session then runs the model eagerly (see session.c). */
    bool *needs_values;
    /* Scratch memory kept by the caller across nodes and runs (see
     * onn_kscratch); NULL where the caller keeps none. */
    onn_scratch *scratch;
} onn_kctx;

typedef struct onn_kernel {
    const char *domain; /* "" for ai.onnx */
    const char *op_type;
    int since_version;
    int min_inputs, max_inputs;
    int min_outputs, max_outputs;
    onnorm_status (*infer)(onn_kctx *ctx);
    onnorm_status (*run)(onn_kctx *ctx);
    /* run() reads only the shapes of its inputs (Shape, Size): the session
     * can evaluate it while planning even when inputs have no data yet. */
    bool shape_only;
    /* Element types input 0 may have (ONN_T() bits), as the spec allows for
     * this version; checked at load when the type is known, and at run.
     * 0 = checked by the kernel alone. */
    uint32_t types;
    /* This version only widens the previous one (more types, new optional
     * attributes or inputs): a node valid under the previous version means
     * the same under this one, so raising a model's opset past it is safe. */
    bool widens;
    /* Output 0 may share input 0's memory: every element of a slice is read
     * (statistics) before any element of that slice is written, and slices
     * do not overlap. The planner then runs the node in place when input 0
     * dies there, which halves its memory and keeps a chain in cache. */
    bool inplace;
} onn_kernel;

#define ONN_T(t) (1u << (t))
#define ONN_T_HALF_FLOATS (ONN_T(ONNORM_FLOAT16) | ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_DOUBLE))
#define ONN_T_ALL_FLOATS (ONN_T_HALF_FLOATS | ONN_T(ONNORM_BFLOAT16))
/* Formats a types mask as "float16, float32, ..." into buf. */
const char *onn_types_str(uint32_t mask, char *buf, size_t len);

/* A kernel table entry; shape_only kernels set .shape_only = true after it. */
#define ONN_KERNEL(dom, op, ver, in_lo, in_hi, out_lo, out_hi, infer_fn, run_fn)                   \
    .domain = (dom), .op_type = (op), .since_version = (ver), .min_inputs = (in_lo),               \
    .max_inputs = (in_hi), .min_outputs = (out_lo), .max_outputs = (out_hi), .infer = (infer_fn),  \
    .run = (run_fn)

/* The kernel with the highest since_version <= opset, or NULL. */
const onn_kernel *onn_registry_find(const char *domain, const char *op_type, int64_t opset);
/* Kernel i in registry order, or NULL past the end. */
const onn_kernel *onn_registry_at(int i);
/* True when some version of the op exists (to tell "unknown op" from "opset"). */
bool onn_registry_knows(const char *domain, const char *op_type, int *lowest_version);
/* Highest opset of a domain this build understands. */
int64_t onn_registry_max_opset(const char *domain);

onnorm_status onn_kfail(onn_kctx *ctx, onnorm_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The data of input i for use in infer(), or NULL after reporting that the
 * value must be known at planning time (computed from constants and input
 * shapes only). */
const void *onn_input_values(onn_kctx *ctx, int i, const char *what);

/* At least `bytes` of scratch memory valid until the kernel returns: the
 * caller's reusable buffer when it keeps one, else *own (which the kernel
 * frees). NULL (after reporting) when memory runs out. */
void *onn_kscratch(onn_kctx *ctx, size_t bytes, void **own);

/* Shared checks used by several kernels. */
bool onn_is_float_type(onnorm_dtype t); /* float32 or float64 */
/* The types normalization kernels compute: float32, float64, float16, bfloat16. */
bool onn_is_norm_type(onnorm_dtype t);
onnorm_status onn_check_float_input(onn_kctx *ctx, int i, const char *what);
/* Input i must be a rank-1 tensor of `len` elements with X's dtype. */
onnorm_status onn_check_param(onn_kctx *ctx, int i, const char *what, int64_t len,
                              onnorm_dtype dtype);
/* Sets output i to the given dtype and shape (if the output is requested). */
void onn_set_output(onn_kctx *ctx, int i, onnorm_dtype dtype, int rank, const int64_t *dims);
/* Resolves a possibly negative axis against rank r into [0, r). */
bool onn_normalize_axis(int64_t axis, int rank, int *out);
/* The number of OpenMP threads worth using for `work` elements of work. */
int onn_threads_for(const onn_kctx *ctx, int64_t work, int64_t tasks);

/* Kernel tables, one per op family (see families.h). */
#define ONN_FAMILY(name)                                                                           \
    extern const onn_kernel onn_kernels_##name[];                                                  \
    extern const int onn_kernels_##name##_count;
#include "ops/families.h"
#undef ONN_FAMILY

#endif
