/*
 * The statistics and affine loops of every instruction-set variant
 * (ops/norm/moments.h), each called directly through its table, against a
 * float64 reference written here: for float32, float64, float16 and
 * bfloat16 data, lengths around the vector and block boundaries, a large
 * common offset, and the streaming path. A variant this CPU cannot run is
 * skipped with the reason printed.
 *
 * Then the same through whole models: the environment variable ONNORM_ISA
 * pins the variant kernels choose at prepare, and LayerNormalization,
 * GroupNormalization and InstanceNormalization run under each supported
 * one.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
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
#include "ops/half.h"
#include "ops/norm/moments.h"
#include "refnorm.h"

static const onnorm_dtype types[] = {ONNORM_FLOAT, ONNORM_DOUBLE, ONNORM_FLOAT16, ONNORM_BFLOAT16};
/* Around 4-way splits, 8- and 16-lane vectors and the 1024-element blocks. */
static const int64_t lengths[] = {1, 3, 4, 7, 15, 16, 17, 33, 64, 255, 1023, 1024, 1025, 4099};

/* The variant under test (cmocka state), or a skip with the reason. */
static const onn_moments *variant(void **state)
{
    onn_isa isa = (onn_isa)(intptr_t)*state;
    const onn_moments *mo = onn_moments_get(isa);
    if (!mo) {
        printf("[ SKIPPED  ] %s: this CPU (or build) has no %s\n", onn_isa_name(isa),
               onn_isa_name(isa));
        skip();
    }
    assert_int_equal(mo->isa, isa);
    return mo;
}

/* Typed storage for n values; *stored receives what the buffer really holds
 * (the value after rounding to the element type). */
static void *pack(onnorm_dtype t, const double *v, int64_t n, double *stored)
{
    void *p = malloc((size_t)n * 8 + 64);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        switch (t) {
        case ONNORM_FLOAT: ((float *)p)[i] = (float)v[i], stored[i] = (float)v[i]; break;
        case ONNORM_DOUBLE: ((double *)p)[i] = v[i], stored[i] = v[i]; break;
        case ONNORM_FLOAT16:
            ((uint16_t *)p)[i] = onn_f32_to_f16((float)v[i]);
            stored[i] = onn_f16_to_f32(((uint16_t *)p)[i]);
            break;
        default:
            ((uint16_t *)p)[i] = onn_f32_to_bf16((float)v[i]);
            stored[i] = onn_bf16_to_f32(((uint16_t *)p)[i]);
        }
    }
    return p;
}

static double get(onnorm_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ONNORM_FLOAT: return ((const float *)p)[i];
    case ONNORM_DOUBLE: return ((const double *)p)[i];
    case ONNORM_FLOAT16: return onn_f16_to_f32(((const uint16_t *)p)[i]);
    default: return onn_bf16_to_f32(((const uint16_t *)p)[i]);
    }
}

/* Relative precision of one rounding to type t. */
static double ulp(onnorm_dtype t)
{
    switch (t) {
    case ONNORM_FLOAT: return 0x1p-23;
    case ONNORM_DOUBLE: return 0x1p-52;
    case ONNORM_FLOAT16: return 0x1p-10;
    default: return 0x1p-7;
    }
}

static void ref_moments(const double *x, int64_t n, double *mean, double *var)
{
    double s = 0, q = 0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++)
        q += (x[i] - *mean) * (x[i] - *mean);
    *var = q / (double)n;
}

static void expect_near(const char *what, onnorm_dtype t, int64_t n, double got, double want,
                        double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s (%s, n = %lld): %.17g, reference %.17g (error %.3g > %.3g)", what,
                 onnorm_dtype_name(t), (long long)n, got, want, fabs(got - want), tol);
}

/* acc_add, split into two calls so the shift carries over, in both the
 * float-block (fast) and double modes; data = 1000 + N(0, 1), whose mean
 * is large against its spread. */
