/*
 * A host runtime using onnorm as its normalization backend, through the
 * operator-level API (onnorm_ops.h): no model, no protobuf, the host's own
 * buffers.
 *
 * The "host" here has its own tensor type and, for each norm node of its
 * graph, creates an onnorm operator once, sets it up once with the node's
 * shapes and weights, and runs it on every inference. The program checks
 * LayerNormalization, GroupNormalization and BatchNormalization against
 * naive loops written here and exits non-zero on any mismatch.
 *
 *   cc host_runtime.c -I<onnorm>/include -L<build> -lonnorm ... && ./a.out
 */
#include "onnorm_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the host's side ------------------------------------------------------ */

typedef struct host_tensor {
    int rank;
    int64_t shape[4];
    float *data;
} host_tensor;

/* The host's view of its tensor as onnorm's (float32, no copy). */
static onnorm_tensor as_onnorm(const host_tensor *t)
{
    onnorm_tensor o = {ONNORM_FLOAT, t->rank, {0}, t->data, NULL};
    for (int d = 0; d < t->rank; d++)
        o.dims[d] = t->shape[d];
    return o;
}

/* One norm node of the host's graph, backed by an onnorm operator. */
typedef struct host_norm_node {
    onnorm_op *op;
} host_norm_node;

static int fail(const char *what, const onnorm_error *e)
{
    fprintf(stderr, "%s: %s\n", what, e->message);
    return 1;
}

/* Creates and sets up the node: x and y are activations (their contents
 * change per inference), params are the node's weights. */
static int host_norm_init(host_norm_node *node, const char *op_type, int opset,
                          const onnorm_attr *attrs, int n_attrs, const host_tensor *x,
                          const host_tensor *params, int n_params, host_tensor *y)
{
    onnorm_error e;
    if (onnorm_op_create("", op_type, opset, attrs, n_attrs, &node->op, &e))
        return fail(op_type, &e);
    onnorm_tensor in[5], out = as_onnorm(y);
    const onnorm_tensor *inp[5];
    in[0] = as_onnorm(x);
    for (int i = 0; i < n_params; i++)
        in[i + 1] = as_onnorm(&params[i]);
    for (int i = 0; i <= n_params; i++)
        inp[i] = &in[i];
    if (onnorm_op_setup(node->op, n_params + 1, inp, 1, (onnorm_tensor *[]){&out}, 2, &e))
        return fail(op_type, &e);
    return 0;
}

static int host_norm_run(host_norm_node *node)
{
    onnorm_error e;
    return onnorm_op_run(node->op, &e) ? fail("run", &e) : 0;
}

/* ---- naive references ------------------------------------------------------ */

/* Normalizes n values (stride 1) with population statistics. */
static void ref_normalize(const float *x, int64_t n, double eps, double *out)
{
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= (double)n;
    for (int64_t i = 0; i < n; i++)
        out[i] = (x[i] - mean) / sqrt(var + eps);
}

static int compare(const char *what, const float *y, const double *want, int64_t n)
{
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs(y[i] - want[i]);
        if (!(d <= 1e-4 + 1e-4 * fabs(want[i]))) {
            fprintf(stderr, "%s: element %lld is %g, expected %g\n", what, (long long)i, y[i],
                    want[i]);
            return 1;
        }
        if (d > worst) worst = d;
    }
    printf("%-20s ok (max abs error %.2g)\n", what, worst);
    return 0;
}

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) * (1.0 / 16777216.0)) * 4.0f - 2.0f;
}

