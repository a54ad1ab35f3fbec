/* Interposition: the only file that holds pointers to the real functions and defines wrappers.

   Every wrapper keeps the program's semantics: it returns what the real function returned, leaves
   errno as the real function left it, keeps its cancellation point (bookkeeping that must survive
   a cancellation runs from a cleanup handler), and goes straight to the real function when the
   library itself is the caller (tl_guard). */
#include "tl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

typedef int (*main_fn)(int, char **, char **);

static struct {
    int (*libc_start_main)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void),
                           void *);
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    int (*join)(pthread_t, void **);
    int (*tryjoin)(pthread_t, void **);
    int (*timedjoin)(pthread_t, void **, const struct timespec *);
    int (*clockjoin)(pthread_t, void **, clockid_t, const struct timespec *);
    int (*detach)(pthread_t);
    int (*setname)(pthread_t, const char *);
} real;

static void *lookup(void *handle, const char *name, const char *version)
{
    return version ? dlvsym(handle, name, version) : dlsym(handle, name);
}

/* Binds one real function; versioned symbols (pthread_cond_*@GLIBC_2.3.2) through dlvsym. The next
   definition after us is the real one, or another interposer's that chains on; when libc itself
   was preloaded ahead of us there is none after us, and libc's own is taken. Without the real
   function the program cannot run at all, so a miss is the one fatal error. */
static void bind(void **slot, const char *name, const char *version)
{
    *slot = lookup(RTLD_NEXT, name, version);
    if (!*slot) {
        void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        *slot = libc ? lookup(libc, name, version) : NULL;
    }
    if (!*slot) {
        tl_warn("cannot find the real %s%s%s (%s)", name, version ? "@" : "",
                version ? version : "", dlerror());
        abort();
    }
}
#define BIND(field, name) bind((void **)&real.field, name, NULL)

void tl_interpose_bind(void)
{
    BIND(libc_start_main, "__libc_start_main");
    BIND(create, "pthread_create");
    BIND(join, "pthread_join");
    BIND(tryjoin, "pthread_tryjoin_np");
    BIND(timedjoin, "pthread_timedjoin_np");
    BIND(clockjoin, "pthread_clockjoin_np");
    BIND(detach, "pthread_detach");
    BIND(setname, "pthread_setname_np");
}

/* ---- program start ---- */

static main_fn program_main;

static int main_trampoline(int argc, char **argv, char **envp)
{
    tl_main_starting();
    return program_main(argc, argv, envp);
}

TL_API int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                             void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    tl_ensure_init();
    program_main = main;
    return real.libc_start_main(main_trampoline, argc, argv, init, fini, rtld_fini, stack_end);
}

/* ---- thread creation and end ---- */

static void thread_end(void *t)
{
    tl_thread_ended(t);
}

/* Runs first in every thread we create. The cleanup handler sees the thread end whichever way it
   ends: return, pthread_exit, or cancellation (both unwind through it). */
static void *thread_trampoline(void *arg)
{
    tl_thread *t = arg;
    void *(*start)(void *) = t->start;
    void *start_arg = t->arg, *ret;
    tl_thread_started(t);
    pthread_cleanup_push(thread_end, t);
    ret = start(start_arg);
    pthread_cleanup_pop(1);
    return ret;
}

TL_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                          void *arg)
{
    if (TL_UNLIKELY(tl_guard))
        return real.create(thread, attr, start, arg);
    tl_ensure_init();
    int saved = errno, detach = PTHREAD_CREATE_JOINABLE;
    if (attr)
        pthread_attr_getdetachstate(attr, &detach);
    tl_guard++;
    tl_thread *t = tl_thread_new(start, arg, detach == PTHREAD_CREATE_DETACHED);
    tl_guard--;
    errno = saved;
    if (!t) /* out of memory: the thread still starts, untracked */
        return real.create(thread, attr, start, arg);
    int rc = real.create(thread, attr, thread_trampoline, t);
    saved = errno;
    if (rc == 0)
        tl_thread_publish(t, *thread);
    else
        tl_thread_abandon(t);
    errno = saved;
    return rc;
}

/* ---- join and detach ---- */

typedef enum { JOIN, TRYJOIN, TIMEDJOIN, CLOCKJOIN } join_kind;
typedef struct join_call {
    join_kind kind;
    void **ret;
    clockid_t clock;
    const struct timespec *abstime;
} join_call;

static void release_on_cancel(void *t)
{
    tl_thread_release(t);
}

static int call_join(pthread_t th, const join_call *c)
{
    switch (c->kind) {
    case JOIN: return real.join(th, c->ret);
    case TRYJOIN: return real.tryjoin(th, c->ret);
    case TIMEDJOIN: return real.timedjoin(th, c->ret, c->abstime);
    case CLOCKJOIN: return real.clockjoin(th, c->ret, c->clock, c->abstime);
    }
    return EINVAL;
}

/* The record is held across the real join: the moment the join returns, glibc may hand the same
   pthread_t to a new thread, so the record cannot be looked up again afterwards. */
static int join(pthread_t th, const join_call *c)
{
    if (TL_UNLIKELY(tl_guard))
        return call_join(th, c);
    tl_ensure_init();
    tl_thread *t = tl_thread_hold(th);
    if (!t)
        return call_join(th, c);
    int rc;
    pthread_cleanup_push(release_on_cancel, t);
    rc = call_join(th, c);
    pthread_cleanup_pop(0);
    int saved = errno;
    if (rc == 0)
        tl_thread_joined(t);
    else
        tl_thread_release(t);
    errno = saved;
    return rc;
}

TL_API int pthread_join(pthread_t th, void **ret)
{
    return join(th, &(join_call){.kind = JOIN, .ret = ret});
}

TL_API int pthread_tryjoin_np(pthread_t th, void **ret)
{
    return join(th, &(join_call){.kind = TRYJOIN, .ret = ret});
}

TL_API int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abstime)
{
    return join(th, &(join_call){.kind = TIMEDJOIN, .ret = ret, .abstime = abstime});
}

TL_API int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clock,
                                const struct timespec *abstime)
{
    return join(th, &(join_call){.kind = CLOCKJOIN, .ret = ret, .clock = clock, .abstime = abstime});
}

TL_API int pthread_detach(pthread_t th)
{
    if (TL_UNLIKELY(tl_guard))
        return real.detach(th);
    tl_ensure_init();
    tl_thread *t = tl_thread_hold(th);
    int rc = real.detach(th), saved = errno;
    if (t && rc == 0)
        tl_thread_detached(t);
    else if (t)
        tl_thread_release(t);
    errno = saved;
    return rc;
}

TL_API int pthread_setname_np(pthread_t th, const char *name)
{
    if (TL_UNLIKELY(tl_guard))
        return real.setname(th, name);
    tl_ensure_init();
    int rc = real.setname(th, name), saved = errno;
    if (rc == 0)
        tl_thread_set_name(th, name);
    errno = saved;
    return rc;
}
