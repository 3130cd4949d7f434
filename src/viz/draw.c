/* draw.c - software drawing on SDL surfaces: shapes, text, colour scales,
 * PNG and animated GIF output.  See draw.h. */
#include "viz/draw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gif_lib.h>
#include <stb/stb_image_write.h>

/* ====================================================================== */
/* Fonts and a cache of rendered text                                      */
/* ====================================================================== */

#define FONT_MIN 6
#define FONT_MAX 96
static TTF_Font *fonts[2][FONT_MAX + 1];
static int ttf_ready;

/* Rendering text is the slowest thing a frame does; a 64x64 grid repeats
 * the same few strings.  A direct-mapped cache of rendered strings keyed by
 * (text, size, bold, colour) makes redraws cheap. */
#define TCACHE 4096
typedef struct tentry {
  char *text;                 /* owned copy, NULL if slot empty */
  int px, bold;               /* font */
  uint32_t rgba;              /* colour */
  SDL_Surface *surf;          /* rendered text (owned) */
} tentry;
static tentry tcache[TCACHE];

static void tcache_clear(void) {
  for (int i = 0; i < TCACHE; i++) {
    free(tcache[i].text);
    if (tcache[i].surf) SDL_FreeSurface(tcache[i].surf);
    memset(&tcache[i], 0, sizeof tcache[i]);
  }
}

int vz_init(char *err, size_t n) {
  if (ttf_ready) return 0;
  const char *paths[2] = {VZ_FONT_PATH, VZ_FONT_BOLD_PATH};
  for (int i = 0; i < 2; i++)
    if (access(paths[i], R_OK) != 0) {
      snprintf(err, n,
               "font %s not found (install the Debian package "
               "fonts-dejavu-core)",
               paths[i]);
      return -1;
    }
  if (!TTF_WasInit() && TTF_Init() != 0) {
    snprintf(err, n, "SDL2_ttf: %s", TTF_GetError());
    return -1;
  }
  ttf_ready = 1;
  return 0;
}

void vz_quit(void) {
  tcache_clear();
  for (int b = 0; b < 2; b++)
    for (int i = 0; i <= FONT_MAX; i++)
      if (fonts[b][i]) {
        TTF_CloseFont(fonts[b][i]);
        fonts[b][i] = NULL;
      }
  if (ttf_ready) TTF_Quit();
  ttf_ready = 0;
}

TTF_Font *vz_font(int px, int bold) {
  char err[256];
  if (!ttf_ready && vz_init(err, sizeof err)) return NULL;
  if (px < FONT_MIN) px = FONT_MIN;
  if (px > FONT_MAX) px = FONT_MAX;
  bold = bold ? 1 : 0;
  if (!fonts[bold][px])
    fonts[bold][px] = TTF_OpenFont(bold ? VZ_FONT_BOLD_PATH : VZ_FONT_PATH, px);
  return fonts[bold][px];
}

static uint32_t hash_text(const char *s, int px, int bold, uint32_t rgba) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  h = (h ^ (uint32_t)px) * 16777619u;
  h = (h ^ (uint32_t)bold) * 16777619u;
  return (h ^ rgba) * 16777619u;
}

/* The rendered surface of a string (owned by the cache), or NULL. */
static SDL_Surface *render_text(const char *s, int px, int bold, SDL_Color c) {
  if (!s || !*s) return NULL;
  if (px < FONT_MIN) px = FONT_MIN;
  if (px > FONT_MAX) px = FONT_MAX;
  uint32_t rgba = ((uint32_t)c.r << 24) | ((uint32_t)c.g << 16) |
                  ((uint32_t)c.b << 8) | c.a;
  tentry *t = &tcache[hash_text(s, px, bold, rgba) % TCACHE];
  if (t->text && t->px == px && t->bold == bold && t->rgba == rgba &&
      strcmp(t->text, s) == 0)
    return t->surf;
  TTF_Font *f = vz_font(px, bold);
  if (!f) return NULL;
  SDL_Surface *r = TTF_RenderUTF8_Blended(f, s, c);
  if (!r) return NULL;
  free(t->text);
  if (t->surf) SDL_FreeSurface(t->surf);
  t->text = strdup(s);
  t->px = px;
  t->bold = bold;
  t->rgba = rgba;
  t->surf = r;
  if (!t->text) { /* out of memory: keep nothing cached */
    t->surf = NULL;
    SDL_FreeSurface(r);
    return NULL;
  }
  return r;
}

