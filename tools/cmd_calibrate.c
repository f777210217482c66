/*
 * `onnorm calibrate`: BatchNormalization recalibration on calibration data
 * (onnorm_model_calibrate), and the --data option shared by the commands
 * that read data sets (onn_cli_take_data).
 *
 * Decisions where the issue is silent:
 *   - --data takes every following argument up to the next one that starts
 *     with '-' (so `--data a.npy b.npy dir/` works; MODEL goes first), or
 *     exactly one as --data=PATH, and may be repeated.
 *   - The model is loaded as for `optimize` (constant subgraphs folded at
 *     load); no optimization pass runs, so BatchNormalization stays in the
 *     written model and folding stays the optimizer's job.
 *   - The table and --json report every recalibrated node; skipped nodes are
 *     listed with their reason. A model without any node to recalibrate is
 *     still written (unchanged) and the command says so.
 */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int onn_cli_take_data(int *argc, char **argv, const char **data, int max, int *n_data,
                      const char *cmd)
{
    int kept = 0;
    *n_data = 0;
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            /* everything after it is positional: keep it as it is */
            while (i < *argc)
                argv[kept++] = argv[i++];
            break;
        }
        bool inline_value = !strncmp(a, "--data=", 7);
        if (strcmp(a, "--data") && !inline_value) {
            argv[kept++] = argv[i];
            continue;
        }
        int before = *n_data;
        if (inline_value) {
            if (!a[7]) {
                fprintf(stderr, "onnorm %s: --data needs a non-empty PATH\n", cmd);
                return ONN_EXIT_USAGE;
            }
            if (*n_data == max) goto too_many;
            data[(*n_data)++] = a + 7;
            continue; /* --data=P takes one path */
        }
        while (i + 1 < *argc && argv[i + 1][0] && argv[i + 1][0] != '-') {
            if (*n_data == max) goto too_many;
            data[(*n_data)++] = argv[++i];
        }
        if (*n_data == before) {
            fprintf(stderr, "onnorm %s: --data needs at least one PATH\n", cmd);
            return ONN_EXIT_USAGE;
        }
    }
    *argc = kept;
    return 0;
too_many:
    fprintf(stderr, "onnorm %s: at most %d --data paths (give folders instead of files)\n", cmd,
            max);
    return ONN_EXIT_USAGE;
}

static const char calibrate_about[] =
    "Recalibrates BatchNormalization: runs MODEL on the calibration data and\n"
    "replaces every inference BatchNormalization's mean and var with the exact\n"
    "population statistics of that node's input over all the data (per channel,\n"
    "merged across batches in double), as the recalibrated model computes it:\n"
    "nodes are measured in dependency order, each after the nodes before it were\n"
    "rewritten. The model is written unfolded (BatchNormalization stays; `onnorm\n"
    "optimize` folds it). Prints per node how far the statistics moved: the mean\n"
    "shift |new - old mean| / sqrt(old var + epsilon) (max and mean over\n"
    "channels) and the variance ratio (new var + epsilon) / (old var + epsilon)\n"
    "(min, max, geometric mean).\n"
    "\n"
    "ONNX's inference BatchNormalization computes (x - mean) / sqrt(var + epsilon)\n"
    "and its training mode stores the population variance (divide by N), so\n"
    "--variance population is the default; unbiased (N - 1) is what PyTorch keeps\n"
    "in running_var.\n"
    "\n"
    "Data (--data PATH...): .npy or TensorProto .pb files (one batch, or one\n"
    "sample without the batch dim, per file), folders of such files, folders\n"
    "holding input_0..input_K (one item; how multi-input models take data), and\n"
    "ONNX test folders (each test_data_set_* is one item). Element types must\n"
    "match the model's inputs. Nodes in training mode, with spatial=0 or with\n"
    "statistics that are not constants are skipped with a note.\n";

static const char calibrate_exits[] =
    "  0  the calibrated model was written\n"
    "  1  a file could not be read or written, the data do not fit the model, or\n"
    "     a run failed (or NaN/Inf reached a BatchNormalization input)\n"
    "  2  usage error\n"
    "  3  the model uses an op or type onnorm does not support, or a node named\n"
    "     in --nodes cannot be recalibrated\n";

#define MAX_DATA 4096
#define MAX_LAYERS 4096

static void write_json(FILE *f, const char *model, int items, const char *variance, double blend,
                       const onnorm_bn_calibration *l, int n, const char *notes)
{
    fprintf(f, "{\n  \"model\": ");
    onn_cli_json_string(f, model);
    fprintf(f, ",\n  \"items\": %d,\n  \"variance\": \"%s\",\n  \"blend\": %.17g,\n", items,
            variance, blend);
    fprintf(f, "  \"layers\": [");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s\n    {\"node\": ", i ? "," : "");
        onn_cli_json_string(f, l[i].node);
        fprintf(f,
                ", \"wave\": %d, \"channels\": %lld, \"count\": %lld, \"mean_shift_max\": %.9g, "
                "\"mean_shift_mean\": %.9g, \"var_ratio_min\": %.9g, \"var_ratio_max\": %.9g, "
                "\"var_ratio_gmean\": %.9g}",
                l[i].wave, (long long)l[i].channels, (long long)l[i].count, l[i].mean_shift_max,
                l[i].mean_shift_mean, l[i].var_ratio_min, l[i].var_ratio_max, l[i].var_ratio_gmean);
    }
    fprintf(f, "%s],\n  \"skipped\": [", n ? "\n  " : "");
    int k = 0;
    for (const char *p = notes; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!strncmp(p, "skipped ", 8)) {
            char line[1024];
            snprintf(line, sizeof line, "%.*s", (int)(len < 1000 ? len : 1000), p);
            fprintf(f, "%s\n    ", k++ ? "," : "");
            onn_cli_json_string(f, line);
        }
        p += len + (end != NULL);
    }
    fprintf(f, "%s]\n}\n", k ? "\n  " : "");
}

