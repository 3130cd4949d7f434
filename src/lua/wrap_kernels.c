/* wrap_kernels.c - image.kernels: the lab's preset kernels as functions
 * returning 2-D (kH, kW) tensors (src/core/kernels.c does the work).
 *
 *   image.kernels.gaussian(5, 1.0)      image.kernels.sobel_x()
 *   image.kernels.unsharp(5, 1.0, 1.5)  image.kernels.motion_blur(9, 45)
 */
#include <stdio.h>
#include <string.h>

#include "core/kernels.h"
#include "cpl.h"

/* Push the preset or raise "image.kernels.NAME: bad argument #N 'what': ...".
 * Core messages start with the argument name ("sigma: must be > 0"), which
 * tells us the position. */
static int push_or_error(lua_State *L, const char *name, int rc, cp_tensor *t,
                         const cp_err *e, const char *const *argnames) {
  char fname[64];
  snprintf(fname, sizeof fname, "image.kernels.%s", name);
  if (rc == 0) {
    cpl_pushtensor(L, t);
    return 1;
  }
  for (int i = 0; argnames && argnames[i]; i++) {
    size_t n = strlen(argnames[i]);
    if (strncmp(e->msg, argnames[i], n) == 0 && e->msg[n] == ':')
      return cpl_argerror(L, fname, i + 1, argnames[i], "%s",
                          e->msg + n + 2);
  }
  return cpl_error(L, fname, e);
}

/* Optional size at idx (default dflt). */
static int64_t opt_size(lua_State *L, int idx, const char *fname,
                        lua_Integer dflt) {
  if (lua_isnoneornil(L, idx)) return dflt;
  return (int64_t)cpl_checkint(L, idx, fname, "size", 1, CP_KERNEL_MAX);
}

static double opt_number(lua_State *L, int idx, const char *fname,
                         const char *what, double dflt) {
  if (lua_isnoneornil(L, idx)) return dflt;
  if (!lua_isnumber(L, idx))
    cpl_argerror(L, fname, idx, what, "number expected, got %s",
                 luaL_typename(L, idx));
  return lua_tonumber(L, idx);
}

static const char *const a_size[] = {"size", NULL};
static const char *const a_gauss[] = {"size", "sigma", NULL};
static const char *const a_unsharp[] = {"size", "sigma", "amount", NULL};
static const char *const a_motion[] = {"size", "angle", NULL};

static int k_identity(lua_State *L) {
  cp_tensor t;
  cp_err e;
  int64_t size = opt_size(L, 1, "image.kernels.identity", 3);
  return push_or_error(L, "identity", cp_kernel_identity(&t, size, &e), &t,
                       &e, a_size);
}

static int k_box(lua_State *L) {
  cp_tensor t;
  cp_err e;
  int64_t size = opt_size(L, 1, "image.kernels.box", 3);
  return push_or_error(L, "box", cp_kernel_box(&t, size, &e), &t, &e, a_size);
}

static int k_gaussian(lua_State *L) {
  cp_tensor t;
  cp_err e;
  const char *f = "image.kernels.gaussian";
  int64_t size = opt_size(L, 1, f, 5);
  double sigma = opt_number(L, 2, f, "sigma", cp_kernel_default_sigma(size));
  return push_or_error(L, "gaussian", cp_kernel_gaussian(&t, size, sigma, &e),
                       &t, &e, a_gauss);
}

static int k_unsharp(lua_State *L) {
  cp_tensor t;
  cp_err e;
  const char *f = "image.kernels.unsharp";
  int64_t size = opt_size(L, 1, f, 5);
  double sigma = opt_number(L, 2, f, "sigma", cp_kernel_default_sigma(size));
  double amount = opt_number(L, 3, f, "amount", 1.0);
  return push_or_error(L, "unsharp",
                       cp_kernel_unsharp(&t, size, sigma, amount, &e), &t, &e,
                       a_unsharp);
}

static int k_motion_blur(lua_State *L) {
  cp_tensor t;
  cp_err e;
  const char *f = "image.kernels.motion_blur";
  int64_t size = opt_size(L, 1, f, 9);
  double angle = opt_number(L, 2, f, "angle", 0.0);
  return push_or_error(L, "motion_blur",
                       cp_kernel_motion_blur(&t, size, angle, &e), &t, &e,
                       a_motion);
}

/* The fixed 3x3 presets take no arguments. */
#define FIXED(name)                                                   \
  static int k_##name(lua_State *L) {                                 \
    if (!lua_isnone(L, 1))                                            \
      return luaL_error(L, "image.kernels." #name ": takes no "       \
                           "arguments (a fixed 3x3 kernel)");         \
    cp_tensor t;                                                      \
    cp_err e;                                                         \
    return push_or_error(L, #name, cp_kernel_##name(&t, &e), &t, &e,  \
                         NULL);                                       \
  }
FIXED(sharpen)
FIXED(sobel_x)
FIXED(sobel_y)
FIXED(laplacian)
FIXED(emboss)
FIXED(outline)

static const luaL_Reg kernel_funcs[] = {
    {"identity", k_identity},   {"box", k_box},
    {"gaussian", k_gaussian},   {"sharpen", k_sharpen},
    {"unsharp", k_unsharp},     {"sobel_x", k_sobel_x},
    {"sobel_y", k_sobel_y},     {"laplacian", k_laplacian},
    {"emboss", k_emboss},       {"motion_blur", k_motion_blur},
    {"outline", k_outline},     {NULL, NULL}};

int cpl_push_kernels(lua_State *L) {
  cpl_newlib(L, kernel_funcs);
  return 1;
}
