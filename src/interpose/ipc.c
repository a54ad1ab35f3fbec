/* Wrappers of POSIX message queues and timers: both are resources, kept with the stack that made
   them until closed or deleted; a queue's send and receive are waits. */
#include "interpose/interpose.h"

#include "core/fdtable.h"
#include "core/held.h"
#include "core/resource.h"
#include "core/wakers.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* The stack that made a queue or timer: neither mq_open nor timer_create is async-signal-safe,
   so libunwind may be loaded here. */
static const tl_stack *made_at(uintptr_t caller)
{
    TL_KEEP_ERRNO;
    tl_guard++;
    tl_libunwind_load();
    const tl_stack *stack = tl_stack_capture(caller);
    tl_guard--;
    return stack;
}

/* ---- message queues (a queue descriptor is a file descriptor on Linux) ---- */

/* A queue opened by caller: a resource until closed. */
static mqd_t opened(mqd_t q, int oflag, uintptr_t caller)
{
    if (tl_bypass() || q == (mqd_t)-1)
        return q;
    struct stat st; /* the queue's inode: the same for every descriptor of it */
    uint32_t id = tl_sys(SYS_fstat, q, (long)&st, 0, 0, 0, 0) == 0 ? (uint32_t)st.st_ino : 0;
    tl_fd_made(q, TL_FD_MQUEUE | (oflag & O_NONBLOCK ? TL_FD_NONBLOCK : 0), id, made_at(caller));
    return q;
}

TL_API mqd_t mq_open(const char *name, int oflag, ...)
{
    mode_t mode = 0;
    struct mq_attr *attr = NULL;
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode = va_arg(ap, mode_t);
        attr = va_arg(ap, struct mq_attr *);
        va_end(ap);
    }
    return opened(REAL(mq_open)(name, oflag, mode, attr), oflag,
                  (uintptr_t)__builtin_return_address(0));
}

/* A fortified program's mq_open of an existing queue (two arguments). */
TL_API mqd_t __mq_open_2(const char *name, int oflag)
{
    return opened(REAL(__mq_open_2)(name, oflag), oflag, (uintptr_t)__builtin_return_address(0));
}

TL_API int mq_close(mqd_t q)
{
    int rc = REAL(mq_close)(q);
    if (!tl_bypass() && rc == 0) {
        TL_KEEP_ERRNO;
        tl_guard++;
        tl_fd_closed(q);
        tl_held_drop(TL_HELD_MQ_NOTIFY, (uintptr_t)q);
        tl_guard--;
    }
    return rc;
}

/* The value a notification will carry is the kernel's to keep until it fires (for SIGEV_THREAD,
   glibc hands it to the kernel too): noted for the reachability scan. One that fired stays noted
   until the next mq_notify or mq_close, which only makes the scan keep more. */
TL_API int mq_notify(mqd_t q, const struct sigevent *ev)
{
    int rc = REAL(mq_notify)(q, ev);
    if (!tl_bypass() && rc == 0) {
        TL_KEEP_ERRNO;
        tl_guard++;
        if (ev && ev->sigev_notify != SIGEV_NONE)
            tl_held_set(TL_HELD_MQ_NOTIFY, (uintptr_t)q, (uintptr_t)ev->sigev_value.sival_ptr);
        else
            tl_held_drop(TL_HELD_MQ_NOTIFY, (uintptr_t)q);
        tl_guard--;
    }
    return rc;
}

/* The state of a send or receive: TL_RUNNING when it cannot wait. mq_setattr can make a queue
   non-blocking behind our back: then a wait is recorded for nothing. A send wakes the queue's
   receivers: noted for the verdicts. */
static inline tl_state queue_state(mqd_t q, tl_state state)
{
    uintptr_t key;
    if (tl_bypass())
        return TL_RUNNING;
    if (state == TL_MQ_SEND && (key = tl_fd_waker_key(q)))
        tl_waker_note(key);
    return tl_fd_waits(q) == TL_FD_OTHER ? TL_RUNNING : state;
}

TL_API int mq_send(mqd_t q, const char *msg, size_t len, unsigned prio)
{
    tl_state state = queue_state(q, TL_MQ_SEND);
    if (state == TL_RUNNING)
        return REAL(mq_send)(q, msg, len, prio);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)q);
    return REAL(mq_send)(q, msg, len, prio);
}

TL_API int mq_timedsend(mqd_t q, const char *msg, size_t len, unsigned prio,
                        const struct timespec *t)
{
    tl_state state = queue_state(q, TL_MQ_SEND);
    if (state == TL_RUNNING)
        return REAL(mq_timedsend)(q, msg, len, prio, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, state, TL_OBJ_FD, (uintptr_t)q, true);
    return REAL(mq_timedsend)(q, msg, len, prio, t);
}

TL_API ssize_t mq_receive(mqd_t q, char *msg, size_t len, unsigned *prio)
{
    tl_state state = queue_state(q, TL_MQ_RECEIVE);
    if (state == TL_RUNNING)
        return REAL(mq_receive)(q, msg, len, prio);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)q);
    return REAL(mq_receive)(q, msg, len, prio);
}

TL_API ssize_t mq_timedreceive(mqd_t q, char *msg, size_t len, unsigned *prio,
                               const struct timespec *t)
{
    tl_state state = queue_state(q, TL_MQ_RECEIVE);
    if (state == TL_RUNNING)
        return REAL(mq_timedreceive)(q, msg, len, prio, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, state, TL_OBJ_FD, (uintptr_t)q, true);
    return REAL(mq_timedreceive)(q, msg, len, prio, t);
}

/* ---- timers: exported as the platform layer says (TL_GLIBC_EXPORT_TIMER) ---- */

TL_API int tl_timer_create(clockid_t clock, struct sigevent *ev, timer_t *timer)
{
    if (tl_bypass())
        return REAL(timer_create)(clock, ev, timer);
    bool searching = ev && ev->sigev_notify == SIGEV_THREAD && tl_timer_helper_before();
    int rc = REAL(timer_create)(clock, ev, timer);
    TL_KEEP_ERRNO;
    tl_timer_helper_after(searching, rc == 0);
    if (rc == 0) {
        tl_timer_made(*timer, made_at((uintptr_t)__builtin_return_address(0)));
        /* The kernel keeps the value (as /proc/self/timers shows, where it can be read) */
        if (ev && ev->sigev_notify != SIGEV_NONE) {
            tl_guard++;
            tl_held_set(TL_HELD_TIMER, (uintptr_t)*timer, (uintptr_t)ev->sigev_value.sival_ptr);
            tl_guard--;
        }
    }
    return rc;
}

TL_API int tl_timer_delete(timer_t timer)
{
    int rc = REAL(timer_delete)(timer);
    if (!tl_bypass() && rc == 0) {
        TL_KEEP_ERRNO;
        tl_guard++;
        tl_timer_deleted(timer);
        tl_held_drop(TL_HELD_TIMER, (uintptr_t)timer);
        tl_guard--;
    }
    return rc;
}

TL_GLIBC_EXPORT_TIMER(timer_create)
TL_GLIBC_EXPORT_TIMER(timer_delete)
