/* test_save.c - the atomic save (src/core/save.h): the old file survives
 * every failure, no temporary file is left behind, signals included. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/core/image.h"
#include "../../src/core/save.h"
#include "check.h"

static char *make_dir(void) {
  static char buf[64];
  snprintf(buf, sizeof buf, "/tmp/cpsave-test-XXXXXX");
  return mkdtemp(buf);
}

static void rm_rf(const char *dir) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) {}
}

/* Files in dir whose name starts with ".cpsave-". */
static int temp_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strncmp(e->d_name, ".cpsave-", 8) == 0) n++;
  closedir(d);
  return n;
}

static int write_file(const char *path, const char *s, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = fwrite(s, 1, n, f);
  return fclose(f) == 0 && w == n ? 0 : -1;
}

/* The file's bytes equal s[0..n). */
static int file_is(const char *path, const char *s, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  char *buf = malloc(n + 1);
  size_t got = fread(buf, 1, n + 1, f);
  fclose(f);
  int ok = got == n && memcmp(buf, s, n) == 0;
  free(buf);
  return ok;
}

static int save_bytes(const char *path, const char *s, size_t n, cp_err *e) {
  cp_save *sv = cp_save_begin(path, e);
  if (!sv) return -1;
  /* in uneven pieces, through the stb adapter too */
  size_t half = n / 3;
  cp_save_write(sv, s, half);
  cp_save_stbi_func(sv, (void *)(s + half), (int)(n - half));
  return cp_save_commit(sv, e);
}

TEST(save_replaces_and_leaves_no_temp) {
  char *dir = make_dir();
  CHECK(dir != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/a.bin", dir);
  CHECK(write_file(path, "old contents", 12) == 0);
  cp_err e;
  CHECK(save_bytes(path, "new!", 4, &e) == 0);
  CHECK(file_is(path, "new!", 4));
  CHECK(temp_files(dir) == 0);
  CHECK(cp_save_live_count() == 0);
  rm_rf(dir);
}

TEST(save_abort_keeps_old_file) {
  char *dir = make_dir();
  char path[128];
  snprintf(path, sizeof path, "%s/a.bin", dir);
  CHECK(write_file(path, "old", 3) == 0);
  cp_err e;
  cp_save *sv = cp_save_begin(path, &e);
  CHECK(sv != NULL);
  CHECK(cp_save_write(sv, "partial", 7) == 0);
  CHECK(temp_files(dir) == 1);
  CHECK(cp_save_live_count() == 1);
  cp_save_abort(sv);
  CHECK(file_is(path, "old", 3));
  CHECK(temp_files(dir) == 0);
  CHECK(cp_save_live_count() == 0);
  rm_rf(dir);
}

TEST(save_long_name_and_permissions) {
  char *dir = make_dir();
  char path[512];
  int k = snprintf(path, sizeof path, "%s/", dir);
  for (int i = 0; i < 250; i++) path[k++] = 'n';
  strcpy(path + k, ".png"); /* 254 characters: legal */
  cp_err e;
  CHECK(save_bytes(path, "x", 1, &e) == 0);
  CHECK(file_is(path, "x", 1));
  struct stat st;
  mode_t um = umask(0);
  umask(um);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~um));
  /* an existing file keeps its mode */
  CHECK(chmod(path, 0640) == 0);
  CHECK(save_bytes(path, "yy", 2, &e) == 0);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
  CHECK(temp_files(dir) == 0);
  rm_rf(dir);
}

TEST(save_refuses_non_regular_targets) {
  char *dir = make_dir();
  char path[128];
  cp_err e;
  snprintf(path, sizeof path, "%s/sub", dir);
  CHECK(mkdir(path, 0755) == 0);
  CHECK(cp_save_begin(path, &e) == NULL);
  CHECK(strstr(e.msg, "not a regular file") != NULL);
  snprintf(path, sizeof path, "%s/fifo", dir);
  CHECK(mkfifo(path, 0644) == 0);
  CHECK(cp_save_begin(path, &e) == NULL);
  snprintf(path, sizeof path, "%s/missing/x.png", dir);
  CHECK(cp_save_begin(path, &e) == NULL);
  CHECK(strstr(e.msg, "No such file") != NULL);
  CHECK(strstr(e.msg, "(null)") == NULL);
  CHECK(temp_files(dir) == 0);
  rm_rf(dir);
}

