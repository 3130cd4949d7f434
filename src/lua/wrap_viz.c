/* wrap_viz.c - the `viz` module: step-through views, static grids, the
 * window loop with LÖVE-style callbacks, drawing for scripts.
 *
 *   v = viz.conv2d(x, w [, opts])            step-through view
 *   v = viz.conv_transpose2d(x, w [, opts])  opts.view = "scatter"|"gather"
 *   s = viz.show{input=, kernel=, mask=, output=, title=}
 *   viz.run([v | {v1, v2, ...}])             window loop (returns at once
 *                                            under --headless)
 * Views are userdata of metatable "convplay.view"; see docs/viz.md.
 *
 * Reload ('r', or saving the script file): the script registered as
 * convplay.script is run again in the same Lua state, after the callbacks
 * (update, draw, keypressed) and the list of views are cleared; a viz.run
 * inside a reloaded script only replaces the pages shown. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cpl.h"
#include "viz/draw.h"
#include "viz/show.h"
#include "viz/view.h"

#define VIEW_MT "convplay.view"
#define VIEWS_KEY "convplay.viz.views"   /* views created (window mode) */
#define PAGES_KEY "convplay.viz.pages"   /* views the loop shows */

typedef struct lview {
  vz_view *v;                 /* a step-through view, or NULL */
  vz_show *sh;                /* static grids, or NULL */
} lview;

/* The lab lives in src/lua/wrap_lab.c; until it is linked, say so. */
__attribute__((weak)) int cpl_viz_lab(lua_State *L) {
  return luaL_error(L, "viz.lab: not available in this build");
}

/* ====================================================================== */
/* Loop state (one window per process)                                     */
/* ====================================================================== */

static struct {
  SDL_Window *win;            /* the window while the loop runs */
  SDL_Surface *frame;         /* what the loop draws into */
  SDL_Surface *canvas;        /* offscreen target outside the loop */
  SDL_Surface *target;        /* where viz.clear/rect/text draw now */
  int in_loop;                /* the loop is running */
  int ran_loop;               /* the loop has run (for _after_script) */
  int page;                   /* index into the pages (1-based) */
  int quit;                   /* leave the loop */
  char *err;                  /* error screen text (malloc'ed) or NULL */
  time_t mtime;               /* script file's mtime when loaded */
  double t0;                  /* time base for viz.time */
} S;

static int headless(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  int h = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return h;
}

static int fonts_ready(lua_State *L, const char *fname) {
  char err[256];
  if (vz_init(err, sizeof err)) return luaL_error(L, "%s: %s", fname, err);
  return 0;
}

/* ====================================================================== */
/* View userdata                                                           */
/* ====================================================================== */

static lview *newlview(lua_State *L) {
  lview *lv = lua_newuserdatauv(L, sizeof *lv, 1);
  lv->v = NULL;
  lv->sh = NULL;
  luaL_setmetatable(L, VIEW_MT);
  return lv;
}

static lview *checklview(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, VIEW_MT);
}

static vz_view *checkview(lua_State *L, int idx, const char *fname) {
  lview *lv = checklview(L, idx);
  if (!lv->v) {
    if (lv->sh) luaL_error(L, "%s: not a step-through view (viz.show)", fname);
    luaL_error(L, "%s: the view was closed", fname);
  }
  return lv->v;
}

static int view_release(lua_State *L) {
  lview *lv = checklview(L, 1);
  vz_view_free(lv->v);
  vz_show_free(lv->sh);
  lv->v = NULL;
  lv->sh = NULL;
  return 0;
}

/* Remember a view for _after_script (window mode only). */
static void register_view(lua_State *L, int idx) {
  if (headless(L)) return;
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
    "caption", "keras", "width", "height", NULL};
static const char *const convT_keys[] = {
    "bias", "stride", "padding", "output_padding", "dilation", "groups",
    "mask", "kernel_mask", "view", "by", "title", "caption", "keras", "width",
    "height", NULL};

static void check_keys(lua_State *L, int idx, const char *fname,
                       const char *const *keys) {
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    int ok = 0;
    for (int i = 0; keys[i] && !ok; i++) ok = !strcmp(k, keys[i]);
    if (!ok) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int i = 0; keys[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, keys[i]);
      }
      luaL_pushresult(&b);
      cpl_argerror(L, fname, 3, "opts", "unknown option '%s' (known: %s)",
                   lua_type(L, -2) == LUA_TSTRING ? k : "?",
                   lua_tostring(L, -1));
    }
  }
}

/* opts[key] as a tensor (numbers / nested tables converted) or NULL. */
static cp_tensor *opt_tensor(lua_State *L, int opts, const char *key) {
  if (lua_isnoneornil(L, opts)) return NULL;
  lua_getfield(L, opts, key);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  /* left on the stack: anchors a converted tensor for the call */
  return cpl_checktensorlike(L, lua_gettop(L));
}

static int opt_bool(lua_State *L, int opts, const char *key, int dflt) {
  if (lua_isnoneornil(L, opts)) return dflt;
  lua_getfield(L, opts, key);
  int r = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

static const char *opt_string(lua_State *L, int opts, const char *key,
                              const char *fname) {
  if (lua_isnoneornil(L, opts)) return NULL;
  lua_getfield(L, opts, key);
  const char *s = NULL;
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      cpl_argerror(L, fname, 3, key, "string expected, got %s",
                   luaL_typename(L, -1));
    s = lua_tostring(L, -1); /* anchored by the options table */
  }
  lua_pop(L, 1);
  return s;
}

static int opt_int(lua_State *L, int opts, const char *key, int dflt) {
  if (lua_isnoneornil(L, opts)) return dflt;
  lua_getfield(L, opts, key);
  int r = dflt;
  if (!lua_isnil(L, -1)) r = (int)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  return r;
}

