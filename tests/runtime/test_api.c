/*
 * The public API contract: model introspection, binding rules, run/output
 * ordering, NULL arguments, tensor files and concurrent sessions.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp, truncate */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder.h"
#include "harness.h"

#define assert_msg_has(e, needle)                                                                  \
    do {                                                                                           \
        if (!strstr((e).message, (needle)))                                                        \
            fail_msg("message \"%s\" does not mention \"%s\"", (e).message, (needle));             \
    } while (0)

#define assert_ok(call)                                                                            \
    do {                                                                                           \
        onnorm_status st_ = (call);                                                                \
        if (st_ != ONNORM_OK) fail_msg("%s -> %s", #call, onnorm_status_str(st_));                 \
    } while (0)

static onnorm_model *load_or_fail(tb_model *b)
{
    onnorm_model *m = NULL;
    onnorm_error e;
    if (tb_load(b, &m, &e)) fail_msg("load: %s", e.message);
    return m;
}

/*
 * x: float[N, 4] (N symbolic), scale: float[4] (a graph input, no
 * initializer), B: initializer; LayerNormalization over the last axis with
 * outputs y and mean; also an int64 input "ids" of fixed shape [3] that
 * nothing consumes (legal: graph inputs need no consumer).
 */
static tb_model *api_model(void)
{
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){-1, 4});
    tb_input(b, "scale", ONNORM_FLOAT, 1, (int64_t[]){4});
    tb_input(b, "ids", ONNORM_INT64, 1, (int64_t[]){3});
    const float bias[4] = {0.5f, -0.5f, 1, 0};
    tb_init(b, "B", ONNORM_FLOAT, 1, (int64_t[]){4}, bias);
    tb_node *n = tb_node_add(b, "LayerNormalization", "ln", 3, (const char *[]){"x", "scale", "B"},
                             2, (const char *[]){"y", "mean"});
    tb_attr_int(n, "axis", -1);
    tb_output(b, "y", ONNORM_FLOAT);
    tb_output(b, "mean", ONNORM_FLOAT);
    return b;
}

static const float api_bias[4] = {0.5f, -0.5f, 1, 0};
static const float api_scale[4] = {1, 2, -1, 0.25f};
static const int64_t api_ids[3] = {1, 2, 3};

static void ref_ln_rows(const float *x, int rows, const float *scale, const float *bias, float *y,
                        float *mean_out)
{
    for (int r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < 4; i++)
            mean += x[4 * r + i];
        mean /= 4;
        for (int i = 0; i < 4; i++)
            var += (x[4 * r + i] - mean) * (x[4 * r + i] - mean) / 4;
        double inv = 1 / sqrt(var + (double)1e-5f);
        for (int i = 0; i < 4; i++)
            y[4 * r + i] = (float)((x[4 * r + i] - mean) * inv * scale[i] + bias[i]);
        mean_out[r] = (float)mean;
    }
}

/* ---- introspection -------------------------------------------------------- */

static void model_inputs_and_outputs(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    assert_int_equal(onnorm_model_input_count(m), 3);
    assert_string_equal(onnorm_model_input_name(m, 0), "x");
    assert_string_equal(onnorm_model_input_name(m, 1), "scale");
    assert_string_equal(onnorm_model_input_name(m, 2), "ids");
    assert_null(onnorm_model_input_name(m, 3));
    assert_null(onnorm_model_input_name(m, -1));

    onnorm_tensor info;
    memset(&info, 0xAB, sizeof info);
    assert_int_equal(onnorm_model_input_info(m, 0, &info), ONNORM_OK);
    assert_string_equal(info.name, "x");
    assert_int_equal(info.dtype, ONNORM_FLOAT);
    assert_int_equal(info.rank, 2);
    assert_int_equal(info.dims[0], -1); /* symbolic */
    assert_int_equal(info.dims[1], 4);
    assert_null(info.data);
    assert_int_equal(onnorm_model_input_info(m, 2, &info), ONNORM_OK);
    assert_string_equal(info.name, "ids");
    assert_int_equal(info.dtype, ONNORM_INT64);
    assert_int_equal(info.rank, 1);
    assert_int_equal(info.dims[0], 3);
    assert_int_not_equal(onnorm_model_input_info(m, 3, &info), ONNORM_OK);
    assert_int_not_equal(onnorm_model_input_info(m, -1, &info), ONNORM_OK);

    assert_int_equal(onnorm_model_output_count(m), 2);
    assert_string_equal(onnorm_model_output_name(m, 0), "y");
    assert_string_equal(onnorm_model_output_name(m, 1), "mean");
    assert_null(onnorm_model_output_name(m, 2));
    assert_null(onnorm_model_output_name(m, -1));

    assert_int_equal(onnorm_model_ir_version(m), 8);
    assert_int_equal(onnorm_model_opset_count(m), 1);
    const char *dom = NULL;
    int64_t ver = 0;
    onnorm_model_opset(m, 0, &dom, &ver);
    assert_string_equal(dom, "");
    assert_int_equal(ver, 17);
    assert_int_equal(onnorm_model_node_count(m), 1);
    const char *name = NULL, *op = NULL;
    int kv = 0;
    onnorm_model_node(m, 0, &name, &op, &dom, &kv);
    assert_string_equal(name, "ln");
    assert_string_equal(op, "LayerNormalization");
    assert_int_equal(kv, 17);
    /* The only constant is B: 4 floats. */
    assert_int_equal(onnorm_model_weight_bytes(m), 4 * sizeof(float));
    onnorm_model_free(m);
    tb_free(b);
}

