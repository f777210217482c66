/*
 * A whole convolution through the packed product (sgemm.h's
 * onn_sgemm_conv_*): the choice of B's source, the padded copies it reads
 * in place, and the division of images x groups x tiles over one team.
 *
 * Threads. The products (one per image and group) run in one parallel
 * region. Where they are many (a batch, grouped convolutions) each thread
 * takes whole products in turn; where they are few, every product is cut
 * into one piece per thread (onn_sgemm_split_for: columns first, rows where
 * columns do not divide). Nothing is shared between threads but the
 * inputs, so the region has no barrier: a thread that reads a padded copy
 * makes its own, of the rows its columns read (a piece's rows of the image
 * plus the window's overlap), in its own scratch. Where rows are split,
 * both threads copy the same rows; a copied element then serves mg / 2 *
 * kernel_size multiply-adds, so the copy stays a small fraction of the work.
 */
#include "ops/core/sgemm.h"
#include "ops/core/threadpool.h"

#include <string.h>

/* Products below this many multiply-adds in all run on one thread (as
 * sgemm.c's ONN_SGEMM_SERIAL_MACS). */
#define SERIAL_MACS (1 << 21)
/* Threads take whole products when there are at least this many per
 * thread (the last round then leaves at most 1 / 4 of a thread idle). */
#define WHOLE_PER_THREAD 4

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static int64_t round_up(int64_t v, int64_t to)
{
    return ceil_div(v, to) * to;
}

/* X's planes are B itself: a 1x1 window, stride 1, no padding. */
static bool conv_pointwise(const onn_geom *g)
{
    for (int i = 0; i < g->nsp; i++)
        if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad_lo[i] || g->pad_hi[i]) return false;
    return true;
}

/* The last n spatial axes of g (those a geometry of fewer axes lacks of
 * extent 1): input and output extents, window, stride, dilation and
 * leading pad per axis. */
static void trailing_axes(const onn_geom *g, int n, int64_t *in, int64_t *out, int64_t *k,
                          int64_t *s, int64_t *d, int64_t *pad)
{
    for (int a = 0; a < n; a++) {
        const int i = g->nsp - n + a;
        in[a] = i < 0 ? 1 : g->sampled[i];
        out[a] = i < 0 ? 1 : g->grid[i];
        k[a] = i < 0 ? 1 : g->kernel[i];
        s[a] = i < 0 ? 1 : g->stride[i];
        d[a] = i < 0 ? 1 : g->dilation[i];
        pad[a] = i < 0 ? 0 : g->pad_lo[i];
    }
}

/* The axes of the padded copy, [h, w]: the last two spatial axes. */
static void copy_axes(const onn_geom *g, int64_t *in, int64_t *out, int64_t *k, int64_t *s,
                      int64_t *d, int64_t *pad)
{
    trailing_axes(g, 2, in, out, k, s, d, pad);
}

/* The channel-vector source's axes, [depth, height, width]. */
static void cvec_axes(const onn_geom *g, int64_t *in, int64_t *out, int64_t *k, int64_t *s,
                      int64_t *d, int64_t *pad)
{
    trailing_axes(g, 3, in, out, k, s, d, pad);
}

/* Of an axis with window k, stride s, dilation d: the phase planes the
 * window reads, as the residues (j * d) % s of its offsets in order of
 * first use, into res (at most max); their count, or -1 past max. */
static int64_t phase_residues(int64_t k, int64_t s, int64_t d, int64_t *res, int64_t max)
{
    int64_t n = 0;
    for (int64_t j = 0; j < k; j++) {
        const int64_t r = j * d % s;
        bool seen = false;
        for (int64_t i = 0; i < n && !seen; i++)
            seen = res[i] == r;
        if (seen) continue;
        if (n == max) return -1;
        res[n++] = r;
    }
    return n;
}

/* The phase plane of residue r (one of res[0..n)). */
static int64_t phase_of(const int64_t *res, int64_t n, int64_t r)
{
    for (int64_t i = 0; i < n; i++)
        if (res[i] == r) return i;
    return 0;
}

/* Columns the microkernel computes for one line of `len` outputs: whole
 * tiles, a last one of at most nr / 2 columns half wide. */
