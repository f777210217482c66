/*
 * Linear algebra:
 *
 *   Det      11, 22   float32/64, float16 (22: bfloat16); [..., M, M] -> [...]
 *   Einsum   12       float32/64, float16, int8..int64, uint8..uint64
 *
 * Det factors each matrix in double (LU with partial pivoting: the largest
 * magnitude in the column is the pivot) and rounds the product of the
 * diagonal, with the permutation's sign, to the element type once. A
 * singular matrix gives 0 (a zero pivot ends the elimination). M = 0 gives
 * 1, the empty product. Matrices past 32768 x 32768 are refused (the
 * factorization works on a double copy of one matrix in scratch).
 *
 * Einsum follows numpy's einsum, which ONNX's reference calls:
 *   - subscripts are letters; "..." stands for the leading, trailing or
 *     middle axes not named by letters; spaces are ignored;
 *   - without "->" (implicit mode) the output is the broadcast ellipsis axes,
 *     then the letters that occur exactly once in the equation, in ASCII
 *     order (upper case before lower case);
 *   - a letter repeated within one term takes that term's diagonal (its
 *     axes must have the same size); letters absent from the output are
 *     summed over, so "ii" is a trace and "ii->i" a diagonal;
 *   - sizes of one letter across terms must agree, but a size of 1
 *     broadcasts against any other (as numpy does), and the ellipsis axes of
 *     the terms broadcast, aligned at the right;
 *   - an explicit output without "..." is an error when the terms' ellipsis
 *     covers any axes (numpy refuses it too), as is an output letter that no
 *     term has or one listed twice.
 * Every output element is the sum over the summed letters of the product of
 * the terms' elements: floating types accumulate in double (inputs are
 * widened once into scratch, the result rounded once), integer types in
 * int64 with wrap-around, narrowed at the end. The innermost summed letter
 * runs as a plain strided dot product, so a batched matrix product
 * ("bij,bjk->bik") is the textbook triple loop per batch. Output elements
 * are independent and split between threads. At most 16 inputs are taken.
 */
#include "ops/core/threadpool.h"
#include "ops/half.h"
#include "ops/kernel.h"

#include <math.h>
#include <string.h>

/* ---- element access ---------------------------------------------------------- */

static double load_f(const void *p, onnorm_dtype t, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_FLOAT16: return onn_f16_to_f32(((const uint16_t *)p)[i]);
    case ONNORM_BFLOAT16: return onn_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return 0;
    }
}

static void store_f(void *p, onnorm_dtype t, int64_t i, double v)
{
    switch (t) {
    case ONNORM_FLOAT: ((float *)p)[i] = (float)v; break;
    case ONNORM_DOUBLE: ((double *)p)[i] = v; break;
    case ONNORM_FLOAT16: ((uint16_t *)p)[i] = onn_f32_to_f16((float)v); break;
    case ONNORM_BFLOAT16: ((uint16_t *)p)[i] = onn_f32_to_bf16((float)v); break;
    default: break;
    }
}

static bool is_float_like(onnorm_dtype t)
{
    return t == ONNORM_FLOAT || t == ONNORM_DOUBLE || t == ONNORM_FLOAT16 || t == ONNORM_BFLOAT16;
}

static int64_t load_i(const void *p, onnorm_dtype t, int64_t i)
{
    switch (t) {
#define LOAD_I(sfx, T, code, sg)                                                                   \
    case code: return (int64_t)((const T *)p)[i];
        ONN_INT_TYPES(LOAD_I)
#undef LOAD_I
    default: return 0;
    }
}

static void store_i(void *p, onnorm_dtype t, int64_t i, int64_t v)
{
    switch (t) {
#define STORE_I(sfx, T, code, sg)                                                                  \
    case code: ((T *)p)[i] = (T)v; break;
        ONN_INT_TYPES(STORE_I)
#undef STORE_I
    default: break;
    }
}

/* ---- Det --------------------------------------------------------------------- */

typedef struct det_cfg {
    int64_t m, count;
} det_cfg;

