/* Ends one x86 variant of moments_loops.h: undefines what moments.c set. */
#undef SFX
#undef ISA
#undef VF
#undef VL
#undef V_SET1
#undef V_LOADU
#undef V_SUB
#undef V_MUL
#undef V_ADD
#undef V_FMADD
#undef V_STREAM
