/*
 * Loader robustness and model-structure checks: whatever bytes arrive, the
 * loader returns a status with a readable message and never crashes; what
 * it accepts loads with the right values.
 */
#define _XOPEN_SOURCE 700 /* fork, alarm, setrlimit */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builder.h"
#include "harness.h"

/* ---- helpers ------------------------------------------------------------ */

#define assert_msg_has(e, needle)                                                                  \
    do {                                                                                           \
        if (!strstr((e).message, (needle)))                                                        \
            fail_msg("message \"%s\" does not mention \"%s\"", (e).message, (needle));             \
    } while (0)

/* Expects loading b to fail with `code`; returns with e holding the message. */
static void expect_load_fails(tb_model *b, onnorm_status code, onnorm_error *e)
{
    onnorm_model *m = (onnorm_model *)(uintptr_t)1; /* must be reset to NULL */
    memset(e, 0, sizeof *e);
    onnorm_status st = tb_load(b, &m, e);
    if (st != code)
        fail_msg("expected status %s, got %s: %s", onnorm_status_str(code), onnorm_status_str(st),
                 e->message);
    assert_null(m);
    assert_int_equal(e->code, code);
    assert_true(e->message[0] != '\0');
}

static onnorm_model *expect_load_ok(tb_model *b)
{
    onnorm_model *m = NULL;
    onnorm_error e;
    onnorm_status st = tb_load(b, &m, &e);
    if (st != ONNORM_OK) fail_msg("load failed (%s): %s", onnorm_status_str(st), e.message);
    assert_non_null(m);
    return m;
}

/* x[2,3] -> LayerNormalization(axis -1) with initializers s, bb -> y. */
static tb_model *small_ln_model(void)
{
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    const float s[3] = {1.0f, 2.0f, 0.5f}, bias[3] = {0.0f, -1.0f, 0.25f};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){3}, s);
    tb_init(b, "bb", ONNORM_FLOAT, 1, (int64_t[]){3}, bias);
    tb_node *n = tb_node_add(b, "LayerNormalization", "ln", 3, (const char *[]){"x", "s", "bb"}, 1,
                             (const char *[]){"y"});
    tb_attr_int(n, "axis", -1);
    tb_attr_float(n, "epsilon", 1e-5f);
    tb_output(b, "y", ONNORM_FLOAT);
    return b;
}

/* Reference LayerNormalization over rows of m elements, in double. */
static void ref_ln(const float *x, int rows, int m, const float *scale, const float *bias,
                   float eps, float *y)
{
    for (int r = 0; r < rows; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < m; i++)
            mean += x[r * m + i];
        mean /= m;
        for (int i = 0; i < m; i++)
            var += (x[r * m + i] - mean) * (x[r * m + i] - mean);
        var /= m;
        double inv = 1.0 / sqrt(var + eps);
        for (int i = 0; i < m; i++)
            y[r * m + i] = (float)((x[r * m + i] - mean) * inv * scale[i] + (bias ? bias[i] : 0));
    }
}

/* Runs a loaded model, binding float input `in` (unless NULL), and
 * asserts success. */
static void run_loaded(th_run *r, const onnorm_model *m, const char *in, int rank,
                       const int64_t *dims, const float *x)
{
    const th_tensor t = th_in(in ? in : "", ONNORM_FLOAT, rank, dims, x);
    th_ok(r, th_run_loaded(r, m, NULL, in ? 1 : 0, &t), "run");
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Loads a buffer that may or may not be a model; if it loads, it must also
 * survive session creation and (when it takes x[2,3]) a run. */
static onnorm_status load_any(const uint8_t *buf, size_t len)
{
    onnorm_model *m = NULL;
    onnorm_error e;
    e.message[0] = '\0';
    onnorm_status st = onnorm_model_load_buffer(buf, len, "fuzz", 0, &m, &e);
    if (st) {
        assert_null(m);
        assert_true(e.message[0] != '\0');
        assert_non_null(memchr(e.message, '\0', sizeof e.message));
        return st;
    }
    assert_non_null(m);
    onnorm_session *s;
    if (onnorm_session_create(m, NULL, &s, &e) == ONNORM_OK) {
        static const float x[6] = {1, 2, 3, -1, 0, 4};
        for (int i = 0; i < onnorm_model_input_count(m); i++)
            onnorm_session_bind_input(s, onnorm_model_input_name(m, i), ONNORM_FLOAT,
                                      (int64_t[]){2, 3}, 2, x, &e);
        if (onnorm_session_run(s, &e) == ONNORM_OK)
            for (int i = 0; i < onnorm_model_output_count(m); i++) {
                onnorm_tensor t;
                onnorm_session_output(s, onnorm_model_output_name(m, i), &t, &e);
            }
        onnorm_session_free(s);
    }
    onnorm_model_free(m);
    return ONNORM_OK;
}

/* ---- bytes that are not a model ------------------------------------------ */

static void empty_buffer_is_parse_error(void **state)
{
    (void)state;
    onnorm_model *m = NULL;
    onnorm_error e;
    static const uint8_t one = 0;
    assert_int_equal(onnorm_model_load_buffer(&one, 0, "empty.onnx", 0, &m, &e), ONNORM_ERR_PARSE);
    assert_null(m);
    assert_msg_has(e, "empty.onnx");
    /* NULL data with size 0 is the same empty buffer. */
    assert_int_equal(onnorm_model_load_buffer(NULL, 0, NULL, 0, &m, &e), ONNORM_ERR_PARSE);
    assert_null(m);
    /* NULL data with a size is an argument error, not a read through NULL. */
    assert_int_equal(onnorm_model_load_buffer(NULL, 10, NULL, 0, &m, &e), ONNORM_ERR_INVALID);
}

static void random_bytes_never_crash(void **state)
{
    (void)state;
    uint64_t seed = 0x243F6A8885A308D3ull;
    uint8_t buf[600];
    int ok = 0;
    for (int iter = 0; iter < 400; iter++) {
        size_t len = 1 + rng_next(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rng_next(&seed);
        if (load_any(buf, len) == ONNORM_OK) ok++;
    }
    /* Random bytes practically never hold a graph with nodes and outputs. */
    assert_true(ok < 5);
    memset(buf, 0xFF, sizeof buf);
    assert_int_not_equal(load_any(buf, sizeof buf), ONNORM_OK);
    memset(buf, 0, sizeof buf);
    assert_int_not_equal(load_any(buf, sizeof buf), ONNORM_OK);
}

static void every_truncation_fails_cleanly(void **state)
{
    (void)state;
    tb_model *b = small_ln_model();
    size_t len;
    uint8_t *full = tb_serialize(b, &len);
    assert_true(len > 50);
    int failed = 0;
    for (size_t k = 0; k < len; k++) {
        /* A fresh exact-size copy lets valgrind/ASan catch reads past the end. */
        uint8_t *p = malloc(k ? k : 1);
        memcpy(p, full, k);
        if (load_any(p, k) != ONNORM_OK) failed++;
        free(p);
    }
    /* Most prefixes cut a message in half; the ones that do not must still
     * lack something the loader needs. */
    assert_true(failed > (int)len / 2);
    assert_int_equal(load_any(full, len), ONNORM_OK);
    free(full);
    tb_free(b);
}

static void byte_flips_never_crash(void **state)
{
    (void)state;
    tb_model *b = small_ln_model();
    size_t len;
    uint8_t *full = tb_serialize(b, &len);
    static const uint8_t masks[] = {0x01, 0x08, 0x80, 0xFF};
    for (size_t i = 0; i < len; i++)
        for (size_t k = 0; k < sizeof masks; k++) {
            uint8_t *p = malloc(len);
            memcpy(p, full, len);
            p[i] ^= masks[k];
            load_any(p, len);
            free(p);
        }
    free(full);
    tb_free(b);
}

static void tensor_proto_is_not_a_model(void **state)
{
    (void)state;
    const float v[6] = {1, 2, 3, 4, 5, 6};
    size_t len;
    uint8_t *buf = tb_serialize_tensor("x", ONNORM_FLOAT, 2, (int64_t[]){2, 3}, v, &len);
    onnorm_model *m = NULL;
    onnorm_error e;
    onnorm_status st = onnorm_model_load_buffer(buf, len, "tensor.pb", 0, &m, &e);
    assert_int_not_equal(st, ONNORM_OK);
    assert_null(m);
    assert_msg_has(e, "tensor.pb");
    free(buf);
}

static void missing_file_is_io_error(void **state)
{
    (void)state;
    const char *path = "/nonexistent-onnorm-dir/no-such-model.onnx";
    onnorm_model *m = NULL;
    onnorm_error e;
    assert_int_equal(onnorm_model_load_file(path, 0, &m, &e), ONNORM_ERR_IO);
    assert_null(m);
    assert_int_equal(e.code, ONNORM_ERR_IO);
    assert_msg_has(e, path);
    /* A directory opens but cannot be read as a file. */
    onnorm_status st = onnorm_model_load_file("/", 0, &m, &e);
    assert_int_not_equal(st, ONNORM_OK);
    assert_null(m);
}

static void real_model_file_loads(void **state)
{
    (void)state;
    /* ctest sets ONNORM_TESTDATA; by hand, look upwards from the cwd. */
    const char *root = getenv("ONNORM_TESTDATA");
    const char *guesses[] = {root, "testdata", "../testdata", "../../testdata"};
    char path[1024] = "";
    for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++) {
        if (!guesses[i]) continue;
        snprintf(path, sizeof path, "%s/default/model.onnx", guesses[i]);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            break;
        }
    }
    onnorm_model *m = NULL;
    onnorm_error e;
    if (onnorm_model_load_file(path, 0, &m, &e)) fail_msg("%s", e.message);
    assert_int_equal(onnorm_model_input_count(m), 1);
    assert_string_equal(onnorm_model_input_name(m, 0), "x");
    assert_int_equal(onnorm_model_node_count(m), 4);
    onnorm_model_free(m);
}

