/* lab.c - the image filter lab: state, the compute worker, files, and the
 * window's event loop.  Drawing is in lab_draw.c. */
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

static SDL_Surface *argb_surface(int w, int h) {
  SDL_Surface *s =
      SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
  if (s) SDL_SetSurfaceBlendMode(s, SDL_BLENDMODE_NONE);
  return s;
}

/* The input image as display pixels. */
static int make_in_surf(vz_lab *lb, char *err, size_t n) {
  const cp_tensor *im = &lb->m.image;
  SDL_Surface *s = argb_surface((int)im->shape[2], (int)im->shape[1]);
  if (!s) {
    snprintf(err, n, "lab: cannot allocate the image surface: %s",
             SDL_GetError());
    return -1;
  }
  cp_lab_to_argb(im, CP_MAP_CLAMP, s->pixels, s->pitch / 4, 0, im->shape[1]);
  if (lb->in_surf) SDL_FreeSurface(lb->in_surf);
  lb->in_surf = s;
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
  lb->surf = vz_surface_new(w > 0 ? w : VZ_LAB_WIDTH, h > 0 ? h : VZ_LAB_HEIGHT);
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
  if (lb->in_surf) SDL_FreeSurface(lb->in_surf);
  if (lb->surf) SDL_FreeSurface(lb->surf);
  pthread_mutex_destroy(&lb->mu);
  pthread_cond_destroy(&lb->cv);
  free(lb);
}

cp_lab *vz_lab_model(vz_lab *lb) { return &lb->m; }
vz_lab_view *vz_lab_viewp(vz_lab *lb) { return &lb->v; }

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
  if (lb->win) {
    char title[PATH_MAX + 32];
    const char *base = strrchr(path, '/');
    snprintf(title, sizeof title, "convplay lab - %s", base ? base + 1 : path);
    SDL_SetWindowTitle(lb->win, title);
  }
  return vz_lab_update(lb, err, n);
}

