/* glibc's syscall(): the futex waits that Rust's std, C++20's atomic waits, abseil and folly make
   through it, and io_uring_enter's waits for completions.

   A futex wait is the state futex_wait on its word; a wake is noted as the word's waker, for the
   verdicts. io_uring_enter waiting is `waiting` on its ring. Every other system call goes straight
   to glibc's syscall() with the number and the six arguments glibc itself passes on
   (platform/glibc.h), so its return value and errno are glibc's, at the cost of a few compares. */
#include "interpose/interpose.h"

#include "core/wakers.h"

_Static_assert(TL_GLIBC_SYSCALL_ARGS == 6, "syscall() reads six arguments, real() passes six on");

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
   (no FUTEX_PRIVATE_FLAG) may be woken by one of them, a requeued waiter through another word,
   and a priority-inheritance lock by its owner: their past wakers say nothing, so no verdict rests
   on them. */
static long futex(const long *a)
{
    uintptr_t word = (uintptr_t)a[0];
    int op = (int)a[1];
    switch (tl_linux_futex_effect(op)) {
    case TL_FUTEX_WAITS_PI: tl_wakers_unknown(word); /* fall through */
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

/* The calls the fast path leaves: watched ones, and the first call, which binds glibc's. */
static __attribute__((noinline)) long slow(long nr, long a0, long a1, long a2, long a3, long a4,
                                           long a5)
{
    const long a[TL_GLIBC_SYSCALL_ARGS] = {a0, a1, a2, a3, a4, a5};
    if (!tl_linux_syscall_watched(nr) || tl_bypass())
        return real(nr, a);
    switch (nr) {
    case SYS_futex: return futex(a);
    case SYS_futex_waitv: return futex_waitv(a);
    default: return io_uring_enter(a);
    }
}

/* syscall(long nr, ...), taking its number and six arguments where a variadic call leaves them
   (the places of seven named ones: platform/x86_64.h, aarch64.h), as glibc's own reads them: the
   ones the caller did not pass hold whatever its registers and stack do, and the kernel ignores
   them. The call goes on with nothing moved (a tail call), and one that is not watched costs a
   load and three compares: REAL() is read by hand, so that its binding, like a watched call, stays
   out of this frame. */
long tl_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    __typeof__(syscall) *glibc = __atomic_load_n(&tl_real_fn.syscall, __ATOMIC_RELAXED);
    if (TL_UNLIKELY(!glibc || tl_linux_syscall_watched(nr)))
        return slow(nr, a0, a1, a2, a3, a4, a5);
    return glibc(nr, a0, a1, a2, a3, a4, a5);
}
extern __typeof__(tl_syscall) tl_syscall_exported __asm__("syscall")
    __attribute__((alias("tl_syscall"), visibility("default")));
