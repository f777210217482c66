/*
 * Intermediate-value capture and BatchNormalization recalibration
 * (include/onnorm.h, "capture" and "calibration").
 *
 * Capture: onnorm_model_capture() copies a model, makes the chosen values
 * graph outputs (so the planner keeps them to the end of a run and no
 * optimization pass fuses them away: the passes leave graph outputs alone)
 * and, when the model's own outputs are not kept, drops every node that
 * none of the chosen values needs, so a run computes only the prefix of the
 * graph that leads to them.
 *
 * Calibration replaces the mean and var inputs of inference
 * BatchNormalization nodes by the statistics of each node's input X over a
 * data set, as the recalibrated model itself computes X:
 *   - The nodes are recalibrated in waves. A node's wave is the largest
 *     number of recalibrated nodes on any path from the graph inputs to its
 *     X, so a wave's inputs depend only on nodes of earlier waves, which are
 *     already rewritten when it is measured. Each wave is one pass over the
 *     data with a capture model of the current graph.
 *   - Per batch and channel, the mean and the sum of squared deviations
 *     (M2) are computed in double (two passes over the batch); batches are
 *     merged with Chan et al.'s update (n = na + nb, mean += d * nb / n,
 *     M2 = M2a + M2b + d^2 na nb / n), so the result is the population
 *     statistics of all the data, whatever the batch sizes.
 *   - ONNX's inference formula is y = (x - mean) / sqrt(var + epsilon) *
 *     scale + B, and its training mode (opsets 14, 15) updates the running
 *     var with the population variance (divide by N); the population
 *     variance is therefore the default, and it is what makes y exactly
 *     standardized over the calibration data (up to epsilon). The unbiased
 *     variance (N - 1, PyTorch's running_var) is an option.
 *   - blend = a writes a * measured + (1 - a) * stored, for mean and var.
 * Decisions where the issue is silent:
 *   - Nodes in training mode (opsets 1 and 6 with is_test = 0, opsets 7-13
 *     with more outputs than Y, training_mode = 1), with spatial = 0, whose
 *     mean/var are not constants or not float32/float64, are skipped with a
 *     note (X may be float32, float64, float16 or bfloat16, read as double); naming such a node in
 * `nodes` is an error. BatchNormalization inside subgraphs (If, Loop, Scan) is not seen.
 *   - A mean or var tensor read only by its node is replaced in place (the
 *     file keeps its name); one shared with other nodes is left to them and
 *     the node gets a new constant.
 *   - Non-finite statistics (NaN or Inf reaching a node's input) are an
 *     error, as is a node that sees no values at all.
 *   - The report's mean shift is |written mean - stored mean| /
 *     sqrt(stored var + epsilon), in units of the stored standard deviation;
 *     its variance ratio is (written var + epsilon) / (stored var +
 *     epsilon), the square of how much the normalizer's scale changed.
 */
#include "runtime/runtime.h"
#include "graph/edit.h"
#include "runtime/bind.h"
#include "runtime/calibrate.h"
#include "ops/core/threadpool.h"
#include "ops/half.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- capture ---------------------------------------------------------------- */

/* Drops every node that no graph output needs. */
static void prune(onn_graph *g)
{
    bool *need = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *need);
    if (!need) return; /* nothing pruned: still correct */
    for (int i = 0; i < g->n_outputs; i++)
        need[g->outputs[i]] = true;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        onn_node *n = &g->nodes[i];
        bool used = false;
        for (int k = 0; k < n->n_out && !used; k++)
            used = n->out[k] >= 0 && need[n->out[k]];
        if (!used) {
            onn_node_clear(n);
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) need[n->in[k]] = true;
    }
    free(need);
}

