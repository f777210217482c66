/*
 * `onnorm test`: runs ONNX backend test folders: model.onnx plus data sets
 * test_data_set_N holding input_K.pb and output_K.pb.
 *
 * Inputs bind by position to the graph inputs a caller must feed (those
 * without an initializer, as in the official IR-3 models that list their
 * weights as inputs). Every output is compared: dtype and shape exactly,
 * values by |got - exp| <= atol + rtol * |exp|, NaN == NaN, Inf == Inf.
 *
 * Tolerance: by default rtol 1e-3 and atol 1e-7 + 1e-5 * max|exp| (the
 * largest finite magnitude of that expected output): a fixed atol alone
 * fails correct float32 networks whose outputs are large (round-off grows
 * with the magnitude of the values summed), and values near zero get no
 * help from rtol. --atol-scale sets the 1e-5; an explicit --atol replaces
 * the whole absolute term (the scaled part is then 0 unless --atol-scale is
 * given too), so `--rtol 0 --atol 0` still means bit-exact.
 *
 * Each case ends as PASS, FAIL or SKIP. SKIP means the model needs something
 * onnorm does not have: it fails to load with ONNORM_ERR_UNSUPPORTED, or a
 * data set holds string or sequence tensors. Skips do not fail the run
 * unless --strict; every other problem (a load, bind or run error, a data
 * set that cannot be read, a wrong type, shape or value) is a FAIL.
 *
 * The official generator saved bfloat16 tensors from numpy uint16 arrays, so
 * their .pb files say UINT16 (4) where the model says BFLOAT16 (16): a uint16
 * input fed to a bfloat16 graph input, and a uint16 expected output compared
 * with a bfloat16 result, are taken as the bfloat16 bit patterns they hold.
 */
#define _POSIX_C_SOURCE 200809L /* regex, strdup */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum case_status { CASE_PASS, CASE_FAIL, CASE_SKIP } case_status;

/* Why a case did not pass: the groups of the summary by reason. */
typedef enum case_reason {
    R_NONE,
    R_VALUES, /* values differ beyond the tolerance */
    R_TYPE,   /* an output has the wrong type or shape */
    R_RUN,    /* the session could not be created, bound, run or read */
    R_LOAD,   /* the model does not load (other than unsupported) */
    R_DATA,   /* the test data cannot be read or does not fit the model */
    R_FOLDER, /* not a test folder, or a walk that found none */
    R_UNSUP,  /* SKIP: unsupported op, type or feature */
    R_STRSEQ, /* SKIP: string or sequence data */
    R_N
} case_reason;

static const char *const reason_text[R_N] = {
    "",
    "values differ beyond the tolerance",
    "wrong output type or shape",
    "session error (create, bind, run, read outputs)",
    "model does not load",
    "test data unreadable or does not fit the model",
    "no test folder",
    "unsupported op, type or feature (model load)",
    "string, sequence or other data onnorm cannot hold",
};

typedef struct case_rec {
    char *path, *why;
    case_status st;
    case_reason reason;
    int sets;
    double max_abs, max_rel, ms;
} case_rec;

typedef struct test_opts {
    double rtol, atol, atol_scale;
    bool atol_given, scale_given, strict;
    int passed, failed, skipped;
    int threads; /* 0: the library's default */
    int threads_used;
    const char *filter_src, *json, *junit;
    regex_t filter;
    case_rec *recs;
    int n_recs, cap_recs;
    int found; /* cases found under the current argument */
    const char *root;
} test_opts;

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static int push_name(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->v = v, l->cap = cap;
    }
    size_t len = strlen(s) + 1;
    if (!(l->v[l->n] = malloc(len))) return -1;
    memcpy(l->v[l->n++], s, len);
    return 0;
}

static void free_names(name_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries of dir whose names start with prefix, sorted; numeric suffixes
 * (input_10 after input_9) are ordered by number when `numeric`. */
static int list_dir(const char *dir, const char *prefix, name_list *out)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    size_t pl = strlen(prefix);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strncmp(e->d_name, prefix, pl) == 0 && push_name(out, e->d_name))
            break;
    closedir(d);
    if (out->n > 1)
        qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str); /* v is NULL when empty */
    return 0;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Loads <set>/<prefix>_0.pb, _1.pb ... until one is missing. On failure
 * writes why and returns -1, with *unsup set when the file holds a tensor
 * onnorm cannot represent (strings, other element types). */
