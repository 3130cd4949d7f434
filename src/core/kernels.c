/* kernels.c - preset filter kernels (see kernels.h). */
#include "kernels.h"

#include <math.h>
#include <string.h>

/* ---- helpers -------------------------------------------------------------- */

static int check_size(int64_t size, int odd, cp_err *e) {
  if (size < 1 || size > CP_KERNEL_MAX)
    return cp_fail(e, "size: must be between 1 and %d, got %lld",
                   CP_KERNEL_MAX, (long long)size);
  if (odd && size % 2 == 0)
    return cp_fail(e, "size: must be odd (the kernel needs a centre), got %lld",
                   (long long)size);
  return 0;
}

static int check_sigma(double sigma, cp_err *e) {
  if (!(sigma > 0) || !isfinite(sigma))
    return cp_fail(e, "sigma: must be > 0, got %g", sigma);
  return 0;
}

/* A new size x size tensor of zeros. */
static int square(cp_tensor *out, int64_t size, cp_err *e) {
  int64_t shape[2] = {size, size};
  return cp_tensor_zeros(out, 2, shape, e);
}

/* A new 3 x 3 tensor holding v (row-major). */
static int fixed3(cp_tensor *out, const float v[9], cp_err *e) {
  if (square(out, 3, e)) return -1;
  memcpy(cp_tensor_data(out), v, 9 * sizeof(float));
  return 0;
}

/* ---- the presets ---------------------------------------------------------- */

int cp_kernel_identity(cp_tensor *out, int64_t size, cp_err *e) {
  memset(out, 0, sizeof *out);
  if (check_size(size, 1, e) || square(out, size, e)) return -1;
  cp_tensor_data(out)[(size / 2) * size + size / 2] = 1.0f;
  return 0;
}

int cp_kernel_box(cp_tensor *out, int64_t size, cp_err *e) {
  memset(out, 0, sizeof *out);
  if (check_size(size, 0, e) || square(out, size, e)) return -1;
  cp_tensor_fill(out, (float)(1.0 / (double)(size * size)));
  return 0;
}

double cp_kernel_default_sigma(int64_t size) {
  double s = 0.3 * ((double)(size - 1) * 0.5 - 1.0) + 0.8;
  return s > 0.1 ? s : 0.1;
}

int cp_kernel_gaussian(cp_tensor *out, int64_t size, double sigma,
                       cp_err *e) {
  memset(out, 0, sizeof *out);
  if (check_size(size, 1, e) || check_sigma(sigma, e)) return -1;
  if (square(out, size, e)) return -1;
  /* Separable: the 1-D profile, normalised, then the outer product; the sum
   * is then 1 up to float rounding of each product. */
  double g[CP_KERNEL_MAX], sum = 0;
  int64_t c = size / 2;
  for (int64_t i = 0; i < size; i++) {
    double x = (double)(i - c);
    g[i] = exp(-x * x / (2 * sigma * sigma));
    sum += g[i];
  }
  float *d = cp_tensor_data(out);
  for (int64_t i = 0; i < size; i++)
    for (int64_t j = 0; j < size; j++)
      d[i * size + j] = (float)(g[i] / sum * g[j] / sum);
  return 0;
}

int cp_kernel_sharpen(cp_tensor *out, cp_err *e) {
  static const float v[9] = {0, -1, 0, -1, 5, -1, 0, -1, 0};
  return fixed3(out, v, e);
}

int cp_kernel_unsharp(cp_tensor *out, int64_t size, double sigma,
                      double amount, cp_err *e) {
  memset(out, 0, sizeof *out);
  if (!isfinite(amount))
    return cp_fail(e, "amount: must be a finite number, got %g", amount);
  if (cp_kernel_gaussian(out, size, sigma, e)) return -1;
  float *d = cp_tensor_data(out);
  int64_t n = size * size, mid = (size / 2) * size + size / 2;
  for (int64_t k = 0; k < n; k++) {
    double id = k == mid ? 1.0 : 0.0;
    d[k] = (float)(id + amount * (id - (double)d[k]));
  }
  return 0;
}

int cp_kernel_sobel_x(cp_tensor *out, cp_err *e) {
  static const float v[9] = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
  return fixed3(out, v, e);
}

int cp_kernel_sobel_y(cp_tensor *out, cp_err *e) {
  static const float v[9] = {-1, -2, -1, 0, 0, 0, 1, 2, 1};
  return fixed3(out, v, e);
}

int cp_kernel_laplacian(cp_tensor *out, cp_err *e) {
  static const float v[9] = {0, 1, 0, 1, -4, 1, 0, 1, 0};
  return fixed3(out, v, e);
}

int cp_kernel_emboss(cp_tensor *out, cp_err *e) {
  static const float v[9] = {-2, -1, 0, -1, 1, 1, 0, 1, 2};
  return fixed3(out, v, e);
}

