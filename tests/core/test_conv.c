/* Conv and ConvTranspose through the public API against naive nested-loop
 * references written here (double accumulation): groups, depthwise,
 * dilations, strides, asymmetric pads, every auto_pad, 1-D/2-D/3-D, bias or
 * none, output_padding, output_shape (with each opset's padding split), 1
 * and several threads; and the errors a bad node must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "harness.h"
#include "refnorm.h"

/* |got - ref| <= TOL * (1 + |ref|): float32 sums of a few hundred products. */
#define TOL 1e-4
#define MAXSP 3

/* ---- references -------------------------------------------------------- */

typedef struct win {
    int nsp;
    int64_t k[MAXSP], s[MAXSP], d[MAXSP], plo[MAXSP], phi[MAXSP];
} win;

static void unravel(int64_t i, int n, const int64_t *dims, int64_t *c)
{
    for (int a = n - 1; a >= 0; a--) {
        c[a] = i % dims[a];
        i /= dims[a];
    }
}

/* Conv: x [N, C, in...], w [M, C/group, k...] -> y [N, M, out...]. */
static void ref_conv(const float *x, const int64_t *xd, const float *w, int64_t M, const float *b,
                     int64_t group, const win *wn, const int64_t *od, double *y)
{
    const int nsp = wn->nsp;
    const int64_t N = xd[0], C = xd[1], cg = C / group, mg = M / group;
    const int64_t isz = rn_prod(xd, 2, 2 + nsp), osz = rn_prod(od, 0, nsp),
                  ksz = rn_prod(wn->k, 0, nsp);
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t o = 0; o < osz; o++) {
                int64_t oc[MAXSP], kc[MAXSP];
                unravel(o, nsp, od, oc);
                double acc = b ? b[m] : 0.0;
                for (int64_t ci = 0; ci < cg; ci++)
                    for (int64_t kk = 0; kk < ksz; kk++) {
                        unravel(kk, nsp, wn->k, kc);
                        int64_t idx = 0, inside = 1;
                        for (int i = 0; i < nsp; i++) {
                            int64_t p = oc[i] * wn->s[i] - wn->plo[i] + kc[i] * wn->d[i];
                            if (p < 0 || p >= xd[2 + i]) inside = 0;
                            idx = idx * xd[2 + i] + p;
                        }
                        if (inside)
                            acc += (double)x[(n * C + (m / mg) * cg + ci) * isz + idx] *
                                   w[(m * cg + ci) * ksz + kk];
                    }
                y[(n * M + m) * osz + o] = acc;
            }
}

/* ConvTranspose: x [N, C, in...], w [C, M/group, k...] -> y [N, M, out...]. */
static void ref_convt(const float *x, const int64_t *xd, const float *w, int64_t M, const float *b,
                      int64_t group, const win *wn, const int64_t *od, double *y)
{
    const int nsp = wn->nsp;
    const int64_t N = xd[0], C = xd[1], cg = C / group, mg = M / group;
    const int64_t isz = rn_prod(xd, 2, 2 + nsp), osz = rn_prod(od, 0, nsp),
                  ksz = rn_prod(wn->k, 0, nsp);
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t o = 0; o < osz; o++)
                y[(n * M + m) * osz + o] = b ? b[m] : 0.0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < isz; i++) {
                int64_t ic[MAXSP], kc[MAXSP];
                unravel(i, nsp, xd + 2, ic);
                for (int64_t mi = 0; mi < mg; mi++)
                    for (int64_t kk = 0; kk < ksz; kk++) {
                        unravel(kk, nsp, wn->k, kc);
                        int64_t idx = 0, inside = 1;
                        for (int a = 0; a < nsp; a++) {
                            int64_t p = ic[a] * wn->s[a] - wn->plo[a] + kc[a] * wn->d[a];
                            if (p < 0 || p >= od[a]) inside = 0;
                            idx = idx * od[a] + p;
                        }
                        int64_t m = (c / cg) * mg + mi;
                        if (inside)
                            y[(n * M + m) * osz + idx] +=
                                (double)x[(n * C + c) * isz + i] * w[(c * mg + mi) * ksz + kk];
                    }
            }
}

/* ---- Conv cases ---------------------------------------------------------- */

