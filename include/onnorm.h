/*
 * onnorm: load ONNX models and run their normalization operators on
 * OpenMP-parallel C kernels.
 *
 * This is the only public header. Every call that can fail returns an
 * onnorm_status and, when `err` is not NULL, writes a readable message
 * naming the file, node and reason into it. The library keeps no global
 * state: a loaded model is immutable, and any number of sessions created
 * from it may run concurrently, each from its own thread.
 *
 *   onnorm_model *m; onnorm_session *s; onnorm_error e;
 *   if (onnorm_model_load_file("model.onnx", 0, &m, &e)) puts(e.message);
 *   onnorm_session_create(m, NULL, &s, &e);
 *   onnorm_session_bind_input(s, "x", ONNORM_FLOAT, dims, 4, data, &e);
 *   onnorm_session_run(s, &e);
 *   onnorm_tensor y; onnorm_session_output(s, "y", &y, &e);
 *   onnorm_session_free(s); onnorm_model_free(m);
 */
#ifndef ONNORM_H
#define ONNORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONNORM_VERSION "0.1.0"
#define ONNORM_MAX_RANK 8

typedef enum onnorm_status {
    ONNORM_OK = 0,
    ONNORM_ERR_IO,          /* a file could not be read or written */
    ONNORM_ERR_PARSE,       /* not a valid protobuf / ONNX message */
    ONNORM_ERR_INVALID,     /* structurally invalid model or argument */
    ONNORM_ERR_UNSUPPORTED, /* unknown op, opset, dtype or attribute value */
    ONNORM_ERR_SHAPE,       /* shapes do not fit */
    ONNORM_ERR_DTYPE,       /* element types do not fit */
    ONNORM_ERR_NOMEM,       /* allocation failed or size overflow */
    ONNORM_ERR_NOT_FOUND    /* no input/output of that name */
} onnorm_status;

/* Element types use the ONNX TensorProto.DataType codes. */
typedef enum onnorm_dtype {
    ONNORM_UNDEFINED = 0,
    ONNORM_FLOAT = 1,
    ONNORM_UINT8 = 2,
    ONNORM_INT8 = 3,
    ONNORM_UINT16 = 4,
    ONNORM_INT16 = 5,
    ONNORM_INT32 = 6,
    ONNORM_INT64 = 7,
    ONNORM_STRING = 8,
    ONNORM_BOOL = 9,
    ONNORM_FLOAT16 = 10,
    ONNORM_DOUBLE = 11,
    ONNORM_UINT32 = 12,
    ONNORM_UINT64 = 13,
    ONNORM_BFLOAT16 = 16
} onnorm_dtype;

typedef struct onnorm_error {
    onnorm_status code;
    char message[1024];
} onnorm_error;

/*
 * A dense, row-major tensor. Tensors returned by onnorm_session_output()
 * are views into session memory (valid until the next run or free);
 * tensors from onnorm_tensor_read_file() are owned by the caller and freed
 * with onnorm_tensor_free().
 */
typedef struct onnorm_tensor {
    onnorm_dtype dtype;
    int rank;
    int64_t dims[ONNORM_MAX_RANK];
    void *data;
    char *name; /* may be NULL */
} onnorm_tensor;

typedef struct onnorm_model onnorm_model;
typedef struct onnorm_session onnorm_session;

/* ---- utilities ---------------------------------------------------------- */
const char *onnorm_status_str(onnorm_status s);
const char *onnorm_dtype_name(onnorm_dtype t);
size_t onnorm_dtype_size(onnorm_dtype t); /* 0 for unsupported types */
/* Element count of a tensor; -1 if the dims are invalid or overflow. */
int64_t onnorm_tensor_numel(const onnorm_tensor *t);
/* Formats a shape as "[2,3,?]" (a negative dim is unknown) into buf and
 * returns buf. */
const char *onnorm_shape_str(const int64_t *dims, int rank, char *buf, size_t len);

/* Read / write a serialized ONNX TensorProto (the *.pb files of test folders). */
onnorm_status onnorm_tensor_read_file(const char *path, onnorm_tensor **out, onnorm_error *err);
onnorm_status onnorm_tensor_write_file(const char *path, const onnorm_tensor *t, onnorm_error *err);
void onnorm_tensor_free(onnorm_tensor *t);

/* ---- the kernel registry ------------------------------------------------- */
/* Every (domain, op, since_version) kernel this build has. `types` receives
 * the element types input 0 may have for that version ("" when the kernel
 * checks types itself). */
