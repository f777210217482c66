/*
 * The run harness of the unit tests: build a model (builder.h), run it
 * through the public API, read outputs with their element type and shape
 * asserted, and compare them against a float64 reference.
 *
 *   th_run r;
 *   tb_model *b = th_new(&r, 17);                 // the model, and r reset
 *   th_add(&r, b, th_in("X", ONNORM_FLOAT, 2, dims, x));      // fed at run
 *   th_add(&r, b, th_const("W", ONNORM_FLOAT, 1, wdims, w));   // an initializer
 *   ... tb_node_add(b, ...), tb_output(b, "Y", ONNORM_FLOAT) ...
 *   th_ok(&r, th_go(&r, b, 0), "LayerNormalization");  // load, session, bind, run
 *   th_expect_output(&r, "ln", "Y", ONNORM_FLOAT, 2, dims, ref, 0);
 *   th_free(&r);
 *
 * A run records the stage where it stopped and the error; every function
 * that can fail returns the status, so tests of failures check it (and the
 * message) with th_expect_status.
 */
#ifndef ONNORM_TEST_HARNESS_H
#define ONNORM_TEST_HARNESS_H

#include "builder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default tolerances of th_expect_close: |got - ref| <= tol * (1 + |ref|).
 * Against the float64 reference the normalization tests' largest errors
 * are about 9e-7 for float32 (whose statistics, when they feed float32
 * results, are summed in float within blocks of 1024 and in double across
 * blocks) and 2.3e-15 for float64 (summed in double); ONNORM_TEST_VERBOSE=1
 * prints them. */
#define TH_TOL32 2e-6
#define TH_TOL64 1e-13

#define TH_MAX_FEEDS 8
/* For th_expect_status: any status but ONNORM_OK. */
#define TH_ANY_ERROR ((onnorm_status)-1)

/* A tensor given to a model: a graph input fed at run, or an initializer. */
typedef struct th_tensor {
    const char *name; /* "" = an omitted optional input */
    onnorm_dtype dt;
    int rank;
    int64_t dims[ONNORM_MAX_RANK];
    const void *data;
    bool constant; /* an initializer rather than a graph input */
} th_tensor;

/* A fed input (or, with th_const, an initializer) of shape dims[0..rank). */
th_tensor th_in(const char *name, onnorm_dtype dt, int rank, const int64_t *dims, const void *data);
th_tensor th_const(const char *name, onnorm_dtype dt, int rank, const int64_t *dims,
                   const void *data);

/* Where a run stopped. */
typedef enum th_stage { TH_LOAD, TH_CREATE, TH_BIND, TH_RUN, TH_DONE } th_stage;

typedef struct th_run {
    onnorm_model *m;
    onnorm_session *s;
    onnorm_error e;
    th_stage stage;
    bool borrowed; /* m is the caller's (th_run_loaded) */
    int n_feeds;
    th_tensor feeds[TH_MAX_FEEDS]; /* bound by th_go */
} th_run;

/* ---- building -------------------------------------------------------------- */

/* Resets r and returns a new model at `opset` for it. */
tb_model *th_new(th_run *r, int64_t opset);
/* Adds t to b: an initializer when t.constant, else a graph input that
 * th_go binds. Omitted inputs ("") are skipped. */
void th_add(th_run *r, tb_model *b, th_tensor t);
/* th_new plus one `op` node named "n" reading in[0..n) (each th_add'ed)
 * and writing "Y" of type ydt; the node goes to *node (may be NULL). */
tb_model *th_node_model(th_run *r, int64_t opset, const char *op, int n, const th_tensor *in,
                        onnorm_dtype ydt, tb_node **node);

/* ---- loading and optimizing ------------------------------------------------- */

/* Loads b (and frees it); fails the test unless that succeeds. */
onnorm_model *th_load(tb_model *b);
/* m optimized with the default options (the caller frees it); the pass
 * report goes to report[0..len). Fails the test unless that succeeds. */
onnorm_model *th_optimize(const onnorm_model *m, char *report, size_t len);
/* How many nodes of m run `op`; *kernel_version (may be NULL) receives
 * the kernel version of the last one. */
int th_count_op(const onnorm_model *m, const char *op, int *kernel_version);
/* m optimized with the default options (the caller frees the result):
 * `op` runs `count` of its `nodes` nodes and the pass report holds `note`
 * (unless NULL); `label` names the case in a failure. */
onnorm_model *th_expect_fusion(const onnorm_model *m, const char *op, int count, int nodes,
                               const char *note, const char *label);
/* Optimizes m (which th_expect_pass_off frees) with `pass` switched off:
 * no `fused` node appears and `kept` still runs `kept_count` nodes. */
