/*
 * The onnorm command-line tool: run, test and inspect ONNX models.
 * Uses only the public API in onnorm.h.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f, "onnorm " ONNORM_VERSION " - ONNX normalization runtime\n"
               "usage:\n"
               "  onnorm run MODEL [--input NAME=FILE.pb ...] [--output-dir DIR]\n"
               "                   [--threads N] [--repeat R]\n"
               "  onnorm test DIR... [--rtol R] [--atol A]\n"
               "  onnorm bench MODEL... [--threads N] [--iters N] [--opt-level N]\n"
               "  onnorm info MODEL\n"
               "  onnorm ops [--all]\n"
               "  onnorm optimize MODEL -o OUT.onnx [--disable PASS,...]\n");
}

/* IEEE half -> double, exact for every value incl. subnormals, Inf, NaN. */
static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m | 0x400, e - 25);
    return (h & 0x8000) ? -v : v;
}

/* bfloat16 is the top half of a float32. */
static double bf16_to_double(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

double onn_cli_value(const onnorm_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ONNORM_FLOAT16: return half_to_double(((const uint16_t *)t->data)[i]);
    case ONNORM_BFLOAT16: return bf16_to_double(((const uint16_t *)t->data)[i]);
    case ONNORM_FLOAT: return ((const float *)t->data)[i];
    case ONNORM_DOUBLE: return ((const double *)t->data)[i];
    case ONNORM_INT64: return (double)((const int64_t *)t->data)[i];
    case ONNORM_INT32: return ((const int32_t *)t->data)[i];
    case ONNORM_INT16: return ((const int16_t *)t->data)[i];
    case ONNORM_INT8: return ((const int8_t *)t->data)[i];
    case ONNORM_UINT8:
    case ONNORM_BOOL: return ((const uint8_t *)t->data)[i];
    case ONNORM_UINT16: return ((const uint16_t *)t->data)[i];
    case ONNORM_UINT32: return ((const uint32_t *)t->data)[i];
    case ONNORM_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: return NAN;
    }
}

const char *onn_cli_shape_dims(const int64_t *dims, int rank, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && used < len; i++) {
        if (dims[i] < 0)
            used += (size_t)snprintf(buf + used, len - used, "%s?", i ? "," : "");
        else
            used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "",
                                     (long long)dims[i]);
    }
    if (used < len) snprintf(buf + used, len - used, "]");
    return buf;
}

const char *onn_cli_shape(const onnorm_tensor *t, char *buf, size_t len)
{
    return onn_cli_shape_dims(t->dims, t->rank, buf, len);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills a missing float input with a fixed pseudo-random sequence in [-1, 1),
 * so repeated runs see the same data. Symbolic dims become 1. */
static onnorm_tensor *fill_input(const onnorm_model *m, int i, onnorm_error *err)
{
    onnorm_tensor info;
    onnorm_model_input_info(m, i, &info);
    if (info.dtype != ONNORM_FLOAT && info.dtype != ONNORM_DOUBLE) {
        snprintf(err->message, sizeof err->message,
                 "input '%s' (%s) must be given with --input: only float inputs are filled",
                 info.name, onnorm_dtype_name(info.dtype));
        return NULL;
    }
    if (info.rank < 0) {
        snprintf(err->message, sizeof err->message,
                 "input '%s' has no declared shape: give it with --input", info.name);
        return NULL;
    }
    onnorm_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    *t = info;
    t->name = NULL;
    for (int k = 0; k < t->rank; k++)
        if (t->dims[k] < 0) t->dims[k] = 1;
    int64_t n = onnorm_tensor_numel(t);
    t->data = n >= 0 ? malloc((size_t)(n ? n : 1) * onnorm_dtype_size(t->dtype)) : NULL;
    if (!t->data) {
        free(t);
        snprintf(err->message, sizeof err->message, "input '%s': cannot allocate", info.name);
        return NULL;
    }
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (int64_t k = 0; k < n; k++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
        if (t->dtype == ONNORM_FLOAT)
            ((float *)t->data)[k] = (float)v;
        else
            ((double *)t->data)[k] = v;
    }
    return t;
}

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
    const char *model, *out_dir;
    const char *in_names[64], *in_files[64];
    int n_inputs, threads, repeat;
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
        usage(stderr);
        return -1;
    }
    if (a->repeat < 1) a->repeat = 1;
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    run_args a;
    if (parse_run(argc, argv, &a)) return 2;
    onnorm_error e;
    onnorm_model *m = NULL;
    onnorm_session *s = NULL;
    onnorm_tensor *owned[64] = {0};
    int n_owned = 0, rc = 1;
    double t0 = now_ms();
    if (onnorm_model_load_file(a.model, 0, &m, &e)) goto fail;
    double t_load = now_ms() - t0;
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
        if (n_owned == 64 || !(owned[n_owned] = fill_input(m, i, &e))) goto fail;
        onnorm_tensor *t = owned[n_owned++];
        char sh[128];
        printf("input %s: %s %s filled with deterministic values in [-1, 1)\n", name,
               onnorm_dtype_name(t->dtype), onn_cli_shape(t, sh, sizeof sh));
        if (onnorm_session_bind_input(s, name, t->dtype, t->dims, t->rank, t->data, &e)) goto fail;
    }
    double *times = malloc((size_t)a.repeat * sizeof *times);
    if (!times) goto fail;
    for (int r = 0; r < a.repeat; r++) {
        double t1 = now_ms();
        if (onnorm_session_run(s, &e)) {
            free(times);
            goto fail;
        }
        times[r] = now_ms() - t1;
    }
    qsort(times, (size_t)a.repeat, sizeof *times, cmp_double);
    printf("run: %d time%s, median %.3f ms, min %.3f ms\n", a.repeat, a.repeat == 1 ? "" : "s",
           times[a.repeat / 2], times[0]);
    free(times);
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
    for (int i = 0; i < n_owned; i++)
        onnorm_tensor_free(owned[i]);
    onnorm_session_free(s);
    onnorm_model_free(m);
    return rc;
}

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
        onnorm_tensor *t = fill_input(b->m, i, e);
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

