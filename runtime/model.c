/* The public model object: a loaded, validated, immutable graph. */
#include "runtime/runtime.h"
#include "loader/loader.h"
#include "graph/edit.h"
#include "graph/passes.h"
#include "ops/kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

onnorm_status onnorm_model_load_buffer(const void *data, size_t size, const char *name,
                                       unsigned flags, onnorm_model **out, onnorm_error *err)
{
    if (!out || (!data && size))
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_load_buffer: invalid arguments");
    *out = NULL;
    onn_graph *g;
    onnorm_status st = onn_load_model(data, size, name, &g, err);
    if (st) return st;
    st = onn_graph_finalize(g, (flags & ONNORM_LOAD_ALLOW_UNSUPPORTED) != 0, err);
    if (!st && !(flags & ONNORM_LOAD_NO_FOLDING)) st = onn_graph_fold_constants(g, err);
    onnorm_model *m = st ? NULL : calloc(1, sizeof *m);
    if (!st && !m) st = onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    if (st) {
        onn_graph_free(g);
        return st;
    }
    m->g = g;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].kernel) m->unsupported++;
    *out = m;
    if (err) err->code = ONNORM_OK, err->message[0] = '\0';
    return ONNORM_OK;
}

onnorm_status onnorm_model_load_file(const char *path, unsigned flags, onnorm_model **out,
                                     onnorm_error *err)
{
    if (!path || !out)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_load_file: NULL argument");
    uint8_t *buf;
    size_t len;
    onnorm_status st = onn_read_file(path, &buf, &len, err);
    if (st) return st;
    st = onnorm_model_load_buffer(buf, len, path, flags, out, err);
    free(buf);
    return st;
}

void onnorm_model_free(onnorm_model *m)
{
    if (!m) return;
    onn_graph_free(m->g);
    free(m);
}

int onnorm_model_input_count(const onnorm_model *m)
{
    return m ? m->g->n_feeds : 0;
}

const char *onnorm_model_input_name(const onnorm_model *m, int i)
{
    if (!m || i < 0 || i >= m->g->n_feeds) return NULL;
    return m->g->values[m->g->feeds[i]].name;
}

onnorm_status onnorm_model_input_info(const onnorm_model *m, int i, onnorm_tensor *info)
{
    if (!m || !info || i < 0 || i >= m->g->n_feeds) return ONNORM_ERR_NOT_FOUND;
    const onn_value *v = &m->g->values[m->g->feeds[i]];
    info->dtype = v->dtype;
    info->rank = v->rank;
    for (int k = 0; k < v->rank; k++)
        info->dims[k] = v->dims[k];
    info->data = NULL;
    info->name = v->name;
    return ONNORM_OK;
}

int onnorm_model_output_count(const onnorm_model *m)
{
    return m ? m->g->n_outputs : 0;
}

const char *onnorm_model_output_name(const onnorm_model *m, int i)
{
    if (!m || i < 0 || i >= m->g->n_outputs) return NULL;
    return m->g->values[m->g->outputs[i]].name;
}

int64_t onnorm_model_ir_version(const onnorm_model *m)
{
    return m ? m->g->ir_version : 0;
}

int onnorm_model_opset_count(const onnorm_model *m)
{
    return m ? m->g->n_opsets : 0;
}

void onnorm_model_opset(const onnorm_model *m, int i, const char **domain, int64_t *version)
{
    if (!m || i < 0 || i >= m->g->n_opsets) return;
    if (domain) *domain = m->g->opsets[i].domain;
    if (version) *version = m->g->opsets[i].version;
}

int onnorm_model_node_count(const onnorm_model *m)
{
    return m ? m->g->n_nodes : 0;
}

size_t onnorm_model_weight_bytes(const onnorm_model *m)
{
    size_t total = 0;
    for (int v = 0; m && v < m->g->n_values; v++) {
        const onnorm_tensor *t = m->g->values[v].init;
        if (t) total += (size_t)onnorm_tensor_numel(t) * onnorm_dtype_size(t->dtype);
    }
    return total;
}

void onnorm_model_node(const onnorm_model *m, int i, const char **name, const char **op_type,
                       const char **domain, int *kernel_version)
{
    if (!m || i < 0 || i >= m->g->n_nodes) return;
    const onn_node *n = &m->g->nodes[i];
    if (name) *name = n->name;
    if (op_type) *op_type = n->op_type;
    if (domain) *domain = n->domain;
    if (kernel_version) *kernel_version = n->kernel ? n->kernel->since_version : 0;
}

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
    if (!st) st = onn_optimize(copy->g, opts.level, opts.disabled_passes, rep, err);
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

onnorm_status onnorm_model_save_file(const onnorm_model *m, const char *path, onnorm_error *err)
{
    if (!m || !path)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_save_file: NULL argument");
    uint8_t *buf;
    size_t len;
    onnorm_status st = onn_graph_write(m->g, &buf, &len, err);
    if (st) return st;
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    free(buf);
    if (!ok) return onn_fail(err, ONNORM_ERR_IO, "%s: cannot write file", path);
    return ONNORM_OK;
}
