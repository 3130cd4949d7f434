/* stack.c - a stack of layers (viz.stack): shapes, formulas, receptive
 * fields, dropped rows.  All geometry comes from core/geometry. */
#include "viz/stack.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vz_stack {
  char title[256];
  int n;                              /* layers */
  cp_layer l[VZ_STACK_MAX];           /* layer i+1 is l[i] */
  char op[VZ_STACK_MAX][24];          /* "conv2d", ... */
  int64_t C[VZ_STACK_MAX + 1];        /* grid j: channels (0 unknown) */
  int64_t H[VZ_STACK_MAX + 1], W[VZ_STACK_MAX + 1];
  unsigned char *rset[VZ_STACK_MAX + 1], *cset[VZ_STACK_MAX + 1];
  /* field of the hovered cell */
  unsigned char *rread[VZ_STACK_MAX], *cread[VZ_STACK_MAX];
  /* rows / cols of grid i that layer i+1 reads */
  int64_t ndrop[VZ_STACK_MAX][2];     /* unread rows / cols of grid i */
  int hl;                             /* hovered grid, -1: none */
  int64_t hr, hc;                     /* hovered cell (0-based) */
  vz_stack_hits hit;                  /* where the last frame drew grids */
  int width, height;                  /* frame size */
};

vz_stack *vz_stack_new(const char *title, int width, int height) {
  vz_stack *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  snprintf(st->title, sizeof st->title, "%s", title ? title : "");
  st->width = width > 0 ? width : VZ_DEFAULT_W;
  st->height = height > 0 ? height : VZ_DEFAULT_H;
  st->hl = -1;
  return st;
}

void vz_stack_free(vz_stack *st) {
  if (!st) return;
  for (int j = 0; j <= VZ_STACK_MAX; j++) {
    free(st->rset[j]);
    free(st->cset[j]);
  }
  for (int j = 0; j < VZ_STACK_MAX; j++) {
    free(st->rread[j]);
    free(st->cread[j]);
  }
  free(st);
}

static int alloc_grid(vz_stack *st, int j, cp_err *e) {
  st->rset[j] = calloc((size_t)st->H[j], 1);
  st->cset[j] = calloc((size_t)st->W[j], 1);
  if (!st->rset[j] || !st->cset[j]) return cp_fail(e, "out of memory");
  return 0;
}

static int check_len(int64_t v, const char *what, cp_err *e) {
  if (v < 1 || v > VZ_STACK_MAXLEN)
    return cp_fail(e, "%s %lld out of range 1..%d", what, (long long)v,
                   VZ_STACK_MAXLEN);
  return 0;
}

int vz_stack_input(vz_stack *st, int64_t C, int64_t H, int64_t W,
                   cp_err *e) {
  if (st->n || st->rset[0]) return cp_fail(e, "the input is already set");
  if (check_len(H, "input height", e) || check_len(W, "input width", e))
    return -1;
  if (C < 0) return cp_fail(e, "negative channel count");
  st->C[0] = C, st->H[0] = H, st->W[0] = W;
  return alloc_grid(st, 0, e);
}

int vz_stack_add(vz_stack *st, const cp_layer *l, const char *op,
                 int64_t out_ch, cp_err *e) {
  if (st->n >= VZ_STACK_MAX)
    return cp_fail(e, "too many layers (at most %d)", VZ_STACK_MAX);
  int i = st->n, j = i + 1;
  cp_err de;
  int64_t oh = cp_layer_out_len(l, 0, st->H[i], &de);
  if (oh < 0) return cp_fail(e, "%s", de.msg);
  int64_t ow = cp_layer_out_len(l, 1, st->W[i], &de);
  if (ow < 0) return cp_fail(e, "%s", de.msg);
  if (check_len(oh, "output height", e) || check_len(ow, "output width", e))
    return -1;
  st->l[i] = *l;
  snprintf(st->op[i], sizeof st->op[i], "%s", op);
  st->C[j] = out_ch, st->H[j] = oh, st->W[j] = ow;
  st->rread[i] = malloc((size_t)st->H[i]);
  st->cread[i] = malloc((size_t)st->W[i]);
  if (!st->rread[i] || !st->cread[i]) return cp_fail(e, "out of memory");
  st->ndrop[i][0] = cp_layer_unread(l, 0, st->H[i], oh, st->rread[i]);
  st->ndrop[i][1] = cp_layer_unread(l, 1, st->W[i], ow, st->cread[i]);
  if (alloc_grid(st, j, e)) return -1;
  st->n++;
  return 0;
}

