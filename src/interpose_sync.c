/* Wrappers of the waits on synchronisation objects and of sleeps. Only a lock that makes the thread
   wait is recorded: a mutex whose lock word (glibc's __data.__lock, part of the ABI its static
   initialisers fix) reads free goes straight to the real lock, so that an uncontended lock costs one
   load. A mutex taken in the instant between the look and the lock waits unrecorded; one that is
   held is recorded even when the caller owns it (a recursive relock), which costs only the record.
   rwlocks keep their state in several words, so they are tried first; the try and the lock agree
   on every outcome that matters (a lock held for writing by the caller, say). */
#include "interpose.h"

#include <errno.h>

void tl_wait_cancelled(void *w)
{
    tl_wait_end(w);
}

/* ---- condition variables: exported at GLIBC_2.3.2, the ABI programs link against ---- */

TL_API int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    TL_ENTER(real.cond_wait(c, m));
    return TL_WAIT(TL_COND_WAIT, TL_OBJ_ADDR, c, real.cond_wait(c, m));
}

TL_API int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    TL_ENTER(real.cond_timedwait(c, m, t));
    return TL_WAIT(TL_COND_WAIT, TL_OBJ_ADDR, c, real.cond_timedwait(c, m, t));
}

TL_API int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                                  const struct timespec *t)
{
    TL_ENTER(real.cond_clockwait(c, m, clock, t));
    return TL_WAIT(TL_COND_WAIT, TL_OBJ_ADDR, c, real.cond_clockwait(c, m, clock, t));
}

/* Who signals what: evidence for the verdicts. */
TL_API int pthread_cond_signal(pthread_cond_t *c)
{
    TL_ENTER(real.cond_signal(c));
    tl_waker_note((uintptr_t)c);
    return real.cond_signal(c);
}

TL_API int pthread_cond_broadcast(pthread_cond_t *c)
{
    TL_ENTER(real.cond_broadcast(c));
    tl_waker_note((uintptr_t)c);
    return real.cond_broadcast(c);
}

TL_API int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
    TL_ENTER(real.cond_init(c, attr));
    tl_wakers_forget((uintptr_t)c);
    return real.cond_init(c, attr);
}

/* ---- mutexes and rwlocks: not cancellation points ---- */

#define TRY_THEN_WAIT(state, object, try_call, call)                                               \
    do {                                                                                          \
        TL_ENTER(call);                                                                           \
        int rc = (try_call);                                                                      \
        if (rc != EBUSY)                                                                          \
            return rc;                                                                            \
        return TL_WAIT_UNCANCELLABLE(state, TL_OBJ_ADDR, object, call);                           \
    } while (0)

static inline bool mutex_held(pthread_mutex_t *m)
{
    return atomic_load_explicit((atomic_int *)&m->__data.__lock, memory_order_relaxed) != 0;
}

#define LOCK_MUTEX(m, call)                                                                           do {                                                                                                  TL_ENTER(call);                                                                                   if (TL_LIKELY(!mutex_held(m)))                                                                        return call;                                                                                  return TL_WAIT_UNCANCELLABLE(TL_MUTEX_LOCK, TL_OBJ_ADDR, m, call);                            } while (0)

TL_API int pthread_mutex_lock(pthread_mutex_t *m)
{
    LOCK_MUTEX(m, real.mutex_lock(m));
}

TL_API int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
    LOCK_MUTEX(m, real.mutex_timedlock(m, t));
}

TL_API int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *t)
{
    LOCK_MUTEX(m, real.mutex_clocklock(m, clock, t));
}

TL_API int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    TRY_THEN_WAIT(TL_RWLOCK_READ, l, real.rwlock_tryrdlock(l), real.rwlock_rdlock(l));
}

TL_API int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *t)
{
    TRY_THEN_WAIT(TL_RWLOCK_READ, l, real.rwlock_tryrdlock(l), real.rwlock_timedrdlock(l, t));
}

TL_API int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clock, const struct timespec *t)
{
    TRY_THEN_WAIT(TL_RWLOCK_READ, l, real.rwlock_tryrdlock(l), real.rwlock_clockrdlock(l, clock, t));
}

TL_API int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    TRY_THEN_WAIT(TL_RWLOCK_WRITE, l, real.rwlock_trywrlock(l), real.rwlock_wrlock(l));
}

TL_API int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *t)
{
    TRY_THEN_WAIT(TL_RWLOCK_WRITE, l, real.rwlock_trywrlock(l), real.rwlock_timedwrlock(l, t));
}

TL_API int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clock, const struct timespec *t)
{
    TRY_THEN_WAIT(TL_RWLOCK_WRITE, l, real.rwlock_trywrlock(l), real.rwlock_clockwrlock(l, clock, t));
}

TL_API int pthread_barrier_wait(pthread_barrier_t *b)
{
    TL_ENTER(real.barrier_wait(b));
    return TL_WAIT_UNCANCELLABLE(TL_BARRIER_WAIT, TL_OBJ_ADDR, b, real.barrier_wait(b));
}

/* ---- semaphores ---- */

TL_API int sem_wait(sem_t *s)
{
    TL_ENTER(real.sem_wait(s));
    return TL_WAIT(TL_SEM_WAIT, TL_OBJ_ADDR, s, real.sem_wait(s));
}

TL_API int sem_timedwait(sem_t *s, const struct timespec *t)
{
    TL_ENTER(real.sem_timedwait(s, t));
    return TL_WAIT(TL_SEM_WAIT, TL_OBJ_ADDR, s, real.sem_timedwait(s, t));
}

TL_API int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *t)
{
    TL_ENTER(real.sem_clockwait(s, clock, t));
    return TL_WAIT(TL_SEM_WAIT, TL_OBJ_ADDR, s, real.sem_clockwait(s, clock, t));
}

TL_API int sem_post(sem_t *s)
{
    TL_ENTER(real.sem_post(s));
    tl_waker_note((uintptr_t)s);
    return real.sem_post(s);
}

TL_API int sem_init(sem_t *s, int shared, unsigned value)
{
    TL_ENTER(real.sem_init(s, shared, value));
    tl_wakers_forget((uintptr_t)s);
    return real.sem_init(s, shared, value);
}

/* ---- sleeps: glibc's sleep and usleep call nanosleep internally, not through us ---- */

TL_API int nanosleep(const struct timespec *req, struct timespec *rem)
{
    TL_ENTER(real.nanosleep(req, rem));
    return TL_WAIT(TL_SLEEP, TL_OBJ_NONE, 0, real.nanosleep(req, rem));
}

TL_API int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    TL_ENTER(real.clock_nanosleep(clock, flags, req, rem));
    return TL_WAIT(TL_SLEEP, TL_OBJ_NONE, 0, real.clock_nanosleep(clock, flags, req, rem));
}

TL_API unsigned sleep(unsigned seconds)
{
    TL_ENTER(real.sleep(seconds));
    return TL_WAIT(TL_SLEEP, TL_OBJ_NONE, 0, real.sleep(seconds));
}

TL_API int usleep(useconds_t usec)
{
    TL_ENTER(real.usleep(usec));
    return TL_WAIT(TL_SLEEP, TL_OBJ_NONE, 0, real.usleep(usec));
}
