/* Runtime objects behind the public opaque handles. */
#ifndef ONN_RUNTIME_H
#define ONN_RUNTIME_H

#include "ops/kernel.h"

struct onnorm_model {
    onn_graph *g;
    const onn_kernel **kernels; /* per node; NULL for unsupported nodes */
    const onnorm_model *base;   /* an optimized copy borrows base's weights */
    int unsupported;  /* nodes without a kernel (only with ONNORM_LOAD_ALLOW_UNSUPPORTED) */
    char notes[2048]; /* what load-time folding left alone, and why */
};

#endif
