/* Where a thread waits, recorded at almost no cost.

   A wrapper that may block records the state, the object, the time and its own registers
   (tl_wait_begin, inlined into the wrapper, so that the registers are the wrapper's frame), and
   clears them on every way out (tl_wait_end): a few stores and two atomic operations, no
   unwinding. The stack of the wait is unwound only when a report asks, from the saved registers:
   while the thread is parked inside the wrapper, every frame above it is frozen. The wrapper's
   return address, the site of the wait, is kept too (one load and one store): the watch counts
   threads by it without unwinding (trigger/watch.c).

   A report pins a wait (BLOCKED -> PINNED) before it reads it, and a thread whose wait ends while
   it is pinned waits in tl_wait_end until the report lets go, so the frames read are never torn
   down under the reader. The waiting thread says so (PINNED -> PINNED_WAITED): a report wakes it
   only then, not with a system call for every wait it reads. Begin claims the record (IDLE ->
   WRITING), so that a signal handler that waits inside a wait, or a report, never sees a
   half-written record. */
#ifndef TL_CORE_WAIT_H
#define TL_CORE_WAIT_H

#include "core/base.h"
#include "platform/platform.h"

#include <stdatomic.h>

/* The states of the contract, in its order. */
typedef enum {
    TL_RUNNING,
    TL_COND_WAIT,
    TL_MUTEX_LOCK,
    TL_RWLOCK_READ,
    TL_RWLOCK_WRITE,
    TL_SEM_WAIT,
    TL_FUTEX_WAIT,
    TL_BARRIER_WAIT,
    TL_JOIN,
    TL_SLEEP,
    TL_PIPE_READ,
    TL_PIPE_WRITE,
    TL_MQ_RECEIVE,
    TL_MQ_SEND,
    TL_SOCKET_READ,
    TL_SOCKET_WRITE,
    TL_ACCEPT,
    TL_POLL,
    TL_WAITING,
    TL_EXITED_UNJOINED,
} tl_state;
const char *tl_state_name(tl_state s);

enum { TL_WAIT_IDLE, TL_WAIT_WRITING, TL_WAIT_BLOCKED, TL_WAIT_PINNED, TL_WAIT_PINNED_WAITED };
/* What a wait's object is. TL_OBJ_FD_UNLEARNT: a descriptor whose kind the table has not learnt
   yet (fdtable.h); the state says read or write (pipe_read, pipe_write), the report learns the
   rest. */
typedef enum {
    TL_OBJ_NONE,
    TL_OBJ_ADDR,
    TL_OBJ_FD,
    TL_OBJ_FD_UNLEARNT,
    TL_OBJ_THREAD,
    TL_OBJ_IO_URING
} tl_object_kind;

typedef struct tl_wait {
    atomic_int phase;
    tl_state state;
    tl_object_kind kind;
    bool timed; /* a deadline ends it, whatever else happens */
    uintptr_t object;
    uintptr_t site; /* the wrapper's return address: the call in the program */
    uint64_t since_ns;
    tl_cpu_context ctx; /* the wrapper's registers, to unwind from */
} tl_wait;

/* The calling thread's wait record: set when a thread we created starts, and for main when it
   starts (its waits are never reported, but they tell the reachability scan where it stands);
   NULL in the others. */
extern TL_TLS tl_wait *tl_self_wait;

/* A wait in a wrapper's scope. Use:
       tl_wait_scope wait TL_WAIT_SCOPE;
       tl_wait_begin(&wait, TL_COND_WAIT, TL_OBJ_ADDR, (uintptr_t)c);
       return REAL(pthread_cond_wait)(c, m);
   The record ends with the scope, however it is left: a return (TL_WAIT_SCOPE's cleanup), or the
   unwinding of a cancellation inside the real call, which never returns to the wrapper (the
   cleanup buffer, which glibc runs as it leaves the frame). */
typedef struct tl_wait_scope {
    tl_wait *wait; /* NULL when nothing is recorded */
    struct _pthread_cleanup_buffer cancel;
} tl_wait_scope;

void tl_wait_end_slow(tl_wait *w);

static inline void tl_wait_end(tl_wait *w)
{
    int blocked = TL_WAIT_BLOCKED;
    if (w && !atomic_compare_exchange_strong_explicit(&w->phase, &blocked, TL_WAIT_IDLE,
                                                      memory_order_release, memory_order_relaxed))
        tl_wait_end_slow(w);
}

void tl_wait_cancelled(void *w); /* the cleanup buffer's routine */

/* Records the wait, unless the thread is not one we created or is already waiting (a signal
   handler's wait inside a wait); timed when the call has a deadline. Inlined into the wrapper, so
   that the registers saved are those of the wrapper's frame, which stays put while the thread
   waits, and the return address is the wrapper's: a helper of the wrappers that calls this must be
   always_inline too, or every wait it records would have the helper's call in the wrapper as its
   site. */
static inline __attribute__((always_inline)) void tl_wait_begin_timed(tl_wait_scope *scope,
                                                                      tl_state state,
                                                                      tl_object_kind kind,
                                                                      uintptr_t object, bool timed)
{
    tl_wait *w = tl_self_wait;
    /* A load and a store, not a compare-and-swap: only this thread leaves IDLE (a report pins
       BLOCKED records only), and a signal handler that runs in between records and ends its own
       wait before this goes on. */
    if (w && atomic_load_explicit(&w->phase, memory_order_relaxed) != TL_WAIT_IDLE)
        w = NULL;
    else if (w)
        atomic_store_explicit(&w->phase, TL_WAIT_WRITING, memory_order_relaxed);
    scope->wait = w;
    _pthread_cleanup_push(&scope->cancel, tl_wait_cancelled, w);
    if (!w)
        return;
    w->state = state;
    w->kind = kind;
    w->timed = timed;
    w->object = object;
    w->site = (uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0));
    w->since_ns = tl_now_ns();
    tl_cpu_save(&w->ctx);
    atomic_store_explicit(&w->phase, TL_WAIT_BLOCKED, memory_order_release);
}

/* A wait with no deadline. */
static inline __attribute__((always_inline)) void tl_wait_begin(tl_wait_scope *scope,
                                                                tl_state state, tl_object_kind kind,
                                                                uintptr_t object)
{
    tl_wait_begin_timed(scope, state, kind, object, false);
}

static inline void tl_wait_scope_end(tl_wait_scope *scope)
{
    _pthread_cleanup_pop(&scope->cancel, 0);
    tl_wait_end(scope->wait);
}
#define TL_WAIT_SCOPE __attribute__((cleanup(tl_wait_scope_end)))

bool tl_wait_pin(tl_wait *w); /* a report: true when w is blocked, and now held still */
void tl_wait_unpin(tl_wait *w);

#endif
