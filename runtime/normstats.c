/*
 * Normalization statistics over a data set (include/onnorm.h,
 * "normalization statistics"; the `onnorm stats` command).
 *
 * The caller's model is copied with every normalization node's input 0 and
 * output 0 as graph outputs (onnorm_model_capture), so a session keeps them
 * alive to the end of a run and they can be read after it. The copy runs unoptimized (level 0):
 * the passes would fold BatchNormalization away or fuse an activation into
 * it, and the statistics are about the graph as written. After each run every
 * recorded tensor is read one sample (index along axis 0) at a time,
 * converted to double, and its per-unit moments are merged into the
 * population's.
 *
 * Units, per op (the "as the op defines" of the issue):
 *   BatchNormalization, InstanceNormalization (ai.onnx and onnorm's ai.onnorm
 *     forms): channels, axis 1, over every other axis and every sample.
 *   GroupNormalization (ai.onnx, ai.onnorm): the num_groups blocks of
 *     consecutive channels, each over its channels and spatial axes.
 *   LayerNormalization, RMSNormalization, SimplifiedLayerNormalization
 *     (ai.onnx, com.microsoft) and Skip(Simplified)LayerNormalization: the
 *     axes from `axis` (default -1; the Skip forms: the last) form a row.
 *     Every row's mean and std is kept (their distribution over rows is
 *     reported) and the units are the row's features, each over every row.
 *     For the Skip forms input 0 is recorded, not the sum the op normalizes.
 *   MeanVarianceNormalization: the axes not in `axes`, other than 0, when
 *     they are consecutive (the default axes [0, 2, 3] give channels); other
 *     axis sets are skipped with a note.
 * LpNormalization, LRN and ai.onnx.ml's Scaler/Normalizer are not moment
 * normalizations and are not recorded; nor are norms inside If/Loop/Scan
 * bodies (only the main graph's nodes are captured), nor nodes that load-time
 * constant folding already computed.
 *
 * Memory: per node and side a few doubles per unit and per batch size
 * (sizes up to the sample count), and for the LayerNormalization family two
 * doubles per row seen (the exact row quartiles need every row).
 *
 * Definitions (the JSON and text use these names):
 *   mean, std: population (ddof 0) moments of a unit over all its finite
 *     values in every run; NaN and Inf are counted, not averaged in.
 *   dead: every element of the unit is exactly 0. near-constant: not dead and
 *     std < 1e-6 * (1 + |mean|) (about float32 rounding noise at that mean).
 *   Drift (BatchNormalization in inference mode, with constant mean and var
 *   of one value per channel): per channel
 *     shift = |mean_measured - mean_stored| / sqrt(var_stored + epsilon)
 *     ratio = (var_measured + epsilon) / (var_stored + epsilon)
 *   The shift is how far the output mean sits from the bias, in output stds
 *   for unit scale; the ratio is the square of the output std the node
 *   produces for unit scale (epsilon on both sides keeps it finite for dead
 *   channels, as the op itself does). A layer is flagged when max shift >
 *   0.5 or a ratio lies outside [0.5, 2]: the output is off by half a std, or
 *   its scale by a factor beyond sqrt(2).
 *   Batch noise: the samples, in the order the runs saw them (axis 0 of each
 *   run), are cut into consecutive batches of b = 1, 2, 4, ... samples (a
 *   remainder shorter than b is dropped; batch sizes with fewer than two
 *   batches are not reported). For each batch and unit the batch mean and
 *   population variance (what BatchNormalization in training computes) are
 *   compared with the population values over all samples:
 *     mean_rms = sqrt(avg (m_batch - mean)^2 / var)
 *     var_rms  = sqrt(avg (v_batch / var - 1)^2),  var_bias = avg (v_batch / var - 1)
 *   averaged over units and batches; dead and near-constant units are left
 *   out. Batches of 2b are merged from two consecutive batches of b, so all
 *   sizes come from one pass; the sums of batch means and variances are
 *   shifted by the unit's first batch value so that they do not cancel.
 */
#include "runtime/normstats.h"

#include "graph/edit.h"
#include "ops/half.h"
#include "runtime/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void onn_mom_merge(onn_mom *a, const onn_mom *b)
{
    if (b->n == 0) return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    const double n = a->n + b->n, d = b->mean - a->mean;
    a->mean += d * (b->n / n);
    a->m2 += b->m2 + d * d * (a->n * b->n / n);
    a->n = n;
}

/* ---- which nodes ---------------------------------------------------------- */

static bool op_in(const char *op, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(op, *list)) return true;
    return false;
}

