/* wrap_lab.c - viz.lab(img [, kernel | opts]): the image filter lab from Lua.
 *
 *   local lab = viz.lab("photo.png", image.kernels.gaussian(5, 1.2))
 *   lab:set{stride = 2, padding_mode = "reflect", map = "abs"}
 *   lab:preset("sobel_x"); lab:save(); lab:screenshot("lab.png")
 *   local y = lab:result()        -- (C,OH,OW), equal to conv.conv2d's
 *
 * With a window, viz.lab opens it and returns when it is closed (the lab
 * object keeps the last state); headless it renders offscreen and returns
 * at once.  Pixel and kernel indices are 1-based here, 0-based in C.
 */
#include <stdio.h>
#include <string.h>

#include "core/image.h"
#include "cpl.h"
#include "viz/lab.h"
#include "viz_priv.h"

#define LAB_MT "convplay.lab"
#define LABTMP_MT "convplay.lab.pending" /* a settings copy being built */

typedef struct lab_ud {
  vz_lab *lb;                 /* NULL once closed */
} lab_ud;

static lab_ud *check_ud(lua_State *L) {
  lab_ud *u = luaL_checkudata(L, 1, LAB_MT);
  cpl_keep(L, 1); /* held until the calling function returns */
  return u;
}

static vz_lab *check_lab(lua_State *L) {
  lab_ud *u = check_ud(L);
  if (!u->lb) luaL_error(L, "lab: the lab is closed");
  return u->lb;
}

static void lab_free(void *p) {
  lab_ud *u = p;
  vz_lab_free(u->lb);
  u->lb = NULL;
}

static int lab_gc(lua_State *L) {
  lab_ud *u = luaL_checkudata(L, 1, LAB_MT);
  if (cpl_release_later(u, lab_free)) return 0;
  vz_lab_free(u->lb);
  u->lb = NULL;
  return 0;
}

static int labtmp_gc(lua_State *L) {
  cp_lab *m = luaL_checkudata(L, 1, LABTMP_MT);
  cp_lab_free(m);
  memset(m, 0, sizeof *m);
  return 0;
}

/* ====================================================================== */
/* Settings                                                                */
/* ====================================================================== */

static const char *const settings_keys[] = {
    "preset", "size", "sigma", "amount", "angle", "kernel", "stride",
    "dilation", "padding", "padding_mode", "convolution", "mixing", "mix",
    "map", "magnitude", "normalize", "cell", "view", "split", "zoom",
    "center", "hover", "hover_input", "select", "channel", NULL};

static int opt_field(lua_State *L, int t, const char *k) {
  return lua_getfield(L, t, k) != LUA_TNIL;
}

static lua_Integer int_field(lua_State *L, const char *fname, const char *k,
                             lua_Integer lo, lua_Integer hi) {
  char what[48];
  snprintf(what, sizeof what, "opts.%s", k);
  return cpl_checkint_arg(L, lua_gettop(L), 1, fname, what, lo, hi);
}

static double num_field(lua_State *L, const char *fname, const char *k) {
  if (!lua_isnumber(L, -1))
    cpl_argerror(L, fname, 1, k, "number expected, got %s",
                 luaL_typename(L, -1));
  return lua_tonumber(L, -1);
}

static int bool_field(lua_State *L, const char *fname, const char *k) {
  if (!lua_isboolean(L, -1))
    cpl_argerror(L, fname, 1, k, "boolean expected, got %s",
                 luaL_typename(L, -1));
  return lua_toboolean(L, -1);
}

static const char *str_field(lua_State *L, const char *fname, const char *k) {
  if (lua_type(L, -1) != LUA_TSTRING)
    cpl_argerror(L, fname, 1, k, "string expected, got %s",
                 luaL_typename(L, -1));
  return lua_tostring(L, -1);
}

/* Two 1-based integers {a, b} at the top -> 0-based. */
static void pair_field(lua_State *L, const char *fname, const char *k,
                       int *a, int *b) {
  if (!lua_istable(L, -1) || lua_rawlen(L, -1) != 2)
    cpl_argerror(L, fname, 1, k, "expected {row, col}, got %s",
                 luaL_typename(L, -1));
  lua_rawgeti(L, -1, 1);
  *a = (int)cpl_checkint_arg(L, lua_gettop(L), 1, fname, k, 1, 1 << 30) - 1;
  lua_rawgeti(L, -2, 2);
  *b = (int)cpl_checkint_arg(L, lua_gettop(L), 1, fname, k, 1, 1 << 30) - 1;
  lua_pop(L, 2);
}

