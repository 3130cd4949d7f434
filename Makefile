# convplay - a Lua-scriptable convolution playground.
#   make run     build, then open the playground (guided tour)
#   make test    C core tests, Lua API tests, window tests; then all again
#                under AddressSanitizer + UBSan; the lab under ThreadSanitizer
#   make bench   speed, side by side with PyTorch
#   make golden  regenerate the PyTorch fixtures (needs python3-torch)

# Debian packages the build needs, and the pkg-config names they provide.
BUILD_DEBS := build-essential pkg-config liblua5.4-dev libsdl2-dev \
              libsdl2-ttf-dev fonts-dejavu-core libstb-dev libgif-dev \
              libreadline-dev
TEST_DEBS  := xvfb xauth xdotool imagemagick
PKGS       := lua5.4 sdl2 SDL2_ttf stb readline

BUILD  ?= build
CC     ?= cc
OPT    ?= -O2 -march=x86-64-v2
CFLAGS ?= $(OPT) -g
WARN   := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter
SAN    ?=
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lgif

CORE_SRC := $(wildcard src/core/*.c)
APP_SRC  := $(wildcard src/lua/*.c src/viz/*.c src/host/*.c)
CTEST_SRC := $(wildcard tests/c/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
APP_OBJ  := $(APP_SRC:%.c=$(BUILD)/obj/%.o)
CTEST_OBJ := $(CTEST_SRC:%.c=$(BUILD)/obj/%.o)

.PHONY: all run test test-fast test-asan test-tsan bench golden deps test-deps clean

all: deps $(BUILD)/convplay

# ---- dependencies: install when root, otherwise say exactly what to run ----
deps:
	@sh tests/deps.sh $(BUILD_DEBS)
test-deps:
	@sh tests/deps.sh $(TEST_DEBS)

# ---- build ------------------------------------------------------------------
# The core is compiled without any Lua or SDL include path: a stray include
# of either fails the build, which keeps the layers honest.
$(BUILD)/obj/src/core/%.o: src/core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SAN) $(FILE_SAN) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -Isrc -MMD -MP -c $< -o $@

# stb (compiled by the project in stb_build.c) shifts signed values the way
# every compiler does; UBSan's shift check is off for that one file.
$(BUILD)/obj/src/core/stb_build.o: FILE_SAN = $(if $(SAN),-fno-sanitize=shift)

$(BUILD)/libcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/convplay: $(APP_OBJ) $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $(APP_OBJ) $(BUILD)/libcore.a $(PKG_LIBS) -lm -lpthread

# C tests link the core alone: proof that it needs neither Lua nor SDL.
$(BUILD)/test_core: $(CTEST_OBJ) $(BUILD)/libcore.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $(CTEST_OBJ) $(BUILD)/libcore.a -lstb -lm -lpthread

-include $(CORE_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(CTEST_OBJ:.o=.d)

# ---- use ----------------------------------------------------------------------
run: all
	$(BUILD)/convplay

# The whole suite, then the whole suite again under ASan + UBSan.
test: deps test-deps
	@bash tests/run_all.sh

# One suite run against an already-built tree (used by run_all.sh).
test-fast: $(BUILD)/convplay $(BUILD)/test_core
	@bash tests/run_suite.sh $(BUILD)

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
	@sh tests/bench/run.sh $(BUILD)

golden:
	/usr/bin/python3 tests/golden/gen_golden.py

clean:
	rm -rf build
