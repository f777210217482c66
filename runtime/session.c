/*
 * Sessions: bind inputs, plan, run.
 *
 * The public session API (include/onnorm.h, "sessions") and the planner
 * behind it. Every kernel call goes through the node evaluator
 * (runtime/eval.h).
 *
 * Planning happens when the session is created, if every input is declared
 * with a fixed shape, and otherwise on the first run; it happens again
 * whenever a bound input's type or shape changes. It walks the nodes in
 * topological order and
 *   1. infers every output's type and shape;
 *   2. evaluates right away any node whose inputs are all known without the
 *      caller's data (constants, and values computed from constants and input
 *      shapes, such as Shape -> Gather -> Concat chains feeding a Reshape),
 *      within the evaluator's size policy: their results are kept for every
 *      run;
 *   3. prepares every other node (its kernel's prepare: attributes parsed,
 *      code path chosen, scratch declared), and reserves the largest scratch
 *      any of them declared;
 *   4. gives every other node output an offset in one arena, reusing memory
 *      between values whose lifetimes (producer .. last consumer) do not
 *      overlap; a kernel marked inplace whose input dies at the node writes
 *      over that input. Graph outputs live to the end of the run.
 * A run then only points the inputs at the caller's data and runs the
 * prepared nodes: no allocation, no attribute parsing. Sessions share
 * nothing mutable with the model, so several may run at once.
 *
 * Some models make a shape depend on the values of a graph input (a Reshape
 * whose target shape is fed by the caller, as ONNX's own Reshape tests do).
 * Such a model cannot be planned ahead of its data, so the session switches
 * to eager mode: every run plans again with the caller's data in hand, which
 * evaluates every node while planning. Correct, without arena reuse.
 *
 * The memory cap (onnorm_session_options.max_arena_bytes, issue 15) is
 * checked while planning, before anything is allocated: every node output
 * and every node's scratch alone, the values computed while planning plus
 * the arena together. Past it, planning fails naming the node and the size.
 * The default (0) is the machine's physical memory: an arena beyond it could
 * not be used anyway, and the error is clearer than a failed allocation or
 * the OOM killer.
 */
#include "runtime/runtime.h"
#include "runtime/eval.h"
#include "ops/core/threadpool.h"

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ONN_ARENA_ALIGN 64

typedef enum slot_kind {
    SLOT_NONE = 0,
    SLOT_CONST,  /* view of a model constant */
    SLOT_INPUT,  /* view of caller memory */
    SLOT_STATIC, /* computed while planning, owned in `own` */
    SLOT_ARENA   /* computed during runs, lives in the arena */
} slot_kind;

/* A node's timings while profiling (see onnorm_session_profile). */
typedef struct node_time {
    int64_t runs;
    double total_ms, last_start_ms, last_ms;
} node_time;

typedef struct slot {
    onnorm_tensor t;
    slot_kind kind;
    void *own;         /* SLOT_STATIC buffer */
    const void *bound; /* SLOT_INPUT: caller data */
    size_t bytes, offset;
    int first, last; /* lifetime in node steps (arena values) */
    int alias;       /* >= 0: shares this value's memory (an in-place node output) */
} slot;

struct onnorm_session {
    const onnorm_model *model; /* what runs: the caller's model or own_model */
    onnorm_model *own_model;   /* optimized copy (optimization_level > 0) */
    int num_threads;
    int opt_level;
    size_t cap;                       /* the memory cap in bytes (see above) */
    const onn_kernel *const *kernels; /* the model's, per node */
    slot *slots;                      /* one per graph value */
    bool *at_run;       /* per node: executes during runs (not evaluated at planning) */
    onn_prepared *prep; /* per node: its kernel's prepared state (at_run nodes) */
    bool planned, has_run;
    bool eager; /* shapes depend on input values: plan on every run */
    uint8_t *arena;
    size_t arena_size, static_bytes;
    size_t live_peak; /* largest sum of arena values alive at one step */
    onn_eval ev;      /* kernel calls: arguments and the scratch memory */
    bool profiling;   /* time every node of every run */
    node_time *times; /* per node, while profiling */
};

