/* The one-node float32 test harness; see f32run.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "f32run.h"
#include "refnorm.h"

void fr_init(fr_harness *h, int opset)
{
    memset(h, 0, sizeof *h);
    h->b = tb_new(opset);
}

void fr_input(fr_harness *h, const char *name, int rank, const int64_t *dims, const float *data,
              int constant)
{
    if (constant) {
        tb_init(h->b, name, ONNORM_FLOAT, rank, dims, data);
        return;
    }
    tb_input(h->b, name, ONNORM_FLOAT, rank, dims);
    int i = h->n_feeds++;
    h->names[i] = name, h->ranks[i] = rank, h->data[i] = data;
    memcpy(h->dims[i], dims, (size_t)rank * sizeof *dims);
}

onnorm_status fr_run(fr_harness *h, int threads)
{
    tb_output(h->b, "Y", ONNORM_FLOAT);
    onnorm_status st = tb_load(h->b, &h->m, &h->e);
    tb_free(h->b);
    h->b = NULL;
    if (st) return st;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    if ((st = onnorm_session_create(h->m, &o, &h->s, &h->e))) return st;
    for (int i = 0; i < h->n_feeds; i++)
        if ((st = onnorm_session_bind_input(h->s, h->names[i], ONNORM_FLOAT, h->dims[i],
                                            h->ranks[i], h->data[i], &h->e)))
            return st;
    return onnorm_session_run(h->s, &h->e);
}

void fr_free(fr_harness *h)
{
    tb_free(h->b);
    onnorm_session_free(h->s);
    onnorm_model_free(h->m);
    memset(h, 0, sizeof *h);
}

void fr_expect(fr_harness *h, int rank, const int64_t *dims, const double *ref, double tol)
{
    onnorm_tensor t;
    if (onnorm_session_output(h->s, "Y", &t, &h->e)) fail_msg("output: %s", h->e.message);
    assert_int_equal(t.dtype, ONNORM_FLOAT);
    assert_int_equal(t.rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(t.dims[i], dims[i]);
    int64_t n = rn_prod(dims, 0, rank), at;
    double err = rn_max_err(t.data, 0, ref, n, &at);
    if (!(err <= tol))
        fail_msg("Y[%lld] = %.9g, reference %.9g (error %.3g)", (long long)at,
                 (double)((float *)t.data)[at], ref[at], err);
}

void fr_expect_fail(fr_harness *h, int threads, onnorm_status code, const char *needle)
{
    onnorm_status st = fr_run(h, threads);
    if (st != code) fail_msg("status %d, expected %d: %s", st, code, h->e.message);
    if (!strstr(h->e.message, needle)) fail_msg("message '%s' lacks '%s'", h->e.message, needle);
    fr_free(h);
}