onnorm_status onn_model_wrap(const onnorm_model *base, onn_graph *g, onnorm_model **out,
                             onnorm_error *err)
{
    *out = NULL;
    onnorm_model *copy = calloc(1, sizeof *copy);
    if (!copy) {
        onn_graph_free(g);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    copy->g = g;
    copy->base = base;
    onnorm_status st = onn_graph_rebuild(g, err);
    if (!st) st = onn_bind_graph(g, base->unsupported > 0, &copy->kernels, &copy->unsupported, err);
    if (st) {
        onnorm_model_free(copy);
        return st;
    }
    *out = copy;
    return ONNORM_OK;
}

onnorm_status onnorm_model_capture(const onnorm_model *m, const char *const *names, int n_names,
                                   int keep_outputs, onnorm_model **out, onnorm_error *err)
{
    if (out) *out = NULL;
    if (!m || !out || n_names < 0 || (n_names && !names))
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_capture: invalid arguments");
    onn_graph *g = onn_graph_clone(m->g, err);
    if (!g) return err ? err->code : ONNORM_ERR_NOMEM;
    int *outs = malloc(((size_t)g->n_outputs + (size_t)n_names + 1) * sizeof *outs);
    if (!outs) {
        onn_graph_free(g);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    int n_out = 0;
    if (keep_outputs)
        for (int i = 0; i < g->n_outputs; i++)
            outs[n_out++] = g->outputs[i];
    else
        for (int i = 0; i < g->n_outputs; i++)
            g->values[g->outputs[i]].is_output = false;
    for (int i = 0; i < n_names; i++) {
        int v = names[i] ? onn_graph_find_value(g, names[i]) : -1;
        if (v < 0) {
            onnorm_status st = onn_fail(err, ONNORM_ERR_NOT_FOUND, "%s: no value named '%s'",
                                        g->source, names[i] ? names[i] : "(null)");
            free(outs);
            onn_graph_free(g);
            return st;
        }
        bool dup = false;
        for (int k = 0; k < n_out && !dup; k++)
            dup = outs[k] == v;
        if (dup) continue;
        outs[n_out++] = v;
        g->values[v].is_output = true;
    }
    free(g->outputs);
    g->outputs = outs;
    g->n_outputs = n_out;
    if (!keep_outputs) prune(g);
    return onn_model_wrap(m, g, out, err);
}

/* ---- statistics --------------------------------------------------------------- */

/* Element i of a float32, float64, float16 or bfloat16 tensor's data. */
static inline double elem(const void *data, onnorm_dtype t, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return (double)((const float *)data)[i];
    case ONNORM_DOUBLE: return ((const double *)data)[i];
    case ONNORM_FLOAT16: return (double)onn_f16_to_f32(((const uint16_t *)data)[i]);
    default: return (double)onn_bf16_to_f32(((const uint16_t *)data)[i]);
    }
}

typedef struct chan_job {
    onn_chan_stats *s;
    const void *data;
    onnorm_dtype dt;
    int64_t outer, inner;
    double nb;
    atomic_bool bad; /* set when a channel's statistics are not finite */
} chan_job;

/* Merges channel c of the batch into s: its mean and M2 in two passes,
 * then Chan's update. */
static void chan_add(void *arg, int64_t c, int worker)
{
    (void)worker;
    chan_job *j = arg;
    onn_chan_stats *s = j->s;
    const int64_t C = s->c, outer = j->outer, inner = j->inner;
    const onnorm_dtype dt = j->dt;
    const void *data = j->data;
    const double nb = j->nb;
    double sum = 0;
    for (int64_t o = 0; o < outer; o++) {
        const int64_t base = (o * C + c) * inner;
        for (int64_t i = 0; i < inner; i++)
            sum += elem(data, dt, base + i);
    }
    const double mb = sum / nb;
    double m2 = 0;
    for (int64_t o = 0; o < outer; o++) {
        const int64_t base = (o * C + c) * inner;
        for (int64_t i = 0; i < inner; i++) {
            const double d = elem(data, dt, base + i) - mb;
            m2 += d * d;
        }
    }
    if (!isfinite(mb) || !isfinite(m2)) atomic_store_explicit(&j->bad, true, memory_order_relaxed);
    const double na = s->count, n = na + nb, delta = mb - s->mean[c];
    s->mean[c] += delta * (nb / n);
    s->m2[c] += m2 + delta * delta * (na * nb / n);
}

void onn_chan_stats_add(onn_chan_stats *s, const onnorm_tensor *x, bool *nonfinite)
{
    const int64_t outer = x->rank >= 2 ? x->dims[0] : 1;
    const int64_t inner = x->rank >= 2 ? onn_dims_numel(x->dims, 2, x->rank) : x->dims[0];
    const double nb = (double)(outer * inner);
    if (nb == 0) return;
    chan_job j = {s, x->data, x->dtype, outer, inner, nb, false};
    /* One channel per call, on as many threads as an OpenMP team would have had by default. */
    onn_parallel_for(omp_get_max_threads(), s->c, chan_add, &j);
    s->count += nb;
    if (atomic_load(&j.bad)) *nonfinite = true;
}

/* ---- calibration --------------------------------------------------------------- */

void onnorm_calibrate_options_init(onnorm_calibrate_options *o)
{
    if (!o) return;
    o->nodes = NULL;
    o->unbiased = 0;
    o->blend = 1.0;
    o->num_threads = 0;
}

/* A recalibration target. */
typedef struct target {
    int node; /* in the working graph */
    int wave;
    double epsilon;
    onn_chan_stats s;
    onnorm_bn_calibration info;
} target;

static void note(char *notes, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(char *notes, size_t len, const char *fmt, ...)
{
    if (!notes || !len) return;
    size_t used = strlen(notes);
    if (used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes + used, len - used, fmt, ap);
    va_end(ap);
}

/* Whether name is listed in the comma-separated list. */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return true;
        p += len + (end != NULL);
    }
    return false;
}

