/* viz_loop.c - the window loop of `viz` (viz.run) with LÖVE-style
 * callbacks, the error screen, reload, and drawing for scripts.
 *
 * Reload ('r', or saving the script file): the script registered as
 * convplay.script is run again in the same Lua state, after the callbacks
 * (update, draw, keypressed) and the list of views are cleared; a viz.run
 * inside a reloaded script only replaces the pages shown.
 *
 * A prompt (the host's -i) is polled every frame through S.idle: after a
 * line ran, every view is rebuilt from its tensors (a view shares a
 * contiguous input's storage, so x:set shows at once), views made at the
 * prompt join the pages and the newest is shown, and an error screen gives
 * way (the callbacks are tried again). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "viz/app.h"
#include "viz/lab.h"
#include "viz/draw.h"
#include "viz_priv.h"

/* ====================================================================== */
/* State of the binding (the window itself is src/viz/app.c's)             */
/* ====================================================================== */

static struct {
  lua_State *L;               /* the state the window's hooks run in */
  vz_canvas *canvas;          /* offscreen target outside the loop */
  vz_canvas *target;          /* where viz.clear/rect/text draw now */
  int ran_loop;               /* the loop has run (for _after_script) */
  time_t mtime;               /* script file's mtime when loaded */
  double t0;                  /* time base for viz.time */
  cpl_idle_fn idle;           /* the host's prompt, or NULL */
  int views_seen;             /* views made before the last prompt line */
} S;

/* "convplay: ..." on stderr; a prompt beside the window steps aside. */
static void say(const char *msg) {
  if (S.idle) S.idle(NULL, CPL_IDLE_HIDE);
  fprintf(stderr, "convplay: %s\n", msg);
  fflush(stderr);
  if (S.idle) S.idle(NULL, CPL_IDLE_SHOW);
}

void cpl_viz_set_idle(cpl_idle_fn fn) {
  S.idle = fn;
  vz_app_host_owns_sigint(fn != NULL);
  vz_app_set_logger(fn ? say : NULL);
}

/* ====================================================================== */
/* Drawing for scripts (draw() callbacks, or offscreen)                    */
/* ====================================================================== */

static vz_canvas *target(lua_State *L) {
  cplv_fonts(L, "viz");
  if (vz_app_frame()) return vz_app_frame();
  if (S.target) return S.target;
  if (!S.canvas) S.canvas = vz_canvas_new(VZ_DEFAULT_W, VZ_DEFAULT_H);
  if (!S.canvas) luaL_error(L, "viz: cannot create a surface");
  vz_clear(S.canvas, VZ_BG);
  S.target = S.canvas;
  return S.target;
}

static vz_color check_color(lua_State *L, int idx, vz_color dflt) {
  if (lua_isnoneornil(L, idx)) return dflt;
  luaL_checktype(L, idx, LUA_TTABLE);
  vz_color c = dflt;
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
  vz_canvas *s = target(L);
  vz_clear(s, lua_istable(L, 1) ? check_color(L, 1, VZ_BG) : VZ_BG);
  return 0;
}

static int l_rect(lua_State *L) {
  vz_canvas *s = target(L);
  int x = cpl_checkcoord(L, 1), y = cpl_checkcoord(L, 2);
  int w = cpl_checkcoord(L, 3), h = cpl_checkcoord(L, 4);
  vz_color c = check_color(L, 5, VZ_FG);
  if (lua_toboolean(L, 6)) vz_frame(s, x, y, w, h, 1, c);
  else vz_fill(s, x, y, w, h, c);
  return 0;
}

static int l_line(lua_State *L) {
  vz_canvas *s = target(L);
  int lw = lua_isnoneornil(L, 6)
               ? 1
               : (int)cpl_checkint(L, 6, "viz.line", "width", 1, 64);
  vz_line(s, cpl_checkcoord(L, 1), cpl_checkcoord(L, 2),
          cpl_checkcoord(L, 3), cpl_checkcoord(L, 4), lw,
          check_color(L, 5, VZ_FG));
  return 0;
}

/* viz.text(str, x, y [, {size=, color=, bold=, align="left"|"center"|
 * "right"}]) -> width */
