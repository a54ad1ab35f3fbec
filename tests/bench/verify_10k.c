/* threadleak_verify_none in a process with 10,000 blocked threads: prints the milliseconds of a
   check that finds them all in its baseline (clean), and of dump to /dev/null. Linked with the
   library. */
#include <threadleak.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *wait_for_ever(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return arg;
}

static double ms(struct timespec a, struct timespec b)
{
    return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

int main(void)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < 10000; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, wait_for_ever, NULL) != 0)
            return 1;
    }
    struct timespec a, b, c, d;
    clock_gettime(CLOCK_MONOTONIC, &a);
    threadleak_snapshot *snap = threadleak_snapshot_take();
    clock_gettime(CLOCK_MONOTONIC, &b);
    threadleak_opts opts = {.baseline = snap};
    int leaked = threadleak_verify_none(&opts);
    clock_gettime(CLOCK_MONOTONIC, &c);
    FILE *null = fopen("/dev/null", "w");
    threadleak_dump(&(threadleak_opts){.out = null});
    clock_gettime(CLOCK_MONOTONIC, &d);
    printf("10000 threads: snapshot %.1f ms, clean verify_none %.1f ms (returned %d), dump %.1f ms\n",
           ms(a, b), ms(b, c), leaked, ms(c, d));
    return 0;
}
