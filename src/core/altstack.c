/* Alternate signal stacks: one mapping for main, and a pool for the threads we create, carved a
   chunk at a time so that 10,000 threads cost 625 mappings, not 10,000 (each mapping counts
   against vm.max_map_count, which thread stacks already use twice). A stack is 64 KiB of address
   space, of which only the pages a signal frame touches are ever backed: a frame is a few KiB
   (more with AVX-512 or AMX state), and our handler needs little more. A chunk's stacks are handed
   out in turn, untouched; only a stack given back is written to (the free list's link). */
#include "core/altstack.h"

#include "core/lock.h"
#include "core/signals.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define SIZE (64 * 1024)
#define CHUNK 16

static struct {
    atomic_bool enabled;
    tl_lock lock;
    void *free;  /* stacks given back, linked through their lowest word */
    char *carve; /* the next stack of the newest chunk, never used yet */
    int left;    /* the stacks from carve on */
} pool;

static TL_TLS void *mine; /* the calling thread's, while it has it */

static void *map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static bool install(void *base)
{
    stack_t ss = {.ss_sp = base, .ss_size = SIZE};
    return sigaltstack(&ss, NULL) == 0;
}

static void push(void *base)
{
    *(void **)base = pool.free;
    pool.free = base;
}

void tl_altstack_enable(void)
{
    stack_t old;
    void *base;
    atomic_store(&pool.enabled, true);
    if (sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE) && (base = map(SIZE)) &&
        !install(base))
        munmap(base, SIZE);
}

void tl_altstack_give(void)
{
    if (!atomic_load_explicit(&pool.enabled, memory_order_relaxed) || !tl_signal_is_ours(SIGSEGV))
        return;
    tl_lock_acquire(&pool.lock);
    void *base = pool.free;
    if (base) {
        pool.free = *(void **)base;
    } else {
        if (!pool.left && (pool.carve = map((size_t)SIZE * CHUNK)))
            pool.left = CHUNK;
        if (pool.left) {
            base = pool.carve;
            pool.carve += SIZE;
            pool.left--;
        }
    }
    tl_lock_release(&pool.lock);
    if (base && install(base)) {
        mine = base;
    } else if (base) {
        tl_lock_acquire(&pool.lock);
        push(base);
        tl_lock_release(&pool.lock);
    }
}

/* The stack is disabled first, so that no signal lands on it once another thread has it. A thread
   that ends on it (pthread_exit from a handler) cannot disable it: that one is left out. */
void tl_altstack_take_back(void)
{
    void *base = mine;
    stack_t off = {.ss_flags = SS_DISABLE};
    if (!base)
        return;
    mine = NULL;
    if (sigaltstack(&off, NULL) != 0)
        return;
    tl_lock_acquire(&pool.lock);
    push(base);
    tl_lock_release(&pool.lock);
}

void tl_altstack_fork_prepare(void)
{
    tl_lock_acquire(&pool.lock);
}

void tl_altstack_fork_parent(void)
{
    tl_lock_release(&pool.lock);
}

void tl_altstack_fork_child(void)
{
    tl_lock_reset(&pool.lock);
}
