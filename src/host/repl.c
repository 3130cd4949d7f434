/* repl.c - the prompt of `convplay -i`, live beside the window.
 *
 * The prompt never blocks the window, nor the window the prompt: lines are
 * read with readline's callback interface (rl_callback_read_char, one
 * character whenever stdin has one) on a terminal, and with plain
 * non-blocking reads from a pipe.  While a window is open its loop polls
 * the prompt every frame (cpl_viz_set_idle); a line runs between two
 * frames, and the next frame shows what it changed.  Without a window the
 * prompt waits on stdin itself, and a line that opens one (viz.run) is
 * polled from inside that window's loop.
 *
 * Readline is never re-entered: its line handler only takes the line and
 * removes itself, and the line runs after rl_callback_read_char returns.
 * The handler is installed again (which shows the prompt) when the next
 * character is wanted -- by the loop that follows, or by a window loop the
 * line itself opened.
 *
 * Like the stock `lua` prompt, an expression's value is printed ("return"
 * is tried first), an incomplete chunk asks for more with ">> ", an error
 * prints its message and traceback; here the window stays open.  Ctrl-C
 * stops running code (a Lua hook, as lua.c does) or else clears the line;
 * Ctrl-D quits.  On a terminal, history lives in
 * $XDG_DATA_HOME/convplay/history (default ~/.local/share/convplay). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "core/version.h"
#include "host.h"
#include "viz/app.h"
#include "lua/cpl.h"

#define HISTORY_LINES 1000
#define MAX_WINDOWS 16        /* nested window loops we track */

static struct {
  lua_State *L;
  int tty;                    /* stdin is a terminal: readline, history */
  int installed;              /* readline's handler is in (prompt shown) */
  int eof;                    /* end of input seen */
  int have_line;              /* a line waits in `line` (NULL: end) */
  char *line;                 /* that line (malloc'ed) */
  char *chunk;                /* an incomplete chunk's lines so far */
  char in[8192];              /* pipe input that is not a whole line yet */
  size_t inlen;               /* bytes in `in` */
  char history[PATH_MAX];     /* history file, or "" for none */
  int running;                /* code running under host_docall (depth) */
  lua_State *cur;             /* the thread that code runs in */
  int win_level[MAX_WINDOWS]; /* `running` when each window loop began */
  int nwin;                   /* window loops open now */
  int windows;                /* window loops opened so far */
  volatile sig_atomic_t sigint; /* Ctrl-C with no code to stop */
} R;

/* ====================================================================== */
/* Calling Lua (shared with main.c)                                        */
/* ====================================================================== */

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* Code runs at a deeper level than the innermost window loop: Ctrl-C
 * stops it.  Otherwise the prompt (or the window) is what the user sees,
 * and Ctrl-C only clears the line. */
static int code_runs(void) {
  int floor = R.nwin > 0 ? R.win_level[R.nwin - 1] : 0;
  return R.running > floor;
}

static void on_sigint(int sig) {
  (void)sig;
  if (R.cur && code_runs()) {
    lua_sethook(R.cur, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT,
                1);
  } else {
    R.sigint = 1;
    vz_app_request_interrupt(); /* a window callback may be running */
  }
}

int host_docall(lua_State *L, int nargs, int nres) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  lua_State *outer = R.cur;
  R.cur = L;
  R.running++;
  int status = lua_pcall(L, nargs, nres, base);
  R.running--;
  R.cur = outer;
  if (R.L && !code_runs()) lua_sethook(L, NULL, 0, 0); /* a late Ctrl-C */
  lua_remove(L, base);
  return status;
}

void host_report_keep(lua_State *L, int status) {
  if (status == LUA_OK) return;
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
  fflush(stderr);
}

int host_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

/* ====================================================================== */
/* History                                                                 */
/* ====================================================================== */

/* mkdir -p for the folders of path (not its last component). */
static void make_parents(const char *path) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(p, 0700) != 0 && errno != EEXIST) return;
    *s = '/';
  }
}

static void history_open(void) {
  const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
  int n;
  if (xdg && xdg[0] == '/')
    n = snprintf(R.history, sizeof R.history, "%s/convplay/history", xdg);
  else if (home && *home)
    n = snprintf(R.history, sizeof R.history,
                 "%s/.local/share/convplay/history", home);
  else
    n = -1;
  if (n < 0 || (size_t)n >= sizeof R.history) {
    R.history[0] = '\0';
    return;
  }
  make_parents(R.history);
  using_history();
  if (read_history(R.history) != 0) {
    /* no file yet: create it, so that append_history can add to it */
    FILE *f = fopen(R.history, "a");
    if (f) fclose(f);
    else R.history[0] = '\0';
  }
}

