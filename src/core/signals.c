/* Which signals are ours: a bit each, plus the handler and callback of each, written once by the
   trigger that owns the signal before it installs the handler. */
#include "core/signals.h"

#include <stdatomic.h>

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
