/* wrap_viz.c - the `viz` module: step-through views, static grids, the
 * window loop with LÖVE-style callbacks, drawing for scripts.
 *
 *   v = viz.conv2d(x, w [, opts])            step-through view
 *   v = viz.conv_transpose2d(x, w [, opts])  opts.view = "scatter"|"gather"
 *   s = viz.show{input=, kernel=, mask=, output=, title=}
 *   s = viz.stack{{op = "conv2d", ...}, ..., input = {H, W}}  (wrap_vizstack.c)
 *   viz.run([v | {v1, v2, ...}])             window loop (returns at once
 *                                            under --headless)
 * Views are userdata of metatable "convplay.view"; see docs/viz.md.  The
 * window loop and the drawing functions are in viz_loop.c. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/code.h"
#include "viz/compare.h"
#include "viz/view_pool.h"
#include "viz/draw.h"
#include "viz_priv.h"

int cplv_headless(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  int h = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return h;
}

int cplv_fonts(lua_State *L, const char *fname) {
  char err[256];
  if (vz_init(err, sizeof err)) return luaL_error(L, "%s: %s", fname, err);
  return 0;
}

/* ====================================================================== */
/* View userdata                                                           */
/* ====================================================================== */

lview *cplv_newview(lua_State *L) {
  lview *lv = lua_newuserdatauv(L, sizeof *lv, 1);
  lv->v = NULL;
  lv->sh = NULL;
  lv->st = NULL;
  luaL_setmetatable(L, VIEW_MT);
  return lv;
}

static lview *checklview(lua_State *L, int idx) {
  lview *lv = luaL_checkudata(L, idx, VIEW_MT);
  cpl_keep(L, idx); /* held until the calling function returns */
  return lv;
}

static vz_view *checkview(lua_State *L, int idx, const char *fname) {
  lview *lv = checklview(L, idx);
  if (!lv->v) {
    if (lv->sh) luaL_error(L, "%s: not a step-through view (viz.show)", fname);
    if (lv->st) luaL_error(L, "%s: not a step-through view (viz.stack)", fname);
    luaL_error(L, "%s: the view was closed", fname);
  }
  /* a finalizer or metamethod running inside v:state() or v:output() may
   * not move the view under the values they are reading */
  if (cpl_held_elsewhere(lv->v))
    luaL_error(L, "%s: the view is being read by a call still running (a "
                  "finalizer or metamethod ran inside it); use it after that "
                  "call returns", fname);
  return lv->v;
}

/* A snapshot of v (viz/view.h), returned for one-line reads. */
static const vz_view_state *view_state(const vz_view *v, vz_view_state *s) {
  vz_view_state_get(v, s);
  return s;
}

static void lview_free(void *p) {
  lview *lv = p;
  vz_view_free(lv->v);
  vz_show_free(lv->sh);
  vz_stack_free(lv->st);
  lv->v = NULL;
  lv->sh = NULL;
  lv->st = NULL;
}

static int view_release(lua_State *L) {
  lview *lv = luaL_checkudata(L, 1, VIEW_MT);
  if (cpl_release_later(lv, lview_free)) return 0;
  vz_view_free(lv->v);
  vz_show_free(lv->sh);
  vz_stack_free(lv->st);
  lv->v = NULL;
  lv->sh = NULL;
  lv->st = NULL;
  return 0;
}

/* Remember a view for _after_script (window mode only). */
void cplv_register_view(lua_State *L, int idx) {
  if (cplv_headless(L)) return;
  idx = lua_absindex(L, idx);
  if (lua_getfield(L, LUA_REGISTRYINDEX, VIEWS_KEY) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
  }
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 1);
}

/* ---- options ------------------------------------------------------------- */

static const char *const conv_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "mask", "kernel_mask", "partial", "multi_channel", "flip", "by", "title",
    "caption", "keras", "compare", "width", "height", NULL};
static const char *const convT_keys[] = {
    "bias", "stride", "padding", "output_padding", "dilation", "groups",
    "mask", "kernel_mask", "view", "by", "title", "caption", "keras", "width",
    "height", NULL};

/* opts[key] as a tensor (numbers / nested tables converted) or NULL; errors
 * name argument #opts of fname as `what`. */
static cp_tensor *opt_tensor(lua_State *L, int opts, const char *key,
                             const char *fname, const char *what) {
  if (lua_isnoneornil(L, opts)) return NULL;
  lua_getfield(L, opts, key);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  /* left on the stack: anchors a converted tensor for the call */
  return cpl_checktensorlike(L, lua_gettop(L), fname, opts, what);
}