typedef struct conv_case {
    int opset, nsp;
    int64_t n, c, m, group;
    int64_t in[MAXSP], k[MAXSP], s[MAXSP], d[MAXSP];
    int64_t pads[2 * MAXSP];
    const char *auto_pad; /* NULL: attribute absent */
    int bias, w_input;    /* B present; W bound at run instead of an initializer */
    int kernel_attr;      /* write kernel_shape too */
    int threads;
} conv_case;

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Output extents and effective pads, derived from the spec's formulas. */
static void conv_geometry(const conv_case *cc, win *wn, int64_t *od)
{
    wn->nsp = cc->nsp;
    for (int i = 0; i < cc->nsp; i++) {
        int64_t s = cc->s[i] ? cc->s[i] : 1, d = cc->d[i] ? cc->d[i] : 1;
        int64_t eff = (cc->k[i] - 1) * d + 1;
        wn->k[i] = cc->k[i], wn->s[i] = s, wn->d[i] = d;
        wn->plo[i] = cc->pads[i], wn->phi[i] = cc->pads[i + cc->nsp];
        if (cc->auto_pad && !strncmp(cc->auto_pad, "SAME", 4)) {
            od[i] = ceil_div(cc->in[i], s);
            int64_t total = (od[i] - 1) * s + eff - cc->in[i];
            if (total < 0) total = 0;
            wn->plo[i] = strcmp(cc->auto_pad, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
            wn->phi[i] = total - wn->plo[i];
        } else {
            if (cc->auto_pad) wn->plo[i] = wn->phi[i] = 0;
            od[i] = (cc->in[i] + wn->plo[i] + wn->phi[i] - eff) / s + 1;
        }
    }
}

static void set_window_attrs(tb_node *nd, int nsp, const int64_t *s, const int64_t *d,
                             const int64_t *pads, const char *auto_pad)
{
    if (s[0]) tb_attr_ints(nd, "strides", nsp, s);
    if (d[0]) tb_attr_ints(nd, "dilations", nsp, d);
    if (auto_pad)
        tb_attr_string(nd, "auto_pad", auto_pad);
    else
        tb_attr_ints(nd, "pads", 2 * nsp, pads);
}

static void run_conv_case(const conv_case *cc)
{
    const int nsp = cc->nsp;
    int64_t xd[2 + MAXSP] = {cc->n, cc->c}, wd[2 + MAXSP] = {cc->m, cc->c / cc->group}, od[MAXSP];
    memcpy(xd + 2, cc->in, (size_t)nsp * sizeof *xd);
    memcpy(wd + 2, cc->k, (size_t)nsp * sizeof *wd);
    win wn;
    conv_geometry(cc, &wn, od);
    float *x = th_randf(1, rn_prod(xd, 0, nsp + 2)), *w = th_randf(2, rn_prod(wd, 0, nsp + 2));
    float *b = th_randf(3, cc->m);
    int64_t yd[2 + MAXSP] = {cc->n, cc->m};
    memcpy(yd + 2, od, (size_t)nsp * sizeof *yd);
    double *ref = th_dalloc(rn_prod(yd, 0, nsp + 2));
    ref_conv(x, xd, w, cc->m, cc->bias ? b : NULL, cc->group, &wn, od, ref);

    th_run r;
    th_tensor in[3] = {th_in("X", ONNORM_FLOAT, nsp + 2, xd, x),
                       th_const("W", ONNORM_FLOAT, nsp + 2, wd, w),
                       th_const("B", ONNORM_FLOAT, 1, (int64_t[]){cc->m}, b)};
    in[1].constant = !cc->w_input;
    tb_node *nd;
    tb_model *mb = th_node_model(&r, cc->opset, "Conv", cc->bias ? 3 : 2, in, ONNORM_FLOAT, &nd);
    set_window_attrs(nd, nsp, cc->s, cc->d, cc->pads, cc->auto_pad);
    if (cc->group != 1) tb_attr_int(nd, "group", cc->group);
    if (cc->kernel_attr) tb_attr_ints(nd, "kernel_shape", nsp, cc->k);
    th_ok(&r, th_go(&r, mb, cc->threads), "Conv");
    th_expect_output(&r, "Conv", "Y", ONNORM_FLOAT, nsp + 2, yd, ref, TOL);
    th_free(&r);
    free(x), free(w), free(b), free(ref);
}

static void conv_basic(void **state)
{
    (void)state;
    for (int opset = 6; opset <= 21; opset += 5) /* 6, 11, 16, 21 */
        run_conv_case(&(conv_case){.opset = opset,
                                   .nsp = 2,
                                   .n = 1,
                                   .c = 3,
                                   .m = 4,
                                   .group = 1,
                                   .in = {7, 6},
                                   .k = {3, 3},
                                   .pads = {1, 1, 1, 1},
                                   .bias = 1});
    /* kernel_shape written out, W bound at run time (unknown while planning) */
    run_conv_case(&(conv_case){.opset = 13,
                               .nsp = 2,
                               .n = 2,
                               .c = 2,
                               .m = 3,
                               .group = 1,
                               .in = {5, 6},
                               .k = {2, 3},
                               .bias = 1,
                               .w_input = 1,
                               .kernel_attr = 1});
}

static void conv_groups(void **state)
{
    (void)state;
    /* two groups, stride 2, asymmetric pads */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 2,
                               .c = 4,
                               .m = 6,
                               .group = 2,
                               .in = {9, 8},
                               .k = {3, 2},
                               .s = {2, 2},
                               .pads = {0, 1, 2, 1},
                               .bias = 1});
    /* four groups of 2 -> 1 channels */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 1,
                               .c = 8,
                               .m = 4,
                               .group = 4,
                               .in = {6, 6},
                               .k = {3, 3},
                               .pads = {1, 1, 1, 1}});
}

