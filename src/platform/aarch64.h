/* aarch64: the registers a wait is unwound from, their DWARF numbers, and raw system calls.

   A wait's registers are kept in libunwind's context type, so that libunwind can take over a
   stack the fast unwinder declines. tl_cpu_save fills the registers unwinding needs: the program
   counter, the stack pointer, the frame pointer and link register, and the callee-saved x19-x28. */
#ifndef TL_PLATFORM_AARCH64_H
#define TL_PLATFORM_AARCH64_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ucontext.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

typedef unw_context_t tl_cpu_context;

/* libunwind's aarch64 context is its own, smaller than a ucontext_t, but libunwind.so reads it at
   the offsets of the kernel's ucontext (its src/aarch64/offsets.h: the general registers at 0xb0
   + 8, sp at 0xb0 + 0x100, pc at 0xb0 + 0x108); glibc's ucontext_t has them there too, which
   tl_cpu_from_signal relies on. */
#define TL_CPU_MC(ctx) (((tl_cpu_context *)(ctx))->uc_mcontext)
_Static_assert(offsetof(unw_context_t, uc_mcontext) == 0xb0, "libunwind: mcontext at 0xb0");
_Static_assert(offsetof(unw_context_t, uc_mcontext.regs) == 0xb0 + 0x8, "libunwind: x0 at 0x8");
_Static_assert(offsetof(unw_context_t, uc_mcontext.sp) == 0xb0 + 0x100, "libunwind: sp at 0x100");
_Static_assert(offsetof(unw_context_t, uc_mcontext.pc) == 0xb0 + 0x108, "libunwind: pc at 0x108");
_Static_assert(offsetof(ucontext_t, uc_mcontext.regs) == offsetof(unw_context_t, uc_mcontext.regs),
               "glibc's ucontext: registers where libunwind's are");
_Static_assert(offsetof(ucontext_t, uc_mcontext.sp) == offsetof(unw_context_t, uc_mcontext.sp) &&
                   offsetof(ucontext_t, uc_mcontext.pc) ==
                       offsetof(unw_context_t, uc_mcontext.pc) &&
                   offsetof(ucontext_t, uc_mcontext.pstate) ==
                       offsetof(unw_context_t, uc_mcontext.pstate),
               "glibc's ucontext: sp, pc and pstate where libunwind's are");

/* DWARF register numbers (DWARF for the Arm 64-bit Architecture, 4.1). The return address is
   the link register's column: a frame that has not saved it still holds it in x30. */
enum { TL_DWARF_FP = 29, TL_DWARF_SP = 31, TL_DWARF_RA = 30, TL_DWARF_LR = 30 };

static inline uintptr_t tl_cpu_ip(const tl_cpu_context *c)
{
    return (uintptr_t)c->uc_mcontext.pc;
}
static inline uintptr_t tl_cpu_sp(const tl_cpu_context *c)
{
    return (uintptr_t)c->uc_mcontext.sp;
}
static inline uintptr_t tl_cpu_fp(const tl_cpu_context *c)
{
    return (uintptr_t)c->uc_mcontext.regs[29];
}
static inline uintptr_t tl_cpu_lr(const tl_cpu_context *c)
{
    return (uintptr_t)c->uc_mcontext.regs[30];
}

/* The callee-saved registers tl_cpu_save keeps (x19 to x29): the values a function that called
   the waiting one still holds, for the reachability scan. */
#define TL_CPU_SAVED 11
static inline void tl_cpu_saved(const tl_cpu_context *c, uintptr_t out[TL_CPU_SAVED])
{
    for (int i = 0; i < TL_CPU_SAVED; i++)
        out[i] = (uintptr_t)c->uc_mcontext.regs[19 + i];
}

/* Inlined into the caller, so that the registers are those of the caller's own frame. The
   program counter is the label after the stores, an address inside the caller. */
#define tl_cpu_save(ctx)                                                                           \
    __asm__ volatile(                                                                              \
        "adr x16, 1f\n\t"                                                                          \
        "str x16, [%[mc], %[pc]]\n\t"                                                              \
        "mov x16, sp\n\t"                                                                          \
        "str x16, [%[mc], %[sp]]\n\t"                                                              \
        "stp x19, x20, [%[mc], %[r19]]\n\t"                                                        \
        "stp x21, x22, [%[mc], %[r19] + 16]\n\t"                                                   \
        "stp x23, x24, [%[mc], %[r19] + 32]\n\t"                                                   \
        "stp x25, x26, [%[mc], %[r19] + 48]\n\t"                                                   \
        "stp x27, x28, [%[mc], %[r19] + 64]\n\t"                                                   \
        "stp x29, x30, [%[mc], %[r19] + 80]\n\t"                                                   \
        "1:"                                                                                       \
        :                                                                                          \
        : [mc] "r"(&TL_CPU_MC(ctx)), [pc] "i"(offsetof(__typeof__(TL_CPU_MC(ctx)), pc)),           \
          [sp] "i"(offsetof(__typeof__(TL_CPU_MC(ctx)), sp)),                                      \
          [r19] "i"(offsetof(__typeof__(TL_CPU_MC(ctx)), regs) + 19 * 8)                           \
        : "x16", "memory")

/* The registers a signal interrupted, from its handler's third argument (the kernel's ucontext,
   glibc's ucontext_t): the general registers, sp, pc and pstate, which libunwind's context holds
   at the same offsets. Safe in a handler. */
static inline void tl_cpu_from_signal(tl_cpu_context *c, const void *ucontext)
{
    const mcontext_t *mc = &((const ucontext_t *)ucontext)->uc_mcontext;
    memset(c, 0, sizeof *c);
    memcpy(&c->uc_mcontext, mc, offsetof(mcontext_t, pstate) + sizeof mc->pstate);
}

/* A variadic call passes integer arguments where a call of as many named ones would (AAPCS64 as
   Linux follows it: x0-x7, then the stack), so a wrapper of a variadic function may take them
   named (syscall(), interpose/syscall.c). */

/* A system call without libc: no errno, no interposed syscall(), safe in a signal handler.
   Returns the kernel's result, -errno on failure. */
static inline long tl_sys(long nr, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = nr, x0 __asm__("x0") = a, x1 __asm__("x1") = b,
                     x2 __asm__("x2") = c, x3 __asm__("x3") = d, x4 __asm__("x4") = e,
                     x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

#endif