int cplv_opt_bool(lua_State *L, int opts, const char *key, int dflt) {
  if (lua_isnoneornil(L, opts)) return dflt;
  lua_getfield(L, opts, key);
  int r = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

const char * cplv_opt_string(lua_State *L, int opts, const char *key,
                              const char *fname) {
  if (lua_isnoneornil(L, opts)) return NULL;
  lua_getfield(L, opts, key);
  const char *s = NULL;
  if (!lua_isnil(L, -1)) {
    char what[64];
    snprintf(what, sizeof what, "opts.%s", key);
    if (lua_type(L, -1) != LUA_TSTRING)
      cpl_argerror(L, fname, opts, what, "string expected, got %s",
                   luaL_typename(L, -1));
    s = cpl_keepstring(L, -1); /* __index may have made it: hold it */
  }
  lua_pop(L, 1);
  return s;
}

/* opts[key] as one of names: its index, or -1 when absent; any other
 * string is an error listing the choices ("expected \"a\", \"b\" or
 * \"c\", got ..."). */
int cplv_opt_choice(lua_State *L, int idx, const char *fname,
                    const char *key, const char *const *names) {
  const char *m = cplv_opt_string(L, idx, key, fname);
  if (!m) return -1;
  int n = 0;
  while (names[n] && strcmp(names[n], m)) n++;
  if (names[n]) return n;
  char list[200] = "", arg[64];
  for (int i = 0; names[i]; i++) {
    size_t len = strlen(list);
    snprintf(list + len, sizeof list - len, "%s\"%s\"",
             i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
  }
  snprintf(arg, sizeof arg, "opts.%s", key);
  return cpl_argerror(L, fname, idx, arg, "expected %s, got \"%s\"", list, m);
}

int cplv_opt_scatter(lua_State *L, int idx, const char *fname) {
  static const char *const views[] = {"scatter", "gather", NULL};
  return cplv_opt_choice(L, idx, fname, "view", views) != 1;
}


int cplv_opt_int(lua_State *L, int opts, const char *key, int dflt,
                 const char *fname, int lo, int hi) {
  if (lua_isnoneornil(L, opts)) return dflt;
  lua_getfield(L, opts, key);
  int r = dflt;
  if (!lua_isnil(L, -1)) {
    char what[64];
    snprintf(what, sizeof what, "opts.%s", key);
    r = (int)cpl_checkint_arg(L, lua_gettop(L), opts, fname, what, lo, hi);
  }
  lua_pop(L, 1);
  return r;
}

/* The options every view constructor shares (by, title, caption, width,
 * height, in the table at opts), then the view itself, pushed. */
static int finish_view(lua_State *L, int opts, const char *fname,
                       vz_view_init *in) {
  static const char *const bys[] = {"tap", "cell", NULL};
  in->by_tap = cplv_opt_choice(L, opts, fname, "by", bys) == 0;
  in->title = cplv_opt_string(L, opts, "title", fname);
  in->caption = cplv_opt_string(L, opts, "caption", fname);
  in->width = cplv_opt_int(L, opts, "width", VZ_DEFAULT_W, fname, 320, 8192);
  in->height = cplv_opt_int(L, opts, "height", VZ_DEFAULT_H, fname, 240, 8192);
  lview *lv = cplv_newview(L);
  cp_err e;
  lv->v = vz_view_new(in, &e);
  if (!lv->v) return cpl_error(L, fname, &e);
  cplv_register_view(L, -1);
  return 1;
}

static int make_view(lua_State *L, int transposed) {
  const char *fname = transposed ? "viz.conv_transpose2d" : "viz.conv2d";
  cplv_fonts(L, fname);
  cp_tensor *x = cpl_checktensor(L, 1);
  cp_tensor *w = cpl_checktensor(L, 2);
  cpl_check_keys(L, 3, fname, 3, transposed ? convT_keys : conv_keys);
  vz_view_init in;
  memset(&in, 0, sizeof in);
  cp_tensor *bias = NULL;
  cpl_conv_opts(L, 3, fname, transposed, &in.p, &bias);
  in.x = x;
  in.w = w;
  in.bias = bias;
  in.mask = opt_tensor(L, 3, "mask", fname, "opts.mask");
  in.kmask = opt_tensor(L, 3, "kernel_mask", fname, "opts.kernel_mask");
  in.partial = cplv_opt_bool(L, 3, "partial", 0);
  in.multi = -1;
  if (!lua_isnoneornil(L, 3)) {
    lua_getfield(L, 3, "multi_channel");
    if (!lua_isnil(L, -1)) in.multi = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  in.flip = cplv_opt_bool(L, 3, "flip", 0);
  in.keras = cplv_opt_bool(L, 3, "keras", 0);
  in.compare = cplv_opt_bool(L, 3, "compare", 0);
  in.scatter = cplv_opt_scatter(L, 3, fname);
  return finish_view(L, 3, fname, &in);
}

/* The start shared by the conv2d-based views (backward, unfold,
 * compare): x (#1), w (#2), a third tensor (#3, when third names it), the
 * option keys, the conv options; returns the bias (or NULL). */
static cp_tensor *conv_view_begin(lua_State *L, const char *fname, int opts,
                                  const char *const *keys, const char *third,
                                  cp_tensor **t3, vz_view_init *in) {
  cplv_fonts(L, fname);
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *w = cpl_checktensor_arg(L, 2, 2, fname, "weight");
  if (third) *t3 = cpl_checktensor_arg(L, 3, 3, fname, third);
  cpl_check_keys(L, opts, fname, opts, keys);
  memset(in, 0, sizeof *in);
  cp_tensor *bias = NULL;
  cpl_conv_opts(L, opts, fname, 0, &in->p, &bias);
  in->x = x;
  in->w = w;
  in->multi = -1;
  return bias;
}

/* viz.conv2d_backward(x, w, grad_output [, opts]): the backward view of
 * conv2d; opts.grad = "input" | "weight" | "bias" picks the mode. */
static const char *const grad_keys[] = {
    "stride", "padding", "dilation", "groups", "padding_mode", "grad", "view",
    "by", "title", "caption", "width", "height", NULL};
static const char *const grad_modes[] = {"input", "weight", "bias", NULL};

static int l_conv2d_backward(lua_State *L) {
  const char *fname = "viz.conv2d_backward";
  vz_view_init in;
  cp_tensor *gy;
  conv_view_begin(L, fname, 4, grad_keys, "grad_output", &gy, &in);
  in.grad_out = gy;
  in.grad = VZ_GRAD_INPUT;
  int i = cplv_opt_choice(L, 4, fname, "grad", grad_modes);
  if (i >= 0) in.grad = VZ_GRAD_INPUT + i;
  in.scatter = cplv_opt_scatter(L, 4, fname);
  return finish_view(L, 4, fname, &in);
}

/* viz.unfold(x, w [, opts]): conv2d as matrix products; opts.gemm =
 * "im2col" | "matrix" | "matrix_t" picks the picture. */
static const char *const unfold_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode", "gemm",
    "by", "title", "caption", "width", "height", NULL};
static const char *const gemm_modes[] = {"im2col", "matrix", "matrix_t",
                                         NULL};

static int l_unfold(lua_State *L) {
  const char *fname = "viz.unfold";
  vz_view_init in;
  in.bias = conv_view_begin(L, fname, 3, unfold_keys, NULL, NULL, &in);
  in.gemm = VZ_GEMM_IM2COL;
  int i = cplv_opt_choice(L, 3, fname, "gemm", gemm_modes);
  if (i >= 0) in.gemm = VZ_GEMM_IM2COL + i;
  return finish_view(L, 3, fname, &in);
}

/* viz.compare(x, w [, opts]): correlation (conv2d) and convolution (the
 * flipped kernel, conv.convolve2d) side by side. */
static const char *const compare_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode", "by",
    "title", "caption", "width", "height", NULL};

static int l_compare(lua_State *L) {
  const char *fname = "viz.compare";
  vz_view_init in;
  in.bias = conv_view_begin(L, fname, 3, compare_keys, NULL, NULL, &in);
  in.cmpview = 1;
  return finish_view(L, 3, fname, &in);
}

static int l_conv2d(lua_State *L) { return make_view(L, 0); }
static int l_conv_transpose2d(lua_State *L) { return make_view(L, 1); }

static int l_show(lua_State *L) {
  const char *fname = "viz.show";
  cplv_fonts(L, fname);
  luaL_checktype(L, 1, LUA_TTABLE);
  static const char *const keys[] = {"input", "kernel", "mask", "output",
                                     "title", "width", "height", NULL};
  cpl_check_keys(L, 1, fname, 1, keys);
  lview *lv = cplv_newview(L);
  int ud = lua_gettop(L);
  const char *title = cplv_opt_string(L, 1, "title", fname);
  int width = cplv_opt_int(L, 1, "width", VZ_DEFAULT_W, fname, 320, 8192);
  int height = cplv_opt_int(L, 1, "height", VZ_DEFAULT_H, fname, 240, 8192);
  lv->sh = vz_show_new(title, width, height);
  if (!lv->sh) return luaL_error(L, "%s: out of memory", fname);
  static const char *const items[] = {"input", "kernel", "mask", "output"};
  for (int i = 0; i < 4; i++) {
    cp_tensor *t = opt_tensor(L, 1, items[i], fname, items[i]);
    if (!t) continue;
    cp_err e;
    if (vz_show_add(lv->sh, items[i], t, &e)) return cpl_error(L, fname, &e);
    lua_pop(L, 1);
  }
  lua_settop(L, ud);
  cplv_register_view(L, -1);
  return 1;
}

/* ---- methods ------------------------------------------------------------ */

static int m_step(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:step");
  lua_Integer n = luaL_optinteger(L, 2, 1);
  vz_view_move(v, (int64_t)n);
  lua_pushinteger(L, vz_view_step(v));
  return 1;
}

static int m_seek(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:seek");
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 0) n = vz_view_steps(v) + 1 + n; /* -1 = last step */
  vz_view_seek(v, (int64_t)n);
  lua_pushinteger(L, vz_view_step(v));
  return 1;
}

void cplv_push_ints(lua_State *L, const int64_t *a, int n, int64_t add) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, a[i] + add);
    lua_rawseti(L, -2, i + 1);
  }
}

/* A 0-based index, 1-based. */
static void push_idx(lua_State *L, const int64_t *idx, int n) {
  cplv_push_ints(L, idx, n, 1);
}

static void push_pair(lua_State *L, const int64_t *p, int stride) {
  lua_createtable(L, 2, 0);
  lua_pushinteger(L, p[0]);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, p[stride]);
  lua_rawseti(L, -2, 2);
}

/* One tap of v:state()'s taps list (a forward, scatter or gather unit). */
static void push_tap(lua_State *L, int kind, const cp_tap *tp, int done) {
  lua_createtable(L, 0, 12);
  /* a scatter tap that lands is "output" (it reads the unit's pixel) */
  int lands = kind == CP_TRACE_SCATTER && tp->kind == CP_TAP_INPUT;
  lua_pushstring(L, lands ? "output" : cp_tap_kind_name(tp->kind));
  lua_setfield(L, -2, "kind");
  if (tp->kind == CP_TAP_INPUT || tp->kind == CP_TAP_PADSRC ||
      kind == CP_TRACE_SCATTER) {
    push_idx(L, tp->in, 4);
    lua_setfield(L, -2, tp->kind == CP_TAP_PADSRC ? "source" : "input");
  }
  push_idx(L, tp->w, 4);
  lua_setfield(L, -2, "kernel");
  push_idx(L, tp->out, 4);
  lua_setfield(L, -2, "out");
  int64_t at[2] = {tp->pos[0], tp->pos[1]};
  push_idx(L, at, 2);
  lua_setfield(L, -2, "at");
  lua_pushnumber(L, tp->xv);
  lua_setfield(L, -2, "x");
  lua_pushnumber(L, tp->wv);
  lua_setfield(L, -2, "w");
  lua_pushnumber(L, tp->prod);
  lua_setfield(L, -2, "product");
  if (tp->kind != CP_TAP_CROPPED) {
    lua_pushnumber(L, tp->sum);
    lua_setfield(L, -2, "sum");
  }
  lua_pushboolean(L, done);
  lua_setfield(L, -2, "done");
}

