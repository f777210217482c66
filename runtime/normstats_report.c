/*
 * Writers for the normalization statistics (onnorm_stats_write): one text
 * line per node, JSON for tools, and one self-contained HTML page with
 * inline SVG charts (no script, no network, no external style).
 *
 * JSON schema (version 1). Numbers that are not finite are written as null.
 * {
 *   "onnorm_stats": 1,
 *   "model": path, "runs": runs accumulated,
 *   "thresholds": {"near_constant_rel": 1e-6, "shift": 0.5,
 *                  "ratio_min": 0.5, "ratio_max": 2},
 *   "nodes": [ {
 *     "name", "op_type", "domain",
 *     "unit": "channel" | "group" | "feature" | "unit",
 *     "units": count, "samples": samples along axis 0 (over every run),
 *     "note": why something is missing ("" when nothing),
 *     "flags": ["drift", "nonfinite", "dead", "near_constant"],
 *     "input", "output": side or null (never recorded) {
 *        "shape": last run's shape, "elements", "nan", "inf",
 *        "min", "max": finite extremes,
 *        "mean", "std": {"min", "q1", "median", "q3", "max"} over units
 *                       (NumPy's default linear quantiles),
 *        "dead": [unit indices], "near_constant": [unit indices],
 *        "unit_mean": [per unit], "unit_std": [per unit],
 *        "rows" (feature units only): {"count", "dead", "nonfinite",
 *                 "mean": five-number summary, "std": five-number summary}
 *     },
 *     "drift": null, or for BatchNormalization in inference {
 *        "epsilon", "max_shift", "mean_shift", "min_ratio", "max_ratio",
 *        "worst_shift_channel", "worst_ratio_channel", "flagged",
 *        "shift": [per channel], "ratio": [per channel],
 *        "stored_mean": [...], "stored_var": [...] },
 *     "batch_noise": [ {"batch", "batches", "units", "mean_rms", "var_rms",
 *                       "var_bias"} ... ]   (batch sizes 1, 2, 4, ...)
 *   } ... ]
 * }
 * Definitions are in runtime/normstats.c. Per-unit arrays are written in
 * full (their size is the unit count); the rows are summarized, not listed.
 *
 * The HTML page: a table with one row per node (the text line's numbers),
 * then the charts, each one <svg>: the standardized mean shift per
 * BatchNormalization (bars: max and mean over channels, the 0.5 flag line);
 * the variance ratio per BatchNormalization (min..max on a log axis, the
 * [0.5, 2] band); channel means and channel stds per node (box plots over
 * units: whiskers min..max, box q1..q3, median line; the stds on a log
 * axis); and the batch-size noise (mean_rms and var_rms against the batch
 * size, log-log, one line per node). The drift charts are left out when no
 * node has drift, the noise charts when no node has two batches.
 */
#include "runtime/normstats.h"
#include "runtime/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ------------------------------------------------------------- */

static void jnum(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* Text and HTML escaping for element content and attributes. */
static void hstr(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (*p < 0x20)
                fputc(' ', f);
            else
                fputc(*p, f);
        }
    }
}

/* Per-unit means or stds of a side (a malloc'ed array, NaN for units without
 * finite values). */
static double *unit_values(const onn_ns_side *s, bool std)
{
    double *v = malloc((size_t)(s->units ? s->units : 1) * sizeof *v);
    if (!v) return NULL;
    for (int64_t u = 0; u < s->units; u++)
        v[u] = std ? onn_ns_unit_std(s, u) : onn_ns_unit_mean(s, u);
    return v;
}

static onnorm_status side_five(const onn_ns_side *s, bool std, onn_five *out, onnorm_error *err)
{
    double *v = unit_values(s, std);
    if (!v) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    *out = onn_ns_five(v, s->units);
    free(v);
    return ONNORM_OK;
}

static onnorm_status rows_five(const double *rows, int64_t n, onn_five *out, onnorm_error *err)
{
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    if (n) memcpy(v, rows, (size_t)n * sizeof *v);
    *out = onn_ns_five(v, n);
    free(v);
    return ONNORM_OK;
}

#define MAX_NOISE ONN_NS_MAX_LEVELS

/* ---- text --------------------------------------------------------------- */

static void tnum(FILE *f, double v)
{
    fprintf(f, "%.4g", v);
}

static void trange(FILE *f, const char *what, const onn_five *q)
{
    fprintf(f, " %s ", what);
    tnum(f, q->min);
    fputs("..", f);
    tnum(f, q->median);
    fputs("..", f);
    tnum(f, q->max);
}

