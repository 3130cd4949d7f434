/* threads.c - persistent worker threads and per-thread scratch. */
#include "threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- per-thread scratch --------------------------------------------------- */

static struct { void *p; size_t cap; } scratch[CP_THREADS_MAX];

void *cp_threads_scratch(int tid, size_t bytes) {
  if (tid < 0 || tid >= CP_THREADS_MAX || bytes > CP_SCRATCH_MAX) return NULL;
  if (bytes <= scratch[tid].cap) return scratch[tid].p;
  /* Grow by at least half again, so a slowly growing size does not
   * reallocate (and re-touch fresh pages) on every call. */
  size_t want = scratch[tid].cap + scratch[tid].cap / 2;
  if (want < bytes) want = bytes;
  if (want > CP_SCRATCH_MAX) want = CP_SCRATCH_MAX;
  want = (want + 4095) & ~(size_t)4095;
  void *p = NULL;
  if (posix_memalign(&p, 64, want) != 0) return NULL;
  free(scratch[tid].p);
  scratch[tid].p = p;
  scratch[tid].cap = want;
  return p;
}

/* ---- the pool ------------------------------------------------------------- */

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

static int nworkers;                 /* started workers (tids 1..nworkers) */
static atomic_uint generation;       /* bumped once per job */
static cp_thread_fn job_fn;
static void *job_ctx;
static int job_nth;
static int sleepers_wait_done;       /* caller sleeps on done_cv */

/* A job's share tid (1..nth-1) is open while open_gen[tid] holds the job's
 * generation; whoever swaps it to 0 first runs that share: the worker when
 * it wakes in time, else the caller, once its own share is done.  A worker
 * descheduled by a busy machine then costs the caller nothing (it does not
 * wait for a wake-up to learn that no work is left), and a stale worker can
 * never take a later job's share (that holds another generation).  done_gen
 * says a worker finished the share it took. */
static atomic_uint open_gen[CP_THREADS_MAX];
static atomic_uint done_gen[CP_THREADS_MAX];

/* About a quarter millisecond of polling before a worker sleeps. */
#define SPIN_ROUNDS 4000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* The generation current when each worker was started: a worker added by a
 * later, larger call must not take the job before it for its own. */
static unsigned start_gen[CP_THREADS_MAX];

/* Take share tid of job gen: 1 when this caller won it. */
static int take_share(int tid, unsigned gen) {
  unsigned want = gen;
  return atomic_compare_exchange_strong(&open_gen[tid], &want, 0u);
}

static void *worker_main(void *arg) {
  int tid = (int)(size_t)arg;
  unsigned seen = start_gen[tid];
  for (;;) {
    unsigned gen = atomic_load_explicit(&generation, memory_order_acquire);
    for (int i = 0; gen == seen && i < SPIN_ROUNDS; i++) {
      cpu_relax();
      gen = atomic_load_explicit(&generation, memory_order_acquire);
    }
    if (gen == seen) {
      pthread_mutex_lock(&mu);
      while ((gen = atomic_load(&generation)) == seen)
        pthread_cond_wait(&wake, &mu);
      pthread_mutex_unlock(&mu);
    }
    seen = gen;
    if (!take_share(tid, gen)) continue; /* the caller ran it already */
    job_fn(tid, job_nth, job_ctx);
    atomic_store_explicit(&done_gen[tid], gen, memory_order_release);
    pthread_mutex_lock(&mu);
    if (sleepers_wait_done) pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

int cp_threads_count(void) {
  static int n;
  if (n == 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c < 1 ? 1 : c > CP_THREADS_MAX ? CP_THREADS_MAX : (int)c;
  }
  return n;
}

/* Start workers up to tid nth-1; keeps what it managed to start. */
static void start_workers(int nth) {
  while (nworkers < nth - 1) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    start_gen[nworkers + 1] = atomic_load(&generation);
    int rc = pthread_create(&t, &a, worker_main, (void *)(size_t)(nworkers + 1));
    pthread_attr_destroy(&a);
    if (rc != 0) break;
    nworkers++;
  }
}

void cp_threads_run(int nth, cp_thread_fn fn, void *ctx) {
  if (nth < 1) nth = 1;
  if (nth > CP_THREADS_MAX) nth = CP_THREADS_MAX;
  /* One job at a time, even on one thread: tid 0's scratch is shared by
   * every caller (two OS threads may call the ops at once). */
  pthread_mutex_lock(&run_lock);
  if (nth == 1) {
    fn(0, 1, ctx);
    pthread_mutex_unlock(&run_lock);
    return;
  }
  start_workers(nth);
  pthread_mutex_lock(&mu);
  job_fn = fn;
  job_ctx = ctx;
  job_nth = nth;
  unsigned gen = atomic_load(&generation) + 1;
  if (gen == 0) gen = 1; /* 0 means "no share open" */
  for (int t = 1; t < nth && t <= nworkers; t++) atomic_store(&open_gen[t], gen);
  atomic_store_explicit(&generation, gen, memory_order_release);
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&mu);

  fn(0, nth, ctx);
  /* Shares no worker has taken yet (or that have no worker) run here. */
  int waits = 0;
  for (int t = 1; t < nth; t++) {
    if (t > nworkers || take_share(t, gen))
      fn(t, nth, ctx);
    else
      waits |= 1 << t;
  }
  for (int t = 1; t < nth; t++) {
    if (!(waits & (1 << t))) continue;
    for (int i = 0; atomic_load_explicit(&done_gen[t], memory_order_acquire) !=
                        gen && i < SPIN_ROUNDS * 4; i++)
      cpu_relax();
    if (atomic_load_explicit(&done_gen[t], memory_order_acquire) != gen) {
      pthread_mutex_lock(&mu);
      sleepers_wait_done = 1;
      while (atomic_load(&done_gen[t]) != gen) pthread_cond_wait(&done_cv, &mu);
      sleepers_wait_done = 0;
      pthread_mutex_unlock(&mu);
    }
  }
  pthread_mutex_unlock(&run_lock);
}
