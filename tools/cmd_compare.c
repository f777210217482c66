/*
 * onnorm compare: layer-by-layer accuracy of the float32 run against a
 * float64 evaluation of the same graph (onnorm_compare in onnorm.h).
 *
 * Decisions where the issue is silent:
 * - The model is loaded without load-time constant folding, so every node
 *   of the file gets a row.
 * - Inputs not given with --input are filled like `onnorm run` fills them
 *   (fixed pseudo-random values in [-1, 1)).
 * - --reference MODEL evaluates another model in float64 (matched by value
 *   names): a float64 export of the same network, or the float32 model an
 *   edited copy came from. Without it, the model itself is widened.
 * - The exit status is 0 whenever both runs complete, flagged nodes or
 *   not: compare is a diagnosis, not a test.
 * - The table lists every node; the summary names the flagged nodes and
 *   the node with the largest ratio.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char compare_about[] =
    "Runs MODEL unoptimized in float32 and as a float64 evaluation of the same\n"
    "graph (float32 weights, inputs, value types and Cast targets widened), with\n"
    "every intermediate value captured, and prints per node the max absolute and\n"
    "max relative error of its outputs against the float64 run, the largest\n"
    "relative error of its inputs, and their ratio: a node whose error is much\n"
    "larger than its inputs' (ratio >= --ratio and error >= --min-rel) is flagged\n"
    "as a place where the error grows. Relative error is |a - b| / max(|b|, 1e-3 *\n"
    "max|b|) with b the float64 value. Conv, Gemm and MatMul, float32-only\n"
    "kernels, are computed in float64 by Pad, Slice and Einsum (opset 13 and up,\n"
    "known shapes); other nodes without a float64 kernel (ConvTranspose, ...) run\n"
    "on their inputs rounded to float32 and are marked 'f32': their own rounding\n"
    "is then in the reference too.";

static const char compare_exits[] =
    "  0  both runs completed (flagged nodes do not change the status)\n"
    "  1  a file could not be read or written, or a run failed\n"
    "  2  usage error (unknown option, missing or out-of-range value)\n"
    "  3  the model uses an op, element type or feature onnorm does not support\n";

typedef struct compare_args {
    const char *model, *reference, *json;
    onn_cli_pairs inputs;
    int threads;
    double ratio, min_rel;
} compare_args;

static int parse_compare(int argc, char **argv, compare_args *a)
{
    memset(a, 0, sizeof *a);
    a->ratio = 100.0;
    a->min_rel = 1e-4;
    const onn_cli_opt opts[] = {
        {"--input", ONN_OPT_PAIR, "NAME=FILE.pb", 0, 0, &a->inputs, NULL,
         "feed graph input NAME from a TensorProto file (repeatable)"},
        {"--reference", ONN_OPT_STR, "MODEL", 0, 0, &a->reference, NULL,
         "evaluate this model (same value names) in float64 instead"},
        {"--json", ONN_OPT_STR, "FILE", 0, 0, &a->json, NULL, "also write the rows as JSON"},
        {"--ratio", ONN_OPT_REAL, "R", 1.0, 1e300, &a->ratio, NULL,
         "flag where error / input error >= R (default 100)"},
        {"--min-rel", ONN_OPT_REAL, "E", 0.0, 1e300, &a->min_rel, NULL,
         "and the relative error is >= E (default 1e-4)"},
        {"--threads", ONN_OPT_INT, "N", 1, 4096, &a->threads, NULL,
         "threads for the kernels, 1..4096 (default: all cores)"},
    };
    const onn_cli_cmd cmd = {
        "compare", "MODEL [options]", compare_about, opts, (int)(sizeof opts / sizeof *opts), 1,
        1,         compare_exits};
    const char *pos[1];
    int n_pos, rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos);
    if (rc || n_pos == 0) return rc ? rc : -1;
    a->model = pos[0];
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.9g", x);
    else
        fputs("null", f);
}

static bool write_json(const char *path, const char *model, const onnorm_compare_report *r,
                       const compare_args *a)
{
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fprintf(f, "{\"model\": ");
    json_str(f, model);
    fprintf(f, ", \"reference\": ");
    if (a->reference)
        json_str(f, a->reference);
    else
        fputs("null", f);
    fprintf(f, ", \"ratio\": ");
    json_num(f, a->ratio);
    fprintf(f, ", \"min_rel\": ");
    json_num(f, a->min_rel);
    fprintf(f, ", \"nodes\": [");
    for (int i = 0; i < r->n; i++) {
        const onnorm_compare_row *w = &r->rows[i];
        fprintf(f, "%s\n  {\"index\": %d, \"name\": ", i ? "," : "", i);
        json_str(f, w->name);
        fprintf(f, ", \"op_type\": ");
        json_str(f, w->op_type);
        fprintf(f, ", \"output\": ");
        if (w->output)
            json_str(f, w->output);
        else
            fputs("null", f);
        fprintf(f, ", \"compared\": %d, \"missing\": %d, \"max_abs\": ", w->compared, w->missing);
        json_num(f, w->max_abs);
        fprintf(f, ", \"max_rel\": ");
        json_num(f, w->max_rel);
        fprintf(f, ", \"input_rel\": ");
        json_num(f, w->input_rel);
        fprintf(f, ", \"ratio\": ");
        json_num(f, w->ratio);
        fprintf(f, ", \"flagged\": %s, \"fallback\": %s, \"nonfinite\": %lld}",
                w->flagged ? "true" : "false", w->fallback ? "true" : "false",
                (long long)w->nonfinite);
    }
    fprintf(f, "\n]}\n");
    return fclose(f) == 0;
}

int onn_cli_compare(int argc, char **argv)
{
    compare_args a;
    int prc = parse_compare(argc, argv, &a);
    if (prc) return prc < 0 ? ONN_EXIT_OK : prc;
    onnorm_error e = {0};
    onnorm_model *m = NULL, *ref = NULL;
    onnorm_compare_report *r = NULL;
    onnorm_tensor *owned[ONN_CLI_MAX_PAIRS + 64] = {0};
    onnorm_tensor feeds[ONN_CLI_MAX_PAIRS + 64];
    const int max_owned = (int)(sizeof owned / sizeof *owned);
    int n_owned = 0, rc = ONN_EXIT_FAIL;
    onnorm_status st = ONNORM_OK;
    if (a.json && (st = onn_cli_check_writable(a.json, &e))) goto fail;
    for (int i = 0; i < a.inputs.n; i++)
        if ((st = onn_cli_check_file(a.inputs.value[i], &e))) goto fail;
    if ((st = onn_cli_load_model(a.model, ONNORM_LOAD_NO_FOLDING, &m, &e))) goto fail;
    if (a.reference && (st = onn_cli_load_model(a.reference, ONNORM_LOAD_NO_FOLDING, &ref, &e)))
        goto fail;
    for (int i = 0; i < a.inputs.n; i++) {
        bool known = false;
        for (int k = 0; k < onnorm_model_input_count(m); k++)
            known |= !strcmp(onnorm_model_input_name(m, k), a.inputs.name[i]);
        if (!known) {
            char names[512];
            onn_cli_input_names(m, names, sizeof names);
            snprintf(e.message, sizeof e.message, "%s: no input named '%s' (inputs: %s)", a.model,
                     a.inputs.name[i], names);
            st = ONNORM_ERR_NOT_FOUND;
            goto fail;
        }
        if ((st = onn_cli_read_tensor(a.inputs.value[i], &owned[n_owned], &e))) goto fail;
        feeds[n_owned] = *owned[n_owned];
        feeds[n_owned].name = (char *)a.inputs.name[i];
        n_owned++;
    }
    for (int i = 0; i < onnorm_model_input_count(m); i++) {
        const char *name = onnorm_model_input_name(m, i);
        bool given = false;
        for (int k = 0; k < a.inputs.n; k++)
            given |= !strcmp(a.inputs.name[k], name);
        if (given) continue;
        if (n_owned == max_owned || !(owned[n_owned] = onn_cli_fill_input(m, i, &e))) {
            st = ONNORM_ERR_INVALID;
            goto fail;
        }
        feeds[n_owned] = *owned[n_owned];
        feeds[n_owned].name = (char *)name;
        n_owned++;
        printf("input %s: filled with deterministic values in [-1, 1)\n", name);
    }
    onnorm_compare_options o;
    onnorm_compare_options_init(&o);
    o.num_threads = a.threads;
    o.reference = ref;
    o.flag_ratio = a.ratio;
    o.flag_min_rel = a.min_rel;
    if ((st = onnorm_compare(m, &o, n_owned, feeds, &r, &e))) goto fail;
    printf("model %s: %d nodes against %s in float64%s\n", a.model, r->n,
           a.reference ? a.reference : "itself", r->fallbacks ? "" : " (every node in float64)");
    if (r->fallbacks)
        printf("%d node(s) marked f32 have no float64 kernel: they ran on float32 inputs in the "
               "reference\n",
               r->fallbacks);
    printf("%5s  %-28s %-20s %11s %11s %11s %11s\n", "#", "node", "op", "max_abs", "max_rel",
           "input_rel", "ratio");
    int flagged = 0, worst = -1;
    for (int i = 0; i < r->n; i++) {
        const onnorm_compare_row *w = &r->rows[i];
        const char *label = w->name[0] ? w->name : (w->output ? w->output : "");
        if (!w->compared) {
            printf("%5d  %-28.28s %-20.20s %11s %11s %11s %11s  (not compared)\n", i, label,
                   w->op_type, "-", "-", "-", "-");
            continue;
        }
        printf("%5d  %-28.28s %-20.20s %11.3e %11.3e %11.3e %11.3g%s%s", i, label, w->op_type,
               w->max_abs, w->max_rel, w->input_rel, w->ratio, w->flagged ? "  << grows" : "",
               w->fallback ? "  f32" : "");
        if (w->nonfinite) printf("  %lld non-finite mismatch(es)", (long long)w->nonfinite);
        printf("\n");
        flagged += w->flagged;
        if (worst < 0 || w->ratio > r->rows[worst].ratio) worst = i;
    }
    if (flagged) {
        printf("error grows at %d node(s):", flagged);
        for (int i = 0; i < r->n; i++)
            if (r->rows[i].flagged)
                printf(" %s", r->rows[i].name[0] ? r->rows[i].name : r->rows[i].output);
        printf("\n");
    } else {
        printf("no node flagged (ratio >= %g and max_rel >= %g)\n", a.ratio, a.min_rel);
    }
    if (worst >= 0) {
        const onnorm_compare_row *w = &r->rows[worst];
        printf("largest ratio: node %d %s (%s): %.3g\n", worst,
               w->name[0] ? w->name : (w->output ? w->output : ""), w->op_type, w->ratio);
    }
    if (a.json && !write_json(a.json, a.model, r, &a)) {
        snprintf(e.message, sizeof e.message, "%s: cannot write the JSON file", a.json);
        st = ONNORM_ERR_IO;
        goto fail;
    }
    rc = ONN_EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "onnorm compare: %s\n", e.message[0] ? e.message : onnorm_status_str(st));
    rc = onn_cli_exit_for(st);
done:
    onnorm_compare_report_free(r);
    for (int i = 0; i < n_owned; i++)
        onnorm_tensor_free(owned[i]);
    onnorm_model_free(ref);
    onnorm_model_free(m);
    return rc;
}
