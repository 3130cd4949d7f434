/* main.c - runs every TEST registered by the files in tests/c. */
#include <stdio.h>
#include <string.h>

#include "check.h"

#define MAX_TESTS 1024
static struct { const char *name; void (*fn)(void); } tests[MAX_TESTS];
static int ntests, failed_checks;

void check_register(const char *name, void (*fn)(void)) {
  if (ntests < MAX_TESTS) {
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
  }
}

int check_impl(int ok, const char *expr, const char *file, int line) {
  if (!ok) {
    failed_checks++;
    printf("  %s:%d: CHECK(%s) failed\n", file, line, expr);
  }
  return ok;
}

int check_near_impl(double a, double b, double tol, const char *ea,
                    const char *eb, const char *file, int line) {
  int ok = (isnan(a) && isnan(b)) || a == b ||
           fabs(a - b) <= tol * (fabs(b) > 1 ? fabs(b) : 1);
  if (!ok) {
    failed_checks++;
    printf("  %s:%d: %s = %.9g, expected %s = %.9g\n", file, line, ea, a, eb,
           b);
  }
  return ok;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  for (int i = 0; i < ntests; i++) {
    if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL) continue;
    int before = failed_checks;
    tests[i].fn();
    if (failed_checks == before) {
      passed++;
    } else {
      failed++;
      printf("not ok: %s\n", tests[i].name);
    }
  }
  printf("core: %d passed, %d failed\n", passed, failed);
  return failed != 0;
}
