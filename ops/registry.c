/* The versioned kernel registry; see registry.h. */
#include "ops/registry.h"

#include <string.h>

#define ONN_FAMILY(name)                                                                           \
    extern const onn_kernel onn_kernels_##name[];                                                  \
    extern const int onn_kernels_##name##_count;
#include "ops/families.h"
#undef ONN_FAMILY

typedef struct kernel_table {
    const onn_kernel *kernels;
    const int *count;
} kernel_table;

static const kernel_table tables[] = {
#define ONN_FAMILY(name) {onn_kernels_##name, &onn_kernels_##name##_count},
#include "ops/families.h"
#undef ONN_FAMILY
};

#define N_TABLES (sizeof tables / sizeof tables[0])

/* The newest ai.onnx opset whose operator changes this build tracks. A model
 * importing a newer opset may rely on semantics written after this build, so
 * its nodes are reported as unsupported rather than guessed at. */
#define ONN_MAX_AI_ONNX_OPSET 23

int64_t onn_registry_max_opset(const char *domain)
{
    if (domain[0] == '\0') return ONN_MAX_AI_ONNX_OPSET;
    if (strcmp(domain, "ai.onnx.ml") == 0) return 5; /* Scaler, Normalizer unchanged since 1 */
    return 1;                                        /* com.microsoft contrib ops: version 1 */
}

static bool same_op(const onn_kernel *k, const char *domain, const char *op_type)
{
    return strcmp(k->domain, domain) == 0 && strcmp(k->op_type, op_type) == 0;
}

const onn_kernel *onn_registry_find(const char *domain, const char *op_type, int64_t opset)
{
    const onn_kernel *best = NULL;
    for (size_t t = 0; t < N_TABLES; t++)
        for (int i = 0; i < *tables[t].count; i++) {
            const onn_kernel *k = &tables[t].kernels[i];
            if (same_op(k, domain, op_type) && k->since_version <= opset &&
                (!best || k->since_version > best->since_version))
                best = k;
        }
    return best;
}

bool onn_registry_knows(const char *domain, const char *op_type, int *lowest_version)
{
    bool found = false;
    for (size_t t = 0; t < N_TABLES; t++)
        for (int i = 0; i < *tables[t].count; i++) {
            const onn_kernel *k = &tables[t].kernels[i];
            if (!same_op(k, domain, op_type)) continue;
            if (!found || k->since_version < *lowest_version) *lowest_version = k->since_version;
            found = true;
        }
    return found;
}

const onn_kernel *onn_registry_at(int i)
{
    for (size_t t = 0; t < N_TABLES; t++) {
        if (i < *tables[t].count) return &tables[t].kernels[i];
        i -= *tables[t].count;
    }
    return NULL;
}

int onn_registry_count(void)
{
    int n = 0;
    for (size_t t = 0; t < N_TABLES; t++)
        n += *tables[t].count;
    return n;
}