static void input_without_declared_shape(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, -1, NULL); /* no shape recorded */
    const float ones[4] = {1, 1, 1, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){4}, ones);
    tb_node_add(b, "LayerNormalization", "ln", 2, (const char *[]){"x", "s"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = load_or_fail(b);
    onnorm_tensor info;
    assert_int_equal(onnorm_model_input_info(m, 0, &info), ONNORM_OK);
    assert_int_equal(info.rank, -1);
    /* Any rank is accepted when none is declared. */
    onnorm_session *s;
    assert_ok(onnorm_session_create(m, NULL, &s, NULL));
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 9};
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 4}, 2, x, NULL));
    assert_ok(onnorm_session_run(s, NULL));
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){1, 2, 4}, 3, x, NULL));
    assert_ok(onnorm_session_run(s, NULL));
    onnorm_tensor y;
    assert_ok(onnorm_session_output(s, "y", &y, NULL));
    assert_int_equal(y.rank, 3);
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

/* ---- binding --------------------------------------------------------------- */

static void bind_input_errors(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    onnorm_session *s;
    onnorm_error e;
    assert_ok(onnorm_session_create(m, NULL, &s, &e));
    float x[4 * 7] = {0};
    double xd[8] = {0};

    assert_int_equal(
        onnorm_session_bind_input(s, "nope", ONNORM_FLOAT, (int64_t[]){1, 4}, 2, x, &e),
        ONNORM_ERR_NOT_FOUND);
    assert_int_equal(e.code, ONNORM_ERR_NOT_FOUND);
    assert_msg_has(e, "nope");
    /* Outputs and intermediate values are not inputs. */
    assert_int_equal(onnorm_session_bind_input(s, "y", ONNORM_FLOAT, (int64_t[]){1, 4}, 2, x, &e),
                     ONNORM_ERR_NOT_FOUND);

    assert_int_equal(onnorm_session_bind_input(s, "x", ONNORM_DOUBLE, (int64_t[]){2, 4}, 2, xd, &e),
                     ONNORM_ERR_DTYPE);
    assert_msg_has(e, "x");
    assert_msg_has(e, "float32");
    assert_int_equal(onnorm_session_bind_input(s, "ids", ONNORM_INT32, (int64_t[]){3}, 1, x, &e),
                     ONNORM_ERR_DTYPE);
    assert_int_equal(onnorm_session_bind_input(s, "x", ONNORM_STRING, (int64_t[]){1, 4}, 2, x, &e),
                     ONNORM_ERR_DTYPE);

    /* Fixed dims must match; so must the rank. */
    assert_int_equal(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 5}, 2, x, &e),
                     ONNORM_ERR_SHAPE);
    assert_msg_has(e, "x");
    assert_int_equal(onnorm_session_bind_input(s, "scale", ONNORM_FLOAT, (int64_t[]){3}, 1, x, &e),
                     ONNORM_ERR_SHAPE);
    assert_int_equal(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){8}, 1, x, &e),
                     ONNORM_ERR_SHAPE);
    assert_int_equal(
        onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){1, 2, 4}, 3, x, &e),
        ONNORM_ERR_SHAPE);
    assert_int_equal(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){-2, 4}, 2, x, &e),
                     ONNORM_ERR_SHAPE);
    assert_int_not_equal(
        onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 4}, 9, x, &e), ONNORM_OK);
    assert_int_not_equal(
        onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 4}, -1, x, &e), ONNORM_OK);

    /* The symbolic dim takes any size, including 0. */
    for (int64_t n = 0; n <= 7; n++)
        assert_int_equal(
            onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){n, 4}, 2, x, &e),
            ONNORM_OK);
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

static void run_requires_every_input(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    onnorm_session *s;
    onnorm_error e;
    assert_ok(onnorm_session_create(m, NULL, &s, &e));
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_ERR_INVALID);
    assert_msg_has(e, "'x'");
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 4}, 2, x, &e));
    assert_ok(
        onnorm_session_bind_input(s, "scale", ONNORM_FLOAT, (int64_t[]){4}, 1, api_scale, &e));
    /* "ids" feeds nothing but is still a declared input. */
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_ERR_INVALID);
    assert_msg_has(e, "ids");
    assert_ok(onnorm_session_bind_input(s, "ids", ONNORM_INT64, (int64_t[]){3}, 1, api_ids, &e));
    assert_ok(onnorm_session_run(s, &e));
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

static void output_rules(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    onnorm_session *s;
    onnorm_error e;
    onnorm_tensor y;
    assert_ok(onnorm_session_create(m, NULL, &s, &e));
    assert_int_not_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
    assert_msg_has(e, "y");
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 4}, 2, x, &e));
    assert_ok(
        onnorm_session_bind_input(s, "scale", ONNORM_FLOAT, (int64_t[]){4}, 1, api_scale, &e));
    assert_ok(onnorm_session_bind_input(s, "ids", ONNORM_INT64, (int64_t[]){3}, 1, api_ids, &e));
    /* A failed run leaves no outputs. */
    assert_int_not_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
    assert_ok(onnorm_session_run(s, &e));
    assert_ok(onnorm_session_output(s, "y", &y, &e));
    assert_string_equal(y.name, "y");
    assert_int_equal(onnorm_session_output(s, "no_such_output", &y, &e), ONNORM_ERR_NOT_FOUND);
    assert_msg_has(e, "no_such_output");
    /* Only graph outputs are visible; inputs are not outputs. */
    assert_int_equal(onnorm_session_output(s, "x", &y, &e), ONNORM_ERR_NOT_FOUND);
    /* Rebinding an input invalidates the previous results. */
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){1, 4}, 2, x, &e));
    assert_int_not_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

