/* The memory the reachability scan reads (report/reach.c): built from /proc/self/maps, glibc's
   heaps (platform/glibc_malloc.h), the threads, and what the kernel holds for the process.

   - Regions are what a pointer can land in and that the scan must decide about: glibc malloc's
     heaps (a bit a 16 bytes marks every chunk's start; another, chunks reached), chunks of their
     own mappings, and the stacks of stuck threads, of finished threads and of a caller that is
     ending the process, which count only once something points into them.
   - Roots are ranges every thread that can run may read: writable mappings that are no heap and
     no stack of those, and the stacks of threads that are not stuck. Values are single words:
     registers, sigev_values, epoll data, bytes found in pipes and sockets.

   Everything here is allocated with mmap, so that the heap holds still while it is read. */
#ifndef TL_REPORT_REACH_MAP_H
#define TL_REPORT_REACH_MAP_H

#include "platform/glibc_malloc.h"
#include "report/reach.h"

/* An array in its own mapping, grown with mremap. */
typedef struct tl_vec {
    void *data;
    size_t n, cap, elem;
} tl_vec;
void *tl_vec_push(tl_vec *v);                /* a zeroed new element, NULL when out of memory */
bool tl_vec_reserve(tl_vec *v, size_t more); /* room for more elements */
void tl_vec_free(tl_vec *v);
#define TL_VEC(type) ((tl_vec){.elem = sizeof(type)})
#define TL_VEC_AT(v, type, i) (((type *)(v).data)[i])

typedef enum { TL_REGION_ARENA, TL_REGION_CHUNK, TL_REGION_STACK } tl_region_kind;

typedef struct tl_region {
    uintptr_t lo, hi; /* words in [lo, hi) land here */
    tl_region_kind kind;
    uint64_t *starts, *marks;   /* ARENA: one bit a 16 bytes from lo; starts has one at hi */
    bool marked;                /* CHUNK, STACK */
    uintptr_t scan_lo, scan_hi; /* STACK: what is read once it is reached */
    long thread;                /* STACK: the stuck thread whose stack it is, or -1 */
} tl_region;

typedef struct tl_root {
    uintptr_t lo, hi;
    tl_from from;
} tl_root;

typedef struct tl_value {
    uintptr_t value;
    tl_from from;
} tl_value;

typedef struct tl_space {
    tl_vec regions, roots, values, homes; /* homes: tl_root, every root segment, whole */
    tl_vec shared;                        /* tl_root: memory shared with other processes */
    uintptr_t lo, hi;                     /* bounds of all regions */
    tl_mem mem;
    uintptr_t own_lo, own_hi; /* the library's own code and data */
    char why[160];            /* the first root that could not be seen, "" for none */
} tl_space;

/* Builds the space; stuck[i] says whether thread i is stuck (its stack is then a region), and is
   cleared for one whose stack has no bounds of its own. Sets why when something cannot be seen.
   false when the scan cannot run at all (why says). */
bool tl_space_build(tl_space *sp, tl_reach_thread *threads, size_t n, bool *stuck,
                    const tl_caller *caller);
void tl_space_free(tl_space *sp);
/* Around a scan: from begin to end, the scan's memory is never given back (see reach_map.c). */
void tl_space_begin(void);
void tl_space_end(void);
void tl_space_why(tl_space *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The region that holds addr, or NULL. */
tl_region *tl_space_region(tl_space *sp, uintptr_t addr);
/* In an ARENA region: the chunk whose user memory holds addr ([chunk + 16, next + 16)), and the
   next chunk's start; false when addr precedes the first. */
bool tl_region_chunk(const tl_region *r, uintptr_t addr, uintptr_t *chunk, uintptr_t *next);
bool tl_region_test(const tl_region *r, uintptr_t chunk); /* its mark */
void tl_region_set(tl_region *r, uintptr_t chunk);
/* The root segment that holds addr whole, or NULL; and the shared one. */
const tl_root *tl_space_home(tl_space *sp, uintptr_t addr);
const tl_root *tl_space_shared(tl_space *sp, uintptr_t addr);

/* Reads at most len bytes at addr: how many could be. */
size_t tl_space_read(void *sp, uintptr_t addr, void *buf, size_t len);

#endif
