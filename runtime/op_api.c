/*
 * The operator-level API (include/onnorm_ops.h): one normalization node,
 * built in memory, run through the node evaluator (runtime/eval.h) like a
 * node of a session.
 *
 * An operator owns a one-node onn_node (its attributes copied from the
 * caller), the kernel the registry chose for it, copies of the caller's
 * input and output tensors (ev.in / ev.out point at them), the prepared
 * state and the evaluator's scratch. setup runs infer and prepare and
 * reserves the scratch; run is onn_eval_run alone.
 *
 * Decisions:
 *   - Prepare sees the data of parameters only; activations have data NULL
 *     there, as graph inputs have in a session whose parameters are
 *     initializers. So a kernel derives prepared state exactly when it
 *     would in such a session, and never from data that changes between
 *     runs.
 *   - Only the normalization ops listed in `specs` are accepted, each with
 *     the attributes its ONNX (or ONNX Runtime) definition has in the chosen
 *     version; an unknown attribute is an error (as onnx.checker makes it),
 *     so a misspelled "epsilon" cannot silently fall back to the default.
 *   - Attribute kinds are checked at create; attribute values, which often
 *     mean something only against the shapes (num_groups, axis), by the
 *     kernel's config at setup.
 */
#include "onnorm_ops.h"
#include "runtime/bind.h"
#include "runtime/eval.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the supported ops ---------------------------------------------------- */

typedef struct attr_spec {
    const char *name;
    onn_attr_type type;
    int from, to; /* kernel since_versions that define it (to 0: no upper bound) */
} attr_spec;

typedef struct op_spec {
    const char *domain, *op_type;
    unsigned params; /* bit i: input i is a parameter */
    attr_spec attrs[8];
} op_spec;

#define A(n, t)                                                                                    \
    {                                                                                              \
        n, ONN_ATTR_##t, 0, 0                                                                      \
    }
#define AV(n, t, lo, hi)                                                                           \
    {                                                                                              \
        n, ONN_ATTR_##t, lo, hi                                                                    \
    }
#define ACT A("activation", STRING), A("activation_params", FLOATS)

static const op_spec specs[] = {
    {"",
     "BatchNormalization",
     0x1E,
     {A("epsilon", FLOAT), A("momentum", FLOAT), AV("consumed_inputs", INTS, 1, 1),
      AV("is_test", INT, 1, 6), AV("spatial", INT, 1, 7), AV("training_mode", INT, 14, 0)}},
    {"", "InstanceNormalization", 0x6, {A("epsilon", FLOAT), AV("consumed_inputs", INTS, 1, 1)}},
    {"", "LayerNormalization", 0x6, {A("axis", INT), A("epsilon", FLOAT), A("stash_type", INT)}},
    {"", "RMSNormalization", 0x2, {A("axis", INT), A("epsilon", FLOAT), A("stash_type", INT)}},
    {"",
     "SimplifiedLayerNormalization",
     0x2,
     {A("axis", INT), A("epsilon", FLOAT), A("stash_type", INT)}},
    {"",
     "GroupNormalization",
     0x6,
     {A("epsilon", FLOAT), A("num_groups", INT), AV("stash_type", INT, 21, 0)}},
    {"", "MeanVarianceNormalization", 0, {A("axes", INTS)}},
    {"", "LpNormalization", 0, {A("axis", INT), A("p", INT)}},
    {"", "LRN", 0, {A("alpha", FLOAT), A("beta", FLOAT), A("bias", FLOAT), A("size", INT)}},
    {"com.microsoft",
     "LayerNormalization",
     0x6,
     {A("axis", INT), A("epsilon", FLOAT), A("stash_type", INT)}},
    {"com.microsoft",
     "SimplifiedLayerNormalization",
     0x2,
     {A("axis", INT), A("epsilon", FLOAT), A("stash_type", INT)}},
    {"com.microsoft", "SkipLayerNormalization", 0x1C, {A("epsilon", FLOAT)}},
    {"com.microsoft", "SkipSimplifiedLayerNormalization", 0xC, {A("epsilon", FLOAT)}},
    {"ai.onnorm",
     "BatchNormalization",
     0x1E,
     {A("epsilon", FLOAT), A("momentum", FLOAT), A("training_mode", INT), ACT}},
    {"ai.onnorm", "InstanceNormalization", 0x6, {A("epsilon", FLOAT), ACT}},
    {"ai.onnorm",
     "GroupNormalization",
     0x6,
     {A("epsilon", FLOAT), A("num_groups", INT), A("stash_type", INT), ACT}},
    {"ai.onnorm", "ChannelLayerNormalization", 0x6, {A("epsilon", FLOAT)}},
    {"ai.onnx.ml", "Scaler", 0, {A("offset", FLOATS), A("scale", FLOATS)}},
    {"ai.onnx.ml", "Normalizer", 0, {A("norm", STRING)}},
};
#define N_SPECS ((int)(sizeof specs / sizeof specs[0]))

