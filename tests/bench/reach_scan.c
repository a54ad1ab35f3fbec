/* The reachability scan's cost: bench-reach_scan THREADS HEAP_MIB starts THREADS threads (64 KiB
   stacks), each blocked on a condition variable of its own on the heap that a global list holds,
   and builds HEAP_MIB MiB of live heap in 256-byte blocks, each pointing to the one before and to
   one further back. Prints the milliseconds of the fastest of 3 reports (threadleak_dump to
   /dev/null). Run under reach=0 and reach=1 (tests/bench/reach_scan.sh): the difference is the
   scan. Linked with the library. */
#include <threadleak.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t never;
    struct waiter *next;
} waiter;

static waiter *volatile waiters; /* the global list that holds every waiter's object */
static void **volatile heap;     /* the newest block of the live heap */
static int started;
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static void *wait_for_ever(void *arg)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    pthread_mutex_lock(&count_lock);
    started++;
    pthread_mutex_unlock(&count_lock);
    for (;;)
        pthread_cond_wait(&w->never, &w->lock);
    return NULL;
}

static double ms_since(struct timespec a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 10000;
    long blocks = (argc > 2 ? atol(argv[2]) : 1024) * (1 << 20) / 256;
    void **all = malloc((size_t)(blocks ? blocks : 1) * sizeof *all);
    srand(1);
    for (long i = 0; i < blocks; i++) {
        void **b = calloc(1, 256 - 16); /* a 256-byte chunk with its header */
        if (!b)
            return 1;
        b[0] = i ? all[i - 1] : NULL;
        b[1] = i ? all[rand() % i] : NULL;
        all[i] = b;
    }
    heap = blocks ? all[blocks - 1] : NULL;
    free(all);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < threads; i++) {
        waiter *w = calloc(1, sizeof *w);
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->never, NULL);
        w->next = waiters;
        waiters = w;
        pthread_t t;
        if (pthread_create(&t, &attr, wait_for_ever, w) != 0)
            return 1;
    }
    for (;;) {
        pthread_mutex_lock(&count_lock);
        int n = started;
        pthread_mutex_unlock(&count_lock);
        if (n == threads)
            break;
        usleep(10000);
    }
    usleep(200000); /* every thread inside its wait */
    FILE *null = fopen("/dev/null", "w");
    threadleak_opts opts = THREADLEAK_OPTS_INIT;
    opts.out = null;
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        struct timespec a;
        clock_gettime(CLOCK_MONOTONIC, &a);
        threadleak_dump(&opts);
        double ms = ms_since(a);
        best = ms < best ? ms : best;
    }
    printf("%.1f\n", best);
    return 0;
}
