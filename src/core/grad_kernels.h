/* grad_kernels.h - the fast kernels under backward.c (internal).
 *
 * cp_gemm_nt: C[a*ldc + b] += sum_l A[a*lda + l] * B[b*ldb + l] for a < na,
 * b < nb: the grad_weight product gy (O x L) times unfold(x)^T (AVX-512 FMA
 * when the CPU has it, a portable vector loop otherwise; threaded over b).
 *
 * cp_wino_grad_weight: grad_weight of a 3x3, stride-1, dilation-1 conv by
 * Winograd F(3x3, 4x4) (see grad_kernels.c).  u is the problem's geometry
 * with H, W and padding of `src` (the input, padded already for a
 * non-zero padding mode), gy4 the (N, O, OH, OW) gradient; gw (O, C/G, 3,
 * 3) is overwritten.  Returns 0 done, 1 when the problem is not one it
 * handles (another shape, non-finite data, too large), -1 on error. */
#ifndef CP_GRAD_KERNELS_H
#define CP_GRAD_KERNELS_H

#include "geometry.h"
#include "tensor.h"

/* Scratch of a fast grad_weight path above this many bytes is not worth
 * its memory: the caller falls back. */
#define CP_GRAD_BUF_LIMIT ((size_t)512 << 20)

void cp_gemm_nt(int64_t na, int64_t nb, int64_t L, const float *A,
                int64_t lda, const float *B, int64_t ldb, float *C,
                int64_t ldc);
int cp_wino_grad_weight(cp_tensor *gw, const cp_tensor *gy4,
                        const cp_geom *u, const cp_tensor *src, int64_t G,
                        cp_err *e);
/* grad_input (N, C, H, W) of a 3x3, stride-1, dilation-1, zero-padded
 * conv2d (padding at most 2) by Winograd F(4x4, 3x3) over gy4 and the
 * weight w (O, C/G, 3, 3); g is the conv2d problem.  gx is allocated here.
 * Returns 0 done, 1 not handled (gx left empty), -1 on error. */
int cp_wino_grad_input(cp_tensor *gx, const cp_tensor *gy4,
                       const cp_tensor *w, const cp_geom *g, cp_err *e);
/* No Inf or NaN in a contiguous tensor. */
int cp_all_finite(const cp_tensor *t);
/* Data the Winograd paths may take: finite, and no value above 1e4 times
 * the mean |v| of the others (the transforms mix every value of a tile, so
 * an outlier's rounding error would reach outputs that do not see it). */
int cp_wino_safe(const cp_tensor *t);

#endif