/* ---- operators and opsets ------------------------------------------------ */

static void unknown_op_is_named(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_node_add(b, "FooBar", "foo", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "FooBar");
    assert_msg_has(e, "built-model");
    tb_free(b);
}

static void all_unsupported_nodes_are_listed(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_node_add(b, "FooBar", "first", 1, (const char *[]){"x"}, 1, (const char *[]){"t"});
    tb_node_add(b, "BazQux", "second", 1, (const char *[]){"t"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "FooBar");
    assert_msg_has(e, "BazQux");
    assert_msg_has(e, "first");
    assert_msg_has(e, "second");
    assert_msg_has(e, "2 unsupported");
    tb_free(b);
}

/* x[1,2,1,3] -> BatchNormalization(s, bb, mean, var) -> y at `opset`. */
static tb_model *bn_model(int64_t opset)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    const float s[2] = {1, 1.5f}, bias[2] = {0, 1}, mean[2] = {0, 3}, var[2] = {1, 1.5f};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, s);
    tb_init(b, "bb", ONNORM_FLOAT, 1, (int64_t[]){2}, bias);
    tb_init(b, "mean", ONNORM_FLOAT, 1, (int64_t[]){2}, mean);
    tb_init(b, "var", ONNORM_FLOAT, 1, (int64_t[]){2}, var);
    tb_node *n =
        tb_node_add(b, "BatchNormalization", "bn", 5,
                    (const char *[]){"x", "s", "bb", "mean", "var"}, 1, (const char *[]){"y"});
    if (opset < 7) tb_attr_int(n, "is_test", 1);
    tb_output(b, "y", ONNORM_FLOAT);
    return b;
}

/*
 * ONNX defines BatchNormalization-1 (changed at 6, 7, 9, 14, 15), so a
 * model importing opset 5 uses BatchNormalization-1, which the registry
 * provides. (An op newer than the model's opset is checked below with
 * LayerNormalization, since 17, at opset 16 and GroupNormalization, since
 * 18, at opset 17.)
 */
static void bn_opset5_binds_version_1(void **state)
{
    (void)state;
    tb_model *b = bn_model(5);
    onnorm_model *m = expect_load_ok(b);
    int kv = -1;
    const char *op = NULL;
    onnorm_model_node(m, 0, NULL, &op, NULL, &kv);
    assert_string_equal(op, "BatchNormalization");
    assert_int_equal(kv, 1);
    /* Test mode: y = (x - mean) / sqrt(var + eps) * s + bb. */
    const float x[6] = {-1, 0, 1, 2, 3, 4};
    th_run r;
    run_loaded(&r, m, "x", 4, (int64_t[]){1, 2, 1, 3}, x);
    const float *buf = th_output(&r, "y", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    for (int i = 0; i < 6; i++) {
        int c = i / 3;
        double mean = c ? 3 : 0, var = c ? 1.5 : 1, sc = c ? 1.5 : 1, bi = c ? 1 : 0;
        assert_float_equal(buf[i], (x[i] - mean) / sqrt(var + 1e-5) * sc + bi, 1e-5);
    }
    th_free(&r);
    onnorm_model_free(m);
    tb_free(b);
}

static void op_newer_than_model_opset_is_unsupported(void **state)
{
    (void)state;
    /* LayerNormalization exists from opset 17. */
    tb_model *b = tb_new(16);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    const float s[3] = {1, 1, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){3}, s);
    tb_node_add(b, "LayerNormalization", "ln16", 2, (const char *[]){"x", "s"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "LayerNormalization");
    assert_msg_has(e, "opset 16");
    assert_msg_has(e, "17");
    tb_free(b);
}

static tb_model *gn_model(int64_t opset)
{
    tb_model *b = tb_new(opset);
    tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 4, 1, 2});
    const float s[2] = {1, 2}, bias[2] = {0, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, s);
    tb_init(b, "bb", ONNORM_FLOAT, 1, (int64_t[]){2}, bias);
    tb_node *n = tb_node_add(b, "GroupNormalization", "gn", 3, (const char *[]){"x", "s", "bb"}, 1,
                             (const char *[]){"y"});
    tb_attr_int(n, "num_groups", 2);
    tb_output(b, "y", ONNORM_FLOAT);
    return b;
}

