/*
 * The calibration data reader (runtime/dataset.c): .npy files of every
 * accepted kind and the errors for the rest (bad magic, truncation, size
 * mismatch, Fortran order, unsupported types, bad headers), and data sets
 * made of files, folders, input folders and test_data_set_* folders,
 * checked against the model's input declarations.
 *
 * The .npy files are written here byte by byte following NumPy's format
 * description (magic, version, little-endian header length, a Python dict
 * padded with spaces and ended by '\n'); tests/test_calibrate.sh also feeds
 * files written by numpy.save itself.
 */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder.h"

#define assert_msg_has(e, needle)                                                                  \
    do {                                                                                           \
        if (!strstr((e).message, (needle)))                                                        \
            fail_msg("message \"%s\" does not mention \"%s\"", (e).message, (needle));             \
    } while (0)

static char tmp_root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_root, sizeof tmp_root, "/tmp/onnorm_dataset_XXXXXX");
    return mkdtemp(tmp_root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp_root, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* An .npy file of `version` (1, 2 or 3) with header dict `dict` (padded as
 * numpy pads it: the data starts at a multiple of 64) and `n` data bytes. */
static void write_npy(const char *path, int version, const char *dict, const void *data, size_t n)
{
    const size_t pre = version == 1 ? 10 : 12;
    size_t hlen = strlen(dict) + 1;
    while ((pre + hlen) % 64)
        hlen++;
    unsigned char *buf = calloc(1, pre + hlen + n);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)version;
    buf[7] = 0;
    if (version == 1) {
        buf[8] = (unsigned char)(hlen & 0xff), buf[9] = (unsigned char)(hlen >> 8);
    } else {
        for (int i = 0; i < 4; i++)
            buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    }
    memset(buf + pre, ' ', hlen);
    memcpy(buf + pre, dict, strlen(dict));
    buf[pre + hlen - 1] = '\n';
    if (n) memcpy(buf + pre + hlen, data, n);
    write_bytes(path, buf, pre + hlen + n);
    free(buf);
}

static onnorm_tensor *read_ok(const char *path)
{
    onnorm_tensor *t = NULL;
    onnorm_error e;
    if (onnorm_tensor_read_npy(path, &t, &e)) fail_msg("%s: %s", path, e.message);
    return t;
}

static void npy_float32_v1(void **state)
{
    (void)state;
    const float v[6] = {1.5f, -2, 3.25f, 0, 1e-3f, 7};
    const char *p = path_of("f32.npy");
    write_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v, sizeof v);
    onnorm_tensor *t = read_ok(p);
    assert_int_equal(t->dtype, ONNORM_FLOAT);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 2);
    assert_int_equal(t->dims[1], 3);
    assert_memory_equal(t->data, v, sizeof v);
    onnorm_tensor_free(t);
}

