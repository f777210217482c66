/*
 * Control flow: If, Loop and Scan, whose bodies are subgraphs.
 *
 *   If    1, 11, 13, 16, 19, 21   then_branch / else_branch on a bool cond
 *   Loop  1, 11, 13, 16, 19, 21   trip count M and/or condition; loop-carried
 *                                 values and scan outputs stacked on axis 0
 *   Scan  8 (batch axis 0, no sequence_lens other than full length),
 *         9, 11, 16, 19, 21       scan_input/output_axes and _directions
 * Tensors only: sequence and optional values (If-13's and Loop-13's
 * sequence forms) are refused by the loader's type checks or the body's ops.
 *
 * The loader turns each graph attribute into an onn_graph whose inputs are
 * its formal inputs followed by the outer-scope values it reads, which the
 * node carries as extra (implicit) inputs (graph/ir.h: n_formal,
 * capture_from). A subgraph runs as a session of its own over a model that
 * borrows it, with the node's thread count and no graph passes; the
 * session is created per execution of the node and reused across a Loop's
 * or Scan's iterations (it plans again only when a carried value changes
 * shape).
 *
 * Decisions:
 * - Output shapes depend on the values (which branch, how many
 *   iterations), so infer asks for every input's values (onn_input_values):
 *   a model with control flow runs in the session's eager mode, and infer
 *   executes the body once to learn the shapes, run once more to fill the
 *   outputs. Correct, not fast; the kernels also allocate during runs
 *   (their subgraph sessions and the stacked scan outputs), unlike the rest.
 * - A Loop with neither M nor cond would never end; it is refused. A Loop's
 *   iterations are capped at ONN_LOOP_MAX, its stacked scan outputs by
 *   ONN_STACK_MAX_BYTES, each with an error naming the limit.
 * - A scan output of a Loop that ran zero times has shape [0].
 */
#include "runtime/bind.h"
#include "runtime/runtime.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define ONN_LOOP_MAX ((int64_t)1 << 31)
#define ONN_STACK_MAX_BYTES ((size_t)1 << 34)
/* Scan inputs and scan outputs a Scan may have. */
#define ONN_MAX_SCAN 64

/* ---- running a subgraph ----------------------------------------------------- */

typedef struct subrun {
    onnorm_model m; /* borrows the node's subgraph */
    onnorm_session *s;
    const onn_graph *g;
    const char *what; /* the attribute's name, for messages */
} subrun;

static onnorm_status sub_fail(onn_kctx *ctx, const subrun *r, const onnorm_error *e)
{
    return onn_kfail(ctx, e->code ? e->code : ONNORM_ERR_INVALID, "%s: %s", r->what, e->message);
}

static void sub_close(subrun *r)
{
    onnorm_session_free(r->s);
    free((void *)r->m.kernels);
    memset(r, 0, sizeof *r);
}

/* The graph attribute `name` of the node, bound and ready to run. */
static onnorm_status sub_open(onn_kctx *ctx, const char *name, subrun *r)
{
    memset(r, 0, sizeof *r);
    const onn_attr *a = onn_attr_find(ctx->node, name);
    if (!a || !a->g)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "graph attribute '%s' is missing", name);
    r->g = a->g;
    r->what = a->name;
    r->m.g = a->g;
    onnorm_error e = {0};
    /* Binding writes inferred element types into the subgraph's values:
     * the same ones every time. */
    if (onn_bind_graph(a->g, false, &r->m.kernels, NULL, &e)) return sub_fail(ctx, r, &e);
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = ctx->num_threads;
    o.optimization_level = 0;
    o.max_arena_bytes = ctx->mem_cap; /* the outer session's cap (0: the default) */
    if (onnorm_session_create(&r->m, &o, &r->s, &e)) {
        onnorm_status st = sub_fail(ctx, r, &e);
        sub_close(r);
        return st;
    }
    return ONNORM_OK;
}

static onnorm_status sub_bind(onn_kctx *ctx, subrun *r, int j, const onnorm_tensor *t)
{
    static const char empty[1];
    onnorm_error e = {0};
    const char *name = r->g->values[r->g->inputs[j]].name;
    if (!t) return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s: no value for input '%s'", r->what, name);
    if (onnorm_session_bind_input(r->s, name, t->dtype, t->dims, t->rank,
                                  t->data ? t->data : (const void *)empty, &e))
        return sub_fail(ctx, r, &e);
    return ONNORM_OK;
}

