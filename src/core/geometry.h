/* geometry.h - the one place that knows convolution geometry.
 *
 * Output sizes, which input cell each kernel tap reads (and whether it is
 * padding or a stride hole), how padding modes resolve an outside cell, and
 * the scatter map of a transposed convolution.  The reference loops, the fast
 * kernels, the step-through view and the tests all ask this module, so the
 * picture and the arithmetic cannot disagree.
 *
 * Conventions (as PyTorch, see shared/SEMANTICS.md):
 *   conv2d            x (N,C,H,W), w (O, C/G, kH, kW)      -> (N,O,OH,OW)
 *   conv_transpose2d  x (N,C,H,W), w (C, O/G, kH, kW)      -> (N,O,OH,OW)
 *   conv2d:  OH = floor((H + pad_top + pad_bottom - d(k-1) - 1)/s) + 1
 *   convT:   OH = (H-1)s - 2p + d(k-1) + op + 1
 * Everything is 0-based here.
 */
#ifndef CP_GEOMETRY_H
#define CP_GEOMETRY_H

#include <stdint.h>

/* No size computed here reaches this: larger results are refused (the
 * products of sizes and parameters are checked, not wrapped). */
#define CP_GEOM_MAX_SIZE ((int64_t)1 << 62)

#include "err.h"

typedef enum {
  CP_PAD_ZEROS = 0,
  CP_PAD_REFLECT,
  CP_PAD_REPLICATE,
  CP_PAD_CIRCULAR
} cp_padmode;

typedef enum {
  CP_PADSPEC_EXPLICIT = 0,    /* pad[] as given (int, pair or 4 sides) */
  CP_PADSPEC_VALID,           /* "valid": all zero */
  CP_PADSPEC_SAME             /* "same": resolved from the kernel */
} cp_padspec;

/* What the user asked for; validated and resolved by cp_geom_init. */
typedef struct cp_conv_params {
  int64_t stride[2];          /* (sH, sW) */
  int64_t dilation[2];        /* (dH, dW) */
  int64_t pad[4];             /* top, bottom, left, right */
  int64_t out_pad[2];         /* transposed only: (opH, opW) */
  int64_t groups;             /* G */
  cp_padspec padspec;         /* how pad[] was specified */
  cp_padmode mode;            /* padding_mode (conv2d only) */
  int transposed;             /* 0 conv2d, 1 conv_transpose2d */
} cp_conv_params;

/* Defaults: stride 1, dilation 1, no padding, groups 1, zeros. */
void cp_conv_params_default(cp_conv_params *p);

/* A validated problem: params with padding resolved, plus all sizes. */
typedef struct cp_geom {
  cp_conv_params p;           /* resolved: pad[] final, padspec explicit */
  int64_t N, C, H, W;         /* input */
  int64_t O, kH, kW;          /* output channels, kernel size */
  int64_t OH, OW;             /* output size */
  int64_t Cg, Og;             /* input / output channels per group */
} cp_geom;

/* Validate the problem exactly as PyTorch does (same checks, same order
 * where it matters, PyTorch's wording, prefixed with the argument name) and
 * fill g.  x_shape is 4-D NCHW, w_shape 4-D; has_bias/bias_len describe the
 * bias (bias_len = its element count, bias_ndim its rank). */
int cp_geom_init(cp_geom *g, const cp_conv_params *p, const int64_t *x_shape,
                 const int64_t *w_shape, int has_bias, int bias_ndim,
                 int64_t bias_len, cp_err *e);

/* Plain output-size arithmetic for one dimension (no tensors needed).
 * Return -1 with a reason in e when the combination is impossible. */
int64_t cp_conv_out_len(int64_t in, int64_t k, int64_t s, int64_t pad_before,
                        int64_t pad_after, int64_t d, cp_err *e);
int64_t cp_convT_out_len(int64_t in, int64_t k, int64_t s, int64_t p,
                         int64_t d, int64_t op, cp_err *e);
/* conv_transpose2d's output_padding for a requested output size (h, w), as
 * nn.ConvTranspose2d.forward(x, output_size): each size must lie in
 * min .. min + s - 1, min being the size with no output_padding.  in_hw and
 * k_hw are the input and kernel sizes; op receives (opH, opW).  Parameters
 * geometry would refuse are left for cp_geom_init to report (op = 0). */