static onnorm_status plan(onnorm_session *s, onnorm_error *err);
static void plan_declared(onnorm_session *s);

void onnorm_session_options_init(onnorm_session_options *o)
{
    if (!o) return;
    o->num_threads = 0;
    o->optimization_level = 1;
    o->disabled_passes = NULL;
    o->max_arena_bytes = 0;
}

/* The default cap: physical memory (SIZE_MAX when unknown). */
static size_t default_cap(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0 || (unsigned long)pages > SIZE_MAX / (unsigned long)page)
        return SIZE_MAX;
    return (size_t)pages * (size_t)page;
}

static const onn_graph *graph_of(const onnorm_session *s)
{
    return s->model->g;
}

onnorm_status onnorm_session_create(const onnorm_model *m, const onnorm_session_options *opts,
                                    onnorm_session **out, onnorm_error *err)
{
    if (!m || !out)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_create: NULL argument");
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
    if (o.optimization_level > 0) {
        /* The passes rewrite a private copy; the caller's model stays as loaded. */
        onnorm_optimize_options oo = {o.optimization_level, o.disabled_passes};
        onnorm_status st = onnorm_model_optimize(m, &oo, &s->own_model, NULL, 0, err);
        if (st) {
            free(s);
            return st;
        }
        s->model = s->own_model;
        g = s->own_model->g;
    }
    s->num_threads = o.num_threads ? o.num_threads : omp_get_max_threads();
    s->opt_level = o.optimization_level;
    s->cap = o.max_arena_bytes ? o.max_arena_bytes : default_cap();
    s->kernels = s->model->kernels;
    onn_eval_init(&s->ev, s->num_threads, NULL);
    s->ev.scratch_limit = s->cap == SIZE_MAX ? 0 : s->cap;
    s->ev.mem_cap = s->cap;
    s->slots = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *s->slots);
    s->at_run = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *s->at_run);
    s->prep = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *s->prep);
    if (!s->slots || !s->at_run || !s->prep) {
        onnorm_session_free(s);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    plan_declared(s);
    *out = s;
    return ONNORM_OK;
}

/* Frees what a plan computed and prepared. */
static void release_plan(onnorm_session *s)
{
    const onn_graph *g = graph_of(s);
    for (int v = 0; v < g->n_values; v++) {
        free(s->slots[v].own);
        s->slots[v].own = NULL;
    }
    for (int i = 0; i < g->n_nodes; i++)
        onn_prepared_free(&s->prep[i]);
    s->static_bytes = 0;
}

/* Plans ahead from the declared input shapes when they are all fixed, so
 * the first run does not pay for it. A failure here is not reported: the
 * same plan runs again, with the caller's actual shapes, at the first run. */
static void plan_declared(onnorm_session *s)
{
    const onn_graph *g = graph_of(s);
    for (int i = 0; i < g->n_feeds; i++) {
        const onn_value *v = &g->values[g->feeds[i]];
        if (v->rank < 0 || v->dtype == ONNORM_UNDEFINED) return;
        for (int d = 0; d < v->rank; d++)
            if (v->dims[d] < 0) return;
    }
    for (int i = 0; i < g->n_feeds; i++) {
        const onn_value *v = &g->values[g->feeds[i]];
        slot *sl = &s->slots[g->feeds[i]];
        sl->kind = SLOT_INPUT;
        sl->bound = NULL;
        sl->t.dtype = v->dtype;
        sl->t.rank = v->rank;
        for (int d = 0; d < v->rank; d++)
            sl->t.dims[d] = v->dims[d];
        sl->t.name = v->name;
    }
    s->ev.needs_values = false;
    if (plan(s, NULL) != ONNORM_OK) s->planned = false;
}

void onnorm_session_free(onnorm_session *s)
{
    if (!s) return;
    if (s->slots && s->prep) release_plan(s);
    free(s->slots);
    free(s->at_run);
    free(s->prep);
    free(s->times);
    free(s->arena);
    onn_eval_free(&s->ev);
    onnorm_model_free(s->own_model);
    free(s);
}

int onnorm_session_threads(const onnorm_session *s)
{
    return s ? s->num_threads : 0;
}

