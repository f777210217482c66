/* `onnorm run`: load, bind or fill inputs, warm up, time the runs, list the
 * nodes that execute after optimization, summarize the outputs (with NaN
 * and Inf counts), report memory. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* min, max and mean over the finite values; NaN and Inf counted apart. */
static void print_summary(const onnorm_tensor *t)
{
    char sh[256];
    int64_t n = onnorm_tensor_numel(t), nan = 0, inf = 0;
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    for (int64_t k = 0; k < n; k++) {
        double v = onn_cli_value(t, k);
        if (isnan(v)) {
            nan++;
            continue;
        }
        if (isinf(v)) {
            inf++;
            continue;
        }
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
        sum += v;
    }
    printf("  %s: %s %s", t->name, onnorm_dtype_name(t->dtype), onn_cli_shape(t, sh, sizeof sh));
    if (n - nan - inf > 0)
        printf(" min=%.6g max=%.6g mean=%.6g", mn, mx, sum / (double)(n - nan - inf));
    printf(" nan=%lld inf=%lld", (long long)nan, (long long)inf);
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

static const char run_about[] =
    "Loads MODEL, binds each --input NAME=FILE.pb (a serialized TensorProto) and\n"
    "fills every other float input with fixed pseudo-random values in [-1, 1)\n"
    "(unknown dims become 1), runs --warmup untimed runs, then --repeat timed runs,\n"
    "and prints: the nodes that execute after graph optimization (constant-folded\n"
    "and fused nodes are gone), the median and minimum run time, the memory the\n"
    "session planned and used, and per output its type, shape, min/max/mean over\n"
    "the finite values, NaN and Inf counts and first values.\n";

static const char run_exits[] =
    "  0  the runs succeeded\n"
    "  1  a file could not be read or written, or a run failed\n"
    "  2  usage error (unknown option, missing or out-of-range value)\n"
    "  3  the model uses an op, element type or feature onnorm does not support\n";

typedef struct run_args {
    const char *model, *out_dir, *trace;
    onn_cli_pairs inputs;
    int threads, repeat, warmup, opt_level;
    bool profile;
} run_args;

static int parse_run(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->repeat = 10;
    a->warmup = 1;
    a->opt_level = 1;
    const onn_cli_opt opts[] = {
        {"--input", ONN_OPT_PAIR, "NAME=FILE.pb", 0, 0, &a->inputs, NULL,
         "feed graph input NAME from a TensorProto file (repeatable)"},
        {"--output-dir", ONN_OPT_STR, "DIR", 0, 0, &a->out_dir, NULL,
         "write each output to DIR/NAME.pb ('/', '\\', ':' and ' ' in\n"
         "NAME become '_'); DIR is created if missing, checked first"},
        {"--threads", ONN_OPT_INT, "N", 1, 4096, &a->threads, NULL,
         "threads for the kernels, 1..4096 (default: all cores)"},
        {"--repeat", ONN_OPT_INT, "R", 1, 1000000, &a->repeat, NULL,
         "timed runs, 1..1000000 (default 10)"},
        {"--warmup", ONN_OPT_INT, "W", 0, 1000000, &a->warmup, NULL,
         "untimed runs before them, 0..1000000 (default 1)"},
        {"--opt-level", ONN_OPT_INT, "L", 0, 1, &a->opt_level, NULL,
         "0: run the graph as loaded; 1: with graph rewrites (default)"},
        {"--profile", ONN_OPT_FLAG, NULL, 0, 0, &a->profile, NULL,
         "time every node of the timed runs; print by op type"},
        {"--trace", ONN_OPT_STR, "FILE.json", 0, 0, &a->trace, NULL,
         "write the timed runs' nodes as a Chrome trace"},
        ONN_CLI_OPT_MAX_FOLD,
        ONN_CLI_OPT_MAX_ARENA,
    };
    const onn_cli_cmd cmd = {
        "run", "MODEL [options]", run_about, opts, (int)(sizeof opts / sizeof *opts), 1,
        1,     run_exits};
    const char *pos[1];
    int n_pos, rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos);
    if (rc || n_pos == 0) return rc ? rc : -1;
    a->model = pos[0];
    return 0;
}

