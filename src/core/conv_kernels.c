/* conv_kernels.c - tiles and Winograd transforms, per instruction set.
 *
 * Every routine here is written once with GCC vector extensions and
 * instantiated per instruction set by a macro: the vector type and the
 * tile shape must be compile-time constants for the accumulators to live
 * in registers.  See conv_kernels.h for what each computes. */
#include "conv_kernels.h"

#include <stdatomic.h>
#include <string.h>

#include "conv_fast.h"

/* The tiles rely on a*b+c becoming one FMA instruction; -std=c11 turns
 * contraction off by default. */
#pragma GCC optimize("fp-contract=fast")

/* ====================================================================== */
/* Micro-kernels                                                           */
/* ====================================================================== */

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef float v4 __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4)));

typedef int32_t v16i __attribute__((vector_size(64)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* T[m*ldt + 0..NR) = bias[m] + sum_k A[k*MR+m] * S[koff[k] + 0..NR),
 * NR = VL*NV; returns nonzero when a result is NaN or Inf.
 * One body for every ISA and tile shape: the vector type, MR and NV must be
 * compile-time constants for the accumulators to live in registers, which is
 * why this one piece is a macro. */
#define TILE_KERNEL(NAME, VT, VTU, VI, VL, MR, NV, ATTR)                     \
  ATTR static int NAME(int K, const float *A, const int32_t *koff,           \
                       const float *S, const float *bias, float *T,          \
                       int64_t ldt) {                                        \
    VT acc[MR][NV];                                                          \
    _Pragma("GCC unroll 16") for (int m = 0; m < MR; m++)                    \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++)                   \
        acc[m][v] = bias[m] - (VT){0};                                       \
    for (int k = 0; k < K; k++) {                                            \
      const float *s = S + koff[k];                                          \
      VT bv[NV];                                                             \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++)                   \
        bv[v] = *(const VTU *)(s + VL * v);                                  \
      _Pragma("GCC unroll 16") for (int m = 0; m < MR; m++) {                \
        VT a = A[k * MR + m] - (VT){0};                                      \
        _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++)                 \
          acc[m][v] += a * bv[v];                                            \
      }                                                                      \
    }                                                                        \
    VI bad = {0};                                                            \
    _Pragma("GCC unroll 16") for (int m = 0; m < MR; m++)                    \
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++) {                 \
        VT z = acc[m][v] - acc[m][v]; /* NaN exactly where not finite */     \
        bad |= z != z;                                                       \
        *(VTU *)(T + m * ldt + v * VL) = acc[m][v];                          \
      }                                                                      \
    int any = 0;                                                             \
    for (int l = 0; l < VL; l++) any |= bad[l];                              \
    return any;                                                              \
  }

/* Each tile twice: with fused multiply-adds, and with every product
 * rounded to float before it is added, as PyTorch's CPU kernels do.  The
 * two differ beyond rounding only when a product overflows (1e30 * 1e30 is
 * Inf, and Inf - Inf is NaN, while a fused a*b+c never rounds the product);
 * the caller redoes a tile that came out non-finite with the second. */
