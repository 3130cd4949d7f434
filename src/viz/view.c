/* view.c - the step-through view: problem, trace, stepping and keys.
 * Drawing lives in view_draw.c. */
#include "viz/view.h"
#include "viz/view_priv.h"

#include "viz/code.h"
#include "viz/view_pool.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ====================================================================== */
/* Construction                                                            */
/* ====================================================================== */

/* Expand a mask broadcastable to x's 4-D shape into a contiguous copy. */
static int expand_mask(cp_tensor *out, const cp_tensor *m, const cp_tensor *x,
                       cp_err *e) {
  int64_t ms[4] = {1, 1, 1, 1};
  if (m->ndim < 2 || m->ndim > 4) {
    char b[128];
    return cp_fail(e, "mask: expected (H, W), (C, H, W) or (N, C, H, W), got "
                      "a mask of size %s",
                   cp_shape_str(m->ndim, m->shape, b, sizeof b));
  }
  for (int i = 0; i < m->ndim; i++) ms[4 - m->ndim + i] = m->shape[i];
  for (int i = 0; i < 4; i++)
    if (ms[i] != 1 && ms[i] != x->shape[i]) {
      char b[128], c[128];
      return cp_fail(e, "mask: size %s does not broadcast to the input's %s",
                     cp_shape_str(m->ndim, m->shape, b, sizeof b),
                     cp_shape_str(4, x->shape, c, sizeof c));
    }
  cp_tensor mc;
  if (cp_tensor_contiguous(&mc, m, e)) return -1;
  if (cp_tensor_empty(out, 4, x->shape, e)) {
    cp_tensor_release(&mc);
    return -1;
  }
  const float *src = cp_tensor_data(&mc);
  float *dst = cp_tensor_data(out);
  int64_t k = 0;
  for (int64_t n = 0; n < x->shape[0]; n++)
    for (int64_t c = 0; c < x->shape[1]; c++)
      for (int64_t h = 0; h < x->shape[2]; h++)
        for (int64_t w = 0; w < x->shape[3]; w++, k++) {
          int64_t i = (((ms[0] > 1 ? n : 0) * ms[1] + (ms[1] > 1 ? c : 0)) *
                           ms[2] + (ms[2] > 1 ? h : 0)) * ms[3] +
                      (ms[3] > 1 ? w : 0);
          dst[k] = src[i];
        }
  cp_tensor_release(&mc);
  return 0;
}