int cp_convT_output_padding(const cp_conv_params *p, const int64_t *in_hw,
                            const int64_t *k_hw, const int64_t *size,
                            int64_t *op, cp_err *e);
/* "same" padding for one dimension: total d(k-1), extra at the end. */
void cp_same_pad(int64_t k, int64_t d, int64_t *before, int64_t *after);
/* Keras' "causal" padding (1-D): d(k-1) before, none after. */
void cp_causal_pad(int64_t k, int64_t d, int64_t *before, int64_t *after);
/* The output_padding that makes conv_transpose2d the adjoint of a conv2d
 * of input length `in`: the rows its floor division dropped,
 * (in + pad_before + pad_after - d(k-1) - 1) mod s. */
int64_t cp_conv_dropped_rows(int64_t in, int64_t k, int64_t s,
                             int64_t pad_before, int64_t pad_after,
                             int64_t d);

/* ---- conv2d taps ----------------------------------------------------------
 * Output (r, c), tap (i, j) reads the padded input at
 *   row r*sH + i*dH - pad_top,  col c*sW + j*dW - pad_left
 * in input coordinates (may fall outside 0..H-1 / 0..W-1: padding). */
static inline int64_t cp_geom_in_row(const cp_geom *g, int64_t r, int64_t i) {
  return r * g->p.stride[0] + i * g->p.dilation[0] - g->p.pad[0];
}
static inline int64_t cp_geom_in_col(const cp_geom *g, int64_t c, int64_t j) {
  return c * g->p.stride[1] + j * g->p.dilation[1] - g->p.pad[2];
}
/* The rows of the padded input (0 = the first padding row) that output
 * rows r0..r1-1 read: *in0 and *len.  The lab computes in bands of output
 * rows with this. */
static inline void cp_geom_band_rows(const cp_geom *g, int64_t r0,
                                     int64_t r1, int64_t *in0,
                                     int64_t *len) {
  *in0 = cp_geom_in_row(g, r0, 0) + g->p.pad[0];
  *len = cp_geom_in_row(g, r1 - 1, g->kH - 1) + g->p.pad[0] - *in0 + 1;
}
/* Resolve coordinate x of a dimension of length n under a padding mode:
 * the source index in 0..n-1, or -1 when the cell reads zero. */
int64_t cp_pad_index(int64_t x, int64_t n, cp_padmode m);
/* F.pad's limits for a padding mode on an H x W input (pad: t, b, l, r). */
int cp_check_padmode(cp_padmode mode, const int64_t *pad, int64_t H,
                     int64_t W, cp_err *e);
/* Group of output channel o, and the first input channel it sees. */
static inline int64_t cp_geom_group_of_out(const cp_geom *g, int64_t o) {
  return o / g->Og;
}

/* ---- conv_transpose2d ------------------------------------------------------
 * Scatter view: input (r, c), tap (i, j) adds into output
 *   row r*sH + i*dH - pad_top,  col c*sW + j*dW - pad_left
 * (the uncropped canvas shifted by the padding); outside 0..OH-1 is cropped.
 * The formula is the same as cp_geom_in_row: the scatter map is the
 * transpose of the gather map. */
static inline int64_t cp_geomT_out_row(const cp_geom *g, int64_t r,
                                       int64_t i) {
  return cp_geom_in_row(g, r, i);
}
static inline int64_t cp_geomT_out_col(const cp_geom *g, int64_t c,
                                       int64_t j) {
  return cp_geom_in_col(g, c, j);
}
/* Zero-insertion (gather) view: the input with s-1 zeros between pixels
 * (length (H-1)s+1), padded q = d(k-1)-p before and q+op after, convolved
 * with the flipped kernel at stride 1.  For output row R and flipped-kernel
 * tap i, the dilated-canvas row is R + i*d - q; this returns the input row it
 * holds, or -1 for a border pad cell, -2 for a stride hole.
 * zrow (optional) receives the canvas row. */
int64_t cp_geomT_gather_row(const cp_geom *g, int64_t R, int64_t i,
                            int64_t *zrow);
