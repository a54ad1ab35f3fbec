/* Reports on the signals that end the process: the fatal ones (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
   SIGABRT; option fatal, trigger "fatal") and, with option terminate, SIGTERM, SIGINT, SIGHUP and
   SIGQUIT (trigger "terminate"). Only while the program leaves the signal at its default: a
   handler of its own, or SIG_IGN, installed before main or after, wins, and the program never sees
   ours (core/signals.c: ours stands in for SIG_DFL).

   The handler does nothing that is unsafe in a handler. It copies the registers the signal
   interrupted, wakes the library's helper thread, whose job writes the report, and waits for it,
   at most WAIT_NS. Then it puts the default action back and lets the signal do what it would have
   done: a fault returns to its instruction, which faults again, now to the default action, so that
   the core dump shows the very state the program crashed in; any other signal is sent again to
   the thread, blocked while the handler runs, and arrives as the handler returns. The process ends
   with the status, and the core dump, it would have had without the library.

   One report per process: a fatal signal in another thread meanwhile waits for the first report,
   then goes its own way (the first thread has ended the process by then). A crash inside the
   library does not recurse: the handler blocks every signal while it runs, so a fault in it ends
   the process at once (the kernel's default for a fault it cannot deliver). A crash of the helper
   thread while it writes the report (in a heap the crash corrupted, say) ends only the report: the
   helper parks for good, and the thread that received the signal ends the process with it.

   A process that has never started a thread has no helper thread (core/helper.h says why), and a
   report written in the handler itself would call malloc, stdio and the dynamic linker, whose
   locks the crash may hold: the crash could become a hang. Such a process gets one line instead,
   and the signal goes its way at once. */
#include "trigger/fatal.h"

#include "core/altstack.h"
#include "core/futex.h"
#include "core/helper.h"
#include "core/options.h"
#include "core/signals.h"
#include "report/report.h"
#include "trigger/output.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WAIT_NS 10000000000ull /* the longest a report may hold up the end: 10 s */

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static const int terminating[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

enum { IDLE, ASKED, DONE };

static struct {
    atomic_int owner; /* the thread whose signal is reported; 0 before any */
    atomic_int state; /* IDLE, ASKED, DONE: the futex word the owner waits on */
    siginfo_t si;
    tl_fatal info;
} fatal;

static bool is_fault(int sig, const siginfo_t *si)
{
    return (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL) && si->si_code > 0;
}

/* What SIG_DFL would have done, now. */
static void do_default(int sig, const siginfo_t *si)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    tl_guard++;
    sigaction(sig, &dfl, NULL);
    tl_guard--;
    if (!is_fault(sig, si))
        tl_sys(SYS_tgkill, tl_sys(SYS_getpid, 0, 0, 0, 0, 0, 0), tl_gettid(), sig, 0, 0, 0);
}

/* Until the report is written, or until deadline_ns. */
static bool wait_done(uint64_t deadline_ns)
{
    int state;
    while ((state = atomic_load_explicit(&fatal.state, memory_order_acquire)) != DONE) {
        uint64_t now = tl_now_ns();
        if (now >= deadline_ns)
            return false;
        struct timespec left = {(time_t)((deadline_ns - now) / 1000000000),
                                (long)((deadline_ns - now) % 1000000000)};
        tl_futex_wait(&fatal.state, state, &left);
    }
    return true;
}

/* Sleeps, or parks for good (ns 0): safe in a handler. */
static void pause_ns(uint64_t ns)
{
    static atomic_int never;
    struct timespec t = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    uint64_t until = tl_now_ns() + ns;
    do
        tl_futex_wait(&never, 0, ns ? &t : NULL);
    while (!ns || tl_now_ns() < until);
}

static void done(void)
{
    atomic_store_explicit(&fatal.state, DONE, memory_order_release);
    tl_futex_wake(&fatal.state, INT32_MAX);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    char name[16];
    pid_t me = tl_gettid(), none = 0;
    if (me == tl_helper_tid()) {
        if (atomic_load(&fatal.state) == ASKED) { /* the report crashed: it ends here */
            done();
            pause_ns(0);
        }
        do_default(sig, si); /* a crash of ours, in another job */
        return;
    }
    /* Not ours any more (a handler of the program's chained to us), or a crash inside the library
       in this thread: no report. */
    if (!tl_signal_is_ours(sig) || (is_fault(sig, si) && tl_guard)) {
        do_default(sig, si);
        return;
    }
    uint64_t deadline = tl_now_ns() + WAIT_NS;
    if (!atomic_compare_exchange_strong(&fatal.owner, &none, me)) {
        if (wait_done(deadline)) /* its thread ends the process now: let it be first */
            pause_ns(1000000000);
        do_default(sig, si);
        return;
    }
    if (!tl_helper_tid()) {
        tl_warn_safe(tl_signal_name(sig, name), " in a process that has not started a thread: ",
                     "no report (see `fatal` in threadleak's README)");
        done();
        do_default(sig, si);
        return;
    }
    fatal.si = *si;
    fatal.info.tid = me;
    fatal.info.sig = sig;
    tl_cpu_from_signal(&fatal.info.ctx, uc);
    atomic_store_explicit(&fatal.state, ASKED, memory_order_release);
    tl_helper_wake();
    if (!wait_done(deadline)) {
        tl_warn_safe("the report on ", tl_signal_name(sig, name), " took more than 10 s: given up");
        done();
    }
    do_default(sig, si);
}

