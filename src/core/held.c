/* Values the kernel holds for the program: a small table under a lock. timer_create and mq_notify
   are not async-signal-safe, and neither is what they note here. */
#include "core/held.h"

#include "core/lock.h"

#include <stdlib.h>
#include <string.h>

static tl_lock held_lock;
static tl_held *table;
static size_t count, capacity;
static bool lost; /* a value could not be kept: the scan cannot know every root */

static size_t find(tl_held_kind kind, uintptr_t key)
{
    for (size_t i = 0; i < count; i++)
        if (table[i].kind == kind && table[i].key == key)
            return i;
    return SIZE_MAX;
}

void tl_held_set(tl_held_kind kind, uintptr_t key, uintptr_t value)
{
    tl_lock_acquire(&held_lock);
    size_t i = find(kind, key);
    if (i == SIZE_MAX && count == capacity) {
        size_t grown = capacity ? 2 * capacity : 16;
        tl_held *more = realloc(table, grown * sizeof *more);
        if (more) {
            table = more;
            capacity = grown;
        }
    }
    if (i == SIZE_MAX && count < capacity)
        i = count++;
    if (i != SIZE_MAX)
        table[i] = (tl_held){kind, key, value};
    else
        lost = true;
    tl_lock_release(&held_lock);
}

void tl_held_drop(tl_held_kind kind, uintptr_t key)
{
    tl_lock_acquire(&held_lock);
    size_t i = find(kind, key);
    if (i != SIZE_MAX)
        table[i] = table[--count];
    tl_lock_release(&held_lock);
}

size_t tl_held_all(tl_held **all, bool *complete)
{
    tl_lock_acquire(&held_lock);
    size_t n = count;
    *all = n ? malloc(n * sizeof **all) : NULL;
    if (*all)
        memcpy(*all, table, n * sizeof **all);
    *complete = !lost && (!n || *all);
    if (!*all)
        n = 0;
    tl_lock_release(&held_lock);
    return n;
}

void tl_held_fork_child(void)
{
    count = 0;
    lost = false;
    tl_lock_reset(&held_lock);
}