vz_view *vz_view_new(const vz_view_init *in, cp_err *e) {
  vz_view *v = calloc(1, sizeof *v);
  if (!v) {
    cp_fail(e, "out of memory");
    return NULL;
  }
  v->cur_unit = -1;
  char b1[128];
  cp_tensor x4;
  memset(&x4, 0, sizeof x4);
  if (in->x->ndim == 3) {
    if (cp_tensor_unsqueeze(&x4, in->x, 0, e)) goto fail;
  } else if (in->x->ndim == 4) {
    cp_tensor_share(&x4, in->x);
  } else {
    cp_fail(e, "input: Expected 3D (unbatched) or 4D (batched) input, but "
               "got input of size: %s",
            cp_shape_str(in->x->ndim, in->x->shape, b1, sizeof b1));
    goto fail;
  }
  int rc = cp_tensor_contiguous(&v->x, &x4, e);
  cp_tensor_release(&x4);
  if (rc) goto fail;
  if (in->pool) {
    /* the window as a depthwise kernel of ones: (C, 1, kH, kW) */
    if (vz_pool_setup(v, in, e)) goto fail;
  } else {
    if (in->w->ndim != 4) {
      cp_fail(e, "weight: expected a 4-D weight, but got weight of size %s",
              cp_shape_str(in->w->ndim, in->w->shape, b1, sizeof b1));
      goto fail;
    }
    if (cp_tensor_contiguous(&v->w, in->w, e)) goto fail;
  }
  if (in->bias) {
    if (cp_tensor_contiguous(&v->b, in->bias, e)) goto fail;
    v->has_b = 1;
  }
  if (in->mask) {
    if (expand_mask(&v->mask, in->mask, &v->x, e)) goto fail;
    v->has_mask = 1;
  }
  if (in->kmask) {
    const cp_tensor *k = in->kmask;
    int64_t kh = k->ndim < 2 ? -1 : k->shape[k->ndim - 2];
    int64_t kw = k->ndim < 2 ? -1 : k->shape[k->ndim - 1];
    if (k->ndim < 2 || cp_tensor_numel(k) != kh * kw ||
        kh != in->w->shape[2] || kw != in->w->shape[3]) {
      cp_fail(e, "kernel_mask: expected size [%lld, %lld] (the kernel's), "
                 "got %s",
              (long long)in->w->shape[2], (long long)in->w->shape[3],
              cp_shape_str(k->ndim, k->shape, b1, sizeof b1));
      goto fail;
    }
    if (cp_tensor_contiguous(&v->kmask, k, e)) goto fail;
    v->has_kmask = 1;
  }
  v->partial = in->partial;
  if (v->partial && in->p.transposed) {
    cp_fail(e, "partial: partial convolution is a conv2d option");
    goto fail;
  }
  if (v->partial && !v->has_mask) {
    /* PartialConv2d without a mask: a mask of ones (borders rescale). */
    int64_t s[4];
    memcpy(s, v->x.shape, sizeof s);
    s[1] = 1;
    if (cp_tensor_full(&v->mask, 4, s, 1.0f, e)) goto fail;
    cp_tensor ones = v->mask;
    rc = expand_mask(&v->mask, &ones, &v->x, e);
    cp_tensor_release(&ones);
    if (rc) goto fail;
    v->has_mask = 1;
  }
  if (in->multi >= 0) v->multi = in->multi;
  else if (in->mask) v->multi = in->mask->ndim >= 3 &&
                                in->mask->shape[in->mask->ndim - 3] > 1;
  v->flip = in->flip;
  if (v->flip && in->p.transposed) {
    cp_fail(e, "flip: true convolution is a conv2d option");
    goto fail;
  }
  if (in->grad_out && vz_grad_setup(v, in, e)) goto fail;
  if (in->gemm) {
    if (in->p.transposed || v->has_mask || v->has_kmask || v->partial ||
        in->flip) {
      cp_fail(e, "view: the unfold view draws a plain conv2d (no masks, "
                 "partial or flip)");
      goto fail;
    }
    v->gemm = in->gemm;
  }
  if (in->cmpview) {
    if (in->p.transposed || v->has_mask || v->has_kmask || v->partial ||
        in->flip) {
      cp_fail(e, "view: the compare view draws a plain conv2d (no masks, "
                 "partial or flip)");
      goto fail;
    }
    v->cmpview = 1;
  }
  if (!in->pool) v->req = in->p;
  v->dims1 = in->dims1;
  v->causal = in->causal;
  v->scatter = in->scatter;
  v->by_tap = in->by_tap;
  v->keras = in->keras;
  v->compare = in->compare && !in->p.transposed;
  v->speed = 4;
  v->zoom = 1;
  v->step = 1;
  v->width = in->width > 0 ? in->width : VZ_DEFAULT_W;
  v->height = in->height > 0 ? in->height : VZ_DEFAULT_H;
  v->chrome = 1;
  v->panels = VZ_PANEL_ALL;
  if (in->title) snprintf(v->title, sizeof v->title, "%s", in->title);
  if (in->caption) snprintf(v->caption, sizeof v->caption, "%s", in->caption);
  if (vz_view_rebuild(v)) {
    cp_fail(e, "%s", v->err);
    goto fail;
  }
  return v;
fail:
  vz_view_free(v);
  return NULL;
}

