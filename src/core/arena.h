/* Memory that is never given back, from mmap, without locks: safe in a signal handler and inside
   the program's allocator, where malloc is not. For what lives as long as the process (interned
   stacks). */
#ifndef TL_CORE_ARENA_H
#define TL_CORE_ARENA_H

#include "tl.h"

/* size bytes, 16-aligned and zeroed; NULL when the system has no memory left. */
void *tl_arena_alloc(size_t size);

#endif
