/* save.h - writing a figure file so that a failure never loses the old one,
 * through the core's one atomic save (core/save.h: temporary file,
 * checked writes, fsync, rename, directory fsync, cleanup on signals).
 *
 *   vz_save *sv = vz_save_begin("fig.png", err, sizeof err);
 *   vz_save_write(sv, bytes, n);          // any number of times
 *   vz_save_commit(sv, err, sizeof err);  // or vz_save_abort(sv)
 *
 * Bytes go to a temporary file in the target's directory; commit flushes
 * and syncs it, renames it over the target and syncs the directory.  The
 * first failed write is remembered (vz_save_error) and makes commit fail,
 * which removes the temporary file and leaves the old file untouched.
 * The writers (PNG, GIF, SVG, PDF) plug their stream callbacks into
 * vz_save_write. */
#ifndef VZ_SAVE_H
#define VZ_SAVE_H

#include <stddef.h>

typedef struct vz_save vz_save;

vz_save *vz_save_begin(const char *path, char *err, size_t n);
/* 0, or -1 when this or an earlier write failed. */
int vz_save_write(vz_save *sv, const void *data, size_t len);
/* The first write error as text (returns 1), or 0 when there was none. */
int vz_save_error(vz_save *sv, char *err, size_t n);
/* Finish: 0 on success; -1 + err (the target is unchanged).  Frees sv. */
int vz_save_commit(vz_save *sv, char *err, size_t n);
/* Discard the temporary file; frees sv (NULL is fine). */
void vz_save_abort(vz_save *sv);

#endif
