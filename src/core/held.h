/* Values the kernel keeps for the program and hands back later, where no memory of the program
   holds them meanwhile: the sigev_value of a timer (timer_create) and of a queue's notification
   (mq_notify). The reachability scan counts them as roots: a thread may be woken through the
   object such a value points to. */
#ifndef TL_CORE_HELD_H
#define TL_CORE_HELD_H

#include "tl.h"

typedef enum { TL_HELD_TIMER, TL_HELD_MQ_NOTIFY } tl_held_kind;

typedef struct tl_held {
    tl_held_kind kind;
    uintptr_t key;   /* the timer_t, or the queue's descriptor */
    uintptr_t value; /* the sigev_value */
} tl_held;

void tl_held_set(tl_held_kind kind, uintptr_t key, uintptr_t value); /* replaces key's */
void tl_held_drop(tl_held_kind kind, uintptr_t key);
/* Every value now, into a malloc'd array (0 and NULL when there are none); complete is false when
   some value could not be kept (out of memory). */
size_t tl_held_all(tl_held **all, bool *complete);
void tl_held_fork_child(void); /* neither timers nor notifications are inherited */

#endif
