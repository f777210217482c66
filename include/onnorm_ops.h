/*
 * onnorm's operator-level API: one normalization operator on the caller's
 * buffers, without a model or protobuf, for host runtimes that want
 * onnorm's kernels as a backend (in the style of XNNPACK's operator API).
 *
 * An operator goes through the same kernel lifecycle as a node in a session
 * (config -> infer -> prepare at setup, run at run), through the same node
 * evaluator, so its results are bitwise those of the same node in a session
 * and its runs cost the same.
 *
 *   onnorm_attr attrs[] = {onnorm_attr_int("axis", -1), onnorm_attr_float("epsilon", 1e-5f)};
 *   onnorm_op *op;
 *   onnorm_error e;
 *   onnorm_op_create("", "LayerNormalization", 17, attrs, 2, &op, &e);
 *   onnorm_tensor x = {.dtype = ONNORM_FLOAT, .rank = 2, .dims = {rows, cols}, .data = xbuf};
 *   onnorm_tensor g = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {cols}, .data = gamma};
 *   onnorm_tensor b = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {cols}, .data = beta};
 *   onnorm_tensor y = {.dtype = ONNORM_FLOAT, .rank = 2, .dims = {rows, cols}, .data = ybuf};
 *   onnorm_op_setup(op, 3, (const onnorm_tensor *[]){&x, &g, &b}, 1, (onnorm_tensor *[]){&y},
 *                   4, &e);
 *   onnorm_op_run(op, &e);          // as often as needed; xbuf may change in between
 *   onnorm_op_free(op);
 *
 * Every call that can fail returns an onnorm_status and, when `err` is not
 * NULL, writes a message naming the op and the reason. An operator may be
 * used from one thread at a time; different operators are independent.
 *
 * Lifecycle:
 *   create  Chooses the kernel for (domain, op_type, opset) as a model with
 *           that opset import would (the highest since_version <= opset) and
 *           checks the attributes' names and kinds against the op's version.
 *   setup   Takes the input shapes and types, the parameter values, the
 *           output tensors and the thread count. It checks them (attribute
 *           values against the shapes, types, arities), reports the output
 *           types and shapes, and prepares: everything a run needs is
 *           computed and allocated here (BatchNormalization's per-channel
 *           affine, expanded LayerNormalization scales, scratch memory).
 *           Call setup again whenever a shape, a parameter or the thread
 *           count changes.
 *   bind    (optional) Points activations and outputs at other buffers of
 *           the same shapes, without preparing again.
 *   run     Computes the outputs. It allocates nothing and reads no
 *           attribute; it may be called any number of times.
 *
 * Inputs come in two kinds, fixed per op:
 *   activations  the data being normalized (X; SkipLayerNormalization's
 *                input and skip). Their data is read at run only: it may be
 *                NULL at setup (bind it later) and may change between runs.
 *   parameters   scale, bias, mean, var, gamma, beta... Their data must be
 *                given at setup, is read there (possibly folded into the
 *                prepared state) and may also be read at run, so it must
 *                stay valid and unchanged until the next setup or free.
 * onnorm_op_is_parameter() tells which is which.
 *
 * Supported ops (onnorm_op_count / onnorm_op_at list them): ai.onnx
 * BatchNormalization, InstanceNormalization, LayerNormalization,
 * RMSNormalization, SimplifiedLayerNormalization, GroupNormalization,
 * MeanVarianceNormalization, LpNormalization, LRN; com.microsoft
 * LayerNormalization, SimplifiedLayerNormalization, SkipLayerNormalization,
 * SkipSimplifiedLayerNormalization; ai.onnorm BatchNormalization,
 * InstanceNormalization, GroupNormalization (norm + fused activation);
 * ai.onnx.ml Scaler and Normalizer. Each takes the element types its kernel
 * takes in a session (float32, float64, and float16 / bfloat16 where the
 * op version allows them; `onnorm ops` prints the table).
 */
#ifndef ONNORM_OPS_H
#define ONNORM_OPS_H

#include "onnorm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Attribute kinds, with the codes of ONNX's AttributeProto.AttributeType. */
typedef enum onnorm_attr_type {
    ONNORM_ATTR_FLOAT = 1,
    ONNORM_ATTR_INT = 2,
    ONNORM_ATTR_STRING = 3,
    ONNORM_ATTR_FLOATS = 6,
    ONNORM_ATTR_INTS = 7
} onnorm_attr_type;

/* One attribute. Only the field of its kind is read (n counts the entries
 * of floats / ints); create copies everything, so the attribute array and
 * what it points to may go away after create returns. */
typedef struct onnorm_attr {
    const char *name;
    onnorm_attr_type type;
    float f;
    int64_t i;
    const char *s;
    const float *floats;
    const int64_t *ints;
    int n;
} onnorm_attr;

