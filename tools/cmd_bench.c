/* `onnorm bench`: medians of repeated runs, several models interleaved. */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `onnorm bench`: every input filled deterministically, one warm-up run,
 * then --iters timed runs; one JSON line per model with the median and min.
 * Several models run interleaved, one run of each per round, so that a slow
 * spell on a shared machine hits them alike (bench/run.sh subtracts a
 * one-node model's time from a K-node model's). */
#define BENCH_MAX_MODELS 16

typedef struct bench_item {
    const char *path;
    onnorm_model *m;
    onnorm_session *s;
    onnorm_tensor *inputs[64];
    int n_inputs;
    double *times;
} bench_item;

static void bench_item_free(bench_item *b)
{
    free(b->times);
    for (int i = 0; i < b->n_inputs; i++)
        onnorm_tensor_free(b->inputs[i]);
    onnorm_session_free(b->s);
    onnorm_model_free(b->m);
}

static int bench_prepare(bench_item *b, const onnorm_session_options *o, int iters, onnorm_error *e)
{
    if (onnorm_model_load_file(b->path, 0, &b->m, e) || onnorm_session_create(b->m, o, &b->s, e))
        return -1;
    for (int i = 0; i < onnorm_model_input_count(b->m) && i < 64; i++) {
        onnorm_tensor *t = onn_cli_fill_input(b->m, i, e);
        if (!t) return -1;
        b->inputs[b->n_inputs++] = t;
        if (onnorm_session_bind_input(b->s, onnorm_model_input_name(b->m, i), t->dtype, t->dims,
                                      t->rank, t->data, e))
            return -1;
    }
    if (!(b->times = malloc((size_t)iters * sizeof *b->times))) {
        snprintf(e->message, sizeof e->message, "out of memory");
        return -1;
    }
    return onnorm_session_run(b->s, e) ? -1 : 0; /* the warm-up run */
}

int onn_cli_bench(int argc, char **argv)
{
    bench_item items[BENCH_MAX_MODELS];
    int n = 0, threads = 0, iters = 50, opt = 1, rc = 1, events = 0;
    bool profile = false;
    const char *trace_path = NULL;
    FILE *trace = NULL;
    memset(items, 0, sizeof items);
    for (int i = 0; i < argc; i++) {
        int *dst = !strcmp(argv[i], "--threads")     ? &threads
                   : !strcmp(argv[i], "--iters")     ? &iters
                   : !strcmp(argv[i], "--opt-level") ? &opt
                                                     : NULL;
        if (dst && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 1000000) {
                fprintf(stderr, "onnorm bench: bad number '%s'\n", argv[i]);
                return 2;
            }
            *dst = (int)v;
        } else if (!strcmp(argv[i], "--profile")) {
            profile = true;
        } else if (!strcmp(argv[i], "--trace") && i + 1 < argc) {
            trace_path = argv[++i];
        } else if (argv[i][0] == '-' || n == BENCH_MAX_MODELS) {
            fprintf(stderr, "onnorm bench: unexpected argument '%s'\n", argv[i]);
            return 2;
        } else {
            items[n++].path = argv[i];
        }
    }
    if (n == 0 || iters < 1) {
        onn_cli_usage(stderr);
        return 2;
    }
    onnorm_error e;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    o.optimization_level = opt;
    for (int k = 0; k < n; k++)
        if (bench_prepare(&items[k], &o, iters, &e) ||
            ((profile || trace_path) && onnorm_session_set_profiling(items[k].s, 1, &e)))
            goto fail;
    if (trace_path && !(trace = onn_cli_trace_open(trace_path))) {
        snprintf(e.message, sizeof e.message, "%s: cannot write the trace", trace_path);
        goto fail;
    }
    const double t_first = onn_cli_now_ms();
    for (int r = 0; r < iters; r++)
        for (int k = 0; k < n; k++) {
            double t0 = onn_cli_now_ms();
            if (onnorm_session_run(items[k].s, &e)) goto fail;
            items[k].times[r] = onn_cli_now_ms() - t0;
            onn_cli_trace_run(trace, items[k].s, k, (t0 - t_first) * 1e3, &events);
        }
    for (int k = 0; k < n; k++) {
        qsort(items[k].times, (size_t)iters, sizeof(double), onn_cli_cmp_double);
        printf("{\"model\": \"%s\", \"threads\": %d, \"wait_policy\": \"%s\", \"opt_level\": %d, "
               "\"iters\": %d, \"median_ms\": %.6f, \"min_ms\": %.6f",
               items[k].path, onnorm_session_threads(items[k].s), onn_cli_wait_policy(), opt, iters,
               items[k].times[iters / 2], items[k].times[0]);
        if (profile) {
            printf(", ");
            onn_cli_profile_json(items[k].s, stdout);
        }
        printf("}\n");
    }
    if (trace) {
        bool ok = onn_cli_trace_close(trace);
        trace = NULL;
        if (!ok) {
            snprintf(e.message, sizeof e.message, "%s: cannot write the trace", trace_path);
            goto fail;
        }
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "onnorm: %s\n", e.message);
done:
    if (trace) onn_cli_trace_close(trace);
    for (int k = 0; k < n; k++)
        bench_item_free(&items[k]);
    return rc;
}