static void statistics(void **state)
{
    const onn_moments *mo = variant(state);
    rn_rng r;
    rn_seed(&r, 7);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            const onnorm_dtype t = types[ti];
            const int64_t n = lengths[li], half = n / 2;
            double *v = malloc((size_t)n * sizeof *v), *x = malloc((size_t)n * sizeof *x);
            assert_true(v && x);
            rn_fill_normal(&r, v, n, 1000.0, 1.0, 0);
            void *p = pack(t, v, n, x);
            double m_ref, v_ref, ss = 0, sa = 0;
            ref_moments(x, n, &m_ref, &v_ref);
            for (int64_t i = 0; i < n; i++)
                ss += x[i] * x[i], sa += fabs(x[i]);
            for (int fast = 0; fast < 2; fast++) {
                onn_acc acc;
                double mean, var;
                onn_acc_init(&acc);
                mo->acc_add(t, p, 0, half, &acc, fast);
                mo->acc_add(t, p, half, n - half, &acc, fast);
                onn_acc_result(&acc, &mean, &var);
                assert_int_equal(acc.n, n);
                /* Float blocks keep ~24 bits of each deviation from the shift. */
                const double dev = fast && t == ONNORM_FLOAT ? 1e-6 : 1e-12;
                expect_near("mean", t, n, mean, m_ref, dev * (1 + fabs(m_ref)));
                expect_near("variance", t, n, var, v_ref, 16 * dev * (1 + v_ref));
                double sq = mo->sum_squares(t, p, 0, n, fast);
                expect_near("sum of squares", t, n, sq, ss,
                            (fast && t == ONNORM_FLOAT ? 1e-6 : 1e-13) * ss);
            }
            expect_near("sum of |x|", t, n, mo->sum_abs(t, p, 0, n), sa, 1e-13 * sa);
            free(p), free(v), free(x);
        }
}

/* A constant slice has exactly its value as mean and 0 as variance. */
static void constant_slices(void **state)
{
    const onn_moments *mo = variant(state);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const int64_t n = 1025;
        double *v = malloc((size_t)n * sizeof *v), *x = malloc((size_t)n * sizeof *x);
        assert_true(v && x);
        for (int64_t i = 0; i < n; i++)
            v[i] = 12345.6789;
        void *p = pack(types[ti], v, n, x);
        for (int fast = 0; fast < 2; fast++) {
            onn_acc acc;
            double mean, var;
            onn_acc_init(&acc);
            mo->acc_add(types[ti], p, 0, n, &acc, fast);
            onn_acc_result(&acc, &mean, &var);
            assert_true(mean == x[0]);
            assert_true(var == 0.0);
        }
        free(p), free(v), free(x);
    }
}

/* affine and affine_vec against (x - mean) * s * g + b in double, the
 * result rounded once to the type: a few roundings of float arithmetic
 * plus the final one. With stream > 0 (float32 only) the streaming stores
 * run, including an unaligned start. */