/* The kind of a node, or -1 when it is not a recorded normalization. */
static int norm_kind(const onn_node *n)
{
    static const char *const chan[] = {"BatchNormalization", "InstanceNormalization", NULL};
    static const char *const rows_onnx[] = {"LayerNormalization", "RMSNormalization",
                                            "SimplifiedLayerNormalization", NULL};
    static const char *const rows_ms[] = {"LayerNormalization", "SimplifiedLayerNormalization",
                                          "SkipLayerNormalization",
                                          "SkipSimplifiedLayerNormalization", NULL};
    const char *d = n->domain, *op = n->op_type;
    if (!op) return -1;
    const bool onnx = !d[0], own = !strcmp(d, "ai.onnorm");
    if ((onnx || own) && op_in(op, chan)) return ONN_NS_CHANNEL;
    if ((onnx || own) && !strcmp(op, "GroupNormalization")) return ONN_NS_GROUP;
    if (onnx && op_in(op, rows_onnx)) return ONN_NS_ROW;
    if (!strcmp(d, "com.microsoft") && op_in(op, rows_ms)) return ONN_NS_ROW;
    if (onnx && !strcmp(op, "MeanVarianceNormalization")) return ONN_NS_BLOCK;
    return -1;
}

/* BatchNormalization uses its stored statistics (not training mode, see
 * ops/norm/batchnorm.c for the rule per opset). */
static bool bn_inference(const onn_node *n, const char **why)
{
    int outs = 0;
    for (int i = 0; i < n->n_out; i++)
        outs += n->out[i] >= 0;
    int64_t v;
    if (n->domain[0]) return true; /* ai.onnorm's form is inference only */
    if (n->opset >= 14) {
        if (onn_attr_int(n, "training_mode", 0, &v, NULL) && v)
            return *why = "training_mode", false;
    } else if (n->opset >= 7) {
        if (outs > 1) return *why = "training (more than one output)", false;
    } else if (!onn_attr_int(n, "is_test", 0, &v, NULL) || !v) {
        return *why = "training (is_test = 0)", false;
    }
    return true;
}

/* ---- element access -------------------------------------------------------- */

static bool readable_type(onnorm_dtype t)
{
    return t == ONNORM_FLOAT || t == ONNORM_DOUBLE || t == ONNORM_FLOAT16 || t == ONNORM_BFLOAT16;
}

static void to_double(const onnorm_tensor *t, int64_t off, int64_t n, double *dst)
{
    switch (t->dtype) {
    case ONNORM_FLOAT: {
        const float *p = (const float *)t->data + off;
        for (int64_t i = 0; i < n; i++)
            dst[i] = p[i];
        break;
    }
    case ONNORM_DOUBLE: memcpy(dst, (const double *)t->data + off, (size_t)n * sizeof *dst); break;
    case ONNORM_FLOAT16: {
        const uint16_t *p = (const uint16_t *)t->data + off;
        for (int64_t i = 0; i < n; i++)
            dst[i] = onn_f16_to_f32(p[i]);
        break;
    }
    case ONNORM_BFLOAT16: {
        const uint16_t *p = (const uint16_t *)t->data + off;
        for (int64_t i = 0; i < n; i++)
            dst[i] = onn_bf16_to_f32(p[i]);
        break;
    }
    default: break;
    }
}

/* ---- one side: accumulate a tensor ----------------------------------------- */

/* MeanVarianceNormalization's units: the axes it keeps, other than 0, which
 * must be consecutive ([a, b); a == b == rank when it keeps none). */
static onnorm_status block_axes(const onn_ns_node *nd, int r, int *a, int *b, onnorm_error *err)
{
    bool red[ONNORM_MAX_RANK] = {false};
    if (nd->n_axes < 0) {
        if (r < 4)
            return onn_fail(err, ONNORM_ERR_SHAPE,
                            "node '%s': the default axes [0, 2, 3] need rank >= 4, got %d",
                            nd->name, r);
        red[0] = red[2] = red[3] = true;
    }
    for (int k = 0; k < nd->n_axes; k++) {
        int ax;
        if (!onn_normalize_axis(nd->axes[k], r, &ax))
            return onn_fail(err, ONNORM_ERR_SHAPE, "node '%s': axis %lld out of range for rank %d",
                            nd->name, (long long)nd->axes[k], r);
        red[ax] = true;
    }
    *a = *b = -1;
    for (int k = 1; k < r; k++) {
        if (!red[k]) {
            if (*a < 0)
                *a = k;
            else if (*b >= 0)
                return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                                "node '%s': the axes it keeps are not consecutive", nd->name);
        } else if (*a >= 0 && *b < 0) {
            *b = k;
        }
    }
    if (*a < 0) *a = r;
    if (*b < 0) *b = r;
    return ONNORM_OK;
}

/* The tensor as [N samples][P][U units][I]. */
typedef struct view {
    int64_t n, p, u, i;
    int a, b; /* ONN_NS_BLOCK: the unit axes */
} view;

