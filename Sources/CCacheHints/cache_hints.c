#include "cache_hints.h"
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define HUGE_PAGE ((size_t)2 << 20)

uint64_t *uf_table_alloc(size_t count) {
    size_t bytes = count * sizeof(uint64_t);
    size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64;
    void *p = NULL;
    if (posix_memalign(&p, align, bytes) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= HUGE_PAGE) (void)madvise(p, bytes, MADV_HUGEPAGE);   // advice only: refused is fine
#endif
    memset(p, 0, bytes);
    return (uint64_t *)p;
}

void uf_table_free(uint64_t *table) { free(table); }
