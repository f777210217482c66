/* The run harness of the unit tests; see harness.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "refnorm.h"

/* Every check is a cmocka assertion; a failing one prints why first. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        const bool ok_ = (cond);                                                                   \
        if (!ok_) print_error(__VA_ARGS__);                                                        \
        assert_true(ok_);                                                                          \
    } while (0)

static const char *const stage_names[] = {"load", "session", "bind", "run", "done"};

static double worst32, worst64;

th_tensor th_in(const char *name, onnorm_dtype dt, int rank, const int64_t *dims, const void *data)
{
    th_tensor t = {.name = name, .dt = dt, .rank = rank, .data = data};
    assert_true(rank <= ONNORM_MAX_RANK);
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    return t;
}

th_tensor th_const(const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                   const void *data)
{
    th_tensor t = th_in(name, dt, rank, dims, data);
    t.constant = true;
    return t;
}

/* ---- building ------------------------------------------------------------------ */

tb_model *th_new(th_run *r, int64_t opset)
{
    memset(r, 0, sizeof *r);
    return tb_new(opset);
}

void th_add(th_run *r, tb_model *b, th_tensor t)
{
    if (!t.name[0]) return;
    if (t.constant) {
        tb_init(b, t.name, t.dt, t.rank, t.dims, t.data);
        return;
    }
    tb_input(b, t.name, t.dt, t.rank, t.dims);
    assert_true(r->n_feeds < TH_MAX_FEEDS);
    r->feeds[r->n_feeds++] = t;
}

tb_model *th_node_model(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                        onnorm_dtype ydt, tb_node **node)
{
    tb_model *b = th_new(r, opset);
    const char *names[16];
    assert_true(n <= 16);
    for (int i = 0; i < n; i++) {
        names[i] = in[i].name;
        th_add(r, b, in[i]);
    }
    tb_node *nd = tb_node_add(b, op, "n", n, names, 1, (const char *[]){"Y"});
    if (node) *node = nd;
    tb_output(b, "Y", ydt);
    return b;
}

/* ---- loading and optimizing ---------------------------------------------------- */

onnorm_model *th_load(tb_model *b)
{
    onnorm_model *m = NULL;
    onnorm_error e;
    onnorm_status st = tb_load(b, &m, &e);
    tb_free(b);
    CHECK(st == ONNORM_OK, "load: %s\n", e.message);
    return m;
}

onnorm_model *th_optimize(const onnorm_model *m, char *report, size_t len)
{
    onnorm_optimize_options o;
    onnorm_optimize_options_init(&o);
    onnorm_model *opt = NULL;
    onnorm_error e;
    onnorm_status st = onnorm_model_optimize(m, &o, &opt, report, len, &e);
    CHECK(st == ONNORM_OK, "optimize: %s\n", e.message);
    return opt;
}

int th_count_op(const onnorm_model *m, const char *op, int *kernel_version)
{
    int count = 0;
    for (int i = 0; i < onnorm_model_node_count(m); i++) {
        const char *type;
        int kv;
        onnorm_model_node(m, i, NULL, &type, NULL, &kv);
        if (strcmp(type, op) == 0) {
            count++;
            if (kernel_version) *kernel_version = kv;
        }
    }
    return count;
}

onnorm_model *th_expect_fusion(const onnorm_model *m, const char *op, int count, int nodes,
                               const char *note, const char *label)
{
    char report[8192];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    const int got = th_count_op(opt, op, NULL), n = onnorm_model_node_count(opt);
    if (got != count || n != nodes)
        fail_msg("%s: %d %s in %d nodes, want %d in %d\n%s", label, got, op, n, count, nodes,
                 report);
    if (note && !strstr(report, note))
        fail_msg("%s: the report lacks '%s':\n%s", label, note, report);
    return opt;
}

