/* The one futex helper of the library: raw system calls, so that errno is never touched and no
   wrapper (syscall() is interposed) is ever entered. Safe in a signal handler. */
#ifndef TL_CORE_FUTEX_H
#define TL_CORE_FUTEX_H

#include "core/base.h"
#include "platform/platform.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>

/* Sleeps while *word == expected, at most timeout (NULL: until woken). Returns at once when the
   word differs; may also return early (a signal, a spurious wake): callers loop on their
   condition. */
static inline void tl_futex_wait(atomic_int *word, int expected, const struct timespec *timeout)
{
    tl_sys(SYS_futex, (long)word, FUTEX_WAIT_PRIVATE, expected, (long)timeout, 0, 0);
}

/* Sleeps while *word == value, at most ms in all: the library's waits for another of its threads
   (start-up, the helper's first breath, a loading) are bounded, so that one that never finishes
   (stopped, or a fork child's copy that does not exist) cannot hang the host. Callers look at the
   word again to learn which way it ended. */
static inline void tl_futex_wait_while(atomic_int *word, int value, unsigned ms)
{
    uint64_t deadline = tl_now_ns() + ms * 1000000ull;
    struct timespec step = {0, 10000000};
    while (atomic_load(word) == value && tl_now_ns() < deadline)
        tl_futex_wait(word, value, &step);
}

static inline void tl_futex_wake(atomic_int *word, int n)
{
    tl_sys(SYS_futex, (long)word, FUTEX_WAKE_PRIVATE, n, 0, 0, 0);
}

#endif
