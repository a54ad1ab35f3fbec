/* What threadleak knows of glibc's ABI.

   - Symbol versions: functions whose ABI changed are bound at the version programs link against.
   - Entry points programs reach glibc through besides the plain functions: _FORTIFY_SOURCE's
     checked ones, C11's threads, syscall() and how it passes arguments on.
   - Lock words: who holds a lock, read from the public structures' fields that glibc's static
     initialisers (PTHREAD_MUTEX_INITIALIZER and the like) fix, so they are ABI on every platform:
     the mutex's lock word and owner tid, the rwlock's writer tid. The static assertions pin the
     layouts of the glibc versions threadleak was written against (2.34 to 2.36). */
#ifndef TL_PLATFORM_GLIBC_H
#define TL_PLATFORM_GLIBC_H

#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <threads.h>
#include <unistd.h> /* socklen_t */

#if defined(__x86_64__)
/* pthread_cond_* exist twice: GLIBC_2.2.5, the ABI of LinuxThreads, and GLIBC_2.3.2. */
#define TL_GLIBC_COND_VERSION "GLIBC_2.3.2"
#else
#define TL_GLIBC_COND_VERSION NULL /* one ABI only */
#endif
/* timer_create and timer_delete moved into libc at 2.34; on x86_64 an older ABI with int ids
   (GLIBC_2.2.5) is still there, and must reach glibc untouched. */
#define TL_GLIBC_TIMER_VERSION "GLIBC_2.34"
/* Exports the wrapper tl_<fn> as fn: on x86_64 at GLIBC_2.34 (the default) and GLIBC_2.3.3, the
   same ABI, leaving fn@GLIBC_2.2.5 to glibc; elsewhere unversioned. The version nodes are in the
   platform's map file. */
#if defined(__x86_64__)
#define TL_GLIBC_EXPORT_TIMER(fn)                                                                  \
    __asm__(".symver tl_" #fn ", " #fn "@@GLIBC_2.34");                                            \
    __asm__(".symver tl_" #fn "_2_3_3, " #fn "@GLIBC_2.3.3");                                      \
    extern __typeof__(fn) tl_##fn##_2_3_3 __attribute__((alias("tl_" #fn), visibility("defaul"     \
                                                                                      "t")));
