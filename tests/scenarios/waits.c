/* One thread blocked for ever in the wait that MODE names, created by start_MODE, blocked in
   block_in_MODE: waits MODE [COUNT]. Modes: cond_wait, cond_timedwait, mutex_lock, mutex_timedlock,
   rwlock_read, rwlock_write, sem_wait, sem_clockwait, barrier_wait, join, nanosleep, sleep, usleep,
   clock_nanosleep; and
   cancel_MODE         MODE's thread cancelled inside its wait (see scenario.h)
   timeout_then_pause  a thread whose timed waits time out, then pauses for ever
   many_then_block     a thread that waits 10000 times at one site, then blocks at another
   eintr               sem_wait and nanosleep interrupted by a signal without SA_RESTART
   signaller_exited    a cond_wait whose only signaller has since exited
   timed_signaller_exited  the same with pthread_cond_timedwait, which its deadline ends */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER, held = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t barrier;
static sem_t sem;

static struct timespec far_future(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += 3600;
    return t;
}

BLOCKER(cond_wait, pthread_mutex_lock(&lock); for (;;) pthread_cond_wait(&never, &lock))
BLOCKER(cond_timedwait, struct timespec t = far_future(CLOCK_REALTIME); pthread_mutex_lock(&lock);
        for (;;) pthread_cond_timedwait(&never, &lock, &t))
BLOCKER(mutex_lock, pthread_mutex_lock(&held))
BLOCKER(mutex_timedlock, struct timespec t = far_future(CLOCK_REALTIME);
        pthread_mutex_timedlock(&held, &t))
BLOCKER(rwlock_read, pthread_rwlock_rdlock(&rw))
BLOCKER(rwlock_write, pthread_rwlock_wrlock(&rw))
BLOCKER(sem_wait, for (;;) sem_wait(&sem))
BLOCKER(sem_clockwait, struct timespec t = far_future(CLOCK_MONOTONIC);
        for (;;) sem_clockwait(&sem, CLOCK_MONOTONIC, &t))
BLOCKER(barrier_wait, pthread_barrier_wait(&barrier))
BLOCKER(nanosleep, struct timespec t = {3600, 0}; nanosleep(&t, NULL))
BLOCKER(sleep, sleep(3600))
BLOCKER(usleep, for (;;) usleep(900000))
BLOCKER(clock_nanosleep, struct timespec t = {3600, 0};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL))

static pthread_t joined_target;
BLOCKER(join, pthread_join(joined_target, NULL))

static void *pause_forever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void *times_out_then_pauses(void *arg)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    pthread_mutex_lock(&lock);
    if (pthread_cond_timedwait(&never, &lock, &t) != ETIMEDOUT)
        exit(91);
    pthread_mutex_unlock(&lock);
    clock_gettime(CLOCK_REALTIME, &t);
    if (sem_timedwait(&sem, &t) != -1 || errno != ETIMEDOUT)
        exit(92);
    return pause_forever(arg);
}

static sem_t ping, pong;

static void *many_waits_then_block(void *arg)
{
    for (int i = 0; i < 10000; i++) {
        sem_wait(&ping); /* first-site */
        sem_post(&pong);
    }
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock); /* final-site */
    return arg;
}

static void on_signal(int sig)
{
    (void)sig;
}

static atomic_bool interrupted_twice;

static void *interrupted(void *arg)
{
    (void)arg;
    errno = 0;
    int rc = sem_wait(&sem);
    printf("sem_wait rc=%d errno=%s\n", rc, strerrorname_np(errno));
    struct timespec t = {10, 0}, rem = {0, 0};
    rc = nanosleep(&t, &rem);
    printf("nanosleep rc=%d errno=%s remaining=%s\n", rc, strerrorname_np(errno),
           rem.tv_sec > 5 ? "most" : "little");
    fflush(stdout);
    atomic_store(&interrupted_twice, true);
    return NULL;
}

static void *signal_once(void *arg)
{
    pthread_cond_signal(&never);
    return arg;
}

#define MODE(name) else if (strcmp(mode, #name) == 0) launch(block_in_##name)

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    void (*launch)(void *(*)(void *)) = launcher(&mode);
    sem_init(&sem, 0, 0);
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    pthread_barrier_init(&barrier, NULL, 2);
    pthread_mutex_lock(&held);
    pthread_rwlock_wrlock(&rw);
    if (strcmp(mode, "rwlock_write") == 0) {
        pthread_rwlock_unlock(&rw);
        pthread_rwlock_rdlock(&rw);
    }
    if (0) {
    }
    MODE(cond_wait);
    MODE(cond_timedwait);
    MODE(mutex_lock);
    MODE(mutex_timedlock);
    MODE(rwlock_read);
    MODE(rwlock_write);
    MODE(sem_wait);
    MODE(sem_clockwait);
    MODE(barrier_wait);
    MODE(nanosleep);
    MODE(sleep);
    MODE(usleep);
    MODE(clock_nanosleep);
    else if (strcmp(mode, "join") == 0)
    {
        pthread_create(&joined_target, NULL, pause_forever, NULL);
        launch(block_in_join);
    }
    else if (strcmp(mode, "signaller_exited") == 0 || strcmp(mode, "timed_signaller_exited") == 0)
    {
        pthread_t t;
        start(mode[0] == 't' ? block_in_cond_timedwait : block_in_cond_wait);
        usleep(20000);
        pthread_create(&t, NULL, signal_once, NULL);
        pthread_join(t, NULL);
    }
    else if (strcmp(mode, "timeout_then_pause") == 0)
    {
        start(times_out_then_pauses);
    }
    else if (strcmp(mode, "many_then_block") == 0)
    {
        start(many_waits_then_block);
        for (int i = 0; i < 10000; i++) {
            sem_post(&ping);
            sem_wait(&pong);
        }
    }
    else if (strcmp(mode, "eintr") == 0)
    {
        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
        sigaction(SIGUSR2, &sa, NULL);
        pthread_t t;
        pthread_create(&t, NULL, interrupted, NULL);
        /* A signal every 50 ms until both waits are interrupted: one that comes before a wait
           has begun (slow first calls, under an emulator) is not the end of the test. */
        while (!atomic_load(&interrupted_twice)) {
            usleep(50000);
            pthread_kill(t, SIGUSR2);
        }
        pthread_join(t, NULL);
        return 0;
    }
    else
    {
        return 2;
    }
    usleep(50000);
    return 0;
}
