/*
 * `onnorm standardize`: fits input standardization (z-score) or min-max
 * scaling on data and prepends it to the model (onnorm_model_standardize).
 *
 * Decisions where the issue is silent: a command of its own (not a flag of
 * `optimize`), since it needs data and writes a model that computes
 * something else; the table prints at most 16 channels (--json has all);
 * the written model is not optimized (`onnorm optimize` folds what it can).
 */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char standardize_about[] =
    "Fits input standardization on the data and prepends it to MODEL, so that the\n"
    "written model takes raw inputs: x' = (x - center) / divisor with\n"
    "  zscore: center = mean, divisor = population standard deviation;\n"
    "  minmax: center = min, divisor = max - min (x' in [0, 1] over the data);\n"
    "over the whole tensor, or per channel (axis 1) with --per-channel. Moments are\n"
    "accumulated in double over all the data. A divisor of 0 (a constant channel)\n"
    "is replaced by 1: that channel is only shifted to 0.\n"
    "\n"
    "The map is written as two ordinary ONNX nodes, Mul then Add (x * a + b with\n"
    "a = 1 / divisor, b = -center / divisor), whose constants are scalars or\n"
    "[1, C, 1, ...] per channel: the per-channel affine form that `onnorm optimize`\n"
    "can fold into a following Conv or Gemm where that is exact.\n"
    "\n"
    "Data (--data PATH...) are read as for `onnorm calibrate` (see onnorm help\n"
    "calibrate); --input chooses the input when the model has several float ones.\n";

static const char standardize_exits[] =
    "  0  the model was written\n"
    "  1  a file could not be read or written, or the data do not fit the model\n"
    "     (or hold NaN or Inf)\n"
    "  2  usage error\n"
    "  3  the input's type, the model's opset or an op is not supported\n";

#define MAX_DATA 4096
#define MAX_CHANNELS 65536