static onnorm_status write_text(const onnorm_stats *st, FILE *f, onnorm_error *err)
{
    for (int k = 0; k < st->n_nodes; k++) {
        const onn_ns_node *nd = &st->nodes[k];
        onnorm_stats_summary sum;
        onnorm_stats_node(st, k, &sum, NULL);
        fprintf(f, "%s '%s':", nd->op_type, nd->name);
        if (!nd->in.pop) {
            fprintf(f, " not recorded%s%s\n", nd->note[0] ? ": " : "", nd->note);
            continue;
        }
        fprintf(f, " %lld %ss, %lld samples;", (long long)nd->in.units, onn_ns_unit_name(nd),
                (long long)nd->samples);
        onn_five m, s;
        onnorm_status rc;
        if ((rc = side_five(&nd->in, false, &m, err)) || (rc = side_five(&nd->in, true, &s, err)))
            return rc;
        fputs(" in", f);
        trange(f, "mean", &m);
        trange(f, "std", &s);
        if (nd->kind == ONN_NS_ROW) {
            onn_five r;
            if ((rc = rows_five(nd->in.row_std, nd->in.rows, &r, err))) return rc;
            trange(f, "row-std", &r);
        }
        fprintf(f, " nan %lld inf %lld dead %lld const %lld;", (long long)sum.nan,
                (long long)sum.inf, (long long)sum.dead, (long long)sum.near_constant);
        if (nd->out.pop) {
            if ((rc = side_five(&nd->out, false, &m, err)) ||
                (rc = side_five(&nd->out, true, &s, err)))
                return rc;
            fputs(" out", f);
            trange(f, "mean", &m);
            trange(f, "std", &s);
            fprintf(f, " nan %lld inf %lld;", (long long)sum.out_nan, (long long)sum.out_inf);
        }
        if (sum.has_drift) {
            fputs(" shift max ", f);
            tnum(f, sum.max_shift);
            fputs(" mean ", f);
            tnum(f, sum.mean_shift);
            fputs(" var-ratio ", f);
            tnum(f, sum.min_ratio);
            fputs("..", f);
            tnum(f, sum.max_ratio);
            fputc(';', f);
        }
        onn_ns_noise nz[MAX_NOISE];
        const int nn = onn_ns_noise_of(nd, nz, MAX_NOISE);
        if (nn) {
            fprintf(f, " batch %lld: mean-err ", (long long)nz[0].batch);
            tnum(f, nz[0].mean_rms);
            fputs(" var-err ", f);
            tnum(f, nz[0].var_rms);
            fputc(';', f);
        }
        if (sum.flags) {
            fputs(" FLAGS", f);
            if (sum.flags & ONNORM_STATS_DRIFT) fputs(" drift", f);
            if (sum.flags & ONNORM_STATS_NONFINITE) fputs(" nonfinite", f);
            if (sum.flags & ONNORM_STATS_DEAD) fputs(" dead", f);
            if (sum.flags & ONNORM_STATS_NEAR_CONST) fputs(" near-constant", f);
        }
        if (nd->note[0]) fprintf(f, " (%s)", nd->note);
        fputc('\n', f);
    }
    return ONNORM_OK;
}

/* ---- JSON --------------------------------------------------------------- */

static void jfive(FILE *f, const onn_five *q)
{
    fputs("{\"min\": ", f);
    jnum(f, q->min);
    fputs(", \"q1\": ", f);
    jnum(f, q->q1);
    fputs(", \"median\": ", f);
    jnum(f, q->median);
    fputs(", \"q3\": ", f);
    jnum(f, q->q3);
    fputs(", \"max\": ", f);
    jnum(f, q->max);
    fputc('}', f);
}

static void jarray(FILE *f, const double *v, int64_t n)
{
    fputc('[', f);
    for (int64_t i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        jnum(f, v[i]);
    }
    fputc(']', f);
}

static void junits(FILE *f, const onn_ns_side *s, bool dead)
{
    fputc('[', f);
    bool first = true;
    for (int64_t u = 0; u < s->units; u++)
        if (dead ? onn_ns_unit_dead(s, u) : onn_ns_unit_const(s, u)) {
            fprintf(f, first ? "%lld" : ", %lld", (long long)u);
            first = false;
        }
    fputc(']', f);
}

