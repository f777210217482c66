/*
 * Instruction-set variants. Kernels whose inner loops are compiled for
 * several instruction sets (the statistics core, the convolution engine)
 * pick one at prepare with onn_isa_active(); tests run each one the CPU
 * has. The library itself builds for the portable baseline.
 */
#ifndef ONN_ISA_H
#define ONN_ISA_H

#include <stdbool.h>

typedef enum onn_isa {
    ONN_ISA_SCALAR, /* portable C for the build's baseline target */
    ONN_ISA_AVX2,   /* x86-64 AVX2 + FMA */
    ONN_ISA_AVX512, /* x86-64 AVX-512F */
    ONN_ISA_COUNT
} onn_isa;

const char *onn_isa_name(onn_isa isa);
/* This build has the variant and this CPU can run it. */
bool onn_isa_supported(onn_isa isa);
/* The variant kernels use: the best supported one, or the one named by the
 * environment variable ONNORM_ISA ("scalar", "avx2", "avx512") when it is
 * supported, so that a whole test run can be pinned to one variant. */
onn_isa onn_isa_active(void);

/* Opening and closing a region of functions compiled for one variant:
 *   ONN_TARGET_AVX2_BEGIN ... ONN_TARGET_END
 * (gcc's target pragma, clang's attribute push). */
#if defined(__clang__)
#define ONN_TARGET_AVX2_BEGIN                                                                      \
    _Pragma("clang attribute push(__attribute__((target(\"avx2,fma\"))), apply_to = function)")
#define ONN_TARGET_AVX512_BEGIN                                                                    \
    _Pragma("clang attribute push(__attribute__((target(\"avx512f\"))), apply_to = function)")
#define ONN_TARGET_END _Pragma("clang attribute pop")
#else
#define ONN_TARGET_AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma\")")
#define ONN_TARGET_AVX512_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f\")")
#define ONN_TARGET_END _Pragma("GCC pop_options")
#endif

/* The x86-64 variants exist in this build. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ONN_HAVE_X86_VARIANTS 1
#endif

#endif