#else
#define TL_GLIBC_EXPORT_TIMER(fn)                                                                  \
    extern __typeof__(fn) fn __attribute__((alias("tl_" #fn), visibility("default")));
#endif

/* glibc's syscall() hands the kernel its number and six arguments, however many the call takes
   (sysdeps/unix/sysv/linux/x86_64/syscall.S takes the sixth from the stack, aarch64's from x6):
   a wrapper reads six and passes six on. */
enum { TL_GLIBC_SYSCALL_ARGS = 6 };

/* _FORTIFY_SOURCE's checked entry points, which fortified programs call instead of read, recv,
   recvfrom, poll and ppoll (and __mq_open_2 instead of a two-argument mq_open): each checks the
   buffer's size, then calls the plain function inside libc, past any interposer. glibc declares
   them only to fortified builds. A fortified select is plain select: only FD_SET and its kin
   become checks (__fdelt_chk), which do not wait. */
#if !defined(__USE_FORTIFY_LEVEL) || __USE_FORTIFY_LEVEL == 0
struct pollfd;
struct sockaddr;
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *__restrict buf, size_t n, size_t buflen, int flags,
                       struct sockaddr *__restrict addr, socklen_t *__restrict addr_len);
int __poll_chk(struct pollfd *fds, unsigned long n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, unsigned long n, const struct timespec *timeout,
                const __sigset_t *mask, size_t fdslen);
mqd_t __mq_open_2(const char *name, int oflag);
#endif

/* epoll_pwait2 came with glibc 2.35; on 2.34 a program cannot link against it, and the wrapper's
   real function is then missing. */
#if !__GLIBC_PREREQ(2, 35)
struct epoll_event;
int epoll_pwait2(int epfd, struct epoll_event *events, int max, const struct timespec *timeout,
                 const __sigset_t *mask);
#endif

/* C11's threads are nptl's: thrd_t is a pthread_t, mtx_t and cnd_t are a pthread_mutex_t and a
   pthread_cond_t (nptl/mtx_lock.c, cnd_wait.c cast them), so lock words and owners read alike. */
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "C11 thrd_t is a pthread_t");
_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "C11 mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "C11 cnd_t is a pthread_cond_t");
static inline pthread_mutex_t *tl_glibc_mtx(mtx_t *m)
{
    return (pthread_mutex_t *)m;
}

_Static_assert(offsetof(pthread_mutex_t, __data.__lock) == 0, "glibc mutex: lock word first");
_Static_assert(offsetof(pthread_mutex_t, __data.__kind) == 16, "glibc mutex: kind at 16");
_Static_assert(offsetof(pthread_mutex_t, __data.__owner) == 8, "glibc mutex: owner tid at 8");
_Static_assert(sizeof(((pthread_mutex_t *)0)->__data.__owner) == sizeof(int), "owner is a tid");
_Static_assert(offsetof(pthread_rwlock_t, __data.__cur_writer) == 24, "glibc rwlock: writer at 24");

_Static_assert(offsetof(pthread_rwlock_t, __data.__shared) == 28, "glibc rwlock: pshared at 28");
_Static_assert(offsetof(pthread_cond_t, __data.__g1_start) == 8, "glibc cond: G1 start at 8");
_Static_assert(offsetof(pthread_cond_t, __data.__wrefs) == 36, "glibc cond: wrefs at 36");

/* What the other objects are inside (nptl/internaltypes.h, 64-bit atomics): a semaphore's value
   and waiter count, then its futex flag; a barrier's counters, then its flag. */
typedef struct tl_glibc_sem {
    uint64_t data;
    int private_flag;
    int pad;
} tl_glibc_sem;
typedef struct tl_glibc_barrier {
    unsigned in, current_round, count;
    int shared;
    unsigned out;
} tl_glibc_barrier;
_Static_assert(sizeof(tl_glibc_sem) <= sizeof(sem_t), "glibc sem_t holds struct new_sem");
_Static_assert(sizeof(tl_glibc_barrier) <= sizeof(pthread_barrier_t), "pthread_barrier fits");

/* The flags of process-shared objects. glibc's futex flag words hold LLL_SHARED (128, which is
   FUTEX_PRIVATE_FLAG: the kernel's flag is applied inverted) for a shared object and 0 for a
   private one; a mutex's kind has its own bit for it, and robust mutexes a bit of theirs. */
#define TL_GLIBC_LLL_SHARED 128
#define TL_GLIBC_MUTEX_PSHARED_BIT 128
#define TL_GLIBC_MUTEX_ROBUST_BIT 16
#define TL_GLIBC_COND_SHARED_MASK 1u

static inline int tl_glibc_load_int(const void *p)
{
    return __atomic_load_n((const int *)p, __ATOMIC_RELAXED);
}

/* Whether a waited-on object says it is process-shared: another process may then wake it. Reads
   the object's words, so only while its waiter is held in its wait. */
static inline bool tl_glibc_mutex_shared(const pthread_mutex_t *m)
{
    return tl_glibc_load_int(&m->__data.__kind) & TL_GLIBC_MUTEX_PSHARED_BIT;
}
static inline bool tl_glibc_mutex_robust(const pthread_mutex_t *m)
{
    return tl_glibc_load_int(&m->__data.__kind) & TL_GLIBC_MUTEX_ROBUST_BIT;
}
static inline bool tl_glibc_rwlock_shared(const pthread_rwlock_t *l)
{
    return tl_glibc_load_int(&l->__data.__shared) != 0;
}
static inline bool tl_glibc_cond_shared(const pthread_cond_t *c)
{
    return tl_glibc_load_int(&c->__data.__wrefs) & TL_GLIBC_COND_SHARED_MASK;
}
static inline bool tl_glibc_sem_shared(const sem_t *s)
{
    return tl_glibc_load_int(&((const tl_glibc_sem *)s)->private_flag) == TL_GLIBC_LLL_SHARED;
}
static inline bool tl_glibc_barrier_shared(const pthread_barrier_t *b)
{
    return tl_glibc_load_int(&((const tl_glibc_barrier *)b)->shared) == TL_GLIBC_LLL_SHARED;
}

/* Whether a signal or broadcast has ever reached a waiter of this condition variable since it was
   initialised (pthread_cond_init, PTHREAD_COND_INITIALIZER or zeroed memory). The first signal
   that finds waiters switches its groups, which adds at least 1 to __g1_start, and __g1_start only
   grows (nptl/pthread_cond_common.c, __condvar_quiesce_and_switch_g1); a signal that finds no
   waiter leaves no trace. */
static inline bool tl_glibc_cond_ever_signalled(const pthread_cond_t *c)
{
    return __atomic_load_n(&c->__data.__g1_start.__value64, __ATOMIC_RELAXED) != 0;
}

/* glibc's thread descriptor (struct pthread, a pthread_t's value) sits at the top of the stack
   mapping it allocates, less than a page below the mapping's end; on x86_64 its first word and
   its third (tcbhead_t's tcb and self) point to itself, as the psABI's %fs:0 requires of the
   first. */
#if defined(__x86_64__)
static inline bool tl_glibc_descriptor_at(uintptr_t pd, const uintptr_t words[3])
{
    return words[0] == pd && words[2] == pd;
}
#else
static inline bool tl_glibc_descriptor_at(uintptr_t pd, const uintptr_t words[3])
{
    (void)pd, (void)words;
    return false; /* unknown: no stack is taken for a finished thread's */
}
#endif

/* glibc's cancellation unwinding runs the cleanup buffers a thread registered with
   _pthread_cleanup_push as it leaves their frames (nptl/unwind.c, unwind_stop): a cleanup that runs
   on cancellation for two calls and no setjmp, in code built without -fexceptions (which would make
   every process load libgcc_s). Exported at GLIBC_2.34 (and 2.2.5), but not declared. */
void _pthread_cleanup_push(struct _pthread_cleanup_buffer *buffer, void (*routine)(void *),
                           void *arg);
void _pthread_cleanup_pop(struct _pthread_cleanup_buffer *buffer, int execute);

/* What pthread_atfork and atexit do: libc.so has neither, every object links stubs from
   libc_nonshared.a that pass its own __dso_handle here (so that dlclose drops its handlers).
   Called directly: the linker puts the stubs after all of our code, one more page for every
   process to fault in at start-up. __register_atfork is exported at GLIBC_2.3.2 (x86_64) and
   GLIBC_2.17 (aarch64); __cxa_atexit is the C++ ABI's. */
int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
                      void *dso_handle);
int __cxa_atexit(void (*fn)(void *), void *arg, void *dso_handle);
extern void *__dso_handle;

/* Whether a mutex is held by anyone: its lock word is not 0. One relaxed load. */
static inline bool tl_glibc_mutex_held(pthread_mutex_t *m)
{
    return atomic_load_explicit((atomic_int *)&m->__data.__lock, memory_order_relaxed) != 0;
}

/* The tid that holds a mutex, 0 when none (or one that does not record it). */
static inline pid_t tl_glibc_mutex_owner(pthread_mutex_t *m)
{
    return __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
}

/* The tid that holds a rwlock for writing, 0 when none. */
static inline pid_t tl_glibc_rwlock_writer(pthread_rwlock_t *l)
{
    return (pid_t)__atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
}

#endif