int vz_stack_hover(vz_stack *st, int j, int64_t r, int64_t c) {
  if (j < 0) {
    st->hl = -1;
    return 0;
  }
  if (j > st->n || r < 0 || c < 0 || r >= st->H[j] || c >= st->W[j])
    return -1;
  st->hl = j, st->hr = r, st->hc = c;
  for (int k = 0; k <= st->n; k++) {
    memset(st->rset[k], 0, (size_t)st->H[k]);
    memset(st->cset[k], 0, (size_t)st->W[k]);
  }
  st->rset[j][r] = 1;
  st->cset[j][c] = 1;
  for (int k = j; k > 0; k--) {
    cp_layer_field(&st->l[k - 1], 0, st->H[k - 1], st->H[k], st->rset[k],
                   st->rset[k - 1]);
    cp_layer_field(&st->l[k - 1], 1, st->W[k - 1], st->W[k], st->cset[k],
                   st->cset[k - 1]);
  }
  return 0;
}

int vz_stack_mouse(vz_stack *st, int x, int y) {
  int ohl = st->hl;
  int64_t ohr = st->hr, ohc = st->hc;
  for (int j = 0; j <= st->n; j++) {
    double cs = st->hit.gcs[j];
    if (cs <= 0) continue;
    double fx = (x - st->hit.gx[j]) / cs, fy = (y - st->hit.gy[j]) / cs;
    if (fx >= 0 && fy >= 0 && fx < st->W[j] && fy < st->H[j]) {
      vz_stack_hover(st, j, (int64_t)fy, (int64_t)fx);
      return ohl != st->hl || ohr != st->hr || ohc != st->hc;
    }
  }
  st->hl = -1;
  return ohl != -1;
}

/* ---- text ------------------------------------------------------------------- */

/* The right-hand side of layer i's formula for dimension dim. */
static void formula_rhs(const vz_stack *st, int i, int dim, char *b,
                        size_t n) {
  const cp_layer *l = &st->l[i - 1];
  long long in = dim ? st->W[i - 1] : st->H[i - 1];
  long long out = dim ? st->W[i] : st->H[i];
  long long k = l->k[dim], s = l->s[dim], p = l->p[dim], d = l->d[dim];
  if (l->kind == CP_LAYER_CONVT) {
    snprintf(b, n, "(%lld−1)·%lld − 2·%lld + %lld·(%lld−1) + %lld + 1 = %lld",
             in, s, p, d, k, (long long)l->op[dim], out);
    return;
  }
  int ceil = l->kind != CP_LAYER_CONV && l->ceil_mode;
  snprintf(b, n, "%s(%lld + 2·%lld − %lld·(%lld−1) − 1)/%lld%s + 1 = %lld",
           ceil ? "⌈" : "⌊", in, p, d, k, s, ceil ? "⌉" : "⌋", out);
}

void vz_stack_formula(const vz_stack *st, int i, int dim, char *buf,
                      size_t n) {
  char rhs[160];
  formula_rhs(st, i, dim, rhs, sizeof rhs);
  snprintf(buf, n, "%s = %s", dim ? "W_out" : "H_out", rhs);
}

int vz_stack_convT_sizes(const vz_stack *st, int i, int dim,
                         int64_t *sizes, int max) {
  const cp_layer *l = &st->l[i - 1];
  if (l->kind != CP_LAYER_CONVT) return 0;
  /* conv2d(k, s, p, d) maps exactly the lengths base .. base + s - 1 to
   * this layer's input length: base is the output with no output_padding */
  int64_t in = dim ? st->W[i - 1] : st->H[i - 1];
  int64_t base = (in - 1) * l->s[dim] - 2 * l->p[dim] +
                 l->d[dim] * (l->k[dim] - 1) + 1;
  int m = 0;
  for (int64_t r = 0; r < l->s[dim] && m < max; r++)
    if (base + r >= 1) sizes[m++] = base + r;
  return m;
}

