/* memplan.h — places buffers with known lifetimes in one block, so that
 * buffers that are live at the same step never share a byte (the memory
 * planner of XNNPACK's runtime, for the engine's gradient buffers).
 *
 * A usage record gives a buffer's size and the steps it is live, first to
 * last inclusive. dd_memplan_place assigns offsets by first fit, largest
 * first (ties in record order): each buffer goes to the lowest offset where
 * it overlaps no already placed buffer whose lifetime intersects its own.
 * The result depends only on the records, never on timing or memory.
 */
#ifndef DD_MEMPLAN_H
#define DD_MEMPLAN_H

#include <stddef.h>

typedef struct dd_usage_record {
  int first, last;  /* live from step `first` to step `last`, inclusive (first <= last) */
  size_t size;      /* bytes */
  size_t offset;    /* out: byte offset in the block */
} dd_usage_record;

/* Places n records; `order` is scratch for n ints. Returns the block size
   (the largest offset + size; 0 for n == 0). Sizes are used as given: a
   caller that needs alignment rounds them (and the block base) first. */
size_t dd_memplan_place(dd_usage_record *rec, int n, int *order);

/* 1 when two records of the same live step overlap in bytes, else 0; *a,
   *b (may be NULL) receive the first such pair. For tests and checks. */
int dd_memplan_conflict(const dd_usage_record *rec, int n, int *a, int *b);

#endif /* DD_MEMPLAN_H */
