/* Helpers shared by the onnorm subcommands (declared in cli.h). */
#include "cli.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void onn_cli_usage(FILE *f)
{
    fprintf(f, "onnorm " ONNORM_VERSION " - ONNX normalization runtime\n"
               "usage:\n"
               "  onnorm run MODEL [--input NAME=FILE.pb ...] [--output-dir DIR]\n"
               "                   [--threads N] [--repeat R] [--profile] [--trace FILE.json]\n"
               "  onnorm test DIR... [--rtol R] [--atol A] [--threads N]\n"
               "  onnorm bench MODEL... [--threads N] [--iters N] [--opt-level N]\n"
               "                   [--profile] [--trace FILE.json]\n"
               "  onnorm info MODEL\n"
               "  onnorm ops [--all]\n"
               "  onnorm optimize MODEL -o OUT.onnx [--disable PASS,...]\n");
}

/* IEEE half -> double, exact for every value incl. subnormals, Inf, NaN. */
static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m | 0x400, e - 25);
    return (h & 0x8000) ? -v : v;
}

/* bfloat16 is the top half of a float32. */
static double bf16_to_double(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

double onn_cli_value(const onnorm_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ONNORM_FLOAT16: return half_to_double(((const uint16_t *)t->data)[i]);
    case ONNORM_BFLOAT16: return bf16_to_double(((const uint16_t *)t->data)[i]);
    case ONNORM_FLOAT: return ((const float *)t->data)[i];
    case ONNORM_DOUBLE: return ((const double *)t->data)[i];
    case ONNORM_INT64: return (double)((const int64_t *)t->data)[i];
    case ONNORM_INT32: return ((const int32_t *)t->data)[i];
    case ONNORM_INT16: return ((const int16_t *)t->data)[i];
    case ONNORM_INT8: return ((const int8_t *)t->data)[i];
    case ONNORM_UINT8:
    case ONNORM_BOOL: return ((const uint8_t *)t->data)[i];
    case ONNORM_UINT16: return ((const uint16_t *)t->data)[i];
    case ONNORM_UINT32: return ((const uint32_t *)t->data)[i];
    case ONNORM_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: return NAN;
    }
}

const char *onn_cli_shape(const onnorm_tensor *t, char *buf, size_t len)
{
    return onnorm_shape_str(t->dims, t->rank, buf, len);
}

const char *onn_cli_wait_policy(void)
{
    const char *p = getenv("OMP_WAIT_POLICY");
    if (p) return p;
    return getenv("GOMP_SPINCOUNT") ? "GOMP_SPINCOUNT" : "default";
}

double onn_cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int onn_cli_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Fills a missing float input with a fixed pseudo-random sequence in [-1, 1),
 * so repeated runs see the same data. Symbolic dims become 1. */
onnorm_tensor *onn_cli_fill_input(const onnorm_model *m, int i, onnorm_error *err)
{
    onnorm_tensor info;
    onnorm_model_input_info(m, i, &info);
    if (info.dtype != ONNORM_FLOAT && info.dtype != ONNORM_DOUBLE) {
        snprintf(err->message, sizeof err->message,
                 "input '%s' (%s) must be given with --input: only float inputs are filled",
                 info.name, onnorm_dtype_name(info.dtype));
        return NULL;
    }
    if (info.rank < 0) {
        snprintf(err->message, sizeof err->message,
                 "input '%s' has no declared shape: give it with --input", info.name);
        return NULL;
    }
    onnorm_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    *t = info;
    t->name = NULL;
    for (int k = 0; k < t->rank; k++)
        if (t->dims[k] < 0) t->dims[k] = 1;
    int64_t n = onnorm_tensor_numel(t);
    t->data = n >= 0 ? malloc((size_t)(n ? n : 1) * onnorm_dtype_size(t->dtype)) : NULL;
    if (!t->data) {
        free(t);
        snprintf(err->message, sizeof err->message, "input '%s': cannot allocate", info.name);
        return NULL;
    }
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (int64_t k = 0; k < n; k++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
        if (t->dtype == ONNORM_FLOAT)
            ((float *)t->data)[k] = (float)v;
        else
            ((double *)t->data)[k] = v;
    }
    return t;
}