static void free_derived(vz_view *v) {
  free(v->cmat);
  v->cmat = NULL;
  free(v->y2);
  free(v->taps2);
  v->y2 = NULL;
  v->taps2 = NULL;
  v->cmat_n = -1;
  free(v->y);
  free(v->canvas);
  free(v->taps);
  v->y = v->canvas = NULL;
  v->taps = NULL;
  v->cur_unit = -1;
}

void vz_view_free(vz_view *v) {
  if (!v) return;
  free_derived(v);
  cp_tensor_release(&v->x);
  cp_tensor_release(&v->w);
  cp_tensor_release(&v->b);
  cp_tensor_release(&v->mask);
  cp_tensor_release(&v->kmask);
  cp_tensor_release(&v->fx);
  cp_tensor_release(&v->gy);
  cp_tensor_release(&v->ind);
  free(v->unpool_src);
  free(v);
}


static float absmax(const float *p, int64_t n) {
  float m = 0;
  for (int64_t i = 0; i < n; i++)
    if (fabsf(p[i]) > m && isfinite(p[i])) m = fabsf(p[i]);
  return m > 0 ? m : 1;
}

void vz_view_trace_src(const vz_view *v, int flip, cp_trace_src *src) {
  *src = (cp_trace_src){
      .x = cp_tensor_data(&v->x),
      .w = cp_tensor_data(&v->w),
      .b = v->has_b ? cp_tensor_data(&v->b) : NULL,
      .mask = v->has_mask ? cp_tensor_data(&v->mask) : NULL,
      .kmask = v->has_kmask ? cp_tensor_data(&v->kmask) : NULL,
      .partial = v->partial,
      .mask_multi = v->multi,
      .flip = flip,
      .gy = v->grad ? cp_tensor_data(&v->gy) : NULL};
}

/* The part of a rebuild after the trace: buffers, the output, scales
 * (src: what the trace read, for the compare view's second trace). */
static int rebuild_derived(vz_view *v, const cp_trace_src *src);

int vz_view_rebuild(vz_view *v) {
  free_derived(v);
  v->ok = 0;
  cp_err e;
  e.msg[0] = 0;
  if (v->pool) {
    if (vz_pool_trace(v, &e)) {
      snprintf(v->err, sizeof v->err, "%s", e.msg);
      return -1;
    }
    return rebuild_derived(v, NULL);
  }
  if (v->causal) cp_causal_pad(v->w.shape[3], v->req.dilation[1],
                               &v->req.pad[2], &v->req.pad[3]);
  int64_t blen = v->has_b ? cp_tensor_numel(&v->b) : 0;
  /* a backward view: the problem its mode steps through */
  cp_conv_params q = v->req;
  if (v->grad && vz_grad_params(v, &q, &e)) {
    snprintf(v->err, sizeof v->err, "%s", e.msg);
    return -1;
  }
  if (cp_geom_init(&v->g, &q, v->x.shape, v->w.shape, v->has_b,
                   v->has_b ? v->b.ndim : 0, blen, &e)) {
    snprintf(v->err, sizeof v->err, "%s", e.msg);
    return -1;
  }
  cp_trace_src src;
  vz_view_trace_src(v, v->flip, &src);
  cp_trace_kind kind = v->grad == VZ_GRAD_WEIGHT ? CP_TRACE_GRADW
                       : v->grad == VZ_GRAD_BIAS ? CP_TRACE_GRADB
                       : !q.transposed ? CP_TRACE_CONV
                       : v->scatter       ? CP_TRACE_SCATTER
                                          : CP_TRACE_GATHER;
  /* The output's cell count, before anything multiplies it in int64: a
   * stride or padding of 2^31 makes it overflow. */
  if ((double)v->g.N * (double)v->g.O * (double)v->g.OH * (double)v->g.OW >
      4.0 * 1024 * 1024) {
    int64_t ys[4] = {v->g.N, v->g.O, v->g.OH, v->g.OW};
    char b[160];
    snprintf(v->err, sizeof v->err,
             "view: too large to step through (an output of size %s); "
             "look at a crop (tensor:narrow) or fewer channels",
             cp_shape_str(4, ys, b, sizeof b));
    return -1;
  }
  if (cp_trace_init(&v->t, &v->g, kind, &src, &e)) {
    snprintf(v->err, sizeof v->err, "%s", e.msg);
    return -1;
  }
  if (kind == CP_TRACE_GATHER) {
    /* The output shown is the reference result: for a transposed problem
     * that is the scatter accumulation, in both views. */
    if (rebuild_derived(v, &src)) return -1;
    cp_trace ts;
    cp_trace_init(&ts, &v->g, CP_TRACE_SCATTER, &src, &e);
    cp_trace_canvas(&ts, ts.nunits, v->y);
    v->ymax = absmax(v->y, v->g.N * v->g.O * v->g.OH * v->g.OW);
    return 0;
  }
  return rebuild_derived(v, &src);
}

