/*
 * The onnorm command-line tool: run, test, inspect, optimize and benchmark
 * ONNX models. Uses only the public API in onnorm.h; each subcommand lives
 * in its own file (cmd_*.c, testrun.c).
 */
#define _POSIX_C_SOURCE 200809L /* setenv, execv */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * OpenMP threads that wait for work spin by default (libgomp), which is
 * fast while every thread has a core to itself and ruinous when another
 * process holds one: a two-thread run then took 10-30x longer than a
 * one-thread run (measured with the machine's other core busy). A passive
 * wait puts idle threads to sleep instead. libgomp reads the policy once,
 * before main, so the tool sets it and starts itself again, unless the
 * user chose a policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT).
 */
static void choose_wait_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* Not re-executed (no /proc): run on with the default policy. */
    unsetenv("OMP_WAIT_POLICY");
}

int main(int argc, char **argv)
{
    choose_wait_policy(argv);
    if (argc < 2) {
        onn_cli_usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "run")) return onn_cli_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "test")) return onn_cli_test(argc - 2, argv + 2);
    if (!strcmp(argv[1], "info")) return onn_cli_info(argc - 2, argv + 2);
    if (!strcmp(argv[1], "bench")) return onn_cli_bench(argc - 2, argv + 2);
    if (!strcmp(argv[1], "optimize")) return onn_cli_optimize(argc - 2, argv + 2);
    if (!strcmp(argv[1], "ops")) return onn_cli_ops(argc - 2, argv + 2);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        onn_cli_usage(stdout);
        return 0;
    }
    fprintf(stderr, "onnorm: unknown command '%s'\n", argv[1]);
    onn_cli_usage(stderr);
    return 2;
}
