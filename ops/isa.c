/* Which instruction-set variants run here; see isa.h. */
#include "ops/isa.h"

#include <stdlib.h>
#include <string.h>

static const char *const isa_names[ONN_ISA_COUNT] = {"scalar", "avx2", "avx512"};

const char *onn_isa_name(onn_isa isa)
{
    return isa >= 0 && isa < ONN_ISA_COUNT ? isa_names[isa] : "unknown";
}

bool onn_isa_supported(onn_isa isa)
{
    switch (isa) {
    case ONN_ISA_SCALAR: return true;
#ifdef ONN_HAVE_X86_VARIANTS
    case ONN_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ONN_ISA_AVX512: return __builtin_cpu_supports("avx512f");
#endif
    default: return false;
    }
}

onn_isa onn_isa_active(void)
{
    const char *want = getenv("ONNORM_ISA");
    for (int i = 0; want && i < ONN_ISA_COUNT; i++)
        if (strcmp(want, isa_names[i]) == 0 && onn_isa_supported((onn_isa)i)) return (onn_isa)i;
    for (int i = ONN_ISA_COUNT - 1; i > 0; i--)
        if (onn_isa_supported((onn_isa)i)) return (onn_isa)i;
    return ONN_ISA_SCALAR;
}