int onnorm_kernel_count(void);
void onnorm_kernel_info(int i, const char **domain, const char **op_type, int *since_version,
                        char *types, size_t types_len);

/* ---- models ------------------------------------------------------------- */
/* Flags for loading. By default a model with any node that no kernel supports
 * is rejected at load time, and the error lists every such node. */
#define ONNORM_LOAD_ALLOW_UNSUPPORTED 1u /* load anyway, for inspection only */
/* By default nodes whose inputs are all constants are run once at load and
 * replaced by their results (e.g. the Transpose exporters put on weights). */
#define ONNORM_LOAD_NO_FOLDING 2u

onnorm_status onnorm_model_load_file(const char *path, unsigned flags, onnorm_model **out,
                                     onnorm_error *err);
/* `name` is used in error messages only (may be NULL). The buffer is copied. */
onnorm_status onnorm_model_load_buffer(const void *data, size_t size, const char *name,
                                       unsigned flags, onnorm_model **out, onnorm_error *err);
void onnorm_model_free(onnorm_model *m);

/* Graph inputs that must be fed (inputs backed by an initializer are optional
 * and not listed here), and graph outputs, in graph order. */
int onnorm_model_input_count(const onnorm_model *m);
const char *onnorm_model_input_name(const onnorm_model *m, int i);
/* Declared type of input i; unknown dims are -1. */
onnorm_status onnorm_model_input_info(const onnorm_model *m, int i, onnorm_tensor *info);
int onnorm_model_output_count(const onnorm_model *m);
const char *onnorm_model_output_name(const onnorm_model *m, int i);
/* Declared type of output i as the model states it (rank -1 when it states
 * no shape, unknown dims -1); ONNORM_ERR_NOT_FOUND past the end. */
onnorm_status onnorm_model_output_info(const onnorm_model *m, int i, onnorm_tensor *info);

/* Introspection for tools. */
int64_t onnorm_model_ir_version(const onnorm_model *m);
int onnorm_model_opset_count(const onnorm_model *m);
void onnorm_model_opset(const onnorm_model *m, int i, const char **domain, int64_t *version);
int onnorm_model_node_count(const onnorm_model *m);
/* Bytes held by the model's constants (initializers and Constant nodes). */
size_t onnorm_model_weight_bytes(const onnorm_model *m);
/* What load-time folding left in the graph and why (a node whose results
 * would exceed the size policy for values computed ahead of a run), one
 * line per node; "" when nothing. */
const char *onnorm_model_notes(const onnorm_model *m);
/* Describes node i (in execution order); `kernel_version` is the since_version
 * of the kernel chosen for it, or 0 when unsupported. */
void onnorm_model_node(const onnorm_model *m, int i, const char **name, const char **op_type,
                       const char **domain, int *kernel_version);

/* ---- graph optimization -------------------------------------------------- */
/*
 * Passes (in order): cleanup, fold-batchnorm, fold-affine, layernorm,
 * rmsnorm, groupnorm, and cleanup again. Level 0 runs none; level 1 runs all
 * but those named in `disabled_passes` (comma-separated, may be NULL).
 */
typedef struct onnorm_optimize_options {
    int level;
    const char *disabled_passes;
} onnorm_optimize_options;

void onnorm_optimize_options_init(onnorm_optimize_options *o);
/* Writes an optimized copy of m to *out. The copy shares m's weights, so m
 * must outlive it. When report is not NULL it receives, per pass, how many
 * patterns were rewritten and why near-misses were left alone. */
onnorm_status onnorm_model_optimize(const onnorm_model *m, const onnorm_optimize_options *o,
                                    onnorm_model **out, char *report, size_t report_len,
                                    onnorm_error *err);
/* Writes m as an ONNX file: the loaded file's metadata, doc strings and
 * graph input/output declarations, with m's nodes and constants; opset
 * imports raised where an optimization needed a newer operator. When the
 * loaded file kept tensors in external data, or m's constants total more
 * than 1 GiB, every constant of 1 KiB or more is written to PATH.data
 * (64-byte aligned), which the model names by its base name; keep the two
 * files in one directory. */
onnorm_status onnorm_model_save_file(const onnorm_model *m, const char *path, onnorm_error *err);

