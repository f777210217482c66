#define _POSIX_C_SOURCE 200809L /* clock_gettime, stat */
/* Helpers shared by the onnorm subcommands (declared in cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char onn_cli_exit_codes[] =
    "exit status:\n"
    "  0  success\n"
    "  1  failure (a test failed, a file could not be read or written, a run failed)\n"
    "  2  usage error (unknown command or option, missing or out-of-range value)\n"
    "  3  the model uses an op, element type or feature onnorm does not support\n";

void onn_cli_usage(FILE *f)
{
    fprintf(f, "onnorm " ONNORM_VERSION " - ONNX normalization runtime\n"
               "usage:\n"
               "  onnorm run MODEL [--input NAME=FILE.pb ...] [--output-dir DIR] [--threads N]\n"
               "                   [--repeat R] [--warmup W] [--opt-level L] [--profile]\n"
               "                   [--trace FILE.json]\n"
               "  onnorm test DIR... [--rtol R] [--atol A] [--atol-scale S] [--threads N]\n"
               "                   [--filter REGEX] [--strict] [--json FILE] [--junit FILE]\n"
               "  onnorm bench MODEL... [--input NAME=FILE.pb ...] [--threads N] [--iters N]\n"
               "                   [--opt-level L] [--profile] [--trace FILE.json]\n"
               "  onnorm info MODEL\n"
               "  onnorm ops [--all]\n"
               "  onnorm optimize MODEL -o OUT.onnx [--disable PASS,...]\n"
               "  onnorm calibrate MODEL --data PATH... -o OUT.onnx [--nodes NAME,...]\n"
               "                   [--variance population|unbiased] [--blend A] [--json FILE]\n"
               "  onnorm standardize MODEL --data PATH... --mode zscore|minmax -o OUT.onnx\n"
               "                   [--per-channel] [--input NAME] [--json FILE]\n"
               "  onnorm stats MODEL --data PATH... [--json FILE] [--html FILE] [--threads N]\n"
               "  onnorm compare MODEL [--input NAME=FILE.pb ...] [--reference MODEL]\n"
               "                   [--json FILE] [--ratio R] [--min-rel E] [--threads N]\n"
               "  onnorm help [COMMAND]     (or: onnorm COMMAND --help)\n"
               "  onnorm --version\n"
               "Options take their value as `--opt value` or `--opt=value`.\n");
    fputs(onn_cli_exit_codes, f);
}

void onn_cli_help(const onn_cli_cmd *c, FILE *f)
{
    fprintf(f, "usage: onnorm %s %s\n\n%s\n", c->name, c->synopsis, c->about);
    fprintf(f, "options (`--opt value` or `--opt=value`):\n");
    for (int i = 0; i < c->n_opts; i++) {
        const onn_cli_opt *o = &c->opts[i];
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(f, "  %-22s ", head);
        /* Continuation lines of the help text are indented under it. */
        for (const char *p = o->help; *p; p++) {
            fputc(*p, f);
            if (*p == '\n' && p[1]) fprintf(f, "  %-22s ", "");
        }
        fputc('\n', f);
    }
    fprintf(f, "  %-22s this help\n  %-22s print the version and exit\n\n", "-h, --help",
            "--version");
    if (c->exits)
        fprintf(f, "exit status:\n%s", c->exits);
    else
        fputs(onn_cli_exit_codes, f);
}

static const onn_cli_opt *find_opt(const onn_cli_cmd *c, const char *name, size_t len)
{
    for (int i = 0; i < c->n_opts; i++)
        if (strlen(c->opts[i].name) == len && !strncmp(c->opts[i].name, name, len))
            return &c->opts[i];
    return NULL;
}