static onnorm_status jside(FILE *f, const onn_ns_node *nd, const onn_ns_side *s, onnorm_error *err)
{
    if (!s->pop) {
        fputs("null", f);
        return ONNORM_OK;
    }
    fputs("{\"shape\": [", f);
    for (int i = 0; i < s->rank; i++)
        fprintf(f, i ? ", %lld" : "%lld", (long long)s->dims[i]);
    fprintf(f, "], \"elements\": %lld, \"nan\": %lld, \"inf\": %lld, \"min\": ",
            (long long)s->elements, (long long)s->nan, (long long)s->inf);
    jnum(f, s->vmin);
    fputs(", \"max\": ", f);
    jnum(f, s->vmax);
    onn_five q;
    onnorm_status rc;
    if ((rc = side_five(s, false, &q, err))) return rc;
    fputs(", \"mean\": ", f);
    jfive(f, &q);
    if ((rc = side_five(s, true, &q, err))) return rc;
    fputs(", \"std\": ", f);
    jfive(f, &q);
    fputs(", \"dead\": ", f);
    junits(f, s, true);
    fputs(", \"near_constant\": ", f);
    junits(f, s, false);
    double *v = unit_values(s, false);
    if (!v) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    fputs(", \"unit_mean\": ", f);
    jarray(f, v, s->units);
    free(v);
    if (!(v = unit_values(s, true))) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    fputs(", \"unit_std\": ", f);
    jarray(f, v, s->units);
    free(v);
    if (nd->kind == ONN_NS_ROW) {
        fprintf(f, ", \"rows\": {\"count\": %lld, \"dead\": %lld, \"nonfinite\": %lld, \"mean\": ",
                (long long)s->rows, (long long)s->rows_dead, (long long)s->rows_nonfinite);
        if ((rc = rows_five(s->row_mean, s->rows, &q, err))) return rc;
        jfive(f, &q);
        fputs(", \"std\": ", f);
        if ((rc = rows_five(s->row_std, s->rows, &q, err))) return rc;
        jfive(f, &q);
        fputc('}', f);
    }
    fputc('}', f);
    return ONNORM_OK;
}

static onnorm_status jdrift(FILE *f, const onn_ns_node *nd, onnorm_error *err)
{
    onn_ns_drift d;
    if (!onn_ns_drift_of(nd, &d)) {
        fputs("null", f);
        return ONNORM_OK;
    }
    const int64_t c = nd->in.units;
    double *v = malloc((size_t)c * sizeof *v);
    if (!v) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    fputs("{\"epsilon\": ", f);
    jnum(f, nd->eps);
    fputs(", \"max_shift\": ", f);
    jnum(f, d.max_shift);
    fputs(", \"mean_shift\": ", f);
    jnum(f, d.mean_shift);
    fputs(", \"min_ratio\": ", f);
    jnum(f, d.min_ratio);
    fputs(", \"max_ratio\": ", f);
    jnum(f, d.max_ratio);
    fprintf(f, ", \"worst_shift_channel\": %lld, \"worst_ratio_channel\": %lld, \"flagged\": %s",
            (long long)d.worst_shift, (long long)d.worst_ratio, d.flagged ? "true" : "false");
    for (int64_t i = 0; i < c; i++)
        v[i] = onn_ns_shift(nd, i);
    fputs(", \"shift\": ", f);
    jarray(f, v, c);
    for (int64_t i = 0; i < c; i++)
        v[i] = onn_ns_ratio(nd, i);
    fputs(", \"ratio\": ", f);
    jarray(f, v, c);
    fputs(", \"stored_mean\": ", f);
    jarray(f, nd->stored_mean, c);
    fputs(", \"stored_var\": ", f);
    jarray(f, nd->stored_var, c);
    fputc('}', f);
    free(v);
    return ONNORM_OK;
}

