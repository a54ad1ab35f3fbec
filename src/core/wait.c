/* The slow paths of wait records: a wait that ends while a report reads it, and pinning. The
   design is in wait.h. */
#include "core/wait.h"

#include "core/futex.h"

TL_TLS tl_wait *tl_self_wait;

static const char *const state_names[] = {
    [TL_RUNNING] = "running",
    [TL_COND_WAIT] = "cond_wait",
    [TL_MUTEX_LOCK] = "mutex_lock",
    [TL_RWLOCK_READ] = "rwlock_read",
    [TL_RWLOCK_WRITE] = "rwlock_write",
    [TL_SEM_WAIT] = "sem_wait",
    [TL_FUTEX_WAIT] = "futex_wait",
    [TL_BARRIER_WAIT] = "barrier_wait",
    [TL_JOIN] = "join",
    [TL_SLEEP] = "sleep",
    [TL_PIPE_READ] = "pipe_read",
    [TL_PIPE_WRITE] = "pipe_write",
    [TL_MQ_RECEIVE] = "mq_receive",
    [TL_MQ_SEND] = "mq_send",
    [TL_SOCKET_READ] = "socket_read",
    [TL_SOCKET_WRITE] = "socket_write",
    [TL_ACCEPT] = "accept",
    [TL_POLL] = "poll",
    [TL_WAITING] = "waiting",
    [TL_EXITED_UNJOINED] = "exited_unjoined",
};

const char *tl_state_name(tl_state s)
{
    return state_names[s];
}

void tl_wait_cancelled(void *w)
{
    tl_wait_end(w);
}

/* Pinned by a report: it lets go soon (one stack's unwinding) and wakes us. A report that does
   not (stopped, or crashed on the way out) holds the thread a second at most: then the thread takes
   its record back, and the report, which reads only the thread's own stack, reads a stale one. */
void tl_wait_end_slow(tl_wait *w)
{
    uint64_t deadline = 0;
    struct timespec step = {0, 100000000};
    for (;;) {
        int phase = atomic_load_explicit(&w->phase, memory_order_acquire);
        if (phase == TL_WAIT_BLOCKED &&
            atomic_compare_exchange_strong_explicit(&w->phase, &phase, TL_WAIT_IDLE,
                                                    memory_order_release, memory_order_relaxed))
            return;
        if (!deadline)
            deadline = tl_now_ns() + 1000000000;
        else if (tl_now_ns() > deadline &&
                 atomic_compare_exchange_strong(&w->phase, &phase, TL_WAIT_IDLE))
            return;
        if (phase == TL_WAIT_PINNED)
            atomic_compare_exchange_strong(&w->phase, &phase, TL_WAIT_PINNED_WAITED);
        else if (phase == TL_WAIT_PINNED_WAITED)
            tl_futex_wait(&w->phase, TL_WAIT_PINNED_WAITED, &step);
    }
}

bool tl_wait_pin(tl_wait *w)
{
    int expected = TL_WAIT_BLOCKED;
    return atomic_compare_exchange_strong_explicit(&w->phase, &expected, TL_WAIT_PINNED,
                                                   memory_order_acquire, memory_order_relaxed);
}

/* Back to BLOCKED, unless the thread took its record back meanwhile (tl_wait_end_slow). */
void tl_wait_unpin(tl_wait *w)
{
    int phase = TL_WAIT_PINNED;
    if (atomic_compare_exchange_strong_explicit(&w->phase, &phase, TL_WAIT_BLOCKED,
                                                memory_order_release, memory_order_relaxed))
        return;
    if (phase == TL_WAIT_PINNED_WAITED &&
        atomic_compare_exchange_strong_explicit(&w->phase, &phase, TL_WAIT_BLOCKED,
                                                memory_order_release, memory_order_relaxed))
        tl_futex_wake(&w->phase, 1);
}
