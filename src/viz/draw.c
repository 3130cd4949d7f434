/* draw.c - drawing with Cairo and Pango: themes, shapes, text, colour
 * scales, PNG / SVG / PDF / GIF output.  See draw.h. */
#include "viz/draw.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <gif_lib.h>
#include <pango/pangocairo.h>

#include "viz/save.h"

#define CR(s) ((cairo_t *)(s)->cr)

/* ====================================================================== */
/* Themes and palettes                                                     */
/* ====================================================================== */

static const vz_theme dark = {
    "dark",
    {24, 26, 31, 255},    {34, 37, 44, 255},    {228, 231, 235, 255},
    {160, 166, 176, 255}, {60, 64, 72, 255},    {255, 196, 0, 255},
    {0, 220, 140, 255},   {255, 0, 255, 255},   {255, 95, 95, 255},
    {44, 47, 56, 255},    {38, 40, 46, 255},    {36, 38, 44, 255},
    {180, 120, 255, 255}, {40, 43, 51, 255},    {30, 16, 18, 255},
    {24, 26, 31, 150}};
static const vz_theme light = {
    "light",
    {255, 255, 255, 255}, {244, 245, 247, 255}, {24, 26, 31, 255},
    {88, 94, 104, 255},   {200, 204, 210, 255}, {214, 140, 0, 255},
    {0, 150, 90, 255},    {200, 0, 200, 255},   {190, 20, 30, 255},
    {228, 230, 234, 255}, {236, 237, 240, 255}, {236, 237, 240, 255},
    {130, 60, 210, 255},  {236, 238, 242, 255}, {253, 236, 236, 255},
    {255, 255, 255, 150}};

const vz_theme *vz_th = &dark;

const char *vz_set_theme(const char *name) {
  const char *old = vz_th->name;
  if (!strcmp(name, "dark")) vz_th = &dark;
  else if (!strcmp(name, "light")) vz_th = &light;
  else return NULL;
  return old;
}

/* Diverging palettes: negative end, neutral zero, positive end.  The zero
 * of the dark theme is a mid grey (white would glare on the dark panels);
 * on the light theme it is a light grey. */
typedef struct palette {
  const char *name;
  uint8_t dark[5][3], light[5][3];
} palette;
static const palette palettes[] = {
    {"default",
     {{40, 110, 220}, {72, 112, 168}, {96, 100, 108}, {176, 96, 80},
      {236, 84, 56}},
     {{33, 102, 172}, {120, 170, 214}, {232, 232, 232}, {232, 150, 120},
      {178, 24, 43}}},
    /* cividis runs dark blue - grey - yellow: readable with every common
     * colour-vision deficiency */
    {"cividis",
     {{0, 34, 78}, {64, 77, 108}, {124, 123, 120}, {190, 175, 111},
      {254, 232, 56}},
     {{0, 34, 78}, {64, 77, 108}, {124, 123, 120}, {190, 175, 111},
      {254, 232, 56}}},
};
static const palette *pal = &palettes[0];

const char *vz_set_palette(const char *name) {
  for (size_t i = 0; i < sizeof palettes / sizeof palettes[0]; i++)
    if (!strcmp(name, palettes[i].name)) {
      const char *old = pal->name;
      pal = &palettes[i];
      return old;
    }
  return NULL;
}
const char *vz_palette_name(void) { return pal->name; }

vz_color vz_accent(void) {
  /* cividis ends in yellow: the footprint turns orange-red there */
  if (pal != &palettes[0])
    return vz_th == &light ? VZ_RGB(214, 60, 20) : VZ_RGB(255, 96, 48);
  return vz_th->accent;
}

/* ====================================================================== */
/* Fonts and a cache of text layouts                                       */
/* ====================================================================== */

#define FONT_MIN 6
#define FONT_MAX 96
static PangoContext *pctx;

/* Shaping text is the slowest thing a frame does; a grid repeats the same
 * few strings.  A direct-mapped cache of layouts keyed by (text, size,
 * style) makes redraws cheap; colour is applied when drawing. */
#define TCACHE 4096
typedef struct tentry {
  char *text;                 /* owned copy, NULL if slot empty */
  int px, style;              /* font */
  PangoLayout *lay;           /* the shaped text (owned) */
  int w, h;                   /* logical size in pixels */
} tentry;
static tentry tcache[TCACHE];

static void tcache_clear(void) {
  for (int i = 0; i < TCACHE; i++) {
    free(tcache[i].text);
    if (tcache[i].lay) g_object_unref(tcache[i].lay);
    memset(&tcache[i], 0, sizeof tcache[i]);
  }
}

static void quit_at_exit(void);

int vz_init(char *err, size_t n) {
  if (pctx) return 0;
  static const char *paths[] = {
      "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    if (access(paths[i], R_OK) != 0) {
      snprintf(err, n,
               "font %s not found (install the Debian package "
               "fonts-dejavu-core)",
               paths[i]);
      return -1;
    }
  static int registered;
  if (!registered) registered = atexit(quit_at_exit) == 0;
  PangoFontMap *fm = pango_cairo_font_map_get_default();
  pctx = fm ? pango_font_map_create_context(fm) : NULL;
  if (!pctx) {
    snprintf(err, n, "Pango: cannot create a text context");
    return -1;
  }
  /* Grey antialiasing and unhinted metrics: the same text measures the
   * same in a window, a PNG, an SVG and a PDF. */
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
  pango_cairo_context_set_font_options(pctx, fo);
  cairo_font_options_destroy(fo);
  pango_cairo_context_set_resolution(pctx, 96);
  return 0;
}

void vz_quit(void) {
  tcache_clear();
  if (pctx) g_object_unref(pctx);
  pctx = NULL;
}

/* At exit: drop the text stack's process-wide caches too (the font map),
 * so that a leak checker sees only real leaks.  Nothing draws after this.
 * Not FcFini(): a font map another thread made (the lab's worker renders
 * text) still holds fontconfig's caches, and FcFini then aborts in
 * FcCacheFini's assertion -- about one exit in two after viz.lab(); the
 * leak checker is told about fontconfig in tests/lsan.supp instead. */