/* Apply the option table at index t to a copy of the model (so a bad field
 * changes nothing), then validate and compute. */
static void apply_settings(lua_State *L, vz_lab *lb, int t,
                           const char *fname, int fresh_args) {
  t = lua_absindex(L, t);
  luaL_checktype(L, t, LUA_TTABLE);
  /* Unknown keys are errors: a typo must not pass silently. */
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    int ok = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (const char *const *k = settings_keys; *k; k++)
        if (strcmp(*k, lua_tostring(L, -1)) == 0) ok = 1;
    if (!ok)
      luaL_error(L, "%s: unknown setting '%s'", fname, luaL_tolstring(L, -1, NULL));
  }
  cp_err e;
  /* The working copy lives in a userdata whose __gc frees it, so an error
   * raised by a field check below leaks nothing. */
  cp_lab *mp = lua_newuserdatauv(L, sizeof(cp_lab), 0);
  memset(mp, 0, sizeof *mp);
  luaL_setmetatable(L, LABTMP_MT);
  if (cp_lab_copy(mp, vz_lab_model(lb), &e)) cpl_error(L, fname, &e);
  cp_lab m = *mp; /* same references; mp stays the owner until the end */
  vz_lab_view v;
  vz_lab_view_get(lb, &v);
  char err[1024];
  int fail = 0;
  int top = lua_gettop(L);
