/* wrap_conv.c - the `conv` module: PyTorch's convolution API for Lua.
 *
 * Option tables use PyTorch's keys and meanings (shared/SEMANTICS.md):
 *   conv.conv2d(x, w, {bias=, stride=, padding=, dilation=, groups=,
 *                      padding_mode=, data_format=})
 * Sizes are a number or {h, w}.  padding also takes "valid", "same" and,
 * beyond PyTorch, {top=, bottom=, left=, right=}.  Unknown keys are errors:
 * a misspelt "strides" must not silently mean stride 1. */
#include <string.h>

#include "core/partial.h"
#include "cpl.h"

/* ====================================================================== */
/* Option parsing                                                          */
/* ====================================================================== */

/* Reject keys not in `allowed` (NULL-terminated). */
static void check_keys(lua_State *L, int idx, const char *fname, int arg,
                       const char *const *allowed) {
  if (lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) != LUA_TTABLE)
    cpl_argerror(L, fname, arg, "opts", "table expected, got %s",
                 luaL_typename(L, idx));
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      cpl_argerror(L, fname, arg, "opts", "keys must be option names, got %s",
                   luaL_typename(L, -1));
    const char *k = lua_tostring(L, -1);
    int found = 0;
    for (int i = 0; allowed[i] && !found; i++) found = !strcmp(k, allowed[i]);
    if (!found) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int i = 0; allowed[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, allowed[i]);
      }
      luaL_pushresult(&b);
      cpl_argerror(L, fname, arg, "opts", "unknown option '%s' (known: %s)", k,
                   lua_tostring(L, -1));
    }
  }
}

/* Whole number field value at the stack top. */
static int64_t field_int(lua_State *L, const char *fname, int arg,
                         const char *key, int64_t lo) {
  int isnum;
  lua_Integer v = lua_tointegerx(L, -1, &isnum);
  if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
    cpl_argerror(L, fname, arg, key, "expected a whole number, got %s",
                 lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1)
                                                : luaL_typename(L, -1));
  (void)lo;
  return (int64_t)v;
}

