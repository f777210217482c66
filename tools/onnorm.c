/*
 * The onnorm command-line tool: run, test, inspect, optimize and benchmark
 * ONNX models. Uses only the public API in onnorm.h; each subcommand lives
 * in its own file (cmd_*.c, testrun.c).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
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