static onnorm_status make_view(const onn_ns_node *nd, const onnorm_tensor *t, view *v,
                               onnorm_error *err)
{
    const int r = t->rank;
    char shape[96];
    onn_shape_str(t->dims, r, shape, sizeof shape);
    if (r < 1) return onn_fail(err, ONNORM_ERR_SHAPE, "node '%s': a scalar input", nd->name);
    v->n = t->dims[0];
    switch (nd->kind) {
    case ONN_NS_CHANNEL:
    case ONN_NS_GROUP:
        if (r < 2)
            return onn_fail(err, ONNORM_ERR_SHAPE, "node '%s': input %s has no channel axis",
                            nd->name, shape);
        v->p = 1;
        v->u = t->dims[1];
        v->i = onn_dims_numel(t->dims, 2, r);
        if (nd->kind == ONN_NS_GROUP) {
            if (nd->groups <= 0 || v->u % nd->groups)
                return onn_fail(err, ONNORM_ERR_SHAPE,
                                "node '%s': %lld channels do not split into %lld groups", nd->name,
                                (long long)v->u, (long long)nd->groups);
            v->i *= v->u / nd->groups;
            v->u = nd->groups;
        }
        break;
    case ONN_NS_ROW:
    case ONN_NS_BLOCK: {
        int a = nd->a, b = r;
        if (nd->kind == ONN_NS_BLOCK) {
            onnorm_status st = block_axes(nd, r, &a, &b, err);
            if (st) return st;
            v->a = a, v->b = b;
        }
        if (nd->kind == ONN_NS_ROW && a < 0) a += r;
        if (a < 0 || a > r || b > r || a > b)
            return onn_fail(err, ONNORM_ERR_SHAPE, "node '%s': axis out of range for input %s",
                            nd->name, shape);
        if (a == 0) {
            v->n = 1; /* the whole tensor is one row: one sample */
            v->p = 1;
        } else {
            v->p = onn_dims_numel(t->dims, 1, a);
        }
        v->u = onn_dims_numel(t->dims, a, b);
        v->i = onn_dims_numel(t->dims, b, r);
        break;
    }
    }
    if (v->n < 0 || v->p < 0 || v->u <= 0 || v->i < 0)
        return onn_fail(err, ONNORM_ERR_SHAPE, "node '%s': input %s has no element per unit",
                        nd->name, shape);
    return ONNORM_OK;
}

static onnorm_status side_init(onn_ns_side *s, int64_t units, onnorm_error *err)
{
    s->units = units;
    const size_t u = (size_t)units;
    s->pop = calloc(u, sizeof *s->pop);
    s->lo = malloc(u * sizeof *s->lo);
    s->hi = malloc(u * sizeof *s->hi);
    s->nonzero = calloc(u, sizeof *s->nonzero);
    s->nonfinite = calloc(u, sizeof *s->nonfinite);
    if (!s->pop || !s->lo || !s->hi || !s->nonzero || !s->nonfinite)
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < u; k++)
        s->lo[k] = INFINITY, s->hi[k] = -INFINITY;
    s->vmin = INFINITY;
    s->vmax = -INFINITY;
    return ONNORM_OK;
}

static void side_free(onn_ns_side *s)
{
    free(s->pop);
    free(s->lo);
    free(s->hi);
    free(s->nonzero);
    free(s->nonfinite);
    free(s->row_mean);
    free(s->row_std);
}

static onnorm_status push_row(onn_ns_side *s, double mean, double std, onnorm_error *err)
{
    if (s->rows == s->row_cap) {
        const int64_t cap = s->row_cap ? 2 * s->row_cap : 256;
        double *m = realloc(s->row_mean, (size_t)cap * sizeof *m);
        if (m) s->row_mean = m;
        double *d = realloc(s->row_std, (size_t)cap * sizeof *d);
        if (d) s->row_std = d;
        if (!m || !d) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory (row statistics)");
        s->row_cap = cap;
    }
    s->row_mean[s->rows] = mean;
    s->row_std[s->rows] = std;
    s->rows++;
    return ONNORM_OK;
}

/* Moments of each unit over one sample x ([P][U][I] doubles) into mom[U], and
 * the side's counts. Two passes per unit: the mean, then the squared
 * deviations from it, with the first-order correction of the rounding in the
 * mean. */