/* A size option: number or {h, w}.  Returns 0 if absent. */
static int get_pair(lua_State *L, int opts, const char *fname, int arg,
                    const char *key, int64_t *out) {
  if (lua_getfield(L, opts, key) == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  char what[64];
  snprintf(what, sizeof what, "opts.%s", key);
  if (lua_type(L, -1) == LUA_TTABLE) {
    int n = (int)lua_rawlen(L, -1);
    if (n != 2)
      cpl_argerror(L, fname, arg, what,
                   "expected %s to be a single integer value or a list of 2 "
                   "values to match the convolution dimensions, but got a "
                   "list of %d",
                   key, n);
    for (int i = 0; i < 2; i++) {
      lua_rawgeti(L, -1, i + 1);
      out[i] = field_int(L, fname, arg, what, 0);
      lua_pop(L, 1);
    }
  } else {
    out[0] = out[1] = field_int(L, fname, arg, what, 0);
  }
  lua_pop(L, 1);
  return 1;
}

void cpl_conv_opts(lua_State *L, int idx, const char *fname, int transposed,
                   cp_conv_params *p, cp_tensor **bias) {
  cp_conv_params_default(p);
  p->transposed = transposed;
  if (bias) *bias = NULL;
  if (lua_isnoneornil(L, idx)) return;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    cpl_argerror(L, fname, idx, "opts", "table expected, got %s",
                 luaL_typename(L, idx));
  get_pair(L, idx, fname, idx, "stride", p->stride);
  get_pair(L, idx, fname, idx, "dilation", p->dilation);
  if (transposed) get_pair(L, idx, fname, idx, "output_padding", p->out_pad);

  if (lua_getfield(L, idx, "groups") != LUA_TNIL)
    p->groups = field_int(L, fname, idx, "opts.groups", 1);
  lua_pop(L, 1);

  int t = lua_getfield(L, idx, "padding");
  if (t == LUA_TSTRING) {
    const char *s = lua_tostring(L, -1);
    if (transposed)
      cpl_argerror(L, fname, idx, "opts.padding",
                   "conv_transpose2d takes a number or {ph, pw}, not the "
                   "string '%s'",
                   s);
    if (!strcmp(s, "valid"))
      p->padspec = CP_PADSPEC_VALID;
    else if (!strcmp(s, "same"))
      p->padspec = CP_PADSPEC_SAME;
    else
      cpl_argerror(L, fname, idx, "opts.padding",
                   "Invalid padding string: '%s' (use \"valid\" or \"same\")",
                   s);
  } else if (t == LUA_TTABLE && lua_rawlen(L, -1) == 0) {
    /* {top=, bottom=, left=, right=}: explicit sides (missing ones = 0) */
    static const char *const sides[] = {"top", "bottom", "left", "right",
                                        NULL};
    check_keys(L, lua_gettop(L), fname, idx, sides);
    for (int i = 0; i < 4; i++) {
      if (lua_getfield(L, -1, sides[i]) != LUA_TNIL)
        p->pad[i] = field_int(L, fname, idx, "opts.padding", 0);
      lua_pop(L, 1);
    }
  } else if (t == LUA_TTABLE && lua_rawlen(L, -1) == 4) {
    cpl_argerror(L, fname, idx, "opts.padding",
                 "expected padding to be a single integer value or a list of "
                 "2 values to match the convolution dimensions, but got a "
                 "list of 4 (for unequal sides use {top=, bottom=, left=, "
                 "right=})");
  } else if (t != LUA_TNIL) {
    lua_pop(L, 1);
    int64_t pr[2];
    get_pair(L, idx, fname, idx, "padding", pr);
    lua_pushnil(L);
    p->pad[0] = p->pad[1] = pr[0];
    p->pad[2] = p->pad[3] = pr[1];
  }
  lua_pop(L, 1);

  if (lua_getfield(L, idx, "padding_mode") != LUA_TNIL) {
    const char *s = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING || cp_padmode_parse(s, &p->mode))
      cpl_argerror(L, fname, idx, "opts.padding_mode",
                   "padding_mode must be one of 'zeros', 'reflect', "
                   "'replicate' or 'circular', but got %s",
                   lua_type(L, -1) == LUA_TSTRING ? s : luaL_typename(L, -1));
  }
  lua_pop(L, 1);

  if (bias) {
    if (lua_getfield(L, idx, "bias") != LUA_TNIL) {
      if (cpl_totensor(L, -1)) {
        *bias = cpl_totensor(L, -1);
        lua_pop(L, 1); /* anchored by the options table */
      } else {
        /* A table of numbers: the converted tensor stays on the stack. */
        *bias = cpl_checktensorlike(L, lua_gettop(L));
        lua_remove(L, -2);
      }
    } else {
      lua_pop(L, 1);
    }
  }
}

/* ====================================================================== */
/* Layout helpers (Keras channels_last)                                    */
/* ====================================================================== */