static void quit_at_exit(void) {
  vz_quit();
  pango_cairo_font_map_set_default(NULL);
}

static uint32_t hash_text(const char *s, int px, int style) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  h = (h ^ (uint32_t)px) * 16777619u;
  return (h ^ (uint32_t)style) * 16777619u;
}

/* The font of a style (VZ_MONO / VZ_BOLD / VZ_SANS) at px pixels. */
static void set_font(PangoLayout *lay, int px, int style) {
  PangoFontDescription *fd = pango_font_description_new();
  pango_font_description_set_family_static(
      fd, style & VZ_SANS ? "DejaVu Sans" : "DejaVu Sans Mono");
  pango_font_description_set_weight(
      fd, style & VZ_BOLD ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_absolute_size(fd, px * PANGO_SCALE);
  pango_layout_set_font_description(lay, fd);
  pango_font_description_free(fd);
}

/* The cached layout of a string, or NULL. */
static tentry *layout_of(const char *s, int px, int style) {
  if (!s || !*s) return NULL;
  if (!pctx) {
    char err[256];
    if (vz_init(err, sizeof err)) return NULL;
  }
  if (px < FONT_MIN) px = FONT_MIN;
  if (px > FONT_MAX) px = FONT_MAX;
  tentry *t = &tcache[hash_text(s, px, style) % TCACHE];
  if (t->text && t->px == px && t->style == style && strcmp(t->text, s) == 0)
    return t;
  PangoLayout *lay = pango_layout_new(pctx);
  if (!lay) return NULL;
  set_font(lay, px, style);
  pango_layout_set_text(lay, s, -1);
  char *copy = strdup(s);
  if (!copy) {
    g_object_unref(lay);
    return NULL;
  }
  free(t->text);
  if (t->lay) g_object_unref(t->lay);
  t->text = copy;
  t->px = px;
  t->style = style;
  t->lay = lay;
  PangoRectangle log;
  pango_layout_get_pixel_extents(lay, NULL, &log);
  t->w = log.width;
  t->h = log.height;
  return t;
}

void vz_text_size(const char *s, int px, int style, int *w, int *h) {
  tentry *t = layout_of(s && *s ? s : " ", px, style);
  if (w) *w = t && s && *s ? t->w : 0;
  if (h) *h = t ? t->h : px;
}

int vz_fit_text(const char *utf8, int px, int style, int w, int h) {
  for (; px >= VZ_MIN_PX; px--) {
    int tw, th;
    vz_text_size(utf8, px, style, &tw, &th);
    if (tw <= w && th * 3 / 4 <= h) return px;
  }
  return 0;
}

int vz_ellipsize(char *t, int px, int style, int w) {
  int tw;
  vz_text_size(t, px, style, &tw, NULL);
  if (tw <= w) return 0;
  size_t len = strlen(t);
  char *buf = malloc(len + 4);
  if (!buf) {
    t[0] = 0;
    return 1;
  }
  /* binary search on the character count that fits with the ellipsis */
  size_t lo = 0, hi = len;
  while (lo < hi) {
    size_t mid = (lo + hi + 1) / 2;
    while (mid > 0 && ((unsigned char)t[mid] & 0xC0) == 0x80) mid--;
    if (mid <= lo) break;
    memcpy(buf, t, mid);
    memcpy(buf + mid, "…", 4);
    vz_text_size(buf, px, style, &tw, NULL);
    if (tw <= w) lo = mid;
    else hi = mid - 1;
  }
  while (lo > 0 && ((unsigned char)t[lo] & 0xC0) == 0x80) lo--;
  while (lo > 0 && t[lo - 1] == ' ') lo--;
  memcpy(t + lo, "…", 4);
  free(buf);
  return 1;
}

/* ====================================================================== */
/* Canvases and recorded boxes                                             */
/* ====================================================================== */

static vz_canvas *canvas_wrap(cairo_surface_t *surf, int w, int h,
                              int vector) {
  vz_canvas *c = calloc(1, sizeof *c);
  cairo_t *cr = cairo_create(surf);
  if (!c || cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
    free(c);
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    return NULL;
  }
  c->w = w;
  c->h = h;
  c->cr = cr;
  c->surf = surf;
  c->vector = vector;
  return c;
}

vz_canvas *vz_canvas_new(int w, int h) {
  if (w < 1) w = 1;
  if (h < 1) h = 1;
  if (w > 16384 || h > 16384) return NULL;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return NULL;
  }
  return canvas_wrap(s, w, h, 0);
}

static cairo_status_t stream_write(void *closure, const unsigned char *data,
                                   unsigned int len) {
  return vz_save_write(closure, data, len) ? CAIRO_STATUS_WRITE_ERROR
                                           : CAIRO_STATUS_SUCCESS;
}

typedef struct vector_out {
  vz_save *save;              /* the file being written */
} vector_out;

vz_canvas *vz_canvas_vector(const char *path, int w, int h, char *err,
                            size_t n) {
  const char *dot = strrchr(path, '.');
  int svg = dot && !strcasecmp(dot, ".svg"), pdf = dot && !strcasecmp(dot, ".pdf");
  if (!svg && !pdf) {
    snprintf(err, n, "'%s': a vector figure is .svg or .pdf", path);
    return NULL;
  }
  vz_save *sv = vz_save_begin(path, err, n);
  if (!sv) return NULL;
  cairo_surface_t *s =
      svg ? cairo_svg_surface_create_for_stream(stream_write, sv, w, h)
          : cairo_pdf_surface_create_for_stream(stream_write, sv, w, h);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    snprintf(err, n, "cannot create %s: %s", path,
             cairo_status_to_string(cairo_surface_status(s)));
    cairo_surface_destroy(s);
    vz_save_abort(sv);
    return NULL;
  }
  if (svg) cairo_svg_surface_restrict_to_version(s, CAIRO_SVG_VERSION_1_1);
  cairo_surface_set_user_data(s, (const cairo_user_data_key_t *)&vz_canvas_vector,
                              sv, NULL);
  vz_canvas *c = canvas_wrap(s, w, h, 1);
  if (!c) {
    vz_save_abort(sv);
    snprintf(err, n, "out of memory");
  }
  return c;
}

