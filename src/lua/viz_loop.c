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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "viz/draw.h"
#include "viz_priv.h"

/* ====================================================================== */
/* Loop state (one window per process)                                     */
/* ====================================================================== */

static struct {
  SDL_Window *win;            /* the window while the loop runs */
  vz_canvas *frame;           /* what the loop draws into */
  vz_canvas *canvas;          /* offscreen target outside the loop */
  vz_canvas *target;          /* where viz.clear/rect/text draw now */
  int in_loop;                /* the loop is running */
  int ran_loop;               /* the loop has run (for _after_script) */
  int page;                   /* index into the pages (1-based) */
  int quit;                   /* leave the loop */
  char *err;                  /* error screen text (malloc'ed) or NULL */
  time_t mtime;               /* script file's mtime when loaded */
  double t0;                  /* time base for viz.time */
  cpl_idle_fn idle;           /* the host's prompt, or NULL */
  int views_seen;             /* views made before the last prompt line */
} S;

void cpl_viz_set_idle(cpl_idle_fn fn) { S.idle = fn; }


/* ====================================================================== */
/* Drawing for scripts (draw() callbacks, or offscreen)                    */
/* ====================================================================== */

static vz_canvas *target(lua_State *L) {
  cplv_fonts(L, "viz");
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
/* The loop                                                                */
/* ====================================================================== */

static int msgh(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* "convplay: ..." on stderr; a prompt beside the window steps aside. */
static void say(const char *fmt, ...) {
  if (S.idle) S.idle(NULL, CPL_IDLE_HIDE);
  va_list ap;
  va_start(ap, fmt);
  fputs("convplay: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  if (S.idle) S.idle(NULL, CPL_IDLE_SHOW);
}

static void set_error(const char *msg) {
  free(S.err);
  S.err = msg ? strdup(msg) : NULL;
  if (msg) say("%s", msg);
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

static int nviews(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
  int n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  lua_pop(L, 1);
  return n;
}

/* After a prompt line ran (see the header comment). */
static void prompt_ran(lua_State *L) {
  set_error(NULL);
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
    S.page = (int)lua_rawlen(L, -1);
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
  S.views_seen = nviews(L);
  say("reloaded %s", path);
}

static void draw_error(vz_canvas *s) {
  vz_clear(s, vz_th->errbg);
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
    say("%s", err);
  else
    say("saved %s", path);
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

/* Video up with a driver that shows something: 1; a driver without a
 * display that the user asked for (SDL_VIDEODRIVER=dummy/offscreen): 0,
 * the loop is skipped as under --headless; otherwise a Lua error. */
static int open_video(lua_State *L) {
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    luaL_error(L, "viz.run: cannot open a window: %s (run with --headless "
                  "for offscreen rendering)",
               SDL_GetError());
    return 0;
  }
  const char *drv = SDL_GetCurrentVideoDriver();
  if (drv && (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy"))) {
    const char *asked = getenv("SDL_VIDEODRIVER");
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    if (asked && *asked) return 0;
    luaL_error(L, "viz.run: no display to open a window on (SDL found only "
                  "its '%s' video driver; is DISPLAY set?); run with "
                  "--headless for offscreen rendering",
               drv);
  }
  return 1;
}

static void run_loop(lua_State *L) {
  if (!open_video(L)) return;
  int w = VZ_DEFAULT_W, h = VZ_DEFAULT_H;
  lview *first = current_page(L);
  if (first && first->v) w = first->v->width, h = first->v->height;
  lua_pop(L, 1);
  vz_window_size(&w, &h);
  S.win = SDL_CreateWindow("convplay", SDL_WINDOWPOS_CENTERED,
                           SDL_WINDOWPOS_CENTERED, w, h,
                           SDL_WINDOW_RESIZABLE);
  if (!S.win) {
    const char *e = SDL_GetError();
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    luaL_error(L, "viz.run: cannot open a window: %s", e);
    return;
  }
  SDL_SetWindowMinimumSize(S.win, 480, 320);
  S.frame = vz_canvas_new(w, h);
  if (!S.frame) {
    SDL_DestroyWindow(S.win);
    S.win = NULL;
    luaL_error(L, "viz.run: cannot allocate a %dx%d frame", w, h);
    return;
  }
  S.in_loop = 1;
  S.quit = 0;
  S.mtime = script_mtime(L);
  S.views_seen = nviews(L);
  if (S.idle && (S.idle(L, CPL_IDLE_START) & CPL_IDLE_QUIT)) S.quit = 1;
  Uint32 last = SDL_GetTicks(), last_poll = last;
  int dragging = 0, moved = 0, dirty = 1;
  while (!S.quit) {
    SDL_Event ev;
    if (S.idle) { /* the prompt: lines typed since the last frame */
      int r = S.idle(L, CPL_IDLE_POLL);
      if (r & CPL_IDLE_RAN) {
        prompt_ran(L);
        dirty = 1;
      }
      if (r & CPL_IDLE_QUIT) break;
    }
    lview *lv = current_page(L);
    vz_view *v = lv && lv->v ? lv->v : NULL;
    lua_pop(L, 1);
    while (SDL_PollEvent(&ev)) {
      dirty = 1;
      switch (ev.type) {
      case SDL_QUIT: S.quit = 1; break;
      case SDL_WINDOWEVENT:
        if (ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
          vz_canvas *nf = vz_canvas_new(ev.window.data1, ev.window.data2);
          if (nf) {
            vz_canvas_free(S.frame);
            S.frame = nf;
          }
        }
        break;
      case SDL_KEYDOWN: handle_key(L, &ev.key.keysym); break;
      case SDL_MOUSEBUTTONDOWN:
        dragging = 1;
        moved = 0;
        break;
      case SDL_MOUSEBUTTONUP:
        /* a click (no drag): jump to the clicked cell's step */
        if (v && dragging && moved < 4) vz_view_click(v, ev.button.x, ev.button.y);
        dragging = 0;
        break;
      case SDL_MOUSEMOTION:
        if (v && dragging) {
          moved += abs(ev.motion.xrel) + abs(ev.motion.yrel);
          if (moved >= 4) vz_view_drag(v, ev.motion.xrel, ev.motion.yrel);
        } else if (v) {
          vz_view_mouse(v, ev.motion.x, ev.motion.y);
        }
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
    /* Redraw only when something can have changed: an event, playing,
     * or a script that animates (update/draw callbacks). */
    if (!dirty && !(v && v->playing) && !has_callbacks(L)) {
      lua_pop(L, 1); /* the page */
      if (now - last_poll > 500) {
        last_poll = now;
        time_t mt = script_mtime(L);
        if (mt && S.mtime && mt != S.mtime) {
          reload(L);
          dirty = 1;
        }
      }
      SDL_Delay(15);
      continue;
    }
    dirty = 0;
    S.target = S.frame;
    if (S.err) {
      draw_error(S.frame);
    } else {
      int np = npages(L);
      if (v) {
        v->width = S.frame->w;
        v->height = S.frame->h;
        if (np > 1)
          snprintf(v->footer, sizeof v->footer,
                   "page %d / %d · Tab: next", S.page, np);
        else
          v->footer[0] = 0;
        vz_view_draw(v, S.frame);
      } else if (lv && lv->sh) {
        vz_show_draw(lv->sh, S.frame);
      } else {
        vz_clear(S.frame, VZ_BG);
        if (S.idle)
          vz_text(S.frame, 20, 20, "No view yet: type at the prompt, e.g. "
                  "v = viz.conv2d(tensor.arange(25):reshape(1, 1, 5, 5), "
                  "tensor.ones(1, 1, 3, 3))", 16, 0, VZ_DIM, VZ_LEFT);
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
      if (mt && S.mtime && mt != S.mtime) {
        reload(L);
        dirty = 1;
      }
    }
    SDL_Delay(15);
  }
  vz_canvas_free(S.frame);
  S.frame = NULL;
  SDL_DestroyWindow(S.win);
  S.win = NULL;
  /* The video subsystem stays up until exit: quitting it unloads the
   * libraries SDL opened (libdbus keeps allocations until exit), which
   * leaves LeakSanitizer with reports it cannot attribute. */
  S.in_loop = 0;
  S.ran_loop = 1;
  if (S.idle) S.idle(L, CPL_IDLE_END);
}

/* viz.run([view | {views...}]) */
static int l_run(lua_State *L) {
  if (!lua_isnoneornil(L, 1) && !luaL_testudata(L, 1, VIEW_MT) &&
      !lua_istable(L, 1))
    return luaL_argerror(L, 1, "view or list of views expected");
  if (cplv_headless(L)) return 0;
  cplv_fonts(L, "viz.run");
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
  if (cplv_headless(L) || S.in_loop || S.ran_loop) return 0;
  lua_getfield(L, LUA_REGISTRYINDEX, VIEWS_KEY);
  int nviews = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
  lua_pop(L, 1);
  if (nviews == 0 && !has_callbacks(L)) return 0;
  cplv_fonts(L, "viz.run");
  set_pages(L, 0);
  S.page = 1;
  run_loop(L);
  return 0;
}

const luaL_Reg cplv_loop_funcs[] = {
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
    {NULL, NULL}};

void cplv_loop_open(void) { S.t0 = SDL_GetTicks() / 1000.0; }
