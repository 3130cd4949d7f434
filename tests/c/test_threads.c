/* test_threads.c - the pool's share hand-off (threads.c): a share is run by
 * its worker or, when the worker is late, by the caller, never both and
 * never neither, across many back-to-back jobs of varying width (stale
 * wake-ups from one job must not take a share of the next), and the caller
 * waits for a share a worker did take. */
#include <stdint.h>
#include <time.h>

#include "../../src/core/threads.h"
#include "check.h"

static void count_tids(int tid, int nth, void *ctx) {
  int *seen = ctx;
  if (tid >= 0 && tid < nth) __atomic_fetch_add(&seen[tid], 1, __ATOMIC_RELAXED);
}

TEST(threads_back_to_back_shares) {
  uint32_t s = 12345;
  int bad = 0;
  for (int rep = 0; rep < 20000; rep++) {
    s = s * 1664525u + 1013904223u;
    int nth = 1 + (int)(s >> 16) % CP_THREADS_MAX;
    int seen[CP_THREADS_MAX] = {0};
    cp_threads_run(nth, count_tids, seen);
    for (int t = 0; t < CP_THREADS_MAX; t++) bad += seen[t] != (t < nth);
  }
  CHECK(bad == 0);
}

/* Shares that take a while: whoever runs them, the call returns only when
 * all are done. */
static void slow_tids(int tid, int nth, void *ctx) {
  int *done = ctx;
  struct timespec d = {0, 200000 * (tid + 1)};
  nanosleep(&d, NULL);
  if (tid < nth) __atomic_store_n(&done[tid], 1, __ATOMIC_RELEASE);
}

TEST(threads_wait_for_taken_shares) {
  for (int rep = 0; rep < 50; rep++) {
    int done[CP_THREADS_MAX] = {0};
    cp_threads_run(2 + rep % 3, slow_tids, done);
    for (int t = 0; t < 2 + rep % 3; t++)
      CHECK(__atomic_load_n(&done[t], __ATOMIC_ACQUIRE) == 1);
  }
}