/* Binds the outer-scope values the subgraph reads (the node's implicit inputs). */
static onnorm_status sub_bind_captured(onn_kctx *ctx, subrun *r)
{
    for (int j = r->g->n_formal; j < r->g->n_inputs; j++) {
        onnorm_status st =
            sub_bind(ctx, r, j, onn_opt_input(ctx, r->g->capture_from[j - r->g->n_formal]));
        if (st) return st;
    }
    return ONNORM_OK;
}

static onnorm_status sub_run(onn_kctx *ctx, subrun *r)
{
    onnorm_error e = {0};
    if (onnorm_session_run(r->s, &e)) return sub_fail(ctx, r, &e);
    return ONNORM_OK;
}

/* Output i of the last run (a view into the session). */
static onnorm_status sub_output(onn_kctx *ctx, subrun *r, int i, onnorm_tensor *t)
{
    onnorm_error e = {0};
    if (onnorm_session_output(r->s, r->g->values[r->g->outputs[i]].name, t, &e))
        return sub_fail(ctx, r, &e);
    return ONNORM_OK;
}

static size_t tensor_bytes(const onnorm_tensor *t)
{
    return (size_t)onnorm_tensor_numel(t) * onnorm_dtype_size(t->dtype);
}

/* ---- where results go: infer sets shapes, run copies data --------------------------- */

/* Output k takes t: in infer its type and shape, in run (out->data set, by
 * the planner from infer's shape) its bytes; the two passes see the same
 * values, so the shapes agree, which is checked. */
static onnorm_status put_output(onn_kctx *ctx, int k, const onnorm_tensor *t, bool running)
{
    onnorm_tensor *o = onn_opt_output(ctx, k);
    if (!o) return ONNORM_OK;
    if (!running) {
        onn_set_output(ctx, k, t->dtype, t->rank, t->dims);
        return ONNORM_OK;
    }
    bool same = o->dtype == t->dtype && o->rank == t->rank;
    for (int d = 0; same && d < t->rank; d++)
        same = o->dims[d] == t->dims[d];
    if (!same) return onn_kfail(ctx, ONNORM_ERR_SHAPE, "output %d changed shape between passes", k);
    const size_t bytes = tensor_bytes(t);
    if (bytes) memcpy(o->data, t->data, bytes);
    return ONNORM_OK;
}

/* Every input's values must be known (the session runs the model eagerly). */
static onnorm_status need_values(onn_kctx *ctx)
{
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i] && onnorm_tensor_numel(ctx->in[i]) > 0 &&
            !onn_input_values(ctx, i, "control-flow input"))
            return ctx->err && ctx->err->code ? ctx->err->code : ONNORM_ERR_UNSUPPORTED;
    return ONNORM_OK;
}

static bool scalar_true(const onnorm_tensor *t)
{
    return t->dtype == ONNORM_BOOL && onnorm_tensor_numel(t) == 1 && *(const uint8_t *)t->data;
}

/* ---- If ------------------------------------------------------------------------------- */

static onnorm_status if_exec(onn_kctx *ctx, bool running)
{
    onnorm_status st = need_values(ctx);
    if (st) return st;
    const onnorm_tensor *c = ctx->in[0];
    if (c->dtype != ONNORM_BOOL || onnorm_tensor_numel(c) != 1)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "cond must be a bool tensor of one element");
    subrun r;
    if ((st = sub_open(ctx, scalar_true(c) ? "then_branch" : "else_branch", &r))) return st;
    if (r.g->n_formal != 0) st = onn_kfail(ctx, ONNORM_ERR_INVALID, "%s takes no inputs", r.what);
    if (!st && r.g->n_outputs != ctx->n_out)
        st = onn_kfail(ctx, ONNORM_ERR_INVALID, "%s has %d outputs, the node %d", r.what,
                       r.g->n_outputs, ctx->n_out);
    if (!st) st = sub_bind_captured(ctx, &r);
    if (!st) st = sub_run(ctx, &r);
    for (int k = 0; !st && k < ctx->n_out; k++) {
        onnorm_tensor t;
        if (!(st = sub_output(ctx, &r, k, &t))) st = put_output(ctx, k, &t, running);
    }
    sub_close(&r);
    return st;
}

static onnorm_status if_infer(onn_kctx *ctx)
{
    return if_exec(ctx, false);
}

