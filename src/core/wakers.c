/* Who wakes what: for each condition variable and semaphore (and each pipe and queue, by key), the
   threads that signalled or posted it, for the verdicts to weigh ("never signalled", "its only
   signaller has exited"). A fixed table, open-addressed by the object's address and written
   without locks: the first signal of an object claims a slot with one CAS, a repeated signal by the
   same thread costs one compare.

   An object that is destroyed or initialised again leaves its slot as a tombstone, which a later
   object may claim: the table recovers as objects go. Whoever uses a slot (a note, a report's
   read) counts itself in its users while it does, and a claimer clears a tombstone only once no
   one uses it, so that a note for the old object never lands in the new one's record. Every wait
   for another thread is bounded (a signal handler may post a semaphore while its thread is inside
   a note): past the bound, the object's wakers are given up as unknown, never guessed.

   An object whose signal found no room is remembered as lost (it may have wakers no slot shows)
   until it is forgotten; when even that list is full, nothing can be said of any object without a
   slot, for good. */
#include "core/wakers.h"

#include "core/base.h"
#include "platform/platform.h"

#include <stdatomic.h>
#include <sys/syscall.h>

#define SLOTS 16384u /* a power of two */
#define PROBES 8
#define LOST 1024u
#define LOST_PROBES 16
#define PATIENCE 1000 /* spins before a wait for another thread is given up */

/* Keys: an object's address (aligned) or a pipe's or queue's key (odd), never these. */
enum { EMPTY = 0, TOMB = 2, CLAIMING = 4 };

typedef struct waker_slot {
    _Atomic uintptr_t object;
    atomic_int users;           /* notes and reads inside the slot now */
    atomic_int last;            /* tid of the latest waker */
    atomic_int tids[TL_WAKERS]; /* distinct wakers, in the order first seen */
    atomic_bool overflow;       /* more wakers than tids holds */
} waker_slot;

static TL_LARGE waker_slot slots[SLOTS];
static TL_LARGE _Atomic uintptr_t lost[LOST]; /* objects whose signal found no slot */
static atomic_bool lost_overflow;             /* and one that did not fit there either */

static size_t home(uintptr_t object, size_t size)
{
    return (size_t)((object >> 3) * 0x9E3779B97F4A7C15ull >> 40) & (size - 1);
}

