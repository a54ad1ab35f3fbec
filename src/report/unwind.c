/* Unwinding a pinned wait, fast: a report of 10,000 blocked threads unwinds 10,000 stacks, and
   libunwind's unw_step costs microseconds a frame here (it blocks signals around its cache lock and
   checks every page it reads with mincore, system calls all). Threads that wait at one site share
   their return addresses, so the unwinding rule of each address is looked up once per report in
   the module's .eh_frame (libdw), and then every step is a hash lookup and two loads.

   Only the common rules are taken: the CFA at an offset from the stack or frame pointer; the
   return address saved at an offset from the CFA, or (aarch64) still in the link register; the
   frame pointer saved at an offset from the CFA, or unchanged. Anything else (signal frames, CFA
   expressions, a frame without CFI) answers "cannot", and the stack is unwound with libunwind
   instead. Memory is read only inside the waiting thread's own stack: from its saved stack pointer
   up to its first frame, our trampoline, whose callers (start_thread, clone) are the same in every
   thread and are learned from the first stack libunwind unwinds. */
#include "report/unwind.h"

#include "core/options.h"
#include "platform/platform.h"
#include "report/deps.h"

#include <stdlib.h>
#include <uthash.h>

typedef struct rule {
    UT_hash_handle hh;
    uintptr_t pc;
    bool usable;    /* the rules below say all; false: libunwind must do this stack */
    bool outermost; /* the return address is undefined: the stack ends here */
    bool ra_saved;  /* else the return address is in the link register */
    bool fp_saved;  /* else the frame pointer is unchanged */
    int cfa_reg;    /* TL_DWARF_SP or TL_DWARF_FP */
    int64_t cfa_off, ra_off, fp_off;
} rule;

struct tl_unwinder {
    Dwfl *dwfl;
    rule *rules;
};

static uintptr_t tail[8]; /* the callers of our trampoline, outermost last */
static atomic_uint ntail;

/* From a stack libunwind unwound whole: what follows our trampoline. Learned in a report, not in
   each new thread: libunwind there would give every thread dynamic TLS, which the sanitizers'
   leak checker misreads. */
static void learn_tail(const uintptr_t *pc, unsigned n)
{
    unsigned i = 0;
    if (atomic_load_explicit(&ntail, memory_order_acquire))
        return;
    while (i < n && tl_stack_own(pc[i])) /* the wrapper */
        i++;
    while (i < n && !tl_stack_own(pc[i])) /* the program */
        i++;
    if (i++ >= n || n - i == 0 || n - i > TL_LENGTH(tail))
        return;
    for (unsigned j = i; j < n; j++)
        tail[j - i] = pc[j];
    atomic_store_explicit(&ntail, n - i, memory_order_release);
}

tl_unwinder *tl_unwinder_new(Dwfl *dwfl)
{
    tl_unwinder *u = calloc(1, sizeof *u);
    if (u)
        u->dwfl = dwfl;
    return u;
}

void tl_unwinder_free(tl_unwinder *u)
{
    rule *r, *next;
    if (!u)
        return;
    HASH_ITER(hh, u->rules, r, next)
    {
        HASH_DEL(u->rules, r);
        free(r);
    }
    free(u);
}

typedef enum { AT_CFA, KEPT, UNDEFINED, OTHER } where;

/* Where a register of the caller is: saved at CFA + *off, kept in the register, or undefined. */
static where find_register(Dwarf_Frame *frame, int reg, int64_t *off)
{
    Dwarf_Op mem[3], *ops;
    size_t n;
    if (DW(dwarf_frame_register)(frame, reg, mem, &ops, &n) != 0)
        return OTHER;
    if (n == 0)
        return ops ? KEPT : UNDEFINED;
    if (ops[0].atom != DW_OP_call_frame_cfa)
        return OTHER;
    *off = 0;
    if (n == 1)
        return AT_CFA;
    if (n == 2 && ops[1].atom == DW_OP_plus_uconst)
        return *off = (int64_t)ops[1].number, AT_CFA;
    return OTHER; /* a value, not a place (the stack pointer's own rule), or an expression */
}

static void learn(tl_unwinder *u, rule *r)
{
    Dwfl_Module *mod = u->dwfl ? DW(dwfl_addrmodule)(u->dwfl, r->pc) : NULL;
    Dwarf_Addr bias, start, end;
    Dwarf_CFI *cfi = mod ? DW(dwfl_module_eh_cfi)(mod, &bias) : NULL;
    Dwarf_Frame *frame = NULL;
    Dwarf_Op *cfa;
    size_t n;
    bool signal_frame;
    if (!cfi || DW(dwarf_cfi_addrframe)(cfi, r->pc - bias, &frame) != 0)
        return;
    if (DW(dwarf_frame_info)(frame, &start, &end, &signal_frame) == TL_DWARF_RA && !signal_frame &&
        DW(dwarf_frame_cfa)(frame, &cfa, &n) == 0 && n == 1 && cfa[0].atom == DW_OP_bregx &&
        (cfa[0].number == TL_DWARF_SP || cfa[0].number == TL_DWARF_FP)) {
        r->cfa_reg = (int)cfa[0].number;
        r->cfa_off = (int64_t)cfa[0].number2;
        where ra = find_register(frame, TL_DWARF_RA, &r->ra_off);
        /* The frame pointer is callee-saved: when the CFI does not say where it went, it was not
           touched. */
        where fp = find_register(frame, TL_DWARF_FP, &r->fp_off);
        r->outermost = ra == UNDEFINED;
        r->ra_saved = ra == AT_CFA;
        r->fp_saved = fp == AT_CFA;
        r->usable =
            r->outermost || ((ra == AT_CFA || (ra == KEPT && TL_DWARF_LR >= 0)) && fp != OTHER);
    }
    free(frame);
}

