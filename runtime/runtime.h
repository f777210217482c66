/* Runtime objects behind the public opaque handles. */
#ifndef ONN_RUNTIME_H
#define ONN_RUNTIME_H

#include "graph/ir.h"

struct onnorm_model {
    onn_graph *g;
    const onnorm_model *base; /* an optimized copy borrows base's weights */
    int unsupported;          /* nodes without a kernel (only with ONNORM_LOAD_ALLOW_UNSUPPORTED) */
};

#endif