static int rebuild_derived(vz_view *v, const cp_trace_src *src) {
  cp_err e;
  e.msg[0] = 0;
  cp_trace_kind kind = v->t.kind;
  int64_t ny = v->g.N * v->g.O * v->g.OH * v->g.OW;
  if (kind == CP_TRACE_GRADW || kind == CP_TRACE_GRADB) ny = v->t.nunits;
  /* A view is for looking: refuse sizes no one can look at. */
  if (ny > 4 * 1024 * 1024 || v->t.ntaps > 65536 ||
      cp_tensor_numel(&v->x) > 4 * 1024 * 1024 ||
      (double)v->t.nunits * (double)v->t.ntaps > 1e8) {
    snprintf(v->err, sizeof v->err,
             "view: too large to step through (%lld steps of %lld taps); "
             "look at a crop (tensor:narrow) or fewer channels",
             (long long)v->t.nunits, (long long)v->t.ntaps);
    return -1;
  }
  if (v->gemm && vz_gemm_check(v, &e)) {
    snprintf(v->err, sizeof v->err, "%s", e.msg);
    return -1;
  }
  v->y = malloc(sizeof *v->y * (size_t)(ny ? ny : 1));
  v->canvas = malloc(sizeof *v->canvas * (size_t)(ny ? ny : 1));
  v->taps = malloc(sizeof *v->taps * (size_t)(v->t.ntaps ? v->t.ntaps : 1));
  if (!v->y || !v->canvas || !v->taps) {
    free_derived(v);
    snprintf(v->err, sizeof v->err, "view: out of memory");
    return -1;
  }
  cp_trace_canvas(&v->t, v->t.nunits, v->y);
  v->canvas_unit = -1;
  v->xmax = absmax(cp_tensor_data(&v->x), cp_tensor_numel(&v->x));
  v->wmax = absmax(cp_tensor_data(&v->w), cp_tensor_numel(&v->w));
  /* grad_weight, grad_bias: the second factor is grad_output */
  if (kind == CP_TRACE_GRADW || kind == CP_TRACE_GRADB)
    v->wmax = absmax(cp_tensor_data(&v->gy), cp_tensor_numel(&v->gy));
  v->ymax = absmax(v->y, ny);
  if (v->cmpview && src && vzc_rebuild(v, src, &e)) {
    free_derived(v);
    snprintf(v->err, sizeof v->err, "%s", e.msg);
    return -1;
  }
  v->ok = 1;
  v->err[0] = 0;
  int64_t n = vz_view_steps(v);
  if (v->step > n) v->step = n;
  if (v->step < 1) v->step = 1;
  return 0;
}

/* ====================================================================== */
/* Stepping                                                                */
/* ====================================================================== */

int64_t vz_view_steps_by(const vz_view *v, int by_tap) {
  return v->ok ? cp_trace_steps(&v->t, by_tap) : 0;
}

int64_t vz_view_steps(const vz_view *v) {
  return vz_view_steps_by(v, v->by_tap);
}

void vz_view_seek(vz_view *v, int64_t step) {
  int64_t n = vz_view_steps(v);
  if (step > n) step = n;
  if (step < 1) step = 1;
  v->step = step;
}