void vz_text_size(const char *s, int px, int bold, int *w, int *h) {
  int tw = 0, th = 0;
  TTF_Font *f = vz_font(px, bold);
  if (f && s && *s) TTF_SizeUTF8(f, s, &tw, &th);
  else if (f) th = TTF_FontHeight(f);
  if (w) *w = tw;
  if (h) *h = th;
}

int vz_text(SDL_Surface *s, int x, int y, const char *utf8, int px, int bold,
            SDL_Color c, int align) {
  SDL_Surface *r = render_text(utf8, px, bold, c);
  if (!r) return 0;
  SDL_Rect d = {x, y, r->w, r->h};
  if (align == VZ_CENTER) d.x -= r->w / 2;
  else if (align == VZ_RIGHT) d.x -= r->w;
  SDL_BlitSurface(r, NULL, s, &d);
  return r->w;
}

void vz_text_box(SDL_Surface *s, int x, int y, int w, int h, const char *utf8,
                 int px, int bold, SDL_Color c) {
  SDL_Surface *r = render_text(utf8, px, bold, c);
  if (!r) return;
  SDL_Rect clip;
  SDL_GetClipRect(s, &clip);
  SDL_Rect box = {x, y, w, h}, inter;
  if (!SDL_IntersectRect(&clip, &box, &inter)) return;
  SDL_SetClipRect(s, &inter);
  SDL_Rect d = {x + (w - r->w) / 2, y + (h - r->h) / 2, r->w, r->h};
  SDL_BlitSurface(r, NULL, s, &d);
  SDL_SetClipRect(s, &clip);
}

int vz_fit_text(const char *utf8, int px, int bold, int w, int h) {
  for (; px >= FONT_MIN; px--) {
    int tw, th;
    vz_text_size(utf8, px, bold, &tw, &th);
    if (tw <= w && th * 3 / 4 <= h) return px;
  }
  return 0;
}

/* ====================================================================== */
/* Shapes                                                                  */
/* ====================================================================== */

SDL_Surface *vz_surface_new(int w, int h) {
  if (w < 1) w = 1;
  if (h < 1) h = 1;
  return SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
}

static uint32_t map(SDL_Surface *s, SDL_Color c) {
  return SDL_MapRGBA(s->format, c.r, c.g, c.b, 255);
}

void vz_clear(SDL_Surface *s, SDL_Color c) {
  SDL_FillRect(s, NULL, map(s, c));
}

void vz_fill(SDL_Surface *s, int x, int y, int w, int h, SDL_Color c) {
  if (w <= 0 || h <= 0) return;
  SDL_Rect r = {x, y, w, h};
  if (c.a == 255) {
    SDL_FillRect(s, &r, map(s, c));
    return;
  }
  if (c.a == 0) return;
  SDL_Rect clip, in;
  SDL_GetClipRect(s, &clip);
  if (!SDL_IntersectRect(&clip, &r, &in)) return;
  if (SDL_MUSTLOCK(s)) SDL_LockSurface(s);
  unsigned a = c.a, na = 255 - a;
  for (int yy = in.y; yy < in.y + in.h; yy++) {
    uint32_t *p = (uint32_t *)((uint8_t *)s->pixels + yy * s->pitch) + in.x;
    for (int xx = 0; xx < in.w; xx++) {
      uint8_t r0, g0, b0;
      SDL_GetRGB(p[xx], s->format, &r0, &g0, &b0);
      p[xx] = SDL_MapRGBA(s->format, (uint8_t)((c.r * a + r0 * na) / 255),
                          (uint8_t)((c.g * a + g0 * na) / 255),
                          (uint8_t)((c.b * a + b0 * na) / 255), 255);
    }
  }
  if (SDL_MUSTLOCK(s)) SDL_UnlockSurface(s);
}

