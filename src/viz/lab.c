/* lab.c - the image filter lab: state, the compute worker, files, and the
 * window's event loop.  Drawing is in lab_draw.c, keys and mouse in
 * lab_input.c. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/image.h"
#include "draw.h"
#include "lab_priv.h"
#include "viz/app.h"

/* A band of about this many multiply-adds takes a few ms: bigger computes
 * run in bands, report progress and can be cancelled. */
#define LAB_BAND_MACS (48.0 * 1000 * 1000)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void lab_set_msg(vz_lab *lb, int is_err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lb->msg, sizeof lb->msg, fmt, ap);
  va_end(ap);
  lb->msg_err = is_err;
}

/* The input image as display pixels. */
static int make_in_surf(vz_lab *lb, char *err, size_t n) {
  const cp_tensor *im = &lb->m.image;
  int w = (int)im->shape[2], h = (int)im->shape[1];
  uint32_t *px = malloc(sizeof *px * (size_t)(w > 0 ? w : 1) *
                        (size_t)(h > 0 ? h : 1));
  if (!px) {
    snprintf(err, n, "lab: cannot allocate the image's display pixels");
    return -1;
  }
  cp_lab_to_argb(im, CP_MAP_CLAMP, px, w, 0, im->shape[1]);
  free(lb->in_px);
  lb->in_px = px;
  lb->in_w = w;
  lb->in_h = h;
  return 0;
}

/* ====================================================================== */
/* The compute: model snapshot -> raw result + display surface             */
/* ====================================================================== */

/* Compute snap into *out.  Runs on the worker, or on the caller when
 * headless.  Display mapping happens when a frame samples the result (so
 * changing the signed mapping needs no recompute). */
static int run_job(const cp_lab *snap, cp_tensor *out,
                   const cp_lab_progress *prog, char *err, size_t n) {
  cp_err e;
  if (cp_lab_compute(snap, out, prog, &e)) {
    snprintf(err, n, "%.500s", e.msg);
    return -1;
  }
  return 0;
}

/* Make a finished job the front buffer (mu held). */
static void publish(vz_lab *lb, unsigned gen, cp_tensor *out, double ms,
                    const char *err) {
  if (gen < lb->out_gen) {
    if (out) cp_tensor_release(out);
    return;
  }
  lb->out_gen = gen;
  if (err) {
    snprintf(lb->out_err, sizeof lb->out_err, "%s", err);
    return;
  }
  lb->out_err[0] = '\0';
  cp_tensor_release(&lb->out);
  lb->out = *out;
  memset(out, 0, sizeof *out);
  lb->out_ms = ms;
}

static void report_progress(void *ud, double f) {
  vz_lab *lb = ud;
  lb->progress = f;
  SDL_Event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = lb->wake_event;
  SDL_PushEvent(&ev);
}

static void *worker(void *ud) {
  vz_lab *lb = ud;
  pthread_mutex_lock(&lb->mu);
  for (;;) {
    while (!lb->job_pending && !lb->quit) pthread_cond_wait(&lb->cv, &lb->mu);
    if (lb->quit) break;
    cp_lab snap = lb->job;
    unsigned gen = lb->req_gen;
    lb->job_pending = 0;
    lb->busy = 1;
    lb->cancel = 0;
    lb->progress = 0;
    lb->busy_since = (uint64_t)now_ms();
    pthread_mutex_unlock(&lb->mu);

    cp_lab_progress prog = {report_progress, lb, &lb->cancel, 0, 0};
    prog.band_macs = (int64_t)LAB_BAND_MACS;
    prog.band_ms = 25;
    char err[640];
    cp_tensor out;
    double t0 = now_ms();
    int rc = run_job(&snap, &out, &prog, err, sizeof err);
    double ms = now_ms() - t0;
    cp_lab_free(&snap);

    pthread_mutex_lock(&lb->mu);
    if (rc == 0)
      publish(lb, gen, &out, ms, NULL);
    else if (strcmp(err, "cancelled") != 0)
      publish(lb, gen, NULL, ms, err);
    lb->busy = 0;
    pthread_cond_broadcast(&lb->cv);
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = lb->wake_event;
    SDL_PushEvent(&ev);
  }
  pthread_mutex_unlock(&lb->mu);
  return NULL;
}

double lab_busy_ms(vz_lab *lb) {
  pthread_mutex_lock(&lb->mu);
  double ms = lb->busy || lb->job_pending ? now_ms() - (double)lb->busy_since
                                          : -1;
  pthread_mutex_unlock(&lb->mu);
  return ms;
}

/* ====================================================================== */
/* Lifecycle                                                               */
/* ====================================================================== */

