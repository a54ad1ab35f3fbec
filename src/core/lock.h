/* The library's own lock: the classic three-state futex mutex (Drepper, "Futexes are tricky").
   pthread_mutex_lock is interposed, and may be wrapped by other tools too, so nothing of ours
   depends on it. A holder never waits for anything while it holds one, so every wait on it is
   short. After fork, the child resets it. */
#ifndef TL_CORE_LOCK_H
#define TL_CORE_LOCK_H

#include "core/futex.h"
#include "tl.h"

#include <stdbool.h>

typedef struct tl_lock {
    atomic_int state; /* 0 free, 1 held, 2 held with waiters */
} tl_lock;

static inline bool tl_lock_try(tl_lock *l)
{
    int expected = 0;
    return atomic_compare_exchange_strong_explicit(&l->state, &expected, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline void tl_lock_acquire(tl_lock *l)
{
    if (TL_LIKELY(tl_lock_try(l)))
        return;
    while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
        tl_futex_wait(&l->state, 2, NULL);
}

static inline void tl_lock_release(tl_lock *l)
{
    if (atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2)
        tl_futex_wake(&l->state, 1);
}

/* In a fork child, where no other thread is left to release it. */
static inline void tl_lock_reset(tl_lock *l)
{
    atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

#endif
