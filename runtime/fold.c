/*
 * Ahead-of-run evaluation: load-time constant folding and the passes' shape
 * inference (see fold.h). Both call kernels only through the evaluator, and
 * both keep what they compute only within its size policy (eval.h).
 *
 * Graph inputs are never treated as constants even when they have an
 * initializer (IR-3 models): a caller may bind them, which overrides it.
 */
#include "runtime/fold.h"
#include "runtime/bind.h"
#include "runtime/eval.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static bool is_constant(const onn_graph *g, int v)
{
    return v < 0 || (g->values[v].init && !g->values[v].is_input);
}

/* Appends "<node>: <what>: <why>\n" to notes, whole lines only. */
static void note(char *notes, size_t len, const onn_node *n, const char *what, const char *why)
{
    if (!notes || !len) return;
    char lbl[256], line[600];
    size_t used = strlen(notes);
    int k =
        snprintf(line, sizeof line, "%s: %s: %s\n", onn_node_label(n, lbl, sizeof lbl), what, why);
    if (k > 0 && used + (size_t)k < len) memcpy(notes + used, line, (size_t)k + 1);
}

/* Output tensors for node n: a fresh zeroed struct per requested output. */
static onnorm_status new_outputs(onn_eval *ev, const onn_node *n)
{
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0 && !(ev->out[k] = calloc(1, sizeof *ev->out[k])))
            return onn_fail(ev->err, ONNORM_ERR_NOMEM, "out of memory");
    return ONNORM_OK;
}

static void free_outputs(onn_eval *ev, const onn_node *n)
{
    for (int k = 0; k < n->n_out; k++) {
        onn_tensor_free(ev->out[k]);
        ev->out[k] = NULL;
    }
}

/* Runs node n on constant inputs; on success its outputs become constant
 * values and *folded is set. */
static onnorm_status fold_node(onn_graph *g, onn_eval *ev, const onn_node *n, const onn_kernel *k,
                               bool *folded, char *why, size_t len)
{
    *folded = false;
    onnorm_status st = onn_eval_args(ev, n);
    for (int i = 0; !st && i < n->n_in; i++)
        ev->in[i] = n->in[i] >= 0 ? g->values[n->in[i]].init : NULL;
    if (!st) st = new_outputs(ev, n);
    if (!st) st = onn_eval_now(ev, n, k, true, folded, why, len);
    if (st || !*folded) {
        free_outputs(ev, n);
        return st;
    }
    for (int i = 0; i < n->n_out; i++) {
        if (n->out[i] < 0) continue;
        onn_value *v = &g->values[n->out[i]];
        v->init = ev->out[i];
        v->dtype = v->init->dtype;
        v->rank = v->init->rank;
        memcpy(v->dims, v->init->dims, sizeof v->dims);
        v->producer = -1;
        ev->out[i] = NULL;
    }
    return ONNORM_OK;
}

onnorm_status onn_fold_constants(onn_graph *g, const onn_kernel **kernels, char *notes,
                                 size_t notes_len, onnorm_error *err)
{
    onn_eval ev;
    onn_eval_init(&ev, omp_get_max_threads(), err);
    ev.ahead_budget = g->ahead_limit;
    int kept = 0;
    onnorm_status st = ONNORM_OK;
    /* After a failure the loop goes on compacting without folding, so the
     * graph stays consistent for the caller to free. */
    for (int i = 0; i < g->n_nodes; i++) {
        onn_node *n = &g->nodes[i];
        const onn_kernel *k = kernels[i];
        bool foldable = !st && k != NULL && !k->shape_only, folded = false;
        for (int j = 0; foldable && j < n->n_in; j++)
            foldable = is_constant(g, n->in[j]);
        char why[300] = "";
        if (foldable) {
            char lbl[256];
            st = fold_node(g, &ev, n, k, &folded, why, sizeof why);
            if (st)
                st = onn_prefix(err, st, "%s: folding %s: ", g->source,
                                onn_node_label(n, lbl, sizeof lbl));
            else if (!folded)
                note(notes, notes_len, n, "not folded", why);
        }
        if (folded) {
            onn_node_clear(n);
        } else {
            kernels[kept] = k;
            g->nodes[kept++] = *n;
        }
    }
    onn_eval_free(&ev);
    g->n_nodes = kept;
    if (st) return st;
    st = onn_graph_drop_unused_constants(g, err);
    return st ? st : onn_graph_relink(g, err);
}

/* ---- shape inference for the passes ------------------------------------------ */