static int64_t line_cols(int64_t len, int nr)
{
    const int64_t rem = len % nr;
    return len - rem + (rem == 0 ? 0 : rem <= nr / 2 ? nr / 2 : nr);
}

/* Tiles of one line (the split's units for a DIRECT source). */
static int64_t line_tiles(int64_t len, int nr)
{
    return ceil_div(len, nr);
}

/*
 * The cost model of ONN_SGEMM_CONV_AUTO: the time of a product as its
 * tiles' k steps (a half-width tile costing 0.6 of a whole one, most of
 * its time being loads) times the rows of A that meet them, plus
 *   packed  the packing of B, about as much as PACK_ROWS more rows;
 *   direct  the cost of reading B in place, DIRECT_COST more per row: B's
 *           rows are not aligned to cache lines (a tile's row touches two),
 *           and its lines end in tiles that are part padding. X read in
 *           place costs more where its plane is not a whole number of
 *           lines, and more again where the planes' distance (a multiple
 *           of 256 bytes) maps a tile's rows onto a quarter of L1's sets
 *           or less (56 x 56 planes: 196 lines apart), evicting the tile
 *           while the A panels pass over it.
 * Fitted to the 1-thread timings of 38 layers of ResNet-18/50, ResNeXt-50,
 * GoogLeNet, DenseNet-121 and MobileNetV2 on Zen 3 (bench/sgemm_bench.c):
 * it picks the faster source for all but layers within 3 % of even.
 */
#define PACK_ROWS 10.0
#define DIRECT_COST 0.10
#define DIRECT_UNALIGNED 0.14
#define DIRECT_CONFLICT 0.30
#define DIRECT_PLAIN 0.05

/* The tiles of a line of len columns, in units of a whole tile's time. */
static double line_cost(int64_t len, int nr)
{
    const int64_t rem = len % nr;
    return (double)(len / nr) + (rem == 0 ? 0.0 : rem <= nr / 2 ? 0.6 : 1.0);
}

/*
 * The channel-vector source, by rule rather than cost: measured against the
 * packed and direct sources on 48 layers of ResNet-18/50, ResNeXt-50,
 * GoogLeNet, DenseNet-121, RegNetY-400MF, MobileNetV2 and BERT-sized
 * products (Zen 3, alternating in one process, medians of 21), it is
 *   - 1.1-2.1x faster on windows of 3x3 and up over 16 channels or more
 *     per group, at 1 and 2 threads (ResNet-18's 3x3 layers, GoogLeNet,
 *     DenseNet-121's 3x3 over 128 channels, ResNeXt-50's last stage at 32
 *     per group; ResNet-18's last, 7 x 7 positions with k = 4608, 1.14x
 *     on one thread once a 7 x 7 plane is one chunk);
 *   - slower where its lanes are mostly padding (16 or fewer output
 *     channels per group: 0.4-0.9x), on stems over 3 channels (0.9-1.0x)
 *     and on 1x1 windows over planes larger than 7 x 7 (0.5-0.97x: each
 *     output value is one of k multiply-adds, and its transposed store and
 *     the channels-last copy then cost as much as the products);
 *   - 1.07-1.25x on 1x1 windows over 7 x 7 planes (ResNet-50's last stage,
 *     MobileNetV2's last layer), except with 8 MB of weights or more
 *     (ResNet-50's last downsampling, 0.96x);
 *   - on two threads, 1.08-1.23x on 1x1 windows over planes up to 35 x 35
 *     with k from 288 (GoogLeNet's and Inception-v3's 1x1 layers; 0.97x
 *     on one of nine), where one thread gives 0.93-1.05x.
 * Its narrow tiles (8 channels by 12 positions, for groups of 8 to 16
 * output channels over 8 or more input channels: RegNetY's and ResNeXt's
 * grouped 3x3 layers) are 1.3-2.0x the direct source on strided layers and
 * 1.6x on 7 x 7 planes, 0.9-0.95x on the others; at 4 channels per group
 * (ResNeXt-50's first stage) 0.3x.
 * 3-D windows follow the same rule (the direct source has none): R3D-18,
 * whose 3x3x3 layers over 64 to 512 channels take it, ran about 20 %
 * faster than through the packed source at 1 and 2 threads.
 */
