/*
 * Per-channel affine maps read off Mul / Add / Sub / Div nodes with a
 * constant operand, shared by the passes fold-affine-into-norm
 * (graph/pass_affine_norm.c) and fold-norm-into-next-conv
 * (graph/pass_norm_conv.c).
 *
 * A map is y = x * scale[c] + shift[c] over n channels, kept in double.
 * The constants are float32 or float64 tensors; their elements are read as
 * double, so every folded number is computed in double and rounded once.
 */
#ifndef ONN_AFFINE_H
#define ONN_AFFINE_H

#include "graph/edit.h"

typedef struct onn_affine {
    int64_t n;
    double *scale, *shift;
} onn_affine;

/* The identity map over n channels; false when out of memory. */
bool onn_affine_init(onn_affine *m, int64_t n);
void onn_affine_free(onn_affine *m);

/* What a binary node with one variable operand x and one constant c does. */
typedef enum onn_affine_kind {
    ONN_AFF_NONE = 0,
    ONN_AFF_MUL,  /* x * c, c * x */
    ONN_AFF_ADD,  /* x + c, c + x */
    ONN_AFF_SUB,  /* x - c */
    ONN_AFF_RSUB, /* c - x */
    ONN_AFF_DIV   /* x / c */
} onn_affine_kind;

/* The kind of n (Mul, Add, Sub or Div of ai.onnx) when operand `var` is the
 * variable one; ONN_AFF_NONE with the reason in why (c / x is not affine)
 * or without one (another op: why stays ""). */
onn_affine_kind onn_affine_kind_of(const onn_node *n, int var, char *why, size_t len);

/* Element i of a float32 or float64 tensor, as double. */
double onn_affine_elem(const onnorm_tensor *t, int64_t i);

/* Whether the constant operand c of binary node n, whose other operand has
 * rank r and `chans` channels on `axis`, varies along that axis only and
 * adds no axes (so the result has the variable operand's shape). Opsets
 * before 7 (legacy broadcast attributes) are refused. False with why. */
bool onn_affine_per_channel(const onn_node *n, const onnorm_tensor *c, int r, int axis,
                            int64_t chans, char *why, size_t len);
/* The shape test under both: c's axes, aligned from axis `start` of a
 * rank-r tensor, fit inside it, and each is 1 or (on `axis`) `chans`.
 * False with why. */
bool onn_affine_channel_shape(const onn_node *n, const onnorm_tensor *c, int64_t start, int r,
                              int axis, int64_t chans, char *why, size_t len);

/* m := op(m), with c (checked by onn_affine_per_channel, so it holds one
 * element or one per channel) the constant of kind k. False with why when a
 * divisor is zero or a result is not finite (m is then unspecified). */
bool onn_affine_compose(onn_affine *m, onn_affine_kind k, const onnorm_tensor *c, char *why,
                        size_t len);

/* Why value v is not a constant (for notes). */
void onn_affine_not_const_why(const onn_graph *g, int v, const char *what, char *why, size_t len);

/* Grows n's input list so that slot k exists (new slots omitted). */
bool onn_affine_input_slot(onn_node *n, int k);

#endif