static onnorm_status if_run(onn_kctx *ctx)
{
    return if_exec(ctx, true);
}

/* ---- stacking per-iteration outputs --------------------------------------------------- */

typedef struct stack {
    onnorm_tensor t; /* t.dims[0] = iterations so far (or rank-0 before the first) */
    size_t cap, item;
    bool started;
} stack;

static onnorm_status stack_push(onn_kctx *ctx, stack *s, const onnorm_tensor *v)
{
    if (!s->started) {
        if (v->rank + 1 > ONNORM_MAX_RANK)
            return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "a scan output would exceed rank %d",
                             ONNORM_MAX_RANK);
        s->started = true;
        s->t.dtype = v->dtype;
        s->t.rank = v->rank + 1;
        s->t.dims[0] = 0;
        memcpy(s->t.dims + 1, v->dims, (size_t)v->rank * sizeof *v->dims);
        s->item = tensor_bytes(v);
    }
    bool same = v->dtype == s->t.dtype && v->rank + 1 == s->t.rank;
    for (int d = 0; same && d < v->rank; d++)
        same = v->dims[d] == s->t.dims[d + 1];
    if (!same)
        return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                         "a scan output changed type or shape between iterations");
    const size_t used = (size_t)s->t.dims[0] * s->item;
    if (used + s->item > ONN_STACK_MAX_BYTES)
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "scan outputs grow past %zu bytes",
                         ONN_STACK_MAX_BYTES);
    if (used + s->item > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : s->item * 4 + 64;
        if (cap < used + s->item) cap = used + s->item;
        void *p = realloc(s->t.data, cap);
        if (!p) return onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory stacking scan outputs");
        s->t.data = p;
        s->cap = cap;
    }
    if (s->item) memcpy((char *)s->t.data + used, v->data, s->item);
    s->t.dims[0]++;
    return ONNORM_OK;
}

/* ---- Loop ------------------------------------------------------------------------------ */

static onnorm_status loop_exec(onn_kctx *ctx, bool running)
{
    onnorm_status st = need_values(ctx);
    if (st) return st;
    const onnorm_tensor *m = onn_opt_input(ctx, 0), *c = onn_opt_input(ctx, 1);
    if (m && (m->dtype != ONNORM_INT64 || onnorm_tensor_numel(m) != 1))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "M must be an int64 tensor of one element");
    if (c && (c->dtype != ONNORM_BOOL || onnorm_tensor_numel(c) != 1))
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "cond must be a bool tensor of one element");
    if (!m && !c)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "a Loop with neither M nor cond never ends");
    const int64_t trip = m ? *(const int64_t *)m->data : ONN_LOOP_MAX;
    if (trip > ONN_LOOP_MAX)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "M = %lld iterations exceeds %lld",
                         (long long)trip, (long long)ONN_LOOP_MAX);
    const int n_carried = ctx->n_in - ctx->node->n_implicit - 2;
    if (n_carried < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "Loop lists M and cond (either may be \"\")");
    subrun r;
    if ((st = sub_open(ctx, "body", &r))) return st;
    const int n_scan = r.g->n_outputs - 1 - n_carried;
    if (n_carried < 0 || r.g->n_formal != 2 + n_carried || n_scan < 0 ||
        ctx->n_out > n_carried + n_scan) {
        const int n_formal = r.g->n_formal, n_outputs = r.g->n_outputs; /* sub_close clears r */
        sub_close(&r);
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "body has %d inputs and %d outputs; %d loop-carried values need %d "
                         "inputs and at least %d outputs",
                         n_formal, n_outputs, n_carried, 2 + n_carried, 1 + n_carried);
    }
    /* The carried values: the initial inputs, then views of the body's last outputs. */
    onnorm_tensor *carried = calloc((size_t)n_carried + 1, sizeof *carried);
    stack *stacks = calloc((size_t)n_scan + 1, sizeof *stacks);
    uint8_t cond = c ? *(const uint8_t *)c->data : 1;
    int64_t iter = 0;
    onnorm_tensor it = {.dtype = ONNORM_INT64, .rank = 0, .data = &iter};
    onnorm_tensor cv = {.dtype = ONNORM_BOOL, .rank = 0, .data = &cond};
    if (!carried || !stacks) st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    for (int k = 0; !st && k < n_carried; k++)
        carried[k] = *ctx->in[2 + k];
    /* A body's outputs are views into its session, which the next run
     * overwrites: carried values are copied out before each run. */
    void **own = calloc((size_t)n_carried + 1, sizeof *own);
    if (!st && !own) st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    if (!st) st = sub_bind_captured(ctx, &r);
    for (; !st && iter < trip && cond; iter++) {
        if (!(st = sub_bind(ctx, &r, 0, &it))) st = sub_bind(ctx, &r, 1, &cv);
        for (int k = 0; !st && k < n_carried; k++)
            st = sub_bind(ctx, &r, 2 + k, &carried[k]);
        if (!st) st = sub_run(ctx, &r);
        onnorm_tensor out;
        if (!st && !(st = sub_output(ctx, &r, 0, &out))) {
            if (out.dtype != ONNORM_BOOL || onnorm_tensor_numel(&out) != 1)
                st = onn_kfail(ctx, ONNORM_ERR_INVALID, "body's condition must be one bool");
            else
                cond = *(const uint8_t *)out.data;
        }
        for (int k = 0; !st && k < n_carried; k++) {
            if ((st = sub_output(ctx, &r, 1 + k, &out))) break;
            void *p = malloc(tensor_bytes(&out) + 1);
            if (!p) {
                st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
                break;
            }
            memcpy(p, out.data, tensor_bytes(&out));
            free(own[k]);
            own[k] = p;
            carried[k] = out;
            carried[k].data = p;
        }
        for (int k = 0; !st && k < n_scan; k++)
            if (!(st = sub_output(ctx, &r, 1 + n_carried + k, &out)))
                st = stack_push(ctx, &stacks[k], &out);
    }
    for (int k = 0; !st && k < ctx->n_out; k++) {
        if (k < n_carried) {
            st = put_output(ctx, k, &carried[k], running);
        } else {
            stack *s = &stacks[k - n_carried];
            if (!s->started) s->t.dtype = r.g->values[r.g->outputs[1 + k]].dtype, s->t.rank = 1;
            if (s->t.dtype == ONNORM_UNDEFINED) s->t.dtype = ONNORM_FLOAT;
            st = put_output(ctx, k, &s->t, running);
        }
    }
    for (int k = 0; own && k < n_carried; k++)
        free(own[k]);
    for (int k = 0; stacks && k < n_scan; k++)
        free(stacks[k].t.data);
    free(own), free(carried), free(stacks);
    sub_close(&r);
    return st;
}

