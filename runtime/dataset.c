/*
 * Calibration data sets (include/onnorm.h, "data sets"): the inputs a model
 * is run on by `onnorm calibrate`, `onnorm stats` and `onnorm standardize`,
 * given as paths, and the NumPy .npy reader behind them.
 *
 * What a path may be:
 *   - a file: a serialized TensorProto (.pb) or a NumPy array (.npy),
 *     recognised by its content (the .npy magic), not by its name;
 *   - an ONNX test folder: a folder holding test_data_set_* folders, each of
 *     which is one item;
 *   - an input folder: a folder holding input_0 .. input_{K-1} (.pb or .npy,
 *     the test_data_set layout), which is one item; other files in it
 *     (output_*.pb) are ignored;
 *   - any other folder: every *.npy and *.pb file directly in it (sorted by
 *     name; subfolders and other files are ignored) is one item each.
 * Decisions where the issue is silent:
 *   - A loose file is one item of a single-input model. A model with several
 *     inputs takes its data only as input folders (or test_data_set_*
 *     folders), input_K feeding the model's K-th input; loose files are
 *     refused for it, since nothing in a file says which input it feeds.
 *   - A file holds one batch (its rank is the input's rank) or one sample
 *     (one rank less: a batch dim of 1 is put in front). The element type
 *     must be the input's declared type: nothing is converted (a float64
 *     .npy for a float32 input is an error saying so). Fixed dims must
 *     match, except that when the model's first input declares a fixed
 *     batch B (exports often fix B = 1) and a file holds k * B rows, the
 *     file is cut into k runs of B rows (every input of a multi-input item
 *     alike); an item of the data set is one run.
 *   - Items are read lazily, when bound or read; opening lists the files
 *     and, only for a model with a fixed batch, reads each first file's
 *     shape (the header of an .npy, the whole of a .pb) to count its runs.
 *     Binding keeps the current file's tensors until a run of another file
 *     is bound. Tensors are checked against the model's declarations when
 *     read.
 *   - .npy: versions 1.0, 2.0 and 3.0; little-endian (or byte-sized) bool,
 *     int8/16/32/64, uint8/16/32/64, float16/32/64; C order only. The header
 *     is parsed as the dict numpy writes ('descr', 'fortran_order', 'shape'
 *     and nothing else); the data must fill the rest of the file exactly, so
 *     nothing is allocated beyond the file's size.
 */
#define _DEFAULT_SOURCE /* fileno, opendir */
#include "runtime/runtime.h"
#include "loader/loader.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A header longer than this is not one numpy wrote. */
#define NPY_MAX_HEADER (1u << 20)

typedef struct ds_input {
    char *name;
    onnorm_dtype dtype; /* UNDEFINED when the model does not say */
    int rank;           /* -1 when the model does not say */
    int64_t dims[ONNORM_MAX_RANK];
} ds_input;

/* One run: a file set (entry), or one batch-sized slice of it. */
typedef struct ds_item {
    int entry;
    int part, parts; /* slice part of parts; parts 0: the whole entry */
} ds_item;

struct onnorm_dataset {
    char *source; /* the model, for messages */
    int n_inputs;
    ds_input *inputs;
    int n_entries, cap_entries;
    char **files; /* n_entries * n_inputs paths */
    int n_items;
    ds_item *items;
    int held_entry;       /* the entry whose tensors are in held, -1 none */
    onnorm_tensor **held; /* n_inputs: that entry's tensors */
};

/* ---- .npy ----------------------------------------------------------------- */

typedef struct npy_parser {
    const char *p, *end;
} npy_parser;

static void npy_ws(npy_parser *q)
{
    while (q->p < q->end && (*q->p == ' ' || *q->p == '\t' || *q->p == '\n' || *q->p == '\r'))
        q->p++;
}

