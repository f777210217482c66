/*
 * The statistics engine behind `onnorm stats` and onnorm_stats_* (see
 * runtime/normstats.c for the definitions and decisions, and
 * runtime/normstats_report.c for the text, JSON and HTML writers).
 *
 * Internal: the writers and the unit tests read these structures; callers
 * of the library use the public onnorm_stats_* functions.
 */
#ifndef ONN_NORMSTATS_H
#define ONN_NORMSTATS_H

#include "graph/ir.h"

#include <stdbool.h>
#include <stdint.h>

/* Mean and sum of squared deviations of n values (Chan et al.'s pairwise
 * form: two of these merge exactly, in any order, up to rounding). */
typedef struct onn_mom {
    double n, mean, m2;
} onn_mom;

void onn_mom_merge(onn_mom *a, const onn_mom *b);

/* How a node's input is cut into the units its statistics are kept for. */
typedef enum onn_ns_kind {
    ONN_NS_CHANNEL, /* axis 1 (BatchNormalization, InstanceNormalization) */
    ONN_NS_GROUP,   /* num_groups consecutive channel blocks (GroupNormalization) */
    ONN_NS_ROW,     /* the trailing axes from `axis` on form a row (LayerNormalization family);
                       the units are the row's features, and every row is kept too */
    ONN_NS_BLOCK    /* MeanVarianceNormalization: the axes it does not reduce, other than 0 */
} onn_ns_kind;

/* A five-number summary (NumPy's default, linearly interpolated quantiles). */
typedef struct onn_five {
    double min, q1, median, q3, max;
    int64_t n; /* values summarized; the other fields are NaN when 0 */
} onn_five;

/* One side (input 0 or output 0) of a node, accumulated over every run. */
typedef struct onn_ns_side {
    int64_t units;
    onn_mom *pop;               /* per unit, over its finite values */
    double *lo, *hi;            /* per unit finite min and max */
    int64_t *nonzero;           /* per unit: elements != 0 (NaN and Inf count as nonzero) */
    int64_t *nonfinite;         /* per unit: NaN and Inf elements */
    int64_t elements, nan, inf; /* totals */
    double vmin, vmax;          /* finite extremes over the whole side */
    int rank;
    int64_t dims[ONNORM_MAX_RANK]; /* the shape of the last run */
    /* ONN_NS_ROW: every row's mean and std (rows with a finite value) */
    double *row_mean, *row_std;
    int64_t rows, row_cap;
    int64_t rows_nonfinite; /* rows holding a NaN or Inf */
    int64_t rows_dead;      /* rows whose every element is 0 */
} onn_ns_side;

/* Batch-size noise: batches of 2^k consecutive samples. */
typedef struct onn_ns_level {
    int64_t filled;  /* child batches merged into cur (level 0: unused) */
    int64_t batches; /* complete batches */
    onn_mom *cur;    /* per unit: the batch being filled */
    /* per unit: batches with a finite value, the first such batch's mean and
     * variance (the shift), and shifted sums of batch means and variances */
    double *kn, *km, *kv, *s1m, *s2m, *s1v, *s2v;
} onn_ns_level;

#define ONN_NS_MAX_LEVELS 48

/* One batch size's result. */
typedef struct onn_ns_noise {
    int64_t batch, batches, units; /* units: channels taking part */
    double mean_rms;               /* RMS of (batch mean - population mean) / population std */
    double var_rms;                /* RMS of (batch variance / population variance - 1) */
    double var_bias;               /* mean of (batch variance / population variance - 1) */
} onn_ns_noise;

typedef struct onn_ns_node {
    int node; /* index in the caller's model's graph */
    const char *name, *op_type, *domain;
    onn_ns_kind kind;
    int a, b;       /* the unit axes are [a, b) (kinds ROW and BLOCK; a == 0: one sample) */
    int64_t groups; /* ONN_NS_GROUP */
    int n_axes;     /* ONN_NS_BLOCK: the axes attribute (-1: the default [0, 2, 3]) */
    int64_t axes[ONNORM_MAX_RANK];
    int in_v, out_v; /* value indices (out_v -1: not recorded) */
    onn_ns_side in, out;
    int64_t samples, runs;
    onn_ns_level levels[ONN_NS_MAX_LEVELS];
    int n_levels;
    /* BatchNormalization in inference: its stored statistics */
    bool has_stored;
    double eps;
    double *stored_mean, *stored_var; /* per channel */
    char note[200];                   /* why there is no drift, or other remarks */
} onn_ns_node;

/* Drift of one BatchNormalization (see normstats.c). */
typedef struct onn_ns_drift {
    double max_shift, mean_shift, min_ratio, max_ratio;
    int64_t worst_shift, worst_ratio; /* channels */
    bool flagged;
} onn_ns_drift;

struct onnorm_stats {
    onnorm_model *model; /* the caller's model capturing every recorded value */
    const onnorm_model *user;
    onnorm_session *sess;
    int n_nodes;
    onn_ns_node *nodes;
    int64_t runs;
    double *buf; /* one sample, converted to double */
    size_t buf_cap;
    onn_mom *mom; /* per unit scratch */
    size_t mom_cap;
};

/* Thresholds (documented in normstats.c). */
#define ONN_NS_CONST_REL 1e-6
#define ONN_NS_SHIFT_FLAG 0.5
#define ONN_NS_RATIO_LO 0.5
#define ONN_NS_RATIO_HI 2.0

/* Summaries the writers share. */
onn_five onn_ns_five(double *v, int64_t n); /* sorts v */
/* The unit's population mean and std (NaN with no finite value). */
double onn_ns_unit_mean(const onn_ns_side *s, int64_t u);
double onn_ns_unit_std(const onn_ns_side *s, int64_t u);
bool onn_ns_unit_dead(const onn_ns_side *s, int64_t u);
bool onn_ns_unit_const(const onn_ns_side *s, int64_t u); /* near-constant, not dead */
bool onn_ns_near_const(double mean, double std);
/* Drift of a node with stored statistics; false when it has none. */
bool onn_ns_drift_of(const onn_ns_node *nd, onn_ns_drift *d);
double onn_ns_shift(const onn_ns_node *nd, int64_t c);
double onn_ns_ratio(const onn_ns_node *nd, int64_t c);
/* Batch noise for every batch size with at least two batches; returns the
 * count written to out (at most max). */
int onn_ns_noise_of(const onn_ns_node *nd, onn_ns_noise *out, int max);
/* The unit names: "channel", "group", "feature" or "unit". */
const char *onn_ns_unit_name(const onn_ns_node *nd);

#endif