static onnorm_status loop_infer(onn_kctx *ctx)
{
    return loop_exec(ctx, false);
}

static onnorm_status loop_run(onn_kctx *ctx)
{
    return loop_exec(ctx, true);
}

/* ---- Scan ------------------------------------------------------------------------------ */

/* Slice `at` of t along axis a into dst (t's shape without axis a). */
static void take_slice(const onnorm_tensor *t, int a, int64_t at, void *dst)
{
    const size_t esz = onnorm_dtype_size(t->dtype);
    const int64_t outer = onn_dims_numel(t->dims, 0, a), len = t->dims[a];
    const size_t inner = (size_t)onn_dims_numel(t->dims, a + 1, t->rank) * esz;
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)dst + (size_t)o * inner,
               (const char *)t->data + ((size_t)(o * len + at)) * inner, inner);
}

/* Writes v as slice `at` of t (of `len` slices along axis a). */
static void put_slice(onnorm_tensor *t, int a, int64_t at, const onnorm_tensor *v)
{
    const size_t esz = onnorm_dtype_size(t->dtype);
    const int64_t outer = onn_dims_numel(t->dims, 0, a), len = t->dims[a];
    const size_t inner = (size_t)onn_dims_numel(t->dims, a + 1, t->rank) * esz;
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)t->data + ((size_t)(o * len + at)) * inner,
               (const char *)v->data + (size_t)o * inner, inner);
}

typedef struct scan_cfg {
    int n_state, n_in, n_out; /* states, scan inputs, scan outputs */
    int64_t in_axis[ONN_MAX_SCAN], in_dir[ONN_MAX_SCAN], out_axis[ONN_MAX_SCAN],
        out_dir[ONN_MAX_SCAN];
} scan_cfg;

/* An INTS attribute of n entries (default all `dflt`), each 0 or 1 when
 * `binary` (a direction). */