#define FAIL(...) do { snprintf(err, sizeof err, __VA_ARGS__); fail = 1; goto done; } while (0)
#define SYNC() (*mp = m)
  {
    cp_preset_args a;
    if (fresh_args) cp_preset_args_default(&a); else a = m.args;
    int have_args = 0;
    if (opt_field(L, t, "size")) { a.size = int_field(L, fname, "size", 1, CP_LAB_MAXK); have_args = 1; }
    lua_pop(L, 1);
    if (opt_field(L, t, "sigma")) { a.sigma = num_field(L, fname, "sigma"); have_args = 1;
      if (!(a.sigma > 0)) FAIL("%s: bad argument #1 'opts.sigma': must be > 0", fname); }
    lua_pop(L, 1);
    if (opt_field(L, t, "amount")) { a.amount = num_field(L, fname, "amount"); have_args = 1; }
    lua_pop(L, 1);
    if (opt_field(L, t, "angle")) { a.angle = num_field(L, fname, "angle"); have_args = 1; }
    lua_pop(L, 1);
    cp_preset p = m.preset;
    int set_preset = 0;
    if (opt_field(L, t, "preset")) {
      if (cp_preset_parse(str_field(L, fname, "preset"), &p) || p == CP_PRESET_CUSTOM)
        FAIL("%s: bad argument #1 'opts.preset': unknown preset '%s'", fname,
             lua_tostring(L, -1));
      set_preset = 1;
    }
    lua_pop(L, 1);
    if (!set_preset && have_args && m.preset != CP_PRESET_CUSTOM) set_preset = 1;
    if (set_preset) {
      int rc = cp_lab_set_preset(&m, p, &a, &e);
      SYNC();
      if (rc) FAIL("%s: %s", fname, e.msg);
    } else if (have_args && a.size > 0 &&
               (a.size != m.kernel.shape[0] || a.size != m.kernel.shape[1])) {
      /* A hand-made kernel: resize it around its centre. */
      int rc = cp_lab_resize_kernel(&m, a.size, a.size, &e);
      SYNC();
      if (rc) FAIL("%s: %s", fname, e.msg);
    }
    if (opt_field(L, t, "kernel")) {
      cp_tensor *k = cpl_checktensorlike(L, lua_gettop(L), fname, 1,
                                         "opts.kernel");
      int rc = cp_lab_set_kernel(&m, k, &e);
      SYNC();
      if (rc) FAIL("%s: bad argument #1 'opts.kernel': %s", fname, e.msg);
    }
    lua_settop(L, top + 1);
    {
      /* stride, dilation, padding and padding_mode: the one conv option
       * parser (conv.*'s keys, forms and messages) over the lab's values,
       * then the lab's own limits: one number for both dimensions */
      cp_conv_params cp;
      cp_conv_params_default(&cp);
      cp.stride[0] = cp.stride[1] = m.p.stride;
      cp.dilation[0] = cp.dilation[1] = m.p.dilation;
      for (int i = 0; i < 4; i++) cp.pad[i] = m.p.pad;
      cp.padspec = m.p.same ? CP_PADSPEC_SAME : CP_PADSPEC_EXPLICIT;
      cp.mode = m.p.mode;
      cpl_conv_opts_over(L, t, 1, fname, &cp);
      const char *names[2] = {"stride", "dilation"};
      const int64_t *vals[2] = {cp.stride, cp.dilation};
      for (int i = 0; i < 2; i++) {
        if (vals[i][0] != vals[i][1])
          FAIL("%s: bad argument #1 'opts.%s': the lab uses one %s for both "
               "dimensions, got {%lld, %lld}", fname, names[i], names[i],
               (long long)vals[i][0], (long long)vals[i][1]);
        if (vals[i][0] < 1 || vals[i][0] > 64)
          FAIL("%s: bad argument #1 'opts.%s': %lld is out of range 1..64",
               fname, names[i], (long long)vals[i][0]);
      }
      m.p.stride = cp.stride[0];
      m.p.dilation = cp.dilation[0];
      if (cp.padspec == CP_PADSPEC_SAME) {
        m.p.same = 1;
      } else {
        if (cp.padspec == CP_PADSPEC_VALID) memset(cp.pad, 0, sizeof cp.pad);
        if (cp.pad[1] != cp.pad[0] || cp.pad[2] != cp.pad[0] ||
            cp.pad[3] != cp.pad[0])
          FAIL("%s: bad argument #1 'opts.padding': the lab pads all four "
               "sides alike, got top %lld, bottom %lld, left %lld, right %lld",
               fname, (long long)cp.pad[0], (long long)cp.pad[1],
               (long long)cp.pad[2], (long long)cp.pad[3]);
        if (cp.pad[0] < 0 || cp.pad[0] > 1024)
          FAIL("%s: bad argument #1 'opts.padding': %lld is out of range "
               "0..1024", fname, (long long)cp.pad[0]);
        m.p.same = 0;
        m.p.pad = cp.pad[0];
      }
      m.p.mode = cp.mode;
    }
    if (opt_field(L, t, "convolution")) m.p.flip = bool_field(L, fname, "convolution");
    lua_pop(L, 1);
    if (opt_field(L, t, "mixing")) {
      const char *s = str_field(L, fname, "mixing");
      if (strcmp(s, "depthwise") == 0) m.p.full_mix = 0;
      else if (strcmp(s, "full") == 0) m.p.full_mix = 1;
      else FAIL("%s: bad argument #1 'opts.mixing': expected 'depthwise' or 'full', got '%s'", fname, s);
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "mix")) {
      int C = (int)m.image.shape[0];
      int mt = lua_gettop(L);
      if (!lua_istable(L, mt) || (int)lua_rawlen(L, mt) != C)
        FAIL("%s: bad argument #1 'opts.mix': expected a %dx%d table of numbers", fname, C, C);
      for (int o = 0; o < C; o++) {
        lua_rawgeti(L, mt, o + 1);
        if (!lua_istable(L, -1) || (int)lua_rawlen(L, -1) != C)
          FAIL("%s: bad argument #1 'opts.mix': expected a %dx%d table of numbers", fname, C, C);
        for (int c = 0; c < C; c++) {
          lua_rawgeti(L, -1, c + 1);
          if (!lua_isnumber(L, -1))
            FAIL("%s: bad argument #1 'opts.mix': expected a %dx%d table of numbers", fname, C, C);
          m.p.mix[o][c] = (float)lua_tonumber(L, -1);
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      m.p.mix_custom = 1;
      m.p.full_mix = 1;
    }
    lua_settop(L, top + 1);
    if (opt_field(L, t, "map")) {
      const char *s = str_field(L, fname, "map");
      if (cp_signmap_parse(s, &m.p.map))
        FAIL("%s: bad argument #1 'opts.map': expected 'clamp', 'abs' or 'offset', got '%s'", fname, s);
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "magnitude")) m.p.magnitude = bool_field(L, fname, "magnitude");
    lua_pop(L, 1);
    if (opt_field(L, t, "cell")) {
      int ct = lua_gettop(L);
      if (!lua_istable(L, ct) || lua_rawlen(L, ct) != 3)
        FAIL("%s: bad argument #1 'opts.cell': expected {i, j, value}", fname);
      lua_rawgeti(L, ct, 1);
      lua_rawgeti(L, ct, 2);
      lua_rawgeti(L, ct, 3);
      lua_Integer i = lua_tointeger(L, -3), j = lua_tointeger(L, -2);
      if (i < 1 || j < 1 || i > m.kernel.shape[0] || j > m.kernel.shape[1] ||
          !lua_isnumber(L, -1))
        FAIL("%s: bad argument #1 'opts.cell': no cell (%lld, %lld) in a %lldx%lld kernel",
             fname, (long long)i, (long long)j, (long long)m.kernel.shape[0],
             (long long)m.kernel.shape[1]);
      cp_lab_set_cell(&m, i - 1, j - 1, (float)lua_tonumber(L, -1));
    }
    lua_settop(L, top + 1);
    if (opt_field(L, t, "normalize") && bool_field(L, fname, "normalize"))
      if (cp_lab_normalize(&m, &e)) FAIL("%s: %s", fname, e.msg);
    SYNC();
    lua_pop(L, 1);
    /* view */
    if (opt_field(L, t, "view")) {
      const char *s = str_field(L, fname, "view");
      if (!strcmp(s, "split")) v.mode = VZ_VIEW_SPLIT;
      else if (!strcmp(s, "after")) v.mode = VZ_VIEW_AFTER;
      else if (!strcmp(s, "before")) v.mode = VZ_VIEW_BEFORE;
      else FAIL("%s: bad argument #1 'opts.view': expected 'split', 'after' or 'before', got '%s'", fname, s);
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "split")) {
      v.split = num_field(L, fname, "split");
      if (!(v.split >= 0 && v.split <= 1)) FAIL("%s: bad argument #1 'opts.split': must be in [0, 1]", fname);
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "zoom")) {
      double z = num_field(L, fname, "zoom");
      if (z > 0) {
        if (v.zoom <= 0) {
          v.cx = m.image.shape[2] / 2.0;
          v.cy = m.image.shape[1] / 2.0;
        }
        v.zoom = z;
      } else {
        v.zoom = 0;
      }
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "center")) {
      int r, c;
      pair_field(L, fname, "opts.center", &r, &c);
      v.cy = r + 0.5;
      v.cx = c + 0.5;
      if (v.zoom <= 0) v.zoom = 1; /* a centre means leaving "fit" */
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "hover")) {
      if (lua_toboolean(L, -1)) {
        pair_field(L, fname, "opts.hover", &v.hover_r, &v.hover_c);
        v.hover_before = 0;
      } else {
        v.hover_r = v.hover_c = -1;
      }
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "hover_input")) {
      pair_field(L, fname, "opts.hover_input", &v.hover_r, &v.hover_c);
      v.hover_before = 1;
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "select")) {
      if (lua_toboolean(L, -1)) pair_field(L, fname, "opts.select", &v.sel_i, &v.sel_j);
      else v.sel_i = v.sel_j = -1;
    }
    lua_pop(L, 1);
    if (opt_field(L, t, "channel"))
      v.readout_ch = (int)int_field(L, fname, "channel", 1, m.image.shape[0]) - 1;
    lua_pop(L, 1);
    if (v.sel_i >= m.kernel.shape[0] || v.sel_j >= m.kernel.shape[1])
      v.sel_i = v.sel_j = -1;
  }
  /* Validate the new model before it replaces the old one. */
  int64_t OH, OW;
  if (cp_lab_out_size(&m, &OH, &OW, &e)) FAIL("%s: %s", fname, e.msg);
  if (v.hover_r >= 0 && !v.hover_before && (v.hover_r >= OH || v.hover_c >= OW))
    FAIL("%s: bad argument #1 'opts.hover': (%d, %d) is outside the %lldx%lld output",
         fname, v.hover_r + 1, v.hover_c + 1, (long long)OH, (long long)OW);
  if (v.hover_r >= 0 && v.hover_before &&
      (v.hover_r >= m.image.shape[1] || v.hover_c >= m.image.shape[2]))
    FAIL("%s: bad argument #1 'opts.hover_input': (%d, %d) is outside the image",
         fname, v.hover_r + 1, v.hover_c + 1);
