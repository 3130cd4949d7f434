/* view_state.c - what readers of a view see: the state snapshot, the
 * current unit, the output, the last frame's grids and controls, the
 * title and caption.  The view's struct stays private (view_priv.h). */
#include "viz/view_priv.h"

#include <stdio.h>
#include <string.h>

/* v:output()'s shape: the weight's (grad_weight), (O) (grad_bias) or
 * (N,O,OH,OW). */
static int out_shape(const vz_view *v, int64_t shape[4]) {
  if (v->t.kind == CP_TRACE_GRADW) {
    memcpy(shape, v->w.shape, sizeof(int64_t) * 4);
    return 4;
  }
  if (v->t.kind == CP_TRACE_GRADB) {
    shape[0] = v->g.O;
    return 1;
  }
  const int64_t s[4] = {v->g.N, v->g.O, v->g.OH, v->g.OW};
  memcpy(shape, s, sizeof s);
  return 4;
}

void vz_view_state_get(const vz_view *v, vz_view_state *s) {
  *s = (vz_view_state){
      .ok = v->ok, .req = v->req, .g = v->g,
      .pool = v->pool, .preq = v->preq, .ret_idx = v->ret_idx,
      .dims1 = v->dims1, .causal = v->causal, .partial = v->partial,
      .flip = v->flip, .scatter = v->scatter, .grad = v->grad,
      .gemm = v->gemm, .cmpview = v->cmpview,
      .by_tap = v->by_tap, .step = v->step, .steps = vz_view_steps(v),
      .playing = v->playing,
      .width = v->width, .height = v->height, .chrome = v->chrome,
      .panels = v->panels, .help = v->help, .code = v->code,
      .compare = v->compare, .zoom = v->zoom, .hover = v->hover,
      .pinned = v->pinned};
  memcpy(s->xshape, v->x.shape, sizeof s->xshape);
  memcpy(s->wshape, v->w.shape, sizeof s->wshape);
  if (v->ok) s->out_ndim = out_shape(v, s->out_shape);
  memcpy(s->unpool_hw, v->unpool_hw, sizeof s->unpool_hw);
  memcpy(s->hover_idx, v->hover_idx, sizeof s->hover_idx);
  snprintf(s->status, sizeof s->status, "%s", v->status);
}

int vz_view_unit_get(vz_view *v, vz_view_unit *u) {
  memset(u, 0, sizeof *u);
  vz_view_current(v, &u->done);
  if (!v->ok || vz_view_steps(v) == 0) return -1;
  u->kind = v->t.kind;
  u->index = v->cur_unit;
  u->ntaps = v->t.ntaps;
  u->taps = v->taps;
  u->info = v->info;
  if (v->cmpview) {
    u->taps2 = v->taps2;
    u->info2 = v->info2;
  }
  return 0;
}

const float *vz_view_output(const vz_view *v, int conv) {
  return !v->ok ? NULL : conv ? v->y2 : v->y;
}

int64_t vz_view_step(const vz_view *v) { return v->step; }
int vz_view_playing(const vz_view *v) { return v->playing; }

const char *vz_view_error(const vz_view *v) { return v->ok ? NULL : v->err; }

void vz_view_hits_get(const vz_view *v, vz_view_hits *hit) {
  *hit = v->hit;
}

void vz_view_set_frame(vz_view *v, int width, int height,
                       const char *footer) {
  v->width = width;
  v->height = height;
  snprintf(v->footer, sizeof v->footer, "%s", footer);
}

const char *vz_view_title(const vz_view *v) { return v->title; }
const char *vz_view_caption(const vz_view *v) { return v->caption; }

void vz_view_set_title(vz_view *v, const char *text) {
  snprintf(v->title, sizeof v->title, "%s", text);
}

void vz_view_set_caption(vz_view *v, const char *text) {
  snprintf(v->caption, sizeof v->caption, "%s", text);
}
