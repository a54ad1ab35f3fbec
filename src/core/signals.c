/* Which signals are ours: a bit each, plus the handler and callback of each, written once by the
   trigger that owns the signal before it installs the handler. */
#include "core/signals.h"

#include <stdatomic.h>
#include <string.h>

#define NSIG_MAX 65

static atomic_ullong watched, ours, standing; /* bit sig - 1 */
static struct {
    void (*handler)(int, siginfo_t *, void *);
    void (*taken)(int);
    const struct sigaction *act; /* a stand-in's, installed for the program's SIG_DFL */
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

void tl_signal_stand_in(int sig, const struct sigaction *act)
{
    if (!bit(sig))
        return;
    owner[sig].act = act;
    tl_signal_own(sig, act->sa_sigaction, NULL);
    atomic_fetch_or(&standing, bit(sig));
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

const struct sigaction *tl_signal_request(int sig, const struct sigaction *act)
{
    bool stands_in = atomic_load_explicit(&standing, memory_order_relaxed) & bit(sig);
    return stands_in && act && act->sa_handler == SIG_DFL ? owner[sig].act : act;
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

void tl_signal_shown(int sig, struct sigaction *old)
{
    bool stands_in = atomic_load_explicit(&standing, memory_order_relaxed) & bit(sig);
    if (stands_in && (void *)old->sa_handler == (void *)owner[sig].handler) {
        old->sa_handler = SIG_DFL;
        old->sa_flags = 0;
        sigemptyset(&old->sa_mask);
    }
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

static char *append(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n + 1);
    return p + n;
}

static char *append_uint(char *p, unsigned n)
{
    char digits[12], *d = digits + sizeof digits;
    *--d = 0;
    do
        *--d = (char)('0' + n % 10);
    while (n /= 10);
    return append(p, d);
}

const char *tl_signal_name(int sig, char *buf)
{
    const char *abbrev = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;
    if (abbrev && strlen(abbrev) <= 12)
        append(append(buf, "SIG"), abbrev);
    else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        append_uint(append(buf, "SIGRTMIN+"), (unsigned)(sig - SIGRTMIN));
    else
        append_uint(append(buf, "signal "), (unsigned)sig);
    return buf;
}
