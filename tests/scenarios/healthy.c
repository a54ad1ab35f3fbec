/* A server's threads at work, dumped while they work; and what is left open at a clean exit.
   healthy MODE prints "ready PID" and waits for a line on stdin (the live modes), or exits.

   busy N    N workers that enter a wait all the time: a condition variable a dispatcher
             broadcasts every 50 us, and the mutex around it
   server    a pool of 4 busy workers; a lock holder asleep with a waiter behind it; 5 threads at
             one site each on its own condition variable, 2 of them signalled by main; and a
             waiter on a mutex whose owner has exited, the one thread proven stuck
   selfpipe  one pipe, made by main and open until exit, and a thread that ran and was joined:
             a clean exit
   pipes     that, and 3 pipes more from one site, never closed */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0)
        exit(90);
    return t;
}

/* ---- busy: workers always entering waits ---- */

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static unsigned long rounds;

static void *busy_worker(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&work_lock);
        unsigned long seen = rounds;
        while (rounds == seen)
            pthread_cond_wait(&work, &work_lock); /* busy-site */
        pthread_mutex_unlock(&work_lock);
    }
    return arg;
}

static void *dispatcher(void *arg)
{
    struct timespec step = {0, 50000};
    for (;;) {
        pthread_mutex_lock(&work_lock);
        rounds++;
        pthread_cond_broadcast(&work);
        pthread_mutex_unlock(&work_lock);
        nanosleep(&step, NULL);
    }
    return arg;
}

/* The dispatcher may sleep inside pthread_cond_broadcast, on the condition variable's internal
   lock, a wait no wrapper records: it is named apart from the workers. */
static void start_busy(int n)
{
    for (int i = 0; i < n; i++)
        pthread_setname_np(spawn(busy_worker, NULL), "worker");
    pthread_setname_np(spawn(dispatcher, NULL), "dispatcher");
}

/* ---- server: a lock held by a sleeper, conds with different pasts, an orphan ---- */

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER, abandoned = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t taken;

static void *holder(void *arg)
{
    pthread_mutex_lock(&held);
    pthread_barrier_wait(&taken);
    for (;;)
        sleep(1000); /* holder-site */
    return arg;
}

static void *lock_waiter(void *arg)
{
    pthread_mutex_lock(arg); /* lock-waiter-site */
    return arg;
}

static void *lock_and_leave(void *arg)
{
    pthread_mutex_lock(&abandoned);
    return arg;
}

#define CONDS 5
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conds[CONDS];
static int waiting;

static void *cond_waiter(void *arg)
{
    pthread_mutex_lock(&cond_lock);
    waiting++;
    for (;;)
        pthread_cond_wait(&conds[(long)arg], &cond_lock); /* cond-waiter-site */
    return arg;
}

static void start_server(void)
{
    start_busy(4);
    pthread_barrier_init(&taken, NULL, 2);
    spawn(holder, NULL);
    pthread_barrier_wait(&taken);
    spawn(lock_waiter, &held);
    pthread_join(spawn(lock_and_leave, NULL), NULL);
    spawn(lock_waiter, &abandoned);
    for (long i = 0; i < CONDS; i++) {
        pthread_cond_init(&conds[i], NULL);
        spawn(cond_waiter, (void *)i);
    }
    for (int all = 0; !all; usleep(1000)) {
        pthread_mutex_lock(&cond_lock);
        all = waiting == CONDS;
        pthread_mutex_unlock(&cond_lock);
    }
    pthread_cond_signal(&conds[0]); /* main stays alive: these two have a live waker */
    pthread_cond_signal(&conds[1]);
}

/* ---- exits ---- */

static void *nothing(void *arg)
{
    return arg;
}

static void make_pipe(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        exit(91);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "server";
    if (strcmp(mode, "selfpipe") == 0 || strcmp(mode, "pipes") == 0) {
        make_pipe();
        pthread_join(spawn(nothing, NULL), NULL);
        for (int i = 0; i < 3 && strcmp(mode, "pipes") == 0; i++)
            make_pipe(); /* pipes-site */
        return 0;
    }
    if (strcmp(mode, "busy") == 0)
        start_busy(argc > 2 ? atoi(argv[2]) : 32);
    else
        start_server();
    usleep(100000);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    char line[16];
    return fgets(line, sizeof line, stdin) ? 0 : 1;
}