/* "31, 32" (1-based) of the unset cells of mask, at most 4 listed. */
static void list_unset(const unsigned char *mask, int64_t len, char *b,
                       size_t n) {
  size_t o = 0;
  int shown = 0;
  b[0] = 0;
  for (int64_t i = 0; i < len && o < n; i++) {
    if (mask[i]) continue;
    if (shown == 4) {
      snprintf(b + o, n - o, ", …");
      return;
    }
    o += (size_t)snprintf(b + o, n - o, "%s%lld", shown ? ", " : "",
                          (long long)i + 1);
    shown++;
  }
}

static const char *short_op(const char *op) {
  return !strcmp(op, "conv_transpose2d") ? "convT"
         : !strcmp(op, "max_pool2d")     ? "maxpool"
         : !strcmp(op, "avg_pool2d")     ? "avgpool"
         : !strcmp(op, "conv2d")         ? "conv"
                                         : op;
}

#define MAXLINES (VZ_STACK_MAX * 5 + 2)
typedef struct lines {
  char t[MAXLINES][320];
  int dim[MAXLINES];                  /* 1: a note (dim colour) */
  int n;
} lines;

static void add_line(lines *ls, int note, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_line(lines *ls, int note, const char *fmt, ...) {
  if (ls->n >= MAXLINES) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ls->t[ls->n], sizeof ls->t[0], fmt, ap);
  va_end(ap);
  ls->dim[ls->n++] = note;
}

/* First and last set cell (0-based) and how many; 0 when none. */
static int64_t set_span(const unsigned char *set, int64_t n, int64_t *lo,
                        int64_t *hi) {
  int64_t k = 0;
  *lo = *hi = -1;
  for (int64_t i = 0; i < n; i++)
    if (set[i]) {
      if (*lo < 0) *lo = i;
      *hi = i;
      k++;
    }
  return k;
}

