/* threadleak_verify_none in a process with 10,000 blocked threads: prints the milliseconds of a
   check that finds them all in its baseline (clean), and of dump to /dev/null. Linked with the
   library. */
#include "blocked.h"
#include <threadleak.h>

#include <pthread.h>
#include <stdio.h>
#include <time.h>

static double ms(struct timespec a, struct timespec b)
{
    return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

int main(void)
{
    if (!start_blocked(10000))
        return 1;
    struct timespec a, b, c, d;
    clock_gettime(CLOCK_MONOTONIC, &a);
    threadleak_snapshot *snap = threadleak_snapshot_take();
    clock_gettime(CLOCK_MONOTONIC, &b);
    threadleak_opts opts = THREADLEAK_OPTS_INIT;
    opts.baseline = snap;
    int leaked = threadleak_verify_none(&opts);
    clock_gettime(CLOCK_MONOTONIC, &c);
    FILE *null = fopen("/dev/null", "w");
    threadleak_opts quiet = THREADLEAK_OPTS_INIT;
    quiet.out = null;
    threadleak_dump(&quiet);
    clock_gettime(CLOCK_MONOTONIC, &d);
    printf(
        "10000 threads: snapshot %.1f ms, clean verify_none %.1f ms (returned %d), dump %.1f ms\n",
        ms(a, b), ms(b, c), leaked, ms(c, d));
    return 0;
}
