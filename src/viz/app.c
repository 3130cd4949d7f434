/* app.c - the window of convplay: event loop, pages, error screen,
 * screenshots, interrupts.  See app.h. */
#include "viz/app.h"

#include "viz/code.h"
#include "viz/lab.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <SDL.h>

/* ====================================================================== */
/* State (one window per process)                                          */
/* ====================================================================== */

static struct {
  const vz_app_hooks *h;      /* the embedder's hooks while running */
  SDL_Window *win;            /* the window */
  vz_canvas *frame;           /* what the loop draws into */
  vz_canvas *shown;           /* what the window shows (a lab's canvas) */
  int drawing;                /* inside the draw of a frame */
  int running, quit, dirty;
  int page;                   /* current page, 1-based */
  char *err;                  /* error screen text, or NULL */
  char msg[512];              /* transient message */
  int msg_err;
  uint32_t msg_until;         /* SDL ticks when it goes */
  uint32_t last_pump;         /* last event pump from an interrupt poll */
  int host_sigint;            /* the host handles SIGINT */
} A;

static volatile sig_atomic_t sigint_pending, sigterm_pending;
static struct sigaction old_int, old_term;

int vz_app_running(void) { return A.running; }
void vz_app_set_title(const char *title) {
  if (A.win) SDL_SetWindowTitle(A.win, title);
}
void vz_app_quit(void) { A.quit = 1; }
void vz_app_dirty(void) { A.dirty = 1; }
int vz_app_page(void) { return A.page; }
void vz_app_set_page(int page) {
  A.page = page;
  A.dirty = 1;
}
vz_canvas *vz_app_frame(void) { return A.drawing ? A.frame : NULL; }

static void (*logger)(const char *msg);

void vz_app_set_logger(void (*log)(const char *msg)) { logger = log; }

static void app_log(const char *msg) {
  if (logger) {
    logger(msg);
    return;
  }
  fprintf(stderr, "convplay: %s\n", msg);
  fflush(stderr);
}

void vz_app_set_error(const char *msg) {
  free(A.err);
  A.err = msg ? strdup(msg) : NULL;
  if (msg) app_log(msg);
  A.dirty = 1;
}

const char *vz_app_error(void) { return A.err; }

void vz_app_message(int is_err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(A.msg, sizeof A.msg, fmt, ap);
  va_end(ap);
  A.msg_err = is_err;
  A.msg_until = SDL_GetTicks() + 4000;
  A.dirty = 1;
  app_log(A.msg);
}

/* ====================================================================== */
/* Interrupts                                                              */
/* ====================================================================== */

void vz_app_host_owns_sigint(int yes) { A.host_sigint = yes; }
void vz_app_request_interrupt(void) { sigint_pending = 1; }
void vz_app_clear_interrupt(void) { sigint_pending = 0; }

static void on_sigint(int sig) {
  (void)sig;
  if (sigint_pending) { /* the first one was not heard: C code is stuck */
    sigaction(SIGINT, &old_int, NULL);
    raise(SIGINT);
    return;
  }
  sigint_pending = 1;
}

static void on_sigterm(int sig) {
  (void)sig;
  if (sigterm_pending) {
    sigaction(SIGTERM, &old_term, NULL);
    raise(SIGTERM);
    return;
  }
  sigterm_pending = 1;
}

static void signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_sigterm;
  sigaction(SIGTERM, &sa, &old_term);
  if (A.host_sigint) return;
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, &old_int);
}

static void signals_restore(void) {
  sigaction(SIGTERM, &old_term, NULL);
  if (!A.host_sigint) sigaction(SIGINT, &old_int, NULL);
  sigint_pending = sigterm_pending = 0;
}

/* Is the window being closed?  Looks at the queue without taking events
 * out of it (the loop handles them once the code has stopped). */
static int window_closing(void) {
  SDL_Event ev[32];
  SDL_PumpEvents();
  if (SDL_PeepEvents(ev, 1, SDL_PEEKEVENT, SDL_QUIT, SDL_QUIT) > 0) return 1;
  int n = SDL_PeepEvents(ev, 32, SDL_PEEKEVENT, SDL_WINDOWEVENT,
                         SDL_WINDOWEVENT);
  for (int i = 0; i < n; i++)
    if (ev[i].window.event == SDL_WINDOWEVENT_CLOSE) return 1;
  return 0;
}