static int load_numbered(const char *set, const char *prefix, onnorm_tensor ***out, char *why,
                         size_t len, bool *unsup)
{
    onnorm_tensor **v = NULL;
    int n = 0;
    for (;; n++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s_%d.pb", set, prefix, n);
        if (!is_file(path)) break;
        onnorm_tensor **nv = realloc(v, (size_t)(n + 1) * sizeof *v);
        if (!nv) break;
        v = nv;
        onnorm_error e;
        onnorm_status st = onnorm_tensor_read_file(path, &v[n], &e);
        if (st) {
            snprintf(why, len, "%s", e.message);
            *unsup = st == ONNORM_ERR_UNSUPPORTED;
            for (int i = 0; i < n; i++)
                onnorm_tensor_free(v[i]);
            free(v);
            return -1;
        }
    }
    *out = v;
    return n;
}

static void free_tensors(onnorm_tensor **v, int n)
{
    for (int i = 0; i < n; i++)
        onnorm_tensor_free(v[i]);
    free(v);
}

typedef struct cmp_result {
    double max_abs, max_rel;
    bool ok;
} cmp_result;

static bool same_shape(const onnorm_tensor *a, const onnorm_tensor *b)
{
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

/* The absolute tolerance for one expected output (see the top). */
static double abs_tolerance(const onnorm_tensor *exp, const test_opts *o)
{
    double scale = o->scale_given ? o->atol_scale : o->atol_given ? 0.0 : o->atol_scale;
    if (scale == 0) return o->atol;
    double mx = 0;
    int64_t n = onnorm_tensor_numel(exp);
    for (int64_t i = 0; i < n; i++) {
        double x = fabs(onn_cli_value(exp, i));
        if (isfinite(x) && x > mx) mx = x;
    }
    return o->atol + scale * mx;
}

static void compare(const onnorm_tensor *got, const onnorm_tensor *exp, const test_opts *o,
                    double atol, cmp_result *r)
{
    int64_t n = onnorm_tensor_numel(exp);
    for (int64_t i = 0; i < n; i++) {
        double g = onn_cli_value(got, i), x = onn_cli_value(exp, i);
        if (isnan(x) || isnan(g)) {
            if (!(isnan(x) && isnan(g))) r->ok = false;
            continue;
        }
        if (isinf(x) || isinf(g)) {
            if (g != x) r->ok = false;
            continue;
        }
        double d = fabs(g - x), rel = x != 0 ? d / fabs(x) : (d > 0 ? INFINITY : 0);
        if (d > r->max_abs) r->max_abs = d;
        if (rel > r->max_rel) r->max_rel = rel;
        if (d > atol + o->rtol * fabs(x)) r->ok = false;
    }
}

/* A graph input onnorm cannot feed: strings, or a sequence, map or optional
 * (the loader gives those no element type). */
static bool strseq_input(const onnorm_model *m, char *why, size_t len)
{
    for (int i = 0; i < onnorm_model_input_count(m); i++) {
        onnorm_tensor info;
        if (onnorm_model_input_info(m, i, &info)) continue;
        if (info.dtype == ONNORM_STRING || onnorm_dtype_size(info.dtype) == 0) {
            snprintf(why, len, "input '%s' is %s", info.name,
                     info.dtype == ONNORM_STRING ? "a string tensor"
                                                 : "not a tensor onnorm can feed "
                                                   "(a sequence, map or optional?)");
            return true;
        }
    }
    return false;
}

/* Runs one data set; returns true on pass, else writes the reason. */
static bool run_set(onnorm_model *m, const char *set, test_opts *o, cmp_result *r, char *why,
                    size_t len, case_reason *reason)
{
    onnorm_tensor **ins = NULL, **outs = NULL;
    bool unsup = false;
    int n_in = load_numbered(set, "input", &ins, why, len, &unsup);
    if (n_in < 0) {
        *reason = unsup ? R_STRSEQ : R_DATA;
        return false;
    }
    int n_exp = load_numbered(set, "output", &outs, why, len, &unsup);
    if (n_exp < 0) {
        *reason = unsup ? R_STRSEQ : R_DATA;
        free_tensors(ins, n_in);
        return false;
    }
    bool ok = false;
    onnorm_session *s = NULL;
    onnorm_error e;
    int feeds = onnorm_model_input_count(m);
    *reason = R_DATA;
    if (n_exp != onnorm_model_output_count(m)) {
        snprintf(why, len, "the data set has %d outputs, the model %d", n_exp,
                 onnorm_model_output_count(m));
        goto done;
    }
    if (n_in != feeds) {
        snprintf(why, len, "the data set has %d inputs, the model takes %d", n_in, feeds);
        goto done;
    }
    *reason = R_RUN;
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.num_threads = o->threads;
    so.max_arena_bytes = onn_cli_limits.arena;
    if (onnorm_session_create(m, &so, &s, &e)) {
        snprintf(why, len, "%s", e.message);
        goto done;
    }
    o->threads_used = onnorm_session_threads(s);
    for (int i = 0; i < n_in; i++) {
        const char *name = onnorm_model_input_name(m, i);
        onnorm_tensor info;
        if (ins[i]->dtype == ONNORM_UINT16 && !onnorm_model_input_info(m, i, &info) &&
            info.dtype == ONNORM_BFLOAT16)
            ins[i]->dtype = ONNORM_BFLOAT16; /* the same 16-bit words (see the top) */
        if (onnorm_session_bind_input(s, name, ins[i]->dtype, ins[i]->dims, ins[i]->rank,
                                      ins[i]->data, &e)) {
            snprintf(why, len, "%s", e.message);
            goto done;
        }
    }
    if (onnorm_session_run(s, &e)) {
        snprintf(why, len, "%s", e.message);
        goto done;
    }
    r->ok = true;
    for (int i = 0; i < n_exp; i++) {
        onnorm_tensor got;
        const char *name = onnorm_model_output_name(m, i);
        char a[128], b[128];
        if (onnorm_session_output(s, name, &got, &e)) {
            snprintf(why, len, "%s", e.message);
            r->ok = false;
            goto done;
        }
        if (got.dtype == ONNORM_BFLOAT16 && outs[i]->dtype == ONNORM_UINT16)
            outs[i]->dtype = ONNORM_BFLOAT16; /* see the top of the file */
        if (got.dtype != outs[i]->dtype || !same_shape(&got, outs[i])) {
            snprintf(why, len, "output '%s': got %s %s, expected %s %s", name,
                     onnorm_dtype_name(got.dtype), onn_cli_shape(&got, a, sizeof a),
                     onnorm_dtype_name(outs[i]->dtype), onn_cli_shape(outs[i], b, sizeof b));
            *reason = R_TYPE;
            r->ok = false;
            goto done;
        }
        bool before = r->ok;
        double atol = abs_tolerance(outs[i], o);
        compare(&got, outs[i], o, atol, r);
        if (before && !r->ok) {
            snprintf(why, len, "output '%s' differs beyond rtol %g, atol %g", name, o->rtol, atol);
            *reason = R_VALUES;
        }
    }
    ok = r->ok;
    if (ok) *reason = R_NONE;
done:
    onnorm_session_free(s);
    free_tensors(ins, n_in);
    free_tensors(outs, n_exp);
    return ok;
}

static int add_record(test_opts *o, const char *path, case_status st, case_reason reason,
                      const char *why, int sets, const cmp_result *r, double ms)
{
    if (o->n_recs == o->cap_recs) {
        int cap = o->cap_recs ? o->cap_recs * 2 : 64;
        case_rec *v = realloc(o->recs, (size_t)cap * sizeof *v);
        if (!v) return -1;
        o->recs = v, o->cap_recs = cap;
    }
    case_rec *c = &o->recs[o->n_recs];
    c->path = strdup(path);
    c->why = strdup(why ? why : "");
    if (!c->path || !c->why) {
        free(c->path);
        free(c->why);
        return -1;
    }
    c->st = st, c->reason = reason, c->sets = sets, c->ms = ms;
    c->max_abs = r ? r->max_abs : 0, c->max_rel = r ? r->max_rel : 0;
    o->n_recs++;
    if (st == CASE_PASS)
        o->passed++;
    else if (st == CASE_FAIL)
        o->failed++;
    else
        o->skipped++;
    return 0;
}

/* A problem with a folder rather than a case (FAIL, counted). */
static void folder_fail(test_opts *o, const char *dir, const char *why)
{
    printf("FAIL %s: %s\n", dir, why);
    add_record(o, dir, CASE_FAIL, R_FOLDER, why, 0, NULL, 0);
}

/* The name --filter matches: the case's path below the argument it was
 * found under, or its base name when the argument is the case itself. */
static const char *filter_name(const char *dir, const char *root)
{
    size_t n = strlen(root);
    if (!strncmp(dir, root, n) && dir[n] == '/') return dir + n + 1;
    const char *slash = strrchr(dir, '/');
    return slash && slash[1] ? slash + 1 : dir;
}

static void run_case(const char *dir, test_opts *o)
{
    if (o->filter_src && regexec(&o->filter, filter_name(dir, o->root), 0, NULL, 0)) return;
    o->found++;
    char path[4096], why[1200] = "";
    cmp_result r = {0, 0, true};
    bool ok = true;
    case_reason reason = R_NONE;
    int sets = 0;
    onnorm_model *m = NULL;
    onnorm_error e;
    const double t0 = onn_cli_now_ms();
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    onnorm_status st = onn_cli_load_model(path, 0, &m, &e);
    if (st) {
        snprintf(why, sizeof why, "%s", e.message);
        ok = false;
        reason = st == ONNORM_ERR_UNSUPPORTED ? R_UNSUP : R_LOAD;
    } else if (strseq_input(m, why, sizeof why)) {
        ok = false;
        reason = R_STRSEQ;
    } else {
        name_list l = {0};
        list_dir(dir, "test_data_set_", &l);
        for (int i = 0; i < l.n && ok; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, l.v[i]);
            if (!is_dir(path)) continue;
            sets++;
            ok = run_set(m, path, o, &r, why, sizeof why, &reason);
        }
        free_names(&l);
        if (ok && sets == 0) {
            ok = false;
            reason = R_DATA;
            snprintf(why, sizeof why, "no test_data_set_* folder");
        }
    }
    onnorm_model_free(m);
    const double ms = onn_cli_now_ms() - t0;
    if (ok) {
        printf("PASS %s (%d set%s, %.2f ms) max_abs=%.3g max_rel=%.3g\n", dir, sets,
               sets == 1 ? "" : "s", ms, r.max_abs, r.max_rel);
        add_record(o, dir, CASE_PASS, R_NONE, NULL, sets, &r, ms);
    } else if (reason == R_UNSUP || reason == R_STRSEQ) {
        printf("SKIP %s (%.2f ms): %s\n", dir, ms, why);
        add_record(o, dir, CASE_SKIP, reason, why, sets, NULL, ms);
    } else {
        printf("FAIL %s max_abs=%.3g max_rel=%.3g (%.2f ms): %s\n", dir, r.max_abs, r.max_rel, ms,
               why);
        add_record(o, dir, CASE_FAIL, reason, why, sets, &r, ms);
    }
    fflush(stdout);
}

