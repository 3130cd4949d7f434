/* save.c - atomic figure files: temporary file, checked writes, fsync,
 * rename, directory fsync.  See save.h. */
#include "viz/save.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vz_save {
  int fd;                     /* the temporary file */
  char *path, *tmp, *dir;     /* target, temporary name, its directory */
  int err;                    /* first errno of a failed write (0: none) */
};

static void dir_of(const char *path, char *dir, size_t n) {
  const char *sl = strrchr(path, '/');
  if (!sl) snprintf(dir, n, ".");
  else if (sl == path) snprintf(dir, n, "/");
  else snprintf(dir, n, "%.*s", (int)(sl - path), path);
}

vz_save *vz_save_begin(const char *path, char *err, size_t n) {
  vz_save *sv = calloc(1, sizeof *sv);
  size_t len = strlen(path);
  if (!sv || !(sv->path = strdup(path)) || !(sv->dir = malloc(len + 2)) ||
      !(sv->tmp = malloc(len + 16))) {
    snprintf(err, n, "out of memory");
    goto fail;
  }
  dir_of(path, sv->dir, len + 2);
  /* a short name in the same directory: rename() is atomic there, and a
   * target name near the 255-byte limit still leaves room for it */
  snprintf(sv->tmp, len + 16, "%s/.cp-XXXXXX", sv->dir);
  sv->fd = mkstemp(sv->tmp);
  if (sv->fd < 0) {
    snprintf(err, n, "cannot create a file in %s: %s", sv->dir,
             strerror(errno));
    goto fail;
  }
  mode_t um = umask(0);
  umask(um);
  fchmod(sv->fd, 0666 & ~um); /* as a plainly created file */
  return sv;
fail:
  if (sv) {
    free(sv->path);
    free(sv->dir);
    free(sv->tmp);
    free(sv);
  }
  return NULL;
}

int vz_save_write(vz_save *sv, const void *data, size_t len) {
  if (sv->err) return -1;
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(sv->fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      sv->err = w < 0 ? errno : ENOSPC;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int vz_save_error(vz_save *sv, char *err, size_t n) {
  if (!sv || !sv->err) return 0;
  snprintf(err, n, "cannot write %s: %s", sv->path, strerror(sv->err));
  return 1;
}

static void release(vz_save *sv) {
  free(sv->path);
  free(sv->dir);
  free(sv->tmp);
  free(sv);
}

void vz_save_abort(vz_save *sv) {
  if (!sv) return;
  close(sv->fd);
  unlink(sv->tmp);
  release(sv);
}

int vz_save_commit(vz_save *sv, char *err, size_t n) {
  if (vz_save_error(sv, err, n)) {
    vz_save_abort(sv);
    return -1;
  }
  if (fsync(sv->fd) != 0 || close(sv->fd) != 0) {
    snprintf(err, n, "cannot write %s: %s", sv->path, strerror(errno));
    sv->fd = -1;
    unlink(sv->tmp);
    release(sv);
    return -1;
  }
  if (rename(sv->tmp, sv->path) != 0) {
    snprintf(err, n, "cannot save %s: %s", sv->path, strerror(errno));
    unlink(sv->tmp);
    release(sv);
    return -1;
  }
  int dfd = open(sv->dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  release(sv);
  return 0;
}