#define SEPARATE __attribute__((optimize("fp-contract=off")))
#define TILE_PAIR(NAME, VT, VTU, VI, VL, MR, NV, ATTR)                       \
  TILE_KERNEL(NAME, VT, VTU, VI, VL, MR, NV, ATTR)                           \
  TILE_KERNEL(NAME##_sep, VT, VTU, VI, VL, MR, NV, ATTR SEPARATE)

#define ISA512 __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
#define ISA256 __attribute__((target("avx2,fma")))

/* AVX-512: 32 zmm registers. */
TILE_PAIR(k512_g, v16, v16u, v16i, 16, 8, 3, ISA512)
TILE_PAIR(k512_1, v16, v16u, v16i, 16, 1, 4, ISA512)
TILE_PAIR(k512_2, v16, v16u, v16i, 16, 2, 4, ISA512)
TILE_PAIR(k512_3, v16, v16u, v16i, 16, 3, 4, ISA512)
TILE_PAIR(k512_4, v16, v16u, v16i, 16, 4, 4, ISA512)
/* AVX2 + FMA: 16 ymm registers. */
TILE_PAIR(k256_g, v8, v8u, v8i, 8, 6, 2, ISA256)
TILE_PAIR(k256_1, v8, v8u, v8i, 8, 1, 3, ISA256)
TILE_PAIR(k256_2, v8, v8u, v8i, 8, 2, 3, ISA256)
TILE_PAIR(k256_3, v8, v8u, v8i, 8, 3, 3, ISA256)
TILE_PAIR(k256_4, v8, v8u, v8i, 8, 4, 3, ISA256)
/* Baseline (SSE4.2): 16 xmm registers. */
TILE_PAIR(k128_g, v4, v4u, v4i, 4, 4, 3, )
TILE_PAIR(k128_1, v4, v4u, v4i, 4, 1, 3, )
TILE_PAIR(k128_2, v4, v4u, v4i, 4, 2, 3, )
TILE_PAIR(k128_3, v4, v4u, v4i, 4, 3, 3, )
TILE_PAIR(k128_4, v4, v4u, v4i, 4, 4, 3, )

/* [isa][0] the GEMM tile, [isa][m] the direct tile for m = 1..4 channels. */
static const tile_kernel kernels[3][5] = {
    {{k128_g, k128_g_sep, 4, 12}, {k128_1, k128_1_sep, 1, 12}, {k128_2, k128_2_sep, 2, 12}, {k128_3, k128_3_sep, 3, 12},
     {k128_4, k128_4_sep, 4, 12}},
    {{k256_g, k256_g_sep, 6, 16}, {k256_1, k256_1_sep, 1, 24}, {k256_2, k256_2_sep, 2, 24}, {k256_3, k256_3_sep, 3, 24},
     {k256_4, k256_4_sep, 4, 24}},
    {{k512_g, k512_g_sep, 8, 48}, {k512_1, k512_1_sep, 1, 64}, {k512_2, k512_2_sep, 2, 64}, {k512_3, k512_3_sep, 3, 64},
     {k512_4, k512_4_sep, 4, 64}},
};
/* 2 AVX-512, 1 AVX2+FMA, 0 baseline; -1 until asked.  Atomics: calls from
 * several threads may ask at once (they all find the same answer). */
static atomic_int isa_forced = -1;
static int cpu_level(void) {
  __builtin_cpu_init();
  int level = 0;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    level = 1;
  if (level == 1 && __builtin_cpu_supports("avx512f") &&
      __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    level = 2;
  return level;
}

int cp_kern_isa(void) {
  static atomic_int level = -1;
  int forced = atomic_load_explicit(&isa_forced, memory_order_relaxed);
  if (forced >= 0) return forced;
  int l = atomic_load_explicit(&level, memory_order_relaxed);
  if (l < 0) {
    l = cpu_level();
    atomic_store_explicit(&level, l, memory_order_relaxed);
  }
  return l;
}

void cp_conv_fast_force_isa(int level) {
  atomic_store(&isa_forced, -1);
  if (level >= 0 && level < cp_kern_isa()) atomic_store(&isa_forced, level);
}

tile_kernel cp_kern_pick(int64_t Og) {
  int isa = cp_kern_isa();
  return Og <= 4 ? kernels[isa][Og] : kernels[isa][0];
}

/* ====================================================================== */
/* Winograd transforms                                                     */
/* ====================================================================== */

/* B^T d B for tiles 0..nt-1 of one tile row: E/O point at row 2a of the
 * even/odd planes (row stride Wq); element e of tile b goes to
 * V[e * es + b].  Vectors over tiles; a macro for the same reason as the
 * tiles (the vector type must be fixed per instruction set). */
#define WINO_IN(NAME, VT, VTU, VL, ATTR)                                     \
  ATTR static void NAME(const float *E, const float *O, int64_t Wq,         \
                        int64_t nt, float *V, int64_t es) {                  \
    int64_t b = 0;                                                           \
    for (; b + VL <= nt; b += VL) {                                          \
      VT r[4][4];                                                            \
      _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) {                  \
        VT e0 = *(const VTU *)(E + i * Wq + b);                              \
        VT e1 = *(const VTU *)(E + i * Wq + b + 1);                          \
        VT o0 = *(const VTU *)(O + i * Wq + b);                              \
        VT o1 = *(const VTU *)(O + i * Wq + b + 1);                          \
        r[i][0] = e0 - e1;                                                   \
        r[i][1] = o0 + e1;                                                   \
        r[i][2] = e1 - o0;                                                   \
        r[i][3] = o0 - o1;                                                   \
      }                                                                      \
      _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) {                  \
        *(VTU *)(V + (0 + j) * es + b) = r[0][j] - r[2][j];                  \
        *(VTU *)(V + (4 + j) * es + b) = r[1][j] + r[2][j];                  \
        *(VTU *)(V + (8 + j) * es + b) = r[2][j] - r[1][j];                  \
        *(VTU *)(V + (12 + j) * es + b) = r[1][j] - r[3][j];                 \
      }                                                                      \
    }                                                                        \
    for (; b < nt; b++) {                                                    \
      float r[4][4];                                                         \
      for (int i = 0; i < 4; i++) {                                          \
        const float *e = E + i * Wq + b, *o = O + i * Wq + b;                \
        r[i][0] = e[0] - e[1];                                               \
        r[i][1] = o[0] + e[1];                                               \
        r[i][2] = e[1] - o[0];                                               \
        r[i][3] = o[0] - o[1];                                               \
      }                                                                      \
      for (int j = 0; j < 4; j++) {                                          \
        V[(0 + j) * es + b] = r[0][j] - r[2][j];                             \
        V[(4 + j) * es + b] = r[1][j] + r[2][j];                             \
        V[(8 + j) * es + b] = r[2][j] - r[1][j];                             \
        V[(12 + j) * es + b] = r[1][j] - r[3][j];                            \
      }                                                                      \
    }                                                                        \
  }

