/*
 * onnorm stats MODEL --data PATH... [--json FILE] [--html FILE] [--threads N]
 *
 * Runs the model on every item of the data (onnorm_dataset: .pb/.npy files,
 * input folders, ONNX test folders) and reports what each normalization node
 * saw (onnorm_stats_*; the definitions are in runtime/normstats.c, the JSON
 * schema in runtime/normstats_report.c). One text line per node on stdout.
 *
 * Decisions where the issue is silent:
 *   - `--data` takes every following argument up to the next option, and may
 *     be repeated (onn_cli_take_data, as calibrate and standardize); items
 *     are used in the order given (the order decides which samples make up a
 *     batch in the batch-size noise).
 *   - Flagged layers are findings, not failures: the exit status is 0.
 *   - --json and --html are checked to be writable before anything runs;
 *     "-" for --json writes the JSON to stdout instead of the text lines.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char stats_exits[] =
    "  0  every item ran and the reports were written (flagged layers included)\n"
    "  1  a file could not be read or written, or a run failed\n"
    "  2  usage error (no MODEL or no --data)\n"
    "  3  the model uses an op or type onnorm does not support\n";

static bool write_report(const onnorm_stats *st, onnorm_stats_format fmt, const char *path,
                         onnorm_error *e)
{
    const bool std_out = !strcmp(path, "-");
    FILE *f = std_out ? stdout : fopen(path, "w");
    if (!f) {
        snprintf(e->message, sizeof e->message, "%s: cannot create file", path);
        return false;
    }
    onnorm_status st_ = onnorm_stats_write(st, fmt, f, e);
    if (!std_out && fclose(f) != 0 && !st_)
        snprintf(e->message, sizeof e->message, "%s: cannot write file", path), st_ = ONNORM_ERR_IO;
    if (st_ && !std_out) remove(path);
    return !st_;
}

int onn_cli_stats(int argc, char **argv)
{
    const char *json = NULL, *html = NULL, *data_help = NULL;
    int threads = 0;
    const onn_cli_opt opts[] = {
        {"--data", ONN_OPT_STR, "PATH...", 0, 0, &data_help, NULL,
         "the data: .pb or .npy files (one batch, or one sample, of a single-input\n"
         "model), folders of them, input folders (input_0.pb ...), or ONNX test\n"
         "folders; every argument up to the next option; may be repeated"},
        {"--json", ONN_OPT_STR, "FILE", 0, 0, &json, NULL,
         "write everything as JSON (\"-\": to stdout, instead of the text)"},
        {"--html", ONN_OPT_STR, "FILE", 0, 0, &html, NULL,
         "write one self-contained HTML page with SVG charts"},
        {"--threads", ONN_OPT_INT, "N", 1, 4096, &threads, NULL,
         "threads the model runs on (default: every core)"},
    };
    const onn_cli_cmd cmd = {
        "stats",
        "MODEL --data PATH... [--json FILE] [--html FILE] [--threads N]",
        "Runs MODEL (unoptimized, as written) on every item of the data and reports,\n"
        "per normalization node (Batch-, Instance-, Group-, Layer-, RMS- and\n"
        "MeanVarianceNormalization, and the contrib forms), one line:\n"
        "  - the input's units (channels; groups; for the LayerNormalization family\n"
        "    the row's features, with every row's std too) and samples (axis 0);\n"
        "  - min..median..max over units of the input mean and std, NaN and Inf\n"
        "    counts, dead units (0 everywhere) and near-constant ones\n"
        "    (std < 1e-6 (1 + |mean|)); the same for the output;\n"
        "  - for BatchNormalization: the standardized mean shift\n"
        "    |mean - stored mean| / sqrt(stored var + eps) (max and mean over\n"
        "    channels) and the variance ratio (var + eps) / (stored var + eps);\n"
        "    flagged 'drift' when the shift exceeds 0.5 or a ratio leaves [0.5, 2];\n"
        "  - the batch-1 noise: RMS of (batch mean - mean) / std and of\n"
        "    batch var / var - 1 (the JSON has every batch size 1, 2, 4, ... with\n"
        "    at least two batches of consecutive samples);\n"
        "  - FLAGS: drift, nonfinite, dead, near-constant.\n"
        "Statistics are population moments in double, merged exactly across runs.\n",
        opts,
        (int)(sizeof opts / sizeof *opts),
        1,
        1,
        stats_exits};
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    const char **pos = calloc((size_t)argc + 1, sizeof *pos);
    if (!paths || !pos) {
        free(paths);
        free(pos);
        fprintf(stderr, "onnorm stats: out of memory\n");
        return ONN_EXIT_FAIL;
    }
    int n_paths, n_pos;
    int rc = onn_cli_take_data(&argc, argv, paths, argc + 1, &n_paths, "stats");
    if (rc || (rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos)) || n_pos == 0) goto done;
    if (!n_paths) {
        fprintf(stderr, "onnorm stats: no data (--data PATH...)\nusage: onnorm stats %s\n",
                cmd.synopsis);
        rc = ONN_EXIT_USAGE;
        goto done;
    }
    onnorm_error e = {0};
    onnorm_status st = ONNORM_OK;
    if (json && strcmp(json, "-")) st = onn_cli_check_writable(json, &e);
    if (!st && html) st = onn_cli_check_writable(html, &e);
    onnorm_model *m = NULL;
    onnorm_stats *stats = NULL;
    onnorm_dataset *ds = NULL;
    if (!st) st = onn_cli_load_model(pos[0], 0, &m, &e);
    if (!st) st = onnorm_stats_create(m, threads, &stats, &e);
    if (!st) st = onnorm_dataset_open(m, paths, n_paths, &ds, &e);
    const int items = ds ? onnorm_dataset_count(ds) : 0;
    for (int i = 0; !st && i < items; i++) {
        st = onnorm_dataset_bind(ds, i, onnorm_stats_session(stats), &e);
        if (!st) st = onnorm_stats_accumulate(stats, &e);
        if (st) {
            char msg[sizeof e.message];
            snprintf(msg, sizeof msg, "%s", e.message);
            snprintf(e.message, sizeof e.message, "item %d (%.200s): %.700s", i,
                     onnorm_dataset_path(ds, i, 0), msg);
        }
    }
    if (!st && !items) {
        snprintf(e.message, sizeof e.message, "the data holds no item");
        st = ONNORM_ERR_INVALID;
    }
    if (st) {
        fprintf(stderr, "onnorm stats: %s\n", e.message);
        rc = onn_cli_exit_for(st);
    } else {
        const bool json_stdout = json && !strcmp(json, "-");
        if (!json_stdout) {
            printf("model %s: %d items, %d normalization nodes\n", pos[0], items,
                   onnorm_stats_node_count(stats));
            if (onnorm_stats_write(stats, ONNORM_STATS_TEXT, stdout, &e)) {
                fprintf(stderr, "onnorm stats: %s\n", e.message);
                rc = ONN_EXIT_FAIL;
            }
        }
        if (!rc && json && !write_report(stats, ONNORM_STATS_JSON, json, &e)) rc = ONN_EXIT_FAIL;
        if (!rc && html && !write_report(stats, ONNORM_STATS_HTML, html, &e)) rc = ONN_EXIT_FAIL;
        if (rc)
            fprintf(stderr, "onnorm stats: %s\n", e.message);
        else if (!json_stdout) {
            if (json) printf("wrote %s\n", json);
            if (html) printf("wrote %s\n", html);
        }
    }
    onnorm_dataset_free(ds);
    onnorm_stats_free(stats);
    onnorm_model_free(m);
done:
    free(paths);
    free(pos);
    return rc;
}
