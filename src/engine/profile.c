/* profile.c — per-node timing of the current plan and its table. */
#include <stdio.h>
#include <time.h>

#include "engine.h"

double dd_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void dd_exec_set_profile(dd_exec *e, int enabled) {
  if (!e) return;
  e->profile = enabled;
  for (int pi = 0; pi < e->plan_len; pi++) e->plan[pi].ms_fwd = e->plan[pi].ms_bwd = 0;
}

void dd_exec_profile_print(const dd_exec *e, void *file) {
  FILE *f = file ? (FILE *)file : stdout;
  if (!e) return;
  double total = 0, total_bwd = 0, by_op[DD_OP_COUNT] = {0};
  for (int pi = 0; pi < e->plan_len; pi++) {
    total += e->plan[pi].ms_fwd + e->plan[pi].ms_bwd;
    total_bwd += e->plan[pi].ms_bwd;
    by_op[e->g->nodes[e->plan[pi].node].op] += e->plan[pi].ms_fwd + e->plan[pi].ms_bwd;
  }
  fprintf(f, "%-48s %-10s %-18s %9s %9s %9s\n", "node", "op", "shape", "ms", "forward", "backward");
  for (int pi = 0; pi < e->plan_len; pi++) {
    const dd_plan_node *pn = &e->plan[pi];
    if (pn->ms_fwd + pn->ms_bwd < 0.05) continue;
    char shape[32];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d", pn->shape.n, pn->shape.h, pn->shape.w, pn->shape.c);
    fprintf(f, "%-48s %-10s %-18s %9.2f %9.2f %9.2f\n", e->g->nodes[pn->node].name,
            dd_op_name(e->g->nodes[pn->node].op), shape, pn->ms_fwd + pn->ms_bwd, pn->ms_fwd, pn->ms_bwd);
  }
  fprintf(f, "-- by op --\n");
  for (int op = 0; op < DD_OP_COUNT; op++)
    if (by_op[op] > 0) fprintf(f, "%-12s %9.2f ms (%4.1f%%)\n", dd_op_name((dd_op)op), by_op[op], 100 * by_op[op] / total);
  fprintf(f, "total        %9.2f ms (forward %.2f, backward %.2f)\n", total, total - total_bwd, total_bwd);
}
