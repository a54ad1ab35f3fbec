/* Wrappers of the thread lifecycle, POSIX's and C11's: creation, the join family, detach, exit,
   names. */
#include "interpose/interpose.h"

#include "core/altstack.h"
#include "core/helper.h"
#include "core/proc.h"
#include "core/registry.h"

#include <stdarg.h>

/* ---- thread creation and end ---- */

/* glibc's clone(fn, stack, flags, arg, ...): a thread made by it is none of ours, and the exit
   report must not take the registry's word that main is alone (trigger/exit.c). Its optional
   arguments (ptid, tls, ctid) are taken where a variadic call leaves them, in the places of named
   ones, as glibc's own clone reads them, and passed on (as syscall() does: interpose/syscall.c). */
int tl_clone(int (*fn)(void *), void *stack, int flags, void *arg, pid_t *ptid, void *tls,
             pid_t *ctid)
{
    if (flags & CLONE_THREAD) {
        /* Under an emulator, its own threads are told apart from the program's by being there
           before the program's first: noted now, as for a thread we make (core/proc.c). */
        if (!tl_bypass()) {
            tl_guard++;
            tl_proc_note_emulator();
            tl_guard--;
        }
        tl_registry_foreign();
    }
    return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
}
extern __typeof__(tl_clone) tl_clone_exported __asm__("clone")
    __attribute__((alias("tl_clone"), visibility("default")));

static void thread_end(void *t)
{
    tl_altstack_take_back();
    tl_thread_ended(t);
    tl_helper_thread_ended();
}

/* Runs first in every thread we create (inlined into each trampoline, the thread's first frame of
   ours). The cleanup buffer sees the thread end whichever way it ends: a return, or the unwinding
   of pthread_exit, thrd_exit or a cancellation, which runs it as it leaves the frame (without a
   setjmp, which would keep this from being inlined). A C11 thread's function returns an int,
   which glibc keeps as a pointer's worth, as for a thread of its own thrd_create. */
static inline __attribute__((always_inline)) void *run(tl_thread *t, bool c11)
{
    void *(*start)(void *) = t->start;
    void *start_arg = t->arg, *ret;
    struct _pthread_cleanup_buffer end;
    tl_thread_started(t, (uintptr_t)__builtin_frame_address(0));
    tl_altstack_give();
    _pthread_cleanup_push(&end, thread_end, t);
    if (c11)
        ret = (void *)(intptr_t)((int (*)(void *))(void (*)(void))start)(start_arg);
    else
        ret = start(start_arg);
    _pthread_cleanup_pop(&end, 1);
    return ret;
}

static void *thread_trampoline(void *arg)
{
    return run(arg, false);
}

static int c11_trampoline(void *arg)
{
    return (int)(intptr_t)run(arg, true);
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

/* The record of a thread about to be created by caller, with its creation stack; NULL when it
   stays untracked (the library is bypassed, or out of memory). Creating a thread is a safe point
   to start the library: a constructor that runs before ours may create threads, and they are
   tracked. */
static tl_thread *thread_record(const pthread_attr_t *attr, void *(*start)(void *), void *arg,
                                uintptr_t caller)
{
    if (!tl_guard)
        tl_start();
    if (tl_bypass())
        return NULL;
    tl_helper_thread_starting();
    TL_KEEP_ERRNO;
    int detach = PTHREAD_CREATE_JOINABLE;
    if (attr)
        pthread_attr_getdetachstate(attr, &detach);
    tl_guard++;
    tl_libunwind_load();
    tl_thread *t =
        tl_thread_new(start, arg, detach == PTHREAD_CREATE_DETACHED, tl_stack_capture(caller));
    if (t) {
        t->stack_size = stack_size(attr);
        tl_thread_creating();
    }
    tl_guard--;
    return t;
}

/* After the real call: the thread is listed under its handle, or its record dropped. */
static void thread_made(tl_thread *t, bool made, pthread_t handle)
{
    TL_KEEP_ERRNO;
    if (made)
        tl_thread_publish(t, handle);
    else
        tl_thread_abandon(t);
}

TL_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                          void *arg)
{
    tl_thread *t = thread_record(attr, start, arg, (uintptr_t)__builtin_return_address(0));
    if (!t)
        return REAL(pthread_create)(thread, attr, start, arg);
    int rc = REAL(pthread_create)(thread, attr, thread_trampoline, t);
    thread_made(t, rc == 0, rc == 0 ? *thread : 0);
    return rc;
}

/* glibc's thrd_create calls nptl inside libc, not our pthread_create. Its threads are tracked the
   same way: a C11 thread is a pthread with an int result. */
TL_API int thrd_create(thrd_t *thread, thrd_start_t start, void *arg)
{
    tl_thread *t = thread_record(NULL, (void *(*)(void *))(void (*)(void))start, arg,
                                 (uintptr_t)__builtin_return_address(0));
    if (!t)
        return REAL(thrd_create)(thread, start, arg);
    int rc = REAL(thrd_create)(thread, c11_trampoline, t);
    thread_made(t, rc == thrd_success, rc == thrd_success ? *thread : 0);
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

TL_API void thrd_exit(int ret)
{
    if (!tl_bypass())
        tl_helper_main_exits();
    REAL(thrd_exit)(ret);
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

typedef enum { JOIN, TRYJOIN, TIMEDJOIN, CLOCKJOIN, C11JOIN } join_kind;
typedef struct join_call {
    join_kind kind;
    void **ret;
    int *c11_ret;
    clockid_t clock;
    const struct timespec *abstime;
} join_call;

static int call_join(pthread_t th, const join_call *c)
{
    switch (c->kind) {
    case JOIN: return REAL(pthread_join)(th, c->ret);
    case C11JOIN: return REAL(thrd_join)(th, c->c11_ret);
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
   lets go of it through the cleanup buffer, which glibc runs as the cancellation leaves the frame.
   Inlined into each wrapper, for the wait's site (core/wait.h). */
static inline __attribute__((always_inline)) int join(pthread_t th, const join_call *c)
{
    if (tl_bypass())
        return call_join(th, c);
    tl_thread *t = tl_thread_hold(th);
    struct _pthread_cleanup_buffer cancel;
    _pthread_cleanup_push(&cancel, release_held, t);
    int rc;
    {
        tl_wait_scope wait TL_WAIT_SCOPE;
        tl_wait_begin_timed(&wait, TL_JOIN, TL_OBJ_THREAD, (uintptr_t)th,
                            c->kind == TIMEDJOIN || c->kind == CLOCKJOIN);
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

/* thrd_success is 0, as a join's success is (the C11 calls return it, not errno). */
_Static_assert(thrd_success == 0, "a C11 join or detach succeeds as a pthread one does");

TL_API int thrd_join(thrd_t th, int *ret)
{
    return join(th, &(join_call){.kind = C11JOIN, .c11_ret = ret});
}

/* pthread_detach, or C11's thrd_detach: both return 0 on success. */
static int detach(pthread_t th, bool c11)
{
    if (tl_bypass())
        return c11 ? REAL(thrd_detach)(th) : REAL(pthread_detach)(th);
    tl_thread *t = tl_thread_hold(th);
    int rc = c11 ? REAL(thrd_detach)(th) : REAL(pthread_detach)(th);
    TL_KEEP_ERRNO;
    if (t && rc == 0)
        tl_thread_detached(t);
    else
        release_held(t);
    return rc;
}

TL_API int pthread_detach(pthread_t th)
{
    return detach(th, false);
}

TL_API int thrd_detach(thrd_t th)
{
    return detach(th, true);
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
