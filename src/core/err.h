/* err.h - how the core reports failure.
 *
 * The core never aborts, exits or prints.  A function that can fail takes a
 * `cp_err *` as its last argument and returns 0 on success or -1 on failure,
 * having written a one-line reason into err->msg.  The reason starts with the
 * argument it is about ("stride: non-positive stride is not supported"), so
 * the binding only has to prefix the function name.
 */
#ifndef CP_ERR_H
#define CP_ERR_H

#include <stdarg.h>

typedef struct cp_err {
  char msg[512];              /* the reason, NUL-terminated */
} cp_err;

/* Write a printf-style reason into e (if e is not NULL); returns -1. */
int cp_fail(cp_err *e, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