/* Why node n cannot be recalibrated, or NULL. */
static const char *unfit(const onn_graph *g, const onn_node *n, double *eps, onnorm_error *err)
{
    int64_t is_test = 0, spatial = 1, training = 0;
    float e = 1e-5f;
    if (!onn_attr_float(n, "epsilon", 1e-5f, &e, err) ||
        !onn_attr_int(n, "is_test", 0, &is_test, err) ||
        !onn_attr_int(n, "spatial", 1, &spatial, err) ||
        !onn_attr_int(n, "training_mode", 0, &training, err))
        return "has an attribute of the wrong kind";
    *eps = e;
    const int64_t opset = n->opset;
    int live_outs = 0;
    for (int k = 1; k < n->n_out; k++)
        live_outs += n->out[k] >= 0;
    if ((opset < 7 && !is_test) || (opset >= 7 && opset < 14 && live_outs) ||
        (opset >= 14 && training))
        return "is in training mode (it normalizes with batch statistics, not stored ones)";
    if (opset < 9 && !spatial) return "has spatial=0 (per-activation statistics)";
    if (n->n_in < 5 || n->in[0] < 0 || n->in[3] < 0 || n->in[4] < 0) return "lacks inputs";
    const onnorm_dtype xt = g->values[n->in[0]].dtype;
    if (xt != ONNORM_UNDEFINED && xt != ONNORM_FLOAT && xt != ONNORM_DOUBLE &&
        xt != ONNORM_FLOAT16 && xt != ONNORM_BFLOAT16)
        return "has an input X that is not a floating-point tensor";
    for (int k = 3; k <= 4; k++) {
        const onn_value *v = &g->values[n->in[k]];
        if (!v->init) return "has a mean or var that is not a constant";
        if (v->init->dtype != ONNORM_FLOAT && v->init->dtype != ONNORM_DOUBLE)
            return "keeps its statistics in a type other than float32 or float64";
        if (v->init->rank != 1) return "has mean or var of rank other than 1";
    }
    if (g->values[n->in[3]].init->dims[0] != g->values[n->in[4]].init->dims[0])
        return "has mean and var of different lengths";
    return NULL;
}