/* One tap of a grad_weight / grad_bias unit: an output position. */
static void push_grad_tap(lua_State *L, const vz_view_state *s, int w,
                          const cp_tap *tp, int done) {
  lua_createtable(L, 0, 10);
  lua_pushstring(L, cp_tap_kind_name(tp->kind));
  lua_setfield(L, -2, "kind");
  if (w && tp->kind != CP_TAP_PAD) {
    push_idx(L, tp->in, 4);
    lua_setfield(L, -2, tp->kind == CP_TAP_PADSRC ? "source" : "input");
  }
  if (w) {
    int64_t at[2] = {tp->pos[0], tp->pos[1]};
    push_idx(L, at, 2);
    lua_setfield(L, -2, "at");
  }
  /* the grad_output cell = the forward output cell the product is of */
  push_idx(L, tp->w, 4);
  lua_setfield(L, -2, "grad_output");
  lua_pushinteger(L, w ? cp_trace_forward_tap(&s->g, tp->w, tp->out) + 1
                       : 0);
  lua_setfield(L, -2, "forward_tap");
  lua_pushnumber(L, tp->xv);
  lua_setfield(L, -2, "x");
  lua_pushnumber(L, tp->wv);
  lua_setfield(L, -2, "gy");
  lua_pushnumber(L, tp->prod);
  lua_setfield(L, -2, "product");
  lua_pushnumber(L, tp->sum);
  lua_setfield(L, -2, "sum");
  lua_pushboolean(L, done);
  lua_setfield(L, -2, "done");
}