static int make_view(lua_State *L, int transposed) {
  const char *fname = transposed ? "viz.conv_transpose2d" : "viz.conv2d";
  fonts_ready(L, fname);
  cp_tensor *x = cpl_checktensor(L, 1);
  cp_tensor *w = cpl_checktensor(L, 2);
  check_keys(L, 3, fname, transposed ? convT_keys : conv_keys);
  vz_view_init in;
  memset(&in, 0, sizeof in);
  cp_tensor *bias = NULL;
  cpl_conv_opts(L, 3, fname, transposed, &in.p, &bias);
  in.x = x;
  in.w = w;
  in.bias = bias;
  in.mask = opt_tensor(L, 3, "mask");
  in.kmask = opt_tensor(L, 3, "kernel_mask");
  in.partial = opt_bool(L, 3, "partial", 0);
  in.multi = -1;
  if (!lua_isnoneornil(L, 3)) {
    lua_getfield(L, 3, "multi_channel");
    if (!lua_isnil(L, -1)) in.multi = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  in.flip = opt_bool(L, 3, "flip", 0);
  in.keras = opt_bool(L, 3, "keras", 0);
  const char *by = opt_string(L, 3, "by", fname);
  if (by && strcmp(by, "tap") && strcmp(by, "cell"))
    cpl_argerror(L, fname, 3, "opts.by", "expected \"tap\" or \"cell\", got "
                 "\"%s\"", by);
  in.by_tap = by && !strcmp(by, "tap");
  const char *view = opt_string(L, 3, "view", fname);
  if (view && strcmp(view, "scatter") && strcmp(view, "gather"))
    cpl_argerror(L, fname, 3, "opts.view",
                 "expected \"scatter\" or \"gather\", got \"%s\"", view);
  in.scatter = view ? !strcmp(view, "scatter") : 1;
  in.title = opt_string(L, 3, "title", fname);
  in.caption = opt_string(L, 3, "caption", fname);
  in.width = opt_int(L, 3, "width", 1280);
  in.height = opt_int(L, 3, "height", 800);
  if (in.width < 320 || in.width > 8192 || in.height < 240 ||
      in.height > 8192)
    cpl_argerror(L, fname, 3, "opts.width/height",
                 "frame size must be within 320x240 .. 8192x8192");
  lview *lv = newlview(L);
  cp_err e;
  lv->v = vz_view_new(&in, &e);
  if (!lv->v) return cpl_error(L, fname, &e);
  register_view(L, -1);
  return 1;
}

static int l_conv2d(lua_State *L) { return make_view(L, 0); }
static int l_conv_transpose2d(lua_State *L) { return make_view(L, 1); }

static int l_show(lua_State *L) {
  const char *fname = "viz.show";
  fonts_ready(L, fname);
  luaL_checktype(L, 1, LUA_TTABLE);
  static const char *const keys[] = {"input", "kernel", "mask", "output",
                                     "title", "width", "height", NULL};
  check_keys(L, 1, fname, keys);
  lview *lv = newlview(L);
  int ud = lua_gettop(L);
  lua_getfield(L, 1, "title");
  const char *title = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
  lv->sh = vz_show_new(title, opt_int(L, 1, "width", 1280),
                       opt_int(L, 1, "height", 800));
  lua_pop(L, 1);
  if (!lv->sh) return luaL_error(L, "%s: out of memory", fname);
  static const char *const items[] = {"input", "kernel", "mask", "output"};
  for (int i = 0; i < 4; i++) {
    cp_tensor *t = opt_tensor(L, 1, items[i]);
    if (!t) continue;
    cp_err e;
    if (vz_show_add(lv->sh, items[i], t, &e)) return cpl_error(L, fname, &e);
    lua_pop(L, 1);
  }
  lua_settop(L, ud);
  register_view(L, -1);
  return 1;
}

/* ---- methods ------------------------------------------------------------ */

static int m_step(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:step");
  lua_Integer n = luaL_optinteger(L, 2, 1);
  vz_view_move(v, (int64_t)n);
  lua_pushinteger(L, v->step);
  return 1;
}

static int m_seek(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:seek");
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < 0) n = vz_view_steps(v) + 1 + n; /* -1 = last step */
  vz_view_seek(v, (int64_t)n);
  lua_pushinteger(L, v->step);
  return 1;
}

static void push_idx(lua_State *L, const int64_t *idx, int n) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, idx[i] + 1);
    lua_rawseti(L, -2, i + 1);
  }
}

static void push_pair(lua_State *L, const int64_t *p, int stride) {
  lua_createtable(L, 2, 0);
  lua_pushinteger(L, p[0]);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, p[stride]);
  lua_rawseti(L, -2, 2);
}