static void sample_moments(onn_ns_side *s, const view *v, const double *x, onn_mom *mom)
{
    const int64_t U = v->u, I = v->i, P = v->p;
    for (int64_t u = 0; u < U; u++)
        mom[u] = (onn_mom){0, 0, 0};
    for (int64_t p = 0; p < P; p++)
        for (int64_t u = 0; u < U; u++) {
            const double *r = x + (p * U + u) * I;
            double sum = 0, n = 0, lo = s->lo[u], hi = s->hi[u];
            int64_t nz = 0, bad = 0;
            for (int64_t i = 0; i < I; i++) {
                const double e = r[i];
                nz += e != 0;
                if (!isfinite(e)) {
                    bad++;
                    if (isnan(e))
                        s->nan++;
                    else
                        s->inf++;
                    continue;
                }
                sum += e;
                n++;
                lo = e < lo ? e : lo;
                hi = e > hi ? e : hi;
            }
            s->lo[u] = lo;
            s->hi[u] = hi;
            s->nonzero[u] += nz;
            s->nonfinite[u] += bad;
            mom[u].n += n;
            mom[u].mean += sum; /* a sum until the loop below */
        }
    for (int64_t u = 0; u < U; u++) {
        if (mom[u].n > 0) mom[u].mean /= mom[u].n;
        if (s->lo[u] < s->vmin) s->vmin = s->lo[u];
        if (s->hi[u] > s->vmax) s->vmax = s->hi[u];
    }
    for (int64_t u = 0; u < U; u++)
        mom[u].m2 = 0;
    /* second pass: sum of d^2 and of d per unit, kept in m2 and a scratch */
    for (int64_t u = 0; u < U; u++) {
        double s2 = 0, s1 = 0;
        const double mu = mom[u].mean;
        for (int64_t p = 0; p < P; p++) {
            const double *r = x + (p * U + u) * I;
            for (int64_t i = 0; i < I; i++) {
                if (!isfinite(r[i])) continue;
                const double d = r[i] - mu;
                s2 += d * d;
                s1 += d;
            }
        }
        mom[u].m2 = mom[u].n > 0 ? fmax(s2 - s1 * s1 / mom[u].n, 0.0) : 0;
    }
    s->elements += P * U * I;
}

/* Every row of a sample ([P][U], I == 1) into the side's row list. */
static onnorm_status sample_rows(onn_ns_side *s, const view *v, const double *x, onnorm_error *err)
{
    const int64_t D = v->u * v->i;
    for (int64_t p = 0; p < v->p; p++) {
        const double *r = x + p * D;
        double sum = 0, n = 0;
        int64_t nz = 0;
        bool bad = false;
        for (int64_t i = 0; i < D; i++) {
            nz += r[i] != 0;
            if (!isfinite(r[i])) {
                bad = true;
                continue;
            }
            sum += r[i];
            n++;
        }
        s->rows_nonfinite += bad;
        s->rows_dead += nz == 0;
        if (n == 0) continue;
        const double mu = sum / n;
        double s2 = 0, s1 = 0;
        for (int64_t i = 0; i < D; i++) {
            if (!isfinite(r[i])) continue;
            const double d = r[i] - mu;
            s2 += d * d;
            s1 += d;
        }
        onnorm_status st = push_row(s, mu, sqrt(fmax(s2 - s1 * s1 / n, 0.0) / n), err);
        if (st) return st;
    }
    return ONNORM_OK;
}

/* ---- batch noise ------------------------------------------------------------ */

static onnorm_status level_alloc(onn_ns_level *L, int64_t units, onnorm_error *err)
{
    const size_t u = (size_t)units;
    L->cur = calloc(u, sizeof *L->cur);
    double *blk = calloc(7 * u, sizeof *blk);
    if (!L->cur || !blk) {
        free(blk);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory (batch statistics)");
    }
    L->kn = blk, L->km = blk + u, L->kv = blk + 2 * u, L->s1m = blk + 3 * u;
    L->s2m = blk + 4 * u, L->s1v = blk + 5 * u, L->s2v = blk + 6 * u;
    return ONNORM_OK;
}

static void level_free(onn_ns_level *L)
{
    free(L->cur);
    free(L->kn); /* the block */
}

/* A complete batch of 2^k samples: record it, and pass it up to 2^(k+1). */
static onnorm_status level_complete(onn_ns_node *nd, int k, const onn_mom *batch, onnorm_error *err)
{
    const int64_t U = nd->in.units;
    onn_ns_level *L = &nd->levels[k];
    L->batches++;
    for (int64_t u = 0; u < U; u++) {
        const onn_mom *b = &batch[u];
        if (b->n == 0) continue;
        const double m = b->mean, v = b->m2 / b->n;
        if (L->kn[u] == 0) L->km[u] = m, L->kv[u] = v;
        const double dm = m - L->km[u], dv = v - L->kv[u];
        L->kn[u]++;
        L->s1m[u] += dm;
        L->s2m[u] += dm * dm;
        L->s1v[u] += dv;
        L->s2v[u] += dv * dv;
    }
    if (k + 1 >= ONN_NS_MAX_LEVELS) return ONNORM_OK;
    if (k + 1 == nd->n_levels) {
        onnorm_status st = level_alloc(&nd->levels[k + 1], U, err);
        if (st) return st;
        nd->n_levels++;
    }
    onn_ns_level *up = &nd->levels[k + 1];
    for (int64_t u = 0; u < U; u++)
        onn_mom_merge(&up->cur[u], &batch[u]);
    if (++up->filled < 2) return ONNORM_OK;
    onnorm_status st = level_complete(nd, k + 1, up->cur, err);
    up->filled = 0;
    memset(up->cur, 0, (size_t)U * sizeof *up->cur);
    return st;
}

