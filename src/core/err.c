/* err.c - failure reasons for the core. */
#include "err.h"

#include <stdio.h>

int cp_fail(cp_err *e, const char *fmt, ...) {
  if (e != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
  }
  return -1;
}
