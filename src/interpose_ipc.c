/* Wrappers of POSIX message queues and timers: both are resources, kept with the stack that made
   them until closed or deleted; a queue's send and receive are waits. */
#include "interpose.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

static void made(tl_res_kind kind, uintptr_t id)
{
    tl_guard++;
    tl_resource_add(kind, id, tl_stack_capture());
    tl_guard--;
}

/* ---- message queues (a queue descriptor is a file descriptor on Linux) ---- */

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
    TL_ENTER(real.mq_open(name, oflag, mode, attr));
    mqd_t q = real.mq_open(name, oflag, mode, attr);
    int saved = errno;
    if (q != (mqd_t)-1) {
        tl_fd_set(q, TL_FD_MQUEUE | (oflag & O_NONBLOCK ? TL_FD_NONBLOCK : 0));
        struct stat st; /* the queue's inode: the same for every descriptor of it */
        if (fstat(q, &st) == 0)
            tl_fd_set_id(q, (uint32_t)st.st_ino);
        made(TL_RES_MQUEUE, (uintptr_t)q);
    }
    errno = saved;
    return q;
}

TL_API int mq_close(mqd_t q)
{
    TL_ENTER(real.mq_close(q));
    int rc = real.mq_close(q), saved = errno;
    if (rc == 0) {
        tl_fd_set(q, TL_FD_UNKNOWN);
        tl_resource_closed(q);
    }
    errno = saved;
    return rc;
}

/* mq_setattr can make a queue non-blocking behind our back: then a wait is recorded for nothing. */
#define MQ_CALL(q, state, call)                                                                   \
    do {                                                                                          \
        TL_ENTER(call);                                                                           \
        if (tl_fd_kind(q) != TL_FD_MQUEUE)                                                        \
            return call;                                                                          \
        return TL_WAIT(state, TL_OBJ_FD, q, call);                                                \
    } while (0)

/* A send wakes the queue's receivers: noted for the verdicts. */
static inline void sending(mqd_t q)
{
    uintptr_t key = tl_fd_waker_key(q);
    if (key)
        tl_waker_note(key);
}

TL_API int mq_send(mqd_t q, const char *msg, size_t len, unsigned prio)
{
    sending(q);
    MQ_CALL(q, TL_MQ_SEND, real.mq_send(q, msg, len, prio));
}

TL_API int mq_timedsend(mqd_t q, const char *msg, size_t len, unsigned prio,
                        const struct timespec *t)
{
    sending(q);
    MQ_CALL(q, TL_MQ_SEND, real.mq_timedsend(q, msg, len, prio, t));
}

TL_API ssize_t mq_receive(mqd_t q, char *msg, size_t len, unsigned *prio)
{
    MQ_CALL(q, TL_MQ_RECEIVE, real.mq_receive(q, msg, len, prio));
}

TL_API ssize_t mq_timedreceive(mqd_t q, char *msg, size_t len, unsigned *prio,
                               const struct timespec *t)
{
    MQ_CALL(q, TL_MQ_RECEIVE, real.mq_timedreceive(q, msg, len, prio, t));
}

/* ---- timers: exported at GLIBC_2.34 and GLIBC_2.3.3 (one ABI); GLIBC_2.2.5 is an older one ---- */

TL_API int tl_timer_create(clockid_t clock, struct sigevent *ev, timer_t *timer)
{
    TL_ENTER(real.timer_create(clock, ev, timer));
    bool searching = ev && ev->sigev_notify == SIGEV_THREAD && tl_timer_helper_before();
    int rc = real.timer_create(clock, ev, timer), saved = errno;
    tl_timer_helper_after(searching, rc == 0);
    if (rc == 0)
        made(TL_RES_TIMER, (uintptr_t)*timer);
    errno = saved;
    return rc;
}
__asm__(".symver tl_timer_create, timer_create@@GLIBC_2.34");
__asm__(".symver tl_timer_create_2_3_3, timer_create@GLIBC_2.3.3");
TL_API __attribute__((alias("tl_timer_create"))) int tl_timer_create_2_3_3(clockid_t, struct sigevent *,
                                                                          timer_t *);

TL_API int tl_timer_delete(timer_t timer)
{
    TL_ENTER(real.timer_delete(timer));
    int rc = real.timer_delete(timer), saved = errno;
    if (rc == 0)
        tl_resource_remove(TL_RES_TIMER, (uintptr_t)timer);
    errno = saved;
    return rc;
}
__asm__(".symver tl_timer_delete, timer_delete@@GLIBC_2.34");
__asm__(".symver tl_timer_delete_2_3_3, timer_delete@GLIBC_2.3.3");
TL_API __attribute__((alias("tl_timer_delete"))) int tl_timer_delete_2_3_3(timer_t);