/* ---- the stats object ---------------------------------------------------------- */

static onnorm_status grow(void **p, size_t *cap, size_t need, size_t elem, onnorm_error *err)
{
    if (need <= *cap) return ONNORM_OK;
    size_t bytes;
    if (!onn_mul_size(need, elem, &bytes)) return onn_fail(err, ONNORM_ERR_NOMEM, "size overflow");
    void *q = realloc(*p, bytes);
    if (!q) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory (%zu bytes)", bytes);
    *p = q;
    *cap = need;
    return ONNORM_OK;
}

/* Reads the node's attributes that decide its units, and BatchNormalization's
 * stored statistics. Returns false (with nd->note) when the node is skipped. */
static bool describe(onn_ns_node *nd, const onn_graph *g, const onn_node *n)
{
    int64_t v;
    nd->a = 1, nd->b = 2;
    if (nd->kind == ONN_NS_GROUP) {
        if (!onn_attr_int(n, "num_groups", 0, &nd->groups, NULL) || nd->groups <= 0) {
            snprintf(nd->note, sizeof nd->note, "no valid num_groups attribute");
            return false;
        }
    } else if (nd->kind == ONN_NS_ROW) {
        const bool skip = strncmp(n->op_type, "Skip", 4) == 0;
        if (!skip && !onn_attr_int(n, "axis", -1, &v, NULL)) v = -1;
        if (skip) v = -1;
        nd->a = (int)v; /* resolved against each run's rank */
    } else if (nd->kind == ONN_NS_BLOCK) {
        const onn_attr *ax = onn_attr_find(n, "axes");
        if (ax && (ax->type != ONN_ATTR_INTS || ax->n > ONNORM_MAX_RANK)) {
            snprintf(nd->note, sizeof nd->note, "invalid axes attribute");
            return false;
        }
        nd->n_axes = ax ? (int)ax->n : -1;
        for (int k = 0; ax && k < (int)ax->n; k++)
            nd->axes[k] = ax->ints[k];
    }
    if (!strcmp(n->op_type, "BatchNormalization")) {
        const char *why = NULL;
        if (!bn_inference(n, &why)) {
            snprintf(nd->note, sizeof nd->note, "no drift: %s", why);
            return true;
        }
        float eps = 1e-5f;
        onn_attr_float(n, "epsilon", 1e-5f, &eps, NULL);
        nd->eps = eps;
        const onnorm_tensor *m = n->n_in > 4 && n->in[3] >= 0 ? onn_graph_const(g, n->in[3]) : NULL;
        const onnorm_tensor *va =
            n->n_in > 4 && n->in[4] >= 0 ? onn_graph_const(g, n->in[4]) : NULL;
        if (!m || !va || !readable_type(m->dtype) || !readable_type(va->dtype) ||
            onnorm_tensor_numel(m) != onnorm_tensor_numel(va) || onnorm_tensor_numel(m) <= 0) {
            snprintf(nd->note, sizeof nd->note,
                     "no drift: mean and var are not constants of one float type and size");
            return true;
        }
        const int64_t c = onnorm_tensor_numel(m);
        nd->stored_mean = malloc((size_t)c * sizeof(double));
        nd->stored_var = malloc((size_t)c * sizeof(double));
        if (!nd->stored_mean || !nd->stored_var) {
            snprintf(nd->note, sizeof nd->note, "no drift: out of memory");
            return true;
        }
        to_double(m, 0, c, nd->stored_mean);
        to_double(va, 0, c, nd->stored_var);
        nd->has_stored = true;
    }
    return true;
}

