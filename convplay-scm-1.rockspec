-- convplay-scm-1.rockspec: build the `convplay` Lua module with LuaRocks.
-- Needs the Debian packages first (the Makefile's BUILD_DEBS):
--   sudo make deps      (or: sudo apt-get install build-essential pkg-config
--     liblua5.4-dev libsdl2-dev libcairo2-dev libpango1.0-dev
--     fonts-dejavu-core libstb-dev libgif-dev libreadline-dev libfftw3-dev)
-- then, in a checkout:  luarocks --lua-version 5.4 make
-- The Makefile finds Lua and SDL with pkg-config; LuaRocks passes CFLAGS,
-- where to put the module (LIBDIR) and the data (the rock's share folder,
-- which the module also falls back on: DATADIR at build time).
rockspec_format = "3.0"
package = "convplay"
version = "scm-1"
source = {
  -- a checkout: `luarocks make` builds the files beside this rockspec
  url = "git+file://.",
}
description = {
  summary = "A convolution playground: PyTorch-exact tensors and convolutions, step-through windows",
  detailed = [[
convplay's modules as one Lua 5.4 C module: `local cp = require "convplay"`
gives cp.tensor (float32 strided tensors), cp.conv (conv2d,
conv_transpose2d, partial convolution, with PyTorch's options and numbers),
cp.image (image files) and cp.viz (an SDL2 window that steps through every
multiply-add, and an image filter lab).]],
  license = "MIT",
  labels = { "convolution", "tensor", "visualization", "education" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
build = {
  type = "make",
  build_target = "module",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    DATADIR = "$(PREFIX)/share/convplay",
  },
  install_target = "install-module",
  install_variables = {
    LUA_CMOD = "$(LIBDIR)",
    DATADIR = "$(PREFIX)/share/convplay",
  },
  copy_directories = { "docs" },
}
