/* main.c - the convplay command line: a Lua 5.4 host with convplay's
 * modules, in the manner of the stock `lua` interpreter.
 *
 *   convplay [options] [script.lua [args...]]
 *     --headless     no window: viz renders offscreen, viz.run returns
 *     -e CODE        run CODE (may repeat; runs before the script)
 *     -i             the live prompt: after the -e code and the script,
 *                    Lua lines typed beside the open window (repl.c)
 *     --lab [IMAGE]  open the image filter lab
 *     --tour         the guided tour (what no script and no -e opens)
 *     -h, --help     usage;  -v, --version  version
 * With no script and no -e: the guided tour in a window, or with
 * --headless a prompt (stdin is run as a script when it is not a terminal).
 * A Lua error prints "file:line: message" and a traceback on stderr and
 * exits with status 1. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/version.h"
#include "host.h"
#include "lua/cpl.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: convplay [options] [script.lua [args...]]\n"
          "  --headless     no window (viz renders offscreen; viz.run "
          "returns at once)\n"
          "  -e CODE        run CODE before the script (may repeat)\n"
          "  -i             a live Lua prompt beside the window (after the "
          "script)\n"
          "  --lab [IMAGE]  open the image filter lab\n"
          "  --tour         the guided tour (the default with no script)\n"
          "  -h, --help     this help\n"
          "  -v, --version  print the version\n"
          "With no script and no -e, convplay opens the guided tour "
          "(with --headless: a Lua prompt).\n"
          "Modules: tensor, conv, image, viz (globals, also require-able).\n");
}

/* arg table as the stock interpreter builds it: script at 0, its
 * arguments at 1..n, the interpreter and options at negative indices. */
