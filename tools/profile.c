/* `--profile` and `--trace` of `onnorm run` and `onnorm bench`: per-node
 * timings from the session (onnorm_session_profile) as a table, as a JSON
 * summary by op type, and as a Chrome trace (see cli.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Totals of one op type over the nodes that ran. */
typedef struct op_sum {
    const char *op;
    int nodes;
    double ms, flops, bytes; /* per run */
} op_sum;

/* Sums the session's node profiles by op type into sums (at most cap),
 * in order of first appearance; returns their count and the total per run. */
static int sum_by_op(const onnorm_session *s, op_sum *sums, int cap, double *total_ms)
{
    int n = 0;
    *total_ms = 0.0;
    for (int i = 0; i < onnorm_session_profile_count(s); i++) {
        onnorm_node_profile p;
        if (onnorm_session_profile(s, i, &p) || p.runs == 0) continue;
        const double ms = p.total_ms / (double)p.runs;
        int k = 0;
        while (k < n && strcmp(sums[k].op, p.op_type))
            k++;
        if (k == n) {
            if (n == cap) continue;
            sums[n++] = (op_sum){p.op_type, 0, 0.0, 0.0, 0.0};
        }
        sums[k].nodes++;
        sums[k].ms += ms;
        sums[k].flops += p.flops;
        sums[k].bytes += p.bytes;
        *total_ms += ms;
    }
    return n;
}

static int by_time(const void *a, const void *b)
{
    const double x = ((const op_sum *)a)->ms, y = ((const op_sum *)b)->ms;
    return (x < y) - (x > y);
}

/* Throughput of `work` units done in `ms`, in billions per second. */
static double giga_per_s(double work, double ms)
{
    return ms > 0.0 ? work / (ms * 1e6) : 0.0;
}

void onn_cli_profile_print(const onnorm_session *s, FILE *f)
{
    op_sum sums[256];
    double total;
    int n = sum_by_op(s, sums, 256, &total);
    qsort(sums, (size_t)n, sizeof *sums, by_time);
    fprintf(f, "profile: %.3f ms per run in %d nodes (mean of the timed runs)\n", total,
            onnorm_session_profile_count(s));
    fprintf(f, "  %-28s %6s %10s %7s %10s %9s\n", "op type", "nodes", "ms/run", "share", "GFLOP/s",
            "GB/s");
    for (int k = 0; k < n; k++) {
        char gflops[32] = "-";
        if (sums[k].flops > 0)
            snprintf(gflops, sizeof gflops, "%.1f", giga_per_s(sums[k].flops, sums[k].ms));
        fprintf(f, "  %-28s %6d %10.4f %6.1f%% %10s %9.1f\n", sums[k].op, sums[k].nodes, sums[k].ms,
                total > 0 ? 100.0 * sums[k].ms / total : 0.0, gflops,
                giga_per_s(sums[k].bytes, sums[k].ms));
    }
    fprintf(f, "  slowest nodes:\n");
    /* The ten slowest nodes, found by repeated selection (node counts are
     * modest and this prints once). */
    double last = 1e300;
    for (int shown = 0; shown < 10; shown++) {
        int best = -1;
        double best_ms = -1.0;
        onnorm_node_profile p;
        for (int i = 0; i < onnorm_session_profile_count(s); i++) {
            if (onnorm_session_profile(s, i, &p) || p.runs == 0) continue;
            const double ms = p.total_ms / (double)p.runs;
            if (ms < last && ms > best_ms) best = i, best_ms = ms;
        }
        if (best < 0) break;
        onnorm_session_profile(s, best, &p);
        char gflops[32] = "";
        if (p.flops > 0)
            snprintf(gflops, sizeof gflops, ", %.1f GFLOP/s", giga_per_s(p.flops, best_ms));
        fprintf(f, "    %-40s %-20s %9.4f ms%s\n", p.name[0] ? p.name : "(unnamed)", p.op_type,
                best_ms, gflops);
        last = best_ms;
    }
}

void onn_cli_profile_json(const onnorm_session *s, FILE *f)
{
    op_sum sums[256];
    double total;
    int n = sum_by_op(s, sums, 256, &total);
    fprintf(f, "\"profile\": {");
    for (int k = 0; k < n; k++) {
        fprintf(f, "%s", k ? ", " : "");
        onn_cli_json_string(f, sums[k].op);
        fprintf(f, ": {\"nodes\": %d, \"ms\": %.6f, \"share\": %.4f, \"gflops\": %.3f}",
                sums[k].nodes, sums[k].ms, total > 0 ? sums[k].ms / total : 0.0,
                giga_per_s(sums[k].flops, sums[k].ms));
    }
    fprintf(f, "}");
}

/* The Chrome trace event format: a JSON array of complete ("X") events with
 * microsecond timestamps, as ONNX Runtime's profiler writes it; readable by
 * chrome://tracing and Perfetto. */
FILE *onn_cli_trace_open(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f) fputs("[\n", f);
    return f;
}

void onn_cli_trace_run(FILE *f, const onnorm_session *s, int tid, double run_start_us, int *events)
{
    for (int i = 0; f && i < onnorm_session_profile_count(s); i++) {
        onnorm_node_profile p;
        if (onnorm_session_profile(s, i, &p) || p.runs == 0) continue;
        fprintf(f, "%s{\"name\": ", *events ? ",\n" : "");
        onn_cli_json_string(f, p.name);
        fprintf(f,
                ", \"cat\": \"Node\", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, \"pid\": 1, "
                "\"tid\": %d, \"args\": {\"op_name\": ",
                run_start_us + p.last_start_ms * 1e3, p.last_ms * 1e3, tid);
        onn_cli_json_string(f, p.op_type);
        fprintf(f, "}}");
        ++*events;
    }
}

bool onn_cli_trace_close(FILE *f)
{
    if (!f) return false;
    fputs("\n]\n", f);
    return fclose(f) == 0;
}
