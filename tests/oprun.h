/*
 * A one-node harness for the elementwise-op tests (test_binary, test_unary):
 * inputs described by `or_arg` (an initializer or a fed input, any type),
 * the node's output "Y" read back after a run.
 */
#ifndef ONNORM_TEST_OPRUN_H
#define ONNORM_TEST_OPRUN_H

#include "builder.h"

#include <stdbool.h>

typedef struct or_arg {
    const char *name; /* "" = omitted optional input */
    onnorm_dtype dt;
    int rank;
    int64_t dims[ONNORM_MAX_RANK];
    const void *data;
    bool constant; /* an initializer rather than a fed input */
} or_arg;

typedef struct or_run {
    onnorm_model *m;
    onnorm_session *s;
    onnorm_error e;
    onnorm_tensor y;
} or_run;

/* A model of one `op` node reading `in` and writing "Y" of type ydt; the
 * node is returned in *node (may be NULL) for attributes. */
tb_model *or_model(int64_t opset, const char *op, int n, const or_arg *in, onnorm_dtype ydt,
                   tb_node **node);
/* Loads b (and frees it), binds the fed inputs, runs with `threads` and
 * reads Y into r->y. Returns the first failure. */
onnorm_status or_exec(or_run *r, tb_model *b, int n, const or_arg *in, int threads);
void or_done(or_run *r);

#endif
