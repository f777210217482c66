/*
 * Every op family's kernel table, one line each. A family file defines
 *   const onn_kernel onn_kernels_NAME[]; const int onn_kernels_NAME_count;
 * and is listed here once; the registry and kernel.h pick it up.
 */
ONN_FAMILY(batchnorm)
ONN_FAMILY(instancenorm)
ONN_FAMILY(layernorm)
ONN_FAMILY(groupnorm)
ONN_FAMILY(binary)
ONN_FAMILY(shape_ops)
ONN_FAMILY(transpose)
ONN_FAMILY(concat_split)
ONN_FAMILY(slice_gather)
ONN_FAMILY(cast)
ONN_FAMILY(expand)
ONN_FAMILY(conv)
ONN_FAMILY(conv_transpose)
ONN_FAMILY(gemm)
ONN_FAMILY(pool)
ONN_FAMILY(unary)
ONN_FAMILY(softmax)
ONN_FAMILY(reduce)
ONN_FAMILY(pad)
ONN_FAMILY(tile_prelu)
ONN_FAMILY(unary_extra)
ONN_FAMILY(mvn)
ONN_FAMILY(lpnorm)
ONN_FAMILY(lrn)