/* Fills info->cause from what the kernel told of the signal. */
static void describe(const siginfo_t *si, tl_fatal *info)
{
    static const struct {
        int sig, code;
        const char *what;
    } codes[] = {
        {SIGSEGV, SEGV_MAPERR, "address 0x%lx not mapped"},
        {SIGSEGV, SEGV_ACCERR, "no permission for address 0x%lx"},
        {SIGBUS, BUS_ADRALN, "misaligned address 0x%lx"},
        {SIGBUS, BUS_ADRERR, "address 0x%lx past the end of its file"},
        {SIGBUS, BUS_OBJERR, "hardware error at address 0x%lx"},
        {SIGFPE, FPE_INTDIV, "integer division by zero at 0x%lx"},
        {SIGFPE, FPE_INTOVF, "integer overflow at 0x%lx"},
        {SIGFPE, FPE_FLTDIV, "floating-point division by zero at 0x%lx"},
        {SIGFPE, FPE_FLTOVF, "floating-point overflow at 0x%lx"},
        {SIGFPE, FPE_FLTUND, "floating-point underflow at 0x%lx"},
        {SIGFPE, FPE_FLTRES, "inexact floating-point result at 0x%lx"},
        {SIGFPE, FPE_FLTINV, "invalid floating-point operation at 0x%lx"},
        {SIGILL, ILL_ILLOPC, "illegal opcode at 0x%lx"},
        {SIGILL, ILL_ILLOPN, "illegal operand at 0x%lx"},
        {SIGILL, ILL_ILLADR, "illegal addressing mode at 0x%lx"},
        {SIGILL, ILL_ILLTRP, "illegal trap at 0x%lx"},
        {SIGILL, ILL_PRVOPC, "privileged opcode at 0x%lx"},
        {SIGILL, ILL_PRVREG, "privileged register at 0x%lx"},
    };
    char comm[32] = "", path[64];
    info->cause[0] = 0;
    if (si->si_code == SI_KERNEL) {
        snprintf(info->cause, sizeof info->cause, "sent by the kernel");
        return;
    }
    if (si->si_code == SI_TIMER) {
        snprintf(info->cause, sizeof info->cause, "sent by a timer");
        return;
    }
    if (si->si_code <= 0) { /* sent: kill, tgkill (raise, abort), sigqueue */
        if (si->si_pid == getpid()) {
            snprintf(info->cause, sizeof info->cause, "sent by the process itself");
            return;
        }
        snprintf(path, sizeof path, "/proc/%d/comm", (int)si->si_pid);
        FILE *f = fopen(path, "re");
        if (f && fgets(comm, sizeof comm, f))
            comm[strcspn(comm, "\n")] = 0;
        if (f)
            fclose(f);
        snprintf(info->cause, sizeof info->cause,
                 comm[0] ? "sent by pid %d (%s)" : "sent by pid %d", (int)si->si_pid, comm);
        return;
    }
    for (size_t i = 0; i < TL_LENGTH(codes); i++)
        if (codes[i].sig == si->si_signo && codes[i].code == si->si_code) {
            int n = snprintf(info->cause, sizeof info->cause, codes[i].what,
                             (unsigned long)si->si_addr);
            /* A fault just below the stack pointer: a push or a call into the guard page. */
            uintptr_t addr = (uintptr_t)si->si_addr, sp = tl_cpu_sp(&info->ctx);
            if (si->si_signo == SIGSEGV && addr < sp + 4096 && addr + 65536 > sp && n > 0 &&
                (size_t)n < sizeof info->cause)
                snprintf(info->cause + n, sizeof info->cause - (size_t)n, ": stack overflow");
            return;
        }
}

static bool terminates(int sig)
{
    for (size_t i = 0; i < TL_LENGTH(terminating); i++)
        if (terminating[i] == sig)
            return true;
    return false;
}

/* The helper's job: the report, while the thread that received the signal waits. A fault of the
   helper's own meanwhile comes to the handler above, which ends the report. */
static uint64_t report(uint64_t now_ns)
{
    (void)now_ns;
    if (atomic_load_explicit(&fatal.state, memory_order_acquire) != ASKED)
        return 0;
    sigset_t faults, old;
    sigemptyset(&faults);
    for (size_t i = 0; i < TL_LENGTH(fatal_signals); i++)
        sigaddset(&faults, fatal_signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &faults, &old);
    describe(&fatal.si, &fatal.info);
    tl_output_report(terminates(fatal.info.sig) ? "terminate" : "fatal",
                     &(tl_filter){.rules = {tl_rules_of_process()}, .fatal = &fatal.info});
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    done();
    return 0;
}

/* The action standing in for every default one: kept by core/signals.c, so it lasts. Its mask,
   every signal, is filled at start. */
static struct sigaction stand_in_act = {.sa_sigaction = on_signal,
                                        .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART};

/* Our handler for sig, if the program leaves sig at its default. */
static bool stand_in(int sig)
{
    struct sigaction old;
    tl_guard++;
    bool free = sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL;
    if (free) {
        tl_signal_stand_in(sig, &stand_in_act);
        sigaction(sig, &stand_in_act, NULL);
    }
    tl_guard--;
    return free;
}

void tl_fatal_start(void)
{
    bool any = false;
    sigfillset(&stand_in_act.sa_mask);
    for (size_t i = 0; tl_opt.fatal && i < TL_LENGTH(fatal_signals); i++)
        any |= stand_in(fatal_signals[i]);
    for (size_t i = 0; tl_opt.terminate && i < TL_LENGTH(terminating); i++)
        any |= stand_in(terminating[i]);
    if (tl_signal_is_ours(SIGSEGV))
        tl_altstack_enable();
    if (any)
        tl_helper_add_lasting(report);
}
