/* The interposition layer: the real functions, shared by the wrappers in this folder, the only
   place that defines wrappers or calls real functions.

   Every wrapper keeps the program's semantics: it returns what the real function returned, leaves
   errno as the real function left it, keeps its cancellation point, and goes straight to the real
   function when the library is not started or is itself the caller (tl_bypass). Its shape:

       TL_API int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
       {
           if (tl_bypass())
               return REAL(pthread_cond_wait)(c, m);
           tl_wait *w TL_WAIT_SCOPE = tl_wait_begin(TL_COND_WAIT, TL_OBJ_ADDR, (uintptr_t)c);
           return REAL(pthread_cond_wait)(c, m);
       }

   Real functions are bound one by one, the first time each is called (dlsym, which allocates
   nothing when the symbol is there), so that any wrapper can run before start-up, inside the
   program's allocator or a constructor that runs before ours. */
#ifndef TL_INTERPOSE_H
#define TL_INTERPOSE_H

#include "core/start.h"
#include "core/wait.h"
#include "platform/platform.h"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

typedef int tl_main_fn(int, char **, char **);
int __libc_start_main(tl_main_fn *main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

/* X(function, symbol version or NULL for the default one) */
// clang-format off
#define TL_REAL_FUNCTIONS(X) \
    X(__libc_start_main, NULL)                                                                     \
    X(pthread_create, NULL)                                                                        \
    X(pthread_join, NULL)                                                                          \
    X(pthread_tryjoin_np, NULL)                                                                    \
    X(pthread_timedjoin_np, NULL)                                                                  \
    X(pthread_clockjoin_np, NULL)                                                                  \
    X(pthread_detach, NULL)                                                                        \
    X(pthread_exit, NULL)                                                                          \
    X(clone, NULL)                                                                                 \
    X(pthread_setname_np, NULL)                                                                    \
    X(thrd_create, NULL)                                                                           \
    X(thrd_join, NULL)                                                                             \
    X(thrd_detach, NULL)                                                                           \
    X(thrd_exit, NULL)                                                                             \
    X(prctl, NULL)                                                                                 \
    X(pthread_cond_wait, TL_GLIBC_COND_VERSION)                                                    \
    X(pthread_cond_timedwait, TL_GLIBC_COND_VERSION)                                               \
    X(pthread_cond_clockwait, NULL)                                                                \
    X(pthread_cond_signal, TL_GLIBC_COND_VERSION)                                                  \
    X(pthread_cond_broadcast, TL_GLIBC_COND_VERSION)                                               \
    X(pthread_cond_init, TL_GLIBC_COND_VERSION)                                                    \
    X(pthread_cond_destroy, TL_GLIBC_COND_VERSION)                                                 \
    X(pthread_mutex_lock, NULL)                                                                    \
    X(pthread_mutex_timedlock, NULL)                                                               \
    X(pthread_mutex_clocklock, NULL)                                                               \
    X(pthread_rwlock_rdlock, NULL)                                                                 \
    X(pthread_rwlock_tryrdlock, NULL)                                                              \
    X(pthread_rwlock_timedrdlock, NULL)                                                            \
    X(pthread_rwlock_clockrdlock, NULL)                                                            \
    X(pthread_rwlock_wrlock, NULL)                                                                 \
    X(pthread_rwlock_trywrlock, NULL)                                                              \
    X(pthread_rwlock_timedwrlock, NULL)                                                            \
    X(pthread_rwlock_clockwrlock, NULL)                                                            \
    X(pthread_barrier_wait, NULL)                                                                  \
    X(sem_wait, NULL)                                                                              \
    X(sem_trywait, NULL)                                                                           \
    X(sem_timedwait, NULL)                                                                         \
    X(sem_clockwait, NULL)                                                                         \
    X(sem_post, NULL)                                                                              \
    X(sem_init, NULL)                                                                              \
    X(sem_destroy, NULL)                                                                           \
    X(cnd_wait, NULL)                                                                              \
    X(cnd_timedwait, NULL)                                                                         \
    X(cnd_signal, NULL)                                                                            \
    X(cnd_broadcast, NULL)                                                                         \
    X(cnd_init, NULL)                                                                              \
    X(mtx_lock, NULL)                                                                              \
    X(mtx_timedlock, NULL)                                                                         \
    X(nanosleep, NULL)                                                                             \
    X(clock_nanosleep, NULL)                                                                       \
    X(sleep, NULL)                                                                                 \
    X(usleep, NULL)                                                                                \
    X(thrd_sleep, NULL)                                                                            \
    X(syscall, NULL)                                                                               \
    X(read, NULL)                                                                                  \
    X(__read_chk, NULL)                                                                            \
    X(readv, NULL)                                                                                 \
    X(write, NULL)                                                                                 \
    X(writev, NULL)                                                                                \
    X(recv, NULL)                                                                                  \
    X(__recv_chk, NULL)                                                                            \
    X(recvfrom, NULL)                                                                              \
    X(__recvfrom_chk, NULL)                                                                        \
    X(recvmsg, NULL)                                                                               \
    X(send, NULL)                                                                                  \
    X(sendto, NULL)                                                                                \
    X(sendmsg, NULL)                                                                               \
    X(accept, NULL)                                                                                \
    X(accept4, NULL)                                                                               \
    X(connect, NULL)                                                                               \
    X(poll, NULL)                                                                                  \
    X(__poll_chk, NULL)                                                                            \
    X(ppoll, NULL)                                                                                 \
    X(__ppoll_chk, NULL)                                                                           \
    X(select, NULL)                                                                                \
    X(pselect, NULL)                                                                               \
    X(epoll_wait, NULL)                                                                            \
    X(epoll_pwait, NULL)                                                                           \
    X(epoll_pwait2, NULL)                                                                          \
    X(pipe, NULL)                                                                                  \
    X(pipe2, NULL)                                                                                 \
    X(close, NULL)                                                                                 \
    X(dup, NULL)                                                                                   \
    X(dup2, NULL)                                                                                  \
    X(dup3, NULL)                                                                                  \
    X(fcntl, NULL)                                                                                 \
    X(fcntl64, NULL)                                                                               \
    X(mq_open, NULL)                                                                               \
    X(__mq_open_2, NULL)                                                                           \
    X(mq_close, NULL)                                                                              \
    X(mq_send, NULL)                                                                               \
    X(mq_timedsend, NULL)                                                                          \
    X(mq_receive, NULL)                                                                            \
    X(mq_timedreceive, NULL)                                                                       \
    X(mq_notify, NULL)                                                                             \
    X(timer_create, TL_GLIBC_TIMER_VERSION)                                                        \
    X(timer_delete, TL_GLIBC_TIMER_VERSION)                                                        \
    X(sigaction, NULL)                                                                             \
    X(signal, NULL)                                                                                \
    X(sigwait, NULL)                                                                               \
    X(sigwaitinfo, NULL)                                                                           \
    X(sigtimedwait, NULL)                                                                          \
    X(signalfd, NULL)
// clang-format on

#define TL_REAL_INDEX(fn, version) TL_REAL_##fn,
enum { TL_REAL_FUNCTIONS(TL_REAL_INDEX) TL_REAL_COUNT };
#define TL_REAL_FIELD(fn, version) __typeof__(fn) *fn;
typedef struct tl_real {
    TL_REAL_FUNCTIONS(TL_REAL_FIELD)
} tl_real;
extern tl_real tl_real_fn;

/* Binds real function index: its slot in tl_real_fn is set, and returned. */
void *tl_real_bind(unsigned index);

/* The real function, bound at its first call. */
#define REAL(fn)                                                                                   \
    (TL_LIKELY(tl_real_fn.fn != NULL) ? tl_real_fn.fn                                              \
                                      : (__typeof__(tl_real_fn.fn))tl_real_bind(TL_REAL_##fn))

#endif
