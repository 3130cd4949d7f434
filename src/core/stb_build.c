/* stb_build.c - stb_image and stb_image_write, compiled here from Debian's
 * headers (libstb-dev) with convplay's own choices, all static behind the
 * small cp_stb_* API of image_priv.h (so nothing clashes with -lstb).
 *
 * Formats: PNG, JPEG, GIF, BMP, TGA, PSD.  Left out: HDR (stb loops
 * forever on a truncated run-length scanline) and PNM (16-bit samples come
 * out byte-swapped, maxval is ignored): image_formats.c decodes both; PIC
 * (crafted files assert or crash inside stb).  Callers must refuse sizes
 * before decoding (cp_image_budget) and validate JPEG Huffman tables
 * (cp_jpeg_check): Debian's stb overflows its tables on a DHT segment
 * declaring more than 256 codes.
 *
 * The Makefile compiles this file without UBSan's shift check: stb shifts
 * signed values the way every compiler does (the JPEG writer, the
 * decoders' bit readers). */
#include "image_priv.h"

#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_NO_PNM
#define STBI_NO_PIC
#define STBI_MAX_DIMENSIONS (1 << 18)
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

int cp_stb_info(const unsigned char *b, int n, int *w, int *h, int *c) {
  return stbi_info_from_memory(b, n, w, h, c);
}

int cp_stb_is_16_bit(const unsigned char *b, int n) {
  return stbi_is_16_bit_from_memory(b, n);
}

void *cp_stb_load(const unsigned char *b, int n, int is16, int *w, int *h,
                  int *c) {
  return is16 ? (void *)stbi_load_16_from_memory(b, n, w, h, c, 0)
              : (void *)stbi_load_from_memory(b, n, w, h, c, 0);
}

void cp_stb_free(void *px) { stbi_image_free(px); }

const char *cp_stb_reason(void) {
  const char *r = stbi_failure_reason();
  return r ? r : "corrupt file";
}

int cp_stb_write(int fmt, void (*fn)(void *, void *, int), void *ctx, int w,
                 int h, int c, const unsigned char *px, int quality) {
  switch (fmt) {
  case 0: return stbi_write_png_to_func(fn, ctx, w, h, c, px, w * c);
  case 1: return stbi_write_jpg_to_func(fn, ctx, w, h, c, px, quality);
  case 2: return stbi_write_bmp_to_func(fn, ctx, w, h, c, px);
  default: return stbi_write_tga_to_func(fn, ctx, w, h, c, px);
  }
}