static const rule *rule_of(tl_unwinder *u, uintptr_t pc)
{
    rule *r;
    HASH_FIND(hh, u->rules, &pc, sizeof pc, r);
    if (!r && (r = calloc(1, sizeof *r))) {
        r->pc = pc;
        learn(u, r);
        HASH_ADD(hh, u->rules, pc, sizeof pc, r);
    }
    return r;
}

/* The return addresses of the stack ctx was saved in, innermost first, read only inside
   [saved stack pointer, stack_top); 0 when a frame needs more than the common rules. first is 1
   when the first address is where a signal came: kept one further, it is looked up (at the address
   before it) as every return address is. */
static unsigned fast_unwind(tl_unwinder *u, const tl_cpu_context *ctx, uintptr_t stack_top,
                            size_t stack_size, uintptr_t *pc, unsigned max, uintptr_t first)
{
    uintptr_t ip = tl_cpu_ip(ctx) + first, sp = tl_cpu_sp(ctx), fp = tl_cpu_fp(ctx),
              lr = tl_cpu_lr(ctx);
    unsigned n = 0, tail_n = atomic_load_explicit(&ntail, memory_order_acquire);
    bool in_program = false; /* past our wrapper's frames, which may be several */
    if (!u || !tail_n || !stack_top || sp >= stack_top || stack_top - sp > stack_size)
        return 0;
    for (;;) {
        if (n == max)
            return n;
        pc[n++] = ip;
        if (!tl_stack_own(ip)) {
            in_program = true;
        } else if (in_program) { /* our trampoline: the rest is the same in every thread */
            for (unsigned i = 0; i < tail_n && n < max; i++)
                pc[n++] = tail[i];
            return n;
        }
        /* Every address here is a return address: its call instruction is the one before it. */
        const rule *r = rule_of(u, ip - 1);
        if (!r || !r->usable)
            return 0;
        /* libdw calls the return address undefined both in the outermost frame and, on aarch64,
           at a function's first instructions, where no rule names the link register yet: when a
           signal came there, the link register still holds the caller's address. */
        bool at_entry = r->outermost && first && n == 1 && lr && TL_DWARF_LR >= 0;
        if (r->outermost && !at_entry)
            return n;
        uintptr_t cfa = (r->cfa_reg == TL_DWARF_SP ? sp : fp) + (uintptr_t)r->cfa_off;
        uintptr_t ra_at = cfa + (uintptr_t)r->ra_off, fp_at = cfa + (uintptr_t)r->fp_off;
        /* The stack must grow towards the caller; only a frame whose return address is still in
           the link register may end where it began: the register is used once, so that cannot
           loop. */
        if (cfa < sp || (cfa == sp && r->ra_saved) ||
            (r->ra_saved && (ra_at < sp || ra_at + 8 > stack_top)) ||
            (r->fp_saved && (fp_at < sp || fp_at + 8 > stack_top)))
            return 0; /* not this stack's: leave it to libunwind, which checks what it reads */
        ip = r->ra_saved ? *(const uintptr_t *)ra_at : lr;
        lr = 0; /* a caller's link register is its callee's return address: used once */
        if (r->fp_saved)
            fp = *(const uintptr_t *)fp_at;
        sp = cfa;
        if (!ip)
            return n;
    }
}

/* The stack of ctx: the fast way, else libunwind's. */
static const tl_stack *unwind(tl_unwinder *u, const tl_cpu_context *ctx, uintptr_t stack_top,
                              size_t stack_size, bool signal_frame)
{
    uintptr_t pc[TL_MAX_FRAMES + 8];
    unsigned n = fast_unwind(u, ctx, stack_top, stack_size, pc, TL_LENGTH(pc), signal_frame);
    const tl_libunwind *unw;
    unw_cursor_t cursor;
    if (n)
        return tl_stack_intern(pc, n);
    unw_context_t *uc = (unw_context_t *)ctx; /* only read: no register is set here */
    if (!(unw = tl_libunwind_load()))
        return NULL;
    if (signal_frame && unw->init_local2 ? unw->init_local2(&cursor, uc, UNW_INIT_SIGNAL_FRAME) < 0
                                         : unw->init_local(&cursor, uc) < 0)
        return NULL;
    do {
        unw_word_t ip;
        if (unw->get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        pc[n] = (uintptr_t)ip + (n == 0 && signal_frame);
        n++;
    } while (n < TL_LENGTH(pc) && unw->step(&cursor) > 0);
    /* A wait's first ip is where the wrapper saved its registers: like the return addresses after
       it, it is an address inside its function, so every frame is looked up the same way. */
    if (!signal_frame)
        learn_tail(pc, n);
    return tl_stack_intern(pc, n);
}

const tl_stack *tl_unwind_wait(tl_unwinder *u, tl_wait *w, uintptr_t stack_top, size_t stack_size)
{
    return unwind(u, &w->ctx, stack_top, stack_size, false);
}

const tl_stack *tl_unwind_signal(tl_unwinder *u, const tl_cpu_context *ctx, uintptr_t stack_top,
                                 size_t stack_size)
{
    return unwind(u, ctx, stack_top, stack_size, true);
}
