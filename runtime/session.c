/*
 * Sessions: bind inputs, infer shapes node by node, allocate outputs, run
 * the kernels in topological order.
 *
 * A session owns one tensor slot per graph value. Constants and bound
 * inputs are views (no copy); node outputs own a buffer that is kept across
 * runs and grown only when a larger shape arrives. Sessions share nothing
 * mutable with the model, so several may run at once.
 */
#include "runtime/runtime.h"
#include "ops/kernel.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    onnorm_tensor t;  /* current metadata and data pointer */
    size_t cap;       /* bytes owned at `own` */
    void *own;        /* buffer owned by the session (node outputs) */
    bool bound;       /* a caller-bound input */
} slot;

struct onnorm_session {
    const onnorm_model *model;
    int num_threads;
    int opt_level;
    slot *slots; /* one per graph value */
    bool has_run;
    /* scratch pointer arrays for kernel calls */
    onnorm_tensor **in, **out;
    int max_io;
};

void onnorm_session_options_init(onnorm_session_options *o)
{
    if (!o) return;
    o->num_threads = 0;
    o->optimization_level = 1;
}

onnorm_status onnorm_session_create(const onnorm_model *m, const onnorm_session_options *opts,
                                    onnorm_session **out, onnorm_error *err)
{
    if (!m || !out) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_create: NULL argument");
    *out = NULL;
    const onn_graph *g = m->g;
    if (m->unsupported)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "%s: the model has %d unsupported node(s) and was loaded for inspection "
                        "only",
                        g->source, m->unsupported);
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    if (opts) o = *opts;
    if (o.num_threads < 0)
        return onn_fail(err, ONNORM_ERR_INVALID, "num_threads must be >= 0, got %d", o.num_threads);
    onnorm_session *s = calloc(1, sizeof *s);
    if (!s) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    s->model = m;
    s->num_threads = o.num_threads ? o.num_threads : omp_get_max_threads();
    s->opt_level = o.optimization_level;
    s->max_io = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].n_in > s->max_io) s->max_io = g->nodes[i].n_in;
        if (g->nodes[i].n_out > s->max_io) s->max_io = g->nodes[i].n_out;
    }
    s->slots = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *s->slots);
    s->in = calloc((size_t)s->max_io, sizeof *s->in);
    s->out = calloc((size_t)s->max_io, sizeof *s->out);
    if (!s->slots || !s->in || !s->out) {
        onnorm_session_free(s);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int v = 0; v < g->n_values; v++) {
        const onn_value *val = &g->values[v];
        if (val->init) {
            s->slots[v].t = *val->init; /* a read-only view of the model's constant */
            s->slots[v].t.name = val->name;
        }
    }
    *out = s;
    return ONNORM_OK;
}

void onnorm_session_free(onnorm_session *s)
{
    if (!s) return;
    if (s->slots)
        for (int v = 0; v < s->model->g->n_values; v++) free(s->slots[v].own);
    free(s->slots);
    free(s->in);
    free(s->out);
    free(s);
}

static int find_input(const onn_graph *g, const char *name)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (strcmp(g->values[g->inputs[i]].name, name) == 0) return g->inputs[i];
    return -1;
}

onnorm_status onnorm_session_bind_input(onnorm_session *s, const char *name, onnorm_dtype dtype,
                                        const int64_t *dims, int rank, const void *data,
                                        onnorm_error *err)
{
    if (!s || !name || (rank > 0 && !dims) || !data)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_bind_input: NULL argument");
    const onn_graph *g = s->model->g;
    int v = find_input(g, name);
    if (v < 0) return onn_fail(err, ONNORM_ERR_NOT_FOUND, "%s: the model has no input '%s'", g->source, name);
    const onn_value *val = &g->values[v];
    char got[128], want[128];
    if (rank < 0 || rank > ONNORM_MAX_RANK)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "input '%s': rank %d is not supported", name, rank);
    if (onnorm_dtype_size(dtype) == 0)
        return onn_fail(err, ONNORM_ERR_DTYPE, "input '%s': element type %d is not supported", name, (int)dtype);
    if (onn_dims_numel(dims, 0, rank) < 0)
        return onn_fail(err, ONNORM_ERR_SHAPE, "input '%s': negative dim or element count overflow", name);
    if (val->dtype != ONNORM_UNDEFINED && val->dtype != dtype)
        return onn_fail(err, ONNORM_ERR_DTYPE, "input '%s' is declared %s, got %s", name,
                        onnorm_dtype_name(val->dtype), onnorm_dtype_name(dtype));
    if (val->rank >= 0) {
        bool ok = val->rank == rank;
        for (int i = 0; ok && i < rank; i++) ok = val->dims[i] < 0 || val->dims[i] == dims[i];
        if (!ok)
            return onn_fail(err, ONNORM_ERR_SHAPE, "input '%s' is declared with shape %s, got %s", name,
                            onn_shape_str(val->dims, val->rank, want, sizeof want),
                            onn_shape_str(dims, rank, got, sizeof got));
    }
    slot *sl = &s->slots[v];
    sl->t.dtype = dtype;
    sl->t.rank = rank;
    for (int i = 0; i < rank; i++) sl->t.dims[i] = dims[i];
    sl->t.data = (void *)data;
    sl->t.name = val->name;
    sl->bound = true;
    s->has_run = false;
    return ONNORM_OK;
}

