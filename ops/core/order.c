/*
 * The total element order and merge sort of ops/core/order.h.
 */
#include "ops/core/order.h"

#define ORD_FNS(sfx, ctype, code, ktype, load)                                                     \
    static int cmp_##sfx(const void *data, int64_t a, int64_t b)                                   \
    {                                                                                              \
        const ctype *p = data;                                                                     \
        ktype va = load(p[a]), vb = load(p[b]);                                                    \
        return ONN_LESS(va, vb) ? -1 : ONN_LESS(vb, va) ? 1 : 0;                                   \
    }                                                                                              \
    static bool nz_##sfx(const void *data, int64_t i)                                              \
    {                                                                                              \
        ktype v = load(((const ctype *)data)[i]);                                                  \
        return v != 0;                                                                             \
    }
ONN_ORDERED_TYPES_BOOL(ORD_FNS)

onn_order_cmp_fn onn_order_cmp(onnorm_dtype t)
{
    switch (t) {
#define ORD_CMP_CASE(sfx, ctype, code, ktype, load)                                                \
    case code: return cmp_##sfx;
        ONN_ORDERED_TYPES_BOOL(ORD_CMP_CASE)
    default: return NULL;
    }
}

onn_order_nz_fn onn_order_nonzero(onnorm_dtype t)
{
    switch (t) {
#define ORD_NZ_CASE(sfx, ctype, code, ktype, load)                                                 \
    case code: return nz_##sfx;
        ONN_ORDERED_TYPES_BOOL(ORD_NZ_CASE)
    default: return NULL;
    }
}

/* Bottom-up merge sort: runs of width w in `src` are merged into `dst`,
 * then the roles swap. Ties take the left run first, which keeps it stable. */
void onn_order_sort(int64_t *idx, int64_t *tmp, int64_t n,
                    bool (*less)(const void *ctx, int64_t a, int64_t b), const void *ctx)
{
    int64_t *src = idx, *dst = tmp;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = less(ctx, src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        int64_t *t = src;
        src = dst, dst = t;
    }
    if (src != idx) memcpy(idx, src, (size_t)n * sizeof *idx);
}

onnorm_status onn_value_size_check(onn_kctx *ctx, const char *what, int64_t count, size_t esz)
{
    size_t bytes;
    if (count < 0)
        return onn_kfail(ctx, ONNORM_ERR_INVALID, "%s: negative size %lld", what, (long long)count);
    if ((uint64_t)count > SIZE_MAX || onn_kbytes(ctx, (size_t)count, esz, 1, &bytes))
        return onn_kfail(ctx, ONNORM_ERR_NOMEM, "%s: %lld elements overflow a buffer size", what,
                         (long long)count);
    if (bytes > ONN_VALUE_SIZE_LIMIT)
        return onn_kfail(ctx, ONNORM_ERR_NOMEM,
                         "%s: %lld elements (%zu bytes) exceed the %zu-byte limit for sizes "
                         "computed from input values",
                         what, (long long)count, bytes, (size_t)ONN_VALUE_SIZE_LIMIT);
    return ONNORM_OK;
}