int main(void)
{
    enum { N = 2, C = 6, H = 4, W = 5, S = H * W, ROWS = 8, COLS = 32 };
    /* want/row hold either the N*C*S norm output or the ROWS*COLS layer-norm output */
    enum { BIG = N * C * S > ROWS * COLS ? N * C * S : ROWS * COLS };
    static float x[N * C * S], y[N * C * S], xl[ROWS * COLS], yl[ROWS * COLS];
    static float gamma_c[C], beta_c[C], mean_c[C], var_c[C], gamma_l[COLS], beta_l[COLS];
    static double want[BIG], row[BIG];
    unsigned seed = 42;
    int bad = 0;
    for (int i = 0; i < C; i++) {
        gamma_c[i] = frand(&seed), beta_c[i] = frand(&seed);
        mean_c[i] = frand(&seed), var_c[i] = 0.5f + fabsf(frand(&seed));
    }
    for (int i = 0; i < COLS; i++)
        gamma_l[i] = frand(&seed), beta_l[i] = frand(&seed);

    host_tensor X = {4, {N, C, H, W}, x}, Y = {4, {N, C, H, W}, y};
    host_tensor XL = {2, {ROWS, COLS}, xl}, YL = {2, {ROWS, COLS}, yl};
    host_tensor gc = {1, {C}, gamma_c}, bc = {1, {C}, beta_c}, mc = {1, {C}, mean_c},
                vc = {1, {C}, var_c};
    host_tensor gl = {1, {COLS}, gamma_l}, bl = {1, {COLS}, beta_l};

    /* The host's three norm nodes, set up once. */
    host_norm_node ln, gn, bn;
    onnorm_attr ln_attrs[] = {onnorm_attr_int("axis", -1), onnorm_attr_float("epsilon", 1e-5f)};
    onnorm_attr gn_attrs[] = {onnorm_attr_int("num_groups", 3),
                              onnorm_attr_float("epsilon", 1e-5f)};
    onnorm_attr bn_attrs[] = {onnorm_attr_float("epsilon", 1e-5f)};
    if (host_norm_init(&ln, "LayerNormalization", 17, ln_attrs, 2, &XL, (host_tensor[]){gl, bl}, 2,
                       &YL) ||
        host_norm_init(&gn, "GroupNormalization", 21, gn_attrs, 2, &X, (host_tensor[]){gc, bc}, 2,
                       &Y) ||
        host_norm_init(&bn, "BatchNormalization", 15, bn_attrs, 1, &X,
                       (host_tensor[]){gc, bc, mc, vc}, 4, &Y))
        return 1;

    /* Two "inferences": new activations each time, same operators. */
    for (int pass = 0; pass < 2 && !bad; pass++) {
        for (int i = 0; i < N * C * S; i++)
            x[i] = frand(&seed) * 3.0f + 0.5f;
        for (int i = 0; i < ROWS * COLS; i++)
            xl[i] = frand(&seed) + 1.0f;

        bad |= host_norm_run(&ln);
        for (int r = 0; r < ROWS; r++) {
            ref_normalize(xl + r * COLS, COLS, 1e-5, row);
            for (int c = 0; c < COLS; c++)
                want[r * COLS + c] = row[c] * gamma_l[c] + beta_l[c];
        }
        bad = bad || compare("LayerNormalization", yl, want, ROWS * COLS);

        bad = bad || host_norm_run(&gn);
        const int G = 3, CG = C / G; /* 2 channels per group, scale/bias per channel (21) */
        for (int n = 0; n < N; n++)
            for (int g = 0; g < G; g++) {
                int64_t base = (n * C + g * CG) * S;
                ref_normalize(x + base, CG * S, 1e-5, row);
                for (int64_t i = 0; i < CG * S; i++) {
                    int c = g * CG + (int)(i / S);
                    want[base + i] = row[i] * gamma_c[c] + beta_c[c];
                }
            }
        bad = bad || compare("GroupNormalization", y, want, N * C * S);

        bad = bad || host_norm_run(&bn);
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int s = 0; s < S; s++) {
                    int64_t i = (int64_t)(n * C + c) * S + s;
                    want[i] = (x[i] - mean_c[c]) / sqrt(var_c[c] + 1e-5) * gamma_c[c] + beta_c[c];
                }
        bad = bad || compare("BatchNormalization", y, want, N * C * S);
    }
    onnorm_op_free(ln.op);
    onnorm_op_free(gn.op);
    onnorm_op_free(bn.op);
    return bad ? 1 : 0;
}
