/*
 * NonMaxSuppression (ops/core/vision.c) on the input detection models give
 * it: thousands of boxes in one class, several "classes" kept apart by an
 * offset (torchvision's batched_nms coordinate trick), flipped corners,
 * zero-area boxes and tied scores. The expected selection comes from a
 * naive greedy loop written here from the spec (descending score, ties by
 * ascending index; IoU in double from min/max corners).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"

#define NB 3000

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static double iou(const float *a, const float *b)
{
    const double ay0 = fmin(a[0], a[2]), ax0 = fmin(a[1], a[3]), ay1 = fmax(a[0], a[2]),
                 ax1 = fmax(a[1], a[3]);
    const double by0 = fmin(b[0], b[2]), bx0 = fmin(b[1], b[3]), by1 = fmax(b[0], b[2]),
                 bx1 = fmax(b[1], b[3]);
    const double aa = (ay1 - ay0) * (ax1 - ax0), ab = (by1 - by0) * (bx1 - bx0);
    if (aa <= 0 || ab <= 0) return 0;
    const double h = fmin(ay1, by1) - fmax(ay0, by0), w = fmin(ax1, bx1) - fmax(ax0, bx0);
    if (h <= 0 || w <= 0) return 0;
    return h * w / (aa + ab - h * w);
}

/* Naive greedy selection; returns the count, indices in sel. */
static int64_t reference(const float *boxes, const float *scores, double thr, int64_t *sel)
{
    static int64_t order[NB];
    for (int64_t i = 0; i < NB; i++)
        order[i] = i;
    for (int64_t i = 1; i < NB; i++) /* insertion sort: score desc, index asc */
        for (int64_t j = i; j > 0; j--) {
            const int64_t p = order[j - 1], q = order[j];
            if (scores[p] > scores[q] || (scores[p] == scores[q] && p < q)) break;
            order[j - 1] = q, order[j] = p;
        }
    int64_t ns = 0;
    for (int64_t k = 0; k < NB; k++) {
        bool keep = true;
        for (int64_t p = 0; p < ns && keep; p++)
            keep = !(iou(boxes + 4 * order[k], boxes + 4 * sel[p]) > thr);
        if (keep) sel[ns++] = order[k];
    }
    return ns;
}

static void nms_many_boxes(void **state)
{
    (void)state;
    static float boxes[NB * 4], scores[NB];
    static int64_t want[NB];
    uint64_t s = 12345;
    for (int i = 0; i < NB; i++) {
        const float off = (float)(i % 3) * 1000; /* three classes far apart */
        const float y = (float)(lcg(&s) % 200), x = (float)(lcg(&s) % 200) + off;
        const float h = (float)(lcg(&s) % 40), w = (float)(lcg(&s) % 40) + 1;
        float *b = boxes + 4 * i;
        b[0] = y, b[1] = x, b[2] = y + h, b[3] = x + w; /* h may be 0: zero area */
        if (i % 7 == 0) {                               /* flipped corners */
            b[0] = y + h, b[2] = y;
            b[1] = x + w, b[3] = x;
        }
        scores[i] = (float)(lcg(&s) % 64) / 64; /* many ties */
    }
    const int64_t nw = reference(boxes, scores, 0.5, want);
    assert_true(nw > 100 && nw < NB);
    th_tensor in[4] = {
        th_in("b", ONNORM_FLOAT, 3, (const int64_t[]){1, NB, 4}, boxes),
        th_in("s", ONNORM_FLOAT, 3, (const int64_t[]){1, 1, NB}, scores),
        th_const("m", ONNORM_INT64, 1, (const int64_t[]){1}, (const int64_t[]){INT64_MAX}),
        th_const("i", ONNORM_FLOAT, 1, (const int64_t[]){1}, (const float[]){0.5f})};
    th_run r;
    tb_model *b = th_node_model(&r, 11, "NonMaxSuppression", 4, in, ONNORM_INT64, NULL);
    th_ok(&r, th_go(&r, b, 1), "NonMaxSuppression");
    onnorm_tensor y = th_out(&r, "Y");
    assert_int_equal(y.rank, 2);
    assert_int_equal(y.dims[0], nw);
    assert_int_equal(y.dims[1], 3);
    const int64_t *v = y.data;
    for (int64_t k = 0; k < nw; k++) {
        if (v[3 * k] != 0 || v[3 * k + 1] != 0 || v[3 * k + 2] != want[k])
            fail_msg("row %lld is (%lld, %lld, %lld), want (0, 0, %lld)", (long long)k,
                     (long long)v[3 * k], (long long)v[3 * k + 1], (long long)v[3 * k + 2],
                     (long long)want[k]);
    }
    th_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nms_many_boxes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