int onnorm_thread_spin_us(void)
{
    return onn_pool_spin_us();
}

static int find_input(const onn_graph *g, const char *name)
{
    for (int i = 0; i < g->n_inputs; i++)
        if (strcmp(g->values[g->inputs[i]].name, name) == 0) return g->inputs[i];
    return -1;
}

static bool same_meta(const onnorm_tensor *a, onnorm_dtype dt, int rank, const int64_t *dims)
{
    if (a->dtype != dt || a->rank != rank) return false;
    for (int i = 0; i < rank; i++)
        if (a->dims[i] != dims[i]) return false;
    return true;
}

onnorm_status onnorm_session_bind_input(onnorm_session *s, const char *name, onnorm_dtype dtype,
                                        const int64_t *dims, int rank, const void *data,
                                        onnorm_error *err)
{
    if (!s || !name || (rank > 0 && !dims) || !data)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_bind_input: NULL argument");
    const onn_graph *g = graph_of(s);
    int v = find_input(g, name);
    if (v < 0 && onn_graph_find_value(g, name) >= 0 && g->ir_version < 4 &&
        g->values[onn_graph_find_value(g, name)].init)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "%s: '%s' is an initializer of an IR version %lld model, which makes it a "
                        "constant (overriding initializers needs IR version 4 or newer)",
                        g->source, name, (long long)g->ir_version);
    if (v < 0)
        return onn_fail(err, ONNORM_ERR_NOT_FOUND, "%s: the model has no input '%s'", g->source,
                        name);
    const onn_value *val = &g->values[v];
    char got[128], want[128];
    if (rank < 0 || rank > ONNORM_MAX_RANK)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "input '%s': rank %d is not supported", name,
                        rank);
    if (onnorm_dtype_size(dtype) == 0)
        return onn_fail(err, ONNORM_ERR_DTYPE, "input '%s': element type %d is not supported", name,
                        (int)dtype);
    if (onn_dims_numel(dims, 0, rank) < 0)
        return onn_fail(err, ONNORM_ERR_SHAPE, "input '%s': negative dim or element count overflow",
                        name);
    if (val->dtype != ONNORM_UNDEFINED && val->dtype != dtype)
        return onn_fail(err, ONNORM_ERR_DTYPE, "input '%s' is declared %s, got %s", name,
                        onnorm_dtype_name(val->dtype), onnorm_dtype_name(dtype));
    if (val->rank >= 0) {
        bool ok = val->rank == rank;
        for (int i = 0; ok && i < rank; i++)
            ok = val->dims[i] < 0 || val->dims[i] == dims[i];
        if (!ok)
            return onn_fail(err, ONNORM_ERR_SHAPE, "input '%s' is declared with shape %s, got %s",
                            name, onn_shape_str(val->dims, val->rank, want, sizeof want),
                            onn_shape_str(dims, rank, got, sizeof got));
    }
    slot *sl = &s->slots[v];
    /* A new type or shape invalidates the plan; new data alone does not. */
    if (sl->kind != SLOT_INPUT || !same_meta(&sl->t, dtype, rank, dims)) s->planned = false;
    sl->kind = SLOT_INPUT;
    sl->t.dtype = dtype;
    sl->t.rank = rank;
    for (int i = 0; i < rank; i++)
        sl->t.dims[i] = dims[i];
    sl->t.name = val->name;
    sl->bound = data;
    s->has_run = false;
    return ONNORM_OK;
}

/* Points the evaluator's arguments at node n's slots. */
static onnorm_status set_args(onnorm_session *s, const onn_node *n)
{
    onnorm_status st = onn_eval_args(&s->ev, n);
    if (st) return st;
    for (int k = 0; k < n->n_in; k++)
        s->ev.in[k] = n->in[k] >= 0 ? &s->slots[n->in[k]].t : NULL;
    for (int k = 0; k < n->n_out; k++)
        s->ev.out[k] = n->out[k] >= 0 ? &s->slots[n->out[k]].t : NULL;
    return ONNORM_OK;
}

/* ONNORM_ERR_NOMEM when `bytes` for node n (its output `value`, or with
 * value NULL `what`) exceed the session's cap. */