static void npy_types_and_versions(void **state)
{
    (void)state;
    const double d[3] = {1e300, -0.5, 3};
    const int64_t i64[2] = {INT64_C(-9000000000), 42};
    const int32_t i32[4] = {-1, 2, -3, 2000000000};
    const uint8_t u8[5] = {0, 1, 127, 128, 255};
    const uint8_t b[3] = {1, 0, 1};
    struct {
        const char *file, *dict;
        int version;
        const void *data;
        size_t n;
        onnorm_dtype dt;
        int rank;
        int64_t d0;
    } cases[] = {
        {"f64.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 2, d, sizeof d,
         ONNORM_DOUBLE, 1, 3},
        {"i64.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 3, i64, sizeof i64,
         ONNORM_INT64, 1, 2},
        {"i32.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", 1, i32,
         sizeof i32, ONNORM_INT32, 2, 2},
        {"u8.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }", 1, u8, sizeof u8,
         ONNORM_UINT8, 1, 5},
        {"b1.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", 1, b, sizeof b,
         ONNORM_BOOL, 1, 3},
        /* keys in another order, double quotes, no trailing comma */
        {"order.npy", "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f8\"}", 1, d,
         sizeof d, ONNORM_DOUBLE, 1, 3},
        /* a scalar */
        {"scalar.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 1, d, 8,
         ONNORM_DOUBLE, 0, 0},
        /* an empty array */
        {"empty.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 1, NULL, 0,
         ONNORM_FLOAT, 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *p = path_of(cases[i].file);
        write_npy(p, cases[i].version, cases[i].dict, cases[i].data, cases[i].n);
        onnorm_tensor *t = read_ok(p);
        assert_int_equal(t->dtype, cases[i].dt);
        assert_int_equal(t->rank, cases[i].rank);
        if (cases[i].rank) assert_int_equal(t->dims[0], cases[i].d0);
        if (cases[i].n) assert_memory_equal(t->data, cases[i].data, cases[i].n);
        onnorm_tensor_free(t);
    }
}

static void expect_npy_error(const char *p, onnorm_status code, const char *needle)
{
    onnorm_tensor *t = (onnorm_tensor *)1;
    onnorm_error e;
    onnorm_status st = onnorm_tensor_read_npy(p, &t, &e);
    if (st != code)
        fail_msg("%s: expected %s, got %s (%s)", p, onnorm_status_str(code), onnorm_status_str(st),
                 st ? e.message : "");
    assert_null(t);
    assert_msg_has(e, needle);
}

static void npy_errors(void **state)
{
    (void)state;
    const float v[8] = {0}; /* 6 used; room for the one-byte-too-many case */
    const size_t V = 6 * sizeof(float);
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    /* bad magic */
    write_npy(path_of("magic.npy"), 1, ok, v, V);
    {
        FILE *f = fopen(path_of("magic.npy"), "r+b");
        fputc('X', f);
        fclose(f);
    }
    expect_npy_error(path_of("magic.npy"), ONNORM_ERR_PARSE, "bad magic");
    write_bytes(path_of("short.npy"), "\x93NUM", 4);
    expect_npy_error(path_of("short.npy"), ONNORM_ERR_PARSE, "bad magic");
    /* data size mismatch: one float too few, one byte too many */
    write_npy(path_of("few.npy"), 1, ok, v, V - 4);
    expect_npy_error(path_of("few.npy"), ONNORM_ERR_PARSE, "holds 20 data bytes");
    write_npy(path_of("many.npy"), 1, ok, v, V + 1);
    expect_npy_error(path_of("many.npy"), ONNORM_ERR_PARSE, "holds 25 data bytes");
    /* a header that claims more bytes than the file has */
    {
        unsigned char buf[40] = "\x93NUMPY\x01\x00";
        buf[8] = 0xff, buf[9] = 0x7f;
        memset(buf + 10, ' ', 30);
        write_bytes(path_of("trunc.npy"), buf, sizeof buf);
        expect_npy_error(path_of("trunc.npy"), ONNORM_ERR_PARSE, "truncated");
    }
    /* a shape whose byte size overflows is a size mismatch, not an allocation */
    write_npy(path_of("huge.npy"), 1,
              "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", v,
              V);
    expect_npy_error(path_of("huge.npy"), ONNORM_ERR_PARSE, "but the file holds");
    write_npy(path_of("fortran.npy"), 1,
              "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", v, V);
    expect_npy_error(path_of("fortran.npy"), ONNORM_ERR_UNSUPPORTED, "Fortran order");
    write_npy(path_of("c8.npy"), 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", v,
              24);
    expect_npy_error(path_of("c8.npy"), ONNORM_ERR_UNSUPPORTED, "'<c8' is not supported");
    write_npy(path_of("be.npy"), 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", v,
              12);
    expect_npy_error(path_of("be.npy"), ONNORM_ERR_UNSUPPORTED, "big-endian");
    write_npy(path_of("str.npy"), 1, "{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", v,
              12);
    expect_npy_error(path_of("str.npy"), ONNORM_ERR_UNSUPPORTED, "'<U3'");
    write_npy(path_of("struct.npy"), 1,
              "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", v, 4);
    expect_npy_error(path_of("struct.npy"), ONNORM_ERR_PARSE, "structured");
    write_npy(path_of("nokey.npy"), 1, "{'descr': '<f4', 'shape': (2, 3), }", v, V);
    expect_npy_error(path_of("nokey.npy"), ONNORM_ERR_PARSE, "bad .npy header");
    write_npy(path_of("junk.npy"), 1,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "
              "'extra': 1}",
              v, V);
    expect_npy_error(path_of("junk.npy"), ONNORM_ERR_PARSE, "unknown key");
    write_npy(path_of("neg.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }",
              v, V);
    expect_npy_error(path_of("neg.npy"), ONNORM_ERR_PARSE, "bad .npy header");
    write_npy(path_of("rank9.npy"), 1,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", v, 4);
    expect_npy_error(path_of("rank9.npy"), ONNORM_ERR_PARSE, "more dims");
    write_npy(path_of("v4.npy"), 4, ok, v, V);
    expect_npy_error(path_of("v4.npy"), ONNORM_ERR_UNSUPPORTED, "version 4.0");
    expect_npy_error(path_of("missing.npy"), ONNORM_ERR_IO, "cannot open");
}

/* Mutated and truncated headers: every outcome is a tensor whose size is
 * the file's data, or an error; never a crash or an allocation beyond the
 * file (run under valgrind or ASan to see the latter). */
static void npy_mutations(void **state)
{
    (void)state;
    const float v[6] = {1, 2, 3, 4, 5, 6};
    const char *p = path_of("mut.npy");
    write_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", v, sizeof v);
    unsigned char orig[256], buf[256];
    FILE *f = fopen(p, "rb");
    const size_t n = fread(orig, 1, sizeof orig, f);
    fclose(f);
    assert_int_equal(n, 128 + sizeof v); /* numpy's padding: data at 128 */
    uint32_t seed = 12345;
    int ok = 0, failed = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, orig, n);
        size_t len = n;
        const int edits = 1 + iter % 4;
        for (int k = 0; k < edits; k++) {
            seed = seed * 1103515245u + 12345u;
            const size_t at = (seed >> 8) % 128; /* the header */
            seed = seed * 1103515245u + 12345u;
            const char pool[] = "0123456789(),: '\"{}TrueFalse<>|fibuc\x93\x00\xff";
            buf[at] = (unsigned char)pool[(seed >> 8) % (sizeof pool - 1)];
        }
        if (iter % 7 == 0) len = (size_t)(seed >> 4) % n;
        write_bytes(p, buf, len);
        onnorm_tensor *t = NULL;
        onnorm_error e;
        if (onnorm_tensor_read_npy(p, &t, &e) == ONNORM_OK) {
            const size_t bytes = (size_t)onnorm_tensor_numel(t) * onnorm_dtype_size(t->dtype);
            assert_true(bytes <= len);
            onnorm_tensor_free(t);
            ok++;
        } else {
            assert_null(t);
            assert_true(e.message[0] != '\0');
            failed++;
        }
    }
    assert_true(ok > 0 && failed > 0); /* both outcomes were reached */
}

/* ---- data sets -------------------------------------------------------------- */

/* x: float[?, 3] -> Relu -> y (and a second input z for the two-input model,
 * y = Relu(x) + z). */
static onnorm_model *relu_model(bool two_inputs)
{
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){-1, 3});
    if (two_inputs) {
        tb_input(b, "z", ONNORM_FLOAT, 2, (int64_t[]){-1, 3});
        tb_node_add(b, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"rx"});
        tb_node_add(b, "Add", "a", 2, (const char *[]){"rx", "z"}, 1, (const char *[]){"y"});
    } else {
        tb_node_add(b, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    }
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = NULL;
    onnorm_error e;
    if (tb_load(b, &m, &e)) fail_msg("load: %s", e.message);
    tb_free(b);
    return m;
}