static double get_elem(const onnorm_tensor *t, int64_t i)
{
    return t->dtype == ONNORM_FLOAT ? (double)((const float *)t->data)[i]
                                    : ((const double *)t->data)[i];
}

static void set_elem(onnorm_tensor *t, int64_t i, double v)
{
    if (t->dtype == ONNORM_FLOAT)
        ((float *)t->data)[i] = (float)v;
    else
        ((double *)t->data)[i] = v;
}

/* Gives node input k of g a new constant t: in place when only this node
 * reads the value, else a new value. */
static onnorm_status set_param(onn_graph *g, int node, int k, onnorm_tensor *t, onnorm_error *err)
{
    onn_node *n = &g->nodes[node];
    const int v = n->in[k];
    int readers = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            readers += g->nodes[i].in[j] == v;
    onn_value *val = &g->values[v];
    if (readers == 1 && !val->is_output) {
        t->name = NULL;
        if (!val->init_borrowed) onn_tensor_free(val->init);
        val->init = t;
        val->init_borrowed = false;
        return ONNORM_OK;
    }
    const int nv = onn_graph_new_constant(g, val->name, t);
    if (nv < 0) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    g->nodes[node].in[k] = nv;
    return ONNORM_OK;
}

/* Measures the targets of one wave over the data. */
static onnorm_status measure_wave(const onnorm_model *work, onnorm_dataset *d, target *t, int n_t,
                                  int wave, int threads, onnorm_error *err)
{
    const onn_graph *g = work->g;
    const char **names = calloc((size_t)n_t + 1, sizeof *names);
    int *which = calloc((size_t)n_t + 1, sizeof *which);
    int n = 0;
    if (!names || !which) {
        free(names), free(which);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n_t; i++)
        if (t[i].wave == wave) {
            which[n] = i;
            names[n++] = g->values[g->nodes[t[i].node].in[0]].name;
        }
    onnorm_model *cap = NULL;
    onnorm_session *s = NULL;
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.optimization_level = 0;
    so.num_threads = threads;
    onnorm_status st = onnorm_model_capture(work, names, n, 0, &cap, err);
    if (!st) st = onnorm_session_create(cap, &so, &s, err);
    for (int item = 0; !st && item < onnorm_dataset_count(d); item++) {
        st = onnorm_dataset_bind(d, item, s, err);
        if (!st) st = onnorm_session_run(s, err);
        for (int k = 0; !st && k < n; k++) {
            target *tg = &t[which[k]];
            onnorm_tensor x;
            st = onnorm_session_output(s, names[k], &x, err);
            if (st) break;
            const int64_t c = x.rank >= 2 ? x.dims[1] : 1;
            if ((x.dtype != ONNORM_FLOAT && x.dtype != ONNORM_DOUBLE && x.dtype != ONNORM_FLOAT16 &&
                 x.dtype != ONNORM_BFLOAT16) ||
                x.rank < 1 || c != tg->s.c) {
                char sh[128];
                st = onn_fail(err, ONNORM_ERR_SHAPE,
                              "BatchNormalization '%s': its input is %s %s, expected a "
                              "floating-point tensor with %lld channels on axis 1",
                              tg->info.node, onnorm_dtype_name(x.dtype),
                              onnorm_shape_str(x.dims, x.rank, sh, sizeof sh), (long long)tg->s.c);
                break;
            }
            bool bad = false;
            onn_chan_stats_add(&tg->s, &x, &bad);
            if (bad)
                st = onn_fail(err, ONNORM_ERR_INVALID,
                              "BatchNormalization '%s': NaN or Inf reach its input with data "
                              "item %d (%s)",
                              tg->info.node, item, onnorm_dataset_path(d, item, 0));
        }
    }
    onnorm_session_free(s);
    onnorm_model_free(cap);
    free(names), free(which);
    return st;
}