static onnorm_status over_cap(const onnorm_session *s, const onn_node *n, const char *value,
                              const char *what, size_t bytes)
{
    if (bytes <= s->cap) return ONNORM_OK;
    char lbl[256];
    onn_node_label(n, lbl, sizeof lbl);
    if (value)
        return onn_fail(s->ev.err, ONNORM_ERR_NOMEM,
                        "%s: output '%s' needs %zu bytes, past the session's memory cap of %zu "
                        "bytes (max_arena_bytes)",
                        lbl, value, bytes, s->cap);
    return onn_fail(s->ev.err, ONNORM_ERR_NOMEM,
                    "%s: %s bring%s the session's memory to %zu bytes, past its cap of %zu bytes "
                    "(max_arena_bytes)",
                    lbl, what, strncmp(what, "its", 3) ? "s" : "", bytes, s->cap);
}

/* Steps 1 to 3 of planning for one node. */
static onnorm_status plan_node(onnorm_session *s, int i)
{
    const onn_graph *g = graph_of(s);
    const onn_node *n = &g->nodes[i];
    const onn_kernel *k = s->kernels[i];
    onnorm_status st = set_args(s, n);
    for (int j = 0; !st && j < n->n_out; j++)
        if (s->ev.out[j]) s->ev.out[j]->name = g->values[n->out[j]].name;
    if (!st) st = onn_eval_infer(&s->ev, n, k);
    if (st) return st;
    /* The cap, before anything is allocated for the outputs. */
    size_t out_bytes = 0, b;
    for (int j = 0; j < n->n_out; j++) {
        if (!s->ev.out[j]) continue;
        if (!onn_tensor_bytes(s->ev.out[j], &b) || b > SIZE_MAX / 2 - out_bytes) {
            char lbl[256], sh[160];
            return onn_fail(
                s->ev.err, ONNORM_ERR_NOMEM,
                "%s: output '%s' of shape %s has a size that overflows",
                onn_node_label(n, lbl, sizeof lbl), s->ev.out[j]->name,
                onnorm_shape_str(s->ev.out[j]->dims, s->ev.out[j]->rank, sh, sizeof sh));
        }
        out_bytes += b;
        if ((st = over_cap(s, n, s->ev.out[j]->name, "output", b))) return st;
    }
    if ((st = over_cap(s, n, NULL, "its outputs and the values computed while planning",
                       out_bytes + s->static_bytes)))
        return st;
    bool known = true; /* every input is there without the caller's data */
    for (int j = 0; j < n->n_in; j++)
        if (s->ev.in[j] && !s->ev.in[j]->data && !k->shape_only) known = false;
    bool done = false;
    char why[300];
    if (known && (st = onn_eval_now(&s->ev, n, k, !s->eager, &done, why, sizeof why))) return st;
    s->at_run[i] = !done;
    for (int j = 0; j < n->n_out; j++) {
        if (!s->ev.out[j]) continue;
        slot *sl = &s->slots[n->out[j]];
        if (!onn_tensor_bytes(&sl->t, &sl->bytes))
            return onn_fail(s->ev.err, ONNORM_ERR_NOMEM, "value '%s': invalid size", sl->t.name);
        if (s->at_run[i]) {
            sl->kind = SLOT_ARENA;
            sl->first = sl->last = i;
            sl->alias = -1;
        } else {
            sl->kind = SLOT_STATIC;
            sl->own = sl->t.data;
            s->static_bytes += sl->bytes;
        }
    }
    if (!s->at_run[i]) return ONNORM_OK;
    if ((st = onn_eval_prepare(&s->ev, n, k, &s->prep[i]))) return st;
    if ((st = over_cap(s, n, NULL, "its scratch", s->prep[i].scratch_bytes))) return st;
    return onn_eval_reserve(&s->ev, s->prep[i].scratch_bytes);
}

static size_t align_up(size_t x)
{
    return (x + ONN_ARENA_ALIGN - 1) & ~(size_t)(ONN_ARENA_ALIGN - 1);
}

