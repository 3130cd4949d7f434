/* threads.h - a tiny persistent thread pool for the fast kernels.
 *
 * Usage:
 *   static void work(int tid, int nth, void *ctx) { ... split by tid ... }
 *   cp_threads_run(cp_threads_count(), work, &ctx);
 *
 * cp_threads_run calls work(tid, nth, ctx) once for every tid in 0..nth-1
 * and returns when all have returned; the caller's thread runs tid 0.  The
 * workers are created on first use and then kept, spinning briefly before
 * they sleep so that back-to-back calls do not pay a wake-up.  A tid whose
 * worker has not picked it up by the time the caller has finished tid 0 is
 * run by the caller (so a worker descheduled on a busy machine delays
 * nothing when the work was shared out dynamically), as is a tid whose
 * worker could not be created: the work is always done, at worst slower.
 * Each tid runs on exactly one thread at a time, and jobs never overlap
 * (one-thread jobs included), so a tid's scratch has one user at a time.  Calls are serialised by a lock; a task must not call
 * cp_threads_run itself.
 *
 * Each tid also owns a scratch block that grows on demand and is kept
 * (first touch of fresh pages is slow), so kernels do not allocate per call.
 * Nothing here prints, aborts or exits.
 */
#ifndef CP_THREADS_H
#define CP_THREADS_H

#include <stddef.h>

#define CP_THREADS_MAX 8

typedef void (*cp_thread_fn)(int tid, int nth, void *ctx);

/* Threads worth using: online CPUs, at most CP_THREADS_MAX. */
int cp_threads_count(void);

/* Run fn(tid, nth, ctx) for tid = 0..nth-1 (nth clamped to 1..MAX). */
void cp_threads_run(int nth, cp_thread_fn fn, void *ctx);

/* Scratch of at least `bytes` bytes, 64-byte aligned, owned by tid (valid
 * until that tid's next cp_threads_scratch call).  Contents are kept when
 * the block does not grow.  NULL when the memory cannot be had or when
 * bytes exceeds CP_SCRATCH_MAX. */
#define CP_SCRATCH_MAX ((size_t)28 << 20)
void *cp_threads_scratch(int tid, size_t bytes);

#endif
