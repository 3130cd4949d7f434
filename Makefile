# convplay - a Lua-scriptable convolution playground.
#   make run        build, then open the playground (guided tour)
#   make test       C core tests, Lua API tests (also through stock lua5.4),
#                   window tests, install test; then all again under
#                   AddressSanitizer + UBSan; the lab under ThreadSanitizer
#   make install    PREFIX=/usr/local DESTDIR= (see "install" below)
#   make bench      speed, side by side with PyTorch and OpenCV
#   make golden     regenerate the PyTorch fixtures (needs python3-torch)

# Debian packages the build needs, and the pkg-config names they provide.
BUILD_DEBS := build-essential pkg-config liblua5.4-dev libsdl2-dev \
              libcairo2-dev libpango1.0-dev fonts-dejavu-core libstb-dev libgif-dev \
              libreadline-dev libfftw3-dev
# `make bench` only: the anchors convplay is timed against.
BENCH_DEBS := python3-torch python3-opencv
TEST_DEBS  := xvfb xauth xdotool imagemagick librsvg2-bin poppler-utils \
              lua5.4 bsdutils
PKGS       := lua5.4 sdl2 cairo pangocairo fontconfig stb readline

# The version, from its one place.
VERSION_H := src/core/version.h
vpart = $(shell sed -n 's/^\#define CONVPLAY_VERSION_$(1) *\([0-9]*\).*/\1/p' $(VERSION_H))
MAJOR   := $(call vpart,MAJOR)
VERSION := $(MAJOR).$(call vpart,MINOR).$(call vpart,PATCH)

BUILD  ?= build
CC     ?= cc
OPT    ?= -O2 -march=x86-64-v2
CFLAGS ?= $(OPT) -g
# -fPIC everywhere: the same objects go into the binary, the Lua module
# and the shared library.
WARN   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -fPIC
SAN    ?=
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lgif
# The Lua module takes Lua's symbols from the interpreter that loads it
# (Debian's lua5.4 links Lua statically) and needs no readline.
MOD_LIBS   = $(shell pkg-config --libs $(filter-out lua5.4 readline,$(PKGS)) 2>/dev/null) -lgif
CORE_LIBS := -lfftw3f -lm -lpthread

# ---- install locations (GNU names; DESTDIR for staged installs) -------------
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR    ?= $(PREFIX)/share/convplay
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/convplay
PCDIR      ?= $(LIBDIR)/pkgconfig
# Lua C modules: under Lua's own prefix (/usr) Debian's lua5.4.pc knows the
# folder; under any other prefix, Lua's default layout PREFIX/lib/lua/5.4,
# which stock lua5.4 searches for /usr/local (Debian's INSTALL_CMOD with
# another prefix names a multiarch folder lua5.4 does not search).
LUA_PREFIX = $(shell pkg-config --variable=prefix lua5.4 2>/dev/null)
LUA_CMOD  ?= $(or $(if $(filter $(LUA_PREFIX),$(PREFIX)),$(shell pkg-config --variable=INSTALL_CMOD lua5.4 2>/dev/null)),$(PREFIX)/lib/lua/5.4)