static void conv_depthwise(void **state)
{
    (void)state;
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 2,
                               .c = 5,
                               .m = 5,
                               .group = 5,
                               .in = {8, 7},
                               .k = {3, 3},
                               .pads = {1, 1, 1, 1},
                               .bias = 1});
    /* channel multiplier 2, dilation 2, stride 2 */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 1,
                               .c = 3,
                               .m = 6,
                               .group = 3,
                               .in = {11, 9},
                               .k = {3, 3},
                               .s = {2, 1},
                               .d = {2, 2},
                               .pads = {2, 1, 0, 2},
                               .bias = 1});
    /* big enough to run on several threads */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 2,
                               .c = 32,
                               .m = 32,
                               .group = 32,
                               .in = {30, 31},
                               .k = {3, 3},
                               .pads = {1, 1, 1, 1},
                               .bias = 1,
                               .threads = 3});
}

static void conv_dilation_stride(void **state)
{
    (void)state;
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 1,
                               .c = 2,
                               .m = 3,
                               .group = 1,
                               .in = {10, 9},
                               .k = {3, 2},
                               .s = {1, 2},
                               .d = {2, 3},
                               .bias = 1});
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 1,
                               .c = 2,
                               .m = 2,
                               .group = 1,
                               .in = {9, 9},
                               .k = {3, 3},
                               .s = {3, 2},
                               .d = {2, 1},
                               .pads = {2, 0, 1, 3},
                               .bias = 1});
}

static void conv_auto_pad(void **state)
{
    (void)state;
    static const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"};
    for (int i = 0; i < 4; i++) {
        /* stride 2 on odd and even extents: odd total padding on some axes */
        run_conv_case(&(conv_case){.opset = 11,
                                   .nsp = 2,
                                   .n = 1,
                                   .c = 2,
                                   .m = 3,
                                   .group = 1,
                                   .in = {7, 8},
                                   .k = {4, 3},
                                   .s = {2, 2},
                                   .auto_pad = modes[i],
                                   .bias = 1});
        run_conv_case(&(conv_case){.opset = 7,
                                   .nsp = 2,
                                   .n = 1,
                                   .c = 1,
                                   .m = 2,
                                   .group = 1,
                                   .in = {5, 6},
                                   .k = {2, 3},
                                   .d = {2, 1},
                                   .auto_pad = modes[i]});
    }
}

static void conv_ranks(void **state)
{
    (void)state;
    /* 1-D */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 1,
                               .n = 2,
                               .c = 3,
                               .m = 4,
                               .group = 1,
                               .in = {17},
                               .k = {5},
                               .s = {2},
                               .pads = {2, 1},
                               .bias = 1});
    /* 3-D, no bias, groups */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 3,
                               .n = 1,
                               .c = 4,
                               .m = 2,
                               .group = 2,
                               .in = {5, 6, 4},
                               .k = {3, 2, 3},
                               .s = {1, 2, 1},
                               .pads = {1, 0, 1, 1, 1, 0}});
    /* 3-D depthwise */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 3,
                               .n = 1,
                               .c = 3,
                               .m = 3,
                               .group = 3,
                               .in = {4, 5, 6},
                               .k = {2, 2, 2},
                               .pads = {1, 1, 1, 1, 1, 1},
                               .bias = 1});
}

