/* Wrappers of the thread lifecycle: creation, the join family, detach, names. */
#include "interpose/interpose.h"

#include "core/helper.h"
#include "core/registry.h"

#include <stdarg.h>

/* ---- thread creation and end ---- */

static void thread_end(void *t)
{
    tl_thread_ended(t);
    tl_helper_thread_ended();
}

/* Runs first in every thread we create. The cleanup handler sees the thread end whichever way it
   ends: return, pthread_exit, or cancellation (both unwind through it). */
static void *thread_trampoline(void *arg)
{
    tl_thread *t = arg;
    void *(*start)(void *) = t->start;
    void *start_arg = t->arg, *ret;
    tl_thread_started(t, (uintptr_t)__builtin_frame_address(0));
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
    if (attr) {
        pthread_attr_getstacksize(attr, &size);
    } else if (!(size = __atomic_load_n(&default_size, __ATOMIC_RELAXED)) &&
               pthread_getattr_default_np(&dflt) == 0) {
        pthread_attr_getstacksize(&dflt, &size);
        pthread_attr_destroy(&dflt);
        __atomic_store_n(&default_size, size, __ATOMIC_RELAXED);
    }
    return size;
}

/* pthread_create is a safe point to start the library: a constructor that runs before ours may
   create threads, and they are tracked. */
TL_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                          void *arg)
{
    if (!tl_guard)
        tl_start();
    if (tl_bypass())
        return REAL(pthread_create)(thread, attr, start, arg);
    tl_helper_thread_starting();
    tl_thread *t;
    {
        TL_KEEP_ERRNO;
        int detach = PTHREAD_CREATE_JOINABLE;
        if (attr)
            pthread_attr_getdetachstate(attr, &detach);
        tl_guard++;
        tl_libunwind_load();
        t = tl_thread_new(start, arg, detach == PTHREAD_CREATE_DETACHED,
                          tl_stack_capture((uintptr_t)__builtin_return_address(0)));
        if (t)
            t->stack_size = stack_size(attr);
        tl_guard--;
    }
    if (!t) /* out of memory: the thread still starts, untracked */
        return REAL(pthread_create)(thread, attr, start, arg);
    tl_thread_creating();
    int rc = REAL(pthread_create)(thread, attr, thread_trampoline, t);
    TL_KEEP_ERRNO;
    if (rc == 0)
        tl_thread_publish(t, *thread);
    else
        tl_thread_abandon(t);
    return rc;
}

/* Other threads end through the trampoline's cleanup handler; main's end matters to the helper
   thread, which must not keep the process alive once the program's last thread has ended. */
TL_API void pthread_exit(void *ret)
{
    if (!tl_bypass())
        tl_helper_main_exits();
    REAL(pthread_exit)(ret);
    __builtin_unreachable();
}

TL_API int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option); /* as glibc's own prctl: four more arguments, used or not */
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long),
                  a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    int rc = REAL(prctl)(option, a2, a3, a4, a5);
    if (!tl_bypass() && rc == 0 && option == PR_SET_NAME) {
        TL_KEEP_ERRNO;
        tl_thread_set_name(pthread_self(), (const char *)a2);
    }
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

static int call_join(pthread_t th, const join_call *c)
{
    switch (c->kind) {
    case JOIN: return REAL(pthread_join)(th, c->ret);
    case TRYJOIN: return REAL(pthread_tryjoin_np)(th, c->ret);
    case TIMEDJOIN: return REAL(pthread_timedjoin_np)(th, c->ret, c->abstime);
    case CLOCKJOIN: return REAL(pthread_clockjoin_np)(th, c->ret, c->clock, c->abstime);
    }
    return EINVAL;
}

static void release_held(void *t)
{
    if (t)
        tl_thread_release(t);
}

/* The record is held across the real join: the moment the join returns, glibc may hand the same
   pthread_t to a new thread, so the record cannot be looked up again afterwards. A cancelled join
   lets go of it through the cleanup buffer, which glibc runs as the cancellation leaves the frame. */
static int join(pthread_t th, const join_call *c)
{
    if (tl_bypass())
        return call_join(th, c);
    tl_thread *t = tl_thread_hold(th);
    struct _pthread_cleanup_buffer cancel;
    _pthread_cleanup_push(&cancel, release_held, t);
    int rc;
    {
        tl_wait_scope wait TL_WAIT_SCOPE;
        tl_wait_begin_until(&wait, TL_JOIN, TL_OBJ_THREAD, (uintptr_t)th, c->kind != JOIN);
        rc = call_join(th, c);
    }
    _pthread_cleanup_pop(&cancel, 0);
    TL_KEEP_ERRNO;
    if (t && rc == 0)
        tl_thread_joined(t);
    else
        release_held(t);
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
    return join(th,
                &(join_call){.kind = CLOCKJOIN, .ret = ret, .clock = clock, .abstime = abstime});
}

TL_API int pthread_detach(pthread_t th)
{
    if (tl_bypass())
        return REAL(pthread_detach)(th);
    tl_thread *t = tl_thread_hold(th);
    int rc = REAL(pthread_detach)(th);
    TL_KEEP_ERRNO;
    if (t && rc == 0)
        tl_thread_detached(t);
    else
        release_held(t);
    return rc;
}

TL_API int pthread_setname_np(pthread_t th, const char *name)
{
    int rc = REAL(pthread_setname_np)(th, name);
    if (!tl_bypass() && rc == 0) {
        TL_KEEP_ERRNO;
        tl_thread_set_name(th, name);
    }
    return rc;
}
