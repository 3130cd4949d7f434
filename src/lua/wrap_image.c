/* wrap_image.c - the `image` module: load and save images as tensors. */
#include "core/image.h"
#include "cpl.h"

/* image.load(path) -> (C, H, W) tensor in [0, 1] */
static int i_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  cp_err e;
  cp_tensor *u = cpl_newtensor(L);
  if (cp_image_load(u, path, &e)) return cpl_error(L, "image.load", &e);
  cpl_account(L, u->st->cap);
  return 1;
}

/* image.save(t, path [, {quality = 90}]) -> path */
static int i_save(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  const char *path = luaL_checkstring(L, 2);
  int quality = 90;
  if (lua_type(L, 3) == LUA_TTABLE) {
    if (lua_getfield(L, 3, "quality") != LUA_TNIL)
      quality = (int)cpl_checkint_arg(L, lua_gettop(L), 3, "image.save",
                                      "opts.quality", 1, 100);
    lua_pop(L, 1);
  } else if (!lua_isnoneornil(L, 3)) {
    return cpl_argerror(L, "image.save", 3, "opts", "table expected, got %s",
                        luaL_typename(L, 3));
  }
  cp_err e;
  if (cp_image_save(t, path, quality, &e)) return cpl_error(L, "image.save", &e);
  lua_pushstring(L, path);
  return 1;
}

static const luaL_Reg image_funcs[] = {
    {"load", i_load}, {"save", i_save}, {NULL, NULL}};

int luaopen_image(lua_State *L) {
  cpl_newlib(L, image_funcs);
  cpl_push_kernels(L);
  lua_setfield(L, -2, "kernels");
  return 1;
}
