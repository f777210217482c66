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
#include <stdio.h>

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
 * Passes (in order): cleanup, fold-pad, fold-batchnorm, fold-affine,
 * fold-affine-into-norm, fuse-conv, layernorm, rmsnorm, groupnorm,
 * fuse-norm, fuse-gelu, fuse-skip-norm, fold-channel-layernorm,
 * fold-norm-into-next-conv, fuse-linear, fuse-expand-dw, fuse-attention,
 * and cleanup again (README.md, "Graph optimization"). Level 0 runs none;
 * level 1 runs all but those named in `disabled_passes` (comma-separated,
 * may be NULL).
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
/* How long an idle kernel thread spins for the next parallel loop before it
 * sleeps, in microseconds: ONNORM_SPIN_US from the environment, read once
 * per process (0 to 1000000), else 100. */
int onnorm_thread_spin_us(void);
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

/* ---- data sets: calibration inputs (issue 14) ------------------------------
 * The inputs `calibrate`, `stats` and `standardize` run a model on, given as
 * paths:
 *   - a file: a serialized TensorProto (.pb) or a NumPy .npy array (told
 *     apart by content); one item of a single-input model;
 *   - a folder holding test_data_set_* folders (an ONNX test folder): each
 *     of those is one item;
 *   - a folder holding input_0 .. input_{K-1} (.pb or .npy): one item whose
 *     input_k feeds the model's input k (how a model with several inputs
 *     takes its data; loose files are refused for such a model);
 *   - any other folder: each *.npy and *.pb file directly in it is one item.
 * A file holds one batch (the input's rank) or one sample (one rank less; a
 * batch dim of 1 is put in front). Element types must match the input's
 * declared type exactly; fixed dims must match, except that a model whose
 * first input has a fixed batch B takes files of k * B rows as k items of B
 * rows (the unit of the data set is one run). Files are read lazily, when an
 * item is read or bound (only a fixed-batch model has each first file's
 * shape read at open, to count its runs). .npy: versions 1-3, C order,
 * little-endian bool, int8..64, uint8..64, float16/32/64; the data must fill
 * the file exactly. */
typedef struct onnorm_dataset onnorm_dataset;

/* Lists the items of the paths for model m (files are not read yet; the
 * data set keeps a copy of m's input declarations, not m). */
onnorm_status onnorm_dataset_open(const onnorm_model *m, const char *const *paths, int n_paths,
                                  onnorm_dataset **out, onnorm_error *err);
int onnorm_dataset_count(const onnorm_dataset *d);
/* The model inputs each item feeds (onnorm_model_input_count). */
int onnorm_dataset_input_count(const onnorm_dataset *d);
/* The file that feeds `input` in `item`, or NULL out of range. */
const char *onnorm_dataset_path(const onnorm_dataset *d, int item, int input);
/* Reads one tensor of an item, checked against the model's declaration (a
 * sample already has its batch dim; a run cut from a file is a copy of its
 * rows). Free it with onnorm_tensor_free. */
onnorm_status onnorm_dataset_read(const onnorm_dataset *d, int item, int input, onnorm_tensor **out,
                                  onnorm_error *err);
/* Reads every input of `item` and binds it to s (by the model's input
 * names). The data set holds the tensors until a bind of an item of another
 * file, or its free, so the session may run in between. */
onnorm_status onnorm_dataset_bind(onnorm_dataset *d, int item, onnorm_session *s,
                                  onnorm_error *err);
/* Like onnorm_dataset_read, without a copy: *out views data the data set
 * holds (as for bind), valid until a bind or view of an item of another
 * file, or its free. For walking a data set's values. */
onnorm_status onnorm_dataset_view(onnorm_dataset *d, int item, int input, onnorm_tensor *out,
                                  onnorm_error *err);
void onnorm_dataset_free(onnorm_dataset *d);
/* Reads a NumPy .npy file (see above for what is accepted). Free the tensor
 * with onnorm_tensor_free. */
onnorm_status onnorm_tensor_read_npy(const char *path, onnorm_tensor **out, onnorm_error *err);

/* ---- capture: intermediate values as outputs (issue 14) --------------------
 * A copy of m whose graph outputs are m's own (when keep_outputs) followed
 * by the values `names` (node outputs, graph inputs or constants; a name
 * given twice, or already an output, is listed once). A session of the copy
 * returns them with onnorm_session_output by name. They stay intact under
 * optimization (no pass rewrites a graph output away), though the unrewritten
 * graph (optimization_level 0) shows exactly what the file computes. Without
 * keep_outputs, nodes that none of the values needs are dropped, so runs
 * compute only what leads to them. The copy shares m's weights: m must
 * outlive it. ONNORM_ERR_NOT_FOUND names a value the model does not have. */
onnorm_status onnorm_model_capture(const onnorm_model *m, const char *const *names, int n_names,
                                   int keep_outputs, onnorm_model **out, onnorm_error *err);

