/* Wrappers that see the program take a signal the library handles: by installing a handler for it,
   or by waiting for it. Each keeps the real call's result and errno; core/signals.c decides.

   sigaction and signal never start the library and never depend on it being started: the
   sanitizers call sigaction from their own start-up, through us, and their own threads
   (LeakSanitizer's tracer) call it too and lack the state that address-sanitized code needs. So
   the common path is left uninstrumented, and goes straight through for every signal the library
   does not handle. Both are async-signal-safe, and so is everything they do here. */
#include "interpose/interpose.h"

#include "core/signals.h"

TL_API __attribute__((no_sanitize_address)) int sigaction(int sig, const struct sigaction *act,
                                                          struct sigaction *old)
{
    int rc = REAL(sigaction)(sig, act, old);
    if (act && rc == 0 && !tl_guard && tl_signal_watched(sig))
        tl_signal_installed(sig, act->sa_handler);
    return rc;
}

TL_API __attribute__((no_sanitize_address)) sighandler_t signal(int sig, sighandler_t handler)
{
    sighandler_t rc = REAL(signal)(sig, handler);
    if (rc != SIG_ERR && !tl_guard && tl_signal_watched(sig))
        tl_signal_installed(sig, handler);
    return rc;
}

/* Before the wait: a signal that comes meanwhile is the program's. */
static void waits_for(const sigset_t *set)
{
    if (set && !tl_guard)
        tl_signal_awaited(set);
}

TL_API int sigwait(const sigset_t *set, int *sig)
{
    waits_for(set);
    return REAL(sigwait)(set, sig);
}

TL_API int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    waits_for(set);
    return REAL(sigwaitinfo)(set, info);
}

TL_API int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    waits_for(set);
    return REAL(sigtimedwait)(set, info, timeout);
}

TL_API int signalfd(int fd, const sigset_t *mask, int flags)
{
    waits_for(mask);
    return REAL(signalfd)(fd, mask, flags);
}
