/* image_priv.h - pieces shared by image.c and the decoders of its own. */
#ifndef CP_IMAGE_PRIV_H
#define CP_IMAGE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

/* Refuse w x h x c before anything is allocated: empty images, more than
 * CP_IMAGE_MAX_PIXELS pixels, a tensor over the core's memory limit.
 * what names the file in the message. */
int cp_image_budget(int64_t w, int64_t h, int64_t c, const char *what,
                    cp_err *e);

/* Netpbm P1..P6 (any maxval 1..65535; 16-bit samples are big-endian) and
 * Radiance RGBE (.hdr: flat or run-length scanlines, "-Y H +X W" only),
 * decoded from memory into a (C, H, W) tensor.  Every read is bounded by
 * n; a truncated or inconsistent file is an error, never a partial image. */
int cp_decode_pnm(const unsigned char *b, size_t n, const char *what,
                  cp_tensor *out, cp_err *e);
int cp_decode_hdr(const unsigned char *b, size_t n, const char *what,
                  cp_tensor *out, cp_err *e);

/* JPEG: walk the markers and refuse a Huffman table (DHT) that declares
 * more than 256 codes, before stb sees the file. */
int cp_jpeg_check(const unsigned char *b, size_t n, const char *what,
                  cp_err *e);

/* stb, compiled in stb_build.c (see there). */
int cp_stb_info(const unsigned char *b, int n, int *w, int *h, int *c);
int cp_stb_is_16_bit(const unsigned char *b, int n);
void *cp_stb_load(const unsigned char *b, int n, int is16, int *w, int *h,
                  int *c);
void cp_stb_free(void *px);
const char *cp_stb_reason(void); /* never NULL */
/* fmt 0 PNG, 1 JPEG, 2 BMP, 3 TGA; 0 on failure. */
int cp_stb_write(int fmt, void (*fn)(void *, void *, int), void *ctx, int w,
                 int h, int c, const unsigned char *px, int quality);

#endif