static int m_state(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:state");
  int64_t done;
  vz_view_current(v, &done);
  lua_createtable(L, 0, 24);
  const cp_conv_params *p = v->ok ? &v->g.p : &v->req;
  lua_pushinteger(L, v->ok ? v->step : 0);
  lua_setfield(L, -2, "step");
  lua_pushinteger(L, vz_view_steps(v));
  lua_setfield(L, -2, "steps");
  lua_pushstring(L, v->by_tap ? "tap" : "cell");
  lua_setfield(L, -2, "by");
  lua_pushstring(L, !p->transposed ? "conv2d"
                    : v->scatter   ? "scatter"
                                   : "gather");
  lua_setfield(L, -2, "view");
  lua_pushboolean(L, v->playing);
  lua_setfield(L, -2, "playing");
  lua_pushboolean(L, v->help);
  lua_setfield(L, -2, "help");
  lua_pushnumber(L, v->zoom);
  lua_setfield(L, -2, "zoom");
  if (v->hover) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, v->hover == 1 ? "output" : "input");
    lua_setfield(L, -2, "what");
    push_idx(L, v->hover_idx, 4);
    lua_setfield(L, -2, "index");
    lua_setfield(L, -2, "hover");
  }
  /* parameters */
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
  lua_pushboolean(L, v->flip);
  lua_setfield(L, -2, "flip");
  lua_setfield(L, -2, "params");
  /* formula */
  char buf[512];
  lua_createtable(L, 0, 2);
  vz_view_formula(v, 0, buf, sizeof buf);
  lua_pushstring(L, buf);
  lua_setfield(L, -2, "h");
  vz_view_formula(v, 1, buf, sizeof buf);
  lua_pushstring(L, buf);
  lua_setfield(L, -2, "w");
  lua_setfield(L, -2, "formula");
  if (!v->ok) {
    lua_pushstring(L, v->err);
    lua_setfield(L, -2, "error");
    return 1;
  }
  lua_createtable(L, 4, 0);
  int64_t os[4] = {v->g.N, v->g.O, v->g.OH, v->g.OW};
  for (int i = 0; i < 4; i++) {
    lua_pushinteger(L, os[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "output_shape");
  if (vz_view_steps(v) == 0) return 1; /* an empty output: nothing more */
  lua_pushinteger(L, done);
  lua_setfield(L, -2, "tap");
  lua_pushinteger(L, v->info.group + 1);
  lua_setfield(L, -2, "group");
  /* the current output cell */
  const int64_t *out = NULL;
  if (v->t.kind == CP_TRACE_SCATTER) {
    push_idx(L, v->info.idx, 4);
    lua_setfield(L, -2, "input");
    if (done > 0 && v->taps[done - 1].kind != CP_TAP_CROPPED)
      out = v->taps[done - 1].out;
  } else {
    out = v->info.idx;
    lua_pushnumber(L, v->info.bias);
    lua_setfield(L, -2, "bias");
  }
  if (out) {
    push_idx(L, out, 4);
    lua_setfield(L, -2, "out");
    int64_t u = ((out[0] * v->g.O + out[1]) * v->g.OH + out[2]) * v->g.OW +
                out[3];
    lua_pushnumber(L, v->y[u]);
    lua_setfield(L, -2, "value");
    double sum = vz_view_sum(v);
    if (!isnan(sum) || v->t.kind != CP_TRACE_SCATTER) {
      lua_pushnumber(L, sum);
      lua_setfield(L, -2, "sum");
    }
  }
  if (v->partial) {
    lua_pushnumber(L, v->info.msum);
    lua_setfield(L, -2, "mask_sum");
    lua_pushnumber(L, v->info.ratio);
    lua_setfield(L, -2, "ratio");
    lua_pushnumber(L, v->info.newmask);
    lua_setfield(L, -2, "new_mask");
    lua_pushnumber(L, v->info.raw);
    lua_setfield(L, -2, "raw");
  }
  /* taps */
  lua_createtable(L, (int)v->t.ntaps, 0);
  for (int64_t k = 0; k < v->t.ntaps; k++) {
    const cp_tap *tp = &v->taps[k];
    lua_createtable(L, 0, 12);
    lua_pushstring(L, tp->kind == CP_TAP_INPUT && v->t.kind != CP_TRACE_SCATTER
                          ? "input"
                          : cp_tap_kind_name(tp->kind));
    if (v->t.kind == CP_TRACE_SCATTER && tp->kind == CP_TAP_INPUT) {
      lua_pop(L, 1);
      lua_pushstring(L, "output");
    }
    lua_setfield(L, -2, "kind");
    if (tp->kind == CP_TAP_INPUT || tp->kind == CP_TAP_PADSRC ||
        v->t.kind == CP_TRACE_SCATTER) {
      if (tp->kind == CP_TAP_PADSRC) {
        push_idx(L, tp->in, 4);
        lua_setfield(L, -2, "source");
      } else {
        push_idx(L, tp->in, 4);
        lua_setfield(L, -2, "input");
      }
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
    lua_pushboolean(L, k < done);
    lua_setfield(L, -2, "done");
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  lua_setfield(L, -2, "taps");
  return 1;
}

/* Render a view or show into a new surface of its frame size. */
static SDL_Surface *render(lua_State *L, lview *lv, const char *fname) {
  fonts_ready(L, fname);
  int w = lv->v ? lv->v->width : lv->sh ? lv->sh->width : 1280;
  int h = lv->v ? lv->v->height : lv->sh ? lv->sh->height : 800;
  SDL_Surface *s = vz_surface_new(w, h);
  if (!s) luaL_error(L, "%s: cannot create a surface: %s", fname,
                     SDL_GetError());
  if (lv->v) vz_view_draw(lv->v, s);
  else if (lv->sh) vz_show_draw(lv->sh, s);
  else vz_clear(s, VZ_BG);
  return s;
}

static int m_screenshot(lua_State *L) {
  lview *lv = checklview(L, 1);
  const char *path = luaL_checkstring(L, 2);
  SDL_Surface *s = render(L, lv, "view:screenshot");
  char err[512];
  int rc = vz_save_png(s, path, err, sizeof err);
  SDL_FreeSurface(s);
  if (rc) return luaL_error(L, "view:screenshot: %s", err);
  lua_pushstring(L, path);
  return 1;
}

/* v:record(path [, {fps=, max_frames=, by=}]): the whole step-through as an
 * animated GIF, from step 1 to the last (every k-th step when there are
 * more than max_frames), holding the last frame a little. */
static int m_record(lua_State *L) {
  const char *fname = "view:record";
  vz_view *v = checkview(L, 1, fname);
  const char *path = luaL_checkstring(L, 2);
  int fps = 4, maxf = 400;
  int by = v->by_tap;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    fps = opt_int(L, 3, "fps", 4);
    maxf = opt_int(L, 3, "max_frames", 400);
    const char *b = opt_string(L, 3, "by", fname);
    if (b) by = !strcmp(b, "tap");
  }
  if (fps < 1 || fps > 100) return luaL_error(L, "%s: fps must be 1..100", fname);
  if (maxf < 1) return luaL_error(L, "%s: max_frames must be positive", fname);
  if (!v->ok) return luaL_error(L, "%s: %s", fname, v->err);
  if (cp_trace_steps(&v->t, by) == 0)
    return luaL_error(L, "%s: nothing to record (the output is empty)", fname);
  fonts_ready(L, fname);
  int64_t keep = v->step, keep_by = v->by_tap;
  int keep_play = v->playing;
  vz_view_set_by_tap(v, by);
  v->playing = 0;
  int64_t n = vz_view_steps(v), every = (n + maxf - 1) / maxf;
  if (every < 1) every = 1;
  char err[512];
  SDL_Surface *s = vz_surface_new(v->width, v->height);
  vz_gif *g = s ? vz_gif_open(path, v->width, v->height, 100 / fps, err,
                              sizeof err)
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
  if (s) SDL_FreeSurface(s);
  vz_view_set_by_tap(v, (int)keep_by);
  vz_view_seek(v, keep);
  v->playing = keep_play;
  if (rc) return luaL_error(L, "%s: %s", fname, s ? err : "no surface");
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
  lua_pushstring(L, v->by_tap ? "tap" : "cell");
  return 1;
}

static int m_view(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:view");
  if (!lua_isnoneornil(L, 2)) {
    const char *m = luaL_checkstring(L, 2);
    if (strcmp(m, "scatter") && strcmp(m, "gather"))
      return luaL_argerror(L, 2, "expected \"scatter\" or \"gather\"");
    if (!v->req.transposed)
      return luaL_error(L, "view:view: only a transposed view has a scatter "
                           "and a gather view");
    vz_view_set_scatter(v, !strcmp(m, "scatter"));
  }
  lua_pushstring(L, !v->req.transposed ? "conv2d"
                    : v->scatter       ? "scatter"
                                       : "gather");
  return 1;
}

/* v:set{stride=, padding=, dilation=, output_padding=, padding_mode=,
 * flip=}: change parameters live.  Returns true, or false and the reason
 * (the view then shows the error, as after a key). */
static int m_set(lua_State *L) {
  const char *fname = "view:set";
  vz_view *v = checkview(L, 1, fname);
  luaL_checktype(L, 2, LUA_TTABLE);
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
  /* Parse the given keys over the current request: fill a table with the
   * current values, overlay the new ones, and reuse cpl_conv_opts. */
  cp_conv_params *r = &v->req;
  lua_newtable(L);
  int t = lua_gettop(L);
  static const char *const pk[] = {"stride", "dilation", "output_padding"};
  const int64_t *pv[] = {r->stride, r->dilation, r->out_pad};
  for (int i = 0; i < 3; i++) {
    if (i == 2 && !r->transposed) continue;
    push_pair(L, pv[i], 1);
    lua_setfield(L, t, pk[i]);
  }
  if (r->padspec == CP_PADSPEC_SAME) lua_pushstring(L, "same");
  else if (r->padspec == CP_PADSPEC_VALID) lua_pushstring(L, "valid");
  else {
    lua_newtable(L);
    static const char *const sides[] = {"top", "bottom", "left", "right"};
    for (int i = 0; i < 4; i++) {
      lua_pushinteger(L, r->pad[i]);
      lua_setfield(L, -2, sides[i]);
    }
  }
  lua_setfield(L, t, "padding");
  lua_pushinteger(L, r->groups);
  lua_setfield(L, t, "groups");
  if (!r->transposed) {
    lua_pushstring(L, cp_padmode_name(r->mode));
    lua_setfield(L, t, "padding_mode");
  }
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    if (!strcmp(lua_tostring(L, -2), "flip")) {
      if (r->transposed)
        return luaL_error(L, "%s: flip is a conv2d option", fname);
      v->flip = lua_toboolean(L, -1);
      lua_pop(L, 1);
      continue;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, t);
  }
  cp_conv_params np;
  cpl_conv_opts(L, t, fname, r->transposed, &np, NULL);
  *r = np;
  if (vz_view_rebuild(v)) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, v->err);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int m_hover(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:hover");
  if (lua_isnoneornil(L, 2)) {
    vz_view_hover(v, 0, NULL);
    return 0;
  }
  const char *what = luaL_checkstring(L, 2);
  int w = !strcmp(what, "output") ? 1 : !strcmp(what, "input") ? 2 : 0;
  if (!w) return luaL_argerror(L, 2, "expected \"output\" or \"input\"");
  luaL_checktype(L, 3, LUA_TTABLE);
  int64_t idx[4];
  for (int i = 0; i < 4; i++) {
    lua_rawgeti(L, 3, i + 1);
    idx[i] = (int64_t)luaL_checkinteger(L, -1) - 1;
    lua_pop(L, 1);
  }
  vz_view_hover(v, w, idx);
  return 0;
}

static int m_mouse(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:mouse");
  vz_view_mouse(v, (int)luaL_checkinteger(L, 2), (int)luaL_checkinteger(L, 3));
  lua_pushstring(L, v->hover == 1 ? "output" : v->hover == 2 ? "input"
                                                             : "none");
  if (v->hover) {
    push_idx(L, v->hover_idx, 4);
    return 2;
  }
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

/* v:layout(): where the last frame drew each grid (drawing one if none):
 * {input = {{x=, y=, cell=, row0=, col0=, rows=, cols=, channel=}, ...},
 *  kernel = {...}, output = {...}}; cell (r, c) (1-based, row0/col0 may be
 * <= 0 for padding) starts at x + (c - col0) * cell, y + (r - row0) * cell. */
static int m_layout(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:layout");
  if (v->nin == 0 && v->nout == 0) {
    fonts_ready(L, "view:layout");
    SDL_Surface *s = vz_surface_new(v->width, v->height);
    if (s) {
      vz_view_draw(v, s);
      SDL_FreeSurface(s);
    }
  }
  lua_createtable(L, 0, 3);
  push_grids(L, v->gin, v->nin);
  lua_setfield(L, -2, "input");
  push_grids(L, v->gk, v->nk);
  lua_setfield(L, -2, "kernel");
  push_grids(L, v->gout, v->nout);
  lua_setfield(L, -2, "output");
  return 1;
}

static int m_output(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:output");
  if (!v->ok) return luaL_error(L, "view:output: %s", v->err);
  cp_tensor *t = cpl_newtensor(L);
  cp_err e;
  if (cp_tensor_empty4(t, v->g.N, v->g.O, v->g.OH, v->g.OW, &e))
    return cpl_error(L, "view:output", &e);
  memcpy(cp_tensor_data(t), v->y,
         sizeof(float) * (size_t)cp_tensor_numel(t));
  return 1;
}

static int m_play(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:play");
  v->playing = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
  if (lua_isnumber(L, 3)) v->speed = lua_tonumber(L, 3);
  return 0;
}

/* v:title([text]), v:caption([text]): the header's title and explanation
 * line; return the current text. */
static int m_title(lua_State *L) {
  lview *lv = checklview(L, 1);
  char *dst = lv->v ? lv->v->title : lv->sh ? lv->sh->title : NULL;
  size_t n = lv->v ? sizeof lv->v->title : sizeof lv->sh->title;
  if (!dst) return luaL_error(L, "view:title: the view was closed");
  if (!lua_isnoneornil(L, 2)) snprintf(dst, n, "%s", luaL_checkstring(L, 2));
  lua_pushstring(L, dst);
  return 1;
}

static int m_caption(lua_State *L) {
  vz_view *v = checkview(L, 1, "view:caption");
  if (!lua_isnoneornil(L, 2))
    snprintf(v->caption, sizeof v->caption, "%s", luaL_checkstring(L, 2));
  lua_pushstring(L, v->caption);
  return 1;
}

static int m_tostring(lua_State *L) {
  lview *lv = checklview(L, 1);
  if (lv->v)
    lua_pushfstring(L, "viz view (%s, step %d of %d)",
                    !lv->v->req.transposed ? "conv2d"
                    : lv->v->scatter       ? "scatter"
                                           : "gather",
                    (int)lv->v->step, (int)vz_view_steps(lv->v));
  else if (lv->sh)
    lua_pushfstring(L, "viz show (%d grids)", lv->sh->n);
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
    {"mouse", m_mouse},       {"layout", m_layout},
    {"output", m_output},     {"play", m_play},
    {"title", m_title},       {"caption", m_caption},
    {"close", view_release},  {NULL, NULL}};

static const luaL_Reg view_meta[] = {{"__gc", view_release},
                                     {"__close", view_release},
                                     {"__tostring", m_tostring},
                                     {NULL, NULL}};

/* ====================================================================== */
/* Drawing for scripts (draw() callbacks, or offscreen)                    */
/* ====================================================================== */

static SDL_Surface *target(lua_State *L) {
  fonts_ready(L, "viz");
  if (S.target) return S.target;
  if (!S.canvas) S.canvas = vz_surface_new(1280, 800);
  if (!S.canvas) luaL_error(L, "viz: cannot create a surface");
  vz_clear(S.canvas, VZ_BG);
  S.target = S.canvas;
  return S.target;
}

static SDL_Color check_color(lua_State *L, int idx, SDL_Color dflt) {
  if (lua_isnoneornil(L, idx)) return dflt;
  luaL_checktype(L, idx, LUA_TTABLE);
  SDL_Color c = dflt;
  int v[4] = {c.r, c.g, c.b, 255};
  for (int i = 0; i < 4; i++) {
    lua_rawgeti(L, idx, i + 1);
    if (!lua_isnil(L, -1)) {
      lua_Number n = luaL_checknumber(L, -1);
      v[i] = n < 0 ? 0 : n > 255 ? 255 : (int)n;
    }
    lua_pop(L, 1);
  }
  return VZ_RGBA((uint8_t)v[0], (uint8_t)v[1], (uint8_t)v[2], (uint8_t)v[3]);
}

static int l_clear(lua_State *L) {
  SDL_Surface *s = target(L);
  vz_clear(s, lua_istable(L, 1) ? check_color(L, 1, VZ_BG) : VZ_BG);
  return 0;
}

static int l_rect(lua_State *L) {
  SDL_Surface *s = target(L);
  int x = (int)luaL_checknumber(L, 1), y = (int)luaL_checknumber(L, 2);
  int w = (int)luaL_checknumber(L, 3), h = (int)luaL_checknumber(L, 4);
  SDL_Color c = check_color(L, 5, VZ_FG);
  if (lua_toboolean(L, 6)) vz_frame(s, x, y, w, h, 1, c);
  else vz_fill(s, x, y, w, h, c);
  return 0;
}

static int l_line(lua_State *L) {
  SDL_Surface *s = target(L);
  vz_line(s, (int)luaL_checknumber(L, 1), (int)luaL_checknumber(L, 2),
          (int)luaL_checknumber(L, 3), (int)luaL_checknumber(L, 4),
          (int)luaL_optinteger(L, 6, 1), check_color(L, 5, VZ_FG));
  return 0;
}

/* viz.text(str, x, y [, {size=, color=, bold=, align="left"|"center"|
 * "right"}]) -> width */
static int l_text(lua_State *L) {
  SDL_Surface *s = target(L);
  const char *str = luaL_checkstring(L, 1);
  int x = (int)luaL_checknumber(L, 2), y = (int)luaL_checknumber(L, 3);
  int size = 16, bold = 0, align = VZ_LEFT;
  SDL_Color c = VZ_FG;
  if (lua_istable(L, 4)) {
    size = opt_int(L, 4, "size", 16);
    bold = opt_bool(L, 4, "bold", 0);
    lua_getfield(L, 4, "color");
    c = check_color(L, lua_gettop(L), VZ_FG);
    lua_pop(L, 1);
    const char *a = opt_string(L, 4, "align", "viz.text");
    if (a && !strcmp(a, "center")) align = VZ_CENTER;
    if (a && !strcmp(a, "right")) align = VZ_RIGHT;
  }
  lua_pushinteger(L, vz_text(s, x, y, str, size, bold, c, align));
  return 1;
}

/* viz.grid(t, x, y [, {cell=}]): a 2-D tensor (or the first slice of the
 * last two dims) as coloured cells with values. */
static int l_grid(lua_State *L) {
  SDL_Surface *s = target(L);
  cp_tensor *t = cpl_checktensorlike(L, 1);
  int x = (int)luaL_checknumber(L, 2), y = (int)luaL_checknumber(L, 3);
  int cs = lua_istable(L, 4) ? opt_int(L, 4, "cell", 32) : 32;
  if (t->ndim < 1) return luaL_argerror(L, 1, "a grid needs 1+ dimensions");
  cp_tensor c;
  cp_err e;
  if (cp_tensor_contiguous(&c, t, &e)) return cpl_error(L, "viz.grid", &e);
  int64_t rows = t->ndim >= 2 ? t->shape[t->ndim - 2] : 1;
  int64_t cols = t->shape[t->ndim - 1];
  float lo = 0, hi = 0;
  const float *d = cp_tensor_data(&c);
  for (int64_t k = 0; k < rows * cols; k++)
    if (isfinite(d[k])) lo = fminf(lo, d[k]), hi = fmaxf(hi, d[k]);
  vz_draw_slice(s, d, rows, cols, x, y, cs, lo, hi, 0);
  cp_tensor_release(&c);
  return 0;
}

static int l_size(lua_State *L) {
  SDL_Surface *s = target(L);
  lua_pushinteger(L, s->w);
  lua_pushinteger(L, s->h);
  return 2;
}

static int l_screenshot(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  SDL_Surface *s = target(L);
  char err[512];
  if (vz_save_png(s, path, err, sizeof err))
    return luaL_error(L, "viz.screenshot: %s", err);
  lua_pushstring(L, path);
  return 1;
}

static int l_time(lua_State *L) {
  lua_pushnumber(L, SDL_GetTicks() / 1000.0 - S.t0);
  return 1;
}

/* ====================================================================== */
/* The loop                                                                */
/* ====================================================================== */

static int msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void set_error(const char *msg) {
  free(S.err);
  S.err = msg ? strdup(msg) : NULL;
  if (msg) fprintf(stderr, "convplay: %s\n", msg);
}

/* Call global `name` with nargs arguments already pushed (below them the
 * function is fetched first).  Returns 1 if it ran and returned true. */
static int callback(lua_State *L, const char *name, int nargs) {
  int base = lua_gettop(L) - nargs;
  if (lua_getglobal(L, name) != LUA_TFUNCTION) {
    lua_settop(L, base);
    return 0;
  }
  lua_insert(L, base + 1);
  lua_pushcfunction(L, msgh);
  lua_insert(L, base + 1);
  int rc = lua_pcall(L, nargs, 1, base + 1);
  int r = 0;
  if (rc != LUA_OK) set_error(lua_tostring(L, -1));
  else r = lua_toboolean(L, -1);
  lua_settop(L, base);
  return r;
}

static int has_callbacks(lua_State *L) {
  static const char *const names[] = {"draw", "update", "keypressed"};
  for (int i = 0; i < 3; i++) {
    int t = lua_getglobal(L, names[i]);
    lua_pop(L, 1);
    if (t == LUA_TFUNCTION) return 1;
  }
  return 0;
}

static int npages(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, PAGES_KEY);
  int n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  lua_pop(L, 1);
  return n;
}

/* Push the current page's lview userdata (or nil); returns it. */
static lview *current_page(lua_State *L) {
  int n = npages(L);
  if (n == 0) {
    lua_pushnil(L);
    return NULL;
  }
  if (S.page < 1) S.page = 1;
  if (S.page > n) S.page = n;
  lua_getfield(L, LUA_REGISTRYINDEX, PAGES_KEY);
  lua_rawgeti(L, -1, S.page);
  lua_remove(L, -2);
  return luaL_testudata(L, -1, VIEW_MT);
}

/* Set the pages from the value at idx: a view, a list of views, or nil
 * (every view created so far). */
static void set_pages(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (luaL_testudata(L, idx, VIEW_MT)) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, 1);
  } else if (lua_istable(L, idx)) {
    lua_createtable(L, (int)lua_rawlen(L, idx), 0);
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
      lua_rawgeti(L, idx, i);
      if (!luaL_testudata(L, -1, VIEW_MT))
        luaL_error(L, "viz.run: element %d is not a view", (int)i);
      lua_rawseti(L, -2, i);
    }
  } else {
    if (lua_getfield(L, LUA_REGISTRYINDEX, VIEWS_KEY) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
    }
  }
  lua_setfield(L, LUA_REGISTRYINDEX, PAGES_KEY);
}