static void rerun_with_other_shapes(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    onnorm_session *s;
    onnorm_error e;
    assert_ok(onnorm_session_create(m, NULL, &s, &e));
    assert_ok(
        onnorm_session_bind_input(s, "scale", ONNORM_FLOAT, (int64_t[]){4}, 1, api_scale, &e));
    assert_ok(onnorm_session_bind_input(s, "ids", ONNORM_INT64, (int64_t[]){3}, 1, api_ids, &e));
    const int64_t rows[] = {2, 9, 1, 33, 0, 5, 5};
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        int n = (int)rows[k];
        float *x = malloc((size_t)(4 * n + 1) * sizeof *x);
        float *want = malloc((size_t)(4 * n + 1) * sizeof *want);
        float *mean = malloc((size_t)(n + 1) * sizeof *mean);
        for (int i = 0; i < 4 * n; i++)
            x[i] = (float)((i * 37 + (int)k * 11) % 23) - 11.0f;
        ref_ln_rows(x, n, api_scale, api_bias, want, mean);
        assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){n, 4}, 2, x, &e));
        if (onnorm_session_run(s, &e)) fail_msg("rows %d: %s", n, e.message);
        onnorm_tensor y, mo;
        assert_ok(onnorm_session_output(s, "y", &y, &e));
        assert_int_equal(y.dtype, ONNORM_FLOAT);
        assert_int_equal(y.rank, 2);
        assert_int_equal(y.dims[0], n);
        assert_int_equal(y.dims[1], 4);
        for (int i = 0; i < 4 * n; i++)
            assert_float_equal(((float *)y.data)[i], want[i], 1e-5);
        assert_ok(onnorm_session_output(s, "mean", &mo, &e));
        assert_int_equal(mo.rank, 2);
        assert_int_equal(mo.dims[0], n);
        assert_int_equal(mo.dims[1], 1);
        for (int r = 0; r < n; r++)
            assert_float_equal(((float *)mo.data)[r], mean[r], 1e-5);
        size_t arena = 0, statics = 0;
        assert_ok(onnorm_session_memory(s, &arena, &statics, NULL));
        /* y and mean are graph outputs: both live in the arena. */
        assert_true(arena >= (size_t)(5 * n) * sizeof(float));
        free(x);
        free(want);
        free(mean);
    }
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

/* With every input's shape fixed in the model, the session plans when it is
 * created: the arena is sized before any run, and the first run keeps it. */
static void session_plans_at_creation(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){3, 4});
    const float scale[4] = {1, 1, 1, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){4}, scale);
    tb_node_add(b, "LayerNormalization", "ln1", 2, (const char *[]){"x", "s"}, 1,
                (const char *[]){"t"});
    tb_node_add(b, "LayerNormalization", "ln2", 2, (const char *[]){"t", "s"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = load_or_fail(b);
    onnorm_session *s;
    onnorm_error e;
    assert_ok(onnorm_session_create(m, NULL, &s, &e));
    size_t arena = 0;
    assert_ok(onnorm_session_memory(s, &arena, NULL, NULL));
    assert_true(arena >= 3 * 4 * sizeof(float)); /* planned already */
    /* Running without binding x is still an error, not a run on nothing. */
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_ERR_INVALID);
    assert_non_null(strstr(e.message, "'x' is not bound"));
    const float x[12] = {1, 2, 3, 4, -1, 0, 1, 2, 5, 5, 5, 5};
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){3, 4}, 2, x, &e));
    assert_ok(onnorm_session_run(s, &e));
    size_t after = 0;
    assert_ok(onnorm_session_memory(s, &after, NULL, NULL));
    assert_int_equal(after, arena);
    onnorm_tensor y;
    assert_ok(onnorm_session_output(s, "y", &y, &e));
    /* Row 3 is constant: LayerNormalization twice gives exactly 0 (no bias). */
    for (int i = 8; i < 12; i++)
        assert_true(((float *)y.data)[i] == 0.0f);
    /* Row 1 normalized twice stays normalized: mean 0. */
    double sum = 0;
    for (int i = 0; i < 4; i++)
        sum += ((float *)y.data)[i];
    assert_true(fabs(sum) < 1e-5);
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