void th_expect_pass_off(onnorm_model *m, const char *pass, const char *fused, const char *kept,
                        int kept_count)
{
    onnorm_model *opt;
    onnorm_optimize_options o;
    onnorm_optimize_options_init(&o);
    o.disabled_passes = pass;
    onnorm_error e;
    assert_int_equal(onnorm_model_optimize(m, &o, &opt, NULL, 0, &e), ONNORM_OK);
    assert_int_equal(th_count_op(opt, fused, NULL), 0);
    assert_int_equal(th_count_op(opt, kept, NULL), kept_count);
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

/* ---- running ------------------------------------------------------------------- */

onnorm_session_options th_options(int threads, int optimization_level)
{
    onnorm_session_options o;
    onnorm_session_options_init(&o);
    o.num_threads = threads;
    o.optimization_level = optimization_level;
    return o;
}

static onnorm_status create(th_run *r, const onnorm_session_options *o)
{
    r->stage = TH_CREATE;
    return onnorm_session_create(r->m, o, &r->s, &r->e);
}

/* Loads b (and frees it) and creates the session. */
static onnorm_status open_model(th_run *r, tb_model *b, int threads)
{
    r->stage = TH_LOAD;
    onnorm_status st = tb_load(b, &r->m, &r->e);
    tb_free(b);
    if (st) return st;
    onnorm_session_options o = th_options(threads, 1);
    return create(r, &o);
}

static onnorm_status bind_and_run(th_run *r, int n, const th_tensor *in)
{
    r->stage = TH_BIND;
    for (int i = 0; i < n; i++) {
        const th_tensor *t = &in[i];
        if (!t->name[0] || t->constant) continue;
        onnorm_status st =
            onnorm_session_bind_input(r->s, t->name, t->dt, t->dims, t->rank, t->data, &r->e);
        if (st) return st;
    }
    r->stage = TH_RUN;
    onnorm_status st = onnorm_session_run(r->s, &r->e);
    if (!st) r->stage = TH_DONE;
    return st;
}

onnorm_status th_go(th_run *r, tb_model *b, int threads)
{
    onnorm_status st = open_model(r, b, threads);
    return st ? st : bind_and_run(r, r->n_feeds, r->feeds);
}

onnorm_status th_run_model(th_run *r, tb_model *b, int threads, int n, const th_tensor *in)
{
    memset(r, 0, sizeof *r);
    onnorm_status st = open_model(r, b, threads);
    return st ? st : bind_and_run(r, n, in);
}

onnorm_status th_run_x(th_run *r, tb_model *b, int threads, onnorm_dtype dt, int rank,
                       const int64_t *dims, const void *x)
{
    th_tensor t = th_in("X", dt, rank, dims, x);
    return th_run_model(r, b, threads, x ? 1 : 0, &t);
}

onnorm_status th_run_loaded(th_run *r, const onnorm_model *m, const onnorm_session_options *o,
                            int n, const th_tensor *in)
{
    memset(r, 0, sizeof *r);
    r->m = (onnorm_model *)m;
    r->borrowed = true;
    onnorm_status st = create(r, o);
    return st ? st : bind_and_run(r, n, in);
}

onnorm_status th_open(th_run *r, tb_model *b, int threads)
{
    memset(r, 0, sizeof *r);
    return open_model(r, b, threads);
}

onnorm_status th_rerun(th_run *r, int n, const th_tensor *in)
{
    return bind_and_run(r, n, in);
}

void th_free(th_run *r)
{
    onnorm_session_free(r->s);
    if (!r->borrowed) onnorm_model_free(r->m);
    r->s = NULL;
    r->m = NULL;
}

/* ---- expecting a status -------------------------------------------------------- */

void th_expect_status(const th_run *r, onnorm_status st, onnorm_status want, const char *needle)
{
    CHECK(want == TH_ANY_ERROR ? st != ONNORM_OK : st == want, "expected %s, got %s (%s: %s)\n",
          want == TH_ANY_ERROR ? "a failure" : onnorm_status_str(want), onnorm_status_str(st),
          stage_names[r->stage], st ? r->e.message : "");
    if (st == ONNORM_OK) return;
    CHECK(r->e.message[0] != '\0', "a %s failure without a message\n", stage_names[r->stage]);
    if (needle)
        CHECK(strstr(r->e.message, needle) != NULL, "message '%s' lacks '%s'\n", r->e.message,
              needle);
}

void th_ok(const th_run *r, onnorm_status st, const char *what)
{
    CHECK(st == ONNORM_OK, "%s: %s at %s: %s\n", what, onnorm_status_str(st), stage_names[r->stage],
          r->e.message);
}

th_stage th_go_fails(th_run *r, tb_model *b, int threads, onnorm_status want, const char *needle)
{
    th_expect_status(r, th_go(r, b, threads), want, needle);
    th_free(r);
    return r->stage;
}

/* ---- outputs and references ------------------------------------------------------ */

onnorm_tensor th_out(th_run *r, const char *name)
{
    onnorm_tensor t;
    onnorm_status st = onnorm_session_output(r->s, name, &t, &r->e);
    CHECK(st == ONNORM_OK, "output '%s': %s\n", name, r->e.message);
    return t;
}

const void *th_output(th_run *r, const char *name, onnorm_dtype dt, int rank, const int64_t *dims)
{
    onnorm_tensor t = th_out(r, name);
    assert_int_equal(t.dtype, dt);
    assert_int_equal(t.rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(t.dims[i], dims[i]);
    assert_non_null(t.data);
    return t.data;
}

double th_value(onnorm_dtype dt, const void *p, int64_t i)
{
    switch (dt) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_INT8: return ((const int8_t *)p)[i];
    case ONNORM_UINT8:
    case ONNORM_BOOL: return ((const uint8_t *)p)[i];
    case ONNORM_INT16: return ((const int16_t *)p)[i];
    case ONNORM_UINT16: return ((const uint16_t *)p)[i];
    case ONNORM_INT32: return ((const int32_t *)p)[i];
    case ONNORM_UINT32: return ((const uint32_t *)p)[i];
    case ONNORM_INT64: return (double)((const int64_t *)p)[i];
    case ONNORM_UINT64: return (double)((const uint64_t *)p)[i];
    default: fail_msg("th_value: element type %s", onnorm_dtype_name(dt));
    }
    return 0;
}

/* |g - ref| / (1 + |ref|), with non-finite values equal only to themselves. */
static double rel_err(double g, double ref)
{
    if (isnan(g) || isnan(ref)) return isnan(g) && isnan(ref) ? 0.0 : INFINITY;
    if (!isfinite(g) || !isfinite(ref)) return g == ref ? 0.0 : INFINITY;
    return fabs(g - ref) / (1.0 + fabs(ref));
}

void th_expect_close(const char *label, const char *what, const void *got, onnorm_dtype dt,
                     const double *ref, int64_t n, double tol)
{
    const bool dflt = tol <= 0;
    if (dflt) tol = dt == ONNORM_DOUBLE ? TH_TOL64 : TH_TOL32;
    double err = 0.0;
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = rel_err(th_value(dt, got, i), ref[i]);
        if (e > err) err = e, at = i;
    }
    double *worst = dt == ONNORM_DOUBLE ? &worst64 : &worst32;
    if (dflt && err > *worst) *worst = err;
    CHECK(err <= tol, "%s: %s[%lld] = %.17g, reference %.17g (error %.3g > %.3g)\n", label, what,
          (long long)at, n ? th_value(dt, got, at) : 0.0, n ? ref[at] : 0.0, err, tol);
}