static vz_save *vector_save(vz_canvas *c) {
  if (!c->vector) return NULL;
  return cairo_surface_get_user_data(
      c->surf, (const cairo_user_data_key_t *)&vz_canvas_vector);
}

int vz_canvas_finish(vz_canvas *c, char *err, size_t n) {
  vz_save *sv = vector_save(c);
  if (!sv) return 0;
  cairo_destroy(CR(c));
  c->cr = NULL;
  cairo_surface_finish(c->surf);
  cairo_status_t st = cairo_surface_status(c->surf);
  cairo_surface_set_user_data(
      c->surf, (const cairo_user_data_key_t *)&vz_canvas_vector, NULL, NULL);
  if (st != CAIRO_STATUS_SUCCESS) {
    if (!vz_save_error(sv, err, n)) /* the disk's reason, when it was */
      snprintf(err, n, "cannot write the figure: %s",
               cairo_status_to_string(st));
    vz_save_abort(sv);
    return -1;
  }
  return vz_save_commit(sv, err, n);
}

void vz_canvas_free(vz_canvas *c) {
  if (!c) return;
  vz_save *sv = vector_save(c);
  if (c->cr) cairo_destroy(CR(c));
  if (sv) { /* never finished: discard the file */
    cairo_surface_set_user_data(
        c->surf, (const cairo_user_data_key_t *)&vz_canvas_vector, NULL,
        NULL);
    cairo_surface_finish(c->surf);
    vz_save_abort(sv);
  }
  cairo_surface_destroy(c->surf);
  vz_canvas_reset_boxes(c);
  free(c->boxes);
  free(c);
}

uint32_t *vz_canvas_pixels(vz_canvas *c, int *stride) {
  if (c->vector) return NULL;
  cairo_surface_flush(c->surf);
  if (stride) *stride = cairo_image_surface_get_stride(c->surf) / 4;
  return (uint32_t *)cairo_image_surface_get_data(c->surf);
}

void vz_canvas_dirty(vz_canvas *c) {
  if (!c->vector) cairo_surface_mark_dirty(c->surf);
}

void vz_canvas_reset_boxes(vz_canvas *c) {
  for (int i = 0; i < c->nbox; i++) free(c->boxes[i].text);
  c->nbox = 0;
}

static vz_box *add_box(vz_canvas *c, int kind, double x, double y, double w,
                       double h) {
  if (c->nbox == c->capbox) {
    int cap = c->capbox ? c->capbox * 2 : 64;
    vz_box *nb = realloc(c->boxes, sizeof *nb * (size_t)cap);
    if (!nb) return NULL;
    c->boxes = nb;
    c->capbox = cap;
  }
  vz_box *b = &c->boxes[c->nbox++];
  memset(b, 0, sizeof *b);
  b->kind = kind;
  b->layer = c->layer;
  b->x = x;
  b->y = y;
  b->w = w;
  b->h = h;
  return b;
}

void vz_panel_box(vz_canvas *c, const char *name, int x, int y, int w,
                  int h) {
  vz_box *b = add_box(c, VZ_BOX_PANEL, x, y, w, h);
  if (b) b->name = name;
}

/* ====================================================================== */
/* Shapes                                                                  */
/* ====================================================================== */

static void source(cairo_t *cr, vz_color c) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0,
                        c.a / 255.0);
}

void vz_clear(vz_canvas *s, vz_color c) {
  cairo_t *cr = CR(s);
  cairo_save(cr);
  cairo_reset_clip(cr);
  cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
  source(cr, c);
  cairo_paint(cr);
  cairo_restore(cr);
  s->clips = 0;
  s->layer = 0;
  vz_canvas_reset_boxes(s); /* a cleared canvas is a new frame */
}

void vz_fill(vz_canvas *s, double x, double y, double w, double h,
             vz_color c) {
  if (!(w > 0 && h > 0) || c.a == 0) return;
  cairo_t *cr = CR(s);
  source(cr, c);
  cairo_rectangle(cr, x, y, w, h);
  cairo_fill(cr);
}

void vz_frame(vz_canvas *s, double x, double y, double w, double h, double t,
              vz_color c) {
  if (t * 2 >= w || t * 2 >= h) {
    vz_fill(s, x, y, w, h, c);
    return;
  }
  cairo_t *cr = CR(s);
  source(cr, c);
  cairo_set_line_width(cr, t);
  cairo_set_dash(cr, NULL, 0, 0);
  cairo_rectangle(cr, x + t / 2, y + t / 2, w - t, h - t);
  cairo_stroke(cr);
}

void vz_line(vz_canvas *s, double x0, double y0, double x1, double y1,
             double t, vz_color c) {
  cairo_t *cr = CR(s);
  source(cr, c);
  cairo_set_line_width(cr, t < 0.5 ? 0.5 : t);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_dash(cr, NULL, 0, 0);
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, x1, y1);
  cairo_stroke(cr);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
}

void vz_dashed(vz_canvas *s, double x, double y, double w, double h,
               double dl, vz_color c) {
  if (dl < 1) dl = 1;
  cairo_t *cr = CR(s);
  source(cr, c);
  cairo_set_line_width(cr, 1);
  cairo_set_dash(cr, &dl, 1, 0);
  cairo_rectangle(cr, x + 0.5, y + 0.5, w - 1, h - 1);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);
}

void vz_disc(vz_canvas *s, double cx, double cy, double r, vz_color c) {
  cairo_t *cr = CR(s);
  source(cr, c);
  cairo_new_sub_path(cr);
  cairo_arc(cr, cx, cy, r, 0, 2 * M_PI);
  cairo_fill(cr);
}

void vz_clip(vz_canvas *s, int x, int y, int w, int h) {
  cairo_t *cr = CR(s);
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w > 0 ? w : 0, h > 0 ? h : 0);
  cairo_clip(cr);
  s->clips++;
}

void vz_unclip(vz_canvas *s) {
  if (s->clips <= 0) return;
  cairo_restore(CR(s));
  s->clips--;
}