/* In-place runs: an inplace kernel's output 0 takes input 0's memory (or
 * the input its prepare named with onn_kshare_input) when that input is a
 * run-time value of the same size that no later node reads. Chains collapse
 * onto one block whose lifetime covers them all. */
static void plan_inplace(onnorm_session *s)
{
    const onn_graph *g = graph_of(s);
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        const int shared = s->prep[i].share_input   ? s->prep[i].share_input - 1
                           : s->kernels[i]->inplace ? 0
                                                    : -1;
        if (!s->at_run[i] || shared < 0 || shared >= n->n_in || n->n_out < 1) continue;
        int u = n->in[shared], v = n->out[0];
        if (u < 0 || v < 0) continue;
        slot *su = &s->slots[u], *sv = &s->slots[v];
        if (su->kind != SLOT_ARENA || sv->kind != SLOT_ARENA || su->last != i) continue;
        bool read_twice = false; /* e.g. Add(x, x): keep it simple and safe */
        for (int k = 0; k < n->n_in; k++)
            read_twice |= k != shared && n->in[k] == u;
        int root = su->alias >= 0 ? su->alias : u;
        if (read_twice || sv->bytes != s->slots[root].bytes) continue;
        sv->alias = root;
        if (s->slots[root].last < sv->last) s->slots[root].last = sv->last;
    }
}

/* Step 3: lifetimes, then greedy placement, largest first, at the lowest
 * offset that does not collide with a placed value alive at the same time. */
static onnorm_status place_arena(onnorm_session *s, onnorm_error *err)
{
    const onn_graph *g = graph_of(s);
    for (int i = 0; i < g->n_nodes; i++) {
        if (!s->at_run[i]) continue;
        const onn_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && s->slots[n->in[k]].kind == SLOT_ARENA &&
                s->slots[n->in[k]].last < i)
                s->slots[n->in[k]].last = i;
    }
    for (int o = 0; o < g->n_outputs; o++)
        s->slots[g->outputs[o]].last = g->n_nodes;
    plan_inplace(s);
    int count = 0;
    int *order = malloc((size_t)(g->n_values ? g->n_values : 1) * sizeof *order);
    if (!order) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    for (int v = 0; v < g->n_values; v++)
        if (s->slots[v].kind == SLOT_ARENA && s->slots[v].alias < 0) order[count++] = v;
    /* Insertion sort by size, descending, then by first use: value counts are
     * modest, and placing equal-sized values in execution order lets chains
     * of same-shaped activations alternate between two blocks. */
    for (int a = 1; a < count; a++) {
        int v = order[a], b = a - 1;
        while (b >= 0 && (s->slots[order[b]].bytes < s->slots[v].bytes ||
                          (s->slots[order[b]].bytes == s->slots[v].bytes &&
                           s->slots[order[b]].first > s->slots[v].first))) {
            order[b + 1] = order[b];
            b--;
        }
        order[b + 1] = v;
    }
    /* The lower bound any placement could reach, reported beside the arena. */
    s->live_peak = 0;
    for (int step = 0; step <= g->n_nodes; step++) {
        size_t live = 0;
        for (int a = 0; a < count; a++) {
            const slot *sa = &s->slots[order[a]];
            if (sa->first <= step && step <= sa->last) live += sa->bytes;
        }
        if (live > s->live_peak) s->live_peak = live;
    }
    size_t total = 0;
    for (int a = 0; a < count; a++) {
        slot *sa = &s->slots[order[a]];
        size_t size = align_up(sa->bytes ? sa->bytes : 1), off = 0;
        bool moved = true;
        while (moved) { /* bump past every overlapping placed block until none collides */
            moved = false;
            for (int b = 0; b < a; b++) {
                const slot *sb = &s->slots[order[b]];
                bool alive = sa->first <= sb->last && sb->first <= sa->last;
                size_t bsize = align_up(sb->bytes ? sb->bytes : 1);
                if (alive && off < sb->offset + bsize && sb->offset < off + size) {
                    off = sb->offset + bsize;
                    moved = true;
                }
            }
        }
        sa->offset = off;
        if (off + size > total) total = off + size;
        if (total > s->cap - (s->cap < s->static_bytes ? s->cap : s->static_bytes)) {
            const int v = order[a], p = g->values[v].producer;
            char lbl[256];
            free(order);
            return onn_fail(err, ONNORM_ERR_NOMEM,
                            "%s: placing value '%s' of %s makes the arena %zu bytes (with %zu "
                            "bytes computed while planning), past the session's memory cap of "
                            "%zu bytes (max_arena_bytes)",
                            g->source, g->values[v].name,
                            p >= 0 ? onn_node_label(&g->nodes[p], lbl, sizeof lbl) : "the graph",
                            total, s->static_bytes, s->cap);
        }
    }
    if (total > s->arena_size || !s->arena) {
        free(s->arena);
        s->arena = aligned_alloc(ONN_ARENA_ALIGN, total ? total : ONN_ARENA_ALIGN);
        s->arena_size = s->arena ? total : 0;
        if (!s->arena) {
            free(order);
            return onn_fail(err, ONNORM_ERR_NOMEM, "cannot allocate a %zu-byte arena", total);
        }
    }
    for (int v = 0; v < g->n_values; v++) {
        slot *sl = &s->slots[v];
        if (sl->kind != SLOT_ARENA) continue;
        sl->t.data = s->arena + s->slots[sl->alias >= 0 ? sl->alias : v].offset;
    }
    free(order);
    return ONNORM_OK;
}