static void session_options(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    onnorm_session_options o;
    memset(&o, 0x5A, sizeof o);
    onnorm_session_options_init(&o);
    assert_int_equal(o.num_threads, 0);
    assert_int_equal(o.optimization_level, 1);
    onnorm_session *s = (onnorm_session *)(uintptr_t)1;
    onnorm_error e;
    o.num_threads = -1;
    assert_int_equal(onnorm_session_create(m, &o, &s, &e), ONNORM_ERR_INVALID);
    assert_null(s);
    o.num_threads = 1;
    o.optimization_level = 0;
    assert_ok(onnorm_session_create(m, &o, &s, &e));
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

/* ---- NULL arguments and NULL err ------------------------------------------ */

static void null_arguments_are_errors(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    onnorm_session *s;
    onnorm_error e;
    onnorm_tensor t;
    float x[4] = {1, 2, 3, 4};

    /* Loading. */
    onnorm_model *other = (onnorm_model *)(uintptr_t)1;
    assert_int_not_equal(onnorm_model_load_file(NULL, 0, &other, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_model_load_file("x.onnx", 0, NULL, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_model_load_buffer(x, sizeof x, "b", 0, NULL, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_model_load_buffer(NULL, 16, "b", 0, NULL, &e), ONNORM_OK);

    /* Model queries on NULL. */
    assert_int_equal(onnorm_model_input_count(NULL), 0);
    assert_null(onnorm_model_input_name(NULL, 0));
    assert_int_not_equal(onnorm_model_input_info(NULL, 0, &t), ONNORM_OK);
    assert_int_not_equal(onnorm_model_input_info(m, 0, NULL), ONNORM_OK);
    assert_int_equal(onnorm_model_output_count(NULL), 0);
    assert_null(onnorm_model_output_name(NULL, 0));
    assert_int_equal(onnorm_model_ir_version(NULL), 0);
    assert_int_equal(onnorm_model_opset_count(NULL), 0);
    assert_int_equal(onnorm_model_node_count(NULL), 0);
    assert_int_equal(onnorm_model_weight_bytes(NULL), 0);
    const char *str = "untouched";
    int64_t ver = -7;
    int kv = -7;
    onnorm_model_opset(NULL, 0, &str, &ver);
    onnorm_model_opset(m, 0, NULL, NULL);
    onnorm_model_opset(m, 5, &str, &ver);
    assert_string_equal(str, "untouched");
    assert_int_equal(ver, -7);
    onnorm_model_node(NULL, 0, &str, &str, &str, &kv);
    onnorm_model_node(m, 0, NULL, NULL, NULL, NULL);
    onnorm_model_node(m, 1, &str, &str, &str, &kv);
    assert_string_equal(str, "untouched");
    assert_int_equal(kv, -7);

    /* Sessions. */
    assert_int_not_equal(onnorm_session_create(NULL, NULL, &s, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_session_create(m, NULL, NULL, &e), ONNORM_OK);
    assert_ok(onnorm_session_create(m, NULL, &s, &e));
    assert_int_not_equal(
        onnorm_session_bind_input(NULL, "x", ONNORM_FLOAT, (int64_t[]){1, 4}, 2, x, &e), ONNORM_OK);
    assert_int_not_equal(
        onnorm_session_bind_input(s, NULL, ONNORM_FLOAT, (int64_t[]){1, 4}, 2, x, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, NULL, 2, x, &e),
                         ONNORM_OK);
    assert_int_not_equal(
        onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){1, 4}, 2, NULL, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_session_run(NULL, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_session_output(NULL, "y", &t, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_session_output(s, NULL, &t, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_session_output(s, "y", NULL, &e), ONNORM_OK);
    size_t arena = 7, statics = 7;
    assert_int_not_equal(onnorm_session_memory(NULL, &arena, &statics, NULL), ONNORM_OK);
    assert_int_equal(onnorm_session_memory(s, NULL, NULL, NULL), ONNORM_OK);
    onnorm_session_options_init(NULL);
    onnorm_session_free(s);
    onnorm_session_free(NULL);
    onnorm_model_free(NULL);

    /* Tensor utilities. */
    assert_int_equal(onnorm_tensor_numel(NULL), -1);
    onnorm_tensor bad = {.dtype = ONNORM_FLOAT, .rank = -1};
    assert_int_equal(onnorm_tensor_numel(&bad), -1);
    bad.rank = ONNORM_MAX_RANK + 1;
    assert_int_equal(onnorm_tensor_numel(&bad), -1);
    bad.rank = 2, bad.dims[0] = INT64_MAX, bad.dims[1] = 3;
    assert_int_equal(onnorm_tensor_numel(&bad), -1);
    onnorm_tensor *rt = (onnorm_tensor *)(uintptr_t)1;
    assert_int_equal(onnorm_tensor_read_file(NULL, &rt, &e), ONNORM_ERR_INVALID);
    assert_null(rt);
    assert_int_not_equal(onnorm_tensor_read_file("/nonexistent/t.pb", NULL, &e), ONNORM_OK);
    assert_int_not_equal(onnorm_tensor_write_file("/tmp/never-written.pb", NULL, &e), ONNORM_OK);
    /* NULL paths are argument errors. */
    onnorm_tensor small = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {1}, .data = x};
    assert_int_equal(onnorm_tensor_write_file(NULL, &small, &e), ONNORM_ERR_INVALID);
    onnorm_tensor_free(NULL);
    assert_non_null(onnorm_status_str((onnorm_status)1234));
    assert_non_null(onnorm_dtype_name((onnorm_dtype)1234));
    assert_int_equal(onnorm_dtype_size((onnorm_dtype)1234), 0);
    assert_int_equal(onnorm_dtype_size(ONNORM_STRING), 0);
    onnorm_model_free(m);
    tb_free(b);
}

/* A tensor with data == NULL and elements is rejected, not packed from NULL. */
static void write_tensor_without_data_fails(void **state)
{
    (void)state;
    /* The directory does not exist either, so nothing is left behind; the
     * data check comes before any file is opened. */
    onnorm_tensor t = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {4}, .data = NULL};
    onnorm_error e;
    assert_int_equal(onnorm_tensor_write_file("/nonexistent-onnorm/nodata.pb", &t, &e),
                     ONNORM_ERR_INVALID);
}

static void null_err_everywhere(void **state)
{
    (void)state;
    tb_model *b = api_model();
    size_t len;
    uint8_t *buf = tb_serialize(b, &len);
    onnorm_model *m = NULL;
    assert_ok(onnorm_model_load_buffer(buf, len, NULL, 0, &m, NULL));
    onnorm_model *bad = NULL;
    assert_int_equal(onnorm_model_load_buffer(buf, len / 2, NULL, 0, &bad, NULL), ONNORM_ERR_PARSE);
    assert_int_equal(onnorm_model_load_file("/nonexistent/m.onnx", 0, &bad, NULL), ONNORM_ERR_IO);
    assert_int_not_equal(onnorm_model_load_file(NULL, 0, &bad, NULL), ONNORM_OK);
    free(buf);

    onnorm_session *s;
    assert_int_not_equal(onnorm_session_create(NULL, NULL, &s, NULL), ONNORM_OK);
    assert_ok(onnorm_session_create(m, NULL, &s, NULL));
    onnorm_tensor t;
    assert_int_not_equal(onnorm_session_run(s, NULL), ONNORM_OK);
    assert_int_not_equal(onnorm_session_output(s, "y", &t, NULL), ONNORM_OK);
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    double xd[8] = {0};
    assert_int_equal(
        onnorm_session_bind_input(s, "zz", ONNORM_FLOAT, (int64_t[]){2, 4}, 2, x, NULL),
        ONNORM_ERR_NOT_FOUND);
    assert_int_equal(
        onnorm_session_bind_input(s, "x", ONNORM_DOUBLE, (int64_t[]){2, 4}, 2, xd, NULL),
        ONNORM_ERR_DTYPE);
    assert_int_equal(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 3}, 2, x, NULL),
                     ONNORM_ERR_SHAPE);
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){2, 4}, 2, x, NULL));
    assert_ok(onnorm_session_bind_input(s, "ids", ONNORM_INT64, (int64_t[]){3}, 1, api_ids, NULL));
    assert_ok(
        onnorm_session_bind_input(s, "scale", ONNORM_FLOAT, (int64_t[]){4}, 1, api_scale, NULL));
    assert_ok(onnorm_session_run(s, NULL));
    assert_ok(onnorm_session_output(s, "y", &t, NULL));
    assert_int_equal(onnorm_session_output(s, "zz", &t, NULL), ONNORM_ERR_NOT_FOUND);
    onnorm_session_free(s);
    onnorm_model_free(m);

    /* A kernel-level failure (epsilon of the wrong attribute type) with err NULL. */
    tb_model *b2 = tb_new(6);
    tb_input(b2, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    const float sc[2] = {1, 1};
    tb_init(b2, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, sc);
    tb_init(b2, "b", ONNORM_FLOAT, 1, (int64_t[]){2}, sc);
    tb_node *n = tb_node_add(b2, "InstanceNormalization", "in", 3, (const char *[]){"x", "s", "b"},
                             1, (const char *[]){"y"});
    tb_attr_int(n, "epsilon", 1);
    tb_output(b2, "y", ONNORM_FLOAT);
    m = load_or_fail(b2);
    assert_ok(onnorm_session_create(m, NULL, &s, NULL));
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){1, 2, 1, 3}, 4, x, NULL));
    assert_int_not_equal(onnorm_session_run(s, NULL), ONNORM_OK);
    onnorm_error e;
    assert_int_not_equal(onnorm_session_run(s, &e), ONNORM_OK);
    assert_msg_has(e, "epsilon");
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b2);

    /* Tensor files with err NULL. */
    onnorm_tensor *rt;
    assert_int_equal(onnorm_tensor_read_file("/nonexistent/t.pb", &rt, NULL), ONNORM_ERR_IO);
    onnorm_tensor w = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {2}, .data = x};
    assert_int_equal(onnorm_tensor_write_file("/nonexistent/dir/t.pb", &w, NULL), ONNORM_ERR_IO);
    tb_free(b);
}

