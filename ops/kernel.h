/*
 * What a kernel is, and everything a kernel file needs.
 *
 * A kernel is one entry of a family's table (one op, one since_version) with
 * up to four functions, called in this order by the node evaluator
 * (runtime/eval.c), the only code that calls kernels:
 *
 *   config(ctx)   Reads and checks the node's attributes (and what they mean
 *                 for these input shapes) into the kernel's typed state,
 *                 ctx->state (state_size zeroed bytes). The evaluator calls it
 *                 right before infer, on a state that lives for that call,
 *                 and right before prepare, on the node's state, so neither
 *                 repeats the parsing. It allocates nothing. May be NULL.
 *   infer(ctx)    Shapes and types. Checks the input dtypes and shapes
 *                 against the configuration in ctx->state, and fills in the
 *                 dtype and shape of every requested output. It runs whenever
 *                 a caller needs shapes (load-time folding, the passes' shape
 *                 inference, session planning), with data present only for
 *                 constants and values computed from them: other inputs have
 *                 data == NULL. An op whose output shape depends on input
 *                 values (Reshape's shape) reads them, in config or infer,
 *                 with onn_input_values().
 *   prepare(ctx)  Once per node per plan, after infer and config, with the
 *                 same inputs and the configured state. Chooses the code path
 *                 and the instruction-set variant, may transform constant
 *                 inputs once (pack weights) into memory from onn_kalloc(),
 *                 and declares the scratch memory run will need with
 *                 onn_kscratch_need(). An input that carries data here keeps
 *                 that data for every run of the plan (a constant, or a value
 *                 computed while planning), so prepare may derive state from
 *                 it. May be NULL when config is all a kernel needs.
 *   run(ctx)      Computes the outputs into buffers the caller allocated from
 *                 the shapes infer produced. It reads the prepared state and
 *                 the tensors: no attribute lookup, no op-name comparison, no
 *                 allocation. Temporary memory is ctx->scratch.
 *
 * Files that register several ops tell them apart by the table entry's data
 * pointer (ctx->kernel->data), never by name.
 *
 * All four report problems through ctx->err with onn_kfail(), which
 * prefixes the node's name and op type.
 */
#ifndef ONN_KERNEL_H
#define ONN_KERNEL_H

#include "graph/ir.h"

#include <limits.h>
#include <string.h>

struct onn_kernel;

/* Memory a prepared node owns (onn_kalloc), freed with its plan. */
typedef struct onn_kblock {
    struct onn_kblock *next;
    /* the allocation follows, aligned to ONN_KALIGN */
} onn_kblock;

/* A node prepared for runs: what prepare produced. The evaluator owns it. */
typedef struct onn_prepared {
    void *state;          /* the kernel's state_size bytes (NULL when 0) */
    size_t scratch_bytes; /* what run needs in ctx->scratch */
    onn_kblock *blocks;   /* onn_kalloc() memory */
    double flops;         /* floating-point operations per run, where counted */
    int share_input;      /* k + 1: output 0 may share input k's memory (onn_kshare_input) */
} onn_prepared;

typedef struct onn_kctx {
    const onn_node *node;            /* for messages; attributes in infer and prepare */
    const struct onn_kernel *kernel; /* the table entry: since_version, data */
    int n_in, n_out;
    onnorm_tensor **in;  /* NULL entries for omitted optional inputs */
    onnorm_tensor **out; /* NULL entries for omitted optional outputs */
    int num_threads;     /* >= 1 */
    onnorm_error *err;   /* may be NULL */
    /* Set by onn_input_values() when infer needed values that planning does
     * not have; the session then runs the model eagerly (see session.c). */
    bool *needs_values;
    void *state;        /* config and prepare fill it; infer and run read it */
    onn_prepared *prep; /* prepare only: scratch requests and owned memory */
    void *scratch;      /* run only: at least prep->scratch_bytes, 64-byte aligned */
    /* The memory cap of the session running the node (its max_arena_bytes,
     * resolved; 0 outside a session): sessions a kernel opens for its
     * subgraphs (If, Loop, Scan) take the same cap. */
    size_t mem_cap;
} onn_kctx;

typedef onnorm_status (*onn_kernel_fn)(onn_kctx *ctx);

