/* wrap_vizstack.c - viz.stack{...}: a stack of layers as a page.
 *
 *   s = viz.stack{input = {H, W} | {C, H, W} | tensor,
 *                 {op = "conv2d", weight = w, stride =, padding =, ...},
 *                 ..., title =, width =, height =}
 * Layers are the array part; a layer's numbers are an int or {h, w}.
 * The geometry is core/geometry's (cp_layer_*), the drawing viz/stack.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "viz/stack.h"
#include "viz_priv.h"

static const char *const ops[] = {"conv2d", "conv_transpose2d", "max_pool2d",
                                  "avg_pool2d", NULL};

/* Raise "viz.stack: layer i: reason" (printf formats: %lld too). */
static int lerr(lua_State *L, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int lerr(lua_State *L, int i, const char *fmt, ...) {
  char b[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  return luaL_error(L, "viz.stack: layer %d: %s", i, b);
}

/* Raise "viz.stack: layer i: reason". */
static int layer_error(lua_State *L, int i, const char *fmt, const char *a) {
  return luaL_error(L, "viz.stack: layer %d: %s%s", i, fmt, a ? a : "");
}

/* Field key of the layer table at idx: an int or a pair {h, w}. */
static void pair_field(lua_State *L, int idx, int i, const char *key,
                       int64_t dflt0, int64_t dflt1, int64_t *out) {
  out[0] = dflt0, out[1] = dflt1;
  int t = lua_getfield(L, idx, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (t == LUA_TNUMBER && lua_isinteger(L, -1)) {
    out[0] = out[1] = lua_tointeger(L, -1);
  } else if (t == LUA_TTABLE && lua_rawlen(L, -1) == 2) {
    for (int k = 0; k < 2; k++) {
      lua_rawgeti(L, -1, k + 1);
      if (!lua_isinteger(L, -1))
        luaL_error(L, "viz.stack: layer %d: %s: expected an integer or a "
                   "pair of integers", i, key);
      out[k] = lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
  } else {
    luaL_error(L, "viz.stack: layer %d: %s: expected an integer or a pair "
               "of integers, got %s", i, key, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
}

/* Parse layer i (table at idx) into l; returns its output channels (0:
 * unknown) given the input channels C. */
static int64_t parse_layer(lua_State *L, int idx, int i, int64_t C,
                           cp_layer *l, const char **opname) {
  static const char *const keys[] = {"op", "weight", "kernel_size", "stride",
    "padding", "dilation", "output_padding", "groups", "ceil_mode", NULL};
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    int ok = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (int k = 0; keys[k] && !ok; k++)
        ok = !strcmp(lua_tostring(L, -1), keys[k]);
    if (!ok)
      luaL_error(L, "viz.stack: layer %d: unknown key '%s' (known: op, "
                 "weight, kernel_size, stride, padding, dilation, "
                 "output_padding, groups, ceil_mode)", i,
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                : luaL_typename(L, -1));
  }
  lua_getfield(L, idx, "op");
  const char *op = lua_tostring(L, -1);
  int kind = -1;
  for (int k = 0; op && ops[k]; k++)
    if (!strcmp(op, ops[k])) kind = k;
  if (kind < 0)
    layer_error(L, i, "op must be \"conv2d\", \"conv_transpose2d\", "
                "\"max_pool2d\" or \"avg_pool2d\", got ",
                op ? op : luaL_typename(L, -1));
  *opname = ops[kind];
  lua_pop(L, 1);
  memset(l, 0, sizeof *l);
  l->kind = kind == 0 ? CP_LAYER_CONV : kind == 1 ? CP_LAYER_CONVT
            : kind == 2 ? CP_LAYER_MAXPOOL : CP_LAYER_AVGPOOL;
  int conv = kind <= 1;
  int64_t outC = C, groups = 1;
  if (!conv) { /* pooling: kernel_size, stride = kernel */
    lua_getfield(L, idx, "weight");
    if (!lua_isnil(L, -1)) layer_error(L, i, "a pooling layer has no weight",
                                       NULL);
    lua_pop(L, 1);
    pair_field(L, idx, i, "kernel_size", 0, 0, l->k);
    if (!l->k[0]) layer_error(L, i, "kernel_size is required", NULL);
    pair_field(L, idx, i, "stride", l->k[0], l->k[1], l->s);
  } else {
    int64_t g[2];
    pair_field(L, idx, i, "groups", 1, 1, g);
    groups = g[0];
    if (groups < 1) layer_error(L, i, "groups must be at least 1", NULL);
    lua_getfield(L, idx, "weight");
    if (!lua_isnil(L, -1)) {
      cp_tensor *w = cpl_totensor(L, -1);
      if (!w) layer_error(L, i, "weight: tensor expected, got ",
                          luaL_typename(L, -1));
      if (w->ndim != 4)
        luaL_error(L, "viz.stack: layer %d: weight must be 4-D (%s), got "
                   "%d-D", i, kind ? "C_in, C_out/groups, kH, kW"
                                   : "C_out, C_in/groups, kH, kW", w->ndim);
      l->k[0] = w->shape[2], l->k[1] = w->shape[3];
      int64_t cin = kind ? w->shape[0] : w->shape[1] * groups;
      int64_t cout = kind ? w->shape[1] * groups : w->shape[0];
      if (kind && w->shape[0] % groups)
        lerr(L, i, "weight's %lld input channels "
                   "are not divisible by groups %lld",
                   (long long)w->shape[0], (long long)groups);
      if (!kind && cout % groups)
        lerr(L, i, "weight's %lld output channels "
                   "are not divisible by groups %lld", (long long)cout,
                   (long long)groups);
      if (C && cin != C)
        lerr(L, i, "channel mismatch: the weight "
                   "expects %lld input channels, the previous layer gives "
                   "%lld", (long long)cin, (long long)C);
      outC = cout;
      int64_t ks[2];
      pair_field(L, idx, i, "kernel_size", l->k[0], l->k[1], ks);
      if (ks[0] != l->k[0] || ks[1] != l->k[1])
        layer_error(L, i, "kernel_size disagrees with the weight's shape",
                    NULL);
    } else {
      pair_field(L, idx, i, "kernel_size", 0, 0, l->k);
      if (!l->k[0]) layer_error(L, i, "a weight or kernel_size is required",
                                NULL);
      outC = 0;
    }
    lua_pop(L, 1);
    pair_field(L, idx, i, "stride", 1, 1, l->s);
  }
  pair_field(L, idx, i, "padding", 0, 0, l->p);
  pair_field(L, idx, i, "dilation", 1, 1, l->d);
  if (l->kind == CP_LAYER_AVGPOOL && (l->d[0] != 1 || l->d[1] != 1))
    layer_error(L, i, "avg_pool2d has no dilation", NULL);
  pair_field(L, idx, i, "output_padding", 0, 0, l->op);
  if (l->kind != CP_LAYER_CONVT && (l->op[0] || l->op[1]))
    layer_error(L, i, "output_padding is for conv_transpose2d only", NULL);
  lua_getfield(L, idx, "ceil_mode");
  l->ceil_mode = lua_toboolean(L, -1);
  if (l->ceil_mode && conv)
    layer_error(L, i, "ceil_mode is for pooling only", NULL);
  lua_pop(L, 1);
  return outC;
}

int cplv_stack(lua_State *L) {
  const char *fname = "viz.stack";
  cplv_fonts(L, fname);
  luaL_checktype(L, 1, LUA_TTABLE);
  lview *lv = cplv_newview(L);
  int ud = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, 1)) { /* only the known keys and the layer list */
    lua_pop(L, 1);
    int ok = lua_isinteger(L, -1);
    static const char *const keys[] = {"input", "title", "width", "height",
                                       NULL};
    if (lua_type(L, -1) == LUA_TSTRING)
      for (int k = 0; keys[k] && !ok; k++)
        ok = !strcmp(lua_tostring(L, -1), keys[k]);
    if (!ok)
      cpl_argerror(L, fname, 1, "opts", "unknown option '%s' (known: "
                   "input, title, width, height and the layers)",
                   lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                  : luaL_typename(L, -1));
  }
  const char *title = cplv_opt_string(L, 1, "title", fname);
  int width = cplv_opt_int(L, 1, "width", VZ_DEFAULT_W, fname, 320, 8192);
  int height = cplv_opt_int(L, 1, "height", VZ_DEFAULT_H, fname, 240, 8192);
  lv->st = vz_stack_new(title, width, height);
  if (!lv->st) return luaL_error(L, "%s: out of memory", fname);
  int64_t C = 0, H = 0, W = 0;
  lua_getfield(L, 1, "input");
  cp_tensor *x = cpl_totensor(L, -1);
  if (x) {
    if (x->ndim < 2 || x->ndim > 4)
      return cpl_argerror(L, fname, 1, "input", "expected a 2-D, 3-D or "
                          "4-D tensor, got %d-D", x->ndim);
    H = x->shape[x->ndim - 2], W = x->shape[x->ndim - 1];
    C = x->ndim >= 3 ? x->shape[x->ndim - 3] : 0;
  } else if (lua_istable(L, -1) && (lua_rawlen(L, -1) == 2 ||
                                    lua_rawlen(L, -1) == 3)) {
    int64_t v[3] = {0, 0, 0};
    int n = (int)lua_rawlen(L, -1);
    for (int k = 0; k < n; k++) {
      lua_rawgeti(L, -1, k + 1);
      if (!lua_isinteger(L, -1))
        cpl_argerror(L, fname, 1, "input", "expected integer sizes");
      v[3 - n + k] = lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
    C = v[0], H = v[1], W = v[2];
  } else {
    return cpl_argerror(L, fname, 1, "input", "expected {H, W}, {C, H, W} "
                        "or a tensor, got %s", luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  cp_err e;
  if (vz_stack_input(lv->st, C, H, W, &e)) return cpl_error(L, fname, &e);
  int n = (int)lua_rawlen(L, 1);
  if (n < 1) return luaL_error(L, "%s: no layers (list them: viz.stack{"
                               "{op = \"conv2d\", ...}, input = {H, W}})",
                               fname);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    if (!lua_istable(L, -1))
      return luaL_error(L, "%s: layer %d: expected a table, got %s", fname,
                        i, luaL_typename(L, -1));
    cp_layer l;
    const char *op;
    vz_stack_grid in;
    vz_stack_grid_get(lv->st, i - 1, &in);
    int64_t oc = parse_layer(L, lua_gettop(L), i, in.C, &l, &op);
    if (vz_stack_add(lv->st, &l, op, oc, &e))
      return luaL_error(L, "%s: layer %d (%s): %s", fname, i, op, e.msg);
    lua_pop(L, 1);
  }
  lua_settop(L, ud);
  cplv_register_view(L, -1);
  return 1;
}

/* s:hover(layer, row, col): layer 0 = the input, 1.. the layers' outputs;
 * row, col 1-based.  No arguments: clear.  Returns true, or false when the
 * cell is outside the grid. */
int cplv_stack_hover(lua_State *L, vz_stack *st) {
  if (lua_isnoneornil(L, 2)) {
    vz_stack_hover(st, -1, 0, 0);
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_Integer j = cpl_checkint(L, 2, "stack:hover", "layer", 0,
                               vz_stack_count(st));
  lua_Integer r = luaL_checkinteger(L, 3), c = luaL_checkinteger(L, 4);
  lua_pushboolean(L, vz_stack_hover(st, (int)j, r - 1, c - 1) == 0);
  return 1;
}

/* {lo, hi} 1-based of a set, and the list, as fields of the table on top. */
static void push_set(lua_State *L, const unsigned char *set, int64_t n,
                     const char *range, const char *list) {
  lua_newtable(L);
  int64_t lo = -1, hi = -1, k = 0;
  for (int64_t i = 0; i < n; i++)
    if (set[i]) {
      if (lo < 0) lo = i;
      hi = i;
      lua_pushinteger(L, i + 1);
      lua_rawseti(L, -2, ++k);
    }
  lua_setfield(L, -2, list);
  lua_createtable(L, 2, 0);
  lua_pushinteger(L, lo + 1);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, hi + 1);
  lua_rawseti(L, -2, 2);
  lua_setfield(L, -2, range);
}

static void push_unset(lua_State *L, const unsigned char *m, int64_t n) {
  lua_newtable(L);
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++)
    if (!m[i]) {
      lua_pushinteger(L, i + 1);
      lua_rawseti(L, -2, ++k);
    }
}

/* One grid's entry: shape, and the hovered field. */
static void push_grid(lua_State *L, const vz_stack *st, int j) {
  vz_stack_grid g;
  vz_stack_grid_get(st, j, &g);
  int64_t r, c;
  int hl = vz_stack_hovered(st, &r, &c);
  lua_createtable(L, 0, 8);
  lua_createtable(L, 3, 0);
  int k = 0;
  if (g.C) {
    lua_pushinteger(L, g.C);
    lua_rawseti(L, -2, ++k);
  }
  lua_pushinteger(L, g.H);
  lua_rawseti(L, -2, ++k);
  lua_pushinteger(L, g.W);
  lua_rawseti(L, -2, ++k);
  lua_setfield(L, -2, "shape");
  if (hl >= j) {
    lua_newtable(L);
    push_set(L, g.rset, g.H, "rows", "row_list");
    push_set(L, g.cset, g.W, "cols", "col_list");
    lua_setfield(L, -2, "field");
  }
  if (j < vz_stack_count(st)) { /* what layer j+1 never reads of it */
    lua_newtable(L);
    push_unset(L, g.rread, g.H);
    lua_setfield(L, -2, "rows");
    push_unset(L, g.cread, g.W);
    lua_setfield(L, -2, "cols");
    lua_setfield(L, -2, "unread");
  }
}

/* A transposed layer's forward_sizes: sizes[d] = {{input = n,
 * output_padding = r}, ...}, into the table on top. */
static void push_forward_sizes(lua_State *L, const vz_stack *st, int i) {
  lua_createtable(L, 2, 0);
  for (int d = 0; d < 2; d++) {
    int64_t sz[64];
    int m = vz_stack_convT_sizes(st, i, d, sz, 64);
    lua_createtable(L, m, 0);
    for (int r = 0; r < m; r++) {
      lua_createtable(L, 0, 2);
      lua_pushinteger(L, sz[r]);
      lua_setfield(L, -2, "input");
      lua_pushinteger(L, r);
      lua_setfield(L, -2, "output_padding");
      lua_rawseti(L, -2, r + 1);
    }
    lua_rawseti(L, -2, d + 1);
  }
  lua_setfield(L, -2, "forward_sizes");
}

/* Layer i's entry: its output grid, op, formulas (and forward sizes). */
static void push_layer(lua_State *L, const vz_stack *st, int i) {
  push_grid(L, st, i);
  vz_stack_grid g;
  vz_stack_grid_get(st, i, &g);
  lua_pushstring(L, g.op);
  lua_setfield(L, -2, "op");
  char b[200];
  vz_stack_formula(st, i, 0, b, sizeof b);
  lua_pushstring(L, b);
  lua_setfield(L, -2, "formula_h");
  vz_stack_formula(st, i, 1, b, sizeof b);
  lua_pushstring(L, b);
  lua_setfield(L, -2, "formula_w");
  if (g.transposed) push_forward_sizes(L, st, i);
}

int cplv_stack_state(lua_State *L, vz_stack *st) {
  int n = vz_stack_count(st);
  lua_createtable(L, 0, 4);
  push_grid(L, st, 0);
  lua_setfield(L, -2, "input");
  lua_createtable(L, n, 0);
  for (int i = 1; i <= n; i++) {
    push_layer(L, st, i);
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "layers");
  int64_t r, c;
  int hl = vz_stack_hovered(st, &r, &c);
  if (hl >= 0) {
    int64_t h[3] = {hl, r + 1, c + 1};
    cplv_push_ints(L, h, 3, 0);
    lua_setfield(L, -2, "hover");
  }
  return 1;
}

int cplv_stack_mouse(lua_State *L, vz_stack *st) {
  vz_stack_mouse(st, cpl_checkcoord(L, 2), cpl_checkcoord(L, 3));
  int64_t r, c;
  int hl = vz_stack_hovered(st, &r, &c);
  if (hl < 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushinteger(L, hl);
  lua_pushinteger(L, r + 1);
  lua_pushinteger(L, c + 1);
  return 3;
}

void cplv_stack_grids(lua_State *L, const vz_stack *st) {
  int n = vz_stack_count(st);
  lua_createtable(L, n + 1, 0);
  for (int j = 0; j <= n; j++) {
    vz_stack_grid g;
    vz_stack_grid_get(st, j, &g);
    lua_createtable(L, 0, 5);
    lua_pushnumber(L, g.x);
    lua_setfield(L, -2, "x");
    lua_pushnumber(L, g.y);
    lua_setfield(L, -2, "y");
    lua_pushnumber(L, g.cs);
    lua_setfield(L, -2, "cell");
    lua_pushinteger(L, g.H);
    lua_setfield(L, -2, "rows");
    lua_pushinteger(L, g.W);
    lua_setfield(L, -2, "cols");
    lua_rawseti(L, -2, j + 1);
  }
  lua_setfield(L, -2, "grids");
}