onnorm_status onnorm_stats_create(const onnorm_model *m, int num_threads, onnorm_stats **out,
                                  onnorm_error *err)
{
    if (!m || !out) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_stats_create: NULL argument");
    *out = NULL;
    if (m->unsupported)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s: the model has %d unsupported node(s)",
                        m->g->source, m->unsupported);
    const onn_graph *g = m->g;
    int count = 0;
    for (int i = 0; i < g->n_nodes; i++)
        count += norm_kind(&g->nodes[i]) >= 0;
    if (!count)
        return onn_fail(err, ONNORM_ERR_NOT_FOUND, "%s: the model has no normalization node",
                        g->source);
    onnorm_stats *st = calloc(1, sizeof *st);
    const char **names = calloc(2 * (size_t)count, sizeof *names);
    if (!st || !(st->nodes = calloc((size_t)count, sizeof *st->nodes)) || !names) {
        free(names);
        onnorm_stats_free(st);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    st->user = m;
    int n_names = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const onn_node *n = &g->nodes[i];
        const int kind = norm_kind(n);
        if (kind < 0 || n->n_in < 1 || n->in[0] < 0) continue;
        onn_ns_node *nd = &st->nodes[st->n_nodes++];
        nd->node = i;
        nd->name = n->name && n->name[0] ? n->name : g->values[n->out[0]].name;
        nd->op_type = n->op_type;
        nd->domain = n->domain;
        nd->kind = (onn_ns_kind)kind;
        nd->in_v = n->in[0];
        nd->out_v = n->n_out > 0 ? n->out[0] : -1;
        if (!describe(nd, g, n)) {
            nd->in_v = nd->out_v = -1; /* skipped; the note says why */
            continue;
        }
        names[n_names++] = g->values[nd->in_v].name;
        if (nd->out_v >= 0) names[n_names++] = g->values[nd->out_v].name;
    }
    /* A copy whose outputs are the recorded values (nodes that lead to none
     * of them are dropped), run as written. */
    onnorm_status rc = onnorm_model_capture(m, names, n_names, 0, &st->model, err);
    free(names);
    if (!rc) {
        onnorm_session_options so;
        onnorm_session_options_init(&so);
        so.num_threads = num_threads;
        so.optimization_level = 0;
        rc = onnorm_session_create(st->model, &so, &st->sess, err);
    }
    if (rc) {
        onnorm_stats_free(st);
        return rc;
    }
    *out = st;
    return ONNORM_OK;
}

onnorm_session *onnorm_stats_session(onnorm_stats *st)
{
    return st ? st->sess : NULL;
}

static onnorm_status get_tensor(onnorm_stats *st, int v, onnorm_tensor *t, onnorm_error *err)
{
    return onnorm_session_output(st->sess, st->user->g->values[v].name, t, err);
}

/* One recorded side of one run. noise: feed the batch levels (input only). */
static onnorm_status add_side(onnorm_stats *st, onn_ns_node *nd, onn_ns_side *s,
                              const onnorm_tensor *t, bool noise, onnorm_error *err)
{
    if (!readable_type(t->dtype))
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED, "node '%s': element type %s", nd->name,
                        onnorm_dtype_name(t->dtype));
    view v = {0, 0, 0, 0, 0, 0};
    onnorm_status rc = make_view(nd, t, &v, err);
    if (rc) return rc;
    if (nd->kind == ONN_NS_BLOCK) nd->a = v.a, nd->b = v.b;
    if (!s->pop) {
        if ((rc = side_init(s, v.u, err))) return rc;
    } else if (s->units != v.u) {
        char shape[96];
        return onn_fail(err, ONNORM_ERR_SHAPE,
                        "node '%s': %lld %ss in this run (shape %s), %lld before", nd->name,
                        (long long)v.u, onn_ns_unit_name(nd),
                        onn_shape_str(t->dims, t->rank, shape, sizeof shape), (long long)s->units);
    }
    s->rank = t->rank;
    memcpy(s->dims, t->dims, sizeof s->dims);
    int64_t per = v.p * v.u;
    if (v.p && v.u && (per / v.p != v.u || (v.i && per * v.i / v.i != per)))
        return onn_fail(err, ONNORM_ERR_NOMEM, "node '%s': size overflow", nd->name);
    per *= v.i;
    if ((rc =
             grow((void **)&st->buf, &st->buf_cap, (size_t)(per ? per : 1), sizeof(double), err)) ||
        (rc = grow((void **)&st->mom, &st->mom_cap, (size_t)v.u, sizeof(onn_mom), err)))
        return rc;
    if (noise && nd->n_levels == 0) {
        if ((rc = level_alloc(&nd->levels[0], v.u, err))) return rc;
        nd->n_levels = 1;
    }
    for (int64_t n = 0; n < v.n; n++) {
        to_double(t, n * per, per, st->buf);
        sample_moments(s, &v, st->buf, st->mom);
        for (int64_t u = 0; u < v.u; u++)
            onn_mom_merge(&s->pop[u], &st->mom[u]);
        if (nd->kind == ONN_NS_ROW && (rc = sample_rows(s, &v, st->buf, err))) return rc;
        if (noise) {
            nd->samples++;
            if ((rc = level_complete(nd, 0, st->mom, err))) return rc;
        }
    }
    return ONNORM_OK;
}

