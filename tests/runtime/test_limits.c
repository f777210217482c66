/*
 * Resource limits (issue 15): the load limit on what constant folding keeps
 * (onnorm_load_options.max_fold_bytes), the session's memory cap
 * (onnorm_session_options.max_arena_bytes), and typed initializer fields
 * whose count cannot match their dims being refused before any allocation.
 *
 * Expected values are formulas written here: a chain of k Concat(x, x) from
 * one element v holds 2^k copies of v, so its ReduceSum is 2^k * v.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"

#define assert_msg_has(e, needle)                                                                  \
    do {                                                                                           \
        if (!strstr((e).message, (needle)))                                                        \
            fail_msg("message \"%s\" does not mention \"%s\"", (e).message, (needle));             \
    } while (0)

/* c0 = [v]; c(k+1) = Concat(ck, ck); y = ReduceSum(c_len) (keepdims 0). */
static uint8_t *concat_chain(int len, float v, size_t *size)
{
    tb_model *b = tb_new(17);
    tb_init(b, "c0", ONNORM_FLOAT, 1, (int64_t[]){1}, &v);
    char in[16], out[16];
    for (int k = 0; k < len; k++) {
        snprintf(in, sizeof in, "c%d", k);
        snprintf(out, sizeof out, "c%d", k + 1);
        char nm[16];
        snprintf(nm, sizeof nm, "cat%d", k + 1);
        tb_node *n =
            tb_node_add(b, "Concat", nm, 2, (const char *[]){in, in}, 1, (const char *[]){out});
        tb_attr_int(n, "axis", 0);
    }
    snprintf(in, sizeof in, "c%d", len);
    tb_node *r =
        tb_node_add(b, "ReduceSum", "sum", 1, (const char *[]){in}, 1, (const char *[]){"y"});
    tb_attr_int(r, "keepdims", 0);
    tb_output(b, "y", ONNORM_FLOAT);
    uint8_t *buf = tb_serialize(b, size);
    tb_free(b);
    assert_non_null(buf);
    return buf;
}

static void load_options_default(void **state)
{
    (void)state;
    onnorm_load_options o;
    memset(&o, 0xAB, sizeof o);
    onnorm_load_options_init(&o);
    assert_int_equal(o.flags, 0);
    assert_int_equal(o.max_fold_bytes, 0);
    onnorm_session_options so;
    memset(&so, 0xAB, sizeof so);
    onnorm_session_options_init(&so);
    assert_int_equal(so.max_arena_bytes, 0);
}

/* 20 doublings of 4 bytes = 4 MiB; a 1 MiB load limit folds only up to it,
 * the rest runs, and the result is still 2^20 * v. */
static void fold_stops_at_load_limit(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = concat_chain(20, 0.5f, &size);
    onnorm_load_options o;
    onnorm_load_options_init(&o);
    o.max_fold_bytes = (size_t)1 << 20;
    onnorm_model *m = NULL;
    onnorm_error e;
    if (onnorm_model_load_buffer_ex(buf, size, "chain", &o, &m, &e)) fail_msg("%s", e.message);
    /* What folding kept: at most the limit. */
    assert_true(onnorm_model_weight_bytes(m) <= o.max_fold_bytes);
    assert_true(onnorm_model_node_count(m) > 1);
    if (!strstr(onnorm_model_notes(m), "load limit of 1048576 bytes"))
        fail_msg("notes: %s", onnorm_model_notes(m));
    onnorm_session *s = NULL;
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.num_threads = 1;
    if (onnorm_session_create(m, &so, &s, &e)) fail_msg("%s", e.message);
    if (onnorm_session_run(s, &e)) fail_msg("%s", e.message);
    onnorm_tensor y;
    assert_int_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
    assert_true(*(const float *)y.data == 524288.0f); /* 2^20 * 0.5, exact in float */
    onnorm_session_free(s);
    onnorm_model_free(m);
    /* The default limit (64 MiB for a small file) folds all of it. */
    assert_int_equal(onnorm_model_load_buffer(buf, size, "chain", 0, &m, &e), ONNORM_OK);
    assert_int_equal(onnorm_model_node_count(m), 0);
    onnorm_model_free(m);
    free(buf);
}

/* 40 doublings would be 4 TiB: loading keeps at most the default 64 MiB,
 * and a session with a 128 MiB cap refuses to plan, naming a node. */
static void doubling_bomb_is_bounded(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = concat_chain(40, 1.0f, &size);
    onnorm_model *m = NULL;
    onnorm_error e;
    if (onnorm_model_load_buffer(buf, size, "bomb", 0, &m, &e)) fail_msg("%s", e.message);
    assert_true(onnorm_model_weight_bytes(m) <= (size_t)64 << 20);
    onnorm_session *s = NULL;
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.num_threads = 1;
    so.optimization_level = 0;
    so.max_arena_bytes = (size_t)128 << 20;
    onnorm_status st = onnorm_session_create(m, &so, &s, &e);
    if (!st) st = onnorm_session_run(s, &e);
    assert_int_equal(st, ONNORM_ERR_NOMEM);
    assert_msg_has(e, "(Concat)");
    assert_msg_has(e, "max_arena_bytes");
    onnorm_session_free(s);
    onnorm_model_free(m);
    free(buf);
}

