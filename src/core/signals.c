/* Which signals are ours: a bit each, plus the handler and callback of each, written once by the
   trigger that owns the signal before it installs the handler. */
#include "core/signals.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define NSIG_MAX 65

static atomic_ullong watched, ours; /* bit sig - 1 */
static struct {
    void (*handler)(int, siginfo_t *, void *);
    void (*taken)(int);
} owner[NSIG_MAX];

static unsigned long long bit(int sig)
{
    return sig > 0 && sig < NSIG_MAX ? 1ull << (sig - 1) : 0;
}

void tl_signal_own(int sig, void (*handler)(int, siginfo_t *, void *), void (*taken)(int))
{
    if (!bit(sig))
        return;
    owner[sig].handler = handler;
    owner[sig].taken = taken;
    atomic_fetch_or(&watched, bit(sig));
    atomic_fetch_or(&ours, bit(sig));
}

bool tl_signal_is_ours(int sig)
{
    return atomic_load_explicit(&ours, memory_order_acquire) & bit(sig);
}

bool tl_signal_watched(int sig)
{
    return atomic_load_explicit(&watched, memory_order_relaxed) & bit(sig);
}

static void take(int sig)
{
    if (atomic_fetch_and(&ours, ~bit(sig)) & bit(sig) && owner[sig].taken)
        owner[sig].taken(sig);
}

void tl_signal_installed(int sig, void (*handler)(int))
{
    if (!tl_signal_watched(sig))
        return;
    /* With SA_SIGINFO, sa_handler aliases sa_sigaction: our handler reinstalled is still ours. */
    if ((void *)handler == (void *)owner[sig].handler)
        atomic_fetch_or(&ours, bit(sig));
    else
        take(sig);
}

void tl_signal_awaited(const sigset_t *set)
{
    unsigned long long all = atomic_load_explicit(&watched, memory_order_relaxed);
    for (int sig = 1; all && sig < NSIG_MAX; sig++)
        if ((all & bit(sig)) && sigismember(set, sig) == 1)
            take(sig);
}

int tl_signal_free(void)
{
    /* SIGRTMAX itself and the lowest few are the ones programs and libraries pick. */
    for (int sig = SIGRTMAX - 1; sig > SIGRTMIN + 2; sig--) {
        struct sigaction old;
        if (!tl_signal_watched(sig) && sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            return sig;
    }
    return 0;
}

const char *tl_signal_name(int sig, char buf[16])
{
    const char *abbrev = sigabbrev_np(sig);
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, 16, sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+%d", sig - SIGRTMIN);
    else if (abbrev)
        snprintf(buf, 16, "SIG%s", abbrev);
    else
        snprintf(buf, 16, "signal %d", sig);
    return buf;
}
