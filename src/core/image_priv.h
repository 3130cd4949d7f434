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

#endif
