/* host.h - what the command line (main.c) and the prompt (repl.c) share. */
#ifndef CONVPLAY_HOST_H
#define CONVPLAY_HOST_H

#include <lua.h>

/* Call the function below nargs arguments under a message handler that
 * adds a traceback; while the prompt is up, Ctrl-C interrupts it. */
int host_docall(lua_State *L, int nargs, int nres);
/* Print the error message on the stack top (if status is an error). */
int host_report(lua_State *L, int status);
/* As host_report, but the message stays on the stack. */
void host_report_keep(lua_State *L, int status);

/* ---- the prompt (repl.c) --------------------------------------------------- */
/* Set up the prompt: readline's callback interface and the history file
 * on a terminal, plain reads otherwise; Ctrl-C handling.  with_window: a
 * window's loop will poll the prompt every frame. */
void repl_start(lua_State *L, int with_window);
/* Windows the prompt has lived beside so far. */
int repl_windows(void);
/* End of input seen (Ctrl-D, or the end of a pipe). */
int repl_done(void);
/* Read and run lines until the end of input, waiting on stdin (no window
 * open; a line may open one, whose loop then polls the prompt). */
void repl_run(lua_State *L);
/* Restore the terminal and save the history. */
void repl_stop(void);

#endif
