/* view_code.c - the code panel: the PyTorch or Keras program of a view
 * (viz/code.h).  In a frame wide enough it takes a column of its own at
 * the right and the grids and the bottom lay out in the rest (room is
 * made by vz_view_draw); in a narrower one it is an opaque overlay
 * (layer 1) over all of them.
 *
 * Monospace, at the view's small font (never under VZ_MIN_PX).  A tensor
 * literal's rows move left together when that makes them fit; a line
 * whose code fits but whose comment does not has the comment cut with
 * "…"; a line wider than the box wraps onto at most two continuation rows
 * (under its first '(' or indented); what is still left is cut with "…".
 * When the lines do not all fit, the largest literals are folded onto
 * their first line, one at a time; then the last row says how many lines
 * are left: `c` copies all of it. */
#include <stdlib.h>
#include <string.h>

#include "viz/code.h"
#include "viz/compare.h"
#include "viz/draw.h"
#include "viz/view_priv.h"

#define WRAP_ROWS 3             /* rows one code line may take */
#define CODE_GAP 12             /* between the grids and the code column */
#define CODE_MIN_COLS 40        /* a column narrower than this: an overlay */
#define GRIDS_MIN_W 480         /* what the grids keep beside the column */

/* Bytes of the first n UTF-8 characters of t (or all of t). */
static size_t utf8_prefix(const char *t, size_t len, int n) {
  size_t i = 0;
  int k = 0;
  while (i < len) {
    if (((unsigned char)t[i] & 0xC0) != 0x80) {
      if (k == n) break;
      k++;
    }
    i++;
  }
  return i;
}

static int utf8_len(const char *t, size_t len) {
  int k = 0;
  for (size_t i = 0; i < len; i++) k += ((unsigned char)t[i] & 0xC0) != 0x80;
  return k;
}

/* A continuation row of a tensor literal: spaces, then '['. */
static int literal_row(const char *p) {
  int sp = 0;
  while (p[sp] == ' ') sp++;
  return sp >= 4 && p[sp] == '[';
}

/* The code as the panel shows it (malloc'ed): each tensor literal of more
 * than keep continuation rows folded onto its first line, and each base64
 * string cut, as
 * "head\x01tail" (the panel cuts head to fit and writes "…" before
 * tail).  The clipboard and v:code() get the whole text. */
static char *fold_code(const char *code, int keep) {
  /* a line grows by its mark (\x01) and perhaps a final newline */
  size_t n = strlen(code), lines = 1;
  for (const char *p = code; *p; p++) lines += *p == '\n';
  char *out = malloc(n + 2 * lines + 1), *o = out;
  if (!out) return NULL;
  for (const char *p = code; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    const char *next = e ? e + 1 : p + len;
    const char *b64 = memmem(p, len, "f32(\"", 5);
    int cont = 0; /* the literal's continuation rows */
    for (const char *r = next; *r && literal_row(r); cont++) {
      const char *le = strchr(r, '\n');
      r = le ? le + 1 : r + strlen(r);
    }
    if (cont > keep) {
      memcpy(o, p, len);
      o += len;
      *o++ = '\x01';
      /* skip the continuation rows; keep the last one's comment */
      const char *last = next;
      while (*next && literal_row(next)) {
        last = next;
        const char *le = strchr(next, '\n');
        next = le ? le + 1 : next + strlen(next);
      }
      size_t llen = (size_t)(next - last) - (next[-1] == '\n');
      const char *c = memmem(last, llen, "  # ", 4);
      if (c) {
        memcpy(o, c, llen - (size_t)(c - last));
        o += llen - (size_t)(c - last);
      }
    } else if (b64) {
      const char *q = memchr(b64 + 5, '"', len - (size_t)(b64 + 5 - p));
      size_t head = q ? (size_t)(q - p) : len;
      memcpy(o, p, head);
      o += head;
      *o++ = '\x01';
      memcpy(o, p + head, len - head);
      o += len - head;
    } else {
      memcpy(o, p, len);
      o += len;
    }
    *o++ = '\n';
    p = next;
  }
  *o = 0;
  return out;
}

/* The bytes of a line before its trailing comment ("  # ..."), or len when
 * it has none (a '#' inside a string is not looked for: the code has none
 * before its comments). */
