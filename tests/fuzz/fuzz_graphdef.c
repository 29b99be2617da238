/* fuzz_graphdef.c — libFuzzer target for the GraphDef importer.
 *
 * Every input is imported twice (copying and borrowing constants). A successful
 * import must validate, and every constant's first and last bytes are read so
 * that ASan checks the data pointers; a failure must carry a status and a
 * NUL-terminated, non-empty message. Build and run: tests/fuzz/run_fuzz.sh. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/graphdef.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (int borrow = 0; borrow <= 1; borrow++) {
    dd_graph g;
    dd_error err;
    memset(&err, 0, sizeof err);
    dd_status s = dd_graphdef_import(data, size, borrow, &g, &err);
    if (s == DD_OK) {
      if (dd_graph_validate(&g, &err) != DD_OK) __builtin_trap(); /* import promises a valid graph */
      for (int i = 0; i < g.n_nodes; i++)
        if (dd_graph_find(&g, g.nodes[i].name) != i) __builtin_trap();
      fuzz_touch_constants(&g);
      dd_graph_free(&g);
    } else {
      fuzz_check_error(s, &err);
    }
  }
  return 0;
}
