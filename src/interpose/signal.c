/* Wrappers that see the program take a signal the library handles: by installing a handler for it,
   or by waiting for it. Each keeps the real call's result and errno; core/signals.c decides.

   sigaction and signal never start the library and never depend on it being started: the
   sanitizers call sigaction from their own start-up, through us, and their own threads
   (LeakSanitizer's tracer) call it too and lack the state that address-sanitized code needs. So
   the common path is left uninstrumented, and goes straight through for every signal the library
   does not handle. Both are async-signal-safe, and so is everything they do here. */
#include "interpose/interpose.h"

#include "core/signals.h"

/* sigaction for a signal the library watches. */
static __attribute__((no_sanitize_address)) int install(int sig, const struct sigaction *act,
                                                        struct sigaction *old)
{
    const struct sigaction *installed = tl_signal_request(sig, act);
    int rc = REAL(sigaction)(sig, installed, old);
    if (rc == 0) {
        if (old)
            tl_signal_shown(sig, old);
        if (installed)
            tl_signal_installed(sig, installed->sa_handler);
    }
    return rc;
}

TL_API __attribute__((no_sanitize_address)) int sigaction(int sig, const struct sigaction *act,
                                                          struct sigaction *old)
{
    if (tl_guard || !tl_signal_watched(sig))
        return REAL(sigaction)(sig, act, old);
    return install(sig, act, old);
}

/* signal() is sigaction with BSD semantics, as glibc's: SA_RESTART, and the signal blocked while
   its handler runs. A signal we watch takes that path, so that the two agree. */
TL_API __attribute__((no_sanitize_address)) sighandler_t signal(int sig, sighandler_t handler)
{
    if (tl_guard || !tl_signal_watched(sig))
        return REAL(signal)(sig, handler);
    struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART}, old;
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, sig);
    return install(sig, &act, &old) == 0 ? old.sa_handler : SIG_ERR;
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