static void groupnorm_opset17_is_unsupported(void **state)
{
    (void)state;
    tb_model *b = gn_model(17);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "GroupNormalization");
    assert_msg_has(e, "opset 17");
    assert_msg_has(e, "gn");

    /* Inspection-only loading: the node is there, without a kernel. */
    onnorm_model *m = NULL;
    assert_int_equal(tb_load_flags(b, ONNORM_LOAD_ALLOW_UNSUPPORTED, &m, &e), ONNORM_OK);
    assert_non_null(m);
    assert_int_equal(onnorm_model_node_count(m), 1);
    const char *name = NULL, *op = NULL, *dom = NULL;
    int kv = -1;
    onnorm_model_node(m, 0, &name, &op, &dom, &kv);
    assert_string_equal(name, "gn");
    assert_string_equal(op, "GroupNormalization");
    assert_string_equal(dom, "");
    assert_int_equal(kv, 0);
    onnorm_session *s = (onnorm_session *)(uintptr_t)1;
    assert_int_equal(onnorm_session_create(m, NULL, &s, &e), ONNORM_ERR_UNSUPPORTED);
    assert_null(s);
    assert_msg_has(e, "unsupported");
    onnorm_model_free(m);
    tb_free(b);

    /* The same graph at opset 18 is fine. */
    b = gn_model(18);
    m = expect_load_ok(b);
    onnorm_model_node(m, 0, NULL, NULL, NULL, &kv);
    assert_int_equal(kv, 18);
    onnorm_model_free(m);
    tb_free(b);
}

static void opset_newer_than_supported_is_unsupported(void **state)
{
    (void)state;
    tb_model *b = bn_model(24);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "24");
    assert_msg_has(e, "23");
    tb_free(b);
    /* 23 itself is the newest supported opset. */
    b = bn_model(23);
    onnorm_model *m = expect_load_ok(b);
    int kv = 0;
    onnorm_model_node(m, 0, NULL, NULL, NULL, &kv);
    assert_int_equal(kv, 15);
    onnorm_model_free(m);
    tb_free(b);
}

static void unimported_domain_is_unsupported(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_node *n = tb_node_add(b, "LayerNormalization", "custom", 1, (const char *[]){"x"}, 1,
                             (const char *[]){"y"});
    tb_node_domain(n, "com.example");
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "com.example");
    tb_free(b);
}

static void explicit_ai_onnx_domain_works(void **state)
{
    (void)state;
    tb_model *b = tb_new(0);
    tb_opset(b, "ai.onnx", 17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    const float s[3] = {1, 2, 3};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){3}, s);
    tb_node *n1 = tb_node_add(b, "LayerNormalization", "a", 2, (const char *[]){"x", "s"}, 1,
                              (const char *[]){"t"});
    tb_node_domain(n1, "ai.onnx");
    tb_node_add(b, "LayerNormalization", "b", 2, (const char *[]){"t", "s"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = expect_load_ok(b);
    const char *dom;
    int64_t ver;
    assert_int_equal(onnorm_model_opset_count(m), 1);
    onnorm_model_opset(m, 0, &dom, &ver);
    assert_int_equal(ver, 17);
    for (int i = 0; i < 2; i++) {
        int kv = 0;
        onnorm_model_node(m, i, NULL, NULL, &dom, &kv);
        assert_int_equal(kv, 17);
    }
    const float x[6] = {1, 2, 3, 4, 6, 8};
    float t1[6], want[6];
    th_run r;
    run_loaded(&r, m, "x", 2, (int64_t[]){2, 3}, x);
    const float *got = th_output(&r, "y", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    ref_ln(x, 2, 3, s, NULL, 1e-5f, t1);
    ref_ln(t1, 2, 3, s, NULL, 1e-5f, want);
    for (int i = 0; i < 6; i++)
        assert_float_equal(got[i], want[i], 1e-5);
    th_free(&r);
    onnorm_model_free(m);
    tb_free(b);
}

/* ---- graph structure ----------------------------------------------------- */

static void missing_input_is_named(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_node_add(b, "LayerNormalization", "ln", 2, (const char *[]){"x", "ghost_scale"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "ghost_scale");
    assert_msg_has(e, "ln");
    tb_free(b);
}

static void unproduced_output_is_named(void **state)
{
    (void)state;
    tb_model *b = small_ln_model();
    tb_output(b, "phantom", ONNORM_FLOAT);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "phantom");
    tb_free(b);
}

static void duplicate_producer_is_invalid(void **state)
{
    (void)state;
    tb_model *b = small_ln_model();
    tb_node_add(b, "LayerNormalization", "ln_again", 2, (const char *[]){"x", "s"}, 1,
                (const char *[]){"y"});
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "'y'");
    tb_free(b);

    /* A node writing over an initializer or a graph input is the same fault. */
    b = small_ln_model();
    tb_node_add(b, "LayerNormalization", "overwrite", 2, (const char *[]){"x", "s"}, 1,
                (const char *[]){"bb"});
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "bb");
    tb_free(b);
    b = small_ln_model();
    tb_node_add(b, "LayerNormalization", "overwrite", 2, (const char *[]){"y", "s"}, 1,
                (const char *[]){"x"});
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    tb_free(b);

    /* Two initializers of one name. */
    b = small_ln_model();
    const float s[3] = {1, 1, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){3}, s);
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "'s'");
    tb_free(b);

    /* A graph input listed twice. */
    b = small_ln_model();
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "'x'");
    tb_free(b);
}

static void cycle_is_invalid(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    const float s[3] = {1, 1, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){3}, s);
    tb_node_add(b, "LayerNormalization", "first", 2, (const char *[]){"t2", "s"}, 1,
                (const char *[]){"t1"});
    tb_node_add(b, "LayerNormalization", "second", 2, (const char *[]){"t1", "s"}, 1,
                (const char *[]){"t2"});
    tb_node_add(b, "LayerNormalization", "out", 2, (const char *[]){"t2", "s"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "cycle");
    tb_free(b);

    /* A node consuming its own output. */
    b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){3}, s);
    tb_node_add(b, "LayerNormalization", "self", 3, (const char *[]){"x", "s", "y"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "cycle");
    assert_msg_has(e, "self");
    tb_free(b);
}

static void nodes_out_of_file_order_are_sorted(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    const float s[3] = {1, 1, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){3}, s);
    tb_node_add(b, "LayerNormalization", "second", 2, (const char *[]){"t", "s"}, 1,
                (const char *[]){"y"});
    tb_node_add(b, "LayerNormalization", "first", 2, (const char *[]){"x", "s"}, 1,
                (const char *[]){"t"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = expect_load_ok(b);
    const char *name;
    onnorm_model_node(m, 0, &name, NULL, NULL, NULL);
    assert_string_equal(name, "first");
    onnorm_model_node(m, 1, &name, NULL, NULL, NULL);
    assert_string_equal(name, "second");
    onnorm_model_free(m);
    tb_free(b);
}

static void wrong_arity_and_empty_op_are_invalid(void **state)
{
    (void)state;
    tb_model *b = small_ln_model();
    tb_node_add(b, "LayerNormalization", "too_many", 4, (const char *[]){"x", "s", "bb", "s"}, 1,
                (const char *[]){"z"});
    onnorm_error e;
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "too_many");
    tb_free(b);

    b = small_ln_model();
    tb_node_add(b, "", "no_op", 1, (const char *[]){"x"}, 1, (const char *[]){"z"});
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "no_op");
    tb_free(b);
}

