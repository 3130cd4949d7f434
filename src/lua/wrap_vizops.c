/* wrap_vizops.c - step-through views of the pooling ops:
 *
 *   v = viz.max_pool2d(x, kernel_size [, opts])   opts as conv.max_pool2d
 *   v = viz.avg_pool2d(x, kernel_size [, opts])   (stride, padding,
 *   v = viz.max_pool1d(x, kernel_size [, opts])    dilation, ceil_mode,
 *   v = viz.avg_pool1d(x, kernel_size [, opts])    return_indices, ...)
 *                                                 plus the view's own keys
 *                                                 (by, title, caption, width,
 *                                                 height)
 *   v = viz.conv1d(x, w [, opts])                 opts as conv.conv1d
 *   v = viz.conv_transpose1d(x, w [, opts])       (padding = "causal", ...),
 *                                                 plus the view's keys (and
 *                                                 view = "scatter"|"gather")
 * and what v:state() adds for pooling views.  Views are the same userdata as
 * viz.conv2d's (wrap_viz.c). */
#include <stdio.h>
#include <string.h>

#include "core/pool.h"
#include "viz/view_pool.h"
#include "viz_priv.h"

static const char *const maxpool_view_keys[] = {
    "stride", "padding", "dilation", "ceil_mode", "return_indices", "by",
    "title", "caption", "width", "height", NULL};
static const char *const avgpool_view_keys[] = {
    "stride", "padding", "ceil_mode", "count_include_pad",
    "divisor_override", "by", "title", "caption", "width", "height", NULL};
static const char *const avgpool1d_view_keys[] = {
    "stride", "padding", "ceil_mode", "count_include_pad", "by", "title",
    "caption", "width", "height", NULL};

/* by, title, caption, width, height of the option table at 3. */
static void view_opts(lua_State *L, const char *fname, vz_view_init *in) {
  const char *by = cplv_opt_string(L, 3, "by", fname);
  if (by && strcmp(by, "tap") && strcmp(by, "cell"))
    cpl_argerror(L, fname, 3, "opts.by",
                 "expected \"tap\" or \"cell\", got \"%s\"", by);
  in->by_tap = by && !strcmp(by, "tap");
  in->title = cplv_opt_string(L, 3, "title", fname);
  in->caption = cplv_opt_string(L, 3, "caption", fname);
  in->width = cplv_opt_int(L, 3, "width", VZ_DEFAULT_W, fname, 320, 8192);
  in->height = cplv_opt_int(L, 3, "height", VZ_DEFAULT_H, fname, 240, 8192);
}

static int pool_view(lua_State *L, const char *fname, cp_pool_kind kind,
                     int dims) {
  cplv_fonts(L, fname);
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  vz_view_init in;
  memset(&in, 0, sizeof in);
  cpl_pool_args(L, fname, kind, dims, &in.pp,
                kind == CP_POOL_MAX ? &in.ret_idx : NULL,
                kind == CP_POOL_MAX ? maxpool_view_keys
                : dims == 2         ? avgpool_view_keys
                                    : avgpool1d_view_keys);
  view_opts(L, fname, &in);
  in.pool = kind == CP_POOL_MAX ? VZ_POOL_MAX : VZ_POOL_AVG;
  in.dims1 = dims == 1;
  cp_tensor x3;
  memset(&x3, 0, sizeof x3);
  cp_err e;
  if (dims == 1) {
    /* (C, L) or (N, C, L): the 2-D machinery with H = 1 */
    if (x->ndim != 2 && x->ndim != 3) {
      char b[128];
      return luaL_error(L,
                        "%s: input: Expected 2D (unbatched) or 3D (batched) "
                        "input, but got input of size: %s",
                        fname, cp_shape_str(x->ndim, x->shape, b, sizeof b));
    }
    if (cp_tensor_unsqueeze(&x3, x, x->ndim - 1, &e))
      return cpl_error(L, fname, &e);
    in.x = &x3;
  } else {
    if (x->ndim != 3 && x->ndim != 4) {
      char b[128];
      return luaL_error(L,
                        "%s: input: Expected 3D (unbatched) or 4D (batched) "
                        "input, but got input of size: %s",
                        fname, cp_shape_str(x->ndim, x->shape, b, sizeof b));
    }
    in.x = x;
  }
  lview *lv = cplv_newview(L);
  lv->v = vz_view_new(&in, &e);
  cp_tensor_release(&x3);
  if (!lv->v) return cpl_error(L, fname, &e);
  cplv_register_view(L, -1);
  return 1;
}

int cplv_max_pool2d(lua_State *L) {
  return pool_view(L, "viz.max_pool2d", CP_POOL_MAX, 2);
}
int cplv_avg_pool2d(lua_State *L) {
  return pool_view(L, "viz.avg_pool2d", CP_POOL_AVG, 2);
}
int cplv_max_pool1d(lua_State *L) {
  return pool_view(L, "viz.max_pool1d", CP_POOL_MAX, 1);
}
int cplv_avg_pool1d(lua_State *L) {
  return pool_view(L, "viz.avg_pool1d", CP_POOL_AVG, 1);
}

