/* `onnorm info`, `onnorm ops` and `onnorm optimize`: inspecting and
 * rewriting models. */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Node counts by op type, "Op xN, ..." in first-seen order. */
static void print_op_counts(const char *label, const onnorm_model *m)
{
    int nn = onnorm_model_node_count(m);
    printf("%s: %d nodes:", label, nn);
    for (int i = 0; i < nn; i++) {
        const char *op;
        onnorm_model_node(m, i, NULL, &op, NULL, NULL);
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) {
            const char *op2;
            onnorm_model_node(m, k, NULL, &op2, NULL, NULL);
            seen = !strcmp(op, op2);
        }
        if (seen) continue;
        int count = 0;
        for (int k = i; k < nn; k++) {
            const char *op2;
            onnorm_model_node(m, k, NULL, &op2, NULL, NULL);
            count += !strcmp(op, op2);
        }
        printf(" %s x%d", op, count);
    }
    printf("\n");
}

int onn_cli_optimize(int argc, char **argv)
{
    const char *out = NULL, *disabled = NULL;
    int level = 1;
    const onn_cli_opt opts[] = {
        {"-o", ONN_OPT_STR, "OUT.onnx", 0, 0, &out, NULL,
         "where to write the optimized model (required)"},
        {"--output", ONN_OPT_STR, "OUT.onnx", 0, 0, &out, NULL, "the same as -o"},
        {"--disable", ONN_OPT_STR, "PASS,...", 0, 0, &disabled, NULL,
         "passes not to run: cleanup, fold-pad, fold-batchnorm,\n"
         "fold-affine, fold-affine-into-norm, fuse-conv, layernorm,\n"
         "rmsnorm, groupnorm, fuse-norm, fuse-gelu, fuse-skip-norm,\n"
         "fold-norm-into-next-conv, fuse-linear"},
        {"--opt-level", ONN_OPT_INT, "L", 0, 1, &level, NULL,
         "0 runs no pass (a plain rewrite), 1 all of them (default)"},
        ONN_CLI_OPT_MAX_FOLD,
    };
    const onn_cli_cmd cmd = {
        "optimize",
        "MODEL -o OUT.onnx [options]",
        "Rewrites MODEL with onnorm's graph passes (fusing decomposed LayerNorm,\n"
        "RMSNorm and GroupNorm patterns, folding BatchNormalization and affine\n"
        "chains into neighbours, removing dead nodes) and writes it as ONNX;\n"
        "prints what each pass did and the op counts before and after.\n",
        opts,
        (int)(sizeof opts / sizeof *opts),
        1,
        1,
        NULL};
    const char *pos[1];
    int n_pos, rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos);
    if (rc || n_pos == 0) return rc;
    if (!out) {
        fprintf(stderr, "onnorm optimize: -o OUT.onnx is required (see onnorm help optimize)\n");
        return ONN_EXIT_USAGE;
    }
    const char *in = pos[0];
    onnorm_error e;
    onnorm_model *m = NULL, *opt = NULL;
    static char report[1 << 17];
    onnorm_optimize_options o;
    onnorm_optimize_options_init(&o);
    o.disabled_passes = disabled;
    o.level = level;
    onnorm_status st = onn_cli_load_model(in, 0, &m, &e);
    if (!st) st = onnorm_model_optimize(m, &o, &opt, report, sizeof report, &e);
    if (!st) st = onn_cli_check_writable(out, &e);
    if (!st) st = onnorm_model_save_file(opt, out, &e);
    if (st) {
        fprintf(stderr, "onnorm: %s\n", e.message);
        rc = onn_cli_exit_for(st);
    } else {
        fputs(report, stdout);
        print_op_counts("before", m);
        print_op_counts("after ", opt);
        printf("written to %s\n", out);
    }
    onnorm_model_free(opt);
    onnorm_model_free(m);
    return rc;
}

/* `onnorm ops`: the support table, one row per (domain, op), as Markdown.
 * Without --all only kernels with a declared type list (the normalization
 * family) are shown. */
int onn_cli_ops(int argc, char **argv)
{
    bool all = false;
    const onn_cli_opt opts[] = {
        {"--all", ONN_OPT_FLAG, NULL, 0, 0, &all, NULL,
         "every op, not only the normalization family"},
    };
    const onn_cli_cmd cmd = {"ops",
                             "[--all]",
                             "Prints the operator support table as Markdown: one row per (op,\n"
                             "domain) with its opset versions and element types.\n",
                             opts,
                             1,
                             0,
                             0,
                             NULL};
    const char *pos[1];
    int n_pos, rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos);
    if (rc) return rc;
    int n = onnorm_kernel_count();
    printf("| operator | domain | opset versions | types |\n|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        const char *dom, *op;
        int ver;
        char types[160];
        onnorm_kernel_info(i, &dom, &op, &ver, types, sizeof types);
        if (!all && !types[0]) continue;
        bool seen = false; /* print each (domain, op) once, at its first kernel */
        for (int k = 0; k < i && !seen; k++) {
            const char *d2, *o2;
            onnorm_kernel_info(k, &d2, &o2, NULL, NULL, 0);
            seen = !strcmp(dom, d2) && !strcmp(op, o2);
        }
        if (seen) continue;
        char versions[256] = "", vtypes[1024] = "";
        size_t vu = 0, tu = 0;
        for (int k = i; k < n; k++) {
            const char *d2, *o2;
            int v2;
            char t2[160];
            onnorm_kernel_info(k, &d2, &o2, &v2, t2, sizeof t2);
            if (strcmp(dom, d2) || strcmp(op, o2)) continue;
            vu += (size_t)snprintf(versions + vu, sizeof versions - vu, "%s%d", vu ? ", " : "", v2);
            if (tu < sizeof vtypes)
                tu += (size_t)snprintf(vtypes + tu, sizeof vtypes - tu, "%s%s%d: %s",
                                       tu ? "; " : "", "v", v2, t2[0] ? t2 : "see kernel");
        }
        /* One type list for all versions reads better when they agree. */
        bool same = true;
        for (int k = i; k < n && same; k++) {
            const char *d2, *o2;
            char t2[160];
            onnorm_kernel_info(k, &d2, &o2, NULL, t2, sizeof t2);
            if (!strcmp(dom, d2) && !strcmp(op, o2)) same = !strcmp(t2, types);
        }
        printf("| %s | %s | %s | %s |\n", op, dom, versions,
               same ? (types[0] ? types : "see kernel") : vtypes);
    }
    return 0;
}

