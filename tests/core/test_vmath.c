/* ops/core/vmath.h's float erf and tanh against double-precision libm
 * (every 97th float bit pattern and the edges: within 2 ulp; the scalar
 * functions and the array loops of every variant the CPU runs), and the Gelu
 * kernel (both forms, float32 and float64, NaN, infinities, large |x|,
 * a tensor large enough to run on two threads) against the spec's formula
 * evaluated here in double. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "ops/core/vmath.h"
#include "ops/isa.h"

/* |got - ref| in ulps of float at ref's magnitude (subnormal spacing below). */
static double ulps(float got, double ref)
{
    if (isnan(ref)) return isnan(got) ? 0 : 1e9;
    if (isinf(ref)) return got == ref ? 0 : 1e9;
    int ex;
    frexp(fabs(ref), &ex);
    double u = ldexp(1.0, ex - 1 - 23);
    if (u < ldexp(1.0, -149)) u = ldexp(1.0, -149);
    return fabs((double)got - ref) / u;
}

/* Every 97th bit pattern and the edges through `loop`, in blocks. */
static void check_loop(onn_vm_loop loop, double (*ref)(double), const char *name)
{
    enum { BLOCK = 4096 };
    static float xs[BLOCK], ys[BLOCK];
    double worst = 0;
    uint32_t at = 0;
    int fill = 0;
    const float edges[] = {0.0f,  -0.0f,   1e-45f, -1e-45f,  1e-38f,   0.99999994f, 1.0f,
                           -1.0f, 3.8325f, 3.92f,  -3.92f,   9.01f,    9.5f,        -9.5f,
                           43.6f, 88.0f,   1e30f,  -3.4e38f, INFINITY, -INFINITY};
    const size_t n_edges = sizeof edges / sizeof edges[0];
    for (uint64_t b = 0, e = 0;; b += 97) {
        const bool more = b <= 0xffffffffu || e < n_edges;
        if (more) {
            if (b <= 0xffffffffu) {
                const uint32_t u = (uint32_t)b;
                memcpy(&xs[fill++], &u, sizeof u);
            } else {
                xs[fill++] = edges[e++];
            }
        }
        if (fill == BLOCK || (!more && fill)) {
            loop(xs, ys, fill, NULL);
            for (int i = 0; i < fill; i++) {
                const double d = ulps(ys[i], ref(xs[i]));
                if (d > worst) worst = d, memcpy(&at, &xs[i], sizeof at);
            }
            fill = 0;
        }
        if (!more) break;
    }
    printf("%s: max %.3f ulp (at bits %08x)\n", name, worst, (unsigned)at);
    assert_true(worst <= 2.0);
    const float special[5] = {NAN, -NAN, -0.0f, INFINITY, -INFINITY};
    float out[5];
    loop(special, out, 5, NULL);
    assert_true(isnan(out[0]) && isnan(out[1]));
    assert_true(signbit(out[2]) && out[2] == 0.0f);
    assert_true(out[3] == 1.0f && out[4] == -1.0f);
}

/* The scalar reference as a loop. */
static float (*scalar_fn)(float);
static void scalar_loop(const void *x, void *y, int64_t n, const void *param)
{
    (void)param;
    for (int64_t i = 0; i < n; i++)
        ((float *)y)[i] = scalar_fn(((const float *)x)[i]);
}

/* The scalar function, then the loop of every variant this CPU runs. */
static void check_all(float (*f)(float), onn_vm_fn fn, double (*ref)(double), const char *name)
{
    char what[64];
    scalar_fn = f;
    snprintf(what, sizeof what, "%s (scalar function)", name);
    check_loop(scalar_loop, ref, what);
    for (int isa = 0; isa < ONN_ISA_COUNT; isa++) {
        if (!onn_isa_supported((onn_isa)isa)) continue;
        snprintf(what, sizeof what, "%s (%s loop)", name, onn_isa_name((onn_isa)isa));
        check_loop(onn_vm_loop_for(fn, isa), ref, what);
    }
}

static void erff_within_2ulp(void **state)
{
    (void)state;
    check_all(onn_erff, ONN_VM_ERF, erf, "erf");
}

static void tanhf_within_2ulp(void **state)
{
    (void)state;
    check_all(onn_tanhf, ONN_VM_TANH, tanh, "tanh");
}

static double gelu_ref(double x, bool tanh_form)
{
    return tanh_form
               ? 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)))
               : 0.5 * x * (1 + erf(x / sqrt(2)));
}

/* NaN-aware closeness. */
static bool close_to(double got, double ref, double rtol, double atol)
{
    if (isnan(ref)) return isnan(got);
    if (isinf(ref)) return got == ref;
    return fabs(got - ref) <= atol + rtol * fabs(ref);
}

static void gelu_kernel(void **state)
{
    (void)state;
    enum { N = 200003 };
    float *xf = malloc(N * sizeof *xf);
    double *xd = malloc(N * sizeof *xd);
    const float special[] = {NAN,  INFINITY, -INFINITY, 1e30f, -1e30f,
                             0.0f, -0.0f,    1e-40f,    5.0f,  -5.0f};
    const int ns = (int)(sizeof special / sizeof special[0]);
    srand(12);
    for (int i = 0; i < N; i++) {
        xf[i] = i < ns ? special[i] : (float)((rand() / (double)RAND_MAX - 0.5) * 24.0);
        xd[i] = xf[i];
    }
    const int64_t n = N;
    for (int form = 0; form < 2; form++) {
        for (int dbl = 0; dbl < 2; dbl++) {
            th_run r;
            tb_node *nd;
            const onnorm_dtype dt = dbl ? ONNORM_DOUBLE : ONNORM_FLOAT;
            tb_model *m =
                th_node_model(&r, 20, "Gelu", 1,
                              (th_tensor[]){th_in("X", dt, 1, &n, dbl ? (void *)xd : xf)}, dt, &nd);
            if (form) tb_attr_string(nd, "approximate", "tanh");
            th_ok(&r, th_go(&r, m, 2), "Gelu");
            const void *y = th_output(&r, "Y", dt, 1, &n);
            for (int i = 0; i < N; i++) {
                const double ref = gelu_ref(xd[i], form);
                const double got = dbl ? ((const double *)y)[i] : ((const float *)y)[i];
                if (!close_to(got, ref, dbl ? 1e-12 : 2e-6, dbl ? 1e-15 : 2e-7)) {
                    printf("Gelu form %d %s x=%.9g: got %.9g, want %.9g\n", form,
                           dbl ? "f64" : "f32", xd[i], got, ref);
                    fail();
                }
            }
            th_free(&r);
        }
    }
    free(xf);
    free(xd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(erff_within_2ulp),
        cmocka_unit_test(tanhf_within_2ulp),
        cmocka_unit_test(gelu_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