int onnorm_op_count(void)
{
    return N_SPECS;
}

int onnorm_op_at(int i, const char **domain, const char **op_type)
{
    if (i < 0 || i >= N_SPECS) return 0;
    if (domain) *domain = specs[i].domain;
    if (op_type) *op_type = specs[i].op_type;
    return 1;
}

static const op_spec *find_spec(const char *domain, const char *op_type)
{
    for (int i = 0; i < N_SPECS; i++)
        if (strcmp(specs[i].domain, domain) == 0 && strcmp(specs[i].op_type, op_type) == 0)
            return &specs[i];
    return NULL;
}

static const char *kind_name(onn_attr_type t)
{
    switch (t) {
    case ONN_ATTR_FLOAT: return "a float";
    case ONN_ATTR_INT: return "an int";
    case ONN_ATTR_STRING: return "a string";
    case ONN_ATTR_FLOATS: return "a list of floats";
    case ONN_ATTR_INTS: return "a list of ints";
    default: return "an unsupported kind";
    }
}

/* ---- the operator ---------------------------------------------------------- */

struct onnorm_op {
    const op_spec *spec;
    const onn_kernel *kernel;
    onn_node node;
    char label[160]; /* "LayerNormalization-17", for messages */
    onn_eval ev;
    onnorm_tensor in[8], out[8]; /* the caller's tensors, copied; ev.in / ev.out point here */
    onn_prepared prep;
    bool ready; /* the last setup succeeded */
    int threads;
};

#define MAX_ARGS 8

static void free_node(onn_node *n)
{
    onn_node_clear(n);
}