static const char *const conv1d_view_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "data_format", "by", "title", "caption", "width", "height", NULL};
static const char *const convT1d_view_keys[] = {
    "bias", "stride", "padding", "output_padding", "output_size", "dilation",
    "groups", "data_format", "view", "by", "title", "caption", "width",
    "height", NULL};

/* conv1d / conv_transpose1d as the 2-D view with H = 1, drawn as rows. */
static int conv1d_view(lua_State *L, const char *fname, int T) {
  lua_settop(L, 3); /* opts stays at 3 (nil when absent) as values pile up */
  cplv_fonts(L, fname);
  cpl_conv1d a;
  cpl_conv1d_args(L, fname, T, T ? convT1d_view_keys : conv1d_view_keys, &a);
  vz_view_init in;
  memset(&in, 0, sizeof in);
  view_opts(L, fname, &in);
  in.x = a.x;
  in.w = a.w;
  in.bias = a.bias;
  in.p = a.p;
  in.dims1 = 1;
  in.causal = a.causal;
  in.multi = -1;
  if (T) {
    in.scatter = cplv_opt_scatter(L, 3, fname);
  }
  lview *lv = cplv_newview(L);
  cp_err e;
  lv->v = vz_view_new(&in, &e);
  if (!lv->v) {
    cpl_msg_1d(e.msg);
    return cpl_error(L, fname, &e);
  }
  cplv_register_view(L, -1);
  return 1;
}

int cplv_conv1d(lua_State *L) { return conv1d_view(L, "viz.conv1d", 0); }
int cplv_conv_transpose1d(lua_State *L) {
  return conv1d_view(L, "viz.conv_transpose1d", 1);
}

static const char *const unpool_view_keys[] = {
    "stride", "padding", "output_size", "by", "title", "caption", "width",
    "height", NULL};

/* max_unpool2d(x, indices, kernel_size [, opts]): checked by the op itself
 * (indices, output size), then shown from the output's side. */
int cplv_max_unpool2d(lua_State *L) {
  const char *fname = "viz.max_unpool2d";
  cplv_fonts(L, fname);
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *ind = cpl_checktensor_arg(L, 2, 2, fname, "indices");
  vz_view_init in;
  memset(&in, 0, sizeof in);
  int64_t o[2];
  int has_o = cpl_unpool_args(L, fname, unpool_view_keys, &in.pp, o);
  if (lua_type(L, 4) == LUA_TTABLE) {
    /* view_opts reads slot 3: move the option table there */
    lua_pushvalue(L, 4);
    lua_replace(L, 3);
  } else {
    lua_pushnil(L);
    lua_replace(L, 3);
  }
  view_opts(L, fname, &in);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L); /* the op's checks and output size */
  if (cp_max_unpool2d(y, x, ind, &in.pp, has_o ? o : NULL, &e))
    return cpl_error(L, fname, &e);
  in.out_hw[0] = y->shape[y->ndim - 2];
  in.out_hw[1] = y->shape[y->ndim - 1];
  cp_tensor_release(y);
  in.pool = VZ_POOL_UNPOOL;
  in.x = x;
  in.ind = ind;
  lview *lv = cplv_newview(L);
  lv->v = vz_view_new(&in, &e);
  if (!lv->v) return cpl_error(L, fname, &e);
  cplv_register_view(L, -1);
  return 1;
}

/* ---- v:set for pooling and 1-D views ---------------------------------- */

/* opts[key] (table at 2) as one size or {h, w} into a[0..1] (1-D views: a
 * single number, into a[1]).  Returns 0 when absent. */