static onnorm_status det_infer(onn_kctx *ctx)
{
    onnorm_status st = onn_check_float_input(ctx, 0, "X");
    if (st) return st;
    const onnorm_tensor *x = ctx->in[0];
    if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2]) {
        char sh[128];
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "X must be [..., M, M], got %s",
                         onn_shape_str(x->dims, x->rank, sh, sizeof sh));
    }
    if (x->dims[x->rank - 1] > (1 << 15))
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "matrices of size %lld are too large",
                         (long long)x->dims[x->rank - 1]);
    onn_set_output(ctx, 0, x->dtype, x->rank - 2, x->dims);
    return ONNORM_OK;
}

static onnorm_status det_prepare(onn_kctx *ctx)
{
    det_cfg *c = ctx->state;
    const onnorm_tensor *x = ctx->in[0];
    c->m = x->dims[x->rank - 1];
    c->count = onn_dims_numel(x->dims, 0, x->rank - 2);
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, (size_t)(c->m * c->m) + 1, sizeof(double), 1, &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes);
    return ONNORM_OK;
}

/* Determinant of the m x m matrix a (row-major, overwritten). */
static double det_lu(double *a, int64_t m)
{
    double det = 1;
    for (int64_t k = 0; k < m; k++) {
        int64_t p = k;
        double best = fabs(a[k * m + k]);
        for (int64_t i = k + 1; i < m; i++)
            if (fabs(a[i * m + k]) > best) best = fabs(a[i * m + k]), p = i;
        if (best == 0) return 0;
        if (best != best) return NAN;
        if (p != k) {
            for (int64_t j = 0; j < m; j++) {
                double t = a[k * m + j];
                a[k * m + j] = a[p * m + j], a[p * m + j] = t;
            }
            det = -det;
        }
        const double piv = a[k * m + k];
        det *= piv;
        for (int64_t i = k + 1; i < m; i++) {
            const double f = a[i * m + k] / piv;
            if (f == 0) continue;
            for (int64_t j = k + 1; j < m; j++)
                a[i * m + j] -= f * a[k * m + j];
        }
    }
    return det;
}

static onnorm_status det_run(onn_kctx *ctx)
{
    const det_cfg *c = ctx->state;
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    const onnorm_tensor *x = ctx->in[0];
    double *a = ctx->scratch;
    const int64_t mm = c->m * c->m;
    for (int64_t b = 0; b < c->count; b++) {
        for (int64_t i = 0; i < mm; i++)
            a[i] = load_f(x->data, x->dtype, b * mm + i);
        store_f(y->data, x->dtype, b, det_lu(a, c->m));
    }
    return ONNORM_OK;
}

/* ---- Einsum ------------------------------------------------------------------ */

#define EI_MAX_IN 16
#define EI_LETTERS 52
#define EI_MAX_LABELS (EI_LETTERS + ONNORM_MAX_RANK)

/* Letters map to 0..51 in ASCII order; ellipsis axis j (from the left of the
 * broadcast ellipsis) to 52 + j. */
static int letter_id(char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return 26 + (ch - 'a');
    return -1;
}

typedef struct ei_cfg {
    int n_in, n_out_labels, n_sum_labels;
    int64_t out_size[ONNORM_MAX_RANK];              /* sizes of output labels */
    int64_t sum_size[EI_MAX_LABELS];                /* sizes of summed labels */
    int64_t out_stride[EI_MAX_IN][ONNORM_MAX_RANK]; /* per input, per output label */
    int64_t sum_stride[EI_MAX_IN][EI_MAX_LABELS];   /* per input, per summed label */
    int64_t in_numel[EI_MAX_IN], in_off[EI_MAX_IN]; /* widened inputs in scratch */
    bool is_float;
} ei_cfg;

/* One term's labels, axis by axis. */
typedef struct ei_term {
    int n;
    int label[ONNORM_MAX_RANK];
} ei_term;

/* Parses term text [s, e) for an input of rank `rank` into explicit labels
 * with the ellipsis position; *ell = -1 without one. */