void vz_frame(SDL_Surface *s, int x, int y, int w, int h, int t,
              SDL_Color c) {
  if (t * 2 >= w || t * 2 >= h) {
    vz_fill(s, x, y, w, h, c);
    return;
  }
  vz_fill(s, x, y, w, t, c);
  vz_fill(s, x, y + h - t, w, t, c);
  vz_fill(s, x, y + t, t, h - 2 * t, c);
  vz_fill(s, x + w - t, y + t, t, h - 2 * t, c);
}

void vz_line(SDL_Surface *s, int x0, int y0, int x1, int y1, int t,
             SDL_Color c) {
  int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
  int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy, off = t / 2;
  if (t < 1) t = 1;
  for (int guard = 0; guard < 100000; guard++) {
    vz_fill(s, x0 - off, y0 - off, t, t, c);
    if (x0 == x1 && y0 == y1) break;
    int e2 = 2 * err;
    if (e2 >= dy) { err += dy; x0 += sx; }
    if (e2 <= dx) { err += dx; y0 += sy; }
  }
}

void vz_dashed(SDL_Surface *s, int x, int y, int w, int h, int dl,
               SDL_Color c) {
  if (dl < 1) dl = 1;
  for (int i = 0; i < w; i += 2 * dl) {
    int len = i + dl > w ? w - i : dl;
    vz_fill(s, x + i, y, len, 1, c);
    vz_fill(s, x + i, y + h - 1, len, 1, c);
  }
  for (int i = 0; i < h; i += 2 * dl) {
    int len = i + dl > h ? h - i : dl;
    vz_fill(s, x, y + i, 1, len, c);
    vz_fill(s, x + w - 1, y + i, 1, len, c);
  }
}

SDL_Color vz_pixel(SDL_Surface *s, int x, int y) {
  SDL_Color c = {0, 0, 0, 255};
  if (x < 0 || y < 0 || x >= s->w || y >= s->h) return c;
  uint32_t p = ((uint32_t *)((uint8_t *)s->pixels + y * s->pitch))[x];
  SDL_GetRGB(p, s->format, &c.r, &c.g, &c.b);
  return c;
}

/* ====================================================================== */
/* Numbers and colours                                                     */
/* ====================================================================== */

void vz_fmt(char *buf, size_t n, double v, int maxc) {
  if (maxc < 1) maxc = 1;
  if ((size_t)maxc >= n) maxc = (int)n - 1;
  if (isnan(v)) { snprintf(buf, n, "nan"); return; }
  if (isinf(v)) { snprintf(buf, n, v > 0 ? "inf" : "-inf"); return; }
  if (v == 0) { snprintf(buf, n, "0"); return; }
  /* The most precise of %.Ng or fixed-point that fits. */
  char t[64];
  for (int prec = 6; prec >= 1; prec--) {
    snprintf(t, sizeof t, "%.*g", prec, v);
    if ((int)strlen(t) <= maxc) {
      snprintf(buf, n, "%s", t);
      return;
    }
  }
  if (fabs(v) < 1e6)
    for (int dec = 3; dec >= 0; dec--) {
      snprintf(t, sizeof t, "%.*f", dec, v);
      if ((int)strlen(t) <= maxc) {
        snprintf(buf, n, "%s", t);
        return;
      }
    }
  snprintf(t, sizeof t, "%.0e", v);
  if ((int)strlen(t) <= maxc) snprintf(buf, n, "%s", t);
  else snprintf(buf, n, "%s", "…");
}

static SDL_Color lerp_stops(const uint8_t (*st)[3], int nst, float t) {
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  float f = t * (float)(nst - 1);
  int i = (int)f;
  if (i >= nst - 1) i = nst - 2;
  float u = f - (float)i;
  SDL_Color c;
  c.r = (uint8_t)(st[i][0] + (st[i + 1][0] - st[i][0]) * u + 0.5f);
  c.g = (uint8_t)(st[i][1] + (st[i + 1][1] - st[i][1]) * u + 0.5f);
  c.b = (uint8_t)(st[i][2] + (st[i + 1][2] - st[i][2]) * u + 0.5f);
  c.a = 255;
  return c;
}