static void relax(int spins)
{
    if (spins % 64 == 63)
        tl_sys(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
}

/* ---- lost objects: a set, open-addressed too ---- */

static void lost_add(uintptr_t object)
{
    size_t i = home(object, LOST);
    for (int probe = 0; probe < LOST_PROBES; probe++, i = (i + 1) & (LOST - 1)) {
        uintptr_t cur = atomic_load(&lost[i]);
        if (cur == object)
            return;
        if ((cur == EMPTY || cur == TOMB) && atomic_compare_exchange_strong(&lost[i], &cur, object))
            return;
    }
    atomic_store(&lost_overflow, true);
}

static bool lost_has(uintptr_t object)
{
    size_t i = home(object, LOST);
    for (int probe = 0; probe < LOST_PROBES; probe++, i = (i + 1) & (LOST - 1))
        if (atomic_load(&lost[i]) == object)
            return true;
    return false;
}

static void lost_remove(uintptr_t object)
{
    size_t i = home(object, LOST);
    for (int probe = 0; probe < LOST_PROBES; probe++, i = (i + 1) & (LOST - 1)) {
        uintptr_t cur = object; /* duplicates from racing adds: every one goes */
        atomic_compare_exchange_strong(&lost[i], &cur, TOMB);
    }
}

/* ---- the table ---- */

/* Enters object's slot (users counted): NULL when it has none and claim is false, or when no slot
   can be had. */
static waker_slot *enter(uintptr_t object, bool claim)
{
    for (int spins = 0; spins < PATIENCE; spins++, relax(spins)) {
        size_t i = home(object, SLOTS), free_slot = SIZE_MAX;
        uintptr_t free_seen = EMPTY;
        bool busy = false;
        waker_slot *s = NULL;
        for (int probe = 0; probe < PROBES && !s; probe++, i = (i + 1) & (SLOTS - 1)) {
            uintptr_t cur = atomic_load_explicit(&slots[i].object, memory_order_acquire);
            if (cur == object)
                s = &slots[i];
            else if (cur == CLAIMING)
                busy = true; /* maybe for this very object: look again when it is done */
            else if ((cur == EMPTY || cur == TOMB) && free_slot == SIZE_MAX)
                free_slot = i, free_seen = cur;
            if (cur == EMPTY)
                break; /* the end of the run: nothing is placed past an empty slot */
        }
        if (s) {
            atomic_fetch_add(&s->users, 1);
            if (atomic_load(&s->object) == object)
                return s;
            atomic_fetch_sub(&s->users, 1); /* forgotten and taken meanwhile */
            continue;
        }
        if (busy)
            continue;
        if (!claim || free_slot == SIZE_MAX)
            return NULL;
        s = &slots[free_slot];
        if (!atomic_compare_exchange_strong(&s->object, &free_seen, CLAIMING))
            continue;
        /* A tombstone: wait until its old users are out, then clear it for object. */
        int waited = 0;
        while (atomic_load(&s->users) != 0 && waited < PATIENCE)
            relax(++waited);
        if (waited == PATIENCE) {
            atomic_store(&s->object, TOMB);
            return NULL;
        }
        atomic_store(&s->last, 0);
        for (int k = 0; k < TL_WAKERS; k++)
            atomic_store(&s->tids[k], 0);
        atomic_store(&s->overflow, false);
        atomic_fetch_add(&s->users, 1);
        atomic_store_explicit(&s->object, object, memory_order_release);
        return s;
    }
    return NULL;
}

static void leave(waker_slot *s)
{
    atomic_fetch_sub_explicit(&s->users, 1, memory_order_release);
}

void tl_waker_note(uintptr_t object)
{
    pid_t me = tl_gettid();
    waker_slot *s = enter(object, true);
    if (!s) {
        lost_add(object);
        return;
    }
    if (atomic_load_explicit(&s->last, memory_order_relaxed) != me) {
        atomic_store_explicit(&s->last, me, memory_order_relaxed);
        bool placed = false;
        for (int i = 0; i < TL_WAKERS && !placed; i++) {
            int seen = atomic_load_explicit(&s->tids[i], memory_order_relaxed);
            if (seen == me)
                placed = true;
            else if (seen == 0) {
                int empty = 0;
                placed = atomic_compare_exchange_strong(&s->tids[i], &empty, me) || empty == me;
            }
        }
        if (!placed)
            atomic_store_explicit(&s->overflow, true, memory_order_relaxed);
    }
    leave(s);
}

int tl_wakers(uintptr_t object, pid_t tids[TL_WAKERS], pid_t *last)
{
    if (lost_has(object))
        return -1;
    waker_slot *s = enter(object, false);
    if (!s)
        return atomic_load(&lost_overflow) ? -1 : 0;
    int n = -1;
    if (!atomic_load(&s->overflow)) {
        n = 0;
        for (int i = 0; i < TL_WAKERS; i++)
            if ((tids[n] = atomic_load(&s->tids[i])) != 0)
                n++;
        *last = atomic_load(&s->last);
    }
    leave(s);
    return n;
}

void tl_wakers_forget(uintptr_t object)
{
    size_t i = home(object, SLOTS);
    for (int probe = 0; probe < PROBES; probe++, i = (i + 1) & (SLOTS - 1)) {
        uintptr_t cur = object;
        if (atomic_compare_exchange_strong(&slots[i].object, &cur, TOMB) || cur == EMPTY)
            break;
    }
    lost_remove(object);
}

void tl_wakers_unknown(uintptr_t object)
{
    waker_slot *s = enter(object, true);
    if (!s) {
        lost_add(object);
        return;
    }
    atomic_store_explicit(&s->overflow, true, memory_order_relaxed);
    leave(s);
}