static onnorm_status parse_term(onn_kctx *ctx, const char *s, const char *e, int *letters,
                                int *n_letters, int *ell)
{
    *n_letters = 0, *ell = -1;
    while (s < e) {
        if (*s == '.') {
            if (e - s < 3 || s[1] != '.' || s[2] != '.' || *ell >= 0)
                return onn_kfail(ctx, ONNORM_ERR_INVALID,
                                 "equation: '.' must come as a single '...' per term");
            *ell = *n_letters;
            s += 3;
            continue;
        }
        int id = letter_id(*s);
        if (id < 0)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "equation: unexpected character '%c'", *s);
        if (*n_letters >= EI_MAX_LABELS)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "equation: a term is too long");
        letters[(*n_letters)++] = id;
        s++;
    }
    return ONNORM_OK;
}

static onnorm_status ei_config(onn_kctx *ctx)
{
    ei_cfg *c = ctx->state;
    onnorm_status st;
    if ((st = onn_kattr_require(ctx, "equation"))) return st;
    const onn_attr *at = onn_attr_find(ctx->node, "equation");
    if (!at || at->type != ONN_ATTR_STRING || !at->s)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "attribute 'equation' must be a string");
    /* The equation without spaces. */
    char eq[1024];
    size_t len = 0;
    for (const char *p = at->s; *p; p++) {
        if (*p == ' ') continue;
        if (len + 1 >= sizeof eq) return onn_kfail(ctx, ONNORM_ERR_INVALID, "equation is too long");
        eq[len++] = *p;
    }
    eq[len] = 0;
    const int n_in = ctx->n_in;
    if (n_in > EI_MAX_IN)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED, "%d inputs (at most %d supported)", n_in,
                         EI_MAX_IN);
    c->n_in = n_in;
    const onnorm_tensor *x0 = ctx->in[0];
    for (int i = 0; i < n_in; i++) {
        const onnorm_tensor *x = ctx->in[i];
        if (!x) return onn_kfail(ctx, ONNORM_ERR_INVALID, "input %d is missing", i);
        if (x->dtype != x0->dtype)
            return onn_kfail(ctx, ONNORM_ERR_DTYPE, "input %d has type %s, input 0 has %s", i,
                             onnorm_dtype_name(x->dtype), onnorm_dtype_name(x0->dtype));
    }
    if ((st = onn_check_float_input(ctx, 0, "Inputs"))) return st;
    c->is_float = is_float_like(x0->dtype);
    char *arrow = strstr(eq, "->");
    const char *lhs_end = arrow ? arrow : eq + len;
    /* Terms: labels per axis, with the ellipsis axes numbered from the right. */
    ei_term terms[EI_MAX_IN];
    int ell_rank[EI_MAX_IN], max_ell = 0, count[EI_MAX_LABELS] = {0};
    const char *s = eq;
    for (int i = 0; i < n_in; i++) {
        const char *e = s;
        while (e < lhs_end && *e != ',')
            e++;
        if (i < n_in - 1 ? e >= lhs_end : e != lhs_end)
            return onn_kfail(ctx, ONNORM_ERR_INVALID, "equation '%s' does not have %d terms", at->s,
                             n_in);
        int letters[EI_MAX_LABELS], nl, ell;
        if ((st = parse_term(ctx, s, e, letters, &nl, &ell))) return st;
        const int r = ctx->in[i]->rank;
        if (ell < 0 ? nl != r : nl > r)
            return onn_kfail(ctx, ONNORM_ERR_SHAPE, "term %d names %d axes, input %d has rank %d",
                             i, nl, i, r);
        ell_rank[i] = ell < 0 ? 0 : r - nl;
        if (ell_rank[i] > max_ell) max_ell = ell_rank[i];
        terms[i].n = r;
        int k = 0;
        for (int j = 0; j < nl; j++) {
            if (j == ell)
                for (int t = 0; t < ell_rank[i]; t++)
                    terms[i].label[k++] = -1 - t; /* fixed below, once max_ell is known */
            terms[i].label[k++] = letters[j];
            count[letters[j]]++;
        }
        if (ell == nl)
            for (int t = 0; t < ell_rank[i]; t++)
                terms[i].label[k++] = -1 - t;
        s = e + 1;
    }
    for (int i = 0; i < n_in; i++)
        for (int k = 0; k < terms[i].n; k++)
            if (terms[i].label[k] < 0)
                terms[i].label[k] = EI_LETTERS + (max_ell - ell_rank[i]) + (-1 - terms[i].label[k]);
    /* Sizes: equal, or 1 broadcasting. */
    int64_t size[EI_MAX_LABELS];
    bool used[EI_MAX_LABELS] = {false};
    for (int l = 0; l < EI_MAX_LABELS; l++)
        size[l] = 1;
    for (int i = 0; i < n_in; i++) {
        for (int k = 0; k < terms[i].n; k++) {
            const int l = terms[i].label[k];
            const int64_t d = ctx->in[i]->dims[k];
            for (int k2 = 0; k2 < k; k2++)
                if (terms[i].label[k2] == l && ctx->in[i]->dims[k2] != d)
                    return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                                     "input %d repeats a subscript on axes %d and %d of "
                                     "different sizes (%lld, %lld)",
                                     i, k2, k, (long long)ctx->in[i]->dims[k2], (long long)d);
            if (!used[l] || size[l] == 1)
                size[l] = d;
            else if (d != 1 && d != size[l])
                return onn_kfail(ctx, ONNORM_ERR_SHAPE,
                                 "a subscript has size %lld in input %d but %lld elsewhere",
                                 (long long)d, i, (long long)size[l]);
            used[l] = true;
        }
    }
    /* Output labels. */
    int out[EI_MAX_LABELS], n_out = 0;
    bool in_out[EI_MAX_LABELS] = {false};
    if (arrow) {
        int letters[EI_MAX_LABELS], nl, ell;
        if ((st = parse_term(ctx, arrow + 2, eq + len, letters, &nl, &ell))) return st;
        if (ell < 0 && max_ell > 0)
            return onn_kfail(ctx, ONNORM_ERR_INVALID,
                             "the output names no '...' but the inputs' '...' covers %d axes",
                             max_ell);
        for (int j = 0; j <= nl; j++) {
            if (j == ell)
                for (int t = 0; t < max_ell; t++)
                    out[n_out++] = EI_LETTERS + t;
            if (j == nl) break;
            const int l = letters[j];
            if (!used[l])
                return onn_kfail(ctx, ONNORM_ERR_INVALID,
                                 "output subscript '%c' appears in no input",
                                 l < 26 ? 'A' + l : 'a' + (l - 26));
            if (in_out[l])
                return onn_kfail(ctx, ONNORM_ERR_INVALID, "output subscript '%c' is repeated",
                                 l < 26 ? 'A' + l : 'a' + (l - 26));
            in_out[l] = true;
            out[n_out++] = l;
            if (n_out > ONNORM_MAX_RANK) break;
        }
    } else {
        for (int t = 0; t < max_ell; t++)
            out[n_out++] = EI_LETTERS + t;
        for (int l = 0; l < EI_LETTERS; l++)
            if (count[l] == 1) out[n_out++] = l;
    }
    if (n_out > ONNORM_MAX_RANK)
        return onn_kfail(ctx, ONNORM_ERR_UNSUPPORTED,
                         "output rank exceeds the supported maximum %d", ONNORM_MAX_RANK);
    for (int j = 0; j < n_out; j++)
        in_out[out[j]] = true;
    /* Strides of each input per label (repeated labels add up: diagonals);
     * an axis of size 1 against a larger label size broadcasts (stride 0). */
    int64_t lstride[EI_MAX_IN][EI_MAX_LABELS];
    memset(lstride, 0, sizeof lstride);
    for (int i = 0; i < n_in; i++) {
        int64_t s1 = 1;
        for (int k = terms[i].n - 1; k >= 0; k--) {
            const int l = terms[i].label[k];
            const int64_t d = ctx->in[i]->dims[k];
            if (!(d == 1 && size[l] != 1)) lstride[i][l] += s1;
            s1 *= d;
        }
    }
    c->n_out_labels = n_out;
    for (int j = 0; j < n_out; j++) {
        c->out_size[j] = size[out[j]];
        for (int i = 0; i < n_in; i++)
            c->out_stride[i][j] = lstride[i][out[j]];
    }
    int ns = 0;
    for (int l = 0; l < EI_MAX_LABELS; l++) {
        if (!used[l] || in_out[l]) continue;
        c->sum_size[ns] = size[l];
        for (int i = 0; i < n_in; i++)
            c->sum_stride[i][ns] = lstride[i][l];
        ns++;
    }
    c->n_sum_labels = ns;
    return ONNORM_OK;
}

