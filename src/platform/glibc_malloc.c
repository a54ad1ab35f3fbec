/* Walking glibc malloc's chunks: see glibc_malloc.h for the layout and what is checked. */
#include "platform/glibc_malloc.h"

#include <stdlib.h>
#include <string.h>

#define PREV_INUSE 1u
#define IS_MMAPPED 2u
#define NON_MAIN_ARENA 4u
#define FLAGS 7u

_Static_assert(sizeof(size_t) == 8, "the layout here is glibc's on 64-bit targets");

/* glibc's heap_info (malloc/arena.c). */
typedef struct heap_info {
    uintptr_t ar_ptr, prev;
    size_t size, mprotect_size, pagesize;
    char pad[8];
} heap_info;
_Static_assert(sizeof(heap_info) == TL_MALLOC_HEAP_INFO, "heap_info as in glibc 2.35 and later");
_Static_assert((TL_MALLOC_ARENA_FIRST_CHUNK + TL_MALLOC_HEADER) % TL_MALLOC_ALIGN == 0,
               "an arena's first chunk gives aligned memory");

const void *tl_mem_get(tl_mem *m, uintptr_t addr, size_t len)
{
    if (len > m->window_size)
        return NULL;
    if (addr >= m->at && addr - m->at + len <= m->have)
        return m->window + (addr - m->at);
    m->at = addr; /* a whole window from addr, or what is readable of it */
    m->have = m->read(m->ctx, addr, m->window, m->window_size);
    return m->have >= len ? m->window : NULL;
}

static bool read_words(tl_mem *m, uintptr_t addr, uintptr_t *out, size_t n)
{
    const void *p = tl_mem_get(m, addr, n * sizeof *out);
    if (p)
        memcpy(out, p, n * sizeof *out);
    return p != NULL;
}

/* Chunks of their own mappings, one after another: 0, then a size with IS_MMAPPED alone. A
   memalign'ed one starts further in, and keeps the first header, which spans it. */
static bool walk_mmapped(tl_mem *m, uintptr_t first, uintptr_t end, tl_chunk_fn *fn, void *ctx)
{
    for (uintptr_t c = first; c != end;) {
        uintptr_t h[2];
        if (end - c < TL_MALLOC_MINSIZE || !read_words(m, c, h, 2))
            return false;
        size_t size = h[1] & ~(uintptr_t)FLAGS;
        if (h[0] != 0 || (h[1] & FLAGS) != IS_MMAPPED || size % 4096 || size > end - c || !size)
            return false;
        fn(ctx, c, size, true);
        c += size;
    }
    return true;
}

