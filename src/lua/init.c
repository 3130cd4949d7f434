/* init.c - registers convplay's modules in a Lua state. */
#include "cpl.h"

static const luaL_Reg modules[] = {{"tensor", luaopen_tensor},
                                   {"conv", luaopen_conv},
                                   {"image", luaopen_image},
                                   {"viz", luaopen_viz},
                                   {NULL, NULL}};

/* Each module becomes a global and package.loaded[name], so both
 * `conv.conv2d(...)` and `local conv = require "conv"` work. */
void cpl_openlibs(lua_State *L, int headless) {
  lua_pushboolean(L, headless);
  lua_setfield(L, LUA_REGISTRYINDEX, "convplay.headless");
  for (const luaL_Reg *m = modules; m->name; m++) {
    luaL_requiref(L, m->name, m->func, 1);
    lua_pop(L, 1);
  }
}