void vz_image(vz_canvas *s, const uint32_t *argb, int w, int h, int stride,
              double x, double y, double dw, double dh, int smooth) {
  if (w <= 0 || h <= 0 || !(dw > 0) || !(dh > 0)) return;
  cairo_surface_t *img = cairo_image_surface_create_for_data(
      (unsigned char *)argb, CAIRO_FORMAT_RGB24, w, h, stride * 4);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return;
  }
  cairo_t *cr = CR(s);
  cairo_save(cr);
  cairo_rectangle(cr, x, y, dw, dh);
  cairo_clip(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, dw / w, dh / h);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr),
                           smooth ? CAIRO_FILTER_GOOD : CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

vz_color vz_pixel(vz_canvas *s, int x, int y) {
  vz_color c = {0, 0, 0, 255};
  int stride;
  uint32_t *px = vz_canvas_pixels(s, &stride);
  if (!px || x < 0 || y < 0 || x >= s->w || y >= s->h) return c;
  uint32_t p = px[(size_t)y * stride + x];
  c.r = (uint8_t)(p >> 16);
  c.g = (uint8_t)(p >> 8);
  c.b = (uint8_t)p;
  return c;
}

/* ====================================================================== */
/* Text                                                                    */
/* ====================================================================== */

static void show(vz_canvas *s, tentry *t, double x, double y, vz_color c) {
  cairo_t *cr = CR(s);
  source(cr, c);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, t->lay);
}

int vz_text(vz_canvas *s, int x, int y, const char *utf8, int px, int style,
            vz_color c, int align) {
  tentry *t = layout_of(utf8, px, style);
  if (!t) return 0;
  double dx = x;
  if (align == VZ_CENTER) dx -= t->w / 2;
  else if (align == VZ_RIGHT) dx -= t->w;
  show(s, t, dx, y, c);
  vz_box *b = add_box(s, VZ_BOX_TEXT, dx, y, t->w, t->h);
  if (b) {
    b->text = strdup(utf8);
    b->fg = c;
    b->px = t->px;
  }
  return t->w;
}

/* The text an ellipsized paragraph shows: its lines but the last as they
 * are, the last cut to the width with "…" as Pango cut it (a new string). */
static char *shown_text(PangoLayout *lay, const char *utf8, int px, int style,
                        int w) {
  int n = pango_layout_get_line_count(lay);
  PangoLayoutLine *last = pango_layout_get_line_readonly(lay, n - 1);
  size_t head = last ? (size_t)last->start_index : 0, len = strlen(utf8);
  if (head > len) head = len;
  char *t = malloc(len + 8);
  if (!t) return NULL;
  memcpy(t, utf8, len + 1);
  vz_ellipsize(t + head, px, style, w);
  if (!strstr(t + head, "…")) { /* Pango cut it where we did not */
    size_t l = strlen(t);
    memcpy(t + l, "…", sizeof "…");
  }
  return t;
}

/* A layout of utf8 wrapped to w pixels, no height limit (NULL when Pango
 * cannot make one). */
static PangoLayout *para_layout(const char *utf8, int px, int style, int w) {
  if (!pctx) {
    char err[256];
    if (vz_init(err, sizeof err)) return NULL;
  }
  PangoLayout *lay = pango_layout_new(pctx);
  if (!lay) return NULL;
  set_font(lay, px, style);
  pango_layout_set_text(lay, utf8, -1);
  pango_layout_set_width(lay, w * PANGO_SCALE);
  pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_height(lay, -1);
  return lay;
}

int vz_para(vz_canvas *s, int x, int y, int w, int maxh, const char *utf8,
            int px, int style, vz_color c) {
  if (!utf8 || !*utf8 || w <= 0 || maxh <= 0) return 0;
  PangoLayout *lay = para_layout(utf8, px, style, w);
  if (!lay) return 0;
  /* the lines that fit in maxh; the last one shown ends in "…" */
  int lh;
  vz_text_size("Ag", px, style, NULL, &lh);
  int lines = lh > 0 ? maxh / lh : 1;
  if (lines < 1) { /* not even one line fits: nothing is drawn */
    g_object_unref(lay);
    return 0;
  }
  if (pango_layout_get_line_count(lay) > lines) {
    pango_layout_set_height(lay, -lines);
    pango_layout_set_ellipsize(lay, PANGO_ELLIPSIZE_END);
  }
  PangoRectangle log;
  pango_layout_get_pixel_extents(lay, NULL, &log);
  cairo_t *cr = CR(s);
  source(cr, c);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, lay);
  vz_box *b = add_box(s, VZ_BOX_TEXT, x + log.x, y, log.width, log.height);
  if (b) {
    /* the text as drawn: when the last line was cut, the box says so */
    b->text = pango_layout_is_ellipsized(lay) ? shown_text(lay, utf8, px,
                                                           style, w)
                                              : strdup(utf8);
    b->fg = c;
    b->px = px;
  }
  g_object_unref(lay);
  return log.height;
}

int vz_para_lines(const char *utf8, int px, int style, int w) {
  if (!utf8 || !*utf8 || w <= 0) return 0;
  PangoLayout *lay = para_layout(utf8, px, style, w);
  if (!lay) return 0;
  int n = pango_layout_get_line_count(lay);
  g_object_unref(lay);
  return n;
}

void vz_text_box(vz_canvas *s, int x, int y, int w, int h, const char *utf8,
                 int px, int style, vz_color c, vz_color bg) {
  tentry *t = layout_of(utf8, px, style);
  if (!t) return;
  double dx = x + (w - t->w) / 2.0, dy = y + (h - t->h) / 2.0;
  cairo_t *cr = CR(s);
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  show(s, t, dx, dy, c);
  cairo_restore(cr);
  /* the box recorded is the part of the text inside the cell */
  double bx = dx < x ? x : dx, by = dy < y ? y : dy;
  double bw = (dx + t->w > x + w ? x + w : dx + t->w) - bx;
  double bh = (dy + t->h > y + h ? y + h : dy + t->h) - by;
  vz_box *b = add_box(s, VZ_BOX_LABEL, bx, by, bw, bh);
  if (b) {
    b->text = strdup(utf8);
    b->fg = c;
    b->bg = bg;
    b->px = t->px;
  }
}