void th_expect_pass_off(onnorm_model *m, const char *pass, const char *fused, const char *kept,
                        int kept_count);

/* ---- running --------------------------------------------------------------- */

/* Loads b (built on r with th_new / th_node_model, and freed here), creates
 * a session with `threads` threads (0: the default), binds what th_add
 * recorded and runs. Returns the first failure; r->stage and r->e tell
 * where and why. */
onnorm_status th_go(th_run *r, tb_model *b, int threads);
/* th_go for a model built without r: binds the fed tensors of in[0..n). */
onnorm_status th_run_model(th_run *r, tb_model *b, int threads, int n, const th_tensor *in);
/* The common case: one input "X" (none when x is NULL). */
onnorm_status th_run_x(th_run *r, tb_model *b, int threads, onnorm_dtype dt, int rank,
                       const int64_t *dims, const void *x);
/* Runs a model the caller loaded (and frees); o may be NULL. */
onnorm_status th_run_loaded(th_run *r, const onnorm_model *m, const onnorm_session_options *o,
                            int n, const th_tensor *in);
/* Loads b (and frees it) and creates a session, without running. */
onnorm_status th_open(th_run *r, tb_model *b, int threads);
/* Binds the fed tensors of in[0..n) to r's session and runs it again. */
onnorm_status th_rerun(th_run *r, int n, const th_tensor *in);
/* Frees the session and (unless borrowed) the model; r may be reused. */
void th_free(th_run *r);
/* Session options with these two fields set, the rest at their defaults. */
onnorm_session_options th_options(int threads, int optimization_level);

/* ---- expecting a status ---------------------------------------------------- */

/* Asserts st == want (TH_ANY_ERROR: any failure). A failure must come with
 * a message, which holds `needle` unless that is NULL. */
void th_expect_status(const th_run *r, onnorm_status st, onnorm_status want, const char *needle);
/* Fails the test with `what`, the stage and the message unless st is OK. */
void th_ok(const th_run *r, onnorm_status st, const char *what);
/* th_ok with the expression as the label. */
#define TH_OK(r, expr) th_ok((r), (expr), #expr)
/* th_go, expecting a failure as th_expect_status does; frees r and
 * returns the stage where the run stopped. */
th_stage th_go_fails(th_run *r, tb_model *b, int threads, onnorm_status want, const char *needle);

/* ---- outputs and references ------------------------------------------------ */

/* Output `name` after a run (a view into the session). */
onnorm_tensor th_out(th_run *r, const char *name);
/* Its data, after asserting its element type and shape. */
const void *th_output(th_run *r, const char *name, onnorm_dtype dt, int rank, const int64_t *dims);
/* Element i of numeric data p of type dt. */
double th_value(onnorm_dtype dt, const void *p, int64_t i);
/* Asserts |got[i] - ref[i]| <= tol * (1 + |ref[i]|) for every i < n, got
 * of any numeric type; a NaN reference is met only by NaN, an infinite one
 * only by itself. tol 0: TH_TOL64 for float64, else TH_TOL32. */
void th_expect_close(const char *label, const char *what, const void *got, onnorm_dtype dt,
                     const double *ref, int64_t n, double tol);
/* th_output and th_expect_close in one. */
void th_expect_output(th_run *r, const char *label, const char *name, onnorm_dtype dt, int rank,
                      const int64_t *dims, const double *ref, double tol);
/* Output `name` of two runs: same element type and shape, and every value
 * of got within atol + rtol * |want|. Flags: TH_BITWISE asks for the same
 * bytes instead; TH_NAN_EQUAL lets NaN match NaN. */
enum { TH_BITWISE = 1, TH_NAN_EQUAL = 2 };
void th_expect_same_output(th_run *want, th_run *got, const char *name, double atol, double rtol,
                           unsigned flags);
/* The same for every graph output of want's model (got's must match). */
void th_expect_same_outputs(th_run *want, th_run *got, double atol, double rtol, unsigned flags);
/* Prints the largest errors of the default-tolerance comparisons, when
 * ONNORM_TEST_VERBOSE is set. */
void th_report_worst(void);

/* ---- data ------------------------------------------------------------------ */

/* n zeroed doubles (malloc'ed; at least one). */
double *th_dalloc(int64_t n);
/* A float32 or float64 copy of d (malloc'ed). */
void *th_pack(onnorm_dtype dt, const double *d, int64_t n);
/* n float32 values uniform in [-1, 1) from `seed` (malloc'ed). */
float *th_randf(uint64_t seed, int64_t n);

#endif