#define CVEC_MIN_CHANNELS 16
#define CVEC_MIN_OUT 24
#define CVEC_SMALL_PLANE 64
#define CVEC_MAX_WEIGHTS (1 << 21)
#define CVEC_MID_PLANE 1225
#define CVEC_MID_MIN_K 288

/* Output slices of a volume per copy (sgemm_conv.c's 3-D channel-vector
 * source): the copy then holds (CVEC_SLAB - 1) * stride + the window's
 * reach padded slices, not the whole volume. */
#define CVEC_SLAB 4
#define CVEC_NARROW_MIN 8
#define CVEC_NARROW_MAX 16

static bool cvec_wins(const onn_sgemm_conv *cv, int threads)
{
    if (cv->mg >= CVEC_NARROW_MIN && cv->mg <= CVEC_NARROW_MAX && cv->cg >= CVEC_NARROW_MIN &&
        cv->g.kernel_size > 1) {
        bool strided = false;
        for (int i = 0; i < cv->g.nsp; i++)
            strided = strided || cv->g.stride[i] > 1;
        return strided || cv->g.grid_size <= CVEC_SMALL_PLANE;
    }
    if (cv->cg < CVEC_MIN_CHANNELS || cv->mg < CVEC_MIN_OUT) return false;
    if (cv->g.kernel_size > 1) return true;
    if (cv->mg * cv->k >= CVEC_MAX_WEIGHTS) return false;
    return cv->g.grid_size <= CVEC_SMALL_PLANE ||
           (threads > 1 && cv->g.grid_size <= CVEC_MID_PLANE && cv->k >= CVEC_MID_MIN_K);
}

static onn_sgemm_conv_kind conv_choose(const onn_sgemm_conv *cv, bool pointwise, bool cvec_ok,
                                       int threads)
{
    const int nr = cv->e->nr;
    const double rows = (double)round_up(cv->mg, cv->e->mr);
    double extra = DIRECT_COST;
    if (pointwise) {
        const int64_t plane = cv->g.sampled_size, line_floats = 16;
        if (plane % line_floats)
            extra = DIRECT_UNALIGNED;
        else if (plane / line_floats % 4 == 0)
            extra = DIRECT_CONFLICT;
        else
            extra = DIRECT_PLAIN;
    }
    const double direct =
        (double)(cv->g.grid_size / cv->line) * line_cost(cv->line, nr) * rows * (1.0 + extra);
    const double packed = line_cost(cv->g.grid_size, nr) * (rows + PACK_ROWS);
    if (cvec_ok && cvec_wins(cv, threads)) return ONN_SGEMM_CONV_CVEC;
    return direct < packed ? ONN_SGEMM_CONV_DIRECT : ONN_SGEMM_CONV_PACKED;
}