static void conv_pointwise_and_threads(void **state)
{
    (void)state;
    /* 1x1, stride 1, no pads: X is the matrix itself */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 2,
                               .c = 5,
                               .m = 7,
                               .group = 1,
                               .in = {6, 5},
                               .k = {1, 1},
                               .bias = 1});
    /* 1x1 with stride needs the column copy */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 1,
                               .c = 4,
                               .m = 3,
                               .group = 1,
                               .in = {7, 6},
                               .k = {1, 1},
                               .s = {2, 2}});
    /* no bias */
    run_conv_case(&(conv_case){
        .opset = 11, .nsp = 2, .n = 1, .c = 3, .m = 2, .group = 1, .in = {5, 5}, .k = {3, 3}});
    /* an empty batch */
    run_conv_case(&(conv_case){.opset = 11,
                               .nsp = 2,
                               .n = 0,
                               .c = 3,
                               .m = 2,
                               .group = 1,
                               .in = {5, 5},
                               .k = {3, 3},
                               .bias = 1});
    /* 1x1 over 8-64 input channels and 784+ positions: the pointwise
     * kernel (conv_pw.c) on AVX2 machines; two images, tails of its tiles */
    for (int t = 1; t <= 3; t += 2)
        run_conv_case(&(conv_case){.opset = 13,
                                   .nsp = 2,
                                   .n = 2,
                                   .c = 16,
                                   .m = 21,
                                   .group = 1,
                                   .in = {30, 29},
                                   .k = {1, 1},
                                   .bias = t == 1,
                                   .threads = t});
    /* smaller planes through the pointwise kernel, cut across the output
     * channels as well at 3 threads: 40 input channels on 14 x 14, 24 on
     * 7 x 7, and a projection from 150 channels to 20 */
    static const int64_t small[][4] = {{40, 37, 14, 14}, {24, 10, 7, 7}, {150, 20, 15, 14}};
    for (int i = 0; i < 3; i++)
        for (int t = 1; t <= 3; t += 2)
            run_conv_case(&(conv_case){.opset = 13,
                                       .nsp = 2,
                                       .n = 1 + i % 2,
                                       .c = small[i][0],
                                       .m = small[i][1],
                                       .group = 1,
                                       .in = {small[i][2], small[i][3]},
                                       .k = {1, 1},
                                       .bias = t == 1,
                                       .threads = t});
    /* large enough for im2col and the bias fill to run in parallel */
    for (int t = 1; t <= 3; t += 2)
        run_conv_case(&(conv_case){.opset = 11,
                                   .nsp = 2,
                                   .n = 2,
                                   .c = 8,
                                   .m = 16,
                                   .group = 1,
                                   .in = {33, 30},
                                   .k = {3, 3},
                                   .pads = {1, 1, 1, 1},
                                   .bias = 1,
                                   .threads = t});
}

/* ---- ExpandDepthwise errors (ai.onnorm, written by fuse-expand-dw) ---------- */

/* X [1, 4, 6, 6] (or xd), W1 [w1d], empty B1, W2 [w2d] (constants unless
 * w1_fed); group `group` (0: absent). */
static void xdw_fails(const int64_t *xd, int xr, const int64_t *w1d, const int64_t *w2d, int n_in,
                      bool w1_fed, int64_t group, onnorm_status code, const char *msg)
{
    static float data[4096];
    th_run r;
    tb_node *nd;
    const th_tensor in[4] = {th_in("X", ONNORM_FLOAT, xr, xd, data),
                             w1_fed ? th_in("W1", ONNORM_FLOAT, 4, w1d, data)
                                    : th_const("W1", ONNORM_FLOAT, 4, w1d, data),
                             th_const("B1", ONNORM_FLOAT, 1, w1d, data),
                             th_const("W2", ONNORM_FLOAT, 4, w2d, data)};
    tb_model *b = th_node_model(&r, 14, "ExpandDepthwise", n_in, in, ONNORM_FLOAT, &nd);
    tb_node_domain(nd, "ai.onnorm");
    tb_opset(b, "ai.onnorm", 1);
    if (group) tb_attr_int(nd, "group", group);
    th_go_fails(&r, b, 1, code, msg);
}

