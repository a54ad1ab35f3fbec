/* Wrappers of the waits on synchronisation objects and of sleeps, POSIX's and C11's.

   Only a lock that makes the thread wait is recorded: a mutex whose lock word reads free goes
   straight to the real lock, so that an uncontended lock costs one load. A mutex taken in the
   instant between the look and the lock waits unrecorded; one that is held is recorded even when
   the caller owns it (a recursive relock), which costs only the record. rwlocks keep their state
   in several words, so they are tried first; the try and the lock agree on every outcome that
   matters (a lock held for writing by the caller, say). */
#include "interpose/interpose.h"

#include "core/wakers.h"

/* ---- condition variables: exported at the version programs link against ---- */

TL_API int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (tl_bypass())
        return REAL(pthread_cond_wait)(c, m);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_COND_WAIT, TL_OBJ_ADDR, (uintptr_t)c);
    return REAL(pthread_cond_wait)(c, m);
}

TL_API int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    if (tl_bypass())
        return REAL(pthread_cond_timedwait)(c, m, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_COND_WAIT, TL_OBJ_ADDR, (uintptr_t)c, true);
    return REAL(pthread_cond_timedwait)(c, m, t);
}

TL_API int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                                  const struct timespec *t)
{
    if (tl_bypass())
        return REAL(pthread_cond_clockwait)(c, m, clock, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_COND_WAIT, TL_OBJ_ADDR, (uintptr_t)c, true);
    return REAL(pthread_cond_clockwait)(c, m, clock, t);
}

/* Who signals what: evidence for the verdicts. */
TL_API int pthread_cond_signal(pthread_cond_t *c)
{
    if (!tl_bypass())
        tl_waker_note((uintptr_t)c);
    return REAL(pthread_cond_signal)(c);
}

TL_API int pthread_cond_broadcast(pthread_cond_t *c)
{
    if (!tl_bypass())
        tl_waker_note((uintptr_t)c);
    return REAL(pthread_cond_broadcast)(c);
}

/* A new object at this address, or none: whoever signalled the old one is not its waker. */
TL_API int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
    if (!tl_bypass())
        tl_wakers_forget((uintptr_t)c);
    return REAL(pthread_cond_init)(c, attr);
}

TL_API int pthread_cond_destroy(pthread_cond_t *c)
{
    int rc = REAL(pthread_cond_destroy)(c);
    if (!tl_bypass() && rc == 0)
        tl_wakers_forget((uintptr_t)c);
    return rc;
}

/* ---- C11's condition variables: glibc's cnd_* reach nptl inside libc, past pthread_cond_* ---- */

TL_API int cnd_wait(cnd_t *c, mtx_t *m)
{
    if (tl_bypass())
        return REAL(cnd_wait)(c, m);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_COND_WAIT, TL_OBJ_ADDR, (uintptr_t)c);
    return REAL(cnd_wait)(c, m);
}

TL_API int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict t)
{
    if (tl_bypass())
        return REAL(cnd_timedwait)(c, m, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_COND_WAIT, TL_OBJ_ADDR, (uintptr_t)c, true);
    return REAL(cnd_timedwait)(c, m, t);
}

TL_API int cnd_signal(cnd_t *c)
{
    if (!tl_bypass())
        tl_waker_note((uintptr_t)c);
    return REAL(cnd_signal)(c);
}

TL_API int cnd_broadcast(cnd_t *c)
{
    if (!tl_bypass())
        tl_waker_note((uintptr_t)c);
    return REAL(cnd_broadcast)(c);
}

TL_API int cnd_init(cnd_t *c)
{
    if (!tl_bypass())
        tl_wakers_forget((uintptr_t)c);
    return REAL(cnd_init)(c);
}

/* ---- mutexes and rwlocks: not cancellation points ---- */

TL_API int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (tl_bypass() || TL_LIKELY(!tl_glibc_mutex_held(m)))
        return REAL(pthread_mutex_lock)(m);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_MUTEX_LOCK, TL_OBJ_ADDR, (uintptr_t)m);
    return REAL(pthread_mutex_lock)(m);
}

TL_API int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
    if (tl_bypass() || !tl_glibc_mutex_held(m))
        return REAL(pthread_mutex_timedlock)(m, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_MUTEX_LOCK, TL_OBJ_ADDR, (uintptr_t)m, true);
    return REAL(pthread_mutex_timedlock)(m, t);
}

TL_API int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *t)
{
    if (tl_bypass() || !tl_glibc_mutex_held(m))
        return REAL(pthread_mutex_clocklock)(m, clock, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_MUTEX_LOCK, TL_OBJ_ADDR, (uintptr_t)m, true);
    return REAL(pthread_mutex_clocklock)(m, clock, t);
}

TL_API int mtx_lock(mtx_t *m)
{
    if (tl_bypass() || TL_LIKELY(!tl_glibc_mutex_held(tl_glibc_mtx(m))))
        return REAL(mtx_lock)(m);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_MUTEX_LOCK, TL_OBJ_ADDR, (uintptr_t)m);
    return REAL(mtx_lock)(m);
}

TL_API int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict t)
{
    if (tl_bypass() || !tl_glibc_mutex_held(tl_glibc_mtx(m)))
        return REAL(mtx_timedlock)(m, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_MUTEX_LOCK, TL_OBJ_ADDR, (uintptr_t)m, true);
    return REAL(mtx_timedlock)(m, t);
}

/* The six rwlock waits: for reading or writing, plain, with a deadline, or with a clock. */
typedef enum { PLAIN, TIMED, CLOCKED } deadline_kind;