static int channels_last(lua_State *L, int opts, const char *fname) {
  if (lua_isnoneornil(L, opts)) return 0;
  int r = 0;
  if (lua_getfield(L, opts, "data_format") != LUA_TNIL) {
    const char *s = lua_tostring(L, -1);
    if (s && !strcmp(s, "channels_last")) r = 1;
    else if (s && !strcmp(s, "channels_first")) r = 0;
    else
      cpl_argerror(L, fname, opts, "opts.data_format",
                   "expected \"channels_first\" or \"channels_last\", got %s",
                   s ? s : luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return r;
}

/* NHWC -> NCHW (or HWC -> CHW) view. */
static int to_nchw(cp_tensor *out, const cp_tensor *x, cp_err *e) {
  static const int p4[] = {0, 3, 1, 2}, p3[] = {2, 0, 1};
  if (x->ndim != 3 && x->ndim != 4) {
    char b[160];
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input, but "
                   "got input of size: %s",
                   cp_shape_str(x->ndim, x->shape, b, sizeof b));
  }
  return cp_tensor_permute(out, x, x->ndim == 4 ? p4 : p3, e);
}
static int from_nchw(cp_tensor *out, const cp_tensor *y, cp_err *e) {
  static const int p4[] = {0, 2, 3, 1}, p3[] = {1, 2, 0};
  cp_tensor v;
  if (cp_tensor_permute(&v, y, y->ndim == 4 ? p4 : p3, e)) return -1;
  int rc = cp_tensor_clone(out, &v, e);
  cp_tensor_release(&v);
  return rc;
}
/* HWIO kernel -> OIHW view. */
static int hwio_to_oihw(cp_tensor *out, const cp_tensor *w, cp_err *e) {
  static const int p[] = {3, 2, 0, 1};
  if (w->ndim != 4) {
    char b[160];
    return cp_fail(e,
                   "weight: expected a 4-D HWIO kernel (kH, kW, in/groups, "
                   "out), got size %s",
                   cp_shape_str(w->ndim, w->shape, b, sizeof b));
  }
  return cp_tensor_permute(out, w, p, e);
}

/* ====================================================================== */
/* Ops                                                                     */
/* ====================================================================== */

static const char *const conv2d_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "data_format", NULL};
static const char *const convT_keys[] = {
    "bias", "stride", "padding", "output_padding", "dilation", "groups",
    "padding_mode", "data_format", NULL};
static const char *const partial_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "multi_channel", "data_format", NULL};

enum { OP_CONV, OP_CONVOLVE, OP_TRANSPOSE };

/* conv2d / convolve2d / conv_transpose2d share everything but the core
 * call and whether the kernel is flipped. */
static int do_conv(lua_State *L, const char *fname, int op) {
  cp_tensor *x = cpl_checktensor(L, 1);
  cp_tensor *w = cpl_checktensor(L, 2);
  check_keys(L, 3, fname, 3, op == OP_TRANSPOSE ? convT_keys : conv2d_keys);
  cp_conv_params p;
  cp_tensor *bias;
  cpl_conv_opts(L, 3, fname, op == OP_TRANSPOSE, &p, &bias);
  int cl = channels_last(L, 3, fname);
  cp_err e;
  /* Every intermediate lives in a userdata, so an error anywhere below
   * leaves nothing to leak. */
  cp_tensor *xs = cpl_newtensor(L), *ws = cpl_newtensor(L);
  if (cl) {
    if (to_nchw(xs, x, &e) || hwio_to_oihw(ws, w, &e))
      return cpl_error(L, fname, &e);
  } else {
    cp_tensor_share(xs, x);
    cp_tensor_share(ws, w);
  }
  if (op == OP_CONVOLVE) {
    if (ws->ndim != 4) {
      char b[160];
      return luaL_error(L,
                        "%s: weight: expected a 4-D weight (out_channels, "
                        "in_channels/groups, kH, kW), but got weight of size "
                        "%s",
                        fname, cp_shape_str(ws->ndim, ws->shape, b, sizeof b));
    }
    static const int hw[] = {2, 3};
    cp_tensor flipped;
    if (cp_tensor_flip(&flipped, ws, 2, hw, &e)) return cpl_error(L, fname, &e);
    cp_tensor_release(ws);
    *ws = flipped;
  }
  cp_tensor *y = cpl_newtensor(L);
  int rc = op == OP_TRANSPOSE ? cp_conv_transpose2d(y, xs, ws, bias, &p, &e)
                              : cp_conv2d(y, xs, ws, bias, &p, &e);
  if (rc) return cpl_error(L, fname, &e);
  if (cl) {
    cp_tensor *nhwc = cpl_newtensor(L);
    if (from_nchw(nhwc, y, &e)) return cpl_error(L, fname, &e);
    y = nhwc;
  }
  cpl_account(L, y->st->cap);
  return 1;
}

