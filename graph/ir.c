/* IR helpers: errors, tensors, attributes, value lookup, freeing. */
#include "graph/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

onnorm_status onn_fail(onnorm_error *err, onnorm_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

onnorm_status onn_prefix(onnorm_error *err, onnorm_status code, const char *fmt, ...)
{
    if (err) {
        char head[512], old[sizeof err->message];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(head, sizeof head, fmt, ap);
        va_end(ap);
        memcpy(old, err->message, sizeof old);
        old[sizeof old - 1] = '\0';
        char both[sizeof head + sizeof old];
        snprintf(both, sizeof both, "%s%s", head, old);
        size_t n = strlen(both);
        if (n >= sizeof err->message) n = sizeof err->message - 1;
        memcpy(err->message, both, n);
        err->message[n] = '\0';
        err->code = code;
    }
    return code;
}

char *onn_strdup(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

void *onn_memdup(const void *p, size_t bytes)
{
    void *d = malloc(bytes ? bytes : 1);
    if (d && bytes) memcpy(d, p, bytes);
    return d;
}

bool onn_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

/* Product of dims[from..to); -1 if any dim is negative or the product
 * does not fit in int64. */
int64_t onn_dims_numel(const int64_t *dims, int from, int to)
{
    int64_t n = 1;
    for (int i = from; i < to; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] != 0 && n > INT64_MAX / dims[i]) return -1;
        n *= dims[i];
    }
    return n;
}

onnorm_tensor *onn_tensor_new(onnorm_dtype dtype, int rank, const int64_t *dims, onnorm_error *err)
{
    if (rank < 0 || rank > ONNORM_MAX_RANK) {
        onn_fail(err, ONNORM_ERR_UNSUPPORTED, "rank %d exceeds the supported maximum %d", rank,
                 ONNORM_MAX_RANK);
        return NULL;
    }
    size_t esz = onnorm_dtype_size(dtype);
    if (esz == 0) {
        onn_fail(err, ONNORM_ERR_UNSUPPORTED, "element type %s (%d) is not supported",
                 onnorm_dtype_name(dtype), (int)dtype);
        return NULL;
    }
    int64_t numel = onn_dims_numel(dims, 0, rank);
    size_t bytes;
    if (numel < 0 || !onn_mul_size((size_t)numel, esz, &bytes)) {
        onn_fail(err, ONNORM_ERR_NOMEM, "tensor element count overflows or has a negative dim");
        return NULL;
    }
    onnorm_tensor *t = calloc(1, sizeof *t);
    /* Allocate at least one byte so a zero-size tensor still has data. */
    void *data = t ? calloc(bytes ? bytes : 1, 1) : NULL;
    if (!t || !data) {
        free(t);
        free(data);
        onn_fail(err, ONNORM_ERR_NOMEM, "cannot allocate a tensor of %zu bytes", bytes);
        return NULL;
    }
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->data = data;
    return t;
}

void onn_tensor_free(onnorm_tensor *t)
{
    if (!t) return;
    free(t->data);
    free(t->name);
    free(t);
}

const char *onn_shape_str(const int64_t *dims, int rank, char *buf, size_t len)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, len, "[");
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

