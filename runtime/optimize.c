/*
 * The public optimizer API (include/onnorm.h, "graph optimization"): the
 * passes (graph/passes.h) run on a private copy of a model, with the
 * operator knowledge they need supplied from here, and models are written
 * back out as ONNX files.
 */
#include "runtime/runtime.h"
#include "graph/passes.h"
#include "loader/loader.h"
#include "runtime/bind.h"
#include "runtime/fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const onn_pass_env pass_env = {onn_infer_shapes, onn_bind_same_meaning};

void onnorm_optimize_options_init(onnorm_optimize_options *o)
{
    if (!o) return;
    o->level = 1;
    o->disabled_passes = NULL;
}

static void format_report(const onn_opt_report *r, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < r->n && used < len; i++) {
        const onn_pass_stats *p = &r->passes[i];
        int k = snprintf(out + used, len - used, "pass %-15s %d rewritten, %d left alone\n",
                         p->name, p->matched, p->skipped);
        if (k < 0) break;
        used += (size_t)k;
        const char *line = p->notes;
        while (*line && used < len) {
            const char *end = strchr(line, '\n');
            int n = end ? (int)(end - line) : (int)strlen(line);
            k = snprintf(out + used, len - used, "    %.*s\n", n, line);
            if (k < 0) break;
            used += (size_t)k;
            line = end ? end + 1 : line + n;
        }
        if (p->notes_dropped && used < len) {
            k = snprintf(out + used, len - used, "    ... and %d more\n", p->notes_dropped);
            if (k > 0) used += (size_t)k;
        }
    }
    if (r->infer_notes[0] && used < len)
        snprintf(out + used, len - used, "shape inference:\n%s", r->infer_notes);
}

onnorm_status onnorm_model_optimize(const onnorm_model *m, const onnorm_optimize_options *o,
                                    onnorm_model **out, char *report, size_t report_len,
                                    onnorm_error *err)
{
    if (!m || !out)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_optimize: NULL argument");
    *out = NULL;
    if (m->unsupported)
        return onn_fail(err, ONNORM_ERR_UNSUPPORTED,
                        "%s: a model with unsupported nodes cannot be optimized", m->g->source);
    onnorm_optimize_options opts;
    onnorm_optimize_options_init(&opts);
    if (o) opts = *o;
    onn_opt_report *rep = calloc(1, sizeof *rep);
    onnorm_model *copy = calloc(1, sizeof *copy);
    onnorm_status st = rep && copy ? ONNORM_OK : onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    if (!st && !(copy->g = onn_graph_clone(m->g, err))) st = err ? err->code : ONNORM_ERR_NOMEM;
    if (!st) st = onn_optimize(copy->g, opts.level, opts.disabled_passes, &pass_env, rep, err);
    if (!st) st = onn_bind_graph(copy->g, false, &copy->kernels, NULL, err);
    if (!st && report && report_len) format_report(rep, report, report_len);
    free(rep);
    if (st) {
        onnorm_model_free(copy);
        return st;
    }
    copy->base = m;
    *out = copy;
    return ONNORM_OK;
}

/* Initializers past this total go to a side file even when the source model
 * kept all its data inline: protobuf cannot hold a message over 2 GB. */
#define SAVE_INLINE_LIMIT ((size_t)1 << 30)
/* The smallest tensor moved to the side file. */
#define SAVE_EXTERNAL_MIN 1024

static size_t initializer_bytes(const onn_graph *g)
{
    size_t total = 0;
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].init)
            total += (size_t)onnorm_tensor_numel(g->values[v].init) *
                     onnorm_dtype_size(g->values[v].init->dtype);
    return total;
}

onnorm_status onnorm_model_save_file(const onnorm_model *m, const char *path, onnorm_error *err)
{
    if (!m || !path)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_save_file: NULL argument");
    uint8_t *buf;
    size_t len;
    onnorm_status st;
    if (!m->g->external_data && initializer_bytes(m->g) <= SAVE_INLINE_LIMIT) {
        st = onn_graph_write(m->g, NULL, &buf, &len, err);
    } else {
        /* PATH.data next to PATH, named by its base name. */
        const size_t n = strlen(path);
        char *data_path = malloc(n + 6);
        if (!data_path) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
        memcpy(data_path, path, n);
        memcpy(data_path + n, ".data", 6);
        const char *slash = strrchr(data_path, '/');
        onn_external_out x = {fopen(data_path, "wb"), slash ? slash + 1 : data_path,
                              SAVE_EXTERNAL_MIN, 0};
        if (!x.f) {
            st = onn_fail(err, ONNORM_ERR_IO, "%s: cannot create file", data_path);
            free(data_path);
            return st;
        }
        st = onn_graph_write(m->g, &x, &buf, &len, err);
        if (fclose(x.f) != 0 && !st)
            st = onn_fail(err, ONNORM_ERR_IO, "%s: cannot write file", data_path);
        if (st || x.offset == 0) remove(data_path); /* nothing (valid) went there */
        free(data_path);
    }
    if (st) return st;
    st = onn_write_file(path, buf, len, err);
    free(buf);
    return st;
}
