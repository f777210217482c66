/* In-memory ONNX model builder for tests (see builder.h). Allocation
 * failures in test helpers are treated as fatal by the caller's asserts. */
#include "builder.h"
#include "onnx.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Capacity of every list a model or node holds (nodes, initializers, graph
 * inputs and outputs, a node's inputs, outputs and attributes); adding more
 * aborts the test program with a message. */
#define TB_MAX 512
#define TB_ROOM(count)                                                                             \
    do {                                                                                           \
        if ((size_t)(count) >= TB_MAX) {                                                           \
            fprintf(stderr, "builder.c:%d: more than %d entries\n", __LINE__, TB_MAX);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct tb_node {
    Onnx__NodeProto proto;
    Onnx__AttributeProto *attrs[TB_MAX];
    char *in[TB_MAX], *out[TB_MAX];
};

struct tb_model {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto *opsets[8];
    Onnx__NodeProto *nodes[TB_MAX];
    tb_node *tnodes[TB_MAX];
    Onnx__TensorProto *inits[TB_MAX];
    Onnx__ValueInfoProto *inputs[TB_MAX], *outputs[TB_MAX];
    Onnx__FunctionProto *functions[TB_MAX];
};

static char *dup(const char *s)
{
    if (!s) return NULL; /* an unset optional string field */
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    memcpy(p, s, n);
    return p;
}

tb_model *tb_new(int64_t opset)
{
    tb_model *b = calloc(1, sizeof *b);
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.graph = &b->graph;
    b->model.opset_import = b->opsets;
    b->model.functions = b->functions;
    b->graph.name = dup("test");
    b->graph.node = b->nodes;
    b->graph.initializer = b->inits;
    b->graph.input = b->inputs;
    b->graph.output = b->outputs;
    if (opset > 0) tb_opset(b, "", opset);
    return b;
}

void tb_opset(tb_model *b, const char *domain, int64_t version)
{
    Onnx__OperatorSetIdProto *o = calloc(1, sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = dup(domain);
    o->has_version = 1;
    o->version = version;
    b->opsets[b->model.n_opset_import++] = o;
}

void tb_ir_version(tb_model *b, int64_t v)
{
    b->model.ir_version = v;
}

static Onnx__ValueInfoProto *value_info(const char *name, onnorm_dtype dt, int rank,
                                        const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = calloc(1, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = dup(name);
    Onnx__TypeProto *tp = calloc(1, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = calloc(1, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = (int32_t)dt;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = calloc(1, sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        sh->n_dim = (size_t)rank;
        sh->dim = calloc((size_t)(rank ? rank : 1), sizeof *sh->dim);
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = calloc(1, sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = dup("N");
            }
            sh->dim[i] = d;
        }
        tt->shape = sh;
    }
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    return vi;
}

void tb_input(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims)
{
    TB_ROOM(b->graph.n_input);
    b->inputs[b->graph.n_input++] = value_info(name, dt, rank, dims);
}

void tb_output(tb_model *b, const char *name, onnorm_dtype dt)
{
    TB_ROOM(b->graph.n_output);
    b->outputs[b->graph.n_output++] = value_info(name, dt, -1, NULL);
}

void tb_init(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
             const void *data)
{
    Onnx__TensorProto *t = calloc(1, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = dup(name);
    t->has_data_type = 1;
    t->data_type = (int32_t)dt;
    t->n_dims = (size_t)rank;
    t->dims = calloc((size_t)(rank ? rank : 1), sizeof *t->dims);
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        n *= (size_t)dims[i];
    }
    t->has_raw_data = 1;
    t->raw_data.len = n * onnorm_dtype_size(dt);
    t->raw_data.data = malloc(t->raw_data.len ? t->raw_data.len : 1);
    if (t->raw_data.len) memcpy(t->raw_data.data, data, t->raw_data.len);
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

tb_node *tb_node_add(tb_model *b, const char *op_type, const char *name, int n_in,
                     const char *const *inputs, int n_out, const char *const *outputs)
{
    TB_ROOM(b->graph.n_node);
    TB_ROOM(n_in);
    TB_ROOM(n_out);
    tb_node *n = calloc(1, sizeof *n);
    onnx__node_proto__init(&n->proto);
    n->proto.op_type = dup(op_type);
    n->proto.name = dup(name ? name : "");
    n->proto.domain = dup("");
    for (int i = 0; i < n_in; i++)
        n->in[i] = dup(inputs[i]);
    for (int i = 0; i < n_out; i++)
        n->out[i] = dup(outputs[i]);
    n->proto.n_input = (size_t)n_in;
    n->proto.input = n->in;
    n->proto.n_output = (size_t)n_out;
    n->proto.output = n->out;
    n->proto.attribute = n->attrs;
    b->tnodes[b->graph.n_node] = n;
    b->nodes[b->graph.n_node++] = &n->proto;
    return n;
}

void tb_node_domain(tb_node *n, const char *domain)
{
    free(n->proto.domain);
    n->proto.domain = dup(domain);
}

static Onnx__AttributeProto *new_attr(tb_node *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = calloc(1, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = dup(name);
    a->has_type = 1;
    a->type = type;
    TB_ROOM(n->proto.n_attribute);
    n->attrs[n->proto.n_attribute++] = a;
    return a;
}

void tb_attr_int(tb_node *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void tb_attr_float(tb_node *n, const char *name, float v)
{
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void tb_attr_ints(tb_node *n, const char *name, int count, const int64_t *v)
{
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = malloc((size_t)(count ? count : 1) * sizeof *a->ints);
    memcpy(a->ints, v, (size_t)count * sizeof *a->ints);
}

void tb_attr_string(tb_node *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)dup(v);
}

uint8_t *tb_serialize(tb_model *b, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf) onnx__model_proto__pack(&b->model, buf);
    return buf;
}

onnorm_status tb_load(tb_model *b, onnorm_model **m, onnorm_error *err)
{
    size_t len;
    uint8_t *buf = tb_serialize(b, &len);
    onnorm_status st = onnorm_model_load_buffer(buf, len, "built-model", 0, m, err);
    free(buf);
    return st;
}

/* protobuf-c's free_unpacked frees with the system allocator field by field,
 * which matches how everything here was allocated. */
void tb_free(tb_model *b)
{
    if (!b) return;
    b->model.graph = NULL;
    for (size_t i = 0; i < b->graph.n_node; i++) {
        tb_node *n = b->tnodes[i];
        free(n->proto.op_type);
        free(n->proto.name);
        free(n->proto.domain);
        for (size_t k = 0; k < n->proto.n_input; k++)
            free(n->in[k]);
        for (size_t k = 0; k < n->proto.n_output; k++)
            free(n->out[k]);
        for (size_t k = 0; k < n->proto.n_attribute; k++)
            onnx__attribute_proto__free_unpacked(n->attrs[k], NULL);
        free(n);
    }
    for (size_t i = 0; i < b->graph.n_initializer; i++)
        onnx__tensor_proto__free_unpacked(b->inits[i], NULL);
    for (size_t i = 0; i < b->graph.n_input; i++)
        onnx__value_info_proto__free_unpacked(b->inputs[i], NULL);
    for (size_t i = 0; i < b->graph.n_output; i++)
        onnx__value_info_proto__free_unpacked(b->outputs[i], NULL);
    for (size_t i = 0; i < b->model.n_opset_import; i++)
        onnx__operator_set_id_proto__free_unpacked(b->opsets[i], NULL);
    for (size_t i = 0; i < b->model.n_functions; i++)
        onnx__function_proto__free_unpacked(b->functions[i], NULL);
    free(b->graph.name);
    free(b);
}

/* ---- additions for loader / API tests ---------------------------------- */

/* A TensorProto with name, type and dims but no data. */
static Onnx__TensorProto *new_tensor(const char *name, onnorm_dtype dt, int rank,
                                     const int64_t *dims)
{
    Onnx__TensorProto *t = calloc(1, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = dup(name);
    t->has_data_type = 1;
    t->data_type = (int32_t)dt;
    t->n_dims = (size_t)rank;
    t->dims = calloc((size_t)(rank ? rank : 1), sizeof *t->dims);
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    return t;
}

static void *copy_bytes(const void *src, size_t n)
{
    void *p = malloc(n ? n : 1);
    if (n) memcpy(p, src, n);
    return p;
}

void tb_init_raw(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                 const void *data, size_t nbytes)
{
    Onnx__TensorProto *t = new_tensor(name, dt, rank, dims);
    t->has_raw_data = 1;
    t->raw_data.len = nbytes;
    t->raw_data.data = copy_bytes(data, nbytes);
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

void tb_init_typed_float(tb_model *b, const char *name, int rank, const int64_t *dims, size_t n,
                         const float *v)
{
    Onnx__TensorProto *t = new_tensor(name, ONNORM_FLOAT, rank, dims);
    t->n_float_data = n;
    t->float_data = copy_bytes(v, n * sizeof *v);
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

void tb_init_typed_double(tb_model *b, const char *name, int rank, const int64_t *dims, size_t n,
                          const double *v)
{
    Onnx__TensorProto *t = new_tensor(name, ONNORM_DOUBLE, rank, dims);
    t->n_double_data = n;
    t->double_data = copy_bytes(v, n * sizeof *v);
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

void tb_init_typed_int64(tb_model *b, const char *name, int rank, const int64_t *dims, size_t n,
                         const int64_t *v)
{
    Onnx__TensorProto *t = new_tensor(name, ONNORM_INT64, rank, dims);
    t->n_int64_data = n;
    t->int64_data = copy_bytes(v, n * sizeof *v);
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

void tb_init_typed_int32(tb_model *b, const char *name, onnorm_dtype dt, int rank,
                         const int64_t *dims, size_t n, const int32_t *v)
{
    Onnx__TensorProto *t = new_tensor(name, dt, rank, dims);
    t->n_int32_data = n;
    t->int32_data = copy_bytes(v, n * sizeof *v);
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

void tb_init_typed_uint64(tb_model *b, const char *name, onnorm_dtype dt, int rank,
                          const int64_t *dims, size_t n, const uint64_t *v)
{
    Onnx__TensorProto *t = new_tensor(name, dt, rank, dims);
    t->n_uint64_data = n;
    t->uint64_data = copy_bytes(v, n * sizeof *v);
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

void tb_init_external(tb_model *b, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                      const char *location)
{
    Onnx__TensorProto *t = new_tensor(name, dt, rank, dims);
    Onnx__StringStringEntryProto *e = calloc(1, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = dup("location");
    e->value = dup(location);
    t->n_external_data = 1;
    t->external_data = calloc(1, sizeof *t->external_data);
    t->external_data[0] = e;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    TB_ROOM(b->graph.n_initializer);
    b->inits[b->graph.n_initializer++] = t;
}

static Onnx__TensorProto *raw_tensor(const char *name, onnorm_dtype dt, int rank,
                                     const int64_t *dims, const void *data)
{
    Onnx__TensorProto *t = new_tensor(name, dt, rank, dims);
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    t->has_raw_data = 1;
    t->raw_data.len = n * onnorm_dtype_size(dt);
    t->raw_data.data = copy_bytes(data, t->raw_data.len);
    return t;
}

void tb_attr_tensor(tb_node *n, const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                    const void *data)
{
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = raw_tensor(NULL, dt, rank, dims, data);
}

void tb_attr_floats(tb_node *n, const char *name, int count, const float *v)
{
    Onnx__AttributeProto *a = new_attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = (size_t)count;
    a->floats = copy_bytes(v, (size_t)count * sizeof *v);
}

uint8_t *tb_serialize_tensor(const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                             const void *data, size_t *len)
{
    Onnx__TensorProto *t = raw_tensor(name, dt, rank, dims, data);
    *len = onnx__tensor_proto__get_packed_size(t);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf) onnx__tensor_proto__pack(t, buf);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return buf;
}

onnorm_status tb_load_flags(tb_model *b, unsigned flags, onnorm_model **m, onnorm_error *err)
{
    size_t len;
    uint8_t *buf = tb_serialize(b, &len);
    onnorm_status st = onnorm_model_load_buffer(buf, len, "built-model", flags, m, err);
    free(buf);
    return st;
}

static char **dup_list(int n, const char *const *v)
{
    char **out = calloc((size_t)(n ? n : 1), sizeof *out);
    for (int i = 0; i < n; i++)
        out[i] = dup(v[i]);
    return out;
}

struct tb_function {
    Onnx__FunctionProto proto; /* first member: the struct is the proto */
};

tb_function *tb_function_add(tb_model *b, const char *name, const char *domain, int n_in,
                             const char *const *inputs, int n_out, const char *const *outputs)
{
    Onnx__FunctionProto *f = calloc(1, sizeof(tb_function));
    onnx__function_proto__init(f);
    f->name = dup(name);
    f->domain = dup(domain);
    f->n_input = (size_t)n_in;
    f->input = dup_list(n_in, inputs);
    f->n_output = (size_t)n_out;
    f->output = dup_list(n_out, outputs);
    TB_ROOM(b->model.n_functions);
    b->functions[b->model.n_functions++] = f;
    return (tb_function *)f;
}

void tb_function_node(tb_function *tf, const char *op_type, const char *domain, int n_in,
                      const char *const *inputs, int n_out, const char *const *outputs)
{
    Onnx__FunctionProto *f = &tf->proto;
    Onnx__NodeProto *n = calloc(1, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = dup(op_type);
    n->domain = dup(domain);
    n->n_input = (size_t)n_in;
    n->input = dup_list(n_in, inputs);
    n->n_output = (size_t)n_out;
    n->output = dup_list(n_out, outputs);
    f->node = realloc(f->node, (f->n_node + 1) * sizeof *f->node);
    f->node[f->n_node++] = n;
}