/* ====================================================================== */
/* Numbers and colours                                                     */
/* ====================================================================== */

static int faithful(const char *t, double v);

void vz_fmt(char *buf, size_t n, double v, int maxc) {
  if (maxc < 1) maxc = 1;
  if ((size_t)maxc >= n) maxc = (int)n - 1;
  if (isnan(v)) { snprintf(buf, n, "nan"); return; }
  if (isinf(v)) { snprintf(buf, n, v > 0 ? "inf" : "-inf"); return; }
  if (v == 0) { snprintf(buf, n, "0"); return; }
  /* The most precise of %.Ng or fixed-point that fits and is faithful
   * (two significant digits, or v itself); when none fits, two
   * significant digits anyway: a longer text, never another number. */
  char t[64];
  for (int prec = 6; prec >= 1; prec--) {
    snprintf(t, sizeof t, "%.*g", prec, v);
    if ((int)strlen(t) <= maxc && faithful(t, v)) goto found;
  }
  if (fabs(v) < 1e6)
    for (int dec = 3; dec >= 0; dec--) {
      snprintf(t, sizeof t, "%.*f", dec, v);
      if ((int)strlen(t) <= maxc && faithful(t, v)) goto found;
    }
  snprintf(t, sizeof t, "%.2g", v);
found:
  snprintf(buf, n, "%s", t);
}

/* Width of a number's text at px in the cells' font (VZ_SANS): the sum of
 * its characters' widths, measured once per size (DejaVu's digits are
 * tabular and numbers have no kerning pairs, so this is the drawn width to
 * a pixel). */
static int num_width(const char *t, int px) {
  static const char chars[] = "0123456789-.e+infa";
  static int cw[65][sizeof chars];
  if (px < 1 || px > 64) {
    int w;
    vz_text_size(t, px, VZ_SANS, &w, NULL);
    return w;
  }
  if (cw[px][0] == 0)
    for (size_t i = 0; i + 1 < sizeof chars; i++) {
      char one[2] = {chars[i], 0};
      int w;
      vz_text_size(one, px, VZ_SANS, &w, NULL);
      cw[px][i] = w > 0 ? w : 1;
    }
  int w = 0;
  for (const char *c = t; *c; c++) {
    const char *at = strchr(chars, *c);
    w += at ? cw[px][at - chars] : px;
  }
  return w + 1;
}

/* A text of v is faithful when it keeps two significant digits ("-17" for
 * -16.9) or is v itself ("1" for 1.0): never "-4" for -4.5 or "-1" for
 * -0.96. */
static int faithful(const char *t, double v) {
  double r = strtod(t, NULL);
  if (r == 0) return 0;
  if (fabs(r - v) <= 1e-6 * fabs(v)) return 1;
  int sig = 0, lead = 1;
  for (const char *c = t; *c && *c != 'e'; c++) {
    if (*c < '0' || *c > '9') continue;
    if (lead && *c == '0') continue;
    lead = 0;
    sig++;
  }
  return sig >= 2;
}

/* Does t fit w pixels at some size from px down to the smallest? */
static int fits(const char *t, int px, int w) {
  return num_width(t, px < VZ_MIN_PX ? px : VZ_MIN_PX) <= w;
}

/* "%.*f" of v without trailing zeros ("2.50" -> "2.5", "4010.00" ->
 * "4010"). */
static void fixed_text(char *t, size_t n, double v, int dec) {
  snprintf(t, n, "%.*f", dec, v);
  if (!strchr(t, '.')) return;
  size_t l = strlen(t);
  while (l > 0 && t[l - 1] == '0') t[--l] = 0;
  if (l > 0 && t[l - 1] == '.') t[--l] = 0;
}

void vz_fmt_fit(char *buf, size_t n, double v, int px, int w) {
  if (isnan(v) || isinf(v) || v == 0) {
    vz_fmt(buf, n, v, 8);
    if (!fits(buf, px, w)) snprintf(buf, n, "%s", "…");
    return;
  }
  char t[64];
  /* a whole number as itself ("5421": the tour's digits say which taps
   * hit a cell); then the most precise form, up to 3 significant digits
   * (a cell is a glance; the tap list and the tooltip have the rest):
   * %g without an exponent, fixed point, %g with one.  First at the
   * cell's own size, so a grid's values share one size; only a value that
   * fits no way there shrinks, down to 13 px. */
  int plain = fabs(v) >= 1e-3 && fabs(v) < 1e6;
  for (int shrink = 0; shrink < 2; shrink++) {
    int at = shrink ? VZ_MIN_PX : px;
    if (plain && v == rint(v)) {
      snprintf(t, sizeof t, "%.0f", v);
      if (num_width(t, at) <= w) goto found;
    }
    for (int pass = 0; pass < 3; pass++)
      for (int prec = 3; prec >= (pass == 1 ? 0 : 1); prec--) {
        if (pass == 1 && !plain) break;
        if (pass == 1) fixed_text(t, sizeof t, v, prec);
        else snprintf(t, sizeof t, "%.*g", prec, v);
        /* pass 0: no exponent in a plain range; pass 2: exponents */
        if (pass == 0 && plain && strchr(t, 'e')) continue;
        if (faithful(t, v) && num_width(t, at) <= w) goto found;
      }
  }
  snprintf(t, sizeof t, "%s", "…");
found:
  snprintf(buf, n, "%s", t);
}

static vz_color lerp_stops(const uint8_t (*st)[3], int nst, float t) {
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  float f = t * (float)(nst - 1);
  int i = (int)f;
  if (i >= nst - 1) i = nst - 2;
  float u = f - (float)i;
  vz_color c;
  c.r = (uint8_t)(st[i][0] + (st[i + 1][0] - st[i][0]) * u + 0.5f);
  c.g = (uint8_t)(st[i][1] + (st[i + 1][1] - st[i][1]) * u + 0.5f);
  c.b = (uint8_t)(st[i][2] + (st[i + 1][2] - st[i][2]) * u + 0.5f);
  c.a = 255;
  return c;
}

