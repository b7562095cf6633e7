// Cache hints for the core's hot path: no I/O, no effect on any result.
//
// The engine's de-duplication table holds one 64-bit fingerprint per message id seen within
// the window (48 h): at the density (2 million messages a week) the ambulance feed's
// table is 8 MB, past the 1.25 MB of L2 a core has here, and its look-up, a random slot, was
// the costliest instruction of a headless replay (perf: 18% of the cycles). The decoder knows a
// line's id fingerprint long before the engine looks it up: a prefetch then lets the slot
// arrive while the rest of the line is decoded; and the table sits in 2 MiB pages where the
// kernel allows it, so a look-up does not also miss the TLB.
#ifndef URGENTFLOW_CACHE_HINTS_H
#define URGENTFLOW_CACHE_HINTS_H
#include <stddef.h>
#include <stdint.h>

/// The cache line at `p` will be read soon. A hint: never faults, even for an address that is
/// no longer valid.
static inline void uf_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }

/// `count` zeroed 64-bit slots; tables of 2 MiB or more are aligned to 2 MiB and advised
/// (`madvise(MADV_HUGEPAGE)`) into huge pages. NULL if memory is exhausted.
uint64_t *uf_table_alloc(size_t count);

/// Frees a table from `uf_table_alloc`.
void uf_table_free(uint64_t *table);

#endif