onnorm_status onnorm_stats_accumulate(onnorm_stats *st, onnorm_error *err)
{
    if (!st) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_stats_accumulate: NULL argument");
    onnorm_status rc = onnorm_session_run(st->sess, err);
    if (rc) return rc;
    for (int k = 0; k < st->n_nodes; k++) {
        onn_ns_node *nd = &st->nodes[k];
        if (nd->in_v < 0) continue;
        onnorm_tensor x, y;
        if ((rc = get_tensor(st, nd->in_v, &x, err)) ||
            (rc = add_side(st, nd, &nd->in, &x, true, err)))
            return rc;
        if (nd->out_v >= 0 && ((rc = get_tensor(st, nd->out_v, &y, err)) ||
                               (rc = add_side(st, nd, &nd->out, &y, false, err))))
            return rc;
        if (nd->has_stored && nd->runs == 0) {
            /* The stored statistics must be one per channel (spatial = 0 models
             * of opsets 1-8 store them per activation). */
            const onn_graph *g = st->user->g;
            const onnorm_tensor *m = onn_graph_const(g, g->nodes[nd->node].in[3]);
            if (onnorm_tensor_numel(m) != nd->in.units) {
                nd->has_stored = false;
                snprintf(nd->note, sizeof nd->note, "no drift: %lld stored means for %lld channels",
                         (long long)onnorm_tensor_numel(m), (long long)nd->in.units);
            }
        }
        nd->runs++;
    }
    st->runs++;
    return ONNORM_OK;
}

void onnorm_stats_free(onnorm_stats *st)
{
    if (!st) return;
    onnorm_session_free(st->sess);
    for (int k = 0; k < st->n_nodes; k++) {
        onn_ns_node *nd = &st->nodes[k];
        side_free(&nd->in);
        side_free(&nd->out);
        for (int l = 0; l < nd->n_levels; l++)
            level_free(&nd->levels[l]);
        free(nd->stored_mean);
        free(nd->stored_var);
    }
    free(st->nodes);
    onnorm_model_free(st->model);
    free(st->buf);
    free(st->mom);
    free(st);
}

/* ---- summaries ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* NumPy's default quantile: linear between the order statistics around
 * position q (n - 1). */
static double quantile(const double *v, int64_t n, double q)
{
    const double pos = q * (double)(n - 1);
    const int64_t lo = (int64_t)floor(pos);
    const int64_t hi = lo + 1 < n ? lo + 1 : lo;
    const double f = pos - (double)lo;
    return v[lo] + (v[hi] - v[lo]) * f;
}

onn_five onn_ns_five(double *v, int64_t n)
{
    onn_five f = {NAN, NAN, NAN, NAN, NAN, 0};
    int64_t k = 0; /* NaN entries (units without finite values) are left out */
    for (int64_t i = 0; i < n; i++)
        if (!isnan(v[i])) v[k++] = v[i];
    if (!k) return f;
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    f.n = k;
    f.min = v[0];
    f.max = v[k - 1];
    f.q1 = quantile(v, k, 0.25);
    f.median = quantile(v, k, 0.5);
    f.q3 = quantile(v, k, 0.75);
    return f;
}

double onn_ns_unit_mean(const onn_ns_side *s, int64_t u)
{
    return s->pop[u].n > 0 ? s->pop[u].mean : NAN;
}

double onn_ns_unit_std(const onn_ns_side *s, int64_t u)
{
    return s->pop[u].n > 0 ? sqrt(s->pop[u].m2 / s->pop[u].n) : NAN;
}

bool onn_ns_near_const(double mean, double std)
{
    return std < ONN_NS_CONST_REL * (1 + fabs(mean));
}

bool onn_ns_unit_dead(const onn_ns_side *s, int64_t u)
{
    return s->nonzero[u] == 0;
}

bool onn_ns_unit_const(const onn_ns_side *s, int64_t u)
{
    return !onn_ns_unit_dead(s, u) && s->pop[u].n > 0 &&
           onn_ns_near_const(onn_ns_unit_mean(s, u), onn_ns_unit_std(s, u));
}

const char *onn_ns_unit_name(const onn_ns_node *nd)
{
    switch (nd->kind) {
    case ONN_NS_CHANNEL: return "channel";
    case ONN_NS_GROUP: return "group";
    case ONN_NS_ROW: return "feature";
    case ONN_NS_BLOCK: return nd->b == nd->a + 1 && nd->a == 1 ? "channel" : "unit";
    }
    return "unit";
}

double onn_ns_shift(const onn_ns_node *nd, int64_t c)
{
    return fabs(onn_ns_unit_mean(&nd->in, c) - nd->stored_mean[c]) /
           sqrt(nd->stored_var[c] + nd->eps);
}

double onn_ns_ratio(const onn_ns_node *nd, int64_t c)
{
    const onn_mom *p = &nd->in.pop[c];
    const double var = p->n > 0 ? p->m2 / p->n : NAN;
    return (var + nd->eps) / (nd->stored_var[c] + nd->eps);
}