vz_lab *vz_lab_new(const cp_tensor *image, const char *path, int headless,
                   int w, int h, char *err, size_t n) {
  if (vz_init(err, n)) return NULL;
  vz_lab *lb = calloc(1, sizeof *lb);
  if (!lb) {
    snprintf(err, n, "lab: out of memory");
    return NULL;
  }
  cp_err e;
  if (cp_lab_init(&lb->m, image, &e)) {
    snprintf(err, n, "%s", e.msg);
    free(lb);
    return NULL;
  }
  pthread_mutex_init(&lb->mu, NULL);
  pthread_cond_init(&lb->cv, NULL);
  lb->headless = headless;
  if (path) snprintf(lb->path, sizeof lb->path, "%s", path);
  lb->v.mode = VZ_VIEW_SPLIT;
  lb->v.split = 0.5;
  lb->v.zoom = 0;
  lb->v.hover_r = lb->v.hover_c = -1;
  lb->v.sel_i = lb->v.sel_j = -1;
  lb->mouse_x = lb->mouse_y = -1;
  lb->wake_event = (uint32_t)-1;
  lb->surf = vz_canvas_new(w > 0 ? w : VZ_LAB_WIDTH, h > 0 ? h : VZ_LAB_HEIGHT);
  if (!lb->surf || make_in_surf(lb, err, n)) {
    if (lb->surf == NULL) snprintf(err, n, "lab: cannot allocate the frame");
    vz_lab_free(lb);
    return NULL;
  }
  if (vz_lab_update(lb, err, n)) {
    vz_lab_free(lb);
    return NULL;
  }
  return lb;
}

static void stop_worker(vz_lab *lb) {
  if (!lb->th_started) return;
  pthread_mutex_lock(&lb->mu);
  lb->quit = 1;
  lb->cancel = 1;
  pthread_cond_broadcast(&lb->cv);
  pthread_mutex_unlock(&lb->mu);
  pthread_join(lb->th, NULL);
  lb->th_started = 0;
  lb->quit = 0;
  if (lb->job_pending) {
    cp_lab_free(&lb->job);
    lb->job_pending = 0;
  }
}

static void close_window(vz_lab *lb) {
  if (lb->win) { /* first, so the window goes at once */
    SDL_DestroyWindow(lb->win);
    lb->win = NULL;
  }
  stop_worker(lb);
  /* The video subsystem stays up until the process ends: quitting it
   * unloads the X11 / D-Bus modules while they still hold allocations,
   * which LeakSanitizer then reports from an "<unknown module>" that no
   * suppression can name.  Opening the lab again reuses it. */
}

void vz_lab_free(vz_lab *lb) {
  if (!lb) return;
  close_window(lb);
  cp_lab_free(&lb->m);
  cp_tensor_release(&lb->out);
  free(lb->in_px);
  vz_canvas_free(lb->surf);
  pthread_mutex_destroy(&lb->mu);
  pthread_cond_destroy(&lb->cv);
  free(lb);
}

cp_lab *vz_lab_model(vz_lab *lb) { return &lb->m; }
void vz_lab_set_model(vz_lab *lb, const cp_lab *m) {
  cp_lab_free(&lb->m);
  lb->m = *m;
}

void vz_lab_view_get(const vz_lab *lb, vz_lab_view *v) { *v = lb->v; }
void vz_lab_view_set(vz_lab *lb, const vz_lab_view *v) { lb->v = *v; }

/* ====================================================================== */
/* Updates and results                                                     */
/* ====================================================================== */

int vz_lab_update(vz_lab *lb, char *err, size_t n) {
  cp_err e;
  int64_t OH, OW;
  if (cp_lab_out_size(&lb->m, &OH, &OW, &e)) {
    snprintf(err, n, "%s", e.msg);
    return -1;
  }
  cp_lab snap;
  if (cp_lab_copy(&snap, &lb->m, &e)) {
    snprintf(err, n, "%s", e.msg);
    return -1;
  }
  if (!lb->th_started) { /* headless, or no window yet: run it here */
    char jerr[640];
    cp_tensor out;
    double t0 = now_ms();
    int rc = run_job(&snap, &out, NULL, jerr, sizeof jerr);
    double ms = now_ms() - t0;
    lb->req_gen++;
    publish(lb, lb->req_gen, rc ? NULL : &out, ms, rc ? jerr : NULL);
    cp_lab_free(&snap);
    if (rc) snprintf(err, n, "%s", jerr);
    return rc;
  }
  pthread_mutex_lock(&lb->mu);
  if (lb->job_pending) cp_lab_free(&lb->job);
  lb->job = snap;
  lb->job_pending = 1;
  lb->req_gen++;
  if (lb->busy) {
    lb->cancel = 1;
  } else {
    lb->busy_since = (uint64_t)now_ms();
  }
  pthread_cond_broadcast(&lb->cv);
  pthread_mutex_unlock(&lb->mu);
  return 0;
}