/* ---- tensor files ------------------------------------------------------------ */

static void tensor_file_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/onnorm-api-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    onnorm_error e;

    const float f[6] = {1.5f, -0.0f, INFINITY, -INFINITY, 1e-40f, 3.25f};
    const double d[3] = {3.141592653589793, -1e300, 5e-324};
    const int64_t i64 = INT64_MIN;
    const uint16_t h[4] = {0x3C00, 0x7E00, 0x8001, 0xFBFF};
    const uint8_t bools[5] = {1, 0, 0, 1, 1};
    struct {
        const char *file, *name;
        onnorm_dtype dt;
        int rank;
        int64_t dims[ONNORM_MAX_RANK];
        const void *data;
    } cases[] = {
        {"f.pb", "float_t", ONNORM_FLOAT, 2, {2, 3}, f},
        {"d.pb", "double_t", ONNORM_DOUBLE, 3, {1, 3, 1}, d},
        {"i.pb", NULL, ONNORM_INT64, 0, {0}, &i64},
        {"h.pb", "half", ONNORM_FLOAT16, 1, {4}, h},
        {"b.pb", "flags", ONNORM_BOOL, 8, {1, 1, 1, 5, 1, 1, 1, 1}, bools},
        {"e.pb", "empty", ONNORM_FLOAT, 2, {0, 7}, f},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        onnorm_tensor t = {.dtype = cases[k].dt,
                           .rank = cases[k].rank,
                           .data = (void *)cases[k].data,
                           .name = (char *)cases[k].name};
        memcpy(t.dims, cases[k].dims, sizeof t.dims);
        snprintf(path, sizeof path, "%s/%s", dir, cases[k].file);
        if (onnorm_tensor_write_file(path, &t, &e)) fail_msg("%s", e.message);
        onnorm_tensor *r = NULL;
        if (onnorm_tensor_read_file(path, &r, &e)) fail_msg("%s", e.message);
        assert_int_equal(r->dtype, t.dtype);
        assert_int_equal(r->rank, t.rank);
        for (int i = 0; i < t.rank; i++)
            assert_int_equal(r->dims[i], t.dims[i]);
        int64_t n = onnorm_tensor_numel(&t);
        assert_int_equal(onnorm_tensor_numel(r), n);
        if (n) assert_memory_equal(r->data, t.data, (size_t)n * onnorm_dtype_size(t.dtype));
        if (t.name)
            assert_string_equal(r->name, t.name);
        else
            assert_true(r->name == NULL || r->name[0] == '\0');
        onnorm_tensor_free(r);
        unlink(path);
    }

    /* Reading a garbage file fails with a message naming it. */
    snprintf(path, sizeof path, "%s/garbage.pb", dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("\xff\xff\xff\xff this is not protobuf \x0f\x0f", fp);
    fclose(fp);
    onnorm_tensor *r = (onnorm_tensor *)(uintptr_t)1;
    assert_int_not_equal(onnorm_tensor_read_file(path, &r, &e), ONNORM_OK);
    assert_null(r);
    assert_msg_has(e, "garbage.pb");
    /* A model file is not a tensor either (or holds no valid tensor). */
    unlink(path);

    /* A tensor whose raw_data does not fit its dims. */
    snprintf(path, sizeof path, "%s/short.pb", dir);
    onnorm_tensor big = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {3}, .data = (void *)f};
    assert_ok(onnorm_tensor_write_file(path, &big, &e));
    /* Truncate the file by 4 bytes: the last float is cut off. */
    struct stat stt;
    assert_int_equal(stat(path, &stt), 0);
    assert_int_equal(truncate(path, stt.st_size - 4), 0);
    assert_int_not_equal(onnorm_tensor_read_file(path, &r, &e), ONNORM_OK);
    assert_msg_has(e, "short.pb");
    unlink(path);

    /* Writing into a missing directory is an I/O error naming the path. */
    snprintf(path, sizeof path, "%s/missing/t.pb", dir);
    assert_int_equal(onnorm_tensor_write_file(path, &big, &e), ONNORM_ERR_IO);
    assert_msg_has(e, "missing/t.pb");
    /* Unsupported element type and bad rank are rejected before writing. */
    snprintf(path, sizeof path, "%s/bad.pb", dir);
    onnorm_tensor strs = {.dtype = ONNORM_STRING, .rank = 1, .dims = {1}, .data = (void *)f};
    assert_int_not_equal(onnorm_tensor_write_file(path, &strs, &e), ONNORM_OK);
    onnorm_tensor neg = {.dtype = ONNORM_FLOAT, .rank = 1, .dims = {-1}, .data = (void *)f};
    assert_int_not_equal(onnorm_tensor_write_file(path, &neg, &e), ONNORM_OK);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