static onnorm_status write_json(const onnorm_stats *st, FILE *f, onnorm_error *err)
{
    fputs("{\"onnorm_stats\": 1, \"model\": ", f);
    jstr(f, st->user->g->source);
    fprintf(f, ", \"runs\": %lld, \"thresholds\": {\"near_constant_rel\": ", (long long)st->runs);
    jnum(f, ONN_NS_CONST_REL);
    fputs(", \"shift\": ", f);
    jnum(f, ONN_NS_SHIFT_FLAG);
    fputs(", \"ratio_min\": ", f);
    jnum(f, ONN_NS_RATIO_LO);
    fputs(", \"ratio_max\": ", f);
    jnum(f, ONN_NS_RATIO_HI);
    fputs("},\n \"nodes\": [", f);
    for (int k = 0; k < st->n_nodes; k++) {
        const onn_ns_node *nd = &st->nodes[k];
        onnorm_stats_summary sum;
        onnorm_stats_node(st, k, &sum, NULL);
        fputs(k ? ",\n  {\"name\": " : "\n  {\"name\": ", f);
        jstr(f, nd->name);
        fputs(", \"op_type\": ", f);
        jstr(f, nd->op_type);
        fputs(", \"domain\": ", f);
        jstr(f, nd->domain);
        fputs(", \"unit\": ", f);
        jstr(f, onn_ns_unit_name(nd));
        fprintf(f, ", \"units\": %lld, \"samples\": %lld, \"note\": ", (long long)nd->in.units,
                (long long)nd->samples);
        jstr(f, nd->note);
        fputs(", \"flags\": [", f);
        const char *sep = "";
        static const char *const names[] = {"drift", "nonfinite", "dead", "near_constant"};
        for (int b = 0; b < 4; b++)
            if (sum.flags & (1u << b)) fprintf(f, "%s\"%s\"", sep, names[b]), sep = ", ";
        fputs("],\n   \"input\": ", f);
        onnorm_status rc;
        if ((rc = jside(f, nd, &nd->in, err))) return rc;
        fputs(",\n   \"output\": ", f);
        if ((rc = jside(f, nd, &nd->out, err))) return rc;
        fputs(",\n   \"drift\": ", f);
        if ((rc = jdrift(f, nd, err))) return rc;
        fputs(",\n   \"batch_noise\": [", f);
        onn_ns_noise nz[MAX_NOISE];
        const int nn = onn_ns_noise_of(nd, nz, MAX_NOISE);
        for (int i = 0; i < nn; i++) {
            fprintf(f, "%s{\"batch\": %lld, \"batches\": %lld, \"units\": %lld, \"mean_rms\": ",
                    i ? ", " : "", (long long)nz[i].batch, (long long)nz[i].batches,
                    (long long)nz[i].units);
            jnum(f, nz[i].mean_rms);
            fputs(", \"var_rms\": ", f);
            jnum(f, nz[i].var_rms);
            fputs(", \"var_bias\": ", f);
            jnum(f, nz[i].var_bias);
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fputs("\n]}\n", f);
    return ONNORM_OK;
}

/* ---- HTML and SVG ---------------------------------------------------------- */

/* A plot area: data x in [x0, x1], y in [y0, y1] (logarithms when log). */
typedef struct plot {
    double left, top, width, height; /* pixels */
    double x0, x1, y0, y1;
    bool xlog, ylog;
} plot;

#define SVG_W 720.0
#define SVG_H 260.0

static double px(const plot *p, double x)
{
    if (p->xlog) x = log10(x);
    return p->left + (x - p->x0) / (p->x1 - p->x0) * p->width;
}

static double py(const plot *p, double y)
{
    if (p->ylog) y = log10(y);
    double t = (y - p->y0) / (p->y1 - p->y0);
    t = t < -0.02 ? -0.02 : t > 1.02 ? 1.02 : t;
    return p->top + (1 - t) * p->height;
}

/* A "nice" step for about n ticks over span. */
static double nice_step(double span, int n)
{
    const double raw = span / n, mag = pow(10, floor(log10(raw)));
    const double r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

static void svg_open(FILE *f, const char *title, const char *desc)
{
    fputs("<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"260\" "
          "viewBox=\"0 0 720 260\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">\n"
          "<title>",
          f);
    hstr(f, title);
    fputs("</title>\n<rect width=\"720\" height=\"260\" fill=\"#fff\"/>\n", f);
    fputs("<text x=\"360\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">",
          f);
    hstr(f, title);
    fputs("</text>\n", f);
    (void)desc;
}

static void svg_close(FILE *f, const char *caption)
{
    fputs("</svg>\n<figcaption>", f);
    hstr(f, caption);
    fputs("</figcaption>\n</figure>\n", f);
}

/* Y axis with ticks and grid lines, and the frame. */
static void y_axis(FILE *f, const plot *p, const char *label)
{
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#888\"/>\n",
            p->left, p->top, p->width, p->height);
    if (p->ylog) {
        /* Unlabelled lines at 2 and 5 when there are few decades. */
        for (int e = (int)floor(p->y0); p->y1 - p->y0 <= 3 && e < (int)ceil(p->y1); e++)
            for (int m = 2; m <= 5; m += 3) {
                const double y = py(p, m * pow(10, e));
                fprintf(f,
                        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#f0f0f0\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                        "fill=\"#999\">%g</text>\n",
                        p->left, p->left + p->width, y, y, p->left - 4, y + 4, m * pow(10, e));
            }
        for (int e = (int)floor(p->y0); e <= (int)ceil(p->y1); e++) {
            if (e < p->y0 - 1e-9 || e > p->y1 + 1e-9) continue;
            const double y = py(p, pow(10, e));
            fprintf(f,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                    p->left, p->left + p->width, y, y, p->left - 4, y + 4, pow(10, e));
        }
    } else {
        const double step = nice_step(p->y1 - p->y0, 5);
        for (double v = ceil(p->y0 / step) * step; v <= p->y1 + step * 1e-9; v += step) {
            const double y = py(p, v);
            fprintf(f,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                    p->left, p->left + p->width, y, y, p->left - 4, y + 4,
                    fabs(v) < step * 1e-9 ? 0.0 : v);
        }
    }
    fprintf(f,
            "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">",
            p->top + p->height / 2, p->top + p->height / 2);
    hstr(f, label);
    fputs("</text>\n", f);
}

/* X labels for categorical charts: node numbers (the table gives names). */
static void x_nodes(FILE *f, const plot *p, const int *idx, int n)
{
    const int every = n > 40 ? (n + 39) / 40 : 1;
    for (int i = 0; i < n; i += every)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
                p->left + (i + 0.5) * p->width / n, p->top + p->height + 13, idx[i]);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">node (table row)</text>\n",
            p->left + p->width / 2, p->top + p->height + 28);
}