void vz_view_move(vz_view *v, int64_t n) {
  /* saturate: v:step(math.maxinteger) must not overflow */
  int64_t to;
  if (__builtin_add_overflow(v->step, n, &to))
    to = n > 0 ? INT64_MAX : INT64_MIN;
  vz_view_seek(v, to);
}

void vz_view_set_playing(vz_view *v, int playing, double speed) {
  v->playing = playing;
  if (speed > 0) v->speed = speed;
}

int vz_view_set_params(vz_view *v, const cp_conv_params *req, int flip) {
  v->req = *req;
  v->flip = flip;
  return vz_view_rebuild(v);
}

int vz_view_set_special(vz_view *v, const cp_conv_params *req,
                        const cp_pool_params *pool, int causal) {
  v->req = *req;
  v->preq = *pool;
  v->causal = causal;
  return vz_view_rebuild(v);
}

void vz_view_show_code(vz_view *v, int which) {
  v->code = which >= 0 && which <= 2 ? which : 0;
}

void vz_view_show_compare(vz_view *v, int on) { v->compare = !!on; }

void vz_view_frame_begin(vz_view *v, vz_view_frame *sv, int chrome,
                         unsigned panels) {
  sv->chrome = v->chrome;
  sv->panels = v->panels;
  sv->hit = v->hit;
  v->chrome = chrome;
  v->panels = panels;
}

void vz_view_frame_end(vz_view *v, const vz_view_frame *sv, int keep_hits) {
  v->chrome = sv->chrome;
  v->panels = sv->panels;
  if (!keep_hits) v->hit = sv->hit;
}

void vz_view_set_by_tap(vz_view *v, int by_tap) {
  by_tap = by_tap ? 1 : 0;
  if (by_tap == v->by_tap || !v->ok) {
    v->by_tap = by_tap;
    return;
  }
  /* Stay on the same unit: its first tap, or the unit as a whole. */
  int64_t u, k;
  cp_trace_locate(&v->t, v->by_tap, v->step, &u, &k);
  v->by_tap = by_tap;
  /* with nothing to step through, u is not a unit: stay on step 1 */
  vz_view_seek(v, cp_trace_step_of(&v->t, by_tap, u, 0));
}

void vz_view_set_scatter(vz_view *v, int scatter) {
  if (!v->req.transposed) return;
  v->scatter = scatter ? 1 : 0;
  v->step = 1;
  vz_view_rebuild(v);
}

void vz_view_current(vz_view *v, int64_t *done) {
  *done = 0;
  if (!v->ok || vz_view_steps(v) == 0) return;
  int64_t u, k;
  cp_trace_locate(&v->t, v->by_tap, v->step, &u, &k);
  *done = k;
  if (u == v->cur_unit) return;
  if (v->t.kind == CP_TRACE_SCATTER) {
    if (v->canvas_unit < 0 || v->canvas_unit > u)
      cp_trace_canvas(&v->t, u, v->canvas);
    else
      for (int64_t q = v->canvas_unit; q < u; q++)
        cp_trace_scatter_add(&v->t, q, v->canvas);
    v->canvas_unit = u;
  }
  cp_trace_unit(&v->t, u, v->canvas, v->taps, &v->info);
  if (v->cmpview) vzc_current(v, u);
  v->cur_unit = u;
}

const cp_tap *vz_view_scatter_tap(const vz_view *v, int64_t done) {
  for (int64_t k = done - 1; k >= 0; k--)
    if (v->taps[k].kind != CP_TAP_CROPPED) return &v->taps[k];
  return NULL;
}

double vz_view_sum(vz_view *v) {
  int64_t done;
  vz_view_current(v, &done);
  if (!v->ok) return NAN;
  if (done == 0) return v->info.bias;
  if (v->t.kind == CP_TRACE_SCATTER) {
    const cp_tap *tp = vz_view_scatter_tap(v, done);
    return tp ? tp->sum : NAN;
  }
  return v->taps[done - 1].sum;
}