done:
#undef FAIL
#undef SYNC
  lua_settop(L, top);
  if (fail) luaL_error(L, "%s", err); /* mp's __gc frees the copy */
  /* Move the copy into the lab; the userdata no longer owns it. */
  m = *mp;
  memset(mp, 0, sizeof *mp);
  lua_pop(L, 1);
  vz_lab_set_model(lb, &m);
  vz_lab_view_set(lb, &v);
  if (vz_lab_update(lb, err, sizeof err)) luaL_error(L, "%s: %s", fname, err);
  vz_lab_render(lb);
}

/* ====================================================================== */
/* Methods                                                                 */
/* ====================================================================== */

/* lab:set{...} -> lab */
static int lab_set(lua_State *L) {
  vz_lab *lb = check_lab(L);
  apply_settings(L, lb, 2, "lab:set", 0);
  lua_settop(L, 1);
  return 1;
}

/* lab:preset(name, ...) with image.kernels' arguments -> lab */
static int lab_preset(lua_State *L) {
  vz_lab *lb = check_lab(L);
  const char *name = luaL_checkstring(L, 2);
  cp_preset p;
  if (cp_preset_parse(name, &p) || p == CP_PRESET_CUSTOM)
    return cpl_argerror(L, "lab:preset", 1, "name", "unknown preset '%s'", name);
  if (lua_gettop(L) > 5)
    return luaL_error(L, "lab:preset: at most 3 arguments after the name");
  lua_settop(L, 5);
  lua_newtable(L);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "preset");
  /* Positional arguments as in image.kernels.NAME(...). */
  const char *names[3] = {NULL, NULL, NULL};
  if (p == CP_PRESET_IDENTITY || p == CP_PRESET_BOX) names[0] = "size";
  if (p == CP_PRESET_GAUSSIAN || p == CP_PRESET_UNSHARP) {
    names[0] = "size";
    names[1] = "sigma";
    if (p == CP_PRESET_UNSHARP) names[2] = "amount";
  }
  if (p == CP_PRESET_MOTION_BLUR) { names[0] = "size"; names[1] = "angle"; }
  for (int i = 0; i < 3; i++) {
    if (lua_isnoneornil(L, 3 + i)) continue;
    if (!names[i])
      return cpl_argerror(L, "lab:preset", 2 + i, "...",
                          "preset '%s' takes %d argument(s)", name, i);
    lua_pushvalue(L, 3 + i);
    lua_setfield(L, -2, names[i]);
  }
  /* Start from the preset's defaults, not the previous preset's args. */
  apply_settings(L, lb, lua_gettop(L), "lab:preset", 1);
  lua_settop(L, 1);
  return 1;
}