static plot cat_plot(double y0, double y1, bool ylog)
{
    plot p = {60, 28, SVG_W - 80, SVG_H - 28 - 44, 0, 1, y0, y1, false, ylog};
    if (p.y1 <= p.y0) p.y1 = p.y0 + 1;
    return p;
}

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                      "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

static void chart_shift(FILE *f, const onnorm_stats *st, const int *bn, int n)
{
    double hi = ONN_NS_SHIFT_FLAG * 1.2;
    onn_ns_drift d;
    for (int i = 0; i < n; i++)
        if (onn_ns_drift_of(&st->nodes[bn[i]], &d) && d.max_shift > hi) hi = d.max_shift;
    plot p = cat_plot(0, hi * 1.05, false);
    svg_open(f, "BatchNormalization drift: standardized mean shift", NULL);
    y_axis(f, &p, "|mu - mu_s| / sqrt(var_s + eps)");
    const double slot = p.width / n, bw = slot * 0.36 < 18 ? slot * 0.36 : 18;
    for (int i = 0; i < n; i++) {
        const onn_ns_node *nd = &st->nodes[bn[i]];
        onn_ns_drift_of(nd, &d);
        const double x = p.left + (i + 0.5) * slot - bw, base = py(&p, 0);
        const double ym = py(&p, d.max_shift), ya = py(&p, d.mean_shift);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                x, ym, bw, base - ym, d.flagged ? "#d62728" : "#1f77b4");
        hstr(f, nd->name);
        fprintf(f, ": max shift %.4g (channel %lld)</title></rect>\n", d.max_shift,
                (long long)d.worst_shift);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#9ecae1\">"
                "<title>",
                x + bw, ya, bw, base - ya);
        hstr(f, nd->name);
        fprintf(f, ": mean shift %.4g</title></rect>\n", d.mean_shift);
    }
    const double yt = py(&p, ONN_NS_SHIFT_FLAG);
    fprintf(f,
            "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
            "stroke-dasharray=\"5,3\"/>\n",
            p.left, p.left + p.width, yt, yt);
    int idx[4096];
    const int m = n < 4096 ? n : 4096;
    for (int i = 0; i < m; i++)
        idx[i] = bn[i] + 1;
    x_nodes(f, &p, idx, m);
    svg_close(f, "Per BatchNormalization: max (dark; red when flagged) and mean (light) over "
                 "channels of the standardized mean shift; dashed: the 0.5 flag threshold.");
}

static void chart_ratio(FILE *f, const onnorm_stats *st, const int *bn, int n)
{
    double lo = ONN_NS_RATIO_LO / 1.5, hi = ONN_NS_RATIO_HI * 1.5;
    onn_ns_drift d;
    for (int i = 0; i < n; i++)
        if (onn_ns_drift_of(&st->nodes[bn[i]], &d)) {
            if (d.min_ratio > 0 && d.min_ratio < lo) lo = d.min_ratio;
            if (d.max_ratio > hi) hi = d.max_ratio;
        }
    plot p = cat_plot(floor(log10(lo)), ceil(log10(hi)), true);
    svg_open(f, "BatchNormalization drift: variance ratio", NULL);
    y_axis(f, &p, "(var + eps) / (stored var + eps)");
    const double yb0 = py(&p, ONN_NS_RATIO_HI), yb1 = py(&p, ONN_NS_RATIO_LO);
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2ca02c\" "
            "fill-opacity=\"0.12\"/>\n",
            p.left, yb0, p.width, yb1 - yb0);
    const double slot = p.width / n;
    for (int i = 0; i < n; i++) {
        const onn_ns_node *nd = &st->nodes[bn[i]];
        onn_ns_drift_of(nd, &d);
        const double x = p.left + (i + 0.5) * slot;
        const double y0 = py(&p, d.min_ratio > 0 ? d.min_ratio : pow(10, p.y0));
        const double y1 = py(&p, d.max_ratio);
        const bool out = d.min_ratio < ONN_NS_RATIO_LO || d.max_ratio > ONN_NS_RATIO_HI;
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"%.1f\"><title>",
                x, x, y0, y1 + (fabs(y0 - y1) < 2 ? -2 : 0), out ? "#d62728" : "#1f77b4",
                slot * 0.4 < 8 ? slot * 0.4 + 1 : 8);
        hstr(f, nd->name);
        fprintf(f, ": ratio %.4g .. %.4g</title></line>\n", d.min_ratio, d.max_ratio);
    }
    int idx[4096];
    const int m = n < 4096 ? n : 4096;
    for (int i = 0; i < m; i++)
        idx[i] = bn[i] + 1;
    x_nodes(f, &p, idx, m);
    svg_close(f, "Per BatchNormalization: the range over channels of the variance ratio "
                 "(log axis); shaded: [0.5, 2], outside which a layer is flagged (red).");
}