int onn_cli_standardize(int argc, char **argv)
{
    const char *out = NULL, *mode = NULL, *input = NULL, *json = NULL, *data_help = NULL;
    bool per_channel = false;
    const onn_cli_opt opts[] = {
        {"--data", ONN_OPT_STR, "PATH...", 0, 0, &data_help, NULL,
         "the data to fit on: files and folders (required, repeatable)"},
        {"--mode", ONN_OPT_STR, "MODE", 0, 0, &mode, NULL, "zscore or minmax (required)"},
        {"--per-channel", ONN_OPT_FLAG, NULL, 0, 0, &per_channel, NULL,
         "one center and divisor per channel (axis 1)"},
        {"--input", ONN_OPT_STR, "NAME", 0, 0, &input, NULL,
         "the input to standardize (default: the only float input)"},
        {"-o", ONN_OPT_STR, "OUT.onnx", 0, 0, &out, NULL, "where to write the model (required)"},
        {"--output", ONN_OPT_STR, "OUT.onnx", 0, 0, &out, NULL, "the same as -o"},
        {"--json", ONN_OPT_STR, "FILE", 0, 0, &json, NULL, "also write what was fitted as JSON"},
    };
    const onn_cli_cmd cmd = {"standardize",
                             "MODEL --data PATH... --mode zscore|minmax -o OUT.onnx [options]",
                             standardize_about,
                             opts,
                             (int)(sizeof opts / sizeof *opts),
                             1,
                             1,
                             standardize_exits};
    static const char *data[MAX_DATA];
    int n_data = 0;
    int rc = onn_cli_take_data(&argc, argv, data, MAX_DATA, &n_data, "standardize");
    if (rc) return rc;
    const char *pos[1];
    int n_pos;
    rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos);
    if (rc || n_pos == 0) return rc;
    if (!out || !n_data || !mode) {
        fprintf(stderr, "onnorm standardize: %s is required (see onnorm help standardize)\n",
                !out      ? "-o OUT.onnx"
                : !n_data ? "--data PATH"
                          : "--mode zscore|minmax");
        return ONN_EXIT_USAGE;
    }
    onnorm_standardize_options o;
    onnorm_standardize_options_init(&o);
    if (!strcmp(mode, "zscore")) {
        o.mode = ONNORM_STANDARDIZE_ZSCORE;
    } else if (!strcmp(mode, "minmax")) {
        o.mode = ONNORM_STANDARDIZE_MINMAX;
    } else {
        fprintf(stderr, "onnorm standardize: --mode must be zscore or minmax, got '%s'\n", mode);
        return ONN_EXIT_USAGE;
    }
    o.per_channel = per_channel;
    o.input = input;
    onnorm_error e;
    onnorm_model *m = NULL, *res = NULL;
    onnorm_dataset *d = NULL;
    static double center[MAX_CHANNELS], divisor[MAX_CHANNELS];
    int64_t n = 0, count = 0;
    onnorm_status st = onn_cli_check_writable(out, &e);
    if (!st && json) st = onn_cli_check_writable(json, &e);
    if (!st) st = onn_cli_load_model(pos[0], 0, &m, &e);
    if (!st) st = onnorm_dataset_open(m, data, n_data, &d, &e);
    if (!st)
        st =
            onnorm_model_standardize(m, d, &o, &res, center, divisor, MAX_CHANNELS, &n, &count, &e);
    if (!st) st = onnorm_model_save_file(res, out, &e);
    if (st) {
        fprintf(stderr, "onnorm: %s\n", e.message);
        rc = onn_cli_exit_for(st);
        goto done;
    }
    if (n > MAX_CHANNELS) n = MAX_CHANNELS;
    const char *in_name = input;
    for (int i = 0; !in_name && i < onnorm_model_input_count(m); i++) {
        onnorm_tensor info;
        onnorm_model_input_info(m, i, &info);
        if (info.dtype == ONNORM_FLOAT || info.dtype == ONNORM_DOUBLE) in_name = info.name;
    }
    const bool z = o.mode == ONNORM_STANDARDIZE_ZSCORE;
    printf("fitted %s on input '%s' over %d data item(s), %lld value(s) per %s:\n", mode, in_name,
           onnorm_dataset_count(d), (long long)count, per_channel ? "channel" : "tensor");
    printf("  %-8s %14s %14s\n", per_channel ? "channel" : "", z ? "mean" : "min",
           z ? "std" : "max - min");
    for (int64_t i = 0; i < n && i < 16; i++)
        printf("  %-8lld %14.8g %14.8g\n", (long long)i, center[i], divisor[i]);
    if (n > 16) printf("  ... %lld more channels (see --json)\n", (long long)(n - 16));
    printf("prepended Mul and Add nodes (x * (1 / divisor) + (-center / divisor))\n");
    if (json) {
        FILE *f = fopen(json, "w");
        if (f) {
            fprintf(f, "{\n  \"model\": ");
            onn_cli_json_string(f, pos[0]);
            fprintf(f, ",\n  \"input\": ");
            onn_cli_json_string(f, in_name);
            fprintf(f,
                    ",\n  \"mode\": \"%s\",\n  \"per_channel\": %s,\n  \"items\": %d,\n  "
                    "\"count\": %lld,\n  \"center\": [",
                    mode, per_channel ? "true" : "false", onnorm_dataset_count(d),
                    (long long)count);
            for (int64_t i = 0; i < n; i++)
                fprintf(f, "%s%.17g", i ? ", " : "", center[i]);
            fprintf(f, "],\n  \"divisor\": [");
            for (int64_t i = 0; i < n; i++)
                fprintf(f, "%s%.17g", i ? ", " : "", divisor[i]);
            fprintf(f, "]\n}\n");
        }
        if (!f || fclose(f) != 0) {
            fprintf(stderr, "onnorm: %s: cannot write the JSON report\n", json);
            rc = ONN_EXIT_FAIL;
            goto done;
        }
    }
    printf("written to %s\n", out);
done:
    onnorm_model_free(res);
    onnorm_dataset_free(d);
    onnorm_model_free(m);
    return rc;
}
