/* RNN, GRU and LSTM through the public API: sizes large enough for the
 * threaded paths (OpenBLAS products, rows of gates split across threads,
 * the float64 product loop) against the spec's equations written here in
 * double, one batch entry and step at a time; and the errors (shapes,
 * types, attribute values, sequence_lens values). The small cases of every
 * attribute live in testdata/rnn_ref (NumPy reference). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

static double sigm(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* x . w[row] for a row of W ([rows, n]). */
static double dotf(const float *x, const float *w, int64_t n)
{
    double s = 0;
    for (int64_t k = 0; k < n; k++)
        s += (double)x[k] * w[k];
    return s;
}

/* Forward LSTM, default activations, bias B; Y [S, 1, NB, H]. */
static void lstm_ref(int64_t S, int64_t NB, int64_t I, int64_t H, const float *x, const float *w,
                     const float *r, const float *b, double *y)
{
    double *h = th_dalloc(H), *c = th_dalloc(H), *g = th_dalloc(4 * H);
    float *hf = calloc((size_t)H, sizeof *hf);
    for (int64_t n = 0; n < NB; n++) {
        memset(h, 0, (size_t)H * sizeof *h), memset(c, 0, (size_t)H * sizeof *c);
        for (int64_t t = 0; t < S; t++) {
            for (int64_t j = 0; j < H; j++)
                hf[j] = (float)h[j]; /* the kernel keeps H in float32 */
            for (int64_t j = 0; j < 4 * H; j++)
                g[j] = dotf(x + (t * NB + n) * I, w + j * I, I) + dotf(hf, r + j * H, H) + b[j] +
                       b[4 * H + j];
            for (int64_t j = 0; j < H; j++) {
                const double i = sigm(g[j]), o = sigm(g[H + j]), f = sigm(g[2 * H + j]);
                c[j] = f * c[j] + i * tanh(g[3 * H + j]);
                h[j] = o * tanh(c[j]);
                y[(t * NB + n) * H + j] = h[j];
            }
        }
    }
    free(h), free(c), free(g), free(hf);
}

static void lstm_large(void **state)
{
    (void)state;
    const int64_t S = 7, NB = 24, I = 40, H = 96;
    float *x = th_randf(1, S * NB * I), *w = th_randf(2, 4 * H * I), *r = th_randf(3, 4 * H * H);
    float *b = th_randf(4, 8 * H);
    for (int64_t k = 0; k < 4 * H * H; k++)
        r[k] *= 0.2f;
    double *ref = th_dalloc(S * NB * H);
    lstm_ref(S, NB, I, H, x, w, r, b, ref);
    for (int threads = 1; threads <= 3; threads += 2) {
        th_run run;
        const th_tensor in[4] = {th_in("X", ONNORM_FLOAT, 3, (int64_t[]){S, NB, I}, x),
                                 th_const("W", ONNORM_FLOAT, 3, (int64_t[]){1, 4 * H, I}, w),
                                 th_const("R", ONNORM_FLOAT, 3, (int64_t[]){1, 4 * H, H}, r),
                                 th_const("B", ONNORM_FLOAT, 2, (int64_t[]){1, 8 * H}, b)};
        tb_node *nd;
        tb_model *m = th_node_model(&run, 14, "LSTM", 4, in, ONNORM_FLOAT, &nd);
        tb_attr_int(nd, "hidden_size", H);
        th_ok(&run, th_go(&run, m, threads), "LSTM");
        th_expect_output(&run, "LSTM", "Y", ONNORM_FLOAT, 4, (int64_t[]){S, 1, NB, H}, ref, 1e-5);
        th_free(&run);
    }
    free(x), free(w), free(r), free(b), free(ref);
}

/* Reverse GRU in float64 (linear_before_reset 0, no bias), layout 0. */
static void gru_large_f64(void **state)
{
    (void)state;
    const int64_t S = 5, NB = 20, I = 30, H = 64;
    double *x = th_dalloc(S * NB * I), *w = th_dalloc(3 * H * I), *r = th_dalloc(3 * H * H);
    float *rx = th_randf(5, S * NB * I), *rw = th_randf(6, 3 * H * I), *rr = th_randf(7, 3 * H * H);
    for (int64_t k = 0; k < S * NB * I; k++)
        x[k] = rx[k];
    for (int64_t k = 0; k < 3 * H * I; k++)
        w[k] = rw[k];
    for (int64_t k = 0; k < 3 * H * H; k++)
        r[k] = 0.2 * rr[k];
    double *ref = th_dalloc(S * NB * H), *h = th_dalloc(H), *g = th_dalloc(3 * H);
    double *rh = th_dalloc(H);
    for (int64_t n = 0; n < NB; n++) {
        memset(h, 0, (size_t)H * sizeof *h);
        for (int64_t t = S - 1; t >= 0; t--) {
            const double *xt = x + (t * NB + n) * I;
            for (int64_t j = 0; j < 3 * H; j++) {
                double s = 0;
                for (int64_t k = 0; k < I; k++)
                    s += xt[k] * w[j * I + k];
                if (j < 2 * H)
                    for (int64_t k = 0; k < H; k++)
                        s += h[k] * r[j * H + k];
                g[j] = s;
            }
            for (int64_t k = 0; k < H; k++)
                rh[k] = sigm(g[H + k]) * h[k];
            for (int64_t j = 0; j < H; j++) {
                double s = g[2 * H + j];
                for (int64_t k = 0; k < H; k++)
                    s += rh[k] * r[(2 * H + j) * H + k];
                g[2 * H + j] = tanh(s);
            }
            for (int64_t j = 0; j < H; j++) {
                const double z = sigm(g[j]);
                h[j] = (1 - z) * g[2 * H + j] + z * h[j];
                ref[(t * NB + n) * H + j] = h[j];
            }
        }
    }
    th_run run;
    const th_tensor in[3] = {th_in("X", ONNORM_DOUBLE, 3, (int64_t[]){S, NB, I}, x),
                             th_const("W", ONNORM_DOUBLE, 3, (int64_t[]){1, 3 * H, I}, w),
                             th_const("R", ONNORM_DOUBLE, 3, (int64_t[]){1, 3 * H, H}, r)};
    tb_node *nd;
    tb_model *m = th_node_model(&run, 7, "GRU", 3, in, ONNORM_DOUBLE, &nd);
    tb_attr_string(nd, "direction", "reverse");
    th_ok(&run, th_go(&run, m, 3), "GRU");
    th_expect_output(&run, "GRU", "Y", ONNORM_DOUBLE, 4, (int64_t[]){S, 1, NB, H}, ref, 1e-12);
    th_free(&run);
    free(x), free(w), free(r), free(rx), free(rw), free(rr), free(ref), free(h), free(g), free(rh);
}