static size_t code_part(const char *p, size_t len) {
  size_t lead = 0;
  while (lead < len && p[lead] == ' ') lead++;
  if (lead < len && p[lead] == '#') return len;
  const char *c = memmem(p, len, "  # ", 4);
  return c ? (size_t)(c - p) : len;
}

/* The code with each tensor literal's continuation rows moved left by the
 * same amount, as far as it takes for its widest row to fit in cols (at
 * least 4 spaces stay: the same Python, rows still aligned with each
 * other).  malloc'ed. */
static char *dedent_literals(const char *code, int cols) {
  size_t n = strlen(code);
  char *out = malloc(n + 1), *o = out;
  if (!out) return NULL;
  for (const char *p = code; *p;) {
    const char *e = strchr(p, '\n');
    const char *next = e ? e + 1 : p + strlen(p);
    memcpy(o, p, (size_t)(next - p));
    o += next - p;
    p = next;
    if (!*p || !literal_row(p)) continue;
    int need = 0, minsp = 1 << 30;
    const char *r = p;
    for (; *r && literal_row(r);) {
      const char *le = strchr(r, '\n');
      size_t len = le ? (size_t)(le - r) : strlen(r);
      int sp = 0;
      while (r[sp] == ' ') sp++;
      if (sp < minsp) minsp = sp;
      size_t cp = code_part(r, len); /* a comment may be cut: "  #…" */
      int w = utf8_len(r, cp) + (cp < len ? 4 : 0);
      if (w - cols > need) need = w - cols;
      r = le ? le + 1 : r + len;
    }
    int cut = need < minsp - 4 ? need : minsp - 4;
    for (const char *q = p; q < r;) {
      const char *le = strchr(q, '\n');
      const char *qn = le ? le + 1 : q + strlen(q);
      memcpy(o, q + cut, (size_t)(qn - q - cut));
      o += qn - q - cut;
      q = qn;
    }
    p = r;
  }
  *o = 0;
  return out;
}

/* A folded line at cols characters: head cut so that "…" and the tail
 * fit (the whole line cut when even that does not fit). */
static void unfold_row(char *row, size_t n, const char *line, size_t len,
                       int cols) {
  const char *m = memchr(line, '\x01', len);
  size_t hl = (size_t)(m - line), tl = len - hl - 1;
  int avail = cols - 1 - utf8_len(m + 1, tl);
  if (avail < 8) avail = cols - 1, tl = 0;
  size_t take = utf8_prefix(line, hl, avail);
  snprintf(row, n, "%.*s…%.*s", (int)take, line, (int)tl, m + 1);
}

/* Where the wrapped rows of a line start: under the character after its
 * first '(' (as Python continues a call), else two past its indent; a
 * comment's rows two in.  Never past half a row. */
static int wrap_indent(const char *p, size_t len, int cols) {
  size_t lead = 0;
  while (lead < len && p[lead] == ' ') lead++;
  int ind = (int)lead + 2;
  if (lead < len && p[lead] != '#') {
    const char *par = memchr(p, '(', len);
    if (par) ind = utf8_len(p, (size_t)(par - p)) + 1;
  }
  if (ind > cols / 2) ind = (int)lead + 2 <= cols / 2 ? (int)lead + 2 : 2;
  return ind;
}

static int draw_line(vz_canvas *s, const char *p, size_t len, int tx, int ty,
                     int bottom, int tw, int cols, int cw, int lh, int px,
                     vz_color col);

/* Rows the text takes at cols per row: draw_line's, measured (s NULL). */
static int text_rows(const char *t, int cols) {
  int ty = 0;
  for (const char *p = t; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    ty = draw_line(NULL, p, len, 0, ty, 1 << 30, 0, cols, 0, 1, 0, VZ_FG);
    p += len;
    if (*p) p++;
  }
  return ty;
}

static int text_lines(const char *t) {
  int n = 0;
  for (const char *p = t; *p; n++) {
    const char *e = strchr(p, '\n');
    p = e ? e + 1 : p + strlen(p);
  }
  return n;
}

