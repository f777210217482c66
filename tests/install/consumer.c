/*
 * An out-of-tree consumer of the installed library (tests/install/
 * test_install.sh builds it with pkg-config and with find_package): runs
 * MODEL on the input INPUT.pb and compares the first output with
 * EXPECTED.pb. Prints "consumer ok <n> values max_abs=<d>" and exits 0
 * when every value is within 1e-4 + 1e-4 * |expected|.
 *
 * With -DWITH_OWN_ONNX_BINDINGS it also parses MODEL with its own
 * protobuf-c bindings of onnx.proto (onnx__* symbols of its own), which
 * must link next to libonnorm.a without a clash.
 */
#include <onnorm.h>

#include <math.h>
#include <stdio.h>

#ifdef WITH_OWN_ONNX_BINDINGS
#include "onnx.pb-c.h"

#include <stdlib.h>

static int own_node_count(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, buf);
    if (!m) return -1;
    int count = m->graph ? (int)m->graph->n_node : -1;
    onnx__model_proto__free_unpacked(m, NULL);
    return count;
}
#endif

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL INPUT.pb EXPECTED.pb\n", argv[0]);
        return 2;
    }
    onnorm_model *model = NULL;
    onnorm_session *session = NULL;
    onnorm_tensor *x = NULL, *want = NULL;
    onnorm_error err;
    int rc = 1;
    if (onnorm_model_load_file(argv[1], 0, &model, &err) ||
        onnorm_tensor_read_file(argv[2], &x, &err) ||
        onnorm_tensor_read_file(argv[3], &want, &err) ||
        onnorm_session_create(model, NULL, &session, &err) ||
        onnorm_session_bind_input(session, onnorm_model_input_name(model, 0), x->dtype, x->dims,
                                  x->rank, x->data, &err) ||
        onnorm_session_run(session, &err)) {
        fprintf(stderr, "consumer: %s\n", err.message);
        goto out;
    }
    onnorm_tensor y;
    if (onnorm_session_output(session, onnorm_model_output_name(model, 0), &y, &err)) {
        fprintf(stderr, "consumer: %s\n", err.message);
        goto out;
    }
    if (y.dtype != ONNORM_FLOAT || want->dtype != ONNORM_FLOAT || y.rank != want->rank) {
        fprintf(stderr, "consumer: output type or rank differs from the expected tensor\n");
        goto out;
    }
    size_t n = 1;
    for (int d = 0; d < y.rank; d++) {
        if (y.dims[d] != want->dims[d]) {
            fprintf(stderr, "consumer: output dim %d is %lld, expected %lld\n", d,
                    (long long)y.dims[d], (long long)want->dims[d]);
            goto out;
        }
        n *= (size_t)y.dims[d];
    }
    const float *a = y.data, *b = want->data;
    double max_abs = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (!(e <= 1e-4 + 1e-4 * fabs((double)b[i]))) {
            fprintf(stderr, "consumer: value %zu is %g, expected %g\n", i, a[i], b[i]);
            goto out;
        }
        if (e > max_abs) max_abs = e;
    }
#ifdef WITH_OWN_ONNX_BINDINGS
    int nodes = own_node_count(argv[1]);
    if (nodes <= 0) {
        fprintf(stderr, "consumer: its own onnx bindings could not parse %s\n", argv[1]);
        goto out;
    }
    printf("own bindings: %d nodes\n", nodes);
#endif
    printf("consumer ok %zu values max_abs=%g\n", n, max_abs);
    rc = 0;
out:
    onnorm_session_free(session);
    onnorm_model_free(model);
    onnorm_tensor_free(x);
    onnorm_tensor_free(want);
    return rc;
}
