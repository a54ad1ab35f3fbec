/* A process with THREADS threads blocked on a condition variable (10,000 by default), run under the
   library with output=DIR/...: it sends itself the dump signal RUNS times and prints, for each,
   the milliseconds from kill() to the moment the report file is closed (inotify), then prints
   "ready PID" and waits for stdin to close, so that tests/bench/live_dump.sh can time
   `threadleak dump`, gdb and eu-stack on the same process.
   live_dump DIR [THREADS] [RUNS] */
#include "blocked.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int threads = argc > 2 ? atoi(argv[2]) : 10000, runs = argc > 3 ? atoi(argv[3]) : 5;
    if (!start_blocked(threads))
        return 1;
    int ino = inotify_init1(IN_CLOEXEC);
    if (ino < 0 || inotify_add_watch(ino, argv[1], IN_CLOSE_WRITE) < 0)
        return 1;
    for (int i = 0; i < runs; i++) {
        char events[4096];
        double start = now_ms();
        kill(getpid(), SIGUSR1);
        if (read(ino, events, sizeof events) <= 0)
            return 1;
        printf("signal to closed report file, %d threads: %.1f ms\n", threads, now_ms() - start);
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    while (getchar() != EOF)
        ;
    return 0;
}