/* lab:kernel() -> a copy of the kernel (kH, kW) */
static int lab_kernel(lua_State *L) {
  vz_lab *lb = check_lab(L);
  cp_tensor t;
  cp_err e;
  if (cp_tensor_clone(&t, &vz_lab_model(lb)->kernel, &e))
    return cpl_error(L, "lab:kernel", &e);
  cpl_pushtensor(L, &t);
  return 1;
}

/* lab:result([{mapped = true}]) -> (C,OH,OW) */
static int lab_result(lua_State *L) {
  vz_lab *lb = check_lab(L);
  int mapped = 0;
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "mapped");
    mapped = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  char err[512];
  cp_tensor y;
  if (vz_lab_result(lb, &y, err, sizeof err))
    return luaL_error(L, "lab:result: %s", err);
  if (mapped) {
    cp_tensor m;
    cp_err e;
    int rc = cp_lab_mapped(&y, vz_lab_model(lb)->p.map, &m, &e);
    cp_tensor_release(&y);
    if (rc) return cpl_error(L, "lab:result", &e);
    y = m;
  }
  cpl_pushtensor(L, &y);
  return 1;
}

/* lab:save([path]) -> the path written */
/* lab:layout(): a frame drawn now, described as v:layout() describes a
 * view's: every text and panel box ({kind, text, x, y, w, h, ...}). */
static int lab_layout(lua_State *L) {
  vz_lab *lb = check_lab(L);
  cplv_fonts(L, "lab:layout");
  vz_canvas *s = vz_lab_render(lb);
  lua_createtable(L, s->nbox, 2);
  cplv_push_boxes(L, s);
  lua_pushinteger(L, s->w);
  lua_setfield(L, -2, "width");
  lua_pushinteger(L, s->h);
  lua_setfield(L, -2, "height");
  return 1;
}