int cp_kernel_outline(cp_tensor *out, cp_err *e) {
  static const float v[9] = {-1, -1, -1, -1, 8, -1, -1, -1, -1};
  return fixed3(out, v, e);
}

int cp_kernel_motion_blur(cp_tensor *out, int64_t size, double angle_deg,
                          cp_err *e) {
  memset(out, 0, sizeof *out);
  if (check_size(size, 1, e)) return -1;
  if (!isfinite(angle_deg))
    return cp_fail(e, "angle: must be a finite number, got %g", angle_deg);
  if (square(out, size, e)) return -1;
  /* Direction in (row, col) with rows growing downwards, so a positive angle
   * turns counter-clockwise on screen.  The segment reaches the square's
   * border: half-length r / max(|cos|, |sin|). */
  double a = angle_deg * M_PI / 180.0;
  double dc = cos(a), dr = -sin(a);
  if (fabs(dc) < 1e-12) dc = 0;
  if (fabs(dr) < 1e-12) dr = 0;
  double r = (double)(size / 2);
  double m = fabs(dc) > fabs(dr) ? fabs(dc) : fabs(dr);
  double half = r / m;
  float *d = cp_tensor_data(out);
  double sum = 0;
  for (int64_t i = 0; i < size; i++)
    for (int64_t j = 0; j < size; j++) {
      double y = (double)i - r, x = (double)j - r;
      double t = x * dc + y * dr; /* projection on the line */
      if (t > half) t = half;
      if (t < -half) t = -half;
      double px = x - t * dc, py = y - t * dr;
      double w = 1.0 - sqrt(px * px + py * py);
      if (w < 0) w = 0;
      d[i * size + j] = (float)w;
      sum += w;
    }
  for (int64_t k = 0; k < size * size; k++) d[k] = (float)(d[k] / sum);
  return 0;
}

/* ---- the preset list -------------------------------------------------------- */

static const char *const preset_names[CP_PRESET_COUNT] = {
    "identity", "box",        "gaussian",           "sharpen",
    "unsharp",  "sobel_x",    "sobel_y",            "gradient_magnitude",
    "laplacian", "emboss",    "motion_blur",        "outline"};

const char *cp_preset_name(cp_preset p) {
  if (p == CP_PRESET_CUSTOM) return "custom";
  return (unsigned)p < CP_PRESET_COUNT ? preset_names[p] : "?";
}

int cp_preset_parse(const char *s, cp_preset *p) {
  for (int i = 0; i < CP_PRESET_COUNT; i++)
    if (strcmp(s, preset_names[i]) == 0) {
      *p = (cp_preset)i;
      return 0;
    }
  if (strcmp(s, "custom") == 0) {
    *p = CP_PRESET_CUSTOM;
    return 0;
  }
  return -1;
}

void cp_preset_args_default(cp_preset_args *a) {
  a->size = 0;
  a->sigma = 0;
  a->amount = 1.0;
  a->angle = 0;
}

int cp_kernel_preset(cp_tensor *out, cp_preset p, const cp_preset_args *a,
                     cp_err *e) {
  memset(out, 0, sizeof *out);
  cp_preset_args d;
  cp_preset_args_default(&d);
  if (!a) a = &d;
  int64_t size = a->size;
  double sigma;
  switch (p) {
  case CP_PRESET_IDENTITY: return cp_kernel_identity(out, size > 0 ? size : 3, e);
  case CP_PRESET_BOX: return cp_kernel_box(out, size > 0 ? size : 3, e);
  case CP_PRESET_GAUSSIAN:
  case CP_PRESET_UNSHARP:
    if (size <= 0) size = 5;
    sigma = a->sigma > 0 ? a->sigma : cp_kernel_default_sigma(size);
    if (p == CP_PRESET_GAUSSIAN) return cp_kernel_gaussian(out, size, sigma, e);
    return cp_kernel_unsharp(out, size, sigma, a->amount, e);
  case CP_PRESET_SHARPEN: return cp_kernel_sharpen(out, e);
  case CP_PRESET_SOBEL_X:
  case CP_PRESET_GRADMAG: return cp_kernel_sobel_x(out, e);
  case CP_PRESET_SOBEL_Y: return cp_kernel_sobel_y(out, e);
  case CP_PRESET_LAPLACIAN: return cp_kernel_laplacian(out, e);
  case CP_PRESET_EMBOSS: return cp_kernel_emboss(out, e);
  case CP_PRESET_OUTLINE: return cp_kernel_outline(out, e);
  case CP_PRESET_MOTION_BLUR:
    return cp_kernel_motion_blur(out, size > 0 ? size : 9, a->angle, e);
  default:
    return cp_fail(e, "preset: unknown preset %d", (int)p);
  }
}
