/* Binding the real functions, and the program's start. The wrappers are in interpose_*.c. */
#include "interpose.h"

#include <dlfcn.h>
#include <stdlib.h>

tl_real real;

static void *lookup(void *handle, const char *name, const char *version)
{
    return version ? dlvsym(handle, name, version) : dlsym(handle, name);
}

/* Binds one real function; versioned symbols (pthread_cond_*@GLIBC_2.3.2) through dlvsym. The next
   definition after us is the real one, or another interposer's that chains on; when libc itself
   was preloaded ahead of us there is none after us, and libc's own is taken. Without the real
   function the program cannot run at all, so a miss is the one fatal error. */
static void bind_real(void **slot, const char *name, const char *version)
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
#define BIND(field, name) bind_real((void **)&real.field, name, NULL)
/* pthread_cond_* exist twice on x86_64: GLIBC_2.2.5 (the old ABI) and GLIBC_2.3.2. */
#define BIND_COND(field, name) bind_real((void **)&real.field, name, "GLIBC_2.3.2")

void tl_interpose_bind(void)
{
    BIND(libc_start_main, "__libc_start_main");
    BIND(create, "pthread_create");
    BIND(join, "pthread_join");
    BIND(tryjoin, "pthread_tryjoin_np");
    BIND(timedjoin, "pthread_timedjoin_np");
    BIND(clockjoin, "pthread_clockjoin_np");
    BIND(detach, "pthread_detach");
    BIND(pthread_exit, "pthread_exit");
    BIND(setname, "pthread_setname_np");
    BIND(prctl, "prctl");
    BIND_COND(cond_wait, "pthread_cond_wait");
    BIND_COND(cond_timedwait, "pthread_cond_timedwait");
    BIND(cond_clockwait, "pthread_cond_clockwait");
    BIND_COND(cond_signal, "pthread_cond_signal");
    BIND_COND(cond_broadcast, "pthread_cond_broadcast");
    BIND_COND(cond_init, "pthread_cond_init");
    BIND(mutex_lock, "pthread_mutex_lock");
    BIND(mutex_timedlock, "pthread_mutex_timedlock");
    BIND(mutex_clocklock, "pthread_mutex_clocklock");
    BIND(rwlock_rdlock, "pthread_rwlock_rdlock");
    BIND(rwlock_tryrdlock, "pthread_rwlock_tryrdlock");
    BIND(rwlock_timedrdlock, "pthread_rwlock_timedrdlock");
    BIND(rwlock_clockrdlock, "pthread_rwlock_clockrdlock");
    BIND(rwlock_wrlock, "pthread_rwlock_wrlock");
    BIND(rwlock_trywrlock, "pthread_rwlock_trywrlock");
    BIND(rwlock_timedwrlock, "pthread_rwlock_timedwrlock");
    BIND(rwlock_clockwrlock, "pthread_rwlock_clockwrlock");
    BIND(sem_wait, "sem_wait");
    BIND(sem_timedwait, "sem_timedwait");
    BIND(sem_clockwait, "sem_clockwait");
    BIND(sem_post, "sem_post");
    BIND(sem_init, "sem_init");
    BIND(barrier_wait, "pthread_barrier_wait");
    BIND(nanosleep, "nanosleep");
    BIND(clock_nanosleep, "clock_nanosleep");
    BIND(sleep, "sleep");
    BIND(usleep, "usleep");
    BIND(read, "read");
    BIND(readv, "readv");
    BIND(write, "write");
    BIND(writev, "writev");
    BIND(recv, "recv");
    BIND(recvfrom, "recvfrom");
    BIND(recvmsg, "recvmsg");
    BIND(send, "send");
    BIND(sendto, "sendto");
    BIND(sendmsg, "sendmsg");
    BIND(accept, "accept");
    BIND(accept4, "accept4");
    BIND(connect, "connect");
    BIND(poll, "poll");
    BIND(ppoll, "ppoll");
    BIND(select, "select");
    BIND(pselect, "pselect");
    BIND(epoll_wait, "epoll_wait");
    BIND(epoll_pwait, "epoll_pwait");
    BIND(pipe, "pipe");
    BIND(pipe2, "pipe2");
    BIND(close, "close");
    BIND(dup, "dup");
    BIND(dup2, "dup2");
    BIND(dup3, "dup3");
    BIND(fcntl, "fcntl");
    BIND(fcntl64, "fcntl64");
    BIND(mq_open, "mq_open");
    BIND(mq_close, "mq_close");
    BIND(mq_send, "mq_send");
    BIND(mq_timedsend, "mq_timedsend");
    BIND(mq_receive, "mq_receive");
    BIND(mq_timedreceive, "mq_timedreceive");
    /* timer_* exist in two ABIs: GLIBC_2.2.5 (int ids) and GLIBC_2.3.3/2.34 (one ABI). */
    bind_real((void **)&real.timer_create, "timer_create", "GLIBC_2.34");
    bind_real((void **)&real.timer_delete, "timer_delete", "GLIBC_2.34");
    BIND(sigaction, "sigaction");
    BIND(signal, "signal");
    BIND(sigwait, "sigwait");
    BIND(sigwaitinfo, "sigwaitinfo");
    BIND(sigtimedwait, "sigtimedwait");
    BIND(signalfd, "signalfd");
}

/* ---- program start ---- */

static tl_main_fn program_main;

static int main_trampoline(int argc, char **argv, char **envp)
{
    tl_main_starting();
    return program_main(argc, argv, envp);
}

TL_API int __libc_start_main(tl_main_fn main, int argc, char **argv, void (*init)(void),
                             void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    tl_ensure_init();
    program_main = main;
    return real.libc_start_main(main_trampoline, argc, argv, init, fini, rtld_fini, stack_end);
}