/* Stores one option value; returns 0 or prints why not and returns -1. */
static int set_opt(const onn_cli_cmd *c, const onn_cli_opt *o, const char *v)
{
    char *end;
    switch (o->kind) {
    case ONN_OPT_FLAG: *(bool *)o->dst = true; return 0;
    case ONN_OPT_STR:
        if (!v[0]) {
            fprintf(stderr, "onnorm %s: %s needs a non-empty %s\n", c->name, o->name, o->metavar);
            return -1;
        }
        *(const char **)o->dst = v;
        return 0;
    case ONN_OPT_PAIR: {
        onn_cli_pairs *p = o->dst;
        const char *eq = strchr(v, '=');
        if (!eq || eq == v || !eq[1]) {
            fprintf(stderr, "onnorm %s: %s takes %s, got '%s'\n", c->name, o->name, o->metavar, v);
            return -1;
        }
        if (p->n == ONN_CLI_MAX_PAIRS) {
            fprintf(stderr, "onnorm %s: at most %d %s options\n", c->name, ONN_CLI_MAX_PAIRS,
                    o->name);
            return -1;
        }
        /* The name ends at the '=' (argv strings are writable). */
        *(char *)eq = '\0';
        p->name[p->n] = v;
        p->value[p->n++] = eq + 1;
        return 0;
    }
    case ONN_OPT_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (!v[0] || *end || errno || x < o->min || x > o->max) {
            fprintf(stderr, "onnorm %s: %s must be an integer from %.0f to %.0f, got '%s'\n",
                    c->name, o->name, o->min, o->max, v);
            return -1;
        }
        *(int *)o->dst = (int)x;
        return 0;
    }
    case ONN_OPT_BYTES: {
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        int shift = 0;
        if (*end)
            shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : *end == 'T' ? 40 : -1;
        if (*end && shift > 0) end++;
        if (!v[0] || v[0] == '-' || *end || errno || shift < 0 || x == 0 ||
            x > (SIZE_MAX >> shift)) {
            fprintf(stderr,
                    "onnorm %s: %s must be a positive byte count (optionally with K, M, G or T), "
                    "got '%s'\n",
                    c->name, o->name, v);
            return -1;
        }
        *(size_t *)o->dst = (size_t)x << shift;
        return 0;
    }
    case ONN_OPT_REAL: {
        errno = 0;
        double x = strtod(v, &end);
        if (!v[0] || *end || errno || !isfinite(x) || x < o->min || x > o->max) {
            fprintf(stderr, "onnorm %s: %s must be a number from %g to %g, got '%s'\n", c->name,
                    o->name, o->min, o->max, v);
            return -1;
        }
        *(double *)o->dst = x;
        return 0;
    }
    }
    return -1;
}

int onn_cli_parse(const onn_cli_cmd *c, int argc, char **argv, const char **pos, int *n_pos)
{
    *n_pos = 0;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || !a[1]) {
            if (c->max_pos >= 0 && *n_pos == c->max_pos) {
                fprintf(stderr, "onnorm %s: unexpected argument '%s' (see onnorm help %s)\n",
                        c->name, a, c->name);
                return ONN_EXIT_USAGE;
            }
            pos[(*n_pos)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            onn_cli_help(c, stdout);
            return ONN_EXIT_OK;
        }
        if (!strcmp(a, "--version")) {
            printf("onnorm " ONNORM_VERSION "\n");
            return ONN_EXIT_OK;
        }
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const onn_cli_opt *o = find_opt(c, a, len);
        if (!o) {
            fprintf(stderr, "onnorm %s: unknown option '%.*s' (see onnorm help %s)\n", c->name,
                    (int)len, a, c->name);
            return ONN_EXIT_USAGE;
        }
        const char *v = NULL;
        if (o->kind == ONN_OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "onnorm %s: %s takes no value\n", c->name, o->name);
                return ONN_EXIT_USAGE;
            }
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) {
            v = argv[++i];
        } else {
            fprintf(stderr, "onnorm %s: %s needs a value (%s)\n", c->name, o->name, o->metavar);
            return ONN_EXIT_USAGE;
        }
        if (set_opt(c, o, v)) return ONN_EXIT_USAGE;
        if (o->given) *o->given = true;
    }
    if (*n_pos < c->min_pos) {
        fprintf(stderr, "onnorm %s: missing argument\nusage: onnorm %s %s\n(see onnorm help %s)\n",
                c->name, c->name, c->synopsis, c->name);
        return ONN_EXIT_USAGE;
    }
    return 0;
}

int onn_cli_exit_for(onnorm_status st)
{
    return st == ONNORM_ERR_UNSUPPORTED ? ONN_EXIT_UNSUPPORTED : ONN_EXIT_FAIL;
}

onnorm_status onn_cli_check_file(const char *path, onnorm_error *err)
{
    struct stat st;
    FILE *f = NULL;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err->message, sizeof err->message, "%s: is a directory, not a file", path);
    } else if (!(f = fopen(path, "rb"))) {
        snprintf(err->message, sizeof err->message, "%s: cannot open: %s", path, strerror(errno));
    } else {
        fclose(f);
        return ONNORM_OK;
    }
    err->code = ONNORM_ERR_IO;
    return ONNORM_ERR_IO;
}

/* The folder part of path ("." when none) into buf. */
static void parent_dir(const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

onnorm_status onn_cli_check_writable(const char *path, onnorm_error *err)
{
    struct stat st;
    char dir[4096];
    err->code = ONNORM_ERR_IO;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err->message, sizeof err->message, "%s: is a directory, not a file", path);
        return ONNORM_ERR_IO;
    }
    parent_dir(path, dir, sizeof dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        int en = errno;
        if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) en = ENOTDIR;
        snprintf(err->message, sizeof err->message, "%.400s: cannot write into %.400s: %s", path,
                 dir, strerror(en));
        return ONNORM_ERR_IO;
    }
    err->code = ONNORM_OK;
    return ONNORM_OK;
}

