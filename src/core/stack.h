/* Stacks: captured with libunwind, stripped of this library's frames, interned so that identical
   stacks are stored once and compare as pointers. */
#ifndef TL_CORE_STACK_H
#define TL_CORE_STACK_H

#include "platform/platform.h"
#include "tl.h"

typedef struct tl_stack {
    struct tl_stack *next; /* in its bucket of the intern table */
    uint64_t hash;
    unsigned depth;
    uintptr_t pc[]; /* return addresses, innermost first, none inside this library */
} tl_stack;

/* libunwind, opened at run time with RTLD_LOCAL (see stack.c), at the first safe point that
   needs it: loading it at start-up would cost every process ~0.6 ms. */
typedef struct tl_libunwind {
    int (*backtrace)(void **buffer, int size);
    int (*init_local)(unw_cursor_t *cursor, unw_context_t *context);
    /* libunwind 1.3 and later; NULL before. With UNW_INIT_SIGNAL_FRAME, the first address is
       where a signal came, not a return address. */
    int (*init_local2)(unw_cursor_t *cursor, unw_context_t *context, int flags);
    int (*step)(unw_cursor_t *cursor);
    int (*get_reg)(unw_cursor_t *cursor, unw_regnum_t reg, unw_word_t *value);
} tl_libunwind;

void tl_stack_init(void); /* at start-up: where this library's code is */
/* Loads libunwind if it is not; not from a signal handler or a function that must be safe in one.
   NULL when it cannot be loaded (one warning). While another thread loads it, waits for that at
   most 250 ms: a dlopen may itself be waiting for a constructor that calls us. */
const tl_libunwind *tl_libunwind_load(void);
const tl_libunwind *tl_libunwind_loaded(void); /* NULL until loaded */

/* The calling thread's stack, interned; NULL when nothing could be unwound. Safe in a signal
   handler (see stack.c): caller, the wrapper's return address, is the stack when nothing that
   unwinds is loaded. */
const tl_stack *tl_stack_capture(uintptr_t caller);
/* Interns raw return addresses, innermost first, less our own frames and cut to max_frames. */
const tl_stack *tl_stack_intern(const uintptr_t *raw, unsigned n);
bool tl_stack_own(uintptr_t pc); /* inside this library's code */

#endif