static int cmd_bench(int argc, char **argv)
{
    bench_item items[BENCH_MAX_MODELS];
    int n = 0, threads = 0, iters = 50, opt = 1, rc = 1;
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
        } else if (argv[i][0] == '-' || n == BENCH_MAX_MODELS) {
            fprintf(stderr, "onnorm bench: unexpected argument '%s'\n", argv[i]);
            return 2;
        } else {
            items[n++].path = argv[i];
        }
    }
    if (n == 0 || iters < 1) {
        usage(stderr);
        return 2;
    }
    onnorm_error e;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    o.optimization_level = opt;
    for (int k = 0; k < n; k++)
        if (bench_prepare(&items[k], &o, iters, &e)) goto fail;
    for (int r = 0; r < iters; r++)
        for (int k = 0; k < n; k++) {
            double t0 = now_ms();
            if (onnorm_session_run(items[k].s, &e)) goto fail;
            items[k].times[r] = now_ms() - t0;
        }
    for (int k = 0; k < n; k++) {
        qsort(items[k].times, (size_t)iters, sizeof(double), cmp_double);
        printf("{\"model\": \"%s\", \"threads\": %d, \"opt_level\": %d, \"iters\": %d, "
               "\"median_ms\": %.6f, \"min_ms\": %.6f}\n",
               items[k].path, threads, opt, iters, items[k].times[iters / 2], items[k].times[0]);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "onnorm: %s\n", e.message);
done:
    for (int k = 0; k < n; k++)
        bench_item_free(&items[k]);
    return rc;
}

/* Node counts by op type, "Op xN, ..." in first-seen order. */
static void print_op_counts(const char *label, const onnorm_model *m)
{
    int nn = onnorm_model_node_count(m);
    printf("%s: %d nodes:", label, nn);
    for (int i = 0; i < nn; i++) {
        const char *op;
        onnorm_model_node(m, i, NULL, &op, NULL, NULL);
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) {
            const char *op2;
            onnorm_model_node(m, k, NULL, &op2, NULL, NULL);
            seen = !strcmp(op, op2);
        }
        if (seen) continue;
        int count = 0;
        for (int k = i; k < nn; k++) {
            const char *op2;
            onnorm_model_node(m, k, NULL, &op2, NULL, NULL);
            count += !strcmp(op, op2);
        }
        printf(" %s x%d", op, count);
    }
    printf("\n");
}

