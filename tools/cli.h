/* Pieces shared by the onnorm subcommands. Uses only the public API. */
#ifndef ONNORM_CLI_H
#define ONNORM_CLI_H

#include "onnorm.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses, the same for every subcommand (see onn_cli_usage). */
enum {
    ONN_EXIT_OK = 0,         /* success */
    ONN_EXIT_FAIL = 1,       /* failure: a test failed, a file or a run failed */
    ONN_EXIT_USAGE = 2,      /* bad command line */
    ONN_EXIT_UNSUPPORTED = 3 /* the model uses an op, type or feature onnorm lacks */
};

/* ---- options ---------------------------------------------------------------
 * Every subcommand describes its options in a table; onn_cli_parse() reads
 * `--opt value` and `--opt=value`, rejects a missing or out-of-range value
 * naming the option, answers --help and --version, and collects the
 * positional arguments. onn_cli_help() prints the table. */
typedef enum onn_opt_kind {
    ONN_OPT_FLAG, /* bool */
    ONN_OPT_INT,  /* int in [min, max] */
    ONN_OPT_REAL, /* double in [min, max] */
    ONN_OPT_STR,  /* const char * */
    ONN_OPT_PAIR, /* NAME=VALUE, repeatable: onn_cli_pairs */
    ONN_OPT_BYTES /* size_t: a byte count with an optional K, M, G or T (x1024) */
} onn_opt_kind;

#define ONN_CLI_MAX_PAIRS 64
typedef struct onn_cli_pairs {
    const char *name[ONN_CLI_MAX_PAIRS], *value[ONN_CLI_MAX_PAIRS];
    int n;
} onn_cli_pairs;

typedef struct onn_cli_opt {
    const char *name; /* "--threads", or "-o" */
    onn_opt_kind kind;
    const char *metavar; /* "N", "FILE"; NULL for flags */
    double min, max;     /* for numbers */
    void *dst;
    bool *given; /* may be NULL; set when the option appears */
    const char *help;
} onn_cli_opt;

typedef struct onn_cli_cmd {
    const char *name;     /* "run" */
    const char *synopsis; /* "MODEL [options]" */
    const char *about;    /* paragraph(s) after the usage line */
    const onn_cli_opt *opts;
    int n_opts;
    int min_pos, max_pos; /* positional argument counts; max_pos < 0: any */
    const char *exits;    /* the command's exit statuses, one per line */
} onn_cli_cmd;

/* Returns 0 to go on (positional arguments in pos[0..*n_pos), pos holding
 * argc entries), or an exit status: ONN_EXIT_OK after --help or --version,
 * ONN_EXIT_USAGE after a message on stderr. */
int onn_cli_parse(const onn_cli_cmd *c, int argc, char **argv, const char **pos, int *n_pos);
void onn_cli_help(const onn_cli_cmd *c, FILE *f);

/* The exit status for a library error: ONN_EXIT_UNSUPPORTED for
 * ONNORM_ERR_UNSUPPORTED, else ONN_EXIT_FAIL. */
int onn_cli_exit_for(onnorm_status st);
/* Checks that path names a readable regular file; otherwise fills err
 * (code ONNORM_ERR_IO) with the OS reason, or says it is a directory. */
onnorm_status onn_cli_check_file(const char *path, onnorm_error *err);
/* Checks that a file can be written at path: not a directory, its folder
 * exists and is writable (else ONNORM_ERR_IO with the OS reason). */
onnorm_status onn_cli_check_writable(const char *path, onnorm_error *err);
/* Creates the folder path and its parents when missing (mkdir -p) and checks
 * that it is a writable folder. */
onnorm_status onn_cli_make_dir(const char *path, onnorm_error *err);
/* The resource limits of the commands that load models (issue 15): set by
 * --max-fold-bytes (load, onnorm_load_options.max_fold_bytes) and
 * --max-arena-bytes (sessions, onnorm_session_options.max_arena_bytes);
 * 0 = the library's defaults. onn_cli_load_model applies the first, the
 * commands copy the second into their session options. */
typedef struct onn_cli_limits_t {
    size_t fold, arena;
} onn_cli_limits_t;
extern onn_cli_limits_t onn_cli_limits;
#define ONN_CLI_OPT_MAX_FOLD                                                                       \
    {                                                                                              \
        "--max-fold-bytes", ONN_OPT_BYTES, "BYTES", 0, 0, &onn_cli_limits.fold, NULL,              \
            "load limit for constant folding (K/M/G suffixes; default\n"                           \
            "16 x the model's size, at least 64M); nodes past it stay\n"                           \
            "in the graph and run with every run"                                                  \
    }
#define ONN_CLI_OPT_MAX_ARENA                                                                      \
    {                                                                                              \
        "--max-arena-bytes", ONN_OPT_BYTES, "BYTES", 0, 0, &onn_cli_limits.arena, NULL,            \
            "cap on a session's planned memory (K/M/G suffixes;\n"                                 \
            "default: physical memory); planning past it fails"                                    \
    }

/* Loads a model after onn_cli_check_file(). */
onnorm_status onn_cli_load_model(const char *path, unsigned flags, onnorm_model **m,
                                 onnorm_error *err);
/* Reads a tensor file after onn_cli_check_file(). */
onnorm_status onn_cli_read_tensor(const char *path, onnorm_tensor **t, onnorm_error *err);
/* Binds input `name`; when the model has no such input, the error lists the
 * names it has. */
onnorm_status onn_cli_bind(onnorm_session *s, const onnorm_model *m, const char *name,
                           const onnorm_tensor *t, onnorm_error *err);
/* "a, b, c": the inputs a caller feeds. */
void onn_cli_input_names(const onnorm_model *m, char *buf, size_t len);

/* The subcommands; each returns the process exit status. */
int onn_cli_test(int argc, char **argv);
int onn_cli_run(int argc, char **argv);
int onn_cli_bench(int argc, char **argv);
int onn_cli_info(int argc, char **argv);
int onn_cli_ops(int argc, char **argv);
int onn_cli_optimize(int argc, char **argv);
int onn_cli_stats(int argc, char **argv);
int onn_cli_calibrate(int argc, char **argv);
int onn_cli_standardize(int argc, char **argv);

/* --data PATH...: removes every `--data P1 P2 ...` (the paths run to the next
 * argument starting with '-') and `--data=P` (one path) from argv, collecting up to max
 * paths in data. Returns 0 or ONN_EXIT_USAGE after a message. */
int onn_cli_take_data(int *argc, char **argv, const char **data, int max, int *n_data,
                      const char *cmd);
/* Writes s as a JSON string literal (quotes and escapes included). */
void onn_cli_json_string(FILE *f, const char *s);
int onn_cli_compare(int argc, char **argv);

void onn_cli_usage(FILE *f);
/* The exit statuses, as printed by every --help. */
extern const char onn_cli_exit_codes[];
double onn_cli_now_ms(void);
/* How idle threads wait: the kernel pool's spin budget, then the OpenMP
 * wait policy (for the loops still on OpenMP and for OpenBLAS) as the
 * environment sets it (onnorm.c chooses passive unless the user set one). */
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
