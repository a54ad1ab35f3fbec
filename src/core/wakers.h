/* Who wakes what: for each condition variable, semaphore, pipe, queue and futex word, the threads
   that signalled, posted, wrote, sent to or woke it, for the verdicts to weigh. */
#ifndef TL_CORE_WAKERS_H
#define TL_CORE_WAKERS_H

#include "tl.h"

#define TL_WAKERS 4

void tl_waker_note(uintptr_t object); /* the calling thread wakes object; lock-free */
/* The distinct wakers of object and the latest; 0 when none was ever seen, -1 when it is unknown.
   */
int tl_wakers(uintptr_t object, pid_t tids[TL_WAKERS], pid_t *last);
void tl_wakers_forget(uintptr_t object); /* a new object at this address */
/* object's waiters may be woken where no note is made (a futex shared with another process, or
   whose waiters were requeued to another word): its wakers are unknown from now on. Lock-free. */
void tl_wakers_unknown(uintptr_t object);

#endif