int vz_app_poll_interrupt(void) {
  if (sigterm_pending) {
    A.quit = 1;
    return VZ_INT_QUIT;
  }
  if (sigint_pending) return VZ_INT_STOP;
  if (!A.running) return VZ_INT_NONE;
  uint32_t now = SDL_GetTicks();
  if (now - A.last_pump < 50) return VZ_INT_NONE;
  A.last_pump = now;
  if (window_closing()) {
    A.quit = 1;
    return VZ_INT_QUIT;
  }
  return VZ_INT_NONE;
}

/* ====================================================================== */
/* Drawing                                                                 */
/* ====================================================================== */

static int line_h(int px) {
  int h;
  vz_text_size("Ag", px, 0, NULL, &h);
  return h;
}

/* The error screen, laid out for the frame: title, keys, the message
 * wrapped (its first line bold), the traceback under it. */
static void draw_error(vz_canvas *s) {
  int fs = s->w < 700 || s->h < 450 ? 13 : 15, m = fs + 6;
  vz_clear(s, vz_th->errbg);
  int interrupted = strncmp(A.err, "interrupted", 11) == 0;
  int y = m / 2;
  vz_text(s, m, y, interrupted ? "Interrupted" : "Lua error", fs * 3 / 2,
          VZ_BOLD | VZ_SANS, VZ_ERRC, VZ_LEFT);
  y += line_h(fs * 3 / 2) + 4;
  char keys[160];
  snprintf(keys, sizeof keys, "%s",
           "r: reload the script · fix and save it: reloads · Esc: quit");
  vz_ellipsize(keys, fs, 0, s->w - 2 * m);
  vz_text(s, m, y, keys, fs, 0, VZ_DIM, VZ_LEFT);
  y += line_h(fs) + fs;
  const char *nl = strchr(A.err, '\n');
  size_t first = nl ? (size_t)(nl - A.err) : strlen(A.err);
  char *head = malloc(first + 1);
  if (head) {
    memcpy(head, A.err, first);
    head[first] = 0;
    y += vz_para(s, m, y, s->w - 2 * m, (s->h - y) / 2, head, fs, VZ_BOLD,
                 VZ_FG) + fs / 2;
    free(head);
  }
  if (nl && y < s->h - m) {
    /* tabs of the traceback as spaces */
    char *rest = strdup(nl + 1);
    if (rest) {
      for (char *p = rest; *p; p++)
        if (*p == '\t') *p = ' ';
      vz_para(s, m, y, s->w - 2 * m, s->h - m / 2 - y, rest, fs, 0, VZ_DIM);
      free(rest);
    }
  }
}

static void draw_message(vz_canvas *s) {
  if (!A.msg[0] || SDL_GetTicks() > A.msg_until) {
    A.msg[0] = 0;
    return;
  }
  int fs = 14, pad = 8, w, h;
  char t[512];
  snprintf(t, sizeof t, "%s", A.msg);
  vz_ellipsize(t, fs, 0, s->w - 6 * pad);
  vz_text_size(t, fs, 0, &w, &h);
  int x = (s->w - w) / 2 - pad, y = s->h - h - 2 * pad - 34;
  if (y < 0) y = 0;
  s->layer = 1;
  vz_fill(s, x, y, w + 2 * pad, h + 2 * pad, VZ_PANEL);
  vz_frame(s, x, y, w + 2 * pad, h + 2 * pad, 1.5,
           A.msg_err ? VZ_ERRC : VZ_ACCENT2);
  vz_panel_box(s, "message", x, y, w + 2 * pad, h + 2 * pad);
  vz_text(s, x + pad, y + pad, t, fs, 0, A.msg_err ? VZ_ERRC : VZ_FG,
          VZ_LEFT);
  s->layer = 0;
}

static vz_page current(void) {
  vz_page none = {NULL, NULL, NULL, NULL};
  int n = A.h->npages ? A.h->npages(A.h->ud) : 0;
  if (n == 0) return none;
  if (A.page < 1) A.page = 1;
  if (A.page > n) A.page = n;
  return A.h->page(A.h->ud, A.page);
}

