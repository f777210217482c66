/*
 * Broadcast shapes and the merged strided walk (see broadcast.h).
 */
#include "ops/core/broadcast.h"
#include "ops/core/threadpool.h"

#include <stdio.h>

/* Elements per thread below which splitting a pass further does not pay. */
#define ONN_ELEMENTS_PER_TASK 4096

bool onn_broadcast_dims(int n, const int *ranks, const int64_t *const *dims, int *rank_out,
                        int64_t *dims_out)
{
    int r = 0;
    for (int k = 0; k < n; k++)
        if (ranks[k] > r) r = ranks[k];
    if (r > ONNORM_MAX_RANK) return false;
    for (int d = 0; d < r; d++) {
        int64_t size = 1;
        for (int k = 0; k < n; k++) {
            int kd = d - (r - ranks[k]); /* operand k's dim aligned with result dim d */
            if (kd < 0) continue;
            int64_t len = dims[k][kd];
            if (len == 1 || len == size) continue;
            if (size != 1) return false;
            size = len;
        }
        dims_out[d] = size;
    }
    *rank_out = r;
    return true;
}

onnorm_status onn_broadcast_shape(onn_kctx *ctx, int n, const onnorm_tensor *const *ts,
                                  int *rank_out, int64_t *dims_out)
{
    /* Fold the operands in pairwise: broadcasting is associative. */
    int64_t acc[ONNORM_MAX_RANK];
    int acc_rank = 0;
    bool ok = true;
    for (int k = 0; k < n && ok; k++) {
        if (!ts[k]) continue;
        const int ranks[2] = {acc_rank, ts[k]->rank};
        const int64_t *dims[2] = {acc, ts[k]->dims};
        int64_t next[ONNORM_MAX_RANK]; /* not acc: the dims are read while written */
        ok = onn_broadcast_dims(2, ranks, dims, &acc_rank, next);
        for (int d = 0; ok && d < acc_rank; d++)
            acc[d] = next[d];
    }
    if (!ok) {
        char buf[512], sh[128];
        size_t used = 0;
        buf[0] = '\0';
        for (int k = 0; k < n && used < sizeof buf; k++)
            if (ts[k])
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", used ? ", " : "",
                                         onn_shape_str(ts[k]->dims, ts[k]->rank, sh, sizeof sh));
        return onn_kfail(ctx, ONNORM_ERR_SHAPE, "input shapes %s do not broadcast together", buf);
    }
    *rank_out = acc_rank;
    for (int d = 0; d < acc_rank; d++)
        dims_out[d] = acc[d];
    return ONNORM_OK;
}

/* Row-major strides of operand t read as the result shape; 0 on stretched
 * dims. False when t does not broadcast unidirectionally to dims. */
static bool operand_strides(const onnorm_tensor *t, int rank, const int64_t *dims, int64_t *st)
{
    if (t->rank > rank) return false;
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
        int td = d - (rank - t->rank);
        int64_t len = td >= 0 ? t->dims[td] : 1;
        if (len != dims[d] && len != 1) return false;
        st[d] = len == 1 ? 0 : s;
        s *= len;
    }
    return true;
}

/* True when result dim d (size len, operand strides st[k][d]) continues the
 * merged dim `outer` for every operand, so the two can be walked as one. */
static bool continues(const onn_bcast *p, int outer, int64_t (*st)[ONNORM_MAX_RANK], int d,
                      int64_t len)
{
    for (int k = 0; k < p->n_in; k++)
        if (p->strides[k][outer] != st[k][d] * len) return false;
    return true;
}

bool onn_bcast_plan(onn_bcast *p, int rank, const int64_t *dims, int n,
                    const onnorm_tensor *const *ts)
{
    int64_t st[ONN_BCAST_MAX_IN][ONNORM_MAX_RANK];
    if (n < 1 || n > ONN_BCAST_MAX_IN || rank < 0 || rank > ONNORM_MAX_RANK) return false;
    p->n_in = n;
    p->numel = onn_dims_numel(dims, 0, rank);
    if (p->numel < 0) return false;
    for (int k = 0; k < n; k++)
        if (!operand_strides(ts[k], rank, dims, st[k])) return false;
    p->rank = 0;
    for (int d = 0; d < rank; d++) {
        if (dims[d] == 1) continue; /* walks nothing; every operand reads index 0 */
        int r = p->rank;
        if (r > 0 && continues(p, r - 1, st, d, dims[d])) {
            p->dims[r - 1] *= dims[d];
            for (int k = 0; k < n; k++)
                p->strides[k][r - 1] = st[k][d];
            continue;
        }
        p->dims[r] = dims[d];
        for (int k = 0; k < n; k++)
            p->strides[k][r] = st[k][d];
        p->rank++;
    }
    if (p->rank == 0) { /* scalar result */
        p->rank = 1;
        p->dims[0] = 1;
        for (int k = 0; k < n; k++)
            p->strides[k][0] = 0;
    }
    return true;
}