int64_t cp_geomT_gather_col(const cp_geom *g, int64_t C, int64_t j,
                            int64_t *zcol);

/* The canvases of a transposed convolution, per dimension (0 rows, 1
 * cols), for pictures and tests:
 *   scatter: the uncropped canvas (H-1)s + d(k-1) + 1, whose first p rows
 *            and last p-op are cropped (crop_after < 0: op > p adds rows
 *            no product reaches); in output coordinates it spans
 *            [scatter_lo, scatter_lo + scatter_len)
 *   gather:  the zero-inserted input (H-1)s + 1 with a border of
 *            d(k-1) - p before and d(k-1) - p + op after; the part of it
 *            the taps read (or that holds input) spans
 *            [gather_lo, gather_lo + gather_len) in zero-inserted
 *            coordinates (row 0 = input row 0). */
typedef struct cp_convT_canvas {
  int64_t rows, cols;         /* the uncropped scatter canvas */
  int64_t crop_after[2];      /* p_after - op, rows / cols */
  int64_t scatter_lo[2], scatter_len[2];
  int64_t border[2];          /* gather: d(k-1) - p */
  int64_t zlen[2];            /* gather: (H-1)s + 1 */
  int64_t gather_lo[2], gather_len[2];
} cp_convT_canvas;
void cp_geomT_canvas(const cp_geom *g, cp_convT_canvas *c);
/* Is zero-inserted canvas cell z (one dimension) an input pixel?  Returns
 * its input index, -1 for border (outside), -2 for a stride hole. */
int64_t cp_geomT_zsource(const cp_geom *g, int dim, int64_t z);

/* ---- pooling -----------------------------------------------------------------
 * A pooling window is a convolution tap pattern without weights: output
 * (r, c), tap (i, j) reads input row r*sH - pH + i*dH, column
 * c*sW - pW + j*dW (avg pooling: d = 1).  Output size as PyTorch's
 * pooling_output_shape: floor or (ceil_mode) ceil of
 * (H + 2p - d(k-1) - 1)/s, plus 1; with ceil_mode a last window that would
 * start at or past H + p (inside the right padding) is dropped. */
typedef struct cp_pool_params {
  int64_t kernel[2];          /* (kH, kW) */
  int64_t stride[2];          /* (sH, sW); PyTorch's default is the kernel */
  int64_t pad[2];             /* (pH, pW), both sides of each dimension */
  int64_t dilation[2];        /* max pooling only; avg pooling uses 1 */
  int ceil_mode;              /* 1: ceil instead of floor (see above) */
  int count_include_pad;      /* avg: padding cells count in the divisor */
  int64_t divisor_override;   /* avg: divide by this instead (0: none) */
} cp_pool_params;

/* kernel (kH, kW), stride = kernel, no padding, dilation 1, floor mode,
 * count_include_pad on, no divisor override: PyTorch's defaults. */
void cp_pool_params_default(cp_pool_params *p, int64_t kH, int64_t kW);

typedef enum { CP_POOL_MAX = 0, CP_POOL_AVG } cp_pool_kind;

/* A validated pooling problem on (N, C, H, W) (3-D input: N = 1). */
typedef struct cp_pool_geom {
  cp_pool_params p;
  cp_pool_kind kind;
  int64_t N, C, H, W;         /* input */
  int64_t OH, OW;             /* output */
} cp_pool_geom;

/* Output length of one dimension (no checks; s > 0). */
int64_t cp_pool_out_len(int64_t in, int64_t k, int64_t s, int64_t p,
                        int64_t d, int ceil_mode);
/* Validate as PyTorch's max_pool2d / avg_pool2d do (same checks, same
 * order, PyTorch's wording prefixed with the argument) and fill g.
 * shape/ndim: the input's (3-D or 4-D). */
int cp_pool_geom_init(cp_pool_geom *g, const cp_pool_params *p,
                      cp_pool_kind kind, int ndim, const int64_t *shape,
                      cp_err *e);