/* Draw the frame; returns the canvas to show (a lab page draws its own). */
static vz_canvas *draw_frame(void) {
  vz_canvas *s = A.frame;
  vz_page lp = A.err ? (vz_page){NULL, NULL, NULL, NULL} : current();
  if (lp.lab) {
    s = vz_lab_draw(lp.lab);
    draw_message(s);
    return s;
  }
  A.drawing = 1;
  if (A.err) {
    draw_error(s);
  } else {
    vz_page pg = current();
    int np = A.h->npages ? A.h->npages(A.h->ud) : 0;
    if (pg.v) {
      char foot[64] = "";
      if (np > 1)
        snprintf(foot, sizeof foot, "page %d / %d · Tab: next", A.page, np);
      vz_view_set_frame(pg.v, s->w, s->h, foot);
      vz_view_draw(pg.v, s);
    } else if (pg.sh) {
      vz_show_draw(pg.sh, s);
    } else if (pg.st) {
      vz_stack_draw(pg.st, s);
    } else {
      vz_clear(s, VZ_BG);
      if (A.h->idle)
        vz_para(s, 20, 20, s->w - 40, s->h - 40,
                "No view yet: type at the prompt, e.g. v = viz.conv2d("
                "tensor.arange(25):reshape(1, 1, 5, 5), tensor.ones(1, 1, "
                "3, 3))",
                16, 0, VZ_DIM);
    }
    if (A.h->draw) A.h->draw(A.h->ud, s);
    if (A.err) draw_error(s);
  }
  draw_message(s);
  A.drawing = 0;
  return s;
}

/* ====================================================================== */
/* Input                                                                   */
/* ====================================================================== */

static const char *key_name(const SDL_Keysym *ks, char *buf) {
  SDL_Keycode k = ks->sym;
  int shift = (ks->mod & KMOD_SHIFT) != 0;
  if (k == SDLK_SLASH && shift) return "?";
  if ((k == SDLK_EQUALS && shift) || k == SDLK_KP_PLUS) return "+";
  if (k == SDLK_KP_MINUS) return "-";
  if (k == SDLK_SPACE) return "Space";
  if (k > 32 && k < 127) {
    buf[0] = (char)k;
    buf[1] = 0;
    return buf;
  }
  return SDL_GetKeyName(k);
}

/* F2: the frame as convplay-NNNN.png in the current directory. */
static void save_frame(void) {
  char path[64], err[512];
  int i = 1;
  for (; i < 10000; i++) {
    snprintf(path, sizeof path, "convplay-%04d.png", i);
    struct stat st;
    if (stat(path, &st) != 0) break;
  }
  if (vz_save_png(A.shown ? A.shown : A.frame, path, err, sizeof err))
    vz_app_message(1, "screenshot not saved: %s", err);
  else
    vz_app_message(0, "saved %s", path);
}

/* The code panel's `c`: the text to the clipboard, and a word about it. */
static void set_clipboard(const char *text) {
  if (SDL_SetClipboardText(text) != 0)
    vz_app_message(1, "cannot copy to the clipboard: %s", SDL_GetError());
  else
    vz_app_message(0, "code copied to the clipboard");
}

