/*
 * Concurrency under stress (issue 15): one model (testdata/torch/
 * resnet_opset13, a small PyTorch-exported ResNet: Conv, BatchNorm, Relu,
 * MaxPool, Add, GlobalAveragePool, Gemm), 8 sessions on 8 pthreads, every
 * session running many times over 16 different inputs bound in a
 * per-thread order, and every output compared bit for bit with the result
 * the same input gave a session of the same thread count running alone.
 * Six sessions use 1 OpenMP thread and two use 2, all running at once.
 *
 * Decisions where the issue is silent:
 *  - the references are per thread count: a reduction split over 2 threads
 *    may round differently from 1 thread, so a 2-thread session is compared
 *    with a 2-thread reference (and the two references are compared with
 *    each other within a tolerance, not bitwise);
 *  - the anchor: the 1-thread reference for the folder's own input matches
 *    the folder's PyTorch output (rtol 1e-4, atol 1e-5), so the values being
 *    compared are right, not only repeatable;
 *  - runs: 8 x 1000 = 8000 by default; ONNORM_STRESS_RUNS sets the runs per
 *    thread (the TSan run uses fewer: it is ~20x slower).
 */
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

#include "onnorm.h"

enum { N_THREADS = 8, N_INPUTS = 16, N_TWO_THREAD = 2 };

typedef struct stress {
    onnorm_model *m;
    int64_t dims[ONNORM_MAX_RANK];
    int rank;
    size_t in_numel, out_numel;
    float *inputs[N_INPUTS];
    float *want[3][N_INPUTS]; /* [threads][input]: references for 1 and 2 threads */
} stress;

typedef struct worker {
    stress *st;
    int id, threads, runs;
    int runs_done, mismatches, errors;
    char msg[1100];
} worker;

static char root[4096];

static const char *testdata(void)
{
    const char *r = getenv("ONNORM_TESTDATA");
    snprintf(root, sizeof root, "%s/torch/resnet_opset13", r ? r : "testdata");
    return root;
}

static onnorm_session *new_session(const onnorm_model *m, int threads, onnorm_error *e)
{
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    onnorm_session *s = NULL;
    if (onnorm_session_create(m, &o, &s, e)) return NULL;
    return s;
}

/* Runs s on x and copies output 0 into out. */
static onnorm_status run_once(onnorm_session *s, const stress *st, const float *x, float *out,
                              onnorm_error *e)
{
    onnorm_status rc = onnorm_session_bind_input(s, onnorm_model_input_name(st->m, 0), ONNORM_FLOAT,
                                                 st->dims, st->rank, x, e);
    if (!rc) rc = onnorm_session_run(s, e);
    onnorm_tensor y;
    if (!rc) rc = onnorm_session_output(s, onnorm_model_output_name(st->m, 0), &y, e);
    if (!rc && (size_t)onnorm_tensor_numel(&y) != st->out_numel) rc = ONNORM_ERR_SHAPE;
    if (!rc) memcpy(out, y.data, st->out_numel * sizeof(float));
    return rc;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    stress *st = w->st;
    onnorm_error e;
    onnorm_session *s = new_session(st->m, w->threads, &e);
    float *out = malloc(st->out_numel * sizeof *out);
    if (!s || !out) {
        w->errors++;
        snprintf(w->msg, sizeof w->msg, "session: %s", s ? "out of memory" : e.message);
    }
    /* A per-thread order over the inputs: stride coprime with 16. */
    const int stride = 2 * w->id + 1;
    for (int r = 0; !w->errors && r < w->runs; r++) {
        const int k = (w->id + r * stride) % N_INPUTS;
        if (run_once(s, st, st->inputs[k], out, &e)) {
            w->errors++;
            snprintf(w->msg, sizeof w->msg, "run %d: %s", r, e.message);
            break;
        }
        if (memcmp(out, st->want[w->threads][k], st->out_numel * sizeof *out)) w->mismatches++;
        w->runs_done++;
    }
    free(out);
    onnorm_session_free(s);
    return NULL;
}