/* A folder with model.onnx is a case; any other folder is walked. */
static void walk(const char *dir, test_opts *o, int depth)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (is_file(path)) {
        run_case(dir, o);
        return;
    }
    name_list l = {0};
    if (depth > 8 || list_dir(dir, "", &l) != 0) {
        char why[600];
        struct stat st;
        if (depth > 8)
            snprintf(why, sizeof why, "nested deeper than 8 folders");
        else if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
            snprintf(why, sizeof why, "not a folder (a test case is a folder holding model.onnx)");
        else
            snprintf(why, sizeof why, "cannot be walked: %s", strerror(errno));
        folder_fail(o, dir, why);
        free_names(&l);
        return;
    }
    for (int i = 0; i < l.n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, l.v[i]);
        if (is_dir(path)) walk(path, o, depth + 1);
    }
    free_names(&l);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static const char *const status_name[] = {"pass", "fail", "skip"};

static bool write_json(const test_opts *o, const char *path, double total_ms)
{
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fprintf(f, "{\"passed\": %d, \"failed\": %d, \"skipped\": %d, \"strict\": %s, ", o->passed,
            o->failed, o->skipped, o->strict ? "true" : "false");
    fprintf(f, "\"rtol\": %g, \"atol\": %g, \"atol_scale\": %g, \"time_ms\": %.3f,\n \"cases\": [",
            o->rtol, o->atol,
            o->scale_given  ? o->atol_scale
            : o->atol_given ? 0.0
                            : o->atol_scale,
            total_ms);
    for (int i = 0; i < o->n_recs; i++) {
        const case_rec *c = &o->recs[i];
        fprintf(f, "%s\n  {\"path\": ", i ? "," : "");
        onn_cli_json_string(f, c->path);
        fprintf(f, ", \"status\": \"%s\", \"reason\": ", status_name[c->st]);
        onn_cli_json_string(f, reason_text[c->reason]);
        fprintf(f, ", \"message\": ");
        onn_cli_json_string(f, c->why);
        fprintf(f, ", \"sets\": %d, \"max_abs\": ", c->sets);
        json_num(f, c->max_abs);
        fprintf(f, ", \"max_rel\": ");
        json_num(f, c->max_rel);
        fprintf(f, ", \"time_ms\": %.3f}", c->ms);
    }
    fprintf(f, "\n ]}\n");
    return fclose(f) == 0;
}