static onnorm_status scan_ints(onn_kctx *ctx, const char *name, int n, int64_t dflt, bool binary,
                               int64_t *out)
{
    int got;
    onnorm_status st = onn_kattr_ints_upto(ctx, name, ONN_MAX_SCAN, out, &got);
    if (st) return st;
    if (got < 0)
        for (int i = 0; i < n; i++)
            out[i] = dflt;
    else if (got != n)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s has %d entries, expected %d", name, got, n);
    for (int i = 0; binary && i < n; i++)
        if (out[i] != 0 && out[i] != 1)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s entries must be 0 or 1", name);
    return ONNORM_OK;
}

/*
 * The scan over states[0..n_state) and scan inputs scans[0..n_in): res gets
 * the final states and the stacked scan outputs (malloc'ed data). Scan
 * inputs with direction 1 are read from their last slice; scan outputs with
 * direction 1 are stacked from the last position back.
 */
static onnorm_status scan_core(onn_kctx *ctx, subrun *r, const scan_cfg *cfg,
                               const onnorm_tensor *const *states,
                               const onnorm_tensor *const *scans, onnorm_tensor *res)
{
    const int N = cfg->n_state, M = cfg->n_in, K = cfg->n_out;
    int axis[ONN_MAX_SCAN];
    int64_t len = -1;
    for (int i = 0; i < M; i++) {
        if (!onn_normalize_axis(cfg->in_axis[i], scans[i]->rank, &axis[i]))
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "scan input %d: axis %lld out of range", i,
                             (long long)cfg->in_axis[i]);
        const int64_t l = scans[i]->dims[axis[i]];
        if (len >= 0 && l != len)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                             "scan inputs have different lengths along their axes (%lld, %lld)",
                             (long long)len, (long long)l);
        len = l;
    }
    if (len < 0) len = 0;
    onnorm_status st = ONNORM_OK;
    onnorm_tensor slice[ONN_MAX_SCAN];
    for (int i = 0; i < M && !st; i++) {
        slice[i] = *scans[i];
        slice[i].rank = scans[i]->rank - 1;
        memmove(slice[i].dims + axis[i], slice[i].dims + axis[i] + 1,
                (size_t)(slice[i].rank - axis[i]) * sizeof *slice[i].dims);
        slice[i].data = malloc(tensor_bytes(&slice[i]) + 1);
        if (!slice[i].data) st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < N && !st; k++) { /* the states, in buffers of their own */
        res[k] = *states[k];
        res[k].data = malloc(tensor_bytes(states[k]) + 1);
        if (!res[k].data)
            st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
        else
            memcpy(res[k].data, states[k]->data, tensor_bytes(states[k]));
    }
    int oaxis[ONN_MAX_SCAN];
    if (!st) st = sub_bind_captured(ctx, r);
    for (int64_t t = 0; t < len && !st; t++) {
        for (int k = 0; k < N && !st; k++)
            st = sub_bind(ctx, r, k, &res[k]);
        for (int i = 0; i < M && !st; i++) {
            take_slice(scans[i], axis[i], cfg->in_dir[i] ? len - 1 - t : t, slice[i].data);
            st = sub_bind(ctx, r, N + i, &slice[i]);
        }
        if (!st) st = sub_run(ctx, r);
        for (int k = 0; k < N && !st; k++) {
            onnorm_tensor o;
            if ((st = sub_output(ctx, r, k, &o))) break;
            void *p = malloc(tensor_bytes(&o) + 1);
            if (!p) {
                st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
                break;
            }
            memcpy(p, o.data, tensor_bytes(&o));
            free(res[k].data);
            res[k] = o;
            res[k].data = p;
        }
        for (int k = 0; k < K && !st; k++) {
            onnorm_tensor o, *y = &res[N + k];
            if ((st = sub_output(ctx, r, N + k, &o))) break;
            if (t == 0) {
                if (o.rank + 1 > ONNORM_MAX_RANK ||
                    !onn_normalize_axis(cfg->out_axis[k], o.rank + 1, &oaxis[k])) {
                    st = onn_kfail(ctx, ONNORM_ERR_INVALID, "scan output %d: bad axis %lld", k,
                                   (long long)cfg->out_axis[k]);
                    break;
                }
                *y = o;
                y->rank = o.rank + 1;
                memmove(y->dims + oaxis[k] + 1, y->dims + oaxis[k],
                        (size_t)(o.rank - oaxis[k]) * sizeof *y->dims);
                y->dims[oaxis[k]] = len;
                size_t bytes;
                if (!onn_mul_size(tensor_bytes(&o), (size_t)len, &bytes) ||
                    bytes > ONN_STACK_MAX_BYTES || !(y->data = malloc(bytes + 1))) {
                    y->data = NULL;
                    st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "scan output %d: %lld x %zu bytes", k,
                                   (long long)len, tensor_bytes(&o));
                    break;
                }
            }
            bool same = o.dtype == y->dtype && o.rank + 1 == y->rank;
            for (int d = 0, e = 0; same && d < o.rank; d++, e++) {
                if (e == oaxis[k]) e++;
                same = o.dims[d] == y->dims[e];
            }
            if (!same) {
                st = onn_kfail(ctx, ONNORM_ERR_SHAPE, "scan output %d changed shape", k);
                break;
            }
            put_slice(y, oaxis[k], cfg->out_dir[k] ? len - 1 - t : t, &o);
        }
    }
    for (int k = 0; k < K && len == 0; k++) { /* no iteration: empty outputs */
        res[N + k] = (onnorm_tensor){.dtype = r->g->values[r->g->outputs[N + k]].dtype, .rank = 1};
        if (res[N + k].dtype == ONNORM_UNDEFINED) res[N + k].dtype = ONNORM_FLOAT;
    }
    for (int i = 0; i < M; i++)
        free(i < M ? slice[i].data : NULL);
    return st;
}

