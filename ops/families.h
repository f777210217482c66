/*
 * Every op family's kernel table, one line each. A family file defines
 *   const onn_kernel onn_kernels_NAME[]; const int onn_kernels_NAME_count;
 * and is listed here once; the registry and kernel.h pick it up.
 */
ONN_FAMILY(batchnorm)
ONN_FAMILY(instancenorm)
ONN_FAMILY(layernorm)
ONN_FAMILY(groupnorm)
