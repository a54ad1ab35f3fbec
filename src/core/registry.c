/* The thread registry: one record per thread created through pthread_create, from the call until
   the thread has ended and been joined or detached. Records are shared by three owners (the
   creating call, the thread itself, the table) and freed by whichever lets go last, so a thread
   that ends before its creator has returned from pthread_create, or a pthread_t reused the moment a
   join returns, never touches freed memory or the wrong record. */
#include "core/registry.h"

#include "core/proc.h"
#include "platform/platform.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static tl_lock registry_lock;
static tl_thread *table;
/* Threads that ended lately: a ring, newest overwriting oldest. */
static TL_LARGE tl_ended exits[1024];
static unsigned exits_next;
/* main's waits, recorded for the reachability scan (main is never reported); in a fork child, the
   forking thread's record, which it keeps. */
static tl_wait main_wait;
static tl_wait *main_waits = &main_wait;
TL_TLS tl_thread *tl_self;
static uint64_t created, ended; /* under the lock */
/* Not counted as made: threads the parent made (in a fork child), and creations that failed. */
static uint64_t created_not;
static char main_name[16];

/* The calling thread's name: one system call, no file (start-up reads main's). */
static void read_comm(char name[16])
{
    if (tl_sys(SYS_prctl, PR_GET_NAME, (long)name, 0, 0, 0, 0) != 0)
        name[0] = 0;
}

/* Names are kept here rather than read from /proc for every thread of every report: a thread
   starts with its creator's name, and changes it through pthread_setname_np or prctl. */
void tl_registry_init(void)
{
    read_comm(main_name);
}

/* Drops one reference; the caller holds the registry lock. */
static void unref(tl_thread *t)
{
    if (--t->refs == 0)
        free(t);
}

static void unlist(tl_thread *t)
{
    HASH_DELETE(hh, table, t);
    t->listed = false;
    unref(t);
}

tl_thread *tl_thread_new(void *(*start)(void *), void *arg, bool detached,
                         const tl_stack *created_at)
{
    tl_proc_note_emulator(); /* before the first thread we make */
    tl_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->start = start;
    t->arg = arg;
    t->detached = detached;
    t->creator_tid = tl_gettid();
    t->created_at = created_at;
    t->refs = 2;                                        /* the creating call and the thread */
    bool foreign = !tl_self && tl_gettid() != getpid(); /* a creator we did not make */
    if (foreign)
        read_comm(t->name);
    tl_lock_acquire(&registry_lock);
    t->id = ++created | TL_ID_OURS;
    if (!foreign)
        memcpy(t->name, tl_self ? tl_self->name : main_name, sizeof t->name);
    tl_lock_release(&registry_lock);
    return t;
}

/* Into the table, under its handle; the lock is held. */
static void list(tl_thread *t, pthread_t handle)
{
    tl_thread *stale;
    t->handle = handle;
    if (atomic_load(&t->exited) && t->detached)
        return;
    /* Only a thread that was just joined, whose wrapper has not yet unlisted it, can still hold
       this handle: glibc reuses a descriptor only once it is released. */
    HASH_FIND(hh, table, &handle, sizeof handle, stale);
    if (stale)
        unlist(stale);
    HASH_ADD(hh, table, handle, sizeof handle, t);
    t->listed = true;
    t->refs++;
}

/* pthread_create calls between the clone and the listing: a thread in /proc but not yet here. */
static atomic_int creating;

void tl_thread_creating(void)
{
    atomic_fetch_add_explicit(&creating, 1, memory_order_relaxed);
}

void tl_thread_publish(tl_thread *t, pthread_t handle)
{
    tl_lock_acquire(&registry_lock);
    list(t, handle);
    unref(t);
    tl_lock_release(&registry_lock);
    atomic_fetch_sub_explicit(&creating, 1, memory_order_release);
}

/* A thread that runs before its creator has listed it would be taken for one we did not make, and,
   once listed, for a newcomer: a snapshot or a report first lets such creations finish (a moment;
   a creator stalled for 50 ms is let be). */
void tl_registry_settle(void)
{
    uint64_t until = tl_now_ns() + 50000000;
    while (atomic_load_explicit(&creating, memory_order_acquire) > 0 && tl_now_ns() < until)
        sched_yield();
}

