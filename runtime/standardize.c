/*
 * Input standardization fitted on data (include/onnorm.h, "input
 * standardization"): onnorm_model_standardize() measures a graph input over
 * a data set and prepends the map x' = (x - center) / divisor to the model,
 * so that the new model takes raw inputs.
 *
 *   zscore: center = mean, divisor = population standard deviation;
 *   minmax: center = min, divisor = max - min (so x' spans [0, 1]);
 * over the whole tensor, or per channel (axis 1) with --per-channel. The
 * moments are accumulated in double and merged across items exactly (the
 * same per-batch two-pass moments and Chan merge as calibration).
 *
 * Decisions where the issue is silent:
 *   - The map is written as two ordinary ONNX nodes, Mul then Add:
 *     x' = x * a + b with a = 1 / divisor and b = -center / divisor,
 *     computed in double and rounded once to the input's type. Both
 *     constants are scalars (per tensor) or shaped [1, C, 1, ...] (per
 *     channel, the input's rank), i.e. a per-channel constant affine map,
 *     the form a pass that folds such a map into a following Conv or Gemm
 *     recognises. The nodes are named onnorm_standardize_<input>_mul/_add.
 *   - Zero spread: a channel (or tensor) whose std is 0, or whose max equals
 *     its min, gets divisor 1 instead (no epsilon is added anywhere else):
 *     it is only shifted, to 0. Nothing is divided by a tiny number.
 *   - Only float32 and float64 inputs; opset 7 or newer (multidirectional
 *     broadcasting); not an input that nodes inside subgraphs read. NaN or
 *     Inf in the data is an error.
 *   - Without options.input, the model must have exactly one float input.
 */
#include "runtime/runtime.h"
#include "graph/edit.h"
#include "runtime/calibrate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void onnorm_standardize_options_init(onnorm_standardize_options *o)
{
    if (!o) return;
    o->mode = ONNORM_STANDARDIZE_ZSCORE;
    o->per_channel = 0;
    o->input = NULL;
}

/* The feed to standardize: its index among the model inputs. */
static onnorm_status pick_input(const onnorm_model *m, const char *name, int *k, onnorm_error *err)
{
    const int n = onnorm_model_input_count(m);
    *k = -1;
    for (int i = 0; i < n; i++) {
        onnorm_tensor info;
        onnorm_model_input_info(m, i, &info);
        if (name) {
            if (!strcmp(info.name, name)) *k = i;
            continue;
        }
        if (info.dtype != ONNORM_FLOAT && info.dtype != ONNORM_DOUBLE) continue;
        if (*k >= 0)
            return onn_fail(err, ONNORM_ERR_INVALID,
                            "%s: the model has several float inputs ('%s', '%s', ...); say which "
                            "one to standardize",
                            m->g->source, onnorm_model_input_name(m, *k), info.name);
        *k = i;
    }
    if (*k < 0)
        return name ? onn_fail(err, ONNORM_ERR_NOT_FOUND, "%s: the model has no input '%s'",
                               m->g->source, name)
                    : onn_fail(err, ONNORM_ERR_INVALID, "%s: the model has no float input",
                               m->g->source);
    onnorm_tensor info;
    onnorm_model_input_info(m, *k, &info);
    if (info.dtype != ONNORM_FLOAT && info.dtype != ONNORM_DOUBLE)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "%s: input '%s' is %s; only float32 and float64 inputs can be "
                        "standardized",
                        m->g->source, info.name, onnorm_dtype_name(info.dtype));
    return ONNORM_OK;
}