/* One code line from row ty on, wrapped (or folded); returns the new ty.
 * A line whose code fits but whose comment does not keeps its code whole
 * and cuts the comment with "…".  A row breaks after a space, the one
 * least deep in parentheses.  s NULL: only measured. */
static int draw_line(vz_canvas *s, const char *p, size_t len, int tx, int ty,
                     int bottom, int tw, int cols, int cw, int lh, int px,
                     vz_color col) {
  char row[1024];
  if (len == 0) return ty + lh;
  size_t lead = 0;
  while (lead < len && p[lead] == ' ') lead++;
  int comment = lead < len && p[lead] == '#'; /* a whole-line comment */
  if (memchr(p, '\x01', len)) {
    if (!s) return ty + lh;
    unfold_row(row, sizeof row, p, len, cols);
    vz_ellipsize(row, px, VZ_MONO, tw);
    vz_text(s, tx, ty, row, px, VZ_MONO, col, VZ_LEFT);
    return ty + lh;
  }
  size_t cp = code_part(p, len);
  if (utf8_len(p, len) > cols && cp < len && utf8_len(p, cp) + 4 <= cols) {
    if (!s) return ty + lh;
    size_t take = utf8_prefix(p, len, cols - 1);
    if (take > sizeof row - 4) take = sizeof row - 4;
    memcpy(row, p, take);
    row[take] = 0;
    strcat(row, "…");
    vz_ellipsize(row, px, VZ_MONO, tw); /* a safety net */
    vz_text(s, tx, ty, row, px, VZ_MONO, col, VZ_LEFT);
    return ty + lh;
  }
  int wind = wrap_indent(p, len, cols);
  const char *q = p;
  size_t qlen = len;
  for (int r = 0; qlen > 0 && ty + lh <= bottom; r++) {
    int indent = r ? wind : 0, n = cols - indent;
    int last = r == WRAP_ROWS - 1 || ty + 2 * lh > bottom;
    if (r) /* a wrapped row starts at its first non-space */
      while (qlen > 0 && *q == ' ') q++, qlen--;
    int more = utf8_len(q, qlen) > n;
    size_t take = utf8_prefix(q, qlen, last && more ? n - 1 : n);
    if (!last && take < qlen) { /* break after a space when there is one */
      size_t best = 0;
      int depth = 0, bd = 1 << 30;
      for (size_t k = 0; k < take; k++) {
        depth += (q[k] == '(' || q[k] == '[') - (q[k] == ')' || q[k] == ']');
        if (q[k] == ' ' && k + 1 > take / 3 && depth <= bd) best = k + 1, bd = depth;
      }
      if (best) take = best;
    }
    if (take > sizeof row - 4) take = sizeof row - 4;
    memcpy(row, q, take);
    row[take] = 0;
    if (last && more) strcat(row, "…"); /* the rest is not shown */
    if (s) vz_ellipsize(row, px, VZ_MONO, tw - indent * cw); /* a safety net */
    if (s && *row)
      vz_text(s, tx + indent * cw, ty, row, px, VZ_MONO,
              comment ? VZ_DIM : col, VZ_LEFT);
    ty += lh;
    q += take;
    qlen -= take;
    if (last) break;
  }
  return ty;
}