int vz_lab_wait(vz_lab *lb, char *err, size_t n) {
  /* A window closed mid-compute left the result behind the settings. */
  if (!lb->th_started && lb->out_gen < lb->req_gen)
    return vz_lab_update(lb, err, n);
  pthread_mutex_lock(&lb->mu);
  while (lb->th_started && (lb->busy || lb->job_pending))
    pthread_cond_wait(&lb->cv, &lb->mu);
  int rc = 0;
  if (lb->out_err[0]) {
    snprintf(err, n, "%s", lb->out_err);
    rc = -1;
  }
  pthread_mutex_unlock(&lb->mu);
  return rc;
}

int vz_lab_result(vz_lab *lb, cp_tensor *out, char *err, size_t n) {
  memset(out, 0, sizeof *out);
  if (vz_lab_wait(lb, err, n)) return -1;
  pthread_mutex_lock(&lb->mu);
  int rc = 0;
  if (lb->out.st)
    cp_tensor_share(out, &lb->out);
  else {
    snprintf(err, n, "lab: no result yet");
    rc = -1;
  }
  pthread_mutex_unlock(&lb->mu);
  return rc;
}

/* ====================================================================== */
/* Files                                                                   */
/* ====================================================================== */

int vz_lab_open(vz_lab *lb, const char *path, char *err, size_t n) {
  cp_tensor t;
  cp_err e;
  if (cp_image_load(&t, path, &e)) {
    snprintf(err, n, "%s", e.msg);
    return -1;
  }
  int rc = cp_lab_set_image(&lb->m, &t, &e);
  cp_tensor_release(&t);
  if (rc) {
    snprintf(err, n, "%s: %s", path, e.msg);
    return -1;
  }
  snprintf(lb->path, sizeof lb->path, "%s", path);
  if (make_in_surf(lb, err, n)) return -1;
  lb->v.zoom = 0;
  lb->v.hover_r = lb->v.hover_c = -1;
  if (vz_app_running()) {
    char title[PATH_MAX + 32];
    const char *base = strrchr(path, '/');
    snprintf(title, sizeof title, "convplay lab - %s", base ? base + 1 : path);
    vz_app_set_title(title);
  }
  return vz_lab_update(lb, err, n);
}

/* "dir/name.ext" -> "dir/name-lab.png", "-lab-2.png", ... (first free). */
void vz_lab_save_in_cwd(vz_lab *lb, int yes) { lb->save_in_cwd = yes; }

static int next_save_name(const char *in, int cwd, char *out, size_t n) {
  char stem[PATH_MAX - 32];
  if (in[0] && cwd) { /* the file's name, in the current directory */
    const char *base = strrchr(in, '/');
    snprintf(stem, sizeof stem, "%.4000s", base ? base + 1 : in);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
  } else if (in[0]) {
    snprintf(stem, sizeof stem, "%.4000s", in);
    char *slash = strrchr(stem, '/'), *dot = strrchr(stem, '.');
    if (dot && (!slash || dot > slash) && dot != (slash ? slash + 1 : stem))
      *dot = '\0';
  } else {
    snprintf(stem, sizeof stem, "lab-result");
  }
  for (int k = 1; k < 10000; k++) {
    if (k == 1)
      snprintf(out, n, "%s-lab.png", stem);
    else
      snprintf(out, n, "%s-lab-%d.png", stem, k);
    if (access(out, F_OK) != 0 && errno == ENOENT) return 0;
  }
  return -1;
}

int vz_lab_save(vz_lab *lb, const char *path, char *saved, size_t ns,
                char *err, size_t n) {
  char name[PATH_MAX];
  if (path) {
    snprintf(name, sizeof name, "%s", path);
  } else if (next_save_name(lb->path, lb->save_in_cwd, name, sizeof name)) {
    snprintf(err, n, "lab: no free file name beside %s", lb->path);
    return -1;
  }
  cp_tensor y, shown;
  if (vz_lab_result(lb, &y, err, n)) return -1;
  cp_err e;
  int rc = cp_lab_mapped(&y, lb->m.p.map, &shown, &e);
  cp_tensor_release(&y);
  if (rc == 0) {
    rc = cp_image_save(&shown, name, 95, &e);
    cp_tensor_release(&shown);
  }
  if (rc) {
    snprintf(err, n, "%s", e.msg);
    return -1;
  }
  if (saved) snprintf(saved, ns, "%s", name);
  return 0;
}

/* ====================================================================== */
/* Frames                                                                  */
/* ====================================================================== */

vz_canvas *vz_lab_render(vz_lab *lb) {
  lab_draw_frame(lb);
  return lb->surf;
}

int vz_lab_screenshot(vz_lab *lb, const char *path, char *err, size_t n) {
  if (vz_lab_wait(lb, err, n) && !lb->headless) return -1;
  lab_draw_frame(lb);
  return vz_save_png(lb->surf, path, err, n);
}