vz_color vz_diverging(float v, float absmax) {
  if (isnan(v)) return VZ_RGB(150, 110, 150);
  if (!(absmax > 0)) absmax = 1;
  const uint8_t (*st)[3] = vz_th == &light ? pal->light : pal->dark;
  return lerp_stops(st, 5, 0.5f + 0.5f * v / absmax);
}

vz_color vz_sequential(float v, float lo, float hi) {
  /* masks: dark slate (0) to light teal (1); no yellow, which means "the
   * current footprint" */
  static const uint8_t st[3][3] = {{52, 58, 70}, {46, 128, 140},
                                   {150, 226, 222}};
  if (isnan(v)) return VZ_RGB(150, 110, 150);
  float t = hi > lo ? (v - lo) / (hi - lo) : 0.5f;
  return lerp_stops(st, 3, t);
}

static double lin(uint8_t c) {
  double s = c / 255.0;
  return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4);
}
static double luminance(vz_color c) {
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

double vz_contrast_ratio(vz_color a, vz_color b) {
  double la = luminance(a), lb = luminance(b);
  return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

vz_color vz_contrast(vz_color c) {
  vz_color k = VZ_RGB(0, 0, 0), w = VZ_RGB(255, 255, 255);
  return vz_contrast_ratio(c, k) >= vz_contrast_ratio(c, w) ? k : w;
}

vz_color vz_mix(vz_color a, vz_color b, float t) {
  vz_color c;
  c.r = (uint8_t)(a.r + (b.r - a.r) * t);
  c.g = (uint8_t)(a.g + (b.g - a.g) * t);
  c.b = (uint8_t)(a.b + (b.b - a.b) * t);
  c.a = 255;
  return c;
}

/* Tidy colour-bar end: at most 3 significant digits ("3.45", "-0.127"). */
static void tidy(char *b, size_t n, double v) {
  if (v == 0 || !isfinite(v)) {
    vz_fmt(b, n, v, 8);
    return;
  }
  snprintf(b, n, "%.3g", v);
  /* 3 significant digits, but no exponent below a million: "9860", not
   * "9.86e+03" */
  double r = strtod(b, NULL);
  if (fabs(r) >= 100 && fabs(r) < 1e6) snprintf(b, n, "%.0f", r);
}

int vz_legend(vz_canvas *s, int x, int y, int w, int h, float lo, float hi,
              int diverging, const char *label, int px) {
  float am = fmaxf(fabsf(lo), fabsf(hi));
  int steps = w > 0 ? w : 1;
  for (int i = 0; i < steps; i++) {
    float t = steps > 1 ? (float)i / (float)(steps - 1) : 0.5f;
    vz_color c = diverging ? vz_diverging(-am + 2 * am * t, am)
                           : vz_sequential(lo + (hi - lo) * t, lo, hi);
    vz_fill(s, x + i, y, 1.5, h, c);
  }
  vz_frame(s, x, y, w, h, 1, VZ_GRIDLINE);
  char a[32], b[32];
  if (px < VZ_MIN_PX) px = VZ_MIN_PX;
  int th;
  vz_text_size("0", px, 0, NULL, &th);
  if (diverging) {
    tidy(a, sizeof a, -am);
    tidy(b, sizeof b, am);
    int aw, bw, zw;
    vz_text_size(a, px, 0, &aw, NULL);
    vz_text_size(b, px, 0, &bw, NULL);
    vz_text_size("0", px, 0, &zw, NULL);
    if (aw + bw + 8 <= w) {
      vz_text(s, x, y + h + 2, a, px, 0, VZ_DIM, VZ_LEFT);
      if (aw + bw + zw + 16 <= w)
        vz_text(s, x + w / 2, y + h + 2, "0", px, 0, VZ_DIM, VZ_CENTER);
      vz_text(s, x + w, y + h + 2, b, px, 0, VZ_DIM, VZ_RIGHT);
    } else { /* a narrow bar: its symmetric range in one text, "±61.4" */
      char pm[40];
      snprintf(pm, sizeof pm, "±%s", b);
      vz_ellipsize(pm, px, 0, w > 0 ? w : 1);
      vz_text(s, x, y + h + 2, pm, px, 0, VZ_DIM, VZ_LEFT);
    }
  } else {
    tidy(a, sizeof a, lo);
    tidy(b, sizeof b, hi);
    int aw, bw;
    vz_text_size(a, px, 0, &aw, NULL);
    vz_text_size(b, px, 0, &bw, NULL);
    if (aw + bw + 8 <= w) {
      vz_text(s, x, y + h + 2, a, px, 0, VZ_DIM, VZ_LEFT);
      vz_text(s, x + w, y + h + 2, b, px, 0, VZ_DIM, VZ_RIGHT);
    } else { /* a narrow bar: "0..1" in one text */
      char r[72];
      snprintf(r, sizeof r, "%s..%s", a, b);
      vz_ellipsize(r, px, 0, w > 0 ? w : 1);
      vz_text(s, x, y + h + 2, r, px, 0, VZ_DIM, VZ_LEFT);
    }
  }
  if (label) vz_text(s, x, y - th - 2, label, px, 0, VZ_DIM, VZ_LEFT);
  return h + 2 + th;
}

/* ====================================================================== */
/* Files                                                                   */
/* ====================================================================== */

int vz_save_png(vz_canvas *s, const char *path, char *err, size_t n) {
  if (s->vector) {
    snprintf(err, n, "a vector canvas has no pixels");
    return -1;
  }
  vz_save *sv = vz_save_begin(path, err, n);
  if (!sv) return -1;
  cairo_surface_flush(s->surf);
  cairo_status_t st =
      cairo_surface_write_to_png_stream(s->surf, stream_write, sv);
  if (st != CAIRO_STATUS_SUCCESS) {
    if (!vz_save_error(sv, err, n))
      snprintf(err, n, "cannot write %s: %s", path,
               cairo_status_to_string(st));
    vz_save_abort(sv);
    return -1;
  }
  return vz_save_commit(sv, err, n);
}

struct vz_gif {
  GifFileType *f;             /* giflib handle */
  vz_save *save;              /* the file being written */
  int w, h;                   /* screen size */
  unsigned char *prev, *cur;  /* palette indices of the last / this frame */
  unsigned char *out;         /* the changed rectangle, with transparency */
  int nframes;                /* frames written */
};

/* The global palette: every colour of both themes and both palettes (and
 * their mixes with the background, for dimmed cells), greys for
 * antialiased text, and a coarse colour cube for the rest.  A 32^3 lookup
 * table maps each colour to the nearest entry.  Index 255 is reserved as
 * the transparent "unchanged" colour. */
#define GIF_TRANSPARENT 255
static GifColorType gpal[256];
static unsigned char lut[32 * 32 * 32];
static const vz_theme *lut_theme;
static const palette *lut_pal;

static void pal_add(int *k, vz_color c) {
  if (*k >= GIF_TRANSPARENT) return;
  for (int i = 0; i < *k; i++)
    if (gpal[i].Red == c.r && gpal[i].Green == c.g && gpal[i].Blue == c.b)
      return;
  gpal[*k].Red = c.r;
  gpal[*k].Green = c.g;
  gpal[*k].Blue = c.b;
  (*k)++;
}

static void build_palette(void) {
  if (lut_theme == vz_th && lut_pal == pal) return;
  int k = 0;
  const vz_theme *t = vz_th;
  const vz_color theme[] = {t->bg, t->panel, t->fg, t->dim, t->grid,
                            vz_accent(), t->accent2, t->hover, t->err, t->pad,
                            t->hole, t->crop, t->outpad, t->pending,
                            t->errbg, VZ_RGB(0, 0, 0),
                            VZ_RGB(255, 255, 255)};
  for (size_t i = 0; i < sizeof theme / sizeof theme[0]; i++)
    pal_add(&k, theme[i]);
  for (int i = 0; i < 64; i++) /* the value scale */
    pal_add(&k, vz_diverging(-1.0f + 2.0f * (float)i / 63.0f, 1.0f));
  for (int i = 0; i < 16; i++) /* dimmed: mixed with the background */
    pal_add(&k, vz_mix(vz_diverging(-1.0f + 2.0f * (float)i / 15.0f, 1.0f),
                       t->bg, 0.6f));
  for (int i = 0; i < 12; i++) /* mask scale */
    pal_add(&k, vz_sequential((float)i / 11.0f, 0, 1));
  for (int i = 0; i < 8; i++) { /* accents blended (antialiased outlines) */
    pal_add(&k, vz_mix(vz_accent(), t->bg, (float)i / 8.0f));
    pal_add(&k, vz_mix(t->fg, t->bg, (float)i / 8.0f));
  }
  for (int i = 0; i < 32; i++) { /* greys */
    uint8_t g = (uint8_t)(i * 255 / 31);
    pal_add(&k, VZ_RGB(g, g, g));
  }
  for (int r = 0; r < 5; r++) /* coarse cube for the rest */
    for (int g = 0; g < 5; g++)
      for (int b = 0; b < 5; b++)
        pal_add(&k, VZ_RGB((uint8_t)(r * 255 / 4), (uint8_t)(g * 255 / 4),
                           (uint8_t)(b * 255 / 4)));
  while (k < 256) {
    gpal[k].Red = t->bg.r;
    gpal[k].Green = t->bg.g;
    gpal[k].Blue = t->bg.b;
    k++;
  }
  for (int r = 0; r < 32; r++)
    for (int g = 0; g < 32; g++)
      for (int b = 0; b < 32; b++) {
        int R = r * 8 + 4, G = g * 8 + 4, B = b * 8 + 4, best = 0;
        long bd = 1L << 40;
        for (int i = 0; i < GIF_TRANSPARENT; i++) {
          long dr = R - gpal[i].Red, dg = G - gpal[i].Green,
               db = B - gpal[i].Blue;
          long d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
          if (d < bd) { bd = d; best = i; }
        }
        lut[(r << 10) | (g << 5) | b] = (unsigned char)best;
      }
  lut_theme = vz_th;
  lut_pal = pal;
}

static int gif_out(GifFileType *f, const GifByteType *data, int len) {
  vz_save *sv = f->UserData;
  return vz_save_write(sv, data, (size_t)len) ? 0 : len;
}

vz_gif *vz_gif_open(const char *path, int w, int h, int delay_cs, char *err,
                    size_t n) {
  (void)delay_cs;
  build_palette();
  vz_gif *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, n, "out of memory");
    return NULL;
  }
  g->w = w;
  g->h = h;
  g->prev = malloc((size_t)w * h);
  g->cur = malloc((size_t)w * h);
  g->out = malloc((size_t)w * h);
  if (!g->prev || !g->cur || !g->out) {
    snprintf(err, n, "out of memory");
    goto fail;
  }
  g->save = vz_save_begin(path, err, n);
  if (!g->save) goto fail;
  int ge = 0;
  g->f = EGifOpen(g->save, gif_out, &ge);
  if (!g->f) {
    snprintf(err, n, "cannot start %s: %s", path, GifErrorString(ge));
    goto fail;
  }
  EGifSetGifVersion(g->f, true);
  ColorMapObject *cm = GifMakeMapObject(256, gpal);
  int rc = cm ? EGifPutScreenDesc(g->f, w, h, 8, 0, cm) : GIF_ERROR;
  GifFreeMapObject(cm);
  if (rc == GIF_OK) {
    /* Loop forever (the NETSCAPE2.0 application extension). */
    static const unsigned char loop[3] = {1, 0, 0};
    rc = EGifPutExtensionLeader(g->f, APPLICATION_EXT_FUNC_CODE);
    if (rc == GIF_OK) rc = EGifPutExtensionBlock(g->f, 11, "NETSCAPE2.0");
    if (rc == GIF_OK) rc = EGifPutExtensionBlock(g->f, 3, loop);
    if (rc == GIF_OK) rc = EGifPutExtensionTrailer(g->f);
  }
  if (rc != GIF_OK) {
    if (!vz_save_error(g->save, err, n))
      snprintf(err, n, "cannot write %s: %s", path,
               GifErrorString(g->f->Error));
    vz_gif_close(g, 0, NULL, 0);
    return NULL;
  }
  return g;
fail:
  vz_save_abort(g->save);
  free(g->prev);
  free(g->cur);
  free(g->out);
  free(g);
  return NULL;
}