static void build_lines(const vz_stack *st, lines *ls) {
  static const char *const dn[2] = {"rows", "columns"};
  ls->n = 0;
  if (st->hl > 0) { /* the hovered cell's field in the input */
    int64_t r0, r1, c0, c1;
    int64_t nr = set_span(st->rset[0], st->H[0], &r0, &r1);
    int64_t nc = set_span(st->cset[0], st->W[0], &c0, &c1);
    if (nr && nc)
      add_line(ls, 0, "L%d (%lld, %lld) sees input rows %lld–%lld, "
               "columns %lld–%lld (%lld×%lld cells read)", st->hl,
               (long long)st->hr + 1, (long long)st->hc + 1,
               (long long)r0 + 1, (long long)r1 + 1, (long long)c0 + 1,
               (long long)c1 + 1, (long long)nr, (long long)nc);
  }
  for (int i = 1; i <= st->n; i++) {
    char f0[160], f1[160];
    formula_rhs(st, i, 0, f0, sizeof f0);
    formula_rhs(st, i, 1, f1, sizeof f1);
    char h0[40], h1[40];
    char *eq = strrchr(f0, '=');
    snprintf(h0, sizeof h0, "%s", eq ? eq : "");
    eq = strrchr(f1, '=');
    snprintf(h1, sizeof h1, "%s", eq ? eq : "");
    if (!strcmp(f0, f1))
      add_line(ls, 0, "L%d %s: H_out = W_out = %s", i, short_op(st->op[i - 1]),
               f0);
    else {
      add_line(ls, 0, "L%d %s: H_out = %s", i, short_op(st->op[i - 1]), f0);
      add_line(ls, 0, "L%d %s: W_out = %s", i, short_op(st->op[i - 1]), f1);
    }
    for (int d = 0; d < 2; d++) {
      if (!st->ndrop[i - 1][d]) continue;
      char b[64];
      list_unset(d ? st->cread[i - 1] : st->rread[i - 1],
                 d ? st->W[i - 1] : st->H[i - 1], b, sizeof b);
      /* all after the last read cell: floor division dropped them;
       * otherwise the windows step over them (stride, dilation) */
      const unsigned char *rd = d ? st->cread[i - 1] : st->rread[i - 1];
      int64_t len = d ? st->W[i - 1] : st->H[i - 1], last = -1, first = -1;
      for (int64_t q = 0; q < len; q++)
        if (rd[q]) last = q;
      for (int64_t q = len - 1; q >= 0; q--)
        if (!rd[q]) first = q;
      add_line(ls, 1, "  L%d never reads input %s %s (hatched): %s",
               i, dn[d], b,
               first > last ? "floor division drops them"
                            : "the windows step over them");
    }
    if (st->l[i - 1].kind == CP_LAYER_CONVT)
      for (int d = 0; d < 2; d++) {
        if (d == 1 && st->H[i - 1] == st->W[i - 1] &&
            st->l[i - 1].k[0] == st->l[i - 1].k[1] &&
            st->l[i - 1].s[0] == st->l[i - 1].s[1] &&
            st->l[i - 1].p[0] == st->l[i - 1].p[1] &&
            st->l[i - 1].d[0] == st->l[i - 1].d[1] &&
            st->l[i - 1].op[0] == st->l[i - 1].op[1])
          break; /* the same list as the rows */
        int64_t sz[64];
        int m = vz_stack_convT_sizes(st, i, d, sz, 64);
        char b[200];
        size_t o = 0;
        b[0] = 0;
        for (int r = 0; r < m && o < sizeof b; r++)
          o += (size_t)snprintf(b + o, sizeof b - o, "%s%lld (op=%d%s)",
                                r ? ", " : "", (long long)sz[r], r,
                                r == st->l[i - 1].op[d] ? ", this one" : "");
        add_line(ls, 1, "  L%d: conv2d inputs of %s that give %lld: %s", i,
                 d ? "width" : "height",
                 (long long)(d ? st->W[i - 1] : st->H[i - 1]), b);
      }
  }
}

/* ---- drawing ------------------------------------------------------------ */

/* Fill the runs of set rows x set columns of a grid. */
static void fill_sets(vz_canvas *s, double x, double y, double cs,
                      const unsigned char *rs, int64_t H,
                      const unsigned char *cs_, int64_t W, vz_color c) {
  for (int64_t r = 0; r < H;) {
    if (!rs[r]) { r++; continue; }
    int64_t r1 = r;
    while (r1 < H && rs[r1]) r1++;
    for (int64_t q = 0; q < W;) {
      if (!cs_[q]) { q++; continue; }
      int64_t q1 = q;
      while (q1 < W && cs_[q1]) q1++;
      vz_fill(s, x + q * cs, y + r * cs, (q1 - q) * cs, (r1 - r) * cs, c);
      q = q1;
    }
    r = r1;
  }
}

/* Hatch a rectangle (dropped cells). */
static void hatch(vz_canvas *s, double x, double y, double w, double h) {
  vz_fill(s, x, y, w, h, vz_th->crop);
  vz_clip(s, (int)x, (int)y, (int)(w + 1), (int)(h + 1));
  for (double t = -h; t < w; t += 6)
    vz_line(s, x + t, y + h, x + t + h, y, 1, VZ_ERRC);
  vz_unclip(s);
}