static time_t script_mtime(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.script");
  const char *p = lua_tostring(L, -1);
  struct stat st;
  time_t t = (p && stat(p, &st) == 0) ? st.st_mtime : 0;
  lua_pop(L, 1);
  return t;
}

/* Run the script again in this state (see the header comment). */
static void reload(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.script");
  const char *p = lua_tostring(L, -1);
  if (!p) {
    lua_pop(L, 1);
    set_error("reload: no script file to reload (started with -e or a "
              "prompt)");
    return;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s", p);
  lua_pop(L, 1);
  static const char *const names[] = {"draw", "update", "keypressed"};
  for (int i = 0; i < 3; i++) {
    lua_pushnil(L);
    lua_setglobal(L, names[i]);
  }
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, PAGES_KEY);
  set_error(NULL);
  S.mtime = script_mtime(L);
  int base = lua_gettop(L);
  lua_pushcfunction(L, msgh);
  if (luaL_loadfile(L, path) != LUA_OK ||
      lua_pcall(L, 0, 0, base + 1) != LUA_OK)
    set_error(lua_tostring(L, -1));
  lua_settop(L, base);
  if (npages(L) == 0) set_pages(L, 0); /* nil: all views created */
  fprintf(stderr, "convplay: reloaded %s\n", path);
}