static onnorm_status plan(onnorm_session *s, onnorm_error *err)
{
    const onn_graph *g = graph_of(s);
    s->ev.err = err;
    release_plan(s);
    for (int v = 0; v < g->n_values; v++) {
        slot *sl = &s->slots[v];
        const onn_value *val = &g->values[v];
        if (sl->kind == SLOT_INPUT) {
            /* Caller data is not part of a reusable plan; in eager mode it is. */
            sl->t.data = s->eager ? (void *)sl->bound : NULL;
        } else if (val->init) {
            sl->kind = SLOT_CONST;
            sl->t = *val->init;
            sl->t.name = val->name;
        } else {
            sl->kind = SLOT_NONE;
            sl->t.data = NULL;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        onnorm_status st = plan_node(s, i);
        if (st) return onn_prefix(err, st, "%s: ", g->source);
    }
    onnorm_status st = place_arena(s, err);
    if (st) return st;
    s->planned = true;
    if (s->times) memset(s->times, 0, (size_t)g->n_nodes * sizeof *s->times);
    return ONNORM_OK;
}

onnorm_status onnorm_session_run(onnorm_session *s, onnorm_error *err)
{
    if (!s) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_run: NULL session");
    const onn_graph *g = graph_of(s);
    s->has_run = false;
    for (int i = 0; i < g->n_feeds; i++)
        if (s->slots[g->feeds[i]].kind != SLOT_INPUT || !s->slots[g->feeds[i]].bound)
            return onn_fail(err, ONNORM_ERR_INVALID, "%s: input '%s' is not bound", g->source,
                            g->values[g->feeds[i]].name);
    if (!s->planned || s->eager) {
        s->ev.needs_values = false;
        onnorm_status st = plan(s, err);
        if (st && s->ev.needs_values && !s->eager) {
            s->eager = true; /* this model's shapes depend on input values */
            st = plan(s, err);
            if (!st && err) err->code = ONNORM_OK, err->message[0] = '\0';
        }
        if (st) {
            s->planned = false;
            return st;
        }
    }
    for (int v = 0; v < g->n_values; v++)
        if (s->slots[v].kind == SLOT_INPUT) s->slots[v].t.data = (void *)s->slots[v].bound;
    s->ev.err = err;
    const double run_start = s->profiling ? omp_get_wtime() : 0.0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!s->at_run[i]) continue;
        const onn_node *n = &g->nodes[i];
        const double t0 = s->profiling ? omp_get_wtime() : 0.0;
        onnorm_status st = set_args(s, n);
        if (!st) st = onn_eval_run(&s->ev, n, s->kernels[i], &s->prep[i]);
        if (st) return onn_prefix(err, st, "%s: ", g->source);
        if (s->profiling) {
            node_time *nt = &s->times[i];
            nt->last_start_ms = (t0 - run_start) * 1e3;
            nt->last_ms = (omp_get_wtime() - t0) * 1e3;
            nt->total_ms += nt->last_ms;
            nt->runs++;
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const onn_value *v = &g->values[g->outputs[i]];
        const onnorm_tensor *t = &s->slots[g->outputs[i]].t;
        if (v->dtype != ONNORM_UNDEFINED && t->dtype != v->dtype)
            return onn_fail(err, ONNORM_ERR_DTYPE,
                            "%s: output '%s' is declared %s but computed as %s", g->source, v->name,
                            onnorm_dtype_name(v->dtype), onnorm_dtype_name(t->dtype));
    }
    s->has_run = true;
    return ONNORM_OK;
}