/* ---- sessions ----------------------------------------------------------- */
typedef struct onnorm_session_options {
    int num_threads;             /* 0 = OpenMP default (all cores) */
    int optimization_level;      /* 0 = no graph rewrites; 1 = default */
    const char *disabled_passes; /* comma-separated pass names, or NULL */
    /* Cap on the memory planning gives the session's intermediate values:
     * the arena, values computed while planning and kernel scratch, each
     * value alone and all together. Planning past it fails with
     * ONNORM_ERR_NOMEM naming the node and the size. 0 (what
     * onnorm_session_options_init and a zeroed struct give) = the default,
     * the machine's physical memory; SIZE_MAX = no cap. Appended in 0.1.x;
     * code that sets the fields by name keeps compiling. */
    size_t max_arena_bytes;
} onnorm_session_options;

void onnorm_session_options_init(onnorm_session_options *o);
/* A session reads m (and, optimized, shares its weights): m must outlive
 * it. opts may be NULL for the defaults. */
onnorm_status onnorm_session_create(const onnorm_model *m, const onnorm_session_options *opts,
                                    onnorm_session **out, onnorm_error *err);
/* The number of threads the session's kernels use. */
int onnorm_session_threads(const onnorm_session *s);
/* Binds input `name` to caller memory. The data is read during run and must
 * stay valid until then; it is not copied. */
onnorm_status onnorm_session_bind_input(onnorm_session *s, const char *name, onnorm_dtype dtype,
                                        const int64_t *dims, int rank, const void *data,
                                        onnorm_error *err);
onnorm_status onnorm_session_run(onnorm_session *s, onnorm_error *err);
/* A view of output `name` after a successful run. */
onnorm_status onnorm_session_output(const onnorm_session *s, const char *name, onnorm_tensor *out,
                                    onnorm_error *err);
/* Bytes the session holds for intermediate values after its last plan: the
 * arena shared by values computed during runs, values computed once while
 * planning (from constants and input shapes), and the largest total of
 * run-time values alive at one step (the least any arena could be).
 * Any pointer may be NULL. */
onnorm_status onnorm_session_memory(const onnorm_session *s, size_t *arena_bytes,
                                    size_t *static_bytes, size_t *live_peak_bytes);
void onnorm_session_free(onnorm_session *s);

/* ---- profiling ------------------------------------------------------------ */
/* With profiling on, every run times each node it runs (a clock read before
 * and after each node); off by default. Turning it on or off resets the
 * timings, and so does planning again. */
onnorm_status onnorm_session_set_profiling(onnorm_session *s, int enable, onnorm_error *err);

typedef struct onnorm_node_profile {
    const char *name, *op_type, *domain;
    int64_t runs;         /* runs timed since profiling was turned on (or the last plan) */
    double total_ms;      /* this node's time over those runs */
    double last_start_ms; /* in the last run: when the node started, from the run's start */
    double last_ms;       /* and how long it took */
    double flops;         /* per run: floating-point operations of Conv, ConvTranspose, Gemm
                             and MatMul (a multiply-add counts 2), else 0 */
    double bytes;         /* per run: bytes of the node's inputs and outputs */
} onnorm_node_profile;

/* The nodes a run executes, in execution order (nodes computed once while
 * planning are not among them); 0 before the session has planned. */
int onnorm_session_profile_count(const onnorm_session *s);
/* Node i of those. ONNORM_ERR_NOT_FOUND past the end. */
onnorm_status onnorm_session_profile(const onnorm_session *s, int i, onnorm_node_profile *out);

/* ---- resource limits (issue 15) ----------------------------------------- */
/*
 * Loading with options. Load-time constant folding (and the shape inference
 * onnorm_model_optimize runs) keeps the values it computes ahead of a run
 * only while their total stays within max_fold_bytes; a node past it is not
 * folded: it stays in the graph, runs with every run, and is listed by
 * onnorm_model_notes(). So a small file cannot make loading allocate
 * gigabytes, and a valid model still loads. 0 = the default: 16 times the
 * model's bytes (its file, or its constants when they are larger, as with
 * external data), at least 64 MiB. onnorm_model_load_file/_buffer use the
 * default.
 */
typedef struct onnorm_load_options {
    unsigned flags;        /* ONNORM_LOAD_* */
    size_t max_fold_bytes; /* 0 = default (above) */
} onnorm_load_options;

void onnorm_load_options_init(onnorm_load_options *o);
/* opts may be NULL for the defaults. */
onnorm_status onnorm_model_load_file_ex(const char *path, const onnorm_load_options *opts,
                                        onnorm_model **out, onnorm_error *err);
onnorm_status onnorm_model_load_buffer_ex(const void *data, size_t size, const char *name,
                                          const onnorm_load_options *opts, onnorm_model **out,
                                          onnorm_error *err);

#ifdef __cplusplus
}
#endif
#endif
