/* conv_kernels.h - the vector code under conv_fast.c (internal).
 *
 * Register-blocked tiles and the Winograd F(2x2, 3x3) transforms, each
 * compiled for AVX-512, AVX2+FMA and the SSE4.2 baseline; the best the CPU
 * has is chosen at run time (cpuid), so the build flags stay
 * -march=x86-64-v2. */
#ifndef CP_CONV_KERNELS_H
#define CP_CONV_KERNELS_H

#include <stdint.h>

/* ---- tiles ------------------------------------------------------------------
 * T[m*ldt + 0..nr) = bias[m] + sum_k A[k*mr + m] * S[koff[k] + 0..nr), for
 * m < mr: mr output channels times nr output positions, each position p
 * reading S[koff[k] + p] for tap k.  Row m of the result goes to T + m*ldt:
 * a scratch tile (ldt = nr) or straight into the output planes.  Returns
 * nonzero when some result is NaN or Inf. */
typedef int (*tile_fn)(int K, const float *A, const int32_t *koff,
                       const float *S, const float *bias, float *T,
                       int64_t ldt);
typedef struct tile_kernel {
  tile_fn fn;                 /* fused multiply-adds */
  tile_fn fn_sep;             /* products rounded before the add (PyTorch's
                                 results when a product overflows): run it
                                 again with this when fn reports non-finite */
  int mr, nr;                 /* output channels x positions per call */
} tile_kernel;
#define NR_MAX 64             /* largest nr of any tile */
#define MR_MAX 8              /* largest mr */

/* The tile for og output channels per group: a direct one (mr = og) up to
 * 4, else the GEMM tile (mr 8 / 6 / 4 for AVX-512 / AVX2 / SSE). */
tile_kernel cp_kern_pick(int64_t og);
/* 2 AVX-512, 1 AVX2+FMA, 0 baseline (or what cp_conv_fast_force_isa set). */
int cp_kern_isa(void);

/* ---- Winograd F(2x2, 3x3) --------------------------------------------------
 * Input transform B^T d B of nt tiles of one tile row: E and O point at row
 * 2a of the even and odd column planes (row stride Wq); element e of tile b
 * goes to V[e*es + b].  May read up to 16 cells past the run and is called
 * with nt rounded up to 16 (the caller leaves room). */
typedef void (*wino_in_fn)(const float *E, const float *O, int64_t Wq,
                           int64_t nt, float *V, int64_t es);
/* Output transform A^T M A + bias of nt tiles: element e of tile b at
 * M[e*es + b]; writes columns 2b, 2b+1 of row y0 and (unless NULL) y1.
 * Reads up to 16 tiles past nt, writes nothing past it. */
typedef void (*wino_out_fn)(const float *M, int64_t es, int64_t nt,
                            float bias, float *y0, float *y1);
wino_in_fn cp_kern_wino_in(void);
wino_out_fn cp_kern_wino_out(void);
/* U = G g G^T of one 3x3 kernel (row-major 9 -> 16). */
void cp_kern_wino_filter(const float *k, float *U);

#endif