/* The unit's taps as state.taps. */
static void push_taps(lua_State *L, const vz_view_state *s,
                      const vz_view_unit *u) {
  int grad = u->kind == CP_TRACE_GRADW || u->kind == CP_TRACE_GRADB;
  lua_createtable(L, (int)u->ntaps, 0);
  for (int64_t k = 0; k < u->ntaps; k++) {
    if (grad)
      push_grad_tap(L, s, u->kind == CP_TRACE_GRADW, &u->taps[k],
                    k < u->done);
    else
      push_tap(L, u->kind, &u->taps[k], k < u->done);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  lua_setfield(L, -2, "taps");
}

/* The rest of v:state() for grad_weight / grad_bias: the unit is a weight
 * tap (o, ci, i, j) or an output channel; its taps the output positions. */
static int grad_state(lua_State *L, vz_view *v, const vz_view_state *s,
                      const vz_view_unit *u) {
  lua_pushinteger(L, u->done);
  lua_setfield(L, -2, "tap");
  lua_pushinteger(L, u->info.group + 1);
  lua_setfield(L, -2, "group");
  push_idx(L, u->info.idx, u->kind == CP_TRACE_GRADW ? 4 : 1);
  lua_setfield(L, -2, "out");
  lua_pushnumber(L, vz_view_output(v, 0)[u->index]);
  lua_setfield(L, -2, "value");
  lua_pushnumber(L, vz_view_sum(v));
  lua_setfield(L, -2, "sum");
  push_taps(L, s, u);
  return 1;
}

/* Matrix modes of the unfold view: state.ct = Cᵀ y (the current sample,
 * flattened C*H*W) over the output cells done. */
static void gemm_state(lua_State *L, vz_view *v) {
  int64_t len;
  if (vz_gemm_ct(v, NULL, &len)) return;
  /* a userdata buffer: nothing leaks if Lua runs out of memory below */
  float *gx = lua_newuserdatauv(L, sizeof *gx * (size_t)(len ? len : 1), 0);
  int ok = vz_gemm_ct(v, gx, &len) == 0;
  lua_createtable(L, ok ? (int)len : 0, 0);
  for (int64_t i = 0; ok && i < len; i++) {
    lua_pushnumber(L, gx[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_remove(L, -2);
  if (ok) lua_setfield(L, -2, "ct");
  else lua_pop(L, 1);
}

/* The compare view: the convolution's side of the same unit. */
static void cmpview_state(lua_State *L, vz_view *v, const vz_view_unit *u) {
  lua_createtable(L, 0, 3);
  lua_pushnumber(L, u->info2.value);
  lua_setfield(L, -2, "value");
  lua_pushnumber(L, u->taps2[u->done > 0 ? u->done - 1 : 0].sum);
  lua_setfield(L, -2, "sum");
  lua_createtable(L, (int)u->ntaps, 0);
  for (int64_t k = 0; k < u->ntaps; k++) {
    push_idx(L, u->taps2[k].w, 4);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  lua_setfield(L, -2, "kernel");
  lua_setfield(L, -2, "convolution");
  lua_pushinteger(L, vz_compare_differ(v, NULL));
  lua_setfield(L, -2, "differ");
}

/* The current output cell of a forward, scatter or gather unit: out,
 * value, sum (and the scatter unit's input pixel, or the bias). */
static void unit_out_state(lua_State *L, vz_view *v, const vz_view_state *s,
                           const vz_view_unit *u) {
  const int64_t *out = NULL;
  if (u->kind == CP_TRACE_SCATTER) {
    push_idx(L, u->info.idx, 4);
    lua_setfield(L, -2, "input");
    const cp_tap *tp = vz_view_scatter_tap(v, u->done);
    if (tp) out = tp->out;
  } else {
    out = u->info.idx;
    lua_pushnumber(L, u->info.bias);
    lua_setfield(L, -2, "bias");
  }
  if (!out) return;
  push_idx(L, out, 4);
  lua_setfield(L, -2, "out");
  lua_pushnumber(L, vz_view_output(v, 0)[cp_geom_yoff(&s->g, out[0], out[1],
                                                      out[2], out[3])]);
  lua_setfield(L, -2, "value");
  double sum = vz_view_sum(v);
  if (!isnan(sum) || u->kind != CP_TRACE_SCATTER) {
    lua_pushnumber(L, sum);
    lua_setfield(L, -2, "sum");
  }
}

static void partial_state(lua_State *L, const cp_unit *info) {
  lua_pushnumber(L, info->msum);
  lua_setfield(L, -2, "mask_sum");
  lua_pushnumber(L, info->ratio);
  lua_setfield(L, -2, "ratio");
  lua_pushnumber(L, info->newmask);
  lua_setfield(L, -2, "new_mask");
  lua_pushnumber(L, info->raw);
  lua_setfield(L, -2, "raw");
}

/* What v:state() shows of the current unit (the view is valid and its
 * output not empty). */
static int unit_state(lua_State *L, vz_view *v, const vz_view_state *s,
                      const vz_view_unit *u) {
  if (u->kind == CP_TRACE_GRADW || u->kind == CP_TRACE_GRADB)
    return grad_state(L, v, s, u);
  lua_pushinteger(L, u->done);
  lua_setfield(L, -2, "tap");
  lua_pushinteger(L, u->info.group + 1);
  lua_setfield(L, -2, "group");
  unit_out_state(L, v, s, u);
  if (s->partial) partial_state(L, &u->info);
  push_taps(L, s, u);
  if (s->gemm >= VZ_GEMM_MATRIX) gemm_state(L, v);
  if (s->cmpview) cmpview_state(L, v, u);
  if (s->pool) cplv_pool_state(L, v, s, u);
  return 1;
}

static const char *hover_name(int hover) {
  return hover == 1 ? "output" : hover == 2 ? "input" : hover ? "gradient"
                                                              : "none";
}

/* The step, mode and presentation fields of v:state(). */
static void mode_state(lua_State *L, const vz_view *v, const vz_view_state *s,
                       const cp_conv_params *p) {
  lua_pushinteger(L, s->ok ? s->step : 0);
  lua_setfield(L, -2, "step");
  lua_pushinteger(L, s->steps);
  lua_setfield(L, -2, "steps");
  lua_pushstring(L, s->by_tap ? "tap" : "cell");
  lua_setfield(L, -2, "by");
  lua_pushstring(L, s->pool        ? vz_pool_name(v)
                    : !p->transposed ? (s->dims1 ? "conv1d" : "conv2d")
                    : s->scatter   ? "scatter"
                                   : "gather");
  lua_setfield(L, -2, "view");
  if (s->grad) {
    lua_pushstring(L, vz_grad_name(s->grad));
    lua_setfield(L, -2, "grad");
  }
  if (s->gemm) {
    lua_pushstring(L, vz_gemm_name(s->gemm));
    lua_setfield(L, -2, "gemm");
  }
  lua_pushboolean(L, s->playing);
  lua_setfield(L, -2, "playing");
  lua_pushboolean(L, s->help);
  lua_setfield(L, -2, "help");
  lua_pushboolean(L, s->compare);
  lua_setfield(L, -2, "compare");
  if (s->code) lua_pushstring(L, s->code == 2 ? "keras" : "pytorch");
  else lua_pushboolean(L, 0);
  lua_setfield(L, -2, "code");
  lua_pushnumber(L, s->zoom);
  lua_setfield(L, -2, "zoom");
}

/* state.hover and state.status, when there are. */
static void hover_state(lua_State *L, const vz_view_state *s) {
  if (s->hover) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, hover_name(s->hover));
    lua_setfield(L, -2, "what");
    push_idx(L, s->hover_idx, 4);
    lua_setfield(L, -2, "index");
    lua_pushboolean(L, s->pinned);
    lua_setfield(L, -2, "pinned");
    lua_setfield(L, -2, "hover");
  }
  if (s->status[0]) {
    lua_pushstring(L, s->status);
    lua_setfield(L, -2, "status");
  }
}

/* state.params: p (resolved, or as requested when invalid) and flip. */
static void params_state(lua_State *L, const cp_conv_params *p, int flip) {
  lua_createtable(L, 0, 8);
  push_pair(L, p->stride, 1);
  lua_setfield(L, -2, "stride");
  lua_createtable(L, 4, 0);
  for (int i = 0; i < 4; i++) {
    lua_pushinteger(L, p->pad[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "padding");
  push_pair(L, p->dilation, 1);
  lua_setfield(L, -2, "dilation");
  push_pair(L, p->out_pad, 1);
  lua_setfield(L, -2, "output_padding");
  lua_pushinteger(L, p->groups);
  lua_setfield(L, -2, "groups");
  lua_pushstring(L, cp_padmode_name(p->mode));
  lua_setfield(L, -2, "padding_mode");
  lua_pushboolean(L, flip);
  lua_setfield(L, -2, "flip");
  lua_setfield(L, -2, "params");
}

/* state.formula: the output-size formula per dimension. */
static void formula_state(lua_State *L, const vz_view *v) {
  char buf[512];
  lua_createtable(L, 0, 2);
  vz_view_formula(v, 0, buf, sizeof buf);
  lua_pushstring(L, buf);
  lua_setfield(L, -2, "h");
  vz_view_formula(v, 1, buf, sizeof buf);
  lua_pushstring(L, buf);
  lua_setfield(L, -2, "w");
  lua_setfield(L, -2, "formula");
}

static int m_state(lua_State *L) {
  lview *lv = checklview(L, 1);
  if (lv->st) return cplv_stack_state(L, lv->st);
  vz_view *v = checkview(L, 1, "view:state");
  cpl_hold(L, v); /* u's taps point into the view */
  vz_view_unit u;
  int has_unit = vz_view_unit_get(v, &u) == 0;
  vz_view_state s;
  vz_view_state_get(v, &s);
  lua_createtable(L, 0, 24);
  const cp_conv_params *p = s.ok ? &s.g.p : &s.req;
  mode_state(L, v, &s, p);
  hover_state(L, &s);
  params_state(L, p, s.flip);
  formula_state(L, v);
  if (!s.ok) {
    lua_pushstring(L, vz_view_error(v));
    lua_setfield(L, -2, "error");
    return 1;
  }
  cplv_push_ints(L, s.out_shape, s.out_ndim, 0);
  lua_setfield(L, -2, "output_shape");
  if (!has_unit) return 1; /* an empty output: nothing more */
  return unit_state(L, v, &s, &u);
}

/* ====================================================================== */
/* Figures: screenshot, record, layout                                     */
/* ====================================================================== */

/* How a figure is drawn: size, theme, palette, chrome, panels.  Strings
 * are copied: nothing here points into Lua after the options are read. */
typedef struct fig {
  int w, h;                   /* frame size */
  char theme[8];              /* "dark" / "light" */
  char palette[16];           /* "default" / "cividis" */
  int chrome;                 /* key hints, play state, footer */
  unsigned panels;            /* VZ_PANEL_* */
} fig;

static const char *const panel_names[] = {"input", "kernel", "output", "taps",
                                          "formula", "header", NULL};

/* The frame size of the page lv. */
static void page_size(const lview *lv, int *w, int *h) {
  vz_view_state vs;
  *w = VZ_DEFAULT_W;
  *h = VZ_DEFAULT_H;
  if (lv->v) {
    *w = view_state(lv->v, &vs)->width;
    *h = vs.height;
  } else if (lv->sh) {
    vz_show_size(lv->sh, w, h);
  } else if (lv->st) {
    vz_stack_size(lv->st, w, h);
  }
}

/* Read the figure options of the table at idx (may be none/nil); keys in
 * `extra` are allowed (read by the caller), any other key is an error. */
static void fig_opts(lua_State *L, int idx, const char *fname, lview *lv,
                     fig *f, const char *const *extra) {
  page_size(lv, &f->w, &f->h);
  snprintf(f->theme, sizeof f->theme, "%s", vz_th->name);
  snprintf(f->palette, sizeof f->palette, "%s", vz_palette_name());
  vz_view_state vs;
  f->chrome = lv->v ? view_state(lv->v, &vs)->chrome : 1;
  f->panels = lv->v ? vs.panels : VZ_PANEL_ALL;
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  static const char *const known[] = {"width", "height", "theme", "palette",
                                      "chrome", "panels", NULL};
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    int ok = 0;
    for (int i = 0; known[i] && !ok; i++) ok = !strcmp(k, known[i]);
    for (int i = 0; extra && extra[i] && !ok; i++) ok = !strcmp(k, extra[i]);
    if (!ok)
      cpl_argerror(L, fname, idx, "opts", "unknown option '%s' (known: "
                   "width, height, theme, palette, chrome, panels%s)",
                   lua_type(L, -1) == LUA_TSTRING ? k : luaL_typename(L, -1),
                   extra ? ", fps, max_frames, by" : "");
  }
  f->w = cplv_opt_int(L, idx, "width", f->w, fname, 320, 8192);
  f->h = cplv_opt_int(L, idx, "height", f->h, fname, 240, 8192);
  const char *t = cplv_opt_string(L, idx, "theme", fname);
  if (t) {
    if (strcmp(t, "dark") && strcmp(t, "light"))
      cpl_argerror(L, fname, idx, "opts.theme",
                   "expected \"dark\" or \"light\", got \"%s\"", t);
    snprintf(f->theme, sizeof f->theme, "%s", t);
  }
  t = cplv_opt_string(L, idx, "palette", fname);
  if (t) {
    if (strcmp(t, "default") && strcmp(t, "cividis"))
      cpl_argerror(L, fname, idx, "opts.palette",
                   "expected \"default\" or \"cividis\", got \"%s\"", t);
    snprintf(f->palette, sizeof f->palette, "%s", t);
  }
  f->chrome = cplv_opt_bool(L, idx, "chrome", f->chrome);
  lua_getfield(L, idx, "panels");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1))
      cpl_argerror(L, fname, idx, "opts.panels",
                   "expected a list of panel names, got %s",
                   luaL_typename(L, -1));
    unsigned m = 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      const char *nm = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                      : NULL;
      int bit = -1;
      for (int j = 0; nm && panel_names[j]; j++)
        if (!strcmp(nm, panel_names[j])) bit = j;
      if (bit < 0)
        cpl_argerror(L, fname, idx, "opts.panels",
                     "unknown panel %s (known: input, kernel, output, taps, "
                     "formula, header)",
                     nm ? nm : luaL_typename(L, -1));
      m |= 1u << bit;
      lua_pop(L, 1);
    }
    if (m == 0)
      cpl_argerror(L, fname, idx, "opts.panels", "no panel to draw");
    f->panels = m;
  }
  lua_pop(L, 1);
}