static void xml_str(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if (*p < 0x20 && *p != '\t')
                fputc(' ', f); /* control characters are not allowed in XML 1.0 */
            else
                fputc(*p, f);
        }
    }
}

/* JUnit XML as Jenkins, GitLab and pytest read it: one testcase per case,
 * classname the folder holding it, name its base name. With --strict a skip
 * is written as a failure. */
static bool write_junit(const test_opts *o, const char *path, double total_ms)
{
    FILE *f = fopen(path, "w");
    if (!f) return false;
    int fails = o->failed + (o->strict ? o->skipped : 0), skips = o->strict ? 0 : o->skipped;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<testsuites tests=\"%d\" failures=\"%d\" skipped=\"%d\" errors=\"0\" time=\"%.3f\">\n"
            "<testsuite name=\"onnorm test\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" "
            "errors=\"0\" time=\"%.3f\">\n",
            o->n_recs, fails, skips, total_ms / 1e3, o->n_recs, fails, skips, total_ms / 1e3);
    for (int i = 0; i < o->n_recs; i++) {
        const case_rec *c = &o->recs[i];
        const char *slash = strrchr(c->path, '/');
        fprintf(f, "<testcase classname=\"");
        if (slash) {
            char *dir = strndup(c->path, (size_t)(slash - c->path));
            xml_str(f, dir ? dir : "");
            free(dir);
        } else {
            fputs(".", f);
        }
        fprintf(f, "\" name=\"");
        xml_str(f, slash ? slash + 1 : c->path);
        fprintf(f, "\" time=\"%.6f\"", c->ms / 1e3);
        if (c->st == CASE_PASS) {
            fprintf(f, "/>\n");
            continue;
        }
        bool as_failure = c->st == CASE_FAIL || o->strict;
        fprintf(f, ">\n  <%s message=\"", as_failure ? "failure" : "skipped");
        xml_str(f, c->why);
        fprintf(f, "\" type=\"");
        xml_str(f, reason_text[c->reason]);
        fprintf(f, "\"/>\n</testcase>\n");
    }
    fprintf(f, "</testsuite>\n</testsuites>\n");
    return fclose(f) == 0;
}