static bool npy_lit(npy_parser *q, char c)
{
    npy_ws(q);
    if (q->p < q->end && *q->p == c) {
        q->p++;
        return true;
    }
    return false;
}

/* A quoted Python string of at most len-1 characters (no escapes). */
static bool npy_string(npy_parser *q, char *out, size_t len)
{
    npy_ws(q);
    if (q->p >= q->end || (*q->p != '\'' && *q->p != '"')) return false;
    const char quote = *q->p++;
    size_t n = 0;
    while (q->p < q->end && *q->p != quote) {
        if (*q->p == '\\' || n + 1 >= len) return false;
        out[n++] = *q->p++;
    }
    if (q->p >= q->end) return false;
    q->p++;
    out[n] = '\0';
    return true;
}

static bool npy_word(npy_parser *q, const char *w)
{
    npy_ws(q);
    size_t n = strlen(w);
    if ((size_t)(q->end - q->p) < n || memcmp(q->p, w, n) != 0) return false;
    q->p += n;
    return true;
}

/* (d0, d1, ...) with an optional trailing comma; () is a scalar. */
static bool npy_shape(npy_parser *q, int *rank, int64_t *dims, const char **why)
{
    *rank = 0;
    if (!npy_lit(q, '(')) return false;
    for (;;) {
        if (npy_lit(q, ')')) return true;
        npy_ws(q);
        if (q->p >= q->end || !isdigit((unsigned char)*q->p)) return false;
        int64_t v = 0;
        while (q->p < q->end && isdigit((unsigned char)*q->p)) {
            if (v > (INT64_C(1) << 58)) {
                *why = "a dim is too large";
                return false;
            }
            v = v * 10 + (*q->p++ - '0');
        }
        /* numpy writes Python ints; older versions wrote 3L. */
        if (q->p < q->end && *q->p == 'L') q->p++;
        if (*rank == ONNORM_MAX_RANK) {
            *why = "more dims than onnorm supports (8)";
            return false;
        }
        dims[(*rank)++] = v;
        if (npy_lit(q, ',')) continue;
        if (npy_lit(q, ')')) return true;
        return false;
    }
}

/* numpy's descr ('<f4', '|b1', ...) -> an element type; 0 if unsupported. */
static onnorm_dtype npy_dtype(const char *d, const char **why)
{
    static const struct {
        const char *code;
        onnorm_dtype t;
    } map[] = {{"b1", ONNORM_BOOL},    {"i1", ONNORM_INT8},   {"u1", ONNORM_UINT8},
               {"i2", ONNORM_INT16},   {"u2", ONNORM_UINT16}, {"i4", ONNORM_INT32},
               {"u4", ONNORM_UINT32},  {"i8", ONNORM_INT64},  {"u8", ONNORM_UINT64},
               {"f2", ONNORM_FLOAT16}, {"f4", ONNORM_FLOAT},  {"f8", ONNORM_DOUBLE}};
    if (strlen(d) < 3) return ONNORM_UNDEFINED;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        if (strcmp(d + 1, map[i].code) != 0) continue;
        const bool one_byte = map[i].code[1] == '1';
        if (d[0] == '<' || d[0] == '=' || (d[0] == '|' && one_byte) || (d[0] == '>' && one_byte))
            return map[i].t;
        if (d[0] == '>') *why = "big-endian data is not supported";
        return ONNORM_UNDEFINED;
    }
    return ONNORM_UNDEFINED;
}

/* Reads an .npy file into *out, or, with out NULL, checks it and returns
 * only its rank and dims (the header; the data are not read). */