bool onn_sgemm_conv_plan(onn_sgemm_conv *cv, const onn_sgemm_engine *e, const onn_geom *g,
                         int64_t n, int64_t c, int64_t m, int64_t group, int threads,
                         onn_sgemm_conv_kind kind)
{
    memset(cv, 0, sizeof *cv);
    if (n < 0 || c < 1 || m < 1 || group < 1 || c % group || m % group || threads < 1) return false;
    cv->e = e, cv->g = *g, cv->n = n, cv->c = c, cv->m = m, cv->group = group;
    cv->cg = c / group, cv->mg = m / group;
    cv->k = cv->cg * g->kernel_size;
    const bool pointwise = conv_pointwise(g);
    bool direct_ok = pointwise || g->nsp <= 2;
    for (int i = 0; i < g->nsp; i++)
        direct_ok = direct_ok && g->pad_lo[i] >= 0 && g->pad_hi[i] >= 0;
    int64_t in[2], out[2], kk[2], s[2], d[2], pad[2];
    copy_axes(g, in, out, kk, s, d, pad);
    for (int a = 0; a < 2 && direct_ok && !pointwise; a++)
        direct_ok = (cv->phases[a] = phase_residues(kk[a], s[a], d[a], cv->residue[a], 8)) > 0;
    bool cvec_ok = g->nsp <= 3 && onn_cvec_supported(e->isa);
    for (int i = 0; i < g->nsp; i++)
        cvec_ok = cvec_ok && g->pad_lo[i] >= 0 && g->pad_hi[i] >= 0;
    cv->line = pointwise ? g->grid_size : out[1];
    const double macs = (double)n * (double)m * (double)g->grid_size * (double)cv->k;
    int nt = macs < SERIAL_MACS || n * group == 0 ? 1 : threads;
    if (kind == ONN_SGEMM_CONV_AUTO && direct_ok)
        kind = conv_choose(cv, pointwise, cvec_ok, nt);
    else if (kind == ONN_SGEMM_CONV_AUTO && cvec_ok && cvec_wins(cv, nt))
        kind = ONN_SGEMM_CONV_CVEC; /* 3-D */
    cv->kind =
        (kind == ONN_SGEMM_CONV_DIRECT && direct_ok) || (kind == ONN_SGEMM_CONV_CVEC && cvec_ok)
            ? kind
            : ONN_SGEMM_CONV_PACKED;
    const bool cvec = cv->kind == ONN_SGEMM_CONV_CVEC;
    /* B read in place (X or the padded copy) */
    const bool direct = cv->kind == ONN_SGEMM_CONV_DIRECT || cvec;
    cv->copy = cv->kind == ONN_SGEMM_CONV_DIRECT && !pointwise;
    int64_t copy_floats = 0;
    if (cvec) {
        /* The channels-last copy: the padded slices, rows and columns the
         * windows read, cg floats each (cs apart). */
        int64_t ci[3], co[3], ck[3], cst[3], cd[3], cp[3];
        cvec_axes(g, ci, co, ck, cst, cd, cp);
        cv->line = co[2];
        const int64_t slab = co[0] < CVEC_SLAB ? co[0] : CVEC_SLAB;
        cv->slices = (slab - 1) * cst[0] + (ck[0] - 1) * cd[0] + 1;
        cv->rows = (co[1] - 1) * cst[1] + (ck[1] - 1) * cd[1] + 1;
        cv->pitch = (co[2] - 1) * cst[2] + (ck[2] - 1) * cd[2] + 1;
        const int64_t cs = onn_cvec_position_floats(cv->cg);
        if ((double)cv->slices * (double)cv->rows * (double)cv->pitch * (double)cs *
                (double)threads * sizeof(float) >
            (double)SIZE_MAX / 4)
            return false;
        copy_floats = round_up(cv->slices * cv->rows * cv->pitch * cs, 16);
        cv->vmerge = cd[2] == 1 && cs == cv->cg;
        cv->vtaps = cv->vmerge ? ck[0] * ck[1] : g->kernel_size;
        cv->vsteps = cv->vmerge ? ck[2] * cv->cg : cv->cg;
    } else if (cv->copy) {
        /* Phase plane rows: the outputs' extent plus the window's reach in
         * that phase, (k - 1) * d / s. The pitch makes room for a line's
         * last tile to be read whole (past the line's end, zeros), so that
         * every read stays inside its own row. */
        cv->rows = out[0] + (kk[0] - 1) * d[0] / s[0];
        cv->pitch = line_cols(out[1], e->nr) + (kk[1] - 1) * d[1] / s[1];
        cv->chan = cv->phases[0] * cv->phases[1] * cv->rows * cv->pitch;
        copy_floats = round_up(cv->cg * cv->chan, 16);
        if ((double)copy_floats * (double)threads * sizeof(float) > (double)SIZE_MAX / 4)
            return false;
    }

    /* The team, and how it divides the products. */
    const int64_t products = n * group;
    const int64_t units = cvec     ? ceil_div(g->grid_size, onn_cvec_tile(cv->mg))
                          : direct ? g->grid_size / cv->line * line_tiles(cv->line, e->nr)
                                   : ceil_div(g->grid_size, e->nr);
    cv->pieces = 1, cv->split = (onn_sgemm_split){1, 1};
    if (nt > 1 && products % nt != 0 && products < WHOLE_PER_THREAD * nt) {
        if (cvec) {
            /* Each piece reads all of what the split does not divide:
             * split positions, and every piece streams all the weights;
             * split channel blocks, and every piece reads the whole image
             * (and copies it). Divide the larger (ResNet's last 3x3
             * layers: 9.4 MB of weights against 166 KB of image), as long
             * as each piece keeps a few tiles. */
            const int64_t blocks = ceil_div(cv->mg, onn_cvec_lanes(cv->mg));
            const double weights = (double)cv->mg * (double)cv->k;
            const double image = (double)cv->cg * (double)g->sampled_size;
            if ((units >= 4 * (int64_t)nt && (weights <= image || blocks < nt)) || blocks < nt)
                cv->split = (onn_sgemm_split){1, units < nt ? (int)units : nt};
            else
                cv->split = (onn_sgemm_split){nt, 1};
        } else {
            cv->split = onn_sgemm_split_for(e, cv->mg, units * e->nr, cv->k, nt);
        }
        cv->pieces = cv->split.rows * cv->split.cols;
    }
    if (products > 0 && cv->pieces * products < nt) nt = (int)(cv->pieces * products);
    cv->threads = nt;

    size_t tile = onn_cvec_scratch_bytes();
    if (!cvec && !onn_sgemm_tile_scratch_size(e, g->grid_size, cv->k, &tile)) return false;
    cv->copy_at = (size_t)round_up((int64_t)tile, 64);
    cv->per_thread = cv->copy_at + (size_t)copy_floats * sizeof(float);
    cv->scratch_bytes = cv->per_thread * (size_t)nt;

    size_t wbytes;
    if ((double)round_up(cv->mg, onn_cvec_lanes(cv->mg)) * (double)cv->k > (double)SIZE_MAX / 8)
        return false;
    if (cvec)
        wbytes = onn_cvec_pack_floats(cv->mg, cv->k) * sizeof(float);
    else if (!onn_sgemm_pack_a_size(e, cv->mg, cv->k, &wbytes))
        return false;
    cv->wpack_floats = (size_t)round_up((int64_t)wbytes, 64) / sizeof(float);
    const double total = (double)cv->wpack_floats * sizeof(float) * (double)group +
                         (direct ? (double)cv->k * sizeof(int64_t) : 0.0);
    if (total > (double)SIZE_MAX / 2) return false;
    cv->const_bytes = cv->wpack_floats * sizeof(float) * (size_t)group +
                      (direct ? (size_t)round_up(cv->k * (int64_t)sizeof(int64_t), 64) : 0);
    return true;
}