/* ---- calibration: BatchNormalization statistics (issue 14) ---------------- */
typedef struct onnorm_calibrate_options {
    const char *nodes; /* comma-separated BatchNormalization names; NULL or "": all */
    int unbiased;      /* 0: population variance (default; what ONNX's BN assumes), 1: N-1 */
    double blend;      /* written = blend * measured + (1 - blend) * stored; [0, 1], default 1 */
    int num_threads;   /* for the calibration runs; 0 = OpenMP default */
} onnorm_calibrate_options;

void onnorm_calibrate_options_init(onnorm_calibrate_options *o);

/* How one node's statistics moved (written against stored). */
typedef struct onnorm_bn_calibration {
    const char *node; /* the node's name, valid while the calibrated model lives */
    int64_t channels;
    int64_t count; /* values per channel measured */
    int wave;      /* 0: measured first; a node of wave k depends on nodes of waves < k */
    double mean_shift_max, mean_shift_mean; /* |new - old mean| / sqrt(old var + epsilon) */
    double var_ratio_min, var_ratio_max, var_ratio_gmean; /* (new var + eps) / (old var + eps) */
} onnorm_bn_calibration;

/*
 * Replaces the mean and var of every inference BatchNormalization of m (or
 * those named in o->nodes) by the statistics of the node's input over the
 * data set d (opened for m), measured in dependency order on the
 * recalibrated, unoptimized graph and merged across items exactly, in
 * double. Writes the calibrated copy of m to *out (BatchNormalization stays;
 * save it with onnorm_model_save_file). The copy shares m's weights: m must
 * outlive it. layers receives up to max_layers reports (in graph order) and
 * *n_layers their count; notes (may be NULL) the nodes skipped and why
 * (training mode, spatial=0, statistics that are not float32/float64
 * constants); such a node named in o->nodes is an error. X may be float32,
 * float64, float16 or bfloat16 (read as double).
 */
onnorm_status onnorm_model_calibrate(const onnorm_model *m, onnorm_dataset *d,
                                     const onnorm_calibrate_options *o, onnorm_model **out,
                                     onnorm_bn_calibration *layers, int max_layers, int *n_layers,
                                     char *notes, size_t notes_len, onnorm_error *err);

/* ---- input standardization fitted on data (issue 14) ---------------------- */
#define ONNORM_STANDARDIZE_ZSCORE 0 /* center = mean, divisor = population std */
#define ONNORM_STANDARDIZE_MINMAX 1 /* center = min, divisor = max - min: x' in [0, 1] */

typedef struct onnorm_standardize_options {
    int mode;          /* ONNORM_STANDARDIZE_ZSCORE (default) or _MINMAX */
    int per_channel;   /* per channel (axis 1) rather than over the whole tensor */
    const char *input; /* the graph input; NULL: the model's only float input */
} onnorm_standardize_options;

void onnorm_standardize_options_init(onnorm_standardize_options *o);

/*
 * Fits x' = (x - center) / divisor for one float input of m over the data set
 * d (opened for m; moments in double, merged exactly across items) and
 * writes to *out a copy of m that takes raw inputs: the map is prepended as
 * ONNX nodes Mul then Add (x * (1 / divisor) + (-center / divisor)), with
 * scalar constants, or [1, C, 1, ...] ones per channel. A zero divisor
 * (constant data: std 0, max == min) becomes 1. center and divisor receive
 * up to max_channels fitted values (one without per_channel), *n_channels
 * their count and *count the values per channel seen (either may be NULL).
 * The copy shares m's weights: m must outlive it.
 */
onnorm_status onnorm_model_standardize(const onnorm_model *m, onnorm_dataset *d,
                                       const onnorm_standardize_options *o, onnorm_model **out,
                                       double *center, double *divisor, int64_t max_channels,
                                       int64_t *n_channels, int64_t *count, onnorm_error *err);

/* ---- normalization statistics (onnorm stats) ------------------------------
 * What every normalization node of a model sees over a data set: per
 * channel (BatchNormalization, InstanceNormalization, MeanVariance-
 * Normalization), group (GroupNormalization) or row and feature (the
 * LayerNormalization family) statistics of its input and output, NaN and Inf
 * counts, dead and near-constant units, for BatchNormalization the drift
 * between its stored and the measured statistics, and how far batch means
 * and variances of 1, 2, 4, ... consecutive samples stray from the
 * population's. Statistics are accumulated in double and merge exactly
 * across runs; the definitions are in runtime/normstats.c.
 *
 *   onnorm_stats *st; onnorm_stats_create(model, 0, &st, &e);
 *   for each batch: bind inputs on onnorm_stats_session(st), then
 *                   onnorm_stats_accumulate(st, &e);
 *   onnorm_stats_write(st, ONNORM_STATS_JSON, stdout, &e); onnorm_stats_free(st);
 */
typedef struct onnorm_stats onnorm_stats;

/* Flags of a node's summary. */
#define ONNORM_STATS_DRIFT 1u      /* BatchNormalization's stored statistics miss the data */
#define ONNORM_STATS_NONFINITE 2u  /* NaN or Inf in the input or output */
#define ONNORM_STATS_DEAD 4u       /* an input unit that is 0 everywhere */
#define ONNORM_STATS_NEAR_CONST 8u /* an input unit with std < 1e-6 * (1 + |mean|) */

