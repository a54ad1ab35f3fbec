/* Shared by the scenario programs that block one thread per mode. */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <pthread.h>
#include <stdlib.h>

/* block_in_MODE: the function a thread blocks in, for the report's blocked_at. */
#define BLOCKER(mode, ...) \
    static void *block_in_##mode(void *arg) { __VA_ARGS__; return arg; }

/* The report's created_at: start, called from main. */
static void start(void *(*fn)(void *))
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, NULL) != 0)
        exit(90);
}

#endif