static onnorm_status ei_infer(onn_kctx *ctx)
{
    const ei_cfg *c = ctx->state;
    onn_set_output(ctx, 0, ctx->in[0]->dtype, c->n_out_labels, c->out_size);
    return ONNORM_OK;
}

static onnorm_status ei_prepare(onn_kctx *ctx)
{
    ei_cfg *c = ctx->state;
    size_t total = 0;
    for (int i = 0; i < c->n_in; i++) {
        c->in_numel[i] = onnorm_tensor_numel(ctx->in[i]);
        c->in_off[i] = (int64_t)total;
        total += (size_t)c->in_numel[i];
    }
    size_t bytes;
    onnorm_status st = onn_kbytes(ctx, total + 1, 8, 1, &bytes);
    if (st) return st;
    onn_kscratch_need(ctx, bytes);
    double inner = 1;
    for (int j = 0; j < c->n_sum_labels; j++)
        inner *= (double)c->sum_size[j];
    onn_kflops(ctx,
               (double)onn_dims_numel(c->out_size, 0, c->n_out_labels) * inner * (double)c->n_in);
    return ONNORM_OK;
}

/* The sum for one output element; T is double or int64_t (wrapping through
 * uint64_t). `off` holds each input's offset of the element's first term. */
#define EI_SUM(NAME, T, MUL, ADD)                                                                  \
    static T NAME(const ei_cfg *c, const T *const *in, const int64_t *off0)                        \
    {                                                                                              \
        const int n = c->n_in, ns = c->n_sum_labels;                                               \
        if (ns == 0) {                                                                             \
            T p = in[0][off0[0]];                                                                  \
            for (int i = 1; i < n; i++)                                                            \
                p = MUL(p, in[i][off0[i]]);                                                        \
            return p;                                                                              \
        }                                                                                          \
        const int last = ns - 1;                                                                   \
        const int64_t len = c->sum_size[last];                                                     \
        int64_t idx[EI_MAX_LABELS] = {0}, off[EI_MAX_IN];                                          \
        for (int i = 0; i < n; i++)                                                                \
            off[i] = off0[i];                                                                      \
        T acc = 0;                                                                                 \
        for (int64_t j = 0; j < ns; j++)                                                           \
            if (c->sum_size[j] == 0) return acc;                                                   \
        for (;;) {                                                                                 \
            /* the innermost summed label: a strided dot product */                                \
            if (n == 2) {                                                                          \
                const T *a = in[0] + off[0], *b = in[1] + off[1];                                  \
                const int64_t sa = c->sum_stride[0][last], sb = c->sum_stride[1][last];            \
                for (int64_t t = 0; t < len; t++)                                                  \
                    acc = ADD(acc, MUL(a[t * sa], b[t * sb]));                                     \
            } else {                                                                               \
                for (int64_t t = 0; t < len; t++) {                                                \
                    T p = in[0][off[0] + t * c->sum_stride[0][last]];                              \
                    for (int i = 1; i < n; i++)                                                    \
                        p = MUL(p, in[i][off[i] + t * c->sum_stride[i][last]]);                    \
                    acc = ADD(acc, p);                                                             \
                }                                                                                  \
            }                                                                                      \
            /* the odometer over the other summed labels */                                        \
            int k = last - 1;                                                                      \
            for (; k >= 0; k--) {                                                                  \
                for (int i = 0; i < n; i++)                                                        \
                    off[i] += c->sum_stride[i][k];                                                 \
                if (++idx[k] < c->sum_size[k]) break;                                              \
                for (int i = 0; i < n; i++)                                                        \
                    off[i] -= c->sum_stride[i][k] * c->sum_size[k];                                \
                idx[k] = 0;                                                                        \
            }                                                                                      \
            if (k < 0) return acc;                                                                 \
        }                                                                                          \
    }

