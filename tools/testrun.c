/*
 * `onnorm test`: runs ONNX backend test folders: model.onnx plus data sets
 * test_data_set_N holding input_K.pb and output_K.pb.
 *
 * Inputs bind by position to the graph inputs a caller must feed (those
 * without an initializer, as in the official IR-3 models that list their
 * weights as inputs). Every output is compared: dtype and shape exactly,
 * values by |got - exp| <= atol + rtol * |exp|, NaN == NaN.
 *
 * The official generator saved bfloat16 tensors from numpy uint16 arrays, so
 * their .pb files say UINT16 (4) where the model says BFLOAT16 (16): a uint16
 * input fed to a bfloat16 graph input, and a uint16 expected output compared
 * with a bfloat16 result, are taken as the bfloat16 bit patterns they hold.
 */
#include "cli.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct test_opts {
    double rtol, atol;
    int passed, failed;
    int threads; /* 0: the library's default */
    int threads_used;
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
    qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
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

/* Loads <set>/<prefix>_0.pb, _1.pb ... until one is missing. */
static int load_numbered(const char *set, const char *prefix, onnorm_tensor ***out, char *why,
                         size_t len)
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
        if (onnorm_tensor_read_file(path, &v[n], &e)) {
            snprintf(why, len, "%s", e.message);
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

static void compare(const onnorm_tensor *got, const onnorm_tensor *exp, const test_opts *o,
                    cmp_result *r)
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
        if (d > o->atol + o->rtol * fabs(x)) r->ok = false;
    }
}

/* Runs one data set; returns true on pass, else writes the reason. */
static bool run_set(onnorm_model *m, const char *set, test_opts *o, cmp_result *r, char *why,
                    size_t len)
{
    onnorm_tensor **ins = NULL, **outs = NULL;
    int n_in = load_numbered(set, "input", &ins, why, len);
    if (n_in < 0) return false;
    int n_exp = load_numbered(set, "output", &outs, why, len);
    if (n_exp < 0) {
        free_tensors(ins, n_in);
        return false;
    }
    bool ok = false;
    onnorm_session *s = NULL;
    onnorm_error e;
    int feeds = onnorm_model_input_count(m);
    if (n_exp != onnorm_model_output_count(m)) {
        snprintf(why, len, "the data set has %d outputs, the model %d", n_exp,
                 onnorm_model_output_count(m));
        goto done;
    }
    if (n_in != feeds) {
        snprintf(why, len, "the data set has %d inputs, the model takes %d", n_in, feeds);
        goto done;
    }
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.num_threads = o->threads;
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
            r->ok = false;
            goto done;
        }
        bool before = r->ok;
        compare(&got, outs[i], o, r);
        if (before && !r->ok)
            snprintf(why, len, "output '%s' differs beyond rtol %g, atol %g", name, o->rtol,
                     o->atol);
    }
    ok = r->ok;
done:
    onnorm_session_free(s);
    free_tensors(ins, n_in);
    free_tensors(outs, n_exp);
    return ok;
}

static void run_case(const char *dir, test_opts *o)
{
    char path[4096], why[1200] = "";
    cmp_result r = {0, 0, true};
    bool ok = true;
    int sets = 0;
    onnorm_model *m = NULL;
    onnorm_error e;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (onnorm_model_load_file(path, 0, &m, &e)) {
        snprintf(why, sizeof why, "%s", e.message);
        ok = false;
    } else {
        name_list l = {0};
        list_dir(dir, "test_data_set_", &l);
        for (int i = 0; i < l.n && ok; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, l.v[i]);
            if (!is_dir(path)) continue;
            sets++;
            ok = run_set(m, path, o, &r, why, sizeof why);
        }
        free_names(&l);
        if (ok && sets == 0) {
            ok = false;
            snprintf(why, sizeof why, "no test_data_set_* folder");
        }
    }
    onnorm_model_free(m);
    if (ok) {
        o->passed++;
        printf("PASS %s (%d set%s) max_abs=%.3g max_rel=%.3g\n", dir, sets, sets == 1 ? "" : "s",
               r.max_abs, r.max_rel);
    } else {
        o->failed++;
        printf("FAIL %s max_abs=%.3g max_rel=%.3g: %s\n", dir, r.max_abs, r.max_rel, why);
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
        o->failed++;
        printf("FAIL %s: not a test folder and cannot be walked\n", dir);
        free_names(&l);
        return;
    }
    int found = 0;
    for (int i = 0; i < l.n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, l.v[i]);
        if (is_dir(path)) {
            found++;
            walk(path, o, depth + 1);
        }
    }
    free_names(&l);
    if (depth == 0 && !found) {
        o->failed++;
        printf("FAIL %s: holds no test folder\n", dir);
    }
}

int onn_cli_test(int argc, char **argv)
{
    test_opts o = {1e-3, 1e-7, 0, 0, 0, 0};
    name_list dirs = {0};
    for (int i = 0; i < argc; i++) {
        if ((!strcmp(argv[i], "--rtol") || !strcmp(argv[i], "--atol")) && i + 1 < argc) {
            char *end;
            double v = strtod(argv[i + 1], &end);
            if (*end || v < 0) {
                fprintf(stderr, "onnorm test: bad value '%s' for %s\n", argv[i + 1], argv[i]);
                free_names(&dirs);
                return 2;
            }
            *(argv[i][2] == 'r' ? &o.rtol : &o.atol) = v;
            i++;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 0 || v > 4096) {
                fprintf(stderr, "onnorm test: bad value '%s' for --threads\n", argv[i + 1]);
                free_names(&dirs);
                return 2;
            }
            o.threads = (int)v;
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "onnorm test: unknown option '%s'\n", argv[i]);
            free_names(&dirs);
            return 2;
        } else {
            push_name(&dirs, argv[i]);
        }
    }
    if (dirs.n == 0) {
        fprintf(stderr, "usage: onnorm test DIR... [--rtol R] [--atol A] [--threads N]\n");
        return 2;
    }
    for (int i = 0; i < dirs.n; i++) {
        size_t len = strlen(dirs.v[i]);
        while (len > 1 && dirs.v[i][len - 1] == '/')
            dirs.v[i][--len] = '\0';
        walk(dirs.v[i], &o, 0);
    }
    free_names(&dirs);
    if (o.threads_used) printf("threads: %d\n", o.threads_used);
    printf("%d passed, %d failed\n", o.passed, o.failed);
    return o.failed ? 1 : 0;
}