static void affine(void **state)
{
    const onn_moments *mo = variant(state);
    rn_rng r;
    rn_seed(&r, 11);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++)
            for (int stream = 0; stream < 2; stream++) {
                const onnorm_dtype t = types[ti];
                const int64_t n = lengths[li], off = 3; /* an unaligned row start */
                double *v = malloc((size_t)(n + off) * sizeof *v);
                double *x = malloc((size_t)(n + off) * sizeof *x);
                double *gb = malloc((size_t)(2 * n) * sizeof *gb);
                double *gbs = malloc((size_t)(2 * n) * sizeof *gbs);
                assert_true(v && x && gb && gbs);
                rn_fill_normal(&r, v, n + off, 50.0, 3.0, 0);
                rn_fill_uniform(&r, gb, 2 * n, -2.0, 2.0, 0);
                void *px = pack(t, v, n + off, x);
                void *pg = pack(t, gb, n, gbs), *pb = pack(t, gb + n, n, gbs + n);
                void *py = malloc((size_t)(n + off) * 8 + 64);
                assert_non_null(py);
                const double mean = 50.123456789, s = 0.3456789, b = -1.25;
                const int64_t ahead = stream ? n : 0;
                /* The float arithmetic of x - mean near 50 with |x - mean| up
                 * to ~15, scaled by up to 2: a few ulps of 50 * s. */
                const double tol =
                    8 * ulp(t == ONNORM_DOUBLE ? t : ONNORM_FLOAT) * 60 + ulp(t) * 32;
                mo->affine(t, px, py, off, n, mean, s, b, ahead);
                for (int64_t i = 0; i < n; i++)
                    expect_near("affine", t, n, get(t, py, off + i), (x[off + i] - mean) * s + b,
                                tol);
                for (int with_beta = 0; with_beta < 2; with_beta++) {
                    mo->affine_vec(t, px, py, off, n, mean, s, pg, with_beta ? pb : NULL, ahead);
                    for (int64_t i = 0; i < n; i++)
                        expect_near("affine_vec", t, n, get(t, py, off + i),
                                    (x[off + i] - mean) * s * gbs[i] + (with_beta ? gbs[n + i] : 0),
                                    2 * tol);
                }
                free(v), free(x), free(gb), free(gbs), free(px), free(pg), free(pb), free(py);
            }
}

/* Every supported variant gives the scalar variant's statistics to within
 * the reassociation of its sums. */
static void variants_agree(void **state)
{
    const onn_moments *mo = variant(state), *ref = onn_moments_get(ONN_ISA_SCALAR);
    rn_rng r;
    rn_seed(&r, 3);
    const int64_t n = 100003;
    double *v = malloc((size_t)n * sizeof *v), *x = malloc((size_t)n * sizeof *x);
    assert_true(v && x);
    rn_fill_normal(&r, v, n, -7.0, 0.01, 1);
    float *p = pack(ONNORM_FLOAT, v, n, x);
    for (int fast = 0; fast < 2; fast++) {
        onn_acc a, b;
        double ma, va, mb, vb;
        onn_acc_init(&a), onn_acc_init(&b);
        mo->acc_add(ONNORM_FLOAT, p, 0, n, &a, fast);
        ref->acc_add(ONNORM_FLOAT, p, 0, n, &b, fast);
        onn_acc_result(&a, &ma, &va);
        onn_acc_result(&b, &mb, &vb);
        expect_near("mean vs scalar", ONNORM_FLOAT, n, ma, mb, 1e-9);
        expect_near("variance vs scalar", ONNORM_FLOAT, n, va, vb, 1e-7 * vb);
    }
    free(p), free(v), free(x);
}

/* ---- whole models under ONNORM_ISA ------------------------------------------------ */

/* LayerNormalization (opset 17), GroupNormalization (opset 21, 4 groups)
 * and InstanceNormalization with the variant pinned, on 1000 + N(0, 1)
 * data, against the float64 reference. Rows of 4099 elements run the
 * vector bodies, their tails and several float blocks. */
