/* Resources: timers, in a table under a lock (timer_create and timer_delete are not
   async-signal-safe, and run with the guard set); pipes and queues, in the descriptor table. */
#include "core/resource.h"

#include "core/base.h"
#include "core/fdtable.h"
#include "core/lock.h"
#include "core/proc.h"
#include "core/registry.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <uthash.h>

typedef struct timer_entry {
    UT_hash_handle hh;
    timer_t timer;
    const tl_stack *created_at;
} timer_entry;

static tl_lock resource_lock;
static timer_entry *timers;

void tl_timer_made(timer_t timer, const tl_stack *created_at)
{
    timer_entry *t = calloc(1, sizeof *t), *old;
    if (!t)
        return;
    t->timer = timer;
    t->created_at = created_at;
    tl_lock_acquire(&resource_lock);
    HASH_FIND(hh, timers, &timer, sizeof timer, old);
    if (old) { /* the id was reused behind our back */
        HASH_DELETE(hh, timers, old);
        free(old);
    }
    HASH_ADD(hh, timers, timer, sizeof timer, t);
    tl_lock_release(&resource_lock);
}

void tl_timer_deleted(timer_t timer)
{
    timer_entry *t;
    tl_lock_acquire(&resource_lock);
    HASH_FIND(hh, timers, &timer, sizeof timer, t);
    if (t)
        HASH_DELETE(hh, timers, t);
    tl_lock_release(&resource_lock);
    free(t);
}

static int group_cmp(const void *a, const void *b)
{
    const tl_resource_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (int)x->kind - (int)y->kind;
}

/* Counts one resource into its group, found by a linear search: a report has few groups. */
static void count(tl_resource_group *groups, size_t *n, tl_res_kind kind,
                  const tl_stack *created_at)
{
    size_t i = 0;
    while (i < *n && (groups[i].kind != kind || groups[i].created_at != created_at))
        i++;
    if (i == *n)
        groups[(*n)++] = (tl_resource_group){kind, created_at, 0};
    groups[i].count++;
}

size_t tl_resource_groups(tl_resource_group **groups)
{
    tl_fd_resource *fds;
    size_t nfds = tl_fd_resources(&fds), n = 0;
    tl_lock_acquire(&resource_lock);
    *groups = calloc(HASH_COUNT(timers) + nfds + 1, sizeof **groups);
    for (timer_entry *t = *groups ? timers : NULL; t; t = t->hh.next)
        count(*groups, &n, TL_RES_TIMER, t->created_at);
    tl_lock_release(&resource_lock);
    for (size_t i = 0; *groups && i < nfds; i++)
        count(*groups, &n, fds[i].kind == TL_FD_MQUEUE ? TL_RES_MQUEUE : TL_RES_PIPE,
              fds[i].made_at);
    free(fds);
    if (*groups)
        qsort(*groups, n, sizeof **groups, group_cmp);
    return n;
}

bool tl_resource_none(void)
{
    tl_lock_acquire(&resource_lock);
    bool none = !timers;
    tl_lock_release(&resource_lock);
    return none && tl_fd_no_resources();
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
    timer_entry *t, *next;
    HASH_ITER(hh, timers, t, next)
    {
        HASH_DELETE(hh, timers, t);
        free(t);
    }
    tl_lock_reset(&resource_lock);
    tl_lock_reset(&helper_lock);
    atomic_store(&helper_tid, 0); /* glibc starts a new one in the child, if asked */
}