static onnorm_status copy_attr(onnorm_op *op, const onnorm_attr *src, onn_attr *dst,
                               onnorm_error *err)
{
    const char *lbl = op->label;
    if (!src->name || !src->name[0])
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: an attribute has no name", lbl);
    const attr_spec *as = NULL;
    const int ver = op->kernel->since_version;
    for (int i = 0; i < 8 && op->spec->attrs[i].name; i++)
        if (strcmp(op->spec->attrs[i].name, src->name) == 0) as = &op->spec->attrs[i];
    if (!as || (as->from && ver < as->from) || (as->to && ver > as->to)) {
        char known[256] = "";
        size_t len = 0;
        for (int i = 0; i < 8 && op->spec->attrs[i].name; i++) {
            const attr_spec *o = &op->spec->attrs[i];
            if ((o->from && ver < o->from) || (o->to && ver > o->to)) continue;
            len += (size_t)snprintf(known + len, len < sizeof known ? sizeof known - len : 0,
                                    "%s%s", len ? ", " : "", o->name);
            if (len >= sizeof known) break;
        }
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: unknown attribute '%s' (it has: %s)", lbl,
                        src->name, known[0] ? known : "none");
    }
    if ((int)src->type != (int)as->type)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: attribute '%s' must be %s", lbl, src->name,
                        kind_name(as->type));
    memset(dst, 0, sizeof *dst);
    dst->type = as->type;
    if (!(dst->name = onn_strdup(src->name))) goto nomem;
    switch (as->type) {
    case ONN_ATTR_FLOAT: dst->f = src->f; break;
    case ONN_ATTR_INT: dst->i = src->i; break;
    case ONN_ATTR_STRING:
        if (!src->s)
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: attribute '%s' has a NULL string", lbl,
                            src->name);
        if (!(dst->s = onn_strdup(src->s))) goto nomem;
        dst->s_len = strlen(src->s);
        break;
    case ONN_ATTR_FLOATS:
    case ONN_ATTR_INTS: {
        const void *v =
            as->type == ONN_ATTR_INTS ? (const void *)src->ints : (const void *)src->floats;
        size_t esz = as->type == ONN_ATTR_INTS ? sizeof(int64_t) : sizeof(float);
        if (src->n < 0 || (src->n > 0 && !v))
            return onn_fail(err, ONNORM_ERR_INVALID,
                            "%s: attribute '%s' needs n >= 0 values and a non-NULL array", lbl,
                            src->name);
        if (src->n > 4096)
            return onn_fail(err, ONNORM_ERR_INVALID,
                            "%s: attribute '%s' has %d values (at most 4096)", lbl, src->name,
                            src->n);
        void *copy = onn_memdup(v ? v : (const void *)"", (size_t)src->n * esz);
        if (!copy) goto nomem;
        if (as->type == ONN_ATTR_INTS)
            dst->ints = copy;
        else
            dst->floats = copy;
        dst->n = (size_t)src->n;
        break;
    }
    default: break;
    }
    return ONNORM_OK;
nomem:
    return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
}

void onnorm_op_free(onnorm_op *op)
{
    if (!op) return;
    onn_prepared_free(&op->prep);
    onn_eval_free(&op->ev);
    free_node(&op->node);
    free(op);
}

