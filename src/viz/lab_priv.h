/* lab_priv.h - the lab's state, shared by lab.c (state, worker, events) and
 * lab_draw.c (drawing a frame).  Not for use outside src/viz/lab*.c. */
#ifndef VZ_LAB_PRIV_H
#define VZ_LAB_PRIV_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "lab.h"

#define LAB_PANEL_W 360       /* right-hand panel */
#define LAB_STATUS_H 26       /* status line under the image area */
#define LAB_NSETTINGS 12      /* rows of the settings list */

/* A click target of the last frame. */
typedef struct lab_hit {
  SDL_Rect r;                 /* screen rectangle */
  int kind;                   /* LAB_HIT_* */
  int a, b;                   /* cell (i, j), preset or setting index */
} lab_hit;
enum { LAB_HIT_CELL = 1, LAB_HIT_PRESET, LAB_HIT_SETTING };
#define LAB_MAXHITS (CP_LAB_MAXK * CP_LAB_MAXK + 64)

struct vz_lab {
  cp_lab m;                   /* model, owned by the UI thread */
  char path[PATH_MAX];        /* input file, "" when given a tensor */
  int save_in_cwd;            /* the bundled sample: save results in the
                               * current directory, not the project's */
  int headless;               /* offscreen only */
  SDL_Window *win;            /* NULL until vz_lab_run */
  vz_canvas *surf;            /* the frame */
  uint32_t *in_px;            /* the input image as display pixels */
  int in_w, in_h;             /* its size */
  vz_lab_view v;              /* zoom, pan, split, hover, selection */

  /* ---- result (front buffer), guarded by mu ---- */
  pthread_mutex_t mu;
  pthread_cond_t cv;          /* job posted / job finished */
  cp_tensor out;              /* latest raw result (C,OH,OW) */
  unsigned out_gen;           /* generation of the latest finished job */
  char out_err[640];          /* its error, "" if none */
  double out_ms;              /* compute + mapping time of that job */

  /* ---- worker, guarded by mu ---- */
  pthread_t th;               /* the worker thread */
  int th_started;             /* th is running */
  int quit;                   /* ask the worker to stop */
  cp_lab job;                 /* pending snapshot (valid if job_pending) */
  int job_pending;            /* a job waits in job */
  unsigned req_gen;           /* generation of the latest request */
  int busy;                   /* the worker is computing */
  atomic_int cancel;          /* a newer job is waiting: stop bands (the
                                 worker reads it without the lock) */
  _Atomic double progress;    /* 0..1 of the job in flight (written by
                                 the worker, read while drawing) */
  uint64_t busy_since;        /* SDL_GetPerformanceCounter at start */
  uint32_t wake_event;        /* SDL user event that wakes the UI */

  /* ---- interaction ---- */
  char msg[512];              /* status message */
  int msg_err;                /* it is an error */
  char entry[40];             /* value being typed into the selected cell */
  int editing;                /* entry is active */
  int drag;                   /* 0 none, 1 pan, 2 split */
  int drag_x, drag_y;         /* mouse at drag start */
  double drag_cx, drag_cy;    /* view centre at drag start */
  int mouse_x, mouse_y;       /* last mouse position (-1: outside) */
  int show_help;              /* key help overlay */
  lab_hit hits[LAB_MAXHITS];  /* click targets of the last frame */
  int nhits;
};

/* lab_draw.c (scratch for sampling the result into the frame) */
void lab_draw_frame(vz_lab *lb);
/* Image area of the frame and the transforms between screen and image. */
SDL_Rect lab_view_rect(const vz_lab *lb);
double lab_zoom(const vz_lab *lb);
void lab_to_image(const vz_lab *lb, double sx, double sy, double *ix,
                  double *iy);
void lab_to_screen(const vz_lab *lb, double ix, double iy, double *sx,
                   double *sy);
int lab_split_x(const vz_lab *lb);

/* lab_input.c: one event each; lab_on_key returns 1 to quit */
int lab_on_key(vz_lab *lb, const SDL_KeyboardEvent *k);
void lab_on_button(vz_lab *lb, const SDL_MouseButtonEvent *b);
void lab_on_motion(vz_lab *lb, const SDL_MouseMotionEvent *m);
void lab_on_wheel(vz_lab *lb, const SDL_MouseWheelEvent *w);
/* Which pixel the mouse is over, into lb->v.hover_* */
void lab_update_hover(vz_lab *lb);

/* lab.c */
void lab_set_msg(vz_lab *lb, int is_err, const char *fmt, ...);
double lab_busy_ms(vz_lab *lb);

#endif
