/* What threadleak knows of the kernel's system call ABI, beyond glibc's functions: the futex
   operations that wait and those that wake, futex_waitv's vector, io_uring_enter's waits. Numbers
   and layouts are the kernel's own (uapi headers); the few a glibc 2.34 system may lack are given
   here, with the values every architecture shares. */
#ifndef TL_PLATFORM_LINUX_H
#define TL_PLATFORM_LINUX_H

#include <linux/futex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

/* System calls added after glibc 2.34's headers were made; since Linux 5.1 new system calls have
   one number on every architecture (the kernel's syscall.tbl). */
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

/* io_uring_enter's flags that make it wait: for completions, or for room in the submission queue
   (linux/io_uring.h). */
#define TL_IORING_ENTER_GETEVENTS 1u
#define TL_IORING_ENTER_SQ_WAIT 4u

/* One entry of futex_waitv's vector (struct futex_waitv, Linux 5.16): the word's address is the
   second 64-bit field. */
typedef struct tl_futex_waitv {
    uint64_t val, uaddr;
    uint32_t flags, reserved;
} tl_futex_waitv;
_Static_assert(sizeof(tl_futex_waitv) == 24, "struct futex_waitv is 24 bytes");

/* The system calls the syscall() wrapper looks at; every other one goes straight through. A
   switch, which compilers turn into compares and jumps on the fast path. */
static inline bool tl_linux_syscall_watched(long nr)
{
    switch (nr) {
    case SYS_futex:
    case SYS_futex_waitv:
    case SYS_io_uring_enter: return true;
    default: return false;
    }
}

/* What a futex operation does to the waiters of its word (the first argument): waits on it (the
   timeout, if any, is the fourth argument), wakes them, wakes them and those of a second word
   (FUTEX_WAKE_OP's uaddr2, the fifth argument), or moves them to uaddr2, where that word's wakes
   end their wait (the requeues). A priority-inheritance lock is handed on by its owner, whose tid
   the word holds, and by the kernel when the owner dies: not by whoever unlocked it before. */
typedef enum {
    TL_FUTEX_OTHER,
    TL_FUTEX_WAITS,
    TL_FUTEX_WAITS_PI, /* for a priority-inheritance lock, or to be requeued to one */
    TL_FUTEX_WAKES,
    TL_FUTEX_WAKES_TWO,
    TL_FUTEX_MOVES
} tl_futex_effect;

static inline tl_futex_effect tl_linux_futex_effect(int op)
{
    switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: return TL_FUTEX_WAITS;
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_WAIT_REQUEUE_PI: return TL_FUTEX_WAITS_PI;
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
    case FUTEX_UNLOCK_PI: return TL_FUTEX_WAKES;
    case FUTEX_WAKE_OP: return TL_FUTEX_WAKES_TWO;
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_CMP_REQUEUE_PI: return TL_FUTEX_MOVES;
    default: return TL_FUTEX_OTHER;
    }
}

#endif
