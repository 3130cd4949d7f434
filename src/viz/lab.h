/* lab.h - the image filter lab: an image, a kernel you edit, the filtered
 * result side by side (split view), live.
 *
 * The lab draws with draw.h onto an ARGB surface, in a window (vz_lab_run)
 * or offscreen (headless: every update computes synchronously and
 * vz_lab_render draws one frame for screenshots).  The model (kernel and
 * settings, src/core/lab_model.h) is edited through vz_lab_model(), followed
 * by vz_lab_update().  With a window, the compute runs on a worker pthread
 * into a back buffer (result tensor + display surface) that is swapped in
 * when done, so the window stays responsive; a compute slower than a frame
 * shows a progress bar and runs in bands that a newer edit cancels.
 *
 * Usage (headless):
 *   vz_lab *lb = vz_lab_new(&img, "photo.png", 1, 0, 0, err, sizeof err);
 *   cp_lab_set_preset(vz_lab_model(lb), CP_PRESET_SOBEL_X, NULL, &e);
 *   vz_lab_update(lb, err, sizeof err);
 *   vz_lab_screenshot(lb, "shot.png", err, sizeof err);
 *   vz_lab_free(lb);
 *
 * Nothing here aborts or exits; failures return -1 with a reason in err.
 */
#ifndef VZ_LAB_H
#define VZ_LAB_H

#include <stddef.h>

#include <SDL.h>

#include "viz/draw.h"

#include "core/lab_model.h"

#define VZ_LAB_WIDTH 1280         /* default window / offscreen size */
#define VZ_LAB_HEIGHT 800

typedef struct vz_lab vz_lab;

/* What the image area shows. */
typedef enum { VZ_VIEW_SPLIT = 0, VZ_VIEW_AFTER, VZ_VIEW_BEFORE } vz_viewmode;

/* The view, editable between updates (vz_lab_render uses it as is). */
typedef struct vz_lab_view {
  vz_viewmode mode;           /* split / after only / before only */
  double split;               /* split position, 0..1 of the image area */
  double zoom;                /* screen pixels per image pixel; <= 0: fit */
  double cy, cx;              /* image point at the centre of the area */
  int hover_r, hover_c;       /* output pixel shown in the readout, or -1 */
  int hover_before;           /* 1: hovering the input side (input pixel) */
  int sel_i, sel_j;           /* selected kernel cell, or -1 */
  int readout_ch;             /* channel whose sum the readout spells out */
} vz_lab_view;

/* image: (C,H,W), C 1..4, shared.  path: the file it came from (saves go
 * beside it) or NULL.  w, h: surface size (0: VZ_LAB_WIDTH x VZ_LAB_HEIGHT). */
vz_lab *vz_lab_new(const cp_tensor *image, const char *path, int headless,
                   int w, int h, char *err, size_t n);
void vz_lab_free(vz_lab *lb);

cp_lab *vz_lab_model(vz_lab *lb);
/* Replace the model by m (moved in: the lab owns its references now; the
 * old model is freed). */
void vz_lab_set_model(vz_lab *lb, const cp_lab *m);
/* The view settings: a copy out, a copy in. */
void vz_lab_view_get(const vz_lab *lb, vz_lab_view *v);
void vz_lab_view_set(vz_lab *lb, const vz_lab_view *v);
/* Validate the model and start (headless: run) the compute.  On a bad
 * setting returns -1 and keeps the previous result. */
int vz_lab_update(vz_lab *lb, char *err, size_t n);
/* Wait for the compute in flight; -1 if it failed (reason in err). */
int vz_lab_wait(vz_lab *lb, char *err, size_t n);
/* The latest result (C,OH,OW), raw: a new reference (waits first). */
int vz_lab_result(vz_lab *lb, cp_tensor *out, char *err, size_t n);

/* Replace the image by a file (also what dropping a file does). */
int vz_lab_open(vz_lab *lb, const char *path, char *err, size_t n);
/* Save the displayed result (signed mapping applied) with cp_image_save
 * (atomic).  path NULL: a new name beside the input, "NAME-lab.png",
 * "NAME-lab-2.png", ... never overwriting.  The path used goes to saved. */
int vz_lab_save(vz_lab *lb, const char *path, char *saved, size_t ns,
                char *err, size_t n);
/* The input is convplay's own sample: new names go in the current
 * directory (never into the source tree or the installed data). */
void vz_lab_save_in_cwd(vz_lab *lb, int yes);

/* Draw one frame (waits for nothing); the surface stays owned by the lab. */
vz_canvas *vz_lab_render(vz_lab *lb);
int vz_lab_screenshot(vz_lab *lb, const char *path, char *err, size_t n);
/* Screen rectangle of kernel cell (i, j) in the last frame (0 if none). */
int vz_lab_cell_rect(vz_lab *lb, int i, int j, SDL_Rect *r);

/* Open a window (if not yet) and run its event loop until it is closed. */
int vz_lab_run(vz_lab *lb, char *err, size_t n);
/* vz_lab_run with a prompt beside the window (the app's idle hook, see
 * app.h; NULL for none). */
int vz_lab_run_idle(vz_lab *lb, int (*idle)(void *ud, int what),
                    void *idle_ud, char *err, size_t n);

/* The lab as a page of the window app (app.c): start / stop its worker,
 * one event (returns 1 to quit), draw its frame (the lab's own canvas,
 * sized by the window's events), and whether it wants redraws (a compute
 * in progress). */
int vz_lab_attach(vz_lab *lb, char *err, size_t n);
void vz_lab_detach(vz_lab *lb);
int vz_lab_event(vz_lab *lb, const SDL_Event *ev);
vz_canvas *vz_lab_draw(vz_lab *lb);
int vz_lab_animating(vz_lab *lb);

/* Bench: one synchronous compute + display update + frame, in ms. */
double vz_lab_frame_ms(vz_lab *lb, char *err, size_t n);

#endif