static void draw_error(SDL_Surface *s) {
  vz_clear(s, VZ_RGB(30, 16, 18));
  vz_text(s, 20, 16, "Lua error", 24, 1, VZ_ERRC, VZ_LEFT);
  vz_text(s, 20, 50, "r: reload the script   Esc: quit", 14, 0, VZ_DIM,
          VZ_LEFT);
  int cw, ch;
  vz_text_size("0", 14, 0, &cw, &ch);
  int maxc = (s->w - 40) / (cw > 0 ? cw : 8), y = 86;
  const char *p = S.err;
  char buf[1024];
  int first = 1;
  while (p && *p && y < s->h - ch) {
    const char *nl = strchr(p, '\n');
    int len = nl ? (int)(nl - p) : (int)strlen(p);
    int take = len > maxc ? maxc : len;
    snprintf(buf, sizeof buf, "%.*s", take < 1023 ? take : 1023, p);
    for (char *q = buf; *q; q++)
      if (*q == '\t') *q = ' ';
    vz_text(s, 20, y, buf, first ? 16 : 14, first, first ? VZ_FG : VZ_DIM,
            VZ_LEFT);
    y += ch + (first ? 6 : 2);
    p += take;
    if (*p == '\n') {
      p++;
      first = 0;
    }
  }
}

