/*
 * A whole model with one graph pass switched off (A) against the default
 * pipeline (B), one run of each in turn in one process, so that both
 * meet the same machine: on a host whose speed drifts by tens of percent
 * from one second to the next, whole-model times taken minutes apart say
 * little about a change of a few percent, while the ratio of neighbouring
 * runs holds still. Every input is float32 with a fixed shape, filled
 * with the deterministic sequence of `onnorm bench`. Not a test; built on
 * request:
 *   cmake --build build --target pass_ab
 *   build/tests/pass_ab MODEL PASS[,PASS...] THREADS [PAIRS]
 * Prints each side's median run time and the median of the per-pair
 * ratios B / A (below 1: the pass makes the model faster).
 */
#define _POSIX_C_SOURCE 200809L
#include "onnorm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/ab_util.h"

#define MAX_INPUTS 16

static void fail(const char *what, const onnorm_error *e)
{
    fprintf(stderr, "pass_ab: %s: %s\n", what, e->message);
    exit(1);
}

static double run_once(onnorm_session *s)
{
    onnorm_error e;
    const double t0 = ab_now();
    if (onnorm_session_run(s, &e)) fail("run", &e);
    return ab_now() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: pass_ab MODEL PASS[,PASS...] THREADS [PAIRS]\n");
        return 2;
    }
    const int threads = atoi(argv[3]), pairs = argc > 4 ? atoi(argv[4]) : 200;
    if (threads < 1 || pairs < 1) {
        fprintf(stderr, "pass_ab: THREADS and PAIRS must be >= 1\n");
        return 2;
    }
    onnorm_error e;
    onnorm_model *m;
    if (onnorm_model_load_file(argv[1], 0, &m, &e)) fail(argv[1], &e);
    onnorm_session *s[2];
    for (int v = 0; v < 2; v++) {
        onnorm_session_options o;
        onnorm_session_options_init(&o);
        o.num_threads = threads;
        o.disabled_passes = v == 0 ? argv[2] : NULL;
        if (onnorm_session_create(m, &o, &s[v], &e)) fail("session", &e);
    }
    const int n_in = onnorm_model_input_count(m);
    if (n_in > MAX_INPUTS) {
        fprintf(stderr, "pass_ab: more than %d inputs\n", MAX_INPUTS);
        return 1;
    }
    float *data[MAX_INPUTS];
    for (int i = 0; i < n_in; i++) {
        onnorm_tensor info;
        if (onnorm_model_input_info(m, i, &info)) fail("input info", &e);
        int64_t n = 1;
        for (int d = 0; d < info.rank; d++) {
            if (info.dims[d] < 1) {
                fprintf(stderr, "pass_ab: input %d has a symbolic dimension\n", i);
                return 1;
            }
            n *= info.dims[d];
        }
        if (info.dtype != ONNORM_FLOAT) {
            fprintf(stderr, "pass_ab: input %d is not float32\n", i);
            return 1;
        }
        data[i] = ab_alloc64((size_t)n * sizeof(float));
        for (int64_t k = 0; k < n; k++) /* onnorm bench's fill: [-1, 1) */
            data[i][k] = (float)((k * 7919) % 1000) / 500.0f - 1.0f;
        for (int v = 0; v < 2; v++)
            if (onnorm_session_bind_input(s[v], onnorm_model_input_name(m, i), ONNORM_FLOAT,
                                          info.dims, info.rank, data[i], &e))
                fail("bind", &e);
    }
    for (int v = 0; v < 2; v++) /* plans, warms caches */
        run_once(s[v]), run_once(s[v]);
    double *ta = malloc((size_t)pairs * sizeof *ta), *tb = malloc((size_t)pairs * sizeof *tb);
    double *ratio = malloc((size_t)pairs * sizeof *ratio);
    if (!ta || !tb || !ratio) return 1;
    for (int p = 0; p < pairs; p++) {
        /* alternate which goes first, so neither always follows the other */
        if (p % 2) {
            tb[p] = run_once(s[1]), ta[p] = run_once(s[0]);
        } else {
            ta[p] = run_once(s[0]), tb[p] = run_once(s[1]);
        }
        ratio[p] = tb[p] / ta[p];
    }
    qsort(ta, (size_t)pairs, sizeof *ta, ab_cmp_double);
    qsort(tb, (size_t)pairs, sizeof *tb, ab_cmp_double);
    qsort(ratio, (size_t)pairs, sizeof *ratio, ab_cmp_double);
    printf("%s, %d thread%s, %d pairs: without %s %.3f ms, with %.3f ms, with / without %.3f "
           "(quartiles %.3f %.3f)\n",
           argv[1], threads, threads > 1 ? "s" : "", pairs, argv[2], ta[pairs / 2] * 1e3,
           tb[pairs / 2] * 1e3, ratio[pairs / 2], ratio[pairs / 4], ratio[3 * pairs / 4]);
    for (int i = 0; i < n_in; i++)
        free(data[i]);
    free(ta), free(tb), free(ratio);
    onnorm_session_free(s[0]), onnorm_session_free(s[1]);
    onnorm_model_free(m);
    return 0;
}