void onn_sgemm_conv_init(onn_sgemm_conv *cv, const float *w, void *mem)
{
    float *wp = mem;
    const bool cvec = cv->kind == ONN_SGEMM_CONV_CVEC;
    for (int64_t gi = 0; gi < cv->group; gi++) {
        const float *wg = w + gi * cv->mg * cv->k;
        float *dst = wp + (size_t)gi * cv->wpack_floats;
        if (cvec) {
            int64_t in[3], out[3], kk[3], st[3], d[3], pad[3];
            cvec_axes(&cv->g, in, out, kk, st, d, pad);
            /* the window's depth and rows as one axis of rows */
            onn_cvec_pack(cv->mg, cv->cg, kk[0] * kk[1], kk[2], cv->vmerge, wg, dst);
        } else
            onn_sgemm_pack_a(cv->e, cv->mg, cv->k, wg, cv->k, dst);
    }
    cv->wpack = wp;
    if (cv->kind != ONN_SGEMM_CONV_DIRECT && !cvec) return;
    int64_t *off = (int64_t *)(wp + (size_t)cv->group * cv->wpack_floats);
    const onn_geom *g = &cv->g;
    if (cvec) {
        /* Each tap's offset in the channels-last copy: a window row
         * (kd, kh) kd * d slices and kh * d rows further (merged taps), or
         * an offset (kd, kh, kw), kw * d columns further as well. */
        int64_t ci[3], co[3], ck[3], cst[3], cd[3], cp[3];
        cvec_axes(g, ci, co, ck, cst, cd, cp);
        const int64_t cs = onn_cvec_position_floats(cv->cg);
        for (int64_t t = 0; t < cv->vtaps; t++) {
            const int64_t row = cv->vmerge ? t : t / ck[2], kw = cv->vmerge ? 0 : t % ck[2];
            const int64_t kd = row / ck[1], kh = row % ck[1];
            off[t] = ((kd * cd[0] * cv->rows + kh * cd[1]) * cv->pitch + kw * cd[2]) * cs;
        }
        cv->off = off;
        return;
    }
    int64_t in[2], out[2], kk[2], s[2], d[2], pad[2];
    copy_axes(g, in, out, kk, s, d, pad);
    for (int64_t r = 0; r < cv->k; r++) {
        const int64_t ch = r / g->kernel_size, kpos = r % g->kernel_size;
        if (!cv->copy) {
            off[r] = ch * g->sampled_size;
            continue;
        }
        /* Kernel offset (kh, kw) reads padded position (o * s + kh * d) of
         * each axis: phase (kh * d) % s, row or column o + kh * d / s. */
        const int64_t kh = kpos / kk[1], kw = kpos % kk[1];
        const int64_t ph = phase_of(cv->residue[0], cv->phases[0], kh * d[0] % s[0]);
        const int64_t pw = phase_of(cv->residue[1], cv->phases[1], kw * d[1] % s[1]);
        off[r] = ch * cv->chan + (ph * cv->phases[1] + pw) * cv->rows * cv->pitch +
                 kh * d[0] / s[0] * cv->pitch + kw * d[1] / s[1];
    }
    cv->off = off;
}