/*
 * A required first output given as "" (omitted) while later outputs are
 * listed: the model must be refused with a message, at load or by the run,
 * or run and produce the listed outputs; a kernel must never write through
 * the missing output.
 */
static void check_omitted_output(int which)
{
    tb_model *b = tb_new(15 + 2 * which); /* BN at 15, LN at 17 */
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 2});
    const float ones[2] = {1, 1};
    const char *names[] = {"s", "bb", "mm", "vv"};
    for (int i = 0; i < 4; i++)
        tb_init(b, names[i], ONNORM_FLOAT, 1, (int64_t[]){2}, ones);
    if (which == 0) {
        tb_node *n = tb_node_add(b, "BatchNormalization", "bn", 5,
                                 (const char *[]){"x", "s", "bb", "mm", "vv"}, 3,
                                 (const char *[]){"", "rm", "rv"});
        tb_attr_int(n, "training_mode", 1);
        tb_output(b, "rm", ONNORM_FLOAT);
    } else {
        tb_node_add(b, "LayerNormalization", "ln", 2, (const char *[]){"x", "s"}, 2,
                    (const char *[]){"", "mean"});
        tb_output(b, "mean", ONNORM_FLOAT);
    }
    th_run r;
    const float x[4] = {1, 2, 3, 5};
    onnorm_status st = th_run_x(&r, b, 0, ONNORM_FLOAT, 2, (int64_t[]){2, 2}, x);
    if (st == ONNORM_OK) {
        onnorm_tensor t = th_out(&r, which ? "mean" : "rm");
        assert_int_equal(onnorm_tensor_numel(&t), 2);
    } else {
        /* creating the session and binding x are no place to fail */
        assert_true(r.stage == TH_LOAD || r.stage == TH_RUN);
        if (r.stage == TH_LOAD) assert_null(r.m);
        th_expect_status(&r, st, TH_ANY_ERROR, NULL);
    }
    th_free(&r);
}

static void omitted_bn_output_does_not_crash(void **state)
{
    (void)state;
    check_omitted_output(0);
}

static void omitted_ln_output_does_not_crash(void **state)
{
    (void)state;
    check_omitted_output(1);
}

/* ---- initializers: bad tensors ------------------------------------------- */

/* small_ln_model plus one extra (unused) initializer added by `add`. */
static void expect_bad_init(void (*add)(tb_model *), onnorm_status code, const char *needle)
{
    tb_model *b = small_ln_model();
    add(b);
    onnorm_error e;
    expect_load_fails(b, code, &e);
    if (needle) assert_msg_has(e, needle);
    tb_free(b);
}

static void add_short_raw(tb_model *b)
{
    const float v[2] = {1, 2};
    tb_init_raw(b, "short_raw", ONNORM_FLOAT, 1, (int64_t[]){3}, v, sizeof v);
}
static void add_long_raw(tb_model *b)
{
    const float v[4] = {1, 2, 3, 4};
    tb_init_raw(b, "long_raw", ONNORM_FLOAT, 1, (int64_t[]){3}, v, sizeof v);
}
static void add_odd_raw(tb_model *b)
{
    const uint8_t v[7] = {0};
    tb_init_raw(b, "odd_raw", ONNORM_DOUBLE, 0, NULL, v, sizeof v);
}
static void add_negative_dim(tb_model *b)
{
    const float v[2] = {1, 2};
    tb_init_raw(b, "neg_dim", ONNORM_FLOAT, 2, (int64_t[]){-1, 2}, v, sizeof v);
}
static void add_int64_overflow(tb_model *b)
{
    tb_init_raw(b, "huge_dims", ONNORM_FLOAT, 3, (int64_t[]){INT64_C(1) << 40, INT64_C(1) << 40, 2},
                NULL, 0);
}
static void add_int64_max_dims(tb_model *b)
{
    tb_init_raw(b, "max_dims", ONNORM_FLOAT, 2, (int64_t[]){INT64_MAX, 2}, NULL, 0);
}
static void add_byte_overflow(tb_model *b)
{
    /* 2^62 elements fit in int64, 2^64 bytes do not fit in size_t. */
    tb_init_raw(b, "huge_bytes", ONNORM_FLOAT, 1, (int64_t[]){INT64_C(1) << 62}, NULL, 0);
}
static void add_huge_no_data(tb_model *b)
{
    /* A plausible element count but no data at all. */
    tb_init_typed_float(b, "no_data", 2, (int64_t[]){1024, 1024}, 0, NULL);
}
static void add_rank9(tb_model *b)
{
    const float v[1] = {1};
    tb_init_raw(b, "rank9", ONNORM_FLOAT, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, v, sizeof v);
}
static void add_external(tb_model *b)
{
    tb_init_external(b, "ext_w", ONNORM_FLOAT, 1, (int64_t[]){3}, "weights.bin");
}
static void add_string_tensor(tb_model *b)
{
    tb_init_raw(b, "strings", ONNORM_STRING, 1, (int64_t[]){1}, "a", 1);
}
static void add_unknown_dtype(tb_model *b)
{
    tb_init_raw(b, "dtype99", (onnorm_dtype)99, 1, (int64_t[]){1}, "abcd", 4);
}
/* COMPLEX64 (14): an ONNX type onnorm has no kernels for. */
static void add_complex_dtype(tb_model *b)
{
    tb_init_raw(b, "complex_w", (onnorm_dtype)14, 1, (int64_t[]){1}, "abcdefgh", 8);
}
static void add_short_float_data(tb_model *b)
{
    tb_init_typed_float(b, "short_floats", 1, (int64_t[]){3}, 2, (const float[]){1, 2});
}
static void add_wrong_typed_field(tb_model *b)
{
    /* A float tensor whose values sit in int32_data instead of float_data. */
    tb_init_typed_int32(b, "float_in_int32", ONNORM_FLOAT, 1, (int64_t[]){2}, 2,
                        (const int32_t[]){1, 2});
}

static void bad_raw_data_size_names_tensor(void **state)
{
    (void)state;
    expect_bad_init(add_short_raw, ONNORM_ERR_INVALID, "short_raw");
    expect_bad_init(add_long_raw, ONNORM_ERR_INVALID, "long_raw");
    expect_bad_init(add_odd_raw, ONNORM_ERR_INVALID, "odd_raw");
    expect_bad_init(add_short_float_data, ONNORM_ERR_INVALID, "short_floats");
    expect_bad_init(add_wrong_typed_field, ONNORM_ERR_INVALID, "float_in_int32");
}

static void negative_dim_is_invalid(void **state)
{
    (void)state;
    expect_bad_init(add_negative_dim, ONNORM_ERR_INVALID, "neg_dim");
}