static onnorm_status npy_load(const char *path, onnorm_tensor **out, int *rank_out,
                              int64_t *dims_out, onnorm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return onn_fail(err, ONNORM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    onnorm_status st = ONNORM_OK;
    char *header = NULL;
    onnorm_tensor *t = NULL;
    struct stat sb;
    unsigned char pre[12];
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = onn_fail(err, ONNORM_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    const size_t file_size = (size_t)sb.st_size;
    if (file_size < 10 || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        st = onn_fail(err, ONNORM_ERR_PARSE, "%s: not a NumPy .npy file (bad magic)", path);
        goto done;
    }
    const int major = pre[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            st = onn_fail(err, ONNORM_ERR_PARSE, "%s: truncated .npy header", path);
            goto done;
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        hstart = 12;
    } else {
        st = onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s: .npy format version %d.%d is not supported",
                      path, major, pre[7]);
        goto done;
    }
    if (hlen > NPY_MAX_HEADER || hlen > file_size - hstart) {
        st = onn_fail(err, ONNORM_ERR_PARSE,
                      "%s: truncated .npy file (the header claims %zu bytes, the file has %zu)",
                      path, hlen, file_size - hstart);
        goto done;
    }
    header = malloc(hlen + 1);
    if (!header) {
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (fread(header, 1, hlen, f) != hlen) {
        st = onn_fail(err, ONNORM_ERR_IO, "%s: cannot read the .npy header", path);
        goto done;
    }
    header[hlen] = '\0';
    npy_parser q = {header, header + hlen};
    char descr[32] = "";
    int rank = -1, fortran = -1;
    int64_t dims[ONNORM_MAX_RANK];
    const char *why = NULL;
    bool ok = npy_lit(&q, '{');
    while (ok && !npy_lit(&q, '}')) {
        char key[32];
        ok = npy_string(&q, key, sizeof key) && npy_lit(&q, ':');
        if (!ok) break;
        if (!strcmp(key, "descr")) {
            ok = npy_string(&q, descr, sizeof descr);
            if (!ok)
                why = "'descr' is not a simple type string (structured arrays are not supported)";
        } else if (!strcmp(key, "fortran_order")) {
            if (npy_word(&q, "True"))
                fortran = 1;
            else if (npy_word(&q, "False"))
                fortran = 0;
            else
                ok = false;
        } else if (!strcmp(key, "shape")) {
            ok = npy_shape(&q, &rank, dims, &why);
        } else {
            ok = false;
            why = "unknown key in the header";
        }
        if (ok && !npy_lit(&q, ',')) {
            ok = npy_lit(&q, '}');
            break;
        }
    }
    npy_ws(&q);
    if (!ok || q.p != q.end || !descr[0] || rank < 0 || fortran < 0) {
        st = onn_fail(err, ONNORM_ERR_PARSE, "%s: bad .npy header (%s): %.200s", path,
                      why ? why : "expected {'descr': ..., 'fortran_order': ..., 'shape': (...)}",
                      header);
        goto done;
    }
    if (fortran) {
        st = onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                      "%s: the array is stored in Fortran order; save it in C order "
                      "(numpy.ascontiguousarray) first",
                      path);
        goto done;
    }
    why = NULL;
    const onnorm_dtype dt = npy_dtype(descr, &why);
    if (dt == ONNORM_UNDEFINED) {
        st =
            onn_fail(err, ONNORM_ERR_UNSUPPORTED, "%s: .npy element type '%s' is not supported%s%s",
                     path, descr, why ? ": " : "", why ? why : "");
        goto done;
    }
    const int64_t numel = onn_dims_numel(dims, 0, rank);
    size_t bytes;
    if (numel < 0 || !onn_mul_size((size_t)numel, onnorm_dtype_size(dt), &bytes) ||
        bytes != file_size - hstart - hlen) {
        char sh[160];
        st = onn_fail(err, ONNORM_ERR_PARSE,
                      "%s: the header declares %s %s (%lld elements) but the file holds %zu data "
                      "bytes",
                      path, onnorm_dtype_name(dt), onn_shape_str(dims, rank, sh, sizeof sh),
                      (long long)numel, file_size - hstart - hlen);
        goto done;
    }
    if (!out) {
        *rank_out = rank;
        memcpy(dims_out, dims, (size_t)rank * sizeof *dims);
        goto done;
    }
    if (!(t = onn_tensor_new(dt, rank, dims, err))) {
        st = err ? err->code : ONNORM_ERR_NOMEM;
        goto done;
    }
    if (bytes && fread(t->data, 1, bytes, f) != bytes) {
        st = onn_fail(err, ONNORM_ERR_IO, "%s: cannot read the data", path);
        goto done;
    }
done:
    free(header);
    fclose(f);
    if (st) {
        onn_tensor_free(t);
        return st;
    }
    if (out) *out = t;
    return ONNORM_OK;
}

onnorm_status onnorm_tensor_read_npy(const char *path, onnorm_tensor **out, onnorm_error *err)
{
    if (out) *out = NULL;
    if (!path || !out)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_tensor_read_npy: NULL argument");
    return npy_load(path, out, NULL, NULL, err);
}

static bool is_npy(const char *path, onnorm_error *err, onnorm_status *st)
{
    char magic[6] = {0};
    FILE *f = fopen(path, "rb");
    *st = ONNORM_OK;
    if (!f) {
        *st = onn_fail(err, ONNORM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return got == 6 && !memcmp(magic, "\x93NUMPY", 6);
}

/* A .npy file (by its magic) or a TensorProto. */
static onnorm_status read_any(const char *path, onnorm_tensor **out, onnorm_error *err)
{
    onnorm_status st;
    if (is_npy(path, err, &st)) return onnorm_tensor_read_npy(path, out, err);
    return st ? st : onnorm_tensor_read_file(path, out, err);
}

/* The rank and dims of a file's tensor: an .npy header, or the whole
 * TensorProto read and dropped. */
static onnorm_status peek_dims(const char *path, int *rank, int64_t *dims, onnorm_error *err)
{
    onnorm_status st;
    if (is_npy(path, err, &st)) return npy_load(path, NULL, rank, dims, err);
    if (st) return st;
    onnorm_tensor *t = NULL;
    if ((st = onnorm_tensor_read_file(path, &t, err))) return st;
    *rank = t->rank;
    memcpy(dims, t->dims, (size_t)t->rank * sizeof *dims);
    onnorm_tensor_free(t);
    return ONNORM_OK;
}

/* ---- listing ---------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

static int is_dir(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return -1;
    return S_ISDIR(sb.st_mode) ? 1 : S_ISREG(sb.st_mode) ? 0 : -1;
}

/* Names sort by their text, except that runs of digits compare by value
 * (test_data_set_10 after test_data_set_9). */
static int natural_cmp(const void *pa, const void *pb)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la, b += lb;
            continue;
        }
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++, b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* The entries of dir (without . and ..), sorted naturally. */
static onnorm_status list_dir(const char *dir, name_list *l, onnorm_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return onn_fail(err, ONNORM_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    struct dirent *e;
    onnorm_status st = ONNORM_OK;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 16;
            char **v = realloc(l->v, (size_t)cap * sizeof *v);
            if (!v) {
                st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
                break;
            }
            l->v = v, l->cap = cap;
        }
        if (!(l->v[l->n] = onn_strdup(e->d_name))) {
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
            break;
        }
        l->n++;
    }
    closedir(d);
    if (!st && l->n > 1) qsort(l->v, (size_t)l->n, sizeof *l->v, natural_cmp);
    return st;
}

/* input_K.pb or input_K.npy: K, else -1. */
static int input_index(const char *name)
{
    if (strncmp(name, "input_", 6) != 0 || !isdigit((unsigned char)name[6])) return -1;
    char *end;
    long k = strtol(name + 6, &end, 10);
    if ((strcmp(end, ".pb") && strcmp(end, ".npy")) || k > 100000) return -1;
    return (int)k;
}

static onnorm_status add_item(onnorm_dataset *d, char **paths, onnorm_error *err)
{
    if (d->n_entries == d->cap_entries) {
        int cap = d->cap_entries ? 2 * d->cap_entries : 64;
        char **v = realloc(d->files, (size_t)cap * (size_t)d->n_inputs * sizeof *v);
        if (!v) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        d->files = v, d->cap_entries = cap;
    }
    for (int k = 0; k < d->n_inputs; k++)
        d->files[(size_t)d->n_entries * (size_t)d->n_inputs + (size_t)k] = paths[k];
    d->n_entries++;
    return ONNORM_OK;
}

static const char *entry_path(const onnorm_dataset *d, int entry, int input)
{
    return d->files[(size_t)entry * (size_t)d->n_inputs + (size_t)input];
}

/* The runs: one per entry, or, when the model's first input has a fixed
 * batch B and an entry's first file holds a multiple of B greater than B,
 * one per slice of B. */
static onnorm_status make_items(onnorm_dataset *d, onnorm_error *err)
{
    const ds_input *in = &d->inputs[0];
    const int64_t B = in->rank >= 1 ? in->dims[0] : -1;
    int *parts = calloc((size_t)d->n_entries + 1, sizeof *parts);
    if (!parts) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    int64_t total = 0;
    onnorm_status st = ONNORM_OK;
    for (int e = 0; e < d->n_entries && !st; e++) {
        if (B > 0) {
            int rank = 0;
            int64_t dims[ONNORM_MAX_RANK];
            st = peek_dims(entry_path(d, e, 0), &rank, dims, err);
            if (!st && rank == in->rank && dims[0] > B && dims[0] % B == 0) {
                if (dims[0] / B > 1000000000)
                    st = onn_fail(err, ONNORM_ERR_SHAPE, "%s: too many batches",
                                  entry_path(d, e, 0));
                else
                    parts[e] = (int)(dims[0] / B);
            }
        }
        total += parts[e] ? parts[e] : 1;
        if (total > 1000000000)
            st = onn_fail(err, ONNORM_ERR_INVALID, "more than 10^9 runs in the data set");
    }
    if (!st && !(d->items = calloc((size_t)total + 1, sizeof *d->items)))
        st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    for (int e = 0; e < d->n_entries && !st; e++)
        for (int p = 0; p < (parts[e] ? parts[e] : 1); p++)
            d->items[d->n_items++] = (ds_item){e, p, parts[e]};
    free(parts);
    return st;
}

/* dir holds input_K files: one item. `found` says whether it did. */
static onnorm_status add_input_folder(onnorm_dataset *d, const char *dir, const name_list *l,
                                      bool *found, onnorm_error *err)
{
    *found = false;
    int count = 0;
    for (int i = 0; i < l->n; i++)
        count += input_index(l->v[i]) >= 0;
    if (!count) return ONNORM_OK;
    *found = true;
    char **paths = calloc((size_t)d->n_inputs, sizeof *paths);
    if (!paths) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    onnorm_status st = ONNORM_OK;
    for (int i = 0; i < l->n && !st; i++) {
        int k = input_index(l->v[i]);
        if (k < 0) continue;
        if (k >= d->n_inputs)
            st = onn_fail(err, ONNORM_ERR_INVALID, "%s: %s, but the model %s takes %d input(s)",
                          dir, l->v[i], d->source, d->n_inputs);
        else if (paths[k])
            st = onn_fail(err, ONNORM_ERR_INVALID, "%s: two files for input %d", dir, k);
        else if (!(paths[k] = join(dir, l->v[i])))
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int k = 0; k < d->n_inputs && !st; k++)
        if (!paths[k])
            st = onn_fail(err, ONNORM_ERR_INVALID,
                          "%s: no input_%d.pb or input_%d.npy for the model's input %d ('%s')", dir,
                          k, k, k, d->inputs[k].name);
    if (!st) st = add_item(d, paths, err);
    if (st)
        for (int k = 0; k < d->n_inputs; k++)
            free(paths[k]);
    free(paths);
    return st;
}

static onnorm_status add_file(onnorm_dataset *d, const char *path, onnorm_error *err)
{
    if (d->n_inputs != 1)
        return onn_fail(err, ONNORM_ERR_INVALID,
                        "%s: the model %s takes %d inputs, so its data must come as folders "
                        "holding input_0 .. input_%d (.pb or .npy), one folder per item, not as "
                        "loose files",
                        path, d->source, d->n_inputs, d->n_inputs - 1);
    char *p = onn_strdup(path);
    if (!p) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    onnorm_status st = add_item(d, &p, err);
    if (st) free(p);
    return st;
}

static onnorm_status add_dir(onnorm_dataset *d, const char *dir, onnorm_error *err)
{
    name_list l = {0};
    onnorm_status st = list_dir(dir, &l, err);
    bool found = false;
    /* test_data_set_* folders. */
    for (int i = 0; i < l.n && !st; i++) {
        if (strncmp(l.v[i], "test_data_set_", 14) != 0) continue;
        char *sub = join(dir, l.v[i]);
        if (!sub) {
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
            break;
        }
        if (is_dir(sub) == 1) {
            name_list sl = {0};
            bool item = false;
            st = list_dir(sub, &sl, err);
            if (!st) st = add_input_folder(d, sub, &sl, &item, err);
            if (!st && !item)
                st = onn_fail(err, ONNORM_ERR_INVALID, "%s: no input_*.pb or input_*.npy files",
                              sub);
            names_free(&sl);
            found = true;
        }
        free(sub);
    }
    if (!st && !found) st = add_input_folder(d, dir, &l, &found, err);
    for (int i = 0; i < l.n && !st && !found; i++) {
        if (!ends_with(l.v[i], ".npy") && !ends_with(l.v[i], ".pb")) continue;
        char *p = join(dir, l.v[i]);
        if (!p) {
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
            break;
        }
        if (is_dir(p) == 0) st = add_file(d, p, err);
        free(p);
    }
    bool any = false;
    for (int i = 0; i < l.n && !found; i++)
        any |= ends_with(l.v[i], ".npy") || ends_with(l.v[i], ".pb");
    if (!st && !found && !any)
        st = onn_fail(err, ONNORM_ERR_INVALID,
                      "%s: no calibration data in the folder (expected .npy or .pb files, "
                      "input_K files, or test_data_set_* folders)",
                      dir);
    names_free(&l);
    return st;
}

/* ---- the public API ------------------------------------------------------- */

onnorm_status onnorm_dataset_open(const onnorm_model *m, const char *const *paths, int n_paths,
                                  onnorm_dataset **out, onnorm_error *err)
{
    if (out) *out = NULL;
    if (!m || !out || (n_paths > 0 && !paths) || n_paths < 0)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_dataset_open: invalid arguments");
    if (n_paths == 0) return onn_fail(err, ONNORM_ERR_INVALID, "no calibration data given");
    const int n_in = onnorm_model_input_count(m);
    if (n_in == 0)
        return onn_fail(err, ONNORM_ERR_INVALID, "%s: the model takes no inputs", m->g->source);
    onnorm_dataset *d = calloc(1, sizeof *d);
    onnorm_status st = d ? ONNORM_OK : onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    if (!st) {
        d->n_inputs = n_in;
        d->source = onn_strdup(m->g->source ? m->g->source : "model");
        d->inputs = calloc((size_t)n_in, sizeof *d->inputs);
        d->held = calloc((size_t)n_in, sizeof *d->held);
        d->held_entry = -1;
        if (!d->source || !d->inputs || !d->held)
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n_in && !st; i++) {
        onnorm_tensor info;
        onnorm_model_input_info(m, i, &info);
        ds_input *in = &d->inputs[i];
        in->dtype = info.dtype;
        in->rank = info.rank;
        for (int k = 0; k < info.rank && k < ONNORM_MAX_RANK; k++)
            in->dims[k] = info.dims[k];
        if (!(in->name = onn_strdup(info.name)))
            st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n_paths && !st; i++) {
        if (!paths[i]) {
            st = onn_fail(err, ONNORM_ERR_INVALID, "onnorm_dataset_open: path %d is NULL", i);
            break;
        }
        int kind = is_dir(paths[i]);
        if (kind < 0)
            st = onn_fail(err, ONNORM_ERR_IO, "%s: no such file or folder", paths[i]);
        else if (kind == 1)
            st = add_dir(d, paths[i], err);
        else
            st = add_file(d, paths[i], err);
    }
    if (!st) st = make_items(d, err);
    if (st) {
        onnorm_dataset_free(d);
        return st;
    }
    *out = d;
    return ONNORM_OK;
}

int onnorm_dataset_count(const onnorm_dataset *d)
{
    return d ? d->n_items : 0;
}

int onnorm_dataset_input_count(const onnorm_dataset *d)
{
    return d ? d->n_inputs : 0;
}

const char *onnorm_dataset_path(const onnorm_dataset *d, int item, int input)
{
    if (!d || item < 0 || item >= d->n_items || input < 0 || input >= d->n_inputs) return NULL;
    return entry_path(d, d->items[item].entry, input);
}

/* Reads input k of an entry: its element type checked, a sample given its
 * batch dim. */
static onnorm_status load_entry(const onnorm_dataset *d, int entry, int k, onnorm_tensor **out,
                                onnorm_error *err)
{
    const ds_input *in = &d->inputs[k];
    const char *path = entry_path(d, entry, k);
    onnorm_tensor *t = NULL;
    onnorm_status st = read_any(path, &t, err);
    if (st) return st;
    if (in->dtype != ONNORM_UNDEFINED && t->dtype != in->dtype) {
        st = onn_fail(err, ONNORM_ERR_DTYPE,
                      "%s: input '%s' of %s is %s, the file holds %s (nothing is converted; "
                      "save the data as %s)",
                      path, in->name, d->source, onnorm_dtype_name(in->dtype),
                      onnorm_dtype_name(t->dtype), onnorm_dtype_name(in->dtype));
        onn_tensor_free(t);
        return st;
    }
    if (in->rank >= 1 && t->rank == in->rank - 1 && (in->dims[0] < 0 || in->dims[0] == 1)) {
        for (int i = t->rank; i > 0; i--)
            t->dims[i] = t->dims[i - 1];
        t->dims[0] = 1;
        t->rank++;
    }
    *out = t;
    return ONNORM_OK;
}

/* The part of whole (input k of item's entry) that item runs, checked
 * against the declaration: a view into whole. */
static onnorm_status item_view(const onnorm_dataset *d, int item, int k, const onnorm_tensor *whole,
                               onnorm_tensor *view, onnorm_error *err)
{
    const ds_input *in = &d->inputs[k];
    const ds_item *it = &d->items[item];
    const char *path = entry_path(d, it->entry, k);
    char want[160], got[160];
    *view = *whole;
    if (it->parts) {
        const int64_t B = in->rank >= 1 ? in->dims[0] : -1;
        if (B <= 0 || whole->rank < 1 || whole->dims[0] != B * it->parts)
            return onn_fail(err, ONNORM_ERR_SHAPE,
                            "%s: input '%s' of %s has shape %s; the item is cut into %d batches "
                            "(as its first input), but the file holds %s",
                            path, in->name, d->source,
                            onn_shape_str(in->dims, in->rank, want, sizeof want), it->parts,
                            onn_shape_str(whole->dims, whole->rank, got, sizeof got));
        const size_t row =
            (size_t)onn_dims_numel(whole->dims, 1, whole->rank) * onnorm_dtype_size(whole->dtype);
        view->dims[0] = B;
        view->data = (char *)whole->data + row * (size_t)B * (size_t)it->part;
    }
    if (in->rank < 0) return ONNORM_OK;
    bool ok = view->rank == in->rank;
    for (int i = 0; ok && i < in->rank; i++)
        ok = in->dims[i] < 0 || in->dims[i] == view->dims[i];
    if (!ok)
        return onn_fail(err, ONNORM_ERR_SHAPE,
                        "%s: input '%s' of %s has shape %s; the file holds %s, which is neither a "
                        "batch, a multiple of the batch, nor one sample of it",
                        path, in->name, d->source,
                        onn_shape_str(in->dims, in->rank, want, sizeof want),
                        onn_shape_str(whole->dims, whole->rank, got, sizeof got));
    return ONNORM_OK;
}

onnorm_status onnorm_dataset_read(const onnorm_dataset *d, int item, int input, onnorm_tensor **out,
                                  onnorm_error *err)
{
    if (out) *out = NULL;
    if (!d || !out) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_dataset_read: NULL argument");
    if (!onnorm_dataset_path(d, item, input))
        return onn_fail(err, ONNORM_ERR_NOT_FOUND, "data set item %d input %d: out of range", item,
                        input);
    onnorm_tensor *t = NULL, view;
    onnorm_status st = load_entry(d, d->items[item].entry, input, &t, err);
    if (!st) st = item_view(d, item, input, t, &view, err);
    if (!st && d->items[item].parts) { /* a copy of the slice */
        onnorm_tensor *c = onn_tensor_new(view.dtype, view.rank, view.dims, err);
        if (c)
            memcpy(c->data, view.data,
                   (size_t)onnorm_tensor_numel(&view) * onnorm_dtype_size(view.dtype));
        else
            st = err ? err->code : ONNORM_ERR_NOMEM;
        onn_tensor_free(t);
        t = c;
    }
    if (st) {
        onn_tensor_free(t);
        return st;
    }
    *out = t;
    return ONNORM_OK;
}

onnorm_status onnorm_dataset_bind(onnorm_dataset *d, int item, onnorm_session *s, onnorm_error *err)
{
    if (!d || !s) return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_dataset_bind: NULL argument");
    if (item < 0 || item >= d->n_items)
        return onn_fail(err, ONNORM_ERR_NOT_FOUND, "data set item %d: out of range (%d items)",
                        item, d->n_items);
    const int entry = d->items[item].entry;
    if (d->held_entry != entry) {
        for (int k = 0; k < d->n_inputs; k++) {
            onn_tensor_free(d->held[k]);
            d->held[k] = NULL;
        }
        d->held_entry = -1;
        for (int k = 0; k < d->n_inputs; k++) {
            onnorm_status st = load_entry(d, entry, k, &d->held[k], err);
            if (st) return st;
        }
        d->held_entry = entry;
    }
    for (int k = 0; k < d->n_inputs; k++) {
        onnorm_tensor v;
        onnorm_status st = item_view(d, item, k, d->held[k], &v, err);
        if (!st) {
            st = onnorm_session_bind_input(s, d->inputs[k].name, v.dtype, v.dims, v.rank, v.data,
                                           err);
            if (st) onn_prefix(err, st, "%s: ", entry_path(d, entry, k));
        }
        if (st) return st;
    }
    return ONNORM_OK;
}

void onnorm_dataset_free(onnorm_dataset *d)
{
    if (!d) return;
    for (int i = 0; i < d->n_inputs; i++) {
        if (d->inputs) free(d->inputs[i].name);
        if (d->held) onn_tensor_free(d->held[i]);
    }
    for (size_t i = 0; d->files && i < (size_t)d->n_entries * (size_t)d->n_inputs; i++)
        free(d->files[i]);
    free(d->files);
    free(d->items);
    free(d->inputs);
    free(d->held);
    free(d->source);
    free(d);
}
