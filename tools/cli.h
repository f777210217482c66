/* Pieces shared by the onnorm subcommands. Uses only the public API. */
#ifndef ONNORM_CLI_H
#define ONNORM_CLI_H

#include "onnorm.h"

#include <stdbool.h>
#include <stdio.h>

/* The subcommands; each returns the process exit status. */
int onn_cli_test(int argc, char **argv);
int onn_cli_run(int argc, char **argv);
int onn_cli_bench(int argc, char **argv);
int onn_cli_info(int argc, char **argv);
int onn_cli_ops(int argc, char **argv);
int onn_cli_optimize(int argc, char **argv);

void onn_cli_usage(FILE *f);
double onn_cli_now_ms(void);
/* The OpenMP wait policy in effect, as the environment sets it (onnorm.c
 * chooses passive unless the user set one). */
const char *onn_cli_wait_policy(void);
int onn_cli_cmp_double(const void *a, const void *b);
/* Fills a missing float input with a fixed pseudo-random sequence. */
onnorm_tensor *onn_cli_fill_input(const onnorm_model *m, int i, onnorm_error *err);

/* --profile: the session's per-node timings by op type (share of the run,
 * GFLOP/s for products, GB/s of inputs and outputs) and the slowest nodes;
 * as JSON, a "profile" member mapping op types to {nodes, ms, share,
 * gflops}. */
void onn_cli_profile_print(const onnorm_session *s, FILE *f);
void onn_cli_profile_json(const onnorm_session *s, FILE *f);
/* --trace FILE: a Chrome trace (chrome://tracing, Perfetto). Each timed run
 * appends its nodes' events, placed at run_start_us, on thread row tid (one
 * per model). */
FILE *onn_cli_trace_open(const char *path);
void onn_cli_trace_run(FILE *f, const onnorm_session *s, int tid, double run_start_us, int *events);
bool onn_cli_trace_close(FILE *f);

/* Reads element i of a numeric tensor as double (NaN for unsupported types). */
double onn_cli_value(const onnorm_tensor *t, int64_t i);
/* Formats a shape like "[2,3,4]". */
const char *onn_cli_shape(const onnorm_tensor *t, char *buf, size_t len);

#endif
