/* A bump allocator over chunks from mmap. A chunk's free space is claimed with one atomic add; the
   thread that overruns the current chunk maps the next one and installs it with a CAS (a thread
   that loses the race unmaps its own). */
#include "core/arena.h"

#include "platform/platform.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define CHUNK (256u << 10)

typedef struct chunk {
    atomic_size_t used;
    size_t size;
    _Alignas(16) unsigned char data[];
} chunk;

static _Atomic(chunk *) current;

static chunk *map_chunk(size_t at_least)
{
    size_t size = at_least + sizeof(chunk) > CHUNK ? at_least + sizeof(chunk) : CHUNK;
    long p =
        tl_sys(SYS_mmap, 0, (long)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p < 0 && p > -4096)
        return NULL;
    chunk *c = (chunk *)p;
    c->size = size - sizeof(chunk);
    return c;
}

void *tl_arena_alloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    for (;;) {
        chunk *c = atomic_load_explicit(&current, memory_order_acquire);
        if (c) {
            size_t at = atomic_fetch_add_explicit(&c->used, size, memory_order_relaxed);
            if (at + size <= c->size)
                return c->data + at;
        }
        chunk *fresh = map_chunk(size);
        if (!fresh)
            return NULL;
        if (!atomic_compare_exchange_strong(&current, &c, fresh))
            tl_sys(SYS_munmap, (long)fresh, (long)(fresh->size + sizeof(chunk)), 0, 0, 0, 0);
    }
}