/* A^T M A + bias for tiles 0..nt-1: element e of tile b at M[e * es + b];
 * output rows y0 (and y1 unless NULL), columns 2b and 2b+1.  ILV is the
 * shuffle mask interleaving two vectors' low (ILV_LO) / high halves. */
#define WINO_OUT(NAME, VT, VTU, VL, VI, ILV_LO, ILV_HI, ATTR)                 \
  ATTR static void NAME(const float *M, int64_t es, int64_t nt, float bias,  \
                        float *y0, float *y1) {                              \
    for (int64_t b = 0; b < nt; b += VL) {                                   \
      VT m[16];                                                              \
      _Pragma("GCC unroll 16") for (int e = 0; e < 16; e++)                  \
        m[e] = *(const VTU *)(M + e * es + b);                               \
      VT s[4][2];                                                            \
      _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) {                                          \
        s[i][0] = m[4 * i] + m[4 * i + 1] + m[4 * i + 2];                    \
        s[i][1] = m[4 * i + 1] - m[4 * i + 2] - m[4 * i + 3];                \
      }                                                                      \
      VT bv = bias - (VT){0};                                                \
      VT a0 = bv + (s[0][0] + s[1][0] + s[2][0]);                            \
      VT a1 = bv + (s[0][1] + s[1][1] + s[2][1]);                            \
      VT c0 = bv + (s[1][0] - s[2][0] - s[3][0]);                            \
      VT c1 = bv + (s[1][1] - s[2][1] - s[3][1]);                            \
      VT r0[2] = {__builtin_shuffle(a0, a1, (VI)ILV_LO),                     \
                  __builtin_shuffle(a0, a1, (VI)ILV_HI)};                    \
      VT r1[2] = {__builtin_shuffle(c0, c1, (VI)ILV_LO),                     \
                  __builtin_shuffle(c0, c1, (VI)ILV_HI)};                    \
      if (b + VL <= nt) {                                                    \
        memcpy(y0 + 2 * b, r0, sizeof r0);                                   \
        if (y1) memcpy(y1 + 2 * b, r1, sizeof r1);                           \
      } else { /* last few tiles: only what is inside the row */             \
        memcpy(y0 + 2 * b, r0, (size_t)(nt - b) * 2 * sizeof(float));       \
        if (y1) memcpy(y1 + 2 * b, r1, (size_t)(nt - b) * 2 * sizeof(float));\
      }                                                                      \
    }                                                                        \
  }

#define ILV16_LO {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23}
#define ILV16_HI {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31}
WINO_IN(wino_in512, v16, v16u, 16, ISA512)
WINO_IN(wino_in256, v8, v8u, 8, ISA256)
WINO_IN(wino_in128, v4, v4u, 4, )
WINO_OUT(wino_out512, v16, v16u, 16, v16i, ILV16_LO, ILV16_HI, ISA512)
#define ILV8_LO {0, 8, 1, 9, 2, 10, 3, 11}
#define ILV8_HI {4, 12, 5, 13, 6, 14, 7, 15}
#define ILV4_LO {0, 4, 1, 5}
#define ILV4_HI {2, 6, 3, 7}
WINO_OUT(wino_out256, v8, v8u, 8, v8i, ILV8_LO, ILV8_HI, ISA256)
WINO_OUT(wino_out128, v4, v4u, 4, v4i, ILV4_LO, ILV4_HI, )

static const wino_in_fn wino_in[3] = {wino_in128, wino_in256, wino_in512};
static const wino_out_fn wino_out[3] = {wino_out128, wino_out256,
                                        wino_out512};
wino_in_fn cp_kern_wino_in(void) { return wino_in[cp_kern_isa()]; }
wino_out_fn cp_kern_wino_out(void) { return wino_out[cp_kern_isa()]; }

/* U = G g G^T of one 3x3 kernel. */
void cp_kern_wino_filter(const float *k, float *U) {
  float t[4][3];
  for (int j = 0; j < 3; j++) {
    float a = k[j], b = k[3 + j], c = k[6 + j];
    t[0][j] = a;
    t[1][j] = 0.5f * (a + b + c);
    t[2][j] = 0.5f * (a - b + c);
    t[3][j] = c;
  }
  for (int i = 0; i < 4; i++) {
    float a = t[i][0], b = t[i][1], c = t[i][2];
    U[i * 4 + 0] = a;
    U[i * 4 + 1] = 0.5f * (a + b + c);
    U[i * 4 + 2] = 0.5f * (a - b + c);
    U[i * 4 + 3] = c;
  }
}
