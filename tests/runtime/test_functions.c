/*
 * Model-local functions (ModelProto.functions) are inlined at load time.
 * The model here calls a function "ScaledNorm" (domain "custom") twice; its
 * body is one InstanceNormalization whose epsilon references the caller's
 * attribute "eps". The two calls use different epsilons, so the outputs
 * differ in a way only correct attribute resolution produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "onnx.pb-c.h"

static char *s_dup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    strcpy(p, s);
    return p;
}

/* Body: y = InstanceNormalization(x, s, b) with epsilon = @eps. */
static Onnx__FunctionProto *make_function(const char *nested_op)
{
    Onnx__FunctionProto *f = calloc(1, sizeof *f);
    onnx__function_proto__init(f);
    f->name = s_dup("ScaledNorm");
    f->domain = s_dup("custom");
    f->n_input = 3;
    f->input = calloc(3, sizeof(char *));
    f->input[0] = s_dup("x"), f->input[1] = s_dup("s"), f->input[2] = s_dup("b");
    f->n_output = 1;
    f->output = calloc(1, sizeof(char *));
    f->output[0] = s_dup("y");
    f->n_attribute = 1;
    f->attribute = calloc(1, sizeof(char *));
    f->attribute[0] = s_dup("eps");
    Onnx__NodeProto *n = calloc(1, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = s_dup(nested_op);
    n->domain = s_dup(strcmp(nested_op, "ScaledNorm") ? "" : "custom");
    n->n_input = 3;
    n->input = calloc(3, sizeof(char *));
    n->input[0] = s_dup("x"), n->input[1] = s_dup("s"), n->input[2] = s_dup("b");
    n->n_output = 1;
    n->output = calloc(1, sizeof(char *));
    n->output[0] = s_dup("y");
    Onnx__AttributeProto *a = calloc(1, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = s_dup("epsilon");
    a->ref_attr_name = s_dup("eps");
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    n->n_attribute = 1;
    n->attribute = calloc(1, sizeof *n->attribute);
    n->attribute[0] = a;
    f->n_node = 1;
    f->node = calloc(1, sizeof *f->node);
    f->node[0] = n;
    return f;
}

/* Serializes the builder's model with the function attached. */
static uint8_t *with_function(tb_model *b, Onnx__FunctionProto *f, size_t *len)
{
    size_t blen;
    uint8_t *buf = tb_serialize(b, &blen);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, blen, buf);
    free(buf);
    assert_non_null(m);
    Onnx__FunctionProto **saved = m->functions;
    size_t nsaved = m->n_functions;
    Onnx__FunctionProto *fs[1] = {f};
    m->functions = fs;
    m->n_functions = 1;
    *len = onnx__model_proto__get_packed_size(m);
    uint8_t *out = malloc(*len);
    onnx__model_proto__pack(m, out);
    m->functions = saved;
    m->n_functions = nsaved;
    onnx__model_proto__free_unpacked(m, NULL);
    return out;
}

static tb_model *two_calls(void)
{
    tb_model *b = tb_new(6);
    tb_opset(b, "custom", 1);
    tb_input(b, "x", ONNORM_FLOAT, 3, (int64_t[]){1, 1, 2});
    const float one = 1, zero = 0;
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){1}, &one);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){1}, &zero);
    tb_node *n1 = tb_node_add(b, "ScaledNorm", "call1", 3, (const char *[]){"x", "s", "b"}, 1,
                              (const char *[]){"y1"});
    tb_node_domain(n1, "custom");
    tb_attr_float(n1, "eps", 0.0f);
    tb_node *n2 = tb_node_add(b, "ScaledNorm", "call2", 3, (const char *[]){"x", "s", "b"}, 1,
                              (const char *[]){"y2"});
    tb_node_domain(n2, "custom");
    tb_attr_float(n2, "eps", 3.0f);
    tb_output(b, "y1", ONNORM_FLOAT);
    tb_output(b, "y2", ONNORM_FLOAT);
    return b;
}

static void function_calls_are_inlined_with_their_attributes(void **state)
{
    (void)state;
    tb_model *b = two_calls();
    Onnx__FunctionProto *f = make_function("InstanceNormalization");
    size_t len;
    uint8_t *buf = with_function(b, f, &len);
    onnx__function_proto__free_unpacked(f, NULL);
    tb_free(b);

    onnorm_model *m;
    onnorm_error e;
    assert_int_equal(onnorm_model_load_buffer(buf, len, "fn", 0, &m, &e), ONNORM_OK);
    free(buf);
    assert_int_equal(onnorm_model_node_count(m), 2);
    const char *op;
    onnorm_model_node(m, 0, NULL, &op, NULL, NULL);
    assert_string_equal(op, "InstanceNormalization");

    const int64_t dims[3] = {1, 1, 2};
    const float x[2] = {-1.0f, 1.0f}; /* mean 0, variance 1 */
    th_run r;
    TH_OK(&r, th_run_loaded(&r, m, NULL, 1, (th_tensor[]){th_in("x", ONNORM_FLOAT, 3, dims, x)}));
    const float *y1 = th_output(&r, "y1", ONNORM_FLOAT, 3, dims);
    const float *y2 = th_output(&r, "y2", ONNORM_FLOAT, 3, dims);
    /* eps 0: x / 1; eps 3: x / sqrt(1 + 3) = x / 2. */
    assert_float_equal(y1[0], -1.0f, 1e-6);
    assert_float_equal(y1[1], 1.0f, 1e-6);
    assert_float_equal(y2[0], -0.5f, 1e-6);
    assert_float_equal(y2[1], 0.5f, 1e-6);
    th_free(&r);
    onnorm_model_free(m);
}

static void recursive_function_is_an_error(void **state)
{
    (void)state;
    tb_model *b = two_calls();
    Onnx__FunctionProto *f = make_function("ScaledNorm"); /* calls itself */
    size_t len;
    uint8_t *buf = with_function(b, f, &len);
    onnx__function_proto__free_unpacked(f, NULL);
    tb_free(b);
    onnorm_model *m = NULL;
    onnorm_error e;
    assert_int_equal(onnorm_model_load_buffer(buf, len, "fn", 0, &m, &e), ONNORM_ERR_INVALID);
    assert_non_null(strstr(e.message, "ScaledNorm"));
    assert_null(m);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(function_calls_are_inlined_with_their_attributes),
        cmocka_unit_test(recursive_function_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
