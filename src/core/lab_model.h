/* lab_model.h - the image filter lab's state and arithmetic, without Lua or
 * SDL: the kernel being edited, the convolution settings, the compute of the
 * filtered image (always through cp_conv2d), the mapping of signed outputs
 * to displayable values, and the hover readout of one output pixel (through
 * the geometry module, so the readout and the compute cannot disagree).
 *
 * Usage:
 *   cp_lab lab;
 *   cp_lab_init(&lab, &img, &err);            // img (C,H,W), C = 1..4
 *   cp_lab_set_preset(&lab, CP_PRESET_GAUSSIAN, &args, &err);
 *   lab.p.map = CP_MAP_ABS;
 *   cp_tensor y; cp_lab_compute(&lab, &y, NULL, &err);   // (C,OH,OW)
 *   cp_lab_to_argb(&y, lab.p.map, pixels, OW, 0, OH);    // for display
 *   cp_tensor_release(&y); cp_lab_free(&lab);
 *
 * The conv weight: depthwise mode runs groups = C with the kernel on every
 * channel, weight (C,1,kH,kW); full RGB mixing runs groups = 1 with weight
 * (C,C,kH,kW), w[o][c] = mix[o][c] * kernel (default mix: every entry 1/C,
 * so each output channel filters the channel mean).  True convolution flips
 * the kernel (SEMANTICS.md section 2).  Magnitude mode (the gradient
 * magnitude preset) computes sqrt(conv(k)^2 + conv(k^T)^2), k^T being the
 * transposed kernel (Sobel x -> Sobel y); it needs a square kernel.
 *
 * Ownership follows tensor.h: cp_lab holds one reference to its image and its
 * own kernel; every out tensor belongs to the caller.
 */
#ifndef CP_LAB_MODEL_H
#define CP_LAB_MODEL_H

#include <stdatomic.h>
#include <stdint.h>

#include "geometry.h"
#include "kernels.h"
#include "tensor.h"

#define CP_LAB_MAXC 4         /* channels the lab accepts */
#define CP_LAB_MAXK 31        /* largest kernel side in the lab */

/* How a signed output becomes a displayable value in [0, 1]. */
typedef enum {
  CP_MAP_CLAMP = 0,           /* clamp to [0, 1] */
  CP_MAP_ABS,                 /* |v|, clamped */
  CP_MAP_OFFSET,              /* 0.5 + v/2: zero is mid grey */
  CP_MAP_COUNT
} cp_signmap;

typedef struct cp_lab_params {
  int64_t stride;             /* both dimensions, >= 1 */
  int64_t dilation;           /* both dimensions, >= 1 */
  int64_t pad;                /* both sides, >= 0; ignored when same */
  int same;                   /* padding "same" (stride 1 only) */
  cp_padmode mode;            /* padding mode */
  int flip;                   /* 1: true convolution (kernel flipped) */
  int full_mix;               /* 0: depthwise; 1: full mixing via mix[][] */
  int magnitude;              /* sqrt(conv(k)^2 + conv(k^T)^2) */
  cp_signmap map;             /* display mapping of the output */
  int mix_custom;             /* 0: mix is 1/C everywhere; 1: mix[][] */
  float mix[CP_LAB_MAXC][CP_LAB_MAXC]; /* full_mix: weight of input c in o */
} cp_lab_params;

typedef struct cp_lab {
  cp_tensor image;            /* (C,H,W) input, a shared reference */
  cp_tensor kernel;           /* (kH,kW) contiguous, owned, editable */
  cp_lab_params p;            /* convolution and display settings */
  cp_preset preset;           /* last preset, CP_PRESET_CUSTOM once edited */
  cp_preset_args args;        /* arguments of that preset */
} cp_lab;

/* ---- state ------------------------------------------------------------------ */
void cp_lab_params_default(cp_lab_params *p);
/* Identity 3x3 kernel, same padding, depthwise, clamp. */
int cp_lab_init(cp_lab *lab, const cp_tensor *image, cp_err *e);
void cp_lab_free(cp_lab *lab);
/* An independent copy (shares the image, clones the kernel): a snapshot for
 * a worker thread. */
int cp_lab_copy(cp_lab *dst, const cp_lab *src, cp_err *e);
int cp_lab_set_image(cp_lab *lab, const cp_tensor *image, cp_err *e);
/* Any 2-D tensor; copied. Marks the preset custom. */
int cp_lab_set_kernel(cp_lab *lab, const cp_tensor *k, cp_err *e);
/* Also sets magnitude for CP_PRESET_GRADMAG and clears it otherwise. */
int cp_lab_set_preset(cp_lab *lab, cp_preset p, const cp_preset_args *a,
                      cp_err *e);
/* New side lengths, keeping the values around the centre (new cells 0). */
int cp_lab_resize_kernel(cp_lab *lab, int64_t kH, int64_t kW, cp_err *e);
/* Scale so the cells sum to 1; a kernel summing to ~0 (edge detectors) is
 * scaled so its positive cells sum to 1.  Returns 0, or -1 if all zero. */
