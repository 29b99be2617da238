/* memplan.c — first-fit placement of usage records, largest first (memplan.h). */
#include "memplan.h"

#include "core/core.h"

static int lifetimes_meet(const dd_usage_record *x, const dd_usage_record *y) {
  return x->first <= y->last && y->first <= x->last;
}

static int bytes_meet(const dd_usage_record *x, const dd_usage_record *y) {
  return x->offset < y->offset + y->size && y->offset < x->offset + x->size;
}

size_t dd_memplan_place(dd_usage_record *rec, int n, int *order) {
  for (int i = 0; i < n; i++) order[i] = i;
  /* largest first, stable (insertion sort: n is a few hundred) */
  for (int i = 1; i < n; i++) {
    int v = order[i], k = i;
    while (k > 0 && rec[order[k - 1]].size < rec[v].size) {
      order[k] = order[k - 1];
      k--;
    }
    order[k] = v;
  }
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    dd_usage_record *r = &rec[order[i]];
    r->offset = 0;
    /* move past every placed, live-at-once buffer it would overlap, until none */
    for (int again = 1; again;) {
      again = 0;
      for (int k = 0; k < i; k++) {
        const dd_usage_record *u = &rec[order[k]];
        if (lifetimes_meet(r, u) && bytes_meet(r, u)) {
          if (!dd_add_size(u->offset, u->size, &r->offset)) return SIZE_MAX; /* beyond the address space */
          again = 1;
        }
      }
    }
    size_t end;
    if (!dd_add_size(r->offset, r->size, &end)) return SIZE_MAX;
    if (end > total) total = end;
  }
  return total;
}

int dd_memplan_conflict(const dd_usage_record *rec, int n, int *a, int *b) {
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (rec[i].size && rec[j].size && lifetimes_meet(&rec[i], &rec[j]) && bytes_meet(&rec[i], &rec[j])) {
        if (a) *a = i;
        if (b) *b = j;
        return 1;
      }
  return 0;
}