/* Fits center and divisor (n values each) of input k over the data. */
static onnorm_status fit(onnorm_dataset *d, int k, const onnorm_standardize_options *o,
                         double **center, double **divisor, int64_t *n, double *count,
                         onnorm_error *err)
{
    onn_chan_stats s = {0};
    double *mn = NULL, *mx = NULL;
    onnorm_status st = ONNORM_OK;
    for (int item = 0; !st && item < onnorm_dataset_count(d); item++) {
        onnorm_tensor *t = NULL;
        if ((st = onnorm_dataset_read(d, item, k, &t, err))) break;
        onnorm_tensor view = *t;
        if (!o->per_channel) { /* the whole tensor as one channel */
            view.rank = 1;
            view.dims[0] = onnorm_tensor_numel(t);
        } else if (t->rank < 2) {
            st = onn_fail(err, ONNORM_ERR_SHAPE,
                          "%s: per-channel standardization needs rank 2 or more (axis 1 is the "
                          "channel), the data have rank %d",
                          onnorm_dataset_path(d, item, k), t->rank);
        }
        const int64_t c = view.rank >= 2 ? view.dims[1] : 1;
        if (!st && !s.mean) {
            s.c = c;
            s.mean = calloc((size_t)c + 1, sizeof(double));
            s.m2 = calloc((size_t)c + 1, sizeof(double));
            mn = malloc(((size_t)c + 1) * sizeof(double));
            mx = malloc(((size_t)c + 1) * sizeof(double));
            if (!s.mean || !s.m2 || !mn || !mx)
                st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
            for (int64_t i = 0; !st && i < c; i++)
                mn[i] = INFINITY, mx[i] = -INFINITY;
        }
        if (!st && c != s.c)
            st = onn_fail(err, ONNORM_ERR_SHAPE, "%s: %lld channels, the data before had %lld",
                          onnorm_dataset_path(d, item, k), (long long)c, (long long)s.c);
        if (!st) {
            bool bad = false;
            onn_chan_stats_add(&s, &view, &bad);
            if (bad)
                st = onn_fail(err, ONNORM_ERR_INVALID, "%s: the data hold NaN or Inf",
                              onnorm_dataset_path(d, item, k));
            const int64_t outer = view.rank >= 2 ? view.dims[0] : 1;
            const int64_t inner =
                view.rank >= 2 ? onn_dims_numel(view.dims, 2, view.rank) : view.dims[0];
            for (int64_t o2 = 0; !st && o2 < outer; o2++)
                for (int64_t ch = 0; ch < c; ch++)
                    for (int64_t i = 0; i < inner; i++) {
                        const int64_t at = (o2 * c + ch) * inner + i;
                        const double v = view.dtype == ONNORM_FLOAT
                                             ? (double)((const float *)view.data)[at]
                                             : ((const double *)view.data)[at];
                        mn[ch] = v < mn[ch] ? v : mn[ch];
                        mx[ch] = v > mx[ch] ? v : mx[ch];
                    }
        }
        onnorm_tensor_free(t);
    }
    if (!st && s.count == 0)
        st = onn_fail(err, ONNORM_ERR_INVALID, "the data hold no values for the input");
    if (!st) {
        *n = s.c;
        *count = s.count / 1.0;
        *center = malloc(((size_t)s.c + 1) * sizeof(double));
        *divisor = malloc(((size_t)s.c + 1) * sizeof(double));
        if (!*center || !*divisor) {
            free(*center), free(*divisor);
            *center = *divisor = NULL;
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        }
        for (int64_t i = 0; !st && i < s.c; i++) {
            double c0, dv;
            if (o->mode == ONNORM_STANDARDIZE_MINMAX)
                c0 = mn[i], dv = mx[i] - mn[i];
            else
                c0 = s.mean[i], dv = sqrt(s.m2[i] / s.count);
            (*center)[i] = c0;
            (*divisor)[i] = dv > 0 ? dv : 1.0;
        }
    }
    free(s.mean), free(s.m2), free(mn), free(mx);
    return st;
}

/* A constant for the map: a scalar, or [1, C, 1, ...] of the input's rank. */
static onnorm_tensor *map_const(onnorm_dtype dt, int rank, int64_t c, const double *v, bool per_ch,
                                onnorm_error *err)
{
    int64_t dims[ONNORM_MAX_RANK];
    for (int i = 0; i < rank; i++)
        dims[i] = i == 1 ? c : 1;
    onnorm_tensor *t = onn_tensor_new(dt, per_ch ? rank : 0, dims, err);
    for (int64_t i = 0; t && i < (per_ch ? c : 1); i++) {
        if (dt == ONNORM_FLOAT)
            ((float *)t->data)[i] = (float)v[i];
        else
            ((double *)t->data)[i] = v[i];
    }
    return t;
}