const onn_attr *onn_attr_find(const onn_node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

/* The attribute called name when it has the given type; *bad is set when
 * it exists with another (the message says what it must be). */
static const onn_attr *typed_attr(const onn_node *n, const char *name, onn_attr_type type,
                                  const char *what, bool *bad, onnorm_error *err)
{
    const onn_attr *a = onn_attr_find(n, name);
    *bad = a && a->type != type;
    if (*bad) onn_fail(err, ONNORM_ERR_INVALID, "attribute '%s' must be %s", name, what);
    return *bad ? NULL : a;
}

bool onn_attr_float(const onn_node *n, const char *name, float dflt, float *out, onnorm_error *err)
{
    bool bad;
    const onn_attr *a = typed_attr(n, name, ONN_ATTR_FLOAT, "a float", &bad, err);
    *out = a ? a->f : dflt;
    return !bad;
}

bool onn_attr_int(const onn_node *n, const char *name, int64_t dflt, int64_t *out,
                  onnorm_error *err)
{
    bool bad;
    const onn_attr *a = typed_attr(n, name, ONN_ATTR_INT, "an int", &bad, err);
    *out = a ? a->i : dflt;
    return !bad;
}

const char *onn_node_label(const onn_node *n, char *buf, size_t len)
{
    if (n->name && n->name[0])
        snprintf(buf, len, "node '%s' (%s)", n->name, n->op_type);
    else
        snprintf(buf, len, "unnamed node (%s)", n->op_type);
    return buf;
}

/* FNV-1a: value names are short, and the index only needs a spread. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

int onn_graph_find_value(const onn_graph *g, const char *name)
{
    if (!g->index) return -1;
    uint32_t mask = (uint32_t)g->index_cap - 1;
    for (uint32_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        int v = g->index[i];
        if (v < 0) return -1;
        if (strcmp(g->values[v].name, name) == 0) return v;
    }
}

static void index_put(int *index, int cap, const char *name, int v)
{
    uint32_t mask = (uint32_t)cap - 1;
    uint32_t i = name_hash(name) & mask;
    while (index[i] >= 0)
        i = (i + 1) & mask;
    index[i] = v;
}

/* Keeps the hash at most half full. */
static bool index_reserve(onn_graph *g, int n)
{
    if (g->index && n * 2 <= g->index_cap) return true;
    int cap = g->index_cap ? g->index_cap : 64;
    while (n * 2 > cap)
        cap *= 2;
    int *index = malloc((size_t)cap * sizeof *index);
    if (!index) return false;
    for (int i = 0; i < cap; i++)
        index[i] = -1;
    for (int v = 0; v < g->n_values; v++)
        index_put(index, cap, g->values[v].name, v);
    free(g->index);
    g->index = index;
    g->index_cap = cap;
    return true;
}

int onn_graph_intern_value(onn_graph *g, const char *name)
{
    int i = onn_graph_find_value(g, name);
    if (i >= 0) return i;
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 16;
        onn_value *v = realloc(g->values, (size_t)cap * sizeof *v);
        if (!v) return -1;
        g->values = v;
        g->cap_values = cap;
    }
    if (!index_reserve(g, g->n_values + 1)) return -1;
    onn_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = onn_strdup(name);
    if (!v->name) return -1;
    v->rank = -1;
    v->producer = -1;
    index_put(g->index, g->index_cap, v->name, g->n_values);
    return g->n_values++;
}

int64_t onn_graph_opset(const onn_graph *g, const char *domain)
{
    /* "ai.onnx" and "" name the same default domain. */
    if (strcmp(domain, "ai.onnx") == 0) domain = "";
    for (int i = 0; i < g->n_opsets; i++) {
        const char *d = g->opsets[i].domain;
        if (strcmp(d, "ai.onnx") == 0) d = "";
        if (strcmp(d, domain) == 0) return g->opsets[i].version;
    }
    return -1;
}

void onn_attr_clear(onn_attr *a)
{
    free(a->name);
    free(a->s);
    onn_tensor_free(a->t);
    free(a->floats);
    free(a->ints);
    for (size_t i = 0; a->strings && i < a->n; i++)
        free(a->strings[i]);
    free(a->strings);
    for (size_t i = 0; a->tensors && i < a->n; i++)
        onn_tensor_free(a->tensors[i]);
    free(a->tensors);
    onn_graph_free(a->g);
}

void onn_node_clear(onn_node *n)
{
    free(n->name);
    free(n->op_type);
    free(n->domain);
    free(n->in);
    free(n->out);
    for (int k = 0; k < n->n_attr; k++)
        onn_attr_clear(&n->attrs[k]);
    free(n->attrs);
    memset(n, 0, sizeof *n);
}

void onn_graph_free(onn_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++)
        onn_node_clear(&g->nodes[i]);
    free(g->nodes);
    for (int i = 0; i < g->n_values; i++) {
        free(g->values[i].name);
        if (!g->values[i].init_borrowed) onn_tensor_free(g->values[i].init);
    }
    free(g->shell);
    free(g->capture_from);
    free(g->values);
    free(g->index);
    for (int i = 0; i < g->n_opsets; i++)
        free(g->opsets[i].domain);
    free(g->opsets);
    free(g->inputs);
    free(g->outputs);
    free(g->feeds);
    free(g->source);
    free(g);
}

bool onn_normalize_axis(int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank) return false;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}