void th_expect_output(th_run *r, const char *label, const char *name, onnorm_dtype dt, int rank,
                      const int64_t *dims, const double *ref, double tol)
{
    const void *got = th_output(r, name, dt, rank, dims);
    th_expect_close(label, name, got, dt, ref, rn_prod(dims, 0, rank), tol);
}

void th_expect_same_output(th_run *want, th_run *got, const char *name, double atol, double rtol,
                           unsigned flags)
{
    onnorm_tensor w = th_out(want, name), g = th_out(got, name);
    assert_int_equal(g.dtype, w.dtype);
    assert_int_equal(g.rank, w.rank);
    for (int i = 0; i < w.rank; i++)
        assert_int_equal(g.dims[i], w.dims[i]);
    const int64_t n = onnorm_tensor_numel(&w);
    const size_t esz = onnorm_dtype_size(w.dtype);
    int64_t bad = -1;
    for (int64_t i = 0; i < n && bad < 0; i++) {
        if (flags & TH_BITWISE) {
            if (memcmp((const char *)w.data + i * esz, (const char *)g.data + i * esz, esz))
                bad = i;
            continue;
        }
        const double wv = th_value(w.dtype, w.data, i), gv = th_value(g.dtype, g.data, i);
        if ((flags & TH_NAN_EQUAL) && isnan(wv) && isnan(gv)) continue;
        if (!(fabs(gv - wv) <= atol + rtol * fabs(wv))) bad = i;
    }
    CHECK(bad < 0, "output '%s'[%lld]: got %.9g, want %.9g\n", name, (long long)bad,
          bad < 0 ? 0.0 : th_value(g.dtype, g.data, bad),
          bad < 0 ? 0.0 : th_value(w.dtype, w.data, bad));
}

void th_expect_same_outputs(th_run *want, th_run *got, double atol, double rtol, unsigned flags)
{
    const int n = onnorm_model_output_count(want->m);
    assert_int_equal(onnorm_model_output_count(got->m), n);
    for (int i = 0; i < n; i++) {
        const char *name = onnorm_model_output_name(want->m, i);
        assert_string_equal(onnorm_model_output_name(got->m, i), name);
        th_expect_same_output(want, got, name, atol, rtol, flags);
    }
}

void th_report_worst(void)
{
    if (getenv("ONNORM_TEST_VERBOSE"))
        printf("largest error: float32 %.3g, float64 %.3g\n", worst32, worst64);
}

/* ---- data ---------------------------------------------------------------------- */

double *th_dalloc(int64_t n)
{
    double *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    assert_non_null(p);
    return p;
}

void *th_pack(onnorm_dtype dt, const double *d, int64_t n)
{
    const bool f64 = dt == ONNORM_DOUBLE;
    void *p = malloc((size_t)(n > 0 ? n : 1) * (f64 ? sizeof(double) : sizeof(float)));
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        if (f64)
            ((double *)p)[i] = d[i];
        else
            ((float *)p)[i] = (float)d[i];
    }
    return p;
}

float *th_randf(uint64_t seed, int64_t n)
{
    rn_rng r;
    rn_seed(&r, seed);
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)rn_uniform(&r, -1.0, 1.0);
    return p;
}
