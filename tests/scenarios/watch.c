/* Programs watched over time (the watch option). Each prints "ready PID", then runs until a line or
   the end of stdin, and exits 0.

   watch leak [MS]   handles a request every MS ms (default 50); each leaves a thread behind,
                     waiting for a reply that never comes
   watch pool        starts a pool of 16 workers in four steps of 100 ms, which then wait for work
   watch burst       bursts of 30 threads that each wait 500 ms for a semaphore and are joined,
                     with 700 ms between bursts
   watch metrics     known threads and resources for the metrics file: 5 waiting on a condition
                     variable, 3 sleeping, 2 finished and not joined, 7 joined, a timer and two
                     pipes; prints "ready" once they are all in place
   watch many        60 threads sleeping, each made by its own function, site_0 to site_59
   watch idle        no thread at all */
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reply = PTHREAD_COND_INITIALIZER, work = PTHREAD_COND_INITIALIZER;

/* A macro, so that the function that calls it is the one that made the thread. */
#define spawn(fn, arg, out)                                                                        \
    do {                                                                                           \
        pthread_t t_;                                                                              \
        pthread_t *out_ = (out);                                                                   \
        if (pthread_create(out_ ? out_ : &t_, NULL, fn, arg) != 0)                                 \
            exit(90);                                                                              \
    } while (0)

/* Waits up to ms for a line (or the end) on stdin: true when it came. */
static bool told_to_stop(int ms)
{
    struct pollfd p = {.fd = 0, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

static void *wait_for_reply(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&reply, &lock); /* reply-wait */
    return arg;
}

static void handle_request(void)
{
    spawn(wait_for_reply, NULL, NULL); /* leak-site */
}

static void *pool_worker(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&work, &lock);
    return arg;
}

static void start_pool(void)
{
    for (int step = 0; step < 4; step++) {
        for (int i = 0; i < 4; i++)
            spawn(pool_worker, NULL, NULL);
        usleep(100000);
    }
}

static sem_t go;

static void *burst_worker(void *arg)
{
    while (sem_wait(&go) != 0)
        ;
    return arg;
}

static void burst(void)
{
    pthread_t t[30];
    for (int i = 0; i < 30; i++)
        spawn(burst_worker, NULL, &t[i]);
    usleep(500000);
    for (int i = 0; i < 30; i++)
        sem_post(&go);
    for (int i = 0; i < 30; i++)
        pthread_join(t[i], NULL);
}

static void *quick(void *arg)
{
    return arg;
}

static void *nap(void *arg)
{
    for (;;)
        sleep(100);
    return arg;
}

static int in_place;

static void *waiter(void *arg)
{
    pthread_mutex_lock(&lock);
    in_place++;
    for (;;)
        pthread_cond_wait(&reply, &lock);
    return arg;
}

static void start_waiters(void)
{
    for (int i = 0; i < 5; i++)
        spawn(waiter, NULL, NULL); /* waiters-site */
}

static void start_sleepers(void)
{
    for (int i = 0; i < 3; i++)
        spawn(nap, NULL, NULL); /* sleepers-site */
}

static void start_quitters(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        spawn(quick, NULL, &t[i]); /* quitters-site */
}

static void run_and_join(void)
{
    for (int i = 0; i < 7; i++) {
        pthread_t t;
        spawn(quick, NULL, &t);
        pthread_join(t, NULL);
    }
}

static void make_resources(void)
{
    timer_t timer;
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    int fds[2][2];
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0 || pipe(fds[0]) != 0 || pipe(fds[1]) != 0)
        exit(91);
}

/* Until the waiters wait, the sleepers sleep and the quitters are gone: the kernel's view. */
static void settle(void)
{
    for (;;) {
        pthread_mutex_lock(&lock);
        int waiting = in_place;
        pthread_mutex_unlock(&lock);
        if (waiting == 5)
            break;
        usleep(10000);
    }
    usleep(300000);
}

/* site_0 ... site_59, each making one sleeping thread. */
#define SITE(n)                                                                                    \
    static void site_##n(void)                                                                     \
    {                                                                                              \
        spawn(nap, NULL, NULL);                                                                    \
    }
#define CALL(n) site_##n();
/* clang-format off */ /* lists of ten, a line each */
#define TEN(d) SITE(d##0) SITE(d##1) SITE(d##2) SITE(d##3) SITE(d##4) SITE(d##5) SITE(d##6) \
               SITE(d##7) SITE(d##8) SITE(d##9)
#define CALL_TEN(d) CALL(d##0) CALL(d##1) CALL(d##2) CALL(d##3) CALL(d##4) CALL(d##5) CALL(d##6) \
                    CALL(d##7) CALL(d##8) CALL(d##9)
TEN() TEN(1) TEN(2) TEN(3) TEN(4) TEN(5)

static void start_many(void)
{
    CALL_TEN() CALL_TEN(1) CALL_TEN(2) CALL_TEN(3) CALL_TEN(4) CALL_TEN(5)
}
/* clang-format on */

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(mode, "metrics") == 0) {
        start_waiters();
        start_sleepers();
        start_quitters();
        run_and_join();
        make_resources();
        settle();
    }
    printf("ready %d\n", (int)getpid());
    if (strcmp(mode, "leak") == 0) {
        int ms = argc > 2 ? atoi(argv[2]) : 50;
        while (!told_to_stop(ms))
            handle_request();
    } else if (strcmp(mode, "pool") == 0) {
        start_pool();
        told_to_stop(-1);
    } else if (strcmp(mode, "burst") == 0) {
        sem_init(&go, 0, 0);
        do
            burst();
        while (!told_to_stop(700));
    } else if (strcmp(mode, "many") == 0) {
        start_many();
        told_to_stop(-1);
    } else if (strcmp(mode, "metrics") == 0 || strcmp(mode, "idle") == 0) {
        told_to_stop(-1);
    } else {
        return 2;
    }
    return 0;
}