typedef struct infer_state {
    onn_graph *g;
    char *notes;
    size_t notes_len;
    onn_eval ev;
    onnorm_tensor **known;     /* per value: computed ahead (owned), or NULL */
    onnorm_tensor *tin, *tout; /* shape-only inputs and inferred outputs */
    int cap;
} infer_state;

static bool grow(infer_state *s, int need)
{
    if (need <= s->cap) return true;
    onnorm_tensor *tin = realloc(s->tin, (size_t)need * sizeof *tin);
    if (tin) s->tin = tin;
    onnorm_tensor *tout = tin ? realloc(s->tout, (size_t)need * sizeof *tout) : NULL;
    if (tout) s->tout = tout;
    if (!tin || !tout) return false;
    s->cap = need;
    return true;
}

/* Points the evaluator's inputs at what is known of each: constant data,
 * values computed ahead, or a shape alone. False when some input's shape is
 * not fully known; *all_data tells whether every input carries data. */
static bool bind_inputs(infer_state *s, const onn_node *n, bool *all_data)
{
    const onn_graph *g = s->g;
    *all_data = true;
    for (int k = 0; k < n->n_in; k++) {
        int v = n->in[k];
        if (v < 0) continue;
        const onn_value *val = &g->values[v];
        if (val->init && !val->is_input) {
            s->ev.in[k] = val->init;
            continue;
        }
        if (s->known[v]) {
            s->ev.in[k] = s->known[v];
            continue;
        }
        bool ok = val->rank >= 0 && val->dtype != ONNORM_UNDEFINED;
        for (int d = 0; ok && d < val->rank; d++)
            ok = val->dims[d] >= 0;
        if (!ok) return false;
        onnorm_tensor *t = &s->tin[k];
        memset(t, 0, sizeof *t);
        t->dtype = val->dtype, t->rank = val->rank;
        memcpy(t->dims, val->dims, sizeof val->dims);
        s->ev.in[k] = t;
        *all_data = false;
    }
    return true;
}

/* Keeps the outputs onn_eval_now just computed as known values. */
static void keep_outputs(infer_state *s, const onn_node *n)
{
    for (int k = 0; k < n->n_out; k++) {
        if (n->out[k] < 0) continue;
        onnorm_tensor *t = malloc(sizeof *t);
        if (!t) {
            free(s->tout[k].data);
            continue;
        }
        *t = s->tout[k];
        t->name = NULL;
        s->known[n->out[k]] = t;
    }
}

static void infer_node(infer_state *s, const onn_node *n)
{
    char why[300];
    const onn_kernel *k = onn_bind_node(n, why, sizeof why);
    bool all_data;
    if (!k || !grow(s, n->n_in > n->n_out ? n->n_in : n->n_out) || onn_eval_args(&s->ev, n) ||
        !bind_inputs(s, n, &all_data))
        return;
    for (int j = 0; j < n->n_out; j++) {
        memset(&s->tout[j], 0, sizeof s->tout[j]);
        s->ev.out[j] = n->out[j] >= 0 ? &s->tout[j] : NULL;
    }
    if (onn_eval_infer(&s->ev, n, k) != ONNORM_OK) return;
    for (int j = 0; j < n->n_out; j++) {
        if (!s->ev.out[j]) continue;
        onn_value *v = &s->g->values[n->out[j]];
        v->dtype = s->tout[j].dtype, v->rank = s->tout[j].rank;
        memcpy(v->dims, s->tout[j].dims, sizeof v->dims);
    }
    bool done = false;
    if (!(all_data || k->shape_only) ||
        onn_eval_now(&s->ev, n, k, true, &done, why, sizeof why) != ONNORM_OK)
        return;
    if (done)
        keep_outputs(s, n);
    else
        note(s->notes, s->notes_len, n, "not computed ahead", why);
}

void onn_infer_shapes(onn_graph *g, char *notes, size_t len)
{
    infer_state s = {.g = g, .notes = notes, .notes_len = len};
    if (notes && len) notes[0] = '\0';
    onn_eval_init(&s.ev, 1, NULL);
    s.ev.ahead_budget = g->ahead_limit;
    s.known = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *s.known);
    for (int i = 0; s.known && i < g->n_nodes; i++)
        if (g->nodes[i].op_type) infer_node(&s, &g->nodes[i]);
    for (int v = 0; s.known && v < g->n_values; v++)
        onn_tensor_free(s.known[v]);
    free(s.known);
    free(s.tin);
    free(s.tout);
    onn_eval_free(&s.ev);
}
