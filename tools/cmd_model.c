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
    const char *in = NULL, *out = NULL, *disabled = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--disable") && i + 1 < argc)
            disabled = argv[++i];
        else if (argv[i][0] != '-' && !in)
            in = argv[i];
        else {
            fprintf(stderr, "onnorm optimize: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!in || !out) {
        onn_cli_usage(stderr);
        return 2;
    }
    onnorm_error e;
    onnorm_model *m = NULL, *opt = NULL;
    static char report[1 << 17];
    int rc = 1;
    onnorm_optimize_options o;
    onnorm_optimize_options_init(&o);
    o.disabled_passes = disabled;
    if (onnorm_model_load_file(in, 0, &m, &e) ||
        onnorm_model_optimize(m, &o, &opt, report, sizeof report, &e) ||
        onnorm_model_save_file(opt, out, &e)) {
        fprintf(stderr, "onnorm: %s\n", e.message);
    } else {
        fputs(report, stdout);
        print_op_counts("before", m);
        print_op_counts("after ", opt);
        printf("written to %s\n", out);
        rc = 0;
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
    bool all = argc == 1 && !strcmp(argv[0], "--all");
    if (argc > 1 || (argc == 1 && !all)) {
        onn_cli_usage(stderr);
        return 2;
    }
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

int onn_cli_info(int argc, char **argv)
{
    if (argc != 1) {
        onn_cli_usage(stderr);
        return 2;
    }
    onnorm_model *m;
    onnorm_error e;
    if (onnorm_model_load_file(argv[0], ONNORM_LOAD_ALLOW_UNSUPPORTED, &m, &e)) {
        fprintf(stderr, "onnorm: %s\n", e.message);
        return 1;
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
        char sh[128] = "[?]";
        onnorm_model_input_info(m, i, &t);
        if (t.rank >= 0) onnorm_shape_str(t.dims, t.rank, sh, sizeof sh);
        printf(" %s:%s%s", t.name, onnorm_dtype_name(t.dtype), sh);
    }
    printf("\n  outputs:");
    for (int i = 0; i < onnorm_model_output_count(m); i++)
        printf(" %s", onnorm_model_output_name(m, i));
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
        onnorm_model *strict;
        onnorm_model_load_file(argv[0], 0, &strict, &e);
        printf("  %d unsupported node(s): %s\n", unsupported, e.message);
    } else {
        printf("  all nodes supported\n");
    }
    const char *notes = onnorm_model_notes(m);
    if (notes[0]) printf("  left unfolded at load:\n%s", notes);
    onnorm_model_free(m);
    return 0;
}