static void session_output_writes_and_reads_back(void **state)
{
    (void)state;
    tb_model *b = api_model();
    onnorm_model *m = load_or_fail(b);
    onnorm_session *s;
    onnorm_error e;
    assert_ok(onnorm_session_create(m, NULL, &s, &e));
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i * i % 7) - 3.0f;
    assert_ok(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){3, 4}, 2, x, &e));
    assert_ok(
        onnorm_session_bind_input(s, "scale", ONNORM_FLOAT, (int64_t[]){4}, 1, api_scale, &e));
    assert_ok(onnorm_session_bind_input(s, "ids", ONNORM_INT64, (int64_t[]){3}, 1, api_ids, &e));
    assert_ok(onnorm_session_run(s, &e));
    onnorm_tensor y;
    assert_ok(onnorm_session_output(s, "y", &y, &e));
    char dir[] = "/tmp/onnorm-api-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/y.pb", dir);
    assert_ok(onnorm_tensor_write_file(path, &y, &e));
    onnorm_tensor *r;
    assert_ok(onnorm_tensor_read_file(path, &r, &e));
    assert_string_equal(r->name, "y");
    assert_int_equal(r->rank, 2);
    assert_int_equal(r->dims[0], 3);
    assert_memory_equal(r->data, y.data, 12 * sizeof(float));
    onnorm_tensor_free(r);
    unlink(path);
    rmdir(dir);
    onnorm_session_free(s);
    onnorm_model_free(m);
    tb_free(b);
}

/* ---- concurrency -------------------------------------------------------------- */

/*
 * x[4,8,32,32] -> BatchNormalization -> InstanceNormalization ->
 * LayerNormalization(axis -1) -> GroupNormalization(4 groups) -> y, at
 * opset 18. 32768 elements: big enough that the kernels use OpenMP.
 */
#define CC_N 4
#define CC_C 8
#define CC_HW (32 * 32)
#define CC_NUMEL (CC_N * CC_C * CC_HW)

