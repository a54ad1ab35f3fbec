/* Wrappers of the thread lifecycle: creation, the join family, detach, names. */
#include "interpose.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/prctl.h>

/* ---- thread creation and end ---- */

static void thread_end(void *t)
{
    tl_thread_ended(t);
    tl_live_thread_ended();
}

/* Runs first in every thread we create. The cleanup handler sees the thread end whichever way it
   ends: return, pthread_exit, or cancellation (both unwind through it). */
static void *thread_trampoline(void *arg)
{
    tl_thread *t = arg;
    void *(*start)(void *) = t->start;
    void *start_arg = t->arg, *ret;
    t->stack_top = (uintptr_t)__builtin_frame_address(0);
    tl_thread_started(t);
    pthread_cleanup_push(thread_end, t);
    ret = start(start_arg);
    pthread_cleanup_pop(1);
    return ret;
}

static size_t stack_size(const pthread_attr_t *attr)
{
    static size_t default_size;
    size_t size = 0;
    pthread_attr_t dflt;
    if (attr)
        pthread_attr_getstacksize(attr, &size);
    else if (!(size = __atomic_load_n(&default_size, __ATOMIC_RELAXED)) && pthread_getattr_default_np(&dflt) == 0) {
        pthread_attr_getstacksize(&dflt, &size);
        pthread_attr_destroy(&dflt);
        __atomic_store_n(&default_size, size, __ATOMIC_RELAXED);
    }
    return size;
}

TL_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                          void *arg)
{
    TL_ENTER(real.create(thread, attr, start, arg));
    tl_live_thread_starting();
    int saved = errno, detach = PTHREAD_CREATE_JOINABLE;
    if (attr)
        pthread_attr_getdetachstate(attr, &detach);
    tl_guard++;
    tl_thread *t = tl_thread_new(start, arg, detach == PTHREAD_CREATE_DETACHED);
    if (t)
        t->stack_size = stack_size(attr);
    tl_guard--;
    errno = saved;
    if (!t) /* out of memory: the thread still starts, untracked */
        return real.create(thread, attr, start, arg);
    tl_thread_creating();
    int rc = real.create(thread, attr, thread_trampoline, t);
    saved = errno;
    if (rc == 0)
        tl_thread_publish(t, *thread);
    else
        tl_thread_abandon(t);
    errno = saved;
    return rc;
}

/* Other threads end through the trampoline's cleanup handler; main's end matters to the helper
   thread, which must not keep the process alive once the program's last thread has ended. */
TL_API void pthread_exit(void *ret)
{
    if (!tl_guard)
        tl_live_thread_exits();
    real.pthread_exit(ret);
}

TL_API int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option); /* as glibc's own prctl: four more arguments, used or not */
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long),
                  a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    TL_ENTER(real.prctl(option, a2, a3, a4, a5));
    int rc = real.prctl(option, a2, a3, a4, a5), saved = errno;
    if (rc == 0 && option == PR_SET_NAME)
        tl_thread_named((const char *)a2);
    errno = saved;
    return rc;
}

/* ---- join and detach ---- */

typedef enum { JOIN, TRYJOIN, TIMEDJOIN, CLOCKJOIN } join_kind;
typedef struct join_call {
    join_kind kind;
    void **ret;
    clockid_t clock;
    const struct timespec *abstime;
} join_call;

static void release_on_cancel(void *t)
{
    if (t)
        tl_thread_release(t);
}

static int call_join(pthread_t th, const join_call *c)
{
    switch (c->kind) {
    case JOIN: return real.join(th, c->ret);
    case TRYJOIN: return real.tryjoin(th, c->ret);
    case TIMEDJOIN: return real.timedjoin(th, c->ret, c->abstime);
    case CLOCKJOIN: return real.clockjoin(th, c->ret, c->clock, c->abstime);
    }
    return EINVAL;
}

/* The record is held across the real join: the moment the join returns, glibc may hand the same
   pthread_t to a new thread, so the record cannot be looked up again afterwards. */
static int join(pthread_t th, const join_call *c)
{
    TL_ENTER(call_join(th, c));
    tl_thread *t = tl_thread_hold(th);
    int rc;
    pthread_cleanup_push(release_on_cancel, t);
    rc = TL_WAIT(TL_JOIN, TL_OBJ_THREAD, th, call_join(th, c));
    pthread_cleanup_pop(0);
    int saved = errno;
    if (t && rc == 0)
        tl_thread_joined(t);
    else if (t)
        tl_thread_release(t);
    errno = saved;
    return rc;
}

TL_API int pthread_join(pthread_t th, void **ret)
{
    return join(th, &(join_call){.kind = JOIN, .ret = ret});
}

TL_API int pthread_tryjoin_np(pthread_t th, void **ret)
{
    return join(th, &(join_call){.kind = TRYJOIN, .ret = ret});
}

TL_API int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abstime)
{
    return join(th, &(join_call){.kind = TIMEDJOIN, .ret = ret, .abstime = abstime});
}

TL_API int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clock,
                                const struct timespec *abstime)
{
    return join(th, &(join_call){.kind = CLOCKJOIN, .ret = ret, .clock = clock, .abstime = abstime});
}

TL_API int pthread_detach(pthread_t th)
{
    TL_ENTER(real.detach(th));
    tl_thread *t = tl_thread_hold(th);
    int rc = real.detach(th), saved = errno;
    if (t && rc == 0)
        tl_thread_detached(t);
    else if (t)
        tl_thread_release(t);
    errno = saved;
    return rc;
}

TL_API int pthread_setname_np(pthread_t th, const char *name)
{
    TL_ENTER(real.setname(th, name));
    int rc = real.setname(th, name), saved = errno;
    if (rc == 0)
        tl_thread_set_name(th, name);
    errno = saved;
    return rc;
}