int vz_gif_frame(vz_gif *g, vz_canvas *s, int delay_cs, char *err,
                 size_t n) {
  if (s->w != g->w || s->h != g->h) {
    snprintf(err, n, "frame size %dx%d differs from the GIF's %dx%d", s->w,
             s->h, g->w, g->h);
    return -1;
  }
  int stride;
  const uint32_t *px = vz_canvas_pixels(s, &stride);
  if (!px) {
    snprintf(err, n, "a vector canvas has no pixels");
    return -1;
  }
  for (int y = 0; y < g->h; y++) {
    const uint32_t *row = px + (size_t)y * stride;
    unsigned char *o = g->cur + (size_t)y * g->w;
    for (int x = 0; x < g->w; x++) {
      uint32_t p = row[x];
      o[x] = lut[(((p >> 19) & 31) << 10) | (((p >> 11) & 31) << 5) |
                 ((p >> 3) & 31)];
    }
  }
  /* Only the bounding box of what changed since the last frame is stored,
   * and inside it the unchanged pixels are transparent: long runs of one
   * index compress to almost nothing. */
  int x0 = 0, y0 = 0, x1 = g->w - 1, y1 = g->h - 1, transp = 0;
  if (g->nframes > 0) {
    x0 = g->w; y0 = g->h; x1 = -1; y1 = -1;
    for (int y = 0; y < g->h; y++) {
      const unsigned char *c = g->cur + (size_t)y * g->w,
                          *p = g->prev + (size_t)y * g->w;
      if (!memcmp(c, p, (size_t)g->w)) continue;
      for (int x = 0; x < g->w; x++)
        if (c[x] != p[x]) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
        }
      if (y < y0) y0 = y;
      y1 = y;
    }
    if (x1 < 0) x0 = y0 = x1 = y1 = 0; /* unchanged: a 1x1 patch */
    transp = 1;
  }
  int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  for (int y = 0; y < bh; y++) {
    const unsigned char *c = g->cur + (size_t)(y0 + y) * g->w + x0,
                        *p = g->prev + (size_t)(y0 + y) * g->w + x0;
    unsigned char *o = g->out + (size_t)y * bw;
    for (int x = 0; x < bw; x++)
      o[x] = transp && c[x] == p[x] ? GIF_TRANSPARENT : c[x];
  }
  GraphicsControlBlock gcb = {DISPOSE_DO_NOT, false, delay_cs,
                              transp ? GIF_TRANSPARENT : NO_TRANSPARENT_COLOR};
  GifByteType ext[4];
  EGifGCBToExtension(&gcb, ext);
  int rc = EGifPutExtension(g->f, GRAPHICS_EXT_FUNC_CODE, 4, ext);
  if (rc == GIF_OK) rc = EGifPutImageDesc(g->f, x0, y0, bw, bh, false, NULL);
  for (int y = 0; rc == GIF_OK && y < bh; y++)
    rc = EGifPutLine(g->f, g->out + (size_t)y * bw, bw);
  if (rc != GIF_OK) {
    if (!vz_save_error(g->save, err, n))
      snprintf(err, n, "cannot write the GIF: %s",
               GifErrorString(g->f->Error));
    return -1;
  }
  unsigned char *t = g->prev;
  g->prev = g->cur;
  g->cur = t;
  g->nframes++;
  return 0;
}