/* Writes the statistics of target t into the working graph and fills its report. */
static onnorm_status apply(onn_graph *g, target *t, const onnorm_calibrate_options *o,
                           onnorm_error *err)
{
    onn_node *n = &g->nodes[t->node];
    const onnorm_tensor *om = g->values[n->in[3]].init, *ov = g->values[n->in[4]].init;
    const double need = o->unbiased ? 2 : 1;
    if (t->s.count < need)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "BatchNormalization '%s': %g value(s) per channel in the data, too few for "
                        "the %s variance",
                        n->name, t->s.count, o->unbiased ? "unbiased" : "population");
    onnorm_tensor *nm = onn_tensor_new(om->dtype, 1, om->dims, err);
    onnorm_tensor *nv = nm ? onn_tensor_new(ov->dtype, 1, ov->dims, err) : NULL;
    if (!nm || !nv) {
        onn_tensor_free(nm);
        return err ? err->code : ONNORM_ERR_NOMEM;
    }
    const double a = o->blend, eps = t->epsilon;
    onnorm_bn_calibration *r = &t->info;
    r->channels = t->s.c;
    r->count = (int64_t)t->s.count;
    r->mean_shift_max = 0, r->mean_shift_mean = 0;
    r->var_ratio_min = INFINITY, r->var_ratio_max = 0;
    double log_sum = 0;
    for (int64_t c = 0; c < t->s.c; c++) {
        const double mean = t->s.mean[c];
        const double var = t->s.m2[c] / (t->s.count - (o->unbiased ? 1 : 0));
        const double m0 = get_elem(om, c), v0 = get_elem(ov, c);
        const double m1 = a * mean + (1 - a) * m0, v1 = a * var + (1 - a) * v0;
        set_elem(nm, c, m1);
        set_elem(nv, c, v1);
        const double shift = fabs(get_elem(nm, c) - m0) / sqrt(fmax(v0, 0) + eps);
        const double ratio = (fmax(get_elem(nv, c), 0) + eps) / (fmax(v0, 0) + eps);
        r->mean_shift_max = fmax(r->mean_shift_max, shift);
        r->mean_shift_mean += shift / (double)t->s.c;
        r->var_ratio_min = fmin(r->var_ratio_min, ratio);
        r->var_ratio_max = fmax(r->var_ratio_max, ratio);
        log_sum += log(ratio);
    }
    r->var_ratio_gmean = exp(log_sum / (double)t->s.c);
    if (!isfinite(r->mean_shift_max) || !isfinite(r->var_ratio_max)) {
        onn_tensor_free(nm), onn_tensor_free(nv);
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "BatchNormalization '%s': the statistics are not finite", n->name);
    }
    onnorm_status st = set_param(g, t->node, 3, nm, err);
    if (st) {
        onn_tensor_free(nv);
        return st;
    }
    return set_param(g, t->node, 4, nv, err);
}

