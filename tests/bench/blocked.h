/* For the report benchmarks: n threads (64 KiB stacks) blocked for ever on one condition variable
   that nobody signals, as a service's stuck workers are. */
#ifndef BENCH_BLOCKED_H
#define BENCH_BLOCKED_H

#include <pthread.h>
#include <stdbool.h>

static pthread_mutex_t blocked_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t blocked_never = PTHREAD_COND_INITIALIZER;

static void *wait_for_ever(void *arg)
{
    pthread_mutex_lock(&blocked_lock);
    for (;;)
        pthread_cond_wait(&blocked_never, &blocked_lock);
    return arg;
}

static bool start_blocked(int n)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, wait_for_ever, NULL) != 0)
            return false;
    }
    pthread_attr_destroy(&attr);
    return true;
}

#endif