static inline onnorm_attr onnorm_attr_int(const char *name, int64_t v)
{
    onnorm_attr a = {name, ONNORM_ATTR_INT, 0.0f, v, NULL, NULL, NULL, 0};
    return a;
}
static inline onnorm_attr onnorm_attr_float(const char *name, float v)
{
    onnorm_attr a = {name, ONNORM_ATTR_FLOAT, v, 0, NULL, NULL, NULL, 0};
    return a;
}
static inline onnorm_attr onnorm_attr_string(const char *name, const char *v)
{
    onnorm_attr a = {name, ONNORM_ATTR_STRING, 0.0f, 0, v, NULL, NULL, 0};
    return a;
}
static inline onnorm_attr onnorm_attr_ints(const char *name, const int64_t *v, int n)
{
    onnorm_attr a = {name, ONNORM_ATTR_INTS, 0.0f, 0, NULL, NULL, v, n};
    return a;
}
static inline onnorm_attr onnorm_attr_floats(const char *name, const float *v, int n)
{
    onnorm_attr a = {name, ONNORM_ATTR_FLOATS, 0.0f, 0, NULL, v, NULL, n};
    return a;
}

typedef struct onnorm_op onnorm_op;

/*
 * Creates an operator. domain: "" or "ai.onnx", "com.microsoft",
 * "ai.onnorm", "ai.onnx.ml" (NULL = ""). opset: the opset version of that
 * domain the op is defined by, as a model's opset import would give it.
 * Fails with ONNORM_ERR_UNSUPPORTED for an op that is not a supported
 * normalization op, or an opset with no version of it (the message says
 * which opsets have one), and with ONNORM_ERR_INVALID for an attribute the
 * op version does not define, of the wrong kind, or given twice.
 */
onnorm_status onnorm_op_create(const char *domain, const char *op_type, int opset,
                               const onnorm_attr *attrs, int n_attrs, onnorm_op **out,
                               onnorm_error *err);

/*
 * Sets the operator up for these inputs and outputs (see the top of this
 * file). inputs[0..n_in): the op's inputs in ONNX order; a NULL entry is an
 * omitted optional input. Each gives dtype, rank and dims; data as the
 * input's kind requires. The tensors are copied: the structs may go away,
 * the data they point to may not.
 *
 * outputs[0..n_out): a NULL entry is an output not requested (as an empty
 * name in an ONNX node; which outputs are requested can matter, e.g. for
 * BatchNormalization-9's training mode). For each requested output, setup
 * fills in dtype, rank and dims when dtype is ONNORM_UNDEFINED, and
 * otherwise checks that the caller's dtype, rank and dims are the output's
 * (ONNORM_ERR_DTYPE / ONNORM_ERR_SHAPE when not). data may be NULL at setup
 * (allocate from the reported shape, then onnorm_op_bind); at run it must
 * hold the reported shape's bytes. Outputs must not overlap inputs or each
 * other, except that output 0 may be input 0's very buffer when
 * onnorm_op_inplace() says so.
 *
 * num_threads: the OpenMP threads run uses (0 = OpenMP's default, as in
 * sessions). It is fixed at setup, because prepare sizes per-thread
 * scratch memory for it (SkipLayerNormalization); set up again to change
 * it. Results do not depend on it. Errors: arities (ONNORM_ERR_INVALID), element types
 * (ONNORM_ERR_UNSUPPORTED / ONNORM_ERR_DTYPE), shapes (ONNORM_ERR_SHAPE),
 * attribute values that do not fit the shapes, a missing parameter value.
 * After a failed setup the operator cannot run until a setup succeeds.
 */
onnorm_status onnorm_op_setup(onnorm_op *op, int n_in, const onnorm_tensor *const *inputs,
                              int n_out, onnorm_tensor *const *outputs, int num_threads,
                              onnorm_error *err);

/*
 * Points inputs and outputs at other buffers, keeping the shapes of the last
 * setup. A NULL entry (or an index past n_in / n_out) keeps the current
 * pointer. Parameters cannot be rebound (their values were read at setup):
 * a non-NULL entry for one is ONNORM_ERR_INVALID. Allocates nothing.
 */
onnorm_status onnorm_op_bind(onnorm_op *op, int n_in, const void *const *inputs, int n_out,
                             void *const *outputs, onnorm_error *err);

/* Runs the operator on the buffers of the last setup / bind. Every present
 * input and requested output must have data. Allocates nothing. */
onnorm_status onnorm_op_run(onnorm_op *op, onnorm_error *err);

void onnorm_op_free(onnorm_op *op);

/* ---- introspection ----------------------------------------------------- */
/* The since_version of the kernel create chose. */
int onnorm_op_version(const onnorm_op *op);
/* The threads the last setup fixed (0 before setup). */
int onnorm_op_threads(const onnorm_op *op);
/* Input i of this op is a parameter (its data is read at setup). */
int onnorm_op_is_parameter(const onnorm_op *op, int i);
/* After setup: output 0 may be input 0's buffer (the op then runs in place). */
int onnorm_op_inplace(const onnorm_op *op);
/* The ops create accepts: count, and op i's domain ("" = ai.onnx) and
 * type (returns 0 past the end). */
int onnorm_op_count(void);
int onnorm_op_at(int i, const char **domain, const char **op_type);

#ifdef __cplusplus
}
#endif
#endif
