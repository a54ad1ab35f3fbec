/* The library's own lock. pthread_mutex_lock is interposed (and may be wrapped by other tools too),
   so the registry must not depend on it: this is the classic three-state futex mutex. */
#include "tl.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static void futex(atomic_int *addr, int op, int val)
{
    int saved = errno; /* EAGAIN and EINTR here are ours, never the host's */
    syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
    errno = saved;
}

void tl_lock_slow(tl_lock *l)
{
    while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
        futex(&l->state, FUTEX_WAIT, 2);
}

void tl_unlock_slow(tl_lock *l)
{
    futex(&l->state, FUTEX_WAKE, 1);
}
