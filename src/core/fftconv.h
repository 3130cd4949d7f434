/* fftconv.h - large conv2d kernels through the frequency domain.
 *
 * For image filters and depthwise layers (one input channel per output
 * channel, stride 1) with kernels large enough that a transform is cheaper
 * than the direct work (cp_fft_worth: a cost model measured on the project's
 * machine, see fftconv.c), the output is computed by overlap-save over
 * tiles: each N x M tile of the padded input (padding mode applied as it is
 * gathered) is transformed with a real-to-complex FFT (FFTW, Debian's
 * libfftw3-dev, single precision), multiplied by the kernel's spectrum and
 * transformed back; the (N-kH'+1) x (M-kW'+1) cells that did not wrap are
 * the outputs (kH' = (kH-1)dH+1 with dilation).  Scratch is one tile of
 * at most 2^17 cells and its spectrum per thread (about 1 MiB) plus one
 * spectrum per output channel, bounded (16 MiB of spectra, under 64 MiB in
 * all); beyond that the call returns 1.  The last call's spectra are kept
 * with a copy of its kernels: a call with the same kernels (bit for bit),
 * dilation and tile reuses them instead of transforming the kernels again.
 *
 * Accuracy: an FFT spreads each cell's rounding over the tile, so the bound
 * is not per window as for the direct loops but per tile.  Tested:
 *   |y_fft - y_ref| <= 1e-5 * sum|w| * max|x| + 1e-6 * |y_ref|
 * (max over the input plane); e.g. on an image in [0, 1] any output is
 * within 1e-5 * sum|w| of the reference.  A NaN or Inf in a tile, or in the
 * result, makes the call return 1: the direct path then gives PyTorch's
 * NaN/Inf pattern. */
#ifndef CP_FFTCONV_H
#define CP_FFTCONV_H

#include "geometry.h"

/* Does the transform pay for this problem (and can it run it)? */
int cp_fft_worth(const cp_geom *g);

/* Compute y as cp_conv2d would: 0 done, 1 not handled (the caller runs
 * another path). */
int cp_conv2d_fft(const cp_geom *g, const float *x, const float *w,
                  const float *b, float *y);

/* Allow (1, default) or forbid (0) the transform in the dispatcher, or
 * (2) take it whenever it applies, whatever the cost model says (tests and
 * benchmarks compare it with the direct tiles). */
void cp_fft_set_enabled(int on);

#endif