void vz_view_code_draw(vz_canvas *s, vz_view *v, int x, int y, int w, int h,
                       int shrink) {
  int px = v->fsm > VZ_MIN_PX ? v->fsm : VZ_MIN_PX;
  int lh, cw, th;
  vz_text_size("Ag", px, VZ_MONO, NULL, &lh);
  vz_text_size("0", px, VZ_MONO, &cw, NULL);
  int pad = px / 2 + 2, head = lh + 2 + lh / 3;
  if (w < 12 * cw + 2 * pad || h < 3 * lh + 2 * pad) return;
  vz_code_lang lang = v->code == 2 ? VZ_CODE_KERAS : VZ_CODE_PYTORCH;
  int expressible = 1;
  char *code = vz_code(v, lang, &expressible);
  int tw = w - 2 * pad, cols = tw / cw;
  int avail = (h - 2 * pad - head) / lh, rows = 2;
  if (code && expressible) {
    /* the whole text when it fits, else the largest tensors folded, as
     * many as it takes */
    char *dd = dedent_literals(code, cols);
    if (dd) {
      free(code);
      code = dd;
    }
    rows = text_rows(code, cols);
    for (int keep = 64; rows > avail && keep >= 0; keep--) {
      char *folded = fold_code(code, keep);
      if (!folded) break;
      int fr = text_rows(folded, cols);
      if (fr <= avail || keep == 0) {
        free(code);
        code = folded;
        rows = fr;
        break;
      }
      free(folded);
    }
  } else if (code) {
    int pw;
    vz_text_size(code, px, VZ_SANS, &pw, NULL);
    rows = pw / (tw > 1 ? tw : 1) + 2;
  }
  /* in a column of its own: as tall as its text, unless that would leave
   * a sliver below (an overlay covers all it is given) */
  int need = 2 * pad + head + rows * lh;
  if (shrink && rows < avail && h - need >= h / 3) h = need;
  vz_fill(s, x, y, w, h, VZ_PANEL);
  vz_frame(s, x, y, w, h, 1.5, VZ_ACCENT);
  vz_panel_box(s, "code", x, y, w, h);
  int *ov = v->overlay[0];
  ov[0] = x, ov[1] = y, ov[2] = w, ov[3] = h;
  /* title row: clickable chips (language, copy, close), then the keys */
  int tx = x + pad, ty = y + pad;
  static const char *const chips[4] = {"PyTorch", "Keras", "copy", "close"};
  int cx = tx, cp = px / 2, chh = lh + 2;
  memset(v->code_btn, 0, sizeof v->code_btn);
  for (int i = 0; i < 4; i++) {
    int sel = i == (int)lang, st = VZ_SANS | (sel ? VZ_BOLD : 0);
    vz_text_size(chips[i], px, st, &th, NULL);
    if (cx + th + 2 * cp > tx + tw) break;
    vz_frame(s, cx, ty, th + 2 * cp, chh, sel ? 2 : 1,
             sel ? VZ_ACCENT : VZ_GRIDLINE);
    vz_text(s, cx + cp, ty + 1, chips[i], px, st, sel ? VZ_ACCENT : VZ_FG,
            VZ_LEFT);
    int *r = v->code_btn[i];
    r[0] = cx, r[1] = ty, r[2] = th + 2 * cp, r[3] = chh;
    cx += th + 2 * cp + cp;
  }
  char keys[96];
  snprintf(keys, sizeof keys, "c copies · C %s · v:code()",
           lang == VZ_CODE_KERAS ? "hides" : "Keras");
  int kx = cx + cp;
  if (tx + tw - kx > 6 * cw) {
    vz_ellipsize(keys, px, VZ_SANS, tx + tw - kx);
    vz_text(s, kx, ty + 1, keys, px, VZ_SANS, VZ_DIM, VZ_LEFT);
  }
  ty += head;
  int bottom = y + h - pad;
  if (!code) {
    vz_text(s, tx, ty, "out of memory", px, VZ_MONO, VZ_ERRC, VZ_LEFT);
    return;
  }
  if (!expressible) { /* one sentence: a wrapped paragraph */
    vz_para(s, tx, ty, tw, bottom - ty, code, px, VZ_SANS, VZ_ERRC);
    free(code);
    return;
  }
  int total = text_lines(code), line = 0;
  for (const char *p = code; *p && ty + lh <= bottom; line++) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    int left = total - line;
    if (ty + 2 * lh > bottom && left > 1) {
      /* the last row of the box: say what is left instead */
      char row[96];
      snprintf(row, sizeof row, "… %d more lines (c copies all)", left);
      vz_ellipsize(row, px, VZ_MONO, tw);
      vz_text(s, tx, ty, row, px, VZ_MONO, VZ_DIM, VZ_LEFT);
      break;
    }
    ty = draw_line(s, p, len, tx, ty, bottom, tw, cols, cw, lh, px, VZ_FG);
    p += len;
    if (*p == '\n') p++;
  }
  free(code);
}

/* ====================================================================== */
/* Clicks on the overlays                                                  */
/* ====================================================================== */

static int inside(const int *r, int x, int y) {
  return r[2] > 0 && x >= r[0] && y >= r[1] && x < r[0] + r[2] &&
         y < r[1] + r[3];
}