static int set_size(lua_State *L, const char *key, int dims1, int64_t lo,
                    int64_t *a) {
  const char *fname = "view:set";
  char what[48];
  snprintf(what, sizeof what, "opts.%s", key);
  int t = lua_getfield(L, 2, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  int top = lua_gettop(L);
  if (t == LUA_TTABLE && !dims1) {
    if (lua_rawlen(L, top) != 2)
      cpl_argerror(L, fname, 1, what, "expected a number or {h, w}");
    for (int i = 0; i < 2; i++) {
      lua_rawgeti(L, top, i + 1);
      a[i] = cpl_checkint_arg(L, lua_gettop(L), 1, fname, what, lo, 1 << 20);
      lua_pop(L, 1);
    }
  } else {
    int64_t x = cpl_checkint_arg(L, top, 1, fname, what, lo, 1 << 20);
    if (dims1) a[1] = x;
    else a[0] = a[1] = x;
  }
  lua_pop(L, 1);
  return 1;
}

int cplv_set_special(lua_State *L, vz_view *v, const vz_view_state *s) {
  const char *fname = "view:set";
  static const char *const maxk[] = {"stride", "padding", "dilation",
                                     "ceil_mode", NULL};
  static const char *const avgk[] = {"stride", "padding", "ceil_mode",
                                     "count_include_pad", NULL};
  static const char *const c1k[] = {"stride", "padding", "dilation", NULL};
  if (s->pool == VZ_POOL_UNPOOL)
    return luaL_error(L, "%s: max_unpool2d's output is fixed by its indices "
                         "(make a new view from another max_pool2d)",
                      fname);
  const char *const *keys = s->pool == VZ_POOL_MAX   ? maxk
                            : s->pool == VZ_POOL_AVG ? avgk
                                                     : c1k;
  cpl_check_keys(L, 2, fname, 1, keys);
  /* read into copies; the view takes them (and rebuilds) at the end */
  cp_conv_params np = s->req, *p = &np;
  cp_pool_params pr = s->preq;
  int causal = s->causal;
  int64_t a[2] = {p->stride[0], p->stride[1]};
  if (set_size(L, "stride", s->dims1, 1, a))
    p->stride[0] = a[0], p->stride[1] = a[1];
  if (s->pool != VZ_POOL_AVG) {
    a[0] = p->dilation[0], a[1] = p->dilation[1];
    if (set_size(L, "dilation", s->dims1, 1, a))
      p->dilation[0] = a[0], p->dilation[1] = a[1];
  }
  if (!s->pool && lua_getfield(L, 2, "padding") == LUA_TSTRING) {
    /* 1-D: "causal" (kept as the dilation changes) or a number */
    const char *m = lua_tostring(L, -1);
    if (strcmp(m, "causal"))
      cpl_argerror(L, fname, 1, "opts.padding",
                   "expected a number or \"causal\", got \"%s\"", m);
    causal = 1;
    lua_pop(L, 1);
  } else {
    if (!s->pool) lua_pop(L, 1);
    a[0] = p->pad[0], a[1] = p->pad[2];
    if (set_size(L, "padding", s->dims1, 0, a)) {
      if (s->dims1) p->pad[2] = p->pad[3] = a[1], causal = 0;
      else p->pad[0] = p->pad[1] = a[0], p->pad[2] = p->pad[3] = a[1];
    }
  }
  if (s->pool) {
    if (lua_getfield(L, 2, "ceil_mode") != LUA_TNIL)
      pr.ceil_mode = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "count_include_pad") != LUA_TNIL)
      pr.count_include_pad = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  return cplv_set_result(L, v, vz_view_set_special(v, &np, &pr, causal));
}

/* state.params of a pooling view gets the pool's own parameters. */
static void pool_params_state(lua_State *L, const vz_view *v,
                              const vz_view_state *s) {
  cp_pool_params p;
  vz_pool_params(v, &p);
  lua_getfield(L, -1, "params");
  if (s->pool == VZ_POOL_UNPOOL) {
    cplv_push_ints(L, s->unpool_hw, 2, 0);
    lua_setfield(L, -2, "output_size");
  }
  cplv_push_ints(L, p.kernel, 2, 0);
  lua_setfield(L, -2, "kernel_size");
  lua_pushboolean(L, p.ceil_mode);
  lua_setfield(L, -2, "ceil_mode");
  if (s->pool == VZ_POOL_AVG) {
    lua_pushboolean(L, p.count_include_pad);
    lua_setfield(L, -2, "count_include_pad");
    if (p.divisor_override) {
      lua_pushinteger(L, p.divisor_override);
      lua_setfield(L, -2, "divisor_override");
    }
  } else {
    lua_pushboolean(L, s->ret_idx);
    lua_setfield(L, -2, "return_indices");
  }
  lua_pop(L, 1);
}

/* v:state() of a pooling view: the pool's parameters, and for the current
 * output its argmax / indices (max) or divisor (avg). */
void cplv_pool_state(lua_State *L, const vz_view *v, const vz_view_state *s,
                     const vz_view_unit *u) {
  pool_params_state(L, v, s);
  /* the input's width: index = (row - 1) * input_width + (col - 1) */
  lua_pushinteger(L, s->xshape[3]);
  lua_setfield(L, -2, "input_width");
  if (s->pool == VZ_POOL_UNPOOL) {
    /* the index naming this output cell (0-based h*W_out + w) and the
     * input cell written there (1-based), if any */
    lua_pushinteger(L, u->info.argmax);
    lua_setfield(L, -2, "index");
    const cp_tap *tp = &u->taps[0];
    if (tp->kind == CP_TAP_INPUT) {
      cplv_push_ints(L, tp->in, 4, 1);
      lua_setfield(L, -2, "source");
    }
    return;
  }
  if (s->pool == VZ_POOL_MAX) {
    /* PyTorch's index (0-based flat h*W + w in the plane, as
     * conv.max_pool2d's return_indices) and the cell, 1-based */
    int64_t arg = u->done > 0 ? u->taps[u->done - 1].arg : u->info.argmax;
    lua_pushinteger(L, arg);
    lua_setfield(L, -2, "index");
    int64_t cell[4] = {u->info.idx[0], u->info.idx[1], arg / s->g.W,
                       arg % s->g.W};
    cplv_push_ints(L, cell, 4, 1);
    lua_setfield(L, -2, "argmax");
  } else {
    lua_pushinteger(L, u->info.divisor);
    lua_setfield(L, -2, "divisor");
  }
}
