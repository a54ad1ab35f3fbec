/* The thread registry: one record per thread created through pthread_create, from the call until the
   thread has ended and been joined or detached. Records are shared by three owners (the creating call,
   the thread itself, the table) and freed by whichever lets go last, so a thread that ends before its
   creator has returned from pthread_create, or a pthread_t reused the moment a join returns, never
   touches freed memory or the wrong record. */
#include "tl.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

tl_lock tl_registry_lock;
static tl_thread *table;
/* When recent threads ended, for evidence ("exited 5 s ago"): a ring, newest overwriting oldest. */
static struct { pid_t tid; uint64_t ns; } exits[1024];
static unsigned exits_next;
__thread tl_thread *tl_self __attribute__((tls_model("initial-exec")));
static uint64_t created; /* under the lock */
static char main_name[16];

static void read_comm(char name[16])
{
    FILE *f = fopen("/proc/thread-self/comm", "re");
    if (f && fgets(name, 16, f))
        name[strcspn(name, "\n")] = 0;
    if (f)
        fclose(f);
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

tl_thread *tl_thread_new(void *(*start)(void *), void *arg, bool detached)
{
    tl_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->start = start;
    t->arg = arg;
    t->detached = detached;
    t->creator_tid = tl_gettid();
    t->created_at = tl_stack_capture();
    t->refs = 2; /* the creating call and the thread */
    bool foreign = !tl_self && tl_gettid() != getpid(); /* a creator we did not make */
    if (foreign)
        read_comm(t->name);
    tl_lock_acquire(&tl_registry_lock);
    t->id = ++created | TL_ID_OURS;
    if (!foreign)
        memcpy(t->name, tl_self ? tl_self->name : main_name, sizeof t->name);
    tl_lock_release(&tl_registry_lock);
    return t;
}

/* Into the table, under its handle; the lock is held. */
static void list(tl_thread *t, pthread_t handle)
{
    tl_thread *stale;
    t->handle = handle;
    if (t->exited && t->detached)
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
    tl_lock_acquire(&tl_registry_lock);
    list(t, handle);
    unref(t);
    tl_lock_release(&tl_registry_lock);
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
    free(t);
    atomic_fetch_sub_explicit(&creating, 1, memory_order_release);
}

void tl_thread_started(tl_thread *t)
{
    atomic_store_explicit(&t->tid, tl_gettid(), memory_order_release);
    tl_self = t;
}

void tl_thread_ended(tl_thread *t)
{
    uint64_t now = tl_now_ns();
    tl_lock_acquire(&tl_registry_lock);
    t->exited = true;
    t->exited_ns = now;
    unsigned slot = exits_next++ % (sizeof exits / sizeof *exits);
    exits[slot].tid = atomic_load(&t->tid);
    exits[slot].ns = now;
    if (t->detached && t->listed)
        unlist(t);
    tl_self = NULL;
    unref(t);
    tl_lock_release(&tl_registry_lock);
}

tl_thread *tl_thread_hold(pthread_t handle)
{
    tl_thread *t;
    tl_lock_acquire(&tl_registry_lock);
    HASH_FIND(hh, table, &handle, sizeof handle, t);
    if (t)
        t->refs++;
    tl_lock_release(&tl_registry_lock);
    return t;
}

void tl_thread_joined(tl_thread *t)
{
    tl_lock_acquire(&tl_registry_lock);
    if (t->listed)
        unlist(t);
    unref(t);
    tl_lock_release(&tl_registry_lock);
}

void tl_thread_detached(tl_thread *t)
{
    tl_lock_acquire(&tl_registry_lock);
    if (!t->exited)
        t->detached = true; /* it unlists itself when it ends */
    else if (t->listed)
        unlist(t);
    unref(t);
    tl_lock_release(&tl_registry_lock);
}

void tl_thread_release(tl_thread *t)
{
    tl_lock_acquire(&tl_registry_lock);
    unref(t);
    tl_lock_release(&tl_registry_lock);
}

void tl_thread_set_name(pthread_t handle, const char *name)
{
    tl_thread *t = NULL;
    bool self = pthread_equal(handle, pthread_self());
    tl_lock_acquire(&tl_registry_lock);
    /* A thread may name itself before its creator has listed it. */
    if (self && tl_self)
        t = tl_self;
    else
        HASH_FIND(hh, table, &handle, sizeof handle, t);
    if (t)
        snprintf(t->name, sizeof t->name, "%s", name);
    else if (self && tl_gettid() == getpid())
        snprintf(main_name, sizeof main_name, "%s", name);
    tl_lock_release(&tl_registry_lock);
}

void tl_thread_named(const char *name)
{
    tl_thread_set_name(pthread_self(), name);
}

bool tl_registry_all_exited(pid_t except)
{
    bool all = true;
    tl_lock_acquire(&tl_registry_lock);
    for (tl_thread *t = table; t && all; t = t->hh.next)
        all = t->exited || atomic_load(&t->tid) == except;
    tl_lock_release(&tl_registry_lock);
    return all;
}

/* What a waiting thread waits on, as a report prints it; the lock is held. */
static void wait_object(const tl_wait *w, char *buf, size_t len)
{
    tl_thread *target;
    switch (w->kind) {
    case TL_OBJ_NONE: buf[0] = 0; break;
    case TL_OBJ_ADDR: snprintf(buf, len, "0x%lx", (unsigned long)w->object); break;
    case TL_OBJ_FD: snprintf(buf, len, "fd %d", (int)w->object); break;
    case TL_OBJ_THREAD:
        HASH_FIND(hh, table, &w->object, sizeof(pthread_t), target);
        if (target && atomic_load(&target->tid))
            snprintf(buf, len, "tid %d", atomic_load(&target->tid));
        else
            snprintf(buf, len, "thread 0x%lx", (unsigned long)w->object);
        break;
    }
}

/* Whom a waiting thread waits for, as far as the object tells: a mutex's owner, a rwlock's writer
   (glibc keeps both tids in the public structures), the joined thread; and for a condition
   variable or semaphore, who has woken it before. The thread is pinned in its wait, so the object
   is alive. */
static void wait_target(const tl_wait *w, tl_row *r)
{
    tl_thread *target;
    r->nwakers = -1;
    switch (w->state) {
    case TL_MUTEX_LOCK:
        r->waits_for = __atomic_load_n(&((pthread_mutex_t *)w->object)->__data.__owner, __ATOMIC_RELAXED);
        break;
    case TL_RWLOCK_READ:
    case TL_RWLOCK_WRITE:
        r->waits_for = (pid_t)__atomic_load_n(&((pthread_rwlock_t *)w->object)->__data.__cur_writer,
                                              __ATOMIC_RELAXED);
        break;
    case TL_JOIN:
        HASH_FIND(hh, table, &w->object, sizeof(pthread_t), target);
        r->waits_for = target ? atomic_load(&target->tid) : 0;
        break;
    case TL_COND_WAIT:
    case TL_SEM_WAIT:
        r->nwakers = tl_wakers(w->object, r->wakers, &r->last_waker);
        break;
    case TL_PIPE_READ:
    case TL_MQ_RECEIVE:
        if (tl_fd_waker_key((int)w->object))
            r->nwakers = tl_wakers(tl_fd_waker_key((int)w->object), r->wakers, &r->last_waker);
        break;
    default:
        break;
    }
}

/* The state of a live thread that is waiting in a wrapper, with the stack of that wait. */
static void read_wait(tl_thread *t, tl_row *r, tl_unwinder *u)
{
    tl_wait *w = &t->wait;
    if (!tl_wait_pin(w))
        return;
    r->state = w->state;
    r->since_ns = w->since_ns;
    wait_object(w, r->object, sizeof r->object);
    wait_target(w, r);
    r->blocked_at = tl_wait_stack(w, u, t->stack_top, t->stack_size);
    tl_wait_unpin(w);
}

uint64_t tl_registry_exit_time(pid_t tid)
{
    const unsigned n = sizeof exits / sizeof *exits;
    uint64_t ns = 0;
    tl_lock_acquire(&tl_registry_lock);
    for (unsigned back = 1; back <= n && back <= exits_next && !ns; back++) /* newest first */
        if (exits[(exits_next - back) % n].tid == tid)
            ns = exits[(exits_next - back) % n].ns;
    tl_lock_release(&tl_registry_lock);
    return ns;
}

bool tl_registry_tracks(pid_t tid)
{
    bool found = false;
    tl_lock_acquire(&tl_registry_lock);
    for (tl_thread *t = table; t && !found; t = t->hh.next)
        found = atomic_load(&t->tid) == tid;
    tl_lock_release(&tl_registry_lock);
    return found;
}

/* A thread created but not yet running has no tid, while the kernel already lists it: it would be
   reported twice, once as ours and once as a stranger. Its first act is to store its tid, which
   takes no lock, so the registry lock held here cannot keep it from doing so: wait a moment. */
static pid_t started_tid(tl_thread *t)
{
    pid_t tid = atomic_load_explicit(&t->tid, memory_order_acquire);
    for (uint64_t until = 0; !tid && !t->exited; tid = atomic_load_explicit(&t->tid, memory_order_acquire)) {
        uint64_t now = tl_now_ns();
        if (!until)
            until = now + 50000000; /* 50 ms: a thread never scheduled by then is shown starting */
        else if (now > until)
            break;
        sched_yield();
    }
    return tid;
}

size_t tl_registry_ids(tl_thread_id **ids)
{
    size_t n = 0;
    tl_lock_acquire(&tl_registry_lock);
    *ids = malloc((HASH_COUNT(table) + 1) * sizeof **ids);
    for (tl_thread *t = *ids ? table : NULL; t; t = t->hh.next)
        (*ids)[n++] = (tl_thread_id){started_tid(t), t->id};
    tl_lock_release(&tl_registry_lock);
    return n;
}

size_t tl_registry_rows(tl_row **rows, size_t extra, tl_unwinder *u)
{
    size_t n = 0;
    tl_lock_acquire(&tl_registry_lock);
    *rows = calloc(HASH_COUNT(table) + extra + 1, sizeof **rows);
    for (tl_thread *t = *rows ? table : NULL; t; t = t->hh.next) {
        tl_row *r = &(*rows)[n++];
        r->tid = started_tid(t);
        r->start = t->id;
        r->creator_tid = t->creator_tid;
        memcpy(r->name, t->name, sizeof r->name);
        r->created_at = t->created_at;
        r->state = t->exited ? TL_EXITED_UNJOINED : TL_RUNNING;
        r->since_ns = t->exited_ns;
        if (!t->exited)
            read_wait(t, r, u);
    }
    tl_lock_release(&tl_registry_lock);
    return n;
}

/* In a fork child only the forking thread survives. Its own record is unlisted (it is the child's
   main thread now) but kept until it ends, as it still points to it. */
void tl_registry_fork_child(void)
{
    if (tl_self) /* the forking thread is the child's main thread */
        memcpy(main_name, tl_self->name, sizeof main_name);
    tl_thread *t, *next;
    HASH_ITER(hh, table, t, next) {
        if (t == tl_self) {
            atomic_store(&t->tid, tl_gettid());
            unlist(t);
        } else {
            HASH_DELETE(hh, table, t);
            free(t);
        }
    }
}