SDL_Color vz_diverging(float v, float absmax) {
  static const uint8_t st[5][3] = {
      {33, 102, 172}, {120, 176, 214}, {238, 238, 238},
      {232, 140, 105}, {178, 24, 43}};
  if (isnan(v)) return VZ_RGB(150, 110, 150);
  if (!(absmax > 0)) absmax = 1;
  return lerp_stops(st, 5, 0.5f + 0.5f * v / absmax);
}

SDL_Color vz_sequential(float v, float lo, float hi) {
  static const uint8_t st[5][3] = {
      {48, 18, 70}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98},
      {253, 231, 37}};
  if (isnan(v)) return VZ_RGB(150, 110, 150);
  float t = hi > lo ? (v - lo) / (hi - lo) : 0.5f;
  return lerp_stops(st, 5, t);
}

SDL_Color vz_contrast(SDL_Color c) {
  int lum = (299 * c.r + 587 * c.g + 114 * c.b) / 1000;
  return lum > 140 ? VZ_RGB(15, 15, 18) : VZ_RGB(250, 250, 250);
}

SDL_Color vz_mix(SDL_Color a, SDL_Color b, float t) {
  SDL_Color c;
  c.r = (uint8_t)(a.r + (b.r - a.r) * t);
  c.g = (uint8_t)(a.g + (b.g - a.g) * t);
  c.b = (uint8_t)(a.b + (b.b - a.b) * t);
  c.a = 255;
  return c;
}

void vz_legend(SDL_Surface *s, int x, int y, int w, int h, float lo, float hi,
               int diverging, const char *label) {
  float am = fmaxf(fabsf(lo), fabsf(hi));
  for (int i = 0; i < w; i++) {
    float t = w > 1 ? (float)i / (float)(w - 1) : 0.5f;
    SDL_Color c = diverging ? vz_diverging(-am + 2 * am * t, am)
                            : vz_sequential(lo + (hi - lo) * t, lo, hi);
    vz_fill(s, x + i, y, 1, h, c);
  }
  vz_frame(s, x, y, w, h, 1, VZ_GRIDLINE);
  char a[32], b[32];
  int px = 12;
  if (diverging) {
    /* Six characters: a legend's ends need no float32 noise (1.80001). */
    vz_fmt(a, sizeof a, -am, 6);
    vz_fmt(b, sizeof b, am, 6);
    vz_text(s, x, y + h + 2, a, px, 0, VZ_DIM, VZ_LEFT);
    vz_text(s, x + w / 2, y + h + 2, "0", px, 0, VZ_DIM, VZ_CENTER);
    vz_text(s, x + w, y + h + 2, b, px, 0, VZ_DIM, VZ_RIGHT);
  } else {
    vz_fmt(a, sizeof a, lo, 6);
    vz_fmt(b, sizeof b, hi, 6);
    vz_text(s, x, y + h + 2, a, px, 0, VZ_DIM, VZ_LEFT);
    vz_text(s, x + w, y + h + 2, b, px, 0, VZ_DIM, VZ_RIGHT);
  }
  if (label) vz_text(s, x, y - 16, label, px, 0, VZ_DIM, VZ_LEFT);
}

/* ====================================================================== */
/* Files                                                                   */
/* ====================================================================== */

static void tmp_name(char *buf, size_t n, const char *path) {
  snprintf(buf, n, "%s.tmp%ld", path, (long)getpid());
}