void tl_thread_abandon(tl_thread *t)
{
    tl_lock_acquire(&registry_lock);
    created_not++;
    tl_lock_release(&registry_lock);
    free(t);
    atomic_fetch_sub_explicit(&creating, 1, memory_order_release);
}

void tl_thread_started(tl_thread *t, uintptr_t stack_top)
{
    t->stack_top = stack_top;
    atomic_store_explicit(&t->tid, tl_gettid(), memory_order_release);
    tl_self = t;
    tl_self_wait = &t->wait;
}

void tl_thread_ended(tl_thread *t)
{
    uint64_t now = tl_now_ns();
    tl_lock_acquire(&registry_lock);
    t->exited_ns = now;
    atomic_store(&t->exited, true);
    exits[exits_next++ % TL_LENGTH(exits)] = (tl_ended){
        .tid = atomic_load(&t->tid),
        .creator_tid = t->creator_tid,
        .ns = now,
        .created_at = t->created_at,
        .handle = (uintptr_t)pthread_self(), /* its creator may not have stored it yet */
        .stack_size = t->stack_size,
        .sp = (uintptr_t)__builtin_frame_address(0),
    };
    memcpy(exits[(exits_next - 1) % TL_LENGTH(exits)].name, t->name, sizeof t->name);
    ended++;
    if (t->detached && t->listed)
        unlist(t);
    tl_self = NULL;
    tl_self_wait = NULL;
    unref(t);
    tl_lock_release(&registry_lock);
}

tl_thread *tl_thread_hold(pthread_t handle)
{
    tl_thread *t;
    tl_lock_acquire(&registry_lock);
    HASH_FIND(hh, table, &handle, sizeof handle, t);
    if (t)
        t->refs++;
    tl_lock_release(&registry_lock);
    return t;
}

void tl_thread_joined(tl_thread *t)
{
    tl_lock_acquire(&registry_lock);
    if (t->listed)
        unlist(t);
    unref(t);
    tl_lock_release(&registry_lock);
}

void tl_thread_detached(tl_thread *t)
{
    tl_lock_acquire(&registry_lock);
    if (!atomic_load(&t->exited))
        t->detached = true; /* it unlists itself when it ends */
    else if (t->listed)
        unlist(t);
    unref(t);
    tl_lock_release(&registry_lock);
}

void tl_thread_release(tl_thread *t)
{
    tl_lock_acquire(&registry_lock);
    unref(t);
    tl_lock_release(&registry_lock);
}

void tl_thread_set_name(pthread_t handle, const char *name)
{
    tl_thread *t = NULL;
    bool self = pthread_equal(handle, pthread_self());
    tl_lock_acquire(&registry_lock);
    /* A thread may name itself before its creator has listed it. */
    if (self && tl_self)
        t = tl_self;
    else
        HASH_FIND(hh, table, &handle, sizeof handle, t);
    if (t)
        snprintf(t->name, sizeof t->name, "%s", name);
    else if (self && tl_gettid() == getpid())
        snprintf(main_name, sizeof main_name, "%s", name);
    tl_lock_release(&registry_lock);
}

void tl_registry_each(void (*fn)(void *ctx, const tl_thread *t), void *ctx)
{
    tl_lock_acquire(&registry_lock);
    for (tl_thread *t = table; t; t = t->hh.next)
        fn(ctx, t);
    tl_lock_release(&registry_lock);
}

void tl_registry_totals(uint64_t *made, uint64_t *finished)
{
    tl_lock_acquire(&registry_lock);
    *made = created - created_not;
    *finished = ended;
    tl_lock_release(&registry_lock);
}

bool tl_registry_all_ended(const pid_t *tids, size_t n)
{
    bool all = true;
    tl_lock_acquire(&registry_lock);
    for (tl_thread *t = table; t && all; t = t->hh.next) {
        pid_t tid = atomic_load(&t->tid);
        all = atomic_load(&t->exited) || !tid || !bsearch(&tid, tids, n, sizeof *tids, tl_tid_cmp);
    }
    tl_lock_release(&registry_lock);
    return all;
}

/* A thread made by clone() may exist: the registry cannot vouch that its threads are all. */
static atomic_bool foreign;

void tl_registry_foreign(void)
{
    atomic_store_explicit(&foreign, true, memory_order_relaxed);
}

bool tl_registry_empty(void)
{
    tl_lock_acquire(&registry_lock);
    bool empty = !table && !atomic_load(&creating) && !atomic_load(&foreign);
    tl_lock_release(&registry_lock);
    return empty;
}

