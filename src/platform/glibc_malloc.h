/* glibc malloc's heap as it lies in memory, for the reachability scan (report/reach.c): where its
   chunks are, which are in use, checked at every step. Learnt from glibc 2.36's malloc/malloc.c
   and malloc/arena.c, 64-bit:

   - A chunk is its header (the previous chunk's size when that one is free, then its own size
     with three flags: PREV_INUSE 1, IS_MMAPPED 2, NON_MAIN_ARENA 4) and the user's memory from
     16 bytes in. Sizes are multiples of 16, at least 32. A chunk is in use when the next chunk's
     PREV_INUSE is set; tcache and fastbin chunks are free but keep it set, and a tcache chunk is
     told by its second word, the process's random tcache key.
   - The main arena's chunks tile the [heap] mapping (the program break), its top chunk last.
   - Other arenas' heaps are mappings aligned to 64 MiB, each starting with a heap_info; the first
     heap of an arena holds the arena's malloc_state after it. A heap that is no longer its arena's
     newest ends with two fencepost chunks (16 bytes, then 0).
   - A chunk of its own mapping (a large allocation) starts the mapping: 0, then its size with
     IS_MMAPPED; its size is the mapping's.

   Nothing here trusts memory it reads: every size is checked against alignment and bounds, and a
   walk must end exactly at its region's end, or it fails. Memory is read through a caller's reader
   (which never faults), a window at a time. */
#ifndef TL_PLATFORM_GLIBC_MALLOC_H
#define TL_PLATFORM_GLIBC_MALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_MALLOC_ALIGN 16
#define TL_MALLOC_HEADER 16 /* the user's memory starts this far into a chunk */
#define TL_MALLOC_MINSIZE 32
#define TL_MALLOC_HEAP_MAX (64ul << 20) /* 2 * DEFAULT_MMAP_THRESHOLD_MAX */
/* sizeof(heap_info), and the first chunk of an arena's first heap: heap_info, struct
   malloc_state (2200 bytes in 2.36), rounded so that the user's memory is 16-aligned. */
#define TL_MALLOC_HEAP_INFO 48
#define TL_MALLOC_ARENA_FIRST_CHUNK 2256
#define TL_MALLOC_TCACHE_MAX_CHUNK 1040 /* chunks of the 64 tcache bins: 32 to 1040 bytes */

/* Reads up to len bytes at addr into buf: how many it could, from the start, 0 for none. Never
   faults. */
typedef size_t tl_mem_read_fn(void *ctx, uintptr_t addr, void *buf, size_t len);

/* A reader with a window: what is read is kept, so that headers close together cost one read. */
typedef struct tl_mem {
    tl_mem_read_fn *read;
    void *ctx;
    unsigned char *window; /* window_size bytes, the caller's */
    size_t window_size;
    uintptr_t at; /* the window holds [at, at + have) */
    size_t have;
} tl_mem;

/* len (at most the window's size) bytes at addr, from the window; NULL when unreadable. */
const void *tl_mem_get(tl_mem *m, uintptr_t addr, size_t len);

/* Called for every chunk of a walk, in address order: in_use false for a free chunk (binned, in a
   tcache, the top chunk, a fencepost). */
typedef void tl_chunk_fn(void *ctx, uintptr_t chunk, size_t size, bool in_use);

typedef enum {
    TL_HEAP_MAIN,    /* the main arena's: ends with its top chunk */
    TL_HEAP_ARENA,   /* another arena's: ends with its top chunk or with fenceposts */
    TL_HEAP_MMAPPED, /* chunks of their own mappings, one after another */
} tl_heap_kind;

/* Walks the chunks that tile [first, end), calling fn for each. tcache_key (0 when unknown)
   tells tcache chunks from chunks in use. false when anything is not as glibc leaves it: a size
   out of bounds or misaligned, a flag out of place, a free chunk whose size its successor does not
   repeat, or a walk that does not end exactly at end. fn may have been called for a prefix. */
bool tl_malloc_walk(tl_mem *m, tl_heap_kind kind, uintptr_t first, uintptr_t end,
                    uintptr_t tcache_key, tl_chunk_fn *fn, void *ctx);

/* Whether a heap of another arena starts at h (64 MiB-aligned), inside readable memory up to
   limit: then *first and *end are the span of its chunks. A heap that is not its arena's first
   must point to an arena that the first heap of its chain holds, and so must its predecessor. */
bool tl_malloc_arena_heap(tl_mem *m, uintptr_t h, uintptr_t limit, size_t page, uintptr_t *first,
                          uintptr_t *end);

/* The process's tcache key, learnt from a chunk freed here; 0 when it cannot be (tcache off, or
   the allocator is not glibc's). Allocates, so only before a walk. */
uintptr_t tl_malloc_tcache_key(tl_mem *m);

#endif