static onnorm_status scan_exec(onn_kctx *ctx, bool running)
{
    onnorm_status st = need_values(ctx);
    if (st) return st;
    const bool v8 = onn_kversion(ctx) == 8;
    const int first = v8 ? 1 : 0; /* Scan-8's optional sequence_lens comes first */
    const int n_explicit = ctx->n_in - ctx->node->n_implicit;
    int64_t m;
    if ((st = onn_kattr_require(ctx, "num_scan_inputs")) ||
        (st = onn_kattr_int(ctx, "num_scan_inputs", 0, &m)))
        return st;
    scan_cfg cfg = {0};
    if (m < 1 || m > ONN_MAX_SCAN || m > n_explicit - first)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "num_scan_inputs %lld does not fit %d inputs",
                         (long long)m, n_explicit - first);
    cfg.n_in = (int)m;
    cfg.n_state = n_explicit - first - cfg.n_in;
    cfg.n_out = ctx->n_out - cfg.n_state;
    if (cfg.n_out < 0 || cfg.n_out > ONN_MAX_SCAN)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%d outputs for %d states", ctx->n_out,
                         cfg.n_state);
    if (v8) {
        st = scan_ints(ctx, "directions", cfg.n_in, 0, true, cfg.in_dir);
        for (int i = 0; i < cfg.n_in; i++)
            cfg.in_axis[i] = 0; /* of each batch item */
    } else {
        if (!(st = scan_ints(ctx, "scan_input_axes", cfg.n_in, 0, false, cfg.in_axis)) &&
            !(st = scan_ints(ctx, "scan_input_directions", cfg.n_in, 0, true, cfg.in_dir)))
            st = scan_ints(ctx, "scan_output_axes", cfg.n_out, 0, false, cfg.out_axis);
        if (!st) st = scan_ints(ctx, "scan_output_directions", cfg.n_out, 0, true, cfg.out_dir);
    }
    if (st) return st;
    subrun r;
    if ((st = sub_open(ctx, "body", &r))) return st;
    if (r.g->n_formal != cfg.n_state + cfg.n_in || r.g->n_outputs != cfg.n_state + cfg.n_out) {
        /* The counts first: sub_close clears r. */
        const int n_formal = r.g->n_formal, n_outputs = r.g->n_outputs;
        sub_close(&r);
        return onn_kfail(ctx, ONNORM_ERR_INVALID,
                         "body has %d inputs and %d outputs; expected %d and %d", n_formal,
                         n_outputs, cfg.n_state + cfg.n_in, cfg.n_state + cfg.n_out);
    }
    const int total = cfg.n_state + cfg.n_out;
    onnorm_tensor *res = calloc((size_t)total + 1, sizeof *res);
    if (!res) st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
    if (!st && !v8) {
        st = scan_core(ctx, &r, &cfg, (const onnorm_tensor *const *)ctx->in,
                       (const onnorm_tensor *const *)ctx->in + cfg.n_state, res);
    } else if (!st) {
        /* Scan-8: every batch item on its own, axis 0 of each input is the batch. */
        const onnorm_tensor *lens = onn_opt_input(ctx, 0);
        const onnorm_tensor *ins[2 * ONN_MAX_SCAN + 1] = {0};
        onnorm_tensor items[2 * ONN_MAX_SCAN + 1];
        const int n_all = cfg.n_state + cfg.n_in;
        int64_t batch = -1;
        for (int i = 0; i < n_all && !st; i++) {
            const onnorm_tensor *x = ctx->in[first + i];
            if (!x || x->rank < 1 || (batch >= 0 && x->dims[0] != batch))
                st = onn_kfail(ctx, ONNORM_ERR_SHAPE, "Scan-8 inputs need one batch axis 0");
            else
                batch = x->dims[0];
        }
        for (int64_t b = 0; b < batch && !st; b++) {
            for (int i = 0; i < n_all; i++) {
                const onnorm_tensor *x = ctx->in[first + i];
                items[i] = *x;
                items[i].rank = x->rank - 1;
                memmove(items[i].dims, x->dims + 1, (size_t)items[i].rank * sizeof *x->dims);
                items[i].data = (char *)x->data + (size_t)b * tensor_bytes(&items[i]);
                ins[i] = &items[i];
                if (lens && lens->dtype == ONNORM_INT32 && i >= cfg.n_state &&
                    ((const int32_t *)lens->data)[b] != items[i].dims[0])
                    st = onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                                   "sequence_lens shorter than the scan inputs");
            }
            onnorm_tensor part[2 * ONN_MAX_SCAN + 1];
            memset(part, 0, sizeof part);
            if (!st) st = scan_core(ctx, &r, &cfg, ins, ins + cfg.n_state, part);
            for (int k = 0; k < total && !st; k++) {
                onnorm_tensor *y = &res[k];
                if (b == 0) { /* the whole output: the batch axis in front */
                    *y = part[k];
                    y->rank = part[k].rank + 1;
                    memmove(y->dims + 1, part[k].dims, (size_t)part[k].rank * sizeof *y->dims);
                    y->dims[0] = batch;
                    if (!(y->data = malloc(tensor_bytes(y) + 1)))
                        st = onn_kfail(ctx, ONNORM_ERR_NOMEM, "out of memory");
                }
                if (!st && tensor_bytes(&part[k])) /* an empty part has no data */
                    memcpy((char *)y->data + (size_t)b * tensor_bytes(&part[k]), part[k].data,
                           tensor_bytes(&part[k]));
            }
            for (int k = 0; k < total; k++)
                free(part[k].data);
        }
    }
    for (int k = 0; k < total && !st; k++)
        st = put_output(ctx, k, &res[k], running);
    for (int k = 0; res && k < total; k++)
        free(res[k].data);
    free(res);
    sub_close(&r);
    return st;
}