static int lab_save(lua_State *L) {
  vz_lab *lb = check_lab(L);
  const char *path = luaL_optstring(L, 2, NULL);
  char saved[4096], err[512];
  if (vz_lab_save(lb, path, saved, sizeof saved, err, sizeof err))
    return luaL_error(L, "lab:save: %s", err);
  lua_pushstring(L, saved);
  return 1;
}

/* lab:open(path): replace the image by a file (what dropping it does) */
static int lab_open(lua_State *L) {
  vz_lab *lb = check_lab(L);
  const char *path = luaL_checkstring(L, 2);
  char err[1024];
  if (vz_lab_open(lb, path, err, sizeof err))
    return luaL_error(L, "lab:open: %s", err);
  vz_lab_render(lb);
  lua_settop(L, 1);
  return 1;
}

/* lab:screenshot(path) -> path */
static int lab_screenshot(lua_State *L) {
  vz_lab *lb = check_lab(L);
  const char *path = luaL_checkstring(L, 2);
  char err[512];
  if (vz_lab_screenshot(lb, path, err, sizeof err))
    return luaL_error(L, "lab:screenshot: %s", err);
  lua_pushstring(L, path);
  return 1;
}

/* lab:readout(channel, row, col) -> {value, sum, sum2, mapped, ntaps, taps} */
static int lab_readout(lua_State *L) {
  vz_lab *lb = check_lab(L);
  cp_lab *m = vz_lab_model(lb);
  lua_Integer ch = cpl_checkint(L, 2, "lab:readout", "channel", 1, m->image.shape[0]);
  lua_Integer r = cpl_checkint(L, 3, "lab:readout", "row", 1, 1 << 30);
  lua_Integer c = cpl_checkint(L, 4, "lab:readout", "col", 1, 1 << 30);
  enum { CAP = CP_LAB_MAXC * CP_LAB_MAXK * CP_LAB_MAXK };
  cp_lab_tap *taps = lua_newuserdatauv(L, CAP * sizeof(cp_lab_tap), 0);
  cp_lab_readout ro;
  cp_err e;
  if (cp_lab_explain(m, ch - 1, r - 1, c - 1, taps, CAP, &ro, &e))
    return cpl_error(L, "lab:readout", &e);
  lua_createtable(L, 0, 6);
  lua_pushnumber(L, ro.value);
  lua_setfield(L, -2, "value");
  lua_pushnumber(L, ro.sum);
  lua_setfield(L, -2, "sum");
  lua_pushnumber(L, ro.sum2);
  lua_setfield(L, -2, "sum2");
  lua_pushnumber(L, ro.mapped);
  lua_setfield(L, -2, "mapped");
  lua_pushinteger(L, ro.ntaps);
  lua_setfield(L, -2, "ntaps");
  int n = ro.ntaps < CAP ? ro.ntaps : CAP;
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    cp_lab_tap *t = &taps[k];
    lua_createtable(L, 0, 9);
    lua_pushinteger(L, t->i + 1); lua_setfield(L, -2, "i");
    lua_pushinteger(L, t->j + 1); lua_setfield(L, -2, "j");
    lua_pushinteger(L, t->ch + 1); lua_setfield(L, -2, "channel");
    lua_pushinteger(L, t->row + 1); lua_setfield(L, -2, "row");
    lua_pushinteger(L, t->col + 1); lua_setfield(L, -2, "col");
    if (t->src_row >= 0) {
      lua_pushinteger(L, t->src_row + 1); lua_setfield(L, -2, "src_row");
      lua_pushinteger(L, t->src_col + 1); lua_setfield(L, -2, "src_col");
    }
    lua_pushnumber(L, t->w); lua_setfield(L, -2, "w");
    lua_pushnumber(L, t->x); lua_setfield(L, -2, "x");
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "taps");
  return 1;
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}
static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}
static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

