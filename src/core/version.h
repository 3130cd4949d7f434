/* version.h - convplay's version, in one place.
 *
 * The binary (`convplay --version`), the Lua module (`cp._VERSION`), the
 * C library and its pkg-config file (the Makefile reads the three numbers
 * below) all take it from here.  Plain C, no dependencies: installed as
 * <convplay/version.h>. */
#ifndef CONVPLAY_VERSION_H
#define CONVPLAY_VERSION_H

#define CONVPLAY_VERSION_MAJOR 0
#define CONVPLAY_VERSION_MINOR 1
#define CONVPLAY_VERSION_PATCH 0

#define CONVPLAY_STR_(x) #x
#define CONVPLAY_STR(x) CONVPLAY_STR_(x)
/* "MAJOR.MINOR.PATCH", e.g. "0.1.0" */
#define CONVPLAY_VERSION                                                      \
  CONVPLAY_STR(CONVPLAY_VERSION_MAJOR)                                        \
  "." CONVPLAY_STR(CONVPLAY_VERSION_MINOR) "." CONVPLAY_STR(                  \
      CONVPLAY_VERSION_PATCH)
/* A single number for #if tests: 10000 * major + 100 * minor + patch. */
#define CONVPLAY_VERSION_NUM                                                  \
  (CONVPLAY_VERSION_MAJOR * 10000 + CONVPLAY_VERSION_MINOR * 100 +            \
   CONVPLAY_VERSION_PATCH)

#endif
