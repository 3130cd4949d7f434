/* check.h - a tiny test harness for the C core tests.
 * A file defines TEST(name) { ... CHECK(cond); ... } blocks; they register
 * themselves and tests/c/main.c runs them all, printing one line per failed
 * check and a closing "N passed, N failed" line (counting tests). */
#ifndef CHECK_H
#define CHECK_H

#include <math.h>

void check_register(const char *name, void (*fn)(void));
int check_impl(int ok, const char *expr, const char *file, int line);
int check_near_impl(double a, double b, double tol, const char *ea,
                    const char *eb, const char *file, int line);

#define TEST(name)                                                     \
  static void name(void);                                              \
  __attribute__((constructor)) static void reg_##name(void) {          \
    check_register(#name, name);                                       \
  }                                                                    \
  static void name(void)

#define CHECK(cond) check_impl(!!(cond), #cond, __FILE__, __LINE__)
/* |a-b| <= tol * max(1, |b|); NaN equals NaN. */
#define CHECK_NEAR(a, b, tol) \
  check_near_impl((a), (b), (tol), #a, #b, __FILE__, __LINE__)

#endif