bool onn_ns_drift_of(const onn_ns_node *nd, onn_ns_drift *d)
{
    if (!nd->has_stored || !nd->in.pop) return false;
    *d = (onn_ns_drift){0, 0, INFINITY, -INFINITY, -1, -1, false};
    double sum = 0, worst_off = -1;
    int64_t n = 0;
    for (int64_t c = 0; c < nd->in.units; c++) {
        const double s = onn_ns_shift(nd, c), r = onn_ns_ratio(nd, c);
        if (isnan(s) || isnan(r)) continue;
        if (s > d->max_shift || d->worst_shift < 0) d->max_shift = s, d->worst_shift = c;
        const double off = fabs(log(r));
        if (off > worst_off) worst_off = off, d->worst_ratio = c;
        if (r < d->min_ratio) d->min_ratio = r;
        if (r > d->max_ratio) d->max_ratio = r;
        sum += s;
        n++;
    }
    if (!n) return false;
    d->mean_shift = sum / (double)n;
    d->flagged = d->max_shift > ONN_NS_SHIFT_FLAG || d->min_ratio < ONN_NS_RATIO_LO ||
                 d->max_ratio > ONN_NS_RATIO_HI;
    return true;
}

int onn_ns_noise_of(const onn_ns_node *nd, onn_ns_noise *out, int max)
{
    const onn_ns_side *s = &nd->in;
    int k = 0;
    for (int l = 0; l < nd->n_levels && k < max; l++) {
        const onn_ns_level *L = &nd->levels[l];
        if (L->batches < 2) continue;
        double em = 0, ev = 0, bv = 0, cnt = 0;
        int64_t units = 0;
        for (int64_t u = 0; u < s->units; u++) {
            if (s->pop[u].n == 0 || L->kn[u] == 0 || onn_ns_unit_dead(s, u) ||
                onn_ns_unit_const(s, u))
                continue;
            const double mu = s->pop[u].mean, var = s->pop[u].m2 / s->pop[u].n;
            if (!(var > 0)) continue;
            const double dm = mu - L->km[u], dv = var - L->kv[u], kn = L->kn[u];
            const double sm = fmax(L->s2m[u] - 2 * dm * L->s1m[u] + kn * dm * dm, 0.0);
            const double sv = fmax(L->s2v[u] - 2 * dv * L->s1v[u] + kn * dv * dv, 0.0);
            em += sm / var;
            ev += sv / (var * var);
            bv += (L->s1v[u] - kn * dv) / var;
            cnt += kn;
            units++;
        }
        if (!units) continue;
        out[k++] = (onn_ns_noise){(int64_t)1 << l, L->batches,     units,
                                  sqrt(em / cnt),  sqrt(ev / cnt), bv / cnt};
    }
    return k;
}

/* ---- the public summary ------------------------------------------------------- */

int onnorm_stats_node_count(const onnorm_stats *st)
{
    return st ? st->n_nodes : 0;
}

onnorm_status onnorm_stats_node(const onnorm_stats *st, int i, onnorm_stats_summary *out,
                                onnorm_error *err)
{
    if (!st || !out) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_stats_node: NULL argument");
    if (i < 0 || i >= st->n_nodes)
        return onn_fail(err, ONNORM_ERR_NOT_FOUND, "no norm node %d (there are %d)", i,
                        st->n_nodes);
    const onn_ns_node *nd = &st->nodes[i];
    memset(out, 0, sizeof *out);
    out->name = nd->name;
    out->op_type = nd->op_type;
    out->domain = nd->domain;
    out->unit = onn_ns_unit_name(nd);
    out->units = nd->in.units;
    out->samples = nd->samples;
    out->nan = nd->in.nan, out->inf = nd->in.inf;
    out->out_nan = nd->out.nan, out->out_inf = nd->out.inf;
    for (int64_t u = 0; nd->in.pop && u < nd->in.units; u++) {
        out->dead += onn_ns_unit_dead(&nd->in, u);
        out->near_constant += onn_ns_unit_const(&nd->in, u);
    }
    onn_ns_drift d;
    if (onn_ns_drift_of(nd, &d)) {
        out->has_drift = 1;
        out->max_shift = d.max_shift, out->mean_shift = d.mean_shift;
        out->min_ratio = d.min_ratio, out->max_ratio = d.max_ratio;
        if (d.flagged) out->flags |= ONNORM_STATS_DRIFT;
    }
    if (out->nan || out->inf || out->out_nan || out->out_inf) out->flags |= ONNORM_STATS_NONFINITE;
    if (out->dead) out->flags |= ONNORM_STATS_DEAD;
    if (out->near_constant) out->flags |= ONNORM_STATS_NEAR_CONST;
    return ONNORM_OK;
}