int vz_save_png(SDL_Surface *s, const char *path, char *err, size_t n) {
  size_t len = (size_t)s->w * (size_t)s->h * 3;
  unsigned char *rgb = malloc(len);
  if (!rgb) {
    snprintf(err, n, "out of memory");
    return -1;
  }
  for (int y = 0; y < s->h; y++)
    for (int x = 0; x < s->w; x++) {
      SDL_Color c = vz_pixel(s, x, y);
      unsigned char *p = rgb + ((size_t)y * s->w + x) * 3;
      p[0] = c.r;
      p[1] = c.g;
      p[2] = c.b;
    }
  char tmp[4096];
  tmp_name(tmp, sizeof tmp, path);
  int ok = stbi_write_png(tmp, s->w, s->h, 3, rgb, s->w * 3);
  free(rgb);
  if (!ok) {
    snprintf(err, n, "cannot write %s", tmp);
    remove(tmp);
    return -1;
  }
  if (rename(tmp, path) != 0) {
    snprintf(err, n, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

struct vz_gif {
  GifFileType *f;             /* giflib handle */
  char path[4096], tmp[4096]; /* final and temporary file names */
  int w, h;                   /* screen size */
  unsigned char *prev, *cur;  /* palette indices of the last / this frame */
  int nframes;                /* frames written */
};

/* Fixed palette made for these pictures: the theme colours, the two colour
 * scales (and their mixes with the background, for dimmed cells), greys
 * for anti-aliased text, and a coarse colour cube for the rest.  A 32^3
 * lookup table maps each colour to the nearest entry. */
static GifColorType palette[256];
static unsigned char lut[32 * 32 * 32];
static int lut_ready;

static void pal_add(int *k, SDL_Color c) {
  if (*k >= 256) return;
  palette[*k].Red = c.r;
  palette[*k].Green = c.g;
  palette[*k].Blue = c.b;
  (*k)++;
}

static void build_palette(void) {
  if (lut_ready) return;
  int k = 0;
  const SDL_Color theme[] = {VZ_BG, VZ_PANEL, VZ_FG, VZ_DIM, VZ_GRIDLINE,
                             VZ_ACCENT, VZ_ACCENT2, VZ_HOVER, VZ_ERRC,
                             VZ_RGB(44, 47, 56), VZ_RGB(38, 40, 46),
                             VZ_RGB(36, 38, 44), VZ_RGB(180, 120, 255),
                             VZ_RGB(70, 72, 78), VZ_RGB(30, 16, 18),
                             VZ_RGB(15, 15, 18), VZ_RGB(250, 250, 250)};
  for (size_t i = 0; i < sizeof theme / sizeof theme[0]; i++)
    pal_add(&k, theme[i]);
  for (int i = 0; i < 64; i++) /* diverging scale */
    pal_add(&k, vz_diverging(-1.0f + 2.0f * (float)i / 63.0f, 1.0f));
  for (int i = 0; i < 24; i++) /* dimmed: mixed with the background */
    pal_add(&k, vz_mix(vz_diverging(-1.0f + 2.0f * (float)i / 23.0f, 1.0f),
                       VZ_BG, 0.45f));
  for (int i = 0; i < 24; i++) /* sequential scale */
    pal_add(&k, vz_sequential((float)i / 23.0f, 0, 1));
  for (int i = 0; i < 48; i++) { /* greys */
    uint8_t g = (uint8_t)(i * 255 / 47);
    pal_add(&k, VZ_RGB(g, g, g));
  }
  for (int r = 0; r < 5 && k < 256; r++) /* coarse cube for the rest */
    for (int g = 0; g < 5 && k < 256; g++)
      for (int b = 0; b < 5 && k < 256; b++)
        pal_add(&k, VZ_RGB((uint8_t)(r * 255 / 4), (uint8_t)(g * 255 / 4),
                           (uint8_t)(b * 255 / 4)));
  while (k < 256) pal_add(&k, VZ_BG);
  for (int r = 0; r < 32; r++)
    for (int g = 0; g < 32; g++)
      for (int b = 0; b < 32; b++) {
        int R = r * 8 + 4, G = g * 8 + 4, B = b * 8 + 4, best = 0;
        long bd = 1L << 40;
        for (int i = 0; i < 256; i++) {
          long dr = R - palette[i].Red, dg = G - palette[i].Green,
               db = B - palette[i].Blue;
          long d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
          if (d < bd) { bd = d; best = i; }
        }
        lut[(r << 10) | (g << 5) | b] = (unsigned char)best;
      }
  lut_ready = 1;
}

vz_gif *vz_gif_open(const char *path, int w, int h, int delay_cs, char *err,
                    size_t n) {
  build_palette();
  vz_gif *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, n, "out of memory");
    return NULL;
  }
  snprintf(g->path, sizeof g->path, "%s", path);
  tmp_name(g->tmp, sizeof g->tmp, path);
  g->w = w;
  g->h = h;
  g->prev = malloc((size_t)w * h);
  g->cur = malloc((size_t)w * h);
  int ge = 0;
  if (g->prev && g->cur) g->f = EGifOpenFileName(g->tmp, false, &ge);
  if (!g->f) {
    snprintf(err, n, "cannot create %s: %s", g->tmp,
             g->prev && g->cur ? GifErrorString(ge) : "out of memory");
    free(g->prev);
    free(g->cur);
    free(g);
    return NULL;
  }
  EGifSetGifVersion(g->f, true);
  ColorMapObject *cm = GifMakeMapObject(256, palette);
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
    snprintf(err, n, "cannot write %s: %s", g->tmp,
             GifErrorString(g->f->Error));
    vz_gif_close(g, 0, NULL, 0);
    return NULL;
  }
  (void)delay_cs;
  return g;
}