static int l_text(lua_State *L) {
  vz_canvas *s = target(L);
  const char *str = luaL_checkstring(L, 1);
  int x = cpl_checkcoord(L, 2), y = cpl_checkcoord(L, 3);
  int size = 16, bold = 0, align = VZ_LEFT;
  vz_color c = VZ_FG;
  if (lua_istable(L, 4)) {
    size = cplv_opt_int(L, 4, "size", 16, "viz.text", 1, 512);
    bold = cplv_opt_bool(L, 4, "bold", 0);
    lua_getfield(L, 4, "color");
    c = check_color(L, lua_gettop(L), VZ_FG);
    lua_pop(L, 1);
    const char *a = cplv_opt_string(L, 4, "align", "viz.text");
    if (a && !strcmp(a, "center")) align = VZ_CENTER;
    if (a && !strcmp(a, "right")) align = VZ_RIGHT;
  }
  lua_pushinteger(L, vz_text(s, x, y, str, size, bold, c, align));
  return 1;
}

/* viz.grid(t, x, y [, {cell=}]): a 2-D tensor (or the first slice of the
 * last two dims) as coloured cells with values. */
static int l_grid(lua_State *L) {
  vz_canvas *s = target(L);
  cp_tensor *t = cpl_checktensorlike(L, 1, "viz.grid", 1, NULL);
  int x = cpl_checkcoord(L, 2), y = cpl_checkcoord(L, 3);
  int cs = lua_istable(L, 4) ? cplv_opt_int(L, 4, "cell", 32, "viz.grid", 1, 1024)
                              : 32;
  if (t->ndim < 1) return luaL_argerror(L, 1, "a grid needs 1+ dimensions");
  cp_tensor c;
  cp_err e;
  if (cp_tensor_contiguous(&c, t, &e)) return cpl_error(L, "viz.grid", &e);
  int64_t rows = t->ndim >= 2 ? t->shape[t->ndim - 2] : 1;
  int64_t cols = t->shape[t->ndim - 1];
  if (rows == 0 || cols == 0) { /* nothing to draw: no loop over 2^40 rows */
    cp_tensor_release(&c);
    return 0;
  }
  float lo = 0, hi = 0;
  const float *d = cp_tensor_data(&c);
  for (int64_t k = 0; k < rows * cols; k++)
    if (isfinite(d[k])) lo = fminf(lo, d[k]), hi = fmaxf(hi, d[k]);
  vz_draw_slice(s, d, rows, cols, x, y, cs, lo, hi, 0);
  cp_tensor_release(&c);
  return 0;
}

static int l_size(lua_State *L) {
  vz_canvas *s = target(L);
  lua_pushinteger(L, s->w);
  lua_pushinteger(L, s->h);
  return 2;
}

static int l_screenshot(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  vz_canvas *s = target(L);
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
/* Running the script's code: tracebacks, interrupts                       */
/* ====================================================================== */

/* A traceback without convplay's own frames (the window loop, the host's
 * after-script call): the user's code and the functions it called. */
static int msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  const char *tb = lua_tostring(L, -1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (const char *p = tb; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p + 1) : strlen(p);
    int internal = 0;
    static const char *const hide[] = {"viz._after_script", "viz.run'",
                                       "viz._error_screen", "[C]: in ?"};
    for (size_t k = 0; k < sizeof hide / sizeof hide[0]; k++) {
      const char *h = strstr(p, hide[k]);
      if (h && h < p + len) internal = 1;
    }
    if (!internal) luaL_addlstring(&b, p, len);
    p += len;
  }
  luaL_pushresult(&b);
  return 1;
}

/* Every few thousand instructions of a callback: has Ctrl-C been pressed
 * or the window closed?  Then the code stops with an error "interrupted";
 * the flag stays set, so a pcall in the script cannot swallow it. */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (vz_app_poll_interrupt() != VZ_INT_NONE)
    luaL_error(L, "interrupted (Ctrl-C or the window was closed)");
}

/* lua_pcall under the interrupt hook, with the traceback handler; the
 * error message (if any) goes to the error screen.  Returns the status. */
