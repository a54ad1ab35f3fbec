/* Where threads wait. A wrapper that may block records the state, the object, the time and the
   thread's registers (tl_wait_begin, inlined into the wrapper so that the registers are the wrapper's
   own frame), and clears them on the way out (tl_wait_end): a few stores and two atomic operations,
   no unwinding. The stack of the wait is unwound only when a report asks for it, from the saved
   registers: while the thread is parked inside the wrapper, every frame above it is frozen.

   A report pins a wait (BLOCKED -> PINNED) before it reads it, and a thread whose wait ends while it
   is pinned waits in tl_wait_end_slow until the report lets go, so the frames read are never torn
   down under the reader. The waiting thread says so (PINNED -> PINNED_WAITED): a report wakes it
   only then, not with a system call for every wait it reads. Begin claims the slot (IDLE -> WRITING) so that a signal handler that waits
   inside a wait, or a report, never sees a half-written record. */
#include "tl.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

int (*tl_getcontext)(unw_context_t *);
static int (*init_local)(unw_cursor_t *, unw_context_t *);
static int (*step)(unw_cursor_t *);
static int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);

#define STR(x) #x
#define NAME(prefix, fn) prefix STR_(UNW_TARGET) "_" fn
#define STR_(x) STR(x)

void tl_wait_init(void *libunwind)
{
    if (!libunwind)
        return;
    *(void **)&init_local = dlsym(libunwind, NAME("_UL", "init_local"));
    *(void **)&step = dlsym(libunwind, NAME("_UL", "step"));
    *(void **)&get_reg = dlsym(libunwind, NAME("_UL", "get_reg"));
    /* Set last: wrappers save registers only when the rest is there to read them. */
    if (init_local && step && get_reg)
        *(void **)&tl_getcontext = dlsym(libunwind, NAME("_U", "getcontext"));
    if (!tl_getcontext)
        tl_warn("libunwind lacks what unwinding a waiting thread needs; waits will have no stack");
}

static void futex(atomic_int *addr, int op, int val)
{
    int saved = errno;
    syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
    errno = saved;
}

void tl_wait_end_slow(tl_wait *w)
{
    /* Pinned by a report: it lets go soon, and wakes us. */
    for (;;) {
        int phase = atomic_load_explicit(&w->phase, memory_order_acquire);
        if (phase == TL_WAIT_BLOCKED &&
            atomic_compare_exchange_strong_explicit(&w->phase, &phase, TL_WAIT_IDLE,
                                                    memory_order_release, memory_order_relaxed))
            return;
        if (phase == TL_WAIT_PINNED)
            atomic_compare_exchange_strong(&w->phase, &phase, TL_WAIT_PINNED_WAITED);
        else if (phase == TL_WAIT_PINNED_WAITED)
            futex(&w->phase, FUTEX_WAIT, TL_WAIT_PINNED_WAITED);
    }
}

bool tl_wait_pin(tl_wait *w)
{
    int expected = TL_WAIT_BLOCKED;
    return atomic_compare_exchange_strong_explicit(&w->phase, &expected, TL_WAIT_PINNED,
                                                   memory_order_acquire, memory_order_relaxed);
}

void tl_wait_unpin(tl_wait *w)
{
    if (atomic_exchange_explicit(&w->phase, TL_WAIT_BLOCKED, memory_order_release) ==
        TL_WAIT_PINNED_WAITED)
        futex(&w->phase, FUTEX_WAKE, 1);
}

const tl_stack *tl_wait_stack(tl_wait *w, tl_unwinder *u, uintptr_t stack_top, size_t stack_size)
{
    uintptr_t pc[TL_MAX_FRAMES + 8];
    unsigned n = tl_unwind(u, &w->ctx, stack_top, stack_size, pc, sizeof pc / sizeof *pc);
    unw_cursor_t cursor;
    if (n)
        return tl_stack_intern(pc, n);
    if (!tl_getcontext || init_local(&cursor, &w->ctx) < 0)
        return NULL;
    do {
        unw_word_t ip;
        if (get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        pc[n++] = (uintptr_t)ip;
    } while (n < sizeof pc / sizeof *pc && step(&cursor) > 0);
    /* The first ip is where the wrapper saved its registers: like the return addresses after it,
       it points just past a call, so every frame is looked up the same way. */
    tl_unwind_learn_tail(pc, n);
    return tl_stack_intern(pc, n);
}