static void expand_depthwise_errors(void **state)
{
    (void)state;
    const int64_t x4[4] = {1, 4, 6, 6}, w1[4] = {8, 4, 1, 1}, w2[4] = {8, 1, 3, 3};
    xdw_fails(x4, 4, (int64_t[]){8, 3, 1, 1}, w2, 4, false, 8, ONNORM_ERR_SHAPE,
              "must be [E, 4, 1, 1]");
    xdw_fails(x4, 4, (int64_t[]){8, 4, 3, 3}, w2, 4, false, 8, ONNORM_ERR_SHAPE,
              "must be [E, 4, 1, 1]");
    xdw_fails(x4, 4, w1, (int64_t[]){6, 1, 3, 3}, 4, false, 8, ONNORM_ERR_SHAPE,
              "must be [8, 1, kh, kw]");
    xdw_fails(x4, 4, w1, w2, 4, false, 2, ONNORM_ERR_INVALID, "must equal the 8 expanded");
    xdw_fails((int64_t[]){1, 4, 6}, 3, w1, w2, 4, false, 8, ONNORM_ERR_SHAPE, "rank 4");
    xdw_fails(x4, 4, w1, w2, 2, false, 8, ONNORM_ERR_INVALID, "W2 (input 3) is required");
    xdw_fails(x4, 4, w1, w2, 4, true, 8, ONNORM_ERR_UNSUPPORTED, "must be constants");
}

/* ---- Conv errors ----------------------------------------------------------- */

/* A Conv node on X [xd] (fed) and W [wd]; the node goes to *nd. */
static tb_model *conv_error_node(th_run *r, int xr, const int64_t *xd, int wr, const int64_t *wd,
                                 tb_node **nd)
{
    static float data[4096];
    const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, xr, xd, data),
                             th_const("W", ONNORM_FLOAT, wr, wd, data)};
    return th_node_model(r, 11, "Conv", 2, in, ONNORM_FLOAT, nd);
}

static void conv_errors(void **state)
{
    (void)state;
    th_run r;
    tb_node *nd;
    const int64_t x4[4] = {1, 4, 6, 6};
    /* channel mismatch */
    tb_model *b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 3, 3, 3}, &nd);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "input channels per group");
    /* groups not dividing the input channels */
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){3, 1, 3, 3}, &nd);
    tb_attr_int(nd, "group", 3);
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "group 3 must be >= 1 and divide");
    /* ... nor the output channels */
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){3, 2, 3, 3}, &nd);
    tb_attr_int(nd, "group", 2);
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "divide both");
    /* group 0 */
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 3, 3}, &nd);
    tb_attr_int(nd, "group", 0);
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "group 0");
    /* kernel rank: kernel_shape with 3 axes for 2 spatial ones */
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 3, 3}, &nd);
    tb_attr_ints(nd, "kernel_shape", 3, (int64_t[]){3, 3, 3});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'kernel_shape' has 3 values, expected 2");
    /* kernel rank: W of rank 3 for a 4-D X */
    b = conv_error_node(&r, 4, x4, 3, (int64_t[]){2, 4, 3}, &nd);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "must have the rank of X");
    /* kernel_shape disagrees with W */
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 3, 3}, &nd);
    tb_attr_ints(nd, "kernel_shape", 2, (int64_t[]){3, 2});
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "disagrees with W");
    /* X without spatial axes */
    b = conv_error_node(&r, 2, (int64_t[]){1, 4}, 2, (int64_t[]){2, 4}, &nd);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "rank >= 3");
    /* kernel larger than the padded input */
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 8, 3}, &nd);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "exceeds the padded input");
    /* stride 0, negative pads, unknown auto_pad, pads with auto_pad */
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 3, 3}, &nd);
    tb_attr_ints(nd, "strides", 2, (int64_t[]){1, 0});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'strides'[1] = 0");
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 3, 3}, &nd);
    tb_attr_ints(nd, "pads", 4, (int64_t[]){0, -1, 0, 0});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'pads'[1] = -1");
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 3, 3}, &nd);
    tb_attr_string(nd, "auto_pad", "SAME");
    th_go_fails(&r, b, 1, ONNORM_ERR_UNSUPPORTED, "auto_pad 'SAME'");
    b = conv_error_node(&r, 4, x4, 4, (int64_t[]){2, 4, 3, 3}, &nd);
    tb_attr_string(nd, "auto_pad", "SAME_UPPER");
    tb_attr_ints(nd, "pads", 4, (int64_t[]){1, 1, 1, 1});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "cannot be combined with auto_pad");
    /* bias of the wrong length */
    static float data[144];
    const th_tensor biased[3] = {th_in("X", ONNORM_FLOAT, 4, x4, data),
                                 th_const("W", ONNORM_FLOAT, 4, (int64_t[]){2, 4, 1, 1}, data),
                                 th_const("B", ONNORM_FLOAT, 1, (int64_t[]){3}, data)};
    b = th_node_model(&r, 11, "Conv", 3, biased, ONNORM_FLOAT, NULL);
    th_go_fails(&r, b, 1, ONNORM_ERR_SHAPE, "input 'B' has shape [3], expected [2]");
    /* float64 is not supported: the model loads, the run refuses it */
    static double dx[144], dw[8];
    const th_tensor f64[2] = {th_in("X", ONNORM_DOUBLE, 4, x4, dx),
                              th_const("W", ONNORM_DOUBLE, 4, (int64_t[]){2, 4, 1, 1}, dw)};
    b = th_node_model(&r, 11, "Conv", 2, f64, ONNORM_DOUBLE, NULL);
    assert_int_equal(th_go_fails(&r, b, 0, ONNORM_ERR_DTYPE, "supported: float32"), TH_RUN);
}