/* Gives output slot room for its inferred shape. */
static onnorm_status ensure_buffer(slot *sl, onnorm_error *err)
{
    int64_t numel = onnorm_tensor_numel(&sl->t);
    size_t esz = onnorm_dtype_size(sl->t.dtype), bytes;
    if (numel < 0 || esz == 0 || !onn_mul_size((size_t)numel, esz, &bytes))
        return onn_fail(err, ONNORM_ERR_NOMEM, "output '%s': invalid size", sl->t.name);
    if (bytes > sl->cap || !sl->own) {
        void *p = realloc(sl->own, bytes ? bytes : 1);
        if (!p) return onn_fail(err, ONNORM_ERR_NOMEM, "output '%s': cannot allocate %zu bytes", sl->t.name, bytes);
        sl->own = p;
        sl->cap = bytes;
    }
    sl->t.data = sl->own;
    return ONNORM_OK;
}

static onnorm_status run_node(onnorm_session *s, const onn_node *n, onnorm_error *err)
{
    onn_kctx ctx = {n, n->n_in, n->n_out, s->in, s->out, s->num_threads, err};
    for (int k = 0; k < n->n_in; k++) s->in[k] = n->in[k] >= 0 ? &s->slots[n->in[k]].t : NULL;
    for (int k = 0; k < n->n_out; k++) {
        s->out[k] = n->out[k] >= 0 ? &s->slots[n->out[k]].t : NULL;
        if (s->out[k]) {
            s->out[k]->name = s->model->g->values[n->out[k]].name;
            s->out[k]->dtype = ONNORM_UNDEFINED;
        }
    }
    onnorm_status st = n->kernel->infer(&ctx);
    for (int k = 0; !st && k < n->n_out; k++) {
        if (!s->out[k]) continue;
        if (s->out[k]->dtype == ONNORM_UNDEFINED) {
            char lbl[256];
            st = onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s: output %d is not produced by this kernel",
                          onn_node_label(n, lbl, sizeof lbl), k);
        } else {
            st = ensure_buffer(&s->slots[n->out[k]], err);
        }
    }
    if (!st) st = n->kernel->run(&ctx);
    return st;
}

onnorm_status onnorm_session_run(onnorm_session *s, onnorm_error *err)
{
    if (!s) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_run: NULL session");
    const onn_graph *g = s->model->g;
    s->has_run = false;
    for (int i = 0; i < g->n_feeds; i++)
        if (!s->slots[g->feeds[i]].bound)
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: input '%s' is not bound", g->source,
                            g->values[g->feeds[i]].name);
    for (int i = 0; i < g->n_nodes; i++) {
        onnorm_status st = run_node(s, &g->nodes[i], err);
        if (st) return onn_prefix(err, st, "%s: ", g->source);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const onn_value *v = &g->values[g->outputs[i]];
        const onnorm_tensor *t = &s->slots[g->outputs[i]].t;
        if (v->dtype != ONNORM_UNDEFINED && t->dtype != v->dtype)
            return onn_fail(err, ONNORM_ERR_DTYPE, "%s: output '%s' is declared %s but computed as %s",
                            g->source, v->name, onnorm_dtype_name(v->dtype), onnorm_dtype_name(t->dtype));
    }
    s->has_run = true;
    return ONNORM_OK;
}

onnorm_status onnorm_session_output(const onnorm_session *s, const char *name, onnorm_tensor *out,
                                    onnorm_error *err)
{
    if (!s || !name || !out) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_output: NULL argument");
    const onn_graph *g = s->model->g;
    if (!s->has_run) return onn_fail(err, ONNORM_ERR_INVALID, "output '%s': the session has not run", name);
    for (int i = 0; i < g->n_outputs; i++)
        if (strcmp(g->values[g->outputs[i]].name, name) == 0) {
            *out = s->slots[g->outputs[i]].t;
            out->name = g->values[g->outputs[i]].name;
            return ONNORM_OK;
        }
    return onn_fail(err, ONNORM_ERR_NOT_FOUND, "%s: the model has no output '%s'", g->source, name);
}