static int c_conv2d(lua_State *L) {
  return do_conv(L, "conv.conv2d", OP_CONV);
}
static int c_convolve2d(lua_State *L) {
  return do_conv(L, "conv.convolve2d", OP_CONVOLVE);
}
static int c_conv_transpose2d(lua_State *L) {
  return do_conv(L, "conv.conv_transpose2d", OP_TRANSPOSE);
}

static int c_partial_conv2d(lua_State *L) {
  const char *fname = "conv.partial_conv2d";
  cp_tensor *x = cpl_checktensor(L, 1);
  cp_tensor *m = cpl_checktensor(L, 2);
  cp_tensor *w = cpl_checktensor(L, 3);
  check_keys(L, 4, fname, 4, partial_keys);
  cp_conv_params p;
  cp_tensor *bias;
  cpl_conv_opts(L, 4, fname, 0, &p, &bias);
  int multi = 0;
  if (!lua_isnoneornil(L, 4)) {
    lua_getfield(L, 4, "multi_channel");
    multi = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  int cl = channels_last(L, 4, fname);
  cp_err e;
  cp_tensor *xs = cpl_newtensor(L), *ms = cpl_newtensor(L),
            *ws = cpl_newtensor(L);
  if (cl) {
    if (to_nchw(xs, x, &e) || to_nchw(ms, m, &e) || hwio_to_oihw(ws, w, &e))
      return cpl_error(L, fname, &e);
  } else {
    cp_tensor_share(xs, x);
    cp_tensor_share(ms, m);
    cp_tensor_share(ws, w);
  }
  cp_tensor *y = cpl_newtensor(L), *nm = cpl_newtensor(L);
  if (cp_partial_conv2d(y, nm, xs, ms, ws, bias, &p, multi, &e))
    return cpl_error(L, fname, &e);
  if (cl) {
    cp_tensor a, b;
    if (from_nchw(&a, y, &e)) return cpl_error(L, fname, &e);
    cp_tensor_release(y);
    *y = a;
    if (from_nchw(&b, nm, &e)) return cpl_error(L, fname, &e);
    cp_tensor_release(nm);
    *nm = b;
  }
  cpl_account(L, y->st ? y->st->cap + nm->st->cap : 0);
  return 2;
}

/* conv.output_size(input, kernel [, opts]) -> h [, w]
 * input and kernel: a number (one dimension) or {h, w}; opts as conv2d or,
 * with transposed = true, as conv_transpose2d.  The same validation as the
 * ops themselves (it runs the geometry module on a 1x1 problem). */
static int c_output_size(lua_State *L) {
  const char *fname = "conv.output_size";
  int64_t in[2], k[2];
  int pair = lua_type(L, 1) == LUA_TTABLE;
  for (int a = 1; a <= 2; a++) {
    int64_t *dst = a == 1 ? in : k;
    const char *what = a == 1 ? "input" : "kernel_size";
    if (lua_type(L, a) == LUA_TTABLE) {
      if (lua_rawlen(L, a) != 2)
        return cpl_argerror(L, fname, a, what, "expected a number or {h, w}");
      for (int i = 0; i < 2; i++) {
        lua_rawgeti(L, a, i + 1);
        dst[i] = cpl_checkint(L, lua_gettop(L), fname, what, 0, INT32_MAX);
        lua_pop(L, 1);
      }
    } else {
      dst[0] = dst[1] = cpl_checkint(L, a, fname, what, 0, INT32_MAX);
    }
  }
  int transposed = 0;
  if (lua_type(L, 3) == LUA_TTABLE) {
    lua_getfield(L, 3, "transposed");
    transposed = lua_toboolean(L, -1);
    lua_pop(L, 1);
    static const char *const keys[] = {"stride", "padding", "output_padding",
                                       "dilation", "padding_mode",
                                       "transposed", NULL};
    check_keys(L, 3, fname, 3, keys);
  }
  cp_conv_params p;
  cpl_conv_opts(L, 3, fname, transposed, &p, NULL);
  int64_t xs[4] = {1, 1, in[0], in[1]}, ws[4] = {1, 1, k[0], k[1]};
  cp_geom g;
  cp_err e;
  if (cp_geom_init(&g, &p, xs, ws, 0, 0, 0, &e)) return cpl_error(L, fname, &e);
  lua_pushinteger(L, g.OH);
  if (!pair) return 1;
  lua_pushinteger(L, g.OW);
  return 2;
}

/* conv.pad(x, pad, mode): F.pad for the last two dims.  pad is a number or
 * PyTorch's order {left, right, top, bottom}. */
static int c_pad(lua_State *L) {
  const char *fname = "conv.pad";
  cp_tensor *x = cpl_checktensor(L, 1);
  int64_t pad[4]; /* top, bottom, left, right */
  if (lua_type(L, 2) == LUA_TTABLE) {
    if (lua_rawlen(L, 2) != 4)
      return cpl_argerror(L, fname, 2, "pad",
                          "expected a number or {left, right, top, bottom}");
    static const int order[4] = {2, 3, 0, 1};
    for (int i = 0; i < 4; i++) {
      lua_rawgeti(L, 2, i + 1);
      pad[order[i]] = cpl_checkint(L, lua_gettop(L), fname, "pad", 0, INT32_MAX);
      lua_pop(L, 1);
    }
  } else {
    pad[0] = pad[1] = pad[2] = pad[3] =
        cpl_checkint(L, 2, fname, "pad", 0, INT32_MAX);
  }
  cp_padmode mode = CP_PAD_ZEROS;
  const char *ms = luaL_optstring(L, 3, "zeros");
  if (!strcmp(ms, "constant")) ms = "zeros";
  if (cp_padmode_parse(ms, &mode))
    return cpl_argerror(L, fname, 3, "mode",
                        "expected 'zeros', 'reflect', 'replicate' or "
                        "'circular', got '%s'",
                        ms);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_pad2d(y, x, pad, mode, &e)) return cpl_error(L, fname, &e);
  cpl_account(L, y->st->cap);
  return 1;
}