void vz_view_tick(vz_view *v, double dt) {
  if (!v->playing || !v->ok) return;
  v->play_acc += dt * v->speed;
  while (v->play_acc >= 1) {
    v->play_acc -= 1;
    int64_t before = v->step;
    vz_view_move(v, v->backward ? -1 : 1);
    if (v->step == before) {
      v->playing = 0;
      v->play_acc = 0;
      break;
    }
  }
}

/* ====================================================================== */
/* Keys                                                                    */
/* ====================================================================== */

static const char help_text[] =
    "Right / n      next step\n"
    "Left / b       previous step\n"
    "Space          play / pause\n"
    "Shift+Space    play backwards\n"
    "Home / End     first / last step\n"
    "Up / Down      faster / slower\n"
    "t              a tap or an output cell per step\n"
    "s / S          stride +1 / -1\n"
    "p / P          padding +1 / -1\n"
    "d / D          dilation +1 / -1\n"
    "o / O          output_padding +1 / -1\n"
    "m              next padding_mode\n"
    "f              correlation / true convolution\n"
    "F              both side by side, differences outlined\n"
    "v              scatter / zero-insertion view\n"
    "g / G          backward: grad_input, weight, bias\n"
    "u / U          unfold: im2col, matrix C, Cᵀ\n"
    "e / i          pooling: ceil_mode / count_include_pad\n"
    "k              Keras HWIO kernel labels\n"
    "C              code: PyTorch / Keras / hidden\n"
    "c              copy the code to the clipboard\n"
    "+ / - / 0      zoom in / out / fit\n"
    "drag, Shift+arrows   pan\n"
    "mouse          receptive field / fed outputs\n"
    "click          jump to that output cell\n"
    "Tab / PageDown next page (Shift+Tab: back)\n"
    "F2             save a screenshot (PNG)\n"
    "r              reload the script\n"
    "?              this help\n"
    "Esc / q        quit\n";

const char *vz_view_help_text(void) { return help_text; }

#define EDIT_MAX 16 /* the largest stride, padding, dilation a view shows */

/* Edit one parameter (both dims) by delta, within [lo, EDIT_MAX]; a clamp
 * says why in the status line.  Returns 1 when anything changed. */
static int edit_pair(vz_view *v, const char *name, int64_t *a, int n,
                     int delta, int64_t lo) {
  int changed = 0, clamped = 0;
  for (int i = 0; i < n; i++) {
    int64_t x = a[i] + delta;
    if (x < lo) x = lo, clamped = 1;
    if (x > EDIT_MAX) x = EDIT_MAX, clamped = 1;
    changed |= x != a[i];
    a[i] = x;
  }
  if (clamped && delta > 0)
    vz_view_status(v, "%s %d is the largest this view shows", name,
                   EDIT_MAX);
  else if (clamped)
    vz_view_status(v, "%s is at least %lld", name, (long long)lo);
  return changed;
}

void vz_view_status(vz_view *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->status, sizeof v->status, fmt, ap);
  va_end(ap);
}