CORE_SRC  := $(wildcard src/core/*.c)
MOD_SRC   := $(wildcard src/lua/*.c src/viz/*.c)
HOST_SRC  := $(wildcard src/host/*.c)
CTEST_SRC := $(wildcard tests/c/*.c)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
MOD_OBJ   := $(MOD_SRC:%.c=$(BUILD)/obj/%.o)
HOST_OBJ  := $(HOST_SRC:%.c=$(BUILD)/obj/%.o)
CTEST_OBJ := $(CTEST_SRC:%.c=$(BUILD)/obj/%.o)
ALL_OBJ   := $(CORE_OBJ) $(MOD_OBJ) $(HOST_OBJ) $(CTEST_OBJ)
SHLIB     := libconvplay.so.$(VERSION)

.PHONY: all module run test test-fast test-asan test-tsan bench golden deps \
        test-deps clean install install-module uninstall FORCE

all: $(BUILD)/convplay $(BUILD)/convplay.so $(BUILD)/libcore.a \
     $(BUILD)/$(SHLIB) $(BUILD)/convplay.pc
# The Lua module alone (what LuaRocks builds).
module: $(BUILD)/convplay.so

# ---- dependencies: install when root, otherwise say exactly what to run ----
deps:
	@sh tests/deps.sh $(BUILD_DEBS)
test-deps:
	@sh tests/deps.sh $(TEST_DEBS)
# Every compile waits for deps (order-only: nothing rebuilds because of it),
# so `make -j2` on a fresh machine never compiles without Lua's headers.
$(ALL_OBJ): | deps

# ---- build ------------------------------------------------------------------
# The core is compiled without any Lua or SDL include path: a stray include
# of either fails the build, which keeps the layers honest.
$(BUILD)/obj/src/core/%.o: src/core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SAN) $(FILE_SAN) -MMD -MP -c $< -o $@

# init.c falls back on the configured data folder (see find_home there),
# and convplay.pc names the install folders: both are made again when the
# folders change (make; make install PREFIX=/opt).
DIRS_SEEN = $(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(DATADIR)
$(BUILD)/obj/src/lua/init.o: EXTRA_DEFS = -DCONVPLAY_DATADIR='"$(DATADIR)"'
$(BUILD)/obj/src/lua/init.o: $(BUILD)/install-dirs.txt
$(BUILD)/install-dirs.txt: FORCE
	@mkdir -p $(dir $@)
	@echo '$(DIRS_SEEN)' | cmp -s - $@ || echo '$(DIRS_SEEN)' > $@
FORCE:
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SAN) $(EXTRA_DEFS) $(PKG_CFLAGS) -Isrc -MMD -MP -c $< -o $@

# stb (compiled by the project in stb_build.c) shifts signed values the way
# every compiler does; UBSan's shift check is off for that one file.
$(BUILD)/obj/src/core/stb_build.o: FILE_SAN = $(if $(SAN),-fno-sanitize=shift)

$(BUILD)/libcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The core as a shared C library (no Lua, no SDL): libconvplay.so.MAJOR.
$(BUILD)/$(SHLIB): $(CORE_OBJ)
	$(CC) $(CFLAGS) $(SAN) -shared -Wl,-soname,libconvplay.so.$(MAJOR) -Wl,--no-undefined \
	  -o $@ $^ $(CORE_LIBS)

$(BUILD)/convplay.pc: convplay.pc.in $(VERSION_H) $(BUILD)/install-dirs.txt Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@LIBS_PRIVATE@|$(CORE_LIBS)|' $< > $@

# The Lua module: require "convplay" from lua5.4.
$(BUILD)/convplay.so: $(MOD_OBJ) $(BUILD)/libcore.a src/lua/module.map
	$(CC) $(CFLAGS) $(SAN) -shared -Wl,--version-script=src/lua/module.map -o $@ \
	  $(MOD_OBJ) $(BUILD)/libcore.a $(MOD_LIBS) $(CORE_LIBS)

# The host: the same objects as the module, plus the command line.
$(BUILD)/convplay: $(HOST_OBJ) $(MOD_OBJ) $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $(HOST_OBJ) $(MOD_OBJ) $(BUILD)/libcore.a $(PKG_LIBS) $(CORE_LIBS) -ldl

# C tests link the core alone: proof that it needs neither Lua nor SDL.
$(BUILD)/test_core: $(CTEST_OBJ) $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $(CTEST_OBJ) $(BUILD)/libcore.a $(CORE_LIBS)

-include $(ALL_OBJ:.o=.d)

# ---- install ------------------------------------------------------------------
# make install PREFIX=/usr/local DESTDIR=/tmp/stage: the binary, the Lua
# module, the data (tour, seeds, lab, assets) the binary finds in
# PREFIX/share/convplay, the man page, docs, and the core as a C library
# with headers in include/convplay/ and convplay.pc.
DOCS := README.md LICENSE $(wildcard docs/*.md)
install: all install-module
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(PCDIR) $(DESTDIR)$(INCLUDEDIR)/convplay \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	install -m 755 $(BUILD)/convplay $(DESTDIR)$(BINDIR)/convplay
	install -m 644 $(BUILD)/libcore.a $(DESTDIR)$(LIBDIR)/libconvplay.a
	install -m 755 $(BUILD)/$(SHLIB) $(DESTDIR)$(LIBDIR)/$(SHLIB)
	ln -sf $(SHLIB) $(DESTDIR)$(LIBDIR)/libconvplay.so.$(MAJOR)
	ln -sf libconvplay.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libconvplay.so
	install -m 644 $(BUILD)/convplay.pc $(DESTDIR)$(PCDIR)/convplay.pc
	install -m 644 src/core/*.h $(DESTDIR)$(INCLUDEDIR)/convplay/
	install -m 644 docs/convplay.1 $(DESTDIR)$(MANDIR)/man1/convplay.1
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	@# a real install as root: tell the dynamic linker about libconvplay.so.0
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig 2>/dev/null || true; fi

# The Lua module and the data it reads (the lab's sample image, the tour):
# all that LuaRocks installs (convplay-scm-1.rockspec).
install-module: $(BUILD)/convplay.so
	install -d $(DESTDIR)$(LUA_CMOD) $(DESTDIR)$(DATADIR)/scripts/seeds \
	  $(DESTDIR)$(DATADIR)/assets/figures
	install -m 755 $(BUILD)/convplay.so $(DESTDIR)$(LUA_CMOD)/convplay.so
	install -m 644 scripts/*.lua $(DESTDIR)$(DATADIR)/scripts/
	install -m 644 scripts/seeds/*.lua $(DESTDIR)$(DATADIR)/scripts/seeds/
	install -m 644 assets/README.md assets/*.png $(DESTDIR)$(DATADIR)/assets/
	install -m 644 assets/figures/* $(DESTDIR)$(DATADIR)/assets/figures/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/convplay $(DESTDIR)$(LUA_CMOD)/convplay.so \
	  $(DESTDIR)$(LIBDIR)/libconvplay.a $(DESTDIR)$(LIBDIR)/libconvplay.so \
	  $(DESTDIR)$(LIBDIR)/libconvplay.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/$(SHLIB) \
	  $(DESTDIR)$(PCDIR)/convplay.pc $(DESTDIR)$(MANDIR)/man1/convplay.1
	rm -rf $(DESTDIR)$(INCLUDEDIR)/convplay $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig 2>/dev/null || true; fi

# ---- use ----------------------------------------------------------------------
run: all
	$(BUILD)/convplay

# The whole suite, then the whole suite again under ASan + UBSan.
test: deps test-deps
	@bash tests/run_all.sh

# One suite run against an already-built tree (used by run_all.sh); the
# sanitizer flags reach the tests that compile or preload (install, lua5.4).
test-fast: all $(BUILD)/test_core
	@CONVPLAY_SAN="$(SAN)" bash tests/run_suite.sh $(BUILD)

test-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  test-fast

# The lab's worker thread under ThreadSanitizer (its window test only).
test-tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan OPT=-O1 \
	  SAN="-fsanitize=thread" build/tsan/convplay
	@bash tests/viz/tsan_lab.sh build/tsan

bench: all
	@sh tests/deps.sh $(BENCH_DEBS) || echo "bench: an anchor is missing; its columns stay empty"
	@sh tests/bench/run.sh $(BUILD)

# gen_code.py runs the code views generate (v:code) through PyTorch: it
# needs the built binary.
golden: $(BUILD)/convplay
	/usr/bin/python3 tests/golden/gen_golden.py
	/usr/bin/python3 tests/golden/gen_code.py $(BUILD)/convplay
	/usr/bin/python3 tests/golden/gen_code_grad.py $(BUILD)/convplay
	/usr/bin/python3 tests/golden/gen_code_kind.py $(BUILD)/convplay

clean:
	rm -rf build