static void draw_grid(vz_stack *st, vz_canvas *s, int j, double x, double y,
                      double cs) {
  int64_t H = st->H[j], W = st->W[j];
  double w = W * cs, h = H * cs;
  vz_fill(s, x, y, w, h, VZ_PANEL);
  if (j < st->n) { /* what the next layer never reads */
    for (int64_t r = 0; r < H; r++)
      if (!st->rread[j][r]) hatch(s, x, y + r * cs, w, cs);
    for (int64_t c = 0; c < W; c++)
      if (!st->cread[j][c]) hatch(s, x + c * cs, y, cs, h);
  }
  if (st->hl >= j && st->hl >= 0)
    fill_sets(s, x, y, cs, st->rset[j], H, st->cset[j], W,
              j == st->hl ? VZ_ACCENT2 : VZ_ACCENT);
  if (cs >= 5) {
    for (int64_t r = 1; r < H; r++)
      vz_line(s, x, y + r * cs, x + w, y + r * cs, 1, VZ_GRIDLINE);
    for (int64_t c = 1; c < W; c++)
      vz_line(s, x + c * cs, y, x + c * cs, y + h, 1, VZ_GRIDLINE);
  }
  vz_frame(s, x, y, w, h, 1, VZ_GRIDLINE);
  if (j < st->n)
    for (int d = 0; d < 2; d++)
      if (st->ndrop[j][d]) {
        vz_dashed(s, x - 1, y - 1, w + 2, h + 2, 4, VZ_ERRC);
        break;
      }
}

/* Grid j's cell size in a pw x gh slot (at most cap). */
static double slot_cs(const vz_stack *st, int j, double pw, double gh,
                      double cap) {
  double cs = (pw - 12) / st->W[j];
  if (gh / (double)st->H[j] < cs) cs = gh / (double)st->H[j];
  return cs > cap ? cap : cs;
}

/* The rows the grids are laid out in (1..3): the most that leaves every
 * grid a larger smallest cell, so a frame with height to spare stacks
 * them instead of leaving its lower half empty. */
static int grid_rows(const vz_stack *st, int ng, double wide, int avail,
                     int head, double cap, double *pw_out, int *gh_out) {
  int best = 1;
  double best_cs = -1;
  for (int r = 1; r <= 3 && r <= ng; r++) {
    int cols = (ng + r - 1) / r;
    double pw = wide / cols;
    int gh = (avail - r * (head + 8)) / r; /* each row: head, grids, gap */
    if (gh < 8) break;
    double cs = cap;
    for (int j = 0; j < ng; j++) {
      double c = slot_cs(st, j, pw, gh, cap);
      if (c < cs) cs = c;
    }
    if (cs > best_cs * 1.1) {
      best = r, best_cs = cs;
      *pw_out = pw, *gh_out = gh;
    }
  }
  return best;
}

