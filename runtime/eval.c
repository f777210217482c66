/* The node evaluator; see eval.h. */
#include "runtime/eval.h"

#include <stdio.h>
#include <stdlib.h>

void onn_eval_init(onn_eval *ev, int num_threads, onnorm_error *err)
{
    memset(ev, 0, sizeof *ev);
    ev->num_threads = num_threads > 0 ? num_threads : 1;
    ev->err = err;
}

void onn_eval_free(onn_eval *ev)
{
    free(ev->in);
    free(ev->out);
    free(ev->scratch);
    free(ev->tmp);
    memset(ev, 0, sizeof *ev);
}

onnorm_status onn_eval_args(onn_eval *ev, const onn_node *n)
{
    int need = n->n_in > n->n_out ? n->n_in : n->n_out;
    if (need > ev->cap) {
        int cap = need > 2 * ev->cap ? need : 2 * ev->cap;
        onnorm_tensor **in = realloc(ev->in, (size_t)cap * sizeof *in);
        if (in) ev->in = in;
        onnorm_tensor **out = in ? realloc(ev->out, (size_t)cap * sizeof *out) : NULL;
        if (out) ev->out = out;
        if (!in || !out) return onn_fail(ev->err, ONNORM_ERR_NOMEM, "out of memory");
        ev->cap = cap;
    }
    for (int i = 0; i < need; i++)
        ev->in[i] = ev->out[i] = NULL;
    return ONNORM_OK;
}

static onn_kctx make_ctx(onn_eval *ev, const onn_node *n, const onn_kernel *k)
{
    onn_kctx ctx = {
        .node = n,
        .kernel = k,
        .n_in = n->n_in,
        .n_out = n->n_out,
        .in = ev->in,
        .out = ev->out,
        .num_threads = ev->num_threads,
        .err = ev->err,
        .needs_values = &ev->needs_values,
        .mem_cap = ev->mem_cap,
    };
    return ctx;
}

onnorm_status onn_eval_infer(onn_eval *ev, const onn_node *n, const onn_kernel *k)
{
    for (int i = 0; i < n->n_out; i++)
        if (ev->out[i]) {
            ev->out[i]->dtype = ONNORM_UNDEFINED;
            ev->out[i]->rank = 0;
            ev->out[i]->data = NULL;
        }
    onn_kctx ctx = make_ctx(ev, n, k);
    onnorm_status st = ONNORM_OK;
    if (k->config) {
        /* infer sees the configuration in a state that lives for the call. */
        if (k->state_size > ev->tmp_cap) {
            void *p = realloc(ev->tmp, k->state_size);
            if (!p) return onn_fail(ev->err, ONNORM_ERR_NOMEM, "out of memory");
            ev->tmp = p;
            ev->tmp_cap = k->state_size;
        }
        memset(ev->tmp, 0, k->state_size);
        ctx.state = k->state_size ? ev->tmp : NULL;
        st = k->config(&ctx);
    }
    if (!st) st = k->infer(&ctx);
    if (st) return st;
    for (int i = 0; i < n->n_out; i++)
        if (ev->out[i] && ev->out[i]->dtype == ONNORM_UNDEFINED) {
            char lbl[256];
            return onn_fail(ev->err, ONNORM_ERR_UNSUPPORTED,
                            "%s: output %d is not produced by this kernel",
                            onn_node_label(n, lbl, sizeof lbl), i);
        }
    return ONNORM_OK;
}

