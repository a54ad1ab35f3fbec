/* Resources a program made and never gave back: timers not deleted, pipes and message queues not
   closed, each with the stack that made it. A pipe is two descriptors, one entry each, and one more
   for each copy made with dup; all share a serial number, so that a pipe counts once for as long as
   any of them is open. */
#include "core/resource.h"

#include "core/base.h"
#include "core/fdtable.h"
#include "core/lock.h"
#include "core/proc.h"
#include "core/registry.h"
#include "core/wakers.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct res_key {
    tl_res_kind kind;
    uintptr_t id; /* timer_t, or descriptor */
} res_key;

typedef struct tl_resource {
    UT_hash_handle hh;
    res_key key;
    unsigned serial;
    const tl_stack *created_at;
} tl_resource;

static tl_lock resource_lock;
static tl_resource *table;
static unsigned serials;
static atomic_uint by_fd; /* entries keyed by descriptor: close looks only when there are some */

static void add(tl_res_kind kind, uintptr_t id, unsigned serial, const tl_stack *created_at)
{
    tl_resource *r = calloc(1, sizeof *r), *old;
    if (!r)
        return;
    r->key.kind = kind;
    r->key.id = id;
    r->serial = serial;
    r->created_at = created_at;
    HASH_FIND(hh, table, &r->key, sizeof r->key, old);
    if (old) { /* the id was reused behind our back (closed where we could not see) */
        HASH_DELETE(hh, table, old);
        free(old);
    } else if (kind != TL_RES_TIMER) {
        atomic_fetch_add(&by_fd, 1);
    }
    HASH_ADD(hh, table, key, sizeof r->key, r);
}

/* Whether a descriptor of the pipe or queue with this serial is still open. */
static bool serial_open(unsigned serial)
{
    for (tl_resource *r = table; r; r = r->hh.next)
        if (r->serial == serial)
            return true;
    return false;
}

static void drop(tl_res_kind kind, uintptr_t id)
{
    res_key key;
    memset(&key, 0, sizeof key); /* the padding is hashed too */
    key.kind = kind;
    key.id = id;
    tl_resource *r;
    HASH_FIND(hh, table, &key, sizeof key, r);
    if (r) {
        unsigned serial = r->serial;
        HASH_DELETE(hh, table, r);
        free(r);
        if (kind != TL_RES_TIMER)
            atomic_fetch_sub(&by_fd, 1);
        /* A pipe whose last descriptor is gone: its writers are no one's any more, and its slot
           in the wakers table is free for another. */
        if (kind == TL_RES_PIPE && !serial_open(serial))
            tl_wakers_forget(tl_fd_key(TL_FD_PIPE, serial));
    }
}

void tl_resource_add(tl_res_kind kind, uintptr_t id, const tl_stack *created_at)
{
    tl_lock_acquire(&resource_lock);
    add(kind, id, ++serials, created_at);
    tl_lock_release(&resource_lock);
}

unsigned tl_resource_pipe(const int fds[2], const tl_stack *created_at)
{
    tl_lock_acquire(&resource_lock);
    unsigned serial = ++serials;
    add(TL_RES_PIPE, (uintptr_t)fds[0], serial, created_at);
    add(TL_RES_PIPE, (uintptr_t)fds[1], serial, created_at);
    tl_lock_release(&resource_lock);
    return serial;
}

void tl_resource_remove(tl_res_kind kind, uintptr_t id)
{
    tl_lock_acquire(&resource_lock);
    drop(kind, id);
    tl_lock_release(&resource_lock);
}

void tl_resource_closed(int fd)
{
    if (fd < 0 || atomic_load_explicit(&by_fd, memory_order_relaxed) == 0)
        return;
    tl_lock_acquire(&resource_lock);
    drop(TL_RES_PIPE, (uintptr_t)fd);
    drop(TL_RES_MQUEUE, (uintptr_t)fd);
    tl_lock_release(&resource_lock);
}