void vz_stack_draw(vz_stack *st, vz_canvas *s) {
  int Wf = s->w, Hf = s->h, m = Wf >= 1000 ? 24 : 12;
  /* text grows with the frame: 13 px up to 720 px tall, 24 at 1440 */
  int px = Hf / 60 > 13 ? Hf / 60 : 13;
  if (px > 24) px = 24;
  int tpx = px * 3 / 2, lh = px + 6;
  vz_clear(s, VZ_BG);
  char t[300];
  snprintf(t, sizeof t, "%s", st->title[0] ? st->title : "viz.stack");
  vz_ellipsize(t, tpx, VZ_BOLD, Wf - 2 * m);
  vz_text(s, m, 8, t, tpx, VZ_BOLD, VZ_FG, VZ_LEFT);
  int y = 8 + tpx + 10;
  int empty = 0; /* the hovered cell reads no input cell at all */
  if (st->hl > 0) {
    int anyr = 0, anyc = 0;
    for (int64_t q = 0; q < st->H[0]; q++) anyr |= st->rset[0][q];
    for (int64_t q = 0; q < st->W[0]; q++) anyc |= st->cset[0][q];
    empty = !anyr || !anyc;
  }
  snprintf(t, sizeof t, "%s",
           empty ? "the hovered cell reads no input: only padding or "
                   "output_padding reach it"
           : st->hl >= 0 ? "highlighted: the hovered cell and its receptive "
                           "field in every earlier grid"
                         : "hover a cell: its receptive field in every "
                           "earlier grid · hatched: never read");
  vz_ellipsize(t, px, 0, Wf - 2 * m);
  vz_text(s, m, y, t, px, 0, VZ_DIM, VZ_LEFT);
  y += lh + 6;
  int ng = st->n + 1, head = 2 * lh + 4;
  lines ls;
  build_lines(st, &ls);
  int avail = Hf - y - 10;
  /* the grids' share of the height: what the lines leave, at least 2/5 */
  int gh_all = avail - ls.n * lh - 12 - head;
  if (gh_all < avail * 2 / 5) gh_all = avail * 2 / 5;
  double cap = 40.0 * px / 13, pw = (double)(Wf - 2 * m) / ng;
  int gh = gh_all;
  int rows = grid_rows(st, ng, Wf - 2 * m, gh_all + head + 8, head, cap, &pw,
                       &gh);
  int cols = (ng + rows - 1) / rows;
  double bottom = y;
  for (int j = 0; j < ng; j++) {
    int row = j / cols, col = j % cols;
    double x = m + col * pw;
    int ty = y + row * (gh + head + 8), gy = ty + head;
    double cs = slot_cs(st, j, pw, gh, cap);
    st->hit.gx[j] = x, st->hit.gy[j] = gy, st->hit.gcs[j] = cs;
    if (gy + cs * st->H[j] > bottom) bottom = gy + cs * st->H[j];
    if (j == 0) snprintf(t, sizeof t, "input");
    else snprintf(t, sizeof t, "L%d %s", j, short_op(st->op[j - 1]));
    vz_ellipsize(t, px, VZ_BOLD, (int)pw - 8);
    vz_text(s, (int)x, ty, t, px, VZ_BOLD, VZ_FG, VZ_LEFT);
    if (st->C[j])
      snprintf(t, sizeof t, "%lld×%lld×%lld", (long long)st->C[j],
               (long long)st->H[j], (long long)st->W[j]);
    else
      snprintf(t, sizeof t, "%lld×%lld", (long long)st->H[j],
               (long long)st->W[j]);
    vz_ellipsize(t, px, 0, (int)pw - 8);
    vz_text(s, (int)x, ty + lh, t, px, 0, VZ_DIM, VZ_LEFT);
    draw_grid(st, s, j, x, gy, cs);
  }
  int ty = (int)bottom + 12;
  int shown = (Hf - 10 - ty) / lh;
  if (shown < 0) shown = 0;
  for (int k = 0; k < ls.n && k < shown; k++) {
    if (k == shown - 1 && shown < ls.n)
      snprintf(t, sizeof t, "… %d more lines (s:state() has them all)",
               ls.n - k);
    else
      snprintf(t, sizeof t, "%s", ls.t[k]);
    vz_ellipsize(t, px, 0, Wf - 2 * m);
    vz_text(s, m, ty + k * lh, t, px, 0, ls.dim[k] ? VZ_DIM : VZ_FG,
            VZ_LEFT);
  }
}

int vz_stack_count(const vz_stack *st) { return st->n; }

void vz_stack_grid_get(const vz_stack *st, int j, vz_stack_grid *g) {
  *g = (vz_stack_grid){
      .C = st->C[j], .H = st->H[j], .W = st->W[j],
      .rset = st->rset[j], .cset = st->cset[j],
      .rread = j < st->n ? st->rread[j] : NULL,
      .cread = j < st->n ? st->cread[j] : NULL,
      .x = st->hit.gx[j], .y = st->hit.gy[j], .cs = st->hit.gcs[j],
      .op = j > 0 ? st->op[j - 1] : NULL,
      .transposed = j > 0 && st->l[j - 1].kind == CP_LAYER_CONVT};
}

int vz_stack_hovered(const vz_stack *st, int64_t *r, int64_t *c) {
  *r = st->hr;
  *c = st->hc;
  return st->hl;
}

void vz_stack_hits_get(const vz_stack *st, vz_stack_hits *hit) {
  *hit = st->hit;
}

void vz_stack_hits_set(vz_stack *st, const vz_stack_hits *hit) {
  st->hit = *hit;
}

void vz_stack_size(const vz_stack *st, int *width, int *height) {
  *width = st->width;
  *height = st->height;
}

const char *vz_stack_title(const vz_stack *st) { return st->title; }

void vz_stack_set_title(vz_stack *st, const char *title) {
  snprintf(st->title, sizeof st->title, "%s", title);
}
