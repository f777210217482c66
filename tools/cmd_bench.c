/* `onnorm bench`: medians of repeated runs, several models interleaved. */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `onnorm bench`: inputs from --input or filled deterministically,
 * --warmup runs, then --iters timed runs; one JSON line per model with the median and min.
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

/* For b's loaded model: a session, the --input tensors it has bound, the
 * rest filled, and the warm-up runs. Returns a library status. */
static onnorm_status bench_prepare(bench_item *b, const onnorm_session_options *o, int iters,
                                   int warmup, const onn_cli_pairs *in, onnorm_tensor *const *in_t,
                                   onnorm_error *e)
{
    onnorm_status st = onnorm_session_create(b->m, o, &b->s, e);
    if (st) return st;
    for (int i = 0; i < onnorm_model_input_count(b->m) && i < 64; i++) {
        const char *name = onnorm_model_input_name(b->m, i);
        int k = 0;
        while (k < in->n && strcmp(in->name[k], name))
            k++;
        if (k < in->n) {
            if ((st = onn_cli_bind(b->s, b->m, name, in_t[k], e))) return st;
            continue;
        }
        onnorm_tensor *t = onn_cli_fill_input(b->m, i, e);
        if (!t) return ONNORM_ERR_INVALID;
        b->inputs[b->n_inputs++] = t;
        if ((st = onn_cli_bind(b->s, b->m, name, t, e))) return st;
    }
    if (!(b->times = malloc((size_t)iters * sizeof *b->times))) {
        snprintf(e->message, sizeof e->message, "out of memory");
        return ONNORM_ERR_NOMEM;
    }
    for (int r = 0; r < warmup; r++)
        if ((st = onnorm_session_run(b->s, e))) return st;
    return ONNORM_OK;
}

static const char bench_about[] =
    "Times each MODEL: every input not given with --input is filled with fixed\n"
    "pseudo-random values in [-1, 1) (float inputs only: give integer inputs such\n"
    "as token ids with --input), --warmup untimed runs, then --iters timed runs.\n"
    "Several models run interleaved, one run of each per round. Prints one JSON\n"
    "line per model: model, threads, wait_policy, opt_level, iters, median_ms,\n"
    "min_ms (and profile with --profile).\n";

int onn_cli_bench(int argc, char **argv)
{
    bench_item items[BENCH_MAX_MODELS];
    int n = 0, threads = 0, iters = 50, opt = 1, warmup = 1, rc = ONN_EXIT_FAIL, events = 0;
    bool profile = false;
    const char *trace_path = NULL;
    FILE *trace = NULL;
    onn_cli_pairs in = {0};
    onnorm_tensor *in_t[ONN_CLI_MAX_PAIRS] = {0};
    onnorm_status st = ONNORM_OK;
    memset(items, 0, sizeof items);
    const onn_cli_opt opts[] = {
        {"--input", ONN_OPT_PAIR, "NAME=FILE.pb", 0, 0, &in, NULL,
         "feed input NAME of every model that has it from a\n"
         "TensorProto file (repeatable)"},
        {"--threads", ONN_OPT_INT, "N", 1, 4096, &threads, NULL,
         "threads for the kernels, 1..4096 (default: all cores)"},
        {"--iters", ONN_OPT_INT, "N", 1, 1000000, &iters, NULL,
         "timed runs per model, 1..1000000 (default 50)"},
        {"--warmup", ONN_OPT_INT, "W", 0, 1000000, &warmup, NULL,
         "untimed runs per model first, 0..1000000 (default 1)"},
        {"--opt-level", ONN_OPT_INT, "L", 0, 1, &opt, NULL,
         "0: the graph as loaded; 1: with graph rewrites (default)"},
        {"--profile", ONN_OPT_FLAG, NULL, 0, 0, &profile, NULL,
         "add the time by op type to each JSON line"},
        {"--trace", ONN_OPT_STR, "FILE.json", 0, 0, &trace_path, NULL,
         "write the timed runs' nodes as a Chrome trace"},
        ONN_CLI_OPT_MAX_FOLD,
        ONN_CLI_OPT_MAX_ARENA,
    };
    const onn_cli_cmd cmd = {
        "bench", "MODEL... [options]", bench_about, opts, (int)(sizeof opts / sizeof *opts),
        1,       BENCH_MAX_MODELS,     NULL};
    const char *pos[BENCH_MAX_MODELS];
    int n_pos;
    if ((rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos)) || n_pos == 0) return rc;
    rc = ONN_EXIT_FAIL;
    for (n = 0; n < n_pos; n++)
        items[n].path = pos[n];
    onnorm_error e;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    o.optimization_level = opt;
    o.max_arena_bytes = onn_cli_limits.arena;
    if (trace_path && (st = onn_cli_check_writable(trace_path, &e))) goto fail;
    for (int k = 0; k < in.n; k++)
        if ((st = onn_cli_read_tensor(in.value[k], &in_t[k], &e))) goto fail;
    for (int k = 0; k < n; k++)
        if ((st = onn_cli_load_model(items[k].path, 0, &items[k].m, &e))) goto fail;
    /* Every --input name must be an input of some model. */
    for (int k = 0; k < in.n; k++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++)
            for (int i = 0; i < onnorm_model_input_count(items[j].m) && !found; i++)
                found = !strcmp(in.name[k], onnorm_model_input_name(items[j].m, i));
        if (!found) {
            char names[700];
            onn_cli_input_names(items[0].m, names, sizeof names);
            snprintf(e.message, sizeof e.message, "--input %.200s: no model has that input; %s%s",
                     in.name[k],
                     n == 1 ? "its inputs are: " : "the first model's inputs are: ", names);
            st = ONNORM_ERR_NOT_FOUND;
            goto fail;
        }
    }
    for (int k = 0; k < n; k++)
        if ((st = bench_prepare(&items[k], &o, iters, warmup, &in, in_t, &e)) ||
            ((profile || trace_path) && (st = onnorm_session_set_profiling(items[k].s, 1, &e))))
            goto fail;
    if (trace_path && !(trace = onn_cli_trace_open(trace_path))) {
        snprintf(e.message, sizeof e.message, "%s: cannot write the trace", trace_path);
        st = ONNORM_ERR_IO;
        goto fail;
    }
    const double t_first = onn_cli_now_ms();
    for (int r = 0; r < iters; r++)
        for (int k = 0; k < n; k++) {
            double t0 = onn_cli_now_ms();
            if ((st = onnorm_session_run(items[k].s, &e))) goto fail;
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
            st = ONNORM_ERR_IO;
            goto fail;
        }
    }
    rc = ONN_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "onnorm: %s\n", e.message);
    rc = onn_cli_exit_for(st);
done:
    if (trace) onn_cli_trace_close(trace);
    for (int k = 0; k < in.n; k++)
        onnorm_tensor_free(in_t[k]);
    for (int k = 0; k < n; k++)
        bench_item_free(&items[k]);
    return rc;
}
