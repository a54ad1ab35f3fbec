/* A report needs arrays of a record a thread: its rows, and what the reachability scan is told of
   each thread (4 MB for 10,000 threads). From malloc they were fresh memory at every report: glibc
   gives an arena's top back to the kernel (MADV_DONTNEED) when the report frees them, and every
   page then faulted in again at the next, 2,000 faults (40 ms in this VM) for 3 ms of work.

   Each kind keeps the mapping of its last report instead: the first report of a process faults in
   what it touches, a later one of a like size nothing. A mapping more than four times too big is
   given back (a process whose threads went from 100,000 to 100 keeps no 40 MB), and a report
   that finds its kind taken (two at once) maps and unmaps its own. */
#include "report/scratch.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#define HEADER 64 /* the mapping's length, before what the caller gets */

static struct {
    atomic_bool taken;
    atomic_uint changes;  /* odd while the taker replaces the mapping */
    _Atomic(char *) kept; /* a mapping's start, or NULL */
    atomic_size_t length; /* its length, for tl_scratch_kept, which must not read the mapping */
} kinds[TL_SCRATCH_KINDS];

static size_t length_of(const char *m)
{
    return *(const size_t *)m;
}

/* Populated at once: the report writes nearly all of it, and the kernel fills the pages in one
   call for about half what a fault a page costs. */
static char *map(size_t size)
{
    size_t length = HEADER + size;
    char *m = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    *(size_t *)m = length;
    return m;
}

static bool fits(const char *m, size_t size)
{
    return m && length_of(m) >= HEADER + size && length_of(m) <= 4 * (HEADER + size) + (1 << 20);
}

void *tl_scratch_take(tl_scratch_kind kind, size_t size)
{
    bool free_now = false;
    char *m;
    if (!atomic_compare_exchange_strong(&kinds[kind].taken, &free_now, true))
        return (m = map(size)) ? m + HEADER : NULL;
    m = atomic_load(&kinds[kind].kept);
    if (fits(m, size)) {
        memset(m + HEADER, 0, size); /* new pages are zero: only a reused mapping is cleared */
        return m + HEADER;
    }
    /* Not named while it is unmapped: another report's own mapping may come at its address. */
    atomic_fetch_add(&kinds[kind].changes, 1);
    atomic_store(&kinds[kind].kept, NULL);
    if (m)
        munmap(m, length_of(m));
    m = map(size);
    atomic_store(&kinds[kind].length, m ? length_of(m) : 0);
    atomic_store(&kinds[kind].kept, m);
    atomic_fetch_add(&kinds[kind].changes, 1);
    if (!m)
        atomic_store(&kinds[kind].taken, false);
    return m ? m + HEADER : NULL;
}

void tl_scratch_give(tl_scratch_kind kind, void *p)
{
    char *m = p ? (char *)p - HEADER : NULL;
    if (m && m == atomic_load(&kinds[kind].kept))
        atomic_store(&kinds[kind].taken, false);
    else if (m)
        munmap(m, length_of(m));
}

/* Read as a seqlock: a mapping being replaced meanwhile (three reports at once) is not told, which
   leaves the scan more roots, never fewer. */
bool tl_scratch_kept(tl_scratch_kind kind, uintptr_t *lo, uintptr_t *hi)
{
    unsigned changes = atomic_load(&kinds[kind].changes);
    const char *m = atomic_load(&kinds[kind].kept);
    size_t length = atomic_load(&kinds[kind].length);
    if (!m || changes % 2 || atomic_load(&kinds[kind].changes) != changes)
        return false;
    *lo = (uintptr_t)m;
    *hi = (uintptr_t)m + length;
    return true;
}