static void eight_sessions_match_serial(void **state)
{
    (void)state;
    static stress st;
    char path[4200];
    onnorm_error e;
    snprintf(path, sizeof path, "%s/model.onnx", testdata());
    if (onnorm_model_load_file(path, 0, &st.m, &e)) fail_msg("%s", e.message);
    onnorm_tensor info;
    assert_int_equal(onnorm_model_input_info(st.m, 0, &info), ONNORM_OK);
    st.rank = info.rank;
    st.in_numel = 1;
    for (int d = 0; d < info.rank; d++) {
        assert_true(info.dims[d] > 0);
        st.dims[d] = info.dims[d];
        st.in_numel *= (size_t)info.dims[d];
    }
    /* Input 0 is the folder's; the others are a fixed pseudo-random series. */
    onnorm_tensor *x0 = NULL, *y0 = NULL;
    snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", testdata());
    if (onnorm_tensor_read_file(path, &x0, &e)) fail_msg("%s", e.message);
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", testdata());
    if (onnorm_tensor_read_file(path, &y0, &e)) fail_msg("%s", e.message);
    assert_int_equal((size_t)onnorm_tensor_numel(x0), st.in_numel);
    st.out_numel = (size_t)onnorm_tensor_numel(y0);
    uint32_t seed = 2463534242u;
    for (int k = 0; k < N_INPUTS; k++) {
        st.inputs[k] = malloc(st.in_numel * sizeof(float));
        assert_non_null(st.inputs[k]);
        for (size_t i = 0; i < st.in_numel; i++) {
            seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
            st.inputs[k][i] =
                k == 0 ? ((const float *)x0->data)[i] : (float)(seed >> 8) / 8388608.0f - 1.0f;
        }
    }
    /* References, one session per thread count, alone. */
    for (int t = 1; t <= 2; t++) {
        onnorm_session *s = new_session(st.m, t, &e);
        if (!s) fail_msg("%s", e.message);
        for (int k = 0; k < N_INPUTS; k++) {
            st.want[t][k] = malloc(st.out_numel * sizeof(float));
            if (run_once(s, &st, st.inputs[k], st.want[t][k], &e)) fail_msg("%s", e.message);
        }
        onnorm_session_free(s);
    }
    /* The anchor: PyTorch's output for input 0; and 1 vs 2 threads. */
    const float *ref = y0->data;
    for (size_t i = 0; i < st.out_numel; i++) {
        if (fabsf(st.want[1][0][i] - ref[i]) > 1e-5f + 1e-4f * fabsf(ref[i]))
            fail_msg("output %zu: %g, PyTorch %g", i, st.want[1][0][i], ref[i]);
        for (int k = 0; k < N_INPUTS; k++)
            if (fabsf(st.want[1][k][i] - st.want[2][k][i]) >
                1e-5f + 1e-4f * fabsf(st.want[1][k][i]))
                fail_msg("input %d output %zu: 1 thread %g, 2 threads %g", k, i, st.want[1][k][i],
                         st.want[2][k][i]);
    }
    /* The inputs differ, and so do their outputs. */
    assert_true(memcmp(st.want[1][0], st.want[1][1], st.out_numel * sizeof(float)) != 0);
    const char *env = getenv("ONNORM_STRESS_RUNS");
    const int runs = env && atoi(env) > 0 ? atoi(env) : 1000;
    worker w[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){
            .st = &st, .id = i, .threads = i < N_THREADS - N_TWO_THREAD ? 1 : 2, .runs = runs};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N_THREADS; i++) {
        if (w[i].errors) fail_msg("thread %d: %s", i, w[i].msg);
        if (w[i].mismatches)
            fail_msg("thread %d (%d OpenMP threads): %d of %d runs differ from the reference", i,
                     w[i].threads, w[i].mismatches, w[i].runs_done);
        total += w[i].runs_done;
    }
    assert_int_equal(total, N_THREADS * runs);
    printf("stress: %d runs on %d sessions, all bitwise equal to the serial references\n", total,
           N_THREADS);
    for (int k = 0; k < N_INPUTS; k++) {
        free(st.inputs[k]);
        free(st.want[1][k]);
        free(st.want[2][k]);
    }
    onnorm_tensor_free(x0);
    onnorm_tensor_free(y0);
    onnorm_model_free(st.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eight_sessions_match_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
