/* atomic_file.c — temp + fsync + rename + directory fsync; orphan cleanup.
 * See atomic_file.h. POSIX only (the native CLI's platforms). */
#define _POSIX_C_SOURCE 200809L
#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>


static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Splits path into its directory (malloc'd, "." when none) and base name. */
static char *dir_of(const char *path, const char **base) {
  const char *slash = strrchr(path, '/');
  *base = slash ? slash + 1 : path;
  if (!slash) return strdup(".");
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  char *d = (char *)malloc(n + 1);
  if (d) {
    memcpy(d, path, n);
    d[n] = 0;
  }
  return d;
}

/* "<anything>.tmp-<pid>-<ms>-<rand>": returns 1 and the pid and ms. */
static int parse_temp_name(const char *name, long *pid, long long *ms) {
  const char *t = NULL;
  for (const char *p = strstr(name, ".tmp-"); p; p = strstr(p + 1, ".tmp-")) t = p;
  if (!t || t == name) return 0;
  const char *p = t + 5;
  char *end;
  errno = 0;
  long v = strtol(p, &end, 10);
  if (errno || end == p || *end != '-' || v <= 0) return 0;
  p = end + 1;
  long long m = strtoll(p, &end, 10);
  if (errno || end - p < 10 || *end != '-') return 0;
  p = end + 1;
  size_t k = 0;
  for (; p[k]; k++)
    if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '0' && p[k] <= '9'))) return 0;
  if (k == 0 || k > 8) return 0;
  *pid = v;
  *ms = m;
  return 1;
}

static int process_gone(long pid) {
  if (pid == (long)getpid()) return 0;
  return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

int dd_atomic_clean_orphans(const char *dir, long long before_ms) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int removed = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long pid;
    long long ms;
    if (!parse_temp_name(e->d_name, &pid, &ms) || ms >= before_ms || !process_gone(pid)) continue;
    size_t n = strlen(dir) + strlen(e->d_name) + 2;
    char *p = (char *)malloc(n);
    if (!p) break;
    snprintf(p, n, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && unlink(p) == 0) removed++;
    free(p);
  }
  closedir(d);
  return removed;
}

static int write_all(int fd, const unsigned char *p, size_t len) {
  while (len) {
    ssize_t w = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    p += w;
    len -= (size_t)w;
  }
  return 1;
}

static void sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)fsync(fd); /* some file systems refuse directory fsync: the rename is still atomic */
  close(fd);
}

dd_status dd_atomic_write_file(const char *path, const void *data, size_t len, dd_error *err) {
  const char *base;
  char *dir = dir_of(path, &base);
  if (!dir) return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "writing %s: out of memory", path);
  if (!*base) {
    free(dir);
    return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "writing %s: the path names a directory, not a file", path);
  }
  long long ms = now_ms();
  dd_atomic_clean_orphans(dir, ms);

  size_t n = strlen(path) + 64;
  char *tmp = (char *)malloc(n);
  if (!tmp) {
    free(dir);
    return dd_fail(err, DD_ERR_OUT_OF_MEMORY, "writing %s: out of memory", path);
  }
  static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  unsigned long r = (unsigned long)ms * 2654435761u ^ (unsigned long)getpid() * 40503u ^ (unsigned long)(size_t)tmp;
  char rnd[7];
  for (int i = 0; i < 6; i++, r /= 36) rnd[i] = digits[r % 36];
  rnd[6] = 0;
  snprintf(tmp, n, "%s.tmp-%ld-%lld-%s", path, (long)getpid(), ms, rnd);

  const char *step = "creating";
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) goto fail;
  step = "writing";
  if (!write_all(fd, (const unsigned char *)data, len)) goto fail_fd;
  step = "syncing";
  if (fsync(fd) != 0) goto fail_fd;
  step = "closing";
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  step = "renaming";
  if (rename(tmp, path) != 0) goto fail;
  sync_dir(dir);
  free(tmp);
  free(dir);
  return DD_OK;

fail_fd:;
  int saved = errno;
  close(fd);
  errno = saved;
fail:;
  int e = errno;
  unlink(tmp);
  dd_status s = dd_fail(err, DD_ERR_IO, "writing %s: %s the temporary file %s failed: %s", path, step, tmp, strerror(e));
  free(tmp);
  free(dir);
  errno = e;
  return s;
}
