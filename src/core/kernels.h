/* kernels.h - preset filter kernels for the image lab and image.kernels.
 *
 * Each preset fills `out` with a new contiguous 2-D (kH, kW) float32 tensor
 * (the caller releases it), written for correlation (conv2d's convention):
 * sobel_x responds positively where the image gets brighter to the right.
 * Sizes are kernel side lengths; presets with a centre need odd sizes.
 * On a bad argument they return -1 with a reason that starts with the
 * argument name ("sigma: must be > 0, got -1").
 *
 * Gradient magnitude sqrt(gx^2 + gy^2) is not a linear filter, so it is not a
 * kernel: the lab models it as Sobel x plus a "magnitude" combine that also
 * runs the transposed kernel (Sobel y) and takes the root of the squares.
 */
#ifndef CP_KERNELS_H
#define CP_KERNELS_H

#include "tensor.h"

#define CP_KERNEL_MAX 63      /* largest side a preset accepts */

int cp_kernel_identity(cp_tensor *out, int64_t size, cp_err *e);
/* size x size, every cell 1/size^2 (any size, even allowed). */
int cp_kernel_box(cp_tensor *out, int64_t size, cp_err *e);
/* Sampled exp(-(x^2+y^2)/(2 sigma^2)), normalised to sum 1; odd size. */
int cp_kernel_gaussian(cp_tensor *out, int64_t size, double sigma, cp_err *e);
/* OpenCV's default sigma for a Gaussian of a given size. */
double cp_kernel_default_sigma(int64_t size);
/* [[0,-1,0],[-1,5,-1],[0,-1,0]] */
int cp_kernel_sharpen(cp_tensor *out, cp_err *e);
/* identity + amount * (identity - gaussian(size, sigma)); sums to 1. */
int cp_kernel_unsharp(cp_tensor *out, int64_t size, double sigma,
                      double amount, cp_err *e);
/* [[-1,0,1],[-2,0,2],[-1,0,1]] and its transpose. */
int cp_kernel_sobel_x(cp_tensor *out, cp_err *e);
int cp_kernel_sobel_y(cp_tensor *out, cp_err *e);
/* [[0,1,0],[1,-4,1],[0,1,0]] */
int cp_kernel_laplacian(cp_tensor *out, cp_err *e);
/* [[-2,-1,0],[-1,1,1],[0,1,2]] */
int cp_kernel_emboss(cp_tensor *out, cp_err *e);
/* [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] */
int cp_kernel_outline(cp_tensor *out, cp_err *e);
/* An antialiased line through the centre at angle_deg (0 = horizontal,
 * 90 = vertical, counter-clockwise on screen), normalised to sum 1; odd
 * size.  Cell weight = max(0, 1 - distance from the cell centre to the
 * segment that crosses the whole square). */
int cp_kernel_motion_blur(cp_tensor *out, int64_t size, double angle_deg,
                          cp_err *e);

/* ---- the preset list, for the lab's keys and menus ------------------------ */
typedef enum {
  CP_PRESET_IDENTITY = 0,
  CP_PRESET_BOX,
  CP_PRESET_GAUSSIAN,
  CP_PRESET_SHARPEN,
  CP_PRESET_UNSHARP,
  CP_PRESET_SOBEL_X,
  CP_PRESET_SOBEL_Y,
  CP_PRESET_GRADMAG,          /* Sobel x, combined as a magnitude */
  CP_PRESET_LAPLACIAN,
  CP_PRESET_EMBOSS,
  CP_PRESET_MOTION_BLUR,
  CP_PRESET_OUTLINE,
  CP_PRESET_COUNT,
  CP_PRESET_CUSTOM = -1       /* edited by hand */
} cp_preset;

/* Arguments of the sized presets; fields a preset does not use are ignored.
 * size <= 0 means the preset's default (3 or 5). */
typedef struct cp_preset_args {
  int64_t size;               /* side length */
  double sigma;               /* gaussian / unsharp; <= 0: default for size */
  double amount;              /* unsharp strength */
  double angle;               /* motion blur, degrees */
} cp_preset_args;

void cp_preset_args_default(cp_preset_args *a);
/* Build preset p (for GRADMAG: Sobel x). */
int cp_kernel_preset(cp_tensor *out, cp_preset p, const cp_preset_args *a,
                     cp_err *e);
/* "gaussian", "sobel_x", "gradient_magnitude", ...; "custom" for -1. */
const char *cp_preset_name(cp_preset p);
/* Name to preset: 0 ok, -1 unknown. Accepts the names above. */
int cp_preset_parse(const char *s, cp_preset *p);

#endif
