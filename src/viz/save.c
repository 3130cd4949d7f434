/* save.c - figure files through the core's one atomic save (core/save.h):
 * the vz_save API the drawing code uses, with its error text in a buffer
 * (the core reports through cp_err).  See save.h. */
#include "viz/save.h"

#include <stdio.h>

#include "core/save.h"

vz_save *vz_save_begin(const char *path, char *err, size_t n) {
  cp_err e;
  cp_save *s = cp_save_begin(path, &e);
  if (!s) snprintf(err, n, "%s", e.msg);
  return (vz_save *)s;
}

int vz_save_write(vz_save *sv, const void *data, size_t len) {
  return cp_save_write((cp_save *)sv, data, len);
}

int vz_save_error(vz_save *sv, char *err, size_t n) {
  cp_err e;
  if (!cp_save_error((cp_save *)sv, &e)) return 0;
  if (err) snprintf(err, n, "%s", e.msg);
  return 1;
}

int vz_save_commit(vz_save *sv, char *err, size_t n) {
  cp_err e;
  if (cp_save_commit((cp_save *)sv, &e) == 0) return 0;
  if (err) snprintf(err, n, "%s", e.msg);
  return -1;
}

void vz_save_abort(vz_save *sv) { cp_save_abort((cp_save *)sv); }