static const char info_exits[] =
    "  0  the model loads and every node has a kernel\n"
    "  1  the model cannot be read or parsed\n"
    "  2  usage error\n"
    "  3  the model loads for inspection but uses unsupported ops or types\n"
    "     (everything is still printed)\n";

/* A value's declared type as "name:dtype[dims]" ("[?]" for no shape). */
static void print_typed(const onnorm_tensor *t)
{
    char sh[256] = "[?]";
    if (t->rank >= 0) onnorm_shape_str(t->dims, t->rank, sh, sizeof sh);
    printf(" %s:%s%s", t->name, onnorm_dtype_name(t->dtype), sh);
}

int onn_cli_info(int argc, char **argv)
{
    const onn_cli_opt opts[] = {ONN_CLI_OPT_MAX_FOLD};
    const onn_cli_cmd cmd = {
        "info",
        "MODEL",
        "Prints the model's IR version, opset imports, inputs and outputs with their\n"
        "declared element types and shapes (name:type[dims], ? for an unknown dim,\n"
        "[?] for no shape), and its nodes by op type with the opset version of the\n"
        "kernel each would use, or UNSUPPORTED.\n",
        opts,
        1,
        1,
        1,
        info_exits};
    const char *pos[1];
    int n_pos, rc = onn_cli_parse(&cmd, argc, argv, pos, &n_pos);
    if (rc || n_pos == 0) return rc;
    argv = (char **)pos;
    onnorm_model *m;
    onnorm_error e;
    onnorm_status st = onn_cli_load_model(argv[0], ONNORM_LOAD_ALLOW_UNSUPPORTED, &m, &e);
    if (st) {
        fprintf(stderr, "onnorm: %s\n", e.message);
        return onn_cli_exit_for(st);
    }
    printf("model %s\n  ir_version %lld\n  opsets:", argv[0],
           (long long)onnorm_model_ir_version(m));
    for (int i = 0; i < onnorm_model_opset_count(m); i++) {
        const char *d;
        int64_t v;
        onnorm_model_opset(m, i, &d, &v);
        printf(" %s=%lld", d[0] ? d : "ai.onnx", (long long)v);
    }
    printf("\n  inputs:");
    for (int i = 0; i < onnorm_model_input_count(m); i++) {
        onnorm_tensor t;
        onnorm_model_input_info(m, i, &t);
        print_typed(&t);
    }
    printf("\n  outputs:");
    for (int i = 0; i < onnorm_model_output_count(m); i++) {
        onnorm_tensor t;
        onnorm_model_output_info(m, i, &t);
        print_typed(&t);
    }
    int nn = onnorm_model_node_count(m), unsupported = 0;
    printf("\n  nodes: %d\n", nn);
    /* Group by (domain, op type) in first-seen order. */
    for (int i = 0; i < nn; i++) {
        const char *op, *dom;
        int ver;
        onnorm_model_node(m, i, NULL, &op, &dom, &ver);
        bool seen = false;
        for (int k = 0; k < i && !seen; k++) {
            const char *op2, *dom2;
            onnorm_model_node(m, k, NULL, &op2, &dom2, NULL);
            seen = !strcmp(op, op2) && !strcmp(dom, dom2);
        }
        if (seen) continue;
        int count = 0;
        for (int k = i; k < nn; k++) {
            const char *op2, *dom2;
            onnorm_model_node(m, k, NULL, &op2, &dom2, NULL);
            count += !strcmp(op, op2) && !strcmp(dom, dom2);
        }
        if (!ver) unsupported += count;
        if (ver)
            printf("    %-28s x%-4d supported (kernel since opset %d)\n", op, count, ver);
        else
            printf("    %-28s x%-4d UNSUPPORTED\n", op, count);
    }
    if (unsupported) {
        onnorm_model *strict = NULL;
        onn_cli_load_model(argv[0], 0, &strict, &e);
        onnorm_model_free(strict);
        printf("  %d unsupported node(s): %s\n", unsupported, e.message);
        rc = ONN_EXIT_UNSUPPORTED;
    } else {
        printf("  all nodes supported\n");
    }
    const char *notes = onnorm_model_notes(m);
    if (notes[0]) printf("  left unfolded at load:\n%s", notes);
    onnorm_model_free(m);
    return rc;
}