/* ---- ConvTranspose cases ----------------------------------------------------- */

typedef struct convt_case {
    int opset, nsp;
    int64_t n, c, m, group;
    int64_t in[MAXSP], k[MAXSP], s[MAXSP], d[MAXSP];
    int64_t pads[2 * MAXSP], opad[MAXSP], oshape[MAXSP];
    const char *auto_pad;
    int bias, threads;
} convt_case;

/* Output extents and begin pads, from the spec's formulas for each opset. */
static void convt_geometry(const convt_case *cc, win *wn, int64_t *od)
{
    wn->nsp = cc->nsp;
    const int same = cc->auto_pad && !strncmp(cc->auto_pad, "SAME", 4);
    const int upper = cc->auto_pad && !strcmp(cc->auto_pad, "SAME_UPPER");
    for (int i = 0; i < cc->nsp; i++) {
        int64_t s = cc->s[i] ? cc->s[i] : 1, d = cc->d[i] ? cc->d[i] : 1;
        int64_t natural = s * (cc->in[i] - 1) + cc->opad[i] + (cc->k[i] - 1) * d + 1;
        wn->k[i] = cc->k[i], wn->s[i] = s, wn->d[i] = d;
        if (cc->oshape[0] || same) {
            od[i] = cc->oshape[0] ? cc->oshape[i] : cc->in[i] * s;
            int64_t total = natural - od[i];
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); /* floor */
            /* opset 11: the odd unit goes to the end for SAME_UPPER, to the
             * beginning otherwise; opset 1 the other way round */
            int end = cc->opset >= 11 ? upper : !upper;
            wn->plo[i] = end ? half : total - half;
        } else {
            wn->plo[i] = cc->pads[i];
            od[i] = natural - cc->pads[i] - cc->pads[i + cc->nsp];
        }
    }
}

static void run_convt_case(const convt_case *cc)
{
    const int nsp = cc->nsp;
    const int64_t mg = cc->m / cc->group;
    int64_t xd[2 + MAXSP] = {cc->n, cc->c}, wd[2 + MAXSP] = {cc->c, mg}, od[MAXSP];
    memcpy(xd + 2, cc->in, (size_t)nsp * sizeof *xd);
    memcpy(wd + 2, cc->k, (size_t)nsp * sizeof *wd);
    win wn;
    convt_geometry(cc, &wn, od);
    float *x = th_randf(4, rn_prod(xd, 0, nsp + 2)), *w = th_randf(5, rn_prod(wd, 0, nsp + 2));
    float *b = th_randf(6, cc->m);
    int64_t yd[2 + MAXSP] = {cc->n, cc->m};
    memcpy(yd + 2, od, (size_t)nsp * sizeof *yd);
    double *ref = th_dalloc(rn_prod(yd, 0, nsp + 2));
    ref_convt(x, xd, w, cc->m, cc->bias ? b : NULL, cc->group, &wn, od, ref);

    th_run r;
    const th_tensor in[3] = {th_in("X", ONNORM_FLOAT, nsp + 2, xd, x),
                             th_const("W", ONNORM_FLOAT, nsp + 2, wd, w),
                             th_const("B", ONNORM_FLOAT, 1, (int64_t[]){cc->m}, b)};
    tb_node *nd;
    tb_model *mb =
        th_node_model(&r, cc->opset, "ConvTranspose", cc->bias ? 3 : 2, in, ONNORM_FLOAT, &nd);
    set_window_attrs(nd, nsp, cc->s, cc->d, cc->pads, cc->auto_pad);
    if (cc->group != 1) tb_attr_int(nd, "group", cc->group);
    if (cc->opad[0] || (nsp > 1 && cc->opad[1])) tb_attr_ints(nd, "output_padding", nsp, cc->opad);
    if (cc->oshape[0]) tb_attr_ints(nd, "output_shape", nsp, cc->oshape);
    th_ok(&r, th_go(&r, mb, cc->threads), "ConvTranspose");
    th_expect_output(&r, "ConvTranspose", "Y", ONNORM_FLOAT, nsp + 2, yd, ref, TOL);
    th_free(&r);
    free(x), free(w), free(b), free(ref);
}