int vz_lab_cell_rect(vz_lab *lb, int i, int j, SDL_Rect *r) {
  for (int k = 0; k < lb->nhits; k++)
    if (lb->hits[k].kind == LAB_HIT_CELL && lb->hits[k].a == i &&
        lb->hits[k].b == j) {
      *r = lb->hits[k].r;
      return 1;
    }
  return 0;
}

double vz_lab_frame_ms(vz_lab *lb, char *err, size_t n) {
  char e2[256];
  vz_lab_wait(lb, e2, sizeof e2); /* the worker is idle from here */
  double t0 = now_ms();
  int started = lb->th_started;
  lb->th_started = 0; /* run synchronously, as the bench row measures */
  int rc = vz_lab_update(lb, err, n);
  lb->th_started = started;
  if (rc) return -1;
  lab_draw_frame(lb);
  if (lb->win) vz_present(lb->win, lb->surf);
  return now_ms() - t0;
}

/* The lab as a page of the window app (src/viz/app.c): its worker
 * thread, its events, its frame. */

int vz_lab_attach(vz_lab *lb, char *err, size_t n) {
  if (lb->th_started) return 0;
  if (lb->wake_event == (uint32_t)-1) lb->wake_event = SDL_RegisterEvents(1);
  SDL_EventState(SDL_DROPFILE, SDL_ENABLE);
  if (pthread_create(&lb->th, NULL, worker, lb) != 0) {
    snprintf(err, n, "lab: cannot start the compute thread");
    return -1;
  }
  lb->th_started = 1;
  return 0;
}

void vz_lab_detach(vz_lab *lb) { close_window(lb); }

int vz_lab_event(vz_lab *lb, const SDL_Event *ev) {
  switch (ev->type) {
  case SDL_KEYDOWN: return lab_on_key(lb, &ev->key);
  case SDL_MOUSEBUTTONDOWN: lab_on_button(lb, &ev->button); break;
  case SDL_MOUSEBUTTONUP: lb->drag = 0; break;
  case SDL_MOUSEMOTION: lab_on_motion(lb, &ev->motion); break;
  case SDL_MOUSEWHEEL: lab_on_wheel(lb, &ev->wheel); break;
  case SDL_DROPFILE: {
    char e2[512];
    if (vz_lab_open(lb, ev->drop.file, e2, sizeof e2))
      lab_set_msg(lb, 1, "cannot open: %s", e2);
    else
      lab_set_msg(lb, 0, "opened %s", ev->drop.file);
    break;
  }
  case SDL_WINDOWEVENT:
    if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
      vz_canvas *s = vz_canvas_new(ev->window.data1, ev->window.data2);
      if (s) {
        vz_canvas_free(lb->surf);
        lb->surf = s;
      }
    } else if (ev->window.event == SDL_WINDOWEVENT_LEAVE) {
      lb->mouse_x = lb->mouse_y = -1;
      lb->v.hover_r = lb->v.hover_c = -1;
    }
    break;
  default: break;
  }
  return 0;
}

vz_canvas *vz_lab_draw(vz_lab *lb) {
  if (lb->mouse_x >= 0 && !lb->drag) lab_update_hover(lb);
  lab_draw_frame(lb);
  return lb->surf;
}

int vz_lab_animating(vz_lab *lb) { return lab_busy_ms(lb) >= 0; }

/* vz_lab_run: the lab alone in the app's window. */
static int lab_npages(void *ud) { (void)ud; return 1; }
static vz_page lab_page(void *ud, int i) {
  (void)i;
  vz_page pg = {NULL, NULL, ud, NULL};
  return pg;
}

int vz_lab_run(vz_lab *lb, char *err, size_t n) {
  return vz_lab_run_idle(lb, NULL, NULL, err, n);
}

int vz_lab_run_idle(vz_lab *lb, int (*idle)(void *ud, int what),
                    void *idle_ud, char *err, size_t n) {
  if (lb->headless) {
    snprintf(err, n, "lab: no window in headless mode");
    return -1;
  }
  vz_app_hooks h = {.ud = lb, .npages = lab_npages, .page = lab_page,
                    .idle = idle, .idle_ud = idle_ud};
  char title[PATH_MAX + 32];
  const char *base = strrchr(lb->path, '/');
  snprintf(title, sizeof title, "convplay lab - %s",
           lb->path[0] ? (base ? base + 1 : lb->path) : "(tensor)");
  h.title = title;
  char e2[512];
  int rc = vz_app_run(&h, lb->surf->w, lb->surf->h, e2, sizeof e2);
  /* Leave at once: a compute in flight is cancelled at its next band; the
   * next vz_lab_result recomputes what the settings say. */
  close_window(lb);
  if (rc < 0) {
    snprintf(err, n, "lab: %s", e2);
    return -1;
  }
  return 0;
}
