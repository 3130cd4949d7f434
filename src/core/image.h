/* image.h - image files <-> float tensors, through stb_image.
 *
 * Loading gives a (C, H, W) tensor with values in [0, 1] (C = the file's own
 * channel count, 1..4); 16-bit files keep their precision.  Formats: PNG,
 * JPEG, GIF (first frame), BMP, TGA, PSD (through stb_image), Netpbm P1-P6
 * (any maxval, 16-bit big-endian samples) and Radiance HDR (3 channels of
 * linear radiance, NOT limited to [0, 1]).  An image must have 1 to
 * CP_IMAGE_MAX_PIXELS pixels and fit the tensor limit; this is checked
 * before decoding, as is the pixel count against the file's size.  The
 * path must be a regular file or a pipe (read to its end; a FIFO without
 * a writer is an error, not a hang).
 *
 * Saving takes (H, W), (C, H, W) or (1, C, H, W) with C in 1..4, clamps to
 * [0, 1] (NaN becomes 0), and picks the format from the extension: .png
 * .jpg/.jpeg .bmp .tga.  It goes through cp_save (save.h): a failed or
 * interrupted save leaves the old file byte for byte as it was.
 */
#ifndef CP_IMAGE_H
#define CP_IMAGE_H

#include "tensor.h"

#define CP_IMAGE_MAX_PIXELS ((int64_t)1 << 28)

int cp_image_load(cp_tensor *out, const char *path, cp_err *e);
/* quality: JPEG quality 1..100 (ignored by other formats). */
int cp_image_save(const cp_tensor *t, const char *path, int quality,
                  cp_err *e);
/* Convert (C,H,W)-like tensor t to interleaved 8-bit pixels (clamped);
 * *pixels is malloc'ed and owned by the caller.  Used by save and viz. */
int cp_image_to_u8(const cp_tensor *t, unsigned char **pixels, int *w,
                   int *h, int *c, cp_err *e);

#endif