static tb_model *chain_model(void)
{
    tb_model *b = tb_new(18);
    tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){CC_N, CC_C, 32, 32});
    float c8a[CC_C], c8b[CC_C], mean[CC_C], var[CC_C], w32[32], b32[32], g4[4], gb4[4];
    for (int i = 0; i < CC_C; i++) {
        c8a[i] = 0.5f + 0.125f * (float)i;
        c8b[i] = -0.25f * (float)i;
        mean[i] = 0.1f * (float)i;
        var[i] = 1.0f + 0.5f * (float)i;
    }
    for (int i = 0; i < 32; i++)
        w32[i] = 1.0f + (float)(i % 5) * 0.1f, b32[i] = (float)(i % 3);
    for (int i = 0; i < 4; i++)
        g4[i] = 2.0f - 0.3f * (float)i, gb4[i] = 0.5f * (float)i;
    tb_init(b, "bn_s", ONNORM_FLOAT, 1, (int64_t[]){CC_C}, c8a);
    tb_init(b, "bn_b", ONNORM_FLOAT, 1, (int64_t[]){CC_C}, c8b);
    tb_init(b, "bn_m", ONNORM_FLOAT, 1, (int64_t[]){CC_C}, mean);
    tb_init(b, "bn_v", ONNORM_FLOAT, 1, (int64_t[]){CC_C}, var);
    tb_init(b, "ln_s", ONNORM_FLOAT, 1, (int64_t[]){32}, w32);
    tb_init(b, "ln_b", ONNORM_FLOAT, 1, (int64_t[]){32}, b32);
    tb_init(b, "gn_s", ONNORM_FLOAT, 1, (int64_t[]){4}, g4);
    tb_init(b, "gn_b", ONNORM_FLOAT, 1, (int64_t[]){4}, gb4);
    tb_node_add(b, "BatchNormalization", "bn", 5,
                (const char *[]){"x", "bn_s", "bn_b", "bn_m", "bn_v"}, 1, (const char *[]){"t1"});
    tb_node_add(b, "InstanceNormalization", "in", 3, (const char *[]){"t1", "bn_s", "bn_b"}, 1,
                (const char *[]){"t2"});
    tb_node_add(b, "LayerNormalization", "ln", 3, (const char *[]){"t2", "ln_s", "ln_b"}, 1,
                (const char *[]){"t3"});
    tb_node *g = tb_node_add(b, "GroupNormalization", "gn", 3,
                             (const char *[]){"t3", "gn_s", "gn_b"}, 1, (const char *[]){"y"});
    tb_attr_int(g, "num_groups", 4);
    tb_output(b, "y", ONNORM_FLOAT);
    return b;
}

static void fill_input(float *x, unsigned seed)
{
    uint32_t st = 2463534242u ^ (seed * 2654435761u);
    for (int i = 0; i < CC_NUMEL; i++) {
        st ^= st << 13, st ^= st >> 17, st ^= st << 5;
        x[i] = (float)(st % 20001) / 1000.0f - 10.0f + (float)(i % CC_HW) * 0.001f;
    }
}

typedef struct worker {
    const onnorm_model *m;
    const float *x;
    const float *want;
    int iterations;
    int mismatches;
    int errors;
    char msg[1024];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    onnorm_session *s;
    onnorm_error e;
    if (onnorm_session_create(w->m, NULL, &s, &e)) {
        w->errors++;
        snprintf(w->msg, sizeof w->msg, "%s", e.message);
        return NULL;
    }
    for (int it = 0; it < w->iterations; it++) {
        onnorm_tensor y;
        if (onnorm_session_bind_input(s, "x", ONNORM_FLOAT, (int64_t[]){CC_N, CC_C, 32, 32}, 4,
                                      w->x, &e) ||
            onnorm_session_run(s, &e) || onnorm_session_output(s, "y", &y, &e)) {
            w->errors++;
            snprintf(w->msg, sizeof w->msg, "%s", e.message);
            break;
        }
        if (memcmp(y.data, w->want, CC_NUMEL * sizeof(float)) != 0) w->mismatches++;
    }
    onnorm_session_free(s);
    return NULL;
}

/* One run of m on x in this thread; y_out receives a copy of y. */
static void reference_run(const onnorm_model *m, const float *x, float *y_out)
{
    const int64_t dims[4] = {CC_N, CC_C, 32, 32};
    th_run r;
    th_ok(&r, th_run_loaded(&r, m, NULL, 1, (th_tensor[]){th_in("x", ONNORM_FLOAT, 4, dims, x)}),
          "reference run");
    memcpy(y_out, th_output(&r, "y", ONNORM_FLOAT, 4, dims), CC_NUMEL * sizeof(float));
    th_free(&r);
}