onnorm_status onnorm_op_create(const char *domain, const char *op_type, int opset,
                               const onnorm_attr *attrs, int n_attrs, onnorm_op **out,
                               onnorm_error *err)
{
    if (err) err->code = ONNORM_OK, err->message[0] = '\0';
    if (!out || !op_type)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_op_create: NULL op_type or out");
    *out = NULL;
    if (n_attrs < 0 || (n_attrs > 0 && !attrs))
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_op_create: bad attribute array");
    if (!domain || strcmp(domain, "ai.onnx") == 0) domain = "";
    const op_spec *spec = find_spec(domain, op_type);
    if (!spec) {
        const bool known = onn_registry_knows(domain, op_type, &(int){0});
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "%s%s%s is %s; the operator API takes the normalization ops "
                        "(onnorm_op_count / onnorm_op_at list them)",
                        domain, domain[0] ? "." : "", op_type,
                        known ? "not a normalization op" : "an unknown op");
    }
    onnorm_op *op = calloc(1, sizeof *op);
    if (!op) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    op->spec = spec;
    onn_eval_init(&op->ev, 1, err);
    onn_node *n = &op->node;
    n->opset = opset;
    if (!(n->op_type = onn_strdup(op_type)) || !(n->domain = onn_strdup(domain))) {
        onnorm_op_free(op);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    char why[256];
    if (opset < 1) {
        snprintf(why, sizeof why, "opset must be >= 1, got %d", opset);
        op->kernel = NULL;
    } else {
        op->kernel = onn_bind_node(n, why, sizeof why);
        int lowest = 0;
        if (!op->kernel && opset <= onn_registry_max_opset(domain) &&
            onn_registry_knows(domain, op_type, &lowest))
            snprintf(why, sizeof why, "no version at opset %d; its first version is opset %d",
                     opset, lowest);
    }
    if (!op->kernel) {
        onnorm_op_free(op);
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s%s%s: %s", domain, domain[0] ? "." : "",
                        op_type, why);
    }
    snprintf(op->label, sizeof op->label, "%s-%d", op_type, op->kernel->since_version);
    if (!(n->name = onn_strdup(op->label))) {
        onnorm_op_free(op);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    if (n_attrs && !(n->attrs = calloc((size_t)n_attrs, sizeof *n->attrs))) {
        onnorm_op_free(op);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n_attrs; i++) {
        n->n_attr = i + 1; /* freed with the node even when the copy fails half-way */
        onnorm_status st = copy_attr(op, &attrs[i], &n->attrs[i], err);
        if (st) {
            onnorm_op_free(op);
            return st;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(n->attrs[j].name, n->attrs[i].name) == 0) {
                onnorm_status st2 =
                    onn_fail(err, ONNORM_ERR_INVALID, "%s: attribute '%s' is given twice",
                             op->label, n->attrs[i].name);
                onnorm_op_free(op);
                return st2;
            }
    }
    /* The node's argument arrays, sized for the largest arity setup allows. */
    if (!(n->in = malloc(MAX_ARGS * sizeof *n->in)) ||
        !(n->out = malloc(MAX_ARGS * sizeof *n->out))) {
        onnorm_op_free(op);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    *out = op;
    return ONNORM_OK;
}

/* ---- setup ------------------------------------------------------------------ */

static bool is_param(const onnorm_op *op, int i)
{
    return i >= 0 && i < 32 && (op->spec->params >> i & 1u);
}

static onnorm_status check_tensor(const onnorm_op *op, const char *what, int i,
                                  const onnorm_tensor *t, onnorm_error *err)
{
    if (t->rank < 0 || t->rank > ONNORM_MAX_RANK)
        return onn_fail(err, ONNORM_ERR_SHAPE, "%s: %s %d has rank %d (0 to %d)", op->label, what,
                        i, t->rank, ONNORM_MAX_RANK);
    size_t bytes;
    if (onnorm_dtype_size(t->dtype) == 0)
        return onn_fail(err, ONNORM_ERR_DTYPE,
                        "%s: %s %d has element type code %d, which onnorm "
                        "does not support",
                        op->label, what, i, (int)t->dtype);
    for (int d = 0; d < t->rank; d++)
        if (t->dims[d] < 0)
            return onn_fail(err, ONNORM_ERR_SHAPE, "%s: %s %d has a negative dim", op->label, what,
                            i);
    if (!onn_tensor_bytes(t, &bytes))
        return onn_fail(err, ONNORM_ERR_SHAPE, "%s: %s %d is too large", op->label, what, i);
    return ONNORM_OK;
}

static bool same_shape(const onnorm_tensor *a, const onnorm_tensor *b)
{
    if (a->rank != b->rank) return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

onnorm_status onnorm_op_setup(onnorm_op *op, int n_in, const onnorm_tensor *const *inputs,
                              int n_out, onnorm_tensor *const *outputs, int num_threads,
                              onnorm_error *err)
{
    if (err) err->code = ONNORM_OK, err->message[0] = '\0';
    if (!op) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_op_setup: NULL op");
    op->ready = false;
    onn_prepared_free(&op->prep);
    const onn_kernel *k = op->kernel;
    const char *lbl = op->label;
    if (num_threads < 0)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: num_threads must be >= 0, got %d", lbl,
                        num_threads);
    if (n_in < 0 || n_out < 0 || (n_in && !inputs) || (n_out && !outputs))
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: bad input or output array", lbl);
    /* Arity, as a session checks a node: required ones present, no more
     * than the op has. */
    int max_in = k->max_inputs < MAX_ARGS ? k->max_inputs : MAX_ARGS;
    int max_out = k->max_outputs < MAX_ARGS ? k->max_outputs : MAX_ARGS;
    if (n_in < k->min_inputs || n_in > max_in)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s takes %d to %d inputs, got %d", lbl,
                        k->min_inputs, max_in, n_in);
    if (n_out < k->min_outputs || n_out > max_out)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s has %d to %d outputs, got %d", lbl,
                        k->min_outputs, max_out, n_out);
    for (int i = 0; i < k->min_inputs; i++)
        if (!inputs[i])
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: input %d is required", lbl, i);
    for (int i = 0; i < k->min_outputs; i++)
        if (!outputs[i])
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: output %d is required", lbl, i);

    onnorm_status st;
    onn_node *n = &op->node;
    n->n_in = n_in;
    n->n_out = n_out;
    op->ev.err = err;
    op->ev.num_threads = num_threads ? num_threads : omp_get_max_threads();
    if (op->ev.num_threads < 1) op->ev.num_threads = 1;
    if ((st = onn_eval_args(&op->ev, n))) return st;
    for (int i = 0; i < n_in; i++) {
        n->in[i] = inputs[i] ? i : -1;
        if (!inputs[i]) continue;
        if ((st = check_tensor(op, "input", i, inputs[i], err))) return st;
        if (is_param(op, i) && !inputs[i]->data)
            return onn_fail(err, ONNORM_ERR_INVALID,
                            "%s: input %d is a parameter: its data must be given at setup", lbl, i);
        op->in[i] = *inputs[i];
        op->in[i].name = NULL;
        /* Prepare sees parameters' values only (see the top of the file). */
        if (!is_param(op, i)) op->in[i].data = NULL;
        op->ev.in[i] = &op->in[i];
    }
    for (int i = 0; i < n_out; i++) {
        n->out[i] = outputs[i] ? i : -1;
        if (!outputs[i]) continue;
        memset(&op->out[i], 0, sizeof op->out[i]);
        op->ev.out[i] = &op->out[i];
    }
    op->ev.needs_values = false;
    if ((st = onn_eval_infer(&op->ev, n, k))) return st;
    if (op->ev.needs_values)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s: the output shape depends on input values",
                        lbl);
    /* Report or check the output shapes. */
    for (int i = 0; i < n_out; i++) {
        if (!outputs[i]) continue;
        const onnorm_tensor *t = &op->out[i];
        onnorm_tensor *c = outputs[i];
        char a[128], b[128];
        if (c->dtype == ONNORM_UNDEFINED) {
            c->dtype = t->dtype;
            c->rank = t->rank;
            memcpy(c->dims, t->dims, sizeof c->dims);
        } else if (c->dtype != t->dtype) {
            return onn_fail(err, ONNORM_ERR_DTYPE,
                            "%s: output %d is %s, the caller's tensor says %s (set its dtype to "
                            "ONNORM_UNDEFINED to have setup fill it in)",
                            lbl, i, onnorm_dtype_name(t->dtype), onnorm_dtype_name(c->dtype));
        } else if (!same_shape(c, t)) {
            return onn_fail(err, ONNORM_ERR_SHAPE,
                            "%s: output %d has shape %s, the caller's tensor says %s (set its "
                            "dtype to ONNORM_UNDEFINED to have setup fill it in)",
                            lbl, i, onnorm_shape_str(t->dims, t->rank, a, sizeof a),
                            onnorm_shape_str(c->dims, c->rank, b, sizeof b));
        }
    }
    if ((st = onn_eval_prepare(&op->ev, n, k, &op->prep))) return st;
    if ((st = onn_eval_reserve(&op->ev, op->prep.scratch_bytes))) {
        onn_prepared_free(&op->prep);
        return st;
    }
    /* The pointers run uses: every input's, and the outputs'. */
    for (int i = 0; i < n_in; i++)
        if (inputs[i]) op->in[i].data = inputs[i]->data;
    for (int i = 0; i < n_out; i++)
        if (outputs[i]) op->out[i].data = outputs[i]->data;
    op->threads = op->ev.num_threads;
    op->ready = true;
    return ONNORM_OK;
}