/* "unknown op X" in load errors: the ops that made cases skip, counted. */
typedef struct op_count {
    char op[96];
    int n;
} op_count;

static void count_unknown_ops(const char *why, op_count *ops, int *n_ops, int cap)
{
    static const char key[] = "unknown op ";
    for (const char *p = strstr(why, key); p; p = strstr(p, key)) {
        p += sizeof key - 1;
        size_t len = strcspn(p, " ,;:()'\n");
        if (!len || len >= sizeof ops[0].op) continue;
        int k = 0;
        while (k < *n_ops && (strlen(ops[k].op) != len || strncmp(ops[k].op, p, len)))
            k++;
        if (k == *n_ops) {
            if (k == cap) continue;
            memcpy(ops[k].op, p, len);
            ops[k].op[len] = '\0';
            ops[k].n = 0;
            (*n_ops)++;
        }
        ops[k].n++;
    }
}

static int by_count(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    return x->n != y->n ? y->n - x->n : strcmp(x->op, y->op);
}

/* The failures and skips grouped by reason, before the summary line. */
static void print_reasons(const test_opts *o)
{
    for (int pass = 0; pass < 2; pass++) {
        case_status want = pass ? CASE_SKIP : CASE_FAIL;
        int per[R_N] = {0}, total = 0;
        for (int i = 0; i < o->n_recs; i++)
            if (o->recs[i].st == want) per[o->recs[i].reason]++, total++;
        if (!total) continue;
        printf("%s by reason:\n", pass ? "skipped" : "failures");
        for (int r = 1; r < R_N; r++) {
            if (!per[r]) continue;
            printf("  %5d  %s", per[r], reason_text[r]);
            if (r == R_UNSUP) {
                op_count ops[64];
                int n_ops = 0;
                for (int i = 0; i < o->n_recs; i++)
                    if (o->recs[i].st == want && o->recs[i].reason == R_UNSUP)
                        count_unknown_ops(o->recs[i].why, ops, &n_ops, 64);
                qsort(ops, (size_t)n_ops, sizeof *ops, by_count);
                for (int k = 0; k < n_ops && k < 20; k++)
                    printf("%s%s x%d", k ? ", " : ": unknown ops ", ops[k].op, ops[k].n);
                if (n_ops > 20) printf(", ...");
            }
            printf("\n");
        }
    }
}

