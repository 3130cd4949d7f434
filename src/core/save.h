/* save.h - the one atomic file save of convplay.
 *
 * Every writer (image.save, screenshots, GIF recordings, SVG/PDF exports)
 * goes through this, so a save either replaces the target completely or
 * leaves the old file byte for byte as it was:
 *
 *   cp_save *s = cp_save_begin(path, &e);   // temp file beside the target
 *   if (s == NULL) return -1;               // e says why
 *   ... cp_save_write(s, buf, n) as often as needed ...
 *   if (cp_save_commit(s, &e)) return -1;   // s is freed either way
 *
 * or cp_save_abort(s) to give up (removes the temporary file, frees s).
 *
 *  - begin creates the temporary file with mkstemp (O_EXCL, unpredictable)
 *    under a short name (".cpsave-XXXXXX") in the target's own directory,
 *    so rename() is atomic and a 255-byte target name still works.  Its
 *    permissions are those of the file it replaces, or 0666 & ~umask for a
 *    new file (like fopen).  A target that exists and is not a regular file
 *    (a directory, a device, a FIFO) is refused; a symbolic link is
 *    followed, so the link survives and its target is replaced.
 *  - write buffers and checks every write(2) (short writes, EINTR, ENOSPC,
 *    EIO).  After the first failure further writes are ignored and return
 *    -1; the failure is reported by commit.
 *  - commit flushes, fsyncs the file, closes it (checking close), renames it
 *    over the target, then fsyncs the directory.  Any failure before the
 *    rename removes the temporary file and leaves the target untouched.
 *  - While a save is live, SIGINT, SIGTERM, SIGHUP and SIGQUIT remove its
 *    temporary file before the process dies: the handler is installed by
 *    the first begin, cleans up every live temporary file with unlink (async
 *    signal safe), then restores the previous disposition and re-raises.
 *    A previous handler that is a function (an interpreter's "interrupt"
 *    flag) is called instead and the save goes on.
 *
 * Plugging in the writers (each takes a write callback and a context):
 *   stb:    stbi_write_png_to_func(cp_save_stbi_func, s, w, h, c, px, stride)
 *           (and _jpg_/_bmp_/_tga_to_func); then check the return value AND
 *           cp_save_commit's.
 *   giflib: EGifOpen(s, gif_out, &err) with
 *             static int gif_out(GifFileType *g, const GifByteType *b, int n)
 *             { return cp_save_write(g->UserData, b, (size_t)n) ? 0 : n; }
 *           then EGifCloseFile (which frees the GIF but not s), then commit.
 *   cairo:  a two-line adapter in the caller (the core has no cairo header):
 *             static cairo_status_t to_save(void *s, const unsigned char *d,
 *                                           unsigned int n) {
 *               return cp_save_write(s, d, n) ? CAIRO_STATUS_WRITE_ERROR
 *                                             : CAIRO_STATUS_SUCCESS; }
 *           then cairo_surface_write_to_png_stream(surf, to_save, s) or
 *           cairo_svg/pdf_surface_create_for_stream(to_save, s, w, h);
 *           finish and destroy the surface (and check its status) before
 *           cp_save_commit.  (cp_save_cairo_func has the same behaviour with
 *           int for the status, for callers that cannot include cairo.)
 *
 * The core never prints: messages go to the cp_err, starting with "path:".
 */
#ifndef CP_SAVE_H
#define CP_SAVE_H

#include <stddef.h>

#include "err.h"

typedef struct cp_save cp_save;

cp_save *cp_save_begin(const char *path, cp_err *e);
/* 0 on success, -1 once any write has failed. */
int cp_save_write(cp_save *s, const void *buf, size_t n);
/* 0: the target now holds exactly what was written.  -1: it is untouched
 * (or, if only the final directory fsync failed, already replaced; the
 * message says so).  Frees s in every case. */
int cp_save_commit(cp_save *s, cp_err *e);
/* Has a write failed?  Then 1, and e says why (for a writer whose own
 * status hides the reason); s stays open (abort or commit it). */
int cp_save_error(const cp_save *s, cp_err *e);
/* Remove the temporary file and free s (s may be NULL). */
void cp_save_abort(cp_save *s);

/* Adapters with the writers' callback signatures (see above). */
void cp_save_stbi_func(void *ctx, void *data, int size);
int cp_save_cairo_func(void *ctx, const unsigned char *data,
                       unsigned int length);

/* Number of live temporary files (for tests). */
int cp_save_live_count(void);

#endif