static int run_guarded(lua_State *L, int nargs, int nres) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msgh);
  lua_insert(L, base);
  vz_app_clear_interrupt();
  lua_sethook(L, interrupt_hook, LUA_MASKCOUNT, 10000);
  int rc = lua_pcall(L, nargs, nres, base);
  lua_sethook(L, NULL, 0, 0);
  vz_app_clear_interrupt();
  lua_remove(L, base);
  if (rc != LUA_OK) {
    vz_app_set_error(lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return rc;
}

/* Call global `name` with nargs arguments already pushed.  Returns 1 if
 * it ran and returned true. */
static int callback(lua_State *L, const char *name, int nargs) {
  int base = lua_gettop(L) - nargs;
  if (lua_getglobal(L, name) != LUA_TFUNCTION) {
    lua_settop(L, base);
    return 0;
  }
  lua_insert(L, base + 1);
  int r = run_guarded(L, nargs, 1) == LUA_OK && lua_toboolean(L, -1);
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

/* ====================================================================== */
/* Pages                                                                   */
/* ====================================================================== */

static int npages(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, PAGES_KEY);
  int n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  lua_pop(L, 1);
  return n;
}

/* Push page i's lview userdata (or nil); returns it. */
static lview *page_at(lua_State *L, int i) {
  lua_getfield(L, LUA_REGISTRYINDEX, PAGES_KEY);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return NULL;
  }
  lua_rawgeti(L, -1, i);
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

static int nviews(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
  int n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  lua_pop(L, 1);
  return n;
}

/* After a prompt line ran (see the header comment). */
static void prompt_ran(lua_State *L) {
  vz_app_set_error(NULL);
  int n = nviews(L);
  lua_getfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lview *lv = luaL_testudata(L, -1, VIEW_MT);
    if (lv && lv->v) vz_view_rebuild(lv->v);
    lua_pop(L, 1);
  }
  if (n > S.views_seen) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, PAGES_KEY) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, LUA_REGISTRYINDEX, PAGES_KEY);
    }
    /* (viz.run() with no list shows the list of views itself) */
    if (!lua_rawequal(L, -1, -2))
      for (int i = S.views_seen + 1; i <= n; i++) {
        lua_rawgeti(L, -2, i);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
      }
    vz_app_set_page((int)lua_rawlen(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  S.views_seen = n;
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
    vz_app_set_error("reload: no script file to reload (started with -e or "
                     "a prompt)");
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
  vz_app_set_error(NULL);
  S.mtime = script_mtime(L);
  int base = lua_gettop(L);
  if (luaL_loadfile(L, path) != LUA_OK) {
    vz_app_set_error(lua_tostring(L, -1));
  } else {
    run_guarded(L, 0, 0);
  }
  lua_settop(L, base);
  if (npages(L) == 0) set_pages(L, 0); /* nil: all views created */
  S.views_seen = nviews(L);
  vz_app_dirty();
  char line[4200];
  snprintf(line, sizeof line, "reloaded %s", path);
  say(line);
}

/* ====================================================================== */
/* The app's hooks                                                         */
/* ====================================================================== */

static int h_npages(void *ud) { return npages(ud); }

static vz_page h_page(void *ud, int i) {
  lua_State *L = ud;
  lview *lv = page_at(L, i);
  /* the page list holds it, so the pointers stay valid after the pop */
  vz_page pg = {lv ? lv->v : NULL, lv ? lv->sh : NULL, NULL,
                lv ? lv->st : NULL};
  lua_pop(L, 1);
  return pg;
}

static void h_update(void *ud, double dt) {
  lua_State *L = ud;
  lua_pushnumber(L, dt);
  callback(L, "update", 1);
}

static void h_draw(void *ud, vz_canvas *frame) {
  (void)frame; /* target() finds it through vz_app_frame() */
  callback(ud, "draw", 0);
}

static int h_keypressed(void *ud, const char *key, int shift) {
  lua_State *L = ud;
  lua_pushstring(L, key);
  lua_pushboolean(L, shift);
  return callback(L, "keypressed", 2);
}

static int h_animates(void *ud) { return has_callbacks(ud); }

static int h_script_changed(void *ud) {
  time_t mt = script_mtime(ud);
  return mt && S.mtime && mt != S.mtime;
}

static void h_reload(void *ud) { reload(ud); }

static int h_idle(void *ud, int what) {
  lua_State *L = ud;
  if (!S.idle) return 0;
  int r = S.idle(L, what == VZ_IDLE_START  ? CPL_IDLE_START
                    : what == VZ_IDLE_POLL ? CPL_IDLE_POLL
                                           : CPL_IDLE_END);
  int out = 0;
  if (r & CPL_IDLE_RAN) {
    prompt_ran(L);
    out |= VZ_IDLE_RAN;
  }
  if (r & CPL_IDLE_QUIT) out |= VZ_IDLE_QUIT;
  return out;
}

/* The lab's window, with the prompt beside it when there is one. */
int cplv_lab_run(lua_State *L, vz_lab *lb, char *err, size_t n) {
  S.L = L;
  int rc = vz_lab_run_idle(lb, S.idle ? h_idle : NULL, L, err, n);
  S.L = NULL;
  return rc;
}

static void run_loop(lua_State *L, const char *fname) {
  static vz_app_hooks h;
  h = (vz_app_hooks){.ud = L,
                     .npages = h_npages,
                     .page = h_page,
                     .update = h_update,
                     .draw = h_draw,
                     .keypressed = h_keypressed,
                     .animates = h_animates,
                     .script_changed = h_script_changed,
                     .reload = h_reload,
                     .idle = S.idle ? h_idle : NULL};
  int w = VZ_DEFAULT_W, hgt = VZ_DEFAULT_H;
  lview *first = page_at(L, 1);
  if (first && first->v) {
    vz_view_state s;
    vz_view_state_get(first->v, &s);
    w = s.width, hgt = s.height;
  }
  lua_pop(L, 1);
  S.L = L;
  S.mtime = script_mtime(L);
  S.views_seen = nviews(L);
  char err[512];
  int rc = vz_app_run(&h, w, hgt, err, sizeof err);
  S.L = NULL;
  if (rc < 0) luaL_error(L, "%s: %s", fname, err);
  if (rc == 0) S.ran_loop = 1;
}

/* viz.run([view | {views...}]) */
static int l_run(lua_State *L) {
  if (!lua_isnoneornil(L, 1) && !luaL_testudata(L, 1, VIEW_MT) &&
      !lua_istable(L, 1))
    return luaL_argerror(L, 1, "view or list of views expected");
  if (cplv_headless(L)) return 0;
  cplv_fonts(L, "viz.run");
  set_pages(L, 1);
  vz_app_set_page(1);
  if (vz_app_running()) return 0; /* a reload: the running loop shows them */
  vz_app_set_error(NULL); /* an earlier window's error is not this one's */
  run_loop(L, "viz.run");
  return 0;
}

/* viz.current() -> the view on screen and its page number (nil outside
 * the loop). */
static int l_current(lua_State *L) {
  if (!vz_app_running()) return 0;
  page_at(L, vz_app_page());
  lua_pushinteger(L, vz_app_page());
  return 2;
}

/* Called by the host after the script, with a window. */
static int l_after_script(lua_State *L) {
  if (cplv_headless(L) || vz_app_running() || S.ran_loop) return 0;
  if (nviews(L) == 0 && !has_callbacks(L)) return 0;
  cplv_fonts(L, "viz.run");
  set_pages(L, 0);
  vz_app_set_page(1);
  run_loop(L, "viz.run");
  return 0;
}

/* Called by the host when the script's main chunk failed, with a window:
 * the error screen in the window, waiting for the file to be fixed (it
 * reloads when saved, or on 'r').  viz._error_screen(msg) */
static int l_error_screen(lua_State *L) {
  const char *msg = luaL_checkstring(L, 1);
  if (cplv_headless(L) || vz_app_running()) {
    lua_pushboolean(L, 0);
    return 1;
  }
  cplv_fonts(L, "viz.run");
  vz_app_set_error(msg);
  if (npages(L) == 0) set_pages(L, 0);
  run_loop(L, "viz.run");
  lua_pushboolean(L, vz_app_error() == NULL);
  return 1;
}

const luaL_Reg cplv_loop_funcs[] = {
    {"run", l_run},
    {"_after_script", l_after_script},
    {"_error_screen", l_error_screen},
    {"clear", l_clear},
    {"rect", l_rect},
    {"line", l_line},
    {"text", l_text},
    {"grid", l_grid},
    {"size", l_size},
    {"screenshot", l_screenshot},
    {"time", l_time},
    {"current", l_current},
    {NULL, NULL}};

void cplv_loop_open(void) { S.t0 = SDL_GetTicks() / 1000.0; }
