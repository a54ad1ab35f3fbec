/* The one futex helper of the library: raw system calls, so that errno is never touched and no
   wrapper (syscall() is interposed) is ever entered. Safe in a signal handler. */
#ifndef TL_CORE_FUTEX_H
#define TL_CORE_FUTEX_H

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

static inline void tl_futex_wake(atomic_int *word, int n)
{
    tl_sys(SYS_futex, (long)word, FUTEX_WAKE_PRIVATE, n, 0, 0, 0);
}

#endif