/* What a figure changes on the view, to put back afterwards (the window's
 * hit tests use the grids of the last frame it drew). */
typedef struct fig_saved {
  const char *theme, *palette;
  vz_view_frame fr;
  vz_stack_hits st;
} fig_saved;

static void fig_begin(lview *lv, const fig *f, fig_saved *sv) {
  sv->theme = vz_set_theme(f->theme);
  sv->palette = vz_set_palette(f->palette);
  /* where the window drew the grids (its mouse hit test) */
  if (lv->st) vz_stack_hits_get(lv->st, &sv->st);
  if (lv->v) vz_view_frame_begin(lv->v, &sv->fr, f->chrome, f->panels);
}

/* keep_hits: the figure had the window's own size, so its grids and
 * controls stay for the mouse (see vz_view_frame_end) */
static void fig_end_keep(lview *lv, fig_saved *sv, int keep_hits) {
  if (sv->theme) vz_set_theme(sv->theme);
  if (sv->palette) vz_set_palette(sv->palette);
  if (lv->st && !keep_hits) vz_stack_hits_set(lv->st, &sv->st);
  if (lv->v) vz_view_frame_end(lv->v, &sv->fr, keep_hits);
}

static void fig_end(lview *lv, fig_saved *sv) { fig_end_keep(lv, sv, 0); }

static void draw_page(lview *lv, vz_canvas *s) {
  if (lv->v) vz_view_draw(lv->v, s);
  else if (lv->sh) vz_show_draw(lv->sh, s);
  else if (lv->st) vz_stack_draw(lv->st, s);
  else vz_clear(s, VZ_BG);
}

static int has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  return n > e && !strcasecmp(path + n - e, ext);
}

/* v:screenshot(path [, opts]): PNG, or SVG / PDF by the extension. */
static int m_screenshot(lua_State *L) {
  const char *fname = "view:screenshot";
  lview *lv = checklview(L, 1);
  const char *p = luaL_checkstring(L, 2);
  fig f;
  fig_opts(L, 3, fname, lv, &f, NULL);
  cplv_fonts(L, fname);
  char path[4096], err[512];
  if (strlen(p) >= sizeof path)
    return cpl_argerror(L, fname, 2, "path", "file name too long");
  snprintf(path, sizeof path, "%s", p);
  int vector = has_ext(path, ".svg") || has_ext(path, ".pdf");
  vz_canvas *s = vector ? vz_canvas_vector(path, f.w, f.h, err, sizeof err)
                        : vz_canvas_new(f.w, f.h);
  if (!s) {
    if (!vector) snprintf(err, sizeof err, "cannot allocate a %dx%d frame",
                          f.w, f.h);
    return luaL_error(L, "%s: %s", fname, err);
  }
  fig_saved sv;
  fig_begin(lv, &f, &sv);
  draw_page(lv, s);
  fig_end(lv, &sv);
  int rc = vector ? vz_canvas_finish(s, err, sizeof err)
                  : vz_save_png(s, path, err, sizeof err);
  vz_canvas_free(s);
  if (rc) return luaL_error(L, "%s: %s", fname, err);
  lua_pushstring(L, path);
  return 1;
}

/* v:record(path [, {fps=, max_frames=, by=, and the figure options}]): the
 * whole step-through as an animated GIF, from step 1 to the last (every
 * k-th step when there are more than max_frames), holding the last frame a
 * little. */
static int m_record(lua_State *L) {
  const char *fname = "view:record";
  lview *lv = checklview(L, 1);
  vz_view *v = checkview(L, 1, fname);
  const char *p = luaL_checkstring(L, 2);
  static const char *const extra[] = {"fps", "max_frames", "by", NULL};
  fig f;
  fig_opts(L, 3, fname, lv, &f, extra);
  int fps = 4, maxf = 400;
  vz_view_state vs;
  int by = view_state(v, &vs)->by_tap;
  if (!lua_isnoneornil(L, 3)) {
    fps = cplv_opt_int(L, 3, "fps", 4, fname, 1, 100);
    maxf = cplv_opt_int(L, 3, "max_frames", 400, fname, 1, INT_MAX);
    const char *b = cplv_opt_string(L, 3, "by", fname);
    if (b && strcmp(b, "tap") && strcmp(b, "cell"))
      cpl_argerror(L, fname, 3, "opts.by", "expected \"tap\" or \"cell\", "
                   "got \"%s\"", b);
    if (b) by = !strcmp(b, "tap");
  }
  char path[4096];
  if (strlen(p) >= sizeof path)
    return cpl_argerror(L, fname, 2, "path", "file name too long");
  snprintf(path, sizeof path, "%s", p);
  if (!vs.ok) return luaL_error(L, "%s: %s", fname, vz_view_error(v));
  if (vz_view_steps_by(v, by) == 0)
    return luaL_error(L, "%s: nothing to record (the output is empty)", fname);
  cplv_fonts(L, fname);
  int64_t keep = vs.step, keep_by = vs.by_tap;
  int keep_play = vs.playing;
  vz_view_set_by_tap(v, by);
  vz_view_set_playing(v, 0, 0);
  int64_t n = vz_view_steps(v), every = (n + maxf - 1) / maxf;
  if (every < 1) every = 1;
  char err[512] = "out of memory";
  fig_saved sv;
  fig_begin(lv, &f, &sv);
  vz_canvas *s = vz_canvas_new(f.w, f.h);
  vz_gif *g = s ? vz_gif_open(path, f.w, f.h, 100 / fps, err, sizeof err)
                : NULL;
  int rc = g ? 0 : -1, frames = 0;
  for (int64_t st = 1; rc == 0 && st <= n; st += every) {
    vz_view_seek(v, st);
    vz_view_draw(v, s);
    rc = vz_gif_frame(g, s, st + every > n ? 100 / fps * 4 : 100 / fps, err,
                      sizeof err);
    frames++;
  }
  if (rc == 0 && (n - 1) % every != 0) { /* always end on the last step */
    vz_view_seek(v, n);
    vz_view_draw(v, s);
    rc = vz_gif_frame(g, s, 100 / fps * 4, err, sizeof err);
    frames++;
  }
  if (g && vz_gif_close(g, rc == 0, err, sizeof err)) rc = -1;
  vz_canvas_free(s);
  fig_end(lv, &sv);
  vz_view_set_by_tap(v, (int)keep_by);
  vz_view_seek(v, keep);
  vz_view_set_playing(v, keep_play, 0);
  if (rc) return luaL_error(L, "%s: %s", fname, err);
  lua_pushinteger(L, frames);
  return 1;
}

static int m_key(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:key");
  const char *k = luaL_checkstring(L, 2);
  int shift = lua_toboolean(L, 3);
  /* "S" means shift+s, as typed */
  char lower[2] = {0, 0};
  if (strlen(k) == 1 && k[0] >= 'A' && k[0] <= 'Z') {
    lower[0] = (char)(k[0] - 'A' + 'a');
    k = lower;
    shift = 1;
  }
  lua_pushboolean(L, vz_view_key(v, k, shift));
  return 1;
}

static int m_mode(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:mode");
  if (!lua_isnoneornil(L, 2)) {
    const char *m = luaL_checkstring(L, 2);
    if (strcmp(m, "tap") && strcmp(m, "cell"))
      return luaL_argerror(L, 2, "expected \"tap\" or \"cell\"");
    vz_view_set_by_tap(v, !strcmp(m, "tap"));
  }
  vz_view_state s;
  lua_pushstring(L, view_state(v, &s)->by_tap ? "tap" : "cell");
  return 1;
}