/* Box plots over units of each node's input channel means or stds. */
static onnorm_status chart_boxes(FILE *f, const onnorm_stats *st, bool std, onnorm_error *err)
{
    int n = 0;
    onn_five *q = calloc((size_t)st->n_nodes, sizeof *q);
    int *idx = calloc((size_t)st->n_nodes, sizeof *idx);
    if (!q || !idx) {
        free(q);
        free(idx);
        return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < st->n_nodes; k++) {
        const onn_ns_node *nd = &st->nodes[k];
        if (!nd->in.pop) continue;
        onn_five v;
        onnorm_status rc = side_five(&nd->in, std, &v, err);
        if (rc) {
            free(q);
            free(idx);
            return rc;
        }
        if (!v.n) continue;
        if (std) {
            /* On the log axis zero stds sit at the floor. */
            if (v.max <= 0) continue;
        }
        q[n] = v;
        idx[n++] = k + 1;
        const double a = std ? (v.min > 0 ? v.min : v.max * 1e-3) : v.min;
        if (a < lo) lo = a;
        if (v.max > hi) hi = v.max;
    }
    if (!n) {
        free(q);
        free(idx);
        return ONNORM_OK;
    }
    plot p;
    if (std) {
        p = cat_plot(floor(log10(lo)), ceil(log10(hi)), true);
    } else {
        const double pad = (hi - lo) * 0.05 + 1e-12;
        p = cat_plot(lo - pad, hi + pad, false);
    }
    svg_open(f, std ? "Input std per unit, by node" : "Input mean per unit, by node", NULL);
    y_axis(f, &p, std ? "std (log)" : "mean");
    const double slot = p.width / n, bw = slot * 0.5 < 24 ? slot * 0.5 : 24;
    const double floor_v = pow(10, p.y0);
    for (int i = 0; i < n; i++) {
        const onn_five *v = &q[i];
#define CL(x) (std && (x) <= floor_v ? floor_v : (x))
        const double x = p.left + (i + 0.5) * slot;
        const double ymin = py(&p, CL(v->min)), ymax = py(&p, CL(v->max));
        const double yq1 = py(&p, CL(v->q1)), yq3 = py(&p, CL(v->q3)), ymed = py(&p, CL(v->median));
#undef CL
        fprintf(f, "<g><title>");
        hstr(f, st->nodes[idx[i] - 1].name);
        fprintf(f, ": min %.4g q1 %.4g median %.4g q3 %.4g max %.4g</title>\n", v->min, v->q1,
                v->median, v->q3, v->max);
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>\n"
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c6dbef\" "
                "stroke=\"#1f77b4\"/>\n"
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#08306b\" "
                "stroke-width=\"2\"/></g>\n",
                x, x, ymax, ymin, x - bw / 2, yq3, bw, yq1 - yq3 < 1 ? 1 : yq1 - yq3, x - bw / 2,
                x + bw / 2, ymed, ymed);
    }
    x_nodes(f, &p, idx, n);
    svg_close(f, std ? "Distribution over units (channels, groups or features) of each node's "
                       "input std: whiskers min..max, box quartiles, line median (log axis)."
                     : "Distribution over units (channels, groups or features) of each node's "
                       "input mean: whiskers min..max, box quartiles, line median.");
    free(q);
    free(idx);
    return ONNORM_OK;
}