static void create_arg(lua_State *L, char **argv, int argc, int script) {
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* With a window, a script whose main chunk fails shows its error in the
 * window and waits there for the file to be fixed (it reloads on save):
 * viz._error_screen(msg), which returns true once a reload succeeded. */
static int error_window;

static int error_screen(lua_State *L, int status) {
  host_report_keep(L, status); /* printed, and left on the stack */
  if (lua_getglobal(L, "viz") != LUA_TTABLE ||
      lua_getfield(L, -1, "_error_screen") != LUA_TFUNCTION) {
    lua_pop(L, 3);
    return status;
  }
  lua_remove(L, -2);
  lua_insert(L, -2); /* function, message */
  if (host_docall(L, 1, 1) != LUA_OK) return host_report(L, LUA_ERRRUN);
  int fixed = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return fixed ? LUA_OK : status;
}

static int run_script(lua_State *L, const char *path, char **argv, int argc,
                      int first_arg) {
  char abs[PATH_MAX];
  if (realpath(path, abs) != NULL) {
    lua_pushstring(L, abs);
    lua_setfield(L, LUA_REGISTRYINDEX, "convplay.script");
  }
  int status = luaL_loadfile(L, path);
  if (status == LUA_OK) {
    int n = 0;
    for (int i = first_arg; i < argc; i++, n++) lua_pushstring(L, argv[i]);
    status = host_docall(L, n, 0);
  }
  if (status != LUA_OK && error_window) return error_screen(L, status);
  return host_report(L, status);
}

static int run_string(lua_State *L, const char *code, const char *name) {
  int status = luaL_loadbuffer(L, code, strlen(code), name);
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  return host_report(L, status);
}

/* After a script, with a window: let viz enter its loop if the script set
 * up views or LÖVE-style callbacks without calling viz.run itself. */
static int after_script(lua_State *L) {
  if (lua_getglobal(L, "viz") != LUA_TTABLE) {
    lua_pop(L, 1);
    return LUA_OK;
  }
  int t = lua_getfield(L, -1, "_after_script");
  lua_remove(L, -2);
  if (t != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return LUA_OK;
  }
  return host_report(L, host_docall(L, 0, 0));
}

/* With a window and -i: open it, showing every view made so far (none
 * yet is fine: views made at the prompt appear as they are made). */
static void open_window(lua_State *L) {
  if (lua_getglobal(L, "viz") == LUA_TTABLE &&
      lua_getfield(L, -1, "run") == LUA_TFUNCTION) {
    lua_remove(L, -2);
    host_report(L, host_docall(L, 0, 0));
  } else {
    lua_pop(L, 2);
  }
}

int main(int argc, char **argv) {
  int headless = 0, interactive = 0, lab = 0, tour = 0, script = 0, has_e = 0;
  const char *lab_image = NULL;
  /* First pass: options up to the script name. */
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--headless")) {
      headless = 1;
    } else if (!strcmp(a, "-i")) {
      interactive = 1;
    } else if (!strcmp(a, "-e")) {
      has_e = 1;
      if (++i >= argc) {
        fprintf(stderr, "convplay: '-e' needs an argument\n");
        usage(stderr);
        return 2;
      }
    } else if (!strcmp(a, "--lab")) {
      lab = 1;
      if (i + 1 < argc && argv[i + 1][0] != '-') lab_image = argv[++i];
    } else if (!strcmp(a, "--tour")) {
      tour = 1;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
      printf("convplay %s (%s)\n", CONVPLAY_VERSION, LUA_RELEASE);
      return 0;
    } else if (!strcmp(a, "--")) {
      if (i + 1 < argc) script = i + 1;
      break;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "convplay: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    } else {
      script = i;
      break;
    }
  }

  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "convplay: cannot create a Lua state (out of memory)\n");
    return 1;
  }
  luaL_openlibs(L);
  cpl_openlibs(L, headless);

  /* The data folder (checkout, or PREFIX/share/convplay), as the module
   * found it; scripts may require the project's own Lua helpers. */
  char home[PATH_MAX];
  lua_getfield(L, LUA_REGISTRYINDEX, "convplay.home");
  snprintf(home, sizeof home, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/scripts/?.lua;", home);
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);

  /* The prompt: -i, or --headless with nothing to run on a terminal.  It
   * is up before the script runs, so a viz.run in the script already has
   * the prompt beside its window. */
  int prompt = interactive || (headless && !script && !lab && !tour &&
                               !has_e && isatty(STDIN_FILENO));
  if (prompt) repl_start(L, !headless);
  error_window = !headless && !prompt;

  create_arg(L, argv, argc, script ? script : argc);
  int status = LUA_OK, ran_code = 0;
  for (int i = 1; i < (script ? script : argc) && status == LUA_OK; i++) {
    if (!strcmp(argv[i], "-e")) {
      status = run_string(L, argv[++i], "=(command line)");
      ran_code = 1;
    } else if (!strcmp(argv[i], "--lab") && lab_image && argv[i + 1] == lab_image) {
      i++;
    }
  }
  if (status == LUA_OK) {
    char path[PATH_MAX + 64];
    if (lab) {
      snprintf(path, sizeof path, "%s/scripts/lab.lua", home);
      char *lab_argv[3] = {path, (char *)lab_image, NULL};
      status = run_script(L, path, lab_argv, lab_image ? 2 : 1, 1);
    } else if (script) {
      status = run_script(L, argv[script], argv, argc, script + 1);
    } else if (tour || (!ran_code && !headless && !interactive)) {
      snprintf(path, sizeof path, "%s/scripts/tour.lua", home);
      status = run_script(L, path, argv, argc, argc);
    }
  }
  if (prompt) {
    /* An error in the script was printed; the prompt goes on, so that it
     * can be fixed there. */
    if (!headless && repl_windows() == 0 && !repl_done()) open_window(L);
    repl_run(L);
    repl_stop();
    status = LUA_OK;
  } else {
    if (status == LUA_OK && !headless) status = after_script(L);
    if (status == LUA_OK && headless && !script && !ran_code && !lab &&
        !tour) { /* `convplay --headless < script.lua` runs it as a script */
      status = luaL_loadfile(L, NULL);
      if (status == LUA_OK) status = host_docall(L, 0, 0);
      host_report(L, status);
    }
  }
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