#define F_MUL(a, b) ((a) * (b))
#define F_ADD(a, b) ((a) + (b))
#define I_MUL(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
#define I_ADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
EI_SUM(ei_sum_f, double, F_MUL, F_ADD)
EI_SUM(ei_sum_i, int64_t, I_MUL, I_ADD)

typedef struct ei_job {
    const ei_cfg *c;
    onnorm_tensor *y;
    const double *const *inf;
    const int64_t *const *ini;
} ei_job;

static void ei_outputs(void *arg, int64_t o0, int64_t o1, int worker)
{
    (void)worker;
    const ei_job *jb = arg;
    const ei_cfg *c = jb->c;
    onnorm_tensor *y = jb->y;
    const onnorm_dtype t = y->dtype;
    const int n = c->n_in, no = c->n_out_labels;
    for (int64_t o = o0; o < o1; o++) {
        int64_t off[EI_MAX_IN] = {0}, rem = o;
        for (int j = no - 1; j >= 0; j--) {
            const int64_t ij = rem % c->out_size[j];
            rem /= c->out_size[j];
            for (int i = 0; i < n; i++)
                off[i] += ij * c->out_stride[i][j];
        }
        if (c->is_float)
            store_f(y->data, t, o, ei_sum_f(c, jb->inf, off));
        else
            store_i(y->data, t, o, ei_sum_i(c, jb->ini, off));
    }
}

