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

typedef int (*command_fn)(int argc, char **argv);

static const struct {
    const char *name;
    command_fn fn;
} commands[] = {
    {"run", onn_cli_run},
    {"test", onn_cli_test},
    {"info", onn_cli_info},
    {"bench", onn_cli_bench},
    {"ops", onn_cli_ops},
    {"optimize", onn_cli_optimize},
    {"calibrate", onn_cli_calibrate},
    {"standardize", onn_cli_standardize},
    {"stats", onn_cli_stats},
    {"compare", onn_cli_compare},
};

static command_fn find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(commands[i].name, name)) return commands[i].fn;
    return NULL;
}

int main(int argc, char **argv)
{
    choose_wait_policy(argv);
    if (argc < 2) {
        onn_cli_usage(stderr);
        return ONN_EXIT_USAGE;
    }
    command_fn fn = find_command(argv[1]);
    if (fn) return fn(argc - 2, argv + 2);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("onnorm " ONNORM_VERSION "\n");
        return ONN_EXIT_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        onn_cli_usage(stdout);
        return ONN_EXIT_OK;
    }
    if (!strcmp(argv[1], "help")) {
        /* `onnorm help CMD` is `onnorm CMD --help`. */
        if (argc == 3 && (fn = find_command(argv[2]))) {
            char *help[] = {"--help", NULL};
            return fn(1, help);
        }
        fprintf(stderr, "onnorm help: unknown command '%s'\n", argc > 2 ? argv[2] : "");
        onn_cli_usage(stderr);
        return ONN_EXIT_USAGE;
    }
    fprintf(stderr, "onnorm: unknown command '%s'\n", argv[1]);
    onn_cli_usage(stderr);
    return ONN_EXIT_USAGE;
}
