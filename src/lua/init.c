/* init.c - the `convplay` Lua module: one table holding the tensor, conv,
 * image and viz modules, the same for the convplay host and for a stock
 * lua5.4 that loads build/convplay.so:
 *
 *   local cp = require "convplay"          -- cp.tensor, cp.conv, ...
 *   local tensor = require "convplay.tensor"
 *
 * The submodule openers (luaopen_convplay_tensor, ...) let Lua's
 * all-in-one C loader find "convplay.tensor" inside convplay.so; each
 * returns the very table cp.tensor holds.
 *
 * Two registry fields describe the process, set by the host before it
 * opens the module and otherwise found here:
 *   convplay.headless  no window (stock Lua: env CONVPLAY_HEADLESS=1)
 *   convplay.home      the folder holding scripts/ and assets/ */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/version.h"
#include "cpl.h"

#ifndef CONVPLAY_DATADIR /* the Makefile passes $(DATADIR) */
#define CONVPLAY_DATADIR "/usr/local/share/convplay"
#endif

static const luaL_Reg modules[] = {{"tensor", luaopen_tensor},
                                   {"conv", luaopen_conv},
                                   {"image", luaopen_image},
                                   {"viz", luaopen_viz},
                                   {NULL, NULL}};

/* ====================================================================== */
/* Where the data lives                                                    */
/* ====================================================================== */

static int has_tour(const char *dir) {
  char probe[PATH_MAX];
  int n = snprintf(probe, sizeof probe, "%s/scripts/tour.lua", dir);
  return n > 0 && (size_t)n < sizeof probe && access(probe, R_OK) == 0;
}

/* The file holding this code: convplay.so when loaded by a stock Lua,
 * the executable when linked into the host. */
static int code_path(char *out) {
  Dl_info info;
  if (dladdr((void *)luaopen_convplay, &info) && info.dli_fname &&
      strstr(info.dli_fname, ".so") && realpath(info.dli_fname, out))
    return 0;
  return realpath("/proc/self/exe", out) ? 0 : -1;
}

/* $CONVPLAY_HOME; else the nearest folder above this code that is a
 * checkout (scripts/tour.lua) or a prefix (share/convplay/scripts/tour.lua):
 * build/convplay, /usr/local/bin/convplay and
 * /usr/lib/x86_64-linux-gnu/lua/5.4/convplay.so all find theirs, wherever
 * the tree was moved or DESTDIR-installed; else the configured DATADIR;
 * else the current folder. */
static void find_home(char *home, size_t n) {
  const char *env = getenv("CONVPLAY_HOME");
  if (env && *env) {
    snprintf(home, n, "%s", env);
    return;
  }
  char dir[PATH_MAX], share[PATH_MAX];
  if (code_path(dir) == 0) {
    for (int up = 0; up < 6; up++) {
      char *slash = strrchr(dir, '/');
      if (slash == NULL) break;
      *slash = '\0';
      const char *d = dir[0] ? dir : "/";
      if (has_tour(d)) {
        snprintf(home, n, "%s", d);
        return;
      }
      int len = snprintf(share, sizeof share, "%s/share/convplay", dir);
      if (len > 0 && (size_t)len < n && has_tour(share)) {
        snprintf(home, n, "%s", share);
        return;
      }
      if (!dir[0]) break;
    }
  }
  snprintf(home, n, "%s", has_tour(CONVPLAY_DATADIR) ? CONVPLAY_DATADIR : ".");
}

/* Fill the registry fields the host did not set. */
static void process_fields(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "convplay.headless") == LUA_TNIL) {
    const char *env = getenv("CONVPLAY_HEADLESS");
    lua_pushboolean(L, env && *env && strcmp(env, "0") != 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  }
  if (lua_getfield(L, LUA_REGISTRYINDEX, "convplay.home") == LUA_TNIL) {
    char home[PATH_MAX];
    find_home(home, sizeof home);
    lua_pushstring(L, home);
    lua_setfield(L, LUA_REGISTRYINDEX, "convplay.home");
  }
  lua_pop(L, 2);
}

/* ====================================================================== */
/* The module                                                              */
/* ====================================================================== */

/* Loaded as convplay.so, stay mapped until the process exits: lua_close
 * unloads C modules, but the core's worker threads and SDL's own threads
 * run code of (or called through) this library, and its caches (tensor
 * pool, fonts) would turn into leaks nobody can free. */
static void stay_loaded(void) {
  Dl_info info;
  if (dladdr((void *)luaopen_convplay, &info) && info.dli_fname &&
      strstr(info.dli_fname, ".so"))
    (void)dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

int luaopen_convplay(lua_State *L) {
  stay_loaded();
  process_fields(L);
  lua_createtable(L, 0, 8);
  for (const luaL_Reg *m = modules; m->name; m++) {
    lua_pushfstring(L, "convplay.%s", m->name);
    luaL_requiref(L, lua_tostring(L, -1), m->func, 0);
    lua_setfield(L, -3, m->name);
    lua_pop(L, 1); /* the name */
  }
  lua_pushliteral(L, "convplay " CONVPLAY_VERSION);
  lua_setfield(L, -2, "_VERSION");
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.home");
  lua_setfield(L, -2, "home");
  return 1;
}

/* require "convplay.NAME": cp[NAME] (loading convplay first). */
static int submodule(lua_State *L, const char *name) {
  luaL_requiref(L, "convplay", luaopen_convplay, 0);
  lua_getfield(L, -1, name);
  return 1;
}

int luaopen_convplay_tensor(lua_State *L) { return submodule(L, "tensor"); }
int luaopen_convplay_conv(lua_State *L) { return submodule(L, "conv"); }
int luaopen_convplay_image(lua_State *L) { return submodule(L, "image"); }
int luaopen_convplay_viz(lua_State *L) { return submodule(L, "viz"); }

/* The host: the module, and each part as a global and package.loaded[name]
 * so that both `conv.conv2d(...)` and `local conv = require "conv"` work. */
void cpl_openlibs(lua_State *L, int headless) {
  lua_pushboolean(L, headless);
  lua_setfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  luaL_requiref(L, "convplay", luaopen_convplay, 0);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (const luaL_Reg *m = modules; m->name; m++) {
    lua_getfield(L, -2, m->name);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, m->name);
    lua_setglobal(L, m->name);
  }
  lua_pop(L, 2);
}
