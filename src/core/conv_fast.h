/* conv_fast.h - test hooks of the fast kernels (conv_fast.c).
 * The kernels themselves are declared in conv.h. */
#ifndef CP_CONV_FAST_H
#define CP_CONV_FAST_H

/* Run the tiles of a lower instruction set: 0 baseline SSE, 1 AVX2+FMA,
 * 2 AVX-512; -1 (or a level the CPU lacks) restores the best available.
 * Lets the tests cover every kernel on one machine. */
void cp_conv_fast_force_isa(int level);

/* Allow (1, the default) or forbid (0) the Winograd path, so that tests and
 * benchmarks can compare it with the direct tiles on the same shape. */
void cp_conv_fast_set_winograd(int on);

#endif