static const char *key_name(const SDL_Keysym *ks, char *buf) {
  SDL_Keycode k = ks->sym;
  int shift = (ks->mod & KMOD_SHIFT) != 0;
  if (k == SDLK_SLASH && shift) return "?";
  if ((k == SDLK_EQUALS && shift) || k == SDLK_KP_PLUS) return "+";
  if (k == SDLK_KP_MINUS) return "-";
  if (k == SDLK_SPACE) return "Space";
  if (k > 32 && k < 127) {
    buf[0] = (char)k;
    buf[1] = 0;
    return buf;
  }
  return SDL_GetKeyName(k);
}

static void save_frame(void) {
  char path[64], err[256];
  for (int i = 1; i < 10000; i++) {
    snprintf(path, sizeof path, "convplay-%04d.png", i);
    struct stat st;
    if (stat(path, &st) != 0) break;
  }
  if (vz_save_png(S.frame, path, err, sizeof err))
    fprintf(stderr, "convplay: %s\n", err);
  else
    fprintf(stderr, "convplay: saved %s\n", path);
}

static void handle_key(lua_State *L, const SDL_Keysym *ks) {
  char buf[8], lower[64];
  const char *name = key_name(ks, buf);
  int shift = (ks->mod & KMOD_SHIFT) != 0;
  if (!strcmp(name, "Escape") || (!strcmp(name, "q") && !S.err)) {
    S.quit = 1;
    return;
  }
  if (S.err) {
    if (!strcmp(name, "q")) S.quit = 1;
    if (!strcmp(name, "r")) reload(L);
    return;
  }
  /* the script sees the key first (LÖVE names: lowercase) */
  snprintf(lower, sizeof lower, "%s", name);
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  lua_pushstring(L, lower);
  lua_pushboolean(L, shift);
  if (callback(L, "keypressed", 2) || S.err) return;
  int n = npages(L);
  if (!strcmp(name, "r")) {
    reload(L);
  } else if (!strcmp(name, "F2")) {
    save_frame();
  } else if ((!strcmp(name, "Tab") && !shift) || !strcmp(name, "PageDown")) {
    if (n) S.page = S.page % n + 1;
  } else if (!strcmp(name, "Tab") || !strcmp(name, "PageUp")) {
    if (n) S.page = (S.page + n - 2) % n + 1;
  } else {
    lview *lv = current_page(L);
    if (lv && lv->v) vz_view_key(lv->v, name, shift);
    lua_pop(L, 1);
  }
}