/* mean_rms (var == false) or var_rms against the batch size, log-log. */
static void chart_noise(FILE *f, const onnorm_stats *st, bool var)
{
    double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0;
    onn_ns_noise nz[MAX_NOISE];
    for (int k = 0; k < st->n_nodes; k++) {
        const int nn = onn_ns_noise_of(&st->nodes[k], nz, MAX_NOISE);
        for (int i = 0; i < nn; i++) {
            const double y = var ? nz[i].var_rms : nz[i].mean_rms;
            if (!(y > 0)) continue;
            xlo = fmin(xlo, (double)nz[i].batch);
            xhi = fmax(xhi, (double)nz[i].batch);
            ylo = fmin(ylo, y);
            yhi = fmax(yhi, y);
        }
    }
    if (!(yhi > 0)) return;
    plot p = {60, 28, SVG_W - 230, SVG_H - 28 - 44, 0, 1, 0, 1, true, true};
    p.x0 = log10(xlo) - 0.1;
    p.x1 = log10(xhi > xlo ? xhi : xlo * 2) + 0.1;
    p.y0 = floor(log10(ylo));
    p.y1 = ceil(log10(yhi));
    if (p.y1 <= p.y0) p.y1 = p.y0 + 1;
    svg_open(
        f, var ? "Batch variance error against batch size" : "Batch mean error against batch size",
        NULL);
    y_axis(f, &p, var ? "RMS of v_batch / var - 1" : "RMS of (m_batch - mean) / std");
    for (double b = 1; b <= xhi; b *= 2) {
        if (b < xlo) continue;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", px(&p, b),
                p.top + p.height + 13, b);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">batch size (samples)</text>\n",
            p.left + p.width / 2, p.top + p.height + 28);
    int line = 0;
    for (int k = 0; k < st->n_nodes; k++) {
        const onn_ns_node *nd = &st->nodes[k];
        const int nn = onn_ns_noise_of(nd, nz, MAX_NOISE);
        if (!nn) continue;
        const char *col = palette[line % 10];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col);
        for (int i = 0; i < nn; i++) {
            const double y = var ? nz[i].var_rms : nz[i].mean_rms;
            if (y > 0) fprintf(f, "%.1f,%.1f ", px(&p, (double)nz[i].batch), py(&p, y));
        }
        fputs("\"><title>", f);
        hstr(f, nd->name);
        fputs("</title></polyline>\n", f);
        if (line < 14) {
            const double ly = p.top + 8 + line * 14;
            fprintf(f,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">%d ",
                    p.left + p.width + 10, p.left + p.width + 28, ly, ly, col,
                    p.left + p.width + 32, ly + 4, k + 1);
            /* The name's tail (where exporters put what differs), whole
             * UTF-8 characters only. */
            const char *tail = nd->name;
            size_t len = strlen(tail);
            /* PyTorch names nodes "/layer1/bn1/BatchNormalization": drop the op. */
            const size_t ol = strlen(nd->op_type);
            if (len > ol + 1 && !strcmp(tail + len - ol, nd->op_type) && tail[len - ol - 1] == '/')
                len -= ol + 1;
            if (len > 17) {
                tail += len - 16;
                while ((*tail & 0xC0) == 0x80)
                    tail++;
                fputs("\xe2\x80\xa6", f); /* an ellipsis */
                len = strlen(tail) - (strlen(nd->name) - len);
            }
            char shown[64];
            snprintf(shown, sizeof shown, "%.*s", (int)len, tail);
            hstr(f, shown);
            fputs("</text>\n", f);
        } else if (line == 14) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">...</text>\n", p.left + p.width + 32,
                    p.top + 8 + line * 14 + 4);
        }
        line++;
    }
    svg_close(f, var ? "Per node: RMS over units and batches of batch variance / population "
                       "variance - 1, for batches of consecutive samples."
                     : "Per node: RMS over units and batches of (batch mean - population mean) "
                       "/ population std, for batches of consecutive samples.");
}

static void hnum(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.4g", v);
    else
        fputs("-", f);
}

