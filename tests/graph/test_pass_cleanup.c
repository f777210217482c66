/*
 * cleanup's Dropout rule (graph/pass_cleanup.c): a Dropout is an identity
 * and goes when its mask is not read and it is in inference mode (a
 * constant training_mode of false, or none) or its constant ratio is 0
 * (training mode then keeps every element and scales by 1 / (1 - 0)). A
 * training-mode Dropout with a ratio above 0, or one whose mask is read,
 * stays. The expected output of a removed Dropout is its input, exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

#define N 40

/* X -> Dropout(ratio, training_mode) -> Relu -> Y, and the mask as a
 * second graph output when mask_out. */
static onnorm_model *dropout_model(float ratio, bool training, bool mask_out)
{
    tb_model *b = tb_new(13);
    const int64_t d[1] = {N};
    const uint8_t t = training;
    tb_input(b, "X", ONNORM_FLOAT, 1, d);
    tb_init(b, "ratio", ONNORM_FLOAT, 0, NULL, &ratio);
    tb_init(b, "training", ONNORM_BOOL, 0, NULL, &t);
    tb_node_add(b, "Dropout", "drop", 3, (const char *[]){"X", "ratio", "training"}, 2,
                (const char *[]){"D", "mask"});
    tb_node_add(b, "Relu", "relu", 1, (const char *[]){"D"}, 1, (const char *[]){"Y"});
    tb_output(b, "Y", ONNORM_FLOAT);
    if (mask_out) tb_output(b, "mask", ONNORM_BOOL);
    return th_load(b);
}

static void check(float ratio, bool training, bool mask_out, int dropouts_left)
{
    onnorm_model *m = dropout_model(ratio, training, mask_out);
    char report[4096];
    onnorm_model *opt = th_optimize(m, report, sizeof report);
    const int left = th_count_op(opt, "Dropout", NULL);
    if (left != dropouts_left)
        fail_msg("ratio %g training %d mask %d: %d Dropout left, want %d\n%s", (double)ratio,
                 training, mask_out, left, dropouts_left, report);
    if (!dropouts_left) { /* Y = Relu(X) exactly */
        float x[N];
        double want[N];
        for (int i = 0; i < N; i++) {
            x[i] = sinf(0.9f * (float)i) * 2.0f;
            want[i] = x[i] < 0 ? 0.0 : x[i];
        }
        th_run r;
        const th_tensor in = th_in("X", ONNORM_FLOAT, 1, (int64_t[]){N}, x);
        onnorm_session_options o = th_options(1, 0);
        TH_OK(&r, th_run_loaded(&r, opt, &o, 1, &in));
        th_expect_output(&r, "cleanup", "Y", ONNORM_FLOAT, 1, (int64_t[]){N}, want, 0.0);
        th_free(&r);
    }
    onnorm_model_free(opt);
    onnorm_model_free(m);
}

static void dropouts(void **state)
{
    (void)state;
    check(0.0f, true, false, 0);  /* Swin's attention dropout: ratio 0 in training mode */
    check(0.5f, false, false, 0); /* inference mode */
    check(0.0f, false, false, 0);
    check(0.5f, true, false, 1); /* a real dropout stays */
    check(0.0f, true, true, 1);  /* the mask is read */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(dropouts)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