static void run_loop(lua_State *L) {
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    luaL_error(L, "viz.run: cannot open a window: %s (run with --headless "
                  "for offscreen rendering)",
               SDL_GetError());
    return;
  }
  int w = 1280, h = 800;
  lview *first = current_page(L);
  if (first && first->v) w = first->v->width, h = first->v->height;
  lua_pop(L, 1);
  S.win = SDL_CreateWindow("convplay", SDL_WINDOWPOS_CENTERED,
                           SDL_WINDOWPOS_CENTERED, w, h,
                           SDL_WINDOW_RESIZABLE);
  if (!S.win) {
    const char *e = SDL_GetError();
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    luaL_error(L, "viz.run: cannot open a window: %s", e);
    return;
  }
  S.frame = vz_surface_new(w, h);
  S.in_loop = 1;
  S.quit = 0;
  S.mtime = script_mtime(L);
  Uint32 last = SDL_GetTicks(), last_poll = last;
  int dragging = 0;
  while (!S.quit) {
    SDL_Event ev;
    lview *lv = current_page(L);
    vz_view *v = lv && lv->v ? lv->v : NULL;
    lua_pop(L, 1);
    while (SDL_PollEvent(&ev)) {
      switch (ev.type) {
      case SDL_QUIT: S.quit = 1; break;
      case SDL_WINDOWEVENT:
        if (ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
          SDL_FreeSurface(S.frame);
          S.frame = vz_surface_new(ev.window.data1, ev.window.data2);
        }
        break;
      case SDL_KEYDOWN: handle_key(L, &ev.key.keysym); break;
      case SDL_MOUSEBUTTONDOWN: dragging = 1; break;
      case SDL_MOUSEBUTTONUP: dragging = 0; break;
      case SDL_MOUSEMOTION:
        if (v && dragging) vz_view_drag(v, ev.motion.xrel, ev.motion.yrel);
        else if (v) vz_view_mouse(v, ev.motion.x, ev.motion.y);
        break;
      case SDL_MOUSEWHEEL:
        if (v) vz_view_wheel(v, ev.wheel.y);
        break;
      }
      if (S.quit) break;
      /* a key may have reloaded the script: pages changed */
      lv = current_page(L);
      v = lv && lv->v ? lv->v : NULL;
      lua_pop(L, 1);
    }
    Uint32 now = SDL_GetTicks();
    double dt = (now - last) / 1000.0;
    last = now;
    if (!S.err) {
      lua_pushnumber(L, dt);
      callback(L, "update", 1);
    }
    lv = current_page(L);
    v = lv && lv->v ? lv->v : NULL;
    if (v) vz_view_tick(v, dt);
    S.target = S.frame;
    if (S.err) {
      draw_error(S.frame);
    } else {
      if (v) {
        v->width = S.frame->w;
        v->height = S.frame->h;
        vz_view_draw(v, S.frame);
      } else if (lv && lv->sh) {
        vz_show_draw(lv->sh, S.frame);
      } else {
        vz_clear(S.frame, VZ_BG);
      }
      int np = npages(L);
      if (np > 1) {
        char pg[64];
        snprintf(pg, sizeof pg, "page %d / %d   Tab / PageDown: next",
                 S.page, np);
        vz_text(S.frame, S.frame->w - 20, S.frame->h - 30, pg, 14, 1,
                VZ_ACCENT, VZ_RIGHT);
      }
      callback(L, "draw", 0);
      if (S.err) draw_error(S.frame);
    }
    lua_pop(L, 1); /* the page */
    S.target = NULL;
    vz_present(S.win, S.frame);
    if (now - last_poll > 500) {
      last_poll = now;
      time_t mt = script_mtime(L);
      if (mt && S.mtime && mt != S.mtime) reload(L);
    }
    SDL_Delay(15);
  }
  SDL_FreeSurface(S.frame);
  S.frame = NULL;
  SDL_DestroyWindow(S.win);
  S.win = NULL;
  SDL_QuitSubSystem(SDL_INIT_VIDEO);
  S.in_loop = 0;
  S.ran_loop = 1;
}