/*
 * Rows [r0, r1) of every phase plane of the copy, for the channels of one
 * image and group: phase plane (ph, pw), row i, column j holds padded
 * position (i * s + ph', j * s + pw') of the image (ph', pw' the residues
 * of the phases), zero in the padding. The pitch's columns past the ones a
 * line reads are zeroed too, so that what the tiles read past a line's end
 * is defined.
 */
static void copy_rows(const onn_sgemm_conv *cv, const float *x, float *xp, int64_t r0, int64_t r1)
{
    const onn_geom *g = &cv->g;
    int64_t in[2], out[2], kk[2], s[2], d[2], pad[2];
    copy_axes(g, in, out, kk, s, d, pad);
    const int64_t plane = cv->rows * cv->pitch;
    for (int64_t ch = 0; ch < cv->cg; ch++) {
        const float *xc = x + ch * g->sampled_size;
        for (int64_t ph = 0; ph < cv->phases[0]; ph++)
            for (int64_t pw = 0; pw < cv->phases[1]; pw++) {
                float *dst = xp + ch * cv->chan + (ph * cv->phases[1] + pw) * plane;
                /* Columns j of a row read input column j * s + res - pad:
                 * inside for j in [lo, hi). */
                const int64_t off = cv->residue[1][pw] - pad[1];
                int64_t lo = off < 0 ? ceil_div(-off, s[1]) : 0;
                int64_t hi = in[1] - 1 - off < 0 ? 0 : (in[1] - 1 - off) / s[1] + 1;
                if (hi > cv->pitch) hi = cv->pitch;
                if (lo > hi) lo = hi;
                for (int64_t i = r0; i < r1; i++) {
                    float *row = dst + i * cv->pitch;
                    const int64_t ih = i * s[0] + cv->residue[0][ph] - pad[0];
                    if (ih < 0 || ih >= in[0]) {
                        memset(row, 0, (size_t)cv->pitch * sizeof *row);
                        continue;
                    }
                    /* (offsets summed first: the row's column 0 may lie before the plane) */
                    const float *src = xc + (ih * in[1] + off + lo * s[1]);
                    memset(row, 0, (size_t)lo * sizeof *row);
                    if (s[1] == 1) {
                        memcpy(row + lo, src, (size_t)(hi - lo) * sizeof *row);
                    } else {
                        for (int64_t j = lo; j < hi; j++)
                            row[j] = src[(j - lo) * s[1]];
                    }
                    memset(row + hi, 0, (size_t)(cv->pitch - hi) * sizeof *row);
                }
            }
    }
}

/* The columns of units [u0, u1) of a product (DIRECT: tiles, line by
 * line; PACKED: panels of nr). */
static void unit_cols(const onn_sgemm_conv *cv, int64_t u0, int64_t u1, int64_t *n0, int64_t *n1)
{
    const int nr = cv->e->nr;
    const int64_t n = cv->g.grid_size;
    if (cv->kind != ONN_SGEMM_CONV_DIRECT) {
        *n0 = u0 * nr < n ? u0 * nr : n;
        *n1 = u1 * nr < n ? u1 * nr : n;
        return;
    }
    const int64_t tpl = line_tiles(cv->line, nr);
    const int64_t a = u0 / tpl * cv->line + u0 % tpl * nr;
    const int64_t b = u1 / tpl * cv->line + u1 % tpl * nr;
    *n0 = a < n ? a : n;
    *n1 = b < n ? b : n;
}