static void history_add(const char *line) {
  if (!R.tty || !*line) return;
  HIST_ENTRY *last = history_length > 0 ? history_get(history_base +
                                                      history_length - 1)
                                        : NULL;
  if (last && !strcmp(last->line, line)) return; /* no repeats */
  add_history(line);
  if (R.history[0]) append_history(1, R.history);
}

/* ====================================================================== */
/* Reading lines                                                           */
/* ====================================================================== */

static const char *prompt(void) { return R.chunk ? ">> " : "> "; }

/* readline's line handler: take the line, and step aside until the line
 * has run (see the header comment). */
static void on_line(char *line) {
  rl_callback_handler_remove();
  R.installed = 0;
  R.line = line;
  R.have_line = 1;
}

static void install(void) {
  if (R.tty && !R.installed) {
    rl_callback_handler_install(prompt(), on_line);
    R.installed = 1;
  }
}

/* Output while the prompt is shown (print() in a window callback, the
 * loop's messages): the prompt and what was typed step aside, then come
 * back below the output. */
static struct {
  int hidden;                 /* the prompt is stepped aside */
  char *typed;                /* the line typed so far */
  int point;                  /* the cursor in it */
} H;

static void hide_prompt(void) {
  if (!R.tty || !R.installed || H.hidden) return;
  H.hidden = 1;
  H.typed = rl_copy_text(0, rl_end);
  H.point = rl_point;
  rl_save_prompt();
  rl_replace_line("", 0);
  rl_redisplay();
}

static void show_prompt(void) {
  if (!H.hidden) return;
  H.hidden = 0;
  fflush(stdout);
  fflush(stderr);
  rl_restore_prompt();
  rl_replace_line(H.typed ? H.typed : "", 0);
  rl_point = H.point;
  rl_redisplay();
  free(H.typed);
  H.typed = NULL;
}

/* Ctrl-C at the prompt: drop the line and any incomplete chunk. */
static void clear_line(void) {
  R.sigint = 0;
  free(R.chunk);
  R.chunk = NULL;
  if (R.tty) {
    if (R.installed) {
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_callback_handler_remove();
      R.installed = 0;
    }
    fputs("^C\n", stdout);
    fflush(stdout);
    install();
  }
}

/* stdin readable within timeout_ms (-1: wait)?  A signal ends the wait. */
static int readable(int timeout_ms) {
  fd_set fds;
  FD_ZERO(&fds);
  FD_SET(STDIN_FILENO, &fds);
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  return select(STDIN_FILENO + 1, &fds, NULL, NULL,
                timeout_ms < 0 ? NULL : &tv) > 0;
}

/* A whole line from the pipe buffer, if there is one. */
static void take_pipe_line(int at_end) {
  char *nl = memchr(R.in, '\n', R.inlen);
  size_t len = nl ? (size_t)(nl - R.in) : R.inlen;
  if (!nl && !(at_end && R.inlen > 0) && R.inlen < sizeof R.in) return;
  R.line = strndup(R.in, len);
  R.have_line = 1;
  size_t used = nl ? len + 1 : len;
  memmove(R.in, R.in + used, R.inlen - used);
  R.inlen -= used;
}

/* Read what stdin has (waiting up to timeout_ms) until a line is ready. */
static void read_input(int timeout_ms) {
  if (!R.tty) take_pipe_line(0);
  install();
  while (!R.have_line && !R.sigint && readable(timeout_ms)) {
    if (R.tty) {
      rl_callback_read_char();
    } else {
      ssize_t n = read(STDIN_FILENO, R.in + R.inlen, sizeof R.in - R.inlen);
      if (n > 0) R.inlen += (size_t)n;
      take_pipe_line(n <= 0);
      if (n <= 0 && !R.have_line) R.have_line = 1; /* end: line NULL */
    }
    timeout_ms = 0; /* then only what is already there */
  }
}

/* ====================================================================== */
/* Running lines                                                           */
/* ====================================================================== */

/* Syntax error at <eof>: the chunk goes on on the next line. */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= 5 && strcmp(msg + lmsg - 5, "<eof>") == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  for (int i = 1; i <= n; i++) {
    const char *s = luaL_tolstring(L, base + i, NULL);
    printf("%s%s", i > 1 ? "\t" : "", s);
    lua_pop(L, 1);
  }
  if (n > 0) printf("\n");
  fflush(stdout);
}

/* Run one line (completing a chunk, or starting one).  Returns 1 if code
 * ran (whatever its outcome), 0 if the chunk needs more lines. */