int vz_view_in_overlay(const vz_view *v, int x, int y) {
  return (v->code && inside(v->overlay[0], x, y)) ||
         (v->compare && inside(v->overlay[1], x, y));
}

int vz_view_overlay_click(vz_view *v, int x, int y) {
  if (!vz_view_in_overlay(v, x, y)) return 0;
  if (v->code && inside(v->overlay[0], x, y)) {
    if (inside(v->code_btn[0], x, y)) v->code = 1;
    else if (inside(v->code_btn[1], x, y)) v->code = 2;
    else if (inside(v->code_btn[2], x, y)) vz_code_copy(v);
    else if (inside(v->code_btn[3], x, y)) v->code = 0;
    return 1;
  }
  vz_view_compare_click(v, x, y);
  return 1; /* nothing under an overlay is clicked through it */
}

/* ====================================================================== */
/* Where the overlays go                                                   */
/* ====================================================================== */

/* Characters of the widest line of code, base64 lines left out (the panel
 * cuts those); at most cap. */
static int widest_cols(const char *code, int cap) {
  int best = 0;
  for (const char *p = code; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (!memmem(p, len, "f32(\"", 5)) {
      int n = utf8_len(p, len);
      if (n > best) best = n;
    }
    p += len;
    if (*p) p++;
  }
  return best < cap ? best : cap;
}


int vz_view_code_room(vz_view *v, int W, int H) {
  (void)H;
  if (!v->code || W < GRIDS_MIN_W + CODE_GAP) return 0;
  int px = v->fsm > VZ_MIN_PX ? v->fsm : VZ_MIN_PX, cw;
  vz_text_size("0", px, VZ_MONO, &cw, NULL);
  int pad = px / 2 + 2, cols = 64;
  int expressible = 1;
  char *code = vz_code(v, v->code == 2 ? VZ_CODE_KERAS : VZ_CODE_PYTORCH,
                       &expressible);
  if (code && expressible) cols = widest_cols(code, 100) + 1;
  free(code);
  if (cols < 56) cols = 56; /* room for the title row's chips and keys */
  int want = cols * cw + 2 * pad + CODE_GAP;
  int most = W * 2 / 5; /* the grids keep three fifths */
  if (W - most < GRIDS_MIN_W) most = W - GRIDS_MIN_W;
  if (want > most) want = most;
  if (want - CODE_GAP - 2 * pad < CODE_MIN_COLS * cw) return 0;
  return want;
}

void vz_view_overlays_draw(vz_canvas *s, vz_view *v, int px, int py, int pw,
                           int ph, int bx, int by, int bw, int bh) {
  memset(v->overlay, 0, sizeof v->overlay); /* the panels set theirs */
  memset(v->cmp, 0, sizeof v->cmp);
  if (v->compare && v->ok) { /* both results over the grids, the frame's
                                * whole width (as the code overlay) */
    int cx = (px < bx || bh <= 0 ? px : bx) / 2;
    int room = vz_view_code_room(v, s->w, s->h); /* beside the code column */
    int r = room > 0 ? px + pw + (CODE_GAP + cx) / 2 : s->w - cx;
    vz_view_compare_draw(s, v, cx, py, r - cx, ph);
  }
  if (!v->code) return;
  int room = vz_view_code_room(v, s->w, s->h);
  int bottom = bh > 0 ? by + bh : py + ph;
  if (room > 0) {
    /* a column of its own at the right: the grids and the bottom were
     * laid out in the rest (vz_view_draw) */
    int r = (bx + bw > px + pw ? bx + bw : px + pw) + room;
    vz_view_code_draw(s, v, r - room + CODE_GAP, py, room - CODE_GAP,
                      bottom - py, 1);
    return;
  }
  /* too narrow for both: opaque over the grids and the bottom, the
   * frame's whole width (a label running past its panel stays under it),
   * as an overlay (layer 1) */
  int x = (px < bx || bh <= 0 ? px : bx) / 2;
  int old = s->layer;
  s->layer = 1;
  vz_view_code_draw(s, v, x, py, s->w - 2 * x, bottom - py, 0);
  s->layer = old;
}
