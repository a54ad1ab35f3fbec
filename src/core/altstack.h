/* Alternate signal stacks, so that the library's SIGSEGV handler can run in a thread whose stack
   has overflowed (the kernel cannot push a signal frame onto a full stack, and ends the process
   with no report). Given only while SIGSEGV's handler is ours, and only to main and the threads
   we create: a program that sets its own (sigaltstack) replaces ours. */
#ifndef TL_CORE_ALTSTACK_H
#define TL_CORE_ALTSTACK_H

#include "tl.h"

void tl_altstack_enable(void);    /* before main: main gets one now, threads as they start */
void tl_altstack_give(void);      /* first thing in a thread we created */
void tl_altstack_take_back(void); /* last thing in it: the stack goes back to the pool */
void tl_altstack_fork_prepare(void);
void tl_altstack_fork_parent(void);
void tl_altstack_fork_child(void);

#endif