static void convt_stride_pads(void **state)
{
    (void)state;
    for (int opset = 6; opset <= 21; opset += 5)
        run_convt_case(&(convt_case){.opset = opset,
                                     .nsp = 2,
                                     .n = 1,
                                     .c = 3,
                                     .m = 2,
                                     .group = 1,
                                     .in = {4, 5},
                                     .k = {3, 3},
                                     .s = {2, 2},
                                     .pads = {1, 1, 1, 1},
                                     .bias = 1});
    /* asymmetric pads, no bias, batch 2 */
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 2,
                                 .n = 2,
                                 .c = 2,
                                 .m = 3,
                                 .group = 1,
                                 .in = {3, 4},
                                 .k = {3, 2},
                                 .s = {3, 2},
                                 .pads = {0, 1, 2, 0}});
}

static void convt_output_padding(void **state)
{
    (void)state;
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 2,
                                 .n = 1,
                                 .c = 2,
                                 .m = 2,
                                 .group = 1,
                                 .in = {3, 3},
                                 .k = {3, 3},
                                 .s = {2, 3},
                                 .opad = {1, 2},
                                 .pads = {1, 0, 0, 1},
                                 .bias = 1});
    /* output_padding below the dilation though not the stride */
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 1,
                                 .n = 1,
                                 .c = 2,
                                 .m = 3,
                                 .group = 1,
                                 .in = {5},
                                 .k = {3},
                                 .s = {1},
                                 .d = {3},
                                 .opad = {2},
                                 .bias = 1});
}

static void convt_groups_dilations(void **state)
{
    (void)state;
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 2,
                                 .n = 2,
                                 .c = 4,
                                 .m = 6,
                                 .group = 2,
                                 .in = {4, 3},
                                 .k = {3, 2},
                                 .s = {2, 1},
                                 .d = {2, 2},
                                 .pads = {1, 0, 0, 1},
                                 .bias = 1});
    /* depthwise-like: one channel per group */
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 2,
                                 .n = 1,
                                 .c = 3,
                                 .m = 3,
                                 .group = 3,
                                 .in = {4, 4},
                                 .k = {2, 2},
                                 .s = {2, 2},
                                 .bias = 1});
}

static void convt_output_shape(void **state)
{
    (void)state;
    /* natural extents 11 x 11; 10 x 8 asks for odd and even total pads.
     * Opsets 7 and 11 split the odd unit differently; also with SAME_UPPER. */
    const char *modes[] = {NULL, "SAME_UPPER"};
    for (int i = 0; i < 2; i++)
        for (int opset = 7; opset <= 11; opset += 4)
            run_convt_case(&(convt_case){.opset = opset,
                                         .nsp = 2,
                                         .n = 1,
                                         .c = 2,
                                         .m = 2,
                                         .group = 1,
                                         .in = {5, 5},
                                         .k = {3, 3},
                                         .s = {2, 2},
                                         .oshape = {10, 8},
                                         .auto_pad = modes[i],
                                         .bias = 1});
    /* an output larger than natural: borders only hold the bias */
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 2,
                                 .n = 1,
                                 .c = 2,
                                 .m = 2,
                                 .group = 1,
                                 .in = {3, 3},
                                 .k = {2, 2},
                                 .s = {2, 2},
                                 .oshape = {9, 8},
                                 .bias = 1});
    /* output_padding takes part in the padding when output_shape is given */
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 2,
                                 .n = 1,
                                 .c = 1,
                                 .m = 2,
                                 .group = 1,
                                 .in = {4, 4},
                                 .k = {3, 3},
                                 .s = {2, 2},
                                 .opad = {1, 1},
                                 .oshape = {8, 9},
                                 .bias = 1});
}

static void convt_auto_pad(void **state)
{
    (void)state;
    const char *modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int i = 0; i < 3; i++)
        for (int opset = 7; opset <= 11; opset += 4)
            run_convt_case(&(convt_case){.opset = opset,
                                         .nsp = 2,
                                         .n = 1,
                                         .c = 2,
                                         .m = 3,
                                         .group = 1,
                                         .in = {4, 3},
                                         .k = {4, 3},
                                         .s = {2, 3},
                                         .auto_pad = modes[i],
                                         .bias = 1});
}

