/* Shared by the scenario programs that block one thread per mode. */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* block_in_MODE: the function a thread blocks in, for the report's blocked_at. */
#define BLOCKER(mode, ...)                                                                         \
    static void *block_in_##mode(void *arg)                                                        \
    {                                                                                              \
        __VA_ARGS__;                                                                               \
        return arg;                                                                                \
    }

/* The report's created_at: start, called from main. */
static void start(void *(*fn)(void *))
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, NULL) != 0)
        exit(90);
}

/* cancel_MODE: the blocker is cancelled inside its wait, and its cleanup handler then pauses, so
   that a report sees the pause and not a stale record of the cancelled wait. */
static void *(*cancelled_blocker)(void *);

static void pause_for_ever(void *arg)
{
    (void)arg;
    for (;;)
        pause();
}

static void *run_cancellable(void *arg)
{
    void *ret;
    pthread_cleanup_push(pause_for_ever, NULL);
    ret = cancelled_blocker(arg);
    pthread_cleanup_pop(0);
    return ret;
}

static void start_then_cancel(void *(*fn)(void *))
{
    pthread_t t;
    cancelled_blocker = fn;
    if (pthread_create(&t, NULL, run_cancellable, NULL) != 0)
        exit(90);
    usleep(30000);
    pthread_cancel(t);
}

/* How main starts the blocker of mode: plainly, or to cancel it ("cancel_" before the mode). */
static void (*launcher(const char **mode))(void *(*)(void *))
{
    if (strncmp(*mode, "cancel_", 7) != 0)
        return start;
    *mode += 7;
    return start_then_cancel;
}

#endif
