/* lab_input.c - the image lab's keys and mouse: each input becomes an
 * action on the model or the view (lab.c runs the loop that calls these;
 * lab_draw.c records the click targets they look up). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_priv.h"

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

/* Start the compute of a changed model; a change the geometry rejects
 * (reflect padding wider than the image, a kernel larger than it) is
 * undone, the model going back to `before`, with the reason shown. */
static void commit(vz_lab *lb, cp_lab *before) {
  char err[512];
  if (vz_lab_update(lb, err, sizeof err) == 0) {
    cp_lab_free(before);
    return;
  }
  cp_lab_free(&lb->m);
  lb->m = *before;
  lab_set_msg(lb, 1, "not applied: %s", err);
}

static void act_preset(vz_lab *lb, cp_preset p) {
  cp_err e;
  cp_preset_args a;
  cp_preset_args_default(&a);
  cp_lab before;
  if (cp_lab_copy(&before, &lb->m, &e)) {
    lab_set_msg(lb, 1, "%s", e.msg);
    return;
  }
  if (cp_lab_set_preset(&lb->m, p, &a, &e)) {
    cp_lab_free(&before);
    lab_set_msg(lb, 1, "%s", e.msg);
    return;
  }
  lb->v.sel_i = lb->v.sel_j = -1;
  lb->editing = 0;
  lab_set_msg(lb, 0, "preset %s", cp_preset_name(p));
  commit(lb, &before);
}

/* Setting rows of the panel: index, direction (+1 / -1).  Returns 1 when
 * the model changed (so the result must be recomputed). */
static int apply_setting(vz_lab *lb, int idx, int dir) {
  cp_lab *m = &lb->m;
  cp_err e;
  lb->msg[0] = '\0';
  switch (idx) {
  case 0: { /* kernel size */
    int64_t kH = m->kernel.shape[0], kW = m->kernel.shape[1];
    int64_t nk = kH + 2 * dir;
    if (nk < 1 || nk > CP_LAB_MAXK) return 0;
    if (sized_preset(m->preset) && kH == kW && kH % 2 == 1) {
      cp_preset_args a = m->args;
      a.size = nk;
      if (cp_lab_set_preset(m, m->preset, &a, &e)) {
        lab_set_msg(lb, 1, "%s", e.msg);
        return 0;
      }
    } else if (cp_lab_resize_kernel(m, nk, kW + 2 * dir < 1 ? 1 : kW + 2 * dir,
                                    &e)) {
      lab_set_msg(lb, 1, "%s", e.msg);
      return 0;
    }
    lb->v.sel_i = lb->v.sel_j = -1;
    break;
  }
  case 1: /* stride */
    if (m->p.stride + dir < 1 || m->p.stride + dir > 16) return 0;
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
      if (m->p.same) return 0;
      if (m->p.pad > 0) m->p.pad--;
      else if (m->p.stride == 1) m->p.same = 1;
    }
    break;
  case 3: /* padding mode */
    m->p.mode = (cp_padmode)(((int)m->p.mode + 4 + dir) % 4);
    break;
  case 4: /* dilation */
    if (m->p.dilation + dir < 1 || m->p.dilation + dir > 16) return 0;
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
      return 0;
    }
    break;
  case 9:
    lb->v.mode = (vz_viewmode)(((int)lb->v.mode + 3 + dir) % 3);
    return 0; /* display only */
  case 10: /* the preset's parameter: sigma or angle */
  case 11: { /* unsharp's amount */
    cp_preset_args a = m->args;
    a.size = m->kernel.shape[0];
    if (idx == 10 && (m->preset == CP_PRESET_GAUSSIAN || m->preset == CP_PRESET_UNSHARP)) {
      double sg = a.sigma > 0 ? a.sigma : cp_kernel_default_sigma(a.size);
      sg *= dir > 0 ? 1.25 : 0.8;
      a.sigma = sg < 0.1 ? 0.1 : sg > 50 ? 50 : sg;
    } else if (idx == 10 && m->preset == CP_PRESET_MOTION_BLUR) {
      a.angle = fmod(a.angle + 15 * dir + 360, 360);
    } else if (idx == 11 && m->preset == CP_PRESET_UNSHARP) {
      a.amount += 0.25 * dir;
    } else {
      lab_set_msg(lb, 1, "%s has no %s to change", cp_preset_name(m->preset),
                  idx == 10 ? "sigma or angle" : "amount");
      return 0;
    }
    if (cp_lab_set_preset(m, m->preset, &a, &e)) {
      lab_set_msg(lb, 1, "%s", e.msg);
      return 0;
    }
    break;
  }
  default: return 0;
  }
  return 1;
}

static void lab_setting(vz_lab *lb, int idx, int dir) {
  cp_lab before;
  cp_err e;
  if (cp_lab_copy(&before, &lb->m, &e)) {
    lab_set_msg(lb, 1, "%s", e.msg);
    return;
  }
  if (apply_setting(lb, idx, dir))
    commit(lb, &before);
  else
    cp_lab_free(&before);
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
void lab_update_hover(vz_lab *lb) {
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
int lab_on_key(vz_lab *lb, const SDL_KeyboardEvent *k) {
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
  case SDLK_LEFTBRACKET: lab_setting(lb, 10, -1); return 0;
  case SDLK_RIGHTBRACKET: lab_setting(lb, 10, 1); return 0;
  case SDLK_SEMICOLON: lab_setting(lb, 11, -1); return 0;
  case SDLK_QUOTE: lab_setting(lb, 11, 1); return 0;
  case SDLK_s: save_here(lb); return 0;
  case SDLK_h:
  case SDLK_F1: lb->show_help = !lb->show_help; return 0;
  case SDLK_SLASH: /* ?, as in the step-through views */
    if (shift) lb->show_help = !lb->show_help;
    return 0;
  case SDLK_f: lb->v.zoom = 0; return 0;
  case SDLK_z: {
    SDL_Rect vr = lab_view_rect(lb);
    zoom_at(lb, shift ? 0.8 : 1.25, vr.x + vr.w / 2, vr.y + vr.h / 2);
    return 0;
  }
  default: return 0;
  }
}

void lab_on_button(vz_lab *lb, const SDL_MouseButtonEvent *b) {
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

void lab_on_motion(vz_lab *lb, const SDL_MouseMotionEvent *m) {
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
  lab_update_hover(lb);
}

void lab_on_wheel(vz_lab *lb, const SDL_MouseWheelEvent *w) {
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
  lab_update_hover(lb);
}