/* An RNN node (3 steps, batch 2, input 3, hidden 4 unless shapes say
 * otherwise); `mutate` breaks one thing. */
enum { M_W, M_B, M_HIDDEN, M_DIR, M_LAYOUT, M_CLIP, M_H0_TYPE, M_X_RANK, M_LENS, M_LENS_TYPE };

static void rnn_error(int mutate, onnorm_status want, const char *needle)
{
    static float data[256];
    static double ddata[64];
    static int32_t lens[2] = {3, 4}; /* 4 > seq_length */
    static float lensf[2];
    th_run r;
    th_tensor in[6] = {
        th_in("X", ONNORM_FLOAT, 3, (int64_t[]){3, 2, 3}, data),
        th_const("W", ONNORM_FLOAT, 3, (int64_t[]){1, 4, mutate == M_W ? 2 : 3}, data),
        th_const("R", ONNORM_FLOAT, 3, (int64_t[]){1, 4, 4}, data),
        th_const("B", ONNORM_FLOAT, 2, (int64_t[]){1, mutate == M_B ? 4 : 8}, data),
        th_in("sequence_lens", ONNORM_INT32, 1, (int64_t[]){2}, lens),
        th_const("initial_h", ONNORM_FLOAT, 3, (int64_t[]){1, 2, 4}, data)};
    if (mutate != M_LENS && mutate != M_LENS_TYPE) in[4].name = "";
    if (mutate == M_LENS_TYPE)
        in[4] = th_const("sequence_lens", ONNORM_FLOAT, 1, (int64_t[]){2}, lensf);
    if (mutate == M_H0_TYPE)
        in[5] = th_const("initial_h", ONNORM_DOUBLE, 3, (int64_t[]){1, 2, 4}, ddata);
    if (mutate == M_X_RANK) in[0] = th_in("X", ONNORM_FLOAT, 2, (int64_t[]){3, 6}, data);
    tb_node *nd;
    tb_model *m = th_node_model(&r, 14, "RNN", 6, in, ONNORM_FLOAT, &nd);
    tb_attr_int(nd, "hidden_size", mutate == M_HIDDEN ? 5 : 4);
    if (mutate == M_DIR) tb_attr_string(nd, "direction", "sideways");
    if (mutate == M_LAYOUT) tb_attr_int(nd, "layout", 2);
    if (mutate == M_CLIP) tb_attr_float(nd, "clip", -1.0f);
    th_go_fails(&r, m, 1, want, needle);
}

static void rnn_errors(void **state)
{
    (void)state;
    rnn_error(M_W, ONNORM_ERR_SHAPE, "W is [1,4,2]; expected [1,4,3]");
    rnn_error(M_B, ONNORM_ERR_SHAPE, "B is [1,4]; expected [1,8]");
    rnn_error(M_HIDDEN, ONNORM_ERR_SHAPE, "W is [1,4,3]; expected [1,5,3]");
    rnn_error(M_DIR, ONNORM_ERR_UNSUPPORTED, "sideways");
    rnn_error(M_LAYOUT, ONNORM_ERR_INVALID, "layout = 2");
    rnn_error(M_CLIP, ONNORM_ERR_INVALID, "clip");
    rnn_error(M_H0_TYPE, ONNORM_ERR_DTYPE, "initial_h");
    rnn_error(M_X_RANK, ONNORM_ERR_SHAPE, "must be 3-D");
    rnn_error(M_LENS, ONNORM_ERR_INVALID, "sequence_lens[1] = 4 is outside [0, 3]");
    rnn_error(M_LENS_TYPE, ONNORM_ERR_DTYPE, "sequence_lens");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lstm_large),
        cmocka_unit_test(gru_large_f64),
        cmocka_unit_test(rnn_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
