/* Whether reports stall the program: with THREADS threads blocked on a condition variable, the
   worst pthread_create + pthread_join of another thread in one-second windows, alternately with no
   report and with a report asked of the library's helper thread every 20 ms (as `threadleak dump`
   does, by a signal to that thread alone), ROUNDS times; prints the median of each kind's worst,
   which pairs away most of what a shared machine does to both. Run under the library, with an
   output the reports can go to:
     THREADLEAK_OPTIONS=at_exit=0:format=folded:output=DIR/r.%n bench-stall 10000 7 */
#include "blocked.h"

#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *nothing(void *arg)
{
    return arg;
}

/* The worst create+join over seconds, and how many were made. */
static double worst_create_join(double seconds, long *count)
{
    double worst = 0, end = now_ms() + seconds * 1e3;
    for (*count = 0; now_ms() < end; ++*count) {
        pthread_t t;
        double start = now_ms();
        if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
            exit(1);
        double took = now_ms() - start;
        worst = took > worst ? took : worst;
    }
    return worst;
}

/* The library's helper thread, by its name. */
static pid_t helper_tid(void)
{
    DIR *dir = opendir("/proc/self/task");
    pid_t found = 0;
    for (struct dirent *e; dir && !found && (e = readdir(dir));) {
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "re");
        if (f && fgets(name, sizeof name, f) && strncmp(name, "threadleak", 10) == 0)
            found = atoi(e->d_name);
        if (f)
            fclose(f);
    }
    if (dir)
        closedir(dir);
    return found;
}

static atomic_bool reporting;
static atomic_long reports;

static void *ask_for_reports(void *arg)
{
    pid_t helper = *(pid_t *)arg;
    while (atomic_load(&reporting)) {
        syscall(SYS_tgkill, getpid(), helper, SIGUSR1);
        atomic_fetch_add(&reports, 1);
        usleep(20000);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 10000, rounds = argc > 2 ? atoi(argv[2]) : 7;
    if (!start_blocked(threads))
        return 1;
    pid_t helper = helper_tid();
    if (!helper)
        return fprintf(stderr, "no threadleak helper thread: run under the library\n"), 1;
    double *quiet = calloc(rounds, sizeof *quiet), *busy = calloc(rounds, sizeof *busy);
    long made;
    for (int i = 0; i < rounds; i++) {
        quiet[i] = worst_create_join(1, &made);
        pthread_t asker;
        atomic_store(&reporting, true);
        pthread_create(&asker, NULL, ask_for_reports, &helper);
        busy[i] = worst_create_join(1, &made);
        atomic_store(&reporting, false);
        pthread_join(asker, NULL);
    }
    qsort(quiet, rounds, sizeof *quiet, cmp);
    qsort(busy, rounds, sizeof *busy, cmp);
    printf("%d blocked threads, %d one-second windows each: worst create+join, median %.2f ms "
           "without reports, %.2f ms with a report every 20 ms (%+.2f ms; %ld reports asked)\n",
           threads, rounds, quiet[rounds / 2], busy[rounds / 2],
           busy[rounds / 2] - quiet[rounds / 2], atomic_load(&reports));
    return 0;
}