int vz_view_key(vz_view *v, const char *key, int shift) {
  cp_conv_params *p = &v->req;
  int delta = shift ? -1 : 1, rebuild = 0;
  int64_t n = vz_view_steps(v);
  v->status[0] = 0; /* a key answers the last message */
  if (v->grad) { /* the backward view's own keys first */
    int used = vz_grad_key(v, key, shift);
    if (used >= 0) return used;
  }
  if (v->gemm) {
    int used = vz_gemm_key(v, key, shift);
    if (used >= 0) return used;
  }
  if (v->cmpview) {
    int used = vzc_flip_key(v, key);
    if (used >= 0) return used;
  }
  if (v->pool) {
    int r = vz_pool_key(v, key, shift);
    if (r >= 0) return r;
  }
  /* a 1-D view edits the width only (its H is 1) */
  int at = v->dims1 ? 1 : 0, np = v->dims1 ? 1 : 2;
  if (!strcmp(key, "Right") && shift) v->panx -= 40;
  else if (!strcmp(key, "Left") && shift) v->panx += 40;
  else if (!strcmp(key, "Up") && shift) v->pany += 40;
  else if (!strcmp(key, "Down") && shift) v->pany -= 40;
  else if (!strcmp(key, "Right") || !strcmp(key, "n")) vz_view_move(v, 1);
  else if (!strcmp(key, "Left") || !strcmp(key, "b")) vz_view_move(v, -1);
  else if (!strcmp(key, "Home")) vz_view_seek(v, 1);
  else if (!strcmp(key, "End")) vz_view_seek(v, n);
  else if (!strcmp(key, "Space")) {
    if (v->playing && v->backward == shift) {
      v->playing = 0;
    } else {
      v->playing = 1;
      v->backward = shift;
      if (!shift && v->step >= n) vz_view_seek(v, 1);
      if (shift && v->step <= 1) vz_view_seek(v, n);
    }
    v->play_acc = 0;
  } else if (!strcmp(key, "Up")) {
    v->speed = fmin(v->speed * 2, 512);
  } else if (!strcmp(key, "Down")) {
    v->speed = fmax(v->speed / 2, 0.25);
  } else if (!strcmp(key, "t")) {
    vz_view_set_by_tap(v, !v->by_tap);
  } else if (!strcmp(key, "s")) {
    rebuild = edit_pair(v, "stride", p->stride + at, np, delta, 1);
  } else if (!strcmp(key, "d")) {
    rebuild = edit_pair(v, "dilation", p->dilation + at, np, delta, 1);
  } else if (!strcmp(key, "o")) {
    if (!p->transposed) {
      vz_view_status(v, "o: output_padding belongs to transposed "
                        "convolutions only");
      return 0;
    }
    rebuild = edit_pair(v, "output_padding", p->out_pad + at, np, delta, 0);
  } else if (!strcmp(key, "p")) {
    if (p->padspec != CP_PADSPEC_EXPLICIT) {
      /* "same"/"valid" become the numbers they stood for. */
      if (v->ok) memcpy(p->pad, v->g.p.pad, sizeof p->pad);
      else memset(p->pad, 0, sizeof p->pad);
      p->padspec = CP_PADSPEC_EXPLICIT;
    }
    if (v->causal) {
      v->causal = 0;
      vz_view_status(v, "padding is explicit now (no longer causal)");
    }
    rebuild = edit_pair(v, "padding", p->pad + 2 * at, 4 - 2 * at, delta, 0);
  } else if (!strcmp(key, "m")) {
    if (p->transposed) {
      vz_view_status(v, "m: padding_mode belongs to conv2d only (a "
                        "transposed convolution crops instead)");
      return 0;
    }
    p->mode = (cp_padmode)((p->mode + 1) % 4);
    rebuild = 1;
  } else if (!strcmp(key, "f") && shift) {
    if (p->transposed) return 0;
    v->compare = !v->compare;
  } else if (!strcmp(key, "f")) {
    if (p->transposed) {
      vz_view_status(v, "f: the flipped kernel belongs to conv2d views "
                        "(the zero-insertion view flips it already)");
      return 0;
    }
    v->flip = !v->flip;
    rebuild = 1;
  } else if (!strcmp(key, "v")) {
    if (!p->transposed) {
      vz_view_status(v, "v: the scatter and zero-insertion views belong "
                        "to transposed convolutions");
      return 0;
    }
    vz_view_set_scatter(v, !v->scatter);
  } else if (!strcmp(key, "k")) {
    v->keras = !v->keras;
  } else if (!strcmp(key, "?") || !strcmp(key, "F1")) {
    v->help = !v->help;
  } else if (!strcmp(key, "+") || !strcmp(key, "=")) {
    v->zoom = fminf(v->zoom * 1.25f, 16);
  } else if (!strcmp(key, "-")) {
    v->zoom = fmaxf(v->zoom / 1.25f, 0.25f);
  } else if (!strcmp(key, "0")) {
    v->zoom = 1;
    v->panx = v->pany = 0;
  } else if (!strcmp(key, "c") && shift) {
    v->code = (v->code + 1) % 3;
  } else if (!strcmp(key, "c")) {
    vz_code_copy(v);
    v->hover = 0;
  } else {
    return 0;
  }
  if (rebuild) vz_view_rebuild(v);
  return 1;
}

