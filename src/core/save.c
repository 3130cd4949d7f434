/* save.c - atomic saves: temporary file, checked writes, fsync, rename. */
#include "save.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFSZ 65536

struct cp_save {
  int fd;                     /* the temporary file, -1 once closed */
  int err;                    /* errno of the first failed write, or 0 */
  int slot;                   /* index in the live registry, or -1 */
  size_t used;                /* bytes waiting in buf */
  char *target;               /* the file to replace (symlinks resolved) */
  char *tmp;                  /* the temporary file's path */
  char *dir;                  /* the directory holding both */
  unsigned char buf[BUFSZ];
};

/* ====================================================================== */
/* Live temporary files and the signal-time cleanup                         */
/* ====================================================================== */

/* A slot is 0 (free), 1 (being filled or emptied) or 2 (names a live
 * temporary file).  The handler only reads slots in state 2, and only
 * calls unlink, so it is async-signal-safe and lock-free. */
#define MAXLIVE 32
static _Atomic int live_state[MAXLIVE];
static char live_name[MAXLIVE][PATH_MAX];

static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSIG_CLEAN (int)(sizeof cleanup_signals / sizeof cleanup_signals[0])
static struct sigaction previous[NSIG_CLEAN];
static atomic_flag handlers_installed = ATOMIC_FLAG_INIT;

static void remove_live_files(void) {
  for (int i = 0; i < MAXLIVE; i++)
    if (atomic_load(&live_state[i]) == 2) unlink(live_name[i]);
}

static void on_signal(int sig, siginfo_t *info, void *uctx) {
  int k = 0;
  while (k < NSIG_CLEAN && cleanup_signals[k] != sig) k++;
  if (k == NSIG_CLEAN) return;
  struct sigaction *prev = &previous[k];
  if (prev->sa_flags & SA_SIGINFO) {
    if (prev->sa_sigaction) prev->sa_sigaction(sig, info, uctx);
    return;
  }
  if (prev->sa_handler == SIG_IGN) return;
  if (prev->sa_handler != SIG_DFL) {
    prev->sa_handler(sig); /* someone else's handler: it decides */
    return;
  }
  /* The default action kills the process: clean up first, then die of the
   * same signal so the parent sees the usual status. */
  int saved = errno;
  remove_live_files();
  signal(sig, SIG_DFL);
  raise(sig);
  errno = saved;
}

static void install_handlers(void) {
  if (atomic_flag_test_and_set(&handlers_installed)) return;
  for (int k = 0; k < NSIG_CLEAN; k++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (sigaction(cleanup_signals[k], NULL, &previous[k]) != 0) continue;
    /* An ignored signal stays ignored (nohup). */
    if (!(previous[k].sa_flags & SA_SIGINFO) &&
        previous[k].sa_handler == SIG_IGN)
      continue;
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(cleanup_signals[k], &sa, NULL);
  }
}

static int register_live(const char *name) {
  if (strlen(name) >= PATH_MAX) return -1;
  for (int i = 0; i < MAXLIVE; i++) {
    int expect = 0;
    if (atomic_compare_exchange_strong(&live_state[i], &expect, 1)) {
      strcpy(live_name[i], name);
      atomic_store(&live_state[i], 2);
      return i;
    }
  }
  return -1; /* more than MAXLIVE saves at once: still safe, less tidy */
}

static void unregister_live(int slot) {
  if (slot >= 0) atomic_store(&live_state[slot], 0);
}

int cp_save_live_count(void) {
  int n = 0;
  for (int i = 0; i < MAXLIVE; i++) n += atomic_load(&live_state[i]) == 2;
  return n;
}

/* ====================================================================== */
/* Begin                                                                    */
/* ====================================================================== */

/* The process umask, read without changing it where /proc allows. */
static mode_t current_umask(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f) {
    char line[256];
    unsigned m;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "Umask: %o", &m) == 1) {
        fclose(f);
        return (mode_t)m;
      }
    fclose(f);
  }
  mode_t m = umask(022);
  umask(m);
  return m;
}

static char *dup_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return strdup(".");
  if (slash == path) return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

static void free_save(cp_save *s) {
  free(s->target);
  free(s->tmp);
  free(s->dir);
  free(s);
}