void onn_prepared_free(onn_prepared *p)
{
    if (!p) return;
    for (onn_kblock *b = p->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(p->state);
    memset(p, 0, sizeof *p);
}

onnorm_status onn_eval_prepare(onn_eval *ev, const onn_node *n, const onn_kernel *k,
                               onn_prepared *p)
{
    memset(p, 0, sizeof *p);
    if (k->state_size && !(p->state = calloc(1, k->state_size)))
        return onn_fail(ev->err, ONNORM_ERR_NOMEM, "out of memory");
    onn_kctx ctx = make_ctx(ev, n, k);
    ctx.state = p->state;
    ctx.prep = p; /* config allocates nothing, but may report flops */
    onnorm_status st = k->config ? k->config(&ctx) : ONNORM_OK;
    if (!st && k->prepare) st = k->prepare(&ctx);
    if (st) onn_prepared_free(p);
    return st;
}

onnorm_status onn_eval_reserve(onn_eval *ev, size_t bytes)
{
    if (bytes <= ev->scratch_cap) return ONNORM_OK;
    if (ev->scratch_limit && bytes > ev->scratch_limit)
        return onn_fail(ev->err, ONNORM_ERR_NOMEM,
                        "scratch of %zu bytes is past the memory cap of %zu bytes", bytes,
                        ev->scratch_limit);
    if (bytes > SIZE_MAX - ONN_KALIGN)
        return onn_fail(ev->err, ONNORM_ERR_NOMEM, "scratch of %zu bytes is too large", bytes);
    size_t cap = (bytes + ONN_KALIGN - 1) & ~(size_t)(ONN_KALIGN - 1);
    void *p = aligned_alloc(ONN_KALIGN, cap);
    if (!p) return onn_fail(ev->err, ONNORM_ERR_NOMEM, "cannot allocate %zu bytes of scratch", cap);
    free(ev->scratch);
    ev->scratch = p;
    ev->scratch_cap = cap;
    return ONNORM_OK;
}

onnorm_status onn_eval_run(onn_eval *ev, const onn_node *n, const onn_kernel *k,
                           const onn_prepared *p)
{
    if (p->scratch_bytes > ev->scratch_cap) {
        char lbl[256];
        return onn_fail(ev->err, ONNORM_ERR_INVALID,
                        "%s: %zu bytes of scratch were not reserved before the run",
                        onn_node_label(n, lbl, sizeof lbl), p->scratch_bytes);
    }
    onn_kctx ctx = make_ctx(ev, n, k);
    ctx.state = p->state;
    ctx.scratch = ev->scratch;
    return k->run(&ctx);
}

bool onn_tensor_bytes(const onnorm_tensor *t, size_t *bytes)
{
    int64_t numel = onnorm_tensor_numel(t);
    size_t esz = onnorm_dtype_size(t->dtype);
    return numel >= 0 && esz != 0 && onn_mul_size((size_t)numel, esz, bytes);
}

bool onn_ahead_allowed(size_t out_bytes, size_t in_bytes, char *why, size_t len)
{
    if (out_bytes <= ONN_AHEAD_MIN_BYTES || out_bytes <= in_bytes) return true;
    if (why)
        snprintf(why, len,
                 "its outputs (%zu bytes) exceed both 1 MiB and its inputs (%zu bytes), the "
                 "limit for values computed ahead of a run",
                 out_bytes, in_bytes);
    return false;
}

bool onn_ahead_budget_allows(const onn_eval *ev, size_t bytes, char *why, size_t len)
{
    if (!ev->ahead_budget || bytes <= ev->ahead_budget - ev->ahead_used) return true;
    if (why)
        snprintf(why, len,
                 "%zu more bytes would bring the values computed ahead of a run to more than the "
                 "load limit of %zu bytes (%zu in use)",
                 bytes, ev->ahead_budget, ev->ahead_used);
    return false;
}

onnorm_status onn_eval_now(onn_eval *ev, const onn_node *n, const onn_kernel *k, bool bounded,
                           bool *done, char *why, size_t len)
{
    char lbl[256];
    *done = false;
    onnorm_status st = onn_eval_infer(ev, n, k);
    if (st) return st;
    size_t in_bytes = 0, out_bytes = 0, b;
    for (int i = 0; i < n->n_in; i++)
        if (ev->in[i] && ev->in[i]->data && onn_tensor_bytes(ev->in[i], &b)) in_bytes += b;
    for (int i = 0; i < n->n_out; i++) {
        if (!ev->out[i]) continue;
        if (!onn_tensor_bytes(ev->out[i], &b) || b > SIZE_MAX / 2 - out_bytes)
            return onn_fail(ev->err, ONNORM_ERR_NOMEM, "%s: output %d has an invalid size",
                            onn_node_label(n, lbl, sizeof lbl), i);
        out_bytes += b;
    }
    if (bounded && (!onn_ahead_allowed(out_bytes, in_bytes, why, len) ||
                    !onn_ahead_budget_allows(ev, out_bytes, why, len)))
        return ONNORM_OK;
    for (int i = 0; i < n->n_out && !st; i++) {
        if (!ev->out[i]) continue;
        onn_tensor_bytes(ev->out[i], &b);
        if (!(ev->out[i]->data = malloc(b ? b : 1)))
            st = onn_fail(ev->err, ONNORM_ERR_NOMEM, "%s: cannot allocate %zu bytes",
                          onn_node_label(n, lbl, sizeof lbl), b);
    }
    onn_prepared p = {0};
    bool declined = false;
    if (!st) st = onn_eval_prepare(ev, n, k, &p);
    /* Scratch counts against the total too (it is freed with the evaluator). */
    if (!st && bounded && p.scratch_bytes > ev->scratch_cap &&
        !onn_ahead_budget_allows(ev, out_bytes + p.scratch_bytes, why, len))
        declined = true;
    if (!st && !declined) st = onn_eval_reserve(ev, p.scratch_bytes);
    if (!st && !declined) st = onn_eval_run(ev, n, k, &p);
    onn_prepared_free(&p);
    for (int i = 0; (st || declined) && i < n->n_out; i++)
        if (ev->out[i]) {
            free(ev->out[i]->data);
            ev->out[i]->data = NULL;
        }
    *done = st == ONNORM_OK && !declined;
    if (*done && bounded) ev->ahead_used += out_bytes;
    return st;
}