void vz_view_hover(vz_view *v, int what, const int64_t idx[4]) {
  /* grad_weight / grad_bias hover only their own gradient cells */
  if ((v->grad >= VZ_GRAD_WEIGHT) != (what == VZ_HOVER_GRAD)) what = 0;
  v->hover = what;
  if (what) memcpy(v->hover_idx, idx, sizeof v->hover_idx);
}

void vz_view_wheel(vz_view *v, int dy) {
  if (dy > 0) vz_view_key(v, "+", 0);
  else if (dy < 0) vz_view_key(v, "-", 0);
}

void vz_view_drag(vz_view *v, int dx, int dy) {
  v->panx += dx;
  v->pany += dy;
}

/* ====================================================================== */
/* The output-size formula                                                 */
/* ====================================================================== */

void vz_view_formula(const vz_view *v, int dim, char *buf, size_t n) {
  if (v->pool) {
    vz_pool_formula(v, dim, buf, n);
    return;
  }
  const cp_conv_params *p = v->ok ? &v->g.p : &v->req;
  int64_t in = v->x.shape[2 + dim], k = v->w.shape[2 + dim];
  int64_t s = p->stride[dim], d = p->dilation[dim];
  int64_t pb = p->pad[2 * dim], pa = p->pad[2 * dim + 1];
  const char *H = v->dims1 ? "L" : dim ? "W" : "H";
  if (!p->transposed && p->padspec == CP_PADSPEC_SAME)
    cp_same_pad(k, d, &pb, &pa);
  else if (!p->transposed && p->padspec == CP_PADSPEC_VALID)
    pb = pa = 0;
  cp_err e;
  if (p->transposed) {
    int64_t op = p->out_pad[dim];
    int64_t out = (in - 1) * s - pb - pa + d * (k - 1) + op + 1;
    int64_t chk = cp_convT_out_len(in, k, s, pb, d, op, &e);
    snprintf(buf, n,
             "%s_out = (%s-1)·s - 2p + d·(k-1) + op + 1 = (%lld-1)·%lld - "
             "2·%lld + %lld·(%lld-1) + %lld + 1 = %lld%s",
             H, H, (long long)in, (long long)s, (long long)pb, (long long)d,
             (long long)k, (long long)op, (long long)out,
             chk < 0 ? "  (invalid)" : "");
  } else {
    /* the number the rule gives, also when it makes the problem invalid */
    int64_t q = cp_conv_out_len_raw(in, k, s, pb, pa, d) - 1;
    int64_t chk = cp_conv_out_len(in, k, s, pb, pa, d, &e);
    if (pb == pa)
      snprintf(buf, n,
               "%s_out = ⌊(%s + 2p - d·(k-1) - 1)/s⌋ + 1 = ⌊(%lld + 2·%lld - "
               "%lld·(%lld-1) - 1)/%lld⌋ + 1 = %lld%s",
               H, H, (long long)in, (long long)pb, (long long)d, (long long)k,
               (long long)s, (long long)(q + 1), chk < 0 ? "  (invalid)" : "");
    else
      snprintf(buf, n,
               "%s_out = ⌊(%s + p0 + p1 - d·(k-1) - 1)/s⌋ + 1 = ⌊(%lld + %lld "
               "+ %lld - %lld·(%lld-1) - 1)/%lld⌋ + 1 = %lld%s",
               H, H, (long long)in, (long long)pb, (long long)pa, (long long)d,
               (long long)k, (long long)s, (long long)(q + 1),
               chk < 0 ? "  (invalid)" : "");
  }
}