static inline int64_t cp_pool_in_row(const cp_pool_geom *g, int64_t r,
                                     int64_t i) {
  return r * g->p.stride[0] - g->p.pad[0] + i * g->p.dilation[0];
}
static inline int64_t cp_pool_in_col(const cp_pool_geom *g, int64_t c,
                                     int64_t j) {
  return c * g->p.stride[1] - g->p.pad[1] + j * g->p.dilation[1];
}
/* The input cells [*r0, *r1) x [*c0, *c1) of avg window (r, c), clipped to
 * the input, and its divisor: divisor_override, or the window's cells
 * inside input + padding (count_include_pad), or the cells inside the
 * input. */
void cp_avg_window(const cp_pool_geom *g, int64_t r, int64_t c, int64_t *r0,
                   int64_t *r1, int64_t *c0, int64_t *c1, int64_t *divisor);
/* One dimension of it (0 rows, 1 columns) for window index i: the cells
 * [*lo, *hi) inside the input and the divisor's factor (cells inside input
 * + padding, or inside the input without count_include_pad); the divisor is
 * the product of both factors unless divisor_override is set. */
void cp_avg_range(const cp_pool_geom *g, int dim, int64_t i, int64_t *lo,
                  int64_t *hi, int64_t *factor);
/* A pooling problem as the conv-shaped geometry the step-through draws:
 * one group per channel (O = C, C/G = O/G = 1), kernel (kH, kW), the pool's
 * stride, dilation and symmetric padding, and the pool's output size
 * (ceil_mode included).  pad[1] / pad[3] (bottom / right) reach the end of
 * the last window when ceil_mode lets it run past the right padding, and
 * the end of the window ceil_mode drops (one that would start in the right
 * padding), so a picture covers it; cells past the padding read nothing
 * (cp_pool_where = 2). */
void cp_pool_as_conv(const cp_pool_geom *pg, cp_geom *g);
/* Before ceil_mode's rule: floor or ceil of (in + 2p - d(k-1) - 1)/s, plus
 * 1 (what the formula shows); cp_pool_out_len is this, less one when the
 * last window would start at or past in + p (ceil_mode drops it). */
int64_t cp_pool_out_len_raw(int64_t in, int64_t k, int64_t s, int64_t p,
                            int64_t d, int ceil_mode);
/* Where coordinate x of dimension dim (0 rows, 1 cols) lies for a window:
 * 0 inside the input, 1 in the padding (-p .. n+p-1), 2 past the right
 * padding (only a ceil_mode window reaches there: neither read nor
 * counted by any divisor). */
static inline int cp_pool_where(const cp_pool_geom *g, int dim, int64_t x) {
  int64_t n = dim ? g->W : g->H, p = g->p.pad[dim];
  return x >= 0 && x < n ? 0 : x >= -p && x < n + p ? 1 : 2;
}
/* Flat per-plane index h*W + w of input cell (h, w): what return_indices
 * holds (0-based, as PyTorch and conv.max_pool2d give it). */
static inline int64_t cp_pool_flat(const cp_pool_geom *g, int64_t h,
                                   int64_t w) {
  return h * g->W + w;
}
/* Adaptive pooling: bin i of n over a length L covers
 * [floor(i*L/n), ceil((i+1)*L/n)). */
static inline int64_t cp_adaptive_start(int64_t i, int64_t L, int64_t n) {
  return (i * L) / n;
}
static inline int64_t cp_adaptive_end(int64_t i, int64_t L, int64_t n) {
  return ((i + 1) * L + n - 1) / n;
}

/* ---- unfold / fold (im2col / col2im) ----------------------------------------
 * unfold's column (r, c) and row (ch, i, j) read the conv2d tap: the same
 * cp_geom_in_row / cp_geom_in_col on a cp_geom that carries only stride,
 * padding (symmetric) and dilation, and kH, kW, H, W.  The number of blocks
 * per dimension is floor((H + 2p - d(k-1) - 1)/s) + 1.
 * cp_unfold_geom_init validates as F.unfold (im2col) does;
 * cp_fold_geom_init as F.fold (col2im), given the columns' shape (2-D or
 * 3-D) and output_size (H, W). */
int cp_unfold_geom_init(cp_geom *g, const int64_t *kernel,
                        const int64_t *dilation, const int64_t *pad,
                        const int64_t *stride, int ndim, const int64_t *shape,
                        cp_err *e);
