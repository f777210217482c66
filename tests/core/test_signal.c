/*
 * Signal ops (ops/core/signal.c) as one-node models run through the public
 * API. Expected values come from the spec's formulas evaluated here: the
 * window definitions, and the DFT as the direct sum
 * X[k] = sum_t x[t] exp(-+2 pi i k t / n) in double precision (complex
 * arithmetic from <complex.h>, independent of the kernel's twiddle table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <complex.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

#define PI 3.14159265358979323846

#define T(name, dt, rank, dims, ...) ((th_tensor){name, dt, rank, dims, __VA_ARGS__, false})
#define C(name, dt, rank, dims, ...) ((th_tensor){name, dt, rank, dims, __VA_ARGS__, true})

typedef struct s_attrs {
    const char *name[4];
    int64_t val[4];
} s_attrs;

static tb_model *node_model(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                            onnorm_dtype ydt, const s_attrs *a)
{
    tb_node *nd;
    tb_model *b = th_node_model(r, opset, op, n, in, ydt, &nd);
    for (int i = 0; a && i < 4; i++)
        if (a->name[i]) tb_attr_int(nd, a->name[i], a->val[i]);
    return b;
}

static void expect_y(int64_t opset, const char *op, int n, const th_tensor *in, const s_attrs *a,
                     onnorm_dtype ydt, int rank, const int64_t *dims, const double *want,
                     double tol)
{
    th_run r;
    th_ok(&r, th_go(&r, node_model(&r, opset, op, n, in, ydt, a), 2), op);
    th_expect_output(&r, op, "Y", ydt, rank, dims, want, tol);
    th_free(&r);
}

static void expect_fail(int64_t opset, const char *op, int n, const th_tensor *in, const s_attrs *a,
                        onnorm_dtype ydt, onnorm_status want, const char *needle)
{
    th_run r;
    th_go_fails(&r, node_model(&r, opset, op, n, in, ydt, a), 1, want, needle);
}

/* ---- windows ---------------------------------------------------------------------- */

static void windows_formulas(void **state)
{
    (void)state;
    static const char *const ops[3] = {"HannWindow", "HammingWindow", "BlackmanWindow"};
    const double a[3][3] = {{0.5, 0.5, 0}, {25.0 / 46, 21.0 / 46, 0}, {0.42, 0.5, 0.08}};
    for (int op = 0; op < 3; op++)
        for (int periodic = 0; periodic < 2; periodic++) {
            const int64_t size = 9;
            const double N = periodic ? size : size - 1;
            double want[9];
            for (int i = 0; i < size; i++)
                want[i] =
                    a[op][0] - a[op][1] * cos(2 * PI * i / N) + a[op][2] * cos(4 * PI * i / N);
            const th_tensor in[1] = {C("size", ONNORM_INT64, 0, {0}, (const int64_t[]){size})};
            s_attrs at = {{"periodic", "output_datatype"}, {periodic, ONNORM_DOUBLE}};
            expect_y(17, ops[op], 1, in, &at, ONNORM_DOUBLE, 1, (const int64_t[]){size}, want,
                     1e-14);
            s_attrs f = {{"periodic"}, {periodic}};
            expect_y(17, ops[op], 1, in, &f, ONNORM_FLOAT, 1, (const int64_t[]){size}, want, 0);
        }
    /* a fed size, and a symmetric window of one element */
    const th_tensor one[1] = {T("size", ONNORM_INT32, 0, {0}, (const int32_t[]){1})};
    s_attrs sym = {{"periodic"}, {0}};
    expect_y(17, "HannWindow", 1, one, &sym, ONNORM_FLOAT, 1, (const int64_t[]){1},
             (const double[]){1}, 0);
    const th_tensor neg[1] = {C("size", ONNORM_INT32, 0, {0}, (const int32_t[]){-3})};
    expect_fail(17, "HannWindow", 1, neg, NULL, ONNORM_FLOAT, ONNORM_ERR_INVALID, "size");
    const th_tensor huge[1] = {C("size", ONNORM_INT64, 0, {0}, (const int64_t[]){1LL << 40})};
    expect_fail(17, "BlackmanWindow", 1, huge, NULL, ONNORM_FLOAT, ONNORM_ERR_INVALID, "size");
    s_attrs bad = {{"output_datatype"}, {ONNORM_STRING}};
    expect_fail(17, "HammingWindow", 1, one, &bad, ONNORM_FLOAT, ONNORM_ERR_UNSUPPORTED,
                "output_datatype");
}

/* ---- DFT ----------------------------------------------------------------------------- */

/* The DFT of x [outer, len, inner, comp] along axis 1, n points, nout bins:
 * y [outer, nout, inner, 2]. */
static void dft_reference(const float *x, int64_t outer, int64_t len, int64_t inner, int comp,
                          int64_t n, int64_t nout, bool inverse, double *y)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            for (int64_t k = 0; k < nout; k++) {
                double complex s = 0;
                for (int64_t t = 0; t < len && t < n; t++) {
                    const float *p = x + ((o * len + t) * inner + i) * comp;
                    const double complex v = p[0] + (comp == 2 ? p[1] * I : 0);
                    s += v * cexp((inverse ? 2 : -2) * PI * I * (double)(k * t) / (double)n);
                }
                if (inverse) s /= (double)n;
                double *q = y + ((o * nout + k) * inner + i) * 2;
                q[0] = creal(s);
                q[1] = cimag(s);
            }
}

