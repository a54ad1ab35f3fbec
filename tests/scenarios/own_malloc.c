/* A program with its own allocator that calls prctl(PR_SET_VMA) to name its arena while holding its
   own spinlock, on first use, and is first used from .preinit_array, before any library's
   constructor: chromium's PartitionAlloc does both. A library that starts up inside that prctl and
   allocates spins for ever on the allocator's lock. It leaks one thread, which the report names. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define ARENA (64u << 20)

static atomic_flag spin = ATOMIC_FLAG_INIT;
static unsigned char *arena;
static size_t used;

/* A bump allocator: a size header before each block; free does nothing. */
static void *allocate(size_t size, size_t align)
{
    while (atomic_flag_test_and_set_explicit(&spin, memory_order_acquire))
        ; /* a spinlock, as PartitionAlloc's */
    if (!arena) {
        arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        /* Under our own lock, as chromium does: whatever this reaches must not allocate. */
        prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)arena, ARENA, "own-arena");
    }
    align = align < 16 ? 16 : align;
    size_t start = (used + 16 + align - 1) & ~(align - 1);
    void *p = NULL;
    if (arena != MAP_FAILED && start + size <= ARENA) {
        ((size_t *)(arena + start))[-1] = size;
        p = arena + start;
        used = start + size;
    }
    atomic_flag_clear_explicit(&spin, memory_order_release);
    if (!p)
        errno = ENOMEM;
    return p;
}

void *malloc(size_t size)
{
    return allocate(size, 16);
}

void free(void *p)
{
    (void)p;
}

void *calloc(size_t n, size_t size)
{
    void *p = n && size > SIZE_MAX / n ? NULL : allocate(n * size, 16);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *realloc(void *old, size_t size)
{
    void *p = allocate(size, 16);
    if (p && old) {
        size_t was = ((size_t *)old)[-1];
        memcpy(p, old, was < size ? was : size);
    }
    return p;
}

void *memalign(size_t align, size_t size)
{
    return allocate(size, align);
}

void *aligned_alloc(size_t align, size_t size)
{
    return allocate(size, align);
}

int posix_memalign(void **p, size_t align, size_t size)
{
    return (*p = allocate(size, align)) ? 0 : ENOMEM;
}

size_t malloc_usable_size(void *p)
{
    return p ? ((size_t *)p)[-1] : 0;
}

static void first_use(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    free(malloc(32));
}
__attribute__((section(".preinit_array"), used)) static void (*preinit)(int, char **,
                                                                        char **) = first_use;

static void *wait_for_ever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void start_leaked(void)
{
    pthread_t t;
    pthread_create(&t, NULL, wait_for_ever, NULL);
}

int main(void)
{
    start_leaked();
    usleep(20000);
    puts("main done");
    return 0;
}