void onn_bcast_walk(const onn_bcast *p, int64_t begin, int64_t end, onn_bcast_fn fn, void *arg)
{
    if (begin >= end) return;
    const int r = p->rank, n = p->n_in;
    int64_t idx[ONNORM_MAX_RANK], off[ONN_BCAST_MAX_IN] = {0}, step[ONN_BCAST_MAX_IN];
    int64_t rem = begin;
    for (int d = r - 1; d >= 0; d--) {
        idx[d] = rem % p->dims[d];
        rem /= p->dims[d];
        for (int k = 0; k < n; k++)
            off[k] += idx[d] * p->strides[k][d];
    }
    for (int k = 0; k < n; k++)
        step[k] = p->strides[k][r - 1];
    const int64_t inner = p->dims[r - 1];
    for (int64_t pos = begin; pos < end;) {
        int64_t len = inner - idx[r - 1];
        if (len > end - pos) len = end - pos;
        fn(arg, off, pos, len, step);
        pos += len;
        idx[r - 1] += len;
        for (int k = 0; k < n; k++)
            off[k] += len * step[k];
        /* Carry into outer dims, rewinding each operand's offset. */
        for (int d = r - 1; d > 0 && idx[d] == p->dims[d]; d--) {
            idx[d] = 0;
            idx[d - 1]++;
            for (int k = 0; k < n; k++)
                off[k] += p->strides[k][d - 1] - p->dims[d] * p->strides[k][d];
        }
    }
}

void onn_chunk(int64_t n, int64_t parts, int64_t i, int64_t *begin, int64_t *end)
{
    int64_t q = n / parts, r = n % parts;
    *begin = i * q + (i < r ? i : r);
    *end = *begin + q + (i < r ? 1 : 0);
}

/*
 * A pass of fewer cheap elements than this stays on one thread. Measured on
 * Zen 3 with chains of 50 float32 Adds on the thread pool (threadpool.h),
 * 2 threads against 1: 32 768 elements 0.21 against 0.22 ms, 65 536 0.34-
 * 0.37 against 0.50, 131 072 0.64-0.76 against 1.06, 262 144 1.17-1.46
 * against 2.14-2.30. (With OpenMP teams waiting passively, about 20 us a
 * wake-up, the break-even was near 200 000 elements.)
 */
#define ONN_ELEMENTWISE_MIN 65536

int onn_elementwise_threads(const onn_kctx *ctx, int64_t n)
{
    return onn_elementwise_threads_weighted(ctx, n, 1);
}

int onn_elementwise_threads_weighted(const onn_kctx *ctx, int64_t n, int weight)
{
    if (n < ONN_ELEMENTWISE_MIN / weight) return 1;
    return onn_threads_for(ctx, n * weight, n / ONN_ELEMENTS_PER_TASK);
}

typedef struct range_adapter {
    void (*fn)(void *, int64_t, int64_t);
    void *arg;
} range_adapter;

static void range_adapted(void *arg, int64_t begin, int64_t end, int worker)
{
    (void)worker;
    const range_adapter *a = arg;
    a->fn(a->arg, begin, end);
}

/* Calls fn(arg, begin, end) once per chunk of [0, n), on nt threads. */
static void range_parallel_on(int nt, int64_t n, void (*fn)(void *, int64_t, int64_t), void *arg)
{
    if (nt <= 1) {
        fn(arg, 0, n);
        return;
    }
    range_adapter a = {fn, arg};
    onn_parallel_range(nt, n, range_adapted, &a);
}

typedef struct span_job {
    onn_span_fn fn;
    const char *x;
    char *y;
    size_t esz;
    const void *param;
} span_job;

static void span_chunk(void *arg, int64_t begin, int64_t end)
{
    const span_job *j = arg;
    j->fn(j->x + (size_t)begin * j->esz, j->y + (size_t)begin * j->esz, end - begin, j->param);
}

static void range_parallel(const onn_kctx *ctx, int64_t n, void (*fn)(void *, int64_t, int64_t),
                           void *arg)
{
    range_parallel_on(onn_elementwise_threads(ctx, n), n, fn, arg);
}

void onn_span_parallel(const onn_kctx *ctx, onn_span_fn fn, const void *x, void *y, int64_t n,
                       size_t esz, const void *param)
{
    onn_span_parallel_weighted(ctx, fn, x, y, n, esz, param, 1);
}

void onn_span_parallel_weighted(const onn_kctx *ctx, onn_span_fn fn, const void *x, void *y,
                                int64_t n, size_t esz, const void *param, int weight)
{
    span_job j = {fn, x, y, esz, param};
    range_parallel_on(onn_elementwise_threads_weighted(ctx, n, weight), n, span_chunk, &j);
}

typedef struct walk_job {
    const onn_bcast *p;
    onn_bcast_fn fn;
    void *arg;
} walk_job;

static void walk_chunk(void *arg, int64_t begin, int64_t end)
{
    const walk_job *j = arg;
    onn_bcast_walk(j->p, begin, end, j->fn, j->arg);
}

void onn_bcast_parallel(const onn_kctx *ctx, const onn_bcast *p, onn_bcast_fn fn, void *arg)
{
    walk_job j = {p, fn, arg};
    range_parallel(ctx, p->numel, walk_chunk, &j);
}