static const char test_about[] =
    "Runs ONNX backend test folders (model.onnx and test_data_set_N/ holding input_K.pb\n"
    "and output_K.pb, as in onnx/backend/test/data). A DIR holding model.onnx is one\n"
    "case; any other DIR is walked for cases. Each case prints one line:\n"
    "  PASS DIR (S sets, T ms) max_abs=.. max_rel=..\n"
    "  FAIL DIR max_abs=.. max_rel=.. (T ms): REASON\n"
    "  SKIP DIR (T ms): REASON   the model needs an op, type or feature onnorm lacks\n"
    "                            (load fails with ONNORM_ERR_UNSUPPORTED) or has\n"
    "                            string or sequence data\n"
    "then the failures and skips grouped by reason, and the last line\n"
    "  N passed, M failed, K skipped\n"
    "An output passes when every value has |got - exp| <= atol + rtol * |exp|\n"
    "(NaN matches NaN, Inf matches Inf of the same sign), with by default\n"
    "rtol = 1e-3 and atol = 1e-7 + 1e-5 * max|exp| over that output, which passes\n"
    "correct float32 networks. An argument that yields no case is a failure.\n";

static const char test_exits[] = "  0  no case failed (skips allowed unless --strict)\n"
                                 "  1  a case failed, or was skipped under --strict, or an\n"
                                 "     argument held no test case, or a report was not written\n"
                                 "  2  usage error (unknown option, missing or bad value)\n";