int cp_lab_normalize(cp_lab *lab, cp_err *e);
/* Cell access (0-based, unchecked beyond the kernel's size: callers check). */
float cp_lab_cell(const cp_lab *lab, int64_t i, int64_t j);
void cp_lab_set_cell(cp_lab *lab, int64_t i, int64_t j, float v);

/* ---- what gets computed -------------------------------------------------------- */
/* The cp_conv2d parameters and the weight (transposed_kernel: use k^T, for
 * the second half of magnitude mode). */
void cp_lab_conv_params(const cp_lab *lab, cp_conv_params *cp);
int cp_lab_weight(const cp_lab *lab, int transposed_kernel, cp_tensor *w,
                  cp_err *e);
/* Validate the whole problem (sizes, padding limits) and give the output
 * size, without computing. */
int cp_lab_out_size(const cp_lab *lab, int64_t *OH, int64_t *OW, cp_err *e);

/* Progress and cancellation for long computes (all fields optional). */
typedef struct cp_lab_progress {
  void (*report)(void *ud, double fraction); /* called between bands */
  void *ud;                   /* passed to report */
  atomic_int *cancel;         /* nonzero: stop at the next band, fail */
  int64_t band_macs;          /* work per band; 0: one cp_conv2d call */
  double band_ms;             /* > 0: adapt bands to take about this long */
} cp_lab_progress;

/* The filtered image (C,OH,OW), raw (unmapped).  With prog->band_macs > 0 a
 * big problem runs in bands of output rows (the input padded once by
 * cp_pad2d, then cp_conv2d with padding 0 on each band), reporting progress
 * and honouring cancel; results are identical either way. */
int cp_lab_compute(const cp_lab *lab, cp_tensor *out,
                   const cp_lab_progress *prog, cp_err *e);
/* Multiply-adds of the compute (both halves in magnitude mode). */
double cp_lab_macs(const cp_lab *lab);

/* ---- display ---------------------------------------------------------------- */
float cp_lab_map_value(cp_signmap m, float v);
const char *cp_signmap_name(cp_signmap m);
int cp_signmap_parse(const char *s, cp_signmap *m); /* 0 ok, -1 unknown */
/* Rows r0..r1-1 of y (C,H,W) mapped into 0xAARRGGBB pixels (opaque; C = 1
 * or 2: grey from channel 0; C >= 3: RGB). pitch in pixels. */
void cp_lab_to_argb(const cp_tensor *y, cp_signmap m, uint32_t *pixels,
                    int64_t pitch, int64_t r0, int64_t r1);
/* Nearest-neighbour sampling for display: pixel (i, j) of an h x w block
 * at pixels (pitch in pixels) gets y[:, rows[i], cols[j]] mapped; rows or
 * cols entries of -1 leave their pixels untouched.  cols must be
 * non-decreasing apart from the -1 entries at either end (a zoomed view). */
void cp_lab_sample_argb(const cp_tensor *y, cp_signmap m, const int32_t *rows,
                        int h, const int32_t *cols, int w, uint32_t *pixels,
                        int64_t pitch);
/* y mapped into a new float tensor in [0, 1] (what the lab saves). */
int cp_lab_mapped(const cp_tensor *y, cp_signmap m, cp_tensor *out,
                  cp_err *e);
/* Where output pixel (0,0) sits over the input, in input pixels: output
 * pixel (r,c) covers [oy + r*s, oy + (r+1)*s) x [ox + c*s, ...) so the
 * before and after views line up (0,0 for same padding, odd kernel). */
void cp_lab_out_origin(const cp_lab *lab, double *oy, double *ox);

/* ---- hover readout ------------------------------------------------------------ */
typedef struct cp_lab_tap {
  int64_t i, j;               /* tap in the weight as applied (flipped) */
  int64_t ch;                 /* input channel read */
  int64_t row, col;           /* input coordinate (outside = padding) */
  int64_t src_row, src_col;   /* cell it resolves to; -1: reads zero */
  float w;                    /* weight of the tap */
  float x;                    /* value read */
} cp_lab_tap;

typedef struct cp_lab_readout {
  int64_t r, c, ch;           /* output pixel and channel */
  int ntaps;                  /* taps of the first sum (may exceed cap) */
  double sum;                 /* sum of w*x over the taps */
  double sum2;                /* magnitude mode: the k^T sum, else 0 */
  double value;               /* output value (sum, or the magnitude) */
  double mapped;              /* displayed value in [0, 1] */
} cp_lab_readout;

/* Explain output (ch, r, c): up to cap taps of the first sum into taps[]
 * (taps may be NULL with cap 0), and the sums.  Fails outside the output. */
int cp_lab_explain(const cp_lab *lab, int64_t ch, int64_t r, int64_t c,
                   cp_lab_tap *taps, int cap, cp_lab_readout *ro, cp_err *e);

#endif