int onn_cli_run(int argc, char **argv)
{
    run_args a;
    int prc = parse_run(argc, argv, &a);
    if (prc) return prc < 0 ? ONN_EXIT_OK : prc;
    onnorm_error e;
    onnorm_model *m = NULL;
    onnorm_session *s = NULL;
    onnorm_tensor *owned[ONN_CLI_MAX_PAIRS + 64] = {0};
    const int max_owned = (int)(sizeof owned / sizeof *owned);
    FILE *trace = NULL;
    int n_owned = 0, rc = ONN_EXIT_FAIL;
    onnorm_status st = ONNORM_OK;
    /* Where the results go is checked before any work. */
    if (a.out_dir && (st = onn_cli_make_dir(a.out_dir, &e))) goto fail;
    if (a.trace && (st = onn_cli_check_writable(a.trace, &e))) goto fail;
    for (int i = 0; i < a.inputs.n; i++)
        if ((st = onn_cli_check_file(a.inputs.value[i], &e))) goto fail;
    double t0 = onn_cli_now_ms();
    if ((st = onn_cli_load_model(a.model, 0, &m, &e))) goto fail;
    double t_load = onn_cli_now_ms() - t0;
    onnorm_session_options opt;
    onnorm_session_options_init(&opt);
    opt.num_threads = a.threads;
    opt.optimization_level = a.opt_level;
    opt.max_arena_bytes = onn_cli_limits.arena;
    const double rss_loaded = peak_rss_mib();
    if ((st = onnorm_session_create(m, &opt, &s, &e))) goto fail;
    for (int i = 0; i < a.inputs.n; i++) {
        if ((st = onn_cli_read_tensor(a.inputs.value[i], &owned[n_owned], &e))) goto fail;
        onnorm_tensor *t = owned[n_owned++];
        if ((st = onn_cli_bind(s, m, a.inputs.name[i], t, &e))) goto fail;
    }
    printf("model %s: %d nodes, loaded in %.2f ms\n", a.model, onnorm_model_node_count(m), t_load);
    for (int i = 0; i < onnorm_model_input_count(m); i++) {
        const char *name = onnorm_model_input_name(m, i);
        bool given = false;
        for (int k = 0; k < a.inputs.n; k++)
            given |= !strcmp(a.inputs.name[k], name);
        if (given) {
            printf("input %s: from file\n", name);
            continue;
        }
        if (n_owned == max_owned || !(owned[n_owned] = onn_cli_fill_input(m, i, &e))) {
            st = ONNORM_ERR_INVALID;
            goto fail;
        }
        onnorm_tensor *t = owned[n_owned++];
        char sh[128];
        printf("input %s: %s %s filled with deterministic values in [-1, 1)\n", name,
               onnorm_dtype_name(t->dtype), onn_cli_shape(t, sh, sizeof sh));
        if ((st = onn_cli_bind(s, m, name, t, &e))) goto fail;
    }
    /* Warm-up: the first run plans (shapes, memory, kernel preparation) and
     * touches the memory; it is not timed. */
    const double t_warm = onn_cli_now_ms();
    for (int r = 0; r < a.warmup; r++)
        if ((st = onnorm_session_run(s, &e))) goto fail;
    if (a.warmup)
        printf("warm-up: %d run%s, %.3f ms\n", a.warmup, a.warmup == 1 ? "" : "s",
               onn_cli_now_ms() - t_warm);
    if ((a.profile || a.trace) && (st = onnorm_session_set_profiling(s, 1, &e))) goto fail;
    if (a.trace && !(trace = onn_cli_trace_open(a.trace))) {
        snprintf(e.message, sizeof e.message, "%s: cannot write the trace: %s", a.trace,
                 strerror(errno));
        st = ONNORM_ERR_IO;
        goto fail;
    }
    double *times = malloc((size_t)a.repeat * sizeof *times);
    if (!times) {
        snprintf(e.message, sizeof e.message, "out of memory");
        st = ONNORM_ERR_NOMEM;
        goto fail;
    }
    const double t_first = onn_cli_now_ms();
    int events = 0;
    for (int r = 0; r < a.repeat; r++) {
        double t1 = onn_cli_now_ms();
        if ((st = onnorm_session_run(s, &e))) {
            free(times);
            goto fail;
        }
        times[r] = onn_cli_now_ms() - t1;
        onn_cli_trace_run(trace, s, 0, (t1 - t_first) * 1e3, &events);
    }
    int n_exec = onnorm_session_profile_count(s);
    printf("executes %d node%s after optimization (opt level %d):\n", n_exec,
           n_exec == 1 ? "" : "s", a.opt_level);
    for (int i = 0; i < n_exec; i++) {
        onnorm_node_profile p;
        if (onnorm_session_profile(s, i, &p)) break;
        printf("  [%d] %s%s%s %s\n", i, p.domain && p.domain[0] ? p.domain : "",
               p.domain && p.domain[0] ? "." : "", p.op_type, p.name && p.name[0] ? p.name : "");
    }
    qsort(times, (size_t)a.repeat, sizeof *times, onn_cli_cmp_double);
    printf("run: %d time%s on %d thread%s (wait: %s), median %.3f ms, min %.3f ms\n", a.repeat,
           a.repeat == 1 ? "" : "s", onnorm_session_threads(s),
           onnorm_session_threads(s) == 1 ? "" : "s", onn_cli_wait_policy(), times[a.repeat / 2],
           times[0]);
    free(times);
    if (a.profile) onn_cli_profile_print(s, stdout);
    if (trace) {
        bool ok = onn_cli_trace_close(trace);
        trace = NULL;
        if (!ok) {
            snprintf(e.message, sizeof e.message, "%s: cannot write the trace", a.trace);
            st = ONNORM_ERR_IO;
            goto fail;
        }
        printf("trace: %d node events written to %s\n", events, a.trace);
    }
    print_memory(m, s, rss_loaded);
    printf("outputs:\n");
    for (int i = 0; i < onnorm_model_output_count(m); i++) {
        onnorm_tensor t;
        if ((st = onnorm_session_output(s, onnorm_model_output_name(m, i), &t, &e))) goto fail;
        print_summary(&t);
        if (a.out_dir) {
            char fname[512], path[1024];
            safe_name(t.name, fname, sizeof fname);
            snprintf(path, sizeof path, "%s/%s.pb", a.out_dir, fname);
            if ((st = onn_cli_check_writable(path, &e))) goto fail;
            errno = 0;
            if ((st = onnorm_tensor_write_file(path, &t, &e))) {
                int en = errno;
                if (st == ONNORM_ERR_IO && en) {
                    char lib[sizeof e.message];
                    memcpy(lib, e.message, sizeof lib);
                    snprintf(e.message, sizeof e.message, "%.900s: %s", lib, strerror(en));
                }
                goto fail;
            }
            printf("    written to %s\n", path);
        }
    }
    rc = ONN_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "onnorm: %s\n", e.message);
    rc = onn_cli_exit_for(st);
done:
    if (trace) onn_cli_trace_close(trace);
    for (int i = 0; i < n_owned; i++)
        onnorm_tensor_free(owned[i]);
    onnorm_session_free(s);
    onnorm_model_free(m);
    return rc;
}
