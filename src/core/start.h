/* Whether the library is started, for every wrapper.

   Start-up allocates and reads files, so it runs only where that is safe: the library's
   constructor, the program's start (__libc_start_main), its first pthread_create, and the public
   API. Any other wrapper may be reached from inside the program's own allocator, or from a
   constructor that runs before ours, holding locks start-up would need (chromium's allocator calls
   prctl, jemalloc's pthread_cond_init, under their own locks): until start-up is done, wrappers
   only bind their real function, which allocates nothing, and call it. */
#ifndef TL_CORE_START_H
#define TL_CORE_START_H

#include "core/base.h"

#include <stdatomic.h>

/* TL_STARTING_WAITED: starting, and another thread waits for it (the starter wakes it; a process's
   first futex call costs tens of microseconds, which most processes never need to pay). */
enum { TL_NOT_STARTED, TL_STARTING, TL_STARTING_WAITED, TL_STARTED };
extern atomic_int tl_phase;

/* Starts the library if it is not, from a safe point; returns once it is started (or, bounded,
   when another thread is still starting it). Defined by src/init.c, which knows every layer. */
void tl_start(void);

/* The program's main is about to run: the exit report and live dumps are set up. Defined by
   src/init.c. */
void tl_main_starting(void);

/* True when a wrapper must go straight to the real function: the library is not started, or the
   caller is the library itself. One load and one thread-local read. */
static inline bool tl_bypass(void)
{
    return TL_UNLIKELY(atomic_load_explicit(&tl_phase, memory_order_acquire) != TL_STARTED) ||
           TL_UNLIKELY(tl_guard);
}

#endif
