/* The shared harness of the normalization kernel tests; see normrun.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normrun.h"
#include "refnorm.h"

static double worst32, worst64;

onnorm_status nr_run_model(nr_run *r, tb_model *b, int threads, onnorm_dtype dt, int rank,
                           const int64_t *dims, const void *x)
{
    memset(r, 0, sizeof *r);
    onnorm_status st = tb_load(b, &r->m, &r->e);
    tb_free(b);
    if (st) return st;
    r->stage = 1;
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    if ((st = onnorm_session_create(r->m, &o, &r->s, &r->e))) return st;
    r->stage = 2;
    if (x && (st = onnorm_session_bind_input(r->s, "X", dt, dims, rank, x, &r->e))) return st;
    r->stage = 3;
    if ((st = onnorm_session_run(r->s, &r->e))) return st;
    r->stage = 4;
    return ONNORM_OK;
}

void nr_run_free(nr_run *r)
{
    onnorm_session_free(r->s);
    onnorm_model_free(r->m);
    r->s = NULL;
    r->m = NULL;
}

const void *nr_output(nr_run *r, const char *name, onnorm_dtype dt, int rank, const int64_t *dims)
{
    onnorm_tensor t;
    if (onnorm_session_output(r->s, name, &t, &r->e) != ONNORM_OK)
        fail_msg("output '%s': %s", name, r->e.message);
    assert_int_equal(t.dtype, dt);
    assert_int_equal(t.rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(t.dims[i], dims[i]);
    assert_non_null(t.data);
    return t.data;
}

void nr_expect_close_tol(const char *label, const char *what, const void *got, onnorm_dtype dt,
                         const double *ref, int64_t n, double tol_override)
{
    const int f64 = dt == ONNORM_DOUBLE;
    const double tol = tol_override > 0 ? tol_override : f64 ? NR_TOL64 : NR_TOL32;
    int64_t at;
    double err = rn_max_err(got, f64, ref, n, &at);
    if (tol_override <= 0 && f64 && err > worst64) worst64 = err;
    if (tol_override <= 0 && !f64 && err > worst32) worst32 = err;
    if (!(err <= tol))
        fail_msg("%s: %s[%lld] = %.17g, reference %.17g (error %.3g > %.3g)", label, what,
                 (long long)at, rn_get(got, f64, at), ref[at], err, tol);
}

void nr_expect_close(const char *label, const char *what, const void *got, onnorm_dtype dt,
                     const double *ref, int64_t n)
{
    nr_expect_close_tol(label, what, got, dt, ref, n, 0);
}

void nr_report_worst(void)
{
    if (getenv("ONNORM_TEST_VERBOSE"))
        printf("largest error: float32 %.3g, float64 %.3g\n", worst32, worst64);
}

void *nr_pack(onnorm_dtype dt, const double *d, int64_t n)
{
    size_t esz = dt == ONNORM_DOUBLE ? sizeof(double) : sizeof(float);
    void *p = malloc((size_t)(n ? n : 1) * esz);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        if (dt == ONNORM_DOUBLE)
            ((double *)p)[i] = d[i];
        else
            ((float *)p)[i] = (float)d[i];
    }
    return p;
}

double *nr_dalloc(int64_t n)
{
    double *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}