/* y = ConstantOfShape([n]) of 2.0 added to x[1]: n floats. */
static onnorm_model *const_of_shape(int64_t n)
{
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 1, (int64_t[]){1});
    tb_init(b, "shape", ONNORM_INT64, 1, (int64_t[]){1}, &n);
    tb_node *c = tb_node_add(b, "ConstantOfShape", "fill", 1, (const char *[]){"shape"}, 1,
                             (const char *[]){"c"});
    tb_attr_tensor(c, "value", ONNORM_FLOAT, 1, (int64_t[]){1}, (const float[]){2.0f});
    tb_node_add(b, "Add", "add", 2, (const char *[]){"x", "c"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = NULL;
    onnorm_error e;
    /* Folding would compute c ahead (it stays under the load limit); without
     * folding it is a run-time value, which the cap bounds. */
    if (tb_load_flags(b, ONNORM_LOAD_NO_FOLDING, &m, &e)) fail_msg("%s", e.message);
    tb_free(b);
    return m;
}

static void session_cap_names_node_and_size(void **state)
{
    (void)state;
    onnorm_model *m = const_of_shape(1000000); /* 4 000 000 bytes */
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.num_threads = 1;
    so.optimization_level = 0;
    so.max_arena_bytes = (size_t)1 << 20;
    onnorm_session *s = NULL;
    onnorm_error e;
    const float x = 1.0f;
    onnorm_status st = onnorm_session_create(m, &so, &s, &e);
    if (!st) st = onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){1}, 1, &x, &e);
    if (!st) st = onnorm_session_run(s, &e);
    assert_int_equal(st, ONNORM_ERR_NOMEM);
    assert_msg_has(e, "'fill' (ConstantOfShape)");
    assert_msg_has(e, "4000000 bytes");
    assert_msg_has(e, "1048576 bytes");
    onnorm_session_free(s);
    /* Under a cap that fits it runs, and the values are 1 + 2. */
    so.max_arena_bytes = (size_t)16 << 20;
    s = NULL;
    if (onnorm_session_create(m, &so, &s, &e) ||
        onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){1}, 1, &x, &e) ||
        onnorm_session_run(s, &e))
        fail_msg("%s", e.message);
    onnorm_tensor y;
    assert_int_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
    assert_int_equal(y.dims[0], 1000000);
    for (int64_t i = 0; i < y.dims[0]; i += 99991)
        assert_true(((const float *)y.data)[i] == 3.0f);
    onnorm_session_free(s);
    onnorm_model_free(m);
}

/* a = Relu(x), b = Neg(x), y = Add(a, b): each value 600 000 bytes, a and b
 * alive together. A 1 MiB cap admits each alone but not the arena. */
static void arena_total_is_capped(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    const int64_t n = 150000;
    tb_input(b, "x", ONNORM_FLOAT, 1, &n);
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"x"}, 1, (const char *[]){"a"});
    tb_node_add(b, "Neg", "neg", 1, (const char *[]){"x"}, 1, (const char *[]){"b"});
    tb_node_add(b, "Add", "add", 2, (const char *[]){"a", "b"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = NULL;
    onnorm_error e;
    if (tb_load(b, &m, &e)) fail_msg("%s", e.message);
    tb_free(b);
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.num_threads = 1;
    so.optimization_level = 0;
    so.max_arena_bytes = (size_t)1 << 20;
    onnorm_session *s = NULL;
    float *x = calloc((size_t)n, sizeof *x);
    onnorm_status st = onnorm_session_create(m, &so, &s, &e);
    if (!st) st = onnorm_session_bind_input(s, "x", ONNORM_FLOAT, &n, 1, x, &e);
    if (!st) st = onnorm_session_run(s, &e);
    assert_int_equal(st, ONNORM_ERR_NOMEM);
    assert_msg_has(e, "arena");
    assert_msg_has(e, "max_arena_bytes");
    onnorm_session_free(s);
    free(x);
    onnorm_model_free(m);
}

/* 2^36 floats declared, no values given: refused by count, not by a failed
 * (or, with overcommit, successful) 256 GiB allocation. */
static void typed_count_checked_before_allocation(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 1, (int64_t[]){1});
    tb_init_typed_float(b, "w", 2, (int64_t[]){(int64_t)1 << 30, 64}, 1, (const float[]){1});
    tb_node_add(b, "Add", "add", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = NULL;
    onnorm_error e;
    assert_int_equal(tb_load(b, &m, &e), ONNORM_ERR_INVALID);
    assert_msg_has(e, "'w' holds 1 values for 68719476736 elements");
    tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_options_default),
        cmocka_unit_test(fold_stops_at_load_limit),
        cmocka_unit_test(doubling_bomb_is_bounded),
        cmocka_unit_test(session_cap_names_node_and_size),
        cmocka_unit_test(arena_total_is_capped),
        cmocka_unit_test(typed_count_checked_before_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