int vz_gif_frame(vz_gif *g, SDL_Surface *s, int delay_cs, char *err,
                 size_t n) {
  if (s->w != g->w || s->h != g->h) {
    snprintf(err, n, "frame size %dx%d differs from the GIF's %dx%d", s->w,
             s->h, g->w, g->h);
    return -1;
  }
  for (int y = 0; y < g->h; y++) {
    const uint32_t *row = (const uint32_t *)((uint8_t *)s->pixels + y * s->pitch);
    for (int x = 0; x < g->w; x++) {
      uint8_t r, gg, b;
      SDL_GetRGB(row[x], s->format, &r, &gg, &b);
      g->cur[(size_t)y * g->w + x] =
          lut[((r >> 3) << 10) | ((gg >> 3) << 5) | (b >> 3)];
    }
  }
  /* Only the bounding box of what changed since the last frame is stored;
   * the rest shows through (disposal "do not dispose"). */
  int x0 = 0, y0 = 0, x1 = g->w - 1, y1 = g->h - 1;
  if (g->nframes > 0) {
    x0 = g->w; y0 = g->h; x1 = -1; y1 = -1;
    for (int y = 0; y < g->h; y++)
      for (int x = 0; x < g->w; x++)
        if (g->cur[(size_t)y * g->w + x] != g->prev[(size_t)y * g->w + x]) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
    if (x1 < 0) x0 = y0 = x1 = y1 = 0; /* unchanged: a 1x1 patch */
  }
  GraphicsControlBlock gcb = {DISPOSE_DO_NOT, false, delay_cs,
                              NO_TRANSPARENT_COLOR};
  GifByteType ext[4];
  EGifGCBToExtension(&gcb, ext);
  int rc = EGifPutExtension(g->f, GRAPHICS_EXT_FUNC_CODE, 4, ext);
  if (rc == GIF_OK)
    rc = EGifPutImageDesc(g->f, x0, y0, x1 - x0 + 1, y1 - y0 + 1, false,
                          NULL);
  for (int y = y0; rc == GIF_OK && y <= y1; y++)
    rc = EGifPutLine(g->f, g->cur + (size_t)y * g->w + x0, x1 - x0 + 1);
  if (rc != GIF_OK) {
    snprintf(err, n, "cannot write %s: %s", g->tmp,
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
    if (err) snprintf(err, n, "cannot finish %s: %s", g->tmp,
                      GifErrorString(ge));
    rc = -1;
  }
  if (ok && rc == 0) { /* giflib creates 0600; give it the usual mode */
    mode_t um = umask(0);
    umask(um);
    chmod(g->tmp, 0666 & ~um);
  }
  if (ok && rc == 0 && rename(g->tmp, g->path) != 0) {
    if (err) snprintf(err, n, "cannot rename %s to %s: %s", g->tmp, g->path,
                      strerror(errno));
    rc = -1;
  }
  if (!ok || rc) remove(g->tmp);
  free(g->prev);
  free(g->cur);
  free(g);
  return rc;
}

/* ====================================================================== */
/* Window                                                                  */
/* ====================================================================== */

int vz_present(SDL_Window *win, SDL_Surface *s) {
  SDL_Surface *ws = SDL_GetWindowSurface(win);
  if (!ws) return -1;
  SDL_BlitSurface(s, NULL, ws, NULL);
  return SDL_UpdateWindowSurface(win);
}