void tl_resource_dup(int old, int fd)
{
    if (old < 0 || fd < 0 || atomic_load_explicit(&by_fd, memory_order_relaxed) == 0)
        return;
    tl_lock_acquire(&resource_lock);
    for (tl_res_kind kind = TL_RES_PIPE; kind <= TL_RES_MQUEUE; kind++) {
        res_key key;
        memset(&key, 0, sizeof key);
        key.kind = kind;
        key.id = (uintptr_t)old;
        tl_resource *r;
        HASH_FIND(hh, table, &key, sizeof key, r);
        if (r)
            add(kind, (uintptr_t)fd, r->serial, r->created_at);
    }
    tl_lock_release(&resource_lock);
}

static int group_cmp(const void *a, const void *b)
{
    const tl_resource_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (int)x->kind - (int)y->kind;
}

size_t tl_resource_groups(tl_resource_group **groups)
{
    size_t n = 0;
    tl_lock_acquire(&resource_lock);
    *groups = calloc(HASH_COUNT(table) + 1, sizeof **groups);
    for (tl_resource *r = *groups ? table : NULL; r; r = r->hh.next) {
        size_t i = 0;
        while (i < n &&
               ((*groups)[i].kind != r->key.kind || (*groups)[i].created_at != r->created_at))
            i++;
        tl_resource_group *g = &(*groups)[i];
        if (i == n) {
            n++;
            g->kind = r->key.kind;
            g->created_at = r->created_at;
        }
        bool counted = false; /* another descriptor of the same pipe or queue */
        for (tl_resource *o = table; o != r && !counted; o = o->hh.next)
            counted = o->serial == r->serial;
        g->count += !counted;
    }
    tl_lock_release(&resource_lock);
    qsort(*groups, n, sizeof **groups, group_cmp);
    return n;
}

bool tl_resource_none(void)
{
    tl_lock_acquire(&resource_lock);
    bool none = !table;
    tl_lock_release(&resource_lock);
    return none;
}

const char *tl_resource_kind_name(tl_res_kind kind)
{
    static const char *const names[] = {
        [TL_RES_TIMER] = "timer", [TL_RES_PIPE] = "pipe", [TL_RES_MQUEUE] = "mqueue"};
    return names[kind];
}

static tl_lock helper_lock; /* held from before to after: one search at a time */
static pid_t *helper_candidates;
static size_t helper_ncandidates;
static atomic_int helper_tid;

bool tl_timer_helper_before(void)
{
    if (atomic_load(&helper_tid))
        return false;
    tl_lock_acquire(&helper_lock);
    tl_guard++;
    helper_ncandidates = tl_proc_tids(&helper_candidates);
    tl_guard--;
    return true;
}

void tl_timer_helper_after(bool searching, bool created)
{
    if (!searching)
        return;
    pid_t *now;
    tl_guard++;
    size_t n = created ? tl_proc_tids(&now) : 0;
    for (size_t i = 0; i < n && !atomic_load(&helper_tid); i++)
        if (!tl_proc_has(helper_candidates, helper_ncandidates, now[i]) &&
            !tl_registry_tracks(now[i]))
            atomic_store(&helper_tid, now[i]);
    tl_guard--;
    if (created)
        free(now);
    free(helper_candidates);
    helper_candidates = NULL;
    tl_lock_release(&helper_lock);
}

pid_t tl_timer_helper(void)
{
    return atomic_load(&helper_tid);
}

void tl_resource_fork_prepare(void)
{
    tl_lock_acquire(&resource_lock);
}

void tl_resource_fork_parent(void)
{
    tl_lock_release(&resource_lock);
}

/* Timers and glibc's timer thread are not inherited by a fork child; descriptors are. */
void tl_resource_fork_child(void)
{
    tl_resource *r, *next;
    HASH_ITER(hh, table, r, next)
    {
        if (r->key.kind == TL_RES_TIMER) {
            HASH_DELETE(hh, table, r);
            free(r);
        }
    }
    tl_lock_reset(&resource_lock);
    tl_lock_reset(&helper_lock);
    atomic_store(&helper_tid, 0); /* glibc starts a new one in the child, if asked */
}