static onnorm_status ei_run(onn_kctx *ctx)
{
    const ei_cfg *c = ctx->state;
    onnorm_tensor *y = ctx->out[0];
    if (!y) return ONNORM_OK;
    const onnorm_dtype t = y->dtype;
    const int n = c->n_in;
    /* Inputs widened to double or int64 in scratch. */
    double *wf = ctx->scratch;
    int64_t *wi = ctx->scratch;
    const double *inf[EI_MAX_IN];
    const int64_t *ini[EI_MAX_IN];
    for (int i = 0; i < n; i++) {
        const void *src = ctx->in[i]->data;
        for (int64_t e = 0; e < c->in_numel[i]; e++) {
            if (c->is_float)
                wf[c->in_off[i] + e] = load_f(src, t, e);
            else
                wi[c->in_off[i] + e] = load_i(src, t, e);
        }
        inf[i] = wf + c->in_off[i];
        ini[i] = wi + c->in_off[i];
    }
    const int64_t total = onnorm_tensor_numel(y);
    double inner = 1;
    for (int j = 0; j < c->n_sum_labels; j++)
        inner *= (double)c->sum_size[j];
    /* work in products, saturated (a huge sum need not fit in int64) */
    const double work = (double)total * (inner > 0 ? inner : 1) * n;
    const int nt = onn_threads_for(ctx, work > 1e18 ? (int64_t)1e18 : (int64_t)work, total);
    ei_job jb = {c, y, inf, ini};
    onn_parallel_range(nt, total, ei_outputs, &jb);
    return ONNORM_OK;
}

#define DET_TYPES ONN_T_HALF_FLOATS
#define EI_TYPES                                                                                   \
    (ONN_T_HALF_FLOATS | ONN_T(ONNORM_INT8) | ONN_T(ONNORM_INT16) | ONN_T(ONNORM_INT32) |          \
     ONN_T(ONNORM_INT64) | ONN_T(ONNORM_UINT8) | ONN_T(ONNORM_UINT16) | ONN_T(ONNORM_UINT32) |     \
     ONN_T(ONNORM_UINT64))

ONN_KERNEL_TABLE(linalg,
                 {ONN_KERNEL("", "Det", 11, 1, 1, 1, 1, det_infer, det_prepare, det_run),
                  .state_size = sizeof(det_cfg), .types = DET_TYPES},
                 {ONN_KERNEL("", "Det", 22, 1, 1, 1, 1, det_infer, det_prepare, det_run),
                  .state_size = sizeof(det_cfg), .types = ONN_T_ALL_FLOATS, .widens = true},
                 {ONN_KERNEL("", "Einsum", 12, 1, INT_MAX, 1, 1, ei_infer, ei_prepare, ei_run),
                  .config = ei_config, .state_size = sizeof(ei_cfg), .types = EI_TYPES});