int onn_cli_test(int argc, char **argv)
{
    test_opts o;
    memset(&o, 0, sizeof o);
    o.rtol = 1e-3, o.atol = 1e-7, o.atol_scale = 1e-5;
    const onn_cli_opt opts[] = {
        {"--rtol", ONN_OPT_REAL, "R", 0, 1e6, &o.rtol, NULL, "relative tolerance (default 1e-3)"},
        {"--atol", ONN_OPT_REAL, "A", 0, 1e30, &o.atol, &o.atol_given,
         "absolute tolerance; replaces the default 1e-7 + 1e-5 * max|exp|\n"
         "(add --atol-scale to keep a scaled part)"},
        {"--atol-scale", ONN_OPT_REAL, "S", 0, 1, &o.atol_scale, &o.scale_given,
         "adds S * max|exp| of each output to atol (default 1e-5,\n"
         "0 without --atol-scale when --atol is given)"},
        {"--threads", ONN_OPT_INT, "N", 1, 4096, &o.threads, NULL,
         "threads per session, 1..4096 (default: all cores)"},
        {"--filter", ONN_OPT_STR, "REGEX", 0, 0, &o.filter_src, NULL,
         "run only cases whose name matches the POSIX extended REGEX;\n"
         "the name is the case's path below DIR (its base name when DIR\n"
         "is the case itself)"},
        {"--strict", ONN_OPT_FLAG, NULL, 0, 0, &o.strict, NULL,
         "count skipped cases as failures (exit 1); so does\n"
         "ONNORM_TEST_STRICT=1 in the environment"},
        {"--json", ONN_OPT_STR, "FILE", 0, 0, &o.json, NULL,
         "write every case (path, status, reason, message, sets,\n"
         "max_abs, max_rel, time_ms) and the totals as JSON"},
        {"--junit", ONN_OPT_STR, "FILE", 0, 0, &o.junit, NULL,
         "write a JUnit XML report (a skip is a failure under --strict)"},
        ONN_CLI_OPT_MAX_FOLD,
        ONN_CLI_OPT_MAX_ARENA,
    };
    const onn_cli_cmd cmd = {
        "test", "DIR... [options]", test_about, opts, (int)(sizeof opts / sizeof *opts), 1,
        -1,     test_exits};
    const char **dirs = malloc((size_t)(argc ? argc : 1) * sizeof *dirs);
    int n_dirs = 0;
    if (!dirs) return ONN_EXIT_FAIL;
    int rc = onn_cli_parse(&cmd, argc, argv, dirs, &n_dirs);
    if (rc || n_dirs == 0) {
        free(dirs);
        return rc;
    }
    const char *env_strict = getenv("ONNORM_TEST_STRICT");
    if (env_strict && env_strict[0] && strcmp(env_strict, "0")) o.strict = true;
    if (o.filter_src) {
        int err = regcomp(&o.filter, o.filter_src, REG_EXTENDED | REG_NOSUB);
        if (err) {
            char msg[256];
            regerror(err, &o.filter, msg, sizeof msg);
            fprintf(stderr, "onnorm test: --filter '%s': %s\n", o.filter_src, msg);
            free(dirs);
            return ONN_EXIT_USAGE;
        }
    }
    const double t0 = onn_cli_now_ms();
    for (int i = 0; i < n_dirs; i++) {
        char *d = strdup(dirs[i]);
        if (!d) break;
        size_t len = strlen(d);
        while (len > 1 && d[len - 1] == '/')
            d[--len] = '\0';
        o.root = d;
        o.found = 0;
        int before = o.n_recs;
        walk(d, &o, 0);
        if (o.found == 0 && o.n_recs == before)
            folder_fail(&o, d,
                        o.filter_src ? "holds no test folder matching --filter"
                                     : "holds no test folder (a folder with model.onnx)");
        free(d);
    }
    const double total_ms = onn_cli_now_ms() - t0;
    free(dirs);
    if (o.filter_src) regfree(&o.filter);
    rc = ONN_EXIT_OK;
    if (o.json && !write_json(&o, o.json, total_ms)) {
        fprintf(stderr, "onnorm test: cannot write %s: %s\n", o.json, strerror(errno));
        rc = ONN_EXIT_FAIL;
    }
    if (o.junit && !write_junit(&o, o.junit, total_ms)) {
        fprintf(stderr, "onnorm test: cannot write %s: %s\n", o.junit, strerror(errno));
        rc = ONN_EXIT_FAIL;
    }
    print_reasons(&o);
    if (o.strict && o.skipped)
        printf("--strict: %d skipped case%s count%s as failed\n", o.skipped,
               o.skipped == 1 ? "" : "s", o.skipped == 1 ? "s" : "");
    if (o.threads_used) printf("threads: %d\n", o.threads_used);
    printf("%d passed, %d failed, %d skipped\n", o.passed, o.failed, o.skipped);
    if (o.failed || (o.strict && o.skipped)) rc = ONN_EXIT_FAIL;
    for (int i = 0; i < o.n_recs; i++)
        free(o.recs[i].path), free(o.recs[i].why);
    free(o.recs);
    return rc;
}