/* conv.hwio(w) / conv.oihw(k): kernel layout conversions (contiguous). */
static int layout(lua_State *L, const char *fname, const int *perm) {
  cp_tensor *w = cpl_checktensor(L, 1);
  if (w->ndim != 4) {
    char b[160];
    return cpl_argerror(L, fname, 1, "weight", "expected a 4-D kernel, got %s",
                        cp_shape_str(w->ndim, w->shape, b, sizeof b));
  }
  cp_err e;
  cp_tensor v;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_tensor_permute(&v, w, perm, &e)) return cpl_error(L, fname, &e);
  int rc = cp_tensor_clone(y, &v, &e);
  cp_tensor_release(&v);
  if (rc) return cpl_error(L, fname, &e);
  cpl_account(L, y->st->cap);
  return 1;
}
static int c_to_hwio(lua_State *L) {
  static const int p[] = {2, 3, 1, 0};
  return layout(L, "conv.to_hwio", p);
}
static int c_to_oihw(lua_State *L) {
  static const int p[] = {3, 2, 0, 1};
  return layout(L, "conv.to_oihw", p);
}

static int c_set_impl(lua_State *L) {
  static const char *const names[] = {"auto", "reference", NULL};
  cp_conv_set_impl((cp_impl)luaL_checkoption(L, 1, NULL, names));
  return 0;
}
static int c_get_impl(lua_State *L) {
  lua_pushstring(L, cp_conv_get_impl() == CP_IMPL_AUTO ? "auto" : "reference");
  return 1;
}

static const luaL_Reg conv_funcs[] = {
    {"conv2d", c_conv2d},
    {"convolve2d", c_convolve2d},
    {"conv_transpose2d", c_conv_transpose2d},
    {"partial_conv2d", c_partial_conv2d},
    {"output_size", c_output_size},
    {"pad", c_pad},
    {"to_hwio", c_to_hwio},
    {"to_oihw", c_to_oihw},
    {"set_impl", c_set_impl},
    {"get_impl", c_get_impl},
    {NULL, NULL}};

int luaopen_conv(lua_State *L) {
  luaL_newlib(L, conv_funcs);
  return 1;
}