TEST(save_through_a_symlink_keeps_the_link) {
  char *dir = make_dir();
  char real[128], link[128];
  snprintf(real, sizeof real, "%s/real.bin", dir);
  snprintf(link, sizeof link, "%s/link.bin", dir);
  CHECK(write_file(real, "old", 3) == 0);
  CHECK(symlink("real.bin", link) == 0);
  cp_err e;
  CHECK(save_bytes(link, "new", 3, &e) == 0);
  struct stat st;
  CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
  CHECK(file_is(real, "new", 3));
  rm_rf(dir);
}

/* A save killed by SIGTERM (or SIGINT) in the middle: the process dies of
 * that signal, the old file is intact and no temporary file is left. */
static void killed_mid_save(int sig) {
  char *dir = make_dir();
  char path[128];
  snprintf(path, sizeof path, "%s/a.bin", dir);
  CHECK(write_file(path, "old", 3) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    cp_err e;
    cp_save *sv = cp_save_begin(path, &e);
    if (!sv) _exit(3);
    static char chunk[1 << 16];
    for (int i = 0; i < 8; i++) cp_save_write(sv, chunk, sizeof chunk);
    raise(sig); /* "mid-save": the temporary file exists and holds data */
    _exit(4);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig);
  CHECK(file_is(path, "old", 3));
  CHECK(temp_files(dir) == 0);
  rm_rf(dir);
}

TEST(save_killed_by_sigterm_leaves_no_temp) { killed_mid_save(SIGTERM); }
TEST(save_killed_by_sigint_leaves_no_temp) { killed_mid_save(SIGINT); }

/* A full filesystem: a small tmpfs (needs root and CAP_SYS_ADMIN, as in
 * CI; skipped with a message otherwise). */
TEST(save_on_a_full_disk_keeps_the_old_file) {
  if (geteuid() != 0) {
    printf("  skip: full-disk save test needs root (mounts a tmpfs)\n");
    return;
  }
  char *dir = make_dir();
  if (mount("tmpfs", dir, "tmpfs", 0, "size=64k") != 0) {
    printf("  skip: cannot mount a tmpfs (%s)\n", strerror(errno));
    rm_rf(dir);
    return;
  }
  char path[128], fill[128];
  snprintf(path, sizeof path, "%s/old.png", dir);
  snprintf(fill, sizeof fill, "%s/filler", dir);
  static char old[20000], big[60000];
  for (size_t i = 0; i < sizeof old; i++) old[i] = (char)(i * 7);
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 13);
  CHECK(write_file(path, old, sizeof old) == 0);
  cp_err e;
  /* raw bytes */
  CHECK(save_bytes(path, big, sizeof big, &e) == -1);
  CHECK(strstr(e.msg, "No space left") != NULL);
  CHECK(file_is(path, old, sizeof old));
  CHECK(temp_files(dir) == 0);
  /* image.save of noise (PNG, JPEG, BMP) */
  int64_t shape[3] = {3, 128, 128};
  cp_tensor t;
  CHECK(cp_tensor_empty(&t, 3, shape, &e) == 0);
  float *d = cp_tensor_data(&t);
  unsigned s = 1;
  for (int64_t i = 0; i < 3 * 128 * 128; i++) {
    s = s * 1103515245u + 12345u;
    d[i] = (float)(s >> 16 & 255) / 255.0f;
  }
  const char *names[] = {"old.png", "old.jpg", "old.bmp"};
  for (int k = 0; k < 3; k++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    if (k) CHECK(write_file(path, old, 1000) == 0);
    size_t n = k ? 1000 : sizeof old;
    CHECK(cp_image_save(&t, path, 100, &e) == -1);
    CHECK(strstr(e.msg, "unchanged") != NULL);
    CHECK(file_is(path, old, n));
    CHECK(temp_files(dir) == 0);
  }
  cp_tensor_release(&t);
  /* filling the disk before the save fails at once and cleanly too */
  {
    FILE *f = fopen(fill, "wb");
    while (f && fwrite(big, 1, 4096, f) == 4096 && fflush(f) == 0) {}
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/old.png", dir);
    CHECK(save_bytes(path, "tiny", 4, &e) == -1 || file_is(path, "tiny", 4));
    CHECK(temp_files(dir) == 0);
  }
  CHECK(umount(dir) == 0);
  rm_rf(dir);
}
