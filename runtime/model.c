/*
 * The public model API (include/onnorm.h, "models"): loading, validation,
 * kernel binding and load-time folding, and introspection. A model is
 * immutable once loaded.
 */
#include "runtime/runtime.h"
#include "loader/loader.h"
#include "runtime/bind.h"
#include "runtime/fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void onnorm_load_options_init(onnorm_load_options *o)
{
    if (!o) return;
    o->flags = 0;
    o->max_fold_bytes = 0;
}

/* The default load limit: 16 times the model's bytes (the file, or the
 * larger total of its constants when they live in external data), and at
 * least ONN_LOAD_LIMIT_MIN. */
#define ONN_LOAD_LIMIT_MIN ((size_t)64 << 20)
static size_t default_load_limit(const onnorm_model *m, size_t file_bytes)
{
    size_t base = onnorm_model_weight_bytes(m);
    if (base < file_bytes) base = file_bytes;
    size_t limit = base > SIZE_MAX / 16 ? SIZE_MAX : base * 16;
    return limit < ONN_LOAD_LIMIT_MIN ? ONN_LOAD_LIMIT_MIN : limit;
}

/* Loads a model whose external data, if any, lives in base_dir (NULL: a
 * model from memory, which may not have any). */
static onnorm_status load_model(const void *data, size_t size, const char *name,
                                const char *base_dir, const onnorm_load_options *o,
                                onnorm_model **out, onnorm_error *err)
{
    *out = NULL;
    const unsigned flags = o->flags;
    onnorm_model *m = calloc(1, sizeof *m);
    if (!m) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    onnorm_status st = onn_load_model(data, size, name, base_dir, &m->g, err);
    if (!st)
        m->g->ahead_limit = o->max_fold_bytes ? o->max_fold_bytes : default_load_limit(m, size);
    if (!st) st = onn_graph_finalize(m->g, err);
    if (!st)
        st = onn_bind_graph(m->g, (flags & ONNORM_LOAD_ALLOW_UNSUPPORTED) != 0, &m->kernels,
                            &m->unsupported, err);
    if (!st && !(flags & ONNORM_LOAD_NO_FOLDING))
        st = onn_fold_constants(m->g, m->kernels, m->notes, sizeof m->notes, err);
    if (st) {
        onnorm_model_free(m);
        return st;
    }
    *out = m;
    if (err) err->code = ONNORM_OK, err->message[0] = '\0';
    return ONNORM_OK;
}

onnorm_status onnorm_model_load_buffer_ex(const void *data, size_t size, const char *name,
                                          const onnorm_load_options *opts, onnorm_model **out,
                                          onnorm_error *err)
{
    if (!out || (!data && size))
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_load_buffer: invalid arguments");
    onnorm_load_options o;
    onnorm_load_options_init(&o);
    if (opts) o = *opts;
    return load_model(data, size, name, NULL, &o, out, err);
}

onnorm_status onnorm_model_load_buffer(const void *data, size_t size, const char *name,
                                       unsigned flags, onnorm_model **out, onnorm_error *err)
{
    onnorm_load_options o;
    onnorm_load_options_init(&o);
    o.flags = flags;
    return onnorm_model_load_buffer_ex(data, size, name, &o, out, err);
}

onnorm_status onnorm_model_load_file(const char *path, unsigned flags, onnorm_model **out,
                                     onnorm_error *err)
{
    onnorm_load_options o;
    onnorm_load_options_init(&o);
    o.flags = flags;
    return onnorm_model_load_file_ex(path, &o, out, err);
}

onnorm_status onnorm_model_load_file_ex(const char *path, const onnorm_load_options *opts,
                                        onnorm_model **out, onnorm_error *err)
{
    onnorm_load_options o;
    onnorm_load_options_init(&o);
    if (opts) o = *opts;
    if (!path || !out)
        return onn_fail(err, ONNORM_ERR_INVALID, "onnorm_model_load_file: NULL argument");
    *out = NULL;
    /* The directory of the file, where its external data may live. */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? onn_strdup(path) : onn_strdup(".");
    if (!dir) return onn_fail(err, ONNORM_ERR_NOMEM, "out of memory");
    if (slash) dir[slash == path ? 1 : slash - path] = '\0';
    uint8_t *buf;
    size_t len;
    onnorm_status st = onn_read_file(path, &buf, &len, err);
    if (!st) {
        st = load_model(buf, len, path, dir, &o, out, err);
        free(buf);
    }
    free(dir);
    return st;
}

void onnorm_model_free(onnorm_model *m)
{
    if (!m) return;
    onn_graph_free(m->g);
    free(m->kernels);
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

/* A value's declared type and shape, without data. */
static onnorm_status value_info(const onn_value *v, onnorm_tensor *info)
{
    info->dtype = v->dtype;
    info->rank = v->rank;
    for (int k = 0; k < v->rank; k++)
        info->dims[k] = v->dims[k];
    info->data = NULL;
    info->name = v->name;
    return ONNORM_OK;
}

onnorm_status onnorm_model_input_info(const onnorm_model *m, int i, onnorm_tensor *info)
{
    if (!m || !info || i < 0 || i >= m->g->n_feeds) return ONNORM_ERR_NOT_FOUND;
    return value_info(&m->g->values[m->g->feeds[i]], info);
}

onnorm_status onnorm_model_output_info(const onnorm_model *m, int i, onnorm_tensor *info)
{
    if (!m || !info || i < 0 || i >= m->g->n_outputs) return ONNORM_ERR_NOT_FOUND;
    return value_info(&m->g->values[m->g->outputs[i]], info);
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
    if (kernel_version) *kernel_version = m->kernels[i] ? m->kernels[i]->since_version : 0;
}

const char *onnorm_model_notes(const onnorm_model *m)
{
    return m ? m->notes : "";
}
