/* x86_64: the registers a wait is unwound from, their DWARF numbers, and raw system calls.

   A wait's registers are kept in libunwind's context type (a ucontext_t here), so that libunwind
   can take over a stack the fast unwinder declines. tl_cpu_save fills the registers unwinding
   needs: the instruction pointer, the stack pointer and the callee-saved registers. */
#ifndef TL_PLATFORM_X86_64_H
#define TL_PLATFORM_X86_64_H

#include <stdint.h>
#include <string.h>
#include <sys/ucontext.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

typedef unw_context_t tl_cpu_context;

_Static_assert(sizeof(unw_context_t) == sizeof(ucontext_t), "libunwind's context is a ucontext_t");

/* DWARF register numbers (System V x86_64 ABI, figure 3.36). */
enum { TL_DWARF_FP = 6, TL_DWARF_SP = 7, TL_DWARF_RA = 16, TL_DWARF_LR = -1 };

#define TL_CPU_GREGS(ctx) (((ucontext_t *)(ctx))->uc_mcontext.gregs)
static inline uintptr_t tl_cpu_ip(const tl_cpu_context *c)
{
    return (uintptr_t)TL_CPU_GREGS(c)[REG_RIP];
}
static inline uintptr_t tl_cpu_sp(const tl_cpu_context *c)
{
    return (uintptr_t)TL_CPU_GREGS(c)[REG_RSP];
}
static inline uintptr_t tl_cpu_fp(const tl_cpu_context *c)
{
    return (uintptr_t)TL_CPU_GREGS(c)[REG_RBP];
}
static inline uintptr_t tl_cpu_lr(const tl_cpu_context *c)
{
    (void)c;
    return 0;
}

/* The callee-saved registers tl_cpu_save keeps: the values a function that called the waiting one
   still holds, for the reachability scan. */
#define TL_CPU_SAVED 6
static inline void tl_cpu_saved(const tl_cpu_context *c, uintptr_t out[TL_CPU_SAVED])
{
    static const int regs[TL_CPU_SAVED] = {REG_RBP, REG_RBX, REG_R12, REG_R13, REG_R14, REG_R15};
    for (int i = 0; i < TL_CPU_SAVED; i++)
        out[i] = (uintptr_t)TL_CPU_GREGS(c)[regs[i]];
}

/* Inlined into the caller, so that the registers are those of the caller's own frame. The
   instruction pointer is the label after the stores: an address inside the caller, as a return
   address would be. */
#define tl_cpu_save(ctx)                                                                           \
    __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"                                                   \
                     "movq %%rax, %c[ip](%[g])\n\t"                                                \
                     "movq %%rsp, %c[sp](%[g])\n\t"                                                \
                     "movq %%rbp, %c[bp](%[g])\n\t"                                                \
                     "movq %%rbx, %c[bx](%[g])\n\t"                                                \
                     "movq %%r12, %c[r12](%[g])\n\t"                                               \
                     "movq %%r13, %c[r13](%[g])\n\t"                                               \
                     "movq %%r14, %c[r14](%[g])\n\t"                                               \
                     "movq %%r15, %c[r15](%[g])\n\t"                                               \
                     "1:"                                                                          \
                     :                                                                             \
                     : [g] "r"(TL_CPU_GREGS(ctx)), [ip] "i"(REG_RIP * 8), [sp] "i"(REG_RSP * 8),   \
                       [bp] "i"(REG_RBP * 8), [bx] "i"(REG_RBX * 8), [r12] "i"(REG_R12 * 8),       \
                       [r13] "i"(REG_R13 * 8), [r14] "i"(REG_R14 * 8), [r15] "i"(REG_R15 * 8)      \
                     : "rax", "memory")

/* The registers a signal interrupted, from its handler's third argument (the kernel's ucontext,
   whose layout matches glibc's up to and including the general registers). Safe in a handler. */
static inline void tl_cpu_from_signal(tl_cpu_context *c, const void *ucontext)
{
    memset(c, 0, sizeof *c);
    memcpy(TL_CPU_GREGS(c), ((const ucontext_t *)ucontext)->uc_mcontext.gregs, sizeof(gregset_t));
}

/* A variadic call passes integer arguments where a call of as many named ones would (System V
   AMD64 ABI, 3.5.7: it only adds %al), so a wrapper of a variadic function may take them named
   (syscall(), interpose/syscall.c). */

/* A system call without libc: no errno, no interposed syscall(), safe in a signal handler.
   Returns the kernel's result, -errno on failure. */
static inline long tl_sys(long nr, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#endif