static void overflowing_dims_fail(void **state)
{
    (void)state;
    void (*adders[])(tb_model *) = {add_int64_overflow, add_int64_max_dims, add_byte_overflow};
    const char *names[] = {"huge_dims", "max_dims", "huge_bytes"};
    for (int i = 0; i < 3; i++) {
        tb_model *b = small_ln_model();
        adders[i](b);
        onnorm_model *m = NULL;
        onnorm_error e;
        onnorm_status st = tb_load(b, &m, &e);
        assert_true(st == ONNORM_ERR_NOMEM || st == ONNORM_ERR_INVALID);
        assert_null(m);
        assert_msg_has(e, names[i]);
        tb_free(b);
    }
    expect_bad_init(add_huge_no_data, ONNORM_ERR_INVALID, "no_data");
}

static void rank9_and_external_are_unsupported(void **state)
{
    (void)state;
    expect_bad_init(add_rank9, ONNORM_ERR_UNSUPPORTED, "rank9");
    expect_bad_init(add_external, ONNORM_ERR_UNSUPPORTED, "ext_w");
    expect_bad_init(add_external, ONNORM_ERR_UNSUPPORTED, "external");
    expect_bad_init(add_string_tensor, ONNORM_ERR_UNSUPPORTED, "strings");
    /* A code ONNX does not define is invalid (issue 15), one it defines but
     * onnorm lacks is unsupported. */
    expect_bad_init(add_unknown_dtype, ONNORM_ERR_INVALID, "element type code 99");
    expect_bad_init(add_complex_dtype, ONNORM_ERR_UNSUPPORTED, "complex_w");
}

/* ---- initializers: typed fields ------------------------------------------ */

static void float_data_initializer_matches_raw(void **state)
{
    (void)state;
    /* The same InstanceNormalization with scale/B as raw_data and as float_data. */
    const float sc[2] = {1, 1.5f}, bias[2] = {0, 1};
    const float x[6] = {-1, 0, 1, 2, 3, 4};
    const int64_t dims[4] = {1, 2, 1, 3};
    onnorm_model *m[2];
    th_run r[2];
    for (int typed = 0; typed < 2; typed++) {
        tb_model *b = tb_new(6);
        tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
        if (typed) {
            tb_init_typed_float(b, "s", 1, (int64_t[]){2}, 2, sc);
            tb_init_typed_float(b, "b", 1, (int64_t[]){2}, 2, bias);
        } else {
            tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, sc);
            tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){2}, bias);
        }
        tb_node_add(b, "InstanceNormalization", "in", 3, (const char *[]){"x", "s", "b"}, 1,
                    (const char *[]){"y"});
        tb_output(b, "y", ONNORM_FLOAT);
        m[typed] = expect_load_ok(b);
        run_loaded(&r[typed], m[typed], "x", 4, dims, x);
        tb_free(b);
    }
    th_expect_same_output(&r[0], &r[1], "y", 0, 0, TH_BITWISE);
    const float *y = th_output(&r[1], "y", ONNORM_FLOAT, 4, dims);
    const float want[6] = {-1.22474f, 0, 1.22474f, -0.8371f, 1, 2.8371f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i], 1e-4);
    for (int typed = 0; typed < 2; typed++) {
        th_free(&r[typed]);
        onnorm_model_free(m[typed]);
    }
}

static void double_data_initializer_runs(void **state)
{
    (void)state;
    /* LayerNormalization in double, parameters in double_data. */
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_DOUBLE, 2, (int64_t[]){2, 3});
    const double sc[3] = {1, 2, -0.5}, bias[3] = {0.125, -1, 3};
    tb_init_typed_double(b, "s", 1, (int64_t[]){3}, 3, sc);
    tb_init_typed_double(b, "bb", 1, (int64_t[]){3}, 3, bias);
    tb_node_add(b, "LayerNormalization", "ln", 3, (const char *[]){"x", "s", "bb"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_DOUBLE);
    tb_output(b, "s", ONNORM_DOUBLE); /* an initializer as a graph output */
    onnorm_model *m = expect_load_ok(b);
    const double x[6] = {1, 2, 4, -3, 0, 3};
    th_run run;
    TH_OK(&run, th_run_loaded(&run, m, NULL, 1,
                              (th_tensor[]){th_in("x", ONNORM_DOUBLE, 2, (int64_t[]){2, 3}, x)}));
    const double *y = th_output(&run, "y", ONNORM_DOUBLE, 2, (int64_t[]){2, 3});
    for (int r = 0; r < 2; r++) {
        double mean = (x[3 * r] + x[3 * r + 1] + x[3 * r + 2]) / 3, var = 0;
        for (int i = 0; i < 3; i++)
            var += (x[3 * r + i] - mean) * (x[3 * r + i] - mean) / 3;
        for (int i = 0; i < 3; i++) {
            double want = (x[3 * r + i] - mean) / sqrt(var + (double)1e-5f) * sc[i] + bias[i];
            assert_float_equal(y[3 * r + i], want, 1e-12);
        }
    }
    assert_memory_equal(th_output(&run, "s", ONNORM_DOUBLE, 1, (int64_t[]){3}), sc, sizeof sc);
    th_free(&run);
    onnorm_model_free(m);
    tb_free(b);
}

static void integer_typed_fields_read_back(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    const int64_t i64[4] = {INT64_MIN, -1, 0, INT64_MAX};
    const int32_t i32[3] = {INT32_MIN, -7, INT32_MAX};
    const int32_t i8[4] = {-128, -5, 0, 127};
    const int32_t u8[3] = {0, 200, 255};
    const int32_t bools[3] = {1, 0, 1};
    const int32_t i16[3] = {-32768, -2, 32767};
    const int32_t u16[2] = {0, 65535};
    const uint64_t u32[2] = {0, 4294967295u};
    const uint64_t u64[2] = {1, UINT64_MAX};
    tb_init_typed_int64(b, "i64", 2, (int64_t[]){2, 2}, 4, i64);
    tb_init_typed_int32(b, "i32", ONNORM_INT32, 1, (int64_t[]){3}, 3, i32);
    tb_init_typed_int32(b, "i8", ONNORM_INT8, 1, (int64_t[]){4}, 4, i8);
    tb_init_typed_int32(b, "u8", ONNORM_UINT8, 1, (int64_t[]){3}, 3, u8);
    tb_init_typed_int32(b, "bools", ONNORM_BOOL, 1, (int64_t[]){3}, 3, bools);
    tb_init_typed_int32(b, "i16", ONNORM_INT16, 1, (int64_t[]){3}, 3, i16);
    tb_init_typed_int32(b, "u16", ONNORM_UINT16, 1, (int64_t[]){2}, 2, u16);
    tb_init_typed_uint64(b, "u32", ONNORM_UINT32, 1, (int64_t[]){2}, 2, u32);
    tb_init_typed_uint64(b, "u64", ONNORM_UINT64, 1, (int64_t[]){2}, 2, u64);
    const char *names[] = {"i64", "i32", "i8", "u8", "bools", "i16", "u16", "u32", "u64"};
    const onnorm_dtype types[] = {ONNORM_INT64,  ONNORM_INT32,  ONNORM_INT8,
                                  ONNORM_UINT8,  ONNORM_BOOL,   ONNORM_INT16,
                                  ONNORM_UINT16, ONNORM_UINT32, ONNORM_UINT64};
    for (int i = 0; i < 9; i++)
        tb_output(b, names[i], types[i]);
    onnorm_model *m = expect_load_ok(b);
    assert_int_equal(onnorm_model_input_count(m), 0);
    assert_int_equal(onnorm_model_output_count(m), 9);
    th_run r;
    TH_OK(&r, th_run_loaded(&r, m, NULL, 0, NULL));
    onnorm_tensor t;
    for (int i = 0; i < 9; i++) {
        t = th_out(&r, names[i]);
        assert_int_equal(t.dtype, types[i]);
        assert_string_equal(t.name, names[i]);
    }
    t = th_out(&r, "i64");
    assert_int_equal(t.rank, 2);
    assert_int_equal(t.dims[0], 2);
    assert_memory_equal(t.data, i64, sizeof i64);
    t = th_out(&r, "i32");
    assert_memory_equal(t.data, i32, sizeof i32);
    t = th_out(&r, "i8");
    assert_memory_equal(t.data, ((const int8_t[]){-128, -5, 0, 127}), 4);
    t = th_out(&r, "u8");
    assert_memory_equal(t.data, ((const uint8_t[]){0, 200, 255}), 3);
    t = th_out(&r, "bools");
    assert_memory_equal(t.data, ((const uint8_t[]){1, 0, 1}), 3);
    t = th_out(&r, "i16");
    assert_memory_equal(t.data, ((const int16_t[]){-32768, -2, 32767}), 6);
    t = th_out(&r, "u16");
    assert_memory_equal(t.data, ((const uint16_t[]){0, 65535}), 4);
    t = th_out(&r, "u32");
    assert_memory_equal(t.data, ((const uint32_t[]){0, 4294967295u}), 8);
    t = th_out(&r, "u64");
    assert_memory_equal(t.data, u64, sizeof u64);
    th_free(&r);
    onnorm_model_free(m);
    tb_free(b);
}

