/* atomic_file.h — whole-file writes that a crash cannot tear.
 *
 * dd_atomic_write_file(path, ...) writes the bytes to a temporary file next to
 * `path` named "<name>.tmp-<pid>-<ms>-<rand>" (the pattern the Node side's
 * persist.js uses), fsyncs it, renames it over `path` and fsyncs the
 * directory. A kill -9 or a power cut at any moment leaves `path` either
 * whole and old or whole and new, never empty or mixed.
 *
 * Before writing, temporaries of that pattern left in the same directory by
 * killed writers are removed: only files whose writer process is gone (not
 * this process) and whose timestamp is older than this write.
 */
#ifndef DD_CLI_ATOMIC_FILE_H
#define DD_CLI_ATOMIC_FILE_H

#include <stddef.h>

#include "deepdream.h"

/* Writes len bytes to path atomically. On failure `path` is unchanged, the
 * temporary is removed, and err says which step failed and why (errno). */
dd_status dd_atomic_write_file(const char *path, const void *data, size_t len, dd_error *err);

/* Removes orphaned temporaries ("*.tmp-<pid>-<ms>-<rand>", dead pid, ms
 * older than now_ms) in `dir`; returns how many were removed. Best effort:
 * never fails. */
int dd_atomic_clean_orphans(const char *dir, long long now_ms);

#endif
