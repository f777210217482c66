/* Offset tables for onn_rview (see rview.h). */
#include "ops/norm/rview.h"

#include <stdlib.h>

/* Offsets of every index combination over the axes where want[i] == pick,
 * in row-major order of those axes. */
static int64_t *offsets(const int64_t *dims, const int64_t *strides, int rank, const bool *want,
                        bool pick, int64_t count)
{
    int64_t *off = malloc((size_t)(count ? count : 1) * sizeof *off);
    if (!off) return NULL;
    int64_t idx[ONNORM_MAX_RANK] = {0};
    for (int64_t n = 0; n < count; n++) {
        int64_t o = 0;
        for (int i = 0; i < rank; i++)
            if (want[i] == pick) o += idx[i] * strides[i];
        off[n] = o;
        for (int i = rank - 1; i >= 0; i--) {
            if (want[i] != pick) continue;
            if (++idx[i] < dims[i]) break;
            idx[i] = 0;
        }
    }
    return off;
}

bool onn_rview_init(onn_rview *v, const int64_t *dims, int rank, const bool *reduced)
{
    int64_t strides[ONNORM_MAX_RANK], s = 1;
    v->K = v->R = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
        if (reduced[i])
            v->R *= dims[i];
        else
            v->K *= dims[i];
    }
    v->koff = offsets(dims, strides, rank, reduced, false, v->K);
    v->roff = offsets(dims, strides, rank, reduced, true, v->R);
    if (!v->koff || !v->roff) {
        onn_rview_free(v);
        return false;
    }
    return true;
}

void onn_rview_free(onn_rview *v)
{
    free(v->koff);
    free(v->roff);
    v->koff = v->roff = NULL;
}
