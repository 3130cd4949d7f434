/* image.h - image files <-> float tensors, through stb_image.
 *
 * Loading gives a (C, H, W) tensor with values in [0, 1] (C = the file's own
 * channel count, 1..4); 16-bit files keep their precision, HDR files keep
 * their (unclamped) values.  Saving takes (H, W), (C, H, W) or (1, C, H, W)
 * with C in 1..4, clamps to [0, 1] (NaN becomes 0), and picks the format
 * from the extension: .png .jpg/.jpeg .bmp .tga.  A save writes a temporary
 * file beside the target and renames it over, so a failed save never leaves
 * a broken or half-written file behind.
 */
#ifndef CP_IMAGE_H
#define CP_IMAGE_H

#include "tensor.h"

int cp_image_load(cp_tensor *out, const char *path, cp_err *e);
/* quality: JPEG quality 1..100 (ignored by other formats). */
int cp_image_save(const cp_tensor *t, const char *path, int quality,
                  cp_err *e);
/* Convert (C,H,W)-like tensor t to interleaved 8-bit pixels (clamped);
 * *pixels is malloc'ed and owned by the caller.  Used by save and viz. */
int cp_image_to_u8(const cp_tensor *t, unsigned char **pixels, int *w,
                   int *h, int *c, cp_err *e);

#endif