/* "dir/name.ext" -> "dir/name-lab.png", "-lab-2.png", ... (first free). */
static int next_save_name(const char *in, char *out, size_t n) {
  char stem[PATH_MAX - 32];
  if (in[0]) {
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
  } else if (next_save_name(lb->path, name, sizeof name)) {
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

SDL_Surface *vz_lab_render(vz_lab *lb) {
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

/* ====================================================================== */
/* Actions (keys and clicks share these)                                   */
/* ====================================================================== */

static int sized_preset(cp_preset p) {
  return p == CP_PRESET_IDENTITY || p == CP_PRESET_BOX ||
         p == CP_PRESET_GAUSSIAN || p == CP_PRESET_UNSHARP ||
         p == CP_PRESET_MOTION_BLUR;
}

static void changed(vz_lab *lb) {
  char err[256];
  if (vz_lab_update(lb, err, sizeof err)) lab_set_msg(lb, 1, "%s", err);
}

static void act_preset(vz_lab *lb, cp_preset p) {
  cp_err e;
  cp_preset_args a;
  cp_preset_args_default(&a);
  if (cp_lab_set_preset(&lb->m, p, &a, &e)) {
    lab_set_msg(lb, 1, "%s", e.msg);
    return;
  }
  lb->v.sel_i = lb->v.sel_j = -1;
  lb->editing = 0;
  lab_set_msg(lb, 0, "preset %s", cp_preset_name(p));
  changed(lb);
}

/* Setting rows of the panel: index, direction (+1 / -1). */
static void lab_setting(vz_lab *lb, int idx, int dir) {
  cp_lab *m = &lb->m;
  cp_err e;
  lb->msg[0] = '\0';
  switch (idx) {
  case 0: { /* kernel size */
    int64_t kH = m->kernel.shape[0], kW = m->kernel.shape[1];
    int64_t nk = kH + 2 * dir;
    if (nk < 1 || nk > CP_LAB_MAXK) return;
    if (sized_preset(m->preset) && kH == kW && kH % 2 == 1) {
      cp_preset_args a = m->args;
      a.size = nk;
      if (cp_lab_set_preset(m, m->preset, &a, &e)) {
        lab_set_msg(lb, 1, "%s", e.msg);
        return;
      }
    } else if (cp_lab_resize_kernel(m, nk, kW + 2 * dir < 1 ? 1 : kW + 2 * dir,
                                    &e)) {
      lab_set_msg(lb, 1, "%s", e.msg);
      return;
    }
    lb->v.sel_i = lb->v.sel_j = -1;
    break;
  }
  case 1: /* stride */
    if (m->p.stride + dir < 1 || m->p.stride + dir > 16) return;
    m->p.stride += dir;
    if (m->p.stride > 1 && m->p.same) {
      m->p.same = 0;
      m->p.pad = m->p.dilation * (m->kernel.shape[0] - 1) / 2;
      lab_set_msg(lb, 0, "padding 'same' needs stride 1: padding is now %lld",
                  (long long)m->p.pad);
    }
    break;
  case 2: /* padding: same, 0, 1, 2, ... */
    if (dir > 0) {
      if (m->p.same) { m->p.same = 0; m->p.pad = 0; }
      else if (m->p.pad < 32) m->p.pad++;
    } else {
      if (m->p.same) return;
      if (m->p.pad > 0) m->p.pad--;
      else if (m->p.stride == 1) m->p.same = 1;
    }
    break;
  case 3: /* padding mode */
    m->p.mode = (cp_padmode)(((int)m->p.mode + 4 + dir) % 4);
    break;
  case 4: /* dilation */
    if (m->p.dilation + dir < 1 || m->p.dilation + dir > 16) return;
    m->p.dilation += dir;
    break;
  case 5: m->p.flip = !m->p.flip; break;
  case 6: m->p.full_mix = !m->p.full_mix; break;
  case 7:
    m->p.map = (cp_signmap)(((int)m->p.map + CP_MAP_COUNT + dir) % CP_MAP_COUNT);
    break;
  case 8:
    if (cp_lab_normalize(m, &e)) {
      lab_set_msg(lb, 1, "%s", e.msg);
      return;
    }
    break;
  case 9:
    lb->v.mode = (vz_viewmode)(((int)lb->v.mode + 3 + dir) % 3);
    return; /* display only */
  default: return;
  }
  changed(lb);
}

static void cell_add(vz_lab *lb, double dv) {
  if (lb->v.sel_i < 0) return;
  float v = cp_lab_cell(&lb->m, lb->v.sel_i, lb->v.sel_j);
  double nv = round(((double)v + dv) * 1e4) / 1e4;
  cp_lab_set_cell(&lb->m, lb->v.sel_i, lb->v.sel_j, (float)nv);
  changed(lb);
}

static void commit_entry(vz_lab *lb) {
  lb->editing = 0;
  if (lb->v.sel_i < 0 || !lb->entry[0]) return;
  char *end;
  double v = strtod(lb->entry, &end);
  if (*end || !isfinite(v)) {
    lab_set_msg(lb, 1, "not a number: %s", lb->entry);
    return;
  }
  cp_lab_set_cell(&lb->m, lb->v.sel_i, lb->v.sel_j, (float)v);
  lab_set_msg(lb, 0, "cell (%d, %d) = %g", lb->v.sel_i + 1, lb->v.sel_j + 1, v);
  changed(lb);
}

static void save_here(vz_lab *lb) {
  char saved[PATH_MAX], err[512];
  if (vz_lab_save(lb, NULL, saved, sizeof saved, err, sizeof err)) {
    lab_set_msg(lb, 1, "save failed: %s", err);
    return;
  }
  lab_set_msg(lb, 0, "saved %s", saved);
  printf("lab: saved %s\n", saved);
  fflush(stdout);
}

static void zoom_at(vz_lab *lb, double factor, int sx, int sy) {
  double z = lab_zoom(lb), ix, iy;
  lab_to_image(lb, sx, sy, &ix, &iy);
  if (lb->v.zoom <= 0) { /* leave "fit": pin the current centre */
    lb->v.cx = lb->m.image.shape[2] / 2.0;
    lb->v.cy = lb->m.image.shape[1] / 2.0;
  }
  double nz = z * factor;
  if (nz < 0.02) nz = 0.02;
  if (nz > 64) nz = 64;
  /* keep the image point under the mouse where it is */
  lb->v.cx = ix - (ix - lb->v.cx) * z / nz;
  lb->v.cy = iy - (iy - lb->v.cy) * z / nz;
  lb->v.zoom = nz;
}

/* Hover: which pixel the mouse is over. */
static void update_hover(vz_lab *lb) {
  SDL_Rect vr = lab_view_rect(lb);
  int x = lb->mouse_x, y = lb->mouse_y;
  lb->v.hover_r = lb->v.hover_c = -1;
  if (x < vr.x || y < vr.y || x >= vr.x + vr.w || y >= vr.y + vr.h) return;
  double ix, iy;
  lab_to_image(lb, x + 0.5, y + 0.5, &ix, &iy);
  int before = lb->v.mode == VZ_VIEW_BEFORE ||
               (lb->v.mode == VZ_VIEW_SPLIT && x < lab_split_x(lb));
  lb->v.hover_before = before;
  if (before) {
    if (ix < 0 || iy < 0 || ix >= lb->m.image.shape[2] ||
        iy >= lb->m.image.shape[1])
      return;
    lb->v.hover_r = (int)iy;
    lb->v.hover_c = (int)ix;
    return;
  }
  double oy, ox, s = (double)lb->m.p.stride;
  cp_lab_out_origin(&lb->m, &oy, &ox);
  int64_t OH, OW;
  if (cp_lab_out_size(&lb->m, &OH, &OW, NULL)) return;
  double r = floor((iy - oy) / s), c = floor((ix - ox) / s);
  if (r < 0 || c < 0 || r >= OH || c >= OW) return;
  lb->v.hover_r = (int)r;
  lb->v.hover_c = (int)c;
}

static const lab_hit *hit_at(vz_lab *lb, int x, int y) {
  for (int k = 0; k < lb->nhits; k++) {
    SDL_Rect *r = &lb->hits[k].r;
    if (x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h)
      return &lb->hits[k];
  }
  return NULL;
}

/* ====================================================================== */
/* Events                                                                  */
/* ====================================================================== */

static const SDL_Keycode preset_keys[CP_PRESET_COUNT] = {
    SDLK_1, SDLK_2, SDLK_3, SDLK_4, SDLK_5, SDLK_6,
    SDLK_7, SDLK_8, SDLK_9, SDLK_0, SDLK_MINUS, SDLK_EQUALS};

/* Returns 1 to quit. */
static int on_key(vz_lab *lb, const SDL_KeyboardEvent *k) {
  SDL_Keycode s = k->keysym.sym;
  int shift = (k->keysym.mod & KMOD_SHIFT) != 0;
  int ctrl = (k->keysym.mod & KMOD_CTRL) != 0;
  int dir = shift ? -1 : 1;
  int has_sel = lb->v.sel_i >= 0;
  /* Typing a value into the selected cell. */
  int numch = (s >= SDLK_0 && s <= SDLK_9) || s == SDLK_PERIOD ||
              s == SDLK_MINUS || (s >= SDLK_KP_1 && s <= SDLK_KP_0) ||
              s == SDLK_KP_PERIOD || s == SDLK_KP_MINUS ||
              (lb->editing && s == SDLK_e);
  if (has_sel && numch && !ctrl) {
    if (!lb->editing) {
      lb->editing = 1;
      lb->entry[0] = '\0';
    }
    char c;
    if (s >= SDLK_KP_1 && s <= SDLK_KP_9) c = (char)('1' + (s - SDLK_KP_1));
    else if (s == SDLK_KP_0) c = '0';
    else if (s == SDLK_KP_PERIOD) c = '.';
    else if (s == SDLK_KP_MINUS) c = '-';
    else c = (char)s;
    size_t L = strlen(lb->entry);
    if (L + 1 < sizeof lb->entry) {
      lb->entry[L] = c;
      lb->entry[L + 1] = '\0';
    }
    return 0;
  }
  if (lb->editing) {
    if (s == SDLK_RETURN || s == SDLK_KP_ENTER) commit_entry(lb);
    else if (s == SDLK_ESCAPE) lb->editing = 0;
    else if (s == SDLK_BACKSPACE) {
      size_t L = strlen(lb->entry);
      if (L) lb->entry[L - 1] = '\0';
    }
    return 0;
  }
  for (int p = 0; p < CP_PRESET_COUNT; p++)
    if (s == preset_keys[p]) {
      act_preset(lb, (cp_preset)p);
      return 0;
    }
  double step = ctrl ? 0.01 : shift ? 1.0 : 0.1;
  int64_t kH = lb->m.kernel.shape[0], kW = lb->m.kernel.shape[1];
  switch (s) {
  case SDLK_q: return 1;
  case SDLK_ESCAPE:
    if (lb->show_help) { lb->show_help = 0; return 0; }
    if (has_sel) { lb->v.sel_i = lb->v.sel_j = -1; return 0; }
    return 1;
  case SDLK_UP:
  case SDLK_DOWN:
    if (has_sel) cell_add(lb, s == SDLK_UP ? step : -step);
    else lb->v.cy += (s == SDLK_UP ? -40 : 40) / lab_zoom(lb);
    return 0;
  case SDLK_LEFT:
  case SDLK_RIGHT: {
    if (!has_sel) {
      if (lb->v.zoom <= 0) zoom_at(lb, 1.0, 0, 0);
      lb->v.cx += (s == SDLK_LEFT ? -40 : 40) / lab_zoom(lb);
      return 0;
    }
    int64_t cell = lb->v.sel_i * kW + lb->v.sel_j + (s == SDLK_LEFT ? -1 : 1);
    cell = (cell + kH * kW) % (kH * kW);
    lb->v.sel_i = (int)(cell / kW);
    lb->v.sel_j = (int)(cell % kW);
    return 0;
  }
  case SDLK_RETURN:
    if (has_sel) {
      lb->editing = 1;
      lb->entry[0] = '\0';
    }
    return 0;
  case SDLK_TAB:
    lb->v.readout_ch = (lb->v.readout_ch + 1) % (int)lb->m.image.shape[0];
    return 0;
  case SDLK_k: lab_setting(lb, 0, dir); return 0;
  case SDLK_r: lab_setting(lb, 1, dir); return 0;
  case SDLK_a: lab_setting(lb, 2, dir); return 0;
  case SDLK_e: lab_setting(lb, 3, dir); return 0;
  case SDLK_d: lab_setting(lb, 4, dir); return 0;
  case SDLK_c: lab_setting(lb, 5, dir); return 0;
  case SDLK_m: lab_setting(lb, 6, dir); return 0;
  case SDLK_g: lab_setting(lb, 7, dir); return 0;
  case SDLK_n: lab_setting(lb, 8, dir); return 0;
  case SDLK_v: lab_setting(lb, 9, dir); return 0;
  case SDLK_s: save_here(lb); return 0;
  case SDLK_h:
  case SDLK_F1: lb->show_help = !lb->show_help; return 0;
  case SDLK_f: lb->v.zoom = 0; return 0;
  case SDLK_z: {
    SDL_Rect vr = lab_view_rect(lb);
    zoom_at(lb, shift ? 0.8 : 1.25, vr.x + vr.w / 2, vr.y + vr.h / 2);
    return 0;
  }
  default: return 0;
  }
}

static void on_button(vz_lab *lb, const SDL_MouseButtonEvent *b) {
  const lab_hit *h = hit_at(lb, b->x, b->y);
  if (h) {
    if (h->kind == LAB_HIT_CELL) {
      if (lb->editing) commit_entry(lb);
      lb->v.sel_i = h->a;
      lb->v.sel_j = h->b;
    } else if (h->kind == LAB_HIT_PRESET) {
      act_preset(lb, (cp_preset)h->a);
    } else if (h->kind == LAB_HIT_SETTING) {
      lab_setting(lb, h->a, b->button == SDL_BUTTON_RIGHT ? -1 : 1);
    }
    return;
  }
  SDL_Rect vr = lab_view_rect(lb);
  if (b->x < vr.x || b->y < vr.y || b->x >= vr.x + vr.w ||
      b->y >= vr.y + vr.h)
    return;
  if (lb->editing) commit_entry(lb);
  lb->v.sel_i = lb->v.sel_j = -1;
  if (lb->v.mode == VZ_VIEW_SPLIT && abs(b->x - lab_split_x(lb)) <= 6) {
    lb->drag = 2;
    return;
  }
  if (lb->v.zoom <= 0) zoom_at(lb, 1.0, b->x, b->y);
  lb->drag = 1;
  lb->drag_x = b->x;
  lb->drag_y = b->y;
  lb->drag_cx = lb->v.cx;
  lb->drag_cy = lb->v.cy;
}

static void on_motion(vz_lab *lb, const SDL_MouseMotionEvent *m) {
  lb->mouse_x = m->x;
  lb->mouse_y = m->y;
  SDL_Rect vr = lab_view_rect(lb);
  if (lb->drag == 2) {
    double f = (double)(m->x - vr.x) / (vr.w > 1 ? vr.w : 1);
    lb->v.split = f < 0 ? 0 : f > 1 ? 1 : f;
  } else if (lb->drag == 1) {
    double z = lab_zoom(lb);
    lb->v.cx = lb->drag_cx - (m->x - lb->drag_x) / z;
    lb->v.cy = lb->drag_cy - (m->y - lb->drag_y) / z;
  }
  update_hover(lb);
}

static void on_wheel(vz_lab *lb, const SDL_MouseWheelEvent *w) {
  int x, y;
  SDL_GetMouseState(&x, &y);
  int dy = w->y;
  if (w->direction == SDL_MOUSEWHEEL_FLIPPED) dy = -dy;
  if (dy == 0) return;
  const lab_hit *h = hit_at(lb, x, y);
  if (h && h->kind == LAB_HIT_CELL) {
    SDL_Keymod mod = SDL_GetModState();
    double step = (mod & KMOD_CTRL) ? 0.01 : (mod & KMOD_SHIFT) ? 1.0 : 0.1;
    lb->v.sel_i = h->a;
    lb->v.sel_j = h->b;
    lb->editing = 0;
    cell_add(lb, dy * step);
    return;
  }
  SDL_Rect vr = lab_view_rect(lb);
  if (x >= vr.x && y >= vr.y && x < vr.x + vr.w && y < vr.y + vr.h)
    zoom_at(lb, pow(1.25, dy), x, y);
  update_hover(lb);
}

/* 0: window open; 1: no display on purpose (no loop); -1: error. */
static int open_window(vz_lab *lb, char *err, size_t n) {
  if (!SDL_WasInit(SDL_INIT_VIDEO) && SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
    snprintf(err, n,
             "lab: cannot open a window: %s (run with --headless for "
             "offscreen rendering)",
             SDL_GetError());
    return -1;
  }
  /* SDL falls back to drivers that show nothing when there is no display.
   * Asked for on purpose (SDL_VIDEODRIVER=dummy): no loop, as headless. */
  const char *drv = SDL_GetCurrentVideoDriver();
  if (drv && (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy"))) {
    const char *asked = getenv("SDL_VIDEODRIVER");
    if (asked && *asked) return 1;
    snprintf(err, n,
             "lab: no display to open a window on (SDL found only its '%s' "
             "video driver; is DISPLAY set?); run with --headless for "
             "offscreen rendering",
             drv);
    return -1;
  }
  char title[PATH_MAX + 32];
  const char *base = strrchr(lb->path, '/');
  snprintf(title, sizeof title, "convplay lab - %s",
           lb->path[0] ? (base ? base + 1 : lb->path) : "(tensor)");
  lb->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED,
                             SDL_WINDOWPOS_CENTERED, lb->surf->w, lb->surf->h,
                             SDL_WINDOW_RESIZABLE);
  if (!lb->win) {
    snprintf(err, n, "lab: cannot open a window: %s", SDL_GetError());
    close_window(lb);
    return -1;
  }
  /* The frame is drawn in software: present it through the plain X11 /
   * Wayland framebuffer.  The accelerated one would recreate the window
   * with OpenGL on the first present (a new window id, and a GL context
   * for nothing).  The hint is read here only, then put back. */
  const char *fa = SDL_GetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION);
  char keep[16];
  snprintf(keep, sizeof keep, "%s", fa ? fa : "");
  SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
  SDL_GetWindowSurface(lb->win);
  SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, fa ? keep : NULL);
  SDL_EventState(SDL_DROPFILE, SDL_ENABLE);
  if (lb->wake_event == (uint32_t)-1) lb->wake_event = SDL_RegisterEvents(1);
  if (pthread_create(&lb->th, NULL, worker, lb) != 0) {
    snprintf(err, n, "lab: cannot start the compute thread");
    close_window(lb);
    return -1;
  }
  lb->th_started = 1;
  return 0;
}

int vz_lab_run(vz_lab *lb, char *err, size_t n) {
  if (lb->headless) {
    snprintf(err, n, "lab: no window in headless mode");
    return -1;
  }
  if (!lb->win) {
    int rc = open_window(lb, err, n);
    if (rc) return rc < 0 ? -1 : 0;
  }
  int quit = 0, dirty = 1;
  double last_draw = 0;
  while (!quit) {
    SDL_Event ev;
    int busy = lab_busy_ms(lb) >= 0;
    int got = SDL_WaitEventTimeout(&ev, busy ? 30 : 500);
    while (got) {
      dirty = 1;
      switch (ev.type) {
      case SDL_QUIT: quit = 1; break;
      case SDL_KEYDOWN: quit |= on_key(lb, &ev.key); break;
      case SDL_MOUSEBUTTONDOWN: on_button(lb, &ev.button); break;
      case SDL_MOUSEBUTTONUP: lb->drag = 0; break;
      case SDL_MOUSEMOTION: on_motion(lb, &ev.motion); break;
      case SDL_MOUSEWHEEL: on_wheel(lb, &ev.wheel); break;
      case SDL_DROPFILE: {
        char e2[512];
        if (vz_lab_open(lb, ev.drop.file, e2, sizeof e2))
          lab_set_msg(lb, 1, "cannot open: %s", e2);
        else
          lab_set_msg(lb, 0, "opened %s", ev.drop.file);
        SDL_free(ev.drop.file);
        break;
      }
      case SDL_WINDOWEVENT:
        if (ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
          SDL_Surface *s = vz_surface_new(ev.window.data1, ev.window.data2);
          if (s) {
            SDL_FreeSurface(lb->surf);
            lb->surf = s;
          }
        } else if (ev.window.event == SDL_WINDOWEVENT_LEAVE) {
          lb->mouse_x = lb->mouse_y = -1;
          lb->v.hover_r = lb->v.hover_c = -1;
        }
        break;
      default: break;
      }
      got = SDL_PollEvent(&ev);
    }
    double t = now_ms();
    if (dirty || (busy && t - last_draw > 30)) {
      if (lb->mouse_x >= 0 && !lb->drag) update_hover(lb);
      lab_draw_frame(lb);
      vz_present(lb->win, lb->surf);
      last_draw = t;
      dirty = 0;
    }
  }
  /* Leave at once: a compute in flight is cancelled at its next band; the
   * next vz_lab_result recomputes what the settings say. */
  close_window(lb);
  return 0;
}