static int rwlock_real(bool write, deadline_kind how, pthread_rwlock_t *l, clockid_t clock,
                       const struct timespec *t)
{
    switch (how) {
    case PLAIN: return write ? REAL(pthread_rwlock_wrlock)(l) : REAL(pthread_rwlock_rdlock)(l);
    case TIMED:
        return write ? REAL(pthread_rwlock_timedwrlock)(l, t)
                     : REAL(pthread_rwlock_timedrdlock)(l, t);
    case CLOCKED:
        return write ? REAL(pthread_rwlock_clockwrlock)(l, clock, t)
                     : REAL(pthread_rwlock_clockrdlock)(l, clock, t);
    }
    return EINVAL;
}

/* Inlined into each wrapper, for the wait's site (core/wait.h). */
static inline __attribute__((always_inline)) int rwlock_lock(bool write, deadline_kind how,
                                                             pthread_rwlock_t *l, clockid_t clock,
                                                             const struct timespec *t)
{
    if (tl_bypass())
        return rwlock_real(write, how, l, clock, t);
    int rc = write ? REAL(pthread_rwlock_trywrlock)(l) : REAL(pthread_rwlock_tryrdlock)(l);
    if (rc != EBUSY)
        return rc;
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, write ? TL_RWLOCK_WRITE : TL_RWLOCK_READ, TL_OBJ_ADDR, (uintptr_t)l,
                        how != PLAIN);
    return rwlock_real(write, how, l, clock, t);
}

TL_API int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    return rwlock_lock(false, PLAIN, l, 0, NULL);
}

TL_API int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *t)
{
    return rwlock_lock(false, TIMED, l, 0, t);
}

TL_API int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clock,
                                      const struct timespec *t)
{
    return rwlock_lock(false, CLOCKED, l, clock, t);
}

TL_API int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    return rwlock_lock(true, PLAIN, l, 0, NULL);
}

TL_API int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *t)
{
    return rwlock_lock(true, TIMED, l, 0, t);
}

TL_API int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clock,
                                      const struct timespec *t)
{
    return rwlock_lock(true, CLOCKED, l, clock, t);
}

TL_API int pthread_barrier_wait(pthread_barrier_t *b)
{
    if (tl_bypass())
        return REAL(pthread_barrier_wait)(b);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_BARRIER_WAIT, TL_OBJ_ADDR, (uintptr_t)b);
    return REAL(pthread_barrier_wait)(b);
}

/* ---- semaphores ---- */

/* A semaphore with a count is taken at once, as glibc's own fast path takes it, after the
   cancellation point that sem_wait must act on even when it does not block: there is no wait to
   record. False, errno untouched, when it would block. */
static inline bool sem_taken_at_once(sem_t *s)
{
    TL_KEEP_ERRNO;
    pthread_testcancel();
    return REAL(sem_trywait)(s) == 0;
}

TL_API int sem_wait(sem_t *s)
{
    if (tl_bypass())
        return REAL(sem_wait)(s);
    if (sem_taken_at_once(s))
        return 0;
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_SEM_WAIT, TL_OBJ_ADDR, (uintptr_t)s);
    return REAL(sem_wait)(s);
}

TL_API int sem_timedwait(sem_t *s, const struct timespec *t)
{
    if (tl_bypass())
        return REAL(sem_timedwait)(s, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_SEM_WAIT, TL_OBJ_ADDR, (uintptr_t)s, true);
    return REAL(sem_timedwait)(s, t);
}

TL_API int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *t)
{
    if (tl_bypass())
        return REAL(sem_clockwait)(s, clock, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, TL_SEM_WAIT, TL_OBJ_ADDR, (uintptr_t)s, true);
    return REAL(sem_clockwait)(s, clock, t);
}

TL_API int sem_post(sem_t *s)
{
    if (!tl_bypass())
        tl_waker_note((uintptr_t)s);
    return REAL(sem_post)(s);
}

TL_API int sem_init(sem_t *s, int shared, unsigned value)
{
    if (!tl_bypass())
        tl_wakers_forget((uintptr_t)s);
    return REAL(sem_init)(s, shared, value);
}

TL_API int sem_destroy(sem_t *s)
{
    int rc = REAL(sem_destroy)(s);
    if (!tl_bypass() && rc == 0)
        tl_wakers_forget((uintptr_t)s);
    return rc;
}

/* ---- sleeps: glibc's sleep, usleep and thrd_sleep call nanosleep inside libc, not ours ---- */

TL_API int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (tl_bypass())
        return REAL(nanosleep)(req, rem);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_SLEEP, TL_OBJ_NONE, 0);
    return REAL(nanosleep)(req, rem);
}

TL_API int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    if (tl_bypass())
        return REAL(clock_nanosleep)(clock, flags, req, rem);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_SLEEP, TL_OBJ_NONE, 0);
    return REAL(clock_nanosleep)(clock, flags, req, rem);
}

TL_API unsigned sleep(unsigned seconds)
{
    if (tl_bypass())
        return REAL(sleep)(seconds);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_SLEEP, TL_OBJ_NONE, 0);
    return REAL(sleep)(seconds);
}

TL_API int usleep(useconds_t usec)
{
    if (tl_bypass())
        return REAL(usleep)(usec);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_SLEEP, TL_OBJ_NONE, 0);
    return REAL(usleep)(usec);
}

TL_API int thrd_sleep(const struct timespec *t, struct timespec *rem)
{
    if (tl_bypass())
        return REAL(thrd_sleep)(t, rem);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, TL_SLEEP, TL_OBJ_NONE, 0);
    return REAL(thrd_sleep)(t, rem);
}