onnorm_status onn_cli_make_dir(const char *path, onnorm_error *err)
{
    char buf[4096];
    struct stat st;
    err->code = ONNORM_ERR_IO;
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(err->message, sizeof err->message, "%.200s...: path too long", path);
        return ONNORM_ERR_IO;
    }
    /* mkdir -p: each prefix ending before a '/', then the whole path. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            snprintf(err->message, sizeof err->message, "%.400s: cannot create %.400s: %s", path,
                     buf, strerror(errno));
            return ONNORM_ERR_IO;
        }
        *p = c;
        if (!c) break;
    }
    if (stat(path, &st) != 0) {
        snprintf(err->message, sizeof err->message, "%s: %s", path, strerror(errno));
        return ONNORM_ERR_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err->message, sizeof err->message, "%s: exists and is not a directory", path);
        return ONNORM_ERR_IO;
    }
    if (access(path, W_OK | X_OK) != 0) {
        snprintf(err->message, sizeof err->message, "%s: cannot write into it: %s", path,
                 strerror(errno));
        return ONNORM_ERR_IO;
    }
    err->code = ONNORM_OK;
    return ONNORM_OK;
}

onn_cli_limits_t onn_cli_limits;

onnorm_status onn_cli_load_model(const char *path, unsigned flags, onnorm_model **m,
                                 onnorm_error *err)
{
    *m = NULL;
    onnorm_status st = onn_cli_check_file(path, err);
    onnorm_load_options o;
    onnorm_load_options_init(&o);
    o.flags = flags;
    o.max_fold_bytes = onn_cli_limits.fold;
    return st ? st : onnorm_model_load_file_ex(path, &o, m, err);
}

onnorm_status onn_cli_read_tensor(const char *path, onnorm_tensor **t, onnorm_error *err)
{
    *t = NULL;
    onnorm_status st = onn_cli_check_file(path, err);
    return st ? st : onnorm_tensor_read_file(path, t, err);
}

void onn_cli_input_names(const onnorm_model *m, char *buf, size_t len)
{
    size_t u = 0;
    buf[0] = '\0';
    for (int i = 0; i < onnorm_model_input_count(m) && u < len; i++)
        u += (size_t)snprintf(buf + u, len - u, "%s%s", i ? ", " : "",
                              onnorm_model_input_name(m, i));
    if (!onnorm_model_input_count(m)) snprintf(buf, len, "(none)");
}

onnorm_status onn_cli_bind(onnorm_session *s, const onnorm_model *m, const char *name,
                           const onnorm_tensor *t, onnorm_error *err)
{
    onnorm_status st = onnorm_session_bind_input(s, name, t->dtype, t->dims, t->rank, t->data, err);
    if (st == ONNORM_ERR_NOT_FOUND) {
        char names[700];
        onn_cli_input_names(m, names, sizeof names);
        snprintf(err->message, sizeof err->message,
                 "the model has no input '%.200s'; its inputs are: %s", name, names);
    }
    return st;
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

const char *onn_cli_shape(const onnorm_tensor *t, char *buf, size_t len)
{
    return onnorm_shape_str(t->dims, t->rank, buf, len);
}

const char *onn_cli_wait_policy(void)
{
    static char buf[96];
    const char *p = getenv("OMP_WAIT_POLICY");
    if (!p) p = getenv("GOMP_SPINCOUNT") ? "GOMP_SPINCOUNT" : "default";
    snprintf(buf, sizeof buf, "spin %d us, then sleep; OpenMP %s", onnorm_thread_spin_us(), p);
    return buf;
}

double onn_cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int onn_cli_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills a missing float input with a fixed pseudo-random sequence in [-1, 1),
 * so repeated runs see the same data. Symbolic dims become 1. */
onnorm_tensor *onn_cli_fill_input(const onnorm_model *m, int i, onnorm_error *err)
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
    const size_t esz = onnorm_dtype_size(t->dtype);
    /* A declared shape is file data: past --max-arena-bytes (when given) or
     * past what size_t holds it is refused, not allocated. */
    const bool too_big = n < 0 || (size_t)n > SIZE_MAX / esz ||
                         (onn_cli_limits.arena && (size_t)n * esz > onn_cli_limits.arena);
    t->data = too_big ? NULL : malloc((size_t)(n ? n : 1) * esz);
    if (!t->data) {
        char sh[160];
        free(t);
        snprintf(err->message, sizeof err->message,
                 "input '%s': cannot allocate %s elements of shape %s%s", info.name,
                 onnorm_dtype_name(info.dtype),
                 onnorm_shape_str(info.dims, info.rank, sh, sizeof sh),
                 too_big && n >= 0 ? " (past --max-arena-bytes)" : "");
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

void onn_cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}