static void float16_bits_in_int32_data(void **state)
{
    (void)state;
    /* 1.0, -2.0, +inf, NaN, smallest subnormal, largest finite (-65504),
     * -0.0; and bfloat16 1.0, -inf, 3.140625. */
    const int32_t f16[7] = {0x3C00, 0xC000, 0x7C00, 0x7E00, 0x0001, 0xFBFF, 0x8000};
    const int32_t bf16[3] = {0x3F80, 0xFF80, 0x4049};
    tb_model *b = tb_new(17);
    tb_init_typed_int32(b, "h", ONNORM_FLOAT16, 1, (int64_t[]){7}, 7, f16);
    tb_init_typed_int32(b, "bh", ONNORM_BFLOAT16, 1, (int64_t[]){3}, 3, bf16);
    tb_output(b, "h", ONNORM_FLOAT16);
    tb_output(b, "bh", ONNORM_BFLOAT16);
    th_run r;
    TH_OK(&r, th_run_model(&r, b, 0, 0, NULL));
    onnorm_tensor t = th_out(&r, "h");
    const uint16_t *buf = t.data;
    assert_int_equal(t.dtype, ONNORM_FLOAT16);
    assert_int_equal(t.rank, 1);
    assert_int_equal(t.dims[0], 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(buf[i], (uint16_t)f16[i]);
    t = th_out(&r, "bh");
    buf = t.data;
    assert_int_equal(t.dtype, ONNORM_BFLOAT16);
    for (int i = 0; i < 3; i++)
        assert_int_equal(buf[i], (uint16_t)bf16[i]);
    th_free(&r);
}

static void scalar_and_empty_initializers(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    tb_init_typed_float(b, "scalar", 0, NULL, 1, (const float[]){2.5f});
    tb_init_typed_float(b, "empty", 2, (int64_t[]){0, 3}, 0, NULL);
    tb_init_raw(b, "empty_raw", ONNORM_FLOAT, 1, (int64_t[]){0}, NULL, 0);
    tb_output(b, "scalar", ONNORM_FLOAT);
    tb_output(b, "empty", ONNORM_FLOAT);
    tb_output(b, "empty_raw", ONNORM_FLOAT);
    th_run r;
    TH_OK(&r, th_run_model(&r, b, 0, 0, NULL));
    onnorm_tensor t = th_out(&r, "scalar");
    const float *buf = t.data;
    assert_int_equal(t.rank, 0);
    assert_int_equal(onnorm_tensor_numel(&t), 1);
    assert_true(buf[0] == 2.5f);
    t = th_out(&r, "empty");
    buf = t.data;
    assert_int_equal(t.rank, 2);
    assert_int_equal(onnorm_tensor_numel(&t), 0);
    t = th_out(&r, "empty_raw");
    buf = t.data;
    assert_int_equal(onnorm_tensor_numel(&t), 0);
    th_free(&r);
}

/* ---- Constant nodes ------------------------------------------------------- */

static void constant_tensor_feeds_a_norm(void **state)
{
    (void)state;
    tb_model *b = tb_new(6);
    tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    const float sc[2] = {1, 1.5f}, bias[2] = {0, 1};
    tb_node *c = tb_node_add(b, "Constant", "c_scale", 0, NULL, 1, (const char *[]){"s"});
    tb_attr_tensor(c, "value", ONNORM_FLOAT, 1, (int64_t[]){2}, sc);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){2}, bias);
    tb_node_add(b, "InstanceNormalization", "in", 3, (const char *[]){"x", "s", "b"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = expect_load_ok(b);
    /* Constants are folded away at load time. */
    assert_int_equal(onnorm_model_node_count(m), 1);
    assert_int_equal(onnorm_model_input_count(m), 1);
    const float x[6] = {-1, 0, 1, 2, 3, 4};
    th_run r;
    run_loaded(&r, m, "x", 4, (int64_t[]){1, 2, 1, 3}, x);
    const float *got = th_output(&r, "y", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    const float want[6] = {-1.22474f, 0, 1.22474f, -0.8371f, 1, 2.8371f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(got[i], want[i], 1e-4);
    th_free(&r);
    onnorm_model_free(m);
    tb_free(b);
}

static void constant_value_float_forms(void **state)
{
    (void)state;
    /* Scale from value_floats, B from a scalar value_float (broadcast). The
     * Constants are placed after their consumer in the file. */
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_node_add(b, "LayerNormalization", "ln", 3, (const char *[]){"x", "s", "bb"}, 1,
                (const char *[]){"y"});
    const float sc[3] = {2, -1, 0.5f};
    tb_node *c1 = tb_node_add(b, "Constant", "c1", 0, NULL, 1, (const char *[]){"s"});
    tb_attr_floats(c1, "value_floats", 3, sc);
    tb_node *c2 = tb_node_add(b, "Constant", "c2", 0, NULL, 1, (const char *[]){"bb"});
    tb_attr_float(c2, "value_float", 0.75f);
    tb_output(b, "y", ONNORM_FLOAT);
    tb_output(b, "bb", ONNORM_FLOAT);
    onnorm_model *m = expect_load_ok(b);
    const float x[6] = {1, 2, 3, 10, 0, -10};
    float want[6], bias3[3] = {0.75f, 0.75f, 0.75f};
    th_run r;
    run_loaded(&r, m, "x", 2, (int64_t[]){2, 3}, x);
    const float *got = th_output(&r, "y", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    ref_ln(x, 2, 3, sc, bias3, 1e-5f, want);
    for (int i = 0; i < 6; i++)
        assert_float_equal(got[i], want[i], 1e-5);
    got = th_output(&r, "bb", ONNORM_FLOAT, 0, NULL);
    assert_true(got[0] == 0.75f);
    th_free(&r);
    onnorm_model_free(m);
    tb_free(b);
}

static void constant_value_ints_read_back(void **state)
{
    (void)state;
    tb_model *b = tb_new(17);
    const int64_t v[3] = {-5, 0, INT64_C(1) << 40};
    tb_node *c = tb_node_add(b, "Constant", "ci", 0, NULL, 1, (const char *[]){"ints"});
    tb_attr_ints(c, "value_ints", 3, v);
    tb_node *c2 = tb_node_add(b, "Constant", "ci1", 0, NULL, 1, (const char *[]){"one"});
    tb_attr_int(c2, "value_int", 42);
    tb_node_domain(c2, "ai.onnx");
    tb_output(b, "ints", ONNORM_INT64);
    tb_output(b, "one", ONNORM_INT64);
    th_run r;
    TH_OK(&r, th_run_model(&r, b, 0, 0, NULL));
    onnorm_tensor t = th_out(&r, "ints");
    const int64_t *buf = t.data;
    assert_int_equal(t.dtype, ONNORM_INT64);
    assert_int_equal(t.rank, 1);
    assert_int_equal(t.dims[0], 3);
    assert_memory_equal(buf, v, sizeof v);
    t = th_out(&r, "one");
    buf = t.data;
    assert_int_equal(t.rank, 0);
    assert_int_equal(buf[0], 42);
    th_free(&r);
}

static void bad_constant_nodes_fail(void **state)
{
    (void)state;
    onnorm_error e;
    /* Two attributes. */
    tb_model *b = small_ln_model();
    tb_node *c = tb_node_add(b, "Constant", "two_attrs", 0, NULL, 1, (const char *[]){"k"});
    tb_attr_float(c, "value_float", 1);
    tb_attr_int(c, "value_int", 1);
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "two_attrs");
    tb_free(b);
    /* value_string is not a numeric form. */
    b = small_ln_model();
    c = tb_node_add(b, "Constant", "stringy", 0, NULL, 1, (const char *[]){"k"});
    tb_attr_string(c, "value_string", "hello");
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "stringy");
    assert_msg_has(e, "value_string");
    tb_free(b);
    /* Constant output colliding with an initializer. */
    b = small_ln_model();
    c = tb_node_add(b, "Constant", "clash", 0, NULL, 1, (const char *[]){"s"});
    tb_attr_float(c, "value_float", 1);
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "'s'");
    tb_free(b);
    /* A Constant without an output. */
    b = small_ln_model();
    tb_node_add(b, "Constant", "no_outputs", 0, NULL, 0, NULL);
    expect_load_fails(b, ONNORM_ERR_INVALID, &e);
    assert_msg_has(e, "no_outputs");
    tb_free(b);
}

/* protobuf-c leaves an absent optional string NULL: a Constant whose only
 * attribute has no name must fail cleanly, the NULL name read as empty. */
static void constant_attribute_without_name_fails(void **state)
{
    (void)state;
    tb_model *b = small_ln_model();
    tb_node *c = tb_node_add(b, "Constant", "nameless", 0, NULL, 1, (const char *[]){"k"});
    tb_attr_float(c, NULL, 1.0f);
    onnorm_model *m = NULL;
    onnorm_error e;
    onnorm_status st = tb_load(b, &m, &e);
    assert_int_not_equal(st, ONNORM_OK);
    assert_null(m);
    tb_free(b);
}

/* ---- model-local functions ------------------------------------------------- */

/*
 * A model whose functions call each other `fanout` times per level, `depth`
 * levels deep: a few hundred bytes that expand to fanout^(depth-1) nodes
 * when inlined. F0 is called once from the graph.
 */
static tb_model *function_bomb(int fanout, int depth)
{
    tb_model *b = tb_new(17);
    tb_opset(b, "custom", 1);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){2, 3});
    tb_node *n = tb_node_add(b, "F0", "call", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    tb_node_domain(n, "custom");
    tb_output(b, "y", ONNORM_FLOAT);
    char name[32], next[32], out[32];
    for (int i = 0; i < depth; i++) {
        snprintf(name, sizeof name, "F%d", i);
        snprintf(next, sizeof next, "F%d", i + 1);
        tb_function *f =
            tb_function_add(b, name, "custom", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
        if (i == depth - 1) {
            tb_function_node(f, "FooBar", "", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
            continue;
        }
        for (int k = 0; k < fanout; k++) {
            snprintf(out, sizeof out, k == fanout - 1 ? "y" : "t%d", k);
            tb_function_node(f, next, "custom", 1, (const char *[]){"x"}, 1, (const char *[]){out});
        }
    }
    return b;
}

static void small_function_tree_is_inlined(void **state)
{
    (void)state;
    /* 3 levels, fan-out 3: 9 leaf FooBar nodes once inlined, each with its
     * own renamed edges. Loaded for inspection, all 9 are there. */
    tb_model *b = function_bomb(3, 3);
    onnorm_model *m = NULL;
    onnorm_error e;
    if (tb_load_flags(b, ONNORM_LOAD_ALLOW_UNSUPPORTED, &m, &e)) fail_msg("%s", e.message);
    assert_int_equal(onnorm_model_node_count(m), 9);
    for (int i = 0; i < 9; i++) {
        const char *op = NULL;
        int kv = -1;
        onnorm_model_node(m, i, NULL, &op, NULL, &kv);
        assert_string_equal(op, "FooBar");
        assert_int_equal(kv, 0);
    }
    onnorm_model_free(m);
    expect_load_fails(b, ONNORM_ERR_UNSUPPORTED, &e);
    assert_msg_has(e, "9 unsupported");
    tb_free(b);
}

/* AddressSanitizer and ThreadSanitizer reserve terabytes of address space
 * for their shadow memory, so a process under either cannot run with
 * RLIMIT_AS lowered (gcc defines __SANITIZE_*__, clang has __has_feature). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/*
 * Fan-out 4 over 16 levels of model-local functions is a ~1 KB model that
 * would expand to 4^15 (about 10^9) nodes when inlined. A model file must
 * not be able to stall the loader or exhaust memory that way: loading must
 * fail within 10 seconds (an alarm), in a child process limited to 2 GiB
 * of address space (left off under AddressSanitizer). The loader's node
 * budget, relative to the nodes the file writes, refuses it after 65536
 * nodes: about 0.15 s in a release build.
 */
#define BOMB_SECONDS 10

static void function_bomb_is_rejected_quickly(void **state)
{
    (void)state;
    tb_model *b = function_bomb(4, 16);
    size_t len;
    uint8_t *buf = tb_serialize(b, &len);
    tb_free(b);
    assert_true(len < 4096);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {(rlim_t)2 << 30, (rlim_t)2 << 30}; /* 2 GiB of address space */
        if (!UNDER_ASAN) setrlimit(RLIMIT_AS, &lim);
        alarm(BOMB_SECONDS);
        onnorm_model *m = NULL;
        onnorm_error e;
        onnorm_status st = onnorm_model_load_buffer(buf, len, "bomb", 0, &m, &e);
        _exit(st == ONNORM_OK ? 1 : 0);
    }
    free(buf);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        fail_msg("loading a 4^15-node function expansion was killed by signal %d (%s)",
                 WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? "no result within the alarm's time" : "crash");
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0) fail_msg("the function bomb loaded successfully");
}

