/* Shared by the interpose_*.c files, the only ones that hold real functions and define wrappers.

   Every wrapper keeps the program's semantics: it returns what the real function returned, leaves
   errno as the real function left it, keeps its cancellation point, and goes straight to the real
   function when the library itself is the caller (tl_guard). */
#ifndef TL_INTERPOSE_H
#define TL_INTERPOSE_H

#include "tl.h"

#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

typedef int (*tl_main_fn)(int, char **, char **);

typedef struct tl_real {
    int (*libc_start_main)(tl_main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void),
                           void *);
    /* threads */
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    int (*join)(pthread_t, void **);
    int (*tryjoin)(pthread_t, void **);
    int (*timedjoin)(pthread_t, void **, const struct timespec *);
    int (*clockjoin)(pthread_t, void **, clockid_t, const struct timespec *);
    int (*detach)(pthread_t);
    void (*pthread_exit)(void *) __attribute__((noreturn));
    int (*setname)(pthread_t, const char *);
    int (*prctl)(int, ...);
    /* synchronisation */
    int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
    int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
    int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
    int (*cond_signal)(pthread_cond_t *);
    int (*cond_broadcast)(pthread_cond_t *);
    int (*cond_init)(pthread_cond_t *, const pthread_condattr_t *);
    int (*mutex_lock)(pthread_mutex_t *);
    int (*mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
    int (*mutex_clocklock)(pthread_mutex_t *, clockid_t, const struct timespec *);
    int (*rwlock_rdlock)(pthread_rwlock_t *);
    int (*rwlock_tryrdlock)(pthread_rwlock_t *);
    int (*rwlock_timedrdlock)(pthread_rwlock_t *, const struct timespec *);
    int (*rwlock_clockrdlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
    int (*rwlock_wrlock)(pthread_rwlock_t *);
    int (*rwlock_trywrlock)(pthread_rwlock_t *);
    int (*rwlock_timedwrlock)(pthread_rwlock_t *, const struct timespec *);
    int (*rwlock_clockwrlock)(pthread_rwlock_t *, clockid_t, const struct timespec *);
    int (*sem_wait)(sem_t *);
    int (*sem_timedwait)(sem_t *, const struct timespec *);
    int (*sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
    int (*sem_post)(sem_t *);
    int (*sem_init)(sem_t *, int, unsigned);
    int (*barrier_wait)(pthread_barrier_t *);
    /* sleeping */
    int (*nanosleep)(const struct timespec *, struct timespec *);
    int (*clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
    unsigned (*sleep)(unsigned);
    int (*usleep)(useconds_t);
    /* descriptors */
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
    int (*epoll_wait)(int, struct epoll_event *, int, int);
    int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*pipe)(int[2]);
    int (*pipe2)(int[2], int);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    /* message queues and timers */
    mqd_t (*mq_open)(const char *, int, ...);
    int (*mq_close)(mqd_t);
    int (*mq_send)(mqd_t, const char *, size_t, unsigned);
    int (*mq_timedsend)(mqd_t, const char *, size_t, unsigned, const struct timespec *);
    ssize_t (*mq_receive)(mqd_t, char *, size_t, unsigned *);
    ssize_t (*mq_timedreceive)(mqd_t, char *, size_t, unsigned *, const struct timespec *);
    int (*timer_create)(clockid_t, struct sigevent *, timer_t *);
    int (*timer_delete)(timer_t);
    /* signals */
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
    sighandler_t (*signal)(int, sighandler_t);
    int (*sigwait)(const sigset_t *, int *);
    int (*sigwaitinfo)(const sigset_t *, siginfo_t *);
    int (*sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
    int (*signalfd)(int, const sigset_t *, int);
} tl_real;
extern tl_real real;

/* At the top of every wrapper: the library's own calls go straight through. */
#define TL_ENTER(call)                                                                            \
    do {                                                                                          \
        if (TL_UNLIKELY(tl_guard))                                                                \
            return call;                                                                          \
        tl_ensure_init();                                                                         \
    } while (0)

void tl_wait_cancelled(void *w);

/* The real call, recorded as a wait. A cancellation point is cancelled from inside the real call
   and never returns to the wrapper: the cleanup handler drops the record then, before the
   program's own cleanup handlers run. */
#define TL_WAIT(state, kind, object, call)                                                        \
    ({                                                                                            \
        tl_wait *w_ = tl_wait_begin(state, kind, (uintptr_t)(object));                            \
        __typeof__(call) rc_;                                                                     \
        pthread_cleanup_push(tl_wait_cancelled, w_);                                              \
        rc_ = (call);                                                                             \
        pthread_cleanup_pop(0);                                                                   \
        tl_wait_end(w_);                                                                          \
        rc_;                                                                                      \
    })

/* The same for calls that are not cancellation points. */
#define TL_WAIT_UNCANCELLABLE(state, kind, object, call)                                          \
    ({                                                                                            \
        tl_wait *w_ = tl_wait_begin(state, kind, (uintptr_t)(object));                            \
        __typeof__(call) rc_ = (call);                                                            \
        tl_wait_end(w_);                                                                          \
        rc_;                                                                                      \
    })

#endif
