/* What the wrapped functions return and leave in errno must be what glibc returns and leaves: this
   prints both for the cases that matter, and the test compares a run under the library with a bare
   run. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER;
static int released;

static void *hold(void *arg)
{
    pthread_mutex_lock(&lock);
    while (!released)
        pthread_cond_wait(&go, &lock);
    pthread_mutex_unlock(&lock);
    return arg;
}

static void *report_mask(void *arg)
{
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    return (void *)(intptr_t)sigismember(&now, SIGUSR2);
}

static void *joins_itself(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)pthread_join(pthread_self(), NULL);
}

#define SHOW(what, expr)                                                                           \
    do {                                                                                           \
        errno = 4321;                                                                              \
        int rc_ = (expr);                                                                          \
        printf("%-28s rc=%-10s errno=%s\n", what, rc_ ? strerrorname_np(rc_) : "0",                \
               errno == 4321 ? "kept" : strerrorname_np(errno));                                   \
    } while (0)

int main(void)
{
    pthread_t t, busy;
    void *ret;
    pthread_attr_t attr;
    struct timespec past = {0, 0};

    SHOW("create", pthread_create(&busy, NULL, hold, NULL));
    SHOW("tryjoin running", pthread_tryjoin_np(busy, NULL));
    SHOW("timedjoin past deadline", pthread_timedjoin_np(busy, NULL, &past));
    SHOW("clockjoin bad clock", pthread_clockjoin_np(busy, NULL, 12345, &past));
    SHOW("join self", pthread_join(pthread_self(), NULL));
    SHOW("create joins itself", pthread_create(&t, NULL, joins_itself, NULL));
    pthread_join(t, &ret);
    printf("%-28s rc=%s\n", "thread joining itself",
           (intptr_t)ret ? strerrorname_np((int)(intptr_t)ret) : "0");
    SHOW("setname too long", pthread_setname_np(busy, "a-name-far-too-long-for-it"));
    SHOW("setname", pthread_setname_np(busy, "busy"));

    /* More than any address space holds, so that the mmap fails at once: a smaller one that only
       overcommit refuses keeps qemu-user searching its address space for minutes. */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)1 << 62);
    SHOW("create huge stack", pthread_create(&t, &attr, hold, NULL));
    pthread_attr_destroy(&attr);

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    SHOW("create detached", pthread_create(&t, &attr, report_mask, NULL));
    pthread_attr_destroy(&attr);
    usleep(20000);

    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    SHOW("create with mask", pthread_create(&t, NULL, report_mask, NULL));
    pthread_join(t, &ret);
    printf("%-28s %s\n", "mask inherited", (intptr_t)ret == 1 ? "yes" : "no");

    SHOW("create to detach", pthread_create(&t, NULL, report_mask, NULL));
    SHOW("detach", pthread_detach(t));
    SHOW("detach running", pthread_detach(busy));
    SHOW("detach running again", pthread_detach(busy));

    pthread_mutex_lock(&lock);
    released = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&lock);
    usleep(20000);
    return 0;
}