/* v:grad(["input" | "weight" | "bias"]): the backward view's mode. */
static int m_grad(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:grad");
  vz_view_state s;
  if (!view_state(v, &s)->grad)
    return luaL_error(L, "view:grad: not a backward view "
                         "(viz.conv2d_backward)");
  if (!lua_isnoneornil(L, 2)) {
    int i = luaL_checkoption(L, 2, NULL, grad_modes);
    vz_view_set_grad(v, VZ_GRAD_INPUT + i);
  }
  lua_pushstring(L, vz_grad_name(view_state(v, &s)->grad));
  return 1;
}

/* v:gemm(["im2col" | "matrix" | "matrix_t"]): the unfold view's picture. */
static int m_gemm(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:gemm");
  vz_view_state s;
  if (!view_state(v, &s)->gemm)
    return luaL_error(L, "view:gemm: not an unfold view (viz.unfold)");
  if (!lua_isnoneornil(L, 2)) {
    int i = luaL_checkoption(L, 2, NULL, gemm_modes);
    vz_view_set_gemm(v, VZ_GEMM_IM2COL + i);
  }
  lua_pushstring(L, vz_gemm_name(view_state(v, &s)->gemm));
  return 1;
}

/* "conv2d", or a transposed view's "scatter" / "gather". */
static const char *kind_name(const vz_view_state *s) {
  return !s->req.transposed ? "conv2d" : s->scatter ? "scatter" : "gather";
}

static int m_view(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:view");
  vz_view_state s;
  view_state(v, &s);
  if (!lua_isnoneornil(L, 2)) {
    const char *m = luaL_checkstring(L, 2);
    if (strcmp(m, "scatter") && strcmp(m, "gather"))
      return luaL_argerror(L, 2, "expected \"scatter\" or \"gather\"");
    if (s.grad == VZ_GRAD_INPUT) {
      if (s.scatter != !strcmp(m, "scatter")) vz_view_key(v, "v", 0);
    } else {
      if (!s.req.transposed)
        return luaL_error(L, "view:view: only a transposed view (or a "
                             "backward view's grad_input) has a scatter and "
                             "a gather view");
      vz_view_set_scatter(v, !strcmp(m, "scatter"));
    }
    view_state(v, &s);
  }
  lua_pushstring(L, s.grad == VZ_GRAD_INPUT ? (s.scatter ? "scatter"
                                                         : "gather")
                                            : kind_name(&s));
  return 1;
}

int cplv_set_result(lua_State *L, vz_view *v, int rc) {
  if (rc) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, vz_view_error(v));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* v:set{stride=, padding=, dilation=, output_padding=, padding_mode=,
 * flip=}: change parameters live.  Returns true, or false and the reason
 * (the view then shows the error, as after a key). */
static int m_set(lua_State *L) {
  const char *fname = "view:set";
  vz_view *v = checkview(L, 1, fname);
  luaL_checktype(L, 2, LUA_TTABLE);
  vz_view_state s;
  if (view_state(v, &s)->pool || s.dims1)
    return cplv_set_special(L, v, &s); /* wrap_vizops.c */
  static const char *const keys[] = {"stride", "padding", "dilation",
                                     "output_padding", "padding_mode",
                                     "flip", NULL};
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    int ok = 0;
    for (int i = 0; keys[i] && !ok; i++) ok = !strcmp(k, keys[i]);
    if (!ok)
      return luaL_error(L, "%s: unknown option '%s' (known: stride, padding, "
                           "dilation, output_padding, padding_mode, flip)",
                        fname, k);
  }
  /* The given keys over the current request, by the one parser. */
  cp_conv_params np = s.req;
  int flip = s.flip;
  if (lua_getfield(L, 2, "flip") != LUA_TNIL) {
    if (np.transposed)
      return luaL_error(L, "%s: flip is a conv2d option", fname);
    if (s.grad || s.gemm || s.cmpview)
      return luaL_error(L, "%s: flip does not apply to a %s view", fname,
                        s.grad ? "backward" : s.gemm ? "unfold" : "compare");
    flip = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  cpl_conv_opts_over(L, 2, 1, fname, &np); /* a method: opts is #1 */
  return cplv_set_result(L, v, vz_view_set_params(v, &np, flip));
}

static int m_hover(lua_State *L) {
  lview *lv = checklview(L, 1);
  if (lv->st) return cplv_stack_hover(L, lv->st);
  vz_view *v = checkview(L, 1, "view:hover");
  vz_view_state s;
  view_state(v, &s);
  if (lua_isnoneornil(L, 2)) {
    vz_view_hover(v, 0, NULL);
    return 0;
  }
  const char *what = luaL_checkstring(L, 2);
  int w = !strcmp(what, "output")     ? 1
          : !strcmp(what, "input")    ? 2
          : !strcmp(what, "gradient") ? VZ_HOVER_GRAD
                                      : 0;
  if (!w)
    return luaL_argerror(L, 2,
                         "expected \"output\", \"input\" or \"gradient\"");
  if (w == VZ_HOVER_GRAD && s.grad < VZ_GRAD_WEIGHT)
    return cpl_argerror(L, "view:hover", 2, "what",
                        "gradient cells belong to the grad_weight and "
                        "grad_bias views");
  luaL_checktype(L, 3, LUA_TTABLE);
  if (!s.ok) { /* the view shows an error: no cells to hover */
    vz_view_hover(v, 0, NULL);
    return 0;
  }
  const cp_geom *g = &s.g;
  const int64_t dims[3][4] = {{g->N, g->O, g->OH, g->OW},
                              {g->N, g->C, g->H, g->W},
                              {g->O, g->Cg, g->kH, g->kW}};
  /* grad_bias: {o} */
  int nidx = w == VZ_HOVER_GRAD && s.grad == VZ_GRAD_BIAS ? 1 : 4;
  int64_t idx[4] = {0, 0, 0, 0};
  for (int i = 0; i < nidx; i++) {
    lua_rawgeti(L, 3, i + 1);
    idx[i] = cpl_checkint_arg(L, lua_gettop(L), 3, "view:hover", "index", 1,
                              LUA_MAXINTEGER) - 1;
    lua_pop(L, 1);
    if (idx[i] >= dims[w - 1][i])
      return cpl_argerror(L, "view:hover", 3, "index",
                          "%s index %lld is out of range 1..%lld at "
                          "dimension %d",
                          what, (long long)idx[i] + 1,
                          (long long)dims[w - 1][i], i + 1);
  }
  vz_view_hover(v, w, idx);
  return 0;
}

static int m_mouse(lua_State *L) {
  lview *lv = checklview(L, 1);
  if (lv->st) return cplv_stack_mouse(L, lv->st);
  vz_view *v = checkview(L, 1, "view:mouse");
  vz_view_mouse(v, cpl_checkcoord(L, 2), cpl_checkcoord(L, 3));
  vz_view_state s;
  lua_pushstring(L, hover_name(view_state(v, &s)->hover));
  if (s.hover) {
    push_idx(L, s.hover_idx, 4);
    return 2;
  }
  return 1;
}

/* v:click(x, y): as a mouse click there (jumps to a clicked output cell's
 * step); returns the step. */
static int m_click(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:click");
  vz_view_click(v, cpl_checkcoord(L, 2), cpl_checkcoord(L, 3));
  lua_pushinteger(L, vz_view_step(v));
  return 1;
}

static void push_grids(lua_State *L, const vz_grid *g, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, g[i].x);
    lua_setfield(L, -2, "x");
    lua_pushinteger(L, g[i].y);
    lua_setfield(L, -2, "y");
    lua_pushinteger(L, g[i].cs);
    lua_setfield(L, -2, "cell");
    lua_pushinteger(L, g[i].r0 + 1);
    lua_setfield(L, -2, "row0");
    lua_pushinteger(L, g[i].c0 + 1);
    lua_setfield(L, -2, "col0");
    lua_pushinteger(L, g[i].rows);
    lua_setfield(L, -2, "rows");
    lua_pushinteger(L, g[i].cols);
    lua_setfield(L, -2, "cols");
    lua_pushinteger(L, g[i].ch + 1);
    lua_setfield(L, -2, "channel");
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_color(lua_State *L, vz_color c) {
  lua_createtable(L, 3, 0);
  lua_pushinteger(L, c.r);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, c.g);
  lua_rawseti(L, -2, 2);
  lua_pushinteger(L, c.b);
  lua_rawseti(L, -2, 3);
}