static onnorm_status write_html(const onnorm_stats *st, FILE *f, onnorm_error *err)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>"
          "onnorm stats: ",
          f);
    hstr(f, st->user->g->source);
    fputs("</title>\n<style>\nbody{font-family:sans-serif;margin:1.5em;max-width:60em;color:#222}"
          "\ntable{border-collapse:collapse;font-size:0.85em}\ntd,th{border:1px solid #ccc;"
          "padding:2px 6px;text-align:right}\ntd.l,th.l{text-align:left}\ntr.flag{background:"
          "#fde0dd}\nfigure{margin:1.2em 0}\nfigcaption{font-size:0.85em;color:#555}\n"
          "</style>\n</head>\n<body>\n<h1>Normalization statistics</h1>\n<p>Model <code>",
          f);
    hstr(f, st->user->g->source);
    fprintf(f,
            "</code>, %lld runs, %d normalization nodes. Flags: drift (max standardized mean "
            "shift &gt; 0.5 or a variance ratio outside [0.5, 2]), nonfinite (NaN or Inf), "
            "dead (a unit that is 0 everywhere), near-constant (std &lt; 1e-6 (1 + |mean|)).</p>\n",
            (long long)st->runs, st->n_nodes);
    fputs("<table>\n<tr><th>#</th><th class=\"l\">node</th><th class=\"l\">op</th><th>units</th>"
          "<th>samples</th><th>mean median</th><th>std median</th><th>nan</th><th>inf</th>"
          "<th>dead</th><th>const</th><th>max shift</th><th>var ratio</th>"
          "<th>batch-1 mean err</th><th class=\"l\">flags</th></tr>\n",
          f);
    int *bn = calloc((size_t)st->n_nodes, sizeof *bn);
    if (!bn) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    int n_bn = 0, n_noise = 0;
    for (int k = 0; k < st->n_nodes; k++) {
        const onn_ns_node *nd = &st->nodes[k];
        onnorm_stats_summary s;
        onnorm_stats_node(st, k, &s, NULL);
        onn_five m = {NAN, NAN, NAN, NAN, NAN, 0}, sd = m;
        onnorm_status rc = ONNORM_OK;
        if (nd->in.pop && ((rc = side_five(&nd->in, false, &m, err)) ||
                           (rc = side_five(&nd->in, true, &sd, err)))) {
            free(bn);
            return rc;
        }
        onn_ns_noise nz[MAX_NOISE];
        const int nn = onn_ns_noise_of(nd, nz, MAX_NOISE);
        n_noise += nn > 0;
        if (s.has_drift) bn[n_bn++] = k;
        fprintf(f, "<tr%s><td>%d</td><td class=\"l\">", s.flags ? " class=\"flag\"" : "", k + 1);
        hstr(f, nd->name);
        fputs("</td><td class=\"l\">", f);
        hstr(f, nd->op_type);
        fprintf(f, "</td><td>%lld %ss</td><td>%lld</td><td>", (long long)s.units, s.unit,
                (long long)s.samples);
        hnum(f, m.median);
        fputs("</td><td>", f);
        hnum(f, sd.median);
        fprintf(f, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>",
                (long long)(s.nan + s.out_nan), (long long)(s.inf + s.out_inf), (long long)s.dead,
                (long long)s.near_constant);
        if (s.has_drift) {
            hnum(f, s.max_shift);
            fputs("</td><td>", f);
            hnum(f, s.min_ratio);
            fputs("..", f);
            hnum(f, s.max_ratio);
        } else {
            fputs("-</td><td>-", f);
        }
        fputs("</td><td>", f);
        if (nn && nz[0].batch == 1)
            hnum(f, nz[0].mean_rms);
        else
            fputs("-", f);
        fputs("</td><td class=\"l\">", f);
        if (s.flags & ONNORM_STATS_DRIFT) fputs("drift ", f);
        if (s.flags & ONNORM_STATS_NONFINITE) fputs("nonfinite ", f);
        if (s.flags & ONNORM_STATS_DEAD) fputs("dead ", f);
        if (s.flags & ONNORM_STATS_NEAR_CONST) fputs("near-constant ", f);
        if (nd->note[0]) {
            fputs("<small>(", f);
            hstr(f, nd->note);
            fputs(")</small>", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    fputs("<h2>Drift of BatchNormalization statistics</h2>\n", f);
    if (n_bn) {
        chart_shift(f, st, bn, n_bn);
        chart_ratio(f, st, bn, n_bn);
    } else {
        fputs("<p>No BatchNormalization in inference mode with stored statistics.</p>\n", f);
    }
    free(bn);
    fputs("<h2>Per-unit distributions of the inputs</h2>\n", f);
    onnorm_status rc;
    if ((rc = chart_boxes(f, st, false, err)) || (rc = chart_boxes(f, st, true, err))) return rc;
    fputs("<h2>Small-batch effect</h2>\n", f);
    if (n_noise) {
        chart_noise(f, st, false);
        chart_noise(f, st, true);
    } else {
        fputs("<p>Fewer than two samples: no batch statistics.</p>\n", f);
    }
    fputs("</body>\n</html>\n", f);
    return ONNORM_OK;
}

onnorm_status onnorm_stats_write(const onnorm_stats *st, onnorm_stats_format format, FILE *f,
                                 onnorm_error *err)
{
    if (!st || !f) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_stats_write: NULL argument");
    onnorm_status rc;
    switch (format) {
    case ONNORM_STATS_TEXT: rc = write_text(st, f, err); break;
    case ONNORM_STATS_JSON: rc = write_json(st, f, err); break;
    case ONNORM_STATS_HTML: rc = write_html(st, f, err); break;
    default: return onn_fail(err, ONNORM_ERR_INVALID, "unknown stats format %d", (int)format);
    }
    if (!rc && ferror(f)) rc = onn_fail(err, ONNORM_ERR_IO, "write error");
    return rc;
}
