/* app.h - the one window of convplay: its event loop, pages, error
 * screen, screenshots and interrupts (no Lua).
 *
 * The app owns the window and the frame it draws; what it shows comes
 * from pages (step-through views and static grids) that the embedder
 * hands over through a small table of hooks, so this layer never sees
 * Lua: the binding (src/lua/viz_loop.c) runs the script's callbacks
 * inside the hooks.
 *
 *   vz_app_hooks h = {.ud = L, .npages = ..., .page = ..., ...};
 *   char err[512];
 *   int rc = vz_app_run(&h, 1280, 720, err, sizeof err); // until closed
 *   // rc: 0 closed, 1 no display wanted (SDL_VIDEODRIVER=dummy), -1 err
 *
 * Errors from the hooks become the error screen (vz_app_set_error); it
 * stays until the script is reloaded ('r', or the file is saved) or the
 * next prompt line runs.
 *
 * Interrupts: a script that runs too long must never hold the window
 * hostage.  The embedder calls vz_app_poll_interrupt() often while its
 * code runs (a Lua count hook): it reports Ctrl-C in the terminal (SIGINT)
 * and a window closed meanwhile (it pumps the window's events at most
 * every 50 ms).  VZ_INT_STOP: stop the code and show "interrupted";
 * VZ_INT_QUIT: stop it and close. */
#ifndef VZ_APP_H
#define VZ_APP_H

#include <stddef.h>

#include "viz/draw.h"
#include "viz/show.h"
#include "viz/stack.h"
#include "viz/view.h"

typedef struct vz_lab vz_lab;

typedef struct vz_page {
  vz_view *v;                 /* a step-through, or NULL */
  vz_show *sh;                /* static grids, or NULL */
  vz_lab *lab;                /* the image lab, or NULL */
  vz_stack *st;               /* a stack of layers, or NULL */
} vz_page;

typedef struct vz_app_hooks {
  void *ud;                   /* passed to every hook */
  const char *title;          /* the window's title (NULL: "convplay") */
  int (*npages)(void *ud);
  vz_page (*page)(void *ud, int i);             /* 1-based */
  /* the script's callbacks; each may call vz_app_set_error */
  void (*update)(void *ud, double dt);
  void (*draw)(void *ud, vz_canvas *frame);
  int (*keypressed)(void *ud, const char *key, int shift); /* 1: eaten */
  int (*animates)(void *ud);  /* callbacks that redraw every frame */
  /* the script file: changed since loaded?  reload it */
  int (*script_changed)(void *ud);
  void (*reload)(void *ud);
  /* the prompt beside the window: VZ_IDLE_* flags; called with idle_ud
   * when set, else ud */
  int (*idle)(void *ud, int what);
  void *idle_ud;
} vz_app_hooks;

enum { VZ_IDLE_START = 0, VZ_IDLE_POLL = 1, VZ_IDLE_END = 2 };
enum { VZ_IDLE_RAN = 1, VZ_IDLE_QUIT = 2 };

/* Open the window (w x h, grown on a large display) and run until it is
 * closed.  Returns 0, 1 when SDL_VIDEODRIVER asks for no display, or -1
 * with SDL's own reason in err. */
int vz_app_run(const vz_app_hooks *hooks, int w, int h, char *err, size_t n);
int vz_app_running(void);
void vz_app_set_title(const char *title);
void vz_app_quit(void);

/* Where the app's messages ("saved x.png", errors) go besides the window:
 * by default "convplay: MSG" on stderr.  A prompt beside the window sets
 * its own (it steps its half-typed line aside first).  NULL: the default. */
void vz_app_set_logger(void (*log)(const char *msg));

/* The error screen: set (a copy of msg) or clear (NULL). */
void vz_app_set_error(const char *msg);
const char *vz_app_error(void);
/* A line shown over the frame for a few seconds ("saved x.png"). */
void vz_app_message(int is_err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int vz_app_page(void);        /* current page, 1-based (0: none) */
void vz_app_set_page(int page);
/* The frame being drawn (a script's draw()), or NULL outside drawing. */
vz_canvas *vz_app_frame(void);
/* Mark the frame as needing a redraw. */
void vz_app_dirty(void);

/* ---- interrupts ------------------------------------------------------------ */
enum { VZ_INT_NONE = 0, VZ_INT_STOP = 1, VZ_INT_QUIT = 2 };
/* Ask running code to stop (async-signal-safe: a SIGINT handler may call
 * it). */
void vz_app_request_interrupt(void);
/* Forget a pending request (before code starts). */
void vz_app_clear_interrupt(void);
/* What running code should do now (see above). */
int vz_app_poll_interrupt(void);
/* The host handles SIGINT itself (a prompt): the app installs no handler
 * and relies on vz_app_request_interrupt. */
void vz_app_host_owns_sigint(int yes);

#endif