onnorm_status onnorm_op_bind(onnorm_op *op, int n_in, const void *const *inputs, int n_out,
                             void *const *outputs, onnorm_error *err)
{
    if (err) err->code = ONNORM_OK, err->message[0] = '\0';
    if (!op) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_op_bind: NULL op");
    if (!op->ready)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: bind needs a successful setup first",
                        op->label);
    const onn_node *n = &op->node;
    if (n_in < 0 || n_out < 0 || n_in > n->n_in || n_out > n->n_out || (n_in && !inputs) ||
        (n_out && !outputs))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "%s: bind takes at most the %d inputs and %d outputs of the last setup",
                        op->label, n->n_in, n->n_out);
    for (int i = 0; i < n_in; i++) {
        if (!inputs[i]) continue;
        if (!op->ev.in[i])
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: input %d was omitted at setup", op->label,
                            i);
        if (is_param(op, i))
            return onn_fail(err, ONNORM_ERR_INVALID,
                            "%s: input %d is a parameter, read at setup; call onnorm_op_setup to "
                            "change it",
                            op->label, i);
    }
    for (int i = 0; i < n_out; i++)
        if (outputs[i] && !op->ev.out[i])
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: output %d was not requested at setup",
                            op->label, i);
    for (int i = 0; i < n_in; i++)
        if (inputs[i]) op->in[i].data = (void *)inputs[i];
    for (int i = 0; i < n_out; i++)
        if (outputs[i]) op->out[i].data = outputs[i];
    return ONNORM_OK;
}