/* The boxes a canvas recorded, as the array part of the table on top. */
void cplv_push_boxes(lua_State *L, const vz_canvas *s) {
  static const char *const kinds[] = {"text", "label", "panel"};
  for (int i = 0; i < s->nbox; i++) {
    const vz_box *b = &s->boxes[i];
    lua_createtable(L, 0, 8);
    lua_pushstring(L, kinds[b->kind]);
    lua_setfield(L, -2, "kind");
    if (b->text) {
      lua_pushstring(L, b->text);
      lua_setfield(L, -2, "text");
      lua_pushinteger(L, b->px);
      lua_setfield(L, -2, "size");
      push_color(L, b->fg);
      lua_setfield(L, -2, "color");
    }
    if (b->kind == VZ_BOX_LABEL) {
      push_color(L, b->bg);
      lua_setfield(L, -2, "background");
    }
    if (b->name) {
      lua_pushstring(L, b->name);
      lua_setfield(L, -2, "name");
    }
    lua_pushinteger(L, b->layer);
    lua_setfield(L, -2, "layer");
    lua_pushnumber(L, b->x);
    lua_setfield(L, -2, "x");
    lua_pushnumber(L, b->y);
    lua_setfield(L, -2, "y");
    lua_pushnumber(L, b->w);
    lua_setfield(L, -2, "w");
    lua_pushnumber(L, b->h);
    lua_setfield(L, -2, "h");
    lua_rawseti(L, -2, i + 1);
  }
}

/* The clickable controls of the last frame, as layout's `controls`. */
static void push_controls(lua_State *L, const vz_control *ctl, int n) {
  static const char *const kinds[] = {"", "minus", "plus", "chip", "play",
                                      "help", "code"};
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const vz_control *c = &ctl[i];
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, c->x);
    lua_setfield(L, -2, "x");
    lua_pushinteger(L, c->y);
    lua_setfield(L, -2, "y");
    lua_pushinteger(L, c->w);
    lua_setfield(L, -2, "w");
    lua_pushinteger(L, c->h);
    lua_setfield(L, -2, "h");
    lua_pushstring(L, c->key);
    lua_setfield(L, -2, "key");
    lua_pushboolean(L, c->shift);
    lua_setfield(L, -2, "shift");
    lua_pushstring(L, c->kind >= 0 && c->kind <= VZ_CTL_CODE ? kinds[c->kind]
                                                             : "");
    lua_setfield(L, -2, "kind");
    lua_rawseti(L, -2, i + 1);
  }
}

/* What a view's last frame recorded for hit tests: its grids (input,
 * kernel, output), controls and timeline, into the table on top. */
static void view_hits(lua_State *L, const vz_view *v) {
  vz_view_hits hit;
  vz_view_hits_get(v, &hit);
  push_grids(L, hit.gin, hit.nin);
  lua_setfield(L, -2, "input");
  push_grids(L, hit.gk, hit.nk);
  lua_setfield(L, -2, "kernel");
  push_grids(L, hit.gout, hit.nout);
  lua_setfield(L, -2, "output");
  push_controls(L, hit.ctl, hit.nctl);
  lua_setfield(L, -2, "controls");
  if (hit.tl[2] > 0) {
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, hit.tl[0]);
    lua_setfield(L, -2, "x");
    lua_pushinteger(L, hit.tl[1]);
    lua_setfield(L, -2, "y");
    lua_pushinteger(L, hit.tl[2]);
    lua_setfield(L, -2, "w");
    lua_pushinteger(L, hit.tl[3]);
    lua_setfield(L, -2, "h");
    lua_setfield(L, -2, "timeline");
  }
}

/* v:layout([opts]): a frame drawn now (the figure options of screenshot),
 * described: the array part lists every text, cell label and panel drawn
 * ({kind = "text" | "label" | "panel", text =, x =, y =, w =, h =, size =,
 * color =, background = (labels)}), and input / kernel / output give each
 * grid ({x=, y=, cell=, row0=, col0=, rows=, cols=, channel=}; cell (r, c),
 * 1-based, row0/col0 <= 0 for padding, starts at x + (c - col0) * cell,
 * y + (r - row0) * cell); width and height give the frame size. */
static int m_layout(lua_State *L) {
  const char *fname = "view:layout";
  lview *lv = checklview(L, 1);
  fig f;
  fig_opts(L, 2, fname, lv, &f, NULL);
  cplv_fonts(L, fname);
  vz_canvas *s = vz_canvas_new(f.w, f.h);
  if (!s)
    return luaL_error(L, "%s: cannot allocate a %dx%d frame", fname, f.w, f.h);
  fig_saved sv;
  fig_begin(lv, &f, &sv);
  draw_page(lv, s);
  lua_createtable(L, s->nbox, 5);
  cplv_push_boxes(L, s);
  if (lv->v) view_hits(L, lv->v);
  if (lv->st) cplv_stack_grids(L, lv->st);
  lua_pushinteger(L, f.w);
  lua_setfield(L, -2, "width");
  lua_pushinteger(L, f.h);
  lua_setfield(L, -2, "height");
  /* same size as the view's frame: keep these grids for hit tests */
  int w, h;
  page_size(lv, &w, &h);
  fig_end_keep(lv, &sv, (lv->v || lv->st) && f.w == w && f.h == h);
  vz_canvas_free(s);
  return 1;
}

/* v:frame_ms([opts [, n]]): median time in ms to draw one frame of the
 * view (the figure options of screenshot) into a reused canvas, over n
 * draws (default 21): what `make bench` reports. */
static int m_frame_ms(lua_State *L) {
  const char *fname = "view:frame_ms";
  lview *lv = checklview(L, 1);
  fig f;
  fig_opts(L, 2, fname, lv, &f, NULL);
  int n = lua_isnoneornil(L, 3)
              ? 21
              : (int)cpl_checkint(L, 3, fname, "n", 1, 100000);
  cplv_fonts(L, fname);
  double *t = malloc(sizeof *t * (size_t)n);
  vz_canvas *s = t ? vz_canvas_new(f.w, f.h) : NULL;
  if (!s) {
    free(t);
    return luaL_error(L, "%s: cannot allocate a %dx%d frame", fname, f.w, f.h);
  }
  fig_saved sv;
  fig_begin(lv, &f, &sv);
  draw_page(lv, s); /* warm the caches */
  for (int i = 0; i < n; i++) {
    uint64_t t0 = SDL_GetPerformanceCounter();
    draw_page(lv, s);
    vz_canvas_pixels(s, NULL); /* flush: the frame is complete */
    t[i] = (double)(SDL_GetPerformanceCounter() - t0) * 1000.0 /
           (double)SDL_GetPerformanceFrequency();
  }
  fig_end(lv, &sv);
  vz_canvas_free(s);
  for (int i = 1; i < n; i++) /* insertion sort: n is small */
    for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
      double x = t[j];
      t[j] = t[j - 1];
      t[j - 1] = x;
    }
  lua_pushnumber(L, t[n / 2]);
  free(t);
  return 1;
}

static int push_text(lua_State *L) {
  lua_pushstring(L, lua_touserdata(L, 1));
  return 1;
}

/* v:code(["pytorch" | "keras" [, show]]) -> text, expressible: the program
 * that computes what the view draws (viz/code.h); Keras's text says "not
 * expressible in Keras: <reason>" and expressible is false when it is not.
 * show (a boolean) shows the code panel in that language, or hides it. */