/* Piece `index` of a product split s: rows and columns. */
static void conv_piece(const onn_sgemm_conv *cv, int index, int64_t *m0, int64_t *m1, int64_t *n0,
                       int64_t *n1)
{
    const onn_sgemm_engine *e = cv->e;
    const onn_sgemm_split s = cv->split;
    const int ri = index / s.cols, ci = index % s.cols;
    if (cv->kind == ONN_SGEMM_CONV_CVEC) {
        const int64_t lanes = onn_cvec_lanes(cv->mg), tile = onn_cvec_tile(cv->mg);
        const int64_t blocks = ceil_div(cv->mg, lanes);
        const int64_t tiles = ceil_div(cv->g.grid_size, tile);
        const int64_t b0 = blocks * ri / s.rows, b1 = blocks * (ri + 1) / s.rows;
        const int64_t u0 = tiles * ci / s.cols, u1 = tiles * (ci + 1) / s.cols;
        *m0 = b0 * lanes, *m1 = b1 * lanes < cv->mg ? b1 * lanes : cv->mg;
        *n0 = u0 * tile, *n1 = u1 * tile < cv->g.grid_size ? u1 * tile : cv->g.grid_size;
        return;
    }
    const int64_t panels = ceil_div(cv->mg, e->mr);
    const int64_t pr = panels / s.rows, rr = panels % s.rows;
    const int64_t p0 = ri * pr + (ri < rr ? ri : rr), p1 = p0 + pr + (ri < rr);
    *m0 = p0 * e->mr, *m1 = p1 * e->mr < cv->mg ? p1 * e->mr : cv->mg;
    const int64_t units = cv->kind == ONN_SGEMM_CONV_DIRECT
                              ? cv->g.grid_size / cv->line * line_tiles(cv->line, e->nr)
                              : ceil_div(cv->g.grid_size, e->nr);
    const int64_t pc = units / s.cols, rc = units % s.cols;
    const int64_t u0 = ci * pc + (ci < rc ? ci : rc), u1 = u0 + pc + (ci < rc);
    unit_cols(cv, u0, u1, n0, n1);
}

