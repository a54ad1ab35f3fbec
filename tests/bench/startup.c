/* What a process pays to start and exit under the library: spawns PROGRAM bare and with the
   library preloaded, alternately, RUNS times each, and prints the median wall time of each and
   their difference in ms.
   Usage: bench-startup LIBRARY RUNS PROGRAM [ARG...] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double spawn_ms(char **argv, char **env)
{
    pid_t pid;
    int status;
    double start = now_ms();
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, env) != 0 || waitpid(pid, &status, 0) < 0)
        exit(2);
    return now_ms() - start;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return fprintf(stderr, "usage: %s LIBRARY RUNS PROGRAM [ARG...]\n", argv[0]), 2;
    int runs = atoi(argv[2]);
    char preload[4200];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", argv[1]);
    size_t n = 0;
    while (environ[n])
        n++;
    char **bare = calloc(n + 1, sizeof *bare), **with = calloc(n + 2, sizeof *with);
    size_t b = 0, w = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            bare[b++] = with[w++] = environ[i];
    with[w] = preload;
    double *tb = calloc(runs, sizeof *tb), *tw = calloc(runs, sizeof *tw);
    for (int i = 0; i < runs; i++) {
        tb[i] = spawn_ms(argv + 3, bare);
        tw[i] = spawn_ms(argv + 3, with);
    }
    qsort(tb, runs, sizeof *tb, cmp);
    qsort(tw, runs, sizeof *tw, cmp);
    printf("%s: bare %.3f ms, threadleak %.3f ms, +%.3f ms (medians of %d)\n", argv[3],
           tb[runs / 2], tw[runs / 2], tw[runs / 2] - tb[runs / 2], runs);
    return 0;
}
