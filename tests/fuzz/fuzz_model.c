/*
 * Fuzz target: model bytes -> load -> optimize -> session -> run.
 *
 * Built two ways (tests/CMakeLists.txt): with clang's libFuzzer under
 * -DONNORM_FUZZ=ON, and with driver.c's main() for the ctest replay of the
 * corpus and of the malformed-input catalogue (tests/malformed/).
 *
 * Decisions where the issue is silent:
 *  - limits: folding may keep 8 MiB (onnorm_load_options.max_fold_bytes)
 *    and a session may plan 32 MiB (max_arena_bytes), so that a run never
 *    needs more than a few tens of MiB and libFuzzer's -malloc_limit_mb=256
 *    turns any allocation past the configured limits into a finding;
 *  - inputs: unknown dims are 1, a feed of more than 4096 elements (or of an
 *    element type onnorm has no size for) ends the case after session
 *    creation; data are deterministic small values (floats in [-1, 1),
 *    integers 0..2, booleans alternating), so integer inputs that index or
 *    shape stay small;
 *  - one OpenMP thread: faster, and the same on every machine.
 * Every failure is a clean status: the target only checks that nothing
 * crashes, leaks or trips a sanitizer.
 */
#include "onnorm.h"

#include <omp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FOLD_BYTES ((size_t)8 << 20)
#define FUZZ_ARENA_BYTES ((size_t)32 << 20)
#define FUZZ_MAX_FEED 4096

/* Fills n elements of type dt with the deterministic values above. */
static void fill(void *p, onnorm_dtype dt, int64_t n)
{
    uint32_t x = 12345;
    for (int64_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        const int small = (int)((x >> 16) % 3);
        const float f = (float)((x >> 8) & 0xFFFF) / 32768.0f - 1.0f;
        switch (dt) {
        case ONNORM_FLOAT: ((float *)p)[i] = f; break;
        case ONNORM_DOUBLE: ((double *)p)[i] = f; break;
        case ONNORM_FLOAT16: ((uint16_t *)p)[i] = small ? 0x3C00 : 0xB800; break; /* 1, -0.5 */
        case ONNORM_BFLOAT16: ((uint16_t *)p)[i] = small ? 0x3F80 : 0xBF00; break;
        case ONNORM_BOOL: ((uint8_t *)p)[i] = (uint8_t)(i & 1); break;
        case ONNORM_INT8:
        case ONNORM_UINT8: ((uint8_t *)p)[i] = (uint8_t)small; break;
        case ONNORM_INT16:
        case ONNORM_UINT16: ((uint16_t *)p)[i] = (uint16_t)small; break;
        case ONNORM_INT32:
        case ONNORM_UINT32: ((uint32_t *)p)[i] = (uint32_t)small; break;
        case ONNORM_INT64:
        case ONNORM_UINT64: ((uint64_t *)p)[i] = (uint64_t)small; break;
        default: break;
        }
    }
}

static void run_session(const onnorm_model *m)
{
    onnorm_session_options so;
    onnorm_session_options_init(&so);
    so.num_threads = 1;
    so.max_arena_bytes = FUZZ_ARENA_BYTES;
    onnorm_session *s = NULL;
    onnorm_error e;
    if (onnorm_session_create(m, &so, &s, &e)) return;
    const int n_in = onnorm_model_input_count(m);
    void **bufs = calloc((size_t)n_in + 1, sizeof *bufs);
    bool ok = bufs != NULL;
    for (int i = 0; ok && i < n_in; i++) {
        onnorm_tensor info;
        if (onnorm_model_input_info(m, i, &info)) {
            ok = false;
            break;
        }
        int64_t dims[ONNORM_MAX_RANK], n = 1;
        const int rank = info.rank < 0 ? 1 : info.rank;
        for (int d = 0; d < rank; d++) {
            dims[d] = info.rank < 0 || info.dims[d] < 0 ? 1 : info.dims[d];
            if (dims[d] > FUZZ_MAX_FEED || (n *= dims[d]) > FUZZ_MAX_FEED) ok = false;
        }
        const size_t esz = onnorm_dtype_size(info.dtype);
        if (!ok || esz == 0 || !(bufs[i] = malloc((size_t)(n ? n : 1) * esz))) {
            ok = false;
            break;
        }
        fill(bufs[i], info.dtype, n);
        onnorm_session_bind_input(s, onnorm_model_input_name(m, i), info.dtype, dims, rank, bufs[i],
                                  &e);
    }
    if (ok && !onnorm_session_run(s, &e)) {
        for (int o = 0; o < onnorm_model_output_count(m); o++) {
            onnorm_tensor t;
            if (onnorm_session_output(s, onnorm_model_output_name(m, o), &t, &e)) continue;
            /* Touch the first and last byte, as a caller reading it would. */
            const int64_t n = onnorm_tensor_numel(&t);
            const size_t esz = onnorm_dtype_size(t.dtype);
            if (n > 0 && esz && t.data) {
                volatile const uint8_t *b = t.data;
                (void)b[0];
                (void)b[(size_t)n * esz - 1];
            }
        }
        onnorm_session_run(s, &e); /* a second run reuses the plan */
    }
    size_t arena = 0;
    onnorm_session_memory(s, &arena, NULL, NULL);
    for (int i = 0; bufs && i < n_in; i++)
        free(bufs[i]);
    free(bufs);
    onnorm_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        omp_set_num_threads(1);
        once = 1;
    }
    onnorm_load_options lo;
    onnorm_load_options_init(&lo);
    lo.max_fold_bytes = FUZZ_FOLD_BYTES;
    onnorm_model *m = NULL;
    onnorm_error e;
    if (onnorm_model_load_buffer_ex(data, size, "fuzz", &lo, &m, &e)) return 0;
    /* Introspection reads every declared type. */
    for (int i = 0; i < onnorm_model_node_count(m); i++) {
        const char *name, *op, *dom;
        int ver;
        onnorm_model_node(m, i, &name, &op, &dom, &ver);
    }
    for (int i = 0; i < onnorm_model_output_count(m); i++) {
        onnorm_tensor info;
        onnorm_model_output_info(m, i, &info);
    }
    (void)onnorm_model_notes(m);
    onnorm_optimize_options oo;
    onnorm_optimize_options_init(&oo);
    onnorm_model *opt = NULL;
    char report[512];
    if (!onnorm_model_optimize(m, &oo, &opt, report, sizeof report, &e)) onnorm_model_free(opt);
    run_session(m);
    onnorm_model_free(m);
    return 0;
}
