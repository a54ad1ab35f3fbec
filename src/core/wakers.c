/* Who wakes what: for each condition variable and semaphore, the threads that signalled or posted
   it, for the verdicts to weigh ("never signalled", "its only signaller has exited"). A fixed
   table, open-addressed by the object's address and written without locks: the first signal of an
   object claims a slot with one CAS, a repeated signal by the same thread costs one compare. An
   object whose probe run is full, or that has more distinct wakers than a slot holds, is marked
   unknown rather than guessed at. */
#include "core/wakers.h"

#include "core/base.h"

#include <stdatomic.h>

#define SLOTS 16384u /* a power of two */
#define PROBES 8

typedef struct waker_slot {
    _Atomic uintptr_t object;
    atomic_int last;            /* tid of the latest waker */
    atomic_int tids[TL_WAKERS]; /* distinct wakers, in the order first seen */
    atomic_bool overflow;       /* more wakers than tids holds */
} waker_slot;

static waker_slot slots[SLOTS];
static atomic_bool dropped; /* a signal found no slot: "never signalled" can no longer be said */

static size_t home(uintptr_t object)
{
    return (size_t)((object >> 3) * 0x9E3779B97F4A7C15ull >> 40) & (SLOTS - 1);
}

static waker_slot *find(uintptr_t object, bool claim)
{
    size_t i = home(object);
    for (int probe = 0; probe < PROBES; probe++, i = (i + 1) & (SLOTS - 1)) {
        uintptr_t cur = atomic_load_explicit(&slots[i].object, memory_order_acquire);
        if (cur == object)
            return &slots[i];
        if (cur == 0) {
            if (!claim)
                return NULL;
            uintptr_t empty = 0;
            if (atomic_compare_exchange_strong(&slots[i].object, &empty, object) || empty == object)
                return &slots[i];
        }
    }
    return NULL;
}

void tl_waker_note(uintptr_t object)
{
    pid_t me = tl_gettid();
    waker_slot *s = find(object, true);
    if (!s) {
        atomic_store_explicit(&dropped, true, memory_order_relaxed);
        return;
    }
    if (atomic_load_explicit(&s->last, memory_order_relaxed) == me)
        return;
    atomic_store_explicit(&s->last, me, memory_order_relaxed);
    for (int i = 0; i < TL_WAKERS; i++) {
        int seen = atomic_load_explicit(&s->tids[i], memory_order_relaxed);
        if (seen == me)
            return;
        if (seen == 0) {
            int empty = 0;
            if (atomic_compare_exchange_strong(&s->tids[i], &empty, me) || empty == me)
                return;
        }
    }
    atomic_store_explicit(&s->overflow, true, memory_order_relaxed);
}

int tl_wakers(uintptr_t object, pid_t tids[TL_WAKERS], pid_t *last)
{
    waker_slot *s = find(object, false);
    if (!s)
        return atomic_load(&dropped) ? -1 : 0;
    if (atomic_load(&s->overflow))
        return -1;
    int n = 0;
    for (int i = 0; i < TL_WAKERS; i++)
        if ((tids[n] = atomic_load(&s->tids[i])) != 0)
            n++;
    *last = atomic_load(&s->last);
    return n;
}

void tl_wakers_forget(uintptr_t object)
{
    waker_slot *s = find(object, false);
    if (!s)
        return;
    /* The slot keeps its object (probe runs stay intact); only what it knows is cleared. */
    atomic_store(&s->last, 0);
    for (int i = 0; i < TL_WAKERS; i++)
        atomic_store(&s->tids[i], 0);
    atomic_store(&s->overflow, false);
}

void tl_wakers_unknown(uintptr_t object)
{
    waker_slot *s = find(object, true);
    if (s)
        atomic_store_explicit(&s->overflow, true, memory_order_relaxed);
    else
        atomic_store_explicit(&dropped, true, memory_order_relaxed);
}