static void models_pinned(void **state)
{
    const onn_moments *mo = variant(state);
    setenv("ONNORM_ISA", onn_isa_name(mo->isa), 1);
    assert_int_equal(onn_isa_active(), mo->isa);
    const int64_t dims[3] = {2, 8, 4099}, n = 2 * 8 * 4099, pdims[1] = {8};
    rn_rng r;
    rn_seed(&r, 5);
    double *x = th_dalloc(n), *y = th_dalloc(n), *g = th_dalloc(4099), *b = th_dalloc(4099);
    rn_fill_normal(&r, x, n, 1000.0, 1.0, 1);
    rn_fill_uniform(&r, g, 4099, 0.5, 1.5, 1);
    rn_fill_uniform(&r, b, 4099, -1.0, 1.0, 1);
    float *xf = th_pack(ONNORM_FLOAT, x, n), *gf = th_pack(ONNORM_FLOAT, g, 4099),
          *bf = th_pack(ONNORM_FLOAT, b, 4099);
    th_run run;
    const int64_t ldims[1] = {4099};
    const th_tensor ln_in[3] = {th_in("X", ONNORM_FLOAT, 3, dims, xf),
                                th_const("S", ONNORM_FLOAT, 1, ldims, gf),
                                th_const("B", ONNORM_FLOAT, 1, ldims, bf)};
    tb_model *m = th_node_model(&run, 17, "LayerNormalization", 3, ln_in, ONNORM_FLOAT, NULL);
    TH_OK(&run, th_go(&run, m, 2));
    ref_layernorm(x, 3, dims, -1, g, b, 1e-5, y, NULL, NULL);
    th_expect_output(&run, onn_isa_name(mo->isa), "Y", ONNORM_FLOAT, 3, dims, y, 0);
    th_free(&run);

    const th_tensor gn_in[3] = {th_in("X", ONNORM_FLOAT, 3, dims, xf),
                                th_const("S", ONNORM_FLOAT, 1, pdims, gf),
                                th_const("B", ONNORM_FLOAT, 1, pdims, bf)};
    tb_node *node;
    m = th_node_model(&run, 21, "GroupNormalization", 3, gn_in, ONNORM_FLOAT, &node);
    tb_attr_int(node, "num_groups", 4);
    TH_OK(&run, th_go(&run, m, 2));
    ref_groupnorm(x, 3, dims, 4, 21, g, b, 1e-5, y);
    th_expect_output(&run, onn_isa_name(mo->isa), "Y", ONNORM_FLOAT, 3, dims, y, 0);
    th_free(&run);

    m = th_node_model(&run, 6, "InstanceNormalization", 3, gn_in, ONNORM_FLOAT, NULL);
    TH_OK(&run, th_go(&run, m, 1));
    ref_instancenorm(x, 3, dims, g, b, 1e-5, y);
    th_expect_output(&run, onn_isa_name(mo->isa), "Y", ONNORM_FLOAT, 3, dims, y, 0);
    th_free(&run);
    unsetenv("ONNORM_ISA");
    free(x), free(y), free(g), free(b), free(xf), free(gf), free(bf);
}

/* A variant the CPU lacks, or an unknown name, leaves the best one. */
static void unsupported_pin_is_ignored(void **state)
{
    (void)state;
    onn_isa best = onn_isa_active();
    setenv("ONNORM_ISA", "no-such-isa", 1);
    assert_int_equal(onn_isa_active(), best);
    for (int i = 0; i < ONN_ISA_COUNT; i++) {
        setenv("ONNORM_ISA", onn_isa_name((onn_isa)i), 1);
        assert_int_equal(onn_isa_active(), onn_isa_supported((onn_isa)i) ? (onn_isa)i : best);
    }
    unsetenv("ONNORM_ISA");
}

#define ONE(fn, isa)                                                                               \
    {                                                                                              \
#fn "/" #isa, fn, NULL, NULL, (void *)(intptr_t)ONN_ISA_##isa                              \
    }
#define PER_ISA(fn) ONE(fn, SCALAR), ONE(fn, AVX2), ONE(fn, AVX512)

int main(void)
{
    const struct CMUnitTest tests[] = {
        PER_ISA(statistics),    PER_ISA(constant_slices),
        PER_ISA(affine),        PER_ISA(variants_agree),
        PER_ISA(models_pinned), cmocka_unit_test(unsupported_pin_is_ignored),
    };
    for (int i = 0; i < ONN_ISA_COUNT; i++)
        printf("variant %-7s %s\n", onn_isa_name((onn_isa)i),
               onn_isa_supported((onn_isa)i) ? "runs here" : "not supported here: skipped");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