cp_save *cp_save_begin(const char *path, cp_err *e) {
  if (path == NULL || path[0] == '\0') {
    cp_fail(e, "path: empty file name");
    return NULL;
  }
  size_t plen = strlen(path);
  if (path[plen - 1] == '/') {
    cp_fail(e, "path: '%s' names a directory, not a file", path);
    return NULL;
  }
  cp_save *s = calloc(1, sizeof *s);
  if (s == NULL) {
    cp_fail(e, "path: out of memory");
    return NULL;
  }
  s->fd = -1;
  s->slot = -1;
  mode_t mode = 0666 & ~current_umask();
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
    s->target = realpath(path, NULL); /* replace the link's target */
    if (s->target == NULL) {
      cp_fail(e, "path: cannot follow the link '%s': %s", path,
              strerror(errno));
      free_save(s);
      return NULL;
    }
  } else {
    s->target = strdup(path);
  }
  if (s->target == NULL) {
    cp_fail(e, "path: out of memory");
    free_save(s);
    return NULL;
  }
  if (stat(s->target, &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      cp_fail(e, "path: '%s' exists and is not a regular file", path);
      free_save(s);
      return NULL;
    }
    mode = st.st_mode & 07777;
  }
  s->dir = dup_dir(s->target);
  size_t n = s->dir ? strlen(s->dir) + 32 : 0;
  s->tmp = s->dir ? malloc(n) : NULL;
  if (s->tmp == NULL) {
    cp_fail(e, "path: out of memory");
    free_save(s);
    return NULL;
  }
  snprintf(s->tmp, n, "%s/.cpsave-XXXXXX", s->dir);
  install_handlers();
  /* Block the cleanup signals between creating the file and registering
   * it, so a signal cannot leave an unregistered temporary file. */
  sigset_t block, old;
  sigemptyset(&block);
  for (int k = 0; k < NSIG_CLEAN; k++) sigaddset(&block, cleanup_signals[k]);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  s->fd = mkostemp(s->tmp, O_CLOEXEC);
  int err = errno;
  if (s->fd >= 0) s->slot = register_live(s->tmp);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (s->fd < 0) {
    cp_fail(e, "path: cannot write '%s': %s", path, strerror(err));
    free_save(s);
    return NULL;
  }
  if (fchmod(s->fd, mode) != 0) {
    /* not fatal: the data is what matters (e.g. a filesystem without
     * permissions) */
  }
  return s;
}

/* ====================================================================== */
/* Write, commit, abort                                                     */
/* ====================================================================== */

static int write_all(cp_save *s, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(s->fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      s->err = errno;
      return -1;
    }
    if (w == 0) {
      s->err = ENOSPC;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int flush(cp_save *s) {
  if (s->err) return -1;
  if (s->used == 0) return 0;
  int rc = write_all(s, s->buf, s->used);
  s->used = 0;
  return rc;
}

int cp_save_write(cp_save *s, const void *buf, size_t n) {
  if (s == NULL || s->err) return -1;
  const unsigned char *p = buf;
  if (s->used + n > BUFSZ) {
    if (flush(s)) return -1;
    if (n >= BUFSZ) return write_all(s, p, n);
  }
  memcpy(s->buf + s->used, p, n);
  s->used += n;
  return 0;
}

void cp_save_stbi_func(void *ctx, void *data, int size) {
  if (size > 0) cp_save_write(ctx, data, (size_t)size);
}

int cp_save_cairo_func(void *ctx, const unsigned char *data,
                       unsigned int length) {
  return cp_save_write(ctx, data, length) ? 11 : 0;
}

static void discard(cp_save *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  unlink(s->tmp);
  unregister_live(s->slot);
  free_save(s);
}

void cp_save_abort(cp_save *s) {
  if (s) discard(s);
}

int cp_save_commit(cp_save *s, cp_err *e) {
  if (s == NULL) return cp_fail(e, "path: no save in progress");
  const char *stage = "write";
  int rc = flush(s);
  if (rc == 0) {
    stage = "sync";
    while ((rc = fsync(s->fd)) != 0 && errno == EINTR) {}
    if (rc) s->err = errno;
  }
  if (rc == 0) {
    stage = "close";
    rc = close(s->fd);
    s->fd = -1;
    if (rc) s->err = errno;
  }
  if (rc == 0) {
    stage = "rename";
    rc = rename(s->tmp, s->target);
    if (rc) s->err = errno;
  }
  if (rc) {
    cp_fail(e, "path: cannot save '%s' (%s failed: %s); the old file is "
               "unchanged", s->target, stage, strerror(s->err));
    discard(s);
    return -1;
  }
  unregister_live(s->slot);
  s->slot = -1;
  /* The rename is durable only once the directory is on disk too. */
  int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int derr = 0;
  if (dfd >= 0) {
    if (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS) derr = errno;
    close(dfd);
  }
  if (derr) {
    cp_fail(e, "path: saved '%s' but could not sync its directory: %s",
            s->target, strerror(derr));
    free_save(s);
    return -1;
  }
  free_save(s);
  return 0;
}

int cp_save_error(const cp_save *s, cp_err *e) {
  if (s == NULL || s->err == 0) return 0;
  cp_fail(e, "path: cannot save '%s' (write failed: %s); the old file is "
             "unchanged", s->target, strerror(s->err));
  return 1;
}