static void dft_lengths_onesided_inverse(void **state)
{
    (void)state;
    /* x [2, 6, 3, comp] along axis 1 */
    float *x = th_randf(7, 2 * 6 * 3 * 2);
    double *want = th_dalloc(2 * 9 * 3 * 2);
    /* real, onesided, zero-padded to 9 points: 5 bins */
    dft_reference(x, 2, 6, 3, 1, 9, 5, false, want);
    const th_tensor pad[2] = {T("x", ONNORM_FLOAT, 4, {2, 6, 3, 1}, x),
                              C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){9})};
    s_attrs one = {{"onesided"}, {1}};
    expect_y(17, "DFT", 2, pad, &one, ONNORM_FLOAT, 4, (const int64_t[]){2, 5, 3, 2}, want, 1e-5);
    /* opset 20, axis input -3 (the same axis), complex, truncated to 4, inverse */
    dft_reference(x, 2, 6, 3, 2, 4, 4, true, want);
    const th_tensor tr[3] = {T("x", ONNORM_FLOAT, 4, {2, 6, 3, 2}, x),
                             C("len", ONNORM_INT32, 0, {0}, (const int32_t[]){4}),
                             C("axis", ONNORM_INT64, 0, {0}, (const int64_t[]){-3})};
    s_attrs inv = {{"inverse"}, {1}};
    expect_y(20, "DFT", 3, tr, &inv, ONNORM_FLOAT, 4, (const int64_t[]){2, 4, 3, 2}, want, 1e-5);
    /* powers of 2 (the FFT path): real, padded to 8, inverse; complex truncated to 4
     * and padded to 16, forward */
    dft_reference(x, 2, 6, 3, 1, 8, 8, true, want);
    const th_tensor p8[2] = {pad[0], C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){8})};
    expect_y(17, "DFT", 2, p8, &inv, ONNORM_FLOAT, 4, (const int64_t[]){2, 8, 3, 2}, want, 1e-5);
    double *w16 = th_dalloc(2 * 16 * 3 * 2);
    dft_reference(x, 2, 6, 3, 2, 16, 16, false, w16);
    const th_tensor p16[2] = {tr[0], C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){16})};
    expect_y(17, "DFT", 2, p16, NULL, ONNORM_FLOAT, 4, (const int64_t[]){2, 16, 3, 2}, w16, 1e-5);
    free(w16);
    /* opset 20 default axis -2: the last signal axis (3 points) */
    double *w2 = th_dalloc(12 * 3 * 2);
    dft_reference(x, 12, 3, 1, 2, 3, 3, false, w2);
    expect_y(20, "DFT", 1, tr, NULL, ONNORM_FLOAT, 4, (const int64_t[]){2, 6, 3, 2}, w2, 1e-5);
    /* errors: the complex axis, onesided complex input */
    s_attrs last = {{"axis"}, {-1}};
    expect_fail(17, "DFT", 1, tr, &last, ONNORM_FLOAT, ONNORM_ERR_INVALID, "axis");
    expect_fail(17, "DFT", 1, tr, &one, ONNORM_FLOAT, ONNORM_ERR_INVALID, "real");
    const th_tensor zero[2] = {tr[0], C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){0})};
    expect_fail(17, "DFT", 2, zero, NULL, ONNORM_FLOAT, ONNORM_ERR_INVALID, "dft_length");
    /* sizes from values: a huge dft_length, a huge output */
    const th_tensor big[2] = {pad[0], C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){1LL << 40})};
    expect_fail(17, "DFT", 2, big, NULL, ONNORM_FLOAT, ONNORM_ERR_INVALID, "dft_length");
    static const float zeros[400];
    const th_tensor wide[2] = {T("x", ONNORM_FLOAT, 3, {100, 4, 1}, zeros),
                               C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){1 << 24})};
    expect_fail(17, "DFT", 2, wide, NULL, ONNORM_FLOAT, ONNORM_ERR_INVALID, "exceeds");
    free(w2);
    free(want);
    free(x);
}

static void stft_complex_window(void **state)
{
    (void)state;
    /* signal [2, 20, 2], frames of 6 every 5 -> 3 frames, window, two-sided */
    float *s = th_randf(11, 2 * 20 * 2);
    const float win[6] = {0.1f, 0.5f, 1, 1, 0.5f, 0.1f};
    double want[2 * 3 * 6 * 2];
    for (int b = 0; b < 2; b++)
        for (int f = 0; f < 3; f++) {
            float frame[12];
            for (int t = 0; t < 6; t++) {
                frame[2 * t] = s[(b * 20 + f * 5 + t) * 2] * win[t];
                frame[2 * t + 1] = s[(b * 20 + f * 5 + t) * 2 + 1] * win[t];
            }
            dft_reference(frame, 1, 6, 1, 2, 6, 6, false, want + (b * 3 + f) * 12);
        }
    const th_tensor in[4] = {T("s", ONNORM_FLOAT, 3, {2, 20, 2}, s),
                             C("step", ONNORM_INT64, 0, {0}, (const int64_t[]){5}),
                             C("w", ONNORM_FLOAT, 1, {6}, win),
                             C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){6})};
    s_attrs two = {{"onesided"}, {0}};
    expect_y(17, "STFT", 4, in, &two, ONNORM_FLOAT, 4, (const int64_t[]){2, 3, 6, 2}, want, 1e-5);
    const th_tensor bad[4] = {in[0], in[1], in[2],
                              C("len", ONNORM_INT64, 0, {0}, (const int64_t[]){5})};
    expect_fail(17, "STFT", 4, bad, &two, ONNORM_FLOAT, ONNORM_ERR_SHAPE, "frame_length");
    expect_fail(17, "STFT", 4, in, NULL, ONNORM_FLOAT, ONNORM_ERR_INVALID, "real");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_formulas),
        cmocka_unit_test(dft_lengths_onesided_inverse),
        cmocka_unit_test(stft_complex_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