static int m_code(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:code");
  const char *name = luaL_optstring(L, 2, "pytorch");
  char low[16];
  size_t i = 0;
  for (; name[i] && i < sizeof low - 1; i++)
    low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
  low[i] = 0;
  vz_code_lang lang;
  if (name[i] || vz_code_parse_lang(low, &lang))
    return luaL_argerror(L, 2, lua_pushfstring(L, "expected \"pytorch\" or "
                                               "\"keras\", got \"%s\"", name));
  if (!lua_isnoneornil(L, 3)) { /* show (true) or hide (false) the panel */
    luaL_checktype(L, 3, LUA_TBOOLEAN);
    vz_view_show_code(v, lua_toboolean(L, 3)
                             ? (lang == VZ_CODE_KERAS ? 2 : 1) : 0);
  }
  int ok;
  char *t = vz_code(v, lang, &ok);
  if (!t) return luaL_error(L, "view:code: out of memory");
  /* copied under pcall: the text is freed even when the copy fails */
  lua_pushcfunction(L, push_text);
  lua_pushlightuserdata(L, t);
  int rc = lua_pcall(L, 1, 1, 0);
  free(t);
  if (rc != LUA_OK) return lua_error(L);
  lua_pushboolean(L, ok);
  return 2;
}

/* v:compare([show]) -> correlation, convolution: both outputs of a conv2d
 * view (N,O,OH,OW), flip off and on; show (a boolean) shows or hides the
 * side-by-side panel first (key F). */
static int m_compare(lua_State *L) {
  const char *fname = "view:compare";
  vz_view *v = checkview(L, 1, fname);
  vz_view_state s;
  if (view_state(v, &s)->req.transposed)
    return luaL_error(L, "%s: correlation and convolution are conv2d's; "
                         "this is a transposed view", fname);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TBOOLEAN);
    vz_view_show_compare(v, lua_toboolean(L, 2));
  }
  if (!view_state(v, &s)->ok)
    return luaL_error(L, "%s: %s", fname, vz_view_error(v));
  cp_tensor *a = cpl_newtensor(L), *b = cpl_newtensor(L);
  cp_err e;
  if (cp_tensor_empty4(a, s.g.N, s.g.O, s.g.OH, s.g.OW, &e) ||
      cp_tensor_empty4(b, s.g.N, s.g.O, s.g.OH, s.g.OW, &e))
    return cpl_error(L, fname, &e);
  if (vz_view_compare_outputs(v, cp_tensor_data(a), cp_tensor_data(b)))
    return luaL_error(L, "%s: out of memory", fname);
  return 2;
}

static int m_output(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:output");
  cpl_hold(L, v); /* the shape read below must still be the output's */
  static const char *const which[] = {"correlation", "convolution", NULL};
  int conv = 0;
  vz_view_state s;
  view_state(v, &s);
  if (!lua_isnoneornil(L, 2)) {
    conv = luaL_checkoption(L, 2, NULL, which);
    if (!s.cmpview)
      return luaL_error(L, "view:output: only a compare view (viz.compare) "
                           "has two outputs");
  }
  if (!s.ok) return luaL_error(L, "view:output: %s", vz_view_error(v));
  cp_tensor *t = cpl_newtensor(L);
  cp_err e;
  /* grad_weight: the weight's shape; grad_bias: (O) */
  if (cp_tensor_empty(t, s.out_ndim, s.out_shape, &e))
    return cpl_error(L, "view:output", &e);
  memcpy(cp_tensor_data(t), vz_view_output(v, conv),
         sizeof(float) * (size_t)cp_tensor_numel(t));
  return 1;
}

static int m_play(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:play");
  vz_view_set_playing(v, lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2),
                      lua_isnumber(L, 3) ? lua_tonumber(L, 3) : 0);
  return 0;
}

/* v:title([text]), v:caption([text]): the header's title and explanation
 * line; return the current text. */
static int m_title(lua_State *L) {
  lview *lv = checklview(L, 1);
  if (lv->v) {
    if (!lua_isnoneornil(L, 2))
      vz_view_set_title(lv->v, luaL_checkstring(L, 2));
    lua_pushstring(L, vz_view_title(lv->v));
    return 1;
  }
  if (lv->sh) {
    if (!lua_isnoneornil(L, 2))
      vz_show_set_title(lv->sh, luaL_checkstring(L, 2));
    lua_pushstring(L, vz_show_title(lv->sh));
    return 1;
  }
  if (!lv->st) return luaL_error(L, "view:title: the view was closed");
  if (!lua_isnoneornil(L, 2))
    vz_stack_set_title(lv->st, luaL_checkstring(L, 2));
  lua_pushstring(L, vz_stack_title(lv->st));
  return 1;
}

static int m_caption(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:caption");
  if (!lua_isnoneornil(L, 2)) vz_view_set_caption(v, luaL_checkstring(L, 2));
  lua_pushstring(L, vz_view_caption(v));
  return 1;
}

static int m_tostring(lua_State *L) {
  lview *lv = checklview(L, 1);
  vz_view_state s;
  if (lv->v) {
    view_state(lv->v, &s);
    lua_pushfstring(L, "viz view (%s, step %d of %d)", kind_name(&s),
                    (int)s.step, (int)s.steps);
  } else if (lv->sh)
    lua_pushfstring(L, "viz show (%d grids)", vz_show_count(lv->sh));
  else if (lv->st)
    lua_pushfstring(L, "viz stack (%d layers)", vz_stack_count(lv->st));
  else
    lua_pushstring(L, "viz view (closed)");
  return 1;
}

static const luaL_Reg view_methods[] = {
    {"step", m_step},         {"seek", m_seek},
    {"state", m_state},       {"screenshot", m_screenshot},
    {"record", m_record},     {"key", m_key},
    {"mode", m_mode},         {"view", m_view},
    {"set", m_set},           {"hover", m_hover},
    {"mouse", m_mouse},       {"click", m_click},
    {"layout", m_layout},     {"frame_ms", m_frame_ms},
    {"output", m_output},     {"play", m_play},
    {"code", m_code},         {"compare", m_compare},
    {"grad", m_grad},         {"gemm", m_gemm},
    {"title", m_title},       {"caption", m_caption},
    {"close", view_release},  {NULL, NULL}};

static const luaL_Reg view_meta[] = {{"__gc", view_release},
                                     {"__close", view_release},
                                     {"__tostring", m_tostring},
                                     {NULL, NULL}};

/* viz.theme([name]) / viz.palette([name]): set what every later frame is
 * drawn with ("dark" | "light"; "default" | "cividis"); returns the
 * current one. */
static int l_theme(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    static const char *const names[] = {"dark", "light", NULL};
    vz_set_theme(names[luaL_checkoption(L, 1, NULL, names)]);
  }
  lua_pushstring(L, vz_th->name);
  return 1;
}

static int l_palette(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    static const char *const names[] = {"default", "cividis", NULL};
    vz_set_palette(names[luaL_checkoption(L, 1, NULL, names)]);
  }
  lua_pushstring(L, vz_palette_name());
  return 1;
}

static const luaL_Reg viz_funcs[] = {
    {"theme", l_theme},
    {"palette", l_palette},
    {"conv2d", l_conv2d},
    {"conv_transpose2d", l_conv_transpose2d},
    {"conv2d_backward", l_conv2d_backward},
    {"unfold", l_unfold},
    {"compare", l_compare},
    {"max_pool2d", cplv_max_pool2d},
    {"avg_pool2d", cplv_avg_pool2d},
    {"max_pool1d", cplv_max_pool1d},
    {"avg_pool1d", cplv_avg_pool1d},
    {"max_unpool2d", cplv_max_unpool2d},
    {"conv1d", cplv_conv1d},
    {"conv_transpose1d", cplv_conv_transpose1d},
    {"show", l_show},
    {"stack", cplv_stack},
    {"lab", cpl_viz_lab},
    {NULL, NULL}};

static int l_help(lua_State *L) {
  lua_pushstring(L, vz_view_help_text());
  return 1;
}

int luaopen_viz(lua_State *L) {
  if (luaL_newmetatable(L, VIEW_MT)) {
    cpl_setfuncs(L, view_meta);
    cpl_newlib(L, view_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  cpl_newlib(L, viz_funcs);
  lua_pushcclosure(L, l_help, 0);
  lua_setfield(L, -2, "help"); /* uses nothing: no frame needed */
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  lua_setfield(L, -2, "headless");
  cpl_setfuncs(L, cplv_loop_funcs);
  cplv_loop_open();
  return 1;
}