/* [p, p + bytes) and [q, q + bytes2) overlap. */
static bool overlap(const void *p, size_t bytes, const void *q, size_t bytes2)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;
    return bytes && bytes2 && a < b + bytes2 && b < a + bytes;
}

onnorm_status onnorm_op_run(onnorm_op *op, onnorm_error *err)
{
    if (err) err->code = ONNORM_OK, err->message[0] = '\0';
    if (!op) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_op_run: NULL op");
    if (!op->ready)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: run needs a successful setup first",
                        op->label);
    const onn_node *n = &op->node;
    for (int i = 0; i < n->n_in; i++)
        if (op->ev.in[i] && !op->in[i].data)
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: input %d has no data (bind it)",
                            op->label, i);
    for (int o = 0; o < n->n_out; o++) {
        if (!op->ev.out[o]) continue;
        const onnorm_tensor *y = &op->out[o];
        if (!y->data)
            return onn_fail(err, ONNORM_ERR_INVALID,
                            "%s: output %d has no data (allocate it from the shape setup "
                            "reported and bind it)",
                            op->label, o);
        size_t yb = 0, b = 0;
        onn_tensor_bytes(y, &yb);
        for (int i = 0; i < n->n_in; i++) {
            if (!op->ev.in[i]) continue;
            onn_tensor_bytes(&op->in[i], &b);
            if (!overlap(y->data, yb, op->in[i].data, b)) continue;
            const bool shared = o == 0 && y->data == op->in[i].data &&
                                ((i == 0 && op->kernel->inplace) || op->prep.share_input == i + 1);
            if (!shared)
                return onn_fail(err, ONNORM_ERR_INVALID,
                                "%s: output %d overlaps input %d, which this op does not allow",
                                op->label, o, i);
        }
        for (int p = 0; p < o; p++) {
            if (!op->ev.out[p]) continue;
            onn_tensor_bytes(&op->out[p], &b);
            if (overlap(y->data, yb, op->out[p].data, b))
                return onn_fail(err, ONNORM_ERR_INVALID, "%s: outputs %d and %d overlap", op->label,
                                p, o);
        }
    }
    op->ev.err = err;
    return onn_eval_run(&op->ev, n, op->kernel, &op->prep);
}

/* ---- introspection ----------------------------------------------------- */

int onnorm_op_version(const onnorm_op *op)
{
    return op ? op->kernel->since_version : 0;
}

int onnorm_op_threads(const onnorm_op *op)
{
    return op && op->ready ? op->threads : 0;
}

int onnorm_op_is_parameter(const onnorm_op *op, int i)
{
    return op && is_param(op, i);
}

int onnorm_op_inplace(const onnorm_op *op)
{
    return op && op->ready && (op->kernel->inplace || op->prep.share_input == 1);
}