onnorm_status onnorm_model_calibrate(const onnorm_model *m, onnorm_dataset *d,
                                     const onnorm_calibrate_options *opts, onnorm_model **out,
                                     onnorm_bn_calibration *layers, int max_layers, int *n_layers,
                                     char *notes, size_t notes_len, onnorm_error *err)
{
    if (out) *out = NULL;
    if (n_layers) *n_layers = 0;
    if (notes && notes_len) notes[0] = '\0';
    if (!m || !d || !out || max_layers < 0 || (max_layers && !layers))
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_calibrate: invalid arguments");
    onnorm_calibrate_options o;
    onnorm_calibrate_options_init(&o);
    if (opts) o = *opts;
    if (!(o.blend >= 0 && o.blend <= 1))
        return onn_fail(err, ONNORM_ERR_INVALID, "blend must be in [0, 1], got %g", o.blend);
    if (m->unsupported)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "%s: a model with unsupported nodes cannot be calibrated", m->g->source);
    if (onnorm_dataset_input_count(d) != onnorm_model_input_count(m))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "the data set was opened for a model with %d inputs, this one has %d",
                        onnorm_dataset_input_count(d), onnorm_model_input_count(m));
    if (onnorm_dataset_count(d) == 0)
        return onn_fail(err, ONNORM_ERR_INVALID, "the data set is empty");
    onn_graph *g = onn_graph_clone(m->g, err);
    if (!g) return err ? err->code : ONNORM_ERR_NOMEM;
    onnorm_model *work = NULL;
    onnorm_status st = onn_model_wrap(m, g, &work, err);
    if (st) return st;
    g = work->g;
    const char *list = o.nodes && o.nodes[0] ? o.nodes : NULL;
    /* The targets, and the check that every listed name is one. */
    target *t = calloc((size_t)g->n_nodes + 1, sizeof *t);
    int *level = calloc((size_t)g->n_values + 1, sizeof *level);
    int n_t = 0;
    if (!t || !level) st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        if (!onn_node_is(n, "BatchNormalization")) continue;
        if (list && !listed(list, n->name)) continue;
        double eps = 1e-5;
        const char *why = unfit(g, n, &eps, err);
        if (why && list) {
            st = onn_fail(err, ONNORM_ERR_UNSUPPORTED, "BatchNormalization '%s' %s", n->name, why);
            break;
        }
        if (why) {
            note(notes, notes_len, "skipped BatchNormalization '%s': it %s\n", n->name, why);
            continue;
        }
        target *tg = &t[n_t++];
        tg->node = i;
        tg->epsilon = eps;
        tg->s.c = g->values[n->in[3]].init->dims[0];
        tg->s.mean = calloc((size_t)tg->s.c + 1, sizeof(double));
        tg->s.m2 = calloc((size_t)tg->s.c + 1, sizeof(double));
        tg->info.node = n->name;
        if (!tg->s.mean || !tg->s.m2) st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    if (!st && list) {
        /* every listed name must be a BatchNormalization of the graph */
        for (const char *p = list; *p && !st;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            bool found = false;
            for (int i = 0; i < n_t && !found; i++)
                found = strlen(t[i].info.node) == len && !strncmp(t[i].info.node, p, len);
            if (!found && len)
                st =
                    onn_fail(err, ONNORM_ERR_NOT_FOUND,
                             "%s: no BatchNormalization node named '%.*s'", g->source, (int)len, p);
            p += len + (end != NULL);
        }
    }
    /* Waves: level[v] counts targets on the longest path to v. */
    int n_waves = 0;
    for (int i = 0, ti = 0; !st && i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        int lv = 0;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && level[n->in[k]] > lv) lv = level[n->in[k]];
        if (ti < n_t && t[ti].node == i) {
            t[ti++].wave = lv;
            if (lv + 1 > n_waves) n_waves = lv + 1;
            lv++;
        }
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) level[n->out[k]] = lv;
    }
    for (int w = 0; !st && w < n_waves; w++) {
        st = measure_wave(work, d, t, n_t, w, o.num_threads, err);
        for (int i = 0; !st && i < n_t; i++) {
            t[i].info.wave = t[i].wave;
            if (t[i].wave == w) st = apply(g, &t[i], &o, err);
        }
    }
    if (!st) {
        /* New constants need no new kernels; the rebuild drops what nothing
         * reads any more. Node indices change here: names stay valid. */
        free(work->kernels);
        work->kernels = NULL;
        st = onn_graph_rebuild(g, err);
        if (!st) st = onn_bind_graph(g, false, &work->kernels, &work->unsupported, err);
    }
    if (!st) {
        for (int i = 0; i < n_t && i < max_layers; i++)
            layers[i] = t[i].info;
        if (n_layers) *n_layers = n_t;
        if (!n_t) note(notes, notes_len, "no BatchNormalization node was recalibrated\n");
    }
    for (int i = 0; t && i < n_t; i++)
        free(t[i].s.mean), free(t[i].s.m2);
    free(t);
    free(level);
    if (st) {
        onnorm_model_free(work);
        return st;
    }
    *out = work;
    return ONNORM_OK;
}
