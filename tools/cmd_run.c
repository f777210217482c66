/* `onnorm run`: load, bind or fill inputs, run, summarize, report memory. */
#include "cli.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void print_summary(const onnorm_tensor *t)
{
    char sh[256];
    int64_t n = onnorm_tensor_numel(t);
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    for (int64_t k = 0; k < n; k++) {
        double v = onn_cli_value(t, k);
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
        sum += v;
    }
    printf("  %s: %s %s", t->name, onnorm_dtype_name(t->dtype), onn_cli_shape(t, sh, sizeof sh));
    if (n > 0) printf(" min=%.6g max=%.6g mean=%.6g", mn, mx, sum / (double)n);
    printf("\n    first values:");
    for (int64_t k = 0; k < n && k < 6; k++)
        printf(" %.6g", onn_cli_value(t, k));
    printf("%s\n", n > 6 ? " ..." : "");
}

/* The process's peak resident memory so far, in MiB. */
static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Planned tensor memory against its lower bound, and what the process
 * actually grew by while creating the session and running (which also
 * counts BLAS and OpenMP workspaces and the first touch of code pages). */
static void print_memory(const onnorm_model *m, const onnorm_session *s, double rss_loaded)
{
    size_t arena = 0, statics = 0, live = 0;
    onnorm_session_memory(s, &arena, &statics, &live);
    const double mib = 1024.0 * 1024.0, w = (double)onnorm_model_weight_bytes(m);
    const double peak = peak_rss_mib();
    printf("memory: weights %.3f MiB, activation arena %.3f MiB (largest live set %.3f MiB), "
           "planned constants %.3f MiB\n",
           w / mib, arena / mib, live / mib, statics / mib);
    printf("memory: planned total / (weights + largest live set) = %.2f\n",
           (w + arena + statics) / (w + live > 0 ? w + live : 1));
    printf("memory: peak resident %.1f MiB: %.1f MiB after loading, %.1f MiB more for the session "
           "and its runs\n",
           peak, rss_loaded, peak - rss_loaded);
}

/* Output names may contain '/' or ':' (exporters love them); keep files flat. */
static void safe_name(const char *in, char *out, size_t len)
{
    size_t i = 0;
    for (; in[i] && i + 1 < len; i++) {
        char c = in[i];
        out[i] = (c == '/' || c == '\\' || c == ':' || c == ' ') ? '_' : c;
    }
    out[i] = '\0';
}

typedef struct run_args {
    const char *model, *out_dir, *trace;
    const char *in_names[64], *in_files[64];
    int n_inputs, threads, repeat;
    bool profile;
} run_args;

static int parse_run(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->repeat = 10;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--input") && v) {
            char *eq = strchr(argv[++i], '=');
            if (!eq || a->n_inputs == 64) {
                fprintf(stderr, "onnorm run: --input takes NAME=FILE.pb\n");
                return -1;
            }
            *eq = '\0';
            a->in_names[a->n_inputs] = argv[i];
            a->in_files[a->n_inputs++] = eq + 1;
        } else if (!strcmp(argv[i], "--output-dir") && v) {
            a->out_dir = argv[++i];
        } else if (!strcmp(argv[i], "--trace") && v) {
            a->trace = argv[++i];
        } else if (!strcmp(argv[i], "--profile")) {
            a->profile = true;
        } else if ((!strcmp(argv[i], "--threads") || !strcmp(argv[i], "--repeat")) && v) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > 100000) {
                fprintf(stderr, "onnorm run: bad number '%s'\n", argv[i]);
                return -1;
            }
            *(argv[i - 1][2] == 't' ? &a->threads : &a->repeat) = (int)n;
        } else if (argv[i][0] == '-' || a->model) {
            fprintf(stderr, "onnorm run: unexpected argument '%s'\n", argv[i]);
            return -1;
        } else {
            a->model = argv[i];
        }
    }
    if (!a->model) {
        onn_cli_usage(stderr);
        return -1;
    }
    if (a->repeat < 1) a->repeat = 1;
    return 0;
}