/* lab:get() -> a table of the settings (the names set{} takes) */
static int lab_get(lua_State *L) {
  vz_lab *lb = check_lab(L);
  cp_lab *m = vz_lab_model(lb);
  vz_lab_view v;
  vz_lab_view_get(lb, &v);
  static const char *const views[3] = {"split", "after", "before"};
  lua_newtable(L);
  set_str(L, "preset", cp_preset_name(m->preset));
  cp_tensor k;
  cp_err e;
  if (cp_tensor_clone(&k, &m->kernel, &e)) return cpl_error(L, "lab:get", &e);
  cpl_pushtensor(L, &k);
  lua_setfield(L, -2, "kernel");
  set_int(L, "stride", m->p.stride);
  set_int(L, "dilation", m->p.dilation);
  if (m->p.same) set_str(L, "padding", "same");
  else set_int(L, "padding", m->p.pad);
  set_str(L, "padding_mode", cp_padmode_name(m->p.mode));
  set_bool(L, "convolution", m->p.flip);
  set_str(L, "mixing", m->p.full_mix ? "full" : "depthwise");
  set_str(L, "map", cp_signmap_name(m->p.map));
  set_bool(L, "magnitude", m->p.magnitude);
  set_str(L, "view", views[v.mode]);
  lua_pushnumber(L, v.split);
  lua_setfield(L, -2, "split");
  lua_pushnumber(L, v.zoom);
  lua_setfield(L, -2, "zoom");
  int64_t OH, OW;
  if (cp_lab_out_size(m, &OH, &OW, NULL) == 0) {
    lua_createtable(L, 3, 0);
    lua_pushinteger(L, m->image.shape[0]); lua_rawseti(L, -2, 1);
    lua_pushinteger(L, OH); lua_rawseti(L, -2, 2);
    lua_pushinteger(L, OW); lua_rawseti(L, -2, 3);
    lua_setfield(L, -2, "out_shape");
  }
  return 1;
}

/* lab:cell_rect(i, j) -> x, y, w, h of kernel cell (i, j) in the last frame
 * (screen pixels, 0-based), for driving the window from tests. */
static int lab_cell_rect(lua_State *L) {
  vz_lab *lb = check_lab(L);
  int i = (int)luaL_checkinteger(L, 2), j = (int)luaL_checkinteger(L, 3);
  SDL_Rect r;
  vz_lab_render(lb);
  if (!vz_lab_cell_rect(lb, i - 1, j - 1, &r)) return 0;
  lua_pushinteger(L, r.x);
  lua_pushinteger(L, r.y);
  lua_pushinteger(L, r.w);
  lua_pushinteger(L, r.h);
  return 4;
}

/* lab:frame() -> ms for one synchronous compute + display update + frame */
static int lab_frame(lua_State *L) {
  vz_lab *lb = check_lab(L);
  char err[512];
  double ms = vz_lab_frame_ms(lb, err, sizeof err);
  if (ms < 0) return luaL_error(L, "lab:frame: %s", err);
  lua_pushnumber(L, ms);
  return 1;
}

/* lab:run(): open the window (if there is a display) until it is closed */
static int lab_run(lua_State *L) {
  vz_lab *lb = check_lab(L);
  char err[512];
  if (cplv_lab_run(L, lb, err, sizeof err))
    return luaL_error(L, "lab:run%s", err + 3); /* err: "lab: ..." */
  lua_settop(L, 1);
  return 1;
}

static int lab_close(lua_State *L) { return lab_gc(L); }

static int lab_tostring(lua_State *L) {
  lab_ud *u = check_ud(L);
  if (!u->lb) {
    lua_pushliteral(L, "lab (closed)");
    return 1;
  }
  cp_lab *m = vz_lab_model(u->lb);
  lua_pushfstring(L, "lab (%dx%dx%d image, %dx%d %s kernel)",
                  (int)m->image.shape[0], (int)m->image.shape[1],
                  (int)m->image.shape[2], (int)m->kernel.shape[0],
                  (int)m->kernel.shape[1], cp_preset_name(m->preset));
  return 1;
}

static const luaL_Reg lab_methods[] = {
    {"set", lab_set},         {"preset", lab_preset},
    {"kernel", lab_kernel},   {"result", lab_result},
    {"save", lab_save},       {"screenshot", lab_screenshot},
    {"open", lab_open},
    {"readout", lab_readout}, {"get", lab_get},
    {"cell_rect", lab_cell_rect}, {"frame", lab_frame},
    {"run", lab_run},         {"close", lab_close},
    {"layout", lab_layout},
    {NULL, NULL}};

static const luaL_Reg lab_meta[] = {{"__gc", lab_gc},
                                    {"__close", lab_gc},
                                    {"__tostring", lab_tostring},
                                    {"__index", NULL},
                                    {NULL, NULL}};