/* One piece of product (image ni, group gi) on the calling thread. */
static void conv_piece_run(const onn_sgemm_conv *cv, const float *x, float *y, const float *z,
                           const onn_epilogue *ep, int64_t ni, int64_t gi, int64_t m0, int64_t m1,
                           int64_t n0, int64_t n1, float *scratch)
{
    if (m0 >= m1 || n0 >= n1) return;
    const onn_geom *g = &cv->g;
    const int64_t osz = g->grid_size, out0 = (ni * cv->m + gi * cv->mg) * osz;
    const float *xg = x + (ni * cv->c + gi * cv->cg) * g->sampled_size;
    onn_sgemm_rows rows = {cv->off, cv->line, cv->line, false};
    onn_sgemm_args p = {
        .m = cv->mg,
        .n = osz,
        .k = cv->k,
        .a = cv->wpack + (size_t)gi * cv->wpack_floats,
        .b = {xg, g->sampled_size, conv_pointwise(g) ? NULL : g, NULL},
        .c = y + out0,
        .ldc = osz,
        .res = z ? z + out0 : NULL,
        .ldr = osz,
        .ep = *ep,
    };
    p.ep.bias = ep->bias ? ep->bias + gi * cv->mg : NULL;
    if (cv->kind == ONN_SGEMM_CONV_CVEC) {
        int64_t in[3], out[3], kk[3], s[3], d[3], pad[3];
        cvec_axes(g, in, out, kk, s, d, pad);
        float *xp = (float *)((char *)scratch + cv->copy_at);
        const int64_t cs = onn_cvec_position_floats(cv->cg), plane = out[1] * out[2];
        const int64_t lanes = onn_cvec_lanes(cv->mg);
        const onn_cvec_copy_args ca = {.x = xg,
                                       .cg = cv->cg,
                                       .cs = cs,
                                       .plane = g->sampled_size,
                                       .depth = in[0],
                                       .h = in[1],
                                       .w = in[2],
                                       .pad_front = pad[0],
                                       .pad_top = pad[1],
                                       .pad_left = pad[2],
                                       .rows = cv->rows,
                                       .pitch = cv->pitch};
        onn_cvec_args a = {
            .x = xp,
            .off = cv->off,
            .taps = cv->vtaps,
            .steps = cv->vsteps,
            .cs = cs,
            .line = cv->line,
            .plane = plane,
            .stride_d = s[0],
            .stride_h = s[1],
            .stride_w = s[2],
            .rows = cv->rows,
            .pitch = cv->pitch,
            .w = p.a,
            .mg = cv->mg,
            .b0 = m0 / lanes,
            .b1 = ceil_div(m1, lanes),
            .y = p.c,
            .z = p.res,
            .ldy = osz,
            .ep = &p.ep,
        };
        if (g->nsp <= 2) {
            /* The copy's rows that lines [q0, q1] read. */
            const int64_t q0 = n0 / cv->line, q1 = (n1 - 1) / cv->line;
            const int64_t r0 = q0 * s[1], r1 = q1 * s[1] + (kk[1] - 1) * d[1] + 1;
            onn_cvec_copy(&ca, r0, r1, xp, cv->e->isa == ONN_ISA_AVX2);
            a.row0 = r0, a.j0 = n0, a.j1 = n1;
            onn_cvec_run(&a, scratch);
            return;
        }
        /* A volume in slabs of CVEC_SLAB output slices, each with the
         * padded slices its windows read copied in turn. */
        for (int64_t z0 = n0 / plane; z0 * plane < n1; z0 += CVEC_SLAB) {
            const int64_t j0 = z0 * plane > n0 ? z0 * plane : n0;
            const int64_t j1 = (z0 + CVEC_SLAB) * plane < n1 ? (z0 + CVEC_SLAB) * plane : n1;
            const int64_t z1 = (j1 - 1) / plane;
            const int64_t r0 = z0 * s[0] * cv->rows;
            const int64_t r1 = (z1 * s[0] + (kk[0] - 1) * d[0] + 1) * cv->rows;
            onn_cvec_copy(&ca, r0, r1, xp, cv->e->isa == ONN_ISA_AVX2);
            a.row0 = r0, a.j0 = j0, a.j1 = j1;
            onn_cvec_run(&a, scratch);
        }
        return;
    }
    if (cv->kind == ONN_SGEMM_CONV_DIRECT) {
        p.b = (onn_sgemm_src){.data = xg, .rows = &rows};
        if (cv->copy) {
            /* The copy's rows that lines [q0, q1] read: from q0 to q1 plus
             * the window's reach. */
            float *xp = (float *)((char *)scratch + cv->copy_at);
            const int64_t q0 = n0 / cv->line, q1 = (n1 - 1) / cv->line;
            const int64_t r1 = q1 + 1 + (cv->rows - g->grid_size / cv->line);
            copy_rows(cv, xg, xp, q0, r1 < cv->rows ? r1 : cv->rows);
            rows.pitch = cv->pitch, rows.overread = true;
            p.b.data = xp;
        }
    }
    onn_sgemm_tiles(cv->e, &p, m0, m1, n0, n1, scratch);
}

typedef struct conv_job {
    const onn_sgemm_conv *cv;
    const float *x, *z;
    float *y;
    const onn_epilogue *ep;
    void *scratch;
} conv_job;

static void conv_job_piece(void *arg, int64_t i, int worker)
{
    const conv_job *j = arg;
    const onn_sgemm_conv *cv = j->cv;
    const int64_t prod = i / cv->pieces, ni = prod / cv->group, gi = prod % cv->group;
    int64_t m0 = 0, m1 = cv->mg, n0 = 0, n1 = cv->g.grid_size;
    if (cv->pieces > 1) conv_piece(cv, (int)(i % cv->pieces), &m0, &m1, &n0, &n1);
    conv_piece_run(cv, j->x, j->y, j->z, j->ep, ni, gi, m0, m1, n0, n1,
                   (float *)((char *)j->scratch + cv->per_thread * (size_t)worker));
}

void onn_sgemm_conv_run(const onn_sgemm_conv *cv, const float *x, float *y, const float *z,
                        const onn_epilogue *ep, void *scratch)
{
    const int64_t products = cv->n * cv->group;
    if (products == 0 || cv->g.grid_size == 0) return;
    conv_job j = {cv, x, z, y, ep, scratch};
    onn_parallel_for(cv->threads, products * cv->pieces, conv_job_piece, &j);
}
