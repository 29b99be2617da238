/* fuzz_common.h — checks the importer fuzzers share (header-only). */
#ifndef DD_FUZZ_COMMON_H
#define DD_FUZZ_COMMON_H

#include <stdint.h>
#include <string.h>

#include "graph/graph.h"

/* Reads every constant's first and last values, so ASan checks the data
   pointers; returns the constants' bytes. */
static size_t fuzz_touch_constants(const dd_graph *g) {
  size_t bytes = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const dd_node *n = &g->nodes[i];
    if (n->op != DD_OP_CONST || n->attr.value.count == 0) continue;
    const dd_const *c = &n->attr.value;
    const uint8_t *p = c->dtype == DD_DTYPE_FLOAT ? (const uint8_t *)c->f : (const uint8_t *)c->i;
    volatile uint8_t sink;
    uint8_t tmp[4];
    memcpy(tmp, p, 4);
    memcpy(tmp, p + 4 * (size_t)(c->count - 1), 4);
    sink = tmp[0];
    (void)sink;
    bytes += (size_t)c->count * 4;
  }
  return bytes;
}

/* A failure carries its status and a NUL-terminated, non-empty message. */
static void fuzz_check_error(dd_status s, const dd_error *err) {
  if (s >= 0 || err->status != s) __builtin_trap();
  if (!memchr(err->message, '\0', sizeof err->message) || err->message[0] == '\0') __builtin_trap();
}

#endif