/* ====================================================================== */
/* viz.lab                                                                 */
/* ====================================================================== */

/* viz.lab([img | path] [, kernel | opts]) -> lab */
int cpl_viz_lab(lua_State *L) {
  const char *fname = "viz.lab";
  lua_settop(L, 2); /* img, kernel/opts; the userdata goes at 3 */
  int headless = 0;
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  headless = lua_toboolean(L, -1);
  lua_pop(L, 1);
  int w = 0, h = 0;
  if (lua_istable(L, 2) && !cpl_totensor(L, 2) && lua_rawlen(L, 2) == 0) {
    /* width / height only make sense at creation */
    if (lua_getfield(L, 2, "width") != LUA_TNIL)
      w = (int)cpl_checkint_arg(L, lua_gettop(L), 2, fname, "opts.width",
                                480, 8192);
    if (lua_getfield(L, 2, "height") != LUA_TNIL)
      h = (int)cpl_checkint_arg(L, lua_gettop(L), 2, fname, "opts.height",
                                360, 8192);
    lua_pop(L, 2);
  }
  if (luaL_newmetatable(L, LAB_MT)) {
    cpl_setfuncs(L, lab_meta);
    cpl_newlib(L, lab_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, LABTMP_MT)) {
    lua_pushcfunction(L, labtmp_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  /* A valid empty userdata first: an error below leaves nothing half-built. */
  lab_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->lb = NULL;
  luaL_setmetatable(L, LAB_MT);
  int ud = lua_gettop(L);

  char path[4096] = "";
  int bundled = 0;
  cp_tensor img;
  memset(&img, 0, sizeof img);
  cp_err e;
  if (lua_isnoneornil(L, 1) || lua_type(L, 1) == LUA_TSTRING) {
    if (lua_type(L, 1) == LUA_TSTRING) {
      snprintf(path, sizeof path, "%s", lua_tostring(L, 1));
    } else {
      lua_getfield(L, LUA_REGISTRYINDEX, "convplay.home");
      const char *home = lua_tostring(L, -1);
      snprintf(path, sizeof path, "%s/assets/sample.png", home ? home : ".");
      lua_pop(L, 1);
      bundled = 1;
    }
    if (cp_image_load(&img, path, &e)) return cpl_error(L, fname, &e);
  } else {
    cp_tensor *t = cpl_totensor(L, 1);
    if (!t)
      return cpl_argerror(L, fname, 1, "img",
                          "expected a (C,H,W) tensor or a file name, got %s",
                          luaL_typename(L, 1));
    cp_tensor_share(&img, t);
  }
  char err[512];
  u->lb = vz_lab_new(&img, path[0] ? path : NULL, headless, w, h, err,
                     sizeof err);
  cp_tensor_release(&img);
  if (!u->lb) return luaL_error(L, "%s: %s", fname, err);
  vz_lab_save_in_cwd(u->lb, bundled);

  /* A kernel: a tensor, or a nested table of numbers {{...}, ...}. */
  int kernel_arg = cpl_totensor(L, 2) != NULL ||
                   (lua_istable(L, 2) && lua_rawgeti(L, 2, 1) == LUA_TTABLE);
  if (lua_istable(L, 2) && !cpl_totensor(L, 2)) lua_pop(L, 1);
  if (kernel_arg) {
    lua_newtable(L);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "kernel");
    apply_settings(L, u->lb, lua_gettop(L), fname, 0);
    lua_pop(L, 1);
  } else if (lua_istable(L, 2)) {
    /* Copy without width / height, which set{} does not take. */
    lua_newtable(L);
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (strcmp(k, "width") && strcmp(k, "height")) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, t);
      } else {
        lua_pop(L, 1);
      }
    }
    apply_settings(L, u->lb, t, fname, 0);
    lua_pop(L, 1);
  } else if (!lua_isnoneornil(L, 2)) {
    return cpl_argerror(L, fname, 2, "kernel",
                        "expected a 2-D kernel tensor or an options table, "
                        "got %s",
                        luaL_typename(L, 2));
  }
  vz_lab_render(u->lb);
  if (!headless && cplv_lab_run(L, u->lb, err, sizeof err)) /* "lab: ..." */
    return luaL_error(L, "viz.%s", err);
  lua_settop(L, ud);
  return 1;
}