static void handle_key(const SDL_Keysym *ks) {
  char buf[8], lower[64];
  const char *name = key_name(ks, buf);
  int shift = (ks->mod & KMOD_SHIFT) != 0;
  if (!strcmp(name, "Escape") || (!strcmp(name, "q") && !A.err)) {
    A.quit = 1;
    return;
  }
  if (A.err) {
    if (!strcmp(name, "q")) A.quit = 1;
    if (!strcmp(name, "r") && A.h->reload) A.h->reload(A.h->ud);
    return;
  }
  /* the script sees the key first (LÖVE names: lowercase) */
  snprintf(lower, sizeof lower, "%s", name);
  for (char *p = lower; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  if (A.h->keypressed && A.h->keypressed(A.h->ud, lower, shift)) return;
  if (A.err) return;
  int n = A.h->npages ? A.h->npages(A.h->ud) : 0;
  if (!strcmp(name, "r")) {
    if (A.h->reload) A.h->reload(A.h->ud);
  } else if (!strcmp(name, "F2")) {
    save_frame();
  } else if ((!strcmp(name, "Tab") && !shift) || !strcmp(name, "PageDown")) {
    if (n) A.page = A.page % n + 1;
  } else if (!strcmp(name, "Tab") || !strcmp(name, "PageUp")) {
    if (n) A.page = (A.page + n - 2) % n + 1;
  } else {
    vz_page pg = current();
    if (pg.v) vz_view_key(pg.v, name, shift);
  }
}

/* ====================================================================== */
/* The loop                                                                */
/* ====================================================================== */

/* Video with a driver that shows something: 1; a driver without a display
 * that the user asked for (SDL_VIDEODRIVER=dummy/offscreen): 0; no video:
 * -1 with SDL's own reason. */
static int open_video(char *err, size_t n) {
  if (!A.host_sigint) SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
  if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    snprintf(err, n, "cannot open a window: %s (run with --headless for "
                     "offscreen rendering)",
             SDL_GetError());
    return -1;
  }
  const char *drv = SDL_GetCurrentVideoDriver();
  if (drv && (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy"))) {
    const char *asked = getenv("SDL_VIDEODRIVER");
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    if (asked && *asked) return 0;
    snprintf(err, n, "no display to open a window on (SDL found only its "
                     "'%s' video driver; is DISPLAY set?); run with "
                     "--headless for offscreen rendering",
             drv);
    return -1;
  }
  return 1;
}

static void on_resize(int w, int h) {
  vz_canvas *nf = vz_canvas_new(w, h);
  if (nf) {
    vz_canvas_free(A.frame);
    A.frame = nf;
  }
}

/* One event; returns the page's view for the mouse state. */
static void handle_event(const SDL_Event *ev, int *dragging, int *moved) {
  vz_page pg = current();
  vz_view *v = A.err ? NULL : pg.v;
  if (pg.lab && !A.err) { /* the lab handles its own input */
    if (ev->type == SDL_QUIT) {
      A.quit = 1;
    } else if (ev->type == SDL_KEYDOWN && ev->key.keysym.sym == SDLK_F2) {
      save_frame();
    } else {
      if (ev->type == SDL_WINDOWEVENT &&
          ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
        on_resize(ev->window.data1, ev->window.data2);
      if (vz_lab_event(pg.lab, ev)) A.quit = 1;
    }
    if (ev->type == SDL_DROPFILE) SDL_free(ev->drop.file);
    return;
  }
  if (ev->type == SDL_DROPFILE) SDL_free(ev->drop.file);
  switch (ev->type) {
  case SDL_QUIT: A.quit = 1; break;
  case SDL_WINDOWEVENT:
    if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
      on_resize(ev->window.data1, ev->window.data2);
    break;
  case SDL_KEYDOWN: handle_key(&ev->key.keysym); break;
  case SDL_MOUSEBUTTONDOWN:
    /* on the timeline: seek, and follow the drag; elsewhere: a click or
     * a pan, told apart by how far the pointer moves */
    *dragging = v && vz_view_press(v, ev->button.x, ev->button.y) ? 2 : 1;
    *moved = 0;
    break;
  case SDL_MOUSEBUTTONUP:
    /* a click (no drag): a control, or pin the clicked cell */
    if (v && *dragging == 1 && *moved < 4)
      vz_view_click(v, ev->button.x, ev->button.y);
    if (v) vz_view_release(v);
    *dragging = 0;
    break;
  case SDL_MOUSEMOTION:
    if (v && *dragging == 2) {
      vz_view_timeline_to(v, ev->motion.x);
    } else if (v && *dragging) {
      *moved += abs(ev->motion.xrel) + abs(ev->motion.yrel);
      if (*moved >= 4) vz_view_drag(v, ev->motion.xrel, ev->motion.yrel);
    } else if (v) {
      vz_view_mouse(v, ev->motion.x, ev->motion.y);
    } else if (pg.st && !A.err &&
               vz_stack_mouse(pg.st, ev->motion.x, ev->motion.y)) {
      vz_app_dirty();
    }
    break;
  case SDL_MOUSEWHEEL:
    if (v) vz_view_wheel(v, ev->wheel.y);
    break;
  }
}

int vz_app_run(const vz_app_hooks *h, int w, int hgt, char *err, size_t n) {
  if (A.running) return 0;
  int rc = open_video(err, n);
  if (rc <= 0) return rc < 0 ? -1 : 1;
  vz_window_size(&w, &hgt);
  A.win = SDL_CreateWindow(h->title ? h->title : "convplay",
                           SDL_WINDOWPOS_CENTERED,
                           SDL_WINDOWPOS_CENTERED, w, hgt,
                           SDL_WINDOW_RESIZABLE);
  if (!A.win) {
    snprintf(err, n, "cannot open a window: %s (run with --headless for "
                     "offscreen rendering)",
             SDL_GetError());
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    return -1;
  }
  SDL_SetWindowMinimumSize(A.win, 480, 320);
  A.frame = vz_canvas_new(w, hgt);
  if (!A.frame) {
    snprintf(err, n, "cannot allocate a %dx%d frame", w, hgt);
    SDL_DestroyWindow(A.win);
    A.win = NULL;
    return -1;
  }
  A.h = h;
  A.running = 1;
  A.quit = 0;
  A.dirty = 1;
  if (A.page < 1) A.page = 1;
  signals_install();
  vz_code_set_clipboard(set_clipboard);
  for (int i = 1; h->npages && i <= h->npages(h->ud); i++) {
    vz_page pg = h->page(h->ud, i);
    if (pg.lab && vz_lab_attach(pg.lab, err, n)) A.quit = 1;
    if (pg.lab) { /* its canvas takes the window's size */
      SDL_Event ev;
      memset(&ev, 0, sizeof ev);
      ev.type = SDL_WINDOWEVENT;
      ev.window.event = SDL_WINDOWEVENT_SIZE_CHANGED;
      ev.window.data1 = w;
      ev.window.data2 = hgt;
      vz_lab_event(pg.lab, &ev);
    }
  }
  if (h->idle && (h->idle(h->idle_ud ? h->idle_ud : h->ud, VZ_IDLE_START) & VZ_IDLE_QUIT)) A.quit = 1;
  uint32_t last = SDL_GetTicks(), last_poll = last;
  int dragging = 0, moved = 0;
  while (!A.quit) {
    if (sigterm_pending) break;
    if (sigint_pending) {
      sigint_pending = 0;
      /* Ctrl-C with no code running: quit, unless it was the prompt's */
      if (!A.host_sigint) break;
    }
    if (h->idle) { /* the prompt: lines typed since the last frame */
      int r = h->idle(h->idle_ud ? h->idle_ud : h->ud, VZ_IDLE_POLL);
      if (r & VZ_IDLE_RAN) A.dirty = 1;
      if (r & VZ_IDLE_QUIT) break;
    }
    SDL_Event ev;
    while (!A.quit && SDL_PollEvent(&ev)) {
      A.dirty = 1;
      handle_event(&ev, &dragging, &moved);
    }
    if (A.quit) break;
    uint32_t now = SDL_GetTicks();
    double dt = (now - last) / 1000.0;
    last = now;
    if (!A.err && h->update) h->update(h->ud, dt);
    vz_page pg = current();
    if (pg.v) vz_view_tick(pg.v, dt);
    int anim = (pg.v && vz_view_playing(pg.v)) || A.msg[0] ||
               (pg.lab && vz_lab_animating(pg.lab)) ||
               (!A.err && h->animates && h->animates(h->ud));
    if (A.dirty || anim) {
      A.dirty = 0;
      A.shown = draw_frame();
      vz_present(A.win, A.shown);
    }
    if (now - last_poll > 500) { /* the script file saved: reload */
      last_poll = now;
      if (h->script_changed && h->script_changed(h->ud)) {
        h->reload(h->ud);
        A.dirty = 1;
      }
    }
    SDL_Delay(15);
  }
  for (int i = 1; h->npages && i <= h->npages(h->ud); i++) {
    vz_page pg = h->page(h->ud, i);
    if (pg.lab) vz_lab_detach(pg.lab);
  }
  vz_canvas_free(A.frame);
  A.frame = NULL;
  A.shown = NULL;
  SDL_DestroyWindow(A.win);
  A.win = NULL;
  /* The video subsystem stays up until exit: quitting it unloads the
   * libraries SDL opened (libdbus keeps allocations until exit), which
   * leaves LeakSanitizer with reports it cannot attribute. */
  A.running = 0;
  vz_code_set_clipboard(NULL);
  int term = sigterm_pending;
  signals_restore();
  if (h->idle) h->idle(h->idle_ud ? h->idle_ud : h->ud, VZ_IDLE_END);
  A.h = NULL;
  if (term) raise(SIGTERM); /* the window is closed: now die of it */
  return 0;
}