uint64_t tl_registry_exit_time(pid_t tid)
{
    tl_ended e;
    return tl_registry_ended(tid, &e) ? e.ns : 0;
}

bool tl_registry_ended(pid_t tid, tl_ended *out)
{
    const unsigned n = TL_LENGTH(exits);
    bool found = false;
    tl_lock_acquire(&registry_lock);
    for (unsigned back = 1; back <= n && back <= exits_next && !found; back++) /* newest first */
        if ((found = exits[(exits_next - back) % n].tid == tid))
            *out = exits[(exits_next - back) % n];
    tl_lock_release(&registry_lock);
    return found;
}

size_t tl_registry_ended_all(tl_ended **out)
{
    tl_lock_acquire(&registry_lock);
    size_t n = exits_next < TL_LENGTH(exits) ? exits_next : TL_LENGTH(exits);
    *out = malloc((n + 1) * sizeof **out);
    if (*out)
        memcpy(*out, exits, n * sizeof **out);
    tl_lock_release(&registry_lock);
    return *out ? n : 0;
}

static uintptr_t main_top;

void tl_registry_main_starting(uintptr_t frames_top)
{
    main_top = frames_top;
    tl_self_wait = main_waits;
}

uintptr_t tl_registry_main_top(void)
{
    return main_top;
}

tl_wait *tl_registry_main_wait(void)
{
    return main_waits;
}

bool tl_registry_tracks(pid_t tid)
{
    bool found = false;
    tl_lock_acquire(&registry_lock);
    for (tl_thread *t = table; t && !found; t = t->hh.next)
        found = atomic_load(&t->tid) == tid;
    tl_lock_release(&registry_lock);
    return found;
}

pid_t tl_registry_tid_of(pthread_t handle)
{
    tl_thread *t;
    tl_lock_acquire(&registry_lock);
    HASH_FIND(hh, table, &handle, sizeof handle, t);
    pid_t tid = t ? atomic_load(&t->tid) : 0;
    tl_lock_release(&registry_lock);
    return tid;
}

size_t tl_registry_hold_all(tl_thread ***threads)
{
    size_t n = 0;
    tl_lock_acquire(&registry_lock);
    *threads = malloc((HASH_COUNT(table) + 1) * sizeof **threads);
    for (tl_thread *t = *threads ? table : NULL; t; t = t->hh.next) {
        t->refs++;
        (*threads)[n++] = t;
    }
    tl_lock_release(&registry_lock);
    return n;
}

pid_t tl_thread_tid(tl_thread *t, uint64_t deadline)
{
    pid_t tid;
    while (!(tid = atomic_load_explicit(&t->tid, memory_order_acquire)) &&
           !atomic_load(&t->exited) && tl_now_ns() < deadline)
        sched_yield();
    return tid;
}

void tl_registry_release_all(tl_thread **threads, size_t n)
{
    tl_lock_acquire(&registry_lock);
    for (size_t i = 0; i < n; i++)
        unref(threads[i]);
    tl_lock_release(&registry_lock);
    free(threads);
}

/* fork copies only the calling thread: the lock is taken so that no other thread holds it at the
   moment of the copy. */
void tl_registry_fork_prepare(void)
{
    tl_lock_acquire(&registry_lock);
}

void tl_registry_fork_parent(void)
{
    tl_lock_release(&registry_lock);
}

/* In a fork child only the forking thread survives. Its own record is unlisted (it is the child's
   main thread now) but kept until it ends, as it still points to it. */
void tl_registry_fork_child(void)
{
    if (tl_self) { /* the forking thread is the child's main thread */
        memcpy(main_name, tl_self->name, sizeof main_name);
        main_waits = &tl_self->wait;
    }
    exits_next = 0; /* the parent's threads are not the child's */
    tl_thread *t, *next;
    HASH_ITER(hh, table, t, next)
    {
        if (t == tl_self) {
            atomic_store(&t->tid, tl_gettid());
            unlist(t);
        } else {
            HASH_DELETE(hh, table, t);
            free(t);
        }
    }
    atomic_store(&creating, 0); /* the calls in flight were other threads' */
    atomic_store(&foreign, false);
    created_not = created;
    ended = 0;
    tl_lock_reset(&registry_lock);
}
