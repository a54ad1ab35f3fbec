/* glibc's syscall(): the futex waits that Rust's std, C++20's atomic waits, abseil and folly make
   through it, and io_uring_enter's waits for completions.

   A futex wait is the state futex_wait on its word; a wake is noted as the word's waker, for the
   verdicts. io_uring_enter waiting is `waiting` on its ring. Every other system call goes straight
   to glibc's syscall() with the number and the six arguments glibc itself passes on
   (platform/glibc.h), so its return value and errno are glibc's, at the cost of one compare. */
#include "interpose/interpose.h"

#include "core/wakers.h"

#include <stdarg.h>

_Static_assert(TL_GLIBC_SYSCALL_ARGS == 6, "real() passes six arguments on");

static inline long real(long nr, const long *a)
{
    return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The real call, recorded as a wait of state on object. */
static long wait_in(long nr, const long *a, tl_state state, tl_object_kind kind, uintptr_t object,
                    bool timed)
{
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin_timed(&wait, state, kind, object, timed);
    return real(nr, a);
}

/* futex(uaddr, op, val, timeout, uaddr2, val3). A waiter on a word shared with other processes
   (no FUTEX_PRIVATE_FLAG) may be woken by one of them, and a requeued waiter through another
   word: their wakers are unknown, so no verdict rests on them. */
static long futex(const long *a)
{
    uintptr_t word = (uintptr_t)a[0];
    int op = (int)a[1];
    switch (tl_linux_futex_effect(op)) {
    case TL_FUTEX_WAITS:
        if (!(op & FUTEX_PRIVATE_FLAG))
            tl_wakers_unknown(word);
        return wait_in(SYS_futex, a, TL_FUTEX_WAIT, TL_OBJ_ADDR, word, a[3] != 0);
    case TL_FUTEX_WAKES_TWO: tl_waker_note((uintptr_t)a[4]); /* fall through */
    case TL_FUTEX_WAKES: tl_waker_note(word); break;
    case TL_FUTEX_MOVES: tl_wakers_unknown(word); break;
    case TL_FUTEX_OTHER: break;
    }
    return real(SYS_futex, a);
}

/* The first word of futex_waitv's vector, read as the kernel reads it: a bad vector is the
   kernel's EFAULT to return, never our crash. 0 when it cannot be read. */
static uintptr_t first_word(long vector, long n)
{
    tl_futex_waitv w;
    struct iovec mine = {&w, sizeof w}, theirs = {(void *)vector, sizeof w};
    if (n < 1 || tl_sys(SYS_process_vm_readv, tl_sys(SYS_getpid, 0, 0, 0, 0, 0, 0), (long)&mine, 1,
                        (long)&theirs, 1, 0) != (long)sizeof w)
        return 0;
    return (uintptr_t)w.uaddr;
}

/* futex_waitv(waiters, n, flags, timeout, clock): a wait on its first word, which any of the
   others may end. */
static long futex_waitv(const long *a)
{
    uintptr_t word = first_word(a[0], a[1]);
    if (word)
        tl_wakers_unknown(word);
    return wait_in(SYS_futex_waitv, a, TL_FUTEX_WAIT, word ? TL_OBJ_ADDR : TL_OBJ_NONE, word,
                   a[3] != 0);
}

/* io_uring_enter(fd, to_submit, min_complete, flags, arg, argsz) waits for completions, or for
   room to submit. */
static long io_uring_enter(const long *a)
{
    unsigned flags = (unsigned)a[3];
    if (((flags & TL_IORING_ENTER_GETEVENTS) && a[2] > 0) || (flags & TL_IORING_ENTER_SQ_WAIT))
        return wait_in(SYS_io_uring_enter, a, TL_WAITING, TL_OBJ_IO_URING, (uintptr_t)a[0], false);
    return real(SYS_io_uring_enter, a);
}

static __attribute__((noinline)) long watched(long nr, const long *a)
{
    if (tl_bypass())
        return real(nr, a);
    switch (nr) {
    case SYS_futex: return futex(a);
    case SYS_futex_waitv: return futex_waitv(a);
    case SYS_io_uring_enter: return io_uring_enter(a);
    default: return real(nr, a);
    }
}

/* Six arguments are read whatever the call takes, as glibc's syscall() reads them (the ones the
   caller did not pass are whatever its registers and stack hold, and the kernel ignores them). */
TL_API long syscall(long nr, ...)
{
    long a[TL_GLIBC_SYSCALL_ARGS];
    va_list ap;
    va_start(ap, nr);
    for (int i = 0; i < TL_GLIBC_SYSCALL_ARGS; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (TL_UNLIKELY(tl_linux_syscall_watched(nr)))
        return watched(nr, a);
    return real(nr, a);
}