static void write_pb(const char *path, int rank, const int64_t *dims, const float *v)
{
    size_t len;
    uint8_t *buf = tb_serialize_tensor("t", ONNORM_FLOAT, rank, dims, v, &len);
    write_bytes(path, buf, len);
    free(buf);
}

static void dataset_files_and_folders(void **state)
{
    (void)state;
    onnorm_model *m = relu_model(false);
    mkdir(path_of("d1"), 0755);
    const float a[6] = {-1, 2, -3, 4, -5, 6};
    const float s[3] = {7, -8, 9};
    write_npy(path_of("d1/a.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
              a, sizeof a);
    write_pb(path_of("d1/b.pb"), 1, (int64_t[]){3}, s); /* one sample */
    write_bytes(path_of("d1/notes.txt"), "ignored", 7);
    mkdir(path_of("d1/sub"), 0755); /* ignored */
    write_pb(path_of("c.pb"), 2, (int64_t[]){1, 3}, s);
    const char *paths[] = {path_of("d1"), path_of("c.pb")};
    onnorm_dataset *d = NULL;
    onnorm_error e;
    if (onnorm_dataset_open(m, paths, 2, &d, &e)) fail_msg("%s", e.message);
    assert_int_equal(onnorm_dataset_count(d), 3);
    assert_int_equal(onnorm_dataset_input_count(d), 1);
    assert_non_null(strstr(onnorm_dataset_path(d, 0, 0), "d1/a.npy"));
    assert_non_null(strstr(onnorm_dataset_path(d, 1, 0), "d1/b.pb"));
    assert_null(onnorm_dataset_path(d, 3, 0));
    onnorm_tensor *t = NULL;
    assert_int_equal(onnorm_dataset_read(d, 1, 0, &t, &e), ONNORM_OK);
    assert_int_equal(t->rank, 2); /* the sample got its batch dim */
    assert_int_equal(t->dims[0], 1);
    assert_int_equal(t->dims[1], 3);
    assert_memory_equal(t->data, s, sizeof s);
    onnorm_tensor_free(t);
    /* bind + run: Relu of item 0 */
    onnorm_session *ses = NULL;
    assert_int_equal(onnorm_session_create(m, NULL, &ses, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_bind(d, 0, ses, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_run(ses, &e), ONNORM_OK);
    onnorm_tensor y;
    assert_int_equal(onnorm_session_output(ses, "y", &y, &e), ONNORM_OK);
    assert_int_equal(y.dims[0], 2);
    for (int i = 0; i < 6; i++)
        assert_true(((float *)y.data)[i] == (a[i] > 0 ? a[i] : 0));
    assert_int_equal(onnorm_dataset_bind(d, 1, ses, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_run(ses, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_output(ses, "y", &y, &e), ONNORM_OK);
    assert_int_equal(y.dims[0], 1);
    assert_true(((float *)y.data)[0] == 7 && ((float *)y.data)[1] == 0);
    assert_int_equal(onnorm_dataset_bind(d, 3, ses, &e), ONNORM_ERR_NOT_FOUND);
    onnorm_session_free(ses);
    onnorm_dataset_free(d);

    /* wrong element type and shape: clear errors when read */
    const double dd[3] = {1, 2, 3};
    write_npy(path_of("f64.npy"), 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
              dd, sizeof dd);
    write_npy(path_of("wide.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 6), }",
              a, sizeof a);
    const char *bad[] = {path_of("f64.npy"), path_of("wide.npy")};
    assert_int_equal(onnorm_dataset_open(m, bad, 2, &d, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_read(d, 0, 0, &t, &e), ONNORM_ERR_DTYPE);
    assert_null(t);
    assert_msg_has(e, "float32, the file holds float64");
    assert_int_equal(onnorm_dataset_read(d, 1, 0, &t, &e), ONNORM_ERR_SHAPE);
    assert_msg_has(e, "[?,3]");
    assert_msg_has(e, "[1,6]");
    onnorm_dataset_free(d);

    /* nothing usable */
    mkdir(path_of("empty"), 0755);
    const char *none[] = {path_of("empty")};
    assert_int_equal(onnorm_dataset_open(m, none, 1, &d, &e), ONNORM_ERR_INVALID);
    assert_null(d);
    assert_msg_has(e, "no calibration data");
    const char *missing[] = {path_of("nope")};
    assert_int_equal(onnorm_dataset_open(m, missing, 1, &d, &e), ONNORM_ERR_IO);
    assert_int_equal(onnorm_dataset_open(m, missing, 0, &d, &e), ONNORM_ERR_INVALID);
    onnorm_model_free(m);
}

static void dataset_multi_input(void **state)
{
    (void)state;
    onnorm_model *m = relu_model(true);
    const float x0[3] = {-1, 2, 3}, z0[3] = {10, 20, 30};
    const float x1[6] = {1, -2, 3, 4, 5, -6}, z1[6] = {1, 1, 1, 2, 2, 2};
    mkdir(path_of("case"), 0755);
    mkdir(path_of("case/test_data_set_0"), 0755);
    mkdir(path_of("case/test_data_set_1"), 0755);
    write_bytes(path_of("case/model.onnx"), "x", 1); /* ignored */
    write_pb(path_of("case/test_data_set_0/input_0.pb"), 2, (int64_t[]){1, 3}, x0);
    write_pb(path_of("case/test_data_set_0/input_1.pb"), 2, (int64_t[]){1, 3}, z0);
    write_pb(path_of("case/test_data_set_0/output_0.pb"), 2, (int64_t[]){1, 3}, z0);
    write_npy(path_of("case/test_data_set_1/input_0.npy"), 1,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", x1, sizeof x1);
    write_npy(path_of("case/test_data_set_1/input_1.npy"), 1,
              "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", z1, sizeof z1);
    const char *paths[] = {path_of("case")};
    onnorm_dataset *d = NULL;
    onnorm_error e;
    if (onnorm_dataset_open(m, paths, 1, &d, &e)) fail_msg("%s", e.message);
    assert_int_equal(onnorm_dataset_count(d), 2);
    assert_int_equal(onnorm_dataset_input_count(d), 2);
    onnorm_session *s = NULL;
    assert_int_equal(onnorm_session_create(m, NULL, &s, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_bind(d, 1, s, &e), ONNORM_OK);
    assert_int_equal(onnorm_session_run(s, &e), ONNORM_OK);
    onnorm_tensor y;
    assert_int_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
    for (int i = 0; i < 6; i++)
        assert_true(((float *)y.data)[i] == (x1[i] > 0 ? x1[i] : 0) + z1[i]);
    onnorm_session_free(s);
    onnorm_dataset_free(d);
    /* one input folder is one item */
    const char *one[] = {path_of("case/test_data_set_0")};
    assert_int_equal(onnorm_dataset_open(m, one, 1, &d, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_count(d), 1);
    onnorm_dataset_free(d);
    /* loose files are refused for a two-input model */
    const char *loose[] = {path_of("case/test_data_set_0/input_0.pb")};
    assert_int_equal(onnorm_dataset_open(m, loose, 1, &d, &e), ONNORM_ERR_INVALID);
    assert_msg_has(e, "takes 2 inputs");
    /* a missing input */
    mkdir(path_of("half"), 0755);
    write_pb(path_of("half/input_0.pb"), 2, (int64_t[]){1, 3}, x0);
    const char *half[] = {path_of("half")};
    assert_int_equal(onnorm_dataset_open(m, half, 1, &d, &e), ONNORM_ERR_INVALID);
    assert_msg_has(e, "no input_1.pb or input_1.npy");
    onnorm_model_free(m);
}

/* A model with a fixed batch of B: x float[B, 3] -> Relu -> y. */
static onnorm_model *fixed_batch_model(int64_t B)
{
    tb_model *b = tb_new(17);
    tb_input(b, "x", ONNORM_FLOAT, 2, (int64_t[]){B, 3});
    tb_node_add(b, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
    tb_output(b, "y", ONNORM_FLOAT);
    onnorm_model *m = NULL;
    onnorm_error e;
    if (tb_load(b, &m, &e)) fail_msg("load: %s", e.message);
    tb_free(b);
    return m;
}

static void dataset_fixed_batch_split(void **state)
{
    (void)state;
    float v[18];
    for (int i = 0; i < 18; i++)
        v[i] = (float)(i * (i % 2 ? -1 : 1));
    mkdir(path_of("fb"), 0755);
    write_npy(path_of("fb/a.npy"), 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }",
              v, 12 * sizeof(float));
    write_pb(path_of("fb/b.pb"), 2, (int64_t[]){6, 3}, v);
    write_pb(path_of("fb/c.pb"), 1, (int64_t[]){3}, v + 3); /* a sample */
    onnorm_model *m = fixed_batch_model(1);
    const char *paths[] = {path_of("fb")};
    onnorm_dataset *d = NULL;
    onnorm_error e;
    if (onnorm_dataset_open(m, paths, 1, &d, &e)) fail_msg("%s", e.message);
    /* batch 1: 4 + 6 + 1 runs */
    assert_int_equal(onnorm_dataset_count(d), 11);
    assert_non_null(strstr(onnorm_dataset_path(d, 5, 0), "fb/b.pb"));
    onnorm_tensor *t = NULL;
    assert_int_equal(onnorm_dataset_read(d, 6, 0, &t, &e), ONNORM_OK); /* b.pb row 2 */
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0], 1);
    assert_memory_equal(t->data, v + 6, 3 * sizeof(float));
    onnorm_tensor_free(t);
    onnorm_session *s = NULL;
    assert_int_equal(onnorm_session_create(m, NULL, &s, &e), ONNORM_OK);
    for (int item = 0; item < 11; item++) {
        /* rows 0..3 of a, 0..5 of b, then c (= row 1 of v) */
        const float *row = item < 4 ? v + 3 * item : item < 10 ? v + 3 * (item - 4) : v + 3;
        assert_int_equal(onnorm_dataset_bind(d, item, s, &e), ONNORM_OK);
        assert_int_equal(onnorm_session_run(s, &e), ONNORM_OK);
        onnorm_tensor y;
        assert_int_equal(onnorm_session_output(s, "y", &y, &e), ONNORM_OK);
        assert_int_equal(y.dims[0], 1);
        for (int i = 0; i < 3; i++)
            assert_true(((float *)y.data)[i] == (row[i] > 0 ? row[i] : 0));
    }
    onnorm_session_free(s);
    onnorm_dataset_free(d);
    onnorm_model_free(m);
    /* batch 2: a.npy is 2 runs, b.pb 3; the sample does not fit */
    m = fixed_batch_model(2);
    assert_int_equal(onnorm_dataset_open(m, paths, 1, &d, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_count(d), 6);
    assert_int_equal(onnorm_dataset_read(d, 3, 0, &t, &e), ONNORM_OK); /* b.pb rows 2, 3 */
    assert_int_equal(t->dims[0], 2);
    assert_memory_equal(t->data, v + 6, 6 * sizeof(float));
    onnorm_tensor_free(t);
    assert_int_equal(onnorm_dataset_read(d, 5, 0, &t, &e), ONNORM_ERR_SHAPE);
    assert_msg_has(e, "neither a batch");
    onnorm_dataset_free(d);
    /* batch 4: 6 rows are not a multiple */
    onnorm_model_free(m);
    m = fixed_batch_model(4);
    const char *b_only[] = {path_of("fb/b.pb")};
    assert_int_equal(onnorm_dataset_open(m, b_only, 1, &d, &e), ONNORM_OK);
    assert_int_equal(onnorm_dataset_count(d), 1);
    assert_int_equal(onnorm_dataset_read(d, 0, 0, &t, &e), ONNORM_ERR_SHAPE);
    assert_msg_has(e, "[4,3]");
    assert_msg_has(e, "[6,3]");
    onnorm_dataset_free(d);
    onnorm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(npy_float32_v1),
        cmocka_unit_test(npy_types_and_versions),
        cmocka_unit_test(npy_errors),
        cmocka_unit_test(npy_mutations),
        cmocka_unit_test(dataset_files_and_folders),
        cmocka_unit_test(dataset_multi_input),
        cmocka_unit_test(dataset_fixed_batch_split),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