static void concurrent_sessions_match_serial(void **state)
{
    (void)state;
    tb_model *b = chain_model();
    onnorm_model *m = load_or_fail(b);
    enum { NW = 2 };
    float *x[NW], *want[NW];
    for (int k = 0; k < NW; k++) {
        x[k] = malloc(CC_NUMEL * sizeof(float));
        want[k] = malloc(CC_NUMEL * sizeof(float));
        fill_input(x[k], (unsigned)k + 1);
        reference_run(m, x[k], want[k]);
        for (int i = 0; i < CC_NUMEL; i++)
            assert_true(isfinite(want[k][i]));
    }
    assert_true(memcmp(want[0], want[1], CC_NUMEL * sizeof(float)) != 0);
    worker w[NW];
    pthread_t th[NW];
    for (int k = 0; k < NW; k++) {
        w[k] = (worker){.m = m, .x = x[k], .want = want[k], .iterations = 300};
        assert_int_equal(pthread_create(&th[k], NULL, worker_main, &w[k]), 0);
    }
    for (int k = 0; k < NW; k++)
        assert_int_equal(pthread_join(th[k], NULL), 0);
    for (int k = 0; k < NW; k++) {
        if (w[k].errors) fail_msg("worker %d: %s", k, w[k].msg);
        assert_int_equal(w[k].mismatches, 0);
        free(x[k]);
        free(want[k]);
    }
    onnorm_model_free(m);
    tb_free(b);
}

/* Profiling: per node, the runs timed, times, flops of the convolution and
 * bytes of each node's inputs and outputs; off until turned on, reset by
 * turning it on again. */
static void session_profiles_nodes(void **state)
{
    (void)state;
    const int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 3, 3, 3};
    float w[4 * 3 * 3 * 3];
    for (int i = 0; i < 108; i++)
        w[i] = (float)(i % 7) * 0.1f;
    tb_model *b = tb_new(13);
    tb_input(b, "x", ONNORM_FLOAT, 4, xd);
    tb_init(b, "w", ONNORM_FLOAT, 4, wd, w);
    tb_node_add(b, "Conv", "conv", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"c"});
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"c"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = th_load(b);
    onnorm_session_options o = th_options(1, 0); /* no passes: both nodes stay */
    onnorm_session *s;
    onnorm_error e;
    assert_int_equal(onnorm_session_create(m, &o, &s, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_threads(s), 1);
    /* The pool's spin budget: ONNORM_SPIN_US when the environment sets it. */
    const char *spin = getenv("ONNORM_SPIN_US");
    assert_int_equal(onnorm_thread_spin_us(), spin ? atoi(spin) : 100);
    float *x = th_randf(9, 3 * 64);
    assert_int_equal(onnorm_session_bind_input(s, "x", ONNORM_FLOAT, xd, 4, x, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_OK);
    onnorm_node_profile p;
    assert_int_equal(onnorm_session_profile_count(s), 2);
    assert_int_equal(onnorm_session_profile(s, 0, &p), ONNORM_OK);
    assert_int_equal(p.runs, 0); /* profiling is off */
    assert_int_equal(onnorm_session_set_profiling(s, 1, &e), ONNORM_OK);
    for (int r = 0; r < 3; r++)
        assert_int_equal(onnorm_session_run(s, &e), ONNORM_OK);
    onnorm_node_profile conv, relu;
    assert_int_equal(onnorm_session_profile(s, 0, &conv), ONNORM_OK);
    assert_int_equal(onnorm_session_profile(s, 1, &relu), ONNORM_OK);
    assert_int_equal(onnorm_session_profile(s, 2, &p), ONNORM_ERR_NOT_FOUND);
    assert_string_equal(conv.op_type, "Conv");
    assert_string_equal(relu.name, "relu");
    assert_int_equal(conv.runs, 3);
    assert_int_equal(relu.runs, 3);
    assert_true(conv.total_ms > 0 && conv.last_ms > 0 && conv.last_ms <= conv.total_ms);
    assert_true(relu.last_start_ms >= conv.last_start_ms + conv.last_ms);
    /* 2 * [1, 4, 6, 6] outputs * 3 channels * 3x3 taps */
    assert_true(conv.flops == 2.0 * 4 * 36 * 3 * 9);
    assert_true(relu.flops == 0.0);
    /* Conv reads x (192 floats) and w (108) and writes 144; Relu 144 + 144. */
    assert_true(conv.bytes == 4.0 * (192 + 108 + 144));
    assert_true(relu.bytes == 4.0 * (144 + 144));
    assert_int_equal(onnorm_session_set_profiling(s, 1, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_profile(s, 0, &p), ONNORM_OK);
    assert_int_equal(p.runs, 0);
    assert_int_equal(onnorm_session_set_profiling(NULL, 1, &e), ONNORM_ERR_INVALID);
    onnorm_session_free(s);
    onnorm_model_free(m);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_inputs_and_outputs),
        cmocka_unit_test(input_without_declared_shape),
        cmocka_unit_test(bind_input_errors),
        cmocka_unit_test(run_requires_every_input),
        cmocka_unit_test(output_rules),
        cmocka_unit_test(rerun_with_other_shapes),
        cmocka_unit_test(session_options),
        cmocka_unit_test(null_arguments_are_errors),
        cmocka_unit_test(write_tensor_without_data_fails),
        cmocka_unit_test(null_err_everywhere),
        cmocka_unit_test(tensor_file_round_trip),
        cmocka_unit_test(session_output_writes_and_reads_back),
        cmocka_unit_test(concurrent_sessions_match_serial),
        cmocka_unit_test(session_plans_at_creation),
        cmocka_unit_test(session_profiles_nodes),
    };
    /* Opt-in selection for manual runs (valgrind, debugging); ctest sets
     * neither variable, so every test runs there. */
    if (getenv("ONNORM_TEST_FILTER")) cmocka_set_test_filter(getenv("ONNORM_TEST_FILTER"));
    if (getenv("ONNORM_TEST_SKIP")) cmocka_set_skip_filter(getenv("ONNORM_TEST_SKIP"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
