/* profile.c — the public profiling door (include/deepdream_profile.h) onto the
 * engine's per-node timing. */
#include "deepdream_profile.h"

#include "core/core.h"
#include "model_internal.h"

dd_status dd_model_set_profile(dd_model *m, int enabled, dd_error *err) {
  if (!m) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_model_set_profile: NULL model");
  dd_exec_set_profile(m->exec, enabled != 0);
  return DD_OK;
}

dd_status dd_model_profile_print(const dd_model *m, FILE *file, dd_error *err) {
  if (!m || !file) return dd_fail(err, DD_ERR_INVALID_ARGUMENT, "dd_model_profile_print: NULL argument");
  dd_exec_profile_print(m->exec, file);
  return DD_OK;
}

size_t dd_model_arena_peak(const dd_model *m) { return m ? dd_exec_arena_peak(m->exec) : 0; }
size_t dd_model_workspace_bytes(const dd_model *m) { return m ? dd_exec_workspace_bytes(m->exec) : 0; }