int onn_cli_calibrate(int argc, char **argv)
{
    const char *out = NULL, *nodes = NULL, *variance = "population", *json = NULL;
    double blend = 1.0;
    int threads = 0;
    const char *data_help = NULL;
    const onn_cli_opt opts[] = {
        {"--data", ONN_OPT_STR, "PATH...", 0, 0, &data_help, NULL,
         "calibration data: files and folders (required, repeatable)"},
        {"-o", ONN_OPT_STR, "OUT.onnx", 0, 0, &out, NULL, "where to write the model (required)"},
        {"--output", ONN_OPT_STR, "OUT.onnx", 0, 0, &out, NULL, "the same as -o"},
        {"--nodes", ONN_OPT_STR, "NAME,...", 0, 0, &nodes, NULL,
         "recalibrate only these BatchNormalization nodes (default: all)"},
        {"--variance", ONN_OPT_STR, "KIND", 0, 0, &variance, NULL,
         "population (default, what ONNX expects) or unbiased"},
        {"--blend", ONN_OPT_REAL, "ALPHA", 0, 1, &blend, NULL,
         "write ALPHA * measured + (1 - ALPHA) * stored, 0..1 (default 1)"},
        {"--json", ONN_OPT_STR, "FILE", 0, 0, &json, NULL, "also write the report as JSON"},
        {"--threads", ONN_OPT_INT, "N", 1, 4096, &threads, NULL,
         "threads for the runs, 1..4096 (default: all cores)"},
    };
    const onn_cli_cmd cmd = {"calibrate",
                             "MODEL --data PATH... -o OUT.onnx [options]",
                             calibrate_about,
                             opts,
                             (int)(sizeof opts / sizeof *opts),
                             1,
                             1,
                             calibrate_exits};
    static const char *data[MAX_DATA];
    int n_data = 0;
    int rc = onn_cli_take_data(&argc, argv, data, MAX_DATA, &n_data, "calibrate");
    if (rc) return rc;
    const char *pos[1];
    int n_pos;
    rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos);
    if (rc || n_pos == 0) return rc;
    if (!out || !n_data) {
        fprintf(stderr, "onnorm calibrate: %s is required (see onnorm help calibrate)\n",
                !out ? "-o OUT.onnx" : "--data PATH");
        return ONN_EXIT_USAGE;
    }
    if (strcmp(variance, "population") && strcmp(variance, "unbiased")) {
        fprintf(stderr, "onnorm calibrate: --variance must be population or unbiased, got '%s'\n",
                variance);
        return ONN_EXIT_USAGE;
    }
    onnorm_error e;
    onnorm_model *m = NULL, *cal = NULL;
    onnorm_dataset *d = NULL;
    static onnorm_bn_calibration layers[MAX_LAYERS];
    static char notes[1 << 16];
    int n_layers = 0;
    onnorm_calibrate_options o;
    onnorm_calibrate_options_init(&o);
    o.nodes = nodes;
    o.unbiased = !strcmp(variance, "unbiased");
    o.blend = blend;
    o.num_threads = threads;
    onnorm_status st = onn_cli_check_writable(out, &e);
    if (!st && json) st = onn_cli_check_writable(json, &e);
    if (!st) st = onn_cli_load_model(pos[0], 0, &m, &e);
    if (!st) st = onnorm_dataset_open(m, data, n_data, &d, &e);
    if (!st)
        st = onnorm_model_calibrate(m, d, &o, &cal, layers, MAX_LAYERS, &n_layers, notes,
                                    sizeof notes, &e);
    if (!st) st = onnorm_model_save_file(cal, out, &e);
    if (st) {
        fprintf(stderr, "onnorm: %s\n", e.message);
        rc = onn_cli_exit_for(st);
        goto done;
    }
    if (n_layers > MAX_LAYERS) n_layers = MAX_LAYERS;
    printf("calibrated %d BatchNormalization node(s) on %d data item(s); %s variance, blend %g\n",
           n_layers, onnorm_dataset_count(d), variance, blend);
    int w = 4; /* the node column fits the longest name (up to 64) */
    for (int i = 0; i < n_layers; i++) {
        int len = (int)strlen(layers[i].node);
        w = len > w ? (len < 64 ? len : 64) : w;
    }
    if (n_layers)
        printf("  %-*s %4s %8s %10s  %-23s %s\n", w, "node", "wave", "channels", "values/ch",
               "|dmean|/std max   mean", "var ratio min    max  gmean");
    for (int i = 0; i < n_layers; i++) {
        const onnorm_bn_calibration *l = &layers[i];
        printf("  %-*s %4d %8lld %10lld  %10.4g %10.4g   %8.4g %8.4g %8.4g\n", w, l->node, l->wave,
               (long long)l->channels, (long long)l->count, l->mean_shift_max, l->mean_shift_mean,
               l->var_ratio_min, l->var_ratio_max, l->var_ratio_gmean);
    }
    fputs(notes, stdout);
    if (json) {
        FILE *f = fopen(json, "w");
        if (f)
            write_json(f, pos[0], onnorm_dataset_count(d), variance, blend, layers, n_layers,
                       notes);
        if (!f || fclose(f) != 0) {
            fprintf(stderr, "onnorm: %s: cannot write the JSON report\n", json);
            rc = ONN_EXIT_FAIL;
            goto done;
        }
    }
    printf("written to %s\n", out);
done:
    onnorm_model_free(cal);
    onnorm_dataset_free(d);
    onnorm_model_free(m);
    return rc;
}