/* ---- IR version 3: initializers listed as graph inputs --------------------- */

static tb_model *ir3_model(void)
{
    tb_model *b = tb_new(6);
    tb_ir_version(b, 3);
    tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    tb_input(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2});
    tb_input(b, "b", ONNORM_FLOAT, 1, (int64_t[]){2});
    const float sc[2] = {1, 1.5f}, bias[2] = {0, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, sc);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){2}, bias);
    tb_node_add(b, "InstanceNormalization", "in", 3, (const char *[]){"x", "s", "b"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    return b;
}

static void ir3_initializer_inputs_are_optional(void **state)
{
    (void)state;
    tb_model *b = ir3_model();
    onnorm_model *m = expect_load_ok(b);
    assert_int_equal(onnorm_model_ir_version(m), 3);
    assert_int_equal(onnorm_model_input_count(m), 1);
    assert_string_equal(onnorm_model_input_name(m, 0), "x");
    assert_null(onnorm_model_input_name(m, 1));
    onnorm_tensor info;
    assert_int_equal(onnorm_model_input_info(m, 0, &info), ONNORM_OK);
    assert_string_equal(info.name, "x");
    assert_int_equal(onnorm_model_input_info(m, 1, &info), ONNORM_ERR_NOT_FOUND);

    const float x[6] = {-1, 0, 1, 2, 3, 4};
    const float want[6] = {-1.22474f, 0, 1.22474f, -0.8371f, 1, 2.8371f};
    const int64_t dims[4] = {1, 2, 1, 3};
    th_run r;
    run_loaded(&r, m, "x", 4, dims, x);
    const float *y = th_output(&r, "y", ONNORM_FLOAT, 4, dims);
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i], 1e-4);

    /* Before IR 4 initializers are constants (as in ONNX Runtime): binding
     * one is refused with a reason, and the run keeps the initializer. */
    const float bias2[2] = {10, -10};
    onnorm_error e;
    assert_int_equal(
        onnorm_session_bind_input(r.s, "b", ONNORM_FLOAT, (int64_t[]){2}, 1, bias2, &e),
        ONNORM_ERR_INVALID);
    assert_non_null(strstr(e.message, "IR version 3"));
    TH_OK(&r, th_rerun(&r, 0, NULL));
    y = th_output(&r, "y", ONNORM_FLOAT, 4, dims);
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i], 1e-4);
    th_free(&r);

    /* A fresh session sees the model's initializer again. */
    run_loaded(&r, m, "x", 4, dims, x);
    y = th_output(&r, "y", ONNORM_FLOAT, 4, dims);
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i], 1e-4);
    th_free(&r);
    onnorm_model_free(m);
    tb_free(b);
}