int cp_fold_geom_init(cp_geom *g, const int64_t *out_hw,
                      const int64_t *kernel, const int64_t *dilation,
                      const int64_t *pad, const int64_t *stride, int ndim,
                      const int64_t *shape, cp_err *e);

/* ---- flat offsets --------------------------------------------------------
 * Element (a, b, c, d) of a contiguous 4-D tensor of shape s: the one
 * formula every NCHW / OIHW index in the trace, the views and the
 * bindings goes through. */
static inline int64_t cp_off4(const int64_t s[4], int64_t a, int64_t b,
                              int64_t c, int64_t d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}
/* Input (n, c, h, w) and output (n, o, r, c) offsets of a problem. */
static inline int64_t cp_geom_xoff(const cp_geom *g, int64_t n, int64_t c,
                                   int64_t h, int64_t w) {
  const int64_t s[4] = {g->N, g->C, g->H, g->W};
  return cp_off4(s, n, c, h, w);
}
static inline int64_t cp_geom_yoff(const cp_geom *g, int64_t n, int64_t o,
                                   int64_t r, int64_t c) {
  const int64_t s[4] = {g->N, g->O, g->OH, g->OW};
  return cp_off4(s, n, o, r, c);
}

/* ---- partial convolution ---------------------------------------------------
 * NVIDIA's rescaling: ratio = taps / (S + eps) * clamp(S, 0, 1) for a window
 * of `taps` cells whose mask sums to S; the updated mask is clamp(S, 0, 1).
 * One definition for the core op, the trace and the views. */
#define CP_PARTIAL_EPS 1e-8f
static inline float cp_partial_ratio(float taps, float S) {
  float clampS = S < 0.0f ? 0.0f : S > 1.0f ? 1.0f : S;
  return taps / (S + CP_PARTIAL_EPS) * clampS;
}

/* floor((in + pad_before + pad_after - d(k-1) - 1) / s) + 1 with no
 * validity checks (it may be <= 0): the number a formula shows, also for
 * an invalid problem.  s > 0. */
int64_t cp_conv_out_len_raw(int64_t in, int64_t k, int64_t s,
                            int64_t pad_before, int64_t pad_after, int64_t d);

/* ---- a stack of layers (viz.stack) -------------------------------------------
 * Only the spatial geometry of each layer, one dimension at a time (0 rows,
 * 1 columns): every layer is separable, so a receptive field is the
 * product of a row set and a column set.  Output lengths are the formulas
 * above (pooling: cp_pool_out_len, ceil_mode included).  A layer's
 * connection: conv / pool output o reads input o*s - p + t*d (t < k);
 * a transposed conv's input i, tap t, writes output i*s + t*d - p. */
typedef enum {
  CP_LAYER_CONV = 0, CP_LAYER_CONVT, CP_LAYER_MAXPOOL, CP_LAYER_AVGPOOL
} cp_layer_kind;

typedef struct cp_layer {
  cp_layer_kind kind;
  int64_t k[2], s[2], p[2], d[2]; /* kernel, stride, padding, dilation */
  int64_t op[2];              /* output_padding (transposed only) */
  int ceil_mode;              /* pooling only */
} cp_layer;

/* Output length of dimension dim for input length in; -1 with a reason in
 * e when the output would be empty or the parameters are invalid. */
int64_t cp_layer_out_len(const cp_layer *l, int dim, int64_t in, cp_err *e);
/* Back through one layer: in_set[i] (length in) = 1 when input cell i
 * feeds any output cell o with out_set[o] (length out) set. */
void cp_layer_field(const cp_layer *l, int dim, int64_t in, int64_t out,
                    const unsigned char *out_set, unsigned char *in_set);
/* Input cells no output reads (conv / pool: rows the floor division or
 * the dilation skip); read[i] = 0 for those.  Returns how many. */
int64_t cp_layer_unread(const cp_layer *l, int dim, int64_t in, int64_t out,
                        unsigned char *read);

/* Names, for messages and the UI. */
const char *cp_padmode_name(cp_padmode m);
int cp_padmode_parse(const char *s, cp_padmode *m); /* 0 ok, -1 unknown */

#endif
