/* Unwinding waiting threads, for reports. */
#ifndef TL_REPORT_UNWIND_H
#define TL_REPORT_UNWIND_H

#include "core/stack.h"
#include "core/wait.h"

typedef struct tl_unwinder tl_unwinder;
struct Dwfl;

tl_unwinder *tl_unwinder_new(struct Dwfl *dwfl); /* rules from the modules dwfl knows */
void tl_unwinder_free(tl_unwinder *u);
/* The stack of a pinned wait, in a thread whose stack ends at stack_top (0: unknown) and spans at
   most stack_size; NULL when nothing could be unwound. */
const tl_stack *tl_unwind_wait(tl_unwinder *u, tl_wait *w, uintptr_t stack_top, size_t stack_size);
/* The stack a signal interrupted, from the registers its handler was given, in a thread that
   waits in that handler; the first address is exactly where the signal came. */
const tl_stack *tl_unwind_signal(tl_unwinder *u, const tl_cpu_context *ctx, uintptr_t stack_top,
                                 size_t stack_size);

#endif