static onnorm_status scan_infer(onn_kctx *ctx)
{
    return scan_exec(ctx, false);
}

static onnorm_status scan_run(onn_kctx *ctx)
{
    return scan_exec(ctx, true);
}

#define IF_K(v)                                                                                    \
    {                                                                                              \
        ONN_KERNEL("", "If", v, 1, INT_MAX, 1, INT_MAX, if_infer, NULL, if_run)                    \
    }
/* Loop's M and cond may both be "" (loop_exec checks what is given). */
#define LOOP_K(v)                                                                                  \
    {                                                                                              \
        ONN_KERNEL("", "Loop", v, 0, INT_MAX, 1, INT_MAX, loop_infer, NULL, loop_run)              \
    }
/* Scan-8's first input, sequence_lens, may be omitted: no input is required
 * by position (scan_exec checks the counts). */
#define SCAN_K(v)                                                                                  \
    {                                                                                              \
        ONN_KERNEL("", "Scan", v, (v) == 8 ? 0 : 1, INT_MAX, 1, INT_MAX, scan_infer, NULL,         \
                   scan_run)                                                                       \
    }

ONN_KERNEL_TABLE(control, IF_K(1), IF_K(11), IF_K(13), IF_K(16), IF_K(19), IF_K(21), LOOP_K(1),
                 LOOP_K(11), LOOP_K(13), LOOP_K(16), LOOP_K(19), LOOP_K(21), SCAN_K(8), SCAN_K(9),
                 SCAN_K(11), SCAN_K(16), SCAN_K(19), SCAN_K(21));