static int cmd_optimize(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *disabled = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--disable") && i + 1 < argc)
            disabled = argv[++i];
        else if (argv[i][0] != '-' && !in)
            in = argv[i];
        else {
            fprintf(stderr, "onnorm optimize: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!in || !out) {
        usage(stderr);
        return 2;
    }
    onnorm_error e;
    onnorm_model *m = NULL, *opt = NULL;
    static char report[16384];
    int rc = 1;
    onnorm_optimize_options o;
    onnorm_optimize_options_init(&o);
    o.disabled_passes = disabled;
    if (onnorm_model_load_file(in, 0, &m, &e) ||
        onnorm_model_optimize(m, &o, &opt, report, sizeof report, &e) ||
        onnorm_model_save_file(opt, out, &e)) {
        fprintf(stderr, "onnorm: %s\n", e.message);
    } else {
        fputs(report, stdout);
        print_op_counts("before", m);
        print_op_counts("after ", opt);
        printf("written to %s\n", out);
        rc = 0;
    }
    onnorm_model_free(opt);
    onnorm_model_free(m);
    return rc;
}

/* `onnorm ops`: the support table, one row per (domain, op), as Markdown.
 * Without --all only kernels with a declared type list (the normalization
 * family) are shown. */
static int cmd_ops(int argc, char **argv)
{
    bool all = argc == 1 && !strcmp(argv[0], "--all");
    if (argc > 1 || (argc == 1 && !all)) {
        usage(stderr);
        return 2;
    }
    int n = onnorm_kernel_count();
    printf("| operator | domain | opset versions | types |\n|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const char *dom, *op;
        int ver;
        char types[160];
        onnorm_kernel_info(i, &dom, &op, &ver, types, sizeof types);
        if (!all && !types[0]) continue;
        bool seen = false; /* print each (domain, op) once, at its first kernel */
        for (int k = 0; k < i && !seen; k++) {
            const char *d2, *o2;
            onnorm_kernel_info(k, &d2, &o2, NULL, NULL, 0);
            seen = !strcmp(dom, d2) && !strcmp(op, o2);
        }
        if (seen) continue;
        char versions[256] = "", vtypes[1024] = "";
        size_t vu = 0, tu = 0;
        for (int k = i; k < n; k++) {
            const char *d2, *o2;
            int v2;
            char t2[160];
            onnorm_kernel_info(k, &d2, &o2, &v2, t2, sizeof t2);
            if (strcmp(dom, d2) || strcmp(op, o2)) continue;
            vu += (size_t)snprintf(versions + vu, sizeof versions - vu, "%s%d", vu ? ", " : "", v2);
            if (tu < sizeof vtypes)
                tu += (size_t)snprintf(vtypes + tu, sizeof vtypes - tu, "%s%s%d: %s",
                                       tu ? "; " : "", "v", v2, t2[0] ? t2 : "see kernel");
        }
        /* One type list for all versions reads better when they agree. */
        bool same = true;
        for (int k = i; k < n && same; k++) {
            const char *d2, *o2;
            char t2[160];
            onnorm_kernel_info(k, &d2, &o2, NULL, t2, sizeof t2);
            if (!strcmp(dom, d2) && !strcmp(op, o2)) same = !strcmp(t2, types);
        }
        printf("| %s | %s | %s | %s |\n", op, dom, versions,
               same ? (types[0] ? types : "see kernel") : vtypes);
    }
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    if (argc != 1) {
        usage(stderr);
        return 2;
    }
    onnorm_model *m;
    onnorm_error e;
    if (onnorm_model_load_file(argv[0], ONNORM_LOAD_ALLOW_UNSUPPORTED, &m, &e)) {
        fprintf(stderr, "onnorm: %s\n", e.message);
        return 1;
    }
    printf("model %s\n  ir_version %lld\n  opsets:", argv[0],
           (long long)onnorm_model_ir_version(m));
    for (int i = 0; i < onnorm_model_opset_count(m); i++) {
        const char *d;
        int64_t v;
        onnorm_model_opset(m, i, &d, &v);
        printf(" %s=%lld", d[0] ? d : "ai.onnx", (long long)v);
    }
    printf("\n  inputs:");
    for (int i = 0; i < onnorm_model_input_count(m); i++) {
        onnorm_tensor t;
        char sh[128] = "[?]";
        onnorm_model_input_info(m, i, &t);
        if (t.rank >= 0) onn_cli_shape_dims(t.dims, t.rank, sh, sizeof sh);
        printf(" %s:%s%s", t.name, onnorm_dtype_name(t.dtype), sh);
    }
    printf("\n  outputs:");
    for (int i = 0; i < onnorm_model_output_count(m); i++)
        printf(" %s", onnorm_model_output_name(m, i));
    int nn = onnorm_model_node_count(m), unsupported = 0;
    printf("\n  nodes: %d\n", nn);
    /* Group by (domain, op type) in first-seen order. */
    for (int i = 0; i < nn; i++) {
        const char *op, *dom;
        int ver;
        onnorm_model_node(m, i, NULL, &op, &dom, &ver);
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) {
            const char *op2, *dom2;
            onnorm_model_node(m, k, NULL, &op2, &dom2, NULL);
            seen = !strcmp(op, op2) && !strcmp(dom, dom2);
        }
        if (seen) continue;
        int count = 0;
        for (int k = i; k < nn; k++) {
            const char *op2, *dom2;
            onnorm_model_node(m, k, NULL, &op2, &dom2, NULL);
            count += !strcmp(op, op2) && !strcmp(dom, dom2);
        }
        if (!ver) unsupported += count;
        if (ver)
            printf("    %-28s x%-4d supported (kernel since opset %d)\n", op, count, ver);
        else
            printf("    %-28s x%-4d UNSUPPORTED\n", op, count);
    }
    if (unsupported) {
        onnorm_model *strict;
        onnorm_model_load_file(argv[0], 0, &strict, &e);
        printf("  %d unsupported node(s): %s\n", unsupported, e.message);
    } else {
        printf("  all nodes supported\n");
    }
    onnorm_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "test")) return onn_cli_test(argc - 2, argv + 2);
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(argv[1], "bench")) return cmd_bench(argc - 2, argv + 2);
    if (!strcmp(argv[1], "optimize")) return cmd_optimize(argc - 2, argv + 2);
    if (!strcmp(argv[1], "ops")) return cmd_ops(argc - 2, argv + 2);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "onnorm: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