onnorm_status onnorm_session_output(const onnorm_session *s, const char *name, onnorm_tensor *out,
                                    onnorm_error *err)
{
    if (!s || !name || !out)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_output: NULL argument");
    const onn_graph *g = graph_of(s);
    if (!s->has_run)
        return onn_fail(err, ONNORM_ERR_INVALID, "output '%s': the session has not run", name);
    for (int i = 0; i < g->n_outputs; i++)
        if (strcmp(g->values[g->outputs[i]].name, name) == 0) {
            *out = s->slots[g->outputs[i]].t;
            out->name = g->values[g->outputs[i]].name;
            return ONNORM_OK;
        }
    return onn_fail(err, ONNORM_ERR_NOT_FOUND, "%s: the model has no output '%s'", g->source, name);
}

onnorm_status onnorm_session_memory(const onnorm_session *s, size_t *arena_bytes,
                                    size_t *static_bytes, size_t *live_peak_bytes)
{
    if (!s) return ONNORM_ERR_INVALID;
    if (live_peak_bytes) *live_peak_bytes = s->live_peak;
    if (arena_bytes) *arena_bytes = s->arena_size;
    if (static_bytes) *static_bytes = s->static_bytes;
    return ONNORM_OK;
}

/* ---- profiling ------------------------------------------------------------- */

onnorm_status onnorm_session_set_profiling(onnorm_session *s, int enable, onnorm_error *err)
{
    if (!s) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_session_set_profiling: NULL session");
    const onn_graph *g = graph_of(s);
    if (enable && !s->times &&
        !(s->times = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *s->times)))
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    if (s->times) memset(s->times, 0, (size_t)g->n_nodes * sizeof *s->times);
    s->profiling = enable != 0;
    return ONNORM_OK;
}

int onnorm_session_profile_count(const onnorm_session *s)
{
    int n = 0;
    for (int i = 0; s && s->planned && i < graph_of(s)->n_nodes; i++)
        n += s->at_run[i];
    return n;
}

/* Bytes of a node's inputs and outputs, as the run sees them. */
static double node_bytes(const onnorm_session *s, const onn_node *n)
{
    double total = 0.0;
    size_t b;
    for (int k = 0; k < n->n_in; k++)
        if (n->in[k] >= 0 && onn_tensor_bytes(&s->slots[n->in[k]].t, &b)) total += (double)b;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && onn_tensor_bytes(&s->slots[n->out[k]].t, &b)) total += (double)b;
    return total;
}

onnorm_status onnorm_session_profile(const onnorm_session *s, int i, onnorm_node_profile *out)
{
    if (!s || !out) return ONNORM_ERR_INVALID;
    const onn_graph *g = graph_of(s);
    for (int k = 0; s->planned && k < g->n_nodes; k++) {
        if (!s->at_run[k] || i-- > 0) continue;
        const onn_node *n = &g->nodes[k];
        const node_time *t = s->times ? &s->times[k] : NULL;
        out->name = n->name;
        out->op_type = n->op_type;
        out->domain = n->domain;
        out->runs = t ? t->runs : 0;
        out->total_ms = t ? t->total_ms : 0.0;
        out->last_start_ms = t ? t->last_start_ms : 0.0;
        out->last_ms = t ? t->last_ms : 0.0;
        out->flops = s->prep[k].flops;
        out->bytes = node_bytes(s, n);
        return ONNORM_OK;
    }
    return ONNORM_ERR_NOT_FOUND;
}