static void model_without_opset_import_means_opset_1(void **state)
{
    (void)state;
    tb_model *b = tb_new(0);
    tb_ir_version(b, 2);
    tb_input(b, "x", ONNORM_FLOAT, 4, (int64_t[]){1, 2, 1, 3});
    const float sc[2] = {1, 1.5f}, bias[2] = {0, 1};
    tb_init(b, "s", ONNORM_FLOAT, 1, (int64_t[]){2}, sc);
    tb_init(b, "b", ONNORM_FLOAT, 1, (int64_t[]){2}, bias);
    tb_node_add(b, "InstanceNormalization", "in", 3, (const char *[]){"x", "s", "b"}, 1,
                (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = expect_load_ok(b);
    const char *dom = NULL;
    int64_t ver = 0;
    int kv = 0;
    assert_int_equal(onnorm_model_opset_count(m), 1);
    onnorm_model_opset(m, 0, &dom, &ver);
    assert_string_equal(dom, "");
    assert_int_equal(ver, 1);
    onnorm_model_node(m, 0, NULL, NULL, NULL, &kv);
    assert_int_equal(kv, 1);
    onnorm_model_free(m);
    tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_buffer_is_parse_error),
        cmocka_unit_test(random_bytes_never_crash),
        cmocka_unit_test(every_truncation_fails_cleanly),
        cmocka_unit_test(byte_flips_never_crash),
        cmocka_unit_test(tensor_proto_is_not_a_model),
        cmocka_unit_test(missing_file_is_io_error),
        cmocka_unit_test(real_model_file_loads),
        cmocka_unit_test(unknown_op_is_named),
        cmocka_unit_test(all_unsupported_nodes_are_listed),
        cmocka_unit_test(bn_opset5_binds_version_1),
        cmocka_unit_test(op_newer_than_model_opset_is_unsupported),
        cmocka_unit_test(groupnorm_opset17_is_unsupported),
        cmocka_unit_test(opset_newer_than_supported_is_unsupported),
        cmocka_unit_test(unimported_domain_is_unsupported),
        cmocka_unit_test(explicit_ai_onnx_domain_works),
        cmocka_unit_test(missing_input_is_named),
        cmocka_unit_test(unproduced_output_is_named),
        cmocka_unit_test(duplicate_producer_is_invalid),
        cmocka_unit_test(cycle_is_invalid),
        cmocka_unit_test(nodes_out_of_file_order_are_sorted),
        cmocka_unit_test(wrong_arity_and_empty_op_are_invalid),
        cmocka_unit_test(omitted_bn_output_does_not_crash),
        cmocka_unit_test(omitted_ln_output_does_not_crash),
        cmocka_unit_test(bad_raw_data_size_names_tensor),
        cmocka_unit_test(negative_dim_is_invalid),
        cmocka_unit_test(overflowing_dims_fail),
        cmocka_unit_test(rank9_and_external_are_unsupported),
        cmocka_unit_test(float_data_initializer_matches_raw),
        cmocka_unit_test(double_data_initializer_runs),
        cmocka_unit_test(integer_typed_fields_read_back),
        cmocka_unit_test(float16_bits_in_int32_data),
        cmocka_unit_test(scalar_and_empty_initializers),
        cmocka_unit_test(constant_tensor_feeds_a_norm),
        cmocka_unit_test(constant_value_float_forms),
        cmocka_unit_test(constant_value_ints_read_back),
        cmocka_unit_test(bad_constant_nodes_fail),
        cmocka_unit_test(constant_attribute_without_name_fails),
        cmocka_unit_test(small_function_tree_is_inlined),
        cmocka_unit_test(function_bomb_is_rejected_quickly),
        cmocka_unit_test(ir3_initializer_inputs_are_optional),
        cmocka_unit_test(model_without_opset_import_means_opset_1),
    };
    /* Opt-in selection for manual runs (valgrind, debugging); ctest sets
     * neither variable, so every test runs there. */
    if (getenv("ONNORM_TEST_FILTER")) cmocka_set_test_filter(getenv("ONNORM_TEST_FILTER"));
    if (getenv("ONNORM_TEST_SKIP")) cmocka_set_skip_filter(getenv("ONNORM_TEST_SKIP"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