static int run_line(lua_State *L, const char *line) {
  int base = lua_gettop(L);
  int status = LUA_ERRSYNTAX;
  if (!R.chunk) { /* an expression prints its value */
    const char *ret = lua_pushfstring(L, "return %s;", line);
    status = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
    lua_remove(L, -2);
    if (status != LUA_OK) lua_pop(L, 1);
  }
  if (status != LUA_OK) {
    if (R.chunk) lua_pushfstring(L, "%s\n%s", R.chunk, line);
    else lua_pushstring(L, line);
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    status = luaL_loadbuffer(L, code, len, "=stdin");
    if (incomplete(L, status)) {
      free(R.chunk);
      R.chunk = strdup(code);
      lua_settop(L, base);
      return 0;
    }
    lua_remove(L, -2); /* the source */
  }
  free(R.chunk);
  R.chunk = NULL;
  if (status != LUA_OK) {
    host_report(L, status);
    lua_settop(L, base);
    return 1;
  }
  /* Run it in a thread of its own: a traceback then ends at the prompt,
   * not in the window loop (or script) the prompt is polled from. */
  lua_State *T = lua_newthread(L);
  lua_insert(L, -2);
  lua_xmove(L, T, 1);
  status = host_docall(T, 0, LUA_MULTRET);
  if (status == LUA_OK) print_results(T, 0);
  else host_report(T, status);
  lua_settop(L, base);
  return 1;
}

/* Read what is there (waiting up to timeout_ms) and run the lines that
 * are complete.  Returns CPL_IDLE_* flags for a window's loop. */
static int poll_prompt(lua_State *L, int timeout_ms) {
  int flags = 0;
  for (int lines = 0; lines < 64 && !R.eof; lines++) {
    read_input(lines ? 0 : timeout_ms);
    if (R.sigint) clear_line();
    if (!R.have_line) break;
    char *line = R.line;
    R.have_line = 0;
    R.line = NULL;
    if (line == NULL) { /* Ctrl-D or the end of the pipe */
      R.eof = 1;
      if (R.tty) fputs("\n", stdout);
      break;
    }
    history_add(line);
    int ran = run_line(L, line);
    free(line);
    if (ran) { /* one line per frame: the next sees the views it changed */
      flags |= CPL_IDLE_RAN;
      break;
    }
  }
  return flags | (R.eof ? CPL_IDLE_QUIT : 0);
}

/* The window's side: called by its loop (src/lua/viz_loop.c). */
static int window_idle(lua_State *L, int event) {
  switch (event) {
  case CPL_IDLE_START:
    if (R.nwin < MAX_WINDOWS) R.win_level[R.nwin] = R.running;
    R.nwin++;
    R.windows++;
    return R.eof ? CPL_IDLE_QUIT : 0;
  case CPL_IDLE_END:
    if (R.nwin > 0) R.nwin--;
    if (!R.eof && R.tty && R.nwin == 0) {
      if (R.installed) {
        rl_callback_handler_remove();
        R.installed = 0;
      }
      fputs("\n(the window closed; viz.run() opens it again)\n", stdout);
      fflush(stdout);
    }
    return 0;
  case CPL_IDLE_HIDE:
    hide_prompt();
    return 0;
  case CPL_IDLE_SHOW:
    show_prompt();
    return 0;
  default:
    return poll_prompt(L, 0);
  }
}

static int l_print(lua_State *L) {
  hide_prompt();
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  int status = lua_pcall(L, lua_gettop(L) - 1, 0, 0);
  show_prompt();
  return status == LUA_OK ? 0 : lua_error(L);
}

/* ====================================================================== */
/* Start, run, stop                                                        */
/* ====================================================================== */

void repl_start(lua_State *L, int with_window) {
  R.L = L;
  R.tty = isatty(STDIN_FILENO);
  if (R.tty) {
    rl_readline_name = "convplay";
    rl_catch_signals = 0; /* Ctrl-C is ours (and not SDL's: see below) */
    history_open();
    lua_getglobal(L, "print");
    lua_pushcclosure(L, l_print, 1);
    lua_setglobal(L, "print");
    printf("convplay %s (%s) - tensor, conv, image, viz; Ctrl-D quits\n",
           CONVPLAY_VERSION, LUA_RELEASE);
    fflush(stdout);
  }
  /* Installed before SDL starts, so SDL leaves SIGINT alone (it only
   * takes a signal whose handler is the default). */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  if (with_window) cpl_viz_set_idle(window_idle);
}

int repl_windows(void) { return R.windows; }
int repl_done(void) { return R.eof; }

void repl_run(lua_State *L) {
  while (!R.eof) poll_prompt(L, -1);
}

void repl_stop(void) {
  if (R.installed) rl_callback_handler_remove();
  R.installed = 0;
  if (R.tty && R.history[0]) history_truncate_file(R.history, HISTORY_LINES);
  free(R.chunk);
  R.chunk = NULL;
  free(R.line);
  R.line = NULL;
  cpl_viz_set_idle(NULL);
  signal(SIGINT, SIG_DFL);
  R.L = NULL;
}