int onn_cli_run(int argc, char **argv)
{
    run_args a;
    if (parse_run(argc, argv, &a)) return 2;
    onnorm_error e;
    onnorm_model *m = NULL;
    onnorm_session *s = NULL;
    onnorm_tensor *owned[64] = {0};
    FILE *trace = NULL;
    int n_owned = 0, rc = 1;
    double t0 = onn_cli_now_ms();
    if (onnorm_model_load_file(a.model, 0, &m, &e)) goto fail;
    double t_load = onn_cli_now_ms() - t0;
    onnorm_session_options opt;
    onnorm_session_options_init(&opt);
    opt.num_threads = a.threads;
    const double rss_loaded = peak_rss_mib();
    if (onnorm_session_create(m, &opt, &s, &e)) goto fail;
    for (int i = 0; i < a.n_inputs; i++) {
        if (n_owned == 64) break;
        if (onnorm_tensor_read_file(a.in_files[i], &owned[n_owned], &e)) goto fail;
        onnorm_tensor *t = owned[n_owned++];
        if (onnorm_session_bind_input(s, a.in_names[i], t->dtype, t->dims, t->rank, t->data, &e))
            goto fail;
    }
    printf("model %s: %d nodes, loaded in %.2f ms\n", a.model, onnorm_model_node_count(m), t_load);
    for (int i = 0; i < onnorm_model_node_count(m); i++) {
        const char *name, *op, *dom;
        int ver;
        onnorm_model_node(m, i, &name, &op, &dom, &ver);
        printf("  [%d] %s%s%s-%d %s\n", i, dom[0] ? dom : "", dom[0] ? "." : "", op, ver, name);
    }
    for (int i = 0; i < onnorm_model_input_count(m); i++) {
        const char *name = onnorm_model_input_name(m, i);
        bool given = false;
        for (int k = 0; k < a.n_inputs; k++)
            given |= !strcmp(a.in_names[k], name);
        if (given) {
            printf("input %s: from file\n", name);
            continue;
        }
        if (n_owned == 64 || !(owned[n_owned] = onn_cli_fill_input(m, i, &e))) goto fail;
        onnorm_tensor *t = owned[n_owned++];
        char sh[128];
        printf("input %s: %s %s filled with deterministic values in [-1, 1)\n", name,
               onnorm_dtype_name(t->dtype), onn_cli_shape(t, sh, sizeof sh));
        if (onnorm_session_bind_input(s, name, t->dtype, t->dims, t->rank, t->data, &e)) goto fail;
    }
    if ((a.profile || a.trace) && onnorm_session_set_profiling(s, 1, &e)) goto fail;
    if (a.trace && !(trace = onn_cli_trace_open(a.trace))) {
        snprintf(e.message, sizeof e.message, "%s: cannot write the trace", a.trace);
        goto fail;
    }
    double *times = malloc((size_t)a.repeat * sizeof *times);
    if (!times) goto fail;
    const double t_first = onn_cli_now_ms();
    int events = 0;
    for (int r = 0; r < a.repeat; r++) {
        double t1 = onn_cli_now_ms();
        if (onnorm_session_run(s, &e)) {
            free(times);
            goto fail;
        }
        times[r] = onn_cli_now_ms() - t1;
        onn_cli_trace_run(trace, s, 0, (t1 - t_first) * 1e3, &events);
    }
    qsort(times, (size_t)a.repeat, sizeof *times, onn_cli_cmp_double);
    printf("run: %d time%s on %d thread%s (OpenMP wait policy %s), median %.3f ms, min %.3f ms\n",
           a.repeat, a.repeat == 1 ? "" : "s", onnorm_session_threads(s),
           onnorm_session_threads(s) == 1 ? "" : "s", onn_cli_wait_policy(), times[a.repeat / 2],
           times[0]);
    free(times);
    if (a.profile) onn_cli_profile_print(s, stdout);
    if (trace) {
        bool ok = onn_cli_trace_close(trace);
        trace = NULL;
        if (!ok) {
            snprintf(e.message, sizeof e.message, "%s: cannot write the trace", a.trace);
            goto fail;
        }
        printf("trace: %d node events written to %s\n", events, a.trace);
    }
    print_memory(m, s, rss_loaded);
    printf("outputs:\n");
    for (int i = 0; i < onnorm_model_output_count(m); i++) {
        onnorm_tensor t;
        if (onnorm_session_output(s, onnorm_model_output_name(m, i), &t, &e)) goto fail;
        print_summary(&t);
        if (a.out_dir) {
            char fname[512], path[1024];
            safe_name(t.name, fname, sizeof fname);
            snprintf(path, sizeof path, "%s/%s.pb", a.out_dir, fname);
            if (onnorm_tensor_write_file(path, &t, &e)) goto fail;
            printf("    written to %s\n", path);
        }
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "onnorm: %s\n", e.message);
done:
    if (trace) onn_cli_trace_close(trace);
    for (int i = 0; i < n_owned; i++)
        onnorm_tensor_free(owned[i]);
    onnorm_session_free(s);
    onnorm_model_free(m);
    return rc;
}
