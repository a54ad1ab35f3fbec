/* What watching costs: THREADS threads (10,000 by default) blocked on a condition variable, run
   under the library with the watch option (and metrics, if set): prints the CPU time the library's
   helper thread used over SECONDS (default 30) as a share of one core, and per sample.
   watch_cost [THREADS] [SECONDS]  (THREADLEAK_OPTIONS=watch=1s, say) */
#include "blocked.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The helper's CPU time in ns, from the scheduler's statistics (exact, unlike stat's ticks). */
static long long helper_cpu_ns(void)
{
    DIR *dir = opendir("/proc/self/task");
    long long ns = -1;
    for (struct dirent *e; dir && ns < 0 && (e = readdir(dir));) {
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(comm, sizeof comm, f) && strncmp(comm, "threadleak", 10) == 0) {
            fclose(f);
            snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
            f = fopen(path, "r");
            if (!f || fscanf(f, "%lld", &ns) != 1)
                ns = -1;
        }
        if (f)
            fclose(f);
    }
    if (dir)
        closedir(dir);
    return ns;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 10000, seconds = argc > 2 ? atoi(argv[2]) : 30;
    const char *options = getenv("THREADLEAK_OPTIONS");
    if (!start_blocked(threads))
        return 1;
    sleep(2); /* the threads settle, and the first samples (new groups) are taken */
    long long before = helper_cpu_ns();
    sleep((unsigned)seconds);
    long long after = helper_cpu_ns();
    if (before < 0 || after < 0) {
        fputs("no helper thread: run under the library with watch set\n", stderr);
        return 1;
    }
    printf("%d threads, %s: the helper used %.1f ms of CPU in %d s, %.3f %% of one core\n", threads,
           options ? options : "(no options)", (after - before) / 1e6, seconds,
           (after - before) / 1e7 / seconds);
    return 0;
}