static void convt_ranks_threads(void **state)
{
    (void)state;
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 1,
                                 .n = 2,
                                 .c = 3,
                                 .m = 2,
                                 .group = 1,
                                 .in = {7},
                                 .k = {4},
                                 .s = {3},
                                 .pads = {1, 2},
                                 .bias = 1});
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 1,
                                 .n = 0,
                                 .c = 3,
                                 .m = 2,
                                 .group = 1,
                                 .in = {7},
                                 .k = {4},
                                 .s = {3},
                                 .bias = 1});
    run_convt_case(&(convt_case){.opset = 11,
                                 .nsp = 3,
                                 .n = 1,
                                 .c = 2,
                                 .m = 4,
                                 .group = 2,
                                 .in = {3, 4, 3},
                                 .k = {2, 3, 2},
                                 .s = {2, 1, 2},
                                 .pads = {0, 1, 1, 1, 0, 0}});
    for (int t = 1; t <= 3; t += 2)
        run_convt_case(&(convt_case){.opset = 11,
                                     .nsp = 2,
                                     .n = 2,
                                     .c = 16,
                                     .m = 8,
                                     .group = 1,
                                     .in = {20, 22},
                                     .k = {4, 4},
                                     .s = {2, 2},
                                     .pads = {1, 1, 1, 1},
                                     .bias = 1,
                                     .threads = t});
}

/* A ConvTranspose node on X [1, 4, 5, 5] (fed) and W [wd]; the node goes to *nd. */
static tb_model *convt_error_node(th_run *r, const int64_t *wd, tb_node **nd)
{
    static float data[4096];
    const th_tensor in[2] = {th_in("X", ONNORM_FLOAT, 4, (int64_t[]){1, 4, 5, 5}, data),
                             th_const("W", ONNORM_FLOAT, 4, wd, data)};
    return th_node_model(r, 11, "ConvTranspose", 2, in, ONNORM_FLOAT, nd);
}

static void convt_errors(void **state)
{
    (void)state;
    th_run r;
    tb_node *nd;
    struct {
        int64_t wd[4];
        int64_t group;
        int64_t opad;
        onnorm_status code;
        const char *msg;
    } cases[] = {
        {{3, 2, 3, 3}, 1, 0, ONNORM_ERR_SHAPE, "must have X's 4 channels"},
        {{4, 2, 3, 3}, 3, 0, ONNORM_ERR_INVALID, "group 3 must be >= 1 and divide"},
        {{4, 2, 3, 3}, 1, 2, ONNORM_ERR_INVALID, "output_padding[0] = 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb_model *b = convt_error_node(&r, cases[i].wd, &nd);
        tb_attr_ints(nd, "strides", 2, (int64_t[]){2, 2});
        if (cases[i].group != 1) tb_attr_int(nd, "group", cases[i].group);
        if (cases[i].opad) tb_attr_ints(nd, "output_padding", 2, (int64_t[]){cases[i].opad, 0});
        th_go_fails(&r, b, 1, cases[i].code, cases[i].msg);
    }
    /* kernel rank */
    tb_model *b = convt_error_node(&r, (int64_t[]){4, 2, 3, 3}, &nd);
    tb_attr_ints(nd, "kernel_shape", 1, (int64_t[]){3});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "'kernel_shape' has 1 values, expected 2");
    /* output_shape of the wrong length */
    b = convt_error_node(&r, (int64_t[]){4, 2, 3, 3}, &nd);
    tb_attr_ints(nd, "output_shape", 3, (int64_t[]){9, 9, 9});
    th_go_fails(&r, b, 1, ONNORM_ERR_INVALID, "output_shape has 3 values");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_basic),
        cmocka_unit_test(conv_groups),
        cmocka_unit_test(conv_depthwise),
        cmocka_unit_test(conv_dilation_stride),
        cmocka_unit_test(conv_auto_pad),
        cmocka_unit_test(conv_ranks),
        cmocka_unit_test(conv_pointwise_and_threads),
        cmocka_unit_test(expand_depthwise_errors),
        cmocka_unit_test(conv_errors),
        cmocka_unit_test(convt_stride_pads),
        cmocka_unit_test(convt_output_padding),
        cmocka_unit_test(convt_groups_dilations),
        cmocka_unit_test(convt_output_shape),
        cmocka_unit_test(convt_auto_pad),
        cmocka_unit_test(convt_ranks_threads),
        cmocka_unit_test(convt_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