int vz_gif_close(vz_gif *g, int ok, char *err, size_t n) {
  if (!g) return 0;
  int ge = 0, rc = 0;
  if (EGifCloseFile(g->f, &ge) != GIF_OK && ok) {
    if (err && !vz_save_error(g->save, err, n))
      snprintf(err, n, "cannot finish the GIF: %s", GifErrorString(ge));
    rc = -1;
  }
  if (ok && rc == 0) rc = vz_save_commit(g->save, err, n);
  else vz_save_abort(g->save);
  free(g->prev);
  free(g->cur);
  free(g->out);
  free(g);
  return rc;
}

/* ====================================================================== */
/* Window                                                                  */
/* ====================================================================== */

void vz_window_size(int *w, int *h) {
  SDL_Rect u;
  if (SDL_GetDisplayUsableBounds(0, &u) != 0 || u.w <= 0 || u.h <= 0) return;
  /* the usable area already excludes the desktop's bars */
  int uw = u.w, uh = u.h;
  if (*w == VZ_DEFAULT_W && *h == VZ_DEFAULT_H && uw >= 1600 && uh >= 900) {
    /* a large display: open larger, in the default's proportions */
    double k = fmin(uw * 0.85 / *w, uh * 0.85 / *h);
    *w = (int)(*w * k);
    *h = (int)(*h * k);
  }
  if (*w > uw || *h > uh) { /* never larger than the screen */
    double k = fmin((double)uw / *w, (double)uh / *h);
    *w = (int)(*w * k);
    *h = (int)(*h * k);
  }
  if (*w < 480) *w = 480;
  if (*h < 320) *h = 320;
}

int vz_present(SDL_Window *win, vz_canvas *s) {
  SDL_Surface *ws = SDL_GetWindowSurface(win);
  if (!ws) return -1;
  int stride;
  uint32_t *px = vz_canvas_pixels(s, &stride);
  if (!px) return -1;
  SDL_Surface *src = SDL_CreateRGBSurfaceWithFormatFrom(
      px, s->w, s->h, 32, stride * 4, SDL_PIXELFORMAT_RGB888);
  if (!src) return -1;
  SDL_SetSurfaceBlendMode(src, SDL_BLENDMODE_NONE);
  SDL_BlitSurface(src, NULL, ws, NULL);
  SDL_FreeSurface(src);
  return SDL_UpdateWindowSurface(win);
}