bool tl_malloc_walk(tl_mem *m, tl_heap_kind kind, uintptr_t first, uintptr_t end,
                    uintptr_t tcache_key, tl_chunk_fn *fn, void *ctx)
{
    if (first % TL_MALLOC_ALIGN || end % TL_MALLOC_ALIGN || first >= end)
        return false;
    if (kind == TL_HEAP_MMAPPED)
        return walk_mmapped(m, first, end, fn, ctx);
    /* A chunk is known to be in use or free only from its successor's header: each is reported
       one step late. */
    uintptr_t prev = 0, prev_size = 0;
    bool prev_tcache = false;
    for (uintptr_t c = first;;) {
        uintptr_t h[2];
        if (end - c < TL_MALLOC_HEADER || !read_words(m, c, h, 2))
            return false;
        size_t size = h[1] & ~(uintptr_t)FLAGS;
        bool prev_in_use = h[1] & PREV_INUSE;
        if (h[1] & IS_MMAPPED || (kind == TL_HEAP_MAIN && h[1] & NON_MAIN_ARENA))
            return false;
        if (!prev && !prev_in_use) /* the first chunk has no predecessor to be free */
            return false;
        if (prev && !prev_in_use && h[0] != prev_size) /* a free chunk's size, repeated */
            return false;
        if (prev)
            fn(ctx, prev, prev_size, prev_in_use && !prev_tcache);
        if (size == end - c) { /* the top chunk, the rest of the heap */
            fn(ctx, c, size, false);
            return true;
        }
        if (size < TL_MALLOC_MINSIZE || size % TL_MALLOC_ALIGN || size > end - c) {
            /* An older heap of another arena ends with sysmalloc's fenceposts: a chunk of 16
               bytes, then one of 0 in the heap's last 16 (heap_trim finds it there), or that
               second one alone. */
            uintptr_t last[2];
            bool fence = kind == TL_HEAP_ARENA &&
                         ((size == 0 && c == end - TL_MALLOC_HEADER && prev_in_use) ||
                          (size == TL_MALLOC_HEADER && c + 2 * TL_MALLOC_HEADER == end &&
                           read_words(m, c + TL_MALLOC_HEADER, last, 2) && last[1] == PREV_INUSE));
            if (fence)
                fn(ctx, c, end - c, false);
            return fence;
        }
        /* A tcache chunk keeps its successor's PREV_INUSE set: its second word, the key, tells. */
        uintptr_t user[2];
        prev_tcache = tcache_key && size <= TL_MALLOC_TCACHE_MAX_CHUNK &&
                      read_words(m, c + TL_MALLOC_HEADER, user, 2) && user[1] == tcache_key;
        prev = c;
        prev_size = size;
        c += size;
    }
}

bool tl_malloc_arena_heap(tl_mem *m, uintptr_t h, uintptr_t limit, size_t page, uintptr_t *first,
                          uintptr_t *end)
{
    heap_info hi;
    const void *p = tl_mem_get(m, h, sizeof hi);
    if (!p || h % TL_MALLOC_HEAP_MAX)
        return false;
    memcpy(&hi, p, sizeof hi);
    if (hi.pagesize != page || hi.size % page || hi.mprotect_size % page || hi.size < page ||
        hi.size > hi.mprotect_size || hi.mprotect_size > TL_MALLOC_HEAP_MAX ||
        hi.size > limit - h || hi.prev % TL_MALLOC_HEAP_MAX)
        return false;
    if (hi.ar_ptr == h + TL_MALLOC_HEAP_INFO) { /* the arena's first heap holds the arena */
        if (hi.prev)
            return false;
        *first = h + TL_MALLOC_ARENA_FIRST_CHUNK;
    } else {
        /* A later heap: its arena lives in another heap, the first of its chain. */
        uintptr_t base = hi.ar_ptr - TL_MALLOC_HEAP_INFO, arena_of_base, arena_of_prev;
        if (!hi.prev || hi.ar_ptr % TL_MALLOC_ALIGN || base % TL_MALLOC_HEAP_MAX ||
            !read_words(m, base, &arena_of_base, 1) || arena_of_base != hi.ar_ptr ||
            !read_words(m, hi.prev, &arena_of_prev, 1) || arena_of_prev != hi.ar_ptr)
            return false;
        *first = h + TL_MALLOC_HEAP_INFO;
    }
    *end = h + hi.size;
    return *first < *end;
}

uintptr_t tl_malloc_tcache_key(tl_mem *m)
{
    /* Three sizes of three bins, freed into their tcaches (a full bin would keep stale data in
       that word instead): the key is the value they agree on. */
    static const size_t sizes[] = {200, 520, 904};
    uintptr_t keys[3];
    for (int i = 0; i < 3; i++) {
        void *p = malloc(sizes[i]);
        uintptr_t at = (uintptr_t)p;
        if (!p)
            return 0;
        free(p);
        m->have = 0; /* what the window held may have changed */
        if (!read_words(m, at + sizeof(uintptr_t), &keys[i], 1))
            return 0;
    }
    return keys[0] && keys[0] == keys[1] && keys[1] == keys[2] ? keys[0] : 0;
}
