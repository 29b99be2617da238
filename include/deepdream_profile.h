/* deepdream_profile.h — where a model's time and memory go. A sibling of
 * deepdream.h with its contracts; for tools (the command lines' --profile,
 * benchmarks), not needed to dream.
 *
 * While profiling is on, every dd_model_forward / dd_model_gradient /
 * dream step adds each node's wall time to the model's profile; profiling
 * costs one clock read per node. The profile belongs to the model (two
 * models profile independently) and must not be used from two threads at once.
 */
#ifndef DEEPDREAM_PROFILE_H
#define DEEPDREAM_PROFILE_H

#include <stdio.h>

#include "deepdream.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Turns per-node timing on (non-zero; clears the times) or off. */
dd_status dd_model_set_profile(dd_model *model, int enabled, dd_error *err);

/* Prints the per-op table of the last profiled run to `file` (a stdio
   stream; one line per node with its total, forward and backward times,
   then totals per op type). */
dd_status dd_model_profile_print(const dd_model *model, FILE *file, dd_error *err);

/* The peak size in bytes of the model's activation arena so far. */
size_t dd_model_arena_peak(const dd_model *model);
/* Bytes of the scratch the model's convolutions share (grown as geometries
   are prepared: the largest one conv needs on the model's threads). */
size_t dd_model_workspace_bytes(const dd_model *model);

#ifdef __cplusplus
}
#endif
#endif /* DEEPDREAM_PROFILE_H */