typedef struct onn_kernel {
    const char *domain; /* "" for ai.onnx */
    const char *op_type;
    int since_version;
    int min_inputs, max_inputs; /* INT_MAX: variadic */
    int min_outputs, max_outputs;
    onn_kernel_fn config; /* may be NULL */
    onn_kernel_fn infer;
    onn_kernel_fn prepare; /* may be NULL */
    onn_kernel_fn run;
    size_t state_size; /* bytes of ctx->state config and prepare fill */
    /* The entry's own constant data: which op of a multi-op family this is
     * (a loop table, an enum value), read by all three functions. */
    const void *data;
    /* run() reads only the shapes of its inputs (Shape, Size): callers can
     * evaluate it while planning even when inputs have no data yet. */
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

/* A table entry's identity, arities and functions; config, state_size and
 * flags follow it:
 *   {ONN_KERNEL("", "Relu", 14, 1, 1, 1, 1, infer, prepare, run), .inplace = true}
 * A family's table is one ONN_KERNEL_TABLE, which also counts its entries. */
#define ONN_KERNEL(dom, op, ver, in_lo, in_hi, out_lo, out_hi, infer_fn, prepare_fn, run_fn)       \
    .domain = (dom), .op_type = (op), .since_version = (ver), .min_inputs = (in_lo),               \
    .max_inputs = (in_hi), .min_outputs = (out_lo), .max_outputs = (out_hi), .infer = (infer_fn),  \
    .prepare = (prepare_fn), .run = (run_fn)

#define ONN_KERNEL_TABLE(family, ...)                                                              \
    const onn_kernel onn_kernels_##family[] = {__VA_ARGS__};                                       \
    const int onn_kernels_##family##_count =                                                       \
        (int)(sizeof onn_kernels_##family / sizeof onn_kernels_##family[0])

/* ---- element types -------------------------------------------------------- */

/* The bit of element type t in a types mask (0 for codes a mask cannot
 * hold, so a hostile type code never shifts out of range). */
#define ONN_T(t) ((unsigned)(t) < 32u ? 1u << (unsigned)(t) : 0u)
#define ONN_T_HALF_FLOATS (ONN_T(ONNORM_FLOAT16) | ONN_T(ONNORM_FLOAT) | ONN_T(ONNORM_DOUBLE))
#define ONN_T_ALL_FLOATS (ONN_T_HALF_FLOATS | ONN_T(ONNORM_BFLOAT16))
/* Formats a types mask as "float16, float32, ..." into buf. */
const char *onn_types_str(uint32_t mask, char *buf, size_t len);

/*
 * Element types, as X-macro lists: X(suffix, C type, dtype code, is_signed).
 * Kernels stamp one loop per entry from a single expression, so adding a
 * type to a list adds it to every kernel that uses the list.
 */
#define ONN_FLOAT_TYPES(X)                                                                         \
    X(f32, float, ONNORM_FLOAT, 1)                                                                 \
    X(f64, double, ONNORM_DOUBLE, 1)

#define ONN_SIGNED_INT_TYPES(X)                                                                    \
    X(i8, int8_t, ONNORM_INT8, 1)                                                                  \
    X(i16, int16_t, ONNORM_INT16, 1)                                                               \
    X(i32, int32_t, ONNORM_INT32, 1)                                                               \
    X(i64, int64_t, ONNORM_INT64, 1)

#define ONN_UNSIGNED_INT_TYPES(X)                                                                  \
    X(u8, uint8_t, ONNORM_UINT8, 0)                                                                \
    X(u16, uint16_t, ONNORM_UINT16, 0)                                                             \
    X(u32, uint32_t, ONNORM_UINT32, 0)                                                             \
    X(u64, uint64_t, ONNORM_UINT64, 0)

#define ONN_INT_TYPES(X) ONN_SIGNED_INT_TYPES(X) ONN_UNSIGNED_INT_TYPES(X)
#define ONN_NUMERIC_TYPES(X) ONN_FLOAT_TYPES(X) ONN_INT_TYPES(X)

bool onn_is_float_type(onnorm_dtype t); /* float32 or float64 */
/* The types normalization kernels compute: float32, float64, float16, bfloat16. */
bool onn_is_norm_type(onnorm_dtype t);

/* ---- reporting ------------------------------------------------------------ */

onnorm_status onn_kfail(onn_kctx *ctx, onnorm_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the node ------------------------------------------------------------- */

/* The since_version of the kernel running the node. */
static inline int onn_kversion(const onn_kctx *ctx)
{
    return ctx->kernel->since_version;
}

/* Input i is listed and not omitted. */
static inline bool onn_has_input(const onn_kctx *ctx, int i)
{
    return i < ctx->n_in && ctx->in[i] != NULL;
}

/* Input i, or NULL when omitted or beyond the node's inputs. */
static inline const onnorm_tensor *onn_opt_input(const onn_kctx *ctx, int i)
{
    return i < ctx->n_in ? ctx->in[i] : NULL;
}

/* Output i, or NULL when not requested. */
static inline onnorm_tensor *onn_opt_output(const onn_kctx *ctx, int i)
{
    return i < ctx->n_out ? ctx->out[i] : NULL;
}

/* ---- attributes (config, infer and prepare only) ------------------------------------
 * Each reads one attribute of the node, gives the default when it is absent
 * and fails through onn_kfail when it has the wrong kind or value. */

bool onn_kattr_has(const onn_kctx *ctx, const char *name);
/* Fails when the attribute is absent. */
onnorm_status onn_kattr_require(onn_kctx *ctx, const char *name);
onnorm_status onn_kattr_int(onn_kctx *ctx, const char *name, int64_t dflt, int64_t *out);
onnorm_status onn_kattr_float(onn_kctx *ctx, const char *name, float dflt, float *out);
/* An INTS attribute with exactly `n` entries into out, or *present = false
 * when absent. */
onnorm_status onn_kattr_ints(onn_kctx *ctx, const char *name, int n, int64_t *out, bool *present);
/* An INTS attribute of at most `max` entries into out; *n = -1 when absent. */
onnorm_status onn_kattr_ints_upto(onn_kctx *ctx, const char *name, int max, int64_t *out, int *n);
/* A STRING attribute that must be one of names[0..count): its index, or
 * dflt when absent. */
onnorm_status onn_kattr_enum(onn_kctx *ctx, const char *name, const char *const *names, int count,
                             int dflt, int *out);

/* ---- checks shared by many kernels ------------------------------------------ */

/* Input i must be present with a type the kernel's `types` mask allows
 * (float32 or float64 when the mask is 0). */
onnorm_status onn_check_float_input(onn_kctx *ctx, int i, const char *what);
/* Input i must be present with an element type of fixed size (any that
 * can be moved bytewise); bfloat16 only from kernel version 13, where the
 * data-movement ops' type lists gained it. */
onnorm_status onn_check_storable(onn_kctx *ctx, int i, const char *what);
/* Input i must be a rank-1 tensor of `len` elements of type dtype. */
onnorm_status onn_check_param(onn_kctx *ctx, int i, const char *what, int64_t len,
                              onnorm_dtype dtype);
/* The infer of an op whose output 0 has input 0's type and shape: checks
 * input 0 (named `what`) with onn_check_float_input and sets output 0. */
onnorm_status onn_infer_like_input(onn_kctx *ctx, const char *what);
/* The same for a norm with per-channel parameters: inputs 1 and 2 (named
 * p1, p2) must be rank-1 tensors of `len` elements of input 0's type. */
onnorm_status onn_infer_norm(onn_kctx *ctx, const char *what, int64_t len, const char *p1,
                             const char *p2);
/* Sets output i to the given dtype and shape (if the output is requested). */
void onn_set_output(onn_kctx *ctx, int i, onnorm_dtype dtype, int rank, const int64_t *dims);
/* Shape p (rank pr) broadcasts unidirectionally to dims (rank r): aligned at
 * the last axis, each of p's dims equal or 1. */
bool onn_dims_broadcast_to(const int64_t *p, int pr, const int64_t *dims, int r);

/* The data of input i for use in infer(), or NULL after reporting that the
 * value must be known at planning time (computed from constants and input
 * shapes only). */
const void *onn_input_values(onn_kctx *ctx, int i, const char *what);

/* Flags of onn_input_ints. */
enum {
    ONN_INTS_SCALAR = 1,   /* a rank-0 tensor is a list of one value */
    ONN_INTS_INT64 = 2,    /* int32 is refused (where the spec says int64 only) */
    ONN_INTS_OPTIONAL = 4, /* an omitted input gives *n = -1 */
};
/* A 1-D int64 (or int32) input of at most `max` values, which must be known
 * while planning (onn_input_values), into out[0..*n). */
onnorm_status onn_input_ints(onn_kctx *ctx, int i, const char *what, unsigned flags, int max,
                             int64_t *out, int *n);

/* ---- memory (prepare only) ----------------------------------------------- */

#define ONN_KALIGN 64
/* `bytes` of memory (64-byte aligned) owned by the prepared node, alive as
 * long as its state; NULL after reporting when memory runs out. */
void *onn_kalloc(onn_kctx *ctx, size_t bytes);
/* Run will need `bytes` of ctx->scratch (the largest request counts). */
void onn_kscratch_need(onn_kctx *ctx, size_t bytes);
/* The node's floating-point operations per run (products count 2 per
 * multiply-add), for the profiler; config or prepare may report them. */
void onn_kflops(onn_kctx *ctx, double flops);
/* Output 0 may share input k's memory, as the table's `inplace` flag says
 * for input 0: the path prepare chose reads each element of input k before
 * it writes the same element of output 0 (a convolution's residual Z, added
 * as each tile is stored). The planner then runs the node in place when
 * input k dies there. */
void onn_kshare_input(onn_kctx *ctx, int k);
/* a * b * c bytes with overflow reported: 0 and a failure on overflow. */
onnorm_status onn_kbytes(onn_kctx *ctx, size_t a, size_t b, size_t c, size_t *out);

/* ---- threads ------------------------------------------------------------- */

/* The number of OpenMP threads worth using for `work` elements of work split
 * into `tasks` independent pieces. */
int onn_threads_for(const onn_kctx *ctx, int64_t work, int64_t tasks);

/* ---- data movement ------------------------------------------------------- */

/* dst[i] = src[i * stride] for n elements of esz bytes (1, 2, 4, 8 or any). */
void onn_copy_strided(void *dst, const void *src, int64_t n, int64_t stride, size_t esz);
/* dst already holds one block of `bytes`; makes it `count` blocks in a row.
 * Copies double in size, so a long fill costs a few large memcpy calls. */
void onn_repeat(void *dst, size_t bytes, int64_t count);
/* n copies of the esz-byte element at value into dst. */
void onn_fill(void *dst, int64_t n, const void *value, size_t esz);

#endif
