/* The descriptor table: a slot per descriptor, see fdtable.h. A descriptor's kind is learnt at its
   fourth use (two system calls, fstat and fcntl), or at once when the library made it (pipe,
   mq_open); until then its waits are recorded as they come. It is forgotten when the descriptor is
   closed or replaced, and its blocking mode when its flags change. Descriptors past the table are
   never recorded. */
#include "core/fdtable.h"

#include "core/base.h"
#include "platform/platform.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define SLOTS (1u << 20)
#define USES 0x60 /* the uses of a descriptor whose kind is not learnt, in bits 5-6 */
#define USE 0x20
#define LEARN_AT USES /* the fourth use learns it */

typedef struct slot {
    _Atomic unsigned char kind;
    _Atomic uint32_t id;
    _Atomic(const tl_stack *) made_at; /* set while the descriptor holds a resource */
} slot;

/* 16 MiB of zero pages: only the slots of descriptors in use are ever touched. */
static TL_LARGE slot slots[SLOTS];
static atomic_int held;    /* descriptors holding a resource */
static atomic_int highest; /* the highest descriptor that ever held one */

static slot *slot_of(int fd)
{
    return fd >= 0 && (unsigned)fd < SLOTS ? &slots[fd] : NULL;
}

/* The kind from the kernel. Raw system calls: fcntl is interposed, and errno is the program's. A
   descriptor fcntl refuses is not open: its number learns nothing. */
static unsigned learn(slot *s, int fd)
{
    struct stat st;
    long flags = tl_sys(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
    if (flags < 0)
        return TL_FD_OTHER;
    unsigned k = TL_FD_OTHER;
    if (tl_sys(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) == 0)
        k = S_ISFIFO(st.st_mode) ? TL_FD_PIPE : S_ISSOCK(st.st_mode) ? TL_FD_SOCKET : TL_FD_OTHER;
    if (k != TL_FD_OTHER && (flags & O_NONBLOCK))
        k |= TL_FD_NONBLOCK;
    atomic_store_explicit(&s->kind, (unsigned char)k, memory_order_relaxed);
    return k;
}

unsigned tl_fd_waits(int fd)
{
    slot *s = slot_of(fd);
    if (!s)
        return TL_FD_OTHER;
    unsigned k = atomic_load_explicit(&s->kind, memory_order_relaxed);
    if (TL_LIKELY(k & TL_FD_KIND))
        return k & TL_FD_NONBLOCK ? TL_FD_OTHER : k;
    if ((k & USES) == LEARN_AT) {
        k = learn(s, fd);
        return k & TL_FD_NONBLOCK ? TL_FD_OTHER : k;
    }
    /* Racing uses may count one use too few: the kind is learnt one use later. */
    atomic_store_explicit(&s->kind, (unsigned char)(k + USE), memory_order_relaxed);
    return TL_FD_UNKNOWN;
}

unsigned tl_fd_kind(int fd)
{
    slot *s = slot_of(fd);
    if (!s)
        return TL_FD_OTHER;
    unsigned k = atomic_load_explicit(&s->kind, memory_order_relaxed);
    return k & TL_FD_KIND ? k : learn(s, fd);
}

/* A slot's resource is gone: the count follows. */
static void drop(slot *s)
{
    if (atomic_exchange_explicit(&s->made_at, NULL, memory_order_relaxed))
        atomic_fetch_sub_explicit(&held, 1, memory_order_relaxed);
    atomic_store_explicit(&s->id, 0, memory_order_relaxed);
}

static void hold(slot *s, int fd, uint32_t id, const tl_stack *made_at)
{
    atomic_store_explicit(&s->id, id, memory_order_relaxed);
    if (!made_at)
        return;
    if (!atomic_exchange_explicit(&s->made_at, made_at, memory_order_release))
        atomic_fetch_add_explicit(&held, 1, memory_order_relaxed);
    for (int high = atomic_load(&highest); fd > high;)
        if (atomic_compare_exchange_weak(&highest, &high, fd))
            break;
}

uint32_t tl_fd_pipe_id(void)
{
    static atomic_uint ids;
    return atomic_fetch_add_explicit(&ids, 1, memory_order_relaxed) + 1;
}

void tl_fd_made(int fd, unsigned kind, uint32_t id, const tl_stack *made_at)
{
    slot *s = slot_of(fd);
    if (!s)
        return;
    atomic_store_explicit(&s->kind, (unsigned char)kind, memory_order_relaxed);
    hold(s, fd, id, made_at);
}

void tl_fd_closed(int fd)
{
    slot *s = slot_of(fd);
    if (!s)
        return;
    atomic_store_explicit(&s->kind, TL_FD_UNKNOWN, memory_order_relaxed);
    drop(s);
}

void tl_fd_copied(int old, int fd)
{
    slot *from = slot_of(old), *to = slot_of(fd);
    if (!to || fd == old)
        return;
    /* The copy shares the open file, and so its kind and blocking mode. */
    unsigned kind = from ? atomic_load_explicit(&from->kind, memory_order_relaxed) : TL_FD_UNKNOWN;
    atomic_store_explicit(&to->kind, (unsigned char)(kind & (TL_FD_KIND | TL_FD_NONBLOCK)),
                          memory_order_relaxed);
    drop(to);
    if (from)
        hold(to, fd, atomic_load_explicit(&from->id, memory_order_relaxed),
             atomic_load_explicit(&from->made_at, memory_order_acquire));
}

void tl_fd_flags_changed(int fd)
{
    slot *s = slot_of(fd);
    if (s)
        atomic_fetch_and_explicit(&s->kind, (unsigned char)~(TL_FD_KIND | TL_FD_NONBLOCK),
                                  memory_order_relaxed);
}

uintptr_t tl_fd_waker_key(int fd)
{
    slot *s = slot_of(fd);
    if (!s)
        return 0;
    uint32_t id = atomic_load_explicit(&s->id, memory_order_relaxed);
    unsigned kind = atomic_load_explicit(&s->kind, memory_order_relaxed) & TL_FD_KIND;
    /* odd keys: never the address of an object, which is aligned */
    return id ? ((uintptr_t)id << 3) | (kind == TL_FD_MQUEUE ? 3 : 1) : 0;
}

static int by_id(const void *a, const void *b)
{
    const tl_fd_resource *x = a, *y = b;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return (x->id > y->id) - (x->id < y->id);
}

size_t tl_fd_resources(tl_fd_resource **resources)
{
    int high = atomic_load(&highest);
    size_t n = 0;
    *resources = malloc(((size_t)(high + 1) + 1) * sizeof **resources);
    for (int fd = 0; *resources && fd <= high; fd++) {
        const tl_stack *made_at = atomic_load_explicit(&slots[fd].made_at, memory_order_acquire);
        if (made_at)
            (*resources)[n++] = (tl_fd_resource){
                atomic_load_explicit(&slots[fd].kind, memory_order_relaxed) & TL_FD_KIND,
                atomic_load_explicit(&slots[fd].id, memory_order_relaxed), made_at};
    }
    if (!n)
        return 0;
    qsort(*resources, n, sizeof **resources, by_id); /* the descriptors of one pipe, together */
    size_t kept = 1;
    for (size_t i = 1; i < n; i++)
        if (by_id(&(*resources)[i], &(*resources)[kept - 1]) != 0)
            (*resources)[kept++] = (*resources)[i];
    return kept;
}

bool tl_fd_no_resources(void)
{
    return atomic_load_explicit(&held, memory_order_relaxed) <= 0;
}