/* viz.run([view | {views...}]) */
static int l_run(lua_State *L) {
  if (!lua_isnoneornil(L, 1) && !luaL_testudata(L, 1, VIEW_MT) &&
      !lua_istable(L, 1))
    return luaL_argerror(L, 1, "view or list of views expected");
  if (headless(L)) return 0;
  fonts_ready(L, "viz.run");
  set_pages(L, 1);
  S.page = 1;
  if (S.in_loop) return 0; /* a reload: the running loop shows them */
  run_loop(L);
  return 0;
}

/* viz.current() -> the view on screen and its page number (nil outside
 * the loop). */
static int l_current(lua_State *L) {
  if (!S.in_loop) return 0;
  current_page(L);
  lua_pushinteger(L, S.page);
  return 2;
}

/* Called by the host after the script, with a window. */
static int l_after_script(lua_State *L) {
  if (headless(L) || S.in_loop || S.ran_loop) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
  int nviews = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  lua_pop(L, 1);
  if (nviews == 0 && !has_callbacks(L)) return 0;
  fonts_ready(L, "viz.run");
  set_pages(L, 0);
  S.page = 1;
  run_loop(L);
  return 0;
}

static const luaL_Reg viz_funcs[] = {
    {"conv2d", l_conv2d},
    {"conv_transpose2d", l_conv_transpose2d},
    {"show", l_show},
    {"run", l_run},
    {"_after_script", l_after_script},
    {"clear", l_clear},
    {"rect", l_rect},
    {"line", l_line},
    {"text", l_text},
    {"grid", l_grid},
    {"size", l_size},
    {"screenshot", l_screenshot},
    {"time", l_time},
    {"current", l_current},
    {"lab", cpl_viz_lab},
    {NULL, NULL}};

static int l_help(lua_State *L) {
  lua_pushstring(L, vz_view_help_text());
  return 1;
}

int luaopen_viz(lua_State *L) {
  if (luaL_newmetatable(L, VIEW_MT)) {
    luaL_setfuncs(L, view_meta, 0);
    luaL_newlib(L, view_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, viz_funcs);
  lua_pushcfunction(L, l_help);
  lua_setfield(L, -2, "help");
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  lua_setfield(L, -2, "headless");
  S.t0 = SDL_GetTicks() / 1000.0;
  return 1;
}