onnorm_status onnorm_model_standardize(const onnorm_model *m, onnorm_dataset *d,
                                       const onnorm_standardize_options *opts, onnorm_model **out,
                                       double *center, double *divisor, int64_t max_channels,
                                       int64_t *n_channels, int64_t *count, onnorm_error *err)
{
    if (out) *out = NULL;
    if (n_channels) *n_channels = 0;
    if (!m || !d || !out || max_channels < 0 || (max_channels && (!center || !divisor)))
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_standardize: invalid arguments");
    onnorm_standardize_options o;
    onnorm_standardize_options_init(&o);
    if (opts) o = *opts;
    if (o.mode != ONNORM_STANDARDIZE_ZSCORE && o.mode != ONNORM_STANDARDIZE_MINMAX)
        return onn_fail(err, ONNORM_ERR_INVALID, "unknown standardization mode %d", o.mode);
    if (onnorm_dataset_input_count(d) != onnorm_model_input_count(m))
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "the data set was opened for a model with %d inputs, this one has %d",
                        onnorm_dataset_input_count(d), onnorm_model_input_count(m));
    if (onn_graph_opset(m->g, "") < 7)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "%s: opset %lld has no broadcasting Mul and Add (opset 7 or newer needed)",
                        m->g->source, (long long)onn_graph_opset(m->g, ""));
    int k;
    onnorm_status st = pick_input(m, o.input, &k, err);
    if (st) return st;
    onnorm_tensor info;
    onnorm_model_input_info(m, k, &info);
    if (o.per_channel && info.rank >= 0 && info.rank < 2)
        return onn_fail(err, ONNORM_ERR_SHAPE,
                        "%s: input '%s' has rank %d; per-channel standardization needs axis 1",
                        m->g->source, info.name, info.rank);
    double *c0 = NULL, *dv = NULL, cnt = 0;
    int64_t n = 0;
    st = fit(d, k, &o, &c0, &dv, &n, &cnt, err);
    if (st) return st;
    onn_graph *g = onn_graph_clone(m->g, err);
    if (!g) st = err ? err->code : ONNORM_ERR_NOMEM;
    const int v = g ? onn_graph_find_value(g, info.name) : -1;
    for (int i = 0; !st && i < g->n_nodes; i++) {
        const onn_node *nd = &g->nodes[i];
        for (int j = nd->n_in - nd->n_implicit; j < nd->n_in; j++)
            if (nd->in[j] == v)
                st = onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                              "%s: input '%s' is read inside a subgraph of node '%s'; it cannot "
                              "be standardized",
                              g->source, info.name, nd->name);
    }
    int rank = info.rank;
    if (!st && o.per_channel) {
        /* the data decide when the model does not declare a rank */
        onnorm_tensor *t = NULL;
        st = onnorm_dataset_read(d, 0, k, &t, err);
        if (!st) rank = t->rank;
        onnorm_tensor_free(t);
    }
    if (!st) {
        double *a = malloc(((size_t)n + 1) * sizeof(double));
        double *b = malloc(((size_t)n + 1) * sizeof(double));
        for (int64_t i = 0; a && b && i < n; i++)
            a[i] = 1.0 / dv[i], b[i] = -c0[i] / dv[i];
        onnorm_tensor *ta = a && b ? map_const(info.dtype, rank, n, a, o.per_channel, err) : NULL;
        onnorm_tensor *tb = ta ? map_const(info.dtype, rank, n, b, o.per_channel, err) : NULL;
        free(a), free(b);
        if (!ta || !tb) {
            onn_tensor_free(ta);
            st = err && err->code ? err->code : onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        } else {
            char base[300];
            snprintf(base, sizeof base, "onnorm_standardize_%s", info.name);
            /* Every reader of the raw input reads the standardized value. */
            const int y = onn_graph_new_value(g, info.name);
            if (y >= 0) onn_graph_redirect(g, v, y);
            const int ca = y >= 0 ? onn_graph_new_constant(g, "onnorm_standardize_scale", ta) : -1;
            const int cb = ca >= 0 ? onn_graph_new_constant(g, "onnorm_standardize_shift", tb) : -1;
            if (ca < 0) onn_tensor_free(tb);
            const int mid = cb >= 0 ? onn_graph_new_value(g, "onnorm_standardize_scaled") : -1;
            char name[320];
            snprintf(name, sizeof name, "%s_mul", base);
            onn_node *mul = mid >= 0 ? onn_graph_new_node(g, "Mul", name, 2, (const int[]){v, ca},
                                                          1, (const int[]){mid})
                                     : NULL;
            snprintf(name, sizeof name, "%s_add", base);
            onn_node *add = mul ? onn_graph_new_node(g, "Add", name, 2, (const int[]){mid, cb}, 1,
                                                     (const int[]){y})
                                : NULL;
            if (!add) st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        }
    }
    onnorm_model *res = NULL;
    if (!st) {
        st = onn_model_wrap(m, g, &res, err);
        g = NULL; /* taken over (and freed on failure) */
    }
    onn_graph_free(g);
    if (!st) {
        for (int64_t i = 0; i < n && i < max_channels; i++)
            center[i] = c0[i], divisor[i] = dv[i];
        if (n_channels) *n_channels = n;
        if (count) *count = (int64_t)cnt;
        *out = res;
    }
    free(c0), free(dv);
    return st;
}