typedef struct onnorm_stats_summary {
    const char *name, *op_type, *domain;
    const char *unit;       /* "channel", "group", "feature" (rows' features) or "unit" */
    int64_t units, samples; /* samples: along input axis 0, over every run */
    int64_t nan, inf, out_nan, out_inf;
    int64_t dead, near_constant; /* input units */
    int has_drift;               /* BatchNormalization in inference mode */
    double max_shift, mean_shift, min_ratio, max_ratio;
    unsigned flags;
} onnorm_stats_summary;

typedef enum onnorm_stats_format {
    ONNORM_STATS_TEXT, /* one line per node */
    ONNORM_STATS_JSON, /* everything, for tools (schema in runtime/normstats_report.c) */
    ONNORM_STATS_HTML  /* one self-contained page with inline SVG charts */
} onnorm_stats_format;

/* Records every normalization node of m (a model without any is an error,
 * ONNORM_ERR_NOT_FOUND). m must outlive the object; num_threads as in
 * onnorm_session_options (0: all cores). The session runs the graph as
 * loaded, unoptimized, so that every norm node runs as written. */
onnorm_status onnorm_stats_create(const onnorm_model *m, int num_threads, onnorm_stats **out,
                                  onnorm_error *err);
/* The session whose inputs the caller binds before each accumulate. */
onnorm_session *onnorm_stats_session(onnorm_stats *st);
/* Runs the session once and adds what every norm node saw. */
onnorm_status onnorm_stats_accumulate(onnorm_stats *st, onnorm_error *err);
int onnorm_stats_node_count(const onnorm_stats *st);
onnorm_status onnorm_stats_node(const onnorm_stats *st, int i, onnorm_stats_summary *out,
                                onnorm_error *err);
onnorm_status onnorm_stats_write(const onnorm_stats *st, onnorm_stats_format format, FILE *f,
                                 onnorm_error *err);
void onnorm_stats_free(onnorm_stats *st);
/* ---- layer-by-layer accuracy (onnorm compare) ----------------------------
 * Runs a model twice, unoptimized, with every node output captured: as it
 * is (float32) and as a float64 evaluation of the same graph (float32
 * initializers, inputs, value types, Cast targets and tensor attributes
 * become float64). Conv, Gemm and MatMul, whose kernels are float32 only,
 * are computed there from opset 13 on by ops that have float64 kernels
 * (Pad, strided Slice and Einsum per kernel offset); other nodes without a
 * float64 kernel (ConvTranspose, or those three with unknown shapes or an
 * older opset) run on their float64 inputs cast to float32, with their
 * outputs cast back up, and their rows say so (`fallback`): their own
 * rounding is then in the reference too, only what reached them is
 * measured. Every node of m gets a row, in execution order, comparing its outputs with the
 * same-named values of the float64 run. */
typedef struct onnorm_compare_options {
    int num_threads; /* 0 = the OpenMP default */
    /* The model evaluated in float64 instead of m (matched by value names);
     * NULL for m itself. A float32 reference is converted like m would be. */
    const onnorm_model *reference;
    double flag_ratio;   /* flag a node whose error is this many times its inputs' (100) */
    double flag_min_rel; /* ... and at least this large (1e-4) */
} onnorm_compare_options;

void onnorm_compare_options_init(onnorm_compare_options *o);

typedef struct onnorm_compare_row {
    const char *name, *op_type; /* the node (strings owned by m; name may be "") */
    const char *output;         /* its output with the largest max_rel; NULL if none compared */
    int compared;               /* outputs compared (numeric, same shape in both runs) */
    int missing;    /* outputs not compared: absent from the reference, another shape, or a
                       type other than float32/64, int8/32/64, uint8, bool */
    double max_abs; /* max |float32 - float64| over its compared outputs */
    /* max |a - b| / max(|b|, 1e-3 * max|b|) with b the float64 value (1 when b is all 0) */
    double max_rel;
    double input_rel;  /* the largest max_rel of its computed inputs (0: inputs and constants) */
    double ratio;      /* max_rel / max(input_rel, 2^-24) */
    int flagged;       /* ratio >= flag_ratio and max_rel >= flag_min_rel */
    int fallback;      /* ran in float32 inside the float64 evaluation */
    int64_t nonfinite; /* elements NaN or Inf in one run but not equal in the other */
} onnorm_compare_row;

typedef struct onnorm_compare_report {
    int n;
    onnorm_compare_row *rows;
    int fallbacks; /* rows with fallback set */
} onnorm_compare_report;

/* Compares m on inputs[0..n_inputs) (each named by its `name`; float
 * inputs are given as float32 and widened exactly for the float64 run).
 * *out is freed with onnorm_compare_report_free; it reads strings of m, so
 * m must outlive it. */
onnorm_status onnorm_compare(const onnorm_model *m, const onnorm_compare_options *o, int n_inputs,
                             const onnorm_tensor *inputs, onnorm_compare_report **out,
                             onnorm_error *err);
void onnorm_compare_report_free(onnorm_compare_report *r);
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
