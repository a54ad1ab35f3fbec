/* Wrappers that see the program take the live-dump signal for itself: by installing a handler for
   it, or by waiting for it. Each keeps the real call's result and errno; live.c decides. */
#include "interpose.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/signalfd.h>

/* These two never start the library: the sanitizers call sigaction from their own start-up, through
   us, and starting there (dlopen, TLS) corrupts their bookkeeping; before start-up the signal is not
   ours anyway (tl_live_start looks at what was installed by then). Their own threads (LeakSanitizer's
   tracer) call too, and lack the state that address-sanitized code needs: the common path is left
   uninstrumented, and goes straight through for every signal but ours. */
#define STRAIGHT_THROUGH(sig, act)                                                                \
    (!atomic_load_explicit(&tl_initialized, memory_order_acquire) || tl_guard || !(act) ||       \
     (sig) != tl_opt.signal)
#define NEXT(field, name)                                                                         \
    (real.field ? real.field : (*(void **)&real.field = dlsym(RTLD_NEXT, name), real.field))

static int claim_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int rc = real.sigaction(sig, act, old), saved = errno;
    if (rc == 0 && act)
        tl_live_taken(sig, tl_live_handler(act->sa_handler));
    errno = saved;
    return rc;
}

TL_API __attribute__((no_sanitize_address)) int sigaction(int sig, const struct sigaction *act,
                                                          struct sigaction *old)
{
    if (STRAIGHT_THROUGH(sig, act))
        return NEXT(sigaction, "sigaction")(sig, act, old);
    return claim_sigaction(sig, act, old);
}

static sighandler_t claim_signal(int sig, sighandler_t handler)
{
    sighandler_t rc = real.signal(sig, handler);
    int saved = errno;
    if (rc != SIG_ERR)
        tl_live_taken(sig, tl_live_handler(handler));
    errno = saved;
    return rc;
}

TL_API __attribute__((no_sanitize_address)) sighandler_t signal(int sig, sighandler_t handler)
{
    if (STRAIGHT_THROUGH(sig, handler))
        return NEXT(signal, "signal")(sig, handler);
    return claim_signal(sig, handler);
}

/* Before the wait: a signal that comes meanwhile is the program's. */
static void waits_for(const sigset_t *set)
{
    int saved = errno;
    if (set)
        tl_live_waited(set);
    errno = saved;
}

TL_API int sigwait(const sigset_t *set, int *sig)
{
    TL_ENTER(real.sigwait(set, sig));
    waits_for(set);
    return real.sigwait(set, sig);
}

TL_API int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    TL_ENTER(real.sigwaitinfo(set, info));
    waits_for(set);
    return real.sigwaitinfo(set, info);
}

TL_API int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    TL_ENTER(real.sigtimedwait(set, info, timeout));
    waits_for(set);
    return real.sigtimedwait(set, info, timeout);
}

TL_API int signalfd(int fd, const sigset_t *mask, int flags)
{
    TL_ENTER(real.signalfd(fd, mask, flags));
    waits_for(mask);
    return real.signalfd(fd, mask, flags);
}
