/*
 * The versioned kernel registry, for the runtime (kernels do not need it).
 * Each op family exports a table of kernels, one entry per since_version
 * (ops/families.h lists the families); a node gets the entry with the
 * highest since_version not above the model's opset for its domain, the
 * rule the ONNX versioning document gives.
 */
#ifndef ONN_REGISTRY_H
#define ONN_REGISTRY_H

#include "ops/kernel.h"

/* The kernel with the highest since_version <= opset, or NULL. */
const onn_kernel *onn_registry_find(const char *domain, const char *op_type, int64_t opset);
/* How many kernels there are; kernel i in registry order (NULL past the end). */
int onn_registry_count(void);
const onn_kernel *onn_registry_at(int i);
/* True when some version of the op exists (to tell "unknown op" from "opset");
 * *lowest_version receives the oldest. */
bool onn_registry_knows(const char *domain, const char *op_type, int *lowest_version);
/* Highest opset of a domain this build understands. */
int64_t onn_registry_max_opset(const char *domain);

#endif
